"""The history builder produces the extension's shapes (the orchestrator tests rely on them)."""

from tests.replay import START, EventType, History


def test_first_episode_is_orchestrator_started_then_execution_started():
    history = History("E1_HelloSequence", {"a": 1}, instance_id="abc")
    context = history.context()

    assert [e["EventType"] for e in context["history"]] == [12, 0]
    assert all(e["IsPlayed"] is False for e in context["history"])
    assert context["history"][1]["Name"] == "E1_HelloSequence"
    assert context["history"][1]["Input"] == '{"a": 1}'
    assert context["input"] == '{"a": 1}'
    assert context["instanceId"] == "abc"
    assert context["isReplaying"] is False
    assert context["history"][0]["Timestamp"] == "2026-11-22T10:00:00.000000Z"
    assert context["upperSchemaVersion"] == 2
    assert context["upperSchemaVersionNew"] == 3
    assert context["maximumShortTimerDuration"] == "6.00:00:00"
    assert context["longRunningTimerIntervalDuration"] == "3.00:00:00"
    assert context["parentInstanceId"] is None


def test_later_episode_replays_earlier_events_as_played_and_appends_new_ones():
    history = History("X")
    first = history.task_scheduled("A", "in")
    history.next_episode(5)
    history.task_completed(first, "out")
    second = history.timer_created(history.now)
    history.next_episode()
    history.timer_fired(second)
    history.event_raised("Ev", True)

    events = history.events
    types = [e["EventType"] for e in events]
    assert types == [12, 0, 4, 13, 12, 5, 10, 13, 12, 11, 15]
    assert [e["IsPlayed"] for e in events] == [True] * 8 + [False] * 3
    assert (first, second) == (0, 1)
    assert events[2]["EventId"] == 0 and events[2]["Input"] == '"in"'
    assert events[5]["TaskScheduledId"] == 0 and events[5]["Result"] == '"out"'
    assert events[6]["EventId"] == 1
    assert events[9]["TimerId"] == 1 and events[9]["FireAt"] == events[6]["FireAt"]
    assert events[10]["Name"] == "Ev" and events[10]["Input"] == "true"
    assert events[4]["Timestamp"] == "2026-11-22T10:00:05.000000Z"
    assert history.context()["isReplaying"] is True


def test_no_input_is_null_and_events_are_typed_ints():
    history = History("X")
    assert history.context()["input"] is None
    assert history.now == START
    assert EventType.EVENT_RAISED == 15
