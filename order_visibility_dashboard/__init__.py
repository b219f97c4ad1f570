# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from . import models
from .models.order_visibility_tally import drop_triggers


def uninstall_hook(env):
    """Give the Order Visibility app back its own opening behaviour (its
    first menu), and drop the triggers that keep the control tower's tally
    (its table goes with the model; the triggers are on the core's tables)."""
    drop_triggers(env.cr)
    root = env.ref("order_visibility.menu_order_visibility_root", raise_if_not_found=False)
    if root:
        root.action = False
