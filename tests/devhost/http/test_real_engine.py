"""Round trips through devhost's HTTP layer and the real engine (no fakes, no sleeps)."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import azure.durable_functions as df
import pytest
from azure.durable_functions.models.OrchestrationRuntimeStatus import OrchestrationRuntimeStatus

from devhost.http.urls import client_binding_json
from devhost.server import DevHost

from .conftest import APPS

pytest.importorskip("devhost.runtime.engine")

ROOT = Path(__file__).resolve().parents[3]
WEBHOOK = "/runtime/webhooks/durabletask"


@pytest.fixture
async def real_host(start_host: Any) -> Any:
    async with start_host("basic", manual_clock=True, test_hooks=True) as host:
        yield host


def status_is(*names: str) -> Any:
    return lambda status: status["runtimeStatus"] in names


async def test_sdk_client_start_event_terminate_purge(real_host: DevHost) -> None:
    client = df.DurableOrchestrationClient(
        client_binding_json(real_host.urls, real_host.index.task_hub)
    )
    engine = real_host.engine
    instance_id = await client.start_new("hello_orchestrator", "real-1", {"n": 1})
    status = await client.get_status(instance_id, show_input=True)
    assert status.runtime_status in (
        OrchestrationRuntimeStatus.Pending,
        OrchestrationRuntimeStatus.Running,
    )
    assert status.input_ == '{"n": 1}'

    await client.raise_event(instance_id, "Approval", {"ok": True})
    await engine.wait_for(instance_id, status_is("Completed"))
    status = await client.get_status(instance_id, show_history=True)
    assert status.runtime_status == OrchestrationRuntimeStatus.Completed
    assert status.output == ["Hello Tokyo!", '{"ok": true}']  # the SDK's event encoding (#295)
    with pytest.raises(Exception, match="is gone"):
        await client.raise_event(instance_id, "Approval", 1)

    other = await client.start_new("hello_orchestrator", "real-2")
    await client.terminate(other, "enough")
    await engine.wait_for(other, status_is("Terminated"))
    assert (await client.purge_instance_history(other)).instances_deleted == 1
    assert not await client.get_status(other)
    assert [s.instance_id for s in await client.get_status_all()] == ["real-1"]


async def test_http_starter_and_webhook_status(
    real_host: DevHost, http: aiohttp.ClientSession
) -> None:
    url = f"{real_host.base_url}/api/orchestrators/NamedOrchestrator/named-1"
    async with http.post(url, json={"city": "Lima"}) as response:
        assert response.status == 202
        location = response.headers["Location"]
    await real_host.engine.wait_for("named-1", status_is("Completed"))
    async with http.get(location) as response:
        assert response.status == 200
        body = await response.json()
    assert body["output"] == {"city": "Lima"}
    assert body["runtimeStatus"] == "Completed"
    assert body["createdTime"].endswith("Z")


async def test_start_and_wait_returns_the_output(
    real_host: DevHost, http: aiohttp.ClientSession
) -> None:
    url = (
        f"{real_host.base_url}{WEBHOOK}/orchestrators/NamedOrchestrator/waited"
        "?timeout=30&pollingInterval=1"
    )
    async with http.post(url, data=b'{"x": 1}') as response:
        assert response.status == 200
        assert await response.json() == {"x": 1}


async def test_manual_clock_fires_a_durable_timer(
    real_host: DevHost, http: aiohttp.ClientSession
) -> None:
    engine = real_host.engine
    async with http.post(
        f"{real_host.base_url}{WEBHOOK}/orchestrators/timer_orchestrator/t-1"
    ) as response:
        assert response.status == 202
    await engine.wait_for("t-1", lambda s: s["customStatus"] == "waiting")
    async with http.get(f"{real_host.base_url}{WEBHOOK}/instances/t-1") as response:
        assert response.status == 202
    async with http.post(
        f"{real_host.base_url}/admin/devhost/clock/advance", json={"seconds": 61}
    ) as response:
        assert response.status == 200
    status = await engine.wait_for("t-1", status_is("Completed"))
    assert status["output"] == "fired"


async def test_duplicate_and_unknown_with_the_real_engine(
    real_host: DevHost, http: aiohttp.ClientSession
) -> None:
    base = f"{real_host.base_url}/durabletask/orchestrators"
    async with http.post(f"{base}/timer_orchestrator/dup") as response:
        assert response.status == 202
    async with http.post(f"{base}/timer_orchestrator/dup") as response:
        assert response.status == 500  # the extension's catch-all, as on Azure
        assert "already exists" in (await response.json())["ExceptionMessage"]
    async with http.post(f"{base}/nothing_like_it") as response:
        assert response.status == 400
        assert "doesn't exist" in (await response.json())["ExceptionMessage"]


def test_cli_serves_until_sigterm(tmp_path: Path) -> None:
    """``python -m devhost`` prints the listing, serves, logs invocations, exits 0 on SIGTERM."""
    command = [
        sys.executable, "-m", "devhost", "--app-dir", str(APPS / "basic"), "--port", "0",
        "--state", str(tmp_path / "state.sqlite"), "--no-azurite",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        assert process.stdout is not None
        seen: list[str] = []
        for line in process.stdout:
            seen.append(line)
            match = re.search(r"listening on http://localhost:(\d+)", line)
            if match:
                break
        assert match, "".join(seen)
        assert any("\ttext: [ALL] http://localhost:" in line for line in seen)

        async def fetch() -> tuple[int, str]:
            async with aiohttp.ClientSession() as session:
                url = f"http://127.0.0.1:{match.group(1)}/api/text"
                async with session.get(url) as response:
                    return response.status, await response.text()

        assert asyncio.run(fetch()) == (200, "plain text")
        for line in process.stdout:
            seen.append(line)
            if "Executed 'Functions.text' (Succeeded" in line:
                break
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=30)
        assert process.returncode == 0, "".join(seen) + rest
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
