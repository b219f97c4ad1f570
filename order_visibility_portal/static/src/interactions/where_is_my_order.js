// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import { registry } from "@web/core/registry";
import { Interaction } from "@web/public/interaction";

export const REFRESH_TYPE = "order_visibility_portal/refresh";
// Several changes of one order (a milestone, then the stage it moves) come
// within a few milliseconds: one refetch for them all.
export const REFRESH_DELAY = 250;

/**
 * The "where is my order" card of a portal order page, kept up to date: the
 * page asks the bus for its order's channel (the server checks the session
 * or the page's access token before it subscribes), and on each notification
 * refetches the card from /my/orders/<id>/where_is_my_order, through the
 * same access check as the page, and swaps its content in. No reload.
 */
export class WhereIsMyOrder extends Interaction {
    static selector = "#ov_where_is_my_order[data-ov-order-id]";

    setup() {
        this.orderId = parseInt(this.el.dataset.ovOrderId, 10);
        this.token = this.el.dataset.ovToken || "";
        this.channel = `order_visibility_portal.order_${this.orderId}${this.token ? `_${this.token}` : ""}`;
        this.scheduleRefresh = this.debounced(this.refresh, REFRESH_DELAY);
    }

    start() {
        const bus = this.services.bus_service;
        const onRefresh = (payload) => {
            if (payload?.order_id === this.orderId) {
                this.scheduleRefresh();
            }
        };
        bus.subscribe(REFRESH_TYPE, onRefresh);
        bus.addChannel(this.channel);
        this.registerCleanup(() => {
            bus.unsubscribe(REFRESH_TYPE, onRefresh);
            bus.deleteChannel(this.channel);
        });
    }

    get cardUrl() {
        const url = new URL(`/my/orders/${this.orderId}/where_is_my_order`, window.location.origin);
        if (this.token) {
            url.searchParams.set("access_token", this.token);
        }
        return url.toString();
    }

    async refresh() {
        let response;
        try {
            response = await this.waitFor(fetch(this.cardUrl, { credentials: "same-origin" }));
        } catch {
            return; // offline: the next notification tries again
        }
        if (!response.ok) {
            return;
        }
        const html = await this.waitFor(response.text());
        this.protectSyncAfterAsync(() => this.swap(html))();
    }

    /** Put the fetched card's content and stage in place of the current ones. */
    swap(html) {
        const template = document.createElement("template");
        template.innerHTML = html.trim();
        const card = template.content.querySelector("#ov_where_is_my_order");
        if (!card) {
            return;
        }
        this.el.dataset.ovStage = card.dataset.ovStage;
        this.el.replaceChildren(...card.childNodes);
    }
}

registry.category("public.interactions").add("order_visibility_portal.where_is_my_order", WhereIsMyOrder);
