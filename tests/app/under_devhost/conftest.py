"""Fixtures of the end-to-end tests: the real app in one devhost process, on a real Azurite.

One devhost (``python -m devhost`` on the repository root, ``--manual-clock --test-hooks
--no-azurite``, a temporary SQLite state file, ``AzureWebJobsStorage`` pointing at the session
Azurite) serves every test in the session, as a developer's ``scripts/run.sh`` would; starting one
per test would cost seconds each. Tests stay independent by using fresh instance ids, and wait on
devhost's long-poll hook (``api.wait``) or its log lines, never on sleeps.

``tests/app/pages`` imports these fixtures too. Pytest makes a separate fixture definition per
``conftest.py`` that holds one, so the host is kept in the session's stash: whichever folder asks
first starts it, the other reuses it, and only the first stops it.

The SDK's ``DurableOrchestrationClient`` (``sdk_client``) is built from the same binding JSON
devhost hands the app's own HTTP functions, so tests drive the host exactly as the app does.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import EllipsisType
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
import azure.durable_functions as df
import pytest
from yarl import URL

from devhost.dev.azurite import Azurite
from devhost.http.urls import HostUrls, client_binding_json
from tests.support.azurite import azurite  # noqa: F401 (pytest fixture)
from tests.support.devhost_process import ROOT, DevhostProcess

WEBHOOKS = "/runtime/webhooks/durabletask"
ENDED = ("Completed", "Failed", "Terminated", "Canceled")
APPS = ROOT / "tests" / "apps"

_APP_HOST = pytest.StashKey["DevhostProcess"]()


# The keys the e2e hosts run with (--require-keys), as on Azure: every route of the app needs the
# function key, the built-in webhooks the system key, devhost's test hooks the master key.
MASTER_KEY = "e2e-master-key"
FUNCTION_KEY = "e2e-function-key"
SYSTEM_KEY = "e2e-durabletask-system-key"
KEY_ENV = {
    "DEVHOST_MASTER_KEY": MASTER_KEY,
    "DEVHOST_FUNCTION_KEY": FUNCTION_KEY,
    "DEVHOST_SYSTEM_KEY": SYSTEM_KEY,
}


def start_devhost(app_dir: Path, state_dir: Path, env: dict[str, str]) -> DevhostProcess:
    """One devhost process on a free port with the manual clock, the test hooks, and keys
    required as on Azure."""
    return DevhostProcess(
        app_dir,
        state_dir / "state.sqlite",
        {**KEY_ENV, **env},
        extra_args=("--manual-clock", "--test-hooks", "--no-azurite", "--require-keys"),
    ).start()


def key_for(path_or_url: str) -> str | None:
    """The key a request to this path needs (None for anything else)."""
    path = urlsplit(path_or_url).path if "://" in path_or_url else path_or_url
    if path.startswith(WEBHOOKS):
        return SYSTEM_KEY
    if path.startswith("/admin/devhost"):
        return MASTER_KEY
    if path.startswith("/api/"):
        return FUNCTION_KEY
    return None


@pytest.fixture(scope="session")
def app_host(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DevhostProcess]:
    """devhost running this repository's app on the session Azurite, for the whole session."""
    stash = request.config.stash
    if _APP_HOST in stash:
        yield stash[_APP_HOST]
        return
    storage: Azurite = request.getfixturevalue("azurite")
    env = {
        "AzureWebJobsStorage": storage.connection_string,
        # A container of its own, so that other test folders' blobs never mix with ours.
        "STATUS_BLOB_CONTAINER": f"e2e-app-{uuid.uuid4().hex[:12]}",
    }
    host = start_devhost(ROOT, tmp_path_factory.mktemp("e2e-devhost"), env)
    stash[_APP_HOST] = host
    try:
        yield host
    finally:
        del stash[_APP_HOST]
        assert host.stop() == 0, host.log


def task_hub_of(host: DevhostProcess) -> str:
    """The task hub devhost announced (``devhost: task hub 'X', listening on ...``)."""
    match = re.search(r"task hub '([^']+)'", host.log)
    assert match, host.log
    return match.group(1)


def binding_json(host: DevhostProcess) -> str:
    """The durable client binding devhost gives the app's HTTP functions, for this process.

    devhost announces ``http://localhost:PORT`` as its public origin (as ``func start`` does) and
    the SDK calls back on ``http://127.0.0.1:PORT``; ``host.base_url`` is the latter.
    """
    port = host.base_url.rsplit(":", 1)[1]
    urls = HostUrls(
        public_origin=f"http://localhost:{port}", rpc_origin=host.base_url, code=SYSTEM_KEY
    )
    return client_binding_json(urls, task_hub_of(host))


def sdk_client_for(host: DevhostProcess) -> df.DurableOrchestrationClient:
    """The SDK's real client, as the app's functions receive it from devhost."""
    return df.DurableOrchestrationClient(binding_json(host))


@pytest.fixture
def sdk_client(app_host: DevhostProcess) -> df.DurableOrchestrationClient:
    return sdk_client_for(app_host)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def instance_id(request: pytest.FixtureRequest) -> str:
    """A fresh instance id named after the test, so devhost's log is easy to read."""
    readable = re.sub(r"[^A-Za-z0-9_-]+", "-", request.node.name)[:40]
    return f"{readable}-{uuid.uuid4().hex[:8]}"


@dataclass
class Reply:
    """One HTTP answer, read in full (status, headers, text and, if any, its JSON)."""

    status: int
    headers: dict[str, str]
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")


@dataclass
class AppApi:
    """The app's HTTP API and devhost's test hooks, over real HTTP on loopback."""

    http: aiohttp.ClientSession
    base_url: str

    async def request(
        self,
        method: str,
        path_or_url: str,
        *,
        body: Any = None,
        data: str | bytes | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        key: str | EllipsisType | None = ...,
        raw: bool = False,
    ) -> Reply:
        """Send ``body`` as JSON, or ``data`` as is (for malformed bodies); read the answer.
        The key the path needs goes in ``x-functions-key`` unless ``key`` says otherwise
        (``None``: no key; the ``code`` query parameter of a URL is kept as given). ``raw``
        sends the path exactly as written (no normalising of ``%2e`` segments by the client)."""
        url = path_or_url if "://" in path_or_url else self.base_url + path_or_url
        chosen = key_for(path_or_url) if key is ... else key
        if chosen is not None and "code=" not in url:
            headers = {"x-functions-key": chosen, **(headers or {})}
        if body is not None:
            data = json.dumps(body)
        target: str | URL = URL(url, encoded=True) if raw else url
        async with self.http.request(
            method, target, data=data, params=params, headers=headers, allow_redirects=False
        ) as response:
            text = await response.text()
            return Reply(response.status, dict(response.headers), text)

    async def start(self, name: str, body: Any = None, *, instance_id: str | None = None) -> Reply:
        """``POST /api/orchestrators/{name}``; the body is sent as JSON when given."""
        params = {"instanceId": instance_id} if instance_id is not None else None
        return await self.request("POST", f"/api/orchestrators/{name}", body=body, params=params)

    async def start_ok(self, name: str, body: Any = None, *, instance_id: str | None = None) -> str:
        """Start and return the new instance's id (asserting the 202)."""
        reply = await self.start(name, body, instance_id=instance_id)
        assert reply.status == 202, reply.text
        return reply.json["id"]

    async def status(self, instance_id: str) -> Reply:
        """``GET /api/status/{id}``."""
        return await self.request("GET", f"/api/status/{quote(instance_id, safe='')}")

    async def raise_event(self, instance_id: str, event: str, payload: Any) -> Reply:
        """``POST /api/instances/{id}/events/{event}`` with ``payload`` as JSON."""
        path = f"/api/instances/{quote(instance_id, safe='')}/events/{event}"
        return await self.request("POST", path, data=json.dumps(payload))

    async def wait(
        self,
        instance_id: str,
        runtime_status: tuple[str, ...] = ENDED,
        custom_status: Any = ...,
        timeout: float = 60.0,
    ) -> dict[str, Any]:
        """Long-poll devhost's hook until the instance is in one of ``runtime_status`` (and, if
        given, has exactly ``custom_status``); returns the built-in status. No client-side polling.
        """
        body: dict[str, Any] = {"runtimeStatus": list(runtime_status), "timeout": timeout}
        if custom_status is not ...:
            body["customStatus"] = custom_status
        reply = await self.request(
            "POST", f"/admin/devhost/instances/{quote(instance_id, safe='')}/wait", body=body
        )
        assert reply.status == 200, reply.text
        return reply.json

    async def advance_clock(self, seconds: float) -> None:
        """Skip the manual clock ahead: due durable timers fire at once."""
        reply = await self.request(
            "POST", "/admin/devhost/clock/advance", body={"seconds": seconds}
        )
        assert reply.status == 200, reply.text

    async def builtin_instances(self, prefix: str) -> list[dict[str, Any]]:
        """Every instance whose id starts with ``prefix``, from the built-in query API."""
        reply = await self.request(
            "GET", f"{WEBHOOKS}/instances/", params={"instanceIdPrefix": prefix}
        )
        assert reply.status == 200, reply.text
        return reply.json


@pytest.fixture
def api(http: aiohttp.ClientSession, app_host: DevhostProcess) -> AppApi:
    return AppApi(http, app_host.base_url)


def assert_app_error(reply: Reply, status: int, code: str) -> str:
    """The app's error shape and nothing else (no traceback); returns the message."""
    assert reply.status == status, (reply.status, reply.text)
    assert reply.content_type.startswith("application/json"), reply.headers
    body = reply.json
    assert set(body) == {"error", "message"} and body["error"] == code, body
    assert body["message"] and "Traceback" not in reply.text and 'File "' not in reply.text
    return body["message"]


def assert_bare(reply: Reply, status: int) -> None:
    """The extension's bare answer (404 unknown, 410 ended): the status and no body at all."""
    assert (reply.status, reply.text) == (status, ""), (reply.status, reply.text)


def assert_host_error(reply: Reply, status: int) -> str:
    """devhost's (the extension's) error shape, ``{"Message": ...}``; returns the message."""
    assert reply.status == status, (reply.status, reply.text)
    assert reply.content_type.startswith("application/json"), reply.headers
    message = reply.json["Message"]
    assert message and "Traceback" not in reply.text
    return message
