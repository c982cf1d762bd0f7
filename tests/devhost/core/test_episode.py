"""The pure episode core, directly: history fixtures and SDK answers in, an Outcome out.

No store, no event loop, no SDK: each test states the instance's bookkeeping, the events the
episode delivers and the answer (in the SDK's schema: ``actions`` is one list of top-level actions
when ``schemaVersion`` >= 1), and checks what devhost would write and start.
"""

from __future__ import annotations

import collections
from typing import Any

from devhost.core.batch import select_batch
from devhost.core.episode import decide, ending, unconsumed_events
from devhost.core.outcome import EpisodeContext, NewActivity, NewTimer
from devhost.core.records import InboxRow, OrchestrationState, ParentRef, PendingTask, RetryState
from devhost.protocol.history import EventType, make_event
from devhost.protocol.runtime_status import RuntimeStatus

NOW = "2026-12-02T10:00:00.000000Z"
CTX = EpisodeContext(
    instance_id="i",
    name="Orch",
    execution_id="e1",
    parent=None,
    now=NOW,
    activities=frozenset({"Work"}),
    orchestrators=frozenset({"Orch", "Child"}),
)
STARTED = make_event(EventType.ORCHESTRATOR_STARTED, NOW)


def answer(*actions: dict[str, Any], done: bool = False, **fields: Any) -> dict[str, Any]:
    return {"isDone": done, "actions": [list(actions)], "schemaVersion": 1, **fields}


def activity(name: str = "Work", value: str = '"x"') -> dict[str, Any]:
    return {"actionType": 0, "functionName": name, "input": value}


def timer(cancelled: bool = False) -> dict[str, Any]:
    return {"actionType": 5, "fireAt": "2026-12-02T10:01:00.000Z", "isCanceled": cancelled}


def wait(name: str) -> dict[str, Any]:
    return {"actionType": 6, "externalEventName": name}


def raised(name: str, value: str = "1") -> dict[str, Any]:
    return make_event(EventType.EVENT_RAISED, NOW, Name=name, Input=value)


def inbox(*events: dict[str, Any], execution_id: str | None = None) -> list[InboxRow]:
    return [InboxRow(n, "i", execution_id, e, None) for n, e in enumerate(events, 1)]


# -- which messages an episode takes -------------------------------------------------------------


def test_every_raised_event_goes_into_one_episode() -> None:
    batch = select_batch(OrchestrationState(), "e1", inbox(raised("A"), raised("A"), raised("B")))
    assert [e["Name"] for e in batch.events] == ["A", "A", "B"]
    assert (batch.stale, batch.more) == ([], False)


def test_results_of_an_old_execution_or_of_no_pending_task_are_stale() -> None:
    state = OrchestrationState(pending={0: PendingTask(kind="activity", name="Work")})
    done = make_event(EventType.TASK_COMPLETED, NOW, TaskScheduledId=0, Result="1")
    unknown = make_event(EventType.TASK_COMPLETED, NOW, TaskScheduledId=7, Result="1")
    rows = [
        InboxRow(1, "i", "e0", done, None),
        InboxRow(2, "i", "e1", unknown, None),
        InboxRow(3, "i", "e1", done, None),
    ]
    batch = select_batch(state, "e1", rows)
    assert [m.id for m in batch.messages] == [3]
    assert batch.stale == [1, 2]


def test_a_retry_related_event_must_open_its_episode() -> None:
    retry = RetryState(max=3, interval_ms=1000)
    state = OrchestrationState(pending={0: PendingTask(kind="activity", name="Work", retry=retry)})
    failed = make_event(EventType.TASK_FAILED, NOW, TaskScheduledId=0, Reason="r")
    batch = select_batch(state, "e1", inbox(raised("A"), failed))
    assert [m.id for m in batch.messages] == [1]
    assert batch.more  # the failure waits for an episode of its own


# -- what an answer means ------------------------------------------------------------------------


def test_a_new_activity_takes_the_next_sequence_number_and_the_episode_closes() -> None:
    state = OrchestrationState(next_seq=2)
    outcome = decide(CTX, state, [STARTED], answer(activity()), None)
    assert outcome.activities == [NewActivity(2, "Work", '"x"')]
    assert [e["EventType"] for e in outcome.events] == [
        EventType.ORCHESTRATOR_STARTED,
        EventType.TASK_SCHEDULED,
        EventType.ORCHESTRATOR_COMPLETED,
    ]
    assert outcome.state.next_seq == 3 and outcome.state.known_top == 1
    assert state.next_seq == 2 and state.pending == {}  # the input is left as it was


def test_a_missing_activity_schedules_nothing_and_is_reported() -> None:
    """The extension swallows the ArgumentException: no TaskScheduled, no sequence number."""
    outcome = decide(
        CTX, OrchestrationState(), [STARTED], answer(activity("Typo"), activity()), None
    )
    assert outcome.activities == [NewActivity(0, "Work", '"x"')]  # the next call takes seq 0
    assert [e["EventType"] for e in outcome.events].count(EventType.TASK_SCHEDULED) == 1
    assert outcome.messages == [] and outcome.ending is None
    assert outcome.problems == [
        "The function 'Typo' doesn't exist, is disabled, or is not an activity function. "
        "Known activities: Work."
    ]


def test_a_missing_or_self_named_sub_orchestration_schedules_nothing() -> None:
    missing = {"actionType": 2, "functionName": "Nope", "input": None}
    itself = {"actionType": 2, "functionName": "Child", "input": None, "instanceId": "I"}
    outcome = decide(CTX, OrchestrationState(), [STARTED], answer(missing, itself), None)
    assert outcome.children == [] and outcome.state.next_seq == 0
    assert outcome.problems[0].startswith("The function 'Nope' doesn't exist")
    assert "must be different than the instance ID of a parent" in outcome.problems[1]


def test_a_custom_status_at_the_limit_is_kept_and_one_byte_pair_over_fails() -> None:
    at_limit = decide(CTX, OrchestrationState(), [STARTED], answer(customStatus="x" * 8190), None)
    assert at_limit.custom_status_set and at_limit.ending is None
    over = decide(CTX, OrchestrationState(), [STARTED], answer(customStatus="x" * 8191), None)
    assert over.ending is not None and over.runtime_status == RuntimeStatus.FAILED
    assert (
        "The UTF-16 size of the JSON-serialized payload must not exceed 16 KB. The current "
        "payload size is 16 KB (16,386 bytes;" in over.ending.output
    )


def test_a_timer_cancelled_in_a_later_answer_is_cancelled() -> None:
    first = decide(CTX, OrchestrationState(), [STARTED], answer(timer(), wait("Go")), None)
    assert first.timers == [NewTimer(0, "2026-12-02T10:01:00.000000Z")]
    second = decide(
        CTX,
        first.state,
        [STARTED, raised("Go")],
        answer(timer(cancelled=True), wait("Go"), done=True),
        None,
    )
    assert second.cancelled_timers == [0]
    assert second.ending is not None and second.ending.status == RuntimeStatus.COMPLETED


def test_done_with_a_live_timer_keeps_the_instance_running() -> None:
    first = decide(CTX, OrchestrationState(), [STARTED], answer(timer(), wait("Go")), None)
    second = decide(
        CTX, first.state, [STARTED, raised("Go")], answer(timer(), wait("Go"), done=True), None
    )
    assert second.ending is None and second.runtime_status == RuntimeStatus.RUNNING


def test_a_completed_child_tells_its_parent() -> None:
    child = EpisodeContext(**{**CTX.__dict__, "parent": ParentRef("p", "pe", 4)})
    outcome = decide(child, OrchestrationState(), [STARTED], answer(done=True, output=5), None)
    [message] = outcome.messages
    assert (message.instance_id, message.execution_id) == ("p", "pe")
    assert message.event["EventType"] == EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED
    assert (message.event["TaskScheduledId"], message.event["Result"]) == (4, "5")


def test_a_failed_retry_schedules_its_timer_then_the_next_attempt() -> None:
    retrying = {**activity(), "actionType": 1, "retryOptions": {
        "firstRetryIntervalInMilliseconds": 5000, "maxNumberOfAttempts": 2}}  # fmt: skip
    first = decide(CTX, OrchestrationState(), [STARTED], answer(retrying), None)
    failed = make_event(EventType.TASK_FAILED, NOW, TaskScheduledId=0, Reason="r")
    second = decide(CTX, first.state, [STARTED, failed], answer(retrying), None)
    assert second.timers == [NewTimer(1, "2026-12-02T10:00:05.000000Z")]
    assert second.state.pending[1].kind == "retry_timer"
    fired = make_event(EventType.TIMER_FIRED, NOW, TimerId=1)
    third = decide(CTX, second.state, [STARTED, fired], answer(retrying), None)
    assert third.activities == [NewActivity(2, "Work", '"x"')]
    assert third.state.pending[2].retry == RetryState(max=2, interval_ms=5000, attempt=2)


def test_an_unsupported_action_fails_the_instance_and_starts_nothing() -> None:
    entity = {"actionType": 7, "instanceId": "@counter@one", "operation": "add"}
    outcome = decide(CTX, OrchestrationState(), [STARTED], answer(activity(), entity), None)
    assert outcome.activities == [] and outcome.runtime_status == RuntimeStatus.FAILED
    assert outcome.ending is not None and "not supported by devhost" in outcome.ending.output


def test_continue_as_new_restarts_with_the_input_and_counts_the_waits() -> None:
    cas = {"actionType": 4, "input": '{"n": 1}'}
    delivered = [STARTED, raised("Add"), raised("Add")]
    outcome = decide(
        CTX, OrchestrationState(), delivered, answer(wait("Add"), cas, done=True), None
    )
    assert outcome.restart is not None and outcome.events == []
    assert outcome.restart.input == '"{\\"n\\": 1}"'  # stored as the extension stores it
    assert unconsumed_events(outcome.restart.delivered, outcome.restart.waits) == ["Add"]


def test_an_orchestrator_failure_fails_the_instance_with_its_message() -> None:
    outcome = decide(CTX, OrchestrationState(), [STARTED], answer(customStatus="s"), "boom")
    assert outcome.ending is not None
    assert outcome.ending.output == "\"Orchestrator function 'Orch' failed: boom\""
    assert outcome.custom_status == '"s"'  # the status set before failing is kept


def test_ending_from_outside_clears_the_tasks_and_records_why() -> None:
    state = OrchestrationState(pending={0: PendingTask(kind="timer", path=[0])})
    first = make_event(EventType.EXECUTION_TERMINATED, NOW, Input='"stop"')
    outcome = ending(CTX, state, RuntimeStatus.TERMINATED, '"stop"', "stop", first)
    assert [e["EventType"] for e in outcome.events] == [
        EventType.EXECUTION_TERMINATED,
        EventType.EXECUTION_COMPLETED,
    ]
    assert outcome.state.pending == {} and state.pending  # the input is left as it was


def test_unconsumed_events_are_the_latest_of_each_name() -> None:
    events = [raised("A"), raised("B"), raised("A")]
    assert unconsumed_events(events, collections.Counter({"A": 1})) == ["A", "B"]


def test_retry_waits_grow_by_the_backoff_coefficient_up_to_the_cap() -> None:
    """DurableTask's ``RetryInterceptor``: first * coefficient ** (attempt - 1), at most the cap;
    the extension reads both from the action's ``retryOptions`` (``RetryOptionsConverter``)."""
    retrying = {**activity(), "actionType": 1, "retryOptions": {
        "firstRetryIntervalInMilliseconds": 2000, "maxNumberOfAttempts": 5,
        "backoffCoefficient": 2, "maxRetryIntervalInMilliseconds": 5000}}  # fmt: skip
    state = decide(CTX, OrchestrationState(), [STARTED], answer(retrying), None).state
    waits, seq = [], 0
    for _ in range(3):
        failed = make_event(EventType.TASK_FAILED, NOW, TaskScheduledId=seq, Reason="r")
        outcome = decide(CTX, state, [STARTED, failed], answer(retrying), None)
        [timer] = outcome.timers
        waits.append(timer.fire_at)
        fired = make_event(EventType.TIMER_FIRED, NOW, TimerId=timer.seq)
        outcome = decide(CTX, outcome.state, [STARTED, fired], answer(retrying), None)
        [next_attempt] = outcome.activities
        state, seq = outcome.state, next_attempt.seq
    assert waits == [
        "2026-12-02T10:00:02.000000Z",  # 2 s
        "2026-12-02T10:00:04.000000Z",  # 4 s
        "2026-12-02T10:00:05.000000Z",  # 8 s, capped at 5 s
    ]
    round_trip = PendingTask.from_json(state.pending[seq].to_json())
    assert round_trip.retry == RetryState(5, 2000, attempt=4, backoff=2.0, max_interval_ms=5000)


def test_suspend_and_resume_are_outcomes_of_the_pure_core() -> None:
    """A suspend or resume is written by the same code as an episode's outcome."""
    from devhost.core.episode import suspension

    state = OrchestrationState()
    suspended = suspension(state, RuntimeStatus.RUNNING, True, "pause", NOW)
    assert suspended is not None and suspended.runtime_status == RuntimeStatus.SUSPENDED
    [event] = suspended.events
    assert (event["EventType"], event["Reason"]) == (EventType.EXECUTION_SUSPENDED, "pause")
    resumed = suspension(state, RuntimeStatus.SUSPENDED, False, None, NOW)
    assert resumed is not None and resumed.runtime_status == RuntimeStatus.RUNNING
    assert resumed.events[0]["EventType"] == EventType.EXECUTION_RESUMED
    assert suspension(state, RuntimeStatus.SUSPENDED, True, None, NOW) is None
    assert suspension(state, RuntimeStatus.RUNNING, False, None, NOW) is None
