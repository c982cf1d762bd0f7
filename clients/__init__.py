"""HTTP client functions of this app, all on one blueprint that ``function_app.py`` registers.

Importing a module registers its functions, so each one is imported here for that effect.
"""

from . import events, instance_status, monitor, purge, starters
from .blueprint import blueprint

__all__ = ["blueprint", "events", "instance_status", "monitor", "purge", "starters"]
