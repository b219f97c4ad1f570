from . import res_config_settings
from . import order_visibility_webhook_source
from . import order_visibility_milestone
from . import order_visibility
