"""Request bodies (``devhost/http/request_body.py``): passed on as sent whatever their
``Content-Encoding``, as the Functions host passes them (so a body that only claims gzip is no 500
and a gzip bomb is never inflated); one over the limit is a 413; and a big body does not hold up
other clients: a status poll answers while the big request is provably still in flight.

No timings: the big request is held at a gate the test opens only after the poll has answered.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from devhost.http import request_body
from devhost.http.request_body import MAX_REQUEST_BYTES
from devhost.server import DevHost

WEBHOOK = "/runtime/webhooks/durabletask"
BOMB = gzip.compress(b" " * (MAX_REQUEST_BYTES + 1), 1)  # ~100 KB that inflate past 100 MB


def start_url(host: DevHost, instance_id: str = "") -> str:
    return f"{host.base_url}{WEBHOOK}/orchestrators/timer_orchestrator/{instance_id}".rstrip("/")


async def post(http: aiohttp.ClientSession, url: str, data: Any, **headers: str) -> tuple[int, Any]:
    async with http.post(url, data=data, headers=headers) as response:
        text = await response.text()
        return response.status, (json.loads(text) if text else None)


async def waiting_instance(host: DevHost, instance_id: str) -> str:
    """A timer_orchestrator waiting on its (manual-clock) timer: a status to poll."""
    await host.engine.start_orchestration("timer_orchestrator", instance_id, None)
    await host.engine.wait_for(instance_id, lambda s: s["customStatus"] == "waiting")
    return f"{host.base_url}{WEBHOOK}/instances/{instance_id}?showInput=false"


# -- what the body claims to be: nothing is decoded, as on Azure ------------------------------


NOT_JSON = {"Message": "Invalid JSON content"}


@pytest.mark.parametrize("coding", ["gzip", "x-gzip", "GZIP", "deflate", "br", "gzip, gzip"])
async def test_a_body_that_only_claims_an_encoding_is_read_as_sent_a_400_not_a_500(
    host: DevHost, http: aiohttp.ClientSession, coding: str
) -> None:
    status, answer = await post(http, start_url(host), b"abcd", **{"Content-Encoding": coding})
    assert status == 400 and answer["Message"] == NOT_JSON["Message"]
    assert "abcd" not in json.dumps(answer)  # nothing of the request echoed
    assert host.engine.query_status(None, None, None, None, False) == []


async def test_an_event_body_claiming_gzip_is_read_as_sent(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    await waiting_instance(host, "evented")
    url = f"{host.base_url}{WEBHOOK}/instances/evented/raiseEvent/Approval"
    status, answer = await post(
        http, url, b"abcd", **{"Content-Encoding": "gzip", "Content-Type": "application/json"}
    )
    assert (status, answer["Message"]) == (400, NOT_JSON["Message"])


async def test_a_compressed_body_reaches_the_function_compressed_and_devhost_says_so(
    host: DevHost,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The host has no request-decompression middleware: a function that gets a gzip body sees
    gzip bytes on Azure, so it does under devhost, with one WARNING (once per process)."""
    monkeypatch.setattr(request_body, "_said_encoded", set())
    compressed = gzip.compress(b'{"city": "Tokyo"}')
    with caplog.at_level(logging.WARNING, logger="devhost.http"):
        for _ in range(2):
            async with http.post(
                host.base_url + "/api/echo", data=compressed, headers={"Content-Encoding": "gzip"}
            ) as response:
                echo = await response.json()
            assert echo["body"] == compressed.decode("utf-8", "replace")
    said = [r.getMessage() for r in caplog.records if "does not decompress" in r.getMessage()]
    assert len(said) == 1 and "Content-Encoding: gzip" in said[0]


# -- too large --------------------------------------------------------------------------------


async def test_a_declared_length_over_the_limit_is_a_413_before_reading(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    async def never_sent() -> AsyncIterator[bytes]:
        yield b'"'
        await asyncio.Event().wait()  # the rest never comes; the answer must not wait for it

    headers = {"Content-Length": str(MAX_REQUEST_BYTES + 1)}
    guard = aiohttp.ClientTimeout(total=60)  # against a hang (the old read waited for it all)
    async with http.post(
        start_url(host), data=never_sent(), headers=headers, timeout=guard
    ) as response:
        assert response.status == 413
        assert (await response.json())["error"] == "RequestEntityTooLarge"


async def test_a_gzip_bomb_is_never_inflated(host: DevHost, http: aiohttp.ClientSession) -> None:
    """~100 KB that would inflate past 100 MB: read as the ~100 KB sent, refused as not JSON."""
    status, answer = await post(http, start_url(host), BOMB, **{"Content-Encoding": "gzip"})
    assert (status, answer["Message"]) == (400, NOT_JSON["Message"])


# -- other clients are served meanwhile -------------------------------------------------------


def spy_on_loop_parses(monkeypatch: pytest.MonkeyPatch, text: str) -> list[int]:
    """Threads in which this process parses ``text`` with ``json.loads``."""
    threads: list[int] = []
    real = json.loads

    def loads(s: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(s, str) and len(s) == len(text) and s == text:
            threads.append(threading.get_ident())
        return real(s, *args, **kwargs)

    monkeypatch.setattr(json, "loads", loads)
    return threads


async def test_a_50_mb_body_does_not_hold_up_a_status_poll(
    host: DevHost, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    poll_url = await waiting_instance(host, "other")
    text = '"' + "x" * (50 * 1024 * 1024) + '"'
    parsed_in = spy_on_loop_parses(monkeypatch, text)
    gate = asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        data = text.encode()
        for start in range(0, len(data) - 1024, 1024 * 1024):
            yield data[start : min(start + 1024 * 1024, len(data) - 1024)]
        await gate.wait()  # the last KB only once the poll has answered
        yield data[-1024:]

    big = asyncio.create_task(post(http, start_url(host, "big"), body()))
    async with http.get(poll_url) as poll:
        assert poll.status == 202 and (await poll.json())["customStatus"] == "waiting"
    assert not big.done()  # still in flight: its last KB waits behind the gate
    gate.set()
    status, answer = await big
    assert status == 202, answer
    # Parsed (checked) in the child process, not on this loop's thread (nor in a thread of it).
    assert parsed_in == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            b"\xff\xfe",
            "The body is not UTF-8 text: the byte at offset 0 (0xff) cannot be read as UTF-8.",
        ),
        (b"{nope", "The body is not valid JSON: a name in double quotes was expected (line 1, "
         "column 2)."),
        (b"[1e999]", "The body holds the number 1e999, too large for a double."),
        (b"[" * 65 + b"]" * 65, "The body is nested more than 64 levels deep."),
    ],
)  # fmt: skip
async def test_a_body_that_is_not_json_is_named_in_words_not_python_text(
    host: DevHost, http: aiohttp.ClientSession, body: bytes, expected: str
) -> None:
    status, answer = await post(http, start_url(host), body)
    assert (status, answer) == (
        400,
        {"Message": "Invalid JSON content", "ExceptionMessage": expected},
    )


async def test_the_wait_hook_names_an_unknown_instance_as_a_json_string(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    url = f"{host.base_url}/admin/devhost/instances/%20x/wait"
    status, answer = await post(http, url, b"{}")
    assert (status, answer["Message"]) == (404, 'No instance with ID " x" found.')
