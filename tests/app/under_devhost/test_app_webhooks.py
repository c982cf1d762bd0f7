"""The links our starters hand out, and the built-in API behind them, with keys required as on
Azure (the e2e host runs ``--require-keys``).

A client of the app only sees our 202 (``POST /api/orchestrators/...``): links to our own routes,
each followed exactly as given (with the caller's function key, like every route of the app),
and never a ``/runtime/webhooks`` URL or the system key, which unlocks the whole built-in API.
Operators who hold the system key still reach the built-in webhooks.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from .conftest import (
    FUNCTION_KEY,
    MASTER_KEY,
    SYSTEM_KEY,
    WEBHOOKS,
    AppApi,
    assert_app_error,
    assert_bare,
)

pytestmark = pytest.mark.e2e

LINKS = {"id", "statusQueryGetUri", "sendEventPostUri", "purgeHistoryDeleteUri", "monitorUri"}
OPEN_OFFER = {"userId": "user-1", "discountTimeout": 86400}
JSON = {"Content-Type": "application/json"}


async def start(
    api: AppApi, name: str, body: Any = None, instance_id: str | None = None
) -> dict[str, str]:
    """Start through our starter; the 202's links."""
    reply = await api.start(name, body, instance_id=instance_id)
    assert reply.status == 202, reply.text
    payload = reply.json
    assert set(payload) == LINKS
    assert reply.headers["Location"] == payload["statusQueryGetUri"]
    assert reply.headers["Retry-After"] == "10"
    assert SYSTEM_KEY not in reply.text and SYSTEM_KEY not in str(reply.headers)
    return payload


def webhook(instance_id: str, *rest: str) -> str:
    return "/".join([f"{WEBHOOKS}/instances", quote(instance_id, safe=""), *rest])


async def test_our_links_point_at_our_routes_on_this_host(api: AppApi) -> None:
    payload = await start(api, "ReserveTicket", OPEN_OFFER, instance_id="two words é")
    origin = urlsplit(api.base_url)
    encoded = "two%20words%20%C3%A9"
    for key, path in [
        ("statusQueryGetUri", f"/api/status/{encoded}"),
        ("sendEventPostUri", f"/api/instances/{encoded}/events/{{eventName}}"),
        ("purgeHistoryDeleteUri", f"/api/instances/{encoded}"),
        ("monitorUri", f"/api/monitor/{encoded}"),
    ]:
        url = urlsplit(payload[key])
        assert (url.scheme, url.netloc, url.path, url.query) == (
            origin.scheme, origin.netloc, path, "",
        )  # fmt: skip
    await api.raise_event(payload["id"], "BookingConfirmed", False)
    await api.wait(payload["id"])


async def test_following_our_links_runs_an_instance_to_its_end_and_purges_it(
    api: AppApi,
) -> None:
    payload = await start(api, "ReserveTicket", OPEN_OFFER)
    instance_id = payload["id"]
    await api.wait(instance_id, ("Running",))

    running = await api.request("GET", payload["statusQueryGetUri"])
    assert running.status == 200 and running.json["runtimeStatus"] == "Running"
    assert running.json["input"] is None  # the user id is not echoed unless asked for

    event_url = payload["sendEventPostUri"].replace("{eventName}", "BookingConfirmed")
    assert (await api.request("POST", event_url, data="true", headers=JSON)).status == 202
    await api.wait(instance_id)
    done = await api.request("GET", payload["statusQueryGetUri"] + "?showInput=true")
    assert (done.json["runtimeStatus"], done.json["output"]) == ("Completed", True)
    assert json.loads(done.json["input"]) == OPEN_OFFER  # the SDK's JSON text, as stored

    page = await api.request("GET", payload["monitorUri"], params={"code": FUNCTION_KEY})
    assert page.status == 200 and page.content_type.startswith("text/html")
    assert FUNCTION_KEY not in page.text  # the page reads its key from the address bar

    purged = await api.request("DELETE", payload["purgeHistoryDeleteUri"])
    assert purged.status == 200, purged.text
    assert (await api.status(instance_id)).status == 404


async def test_the_timeout_answer_of_wait_for_status_carries_our_links(api: AppApi) -> None:
    reply = await api.request(
        "POST",
        "/api/orchestrators/ReserveTicket/wait-for-status",
        body=OPEN_OFFER,
        params={"status": "never", "timeout": "0"},
    )
    assert reply.status == 202, reply.text
    assert set(reply.json) == LINKS and SYSTEM_KEY not in reply.text
    assert (await api.request("GET", reply.json["statusQueryGetUri"])).status == 200
    await api.raise_event(reply.json["id"], "BookingConfirmed", False)
    await api.wait(reply.json["id"])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/orchestrators/E1_HelloSequence"),
        ("GET", "/api/status/anything"),
        ("POST", "/api/instances/anything/events/Go"),
        ("DELETE", "/api/instances/anything"),
        ("GET", "/api/monitor/anything"),
    ],
)
async def test_every_route_of_the_app_needs_a_function_key(
    api: AppApi, method: str, path: str
) -> None:
    for key in (None, "wrong-key", SYSTEM_KEY):
        reply = await api.request(method, path, data="1", key=key)
        assert (reply.status, reply.text) == (401, ""), (key, reply.status)
    assert (await api.request(method, path, data="1", key=MASTER_KEY)).status != 401
    with_code = await api.request(method, path + f"?code={FUNCTION_KEY}", data="1", key=None)
    assert with_code.status != 401


async def test_the_builtin_api_needs_the_system_key_and_serves_operators(api: AppApi) -> None:
    payload = await start(api, "ReserveTicket", OPEN_OFFER)
    instance_id = payload["id"]
    await api.wait(instance_id, ("Running",))
    status_url = webhook(instance_id)
    for key in (None, FUNCTION_KEY):
        assert_bare(await api.request("GET", status_url, key=key), 401)

    suspend = webhook(instance_id, "suspend") + "?reason=" + quote("hold on")
    assert (await api.request("POST", suspend)).status == 202
    await api.wait(instance_id, ("Suspended",))
    assert (await api.request("POST", webhook(instance_id, "resume"))).status == 202
    await api.wait(instance_id, ("Running",))

    terminate = webhook(instance_id, "terminate") + "?reason=" + quote("no longer needed")
    assert (await api.request("POST", terminate + f"&code={SYSTEM_KEY}", key=None)).status == 202
    status = await api.wait(instance_id)
    assert (status["runtimeStatus"], status["output"]) == ("Terminated", "no longer needed")
    assert_bare(await api.request("POST", terminate), 410)

    purged = await api.request("DELETE", status_url)
    assert (purged.status, purged.json) == (200, {"instancesDeleted": 1})
    assert_bare(await api.request("GET", status_url), 404)
    assert_app_error(await api.status(instance_id), 404, "instance_not_found")


async def test_no_response_of_our_routes_carries_the_system_key(api: AppApi) -> None:
    payload = await start(api, "BatchProgress", 120)
    instance_id = payload["id"]
    replies = [
        await api.request("GET", payload["statusQueryGetUri"]),
        await api.request("GET", payload["statusQueryGetUri"] + "?resolve=false&showInput=true"),
        await api.request("GET", payload["monitorUri"]),
        await api.request(
            "POST",
            "/api/orchestrators/E1_HelloSequence/wait-for-status",
            params={"timeout": "0"},
        ),
        await api.request("GET", "/api/status/nobody"),
        await api.request("POST", "/api/orchestrators/Nope"),
    ]
    await api.wait(instance_id)
    replies.append(await api.request("DELETE", payload["purgeHistoryDeleteUri"]))
    for reply in replies:
        assert SYSTEM_KEY not in reply.text, reply.text[:200]
        assert SYSTEM_KEY not in json.dumps(reply.headers)
        assert "/runtime/webhooks" not in reply.text
