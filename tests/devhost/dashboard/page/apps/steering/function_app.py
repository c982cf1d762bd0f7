"""A small app for the dashboard's browser tests: orchestrations that end in every runtime status
at once, fail until a file exists (to be rewound), sleep on durable timers (to be skipped with the
manual clock), call a sub-orchestration and retry an activity (for the history's columns), and
call an activity that does not exist.

It needs no storage account, so its devhost starts in a second and a test can have one to itself
(the filter test counts every instance in the task hub).
"""

import os
from datetime import timedelta
from typing import Any

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


def _input(context: df.DurableOrchestrationContext) -> Any:
    """The input as sent: the dashboard and the tests start instances through the built-in
    webhook with plain JSON, which the SDK's ``get_input()`` cannot decode (it expects the JSON
    text its own client double-encodes: see orchestrators/payloads.py in the app)."""
    try:
        return context.get_input()
    except (TypeError, ValueError):
        return getattr(context, "_input", None)


@app.orchestration_trigger(context_name="context")
def Tagged(context: df.DurableOrchestrationContext) -> Any:
    """Sets its input as the custom status and completes at once."""
    context.set_custom_status(_input(context))
    return "tagged"
    yield  # pragma: no cover - makes this a generator


@app.orchestration_trigger(context_name="context")
def Parked(context: df.DurableOrchestrationContext) -> Any:
    """Sets its input as the custom status and waits for a "Go" event: Running until then."""
    context.set_custom_status(_input(context))
    go = yield context.wait_for_external_event("Go")
    context.set_custom_status({"went": go})
    return {"went": go}


@app.orchestration_trigger(context_name="context")
def Failing(context: df.DurableOrchestrationContext) -> Any:
    """Sets its input as the custom status and fails."""
    context.set_custom_status(_input(context))
    raise ValueError("failing on purpose")
    yield  # pragma: no cover - makes this a generator


@app.orchestration_trigger(context_name="context")
def Rewindable(context: df.DurableOrchestrationContext) -> Any:
    """Greets, reads the file the input names (failing while it is missing), greets again: the
    test creates the file once the instance has failed and rewinds it from the dashboard."""
    path = _input(context)
    context.set_custom_status("greeting")
    before = yield context.call_activity("Greet", "before")
    context.set_custom_status("reading")
    middle = yield context.call_activity("ReadText", path)
    context.set_custom_status("greeting again")
    after = yield context.call_activity("Greet", "after")
    context.set_custom_status("done")
    return [before, middle, after]


@app.orchestration_trigger(context_name="context")
def Sleeper(context: df.DurableOrchestrationContext) -> Any:
    """Two naps of ``input`` seconds on durable timers, the status saying which."""
    seconds = _input(context)
    context.set_custom_status("first nap")
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=seconds))
    context.set_custom_status("second nap")
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=seconds))
    context.set_custom_status("awake")
    return "awake"


@app.orchestration_trigger(context_name="context")
def Showcase(context: df.DurableOrchestrationContext) -> Any:
    """One of each history row the dashboard formats: an activity (its duration), a timer (its fire
    time), a sub-orchestration (linked) and an activity that fails once and is retried (attempts).
    Input: a path that must not exist yet (FailsOnce creates it on its first attempt)."""
    path = _input(context)
    greeting = yield context.call_activity("Greet", "showcase")
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=30))
    child = yield context.call_sub_orchestrator("Child", "c", f"{context.instance_id}-child")
    retry = df.RetryOptions(first_retry_interval_in_milliseconds=1000, max_number_of_attempts=3)
    lucky = yield context.call_activity_with_retry("FailsOnce", retry, path)
    return {"greeting": greeting, "child": child, "lucky": lucky}


@app.orchestration_trigger(context_name="context")
def Misspelled(context: df.DurableOrchestrationContext) -> Any:
    """Calls an activity that does not exist: Azure schedules nothing and the instance waits
    forever; devhost says why (``devhostProblems``)."""
    return (yield context.call_activity("Greeet", "typo"))


@app.orchestration_trigger(context_name="context")
def Child(context: df.DurableOrchestrationContext) -> Any:
    greeting = yield context.call_activity("Greet", _input(context))
    return greeting


@app.activity_trigger(input_name="name")
def Greet(name: str) -> str:
    return f"Hello {name}!"


@app.activity_trigger(input_name="path")
def ReadText(path: str) -> str:
    with open(path, encoding="utf-8") as file:
        return file.read()


@app.activity_trigger(input_name="path")
def FailsOnce(path: str) -> str:
    """Fails the first time (leaving the file behind), succeeds every time after."""
    if not os.path.exists(path):
        with open(path, "w", encoding="utf-8") as file:
            file.write("tried once")
        raise RuntimeError("first attempt fails on purpose")
    return "second time lucky"
