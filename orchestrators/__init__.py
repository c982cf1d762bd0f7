"""Orchestrators of this app, all registered on one blueprint that ``function_app.py`` registers.

Importing a module registers its orchestrator, so each one is imported here for that effect.
"""

from . import batch_progress, city_recommender, hello_sequence, reserve_ticket, set_status_test
from .blueprint import blueprint

__all__ = [
    "batch_progress",
    "blueprint",
    "city_recommender",
    "hello_sequence",
    "reserve_ticket",
    "set_status_test",
]
