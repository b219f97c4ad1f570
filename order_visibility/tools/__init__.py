from . import domains
from . import flows
