import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("order_visibility_settings_tour", {
    url: "/odoo",
    steps: () => [
        {
            content: "Open the apps menu",
            trigger: ".o_navbar_apps_menu button",
            run: "click",
        },
        {
            content: "Order Visibility is one of the apps",
            trigger: ".o_app[data-menu-xmlid='order_visibility.menu_order_visibility_root']",
            run: "click",
        },
        {
            // Its first screen: the orders by stage, or the control tower when
            // order_visibility_dashboard is installed (its own tour covers it).
            content: "The app opens on its first screen",
            trigger: ".o_breadcrumb:contains('Orders'), .o_ov_control_tower",
        },
        {
            content: "Open the Configuration menu",
            trigger: ".o_menu_sections [data-menu-xmlid='order_visibility.menu_order_visibility_config']",
            run: "click",
        },
        {
            content: "Open Settings",
            trigger: "[data-menu-xmlid='order_visibility.menu_order_visibility_settings']",
            run: "click",
        },
        {
            content: "The Order Visibility section of Settings opens",
            trigger: ".app_settings_block[data-key='order_visibility']",
        },
        {
            content: "Type a margin above 100 %",
            trigger: "div[name='ov_min_margin_percent'] input",
            run: "edit 150",
        },
        {
            content: "Save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "The settings are refused with a clear message",
            trigger: ".modal-body:contains('between 0 and 100')",
        },
        {
            content: "Close the message",
            trigger: ".modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "Discard the invalid change",
            trigger: ".o_form_button_cancel",
            run: "click",
        },
        {
            content: "The form is clean again",
            trigger: ".o-settings-form-view:not(:has(.o_dirty_warning))",
        },
    ],
});
