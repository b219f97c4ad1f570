import { _t } from "@web/core/l10n/translation";
import { loadBundle } from "@web/core/assets";
import { getColor } from "@web/core/colors/colors";
import { Component, onWillStart, useEffect, useRef } from "@odoo/owl";

const { DateTime } = luxon;

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

/** Open orders per stage and time spent in it. */
export class StageAging extends Component {
    static template = "order_visibility_dashboard.StageAging";
    static props = { aging: Object, onOpen: Function };
}

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

/** A bar chart of daily figures (Odoo's bundled Chart.js). */
export class TrendChart extends Component {
    static template = "order_visibility_dashboard.TrendChart";
    static props = { title: String, chart: Object, name: String, onOpen: Function };

    setup() {
        this.canvasRef = useRef("canvas");
        onWillStart(() => loadBundle("web.chartjs_lib"));
        useEffect(
            () => {
                const chart = new Chart(this.canvasRef.el, this.config);
                return () => chart.destroy();
            },
            () => [this.props.chart]
        );
    }

    get totals() {
        return this.props.chart.datasets.map((dataset) => ({
            label: dataset.label,
            total: dataset.data.reduce((sum, value) => sum + value, 0),
            domain: dataset.domain,
        }));
    }

    get config() {
        return {
            type: "bar",
            data: {
                labels: this.props.chart.labels.map((day) => DateTime.fromISO(day).toFormat("dd LLL")),
                datasets: this.props.chart.datasets.map((dataset, index) => ({
                    label: dataset.label,
                    data: dataset.data,
                    backgroundColor: getColor(index + 1),
                })),
            },
            options: {
                maintainAspectRatio: false,
                animation: false,
                plugins: { legend: { position: "bottom" } },
                scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
            },
        };
    }
}

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

/** The orders most likely to miss their promise, with the reasons. */
export class TopAtRisk extends Component {
    static template = "order_visibility_dashboard.TopAtRisk";
    static props = { orders: Array, onOpen: Function };
}
