from . import (
    account_move,
    order_visibility,
    order_visibility_exception,
    order_visibility_exception_type,
    order_visibility_transition,
    res_config_settings,
    res_partner,
    sale_order,
    stock_move,
)
