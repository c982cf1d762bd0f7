"""SetStatusTest: the docs' structured custom status, visible while the instance is busy.

The status is set between two steps of work, so while the second step runs a client reading the
status sees ``{"nextActions": ["A", "B", "C"], "foo": 2}`` (and keeps seeing it after completion:
a custom status is not cleared when an instance ends).
"""

from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

from custom_status import set_custom_status

from .blueprint import blueprint
from .names import DO_WORK, SET_STATUS_TEST


def sample_status() -> dict[str, Any]:
    """A fresh copy of the docs' sample status (fresh so no caller can mutate a shared one)."""
    return {"nextActions": ["A", "B", "C"], "foo": 2}


@blueprint.function_name(name=SET_STATUS_TEST)
@blueprint.orchestration_trigger(context_name="context", orchestration=SET_STATUS_TEST)
def set_status_test(context: df.DurableOrchestrationContext) -> Generator[Any, Any, list[str]]:
    """Do step 1, publish the sample status, do step 2. The input is ignored."""
    first = yield context.call_activity(DO_WORK, "step 1")
    yield from set_custom_status(context, sample_status())
    second = yield context.call_activity(DO_WORK, "step 2")
    return [first, second]
