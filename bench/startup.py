"""4. Start-up: ``python -m devhost`` to its first 200 on a status URL, 10,000 instances vs one.

A host that loads or scans every instance at start-up gets slower to start as a developer's state
file fills up. Each launch is a fresh ``python -m devhost --no-azurite`` on a free loopback port,
timed from ``Popen`` to the first 200 answer of
``GET /runtime/webhooks/durabletask/instances/<a completed id>``, polled every few milliseconds.
The baseline state file is as empty as that allows: one completed instance. The large one holds
the same instance plus 9,999 copies of its rows, written straight through
``devhost.runtime.store.Store``
(seconds, where running 10,000 orchestrations would take minutes). Launches alternate between
the two files and the medians are compared.
"""

from __future__ import annotations

import asyncio
import dataclasses
import http.client
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import (
    LOOPBACK,
    ROOT,
    SEQUENCE_APP,
    Result,
    completed,
    free_port,
    median,
    saved_environ,
)

GOAL = 2.0
INSTANCE_ID = "startup-probe"
LAUNCH_TIMEOUT_S = 60.0
POLL_INTERVAL_S = 0.005


async def make_state(path: Path, instances: int) -> None:
    """A state file with ``instances`` completed ``Sequence(1)`` instances, one of them real."""
    from devhost.core.options import HostOptions
    from devhost.runtime.engine import Engine
    from devhost.runtime.store import Store
    from devhost.workers.app import start_app

    with saved_environ():
        running = await start_app(SEQUENCE_APP)
        try:
            options = HostOptions(app_dir=SEQUENCE_APP, state_path=path)
            engine = Engine(running.index, options, running.invoker)
            await engine.start()
            try:
                await engine.start_orchestration("Sequence", INSTANCE_ID, json.dumps("1"))
                await engine.wait_for(INSTANCE_ID, completed, 30)
            finally:
                await engine.stop()
        finally:
            await running.stop()
    store = Store(path)
    try:
        row = store.get_instance(INSTANCE_ID)
        assert row is not None
        history = list(store.played_history(INSTANCE_ID))  # the stored text, marked played
        with store.transaction():
            for n in range(1, instances):
                copy_id = f"copy-{n:05d}"
                store.put_instance(dataclasses.replace(row, instance_id=copy_id))
                store.append_history(copy_id, history)
    finally:
        store.close()


def launch(state: Path) -> float:
    """Seconds from starting ``python -m devhost`` to the first 200 on the probe's status URL."""
    port = free_port()
    command = [
        sys.executable, "-m", "devhost", "--app-dir", str(SEQUENCE_APP), "--host", LOOPBACK,
        "--port", str(port), "--state", str(state), "--no-azurite",
    ]  # fmt: skip
    path = f"/runtime/webhooks/durabletask/instances/{INSTANCE_ID}"
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
        try:
            while time.perf_counter() - started < LAUNCH_TIMEOUT_S:
                if process.poll() is not None:
                    output.seek(0)
                    log = output.read().decode(errors="replace")
                    raise RuntimeError(f"devhost exited during start-up:\n{log}")
                if _status_code(port, path) == 200:
                    return time.perf_counter() - started
                time.sleep(POLL_INTERVAL_S)
            raise TimeoutError(f"devhost answered no 200 within {LAUNCH_TIMEOUT_S:g} s")
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)


def _status_code(port: int, path: str) -> int | None:
    """The status code of one GET, or None while nothing listens yet."""
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=5)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


async def measure(instances: int = 10_000, launches: int = 5) -> Result:
    with tempfile.TemporaryDirectory() as state_dir:
        small, large = Path(state_dir) / "one.sqlite", Path(state_dir) / "many.sqlite"
        await make_state(small, 1)
        await make_state(large, instances)
        launch(small)  # warm the OS file cache for the interpreter and the packages
        small_s: list[float] = []
        large_s: list[float] = []
        for _ in range(launches):
            small_s.append(await asyncio.to_thread(launch, small))
            large_s.append(await asyncio.to_thread(launch, large))
    ratio = median(large_s) / median(small_s)
    return Result(
        name="4 start-up",
        ratio=ratio,
        ratio_means=f"seconds to first 200 with {instances:,} instances ÷ with 1",
        goal=f"<= {GOAL:g}",
        passed=ratio <= GOAL,
        numbers={
            "instances": instances,
            "launches_each": launches,
            "one_instance_s": median(small_s),
            "many_instances_s": median(large_s),
        },
    )
