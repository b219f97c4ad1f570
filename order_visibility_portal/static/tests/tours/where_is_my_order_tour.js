// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import { registry } from "@web/core/registry";

// Run by order_visibility_portal/tests/test_portal_tour.py: the carrier's
// "delivered" milestone reaches the server while the customer looks at the
// order page, and the card shows it without a reload.
registry.category("web_tour.tours").add("order_visibility_portal_live_card", {
    steps: () => [
        {
            content: "The card shows the order shipped, without the carrier's news yet",
            trigger: "#ov_where_is_my_order[data-ov-stage='shipped']:not(:has([data-ov-milestone]))",
            run() {
                // Gone if the page reloads.
                window.ovLiveCardMarker = true;
            },
        },
        {
            content: "The carrier's delivered milestone arrives: the card changes by itself",
            trigger:
                "#ov_where_is_my_order[data-ov-stage='delivered'] .ov_milestones li[data-ov-milestone='delivered']",
            run() {
                if (!window.ovLiveCardMarker) {
                    throw new Error("the page reloaded: the card must change in place");
                }
            },
        },
        {
            content: "The progress line has reached its last step",
            trigger: "#ov_where_is_my_order li[data-ov-step='delivered'].ov_step_current",
        },
    ],
});
