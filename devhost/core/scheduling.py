"""Scheduling what an answer of the SDK asks for, and what a result or a retry starts next.

Sequence numbers follow DurableTask.Core, which the SDK mirrors: each scheduled activity, timer or
sub-orchestration takes the next number in the order the orchestrator scheduled it, and a
``*_with_retry`` call takes one number for the retry timer after each failure and one for each new
attempt, at the moment the SDK processes that failure or timer (so ``batch.py`` delivers a
retry-related event only first in its episode). A call the extension would refuse (a function
that does not exist, a sub-orchestration with its parent's id) is scheduled as the extension
schedules it: not at all. After a rewind, an action whose number the history already holds is
matched instead of scheduled again (``rewind.py`` checks the matches). Pure, like ``episode.py``,
which calls these functions and records everything in the :class:`Outcome`.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

from devhost.core.errors import InvalidInstanceId
from devhost.core.instance_ids import validate_instance_id
from devhost.core.outcome import EpisodeContext, Message, NewActivity, NewChild, NewTimer, Outcome
from devhost.core.records import OrchestrationState, PendingTask, RetryState, TaskKind
from devhost.protocol.actions import ActionType, Leaf
from devhost.protocol.events import (
    sub_orchestration_created,
    sub_orchestration_failed,
    task_scheduled,
    timer_created,
)
from devhost.protocol.history import (
    COMPLETION_KEYS,
    FAILURE_EVENTS,
    EventType,
    format_timestamp,
    parse_timestamp,
)

_WITH_RETRY = {ActionType.CALL_ACTIVITY_WITH_RETRY, ActionType.CALL_SUB_ORCHESTRATOR_WITH_RETRY}
_ACTIVITY_CALLS = {ActionType.CALL_ACTIVITY, ActionType.CALL_ACTIVITY_WITH_RETRY}


def missing_function_message(name: str, kind: str) -> str:
    """The extension's words (``ThrowIfFunctionDoesNotExist``) for a call to an unknown function."""
    return f"The function '{name}' doesn't exist, is disabled, or is not an {kind} function."


def settle(ctx: EpisodeContext, outcome: Outcome, event: dict[str, Any]) -> None:
    """Retire the task an event completes; a failed or retried ``*_with_retry`` call goes on."""
    kind = EventType(event["EventType"])
    key_name = COMPLETION_KEYS.get(kind)
    if key_name is None:
        return
    pending = outcome.state.pending
    task = pending.pop(int(event[key_name]), None)
    if task is None or task.retry is None:
        return
    retry = task.retry
    if kind in FAILURE_EVENTS:
        # DurableTask's RetryInterceptor waits before every retry, and once more after the last
        # attempt before giving up; the SDK numbers that timer now.
        seq = outcome.state.take_seq()
        fire_at = parse_timestamp(ctx.now) + timedelta(milliseconds=retry.delay_ms())
        _timer(ctx, outcome, seq, format_timestamp(fire_at), fires=True)
        pending[seq] = PendingTask(
            kind="retry_timer",
            name=task.name,
            input=task.input,
            child_id=task.child_id,
            retry=retry,
            retry_kind=task.retry_kind,
        )
    elif kind == EventType.TIMER_FIRED and task.kind == "retry_timer":
        if retry.attempt >= retry.max:
            return
        seq = outcome.state.take_seq()
        assert task.retry_kind is not None and task.name is not None
        pending[seq] = PendingTask(
            kind=task.retry_kind,
            name=task.name,
            input=task.input,
            child_id=task.child_id,
            retry=replace(retry, attempt=retry.attempt + 1),
            retry_kind=task.retry_kind,
        )
        if task.retry_kind == "activity":
            _activity(ctx, outcome, seq, task.name, task.input)
        else:
            _child(ctx, outcome, seq, task.name, task.input, task.child_id)


def schedule(
    ctx: EpisodeContext,
    outcome: Outcome,
    leaf: Leaf,
    replay: dict[int, TaskKind] | None = None,
    matched: dict[int, TaskKind] | None = None,
) -> None:
    """Give a new action its sequence number and schedule it; after a rewind (``replay``), an
    action whose number the history already schedules is only matched (into ``matched``)."""
    action = leaf.action
    kind = leaf.kind
    if kind == ActionType.WAIT_FOR_EXTERNAL_EVENT:
        return  # events are delivered by name; they take no sequence number
    state = outcome.state
    if kind != ActionType.CREATE_TIMER:
        problem = _unschedulable(ctx, kind, action)
        if problem is not None:
            outcome.problems.append(problem)
            return  # nothing scheduled, no sequence number taken: the task never completes
    seq = state.take_seq()
    if replay is not None and matched is not None and seq in replay:
        matched[seq] = _task_kind(kind)
        _rematch(state, seq, leaf)
        return
    if kind == ActionType.CREATE_TIMER:
        fire_at = format_timestamp(parse_timestamp(action["fireAt"]))
        cancelled = bool(action.get("isCanceled"))
        _timer(ctx, outcome, seq, fire_at, fires=not cancelled)
        if not cancelled:
            state.pending[seq] = PendingTask(kind="timer", path=list(leaf.path))
        return
    retry = _retry_state(action) if kind in _WITH_RETRY else None
    name = action["functionName"]
    input_text = action.get("input")
    if kind in _ACTIVITY_CALLS:
        state.pending[seq] = PendingTask(
            kind="activity", name=name, input=input_text, retry=retry, retry_kind="activity"
        )
        _activity(ctx, outcome, seq, name, input_text)
    else:
        child_id = action.get("instanceId")
        state.pending[seq] = PendingTask(
            kind="sub_orchestration",
            name=name,
            input=input_text,
            child_id=child_id,
            retry=retry,
            retry_kind="sub_orchestration",
        )
        _child(ctx, outcome, seq, name, input_text, child_id)


def _task_kind(kind: ActionType) -> TaskKind:
    if kind == ActionType.CREATE_TIMER:
        return "timer"
    return "activity" if kind in _ACTIVITY_CALLS else "sub_orchestration"


def _rematch(state: OrchestrationState, seq: int, leaf: Leaf) -> None:
    """An outstanding task rebuilt from a rewound history learns what only its action says: a
    timer's place (for ``isCanceled``), a call's retry options."""
    task = state.pending.get(seq)
    if task is None:
        return
    if task.kind == "timer":
        state.pending[seq] = replace(task, path=list(leaf.path))
    elif leaf.kind in _WITH_RETRY:
        state.pending[seq] = replace(task, retry=_retry_state(leaf.action), retry_kind=task.kind)


def _retry_state(action: dict[str, Any]) -> RetryState:
    """The call's ``retryOptions`` as the extension reads them (``RetryOptionsConverter``): the
    SDK sends the first interval and the attempts; ``backoffCoefficient`` (default 1) and
    ``maxRetryIntervalInMilliseconds`` (default unbounded) when the app sets them."""
    options = action.get("retryOptions") or {}
    cap = options.get("maxRetryIntervalInMilliseconds")
    return RetryState(
        max=int(options.get("maxNumberOfAttempts", 1)),
        interval_ms=int(options.get("firstRetryIntervalInMilliseconds", 1000)),
        backoff=float(options.get("backoffCoefficient", 1.0)),
        max_interval_ms=int(cap) if cap is not None else None,
    )


def _unschedulable(ctx: EpisodeContext, kind: ActionType, action: dict[str, Any]) -> str | None:
    """Why the extension would schedule nothing for this call, or None.

    The extension checks the name (``ThrowIfFunctionDoesNotExist``) and a sub-orchestration's id
    (not the parent's own) inside ``CallDurableTaskFunctionAsync``, an ``async`` method, so the
    ``ArgumentException`` lands in the returned task, which the out-of-proc shim awaits and
    silently ignores (``ProcessAsyncActionsV2``): nothing is scheduled, no history is written, and
    the instance waits forever. devhost reproduces that and reports it."""
    name = action.get("functionName") or ""
    if kind in _ACTIVITY_CALLS:
        if name in ctx.activities:
            return None
        known = ", ".join(sorted(ctx.activities)) or "none"
        return f"{missing_function_message(name, 'activity')} Known activities: {known}."
    if name not in ctx.orchestrators:
        known = ", ".join(sorted(ctx.orchestrators)) or "none"
        return f"{missing_function_message(name, 'orchestrator')} Known orchestrators: {known}."
    child_id = action.get("instanceId")
    parent_id = ctx.parent.instance_id if ctx.parent else None
    if child_id is not None and child_id.lower() in (
        ctx.instance_id.lower(),
        (parent_id or "").lower(),
    ):
        return (
            "The instance ID of a sub-orchestration must be different than the instance ID of a "
            f"parent orchestration ('{child_id}')."
        )
    return None


def _timer(ctx: EpisodeContext, outcome: Outcome, seq: int, fire_at: str, fires: bool) -> None:
    """Record TimerCreated; unless the timer is already cancelled, queue its TimerFired."""
    outcome.events.append(timer_created(seq, fire_at, ctx.now))
    if fires:
        outcome.timers.append(NewTimer(seq, fire_at))


def _activity(
    ctx: EpisodeContext, outcome: Outcome, seq: int, name: str, input_text: str | None
) -> None:
    outcome.events.append(task_scheduled(seq, name, input_text, ctx.now))
    outcome.activities.append(NewActivity(seq, name, input_text))


def _child(
    ctx: EpisodeContext,
    outcome: Outcome,
    seq: int,
    name: str,
    input_text: str | None,
    child_id: str | None,
) -> None:
    # DurableTask.Core's default: the parent's execution id and the task's sequence number.
    child_id = child_id or f"{ctx.execution_id}:{seq}"
    outcome.events.append(sub_orchestration_created(seq, name, child_id, input_text, ctx.now))
    try:
        validate_instance_id(child_id)
    except InvalidInstanceId as error:
        outcome.messages.append(child_failed(ctx, seq, str(error)))
        return
    # The SDK sends the input as JSON text, and the extension stores that text as a JSON string,
    # which get_input() decodes once more: the same double encoding as start_new.
    child_input = json.dumps(input_text) if input_text is not None else None
    outcome.children.append(NewChild(seq, name, child_id, child_input))


def child_failed(ctx: EpisodeContext, seq: int, reason: str) -> Message:
    """The parent's message for a sub-orchestration that could not be started."""
    failed = sub_orchestration_failed(seq, reason, None, ctx.now)
    return Message(ctx.instance_id, ctx.execution_id, failed)
