"""Drive an orchestrator through the SDK's replay until it is done, answering its activities.

Builds on ``tests.replay``: each episode's new actions are recorded as TaskScheduled, then the
next episode delivers what ``answer(name, input)`` returns for each. Every episode's state is
kept, so tests can look at the custom status after each step. For the large-status offload,
:func:`fake_upload` answers ``UploadCustomStatus`` as the activity would (without storage).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from custom_status import (
    APPEND_ACTIVITY,
    UPLOAD_RETRY,
    LogReference,
    StatusReference,
    blob_name,
    new_log,
    utf16_size,
)
from custom_status.append_input import decode_rows
from custom_status.log_reference import after_append
from tests.replay import Handle, History, run_episode, run_failing_episode

UPLOAD = "UploadCustomStatus"


def _leaves(action: dict[str, Any]) -> list[dict[str, Any]]:
    if "compoundActions" in action:  # task_all / task_any, and *_with_retry (a WhenAll)
        return [leaf for child in action["compoundActions"] for leaf in _leaves(child)]
    return [action]


def flat_actions(state: dict[str, Any]) -> list[dict[str, Any]]:
    """Every leaf action the SDK listed so far (cumulative, grouped by episode, nested)."""
    return [leaf for group in state["actions"] for action in group for leaf in _leaves(action)]


def fake_upload(payload: dict[str, Any], container: str = "custom-status") -> dict[str, Any]:
    """What UploadCustomStatus returns for ``payload`` (same names and digests, no storage)."""
    data = payload["json"].encode("utf-8")
    digest = hashlib.sha256(data).hexdigest()
    return StatusReference(
        container=container,
        blob=blob_name(payload["instanceId"], digest),
        size=len(data),
        utf16_size=utf16_size(payload["json"]),
        sha256=digest,
        summary=payload.get("summary"),
    ).to_status()


@dataclass
class Run:
    """What happened: each episode's state, and each activity call (name, decoded input)."""

    states: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, Any]] = field(default_factory=list)

    @property
    def final(self) -> dict[str, Any]:
        return self.states[-1]

    def inputs_of(self, name: str) -> list[Any]:
        return [payload for called, payload in self.calls if called == name]


def drive(
    handle: Handle,
    history: History,
    answer: Callable[[str, Any], Any],
    *,
    max_episodes: int = 500,
) -> Run:
    """Run episodes until the orchestrator is done (or fails: the SDK raises then)."""
    run = Run()
    known = 0
    for _ in range(max_episodes):
        state = run_episode(handle, history)
        run.states.append(state)
        if state["isDone"]:
            return run
        actions = flat_actions(state)
        new = actions[known:]
        known = len(actions)
        scheduled = []
        for action in new:
            payload = json.loads(action["input"])
            task_id = history.task_scheduled(action["functionName"], payload)
            scheduled.append((task_id, action["functionName"], payload))
            run.calls.append((action["functionName"], payload))
        assert scheduled, f"the orchestrator waits on nothing this driver can answer: {state}"
        history.next_episode()
        for task_id, name, payload in scheduled:
            history.task_completed(task_id, answer(name, payload))
    raise AssertionError(f"not done after {max_episodes} episodes")


def appended_rows(payload: dict[str, Any]) -> list[Any]:
    """The rows an AppendCustomStatus input carries, as the activity reads them (rows that share
    their keys travel as columns and values: custom_status/append_input.py)."""
    return decode_rows(payload)


def answer_append(name: str, payload: dict[str, Any]) -> dict[str, Any]:
    """What AppendCustomStatus returns for ``payload`` (the same reference, no storage)."""
    assert name == APPEND_ACTIVITY
    if payload["log"] is None:
        ref = new_log(
            payload["instanceId"],
            payload["logId"],
            rows_key=payload["rowsKey"],
            container="custom-status",
        )
    else:
        ref = LogReference.from_status(payload["log"])
    return after_append(ref, appended_rows(payload), payload["summary"])[0].to_status()


def fail_every_append_attempt(
    handle: Handle,
    history: History,
    answer: Callable[[str, Any], Any] | None = None,
    *,
    after: int = 0,
) -> tuple[str, list[dict], dict]:
    """Fail an append on every attempt UPLOAD_RETRY allows, as DurableTask's retry records it:
    the failure, a timer at the backoff's delay, the next attempt (and after the last failure one
    more timer, then the error). The first ``after`` appends, and any other activity, are
    answered by ``answer``. Returns the instance's error, the state after each failed attempt but
    the last, and the state the failing episode reported."""
    state = run_episode(handle, history)
    known, appends = 0, 0
    while True:
        new = flat_actions(state)[known:]
        known += len(new)
        calls = [(action["functionName"], json.loads(action["input"])) for action in new]
        appending = [name for name, _ in calls if name == APPEND_ACTIVITY]
        if appending and appends + len(appending) > after:
            assert len(calls) == 1, calls
            break
        appends += len(appending)
        assert answer is not None and calls, f"no append scheduled: {state}"
        ids = [history.task_scheduled(name, payload) for name, payload in calls]
        history.next_episode()
        for task, (name, payload) in zip(ids, calls, strict=True):
            history.task_completed(task, answer(name, payload))
        state = run_episode(handle, history)
    states = []
    delays = UPLOAD_RETRY.delays_in_milliseconds()
    for attempt, delay in enumerate(delays, start=1):
        task = history.task_scheduled(APPEND_ACTIVITY)
        history.next_episode()
        history.task_failed(task, "Activity function 'AppendCustomStatus' failed: down")
        timer = history.timer_created(history.now + timedelta(milliseconds=delay))
        history.next_episode(delay / 1000)
        history.timer_fired(timer)
        if attempt < len(delays):
            states.append(run_episode(handle, history))
    error, failed = run_failing_episode(handle, history)
    return error, states, failed
