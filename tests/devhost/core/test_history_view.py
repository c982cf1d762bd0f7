"""The history table and the status timeline's rules, as pure functions of stored events.

Histories are built with devhost's own event builders, in the order the engine writes them; a
retried call is told apart from a manual second call only by the pattern retries leave."""

from __future__ import annotations

from typing import Any

from devhost.core.history_view import history_page
from devhost.core.status_timeline import LastChange, dropped, episodes_in, next_change, oldest_kept
from devhost.protocol.events import (
    execution_started,
    orchestrator_completed,
    orchestrator_started,
    sub_orchestration_completed,
    sub_orchestration_created,
    task_completed,
    task_failed,
    task_scheduled,
    timer_created,
    timer_fired,
)
from devhost.protocol.history import encode


def t(second: float) -> str:
    return f"2026-12-02T10:00:{second:09.6f}Z"


def retried_call(name: str = "Flaky") -> list[dict[str, Any]]:
    """Two failed attempts with a retry timer after each, then a third that succeeds."""
    return [
        orchestrator_started(t(0)),
        execution_started("Orch", "null", "i", "e", None, t(0)),
        task_scheduled(0, name, '"x"', t(0)),
        orchestrator_completed(t(0)),
        orchestrator_started(t(1)),
        task_failed(0, "boom 1", None, t(1)),
        timer_created(1, t(3), t(1)),
        orchestrator_completed(t(1)),
        orchestrator_started(t(3)),
        timer_fired(1, t(3)),
        task_scheduled(2, name, '"x"', t(3)),
        orchestrator_completed(t(3)),
        orchestrator_started(t(4)),
        task_failed(2, "boom 2", None, t(4)),
        timer_created(3, t(6), t(4)),
        orchestrator_completed(t(4)),
        orchestrator_started(t(6)),
        timer_fired(3, t(6)),
        task_scheduled(4, name, '"x"', t(6)),
        orchestrator_completed(t(6)),
        orchestrator_started(t(7.5)),
        task_completed(4, '"done"', t(7.5)),
        orchestrator_completed(t(7.5)),
    ]


def test_retried_attempts_are_numbered_and_completions_timed() -> None:
    page = history_page(retried_call(), 0, 100)
    assert page.total == 23
    calls = [(r["eventType"], r["attempt"]) for r in page.rows if r["name"] == "Flaky"]
    assert calls == [
        ("TaskScheduled", 1),
        ("TaskFailed", 1),
        ("TaskScheduled", 2),
        ("TaskFailed", 2),
        ("TaskScheduled", 3),
        ("TaskCompleted", 3),
    ]
    done = page.rows[21]
    assert (done["scheduledTime"], done["durationMs"], done["result"]) == (t(6), 1500.0, "done")
    fired = page.rows[9]
    assert (fired["taskScheduledId"], fired["fireAt"], fired["durationMs"]) == (1, t(3), 2000.0)
    assert page.rows[5]["reason"] == "boom 1"


def test_a_call_with_another_input_after_a_timer_is_no_retry() -> None:
    """The orchestrator's own timer and call after a failure look like a retry only when the
    call is the same function with the same input."""
    events = retried_call()
    events[10] = task_scheduled(2, "Flaky", '"other"', t(3))
    rows = history_page(events, 0, 100).rows
    assert [r["attempt"] for r in rows if r["eventType"] == "TaskScheduled"] == [None] * 3
    events[10] = task_scheduled(2, "Other", '"x"', t(3))
    rows = history_page(events, 0, 100).rows
    assert [r["attempt"] for r in rows if r["eventType"] == "TaskScheduled"] == [None] * 3


def test_a_page_is_a_slice_with_the_whole_historys_knowledge() -> None:
    events = retried_call()
    page = history_page(events, 20, 5)
    assert (page.total, page.offset, [r["index"] for r in page.rows]) == (23, 20, [20, 21, 22])
    assert page.rows[1]["attempt"] == 3 and page.rows[1]["name"] == "Flaky"
    assert history_page(events, 99, 5).rows == []


def test_sub_orchestrations_carry_their_instance_id() -> None:
    events = [
        orchestrator_started(t(0)),
        sub_orchestration_created(0, "Child", "kid", '"in"', t(0)),
        orchestrator_completed(t(0)),
        orchestrator_started(t(2)),
        sub_orchestration_completed(0, '{"ok":true}', t(2)),
    ]
    created, completed = history_page(events, 0, 10).rows[1], history_page(events, 0, 10).rows[4]
    assert (created["subInstanceId"], created["input"], created["name"]) == ("kid", "in", "Child")
    assert (completed["subInstanceId"], completed["name"]) == ("kid", "Child")
    assert (completed["result"], completed["durationMs"]) == ({"ok": True}, 2000.0)


def test_a_status_is_a_change_only_when_it_differs_from_the_last_recorded() -> None:
    assert next_change(None, None) is None
    assert next_change(None, '"a"') == 1
    assert next_change(LastChange(4, '"a"'), '"a"') is None
    assert next_change(LastChange(4, '"a"'), '"b"') == 5
    assert next_change(LastChange(4, '"a"'), None) == 5  # back to null is a change too
    assert [oldest_kept(n, 3) for n in (1, 3, 4, 10)] == [1, 1, 2, 8]
    assert (dropped(None), dropped(1), dropped(8)) == (0, 0, 7)


def test_episodes_are_counted_from_a_history_that_did_not_count_them() -> None:
    encoded = [encode(event, played=True) for event in retried_call()]
    assert episodes_in(encoded) == 6
