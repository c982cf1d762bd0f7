"""Small HTTP helpers for end-to-end tests against a devhost on loopback."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

ENDED = ("Completed", "Failed", "Terminated")


async def start_like_the_sdk(
    session: aiohttp.ClientSession, base_url: str, name: str, value: Any, instance_id: str = ""
) -> str:
    """Start through the public webhook with the body the SDK's start_new sends (JSON in JSON)."""
    suffix = f"/{instance_id}" if instance_id else ""
    url = f"{base_url}/runtime/webhooks/durabletask/orchestrators/{name}{suffix}"
    async with session.post(url, json=json.dumps(value)) as response:
        assert response.status == 202, await response.text()
        return (await response.json())["id"]


async def wait_until(
    session: aiohttp.ClientSession,
    base_url: str,
    instance_id: str,
    runtime_status: tuple[str, ...] = ENDED,
    custom_status: Any = None,
    timeout: float = 60.0,
) -> dict[str, Any]:
    """Long-poll devhost's test hook until the instance reaches a state (no client-side sleeps)."""
    body: dict[str, Any] = {"runtimeStatus": list(runtime_status), "timeout": timeout}
    if custom_status is not None:
        body["customStatus"] = custom_status
    url = f"{base_url}/admin/devhost/instances/{instance_id}/wait"
    async with session.post(url, json=body) as response:
        payload = await response.json()
        assert response.status == 200, payload
        return payload
