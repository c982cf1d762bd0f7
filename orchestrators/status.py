"""The one way orchestrators in this app set their custom status.

Every orchestrator calls ``yield from set_custom_status(context, value)`` instead of
``context.set_custom_status(value)`` so that statuses too large for the Durable host (over 16 KB of
UTF-16 JSON) can be offloaded to Blob storage in one place. (Offloading is added by the
large-status work; until then this sets the value inline.)
"""

from collections.abc import Generator
from typing import Any

import azure.durable_functions as df


def set_custom_status(
    context: df.DurableOrchestrationContext, value: Any, summary: Any = None
) -> Generator[Any, Any, None]:
    """Set ``value`` as the instance's custom status; a generator so it may schedule work."""
    context.set_custom_status(value)
    yield from ()
