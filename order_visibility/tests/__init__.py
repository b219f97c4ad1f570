from . import test_exceptions, test_security, test_settings, test_stage_engine, test_ui
