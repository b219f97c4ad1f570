from . import inbound_milestone
