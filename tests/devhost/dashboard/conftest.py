"""Fixtures for the dashboard API's tests: a real devhost on a free loopback port (its engine,
worker processes and HTTP server, state in memory, the clock manual) running the test app in
``apps/timeline``, and an aiohttp client that calls it over HTTP as the page does."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from devhost.core.options import HostOptions
from devhost.server import DevHost

APPS = Path(__file__).parent / "apps"
API = "/devhost/api"
WEBHOOK = "/runtime/webhooks/durabletask"


@pytest.fixture(autouse=True)
def _restore_environ(restore_environ: None) -> None:
    """Each test starts with the environment the one before it found."""


def options(**overrides: Any) -> HostOptions:
    values: dict[str, Any] = {
        "app_dir": APPS / "timeline",
        "port": 0,
        "in_memory": True,
        "start_azurite": False,
        "manual_clock": True,
    }
    values.update(overrides)
    return HostOptions(**values)


@pytest.fixture
def start_host() -> Callable[..., Any]:
    """``async with start_host(status_changes_kept=3) as host``."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[DevHost]:
        async with DevHost(options(**overrides)) as host:
            yield host

    return start


@pytest.fixture
async def host(start_host: Callable[..., Any]) -> AsyncIterator[DevHost]:
    async with start_host() as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def get_json(
    http: aiohttp.ClientSession, host: DevHost, path: str, status: int = 200, **kwargs: Any
) -> Any:
    """GET ``path`` (under the API unless it starts with ``/``), check the status, and return
    the JSON body."""
    url = host.base_url + (path if path.startswith("/") else f"{API}/{path}")
    async with http.get(url, **kwargs) as reply:
        text = await reply.text()
        assert reply.status == status, text
        return json.loads(text)


async def start(host: DevHost, name: str, value: Any = None, instance_id: str | None = None) -> str:
    """Start an instance as the SDK's client does (the input a JSON string of JSON text)."""
    return await host.engine.start_orchestration(name, instance_id, json.dumps(json.dumps(value)))


async def run_to_end(
    host: DevHost, name: str, value: Any = None, instance_id: str | None = None
) -> dict[str, Any]:
    """Start an instance and return its status once it has ended."""
    return await ended(host, await start(host, name, value, instance_id))


async def ended(host: DevHost, instance_id: str, timeout: float = 30) -> dict[str, Any]:
    """The status once the instance has ended, waited for on the engine's commits."""
    return await host.engine.wait_for(
        instance_id,
        lambda s: s["runtimeStatus"] in ("Completed", "Failed", "Terminated"),
        timeout,
    )


async def until(
    host: DevHost, instance_id: str, condition: Callable[[], bool], timeout: float = 30
) -> None:
    """Return once ``condition()`` holds, checking it after each committed change of the
    instance (no sleeps); TimeoutError after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise TimeoutError(f"instance {instance_id}: the condition never held")
        await host.engine.wait_for_state_change(instance_id, remaining)
