from . import test_inbound_customer_updates
from . import test_inbound_milestones
from . import test_inbound_schema
from . import test_inbound_sources
from . import test_inbound_translations
