"""Rewinding a history (``devhost/core/rewind.py``) and the first episode after it, directly: what
DurableTask.AzureStorage's ``RewindHistoryAsync`` clears, what stays outstanding, and how replay
matches the SDK's whole action list against the history that is left."""

from __future__ import annotations

from typing import Any

from devhost.core.episode import decide
from devhost.core.records import OrchestrationState
from devhost.core.rewind import rewind_history
from devhost.protocol.history import EventType, make_event
from devhost.protocol.runtime_status import RuntimeStatus

from .test_episode import CTX, NOW, STARTED, activity, answer, timer


def _history(*events: dict[str, Any]) -> list[dict[str, Any]]:
    return [make_event(EventType.EXECUTION_STARTED, NOW, Name="Orch"), *events]


def _failed_second_call() -> list[dict[str, Any]]:
    """Work (0) completed, Work (1) failed, the orchestration failed; a timer (2) outstanding."""
    return _history(
        make_event(EventType.TASK_SCHEDULED, NOW, 0, Name="Work", Input='"a"'),
        make_event(EventType.TASK_COMPLETED, NOW, TaskScheduledId=0, Result='"A"'),
        make_event(EventType.TIMER_CREATED, NOW, 2, FireAt="2026-12-02T11:00:00.000000Z"),
        make_event(EventType.TASK_SCHEDULED, NOW, 1, Name="Work", Input='"b"'),
        make_event(EventType.TASK_FAILED, NOW, TaskScheduledId=1, Reason="boom"),
        make_event(EventType.EXECUTION_COMPLETED, NOW, OrchestrationStatus="Failed"),
    )


def test_failures_their_scheduling_and_the_failed_end_become_generic_events() -> None:
    rewound = rewind_history(_failed_second_call())
    kinds = [(e["EventType"], e["EventId"]) for e in rewound.events]
    assert kinds == [
        (EventType.EXECUTION_STARTED, -1),
        (EventType.TASK_SCHEDULED, 0),
        (EventType.TASK_COMPLETED, -1),
        (EventType.TIMER_CREATED, 2),
        (EventType.GENERIC_EVENT, 1),
        (EventType.GENERIC_EVENT, -1),
        (EventType.GENERIC_EVENT, -1),
    ]
    assert rewound.state.replay == {0: "activity", 2: "timer"}
    assert list(rewound.state.pending) == [2]
    assert rewound.timers == [(2, "2026-12-02T11:00:00.000000Z")]
    assert rewound.children == [] and rewound.activities == []


def test_a_failed_sub_orchestration_keeps_its_creation_and_names_the_child() -> None:
    rewound = rewind_history(
        _history(
            make_event(
                EventType.SUB_ORCHESTRATION_INSTANCE_CREATED, NOW, 0, Name="Child", InstanceId="c"
            ),
            make_event(EventType.SUB_ORCHESTRATION_INSTANCE_FAILED, NOW, TaskScheduledId=0),
            make_event(EventType.EXECUTION_COMPLETED, NOW, OrchestrationStatus="Failed"),
        )
    )
    assert [e["EventType"] for e in rewound.events][1:] == [
        EventType.SUB_ORCHESTRATION_INSTANCE_CREATED,
        EventType.GENERIC_EVENT,
        EventType.GENERIC_EVENT,
    ]
    assert rewound.children == ["c"]
    assert rewound.state.pending[0].kind == "sub_orchestration"


def test_the_first_episode_after_a_rewind_schedules_only_what_history_lacks() -> None:
    state = rewind_history(_failed_second_call()).state
    outcome = decide(
        CTX, state, [STARTED], answer(activity(value='"a"'), activity(value='"b"'), timer()), None
    )
    assert outcome.runtime_status == RuntimeStatus.RUNNING
    assert [(a.seq, a.input) for a in outcome.activities] == [(1, '"b"')]
    assert outcome.timers == []  # timer 2 is in history already
    assert outcome.state.replay is None and outcome.state.known_top == 3
    assert outcome.state.pending[2].path == [2]  # its isCanceled can be followed again


def test_an_action_list_that_does_not_account_for_the_history_fails_as_non_deterministic() -> None:
    state = rewind_history(_failed_second_call()).state
    outcome = decide(CTX, state, [STARTED], answer(activity(), activity(), activity()), None)
    assert outcome.runtime_status == RuntimeStatus.FAILED
    assert outcome.activities == []
    assert outcome.ending is not None
    assert "produced an activity task" in (outcome.ending.reason or "")
    assert "scheduled a timer task with sequence number 2" in (outcome.ending.reason or "")


def test_state_with_a_replay_map_survives_its_json() -> None:
    state = rewind_history(_failed_second_call()).state
    assert OrchestrationState.from_json(state.to_json()) == state
