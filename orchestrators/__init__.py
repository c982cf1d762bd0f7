"""Orchestrators of this app, all registered on one blueprint that ``function_app.py`` registers.

Importing a module registers its orchestrator, so each one is imported here for that effect.
"""

from . import city_recommender, hello_sequence, reserve_ticket, set_status_test
from .blueprint import blueprint

__all__ = [
    "blueprint",
    "city_recommender",
    "hello_sequence",
    "reserve_ticket",
    "set_status_test",
]
