import { _t } from "@web/core/l10n/translation";
import { Component } from "@odoo/owl";

const { DateTime } = luxon;

/** Scheduled actions, drift and approval cycle time; red when something fails. */
export class AutomationPanel extends Component {
    static template = "order_visibility_dashboard.AutomationPanel";
    static props = { automation: Object, rights: Object, onOpenCron: Function, onOpenApprovals: Function };

    when(value) {
        return value ? DateTime.fromSQL(value, { zone: "utc" }).toRelative() : _t("never");
    }

    duration(ms) {
        if (ms === null || ms === undefined) {
            return "–";
        }
        return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
    }
}
