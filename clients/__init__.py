"""HTTP client functions of this app, all on one blueprint that ``function_app.py`` registers.

Importing a module registers its functions, so each one is imported here for that effect.
"""

from . import client_page, events, instance_status, management, monitor, purge, starters
from .blueprint import blueprint

__all__ = [
    "blueprint",
    "client_page",
    "events",
    "instance_status",
    "management",
    "monitor",
    "purge",
    "starters",
]
