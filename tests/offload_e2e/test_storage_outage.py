"""Blob storage going away, on an Azurite of its own (the session Azurite keeps serving others).

* Storage down while an orchestrator offloads: the upload activity fails, the instance keeps its
  previous status (nothing half-written is served) and the retry policy (5 attempts, durable
  timers 2 s apart, skipped here with devhost's manual clock) carries on. If storage comes back,
  the status is set; if it never does, the instance fails with a reason that says so.
* Storage down while a client reads an offloaded status: 503 with a JSON error; purge: 503, and
  nothing is purged.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from devhost.azurite import Azurite
from tests.support.devhost_process import DevhostProcess
from tests.support.http import start_like_the_sdk, wait_until

from .conftest import start_devhost
from .helpers import (
    assert_json_error,
    builtin_status,
    invocations,
    our_status,
    raise_event,
    run_script,
    set_step,
)
from .sized import make_value

BIG = {"kind": "rows", "bytes": 50_000}
SCRIPT = [set_step({"value": "waiting"}), {"wait": "Go"}, set_step(BIG)]


class Outage:
    """An Azurite that tests stop and restart on the same port, and a devhost using it."""

    def __init__(self, tmp: Path) -> None:
        self.data_dir = tmp / "azurite"
        self.azurite = Azurite(self.data_dir, port=0).start()
        self.port = self.azurite.blob_port
        self.host = start_devhost(tmp, self.azurite.connection_string, "outage")

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

    outage.restart_storage()
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
    for attempt in range(1, 6):
        wait_for_failed_attempt(host, instance_id, attempt)
        await advance_clock(http, host)

    final = await wait_until(http, host.base_url, instance_id)
    assert final["runtimeStatus"] == "Failed", final
    reason = final["output"]
    assert "could not store the custom status" in reason
    assert "after 5 attempts" in reason and "the previous status is unchanged" in reason
    assert "StorageUnavailable" in reason
    assert invocations(host, "UploadCustomStatus", instance_id, "Failed") == 5

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
