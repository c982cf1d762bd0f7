"""custom_status.set_custom_status through the SDK's real replay (no host, no storage).

Small statuses are set inline exactly as given; falsy ones in the ``$customStatusValue``
envelope (the SDK would drop them); statuses over 16,384 UTF-16 bytes go through the retried
UploadCustomStatus activity and the reference it returns is set in their place; the same large
content is not uploaded twice; and the previous blob is named so the activity keeps it.
"""

import json
from datetime import timedelta

import azure.durable_functions as df
import pytest

from custom_status import (
    MAX_SUMMARY_BYTES,
    UPLOAD_RETRY,
    StatusReference,
    serialize,
    set_custom_status,
    unwrap,
)
from custom_status.reference import from_status
from custom_status.retry import BackoffRetryOptions
from tests.replay import History, run_episode, run_failing_episode
from tests.support.replay_driver import UPLOAD, drive, fake_upload, flat_actions

LIMIT = 16_384


def sized(n_bytes: int, unit: str = "x") -> str:
    """A string whose status JSON is exactly ``n_bytes`` UTF-16 bytes (quotes included)."""
    unit_bytes = len(unit.encode("utf-16-le"))
    count, rest = divmod(n_bytes - 4, unit_bytes)
    value = unit * count + "x" * (rest // 2)
    assert len(serialize(value).encode("utf-16-le")) == n_bytes
    return value


BIG = {"rows": [f"row {n}: Zürich 東京 😀" for n in range(1_000)]}
BIG_2 = {**BIG, "version": 2}


def orchestrator_setting(*steps, pause=False):
    """An orchestrator that sets each (value, summary) in turn, then returns "done".

    With ``pause``, it calls the activity "Work" after each step, so each step's status is the
    custom status of its own episode.
    """

    def orchestrator(context):
        for value, summary in steps:
            yield from set_custom_status(context, value, summary)
            if pause:
                yield context.call_activity("Work")
        return "done"

    return df.Orchestrator.create(orchestrator)


def answer(name, payload):
    return fake_upload(payload) if name == UPLOAD else None


def run_steps(*steps, pause=False):
    return drive(orchestrator_setting(*steps, pause=pause), History("o"), answer)


@pytest.mark.parametrize(
    "value",
    ["step 1", 42, 1.5, True, ["a", "b"], {"nextActions": ["A", "B", "C"], "foo": 2}],
    ids=repr,
)
def test_a_small_status_is_set_inline_unchanged(value):
    run = run_steps((value, {"ignored": "summary"}))
    assert run.calls == []
    assert run.final["customStatus"] == value


@pytest.mark.parametrize("unit", ["x", "é", "東", "😀"])
def test_exactly_16384_utf16_bytes_stays_inline(unit):
    value = sized(LIMIT, unit)
    run = run_steps((value, None))
    assert run.calls == []
    assert run.final["customStatus"] == value


@pytest.mark.parametrize("unit", ["x", "é", "東", "😀"])
def test_16386_utf16_bytes_is_offloaded(unit):
    value = sized(LIMIT + 2, unit)
    run = run_steps((value, None))
    (payload,) = run.inputs_of(UPLOAD)
    assert payload["json"] == serialize(value)
    ref = from_status(run.final["customStatus"])
    assert ref is not None and ref.utf16_size == LIMIT + 2


def test_a_large_status_is_uploaded_with_retries_then_its_reference_set():
    handle = orchestrator_setting(("small", None), (BIG, {"done": 3, "total": 7}))
    history = History("o", instance_id="order-42")

    first = run_episode(handle, history)
    assert first["customStatus"] == "small"  # the upload has not happened yet
    (upload,) = flat_actions(first)
    assert upload["actionType"] == 1  # CallActivityWithRetry
    assert upload["functionName"] == UPLOAD
    assert upload["retryOptions"] == {
        "firstRetryIntervalInMilliseconds": 2000,
        "maxNumberOfAttempts": 7,
        "backoffCoefficient": 2.0,
        "maxRetryIntervalInMilliseconds": 30000,
    }
    payload = json.loads(upload["input"])
    assert payload == {
        "instanceId": "order-42",
        "json": serialize(BIG),
        "summary": {"done": 3, "total": 7},
        "previousBlob": None,
    }

    task = history.task_scheduled(UPLOAD, payload)
    history.next_episode()
    reference = fake_upload(payload)
    history.task_completed(task, reference)
    second = run_episode(handle, history)
    assert second["isDone"] is True
    assert second["customStatus"] == reference
    assert reference["$customStatusRef"]["summary"] == {"done": 3, "total": 7}
    assert len(flat_actions(second)) == 1  # replay did not schedule the upload again


def test_the_status_is_what_was_measured_even_if_the_value_changes_afterwards():
    """The SDK serialises the status when the episode ends, not when it is set."""
    rows = ["row"] * 10

    def orchestrator(context):
        yield from set_custom_status(context, {"rows": rows})
        rows.extend(["x" * 100] * 1_000)  # would be 200 KB if the live object were sent
        yield context.call_activity("Work")

    state = run_episode(df.Orchestrator.create(orchestrator), History("o"))
    assert state["customStatus"] == {"rows": ["row"] * 10}


@pytest.mark.parametrize("value", [0, 0.0, "", [], {}, False, None], ids=repr)
def test_a_falsy_status_is_wrapped_so_the_sdk_sends_it(value):
    run = run_steps(("step 1", None), (value, None))
    assert run.final["customStatus"] == {"$customStatusValue": value}
    assert unwrap(run.final["customStatus"]) == value


def test_a_value_shaped_like_an_envelope_is_wrapped_too():
    lookalike = {"$customStatusRef": "not ours"}
    run = run_steps((lookalike, None))
    assert run.final["customStatus"] == {"$customStatusValue": lookalike}


def test_unchanged_content_is_not_uploaded_again_and_the_summary_updates():
    run = run_steps((BIG, {"done": 1}), (BIG, {"done": 2}), ({**BIG}, None), pause=True)
    assert len(run.inputs_of(UPLOAD)) == 1
    # Episodes: upload scheduled; ref set + Work; ref again + Work; ref again + Work; done.
    refs = [from_status(state["customStatus"]) for state in run.states[1:4]]
    assert {(ref.blob, ref.sha256) for ref in refs} == {(refs[0].blob, refs[0].sha256)}
    assert [ref.summary for ref in refs] == [{"done": 1}, {"done": 2}, None]


def test_unchanged_content_after_an_inline_status_is_not_uploaded_again():
    run = run_steps((BIG, None), ("inline meanwhile", None), (BIG, None))
    assert len(run.inputs_of(UPLOAD)) == 1
    assert from_status(run.final["customStatus"]) is not None


def test_each_upload_names_the_previous_blob_so_it_survives():
    run = run_steps((BIG, None), ("inline", None), (BIG_2, None), (BIG, None))
    first, second, third = run.inputs_of(UPLOAD)
    assert first["previousBlob"] is None
    blob_1 = StatusReference.from_status(fake_upload(first)).blob
    blob_2 = StatusReference.from_status(fake_upload(second)).blob
    assert second["previousBlob"] == blob_1  # the inline status in between does not count
    assert third["previousBlob"] == blob_2


def test_a_status_back_under_the_limit_is_inline_again():
    run = run_steps((BIG, None), ({"done": True}, None))
    assert run.final["customStatus"] == {"done": True}


def test_a_summary_too_large_fails_before_anything_is_scheduled():
    handle = orchestrator_setting((BIG, "s" * MAX_SUMMARY_BYTES))
    error, state = run_failing_episode(handle, History("o"))
    assert "summary" in error and "at most 4,096" in error
    assert flat_actions(state) == []


def test_an_upload_failing_every_attempt_fails_the_instance_with_a_clear_reason():
    handle = orchestrator_setting(("step 1", None), (BIG, None))
    history = History("o")
    run_episode(handle, history)
    # DurableTask's retry: each failure is followed by a timer (at the backoff's delay), the last
    # one too, then the error.
    delays = UPLOAD_RETRY.delays_in_milliseconds()
    for attempt, delay in enumerate(delays, start=1):
        task = history.task_scheduled(UPLOAD)
        history.next_episode()
        history.task_failed(
            task, "Activity function 'UploadCustomStatus' failed: StorageUnavailable: down"
        )
        timer = history.timer_created(history.now + timedelta(milliseconds=delay))
        history.next_episode(delay / 1000)
        history.timer_fired(timer)
        if attempt < len(delays):
            state = run_episode(handle, history)
            assert state["customStatus"] == "step 1"  # nothing half-written replaces it
    error, state = run_failing_episode(handle, history)
    assert "could not store the custom status" in error
    assert "after 7 attempts" in error and "the previous status is unchanged" in error
    assert "StorageUnavailable: down" in error
    assert state["customStatus"] == "step 1"


def test_status_writes_back_off_long_enough_to_ride_out_a_minute_of_outage():
    """DurableTask's RetryInterceptor waits first * coefficient ** n, capped, after failure n+1
    (the last wait comes after the final failure, before the call gives up)."""
    delays = UPLOAD_RETRY.delays_in_milliseconds()
    assert delays == [2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]
    span = sum(delays[:-1])  # from the first failure to the last attempt
    assert span == 90_000 and span >= 60_000
    assert delays[0] <= 2_000  # a blip costs little


def test_the_retry_options_are_the_fields_the_extension_reads():
    """The extension's RetryOptionsConverter requires the first two and reads the backoff ones;
    a retry timeout is left out (DurableTask would give up without the timer the SDK waits for)."""
    options = UPLOAD_RETRY.to_json()
    assert set(options) == {
        "firstRetryIntervalInMilliseconds",
        "maxNumberOfAttempts",
        "backoffCoefficient",
        "maxRetryIntervalInMilliseconds",
    }
    plain = BackoffRetryOptions(1_000, 3)
    assert plain.to_json() == {
        "firstRetryIntervalInMilliseconds": 1_000,
        "maxNumberOfAttempts": 3,
        "backoffCoefficient": 1.0,
    }
    assert plain.delays_in_milliseconds() == [1_000, 1_000, 1_000]
    with pytest.raises(ValueError):
        BackoffRetryOptions(1_000, 3, backoff_coefficient=0.5)


def test_values_json_cannot_carry_fail_the_orchestrator():
    handle = orchestrator_setting((float("nan"), None))
    error, _ = run_failing_episode(handle, History("o"))
    assert "NaN" in error or "Out of range float" in error


@pytest.mark.parametrize(
    "value",
    [
        None,
        0,
        -1.5e-300,
        1e16,
        "plain",
        "line\u2028para\u2029next\u0085end \u2028\u2028",
        'quotes " and \\ and \n and \t and \x00',
        "Zürich 東京 😀 \ud83d",  # a lone surrogate too
        {"b": [1, 2, {"c": None}], "a": True, "é": "\u2029"},
        [[], {}, "", False],
        BIG,
    ],
    ids=lambda value: type(value).__name__,
)
def test_serialize_is_compact_json_with_newtonsofts_three_escapes(value):
    """The one serialisation (sizes, blobs, segments) against its definition: compact JSON,
    non-ASCII kept, and U+0085, U+2028, U+2029 escaped as Newtonsoft writes them."""
    escapes = str.maketrans({"\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    assert serialize(value) == text.translate(escapes)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), {1, 2}, object()], ids=repr)
def test_serialize_refuses_what_json_cannot_carry(bad):
    with pytest.raises((TypeError, ValueError)):
        serialize(bad)
