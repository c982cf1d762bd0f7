"""The pure core of an episode: what one answer of the SDK means for an instance.

Given the instance's bookkeeping, the new events the episode delivered (``batch.py`` chose them)
and the SDK's answer, decide what the extension and DurableTask.Core would do, and return it as an
:class:`Outcome`: history events to append, activities, timers and sub-orchestrations to start,
timers to cancel, messages to other instances, the custom status, and how the instance ends or
continues as new. Giving new actions their sequence numbers, and retries their timers, is
``scheduling.py``'s part. No store, no clock, no event loop: the dispatcher applies the outcome in
one transaction (``store.py``), and tests call these functions with history fixtures.
"""

from __future__ import annotations

import collections
import json
from typing import Any

from devhost.core.outcome import Ending, EpisodeContext, Message, Outcome, Restart
from devhost.core.records import OrchestrationState, TaskKind
from devhost.core.rewind import replay_mismatch
from devhost.core.scheduling import schedule, settle
from devhost.protocol.actions import UNSUPPORTED, ActionType, action_at, new_leaves, top_level
from devhost.protocol.events import (
    execution_completed,
    execution_resumed,
    execution_suspended,
    orchestrator_completed,
    sub_orchestration_completed,
    sub_orchestration_failed,
)
from devhost.protocol.history import EventType
from devhost.protocol.runtime_status import RuntimeStatus

MAX_CUSTOM_STATUS_BYTES = 16_384

# Json.NET, which re-serialises the status on the host, also escapes these three.
_JSON_NET_ESCAPES = str.maketrans({"\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def compact(value: Any) -> str:
    """JSON text as devhost stores values: compact, non-ASCII kept."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


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
    if outcome.state.episodes is not None:
        outcome.state.episodes += 1
    failure = error
    if answer is not None:
        failure = _apply_custom_status(outcome, answer) or failure
    if failure is not None:
        _end(ctx, outcome, _failed(ctx, failure))
    else:
        assert answer is not None
        _apply_answer(ctx, outcome, answer, new_events)
    if outcome.ending is None and outcome.restart is None:
        outcome.events.append(orchestrator_completed(ctx.now))
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


def suspension(
    state: OrchestrationState,
    status: RuntimeStatus,
    suspended: bool,
    reason: str | None,
    now: str,
) -> Outcome | None:
    """Suspending a Pending or Running instance, or resuming a Suspended one, as an outcome like
    an episode's (``ExecutionSuspended``/``ExecutionResumed`` with the reason, the new status),
    written by the same code; None when there is nothing to change (the extension answers 202
    without checking)."""
    if suspended and status in (RuntimeStatus.PENDING, RuntimeStatus.RUNNING):
        return Outcome(
            state=state.copy(),
            runtime_status=RuntimeStatus.SUSPENDED,
            events=[execution_suspended(reason, now)],
        )
    if not suspended and status == RuntimeStatus.SUSPENDED:
        return Outcome(
            state=state.copy(),
            runtime_status=RuntimeStatus.RUNNING,
            events=[execution_resumed(reason, now)],
        )
    return None


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
    """Read a successful answer: timers it cancelled retired, the tasks the new events complete
    settled, its new actions scheduled (all of them matched again after a rewind), then the
    instance completes, continues as new, or waits for its next episode."""
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
        settle(ctx, outcome, event)

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
        schedule(ctx, outcome, leaf, replay, matched)
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
    """The execution's waits by event name, so that continue-as-new can name the raised events
    it drops."""
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


def _end(ctx: EpisodeContext, outcome: Outcome, end: Ending) -> None:
    """End the instance: ExecutionCompleted, no outstanding tasks, and a parent told."""
    outcome.events.append(execution_completed(end.status, end.output, ctx.now))
    outcome.ending = end
    outcome.runtime_status = end.status
    outcome.state.pending.clear()
    parent = ctx.parent
    if parent is None:
        return
    if end.status == RuntimeStatus.COMPLETED:
        event = sub_orchestration_completed(parent.task_id, end.output, ctx.now)
    else:
        reason = end.reason or str(end.status)
        event = sub_orchestration_failed(parent.task_id, reason, end.details, ctx.now)
    outcome.messages.append(Message(parent.instance_id, parent.execution_id, event))
