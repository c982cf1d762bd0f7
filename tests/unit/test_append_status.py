"""append_custom_status through the SDK's replay: only new rows reach the activity, the log's name
is the same on every replay, and the status set is the small log reference.

``AppendCustomStatus`` is answered as the activity would answer (``after_append``: the same
reference, no storage); the activity itself is tested on Azurite in tests/offload_e2e.
"""

from datetime import timedelta

import azure.durable_functions as df

from custom_status import inline_size
from custom_status.status_log import LogReference, after_append, new_log
from orchestrators.append_status import APPEND_CUSTOM_STATUS, append_custom_status
from tests.replay import History, run_episode, run_failing_episode

from .replay_driver import drive

NAME = "AppendingOrchestrator"
CHUNK = 10


def appending(context: df.DurableOrchestrationContext):
    """Appends ``total`` rows, CHUNK at a time, with a {"done", "total"} summary."""
    total = context.get_input()
    log = None
    for start in range(0, total, CHUNK):
        rows = [{"item": n, "note": "x" * 200} for n in range(start, min(start + CHUNK, total))]
        done = start + len(rows)
        log = yield from append_custom_status(
            context, log, rows, {"done": done, "total": total}, rows_key="items"
        )
    return LogReference.from_status(log).rows


HANDLE = df.Orchestrator.create(appending)


def answer_append(name, payload):
    assert name == APPEND_CUSTOM_STATUS
    if payload["log"] is None:
        ref = new_log(
            payload["instanceId"],
            payload["logId"],
            rows_key=payload["rowsKey"],
            container="custom-status",
        )
    else:
        ref = LogReference.from_status(payload["log"])
    return after_append(ref, payload["rows"], payload["summary"])[0].to_status()


def test_each_call_hands_over_only_the_new_rows():
    run = drive(HANDLE, History(NAME, 95), answer_append)
    assert run.final["output"] == 95
    calls = run.inputs_of(APPEND_CUSTOM_STATUS)
    assert [len(call["rows"]) for call in calls] == [10] * 9 + [5]
    assert [row["item"] for call in calls for row in call["rows"]] == list(range(95))  # once each
    # Only the first call names a new log; the rest carry the previous reference.
    assert "logId" in calls[0] and all("logId" not in call for call in calls[1:])
    assert [call["log"] for call in calls[1:]] == [
        answer_append(APPEND_CUSTOM_STATUS, call) for call in calls[:-1]
    ]


def test_the_status_is_the_small_reference_with_the_summary():
    run = drive(HANDLE, History(NAME, 400), answer_append)
    ref = LogReference.from_status(run.final["customStatus"])
    assert ref is not None
    assert (ref.rows, ref.segments, ref.rows_key) == (400, 40, "items")
    assert ref.summary == {"done": 400, "total": 400}
    # 400 rows of ~440 bytes are ~170 KB; the status stays a few hundred bytes throughout.
    statuses = [state["customStatus"] for state in run.states[1:]]
    assert all(inline_size(status) < 1_000 for status in statuses)  # far below the 16 KB limit


def test_the_log_name_is_the_same_on_every_replay():
    first = drive(HANDLE, History(NAME, 25), answer_append)
    again = drive(HANDLE, History(NAME, 25), answer_append)
    log_ids = {call["logId"] for call in first.inputs_of(APPEND_CUSTOM_STATUS) if "logId" in call}
    assert len(log_ids) == 1
    assert first.inputs_of(APPEND_CUSTOM_STATUS) == again.inputs_of(APPEND_CUSTOM_STATUS)


def test_a_summary_must_be_a_small_object():
    def bad(context):
        yield from append_custom_status(context, None, [1], ["not", "an", "object"])

    error, _ = run_failing_episode(df.Orchestrator.create(bad), History(NAME))
    assert "must be a JSON object" in error


def fail_every_append_attempt(handle, history) -> tuple[str, list[dict]]:
    """Answer the first episode's append with a failure on each of its five attempts (DurableTask's
    retry: a failure, a timer, the next attempt); the instance's error and each retry's state."""
    states = [run_episode(handle, history)]
    for attempt in range(1, 6):
        task = history.task_scheduled(APPEND_CUSTOM_STATUS)
        history.next_episode()
        history.task_failed(task, "Activity function 'AppendCustomStatus' failed: down")
        timer = history.timer_created(history.now + timedelta(seconds=2))
        history.next_episode(2)
        history.timer_fired(timer)
        if attempt < 5:
            states.append(run_episode(handle, history))
    error, _ = run_failing_episode(handle, history)
    return error, states


def test_an_append_failing_every_attempt_fails_the_instance_with_a_clear_reason():
    error, states = fail_every_append_attempt(HANDLE, History(NAME, 5))
    assert all(state.get("customStatus") is None for state in states[1:])
    assert "could not append 5 rows" in error and "after 5 attempts" in error
