# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from . import ir_websocket, order_visibility, order_visibility_milestone, sale_order
