# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from . import ir_websocket
from . import order_visibility_control_tower
from . import order_visibility_control_tower_figures
from . import order_visibility_control_tower_tally
from . import order_visibility_control_tower_trends
from . import order_visibility_control_tower_automation
from . import order_visibility_control_tower_service_level
from . import order_visibility
from . import order_visibility_bus
from . import order_visibility_cron_run
from . import order_visibility_exception
from . import order_visibility_transition
from . import order_visibility_tally
