"""custom_status.status_log against a real Azurite: appends, retries, racing readers, tampering.

The append-style status (issue 14's first part): only new rows travel to storage, each append is
conditional on the log's length, and a reader checks the hash chain over what the reference names.
"""

import json
import uuid

import pytest

from custom_status import StatusBlobCorrupt, StatusBlobMissing, serialize
from custom_status.blobs import delete_instance_blobs, delete_superseded, upload_status
from custom_status.errors import InvalidStatusReference
from custom_status.log_reference import LogReference, after_append
from custom_status.status_log import AppendConflict, append_rows, new_log, read_log_rows


def rows(start: int, count: int) -> list[dict]:
    return [{"item": n, "city": "Zürich", "note": "東京 ✓\n"} for n in range(start, start + count)]


def fresh_log(instance_id: str = "log-1") -> LogReference:
    return new_log(instance_id, uuid.uuid4().hex)


async def test_appended_rows_read_back_as_one_array(status_container):
    ref = fresh_log()
    for start in range(0, 30, 10):
        ref = await append_rows(ref, rows(start, 10), {"done": start + 10})
    assert (ref.segments, ref.rows, ref.summary) == (3, 30, {"done": 30})
    assert json.loads(await read_log_rows(ref)) == rows(0, 30)


async def test_the_reference_round_trips_through_a_custom_status(status_container):
    ref = await append_rows(fresh_log(), rows(0, 3), {"done": 3})
    status = json.loads(json.dumps(ref.to_status()))  # as the host stores it
    assert LogReference.from_status(status) == ref
    assert LogReference.from_status({"done": 3}) is None
    with pytest.raises(InvalidStatusReference):
        LogReference.from_status({"$customStatusLog": {**status["$customStatusLog"], "size": -1}})


async def test_empty_appends_and_an_empty_log_are_an_empty_array(status_container):
    ref = fresh_log()
    assert await read_log_rows(ref) == b"[]"
    ref = await append_rows(ref, [])
    ref = await append_rows(ref, rows(0, 2))
    ref = await append_rows(ref, [])
    assert json.loads(await read_log_rows(ref)) == rows(0, 2)


async def test_a_retried_append_writes_nothing_twice(status_container):
    """The activity appended, then failed before its completion was recorded: run again with
    the same input, it returns the same reference and the rows are there once."""
    before = await append_rows(fresh_log(), rows(0, 5))
    first = await append_rows(before, rows(5, 5), {"done": 10})
    retried = await append_rows(before, rows(5, 5), {"done": 10})
    assert retried == first
    assert json.loads(await read_log_rows(first)) == rows(0, 10)
    after = await append_rows(first, rows(10, 1))
    assert json.loads(await read_log_rows(after)) == rows(0, 11)


async def test_a_retried_first_append_reuses_the_blob(status_container):
    empty = fresh_log()
    first = await append_rows(empty, rows(0, 2))
    assert await append_rows(empty, rows(0, 2)) == first
    assert json.loads(await read_log_rows(first)) == rows(0, 2)


async def test_an_append_after_other_bytes_is_refused(status_container):
    before = await append_rows(fresh_log(), rows(0, 5))
    await append_rows(before, rows(5, 5))
    with pytest.raises(AppendConflict):
        await append_rows(before, rows(100, 5))  # a stale reference, different rows


async def test_a_reader_of_the_old_reference_sees_the_old_rows(status_container):
    """A reader holding the previous reference while an append lands reads exactly the rows
    that reference names, never a torn mix."""
    old = await append_rows(fresh_log(), rows(0, 5))
    new = await append_rows(old, rows(5, 5))
    assert json.loads(await read_log_rows(old)) == rows(0, 5)
    assert json.loads(await read_log_rows(new)) == rows(0, 10)


@pytest.mark.parametrize("where", ["first segment", "last segment", "newline"])
async def test_an_altered_segment_is_corrupt(status_container, container, where):
    ref = fresh_log()
    for start in range(0, 9, 3):
        ref = await append_rows(ref, rows(start, 3))
    blob = container.get_blob_client(ref.blob)
    data = await (await blob.download_blob()).readall()
    position = {"first segment": 10, "last segment": len(data) - 10, "newline": data.index(b"\n")}
    altered = bytearray(data)
    altered[position[where]] = ord("X")
    await blob.upload_blob(bytes(altered), overwrite=True)  # now a block blob of the same bytes
    with pytest.raises(StatusBlobCorrupt):
        await read_log_rows(ref)


async def test_a_missing_log_is_reported(status_container):
    ref = fresh_log()
    ref, _ = after_append(ref, rows(0, 1), None)  # a reference to appends that never happened
    with pytest.raises(StatusBlobMissing):
        await read_log_rows(ref)


async def test_the_clean_up_of_superseded_statuses_keeps_the_log(status_container):
    """An instance may set whole statuses and keep a log: replacing a status is no reason to
    drop the log."""
    ref = await append_rows(fresh_log("mixed-1"), rows(0, 3))
    current = await upload_status("mixed-1", serialize({"rows": ["x" * 100] * 200}))
    await delete_superseded("mixed-1", {current.blob})
    assert json.loads(await read_log_rows(ref)) == rows(0, 3)


async def test_purge_removes_the_log(status_container, container):
    ref = await append_rows(fresh_log("purged-1"), rows(0, 3))
    assert await delete_instance_blobs("purged-1") == 1
    with pytest.raises(StatusBlobMissing):
        await read_log_rows(ref)


def test_a_log_id_must_come_from_new_uuid():
    with pytest.raises(ValueError, match="32 lowercase hex"):
        new_log("x", "not-a-uuid")
