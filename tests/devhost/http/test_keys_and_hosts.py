"""devhost --require-keys checks keys as the Functions host does; URLs never carry a foreign Host;
errors aiohttp meets before a request is parsed are JSON that never echo the request."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from devhost.http import errors as http_errors
from devhost.http.urls import client_binding_json
from devhost.server import DevHost, keys_banner

KEYS = {
    "DEVHOST_MASTER_KEY": "the-master-key",
    "DEVHOST_FUNCTION_KEY": "the-function-key",
    "DEVHOST_SYSTEM_KEY": "the-system-key",
}
WEBHOOK = "/runtime/webhooks/durabletask"


@pytest.fixture
async def keyed(start_host: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    async with start_host("basic", require_keys=True, test_hooks=True, manual_clock=True) as host:
        yield host


async def status_of(http: aiohttp.ClientSession, url: str, **kwargs: Any) -> int:
    async with http.request(kwargs.pop("method", "GET"), url, **kwargs) as response:
        assert await response.read() == b"" or response.status != 401
        return response.status


@pytest.mark.parametrize(
    ("route", "accepted"),
    [
        ("open", {None, "wrong", "the-system-key", "the-function-key", "the-master-key"}),
        ("function", {"the-function-key", "the-master-key"}),
        ("admin", {"the-master-key"}),
    ],
)
async def test_routes_need_the_key_of_their_auth_level(
    start_host: Any, monkeypatch: pytest.MonkeyPatch, http: aiohttp.ClientSession,
    route: str, accepted: set[str | None],
) -> None:  # fmt: skip
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    async with start_host("keyed", require_keys=True) as host:
        url = f"{host.base_url}/api/{route}"
        for key in (None, "wrong", "the-system-key", "the-function-key", "the-master-key"):
            params = {"code": key} if key else {}
            expected = 200 if key in accepted else 401
            assert await status_of(http, url, params=params) == expected, key
        if "the-function-key" in accepted:
            headers = {"x-functions-key": "the-function-key"}
            assert await status_of(http, url, headers=headers) == 200


@pytest.mark.parametrize(
    ("code", "header", "expected"),
    [
        ("wrong", "the-function-key", 200),  # devhost read code= first: 401
        ("the-function-key", "wrong", 401),  # devhost read code= first: 200
        ("the-function-key", "", 401),  # a header, though empty, is the key presented
        ("the-function-key", None, 200),  # no header: code= is read
    ],
)
async def test_the_key_header_takes_precedence_over_the_code_parameter(
    start_host: Any, monkeypatch: pytest.MonkeyPatch, http: aiohttp.ClientSession,
    code: str, header: str | None, expected: int,
) -> None:  # fmt: skip
    """``AuthenticationLevelHandler.GetAuthorizationKeyInfoAsync``: the ``x-functions-key``
    header when the request has one, else ``code`` (devhost/CONFORMANCE.md)."""
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    headers = {} if header is None else {"x-functions-key": header}
    system_headers = {k: v.replace("function", "system") for k, v in headers.items()}
    async with start_host("keyed", require_keys=True) as host:
        url = f"{host.base_url}/api/function"
        assert await status_of(http, url, params={"code": code}, headers=headers) == expected
        url = f"{host.base_url}{WEBHOOK}/instances/"
        params = {"code": code.replace("function", "system")}
        assert await status_of(http, url, params=params, headers=system_headers) == expected


async def test_without_require_keys_nothing_is_checked(
    start_host: Any, http: aiohttp.ClientSession
) -> None:
    async with start_host("keyed") as host:
        assert await status_of(http, f"{host.base_url}/api/admin") == 200


async def test_the_durable_webhooks_need_the_system_or_master_key(
    keyed: DevHost, http: aiohttp.ClientSession
) -> None:
    url = f"{keyed.base_url}{WEBHOOK}/instances/"
    assert await status_of(http, url) == 401
    assert await status_of(http, url, params={"code": "the-function-key"}) == 401
    assert await status_of(http, url, params={"code": "the-system-key"}) == 200
    assert await status_of(http, url, params={"CODE": "the-master-key"}) == 200
    assert await status_of(http, url, headers={"x-functions-key": "the-system-key"}) == 200


async def test_the_test_hooks_need_the_master_key(
    keyed: DevHost, http: aiohttp.ClientSession
) -> None:
    url = f"{keyed.base_url}/admin/devhost/clock/advance"
    assert await status_of(http, url, method="POST", json={"seconds": 1}) == 401
    headers = {"x-functions-key": "the-master-key"}
    assert await status_of(http, url, method="POST", json={"seconds": 1}, headers=headers) == 200


async def test_the_rpc_api_serves_loopback_callers_as_on_azure(
    keyed: DevHost, http: aiohttp.ClientSession
) -> None:
    assert await status_of(http, f"{keyed.base_url}/durabletask/instances/") == 200


async def test_urls_and_the_binding_carry_the_system_key_as_on_azure(
    keyed: DevHost, http: aiohttp.ClientSession
) -> None:
    async with http.post(
        f"{keyed.base_url}{WEBHOOK}/orchestrators/hello_orchestrator/k1",
        headers={"x-functions-key": "the-system-key"},
    ) as response:
        payload = await response.json()
    for key, url in payload.items():
        if key != "id":
            assert parse_qs(urlsplit(url).query)["code"] == ["the-system-key"], key
    binding = json.loads(client_binding_json(keyed.urls, keyed.index.task_hub))
    assert binding["requiredQueryStringParameters"] == "code=the-system-key"
    assert binding["creationUrls"]["createNewInstancePostUri"].endswith("?code=the-system-key")
    assert "the-master-key" not in json.dumps(binding)


def test_the_banner_says_whether_keys_are_checked(
    keyed: DevHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Keys from the environment are the caller's: named, never printed.
    banner = keys_banner(keyed.keys)
    assert "from DEVHOST_SYSTEM_KEY, not shown" in banner
    assert not any(value in banner for value in KEYS.values())
    assert "not checked" in keys_banner(type(keyed.keys).load(required=False))

    # Keys devhost makes up are printed: the only way to learn them.
    monkeypatch.delenv("DEVHOST_FUNCTION_KEY")
    made_up = type(keyed.keys).load(required=True)
    assert made_up.generated == {"function"}
    assert made_up.function in keys_banner(made_up)
    assert made_up.master not in keys_banner(made_up)


async def test_a_foreign_host_header_never_reaches_returned_urls(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    async with http.post(
        f"{host.base_url}{WEBHOOK}/orchestrators/hello_orchestrator/h1",
        headers={"Host": "evil.example"},
    ) as response:
        payload = await response.json()
        location = response.headers["Location"]
    assert "evil.example" not in json.dumps(payload) + location
    assert location.startswith(host.public_url)
    async with http.get(f"{host.base_url}/api/echo", headers={"Host": "evil.example"}) as response:
        assert (await response.json())["url"].startswith(host.public_url)


async def raw_exchange(port: int, data: bytes) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"BAD<script> / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /" + b"a" * 20_000 + b"<script> HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Evil: a\x01<script>\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 20_000 + b"<script>\r\n\r\n",
    ],
    ids=["bad method", "long URL", "bad header character", "long header"],
)
async def test_unparsable_requests_get_json_that_echoes_nothing(
    host: DevHost, request_bytes: bytes
) -> None:
    status, body = await raw_exchange(host.port, request_bytes)
    assert 400 <= status < 500
    parsed = json.loads(body)
    assert set(parsed) == {"error", "message"}
    assert b"<script>" not in body and b"aaaa" not in body


def test_listening_on_every_interface_is_a_warning_at_start(tmp_path: Any) -> None:
    from tests.support.devhost_process import ROOT, DevhostProcess

    host = DevhostProcess(
        ROOT / "tests" / "devhost" / "http" / "apps" / "keyed",
        tmp_path / "state.sqlite",
        extra_args=("--no-azurite", "--host", "0.0.0.0"),
    ).start()
    try:
        host.wait_for_line(r"reachable from the network")
        assert "function keys are not checked" in host.log
    finally:
        assert host.stop() == 0


OPTIONS_ASTERISK = b"OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


async def test_a_request_the_router_cannot_place_gets_json(http: aiohttp.ClientSession) -> None:
    """``OPTIONS *`` names no path, so aiohttp's router answers it before devhost's dispatch: the
    middleware (``http_errors.json_router_errors``) makes that answer JSON too."""

    async def anything(request: web.Request) -> web.Response:
        return web.json_response({})

    app = web.Application(middlewares=[http_errors.json_router_errors])
    app.router.add_route("*", r"/{tail:[\s\S]*}", anything)  # devhost's one catch-all route
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with http.request("OPTIONS", server.make_url("/")) as response:
            assert response.status == 200  # a path: the route answers
        assert server.port is not None
        status, body = await raw_exchange(server.port, OPTIONS_ASTERISK)
    finally:
        await server.close()
    assert (status, json.loads(body)) == (
        404,
        {"error": "NotFound", "message": "No function matches this request."},
    )


async def test_options_asterisk_is_answered_in_json(host: DevHost) -> None:
    status, body = await raw_exchange(host.port, OPTIONS_ASTERISK)
    assert (status, json.loads(body)["error"]) == (404, "NotFound")
