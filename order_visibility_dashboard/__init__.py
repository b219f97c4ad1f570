# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from . import models


def uninstall_hook(env):
    """Give the Order Visibility app back its own opening behaviour (its first menu)."""
    root = env.ref("order_visibility.menu_order_visibility_root", raise_if_not_found=False)
    if root:
        root.action = False
