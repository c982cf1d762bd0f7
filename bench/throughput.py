"""1. Throughput: E1_HelloSequence through devhost, against the worker library's own cost (floor).

devhost runs every function in a worker process, where Microsoft's worker library
(``azure_functions_runtime``) turns each invocation request into a call of the app's function.
No host can run an orchestration faster than that library runs its invocations, so the floor is
the same invocations handed to the same library in this process, with no gRPC, no worker
process and no host (``bench.library_floor.InProcessWorker``): the four orchestrator episodes
(their contexts exactly as devhost sent them) and the three ``E1_SayHello`` activity calls of
one instance, recorded from the running host just before the timed run by wrapping its
invoker, replayed one after another in a loop. The ratio says how much of the library's speed
survives devhost's own work (the RPC to the workers, store, history, dispatch, HTTP).

Instances are started concurrently with the SDK's real ``DurableOrchestrationClient`` over HTTP,
from the same process and event loop as the host (as a test suite using ``DevHost`` runs), and are
awaited with ``engine.wait_for`` (no polling). State is a SQLite file, as ``python -m devhost``
keeps it; the app runs in one worker process, as by default.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import azure.durable_functions as df

from bench.common import (
    ROOT,
    Result,
    close_sdk_session,
    completed,
    context_switches,
    median,
    process_cpu_seconds,
    saved_environ,
)
from bench.library_floor import Call, InProcessWorker

ORCHESTRATOR = "E1_HelloSequence"
GOAL = 0.5
FLOOR_ROUNDS = 3  # before and after the devhost run each: machine speed drifts on shared runners
RUN_TIMEOUT_S = 600.0


class Recorder:
    """Wraps the invoker's ``orchestrator`` and ``activity`` methods: each call's inputs are
    kept (while recording) and its wall time summed, per kind."""

    def __init__(self, invoker: Any) -> None:
        self.invoker = invoker
        self.recording = False
        self.calls: list[Call] = []
        self.seconds = {"orchestrator": 0.0, "activity": 0.0}
        self.count = {"orchestrator": 0, "activity": 0}
        for kind in self.seconds:
            setattr(invoker, kind, self._wrap(kind, getattr(invoker, kind)))

    def _wrap(
        self, kind: str, method: Callable[[str, str, str, Any], Awaitable[Any]]
    ) -> Callable[[str, str, str, Any], Awaitable[Any]]:
        async def wrapped(function_id: str, name: str, param: str, text: Any) -> Any:
            if self.recording:
                self.calls.append(Call(function_id, name, param, text or "null"))
            started = time.perf_counter()
            try:
                return await method(function_id, name, param, text)
            finally:
                self.seconds[kind] += time.perf_counter() - started
                self.count[kind] += 1

        return wrapped

    def restore(self) -> None:
        for kind in self.seconds:
            vars(self.invoker).pop(kind, None)


async def record_calls(
    engine: Any, client: df.DurableOrchestrationClient, recorder: Recorder
) -> list[Call]:
    """Run one instance and keep every invocation devhost sends for it (4 episodes, 3 calls)."""
    recorder.recording = True
    try:
        instance_id = await client.start_new(ORCHESTRATOR, "bench-record")
        await engine.wait_for(instance_id, completed, timeout=60)
    finally:
        recorder.recording = False
    return list(recorder.calls)


async def floor_rate(worker: InProcessWorker, calls: list[Call], repeats: int) -> float:
    """Orchestrations per second the library runs in this process: the recorded calls, repeated."""
    return repeats / await worker.time_calls(calls, repeats)


async def measure(instances: int = 1000, floor_repeats: int = 100) -> Result:
    """Start ``instances`` E1_HelloSequence concurrently over HTTP and time them to completion.

    The floor is timed in rounds of ``floor_repeats`` orchestrations (about half a second each at
    full size) before and after the devhost run; their median is the floor.
    """
    from devhost.core.options import HostOptions
    from devhost.http.urls import client_binding_json
    from devhost.server import DevHost, freeze_startup_objects

    with tempfile.TemporaryDirectory() as state_dir, saved_environ():
        options = HostOptions(
            app_dir=ROOT,
            port=0,
            state_path=Path(state_dir) / "state.sqlite",
            start_azurite=False,
        )
        async with DevHost(options) as host:
            engine = host.engine
            assert host.running_app is not None
            recorder = Recorder(host.running_app.invoker)
            client = df.DurableOrchestrationClient(
                client_binding_json(host.urls, host.index.task_hub)
            )
            worker = await InProcessWorker.for_app(ROOT)
            freeze_startup_objects()  # as `python -m devhost` does once it serves
            calls = await record_calls(engine, client, recorder)
            floors = [await floor_rate(worker, calls, floor_repeats) for _ in range(FLOOR_ROUNDS)]

            stats = engine.stats
            before = (stats.history_events, stats.host_seconds, dict(recorder.seconds))
            pids = host.worker_pids
            cpu_before = process_cpu_seconds(pids)
            switches_before = context_switches([os.getpid()]), context_switches(pids)
            started, cpu_started = time.perf_counter(), time.process_time()
            ids = await asyncio.gather(
                *(client.start_new(ORCHESTRATOR, f"bench-{n}") for n in range(instances))
            )
            deadline = started + RUN_TIMEOUT_S
            for instance_id in ids:
                await engine.wait_for(instance_id, completed, deadline - time.perf_counter())
            elapsed = time.perf_counter() - started
            cpu_seconds = time.process_time() - cpu_started
            worker_cpu = process_cpu_seconds(pids) - cpu_before
            host_switches = context_switches([os.getpid()]) - switches_before[0]
            worker_switches = context_switches(pids) - switches_before[1]
            events = stats.history_events - before[0]
            host_seconds = stats.host_seconds - before[1]
            invoked = {kind: recorder.seconds[kind] - before[2][kind] for kind in before[2]}
            recorder.restore()
            await close_sdk_session()

            floor_cpu_started = time.process_time()
            floor_started = time.perf_counter()
            floors += [await floor_rate(worker, calls, floor_repeats) for _ in range(FLOOR_ROUNDS)]
            floor_cpu = (time.process_time() - floor_cpu_started) / (
                time.perf_counter() - floor_started
            )
            orchestrator_calls = [c for c in calls if c.function_name == ORCHESTRATOR]
            floor_orchestrator_s = await worker.time_calls(orchestrator_calls, floor_repeats)

    floor = median(floors)
    rate = instances / elapsed
    ratio = rate / floor
    per_orch = 1000 / instances
    return Result(
        name="1 throughput",
        ratio=ratio,
        ratio_means="devhost orch/s ÷ worker library in-process orch/s",
        goal=f">= {GOAL}",
        passed=ratio >= GOAL,
        numbers={
            "instances": instances,
            "devhost_orch_per_s": rate,
            "devhost_events_per_s": events / elapsed,
            "floor_orch_per_s": floor,
            # Where one orchestration's time goes (4 episodes, 3 activities each).
            "devhost_ms_per_orch": elapsed * per_orch,
            # devhost's own episode work on its event loop (engine.stats.host_seconds) ...
            "host_ms_per_orch": host_seconds * per_orch,
            # ... the invocations as the host waits for them (RPC, worker, library, SDK), summed
            # over calls that overlap (up to 64 episodes and every ready activity in flight) ...
            "orch_invoke_ms_per_orch": invoked["orchestrator"] * per_orch,
            "activity_invoke_ms_per_orch": invoked["activity"] * per_orch,
            # ... and CPU: devhost's process (HTTP client and server included) and its worker.
            "host_cpu_ms_per_orch": cpu_seconds * per_orch,
            "worker_cpu_ms_per_orch": worker_cpu * per_orch,
            # ... and how often their threads handed the CPU over (gRPC's threads pass every
            # message between them: about ten switches per request and reply, each side).
            "host_switches_per_orch": host_switches / instances,
            "worker_switches_per_orch": worker_switches / instances,
            # The floor: the same 7 invocations in this process, and its 4 episodes alone.
            "floor_ms_per_orch": 1000 / floor,
            "floor_episodes_ms_per_orch": 1000 * floor_orchestrator_s / floor_repeats,
            "floor_cpu_per_wall": floor_cpu,
        },
        note=(
            f"floor: median of {len(floors)} rounds of the {len(calls)} recorded invocations "
            "through azure_functions_runtime in-process"
        ),
    )
