"""E1_HelloSequence through the SDK's replay: three greetings, the city as status after each."""

import pytest

from tests.replay import History, call_activity, run_episode, run_failing_episode

NAME = "E1_HelloSequence"


@pytest.fixture
def handle(orchestrator):
    return orchestrator(NAME)


def test_greets_each_city_in_turn_and_sets_the_status_after_each(handle):
    history = History(NAME)
    expected_actions = []
    statuses = []
    for city in ("Tokyo", "Seattle", "London"):
        state = run_episode(handle, history)
        expected_actions.append(call_activity("E1_SayHello", city))
        assert state["isDone"] is False
        assert state["actions"] == [expected_actions]
        statuses.append(state.get("customStatus"))
        task_id = history.task_scheduled("E1_SayHello", city)
        history.next_episode()
        history.task_completed(task_id, f"Hello {city}!")

    final = run_episode(handle, history)
    statuses.append(final["customStatus"])

    assert statuses == [None, "Tokyo", "Seattle", "London"]
    assert final["isDone"] is True
    assert final["actions"] == [expected_actions]
    assert final["output"] == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]


def test_ignores_its_input(handle):
    state = run_episode(handle, History(NAME, {"anything": [1, 2]}))
    assert state["actions"] == [[call_activity("E1_SayHello", "Tokyo")]]


def test_a_failed_greeting_fails_the_instance_with_the_last_status_kept(handle):
    history = History(NAME)
    tokyo = history.task_scheduled("E1_SayHello", "Tokyo")
    history.next_episode()
    history.task_completed(tokyo, "Hello Tokyo!")
    seattle = history.task_scheduled("E1_SayHello", "Seattle")
    history.next_episode()
    history.task_failed(seattle, "boom", "activity details")

    error, state = run_failing_episode(handle, history)

    assert "boom" in error and "activity details" in error
    assert state["isDone"] is False
    assert state["customStatus"] == "Tokyo"
