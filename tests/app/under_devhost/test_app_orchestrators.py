"""Every orchestrator path of the app, end to end through devhost and the app's own ``/api`` routes.

The unit tests replay each branch in-process; these run the same paths through a real host
(HTTP, SQLite, activities in a thread pool, durable timers on the manual clock) to show that the
pieces fit: the starters' validation, the events endpoint, the status endpoint, and what an
orchestrator publishes as custom status. Expected values are spelled out literally from
``orchestrators/README.md`` rather than computed with the app's own code.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from .conftest import AppApi, assert_app_error

pytestmark = pytest.mark.e2e

USER_1_OFFER = {
    "discount": 25,
    "discountTimeout": 86400,
    "bookingUrl": "https://www.myawesomebookingweb.com/book?userId=user-1&discount=25",
}
CONFIRMED = {"message": "Thank you for confirming your booking."}
DECLINED = {"message": "You declined the booking. The discount offer has been withdrawn."}
TIMED_OUT = {"message": "The booking was not confirmed on time. Please try again."}
SAMPLE_STATUS = {"nextActions": ["A", "B", "C"], "foo": 2}
RECOMMENDED_FOR_1 = {
    "recommendedCities": ["Tokyo", "Seattle"],
    "recommendedSeasons": ["Spring", "Summer"],
}


async def our_status(api: AppApi, instance_id: str) -> dict[str, Any]:
    """``GET /api/status/{id}``, asserting the 200 and the built-in shape."""
    reply = await api.status(instance_id)
    assert reply.status == 200, reply.text
    body = reply.json
    assert set(body) == {
        "name",
        "instanceId",
        "runtimeStatus",
        "input",
        "customStatus",
        "output",
        "createdTime",
        "lastUpdatedTime",
    }, body
    assert body["instanceId"] == instance_id
    return body


# -- E1_HelloSequence -------------------------------------------------------------------------


async def test_hello_sequence_says_hello_in_order_and_ends_on_london(api: AppApi) -> None:
    """Intermediate statuses (Tokyo, Seattle) live for milliseconds, so over HTTP they can only
    be seen in hindsight: the activity results in the history come in that order, and each set
    status is checked by the replay unit tests."""
    instance_id = await api.start_ok("E1_HelloSequence")
    await api.wait(instance_id)
    body = await our_status(api, instance_id)
    assert body["name"] == "E1_HelloSequence"
    assert body["runtimeStatus"] == "Completed"
    assert body["customStatus"] == "London"
    assert body["output"] == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]

    history = await api.request(
        "GET",
        f"/runtime/webhooks/durabletask/instances/{instance_id}",
        params={"showHistory": "true", "showHistoryOutput": "true"},
    )
    results = [
        event["Result"]
        for event in history.json["historyEvents"]
        if event["EventType"] == "TaskCompleted"
    ]
    assert results == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]


# -- CityRecommender --------------------------------------------------------------------------

CITY_CASES = [
    # (choice as sent, first status, selection as sent, final status)
    (
        1,
        {"recommendedCities": ["Tokyo", "Seattle"], "recommendedSeasons": ["Spring", "Summer"]},
        "  tokyo ",  # matched case-insensitively, surrounding spaces ignored
        {
            "selectedCity": "Tokyo",
            "bestSeason": "Spring",
            "suggestion": "Visit Tokyo in Spring: cherry blossoms in Ueno Park.",
        },
    ),
    (
        "2",  # a one-digit string is accepted too
        {"recommendedCities": ["Seattle", "London"], "recommendedSeasons": ["Summer"]},
        "Seattle",
        {
            "selectedCity": "Seattle",
            "bestSeason": "Summer",
            "suggestion": "Visit Seattle in Summer: dry, sunny days on Puget Sound.",
        },
    ),
    (
        3,
        {"recommendedCities": ["Tokyo", "London"], "recommendedSeasons": ["Spring", "Summer"]},
        "London",
        {
            "selectedCity": "London",
            "bestSeason": "Summer",
            "suggestion": "Visit London in Summer: long evenings in the parks.",
        },
    ),
]


@pytest.mark.parametrize(("choice", "recommended", "selection", "final"), CITY_CASES)
async def test_city_recommender_recommends_then_refines_the_selection(
    api: AppApi, choice: Any, recommended: dict[str, Any], selection: str, final: dict[str, str]
) -> None:
    instance_id = await api.start_ok("CityRecommender", choice)
    waiting = await api.wait(instance_id, ("Running",), custom_status=recommended)
    assert waiting["output"] is None

    reply = await api.raise_event(instance_id, "CitySelected", selection)
    assert reply.status == 202, reply.text
    assert reply.json == {"instanceId": instance_id, "eventName": "CitySelected"}

    await api.wait(instance_id)
    body = await our_status(api, instance_id)
    assert (body["runtimeStatus"], body["customStatus"], body["output"]) == (
        "Completed",
        final,
        final,
    )


async def test_city_recommender_rejects_an_unrecommended_city_and_waits_again(
    api: AppApi,
) -> None:
    instance_id = await api.start_ok("CityRecommender", 1)
    recommended = {
        "recommendedCities": ["Tokyo", "Seattle"],
        "recommendedSeasons": ["Spring", "Summer"],
    }
    await api.wait(instance_id, ("Running",), custom_status=recommended)

    assert (await api.raise_event(instance_id, "CitySelected", "Paris")).status == 202
    rejected = {
        **recommended,
        "rejectedSelection": "Paris",
        "message": '"Paris" is not one of the recommended cities (Tokyo, Seattle). '
        "Raise CitySelected again with one of them.",
    }
    await api.wait(instance_id, ("Running",), custom_status=rejected)
    assert (await our_status(api, instance_id))["customStatus"] == rejected

    assert (await api.raise_event(instance_id, "CitySelected", "Seattle")).status == 202
    status = await api.wait(instance_id)
    assert status["runtimeStatus"] == "Completed"
    assert status["output"]["selectedCity"] == "Seattle"


@pytest.mark.parametrize(
    "selections",
    [["Paris", "Seattle"], ["Seattle"] * 20],
    ids=["a wrong city and a right one", "twenty at once"],
)
async def test_city_recommender_takes_selections_sent_at_the_same_moment(
    api: AppApi, selections: list[str]
) -> None:
    """Concurrent events to one waiting instance all reach it (devhost once stranded them)."""
    ids = [await api.start_ok("CityRecommender", 1) for _ in range(10)]
    for instance_id in ids:
        await api.wait(instance_id, ("Running",), custom_status=RECOMMENDED_FOR_1)
    replies = await asyncio.gather(
        *(
            api.raise_event(instance_id, "CitySelected", city)
            for instance_id in ids
            for city in selections
        )
    )
    # An event that arrives after the instance completed is refused with 410, as on Azure.
    assert {reply.status for reply in replies} <= {202, 410}
    for instance_id in ids:
        status = await api.wait(instance_id)
        assert status["runtimeStatus"] == "Completed", status
        assert status["output"]["selectedCity"] == "Seattle"


@pytest.mark.parametrize("choice", [7, 0, "12", 1.0, True, None, {"choice": 1}])
async def test_city_recommender_bad_choice_is_a_400_and_starts_nothing(
    api: AppApi, instance_id: str, choice: Any
) -> None:
    reply = await api.start("CityRecommender", choice, instance_id=instance_id)
    message = assert_app_error(reply, 400, "invalid_input")
    assert message.startswith("CityRecommender input must be the choice 1, 2 or 3")
    assert await api.builtin_instances(instance_id) == []


# -- ReserveTicket ----------------------------------------------------------------------------


async def start_reservation(api: AppApi, timeout: float | None = 86400) -> str:
    """ReserveTicket for user-1, waiting until the offer is published (and its timer created:
    both are committed by the same episode)."""
    body: Any = {"userId": "user-1", "discountTimeout": timeout} if timeout else "user-1"
    instance_id = await api.start_ok("ReserveTicket", body)
    offer = {**USER_1_OFFER, "discountTimeout": timeout or 60}
    await api.wait(instance_id, ("Running",), custom_status=offer)
    return instance_id


async def test_reserve_ticket_confirmed_completes_at_once(api: AppApi) -> None:
    """The deadline is a day away and the clock is never moved: the instance can only complete
    if the losing timer was cancelled (an uncancelled one keeps it Running until it fires)."""
    instance_id = await start_reservation(api, timeout=86400)
    assert (await api.raise_event(instance_id, "BookingConfirmed", True)).status == 202
    status = await api.wait(instance_id, timeout=30)
    assert (status["runtimeStatus"], status["customStatus"], status["output"]) == (
        "Completed",
        CONFIRMED,
        True,
    )
    body = await our_status(api, instance_id)
    assert body["customStatus"] == CONFIRMED and body["output"] is True


async def test_reserve_ticket_declined_withdraws_the_offer_at_once(api: AppApi) -> None:
    instance_id = await start_reservation(api, timeout=86400)
    assert (await api.raise_event(instance_id, "BookingConfirmed", False)).status == 202
    status = await api.wait(instance_id, timeout=30)
    assert (status["runtimeStatus"], status["customStatus"], status["output"]) == (
        "Completed",
        DECLINED,
        False,
    )


async def test_reserve_ticket_not_a_boolean_is_reported_and_the_offer_stays_open(
    api: AppApi,
) -> None:
    instance_id = await start_reservation(api, timeout=86400)
    assert (await api.raise_event(instance_id, "BookingConfirmed", "yes")).status == 202
    reported = {
        **USER_1_OFFER,
        "rejectedConfirmation": "yes",
        "message": "BookingConfirmed must carry true or false; still waiting for an answer.",
    }
    await api.wait(instance_id, ("Running",), custom_status=reported)
    assert (await api.raise_event(instance_id, "BookingConfirmed", True)).status == 202
    status = await api.wait(instance_id, timeout=30)
    assert (status["customStatus"], status["output"]) == (CONFIRMED, True)


async def test_reserve_ticket_times_out_on_the_manual_clock(api: AppApi) -> None:
    """Default deadline (60 s), skipped with the manual clock: no real waiting."""
    instance_id = await start_reservation(api, timeout=None)
    await api.advance_clock(61)
    status = await api.wait(instance_id)
    assert (status["runtimeStatus"], status["customStatus"], status["output"]) == (
        "Completed",
        TIMED_OUT,
        False,
    )
    # Too late now: the instance has ended and refuses the event.
    late = await api.raise_event(instance_id, "BookingConfirmed", True)
    assert_app_error(late, 410, "instance_gone")


# -- SetStatusTest ----------------------------------------------------------------------------


async def test_set_status_test_keeps_the_sample_status_after_completing(api: AppApi) -> None:
    instance_id = await api.start_ok("SetStatusTest")
    await api.wait(instance_id)
    body = await our_status(api, instance_id)
    assert body["name"] == "SetStatusTest"
    assert (body["runtimeStatus"], body["customStatus"], body["output"]) == (
        "Completed",
        SAMPLE_STATUS,
        ["Done: step 1", "Done: step 2"],
    )


# -- wait-for-status --------------------------------------------------------------------------


async def wait_for_status(api: AppApi, name: str, body: Any = None, **params: str) -> Any:
    return await api.request(
        "POST", f"/api/orchestrators/{name}/wait-for-status", body=body, params=params
    )


async def test_wait_for_status_answers_when_the_status_matches_while_running(
    api: AppApi,
) -> None:
    """The offer is set and then the instance waits for a day: a 200 with Running proves the
    answer came from the match, not from the instance ending."""
    reply = await wait_for_status(
        api,
        "ReserveTicket",
        {"userId": "user-1", "discountTimeout": 86400},
        status=json.dumps(USER_1_OFFER),
        timeout="30",
    )
    assert reply.status == 200, reply.text
    body = reply.json
    assert (body["name"], body["runtimeStatus"], body["customStatus"]) == (
        "ReserveTicket",
        "Running",
        USER_1_OFFER,
    )
    await api.raise_event(body["instanceId"], "BookingConfirmed", False)  # tidy up
    await api.wait(body["instanceId"])


async def test_wait_for_status_defaults_for_hello_sequence_and_set_status_test(
    api: AppApi,
) -> None:
    hello = await wait_for_status(api, "E1_HelloSequence", timeout="30")
    assert hello.status == 200, hello.text
    assert (hello.json["runtimeStatus"], hello.json["customStatus"]) == ("Completed", "London")

    sample = await wait_for_status(api, "SetStatusTest", timeout="30")
    assert sample.status == 200, sample.text
    assert sample.json["customStatus"] == SAMPLE_STATUS


async def test_wait_for_status_plain_text_status_seen_or_ended_first(api: AppApi) -> None:
    """``Seattle`` is a plain string (not JSON); the app samples by polling, so it either saw
    it while running or the instance ended first with London (both documented answers)."""
    reply = await wait_for_status(api, "E1_HelloSequence", status="Seattle", timeout="30")
    assert reply.status == 200, reply.text
    seen = (reply.json["runtimeStatus"], reply.json["customStatus"])
    assert seen in {("Running", "Seattle"), ("Completed", "London")}


async def test_wait_for_status_answers_when_the_instance_ends_first(api: AppApi) -> None:
    reply = await wait_for_status(api, "E1_HelloSequence", status="Nowhere", timeout="30")
    assert reply.status == 200, reply.text
    body = reply.json
    assert (body["runtimeStatus"], body["customStatus"], body["output"]) == (
        "Completed",
        "London",
        ["Hello Tokyo!", "Hello Seattle!", "Hello London!"],
    )


async def test_wait_for_status_timeout_zero_is_a_202_check_status_response(
    api: AppApi,
) -> None:
    reply = await wait_for_status(
        api,
        "ReserveTicket",
        {"userId": "user-1", "discountTimeout": 86400},
        status="never",
        timeout="0",
    )
    assert reply.status == 202, reply.text
    payload = reply.json
    assert reply.headers["Location"] == payload["statusQueryGetUri"]
    assert reply.headers["Retry-After"] == "10"
    # The instance did start (its first episode may still be in its worker) and waits for its
    # answer.
    assert (await our_status(api, payload["id"]))["runtimeStatus"] in ("Pending", "Running")
    await api.wait(payload["id"], ("Running",))
    await api.raise_event(payload["id"], "BookingConfirmed", False)
    await api.wait(payload["id"])


async def test_wait_for_status_requires_a_status_where_there_is_no_default(
    api: AppApi,
) -> None:
    reply = await wait_for_status(api, "CityRecommender", 1)
    assert_app_error(reply, 400, "missing_status")


@pytest.mark.parametrize("timeout", ["-1", "soon", "nan", "inf"])
async def test_wait_for_status_rejects_a_bad_timeout(api: AppApi, timeout: str) -> None:
    reply = await wait_for_status(api, "E1_HelloSequence", timeout=timeout)
    assert_app_error(reply, 400, "invalid_timeout")
