"""A devhost (in this process) running the patterns app, and the SDK's real client built from
the binding JSON devhost hands the app's functions. Each test in this folder is one row of
devhost/CONFORMANCE.md and is named after it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import azure.durable_functions as df
import pytest

from devhost.core.options import HostOptions
from devhost.http.urls import client_binding_json
from devhost.server import DevHost
from tests.support.devhost_process import ROOT

PATTERNS_APP = ROOT / "tests" / "apps" / "patterns"
WEBHOOK = "/runtime/webhooks/durabletask"


@pytest.fixture(autouse=True)
def _restore_environ(restore_environ: None) -> None:
    """Each test starts with the environment the one before it found."""


@pytest.fixture
async def host() -> AsyncIterator[DevHost]:
    options = HostOptions(
        app_dir=PATTERNS_APP,
        port=0,
        in_memory=True,
        start_azurite=False,
        manual_clock=True,
        test_hooks=True,
    )
    async with DevHost(options) as running:
        yield running


@pytest.fixture
def client(host: DevHost) -> df.DurableOrchestrationClient:
    return df.DurableOrchestrationClient(client_binding_json(host.urls, host.index.task_hub))


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def call(
    http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any
) -> tuple[int, Any, str]:
    """Status, JSON body (None when empty) and the raw text."""
    async with http.request(method, url, **kwargs) as response:
        text = await response.text()
        return response.status, (json.loads(text) if text else None), text


def running(status: dict[str, Any]) -> bool:
    return status["runtimeStatus"] == "Running"


def ended(status: dict[str, Any]) -> bool:
    return status["runtimeStatus"] in ("Completed", "Failed", "Terminated")
