from . import test_security
from . import test_settings
from . import test_stage_engine
from . import test_exceptions
from . import test_approvals
from . import test_automation
from . import test_performance
from . import test_ui
