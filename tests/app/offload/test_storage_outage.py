"""Blob storage going away, on an Azurite of its own (the session Azurite keeps serving others).

* Storage down while an orchestrator offloads: the upload activity fails, the instance keeps its
  previous status (nothing half-written is served) and the retry policy (``UPLOAD_RETRY``: 7
  attempts with exponential backoff, durable timers skipped here with devhost's manual clock)
  carries on. If storage comes back, the status is set; if it never does, the instance fails with
  a reason that says so.
* Storage down while a BatchProgress runs: its append waits out the outage and the batch
  completes with every row; if storage never returns, the instance fails and its summary says
  ``"state": "failed"`` (not ``"running"``) next to the rows appended before.
* Storage down while a client reads an offloaded status: 503 with a JSON error; purge: 503, and
  nothing is purged.
"""

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from activities.process_batch_item import process_item
from custom_status import UPLOAD_RETRY, StorageSettings, append_rows, new_log
from devhost.dev.azurite import Azurite
from orchestrators.batch_progress import ITEMS_PER_GENERATION, progress_summary, status_row
from tests.support.devhost_process import DevhostProcess
from tests.support.http import start_like_the_sdk, wait_until
from tests.support.offload import (
    assert_json_error,
    builtin_status,
    invocations,
    our_status,
    raise_event,
    run_script,
    set_step,
)
from tests.support.sized import make_value

from .conftest import start_devhost

BIG = {"kind": "rows", "bytes": 50_000}
SCRIPT = [set_step({"value": "waiting"}), {"wait": "Go"}, set_step(BIG)]


CONTAINER = "outage"
ATTEMPTS = UPLOAD_RETRY.max_number_of_attempts


class Outage:
    """An Azurite that tests stop and restart on the same port, and a devhost using it."""

    def __init__(self, tmp: Path) -> None:
        self.data_dir = tmp / "azurite"
        self.azurite = Azurite(self.data_dir, port=0).start()
        self.port = self.azurite.blob_port
        self.host = start_devhost(tmp, self.azurite.connection_string, CONTAINER)
        self.storage = StorageSettings(
            connection_string=self.azurite.connection_string, container=CONTAINER
        )

    def stop_storage(self) -> None:
        self.azurite.stop()

    def restart_storage(self) -> None:
        self.azurite = Azurite(self.data_dir, port=self.port).start()


@pytest.fixture
def outage(tmp_path: Path) -> Iterator[Outage]:
    setup = Outage(tmp_path)
    try:
        yield setup
    finally:
        setup.host.stop()
        setup.azurite.stop()


async def advance_clock(http, host: DevhostProcess, seconds: float = 60) -> None:
    async with http.post(
        f"{host.base_url}/admin/devhost/clock/advance", json={"seconds": seconds}
    ) as r:
        assert r.status == 200, await r.text()


def wait_for_failed_attempt(host: DevhostProcess, instance_id: str, attempt: int) -> None:
    """Until upload attempt ``attempt`` failed and the orchestrator scheduled its retry timer.

    Episodes: 1 start, 2 the event (schedules attempt 1), then after each failure one episode
    that creates the retry timer and, once it fires, one that schedules the next attempt.
    """
    activity = rf"Executed 'Functions\.UploadCustomStatus' \(Failed, InstanceId={instance_id},"
    host.wait_for_line(activity, count=attempt)
    orchestrator = rf"Executed 'Functions\.StatusScript' \(\w+, InstanceId={instance_id},"
    host.wait_for_line(orchestrator, count=2 * attempt + 1)


async def storage_back_while_held(outage: Outage, http, instance_id: str) -> None:
    """Restart Azurite with the instance suspended (the extension's suspend), then resume it.

    devhost's retry timers do not back off (each waits the first interval, 2 s) and the manual
    clock still runs in real time, while an Azurite restart takes about 1.3 s and more on a
    loaded machine: unheld, the instance could spend attempts meanwhile. Held, it spends none,
    so the test, not the machine's speed, decides how many attempts fail."""
    base = f"{outage.host.base_url}/runtime/webhooks/durabletask/instances/{instance_id}"
    async with http.post(f"{base}/suspend") as response:
        assert response.status == 202, await response.text()
    outage.restart_storage()
    async with http.post(f"{base}/resume") as response:
        assert response.status == 202, await response.text()


async def start_waiting(http, host: DevhostProcess, instance_id: str) -> None:
    await start_like_the_sdk(http, host.base_url, "StatusScript", {"steps": SCRIPT}, instance_id)
    await wait_until(http, host.base_url, instance_id, ("Running",), custom_status="waiting")


async def test_the_upload_retries_until_storage_is_back(outage, http, instance_id):
    host = outage.host
    await start_waiting(http, host, instance_id)
    outage.stop_storage()
    await raise_event(http, host.base_url, instance_id, "Go")
    wait_for_failed_attempt(host, instance_id, 1)

    # Meanwhile clients see the previous status, complete, and the instance runs on.
    code, body, _ = await our_status(http, host.base_url, instance_id)
    assert code == 200
    assert (body["runtimeStatus"], body["customStatus"]) == ("Running", "waiting")

    await storage_back_while_held(outage, http, instance_id)
    await advance_clock(http, host)  # the retry timer fires: attempt 2
    final = await wait_until(http, host.base_url, instance_id)
    assert final["runtimeStatus"] == "Completed", final
    code, body, _ = await our_status(http, host.base_url, instance_id)
    assert code == 200 and body["customStatus"] == make_value(BIG)
    assert invocations(host, "UploadCustomStatus", instance_id, "Failed") == 1
    assert invocations(host, "UploadCustomStatus", instance_id, "Succeeded") == 1


async def test_the_instance_fails_clearly_if_storage_never_returns(outage, http, instance_id):
    host = outage.host
    await start_waiting(http, host, instance_id)
    outage.stop_storage()
    await raise_event(http, host.base_url, instance_id, "Go")
    for attempt in range(1, ATTEMPTS + 1):
        wait_for_failed_attempt(host, instance_id, attempt)
        await advance_clock(http, host)

    final = await wait_until(http, host.base_url, instance_id)
    assert final["runtimeStatus"] == "Failed", final
    reason = final["output"]
    assert "could not store the custom status" in reason
    assert f"after {ATTEMPTS} attempts" in reason and "the previous status is unchanged" in reason
    assert "StorageUnavailable" in reason
    assert invocations(host, "UploadCustomStatus", instance_id, "Failed") == ATTEMPTS

    # Nothing half-written: the status is still the last one that was set.
    code, body, _ = await our_status(http, host.base_url, instance_id)
    assert code == 200
    assert (body["runtimeStatus"], body["customStatus"]) == ("Failed", "waiting")


async def test_reading_or_purging_while_storage_is_down_is_503(outage, http, instance_id):
    host = outage.host
    final = await run_script(http, host.base_url, instance_id, [set_step(BIG)])
    assert final["runtimeStatus"] == "Completed", final
    outage.stop_storage()

    code, body, text = await our_status(http, host.base_url, instance_id)
    assert code == 503
    assert_json_error(body, text, "storage_unavailable")
    async with http.delete(f"{host.base_url}/api/instances/{instance_id}") as response:
        assert response.status == 503
        assert_json_error(await response.json(), await response.text(), "storage_unavailable")
    assert (await builtin_status(http, host.base_url, instance_id))["runtimeStatus"] == "Completed"

    outage.restart_storage()
    code, body, _ = await our_status(http, host.base_url, instance_id)
    assert code == 200 and body["customStatus"] == make_value(BIG)
    async with http.delete(f"{host.base_url}/api/instances/{instance_id}") as response:
        assert response.status == 200
        assert (await response.json())["statusBlobsDeleted"] == 1


# -- BatchProgress --------------------------------------------------------------------------------

BATCH = 250  # generations of 100: the outage hits the second one's append, a third follows


async def a_batch_running_for_one_generation(outage: Outage, instance_id: str) -> dict:
    """The input BatchProgress's first generation continues as new with (its 100 rows appended to
    the instance's log in storage, the summary "running"), so the test can take storage away
    exactly before the second generation's append."""
    rows = [status_row(i, process_item(i)) for i in range(ITEMS_PER_GENERATION)]
    log = new_log(instance_id, uuid.uuid4().hex, rows_key="items", container=CONTAINER)
    log = await append_rows(log, [], progress_summary(0, BATCH), settings=outage.storage)
    summary = progress_summary(ITEMS_PER_GENERATION, BATCH)
    log = await append_rows(log, rows, summary, settings=outage.storage)
    assert summary["state"] == "running"
    failed = sum(1 for row in rows if row["result"] != "ok")
    return {
        "size": BATCH,
        "resume": {"done": ITEMS_PER_GENERATION, "failed": failed, "log": log.to_status()},
    }


async def wait_for_retry_timer(http, host: DevhostProcess, instance_id: str, count: int) -> None:
    """Until the append's attempt ``count`` failed and its retry timer was created (both are
    committed in one episode), so advancing the clock fires it."""
    url = f"{host.base_url}/admin/devhost/instances/{instance_id}/wait"
    body = {"runtimeStatus": ["Running"], "historyEvents": {"TimerCreated": count}, "timeout": 60}
    async with http.post(url, json=body) as response:
        assert response.status == 200, await response.text()


OUTAGE_MS = 60_000


def attempts_failing_during(outage_ms: int) -> int:
    """How many attempts of a status write start while storage is down for ``outage_ms`` from
    the first one, with the waits the Functions host puts between them (``UPLOAD_RETRY``)."""
    started_at, attempts = 0, 0
    for delay in UPLOAD_RETRY.delays_in_milliseconds():
        if started_at >= outage_ms:
            break
        attempts += 1
        started_at += delay
    return attempts


def every_row(done: int) -> list[dict]:
    return [status_row(i, process_item(i)) for i in range(done)]


async def test_a_batch_rides_out_storage_going_down_and_coming_back(outage, http, instance_id):
    host = outage.host
    resume = await a_batch_running_for_one_generation(outage, instance_id)
    outage.stop_storage()
    await start_like_the_sdk(http, host.base_url, "BatchProgress", resume, instance_id)

    # The second generation processes its items (no storage needed), then its append fails,
    # waits (durable timers, skipped here), fails again... for a minute: every attempt the
    # policy makes in 60 s fails (devhost's timers do not back off, so the test counts them).
    outages = attempts_failing_during(OUTAGE_MS)
    assert outages == 5 and outages < ATTEMPTS
    for attempt in range(1, outages + 1):
        await wait_for_retry_timer(http, host, instance_id, attempt)
        if attempt < outages:
            await advance_clock(http, host)
    status = await builtin_status(http, host.base_url, instance_id)
    assert status["runtimeStatus"] == "Running"
    await storage_back_while_held(outage, http, instance_id)  # ... and storage is back
    await advance_clock(http, host)  # the next attempt

    final = await wait_until(http, host.base_url, instance_id)
    assert final["runtimeStatus"] == "Completed", final
    failed = sum(1 for row in every_row(BATCH) if row["result"] != "ok")
    assert final["output"] == {"done": BATCH, "total": BATCH, "failed": failed}
    code, body, _ = await our_status(http, host.base_url, instance_id)
    assert code == 200
    assert body["customStatus"] == {
        "done": BATCH,
        "total": BATCH,
        "state": "completed",
        "items": every_row(BATCH),
    }
    # Five attempts failed; the sixth appended, then the third generation's append.
    assert invocations(host, "AppendCustomStatus", instance_id, "Failed") == outages
    assert invocations(host, "AppendCustomStatus", instance_id, "Succeeded") == 2


async def test_a_batch_whose_storage_never_returns_says_failed_not_running(
    outage, http, instance_id
):
    host = outage.host
    resume = await a_batch_running_for_one_generation(outage, instance_id)
    outage.stop_storage()
    await start_like_the_sdk(http, host.base_url, "BatchProgress", resume, instance_id)
    for attempt in range(1, ATTEMPTS + 1):
        await wait_for_retry_timer(http, host, instance_id, attempt)
        await advance_clock(http, host)

    final = await wait_until(http, host.base_url, instance_id)
    assert final["runtimeStatus"] == "Failed", final
    reason = final["output"]
    assert f"could not append {ITEMS_PER_GENERATION} rows" in reason
    assert f"after {ATTEMPTS} attempts" in reason and "StorageUnavailable" in reason
    assert invocations(host, "AppendCustomStatus", instance_id, "Failed") == ATTEMPTS

    # What the host holds is small and inline, and says failed, with the reason.
    summary = (await builtin_status(http, host.base_url, instance_id))["customStatus"]
    summary = summary["$customStatusLog"]["summary"]
    assert (summary["done"], summary["total"], summary["state"]) == (100, BATCH, "failed")
    assert "could not append" in summary["reason"] and "StorageUnavailable" in summary["reason"]
    assert len(json.dumps(summary)) < 1_000

    # Once storage is back, the table is the rows appended before, under the failed summary.
    outage.restart_storage()
    code, body, _ = await our_status(http, host.base_url, instance_id)
    assert code == 200 and body["runtimeStatus"] == "Failed"
    assert body["customStatus"] == {**summary, "items": every_row(ITEMS_PER_GENERATION)}
