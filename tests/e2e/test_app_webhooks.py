"""The management URLs our starter hands out (the SDK's ``create_check_status_response``) all work.

A client of the app only ever sees these URLs (the 202 body of ``POST /api/orchestrators/...``):
they point at the host's built-in webhooks, not at our functions, so each one is followed exactly
as given, with only its documented ``{eventName}`` / ``{text}`` placeholders filled in.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from .conftest import AppApi, assert_bare

pytestmark = pytest.mark.e2e

MANAGEMENT_KEYS = {
    "id",
    "statusQueryGetUri",
    "sendEventPostUri",
    "terminatePostUri",
    "rewindPostUri",
    "purgeHistoryDeleteUri",
    "restartPostUri",
    "suspendPostUri",
    "resumePostUri",
}
OPEN_OFFER = {"userId": "user-1", "discountTimeout": 86400}


async def start(api: AppApi, name: str, body: Any = None) -> dict[str, str]:
    """Start through our starter; the 202's management payload."""
    reply = await api.start(name, body)
    assert reply.status == 202, reply.text
    payload = reply.json
    assert set(payload) == MANAGEMENT_KEYS
    assert reply.headers["Location"] == payload["statusQueryGetUri"]
    assert reply.headers["Retry-After"] == "10"
    return payload


async def test_payload_urls_point_at_this_host_and_this_instance(api: AppApi) -> None:
    payload = await start(api, "ReserveTicket", OPEN_OFFER)
    origin = urlsplit(api.base_url)
    for key in MANAGEMENT_KEYS - {"id"}:
        url = urlsplit(payload[key])
        assert (url.scheme, url.netloc) == (origin.scheme, origin.netloc), payload[key]
        assert f"/runtime/webhooks/durabletask/instances/{payload['id']}" in url.path
        assert "taskHub=CustomStatusHub" in url.query
    await api.raise_event(payload["id"], "BookingConfirmed", False)
    await api.wait(payload["id"])


async def test_status_query_is_202_while_running_then_200(api: AppApi) -> None:
    payload = await start(api, "ReserveTicket", OPEN_OFFER)
    instance_id = payload["id"]
    await api.wait(instance_id, ("Running",))

    running = await api.request("GET", payload["statusQueryGetUri"])
    assert running.status == 202, running.text
    assert running.headers["Location"] == payload["statusQueryGetUri"]
    assert int(running.headers["Retry-After"]) > 0
    assert running.json["runtimeStatus"] == "Running"

    event_url = payload["sendEventPostUri"].replace("{eventName}", "BookingConfirmed")
    raised = await api.request(
        "POST", event_url, data="true", headers={"Content-Type": "application/json"}
    )
    assert raised.status == 202, raised.text
    await api.wait(instance_id)

    done = await api.request("GET", payload["statusQueryGetUri"])
    assert done.status == 200, done.text
    assert "Location" not in done.headers
    body = done.json
    assert (body["runtimeStatus"], body["customStatus"], body["output"]) == (
        "Completed",
        {"message": "Thank you for confirming your booking."},
        True,
    )


async def test_send_event_uri_delivers_a_payload_the_orchestrator_reads(api: AppApi) -> None:
    """A raw JSON body through the webhook reaches the orchestrator like our endpoint's does."""
    payload = await start(api, "CityRecommender", 2)
    await api.wait(payload["id"], ("Running",))
    event_url = payload["sendEventPostUri"].replace("{eventName}", "CitySelected")
    raised = await api.request(
        "POST", event_url, data='"london"', headers={"Content-Type": "application/json"}
    )
    assert raised.status == 202, raised.text
    status = await api.wait(payload["id"])
    assert status["output"]["selectedCity"] == "London"


async def test_terminate_uri_with_a_reason(api: AppApi) -> None:
    payload = await start(api, "ReserveTicket", OPEN_OFFER)
    await api.wait(payload["id"], ("Running",))
    url = payload["terminatePostUri"].replace("{text}", quote("no longer needed"))
    reply = await api.request("POST", url)
    assert reply.status == 202, reply.text
    status = await api.wait(payload["id"])
    assert (status["runtimeStatus"], status["output"]) == ("Terminated", "no longer needed")

    again = await api.request("POST", url)
    assert_bare(again, 410)


async def test_suspend_and_resume_uris(api: AppApi) -> None:
    payload = await start(api, "ReserveTicket", OPEN_OFFER)
    instance_id = payload["id"]
    await api.wait(instance_id, ("Running",))

    suspend = payload["suspendPostUri"].replace("{text}", quote("hold on"))
    assert (await api.request("POST", suspend)).status == 202
    suspended = await api.wait(instance_id, ("Suspended",))
    assert suspended["runtimeStatus"] == "Suspended"
    # A suspended instance still answers 202 on the status URI (it has not ended).
    assert (await api.request("GET", payload["statusQueryGetUri"])).status == 202

    resume = payload["resumePostUri"].replace("{text}", quote("go on"))
    assert (await api.request("POST", resume)).status == 202
    await api.wait(instance_id, ("Running",))

    assert (await api.raise_event(instance_id, "BookingConfirmed", True)).status == 202
    status = await api.wait(instance_id)
    assert (status["runtimeStatus"], status["output"]) == ("Completed", True)


async def test_purge_history_uri_deletes_an_ended_instance(api: AppApi) -> None:
    payload = await start(api, "SetStatusTest")
    await api.wait(payload["id"])

    purged = await api.request("DELETE", payload["purgeHistoryDeleteUri"])
    assert purged.status == 200, purged.text
    assert purged.json == {"instancesDeleted": 1}

    gone = await api.request("GET", payload["statusQueryGetUri"])
    assert_bare(gone, 404)
    assert (await api.status(payload["id"])).status == 404
    again = await api.request("DELETE", payload["purgeHistoryDeleteUri"])
    assert again.status == 404


async def test_the_timeout_answer_of_wait_for_status_carries_working_urls(api: AppApi) -> None:
    reply = await api.request(
        "POST",
        "/api/orchestrators/ReserveTicket/wait-for-status",
        body=OPEN_OFFER,
        params={"status": "never", "timeout": "0"},
    )
    assert reply.status == 202, reply.text
    payload = reply.json
    assert set(payload) == MANAGEMENT_KEYS
    assert (await api.request("GET", payload["statusQueryGetUri"])).status == 202
    url = payload["terminatePostUri"].replace("{text}", "done")
    assert (await api.request("POST", url)).status == 202
    assert (await api.wait(payload["id"]))["runtimeStatus"] == "Terminated"
