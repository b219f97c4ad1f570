import { loadBundle } from "@web/core/assets";
import { getColor } from "@web/core/colors/colors";
import { Component, onWillStart, useEffect, useRef } from "@odoo/owl";

const { DateTime } = luxon;

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
