"""BatchProgress under devhost: 2,150 items in 22 generations appended to one status log, the
resolved status is the whole table, and purging leaves no blob behind. Also the purge endpoint's
answers: 409 for a running instance, 404 for an unknown one."""

import json

import pytest

from activities.process_batch_item import process_item
from custom_status import LogReference
from orchestrators.batch_progress import ITEMS_PER_GENERATION, status_row
from tests.support.http import start_like_the_sdk, wait_until
from tests.support.offload import (
    assert_json_error,
    builtin_status,
    expected_reference,
    instance_blobs,
    our_status,
    raise_event,
    set_step,
)
from tests.support.sized import make_value

SIZE = 2_150  # 22 generations of ITEMS_PER_GENERATION (100), the last one 50 items


async def start_batch(http, base_url, body, instance_id=None):
    params = {"instanceId": instance_id} if instance_id else {}
    url = f"{base_url}/api/orchestrators/BatchProgress"
    async with http.post(url, data=body, params=params) as response:
        return response.status, await response.json()


async def purge(http, base_url, instance_id):
    async with http.delete(f"{base_url}/api/instances/{instance_id}") as response:
        return response.status, await response.json(), await response.text()


async def test_a_batch_of_2000_appends_its_table_completes_and_purges_clean(
    host, http, blobs, instance_id
):
    code, body = await start_batch(http, host.base_url, json.dumps(SIZE), instance_id)
    assert code == 202, body
    final = await wait_until(http, host.base_url, instance_id)
    assert final["runtimeStatus"] == "Completed", final
    assert final["output"] == {"done": SIZE, "total": SIZE, "failed": 0}

    # Generations of ITEMS_PER_GENERATION joined by continue-as-new: the history is the last
    # generation's alone (its 50 items and the one append of their rows), never the whole batch.
    history = await builtin_status(http, host.base_url, instance_id, showHistory="true")
    names = [e.get("FunctionName") for e in history["historyEvents"] if "FunctionName" in e]
    last_generation = SIZE % ITEMS_PER_GENERATION
    assert names.count("ProcessBatchItem") == last_generation
    assert names.count("AppendCustomStatus") == 1
    assert json.loads(history["input"])["resume"]["done"] == SIZE - last_generation

    # Built-in: the log reference with the small summary. Ours: the complete table.
    log = LogReference.from_status(history["customStatus"])
    assert log is not None and log.rows == SIZE
    assert log.summary == {"done": SIZE, "total": SIZE, "state": "completed"}
    code, ours, _ = await our_status(http, host.base_url, instance_id)
    assert code == 200
    assert ours["customStatus"] == {
        "done": SIZE,
        "total": SIZE,
        "state": "completed",
        "items": [status_row(index, process_item(index)) for index in range(SIZE)],
    }
    assert ours["output"] == final["output"]
    assert await instance_blobs(blobs, instance_id) == {log.blob}  # one log for the whole batch

    code, body, _ = await purge(http, host.base_url, instance_id)
    assert (code, body) == (
        200,
        {"instanceId": instance_id, "instancesDeleted": 1, "statusBlobsDeleted": 1},
    )
    assert await instance_blobs(blobs, instance_id) == set()
    code, body, text = await our_status(http, host.base_url, instance_id)
    assert code == 404
    # Many storage requests, and not one of the Azure SDK's per-request INFO lines in the
    # host's console (they are for --verbose): only devhost's own lines.
    assert "Request URL:" not in host.log and "Response status:" not in host.log
    code, body, text = await purge(http, host.base_url, instance_id)
    assert code == 404
    assert_json_error(body, text, "instance_not_found")


@pytest.mark.parametrize("body", ["0", "100001", "-5", "2.5", '"300"', "true", '{"size": 0}', "{}"])
async def test_a_bad_batch_size_is_400(host, http, body):
    code, answer = await start_batch(http, host.base_url, body)
    assert code == 400, answer
    assert answer["error"] == "invalid_input"
    assert "from 1 to 100000" in answer["message"]


async def test_a_running_instance_is_not_purged(host, http, blobs, container_name, instance_id):
    spec = {"kind": "rows", "bytes": 30_000}
    steps = [set_step(spec), {"wait": "Done"}]
    await start_like_the_sdk(http, host.base_url, "StatusScript", {"steps": steps}, instance_id)
    ref = expected_reference(make_value(spec), instance_id, container_name)
    await wait_until(http, host.base_url, instance_id, ("Running",), custom_status=ref.to_status())

    code, body, text = await purge(http, host.base_url, instance_id)
    assert code == 409
    assert_json_error(body, text, "instance_running")
    assert "Terminate it first" in body["message"]
    assert len(await instance_blobs(blobs, instance_id)) == 1  # nothing deleted
    assert (await our_status(http, host.base_url, instance_id))[0] == 200

    await raise_event(http, host.base_url, instance_id, "Done")
    assert (await wait_until(http, host.base_url, instance_id))["runtimeStatus"] == "Completed"
    code, body, _ = await purge(http, host.base_url, instance_id)
    assert code == 200 and body["statusBlobsDeleted"] == 1
    assert await instance_blobs(blobs, instance_id) == set()


async def test_purging_an_unknown_instance_is_404_and_a_bad_id_400(host, http):
    code, body, text = await purge(http, host.base_url, "never-started")
    assert code == 404
    assert_json_error(body, text, "instance_not_found")
    code, body, text = await purge(http, host.base_url, "@entity")
    assert code == 400
    assert_json_error(body, text, "invalid_instance_id")
