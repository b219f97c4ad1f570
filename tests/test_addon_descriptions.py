"""Every addon's description renders cleanly in Odoo's Apps.

Odoo renders an addon's README.rst with docutils when it lists the addon; a
syntax slip prints docutils errors into the install log and shows a broken
page. (The "Unexpected indentation" printed while installing the suite comes
from the description of Odoo's own `mail` addon, which is not ours to fix.)
"""

import ast
import io
from pathlib import Path

import pytest
from docutils.core import publish_string

REPO = Path(__file__).resolve().parent.parent
ADDONS = sorted(
    manifest.parent for pattern in ("*/__manifest__.py", "addons/*/__manifest__.py") for manifest in REPO.glob(pattern)
)


@pytest.mark.parametrize("addon", ADDONS, ids=[addon.name for addon in ADDONS])
def test_description_renders_without_docutils_messages(addon):
    manifest = ast.literal_eval((addon / "__manifest__.py").read_text())
    readme = addon / "README.rst"
    assert "description" in manifest or readme.is_file(), f"{addon.name} has no description"
    source = manifest.get("description") or readme.read_text()
    messages = io.StringIO()
    # The settings of Odoo's ir.module.module._compute_description_html, and
    # every message from INFO up reported.
    publish_string(
        source=source,
        writer_name="html",
        settings_overrides={
            "embed_stylesheet": False,
            "doctitle_xform": False,
            "output_encoding": "unicode",
            "xml_declaration": False,
            "file_insertion_enabled": False,
            "report_level": 1,
            "halt_level": 5,
            "warning_stream": messages,
        },
    )
    assert not messages.getvalue(), f"{addon.name}/README.rst: {messages.getvalue()}"
