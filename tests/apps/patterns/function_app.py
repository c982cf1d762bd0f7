"""A second, small v2 app that exercises the Durable patterns devhost must run faithfully.

Fan-out/fan-in, activity retries (recovering and exhausted), sub-orchestrations, continue-as-new,
an event raised before the orchestrator waits for it, timer races (cancelled and not), failures, and
a custom status over the host's 16 KB limit. Tests drive it through devhost's Python API and, in
``tests/app/under_devhost/test_patterns_app.py``, over HTTP: its own starter (the durable client
binding of a second app) and two HTTP functions that raise, to show that a failure reaches the
host's log and never the client.
"""

import collections
import json
import os
import threading
import time
from datetime import timedelta
from typing import Any

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="patterns/{name}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def StartPattern(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    """Start the orchestrator named in the route with the JSON body as input (``?instanceId=``)."""
    body = req.get_body()
    value = json.loads(body) if body else None
    instance_id = await client.start_new(
        req.route_params["name"], req.params.get("instanceId"), value
    )
    return client.create_check_status_response(req, instance_id)


SECRET = "db-password=hunter2"  # must never reach an HTTP client


@app.route(route="broken/sync", methods=["GET"])
def BrokenSync(req: func.HttpRequest) -> func.HttpResponse:
    """A synchronous function (run in the worker's thread pool) that raises."""
    raise RuntimeError(f"sync failure while connecting with {SECRET}")


@app.route(route="broken/async", methods=["GET"])
async def BrokenAsync(req: func.HttpRequest) -> func.HttpResponse:
    """An async function (run on the event loop) that raises."""
    raise RuntimeError(f"async failure while connecting with {SECRET}")


# Attempts per key, so a test can see how often a flaky activity really ran.
ATTEMPTS: collections.Counter[str] = collections.Counter()
_ATTEMPTS_LOCK = threading.Lock()


@app.orchestration_trigger(context_name="context")
def FanOutFanIn(context: df.DurableOrchestrationContext) -> Any:
    count = context.get_input()
    results = yield context.task_all([context.call_activity("Double", i) for i in range(count)])
    return sum(results)


@app.activity_trigger(input_name="value")
def Double(value: int) -> int:
    return value * 2


@app.orchestration_trigger(context_name="context")
def Retrying(context: df.DurableOrchestrationContext) -> Any:
    """Calls Flaky with retries; input: {"key", "failures", "attempts"}."""
    job = context.get_input()
    options = df.RetryOptions(
        first_retry_interval_in_milliseconds=5000, max_number_of_attempts=job["attempts"]
    )
    try:
        return (yield context.call_activity_with_retry("Flaky", options, job))
    except Exception as error:
        return f"gave up: {error}"


@app.activity_trigger(input_name="job")
def Flaky(job: dict) -> str:
    with _ATTEMPTS_LOCK:
        ATTEMPTS[job["key"]] += 1
        attempt = ATTEMPTS[job["key"]]
    if attempt <= job["failures"]:
        raise RuntimeError(f"attempt {attempt} failed")
    return f"succeeded on attempt {attempt}"


@app.orchestration_trigger(context_name="context")
def Parent(context: df.DurableOrchestrationContext) -> Any:
    first = yield context.call_sub_orchestrator("Child", "a")
    second = yield context.call_sub_orchestrator("Child", "b", f"{context.instance_id}-child-b")
    try:
        yield context.call_sub_orchestrator("Boom", None)
    except Exception as error:
        failed = str(error)
    return {"children": [first, second], "failedChild": failed}


@app.orchestration_trigger(context_name="context")
def Child(context: df.DurableOrchestrationContext) -> Any:
    name = context.get_input()
    greeting = yield context.call_activity("Greet", name)
    return {"greeting": greeting, "parent": context.parent_instance_id}


@app.activity_trigger(input_name="name")
def Greet(name: str) -> str:
    return f"Hello {name}!"


@app.orchestration_trigger(context_name="context")
def GreetsAtLength(context: df.DurableOrchestrationContext) -> Any:
    """Greets a name of ``length`` characters twice: activity inputs and results of that size."""
    name = "n" * context.get_input()
    first = yield context.call_activity("Greet", name)
    second = yield context.call_activity("Greet", name)
    return len(first) + len(second)


@app.orchestration_trigger(context_name="context")
def Counter(context: df.DurableOrchestrationContext) -> Any:
    """Continues as new until it has counted to 3, collecting "Add" events on the way."""
    state = context.get_input() or {"n": 0, "added": []}
    if state["n"] >= 3:
        return state
    context.set_custom_status({"n": state["n"]})
    added = yield context.wait_for_external_event("Add")
    state = {"n": state["n"] + 1, "added": [*state["added"], added]}
    context.continue_as_new(state)
    return None


@app.orchestration_trigger(context_name="context")
def Collector(context: df.DurableOrchestrationContext) -> Any:
    """Waits for ``count`` "Item" events, one wait after another, and returns them in order."""
    items = []
    for _ in range(context.get_input()):
        items.append((yield context.wait_for_external_event("Item")))
    return items


@app.orchestration_trigger(context_name="context")
def EarlyEvent(context: df.DurableOrchestrationContext) -> Any:
    """Waits on a timer first; the test raises "Go" before the timer fires."""
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=60))
    value = yield context.wait_for_external_event("Go")
    return {"go": value}


@app.orchestration_trigger(context_name="context")
def Race(context: df.DurableOrchestrationContext) -> Any:
    """Event against a 60 s timer; cancels the losing timer only when the input asks it to."""
    cancel = context.get_input()
    timer = context.create_timer(context.current_utc_datetime + timedelta(seconds=60))
    event = context.wait_for_external_event("Done")
    winner = yield context.task_any([event, timer])
    if winner == event and cancel:
        timer.cancel()
    return "event" if winner == event else "timer"


@app.orchestration_trigger(context_name="context")
def Boom(context: df.DurableOrchestrationContext) -> Any:
    context.set_custom_status("about to fail")
    raise ValueError("boom")
    yield  # pragma: no cover - makes this a generator


@app.orchestration_trigger(context_name="context")
def CallsEntity(context: df.DurableOrchestrationContext) -> Any:
    """Durable entities are not supported by devhost: the instance must fail saying so."""
    return (yield context.call_entity(df.EntityId("Counter", "one"), "add", 1))


@app.orchestration_trigger(context_name="context")
def SignalsEntity(context: df.DurableOrchestrationContext) -> Any:
    context.signal_entity(df.EntityId("Counter", "one"), "add", 1)
    return (yield context.call_activity("Double", 1))


@app.orchestration_trigger(context_name="context")
def CallsHttp(context: df.DurableOrchestrationContext) -> Any:
    """Durable HTTP calls are not supported by devhost either."""
    return (yield context.call_http("GET", "https://example.invalid/"))


@app.orchestration_trigger(context_name="context")
def CallsFailingActivity(context: df.DurableOrchestrationContext) -> Any:
    return (yield context.call_activity("AlwaysFails", "x"))


@app.orchestration_trigger(context_name="context")
def CallsMissing(context: df.DurableOrchestrationContext) -> Any:
    """A misspelled activity: on Azure nothing is scheduled and the instance waits forever."""
    return (yield context.call_activity("Dubble", 1))


@app.orchestration_trigger(context_name="context")
def CallsMissingChild(context: df.DurableOrchestrationContext) -> Any:
    return (yield context.call_sub_orchestrator("NoSuchOrchestrator", None))


@app.activity_trigger(input_name="value")
def AlwaysFails(value: str) -> str:
    raise KeyError(value)


@app.orchestration_trigger(context_name="context")
def Rewindable(context: df.DurableOrchestrationContext) -> Any:
    """Greets, reads the file the input names (failing while it is missing), greets again: the
    rewind tests create the file once the instance has failed, then rewind it."""
    path = context.get_input()
    before = yield context.call_activity("Greet", "before")
    middle = yield context.call_activity("ReadText", path)
    after = yield context.call_activity("Greet", "after")
    return [before, middle, after]


@app.orchestration_trigger(context_name="context")
def RewindableParent(context: df.DurableOrchestrationContext) -> Any:
    return (yield context.call_sub_orchestrator("Rewindable", context.get_input()))


@app.orchestration_trigger(context_name="context")
def RetriesReadText(context: df.DurableOrchestrationContext) -> Any:
    """Two attempts, a millisecond apart, at reading the file the input names."""
    retry = df.RetryOptions(first_retry_interval_in_milliseconds=1, max_number_of_attempts=2)
    return (yield context.call_activity_with_retry("ReadText", retry, context.get_input()))


@app.orchestration_trigger(context_name="context")
def WaitsAndReads(context: df.DurableOrchestrationContext) -> Any:
    """An hour's timer beside a read of the input's file: the read fails first, and the timer is
    still outstanding when the instance fails."""
    hour = context.create_timer(context.current_utc_datetime + timedelta(hours=1))
    read = context.call_activity("ReadText", context.get_input())
    results = yield context.task_all([hour, read])
    return results[1]


@app.activity_trigger(input_name="path")
def ReadText(path: str) -> str:
    with open(path, encoding="utf-8") as file:
        return file.read()


@app.orchestration_trigger(context_name="context")
def Gated(context: df.DurableOrchestrationContext) -> Any:
    """One activity that blocks until the file named by the input exists (stop/restart tests)."""
    return (yield context.call_activity("WaitAtGate", context.get_input()))


@app.activity_trigger(input_name="gate")
def WaitAtGate(gate: str) -> str:
    """Blocks the way a slow call to another service would, until ``gate`` exists."""
    print(f"WaitAtGate: waiting for {gate}", flush=True)
    while not os.path.exists(gate):
        time.sleep(0.02)
    return "opened"


@app.orchestration_trigger(context_name="context")
def SlowThenFast(context: df.DurableOrchestrationContext) -> Any:
    """A slow activity and a fast one at once (with one pool thread the fast one queues)."""
    return (
        yield context.task_all(
            [context.call_activity("Pause", 0.3), context.call_activity("Double", 1)]
        )
    )


@app.activity_trigger(input_name="seconds")
def Pause(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@app.orchestration_trigger(context_name="context")
def HugeStatus(context: df.DurableOrchestrationContext) -> Any:
    """Sets a status of ``size`` characters: the host fails it above 16,384 UTF-16 bytes."""
    size = context.get_input()
    context.set_custom_status("x" * size)
    yield context.call_activity("Double", 1)
    return "done"


@app.orchestration_trigger(context_name="context")
def Journal(context: df.DurableOrchestrationContext) -> Any:
    """``steps`` sequential activities, each recorded in a journal file (crash-recovery tests)."""
    steps = context.get_input()
    done = []
    for step in range(steps):
        done.append(
            (yield context.call_activity("Record", {"id": context.instance_id, "step": step}))
        )
    return done


@app.activity_trigger(input_name="entry")
def Record(entry: dict) -> int:
    """Append one line per run to $PATTERNS_JOURNAL, so a test can count how often each step ran."""
    with open(os.environ["PATTERNS_JOURNAL"], "a", encoding="utf-8") as journal:
        journal.write(f"{entry['id']} {entry['step']}\n")
    return entry["step"]
