import { Component } from "@odoo/owl";

/** Company, warehouse, sales team, customer priority and period. */
export class ControlTowerFilters extends Component {
    static template = "order_visibility_dashboard.ControlTowerFilters";
    static props = { filters: Object, options: Object, onChange: Function };

    onSelect(key, ev) {
        const raw = ev.target.value;
        let value = raw || false;
        if (key === "company_ids") {
            value = raw ? [parseInt(raw, 10)] : [];
        } else if (["warehouse_id", "team_id", "period"].includes(key) && raw) {
            value = parseInt(raw, 10);
        }
        this.props.onChange({ [key]: value });
    }

    get company() {
        return this.props.filters.company_ids.length === 1 ? this.props.filters.company_ids[0] : "";
    }
}
