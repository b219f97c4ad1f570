import { Component } from "@odoo/owl";

/** One figure, a button that opens the records behind it. */
export class KpiTile extends Component {
    static template = "order_visibility_dashboard.KpiTile";
    static props = {
        label: String,
        value: [Number, String],
        tone: { type: String, optional: true },
        hint: { type: String, optional: true },
        name: { type: String, optional: true },
        onOpen: { type: Function, optional: true },
    };
}
