"""An Engine running the patterns app in memory with a skippable clock (no HTTP)."""

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from devhost.engine import Engine
from devhost.loader import AppIndex, load_app
from devhost.options import HostOptions

PATTERNS_APP = Path(__file__).parent.parent / "apps" / "patterns"


@pytest.fixture(scope="session")
def patterns_app() -> AppIndex:
    return load_app(PATTERNS_APP)


@pytest.fixture
async def engine(patterns_app: AppIndex) -> AsyncIterator[Engine]:
    options = HostOptions(app_dir=PATTERNS_APP, in_memory=True, manual_clock=True)
    engine = Engine(patterns_app, options)
    await engine.start()
    yield engine
    await engine.stop()


async def run(engine: Engine, name: str, value: Any = None, instance_id: str | None = None) -> str:
    """Start like the SDK client does: the input arrives as a JSON string holding JSON text."""
    return await engine.start_orchestration(name, instance_id, json.dumps(json.dumps(value)))


def ended(status: dict[str, Any]) -> bool:
    return status["runtimeStatus"] in ("Completed", "Failed", "Terminated")
