"""Activities of this app, all registered on one blueprint that ``function_app.py`` registers.

Importing a module registers its activity, so each one is imported here for that effect.
"""

from . import (
    calculate_discount,
    do_work,
    process_batch_item,
    refine_city_recommendation,
    say_hello,
)
from .blueprint import blueprint

__all__ = [
    "blueprint",
    "calculate_discount",
    "do_work",
    "process_batch_item",
    "refine_city_recommendation",
    "say_hello",
]
