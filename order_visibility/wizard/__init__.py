from . import order_visibility_exception_wizard
