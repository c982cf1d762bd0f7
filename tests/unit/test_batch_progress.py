"""BatchProgress through the SDK's replay: chunks of items, a status that outgrows 16 KB.

The table of item results is set inline while it is small, then offloaded (UploadCustomStatus,
answered here without storage) with the summary ``{"done", "total"}``; the input is validated.
"""

import json

import pytest

from activities.process_batch_item import process_item
from custom_status import MAX_INLINE_BYTES, from_status, inline_size
from orchestrators.batch_progress import (
    CHUNK_SIZE,
    MAX_BATCH_SIZE,
    PROCESS_BATCH_ITEM,
    parse_batch_size,
    progress_status,
)
from orchestrators.inputs import InvalidInput
from tests.replay import History, run_failing_episode

from .replay_driver import UPLOAD, drive, fake_upload

NAME = "BatchProgress"


def answer(name, payload):
    if name == PROCESS_BATCH_ITEM:
        return process_item(payload["index"])
    assert name == UPLOAD
    return fake_upload(payload)


def test_a_batch_of_300_reports_every_item_and_offloads_once_the_table_is_large(orchestrator):
    run = drive(orchestrator(NAME), History(NAME, 300), answer)

    assert run.final["output"] == {"done": 300, "total": 300, "failed": 0}
    items = [payload["index"] for payload in run.inputs_of(PROCESS_BATCH_ITEM)]
    assert items == list(range(300))  # each item once, in order

    # What each episode hands the host fits its limit (an episode that schedules an upload
    # still carries the previous status, which must not have grown meanwhile).
    assert all(inline_size(state["customStatus"]) <= MAX_INLINE_BYTES for state in run.states)

    # Statuses after each chunk: inline while small, then references with the inline summary.
    uploads = run.inputs_of(UPLOAD)
    uploaded = [json.loads(payload["json"]) for payload in uploads]
    assert [status["done"] for status in uploaded] == list(range(75, 301, 25))
    assert all(inline_size(status) > MAX_INLINE_BYTES for status in uploaded)
    assert [payload["summary"] for payload in uploads] == [
        {"done": done, "total": 300} for done in range(75, 301, 25)
    ]
    # The table passes 16 KB between 50 and 75 items: 50 items still fit inline.
    assert inline_size(progress_status([process_item(i) for i in range(50)], 300)) <= (
        MAX_INLINE_BYTES
    )

    final = uploaded[-1]
    assert final["state"] == "completed"
    assert final["items"] == [process_item(i) for i in range(300)]
    ref = from_status(run.final["customStatus"])
    assert ref.summary == {"done": 300, "total": 300}
    # Each upload names the blob of the one before, which the activity keeps.
    previous = [payload["previousBlob"] for payload in uploads]
    blobs = [from_status(fake_upload(payload)).blob for payload in uploads]
    assert previous == [None, *blobs[:-1]]


def test_the_first_statuses_are_inline_tables(orchestrator):
    run = drive(orchestrator(NAME), History(NAME, 50), answer)
    first, after_one_chunk = run.states[0], run.states[1]
    assert first["customStatus"] == {"done": 0, "total": 50, "state": "running", "items": []}
    assert after_one_chunk["customStatus"]["done"] == CHUNK_SIZE
    assert after_one_chunk["customStatus"]["items"][0] == process_item(0)
    assert run.inputs_of(UPLOAD) == []  # 50 items fit in 16 KB
    assert run.final["customStatus"]["state"] == "completed"


@pytest.mark.parametrize("value", [1, 250, MAX_BATCH_SIZE, {"size": 7}])
def test_valid_sizes(value):
    assert parse_batch_size(value) == (value["size"] if isinstance(value, dict) else value)


@pytest.mark.parametrize(
    "value",
    [0, -1, MAX_BATCH_SIZE + 1, 2.5, 10.0, "10", True, None, [10], {"size": 0}, {"count": 10}],
    ids=repr,
)
def test_invalid_sizes_are_refused_with_the_allowed_range(value):
    with pytest.raises(InvalidInput, match="from 1 to 1000"):
        parse_batch_size(value)


def test_a_bad_input_fails_the_instance(orchestrator):
    error, _ = run_failing_episode(orchestrator(NAME), History(NAME, 5000))
    assert "BatchProgress input must be the batch size" in error


def test_process_item_rows_are_deterministic_and_numbered_from_one():
    assert process_item(36) == process_item(36)
    assert process_item(36)["item"] == 37 and process_item(36)["name"] == "item-0037"
    with pytest.raises(ValueError):
        process_item(-1)
