# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Upgrade to 19.0.1.1.0.

- The contextual server actions moved out of the noupdate automation file,
  so that their code updates with the addon.
- Transition causes became a selection of codes ("order confirmed" is now
  "order_confirmed"), shown in the reader's language.
"""

SERVER_ACTIONS = (
    "action_server_visibility_recompute",
    "action_server_sale_order_recompute",
    "action_server_visibility_request_release",
)


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        "UPDATE ir_model_data SET noupdate = false WHERE module = 'order_visibility' AND name = ANY(%s)",
        [list(SERVER_ACTIONS)],
    )
    cr.execute("UPDATE order_visibility_transition SET cause = replace(cause, ' ', '_') WHERE cause LIKE '% %'")
