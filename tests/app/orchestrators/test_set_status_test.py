"""SetStatusTest through the SDK's replay: the sample status appears between the two steps."""

from tests.replay import History, call_activity, run_episode

NAME = "SetStatusTest"
SAMPLE = {"nextActions": ["A", "B", "C"], "foo": 2}


def test_the_sample_status_is_set_after_step_one_while_step_two_runs(orchestrator):
    handle = orchestrator(NAME)
    history = History(NAME)

    first = run_episode(handle, history)
    assert first["actions"] == [[call_activity("DoWork", "step 1")]]
    assert "customStatus" not in first

    step1 = history.task_scheduled("DoWork", "step 1")
    history.next_episode()
    history.task_completed(step1, "Done: step 1")
    second = run_episode(handle, history)
    assert second["isDone"] is False
    assert second["customStatus"] == SAMPLE
    assert second["actions"] == [
        [call_activity("DoWork", "step 1"), call_activity("DoWork", "step 2")]
    ]

    step2 = history.task_scheduled("DoWork", "step 2")
    history.next_episode()
    history.task_completed(step2, "Done: step 2")
    final = run_episode(handle, history)
    assert final["isDone"] is True
    assert final["customStatus"] == SAMPLE  # a custom status outlives the run
    assert final["output"] == ["Done: step 1", "Done: step 2"]
