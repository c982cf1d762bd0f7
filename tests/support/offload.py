"""HTTP and storage helpers of the offload end-to-end tests."""

from __future__ import annotations

import hashlib
from typing import Any

import aiohttp
from azure.storage.blob.aio import ContainerClient

from custom_status import StatusReference, blob_name, instance_prefix, serialize, utf16_size
from tests.support.http import start_like_the_sdk, wait_until

WEBHOOKS = "/runtime/webhooks/durabletask"


def set_step(spec: dict[str, Any], summary: Any = None) -> dict[str, Any]:
    step: dict[str, Any] = {"set": spec}
    if summary is not None:
        step["summary"] = summary
    return step


async def run_script(
    http: aiohttp.ClientSession, base_url: str, instance_id: str, steps: list[dict[str, Any]]
) -> dict[str, Any]:
    """Start StatusScript with ``steps`` (no waits among them) and wait until it has ended."""
    await start_like_the_sdk(http, base_url, "StatusScript", {"steps": steps}, instance_id)
    return await wait_until(http, base_url, instance_id)


async def get_json(http: aiohttp.ClientSession, url: str, **params: str) -> tuple[int, Any, str]:
    """(status code, parsed JSON body, raw text) of a GET."""
    async with http.get(url, params=params) as response:
        text = await response.text()
        content_type = response.headers.get("Content-Type", "")
        assert content_type.startswith("application/json"), (response.status, text[:500])
        return response.status, await response.json(), text


async def our_status(
    http: aiohttp.ClientSession, base_url: str, instance_id: str, **params: str
) -> tuple[int, Any, str]:
    """``GET /api/status/{id}``: the app's status endpoint (resolves offloaded statuses)."""
    return await get_json(http, f"{base_url}/api/status/{instance_id}", **params)


async def builtin_status(
    http: aiohttp.ClientSession, base_url: str, instance_id: str, **params: str
) -> dict[str, Any]:
    """The built-in status endpoint's body (what the host stores, references unresolved)."""
    code, body, _ = await get_json(http, f"{base_url}{WEBHOOKS}/instances/{instance_id}", **params)
    assert code in (200, 202), body
    return body


async def raise_event(
    http: aiohttp.ClientSession, base_url: str, instance_id: str, name: str
) -> None:
    """Raise ``name`` through the built-in webhook (every app has it, ours or a test's)."""
    url = f"{base_url}{WEBHOOKS}/instances/{instance_id}/raiseEvent/{name}"
    async with http.post(
        url, data=b"null", headers={"Content-Type": "application/json"}
    ) as response:
        assert response.status == 202, await response.text()


async def instance_blobs(container: ContainerClient, instance_id: str) -> set[str]:
    """Names of the instance's status blobs (none if the container does not exist yet)."""
    if not await container.exists():
        return set()
    prefix = instance_prefix(instance_id)
    return {blob.name async for blob in container.list_blobs(name_starts_with=prefix)}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def assert_json_error(body: Any, text: str, code: str) -> None:
    """The app's error shape, nothing else: no traceback, no exception dump."""
    assert body == {"error": code, "message": body["message"]}, body
    assert body["message"]
    assert "Traceback" not in text and 'File "' not in text


def invocations(host: Any, function: str, instance_id: str, outcome: str = "") -> int:
    """How many invocation lines devhost logged for this function and instance (and outcome)."""
    return sum(
        1
        for line in list(host.lines)
        if f"Executed 'Functions.{function}' ({outcome}" in line
        and f"InstanceId={instance_id}," in line
    )


def expected_reference(
    value: Any, instance_id: str, container: str, summary: Any = None
) -> StatusReference:
    """The reference the app sets for ``value`` (names and digests are deterministic)."""
    text = serialize(value)
    data = text.encode("utf-8")
    digest = sha256(data)
    return StatusReference(
        container=container,
        blob=blob_name(instance_id, digest),
        size=len(data),
        utf16_size=utf16_size(text),
        sha256=digest,
        summary=summary,
    )
