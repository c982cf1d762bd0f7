"""Fixtures every test folder shares."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
async def _close_sdk_session() -> AsyncIterator[None]:
    """The SDK's client keeps one module-level aiohttp session: close it once the tests are done
    (on the session's event loop, which every test here shares)."""
    yield
    from azure.durable_functions.models.utils import http_utils

    await http_utils._close_session()


@pytest.fixture
def restore_environ() -> Iterator[None]:
    """The environment as it was before the test: devhost applies local.settings.json values to
    ``os.environ`` when it starts in the test's process, and tests set settings of their own."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
