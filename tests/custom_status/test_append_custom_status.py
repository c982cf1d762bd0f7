"""append_custom_status through the SDK's replay: only new rows reach the activity (their keys
once), the log's name is the same on every replay, and the status set is the small log reference.

``AppendCustomStatus`` is answered as the activity would answer (``after_append`` on the rows it
decodes: the same reference, no storage); the activity itself is tested on Azurite in
test_append_input.py and test_e2e_append.py.
"""

import dataclasses
import json

import azure.durable_functions as df

from custom_status import APPEND_ACTIVITY as APPEND_CUSTOM_STATUS
from custom_status import (
    MAX_SUMMARY_BYTES,
    UPLOAD_RETRY,
    LogReference,
    append_custom_status,
    inline_size,
)
from custom_status.append_input import decode_rows
from custom_status.log_reference import after_append
from custom_status.orchestrator import MAX_REASON_CHARS, failed_status
from custom_status.status_log import new_log
from tests.replay import History, run_failing_episode
from tests.support.replay_driver import drive, fail_every_append_attempt

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


def answer_append(name: str, payload: dict) -> dict:
    """What AppendCustomStatus returns for ``payload``, in either form (no storage)."""
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
    return after_append(ref, decode_rows(payload), payload["summary"])[0].to_status()


def test_each_call_hands_over_only_the_new_rows():
    run = drive(HANDLE, History(NAME, 95), answer_append)
    assert run.final["output"] == 95
    calls = run.inputs_of(APPEND_CUSTOM_STATUS)
    rows = [decode_rows(call) for call in calls]
    assert [len(appended) for appended in rows] == [10] * 9 + [5]
    assert [row["item"] for appended in rows for row in appended] == list(range(95))  # once each
    # Rows that share their keys travel with the keys once: not one "note" per row.
    assert all(call["columns"] == ["item", "note"] and "rows" not in call for call in calls)
    assert all(json.dumps(call).count('"note"') == 1 for call in calls)
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


def test_an_append_failing_every_attempt_fails_the_instance_with_a_clear_reason():
    error, states, _ = fail_every_append_attempt(HANDLE, History(NAME, 5))
    assert len(states) == UPLOAD_RETRY.max_number_of_attempts - 1
    assert all(state.get("customStatus") is None for state in states)
    assert "could not append 5 rows" in error and "after 7 attempts" in error
    assert "the status keeps the rows appended before and its summary says it failed" in error


def test_a_first_append_giving_up_sets_the_summary_failed_inline():
    error, _, failed = fail_every_append_attempt(HANDLE, History(NAME, 5))
    status = failed["customStatus"]
    assert status == {"done": 5, "total": 5, "state": "failed", "reason": error}
    assert inline_size(status) < 1_000


def test_a_later_append_giving_up_keeps_the_last_log_with_its_summary_failed():
    """The rows appended so far stay readable; only the summary changes, and nothing is
    uploaded to say so (storage is down)."""
    logs = []

    def answer(name, payload):
        logs.append(answer_append(name, payload))
        return logs[-1]

    error, states, failed = fail_every_append_attempt(HANDLE, History(NAME, 25), answer, after=1)
    (last_log,) = logs
    assert all(state["customStatus"] == last_log for state in states)  # meanwhile: unchanged
    ref = LogReference.from_status(failed["customStatus"])
    before = LogReference.from_status(last_log)
    assert ref is not None and before is not None
    assert ref == dataclasses.replace(before, summary=ref.summary)  # the same rows
    assert before.summary == {"done": CHUNK, "total": 25}
    assert ref.summary == {"done": CHUNK, "total": 25, "state": "failed", "reason": error}
    assert "could not append 10 rows" in error


def test_a_long_reason_is_cut_so_the_summary_stays_small():
    status = failed_status(None, {"done": 1}, "x" * 10_000)
    assert status["state"] == "failed" and len(status["reason"]) == MAX_REASON_CHARS
    assert inline_size(status) <= MAX_SUMMARY_BYTES
