import { registry } from "@web/core/registry";
import { rpc } from "@web/core/network/rpc";

const tileValue = (name) => parseInt(document.querySelector(`[data-tile='${name}'] .o_ov_ct_tile_value`).textContent);
let unacknowledgedBefore;

/** The tiles show what the server answers for the same filters. */
async function checkTilesAgainstServer(filters) {
    const data = await rpc("/web/dataset/call_kw/order.visibility/get_control_tower_data", {
        model: "order.visibility",
        method: "get_control_tower_data",
        args: [filters],
        kwargs: {},
    });
    const mismatches = [];
    for (const stage of data.stages.filter((s) => s.stage !== "cancelled")) {
        if (tileValue(`stage_${stage.stage}`) !== stage.count) {
            mismatches.push(`${stage.stage}: ${tileValue(`stage_${stage.stage}`)} shown, ${stage.count} on the server`);
        }
    }
    for (const key of ["at_risk", "late", "sla_breaches", "unacknowledged"]) {
        if (tileValue(key) !== data.tiles[key].count) {
            mismatches.push(`${key}: ${tileValue(key)} shown, ${data.tiles[key].count} on the server`);
        }
    }
    for (const [severity, count] of Object.entries(data.exceptions_by_severity)) {
        if (tileValue(`severity_${severity}`) !== count) {
            mismatches.push(`severity ${severity}: ${tileValue(`severity_${severity}`)} shown, ${count} on the server`);
        }
    }
    // The service-level strip: one tile per measure, the period's order count.
    const serviceLevels = data.service_levels;
    const strip = document.querySelectorAll(".o_ov_ct_sl_tile").length;
    if (strip !== serviceLevels.measures.length) {
        mismatches.push(`service levels: ${strip} tiles shown, ${serviceLevels.measures.length} on the server`);
    }
    const hint = document.querySelector(".o_ov_ct_sl_hint").textContent;
    if (serviceLevels.current.orders && !hint.startsWith(`${serviceLevels.current.orders} `)) {
        mismatches.push(`service levels: "${hint}" shown, ${serviceLevels.current.orders} orders on the server`);
    }
    if (mismatches.length) {
        throw new Error(`Control tower figures differ from the server: ${mismatches.join("; ")}`);
    }
}

const warehouseFilter = () => parseInt(document.querySelector(".o_ov_ct_filter_warehouse").value) || false;

registry.category("web_tour.tours").add("order_visibility_control_tower_tour", {
    steps: () => [
        {
            content: "The Order Visibility app opens on the control tower",
            trigger: ".o_ov_control_tower [data-tile='stage_draft']",
        },
        {
            content: "Its tiles show the server's figures",
            trigger: ".o_ov_control_tower .o_ov_ct_refreshed",
            run: () => checkTilesAgainstServer({}),
        },
        {
            content: "Filter on the Rotterdam warehouse",
            trigger: ".o_ov_ct_filter_warehouse",
            run: "selectByLabel Rotterdam DC",
        },
        {
            content: "The filter is in the URL",
            trigger: ".o_ov_ct_filter_warehouse:has(option:selected:contains('Rotterdam DC'))",
            run: async () => {
                const warehouseId = warehouseFilter();
                if (new URL(window.location.href).searchParams.get("warehouse_id") !== String(warehouseId)) {
                    throw new Error(`warehouse_id=${warehouseId} is not in the URL ${window.location.href}`);
                }
            },
        },
        {
            content: "The filtered tiles show the server's figures for that warehouse",
            trigger: ".o_ov_control_tower:not(:has(.fa-spin))",
            run: () => checkTilesAgainstServer({ warehouse_id: warehouseFilter() }),
        },
        {
            content: "Filter on the main warehouse, where the exceptions are",
            trigger: ".o_ov_ct_filter_warehouse",
            run: "selectByLabel My Company",
        },
        {
            content: "Its figures match the server's (once they are loaded)",
            trigger:
                ".o_ov_control_tower:not(:has(.fa-spin)) .o_ov_ct_filter_warehouse:has(option:selected:contains('My Company'))",
            run: async () => {
                await checkTilesAgainstServer({ warehouse_id: warehouseFilter() });
                unacknowledgedBefore = tileValue("unacknowledged");
            },
        },
        {
            content: "Drill into an unacknowledged exception of the queue",
            trigger: ".o_ov_ct_queue_row:has(.o_ov_ct_ack) .o_ov_ct_queue_open",
            run: "click",
        },
        {
            content: "Acknowledge it in its form",
            trigger: ".o_form_view button[name='action_acknowledge']",
            run: "click",
        },
        {
            content: "It is acknowledged",
            trigger: ".o_form_view .o_form_statusbar:not(:has(button[name='action_acknowledge']))",
        },
        {
            content: "Back to the control tower",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains('Control Tower')",
            run: "click",
        },
        {
            content: "The warehouse filter is kept and the figure went down by one",
            trigger: ".o_ov_ct_filter_warehouse:has(option:selected:contains('My Company'))",
            run: async () => {
                const now = tileValue("unacknowledged");
                if (now !== unacknowledgedBefore - 1) {
                    throw new Error(`unacknowledged: ${unacknowledgedBefore} before, ${now} after acknowledging`);
                }
                await checkTilesAgainstServer({ warehouse_id: warehouseFilter() });
            },
        },
        {
            content: "Wall mode hides the navigation bar",
            trigger: ".o_ov_ct_wall_toggle",
            run: "click",
        },
        {
            content: "The wall is on",
            trigger: "body.o_ov_wall_mode .o_ov_control_tower",
        },
    ],
});
