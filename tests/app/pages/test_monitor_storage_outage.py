"""The monitor page and the client page while Blob storage is down, with a devhost and an Azurite
of its own.

An offloaded custom status can only be shown while storage answers: ``/api/status`` says 503, the
page says storage is unreachable and keeps retrying, and shows the status once storage is back.
Stopping the session's Azurite would break every other test, so this test starts its own pair.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest
from playwright.async_api import Page, expect

from devhost.dev.azurite import Azurite
from tests.app.under_devhost.conftest import FUNCTION_KEY, AppApi, start_devhost
from tests.support.devhost_process import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

expect.set_options(timeout=30_000)  # an upper bound for slow CI machines, not a speed check


async def test_storage_down_is_reported_and_retried_until_it_is_back(
    page: Page, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    blobs = tmp_path / "azurite"
    storage = Azurite(blobs, port=0).start()
    host = start_devhost(ROOT, tmp_path, {"AzureWebJobsStorage": storage.connection_string})
    try:
        api = AppApi(http, host.base_url)
        instance_id = await api.start_ok("BatchProgress", 80)
        assert (await api.wait(instance_id))["runtimeStatus"] == "Completed"
        # For the client page below: another table, never read yet, so not in the app's cache.
        other_id = await api.start_ok("BatchProgress", 81)
        assert (await api.wait(other_id))["runtimeStatus"] == "Completed"
        port = storage.blob_port
        storage.stop()

        await page.goto(
            f"{api.base_url}/api/monitor/{quote(instance_id)}?interval=250&code={FUNCTION_KEY}"
        )

        message = page.locator("#message")
        await expect(message).to_contain_text("Storage is unreachable")
        await expect(message).to_contain_text("try again later")
        await expect(message).to_have_attribute("data-kind", "error")
        assert await page.locator("body").get_attribute("data-stopped") is None

        # The same data on the same port: the blob the reference names is there again.
        storage = Azurite(blobs, port=port).start()

        await expect(page.locator("#runtime-status")).to_have_text("Completed")
        await expect(page.locator("#progress-text")).to_have_text("80 of 80 done")
        await expect(page.locator("#custom-status")).to_contain_text('"item-0080"')
        await expect(message).not_to_contain_text("unreachable")
        await expect(page.locator("body")).to_have_attribute("data-stopped", "true")

        # The client page says the same in its own words, and recovers the same way.
        port = storage.blob_port
        storage.stop()
        await page.goto(f"{api.base_url}/api/ui?code={FUNCTION_KEY}&instance={quote(other_id)}")
        notice = page.locator("#notice")
        await expect(notice).to_contain_text("Storage is unreachable for now")
        await expect(notice).to_have_attribute("data-kind", "error")
        storage = Azurite(blobs, port=port).start()
        await expect(page.locator("#progress-text")).to_have_text("81 of 81 done")
        await expect(page.locator("#rows-body tr").last).to_contain_text("item-0050")
        await expect(notice).to_contain_text("has ended: Completed")
    finally:
        assert host.stop() == 0, host.log
        storage.stop()
