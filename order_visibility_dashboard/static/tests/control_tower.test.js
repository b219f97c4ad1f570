import { defineMailModels } from "@mail/../tests/mail_test_helpers";
import { beforeEach, describe, expect, test } from "@odoo/hoot";
import { advanceTime, animationFrame, queryAllTexts } from "@odoo/hoot-dom";
import {
    asyncStep,
    contains,
    defineActions,
    getService,
    mockService,
    mountWebClient,
    onRpc,
    preloadBundle,
    waitForSteps,
} from "@web/../tests/web_test_helpers";

import {
    CONTROL_TOWER_CHANNEL,
    CONTROL_TOWER_NOTIFICATION,
    REFRESH_DEBOUNCE_DELAY,
    RETRY_DELAY,
    filtersFromState,
} from "@order_visibility_dashboard/control_tower/control_tower";

describe.current.tags("desktop", "ov_control_tower");
defineMailModels();
preloadBundle("web.chartjs_lib");
defineActions([
    {
        id: 901,
        name: "Control Tower",
        tag: "order_visibility_control_tower",
        type: "ir.actions.client",
        params: {},
    },
]);

const STAGES = [
    ["cancelled", "Cancelled"],
    ["draft", "Quotation"],
    ["pending_approval", "Pending Approval"],
    ["credit_hold", "Credit Hold"],
    ["confirmed", "Confirmed"],
    ["awaiting_stock", "Awaiting Stock"],
    ["ready_to_ship", "Ready to Ship"],
    ["partially_shipped", "Partially Shipped"],
    ["shipped", "Shipped"],
    ["invoiced", "Invoiced"],
    ["paid", "Paid"],
];
const SEVERITIES = [
    ["critical", "Critical"],
    ["high", "High"],
    ["medium", "Medium"],
    ["low", "Low"],
];

function payload({ empty = false, webhooks = false, failing = false } = {}) {
    const counts = empty ? {} : { draft: 3, awaiting_stock: 2, ready_to_ship: 4, paid: 1 };
    const days = ["2026-11-24", "2026-11-25", "2026-11-26"];
    return {
        filters: {},
        at_risk_threshold: 60,
        stages: STAGES.map(([stage, label]) => ({
            stage,
            label,
            count: counts[stage] || 0,
            domain: [["stage", "=", stage]],
        })),
        exceptions_by_severity: { critical: 0, high: 2, medium: 1, low: 0 },
        severities: SEVERITIES.map(([severity, label]) => ({
            severity,
            label,
            count: { high: 2, medium: 1 }[severity] || 0,
            domain: [["state", "!=", "resolved"], ["severity", "=", severity]],
        })),
        tiles: {
            at_risk: { count: 2, domain: [["is_at_risk", "=", true]] },
            late: { count: 1, domain: [["is_late", "=", true]] },
            sla_breaches: { count: 1, domain: [["state", "!=", "resolved"], ["is_overdue", "=", true]] },
            open_exceptions: { count: 3, domain: [["state", "!=", "resolved"]] },
            unacknowledged: { count: 2, domain: [["state", "=", "open"]] },
        },
        aging: {
            buckets: [
                { key: "0_1", label: "0–1 d" },
                { key: "1_3", label: "1–3 d" },
                { key: "3_7", label: "3–7 d" },
                { key: "7_plus", label: "> 7 d" },
            ],
            rows: [
                {
                    stage: "awaiting_stock",
                    label: "Awaiting Stock",
                    buckets: {
                        "0_1": { count: 1, domain: [["stage", "=", "awaiting_stock"], ["stage_since", ">=", "x"]] },
                        "1_3": { count: 0, domain: [] },
                        "3_7": { count: 0, domain: [] },
                        "7_plus": { count: 1, domain: [["stage", "=", "awaiting_stock"], ["stage_since", "<", "y"]] },
                    },
                },
            ],
        },
        queue: {
            total: 2,
            domain: [["state", "!=", "resolved"]],
            records: [
                {
                    id: 11,
                    order: "S00011",
                    type: "Stock shortage",
                    severity: "high",
                    severity_label: "High",
                    state: "open",
                    state_label: "Open",
                    owner: "Mitchell Admin",
                    owner_id: 2,
                    opened_at: "2026-11-25 08:00:00",
                    detail: "2 units short",
                    overdue: true,
                },
                {
                    id: 12,
                    order: "S00012",
                    type: "Late shipment",
                    severity: "medium",
                    severity_label: "Medium",
                    state: "acknowledged",
                    state_label: "Acknowledged",
                    owner: "",
                    owner_id: false,
                    opened_at: "2026-11-26 08:00:00",
                    detail: "",
                    overdue: false,
                },
            ],
        },
        throughput: {
            days,
            confirmed: [1, 2, 3],
            shipped: [0, 1, 1],
            confirmed_domain: [["to_stage", "!=", "draft"]],
            shipped_domain: [["from_stage", "=", "ready_to_ship"]],
        },
        exception_trend: {
            days,
            opened: [2, 0, 1],
            resolved: [1, 1, 0],
            opened_domain: [["opened_at", ">=", "x"]],
            resolved_domain: [["resolved_at", ">=", "x"]],
        },
        top_at_risk: [
            {
                id: 5,
                order: "S00005",
                customer: "Harbor Foods",
                stage: "Awaiting Stock",
                risk_score: 85,
                explanation: "Promised date passed",
                promised_date: false,
            },
        ],
        automation: {
            jobs: [
                {
                    code: "exception_sweep",
                    cron_id: 24,
                    name: "Order Visibility: exception sweep",
                    active: true,
                    lastcall: "2026-11-26 08:00:00",
                    nextcall: false,
                    duration_ms: 1250,
                    job_failures: failing ? 2 : 0,
                    item_failures: 0,
                    last_error: failing ? "boom" : "",
                    failing,
                    overdue: false,
                },
            ],
            drift: 0,
            approval_cycle_hours: { median_hours: 3.5, count: 4, domain: [["state", "in", ["approved", "rejected"]]] },
            failing,
        },
        webhooks: webhooks && {
            delivered: { count: 40, domain: [["state", "=", "delivered"]] },
            pending: { count: 2, domain: [] },
            failed: { count: 0, domain: [] },
            dead: { count: 1, domain: [["state", "=", "dead"]] },
            backlog: { count: 3, domain: [["state", "in", ["pending", "sending"]]] },
            p95_latency_ms: 120,
            oldest_pending: "2026-11-26 07:00:00",
            oldest_pending_id: 1,
        },
        options: {
            companies: [{ id: 1, name: "My Company" }],
            warehouses: [
                { id: 1, name: "Main" },
                { id: 2, name: "Rotterdam DC" },
            ],
            teams: [{ id: 1, name: "Sales" }],
            priorities: [
                { id: "0", name: "Normal" },
                { id: "1", name: "Important" },
                { id: "2", name: "Critical" },
            ],
            periods: [7, 14, 30],
        },
        rights: { manager: true, system: true },
        service_levels: serviceLevels(),
    };
}

const PERIOD_DOMAIN = [
    ["is_measured", "=", true],
    ["fully_shipped_date", ">=", "2026-11-12 08:00:00"],
    ["fully_shipped_date", "<", "2026-11-26 08:00:00"],
];

function serviceLevels() {
    const measure = (key, value, previous, direction, higherIsBetter, domain = PERIOD_DOMAIN) => ({
        key,
        value,
        previous,
        direction,
        higher_is_better: higherIsBetter,
        domain,
    });
    return {
        period: 14,
        current: { orders: 4, paid: 1, on_time_rate: 75, in_full_rate: 50 },
        previous: { orders: 3, paid: 0, on_time_rate: 33.3, in_full_rate: 100 },
        measures: [
            measure("otif_rate", 50, 33.3, "up", true, [...PERIOD_DOMAIN, ["is_on_time", "=", false]]),
            measure("fill_rate", 0.8125, 0.9, "down", true, [...PERIOD_DOMAIN, ["is_in_full", "=", false]]),
            measure("quotation_to_confirmed_hours", 3.5, 3.5, "same", false),
            measure("confirmed_to_shipped_hours", 356.5, 213, "up", false),
            measure("confirmed_to_paid_hours", 429, null, null, false, [
                ...PERIOD_DOMAIN,
                ["paid_date", "!=", false],
            ]),
        ],
    };
}

const DEFAULT_FILTERS = JSON.stringify(filtersFromState({}));
let busCallbacks;

beforeEach(() => {
    busCallbacks = [];
    mockService("bus_service", {
        addChannel(channel) {
            asyncStep(`addChannel ${channel}`);
            return super.addChannel(...arguments);
        },
        subscribe(type, callback) {
            if (type === CONTROL_TOWER_NOTIFICATION) {
                busCallbacks.push(callback);
            }
            return super.subscribe(...arguments);
        },
    });
    mockService("action", {
        doAction(action, options) {
            if (action?.type === "ir.actions.act_window") {
                asyncStep(`open ${action.res_model} ${JSON.stringify(action.domain ?? action.res_id)}`);
                return;
            }
            if (typeof action === "string" && action.startsWith("order_visibility.")) {
                asyncStep(`action ${action} ${JSON.stringify(options.additionalContext.active_ids)}`);
                return;
            }
            return super.doAction(...arguments);
        },
    });
});

async function openControlTower(data = payload()) {
    onRpc("order.visibility", "get_control_tower_data", ({ args }) => {
        asyncStep(`fetch ${JSON.stringify(args[0])}`);
        return typeof data === "function" ? data() : data;
    });
    await mountWebClient();
    await getService("action").doAction(901);
    await animationFrame();
    await waitForSteps([`fetch ${DEFAULT_FILTERS}`, `addChannel ${CONTROL_TOWER_CHANNEL}`]);
}

test("ov_control_tower: tiles render the server figures", async () => {
    await openControlTower();
    expect("[data-tile='stage_draft'] .o_ov_ct_tile_value").toHaveText("3");
    expect("[data-tile='stage_ready_to_ship'] .o_ov_ct_tile_value").toHaveText("4");
    expect("[data-tile='stage_cancelled']").toHaveCount(0);
    expect("[data-tile='at_risk'] .o_ov_ct_tile_value").toHaveText("2");
    expect("[data-tile='late'] .o_ov_ct_tile_value").toHaveText("1");
    expect("[data-tile='sla_breaches'] .o_ov_ct_tile_value").toHaveText("1");
    expect("[data-tile='severity_high'] .o_ov_ct_tile_value").toHaveText("2");
    // No webhooks addon: no webhook tiles.
    expect("[data-tile^='webhook_']").toHaveCount(0);
    expect(".o_ov_ct_refreshed").toHaveText(/Last refreshed/);
});

test("ov_control_tower: webhook health tiles when the webhooks addon answers", async () => {
    await openControlTower(payload({ webhooks: true }));
    expect("[data-tile='webhook_delivered'] .o_ov_ct_tile_value").toHaveText("40");
    expect("[data-tile='webhook_delivered'] .o_ov_ct_tile_hint").toHaveText("p95 120 ms");
    expect("[data-tile='webhook_backlog'] .o_ov_ct_tile_value").toHaveText("3");
    expect("[data-tile='webhook_dead'] .o_ov_ct_tile_value").toHaveText("1");
    await contains("[data-tile='webhook_dead']").click();
    await waitForSteps([
        `open order.visibility.webhook.delivery [["state","=","dead"]]`,
    ]);
});

test("ov_control_tower: panels render (aging, queue, automation, charts, top at risk)", async () => {
    await openControlTower();
    expect(".o_ov_ct_aging tr[data-stage='awaiting_stock'] .o_ov_ct_aging_cell").toHaveCount(2);
    expect(queryAllTexts(".o_ov_ct_queue_row .o_ov_ct_queue_open")).toEqual([
        "S00011 · Stock shortage",
        "S00012 · Late shipment",
    ]);
    expect(".o_ov_ct_queue_row[data-id='11'] .badge.text-bg-danger").toHaveText("SLA");
    // Acknowledged already: no acknowledge button.
    expect(".o_ov_ct_queue_row[data-id='12'] .o_ov_ct_ack").toHaveCount(0);
    expect(".o_ov_ct_automation").not.toHaveClass("o_ov_ct_failing");
    expect(".o_ov_ct_job[data-job='exception_sweep'] td:eq(2)").toHaveText("1.3 s");
    expect(".o_ov_ct_approval_cycle").toHaveText(/3.5 h/);
    expect(".o_ov_ct_chart_throughput canvas").toHaveCount(1);
    expect(queryAllTexts(".o_ov_ct_chart_throughput .o_ov_ct_chart_total")).toEqual([
        "Confirmed: 6",
        "Shipped: 2",
    ]);
    expect(".o_ov_ct_chart_exception_trend canvas").toHaveCount(1);
    expect(".o_ov_ct_risk_row").toHaveText(/S00005\s*85\/100/);
    expect(".o_ov_ct_risk_why").toHaveText("Promised date passed");
});

test("ov_control_tower: a failing scheduled action turns the panel red and opens the job", async () => {
    await openControlTower(payload({ failing: true }));
    expect(".o_ov_ct_automation").toHaveClass("o_ov_ct_failing");
    expect(".o_ov_ct_job[data-job='exception_sweep']").toHaveClass("table-danger");
    await contains(".o_ov_ct_job_open").click();
    await waitForSteps(["open ir.cron 24"]);
});

test("ov_control_tower: every figure drills down with its domain", async () => {
    await openControlTower();
    await contains("[data-tile='stage_awaiting_stock']").click();
    await contains("[data-tile='at_risk']").click();
    await contains("[data-tile='sla_breaches']").click();
    await contains("[data-tile='severity_high']").click();
    await contains(".o_ov_ct_aging_cell[data-bucket='7_plus']").click();
    await contains(".o_ov_ct_chart_throughput .o_ov_ct_chart_total").click();
    await contains(".o_ov_ct_queue_row[data-id='11'] .o_ov_ct_queue_open").click();
    await contains(".o_ov_ct_risk_row button").click();
    await waitForSteps([
        `open order.visibility [["stage","=","awaiting_stock"]]`,
        `open order.visibility [["is_at_risk","=",true]]`,
        `open order.visibility.exception [["state","!=","resolved"],["is_overdue","=",true]]`,
        `open order.visibility.exception [["state","!=","resolved"],["severity","=","high"]]`,
        `open order.visibility [["stage","=","awaiting_stock"],["stage_since","<","y"]]`,
        `open order.visibility.transition [["to_stage","!=","draft"]]`,
        "open order.visibility.exception 11",
        "open order.visibility 5",
    ]);
});

test("ov_control_tower: filters refetch with the new values", async () => {
    await openControlTower();
    await contains(".o_ov_ct_filter_warehouse").select("2");
    await waitForSteps([`fetch ${JSON.stringify({ ...filtersFromState({}), warehouse_id: 2 })}`]);
    await contains(".o_ov_ct_filter_priority").select("2");
    await contains(".o_ov_ct_filter_period").select("30");
    await contains(".o_ov_ct_queue_order").select("opened_at");
    await waitForSteps([
        `fetch ${JSON.stringify({ ...filtersFromState({}), warehouse_id: 2, priority: "2" })}`,
        `fetch ${JSON.stringify({ ...filtersFromState({}), warehouse_id: 2, priority: "2", period: 30 })}`,
        `fetch ${JSON.stringify({
            ...filtersFromState({}),
            warehouse_id: 2,
            priority: "2",
            period: 30,
            queue_order: "opened_at",
        })}`,
    ]);
});

test("ov_control_tower: filters come from the URL state", async () => {
    expect(filtersFromState({ warehouse_id: "2", team_id: "x", priority: "1", period: "7", company_ids: "1,3" })).toEqual({
        company_ids: [1, 3],
        warehouse_id: 2,
        team_id: false,
        priority: "1",
        period: 7,
        queue_order: "severity",
        queue_severity: false,
    });
});

test("ov_control_tower: inline acknowledge, assign and resolve", async () => {
    onRpc("order.visibility.exception", "action_acknowledge", ({ args }) => {
        asyncStep(`acknowledge ${JSON.stringify(args[0])}`);
        return true;
    });
    onRpc("order.visibility.exception", "web_save", ({ args }) => {
        asyncStep(`assign ${JSON.stringify(args)}`);
        return [];
    });
    onRpc("order.visibility.exception", "write", ({ args }) => {
        asyncStep(`write ${JSON.stringify(args[0])}`);
        return true;
    });
    await openControlTower();
    await contains(".o_ov_ct_queue_row[data-id='11'] .o_ov_ct_ack").click();
    await waitForSteps(["acknowledge [11]", `fetch ${DEFAULT_FILTERS}`]);
    await contains(".o_ov_ct_queue_row[data-id='11'] .o_ov_ct_assign").click();
    await waitForSteps(["write [11]", `fetch ${DEFAULT_FILTERS}`]);
    await contains(".o_ov_ct_queue_row[data-id='11'] .o_ov_ct_resolve").click();
    await waitForSteps(["action order_visibility.action_order_visibility_exception_resolve [11]"]);
});

test("ov_control_tower: users without manager rights only acknowledge", async () => {
    await openControlTower({ ...payload(), rights: { manager: false, system: false } });
    expect(".o_ov_ct_queue_row[data-id='11'] .o_ov_ct_ack").toHaveCount(1);
    expect(".o_ov_ct_assign, .o_ov_ct_resolve").toHaveCount(0);
    expect(".o_ov_ct_job_open").toHaveCount(0);
});

test("ov_control_tower: bus notifications cause one debounced refetch", async () => {
    await openControlTower();
    expect(busCallbacks).toHaveLength(1);
    for (let i = 0; i < 5; i++) {
        busCallbacks[0]({ company_id: 1 });
        await advanceTime(100);
    }
    await waitForSteps([]);
    await advanceTime(REFRESH_DEBOUNCE_DELAY);
    await waitForSteps([`fetch ${DEFAULT_FILTERS}`]);
    await advanceTime(REFRESH_DEBOUNCE_DELAY * 2);
    await waitForSteps([]);
});

test("ov_control_tower: empty state on a fresh database", async () => {
    await openControlTower(payload({ empty: true }));
    expect(".o_ov_ct_empty").toHaveText(/No orders to watch yet/);
    expect(".o_ov_ct_tile").toHaveCount(0);
});

test("ov_control_tower: error state when the server is unreachable, then recovery", async () => {
    let reachable = false;
    await openControlTower(() => {
        if (!reachable) {
            throw new Error("Connection lost");
        }
        return payload();
    });
    expect(".o_ov_ct_error").toHaveCount(1);
    expect(".o_ov_ct_tile").toHaveCount(0);
    reachable = true;
    await advanceTime(RETRY_DELAY);
    await animationFrame();
    await waitForSteps([`fetch ${DEFAULT_FILTERS}`]);
    expect(".o_ov_ct_error").toHaveCount(0);
    expect("[data-tile='stage_draft'] .o_ov_ct_tile_value").toHaveText("3");
});

test("ov_control_tower: wall mode hides the chrome and Escape leaves it", async () => {
    await openControlTower();
    await contains(".o_ov_ct_wall_toggle").click();
    expect(document.body).toHaveClass("o_ov_wall_mode");
    expect(".o_ov_control_tower .o_control_panel").toHaveCount(0);
    await contains(".o_ov_ct_wall_toggle").press("Escape");
    expect(document.body).not.toHaveClass("o_ov_wall_mode");
});

test("ov_control_tower: service-level strip beside the previous period", async () => {
    await openControlTower();
    expect(queryAllTexts(".o_ov_ct_sl_tile .o_ov_ct_tile_label")).toEqual([
        "OTIF",
        "Fill rate",
        "Quotation → confirmed",
        "Confirmed → shipped",
        "Confirmed → paid",
    ]);
    expect(queryAllTexts(".o_ov_ct_sl_value")).toEqual(["50.0 %", "81.3 %", "3.5 h", "356.5 h", "429.0 h"]);
    expect(queryAllTexts(".o_ov_ct_sl_previous")).toEqual([
        "Previous period: 33.3 %",
        "Previous period: 90.0 %",
        "Previous period: 3.5 h",
        "Previous period: 213.0 h",
        "Previous period: –",
    ]);
    // Up is better for rates, worse for cycle times; no previous figure, no arrow.
    expect("[data-measure='otif_rate'] .o_ov_ct_sl_change").toHaveClass("o_ov_ct_sl_better");
    expect("[data-measure='otif_rate'] .o_ov_ct_sl_change .fa-arrow-up").toHaveCount(1);
    expect("[data-measure='fill_rate'] .o_ov_ct_sl_change").toHaveClass("o_ov_ct_sl_worse");
    expect("[data-measure='quotation_to_confirmed_hours'] .o_ov_ct_sl_change").toHaveClass("o_ov_ct_sl_same");
    expect("[data-measure='confirmed_to_shipped_hours'] .o_ov_ct_sl_change").toHaveClass("o_ov_ct_sl_worse");
    expect("[data-measure='confirmed_to_paid_hours'] .o_ov_ct_sl_change").toHaveCount(0);
    expect(".o_ov_ct_sl_hint").toHaveText(/4 orders fully shipped in the last 14 days/);
});

test("ov_control_tower: service levels drill down to the late and the short orders", async () => {
    await openControlTower();
    await contains("[data-measure='otif_rate']").click();
    await contains("[data-measure='fill_rate']").click();
    await contains("[data-measure='confirmed_to_paid_hours']").click();
    await waitForSteps([
        `open order.visibility ${JSON.stringify([...PERIOD_DOMAIN, ["is_on_time", "=", false]])}`,
        `open order.visibility ${JSON.stringify([...PERIOD_DOMAIN, ["is_in_full", "=", false]])}`,
        `open order.visibility ${JSON.stringify([...PERIOD_DOMAIN, ["paid_date", "!=", false]])}`,
    ]);
});

test("ov_control_tower: service levels without shipped orders show dashes", async () => {
    const empty = serviceLevels();
    empty.current = { orders: 0, paid: 0, on_time_rate: null, in_full_rate: null };
    empty.measures = empty.measures.map((measure) => ({ ...measure, value: null, direction: null }));
    await openControlTower({ ...payload(), service_levels: empty });
    expect(queryAllTexts(".o_ov_ct_sl_value")).toEqual(["–", "–", "–", "–", "–"]);
    expect(".o_ov_ct_sl_change").toHaveCount(0);
    expect(".o_ov_ct_sl_hint").toHaveText("No order fully shipped in the last 14 days.");
});
