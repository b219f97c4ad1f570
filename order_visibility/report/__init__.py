from . import order_visibility_service_report
