import { _t } from "@web/core/l10n/translation";
import { Component } from "@odoo/owl";

const { DateTime } = luxon;

/** Open exceptions: sortable, filterable, acknowledge / resolve / assign inline. */
export class ExceptionQueue extends Component {
    static template = "order_visibility_dashboard.ExceptionQueue";
    static props = {
        queue: Object,
        severities: Array,
        rights: Object,
        order: String,
        severity: [String, Boolean],
        onSort: Function,
        onFilter: Function,
        onOpen: Function,
        onOpenAll: Function,
        onAcknowledge: Function,
        onResolve: Function,
        onAssign: Function,
    };

    get sortOptions() {
        return [
            ["severity", _t("Severity")],
            ["opened_at", _t("Oldest first")],
            ["order", _t("Order")],
            ["owner", _t("Owner")],
        ];
    }

    age(openedAt) {
        return DateTime.fromSQL(openedAt, { zone: "utc" }).toRelative();
    }
}
