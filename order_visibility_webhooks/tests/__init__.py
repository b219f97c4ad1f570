from . import test_inbound_milestones
