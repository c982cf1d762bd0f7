"""HTTP functions over real loopback HTTP: routing, request/response mapping, failures, logging."""

from __future__ import annotations

import logging
import threading
from typing import Any

import aiohttp
import pytest

from devhost.server import DevHost


async def get_json(
    http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any
) -> tuple[int, Any]:
    async with http.request(method, url, **kwargs) as response:
        return response.status, await response.json(content_type=None)


async def test_routes_with_constraints_literals_and_case(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    base = host.base_url + "/api"
    _, by_id = await get_json(http, "GET", base + "/items/42")
    _, by_name = await get_json(http, "GET", base + "/ITEMS/tokyo")
    _, special = await get_json(http, "GET", base + "/items/special")
    assert (by_id["function"], by_id["route_params"]) == ("item_by_id", {"id": "42"})
    assert (by_name["function"], by_name["route_params"]) == ("item_by_name", {"name": "tokyo"})
    assert special["function"] == "item_special"
    status, missing = await get_json(http, "GET", base + "/items/a1")
    assert status == 404
    assert missing["error"] == "NotFound"


async def test_catch_all_and_optional_parameters(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    base = host.base_url + "/api"
    _, files = await get_json(http, "GET", base + "/files/a/b/c.txt")
    assert files["route_params"] == {"rest": "a/b/c.txt"}
    _, none = await get_json(http, "GET", base + "/optional")
    _, some = await get_json(http, "DELETE", base + "/optional/x")
    assert none["route_params"] == {}
    assert (some["route_params"], some["method"]) == ({"name": "x"}, "DELETE")


async def test_wrong_method_is_405_with_allow(host: DevHost, http: aiohttp.ClientSession) -> None:
    async with http.post(host.base_url + "/api/items/42") as response:
        assert response.status == 405
        assert response.headers["Allow"] == "GET"
        assert (await response.json())["error"] == "MethodNotAllowed"


async def test_request_mapping(host: DevHost, http: aiohttp.ClientSession) -> None:
    url = host.base_url + "/api/echo?a=1&b=two&a=3"
    status, echoed = await get_json(
        http, "POST", url, data=b'{"k": "v"}', headers={"X-Test": "yes", "Content-Type": "text/x"}
    )
    assert status == 200
    assert echoed["method"] == "POST"
    assert echoed["url"] == url
    assert echoed["params"] == {"a": "1,3", "b": "two"}
    assert echoed["headers"]["x-test"] == "yes"
    assert echoed["headers"]["content-type"] == "text/x"
    assert echoed["body"] == '{"k": "v"}'


async def test_sync_functions_run_in_the_workers_pool_and_async_ones_on_its_loop(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    """The worker library runs them, in the worker process: sync functions on its thread pool,
    async ones on its event loop's thread. Neither runs in the host."""
    _, sync_call = await get_json(http, "GET", host.base_url + "/api/echo")
    _, async_call = await get_json(http, "GET", host.base_url + "/api/optional")
    assert sync_call["thread"].startswith("ThreadPoolExecutor")
    assert async_call["thread"] == "MainThread"
    assert threading.current_thread().name == "MainThread"  # the host's loop is elsewhere


async def test_response_mapping(host: DevHost, http: aiohttp.ClientSession) -> None:
    async with http.get(host.base_url + "/api/custom") as response:
        assert response.status == 201
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert response.headers["X-Custom"] == "yes"
        assert response.headers.getall("Set-Cookie") == ["a=1", "b=2"]
        assert await response.text() == "<p>hi</p>"
    async with http.get(host.base_url + "/api/json-header") as response:
        assert response.headers["Content-Type"] == "application/octet-stream"
        assert await response.read() == b"\x00\x01"


async def test_str_none_and_unsupported_returns(
    host: DevHost, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    async with http.get(host.base_url + "/api/text") as response:
        assert (response.status, await response.text()) == (200, "plain text")
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    # On Azure (the 3.13 worker library) None and a dict cannot be encoded for an http output:
    # the invocation fails and the caller gets a 500. devhost once answered None with a 204.
    with caplog.at_level(logging.ERROR):
        async with http.get(host.base_url + "/api/nothing") as response:
            assert response.status == 500
        async with http.get(host.base_url + "/api/a-dict") as response:
            assert response.status == 500
    assert 'unsupported type "http" for Python type "NoneType"' in caplog.text
    assert 'unsupported type "http" for Python type "dict"' in caplog.text


@pytest.mark.parametrize(
    ("path", "secret"),
    [("boom", "secret detail that must stay on the host"), ("async-boom", "async secret detail")],
)
async def test_exception_is_500_without_leaking_the_traceback(
    host: DevHost,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
    path: str,
    secret: str,
) -> None:
    with caplog.at_level(logging.INFO):
        async with http.get(f"{host.base_url}/api/{path}") as response:
            text = await response.text()
            assert response.status == 500
            body = await response.json()
    assert "Traceback" not in text
    assert secret not in text
    assert body["error"] == "InternalServerError"
    assert "Traceback" in caplog.text
    assert secret in caplog.text
    assert f"Executed 'Functions.{path.replace('-', '_')}' (Failed, Id={body['invocationId']}" in (
        caplog.text
    )


async def test_one_log_line_per_invocation(
    host: DevHost, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="devhost.invocations"):
        async with http.get(host.base_url + "/api/text"):
            pass
    lines = [r.getMessage() for r in caplog.records if r.name == "devhost.invocations"]
    assert len(lines) == 1
    assert lines[0].startswith("Executed 'Functions.text' (Succeeded, Id=")
    assert "Status=200, Duration=" in lines[0]


async def test_context_parameter_gets_an_invocation_context(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    _, body = await get_json(http, "GET", host.base_url + "/api/with-context")
    assert body["function_name"] == "with_context"
    assert len(body["invocation_id"]) == 36


async def test_empty_route_prefix(start_host: Any, http: aiohttp.ClientSession) -> None:
    async with start_host("rootprefix") as root:
        async with http.get(root.base_url + "/hello/world") as response:
            assert await response.text() == "hello world"
        async with http.get(root.base_url + "/unnamed_route") as response:
            assert response.status == 200
        async with http.get(root.base_url + "/api/hello/world") as response:
            assert response.status == 404


async def test_the_request_reaches_the_worker_as_the_host_sends_it(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    """``GrpcMessageConversionExtensions.ToRpcHttp``: header names lower-cased, repeated headers
    and query keys joined with ",", empty query values left out; the worker library builds the
    ``func.HttpRequest`` from that."""
    headers = [("X-Twice", "one"), ("X-Twice", "two")]
    url = host.base_url + "/api/echo?a=1&a=2&empty=&b=x"
    async with http.post(url, headers=headers, data=b"payload") as response:
        echo = await response.json()
    assert echo["headers"]["x-twice"] == "one,two"
    assert echo["params"] == {"a": "1,2", "b": "x"}
    assert echo["body"] == "payload"
    assert echo["url"] == url
