# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from .hooks import _post_init_demo_scenario
