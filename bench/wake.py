"""3. Wake latency: how soon an orchestrator runs again after an event or an activity result.

Two samples per ``WakeProbe`` instance, taken one instance at a time on an otherwise idle host:

* event: from ``engine.raise_event`` returning to the instance's next episode starting;
* activity: from ``Stamp`` (a sync activity, run on devhost's thread pool as the Python worker
  runs it) returning to the next episode starting.

Episode starts come from ``engine.episode_listeners``, called at the start of each episode.
A host that polls its queues would show its polling interval here; devhost wakes on events.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import SEQUENCE_APP, Result, completed, percentile, saved_environ

P50_GOAL_MS = 20.0
SPREAD_GOAL = 3.0
WAIT_TIMEOUT_S = 30.0


class EpisodeStarts:
    """An episode listener that hands the next episode's start time to whoever awaits it."""

    def __init__(self) -> None:
        self.waiting: dict[str, asyncio.Future[float]] = {}

    def expect(self, instance_id: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[instance_id] = future
        return future

    def __call__(self, instance_id: str) -> None:
        now = time.perf_counter()
        future = self.waiting.pop(instance_id, None)
        if future is not None and not future.done():
            future.set_result(now)


async def sample(engine: Any, starts: EpisodeStarts, instance_id: str) -> tuple[float, float]:
    """One instance's (event, activity) wake latencies in seconds."""
    finished: dict[str, float] = engine.app.activities["Stamp"].func.__globals__["FINISHED"]
    await engine.start_orchestration("WakeProbe", instance_id, None)
    await engine.wait_for(instance_id, lambda s: s["runtimeStatus"] == "Running", WAIT_TIMEOUT_S)

    woken = starts.expect(instance_id)
    await engine.raise_event(instance_id, "Go", '"go"')
    raised = time.perf_counter()
    event_latency = await asyncio.wait_for(woken, WAIT_TIMEOUT_S) - raised

    resumed = await asyncio.wait_for(starts.expect(instance_id), WAIT_TIMEOUT_S)
    activity_latency = resumed - finished.pop(instance_id)
    await engine.wait_for(instance_id, completed, WAIT_TIMEOUT_S)
    return event_latency, activity_latency


def summary(name: str, samples: list[float]) -> Result:
    p50 = percentile(samples, 0.50) * 1000
    p99 = percentile(samples, 0.99) * 1000
    spread = p99 / p50
    return Result(
        name=f"3 wake: {name}",
        ratio=spread,
        ratio_means="p99 ÷ p50",
        goal=f"<= {SPREAD_GOAL:g}, p50 < {P50_GOAL_MS:g} ms",
        passed=spread <= SPREAD_GOAL and p50 < P50_GOAL_MS,
        numbers={
            "samples": len(samples),
            "p50_ms": p50,
            "p99_ms": p99,
            "max_ms": max(samples) * 1000,
        },
    )


async def measure(samples: int = 500) -> list[Result]:
    from devhost.engine import Engine
    from devhost.loader import load_app
    from devhost.options import HostOptions
    from devhost.server import freeze_startup_objects

    with tempfile.TemporaryDirectory() as state_dir, saved_environ():
        options = HostOptions(app_dir=SEQUENCE_APP, state_path=Path(state_dir) / "state.sqlite")
        engine = Engine(load_app(SEQUENCE_APP), options)
        starts = EpisodeStarts()
        engine.episode_listeners.append(starts)
        await engine.start()
        try:
            for n in range(min(samples, 10)):  # warm up: imports, SQLite pages, thread pool
                await sample(engine, starts, f"warm-{n}")
            freeze_startup_objects()  # as `python -m devhost` does once it serves
            pairs = [await sample(engine, starts, f"wake-{n}") for n in range(samples)]
        finally:
            await engine.stop()
    return [
        summary("after raise_event", [event for event, _ in pairs]),
        summary("after activity", [activity for _, activity in pairs]),
    ]
