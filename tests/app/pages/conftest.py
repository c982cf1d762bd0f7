"""Fixtures of the browser tests: real Chromium (Playwright) against the e2e session's devhost.

The host, Azurite and the HTTP helpers are the end-to-end tests' own
(``tests/app/under_devhost/conftest.py``
keeps the host in the session stash, so running both folders starts one devhost). Chromium is
Debian's (``/usr/bin/chromium``, installed by ``scripts/bootstrap.sh --browser``): Playwright's
own browser download does not work here. Each test gets a fresh browser context (no shared
cookies or cache) and fails on any uncaught JavaScript error or console error on the page.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright

from tests.app.under_devhost.conftest import (  # noqa: F401 (pytest fixtures)
    api,
    app_host,
    azurite,
    http,
    instance_id,
)

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/bootstrap.sh --browser (apt chromium)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-background-networking"],
        )
        yield browser
        await browser.close()


def _is_failed_fetch(text: str) -> bool:
    """Chromium logs every non-2xx fetch as a console error; those the page expects are fine."""
    return text.startswith("Failed to load resource: the server responded with a status of")


@pytest.fixture
async def page(chromium: Browser) -> AsyncIterator[Page]:
    """A page in a fresh context; the test fails on an uncaught error or a console error (a
    Content-Security-Policy violation shows up as one)."""
    context = await chromium.new_context()
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not _is_failed_fetch(message.text):
            errors.append(f"console: {message.text}")

    page.on("console", on_console)
    yield page
    await context.close()
    assert errors == []
