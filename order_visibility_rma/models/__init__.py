# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from . import account_move
from . import order_visibility_returns
from . import rma
from . import stock_move
