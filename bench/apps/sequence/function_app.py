"""The benchmarks' app: tiny orchestrators whose cost is the host's and the SDK's, not their own.

``Sequence`` calls ``Noop`` N times in a row (replay scaling and the start-up state file);
``WakeProbe`` waits for one raised event, then calls ``Stamp``, which notes when it finished, so
the benchmark can time both wake-ups of the orchestrator (see bench/wake.py). ``Ping`` is there
because the SDK warns about an app without HTTP functions each time it is indexed.
"""

import time
from collections.abc import Generator
from typing import Any

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)

FINISHED: dict[str, float] = {}
"""``perf_counter()`` at the end of each ``Stamp`` call, by instance id (read by bench/wake.py)."""


@app.orchestration_trigger(context_name="context")
def Sequence(context: df.DurableOrchestrationContext) -> Generator[Any, Any, int]:
    """Call ``Noop`` N times, one after the other (N is the input)."""
    count = context.get_input() or 0
    for step in range(count):
        yield context.call_activity("Noop", step)
    return count


@app.orchestration_trigger(context_name="context")
def WakeProbe(context: df.DurableOrchestrationContext) -> Generator[Any, Any, str]:
    """Wait for the event ``Go``, then run ``Stamp`` once."""
    yield context.wait_for_external_event("Go")
    yield context.call_activity("Stamp", context.instance_id)
    return "done"


@app.activity_trigger(input_name="step")
def Noop(step: int) -> int:
    """Do nothing: the benchmark measures what happens around the activity."""
    return step


@app.activity_trigger(input_name="key")
def Stamp(key: str) -> str:
    """Note the moment this activity finishes, the start of its orchestrator's wake-up."""
    FINISHED[key] = time.perf_counter()
    return key


@app.route(route="ping", methods=["GET"])
def Ping(req: func.HttpRequest) -> func.HttpResponse:
    """Answer 200: an HTTP function, so indexing the app logs no auth-level warning."""
    return func.HttpResponse("pong")
