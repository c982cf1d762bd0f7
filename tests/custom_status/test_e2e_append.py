"""An append-style status through devhost and Azurite: 2,000 rows in batches, across
continue-as-new, with the real AppendCustomStatus activity; readers get one JSON value.
"""

import json

from tests.custom_status.app.function_app import script_row
from tests.support.http import start_like_the_sdk, wait_until
from tests.support.offload import builtin_status, instance_blobs, our_status

ROWS, BATCH, PER_GENERATION = 2_000, 50, 10  # 40 appends, 4 generations


async def test_rows_appended_across_generations_read_back_whole(host, http, blobs, instance_id):
    job = {"rows": ROWS, "batch": BATCH, "batchesPerGeneration": PER_GENERATION}
    await start_like_the_sdk(http, host.base_url, "AppendScript", job, instance_id)
    final = await wait_until(http, host.base_url, instance_id)
    assert final["runtimeStatus"] == "Completed", final
    assert final["output"] == ROWS

    # The host holds only the reference: counts, the chain, the summary.
    stored = (await builtin_status(http, host.base_url, instance_id))["customStatus"]
    log = stored["$customStatusLog"]
    assert (log["rows"], log["segments"], log["summary"]) == (
        ROWS,
        ROWS // BATCH,
        {"done": ROWS, "total": ROWS},
    )
    assert len(json.dumps(stored)) < 1_000

    # Continue-as-new kept the history to the last generation: its own appends, no more.
    history = await builtin_status(http, host.base_url, instance_id, showHistory="true")
    appends = [e for e in history["historyEvents"] if e.get("FunctionName") == "AppendCustomStatus"]
    assert len(appends) == PER_GENERATION
    assert json.loads(history["input"])["next"] == ROWS - BATCH * PER_GENERATION

    code, ours, _ = await our_status(http, host.base_url, instance_id)
    assert code == 200
    assert ours["customStatus"] == {
        "done": ROWS,
        "total": ROWS,
        "items": [script_row(n) for n in range(ROWS)],
    }
    assert len(await instance_blobs(blobs, instance_id)) == 1  # one log, however many appends


async def test_readers_racing_appends_see_whole_prefixes_never_a_torn_table(
    host, http, instance_id
):
    """While rows are appended, every read through ``/api/status`` is one consistent value: the
    summary's count and exactly that many rows, in order, as some append left them (a read
    downloads only the prefix its reference names, so a later append cannot tear it)."""
    job = {"rows": 1_200, "batch": 20, "batchesPerGeneration": 10}  # 60 appends, 6 generations
    await start_like_the_sdk(http, host.base_url, "AppendScript", job, instance_id)
    counts = []
    for _ in range(20_000):  # reads as fast as they go; the instance ends long before this
        code, ours, _ = await our_status(http, host.base_url, instance_id)
        if code == 200 and isinstance(ours["customStatus"], dict):
            status = ours["customStatus"]
            done = status["done"]
            assert status["items"] == [script_row(n) for n in range(done)], done
            counts.append(done)
        if code == 200 and ours["runtimeStatus"] in ("Completed", "Failed", "Terminated"):
            break
    assert counts[-1] == 1_200 and counts == sorted(counts)
    assert all(count % 20 == 0 for count in counts)  # a whole append, or none of it
    assert len(set(counts)) > 2  # the reads did overlap the appends
