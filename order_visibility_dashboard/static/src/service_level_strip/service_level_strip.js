import { _t } from "@web/core/l10n/translation";
import { formatFloat } from "@web/core/utils/numbers";
import { Component } from "@odoo/owl";

/** How each measure of the strip is named and shown. */
const MEASURES = {
    otif_rate: {
        label: () => _t("OTIF"),
        open: () => _t("Late orders of the period"),
        format: (value) => `${formatFloat(value, { digits: [false, 1] })} %`,
    },
    fill_rate: {
        label: () => _t("Fill rate"),
        open: () => _t("Short orders of the period"),
        format: (value) => `${formatFloat(value * 100, { digits: [false, 1] })} %`,
    },
    quotation_to_confirmed_hours: {
        label: () => _t("Quotation → confirmed"),
        open: () => _t("Orders shipped in the period"),
        format: (value) => _t("%s h", formatFloat(value, { digits: [false, 1] })),
    },
    confirmed_to_shipped_hours: {
        label: () => _t("Confirmed → shipped"),
        open: () => _t("Orders shipped in the period"),
        format: (value) => _t("%s h", formatFloat(value, { digits: [false, 1] })),
    },
    confirmed_to_paid_hours: {
        label: () => _t("Confirmed → paid"),
        open: () => _t("Paid orders shipped in the period"),
        format: (value) => _t("%s h", formatFloat(value, { digits: [false, 1] })),
    },
};

/**
 * Service levels of the orders fully shipped in the period, each beside the
 * previous period of the same length; every figure opens its orders.
 */
export class ServiceLevelStrip extends Component {
    static template = "order_visibility_dashboard.ServiceLevelStrip";
    static props = { serviceLevels: Object, onOpen: Function };

    get rows() {
        return this.props.serviceLevels.measures
            .filter((measure) => measure.key in MEASURES)
            .map((measure) => {
                const spec = MEASURES[measure.key];
                const show = (value) => (value === null || value === false ? "–" : spec.format(value));
                let tone = "";
                if (measure.direction === "up" || measure.direction === "down") {
                    const better = (measure.direction === "up") === measure.higher_is_better;
                    tone = better ? "better" : "worse";
                }
                return {
                    ...measure,
                    label: spec.label(),
                    openLabel: spec.open(),
                    shown: show(measure.value),
                    previousShown: show(measure.previous),
                    tone,
                };
            });
    }

    get hint() {
        const current = this.props.serviceLevels.current;
        if (!current.orders) {
            return _t("No order fully shipped in the last %s days.", this.props.serviceLevels.period);
        }
        const percent = (value) => `${formatFloat(value, { digits: [false, 1] })} %`;
        return _t("%(orders)s orders fully shipped in the last %(days)s days · on time %(onTime)s · in full %(inFull)s", {
            orders: current.orders,
            days: this.props.serviceLevels.period,
            onTime: percent(current.on_time_rate),
            inFull: percent(current.in_full_rate),
        });
    }

    directionIcon(direction) {
        return { up: "fa-arrow-up", down: "fa-arrow-down", same: "fa-arrows-h" }[direction] || "";
    }

    directionLabel(direction) {
        return (
            {
                up: _t("up from the previous period"),
                down: _t("down from the previous period"),
                same: _t("same as the previous period"),
            }[direction] || ""
        );
    }
}
