"""The API the client page (``/api/ui``) uses beside start, status and events: the startable
orchestrators, recent instances newest first, and terminate, through devhost over HTTP with
function keys required."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

import pytest

from .conftest import AppApi, assert_app_error

pytestmark = pytest.mark.e2e


async def test_every_offered_example_input_starts_its_orchestrator(api: AppApi) -> None:
    reply = await api.request("GET", "/api/orchestrators")
    assert reply.status == 200, reply.text
    offered = reply.json
    assert [o["name"] for o in offered] == [
        "E1_HelloSequence", "CityRecommender", "ReserveTicket", "SetStatusTest", "BatchProgress",
    ]  # fmt: skip
    for orchestrator in offered:
        assert orchestrator["inputHelp"]
        started = await api.start(orchestrator["name"], orchestrator["exampleInput"])
        assert started.status == 202, (orchestrator, started.text)
        await api.request("POST", f"/api/instances/{quote(started.json['id'], safe='')}/terminate")


async def test_recent_instances_are_the_newest_even_past_the_hosts_first_page(
    api: AppApi,
) -> None:
    """The host answers a query with its first 100 instances by id, not by time: 120 older
    instances must not hide the three newest, whatever their ids."""
    older = [f"aa-older-{n:03d}" for n in range(120)]
    await asyncio.gather(*(api.start_ok("ReserveTicket", "u", instance_id=i) for i in older))
    await api.advance_clock(30)  # the next ones are created strictly later
    newest = [f"zz-newest-{n}" for n in range(3)]
    for instance_id in newest:
        await api.start_ok("ReserveTicket", "u", instance_id=instance_id)

    reply = await api.request("GET", "/api/instances", params={"top": "5"})
    assert reply.status == 200, reply.text
    listed = reply.json
    assert len(listed) == 5
    assert {i["instanceId"] for i in listed[:3]} == set(newest)
    assert listed[3]["instanceId"].startswith("aa-older-")
    assert [i["createdTime"] for i in listed] == sorted(
        (i["createdTime"] for i in listed), reverse=True
    )
    assert set(listed[0]) == {
        "instanceId",
        "name",
        "runtimeStatus",
        "createdTime",
        "lastUpdatedTime",
    }
    for instance_id in older + newest:
        await api.request("POST", f"/api/instances/{instance_id}/terminate")


@pytest.mark.parametrize("top", ["0", "101", "x", "-1", "²"])
async def test_a_bad_top_is_400(api: AppApi, top: str) -> None:
    assert_app_error(
        await api.request("GET", "/api/instances", params={"top": top}), 400, "invalid_top"
    )


async def test_terminate_answers_202_then_410_and_404_for_unknown(
    api: AppApi, instance_id: str
) -> None:
    await api.start_ok("ReserveTicket", "u", instance_id=instance_id)
    path = f"/api/instances/{instance_id}/terminate"
    reply = await api.request("POST", path, params={"reason": "changed my mind"})
    assert (reply.status, reply.json) == (
        202,
        {"instanceId": instance_id, "runtimeStatus": "Terminated"},
    )
    status = await api.wait(instance_id)
    assert (status["runtimeStatus"], status["output"]) == ("Terminated", "changed my mind")
    assert_app_error(await api.request("POST", path), 410, "instance_gone")
    assert_app_error(
        await api.request("POST", "/api/instances/no-such-instance/terminate"),
        404,
        "instance_not_found",
    )
    for reason in ("a\nb", "a\x7fb", "a\x85b"):  # C0, DEL, C1: as instance ids are checked
        assert_app_error(
            await api.request("POST", path, params={"reason": reason}), 400, "invalid_reason"
        )
    assert (await api.request("POST", path, key=None)).status == 401
