# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from . import test_customer_stage, test_portal_pages, test_track_api
