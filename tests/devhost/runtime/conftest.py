"""An Engine running the patterns app in memory with a skippable clock (no HTTP).

The app runs in real worker processes (one pool for the session, as a host keeps its workers);
each test gets a fresh engine and state over it."""

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from devhost.core.options import HostOptions
from devhost.runtime.engine import Engine
from devhost.workers.app import RunningApp, start_app

PATTERNS_APP = Path(__file__).resolve().parents[2] / "apps" / "patterns"


@pytest.fixture(scope="session")
async def patterns_app() -> AsyncIterator[RunningApp]:
    running = await start_app(PATTERNS_APP)
    yield running
    await running.stop()


def new_engine(app: RunningApp, options: HostOptions, **kwargs: Any) -> Engine:
    """An engine over the session's workers (not started)."""
    return Engine(app.index, options, app.invoker, **kwargs)


@pytest.fixture
async def engine(patterns_app: RunningApp) -> AsyncIterator[Engine]:
    options = HostOptions(app_dir=PATTERNS_APP, in_memory=True, manual_clock=True)
    engine = new_engine(patterns_app, options)
    await engine.start()
    yield engine
    await engine.stop()


async def run(engine: Engine, name: str, value: Any = None, instance_id: str | None = None) -> str:
    """Start like the SDK client does: the input arrives as a JSON string holding JSON text."""
    return await engine.start_orchestration(name, instance_id, json.dumps(json.dumps(value)))


def ended(status: dict[str, Any]) -> bool:
    return status["runtimeStatus"] in ("Completed", "Failed", "Terminated")
