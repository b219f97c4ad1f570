import { registry } from "@web/core/registry";

const card = (order) => `.o_kanban_record:has(span:contains('${order}'))`;

registry.category("web_tour.tours").add("order_visibility_kanban_tour", {
    steps: () => [
        {
            content: "The orders open by stage",
            trigger: ".o_kanban_view .o_kanban_group",
        },
        {
            content: "A late order at risk shows its risk score out of 100, explained on hover",
            trigger: `${card("OV Kanban Late")} span[name='risk'].text-bg-danger[title*='days after the promise']:contains('/100')`,
        },
        {
            content: "...its open exceptions and the worst severity",
            trigger: `${card("OV Kanban Late")} span[name='exceptions']:contains('High')`,
        },
        {
            content: "...and that its promise is late",
            trigger: `${card("OV Kanban Late")} span[name='late']:contains('Late')`,
        },
        {
            content: "An order on track shows no alarm",
            trigger: `${card("OV Kanban On Track")}:not(:has(span[name='risk'])):not(:has(span[name='late']))`,
        },
        {
            content: "Open the late order",
            trigger: `${card("OV Kanban Late")}`,
            run: "click",
        },
        {
            content: "The form shows the score out of 100, not as a percentage",
            trigger: ".o_form_view div[name='risk_score']:contains('/ 100'):not(:contains('%'))",
        },
    ],
});
