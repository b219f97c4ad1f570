import { Component } from "@odoo/owl";

/** Open orders per stage and time spent in it. */
export class StageAging extends Component {
    static template = "order_visibility_dashboard.StageAging";
    static props = { aging: Object, onOpen: Function };
}
