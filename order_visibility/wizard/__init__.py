from . import order_visibility_exception_wizard
from . import order_visibility_approval_wizard
