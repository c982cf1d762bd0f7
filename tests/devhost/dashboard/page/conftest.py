"""Fixtures of the dashboard's browser tests: Chromium as the app's page tests drive it, and
devhost processes of their own.

The page tests' ``chromium`` and ``page`` fixtures are reused as they are (Debian's Chromium; a
fresh context per test; any uncaught error or console error, a CSP violation included, fails the
test). The devhost processes differ from the app tests' shared one in the flags the dashboard
needs:

* ``app_dashboard``: this repository's app on the session Azurite (BatchProgress offloads its
  status table to Blob storage), with ``--require-keys`` (the dashboard then asks for the master
  key) and ``--status-changes-kept 3``, so the timeline's bound shows after a few changes.
* ``steering``: a small app of our own (``apps/steering``, no storage needed), without keys, for
  the operations that change instances (rewind, suspend, purge...) and the manual clock.
* ``empty_dashboard``: the same app in a devhost of its own test, for the filter test, which
  counts every instance in the task hub.

All run ``--manual-clock --test-hooks``: timers fire only when a test (or the dashboard) moves
the clock, and tests wait on devhost's long-poll hook instead of sleeping.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from devhost.dev.azurite import Azurite
from tests.app.pages.conftest import chromium, page  # noqa: F401 (pytest fixtures)
from tests.app.under_devhost.conftest import KEY_ENV, MASTER_KEY
from tests.devhost.dashboard.page.support import Dashboard
from tests.support.azurite import azurite  # noqa: F401 (pytest fixture)
from tests.support.devhost_process import ROOT, DevhostProcess

STEERING_APP = Path(__file__).resolve().parent / "apps" / "steering"
STATUS_CHANGES_KEPT = 3
BASE_FLAGS = ("--manual-clock", "--test-hooks", "--no-azurite")


def _start(app_dir: Path, state_dir: Path, env: dict[str, str], *flags: str) -> DevhostProcess:
    return DevhostProcess(
        app_dir, state_dir / "state.sqlite", env, extra_args=(*BASE_FLAGS, *flags)
    ).start()


@pytest.fixture(scope="session")
def app_dashboard_host(
    azurite: Azurite,  # noqa: F811 (the fixture imported above)
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[DevhostProcess]:
    """This repository's app under devhost with keys required and a small timeline bound."""
    env = {
        **KEY_ENV,
        "AzureWebJobsStorage": azurite.connection_string,
        # A container of its own, so that other test folders' blobs never mix with ours.
        "STATUS_BLOB_CONTAINER": f"dashboard-{uuid.uuid4().hex[:12]}",
    }
    host = _start(
        ROOT,
        tmp_path_factory.mktemp("dashboard-app"),
        env,
        "--require-keys",
        "--status-changes-kept",
        str(STATUS_CHANGES_KEPT),
    )
    yield host
    assert host.stop() == 0, host.log


@pytest.fixture(scope="session")
def steering_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevhostProcess]:
    """The steering app under devhost, keys not checked (as ``func start`` locally)."""
    host = _start(STEERING_APP, tmp_path_factory.mktemp("dashboard-steering"), {})
    yield host
    assert host.stop() == 0, host.log


@pytest.fixture
def empty_dashboard_host(tmp_path: Path) -> Iterator[DevhostProcess]:
    """A devhost of this test's own, whose task hub starts empty."""
    host = _start(STEERING_APP, tmp_path, {})
    yield host
    assert host.stop() == 0, host.log


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def app_dashboard(app_dashboard_host: DevhostProcess, http: aiohttp.ClientSession) -> Dashboard:
    return Dashboard(app_dashboard_host, http, MASTER_KEY)


@pytest.fixture
def steering(steering_host: DevhostProcess, http: aiohttp.ClientSession) -> Dashboard:
    return Dashboard(steering_host, http)


@pytest.fixture
def empty_dashboard(empty_dashboard_host: DevhostProcess, http: aiohttp.ClientSession) -> Dashboard:
    return Dashboard(empty_dashboard_host, http)


@pytest.fixture
def instance_id(request: pytest.FixtureRequest) -> str:
    """A fresh instance id named after the test, so devhost's log is easy to read."""
    name = request.node.name.removeprefix("test_")[:32].replace("_", "-")
    return f"{name}-{uuid.uuid4().hex[:8]}"
