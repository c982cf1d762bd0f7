"""2. Replay scaling: devhost's own time per episode with 1,000 sequential activities vs 100.

Episode k of ``Sequence(N)`` replays k activities, so a host that re-reads, re-parses or re-scans
the whole history each episode gets slower per episode as N grows. The figure is devhost's time
only: ``engine.stats.host_seconds / episodes`` (each episode minus its call into the SDK).

The SDK's own replay is O(history) per episode too, and most of it is ``dateutil`` parsing every
event's timestamp: stock, ``Sequence(1000)`` spends ~220 s in the SDK. Because the figure excludes
the SDK, this benchmark swaps that parser for ``datetime.fromisoformat`` (same instant for
devhost's fixed-format timestamps) to finish in ~30 s. That shortens the SDK call only; devhost's
code and what it writes are unchanged.
"""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from bench.common import SEQUENCE_APP, Result, completed, saved_environ

GOAL = 3.0
RUN_TIMEOUT_S = 600.0


@contextlib.contextmanager
def fast_sdk_timestamps() -> Iterator[None]:
    """Let the SDK parse history timestamps with ``fromisoformat`` instead of dateutil."""
    import azure.durable_functions  # noqa: F401 (loads the module patched below)

    module = sys.modules["azure.durable_functions.models.history.HistoryEvent"]
    original = module.dt_parse
    module.dt_parse = datetime.fromisoformat
    try:
        yield
    finally:
        module.dt_parse = original


class Run(NamedTuple):
    """Per-episode figures of one ``Sequence(N)`` run, in milliseconds."""

    host_ms: float  # engine.stats.host_seconds / episodes: the figure the goal is about
    strict_host_ms: float  # episode time minus the bare SDK call (see below)
    sdk_ms: float  # engine.stats.sdk_seconds / episodes
    episodes: int


async def run_sequence(activities: int) -> Run:
    """``Sequence(activities)`` alone on a fresh engine.

    ``engine.stats`` times the SDK around ``Engine._call_orchestrator``, which also parses the
    SDK's JSON answer (the cumulative action list, O(N)) and logs the invocation: devhost's work
    counted as the SDK's. ``strict_host_ms`` times the bare call into the SDK instead, by wrapping
    the registered orchestrator, and counts everything else as devhost's.
    """
    from devhost.engine import Engine
    from devhost.loader import load_app
    from devhost.options import HostOptions

    bare_sdk_seconds = 0.0

    def timed(handle: Callable[[Any], str]) -> Callable[[Any], str]:
        def call(context: Any) -> str:
            nonlocal bare_sdk_seconds
            started = time.perf_counter()
            try:
                return handle(context)
            finally:
                bare_sdk_seconds += time.perf_counter() - started

        return call

    with tempfile.TemporaryDirectory() as state_dir, saved_environ():
        options = HostOptions(app_dir=SEQUENCE_APP, state_path=Path(state_dir) / "state.sqlite")
        app = load_app(SEQUENCE_APP)
        app.orchestrators["Sequence"] = timed(app.orchestrators["Sequence"])
        engine = Engine(app, options)
        await engine.start()
        try:
            # JSON text inside a JSON string: the body the SDK's start_new sends.
            input_json = json.dumps(json.dumps(activities))
            instance_id = await engine.start_orchestration("Sequence", None, input_json)
            await engine.wait_for(instance_id, completed, RUN_TIMEOUT_S)
        finally:
            await engine.stop()
    stats = engine.stats
    return Run(
        host_ms=1000 * stats.host_seconds / stats.episodes,
        strict_host_ms=1000 * (stats.episode_seconds - bare_sdk_seconds) / stats.episodes,
        sdk_ms=1000 * stats.sdk_seconds / stats.episodes,
        episodes=stats.episodes,
    )


async def measure(small: int = 100, large: int = 1000) -> Result:
    with fast_sdk_timestamps():
        await run_sequence(min(small, 10))  # warm up imports and SQLite
        few = await run_sequence(small)
        many = await run_sequence(large)
    ratio = many.host_ms / few.host_ms
    return Result(
        name="2 replay scaling",
        ratio=ratio,
        ratio_means=f"host ms/episode at N={large:,} ÷ at N={small:,}",
        goal=f"<= {GOAL:g}",
        passed=ratio <= GOAL,
        numbers={
            "n_small": small,
            "n_large": large,
            "host_ms_per_episode_small": few.host_ms,
            "host_ms_per_episode_large": many.host_ms,
            "strict_ratio": many.strict_host_ms / few.strict_host_ms,
            "strict_host_ms_per_episode_small": few.strict_host_ms,
            "strict_host_ms_per_episode_large": many.strict_host_ms,
            "sdk_ms_per_episode_small": few.sdk_ms,
            "sdk_ms_per_episode_large": many.sdk_ms,
            "episodes": few.episodes + many.episodes,
        },
        note="SDK timestamps parsed with fromisoformat; strict: SDK answer parsing counted as host",
    )
