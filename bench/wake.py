"""3. Wake latency: how soon an orchestrator runs again after an event or an activity result.

Two samples per ``WakeProbe`` instance, taken one instance at a time on an otherwise idle host:

* event: from ``engine.raise_event`` returning to the instance's next episode starting;
* activity: from ``Stamp`` (a sync activity, run in devhost's worker process on the worker
  library's thread pool) returning to the next episode starting. ``Stamp`` returns its
  ``perf_counter()``, a clock shared by every process on Linux (``CLOCK_MONOTONIC``), so this
  includes the result's way back over gRPC.

Episode starts come from ``engine.episode_listeners``, called at the start of each episode, in
the host before the orchestrator is invoked. A host that polls its queues would show its polling
interval here; devhost wakes on events.
"""

from __future__ import annotations

import asyncio
import json
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


class ReplyTimes:
    """Wraps the invoker's ``activity``: when each ``Stamp`` reply reached the host, by instance.

    Splits the wake after an activity in two: the result's way back (worker library, gRPC, the
    host's stream reader) and the engine's part (recording the result, committing, starting the
    episode)."""

    def __init__(self, invoker: Any) -> None:
        self.arrived: dict[str, float] = {}
        activity = invoker.activity

        async def timed(function_id: str, name: str, param: str, input_json: str | None) -> Any:
            reply = await activity(function_id, name, param, input_json)
            if name == "Stamp" and input_json is not None:
                self.arrived[json.loads(input_json)] = time.perf_counter()
            return reply

        invoker.activity = timed


async def sample(
    engine: Any, starts: EpisodeStarts, replies: ReplyTimes, instance_id: str
) -> tuple[float, float, float]:
    """One instance's wake latencies in seconds: after the event, after the activity, and of
    the latter the part until the activity's reply reached the host."""
    await engine.start_orchestration("WakeProbe", instance_id, None)
    await engine.wait_for(instance_id, lambda s: s["runtimeStatus"] == "Running", WAIT_TIMEOUT_S)

    woken = starts.expect(instance_id)
    await engine.raise_event(instance_id, "Go", '"go"')
    raised = time.perf_counter()
    event_latency = await asyncio.wait_for(woken, WAIT_TIMEOUT_S) - raised

    resumed = await asyncio.wait_for(starts.expect(instance_id), WAIT_TIMEOUT_S)
    status = await engine.wait_for(instance_id, completed, WAIT_TIMEOUT_S)
    finished = float(status["output"])  # the output: the moment Stamp finished, in its worker
    return event_latency, resumed - finished, replies.arrived.pop(instance_id) - finished


def summary(name: str, samples: list[float], reply_samples: list[float] | None = None) -> Result:
    p50 = percentile(samples, 0.50) * 1000
    p99 = percentile(samples, 0.99) * 1000
    spread = p99 / p50
    numbers = {
        "samples": len(samples),
        "p50_ms": p50,
        "p99_ms": p99,
        "max_ms": max(samples) * 1000,
    }
    if reply_samples:
        # Of each sample: the activity's reply on its way to the host, and the engine's part.
        engine_samples = [
            total - reply for total, reply in zip(samples, reply_samples, strict=True)
        ]
        numbers |= {
            "reply_p50_ms": percentile(reply_samples, 0.50) * 1000,
            "reply_p99_ms": percentile(reply_samples, 0.99) * 1000,
            "engine_p50_ms": percentile(engine_samples, 0.50) * 1000,
            "engine_p99_ms": percentile(engine_samples, 0.99) * 1000,
        }
    return Result(
        name=f"3 wake: {name}",
        ratio=spread,
        ratio_means="p99 ÷ p50",
        goal=f"<= {SPREAD_GOAL:g}, p50 < {P50_GOAL_MS:g} ms",
        passed=spread <= SPREAD_GOAL and p50 < P50_GOAL_MS,
        numbers=numbers,
    )


async def measure(samples: int = 500) -> list[Result]:
    from devhost.core.options import HostOptions
    from devhost.runtime.engine import Engine
    from devhost.server import freeze_startup_objects
    from devhost.workers.app import start_app

    with tempfile.TemporaryDirectory() as state_dir, saved_environ():
        options = HostOptions(app_dir=SEQUENCE_APP, state_path=Path(state_dir) / "state.sqlite")
        running = await start_app(SEQUENCE_APP)
        try:
            engine = Engine(running.index, options, running.invoker)
            replies = ReplyTimes(running.invoker)
            starts = EpisodeStarts()
            engine.episode_listeners.append(starts)
            await engine.start()
            try:
                for n in range(min(samples, 10)):  # warm up: imports, SQLite pages, threads
                    await sample(engine, starts, replies, f"warm-{n}")
                freeze_startup_objects()  # as `python -m devhost` does once it serves
                triples = [
                    await sample(engine, starts, replies, f"wake-{n}") for n in range(samples)
                ]
            finally:
                await engine.stop()
        finally:
            await running.stop()
    return [
        summary("after raise_event", [event for event, _, _ in triples]),
        summary("after activity", [a for _, a, _ in triples], [reply for _, _, reply in triples]),
    ]
