"""10. Dashboard list: the first page with a text filter at 10,000 instances ÷ at 100.

The dashboard's list is what a developer opens first, and a search in the custom status is the
filter no index on the instance table can answer. A list that reads every row to build a page
would grow with the state file; this measures that it does not grow much. Two state files, with
100 and 10,000 completed instances, are written straight through ``devhost.runtime.store.Store``
(instances whose statuses look like this app's: a stage among ten, a count, a message), with no
app run, since running 10,000 orchestrations would take minutes and the dashboard reads only the
state. One ``DevHost`` per file serves them side by side in this process (``bench/apps/sequence``,
the clock manual); the benchmark alternates ``GET /devhost/api/instances?text=<a stage>&top=50``
between the two over HTTP on loopback (the text matches a tenth of the instances: every page is
full at 10,000, and the answer carries the total, which counts every match) and compares the
medians. The first request to each host is a warm-up and is not counted.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.common import LOOPBACK, SEQUENCE_APP, Result, median, saved_environ

GOAL = 2.0
STAGES = (
    "Tokyo", "Seattle", "London", "Paris", "Lagos", "Lima", "Oslo", "Pune", "Quito", "Rome",
)  # fmt: skip
SEARCHED = "lagos"
"""One stage in ten, in another case than it is stored in (the filter is case-insensitive)."""


def make_state(path: Path, instances: int) -> None:
    """A state file with ``instances`` completed instances, each with a status and one change
    in its timeline, created a millisecond apart."""
    from devhost.core.instances import new_instance
    from devhost.protocol.history import format_timestamp, parse_timestamp
    from devhost.protocol.runtime_status import RuntimeStatus
    from devhost.runtime.store import Store

    start = parse_timestamp("2026-12-01T09:00:00Z")
    store = Store(path)
    try:
        with store.transaction():
            for n in range(instances):
                created = format_timestamp(start.fromtimestamp(start.timestamp() + n / 1000))
                row = new_instance("Sequence", f"bench-{n:06d}", '"3"', created, parent=None)
                row.runtime_status = RuntimeStatus.COMPLETED
                status = {
                    "stage": STAGES[n % len(STAGES)],
                    "done": n % 100,
                    "of": 100,
                    "message": f"item {n} validated, transformed and stored",
                }
                row.custom_status = json.dumps(status, separators=(",", ":"))
                row.output = "3"
                store.put_instance(row)
                store.status_changes.record(
                    row.instance_id, row.execution_id, 1, created, row.custom_status, 1000
                )
    finally:
        store.close()


async def _first_page(session: aiohttp.ClientSession, base_url: str) -> tuple[float, int, int]:
    """Seconds for one first page with the text filter; its rows and total."""
    url = f"{base_url}/devhost/api/instances"
    started = time.perf_counter()
    async with session.get(url, params={"text": SEARCHED, "top": "50"}) as reply:
        body = await reply.json()
        elapsed = time.perf_counter() - started
    if reply.status != 200:
        raise RuntimeError(f"the dashboard answered {reply.status}: {body}")
    return elapsed, len(body["instances"]), body["total"]


async def measure(small: int = 100, large: int = 10_000, requests: int = 200) -> Result:
    from devhost.core.options import HostOptions
    from devhost.server import DevHost

    with tempfile.TemporaryDirectory() as state_dir, saved_environ():
        paths = {small: Path(state_dir) / "small.sqlite", large: Path(state_dir) / "large.sqlite"}
        for size, path in paths.items():
            await asyncio.to_thread(make_state, path, size)
        hosts = [
            DevHost(
                HostOptions(
                    app_dir=SEQUENCE_APP,
                    host=LOOPBACK,
                    port=0,
                    state_path=paths[size],
                    start_azurite=False,
                    manual_clock=True,
                )
            )
            for size in (small, large)
        ]
        samples: dict[int, list[float]] = {small: [], large: []}
        shown: dict[int, tuple[int, int]] = {}
        try:
            for running in hosts:
                await running.start()
            async with aiohttp.ClientSession() as session:
                for running in hosts:
                    await _first_page(session, running.base_url)  # warm-up
                for _ in range(requests):
                    for size, running in zip((small, large), hosts, strict=True):
                        elapsed, rows, total = await _first_page(session, running.base_url)
                        samples[size].append(elapsed)
                        shown[size] = (rows, total)
        finally:
            for running in hosts:
                await running.stop()
    small_ms, large_ms = median(samples[small]) * 1000, median(samples[large]) * 1000
    ratio = large_ms / small_ms
    return Result(
        name="10 dashboard list",
        ratio=ratio,
        ratio_means=f"first page with a text filter at {large:,} instances ÷ at {small:,}",
        goal=f"<= {GOAL:g}",
        passed=ratio <= GOAL,
        numbers={
            "requests_each": requests,
            "small_ms": small_ms,
            "large_ms": large_ms,
            "small_rows": shown[small][0],
            "small_total": shown[small][1],
            "large_rows": shown[large][0],
            "large_total": shown[large][1],
        },
        note=f"text={SEARCHED!r} matches one instance in {len(STAGES)}; medians over HTTP",
    )
