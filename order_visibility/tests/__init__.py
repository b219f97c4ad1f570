from . import test_security, test_settings, test_ui
