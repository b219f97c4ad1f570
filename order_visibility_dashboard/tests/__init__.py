# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from . import test_control_tower_data
from . import test_control_tower_service_level
from . import test_control_tower_ui
from . import test_control_tower_readonly
