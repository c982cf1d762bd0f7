"""The wiring of custom_status/README.md, driven through the SDK's real replay.

Shows why falsy statuses are wrapped (the SDK drops them, so the host would keep a stale status)
and that the README's orchestrator helper offloads through an activity deterministically.
"""

import json

import azure.durable_functions as df

from custom_status import (
    StatusReference,
    fits_inline,
    serialize,
    unwrap,
    wrap_falsy,
)
from custom_status.reference import from_status
from tests.replay import History, run_episode

BIG = {"rows": ["Zürich 東京 😀"] * 2000}
SHA = "1" * 64
REF = StatusReference("custom-status", f"status/test-instance~x/{SHA}.json", 1, 2, SHA, summary="s")


def set_custom_status(context, value, summary=None):
    """A helper of this shape: inline when it fits, else an upload activity (the package's,
    simplified)."""
    if fits_inline(value):
        context.set_custom_status(wrap_falsy(value))
        return
    previous = StatusReference.from_status(context.custom_status)
    reference = yield context.call_activity(
        "UploadCustomStatus",
        {
            "instanceId": context.instance_id,
            "json": serialize(value),
            "summary": summary,
            "previousBlob": previous.blob if previous else None,
        },
    )
    context.set_custom_status(reference)


def actions(state):
    return [action for group in state["actions"] for action in group]


def step_then(set_second):
    """An orchestrator that sets "step 1", runs an activity, then sets a second status."""

    def orchestrator(context):
        context.set_custom_status("step 1")
        yield context.call_activity("Work")
        set_second(context)
        yield context.call_activity("Work")

    return df.Orchestrator.create(orchestrator)


def second_episode(handle):
    history = History("o")
    run_episode(handle, history)
    task = history.task_scheduled("Work")
    history.next_episode()
    history.task_completed(task, None)
    return run_episode(handle, history)


def test_sdk_drops_a_falsy_status_so_the_host_would_keep_the_stale_one():
    state = second_episode(step_then(lambda context: context.set_custom_status(0)))
    assert "customStatus" not in state  # the host keeps "step 1"


def test_wrapped_falsy_status_reaches_the_host_and_unwraps_exactly():
    state = second_episode(step_then(lambda context: context.set_custom_status(wrap_falsy(0))))
    assert state["customStatus"] == {"$customStatusValue": 0}
    assert unwrap(state["customStatus"]) == 0


def test_readme_helper_offloads_through_an_activity():
    def orchestrator(context):
        yield from set_custom_status(context, "small")
        yield from set_custom_status(context, BIG, summary="s")
        yield from set_custom_status(context, {**BIG, "v": 2})
        return "done"

    handle = df.Orchestrator.create(orchestrator)
    history = History("o")

    state = run_episode(handle, history)
    assert state["customStatus"] == "small"
    (upload,) = actions(state)
    assert upload["functionName"] == "UploadCustomStatus"
    payload = json.loads(upload["input"])  # the SDK sends activity input as JSON text
    assert payload == {
        "instanceId": "test-instance",
        "json": serialize(BIG),
        "summary": "s",
        "previousBlob": None,
    }

    task = history.task_scheduled("UploadCustomStatus")
    history.next_episode()
    history.task_completed(task, REF.to_status())
    state = run_episode(handle, history)
    assert from_status(state["customStatus"]) == REF
    _, second_upload = actions(state)  # the SDK lists every action so far
    assert json.loads(second_upload["input"])["previousBlob"] == REF.blob
