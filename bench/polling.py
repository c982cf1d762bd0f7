"""Polling an unchanged status: 1 MB offloaded against 8 KB inline, and the 304 path.

A monitor page or a client polls ``GET /api/status/{id}`` every few seconds, and most polls find
nothing changed. Three kinds of request, interleaved so drift affects them alike, each against a
completed instance whose status no longer changes:

- ``inline``: an 8 KiB status (UTF-16 bytes of JSON, as the host counts), held by the host;
- ``offloaded``: a 1 MiB status in Blob storage. After the first read its content is in the
  app's process cache (by SHA-256), so a repeated poll downloads nothing;
- ``not modified``: the offloaded one again, sending the last ``ETag`` in ``If-None-Match``:
  ``304`` with no body, nothing resolved or serialised.

Rows: offloaded ÷ inline (goal <= 1.3) and not modified ÷ inline (goal <= 1.1), median times.
The ``offloaded`` poll still carries its body (the blob's bytes, spliced in as stored) over
loopback: ``transfer_floor_ratio`` is what moving the two bodies alone costs, from a bare aiohttp
server in its own process serving byte strings of the same lengths ((inline + the extra transfer
time) ÷ inline: the best ratio any app could reach here). ``offloaded_cold_ms`` is the first read
of that status (download and hash check), for context.
Run it alone with ``python -m bench.polling [--quick]``.
"""

from __future__ import annotations

import asyncio
import json
import socket
import statistics
import sys
import time
import uuid

import aiohttp

from bench.common import Result
from bench.large_status import APP, ORCHESTRATOR, app_under_devhost

INLINE_BYTES = 8 * 1024
OFFLOADED_BYTES = 1024 * 1024
OFFLOADED_GOAL = 1.3
NOT_MODIFIED_GOAL = 1.1


async def _completed_instance(http: aiohttp.ClientSession, base_url: str, n_bytes: int) -> str:
    instance_id = f"poll-{n_bytes}-{uuid.uuid4().hex[:12]}"
    url = f"{base_url}/runtime/webhooks/durabletask/orchestrators/{ORCHESTRATOR}/{instance_id}"
    async with http.post(
        url, params={"timeout": "120", "pollingInterval": "1"}, json=json.dumps({"bytes": n_bytes})
    ) as response:
        if response.status != 200:
            raise RuntimeError(f"{ORCHESTRATOR} did not complete: {await response.text()}")
    return instance_id


async def _get(
    http: aiohttp.ClientSession, url: str, etag: str | None = None
) -> tuple[float, int, str, int]:
    """(seconds, status code, ETag, body bytes) of one GET, the body read in full."""
    headers = {"If-None-Match": etag} if etag else {}
    started = time.perf_counter()
    async with http.get(url, headers=headers) as response:
        body = await response.read()
        elapsed = time.perf_counter() - started
        return elapsed, response.status, response.headers.get("ETag", ""), len(body)


_BARE_SERVER = """
import sys
from aiohttp import web
bodies = {"inline": b"i" * int(sys.argv[2]), "offloaded": b"o" * int(sys.argv[3])}
async def serve(request):
    return web.Response(body=bodies[request.match_info["kind"]], content_type="application/json")
app = web.Application()
app.router.add_get("/{kind}", serve)
ready = lambda *_: print("ready", flush=True)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=ready)
"""


async def _transfer_floor(
    inline_bytes: int, offloaded_bytes: int, rounds: int, warmup: int
) -> dict[str, float]:
    """Median GET times of bodies of the two lengths from a bare aiohttp server (a subprocess)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _BARE_SERVER, str(port), str(inline_bytes), str(offloaded_bytes),
        stdout=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        if (await server.stdout.readline()).strip() != b"ready":
            raise RuntimeError("the bare aiohttp server did not start")
        samples: dict[str, list[float]] = {"inline": [], "offloaded": []}
        async with aiohttp.ClientSession() as http:
            for n in range(warmup + rounds):
                for kind, runs in samples.items():
                    seconds, _, _, _ = await _get(http, f"http://127.0.0.1:{port}/{kind}")
                    if n >= warmup:
                        runs.append(seconds)
    finally:
        server.terminate()
        await server.wait()
    return {kind: statistics.median(runs) * 1000 for kind, runs in samples.items()}


async def _measure(base_url: str, rounds: int, warmup: int) -> dict[str, float]:
    async with aiohttp.ClientSession() as http:
        inline_id = await _completed_instance(http, base_url, INLINE_BYTES)
        offloaded_id = await _completed_instance(http, base_url, OFFLOADED_BYTES)
        inline_url = f"{base_url}/api/status/{inline_id}"
        offloaded_url = f"{base_url}/api/status/{offloaded_id}"
        cold, code, etag, _ = await _get(http, offloaded_url)
        if code != 200 or not etag:
            raise RuntimeError(f"the offloaded status answered {code} with ETag {etag!r}")
        samples: dict[str, list[float]] = {"inline": [], "offloaded": [], "not_modified": []}
        sizes: dict[str, int] = {}
        for n in range(warmup + rounds):
            timed = {
                "inline": await _get(http, inline_url),
                "offloaded": await _get(http, offloaded_url),
                "not_modified": await _get(http, offloaded_url, etag),
            }
            expected = {"inline": 200, "offloaded": 200, "not_modified": 304}
            for kind, (seconds, code, _, size) in timed.items():
                if code != expected[kind]:
                    raise RuntimeError(f"{kind} poll answered {code}, not {expected[kind]}")
                if n >= warmup:
                    samples[kind].append(seconds)
                sizes[kind] = size
    medians = {kind: statistics.median(values) * 1000 for kind, values in samples.items()}
    floor = await _transfer_floor(sizes["inline"], sizes["offloaded"], rounds, warmup)
    return {
        "transfer_floor_ratio": (medians["inline"] + floor["offloaded"] - floor["inline"])
        / medians["inline"],
        "bare_inline_body_ms": floor["inline"],
        "bare_offloaded_body_ms": floor["offloaded"],
        "offloaded_body_bytes": float(sizes["offloaded"]),
        "inline_8kb_poll_ms": medians["inline"],
        "offloaded_1mb_poll_ms": medians["offloaded"],
        "not_modified_poll_ms": medians["not_modified"],
        "offloaded_cold_ms": cold * 1000,
        "rounds": float(rounds),
    }


async def measure(quick: bool) -> list[Result]:
    rounds, warmup = (5, 2) if quick else (200, 20)
    with app_under_devhost(APP, "bench-polling-") as (host, _):
        numbers = await _measure(host.base_url, rounds, warmup)
    inline = numbers["inline_8kb_poll_ms"]
    offloaded = numbers["offloaded_1mb_poll_ms"] / inline
    not_modified = numbers["not_modified_poll_ms"] / inline
    return [
        Result(
            "6 polling: offloaded",
            offloaded,
            "repeated GET of an unchanged 1 MB offloaded status ÷ of an 8 KB inline one",
            f"<= {OFFLOADED_GOAL:g}",
            offloaded <= OFFLOADED_GOAL,
            numbers,
        ),
        Result(
            "6 polling: 304",
            not_modified,
            "the same poll with If-None-Match (304) ÷ the 8 KB inline poll",
            f"<= {NOT_MODIFIED_GOAL:g}",
            not_modified <= NOT_MODIFIED_GOAL,
            {},
        ),
    ]


if __name__ == "__main__":
    for result in asyncio.run(measure(quick="--quick" in sys.argv)):
        print(f"{result.name}: {result.ratio:.2f} (goal {result.goal}) {result.numbers}")
