"""1. Throughput: E1_HelloSequence through devhost, against the SDK's own replay cost (the floor).

devhost cannot run an orchestration faster than the SDK replays it, so the floor is the SDK's
``Orchestrator.handle`` (the registered orchestrator function) replaying the four episodes of one
E1_HelloSequence instance in a loop with no host at all: the four orchestration contexts devhost
really sent, recorded from the same host just before the timed run. The ratio says how much of the
SDK's speed survives devhost's own work (store, history, activities, HTTP).

Instances are started concurrently with the SDK's real ``DurableOrchestrationClient`` over HTTP,
from the same process and event loop as the host (as a test suite using ``DevHost`` runs), and are
awaited with ``engine.wait_for`` (no polling). State is a SQLite file, as ``python -m devhost``
keeps it.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from bench.common import ROOT, Result, close_sdk_session, completed, median, saved_environ

ORCHESTRATOR = "E1_HelloSequence"
GOAL = 0.5
FLOOR_ROUNDS = 3  # before and after the devhost run each: machine speed drifts on shared runners
RUN_TIMEOUT_S = 600.0


async def record_contexts(engine: Any, client: df.DurableOrchestrationClient) -> list[str]:
    """Run one instance and keep each orchestration context devhost hands the SDK (4 episodes)."""
    handles: dict[str, Callable[[func.OrchestrationContext], str]] = engine.app.orchestrators
    handle = handles[ORCHESTRATOR]
    contexts: list[str] = []

    def recording(context: func.OrchestrationContext) -> str:
        contexts.append(context.body)
        return handle(context)

    handles[ORCHESTRATOR] = recording
    try:
        instance_id = await client.start_new(ORCHESTRATOR, "bench-record")
        await engine.wait_for(instance_id, completed, timeout=60)
    finally:
        handles[ORCHESTRATOR] = handle
    return contexts


def floor_rate(
    handle: Callable[[func.OrchestrationContext], str], contexts: list[str], repeats: int
) -> float:
    """Orchestrations per second the SDK replays on its own: the whole episode list, repeated."""
    started = time.perf_counter()
    for _ in range(repeats):
        for context in contexts:
            handle(func.OrchestrationContext(context))
    return repeats / (time.perf_counter() - started)


async def measure(instances: int = 1000, floor_repeats: int = 150) -> Result:
    """Start ``instances`` E1_HelloSequence concurrently over HTTP and time them to completion.

    The floor is timed in rounds of ``floor_repeats`` orchestrations (about half a second each at
    full size) before and after the devhost run; their median is the floor.
    """
    from devhost.options import HostOptions
    from devhost.server import DevHost, freeze_startup_objects
    from devhost.urls import client_binding_json

    with tempfile.TemporaryDirectory() as state_dir, saved_environ():
        options = HostOptions(
            app_dir=ROOT,
            port=0,
            state_path=Path(state_dir) / "state.sqlite",
            start_azurite=False,
        )
        async with DevHost(options) as host:
            engine = host.engine
            client = df.DurableOrchestrationClient(
                client_binding_json(host.urls, host.index.task_hub)
            )
            freeze_startup_objects()  # as `python -m devhost` does once it serves
            contexts = await record_contexts(engine, client)
            handle = engine.app.orchestrators[ORCHESTRATOR]
            floors = [floor_rate(handle, contexts, floor_repeats) for _ in range(FLOOR_ROUNDS)]

            stats = engine.stats
            before = (stats.history_events, stats.sdk_seconds, stats.host_seconds)
            started, cpu_started = time.perf_counter(), time.process_time()
            ids = await asyncio.gather(
                *(client.start_new(ORCHESTRATOR, f"bench-{n}") for n in range(instances))
            )
            deadline = started + RUN_TIMEOUT_S
            for instance_id in ids:
                await engine.wait_for(instance_id, completed, deadline - time.perf_counter())
            elapsed = time.perf_counter() - started
            cpu_seconds = time.process_time() - cpu_started
            events = stats.history_events - before[0]
            sdk_seconds = stats.sdk_seconds - before[1]
            host_seconds = stats.host_seconds - before[2]
            await close_sdk_session()

            floors += [floor_rate(handle, contexts, floor_repeats) for _ in range(FLOOR_ROUNDS)]

    floor = median(floors)
    rate = instances / elapsed
    ratio = rate / floor
    return Result(
        name="1 throughput",
        ratio=ratio,
        ratio_means="devhost orch/s ÷ SDK floor orch/s",
        goal=f">= {GOAL}",
        passed=ratio >= GOAL,
        numbers={
            "instances": instances,
            "devhost_orch_per_s": rate,
            "devhost_events_per_s": events / elapsed,
            "floor_orch_per_s": floor,
            # Where one orchestration's wall time goes (4 episodes each): the SDK's replay inside
            # devhost, devhost's episode work (engine.stats.host_seconds), and the rest
            # (activities, HTTP, dispatch), next to the floor's time for the same four episodes.
            "devhost_ms_per_orch": 1000 * elapsed / instances,
            "sdk_ms_per_orch": 1000 * sdk_seconds / instances,
            "host_ms_per_orch": 1000 * host_seconds / instances,
            "rest_ms_per_orch": 1000 * (elapsed - sdk_seconds - host_seconds) / instances,
            "floor_ms_per_orch": 1000 / floor,
            "cpu_ms_per_orch": 1000 * cpu_seconds / instances,
        },
        note=f"floor: median of {len(floors)} rounds of {len(contexts)} recorded contexts",
    )
