import { Component } from "@odoo/owl";

/** The orders most likely to miss their promise, with the reasons. */
export class TopAtRisk extends Component {
    static template = "order_visibility_dashboard.TopAtRisk";
    static props = { orders: Array, onOpen: Function };
}
