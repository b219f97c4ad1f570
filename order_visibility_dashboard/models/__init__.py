# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from . import ir_websocket
from . import order_visibility
from . import order_visibility_cron_run
from . import order_visibility_exception
from . import order_visibility_transition
