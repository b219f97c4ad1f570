from . import order_visibility_exception_wizard
from . import order_visibility_approval_wizard
from . import order_visibility_fulfilment_wizard
from . import order_visibility_expedite_wizard
from . import order_visibility_promise_wizard
