import { _t } from "@web/core/l10n/translation";
import { browser } from "@web/core/browser/browser";
import { registry } from "@web/core/registry";
import { user } from "@web/core/user";
import { useService } from "@web/core/utils/hooks";
import { KeepLast } from "@web/core/utils/concurrency";
import { useDebounced } from "@web/core/utils/timing";
import { useSetupAction } from "@web/search/action_hook";
import { Layout } from "@web/search/layout";
import { standardActionServiceProps } from "@web/webclient/actions/action_service";
import { Component, onMounted, onWillDestroy, onWillStart, onWillUnmount, useState } from "@odoo/owl";

import { AutomationPanel } from "../automation_panel/automation_panel";
import { ControlTowerFilters } from "../control_tower_filters/control_tower_filters";
import { ExceptionQueue } from "../exception_queue/exception_queue";
import { KpiTile } from "../kpi_tile/kpi_tile";
import { ServiceLevelStrip } from "../service_level_strip/service_level_strip";
import { StageAging } from "../stage_aging/stage_aging";
import { TopAtRisk } from "../top_at_risk/top_at_risk";
import { TrendChart } from "../trend_chart/trend_chart";

export const CONTROL_TOWER_CHANNEL = "order_visibility_dashboard.control_tower";
export const CONTROL_TOWER_NOTIFICATION = "order_visibility_dashboard/changed";
export const REFRESH_DEBOUNCE_DELAY = 1500;
export const RETRY_DELAY = 10000;
const FILTER_KEYS = ["company_ids", "warehouse_id", "team_id", "priority", "period"];

/** Filters from the action's URL state (strings) to what the server expects. */
export function filtersFromState(state = {}) {
    const toId = (value) => {
        const id = parseInt(value, 10);
        return Number.isInteger(id) && id > 0 ? id : false;
    };
    const companies = String(state.company_ids || "")
        .split(",")
        .map(toId)
        .filter(Boolean);
    const period = parseInt(state.period, 10);
    return {
        company_ids: companies,
        warehouse_id: toId(state.warehouse_id),
        team_id: toId(state.team_id),
        priority: ["0", "1", "2"].includes(String(state.priority)) ? String(state.priority) : false,
        period: [7, 14, 30].includes(period) ? period : 14,
        queue_order: "severity",
        queue_severity: false,
    };
}

export class ControlTower extends Component {
    static template = "order_visibility_dashboard.ControlTower";
    static components = {
        Layout,
        ControlTowerFilters,
        KpiTile,
        ServiceLevelStrip,
        StageAging,
        ExceptionQueue,
        TrendChart,
        AutomationPanel,
        TopAtRisk,
    };
    static props = { ...standardActionServiceProps };
    // Loading /odoo/control-tower?warehouse_id=2 gives these URL keys as action params.
    static path = "control-tower";

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        this.notification = useService("notification");
        this.busService = useService("bus_service");
        this.keepLast = new KeepLast();
        const params = this.props.action.params || {};
        this.state = useState({
            data: null,
            error: false,
            loading: false,
            lastRefresh: null,
            // Back from a drill-down (breadcrumbs): the filters the user had.
            filters: this.props.state?.filters || filtersFromState(params),
            wall: params.wall === "1" || params.wall === 1 || params.wall === true,
        });
        // Opened from a shared URL, the action has no name of its own.
        this.env.config?.setDisplayName?.(this.props.action.name || _t("Control Tower"));
        useSetupAction({ getLocalState: () => ({ filters: { ...this.state.filters } }) });
        this.refreshDebounced = useDebounced(() => this.load(), REFRESH_DEBOUNCE_DELAY);
        this.onBusNotification = this.onBusNotification.bind(this);
        this.onKeydown = this.onKeydown.bind(this);

        onWillStart(() => this.load());
        onMounted(() => {
            this.busService.addChannel(CONTROL_TOWER_CHANNEL);
            this.busService.subscribe(CONTROL_TOWER_NOTIFICATION, this.onBusNotification);
            browser.addEventListener("keydown", this.onKeydown);
            this.applyWallMode();
            this.pushState();
        });
        onWillUnmount(() => {
            browser.removeEventListener("keydown", this.onKeydown);
            document.body.classList.remove("o_ov_wall_mode");
        });
        onWillDestroy(() => {
            browser.clearTimeout(this.retryTimeout);
            this.busService.unsubscribe(CONTROL_TOWER_NOTIFICATION, this.onBusNotification);
            this.busService.deleteChannel(CONTROL_TOWER_CHANNEL);
        });
    }

    get data() {
        return this.state.data;
    }

    /** Names of the lists the figures open (the tiles' own labels are in the template). */
    get labels() {
        return {
            approvals: _t("Decided approvals"),
            atRisk: _t("Orders at risk"),
            late: _t("Late orders"),
            unacknowledged: _t("Unacknowledged exceptions"),
            sla: _t("SLA breaches"),
            open: _t("Open exceptions"),
            delivered: _t("Delivered webhooks"),
            pending: _t("Webhooks to send"),
            dead: _t("Dead webhooks"),
        };
    }

    get riskHint() {
        return _t("risk ≥ %s", this.data.at_risk_threshold);
    }

    get webhookLatencyHint() {
        const latency = this.data.webhooks.p95_latency_ms;
        return latency === null ? "" : _t("p95 %s ms", latency);
    }

    get webhookOldestHint() {
        const oldest = this.data.webhooks.oldest_pending;
        return oldest
            ? _t("oldest %s", luxon.DateTime.fromSQL(oldest, { zone: "utc" }).toRelative())
            : "";
    }

    severityLabel(severity) {
        return _t("%s exceptions", severity.label);
    }

    get isEmpty() {
        return this.data && !this.data.stages.some((stage) => stage.count);
    }

    get openStages() {
        return this.data.stages.filter((stage) => !["cancelled"].includes(stage.stage));
    }

    get exceptionChart() {
        const trend = this.data.exception_trend;
        return {
            labels: trend.days,
            datasets: [
                { label: _t("Opened"), data: trend.opened, domain: trend.opened_domain },
                { label: _t("Resolved"), data: trend.resolved, domain: trend.resolved_domain },
            ],
        };
    }

    get throughputChart() {
        const trend = this.data.throughput;
        return {
            labels: trend.days,
            datasets: [
                { label: _t("Confirmed"), data: trend.confirmed, domain: trend.confirmed_domain },
                { label: _t("Shipped"), data: trend.shipped, domain: trend.shipped_domain },
            ],
        };
    }

    async load() {
        this.state.loading = true;
        try {
            const data = await this.keepLast.add(
                this.orm.call("order.visibility", "get_control_tower_data", [this.state.filters])
            );
            this.state.data = data;
            this.state.error = false;
            this.state.lastRefresh = luxon.DateTime.now();
            browser.clearTimeout(this.retryTimeout);
        } catch (error) {
            this.state.error = error?.data?.message || error?.message || _t("The server cannot be reached.");
            // Keep trying while the server is away; a later success clears the error.
            browser.clearTimeout(this.retryTimeout);
            this.retryTimeout = browser.setTimeout(() => this.load(), RETRY_DELAY);
        } finally {
            this.state.loading = false;
        }
    }

    onBusNotification() {
        this.refreshDebounced();
    }

    onKeydown(ev) {
        if (ev.key === "Escape" && this.state.wall) {
            this.toggleWall();
        }
    }

    async setFilters(changes) {
        Object.assign(this.state.filters, changes);
        this.pushState();
        await this.load();
    }

    pushState() {
        const state = {};
        for (const key of FILTER_KEYS) {
            const value = this.state.filters[key];
            state[key] = Array.isArray(value) ? value.join(",") || undefined : value || undefined;
        }
        state.wall = this.state.wall ? "1" : undefined;
        this.props.updateActionState?.(state);
    }

    toggleWall() {
        this.state.wall = !this.state.wall;
        this.applyWallMode();
        this.pushState();
    }

    applyWallMode() {
        document.body.classList.toggle("o_ov_wall_mode", this.state.wall);
    }

    openList(name, resModel, domain, views = [[false, "list"], [false, "form"]]) {
        return this.actionService.doAction({
            type: "ir.actions.act_window",
            name,
            res_model: resModel,
            domain,
            views,
            target: "current",
            context: { create: false },
        });
    }

    openRecord(resModel, resId) {
        return this.actionService.doAction({
            type: "ir.actions.act_window",
            res_model: resModel,
            res_id: resId,
            views: [[false, "form"]],
            target: "current",
        });
    }

    openOrders(name, domain) {
        return this.openList(name, "order.visibility", domain, [
            [false, "list"],
            [false, "kanban"],
            [false, "form"],
        ]);
    }

    openExceptions(name, domain) {
        return this.openList(name, "order.visibility.exception", domain);
    }

    async acknowledge(exceptionId) {
        await this.orm.call("order.visibility.exception", "action_acknowledge", [[exceptionId]]);
        await this.load();
    }

    async assignToMe(exceptionId) {
        await this.orm.write("order.visibility.exception", [exceptionId], { owner_id: user.userId });
        await this.load();
    }

    resolve(exceptionId) {
        return this.actionService.doAction("order_visibility.action_order_visibility_exception_resolve", {
            additionalContext: {
                active_model: "order.visibility.exception",
                active_ids: [exceptionId],
                active_id: exceptionId,
                default_mode: "resolve",
            },
            onClose: () => this.load(),
        });
    }

    async setQueue(changes) {
        Object.assign(this.state.filters, changes);
        await this.load();
    }

    formatRefresh() {
        return this.state.lastRefresh ? this.state.lastRefresh.toLocaleString(luxon.DateTime.TIME_WITH_SECONDS) : "";
    }
}

registry.category("actions").add("order_visibility_control_tower", ControlTower);
