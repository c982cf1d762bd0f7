"""Large custom status: set and read back a 160 KB offloaded status, against an 8 KB inline one.

One sample is the time to *set* a status (start an orchestration that sets it and wait, host-side,
until it completes: ``POST .../orchestrators/LargeStatusBench/{id}?timeout=&pollingInterval=``,
which devhost answers on its engine's commit, not by polling) plus the time to *read it back*
(``GET /api/status/{id}``, the app's own endpoint, which downloads and checks the blob for the
offloaded status). Sizes are what the host counts: UTF-16 bytes of compact JSON, 8 KiB (inline)
and 160 KiB (over the 16 KiB limit, so: upload activity, reference, download on read).

The ratio is the median offloaded sample over the median inline one; the goal is 2x or less.

Self-contained: it starts its own Azurite (Blob service only, on a free loopback port) and runs
``python -m devhost`` as a subprocess on a temporary app: the real app's blueprints plus the
benchmark orchestrator below, so the deployed app carries no benchmark code. Run it alone with
``python -m bench.large_status [--quick]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
INLINE_BYTES = 8 * 1024
OFFLOADED_BYTES = 160 * 1024
GOAL = 2.0
ORCHESTRATOR = "LargeStatusBench"

PROJECT_ON_PATH = textwrap.dedent(
    f"""
    import sys

    # The app's packages live at the project root: put it on the path, as if this file sat beside
    # them (devhost's worker puts only the app's own folder there, as the Functions host does).
    if {str(ROOT)!r} not in sys.path:
        sys.path.insert(0, {str(ROOT)!r})
    """
)
"""Lines a temporary app's ``function_app.py`` runs before importing the project's packages."""

APP = (
    textwrap.dedent(
        '''
    """The real app's blueprints plus LargeStatusBench (written by bench/large_status.py)."""
    '''
    )
    + PROJECT_ON_PATH
    + textwrap.dedent(
        '''
    import azure.durable_functions as df
    import azure.functions as func

    import custom_status
    from activities import blueprint as activities_blueprint
    from clients import blueprint as clients_blueprint
    from custom_status import serialize, set_custom_status
    from orchestrators import blueprint as orchestrators_blueprint

    app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
    app.register_functions(custom_status.blueprint)
    app.register_functions(orchestrators_blueprint)
    app.register_functions(activities_blueprint)
    app.register_functions(clients_blueprint)


    ROW = {"item": 0, "city": "Zürich", "result": "ok", "note": "東京 ✓"}
    ROW_CHARS = len(serialize(ROW)) - 1  # every character is in the BMP: 2 bytes each


    def status_of_size(n_bytes, salt):
        """Rows of a progress table, padded to exactly n_bytes UTF-16 bytes of JSON.

        Sized by arithmetic (row n takes ROW_CHARS + len(str(n)) characters, plus a comma), so
        building it costs no serialisation: the benchmark times the app, not this function."""
        chars = len(serialize({"salt": salt, "rows": [], "pad": ""}))
        budget = n_bytes // 2 - chars
        rows = []
        while True:
            n = len(rows) + 1
            row_chars = ROW_CHARS + len(str(n)) + (1 if rows else 0)
            if row_chars > budget:
                break
            rows.append({**ROW, "item": n})
            budget -= row_chars
        return {"salt": salt, "rows": rows, "pad": "x" * budget}


    @app.orchestration_trigger(context_name="context")
    def LargeStatusBench(context: df.DurableOrchestrationContext):
        job = context.get_input()
        value = status_of_size(job["bytes"], context.instance_id)
        yield from set_custom_status(context, value, summary={"bytes": job["bytes"]})
        return job["bytes"]
    '''
    )
)

_AZURITE_READY = re.compile(rb"successfully listens on https?://[^\s:]+:(\d+)")
_DEVHOST_READY = re.compile(r"listening on (http://\S+)")


class _Azurite:
    """Azurite's Blob service from the project's node_modules, on a port it picks itself."""

    def __init__(self, data_dir: Path) -> None:
        binary = ROOT / "node_modules" / ".bin" / "azurite-blob"
        if not binary.exists():
            raise RuntimeError(f"{binary} is missing: run `npm ci` in {ROOT}")
        self.log = data_dir / "azurite.log"
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                [str(binary), "--blobHost", "127.0.0.1", "--blobPort", "0", "--location",
                 str(data_dir), "--skipApiVersionCheck", "--loose", "--disableTelemetry"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, cwd=data_dir,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while not (match := _AZURITE_READY.search(self.log.read_bytes())):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    "Azurite did not start:\n" + self.log.read_text("utf-8", "replace")
                )
            time.sleep(0.05)
        port = int(match.group(1))
        key = (  # Azurite's well-known development key (public; it only unlocks the emulator)
            "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IF"
            "suFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
        )
        self.connection_string = (
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
            f"AccountKey={key};BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(timeout=10)


class _Devhost:
    """``python -m devhost`` on the benchmark app; ``base_url`` once it listens."""

    def __init__(self, app_dir: Path, state: Path, connection_string: str) -> None:
        env = {
            **os.environ,
            "AzureWebJobsStorage": connection_string,
            "STATUS_BLOB_CONTAINER": "bench-status",
            "PYTHONUNBUFFERED": "1",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devhost", "--app-dir", str(app_dir), "--port", "0",
             "--state", str(state), "--no-azurite"],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        ready = threading.Event()
        self.base_url = ""

        def drain() -> None:
            assert self.process.stdout is not None
            for line in self.process.stdout:  # keep reading, or a full pipe blocks devhost
                self.lines.append(line)
                match = _DEVHOST_READY.search(line)
                if match and not self.base_url:
                    self.base_url = match.group(1).replace("localhost", "127.0.0.1")
                    ready.set()
            ready.set()

        threading.Thread(target=drain, daemon=True).start()
        if not ready.wait(60) or not self.base_url:
            self.stop()
            raise RuntimeError("devhost did not start:\n" + "".join(self.lines))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)


@contextlib.contextmanager
def temporary_app(app_source: str, prefix: str) -> Iterator[tuple[Path, _Azurite]]:
    """A temporary app directory (``function_app.py`` = ``app_source``) and an Azurite of its
    own, stopped, and their files removed, on exit."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        tmp_dir = Path(tmp)
        app_dir = tmp_dir / "app"
        app_dir.mkdir()
        (app_dir / "function_app.py").write_text(app_source, "utf-8")
        (app_dir / "host.json").write_text(
            '{"version": "2.0", "extensions": {"http": {"routePrefix": "api"}}}', "utf-8"
        )
        (tmp_dir / "azurite").mkdir()
        azurite = _Azurite(tmp_dir / "azurite")
        try:
            yield app_dir, azurite
        finally:
            azurite.stop()


@contextlib.contextmanager
def app_under_devhost(app_source: str, prefix: str) -> Iterator[tuple[_Devhost, _Azurite]]:
    """``temporary_app`` served by ``python -m devhost``; both stopped on exit."""
    with temporary_app(app_source, prefix) as (app_dir, azurite):
        host = _Devhost(app_dir, app_dir.parent / "state.sqlite", azurite.connection_string)
        try:
            yield host, azurite
        finally:
            host.stop()


async def _set_and_read(
    http: aiohttp.ClientSession, base_url: str, n_bytes: int
) -> tuple[str, float, float, Any]:
    """(instance id, seconds to set, seconds to read back, the status read)."""
    instance_id = f"bench-{n_bytes}-{uuid.uuid4().hex[:12]}"
    start_url = (
        f"{base_url}/runtime/webhooks/durabletask/orchestrators/{ORCHESTRATOR}/{instance_id}"
    )
    started = time.perf_counter()
    async with http.post(
        start_url,
        params={"timeout": "60", "pollingInterval": "1"},
        json=json.dumps({"bytes": n_bytes}),  # as the SDK's start_new sends it
    ) as response:
        body = await response.text()
        if response.status != 200:
            raise RuntimeError(f"{ORCHESTRATOR} did not complete: {response.status} {body[:500]}")
    set_done = time.perf_counter()
    async with http.get(f"{base_url}/api/status/{instance_id}") as response:
        raw = await response.read()
        if response.status != 200:
            raise RuntimeError(f"reading the status failed: {response.status} {raw[:500]!r}")
        status = json.loads(raw)
    read_done = time.perf_counter()
    return instance_id, set_done - started, read_done - set_done, status["customStatus"]


def _check(value: Any, n_bytes: int) -> None:
    from custom_status import inline_size

    if inline_size(value) != n_bytes:  # also proves the app's builder sized it exactly
        raise RuntimeError(f"read back a status of {inline_size(value)} bytes, not {n_bytes}")


async def measure(quick: bool) -> dict[str, float]:
    """Median set and read times (ms) of each size, and ``ratio`` (offloaded / inline totals)."""
    rounds, warmup = (5, 2) if quick else (40, 5)
    with app_under_devhost(APP, "bench-large-status-") as (host, azurite):
        results = await _measure(host, rounds, warmup)
        results.update(await _storage_floor(azurite.connection_string, rounds))
        inline = results["inline_8kb_total_ms"]
        results["storage_floor_ratio"] = (inline + results["storage_put_get_ms"]) / inline
        return results


_DURATION = re.compile(
    r"Executed 'Functions\.(\w+)' \(Succeeded, InstanceId=([^,]+), Duration=(\d+)ms"
)


def _durations(lines: list[str]) -> dict[str, dict[str, float]]:
    """Milliseconds devhost spent in each function, summed per instance (from its log lines)."""
    spent: dict[str, dict[str, float]] = {}
    for line in lines:
        match = _DURATION.search(line)
        if match:
            name, instance_id, ms = match.groups()
            per_instance = spent.setdefault(instance_id, {})
            per_instance[name] = per_instance.get(name, 0.0) + float(ms)
    return spent


async def _measure(host: _Devhost, rounds: int, warmup: int) -> dict[str, float]:
    samples: dict[int, list[tuple[str, float, float]]] = {INLINE_BYTES: [], OFFLOADED_BYTES: []}
    async with aiohttp.ClientSession() as http:
        for n_bytes in samples:  # warm up both paths (imports, container, connections)
            for _ in range(warmup):
                _, _, _, value = await _set_and_read(http, host.base_url, n_bytes)
                _check(value, n_bytes)
        for _ in range(rounds):  # interleaved, so drift affects both sizes alike
            for n_bytes, runs in samples.items():
                instance_id, set_s, read_s, _ = await _set_and_read(http, host.base_url, n_bytes)
                runs.append((instance_id, set_s, read_s))

    spent = _durations(list(host.lines))

    def median_ms(values: Iterable[float]) -> float:
        return statistics.median(values) * 1000

    results: dict[str, float] = {}
    for n_bytes, label in ((INLINE_BYTES, "inline_8kb"), (OFFLOADED_BYTES, "offloaded_160kb")):
        runs = samples[n_bytes]
        results[f"{label}_set_ms"] = median_ms(s for _, s, _ in runs)
        results[f"{label}_read_ms"] = median_ms(r for _, _, r in runs)
        results[f"{label}_total_ms"] = median_ms(s + r for _, s, r in runs)
        # Where the set time goes, as devhost timed it: the orchestrator's episodes (SDK replay,
        # building and measuring the status) and the upload activity (Blob storage calls).
        ids = [instance_id for instance_id, _, _ in runs]
        results[f"{label}_orchestrator_ms"] = statistics.median(
            spent.get(i, {}).get(ORCHESTRATOR, 0.0) for i in ids
        )
        if n_bytes == OFFLOADED_BYTES:
            results[f"{label}_upload_activity_ms"] = statistics.median(
                spent.get(i, {}).get("UploadCustomStatus", 0.0) for i in ids
            )
    results["rounds"] = float(rounds)
    results["ratio"] = results["offloaded_160kb_total_ms"] / results["inline_8kb_total_ms"]
    return results


async def _storage_floor(connection_string: str, rounds: int) -> dict[str, float]:
    """The bare storage cost of offloading, on the same Azurite: PUT and GET of the blob alone.

    An offloaded status needs at least one upload and one download more than an inline one, so
    (inline total + PUT + GET) ÷ inline total is the best ratio any design could reach here.
    """
    from azure.storage.blob.aio import BlobServiceClient

    from custom_status import serialize, utf16_size

    row = {"item": 1000, "city": "Zürich", "note": "東京 ✓"}
    rows = OFFLOADED_BYTES // utf16_size(serialize(row) + ",")
    value = {"rows": [row] * rows}  # ~160 KB of UTF-16 JSON, as the benchmark's status
    data = serialize(value).encode("utf-8")
    samples: list[float] = []
    async with BlobServiceClient.from_connection_string(connection_string) as service:
        container = service.get_container_client("storage-floor")
        await container.create_container()
        for n in range(rounds + 3):
            started = time.perf_counter()
            await container.upload_blob("status.json", data, overwrite=True)
            read = await (await container.download_blob("status.json")).readall()
            if n >= 3:  # the first rounds open connections
                samples.append(time.perf_counter() - started)
            assert read == data
    return {
        "storage_put_get_ms": statistics.median(samples) * 1000,
        "storage_utf16_bytes": utf16_size(data.decode("utf-8")),
    }


if __name__ == "__main__":
    results = asyncio.run(measure(quick="--quick" in sys.argv))
    for name, value in results.items():
        print(f"{name:>26} {value:10.2f}")
    print(f"goal: ratio <= {GOAL:g} -> {'pass' if results['ratio'] <= GOAL else 'MISS'}")
