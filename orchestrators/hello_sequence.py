"""E1_HelloSequence: function chaining, reporting progress through the custom status.

After each greeting the custom status is the city just greeted, so a client polling the status
sees "Tokyo", then "Seattle", then "London" — the docs' sample that ``wait-for-status`` waits on.
"""

from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

from custom_status import set_custom_status

from .blueprint import blueprint
from .names import E1_HELLO_SEQUENCE, SAY_HELLO

CITIES = ("Tokyo", "Seattle", "London")


@blueprint.function_name(name=E1_HELLO_SEQUENCE)
@blueprint.orchestration_trigger(context_name="context", orchestration=E1_HELLO_SEQUENCE)
def hello_sequence(context: df.DurableOrchestrationContext) -> Generator[Any, Any, list[str]]:
    """Greet each city in turn; the input is ignored. Returns the three greetings."""
    greetings: list[str] = []
    for city in CITIES:
        greeting = yield context.call_activity(SAY_HELLO, city)
        greetings.append(greeting)
        yield from set_custom_status(context, city)
    return greetings
