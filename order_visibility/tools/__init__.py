from . import flows
