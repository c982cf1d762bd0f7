"""Fixtures every test folder shares."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest


@pytest.fixture(scope="session", autouse=True)
async def _close_sdk_session() -> AsyncIterator[None]:
    """The SDK's client keeps one module-level aiohttp session: close it once the tests are done
    (on the session's event loop, which every test here shares)."""
    yield
    from azure.durable_functions.models.utils import http_utils

    await http_utils._close_session()
