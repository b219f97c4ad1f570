"""Suite-wide pytest rules.

A skipped test is a test that did not run: most often Odoo skips a browser
test because Chromium or websocket-client is missing.  Such a run must not
look green, so every skip is reported as a failure with its reason.
"""

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"{item.nodeid} was skipped, which this suite treats as a failure: {reason}"
