"""Fixtures every test folder shares, and the level markers of whole folders.

Levels are markers, so the quick inner loop is ``pytest -m "not e2e and not browser"``: ``e2e``
for tests that start a devhost (in this process or another) or Azurite, or build a virtualenv;
``browser`` for Chromium; ``crash`` for tests that SIGKILL a process (they are e2e too).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
E2E_FOLDERS = (
    "app/under_devhost", "app/offload", "app/pages",
    "devhost/app", "devhost/conformance", "devhost/dev", "devhost/http", "devhost/workers",
    "devhost/dashboard",
    "bench",
)  # fmt: skip
"""Folders whose every test runs devhost, Azurite or a browser end to end."""
E2E_FILES = ("infra/test_requirements.py", "devhost/test_layers.py")
"""Single files of otherwise quick folders that build a virtualenv or run processes."""
BROWSER_FOLDERS = ("app/pages/", "devhost/dashboard/page/")
"""The folders whose tests drive Chromium (they are e2e too)."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        relative = Path(str(item.fspath)).resolve().relative_to(TESTS).as_posix()
        if relative.startswith(tuple(f"{folder}/" for folder in E2E_FOLDERS)) or (
            relative in E2E_FILES
        ):
            item.add_marker(pytest.mark.e2e)
        if relative.startswith(BROWSER_FOLDERS):
            item.add_marker(pytest.mark.browser)
        if item.get_closest_marker("crash") is not None:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session", autouse=True)
async def _close_sdk_session() -> AsyncIterator[None]:
    """The SDK's client keeps one module-level aiohttp session, and the custom_status package one
    Blob client per loop: close them once the tests are done (on the session's event loop, which
    every test here shares)."""
    yield
    from azure.durable_functions.models.utils import http_utils

    from custom_status import close_shared_clients

    await http_utils._close_session()
    # The package's Blob clients shared on the session's loop (in-process tests use them);
    # left open, their aiohttp sessions complain at interpreter exit.
    await close_shared_clients()


@pytest.fixture
def restore_environ() -> Iterator[None]:
    """The environment as it was before the test: devhost applies local.settings.json values to
    ``os.environ`` when it starts in the test's process, and tests set settings of their own."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
