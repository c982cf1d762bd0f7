"""Fixtures for devhost's HTTP layer: hosts on a free loopback port with the real engine, its
state in memory and its clock manual, so tests drive real instances without waiting."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from devhost.core.options import HostOptions
from devhost.server import DevHost

APPS = Path(__file__).parent / "apps"


def make_options(app: str, **overrides: Any) -> HostOptions:
    values: dict[str, Any] = {
        "app_dir": APPS / app,
        "port": 0,
        "in_memory": True,
        "start_azurite": False,
    }
    values.update(overrides)
    return HostOptions(**values)


@pytest.fixture(autouse=True)
def _restore_environ(restore_environ: None) -> None:
    """Each test starts with the environment the one before it found."""


@pytest.fixture
def start_host() -> Callable[..., Any]:
    """``async with start_host("basic", test_hooks=True) as host``."""

    @asynccontextmanager
    async def start(app: str = "basic", **overrides: Any):
        async with DevHost(make_options(app, **overrides)) as host:
            yield host

    return start


@pytest.fixture
async def host(start_host: Callable[..., Any]) -> AsyncIterator[DevHost]:
    async with start_host("basic", test_hooks=True, manual_clock=True) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
