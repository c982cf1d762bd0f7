"""The dashboard API tests' app: orchestrators whose custom status, history and timers the
dashboard must show exactly.

``Cities`` moves its status Tokyo -> Seattle -> London (setting London twice: one change only),
``Steps`` sets N statuses, ``Looper`` continues as new with a status in each execution,
``Gate`` waits for an event with a status before and after, ``Sleeper`` waits on a 60 s timer,
``Retries`` calls an activity that fails twice before it succeeds, ``Family`` calls a
sub-orchestration, ``Labelled`` only sets the status its input names (the list tests start
hundreds of it), and ``CallsMissing`` calls an activity that does not exist.
"""

import collections
import threading
from datetime import timedelta
from typing import Any

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.orchestration_trigger(context_name="context")
def Cities(context: df.DurableOrchestrationContext) -> Any:
    greetings = []
    for city in ("Tokyo", "Seattle", "London"):
        context.set_custom_status({"city": city})
        greetings.append((yield context.call_activity("Hello", city)))
    context.set_custom_status({"city": "London"})  # the same status again: no new change
    yield context.call_activity("Hello", "again")
    return greetings


@app.activity_trigger(input_name="city")
def Hello(city: str) -> str:
    return f"Hello {city}!"


@app.orchestration_trigger(context_name="context")
def Steps(context: df.DurableOrchestrationContext) -> Any:
    count = context.get_input()
    for step in range(count):
        context.set_custom_status({"step": step})
        yield context.call_activity("Hello", str(step))
    return count


@app.orchestration_trigger(context_name="context")
def Looper(context: df.DurableOrchestrationContext) -> Any:
    round_number = context.get_input() or 0
    context.set_custom_status({"round": round_number})
    yield context.call_activity("Hello", str(round_number))
    if round_number < 2:
        context.continue_as_new(round_number + 1)
        return None
    return "looped"


@app.orchestration_trigger(context_name="context")
def Gate(context: df.DurableOrchestrationContext) -> Any:
    context.set_custom_status("waiting")
    value = yield context.wait_for_external_event("Go")
    context.set_custom_status("opened")
    return value


@app.orchestration_trigger(context_name="context")
def Sleeper(context: df.DurableOrchestrationContext) -> Any:
    context.set_custom_status("asleep")
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=60))
    context.set_custom_status("awake")
    return "rested"


_ATTEMPTS: collections.Counter[str] = collections.Counter()
_LOCK = threading.Lock()


@app.orchestration_trigger(context_name="context")
def Retries(context: df.DurableOrchestrationContext) -> Any:
    options = df.RetryOptions(first_retry_interval_in_milliseconds=1000, max_number_of_attempts=3)
    first = yield context.call_activity("Hello", "before")
    flaky = yield context.call_activity_with_retry("FailsTwice", options, context.instance_id)
    return [first, flaky]


@app.activity_trigger(input_name="key")
def FailsTwice(key: str) -> str:
    with _LOCK:
        _ATTEMPTS[key] += 1
        attempt = _ATTEMPTS[key]
    if attempt <= 2:
        raise RuntimeError(f"attempt {attempt} failed")
    return f"succeeded on attempt {attempt}"


@app.orchestration_trigger(context_name="context")
def Family(context: df.DurableOrchestrationContext) -> Any:
    child = yield context.call_sub_orchestrator("Cities", None, f"{context.instance_id}-child")
    return {"child": child}


@app.orchestration_trigger(context_name="context")
def Labelled(context: df.DurableOrchestrationContext) -> Any:
    label = context.get_input()
    if label is not None:
        context.set_custom_status(label)
    return label
    yield  # pragma: no cover - makes this a generator


@app.orchestration_trigger(context_name="context")
def CallsMissing(context: df.DurableOrchestrationContext) -> Any:
    """A misspelled activity: Azure schedules nothing and the instance waits forever."""
    return (yield context.call_activity("Helo", "typo"))
