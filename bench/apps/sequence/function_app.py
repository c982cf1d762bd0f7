"""The benchmarks' app: tiny orchestrators whose cost is the host's and the SDK's, not their own.

``Sequence`` calls ``Noop`` N times in a row (replay scaling and the start-up state file);
``WakeProbe`` waits for one raised event, then calls ``Stamp``, which returns the moment it
finished, so the benchmark can time both wake-ups of the orchestrator (see bench/wake.py). ``Ping``
is there because the SDK warns about an app without HTTP functions each time it is indexed.

The app runs in devhost's worker processes. With ``BENCH_FAST_SDK_TIMESTAMPS=1`` in the
environment (bench/scaling.py sets it), the SDK parses history timestamps with
``datetime.fromisoformat`` instead of dateutil, in the worker where it replays.
"""

import os
import sys
import time
from collections.abc import Generator
from datetime import datetime
from typing import Any

import azure.durable_functions as df
import azure.functions as func

if os.environ.get("BENCH_FAST_SDK_TIMESTAMPS") == "1":
    # The module, not the class of the same name that the package exports in its place.
    history_event = sys.modules["azure.durable_functions.models.history.HistoryEvent"]
    history_event.dt_parse = datetime.fromisoformat

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.orchestration_trigger(context_name="context")
def Sequence(context: df.DurableOrchestrationContext) -> Generator[Any, Any, int]:
    """Call ``Noop`` N times, one after the other (N is the input)."""
    count = context.get_input() or 0
    for step in range(count):
        yield context.call_activity("Noop", step)
    return count


@app.orchestration_trigger(context_name="context")
def WakeProbe(context: df.DurableOrchestrationContext) -> Generator[Any, Any, float]:
    """Wait for the event ``Go``, then run ``Stamp`` once; return the moment it finished."""
    yield context.wait_for_external_event("Go")
    finished = yield context.call_activity("Stamp", context.instance_id)
    return finished


@app.activity_trigger(input_name="step")
def Noop(step: int) -> int:
    """Do nothing: the benchmark measures what happens around the activity."""
    return step


@app.activity_trigger(input_name="key")
def Stamp(key: str) -> float:
    """The moment this activity finishes, the start of its orchestrator's wake-up.

    ``perf_counter`` is ``CLOCK_MONOTONIC`` on Linux, one clock for every process, so the
    benchmark compares it with its own."""
    return time.perf_counter()


@app.route(route="ping", methods=["GET"])
def Ping(req: func.HttpRequest) -> func.HttpResponse:
    """Answer 200: an HTTP function, so indexing the app logs no auth-level warning."""
    return func.HttpResponse("pong")
