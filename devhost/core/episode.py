"""The pure core of an episode: what one answer of the SDK means for an instance.

Given the instance's bookkeeping, the new events the episode delivered and the SDK's answer, decide
what the extension and DurableTask.Core would do, and return it as an :class:`Outcome`: history
events to append, activities, timers and sub-orchestrations to start, timers to cancel, messages
to other instances, the custom status, and how the instance ends or continues as new. No store, no
clock, no event loop: the dispatcher applies the outcome in one transaction (``store.py``), and
tests call these functions with history fixtures.

Sequence numbers follow DurableTask.Core, which the SDK mirrors: each scheduled activity, timer or
sub-orchestration takes the next number in the order the orchestrator scheduled it, and a
``*_with_retry`` call takes one number for the retry timer after each failure and one for each new
attempt, at the moment the SDK processes that failure or timer. To keep that order unambiguous, an
episode delivers at most one retry-related event, and only as its first new event.
"""

from __future__ import annotations

import collections
import json
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from devhost.core.errors import InvalidInstanceId
from devhost.core.instance_ids import validate_instance_id
from devhost.core.outcome import (
    Ending,
    EpisodeContext,
    Message,
    NewActivity,
    NewChild,
    NewTimer,
    Outcome,
    Restart,
)
from devhost.core.records import InboxRow, OrchestrationState, PendingTask, RetryState, TaskKind
from devhost.core.rewind import replay_mismatch
from devhost.protocol.actions import UNSUPPORTED, ActionType, Leaf, action_at, new_leaves, top_level
from devhost.protocol.history import (
    COMPLETION_KEYS,
    FAILURE_EVENTS,
    EventType,
    format_timestamp,
    make_event,
    parse_timestamp,
)
from devhost.protocol.runtime_status import RuntimeStatus

MAX_CUSTOM_STATUS_BYTES = 16_384

_WITH_RETRY = {ActionType.CALL_ACTIVITY_WITH_RETRY, ActionType.CALL_SUB_ORCHESTRATOR_WITH_RETRY}
_ACTIVITY_CALLS = {ActionType.CALL_ACTIVITY, ActionType.CALL_ACTIVITY_WITH_RETRY}
# Json.NET, which re-serialises the status on the host, also escapes these three.
_JSON_NET_ESCAPES = str.maketrans({"\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def compact(value: Any) -> str:
    """JSON text as devhost stores values: compact, non-ASCII kept."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def missing_function_message(name: str, kind: str) -> str:
    return f"The function '{name}' doesn't exist, is disabled, or is not an {kind} function."


# -- which messages an episode takes -------------------------------------------------------------


@dataclass
class Batch:
    """The messages one episode delivers, those it discards, and whether any are left over."""

    messages: list[InboxRow]
    stale: list[int]
    more: bool

    @property
    def events(self) -> list[dict[str, Any]]:
        return [message.event for message in self.messages]


def select_batch(state: OrchestrationState, execution_id: str, messages: list[InboxRow]) -> Batch:
    """Like the extension, an episode takes every pending message of the instance (all raised
    events at once), except that a retry-related event must come first in its episode: the batch
    stops before a second one (``more``). Results of an earlier execution, or of tasks no longer
    pending (a cancelled timer), are stale."""
    batch: list[InboxRow] = []
    stale: list[int] = []
    for message in messages:
        if message.execution_id and message.execution_id != execution_id:
            stale.append(message.id)
            continue
        kind = message.event["EventType"]
        key_name = COMPLETION_KEYS.get(kind)
        if key_name is not None:
            task = state.pending.get(int(message.event.get(key_name, -1)))
            if task is None:
                stale.append(message.id)
                continue
            retry_related = task.retry is not None and (
                kind in FAILURE_EVENTS or task.kind == "retry_timer"
            )
            if retry_related and batch:
                return Batch(batch, stale, more=True)
        batch.append(message)
    return Batch(batch, stale, more=False)


# -- what an episode decides ---------------------------------------------------------------------


def decide(
    ctx: EpisodeContext,
    state: OrchestrationState,
    new_events: list[dict[str, Any]],
    answer: dict[str, Any] | None,
    error: str | None,
) -> Outcome:
    """The outcome of an episode that delivered ``new_events`` (``OrchestratorStarted`` first)
    and got ``answer`` from the SDK, or ``error`` when the orchestrator failed (``answer`` may
    then still hold the state the SDK reported with the failure)."""
    outcome = Outcome(state=state.copy(), runtime_status=RuntimeStatus.RUNNING)
    outcome.events.extend(new_events)
    failure = error
    if answer is not None:
        failure = _apply_custom_status(outcome, answer) or failure
    if failure is not None:
        _end(ctx, outcome, _failed(ctx, failure))
    else:
        assert answer is not None
        _apply_answer(ctx, outcome, answer, new_events)
    if outcome.ending is None and outcome.restart is None:
        outcome.events.append(make_event(EventType.ORCHESTRATOR_COMPLETED, ctx.now))
    return outcome


def ending(
    ctx: EpisodeContext,
    state: OrchestrationState,
    status: RuntimeStatus,
    output: str,
    reason: str | None = None,
    first_event: dict[str, Any] | None = None,
) -> Outcome:
    """An instance ended from outside an episode (terminated, or failed by devhost itself)."""
    outcome = Outcome(state=state.copy(), runtime_status=status)
    if first_event is not None:
        outcome.events.append(first_event)
    _end(ctx, outcome, Ending(status, output, reason))
    return outcome


# OutOfProcOrchestrationShim's Details end with the .NET stack of the host's invocation exception,
# which devhost has none of; this stands in for it.
HOST_STACK_STAND_IN = "   at devhost (the Functions host's .NET stack is not reproduced)"


def _failed(ctx: EpisodeContext, error: str) -> Ending:
    """``OutOfProcOrchestrationShim.ScheduleDurableTaskEvents``' ``OrchestrationFailureException``:
    its reason is the output and a parent's ``Reason``; its details the parent's ``Details``."""
    message = f"Orchestrator function '{ctx.name}' failed: {error}"
    details = f"Message: {error}, StackTrace: {HOST_STACK_STAND_IN}"
    return Ending(RuntimeStatus.FAILED, compact(message), message, details)


def _apply_custom_status(outcome: Outcome, answer: dict[str, Any]) -> str | None:
    """Set the custom status as the shim does (only when sent); the failure text when it is over
    the host's 16 KB limit (UTF-16 bytes of the compact JSON, as ``Encoding.Unicode`` counts)."""
    if answer.get("customStatus") is None:
        return None
    text = compact(answer["customStatus"])
    size = len(text.translate(_JSON_NET_ESCAPES).encode("utf-16-le", "surrogatepass"))
    if size > MAX_CUSTOM_STATUS_BYTES:
        # The extension's message (MessagePayloadDataConverter), with the exact bytes added:
        # it rounds down to whole KB, which would say "16 KB" for a payload that is too large.
        return (
            "The UTF-16 size of the JSON-serialized payload must not exceed 16 KB. The current "
            f"payload size is {size // 1024:,} KB ({size:,} bytes; more than "
            f"{MAX_CUSTOM_STATUS_BYTES:,} bytes is refused, as current hosts do)."
        )
    outcome.custom_status = text
    outcome.custom_status_set = True
    return None


def _apply_answer(
    ctx: EpisodeContext,
    outcome: Outcome,
    answer: dict[str, Any],
    new_events: list[dict[str, Any]],
) -> None:
    state = outcome.state
    actions = top_level(answer)

    # Timers the orchestrator has cancelled since (e.g. the loser of a task_any race).
    for seq, task in list(state.pending.items()):
        if (
            task.kind == "timer"
            and task.path is not None
            and task.path[0] < len(actions)
            and action_at(actions, task.path).get("isCanceled")
        ):
            del state.pending[seq]
            outcome.cancelled_timers.append(seq)

    for event in new_events:
        _settle(ctx, outcome, event)

    # After a rewind every action is replayed against the history, as DurableTask.Core does.
    replay = state.replay
    state.replay = None
    matched: dict[int, TaskKind] = {}
    leaves = new_leaves(actions, 0 if replay is not None else state.known_top)
    state.known_top = len(actions)
    restart: dict[str, Any] | None = None
    for leaf in leaves:
        if leaf.kind in UNSUPPORTED:
            _fail_before_scheduling(
                ctx,
                outcome,
                f"{UNSUPPORTED[leaf.kind]} are not supported by devhost (action "
                f"{leaf.kind.name}); run this app on the Functions host.",
            )
            return
        if leaf.kind == ActionType.CONTINUE_AS_NEW:
            restart = leaf.action
            continue
        _schedule(ctx, outcome, leaf, replay, matched)
    if replay is not None:
        mismatch = replay_mismatch(replay, matched)
        if mismatch is not None:
            _fail_before_scheduling(ctx, outcome, mismatch)
            return

    if not answer.get("isDone"):
        return
    if restart is not None:
        input_text = restart.get("input")
        outcome.restart = Restart(
            input=json.dumps(input_text) if input_text is not None else None,
            waits=_waits(actions),
            delivered=new_events,
        )
        outcome.events.clear()  # the new execution starts with an empty history
        return
    if any(task.kind == "timer" for task in state.pending.values()):
        # DurableTask keeps an instance Running until every timer it created has fired or been
        # cancelled; the orchestrator returns again when the timer fires.
        return
    _end(ctx, outcome, Ending(RuntimeStatus.COMPLETED, compact(answer.get("output"))))


def _fail_before_scheduling(ctx: EpisodeContext, outcome: Outcome, reason: str) -> None:
    """Fail the instance before anything else this answer asked for is started."""
    outcome.activities.clear()
    outcome.timers.clear()
    outcome.children.clear()
    _end(ctx, outcome, _failed(ctx, reason))


def _waits(actions: list[dict[str, Any]]) -> collections.Counter[str]:
    return collections.Counter(
        leaf.action.get("externalEventName") or ""
        for leaf in new_leaves(actions, 0)
        if leaf.kind == ActionType.WAIT_FOR_EXTERNAL_EVENT
    )


def unconsumed_events(events: list[dict[str, Any]], waits: collections.Counter[str]) -> list[str]:
    """Names of raised events delivered to an execution but never waited for (the SDK hands each
    wait the oldest event of its name, so the unconsumed ones are the latest of each)."""
    delivered = collections.Counter(
        event.get("Name") or "" for event in events if event["EventType"] == EventType.EVENT_RAISED
    )
    return sorted((delivered - waits).elements())


def _settle(ctx: EpisodeContext, outcome: Outcome, event: dict[str, Any]) -> None:
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


def _schedule(
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
    outcome.events.append(make_event(EventType.TIMER_CREATED, ctx.now, seq, FireAt=fire_at))
    if fires:
        outcome.timers.append(NewTimer(seq, fire_at))


def _activity(
    ctx: EpisodeContext, outcome: Outcome, seq: int, name: str, input_text: str | None
) -> None:
    outcome.events.append(
        make_event(EventType.TASK_SCHEDULED, ctx.now, seq, Name=name, Input=input_text)
    )
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
    outcome.events.append(
        make_event(
            EventType.SUB_ORCHESTRATION_INSTANCE_CREATED,
            ctx.now,
            seq,
            Name=name,
            InstanceId=child_id,
            Input=input_text,
        )
    )
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
    failed = make_event(
        EventType.SUB_ORCHESTRATION_INSTANCE_FAILED,
        ctx.now,
        TaskScheduledId=seq,
        Reason=reason,
        Details=None,
    )
    return Message(ctx.instance_id, ctx.execution_id, failed)


def _end(ctx: EpisodeContext, outcome: Outcome, end: Ending) -> None:
    """End the instance: ExecutionCompleted, no outstanding tasks, and a parent told."""
    outcome.events.append(
        make_event(
            EventType.EXECUTION_COMPLETED,
            ctx.now,
            OrchestrationStatus=str(end.status),
            Result=end.output,
        )
    )
    outcome.ending = end
    outcome.runtime_status = end.status
    outcome.state.pending.clear()
    parent = ctx.parent
    if parent is None:
        return
    if end.status == RuntimeStatus.COMPLETED:
        event = make_event(
            EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED,
            ctx.now,
            TaskScheduledId=parent.task_id,
            Result=end.output,
        )
    else:
        event = make_event(
            EventType.SUB_ORCHESTRATION_INSTANCE_FAILED,
            ctx.now,
            TaskScheduledId=parent.task_id,
            Reason=end.reason or str(end.status),
            Details=end.details,
        )
    outcome.messages.append(Message(parent.instance_id, parent.execution_id, event))
