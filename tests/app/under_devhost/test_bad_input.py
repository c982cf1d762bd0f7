"""Bad input, end to end: every refusal is a clear JSON error and nothing is started or lost.

Two surfaces are checked side by side: the app's own ``/api`` routes (``{"error", "message"}``)
and devhost's copy of the extension's webhooks (``{"Message", ...}``, the extension's codes).
After each refusal the test looks again to show that nothing changed: no instance was created,
the running instance still has its input, status and pending wait, and a good request still works.

Duplicate ids follow the extension (``overridableExistingInstanceStates`` = NonRunningStates): an
id in use by a Pending/Running/Suspended instance is refused with 409, an ended one is replaced.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote

import pytest

from .conftest import WEBHOOKS, AppApi, assert_app_error, assert_bare, assert_host_error

pytestmark = pytest.mark.e2e

OPEN_OFFER = {"userId": "user-1", "discountTimeout": 86400}
OFFER = {
    "discount": 25,
    "discountTimeout": 86400,
    "bookingUrl": "https://www.myawesomebookingweb.com/book?userId=user-1&discount=25",
}
# Malformed for Json.NET too (it accepts single quotes, trailing commas and NaN; the app does not).
MALFORMED = [b'{"userId": ', b"definitely not json", b"\xff\xfe not UTF-8"]
# JSON to Python's parser, but nothing a host can keep: written back as bare NaN/Infinity (not
# JSON) or, for a lone surrogate, not storable as UTF-8 at all (it once wedged the instance).
UNKEEPABLE = [
    b"NaN",
    b'{"userId": Infinity}',
    b"[-Infinity]",
    b"1e999",
    b'"\\ud800"',
    b'{"userId": "x\\udfff"}',
    b"[" * 5_000 + b"]" * 5_000,
]
# The same, as the SDK's client sends them: a JSON string holding the JSON text.
UNKEEPABLE_FROM_SDK = [json.dumps(json.dumps(v)).encode() for v in (float("nan"), "\ud800")]

# (id, the rule it breaks): the extension's rules, and ours for new ids (no outer whitespace).
BAD_IDS = [
    ("a/b", "/"),
    ("a\\b", "\\"),
    ("a#b", "#"),
    ("a?b", "?"),
    ("@entity-like", "@"),
    ("tab\there", "control characters"),
    ("line\nbreak", "control characters"),
    ("x" * 257, "256 characters"),
    (" padded", "whitespace"),
    ("padded ", "whitespace"),
]
JSON = {"Content-Type": "application/json"}
GOOD_IDS = ["two words", "été-名前-🎉", "a@b+c=d&e", "x" * 256]


def webhook(instance_id: str, *rest: str) -> str:
    """A built-in instance URL, the id percent-encoded as the SDK and the extension do."""
    return "/".join([f"{WEBHOOKS}/instances", quote(instance_id, safe=""), *rest])


async def open_offer(api: AppApi, instance_id: str) -> dict[str, Any]:
    """ReserveTicket waiting for BookingConfirmed; returns its built-in status once the offer is
    published (the same episode commits the wait, so the status is stable from then on)."""
    await api.start_ok("ReserveTicket", OPEN_OFFER, instance_id=instance_id)
    return await api.wait(instance_id, ("Running",), custom_status=OFFER)


# -- unknown instance: 404 ---------------------------------------------------------------------


async def test_an_unknown_instance_is_404_on_every_app_route(api: AppApi, instance_id: str) -> None:
    encoded = quote(instance_id, safe="")
    for reply in (
        await api.status(instance_id),
        await api.raise_event(instance_id, "BookingConfirmed", True),
        await api.request("DELETE", f"/api/instances/{encoded}"),
    ):
        message = assert_app_error(reply, 404, "instance_not_found")
        assert instance_id in message
    assert await api.builtin_instances(instance_id) == []


async def test_an_unknown_instance_is_404_on_the_builtin_webhooks(
    api: AppApi, instance_id: str
) -> None:
    for method, url in (
        ("GET", webhook(instance_id)),
        ("POST", webhook(instance_id, "raiseEvent", "BookingConfirmed")),
        ("POST", webhook(instance_id, "terminate")),
        ("POST", webhook(instance_id, "suspend")),
        ("POST", webhook(instance_id, "resume")),
        ("DELETE", webhook(instance_id)),
    ):
        assert_bare(await api.request(method, url, data="true"), 404)  # as the extension
    assert await api.builtin_instances(instance_id) == []


# -- ended instance: 410 -----------------------------------------------------------------------


async def test_an_event_to_an_ended_instance_is_410_and_changes_nothing(
    api: AppApi, instance_id: str
) -> None:
    await api.start_ok("E1_HelloSequence", instance_id=instance_id)
    before = await api.wait(instance_id)
    assert before["runtimeStatus"] == "Completed"

    message = assert_app_error(
        await api.raise_event(instance_id, "Anything", 1), 410, "instance_gone"
    )
    assert instance_id in message
    assert_bare(
        await api.request("POST", webhook(instance_id, "raiseEvent", "Anything"), data="1"), 410
    )

    after = await api.wait(instance_id)
    assert after == before


# -- malformed JSON: 400 -----------------------------------------------------------------------


@pytest.mark.parametrize("body", MALFORMED + UNKEEPABLE)
async def test_a_start_body_that_is_not_json_is_400_and_starts_nothing(
    api: AppApi, instance_id: str, body: bytes
) -> None:
    reply = await api.request(
        "POST",
        "/api/orchestrators/ReserveTicket",
        data=body,
        params={"instanceId": instance_id},
    )
    assert_app_error(reply, 400, "invalid_json")
    reply = await api.request(
        "POST", f"{WEBHOOKS}/orchestrators/ReserveTicket/{instance_id}", data=body
    )
    assert assert_host_error(reply, 400) == "Invalid JSON content"
    assert await api.builtin_instances(instance_id) == []


@pytest.mark.parametrize("body", MALFORMED + UNKEEPABLE)
async def test_an_event_body_that_is_not_json_is_400_and_loses_nothing(
    api: AppApi, instance_id: str, body: bytes
) -> None:
    waiting = await open_offer(api, instance_id)

    reply = await api.request(
        "POST", f"/api/instances/{instance_id}/events/BookingConfirmed", data=body
    )
    assert_app_error(reply, 400, "invalid_json")
    hook = webhook(instance_id, "raiseEvent", "BookingConfirmed")
    reply = await api.request("POST", hook, data=body)
    assert assert_host_error(reply, 400) == "Only application/json request content is supported"
    reply = await api.request("POST", hook, data=body, headers=JSON)
    assert assert_host_error(reply, 400) == "Invalid JSON content"

    # Still waiting, with the same status; a well-formed event is then the one that counts.
    assert await api.wait(instance_id, ("Running",)) == waiting
    assert (await api.raise_event(instance_id, "BookingConfirmed", True)).status == 202
    final = await api.wait(instance_id)
    assert (final["runtimeStatus"], final["output"]) == ("Completed", True)


@pytest.mark.parametrize("body", UNKEEPABLE_FROM_SDK, ids=["nan", "lone-surrogate"])
async def test_the_webhooks_refuse_unkeepable_json_inside_the_sdks_json_string(
    api: AppApi, instance_id: str, body: bytes
) -> None:
    reply = await api.request(
        "POST", f"{WEBHOOKS}/orchestrators/ReserveTicket/{instance_id}", data=body
    )
    assert assert_host_error(reply, 400) == "Invalid JSON content"
    assert await api.builtin_instances(instance_id) == []

    waiting = await open_offer(api, instance_id)
    hook = webhook(instance_id, "raiseEvent", "BookingConfirmed")
    reply = await api.request("POST", hook, data=body, headers=JSON)
    assert assert_host_error(reply, 400) == "Invalid JSON content"
    assert await api.wait(instance_id, ("Running",)) == waiting


# -- duplicate instance id: 409 while in use, replaced once ended ------------------------------


async def test_concurrent_starts_with_one_chosen_id_start_it_once_and_refuse_the_rest(
    api: AppApi, instance_id: str
) -> None:
    """Twenty starts race past the app's own check; the host refuses all but one (with a 500,
    as the extension does), and the app answers those 409 after looking again."""
    replies = await asyncio.gather(
        *(api.start("ReserveTicket", OPEN_OFFER, instance_id=instance_id) for _ in range(20))
    )
    assert sorted(reply.status for reply in replies) == [202] + [409] * 19
    for reply in replies:
        if reply.status == 409:
            assert_app_error(reply, 409, "instance_conflict")
    assert len(await api.builtin_instances(instance_id)) == 1


async def test_an_id_in_use_is_409_on_our_route_500_on_the_builtin_one_and_untouched(
    api: AppApi, instance_id: str
) -> None:
    waiting = await open_offer(api, instance_id)

    reply = await api.start("E1_HelloSequence", instance_id=instance_id)
    message = assert_app_error(reply, 409, "instance_conflict")
    assert instance_id in message and "Running" in message
    reply = await api.request(
        "POST", f"{WEBHOOKS}/orchestrators/E1_HelloSequence/{instance_id}", data=""
    )
    # The extension has no 409 for this: its catch-all answers 500, as devhost does.
    assert assert_host_error(reply, 500) == "Something went wrong while processing your request"
    assert "already exists" in reply.json["ExceptionMessage"]

    assert await api.wait(instance_id, ("Running",)) == waiting
    assert waiting["name"] == "ReserveTicket"
    assert (await api.raise_event(instance_id, "BookingConfirmed", True)).status == 202
    assert (await api.wait(instance_id))["output"] is True


async def test_an_ended_instance_id_can_be_reused_and_is_replaced(
    api: AppApi, instance_id: str
) -> None:
    await api.start_ok("E1_HelloSequence", instance_id=instance_id)
    assert (await api.wait(instance_id))["name"] == "E1_HelloSequence"

    await api.start_ok("SetStatusTest", instance_id=instance_id)
    replaced = await api.wait(instance_id)
    assert (replaced["name"], replaced["runtimeStatus"]) == ("SetStatusTest", "Completed")
    assert len(await api.builtin_instances(instance_id)) == 1


# -- instance ids ------------------------------------------------------------------------------


@pytest.mark.parametrize(("bad_id", "rule"), BAD_IDS, ids=[rule for _, rule in BAD_IDS])
async def test_a_bad_chosen_id_is_400_naming_the_rule_and_starts_nothing(
    api: AppApi, instance_id: str, bad_id: str, rule: str
) -> None:
    # Prefixed with this test's fresh id so that "nothing started" can be checked by prefix;
    # the "@" and whitespace cases need the bad character first.
    chosen = bad_id if bad_id[0] in "@ " else instance_id + bad_id
    reply = await api.start("E1_HelloSequence", instance_id=chosen)
    message = assert_app_error(reply, 400, "invalid_instance_id")
    assert rule in message, message
    assert await api.builtin_instances(instance_id) == []
    assert await api.builtin_instances(chosen.strip()) == []


@pytest.mark.parametrize(("bad_id", "rule"), BAD_IDS[:8], ids=[rule for _, rule in BAD_IDS[:8]])
async def test_the_builtin_start_webhook_refuses_the_same_ids(
    api: AppApi, instance_id: str, bad_id: str, rule: str
) -> None:
    chosen = bad_id if bad_id[0] == "@" else instance_id + bad_id
    url = f"{WEBHOOKS}/orchestrators/E1_HelloSequence/{quote(chosen, safe='')}"
    reply = await api.request("POST", url, data="")
    assert reply.status == 400, reply.text
    assert "Traceback" not in reply.text and reply.json["Message"]
    assert await api.builtin_instances(instance_id) == []


@pytest.mark.parametrize("suffix", GOOD_IDS)
async def test_unusual_but_valid_ids_round_trip_through_every_route(
    api: AppApi, instance_id: str, suffix: str
) -> None:
    chosen = (instance_id + "-" + suffix)[:256]
    await api.start_ok("ReserveTicket", OPEN_OFFER, instance_id=chosen)
    await api.wait(chosen, ("Running",))

    status = await api.status(chosen)
    assert status.status == 200 and status.json["instanceId"] == chosen
    assert (await api.raise_event(chosen, "BookingConfirmed", True)).status == 202
    final = await api.wait(chosen)
    assert (final["instanceId"], final["output"]) == (chosen, True)
    purged = await api.request("DELETE", f"/api/instances/{quote(chosen, safe='')}")
    assert purged.status == 200, purged.text
    assert (await api.status(chosen)).status == 404


@pytest.mark.parametrize("raw", ["%2F", "%5C", "%23", "%3F", "%40", "%0A", "%09", "%7F"])
async def test_route_ids_with_encoded_forbidden_characters_are_400(
    api: AppApi, instance_id: str, raw: str
) -> None:
    encoded = (raw + instance_id) if raw == "%40" else (instance_id + raw + "x")
    for reply in (
        await api.request("GET", f"/api/status/{encoded}"),
        await api.request("POST", f"/api/instances/{encoded}/events/Go", data="1"),
        await api.request("DELETE", f"/api/instances/{encoded}"),
    ):
        assert_app_error(reply, 400, "invalid_instance_id")


# -- hostile input: a JSON 4xx, never a 500 ----------------------------------------------------

DEEP = b"[" * 1_000 + b"]" * 1_000


async def test_json_nested_a_thousand_levels_is_400_on_both_surfaces(
    api: AppApi, instance_id: str
) -> None:
    reply = await api.request("POST", "/api/orchestrators/ReserveTicket", data=DEEP)
    assert_app_error(reply, 400, "invalid_json")
    reply = await api.request(
        "POST", f"{WEBHOOKS}/orchestrators/ReserveTicket/{instance_id}", data=DEEP
    )
    assert assert_host_error(reply, 400) == "Invalid JSON content"
    await open_offer(api, instance_id)
    reply = await api.request("POST", f"/api/instances/{instance_id}/events/X", data=DEEP)
    assert_app_error(reply, 400, "invalid_json")
    hook = webhook(instance_id, "raiseEvent", "X")
    reply = await api.request("POST", hook, data=DEEP, headers=JSON)
    assert assert_host_error(reply, 400) == "Invalid JSON content"
    await api.raise_event(instance_id, "BookingConfirmed", False)
    await api.wait(instance_id)


@pytest.mark.parametrize("chosen", [".", "..", "x%41y", "a%20b"])
async def test_chosen_ids_that_a_url_would_rewrite_are_400(api: AppApi, chosen: str) -> None:
    reply = await api.start("E1_HelloSequence", instance_id=chosen)
    assert_app_error(reply, 400, "invalid_instance_id")


@pytest.mark.parametrize("segment", ["%2e", "%2E%2E", "x%2541y"])
async def test_route_ids_that_a_url_would_rewrite_are_400(api: AppApi, segment: str) -> None:
    for method, path in [
        ("GET", f"/api/status/{segment}"),
        ("POST", f"/api/instances/{segment}/events/Go"),
        ("DELETE", f"/api/instances/{segment}"),
        ("GET", f"/api/monitor/{segment}"),
    ]:
        reply = await api.request(method, path, data="1", raw=True)
        assert_app_error(reply, 400, "invalid_instance_id")


@pytest.mark.parametrize("name", ["%2E%2E", "a%0Ab", "%01"])
async def test_bad_event_names_are_400_on_both_surfaces(
    api: AppApi, instance_id: str, name: str
) -> None:
    await open_offer(api, instance_id)
    path = f"/api/instances/{quote(instance_id)}/events/{name}"
    reply = await api.request("POST", path, data="1", raw=True)
    assert_app_error(reply, 400, "invalid_event_name")
    hook = f"{webhook(instance_id)}/raiseEvent/{name}"
    reply = await api.request("POST", hook, data="1", headers=JSON, raw=True)
    assert assert_host_error(reply, 400).startswith("Invalid event name")
    await api.raise_event(instance_id, "BookingConfirmed", False)
    await api.wait(instance_id)


async def test_a_non_ascii_digit_interval_is_400(api: AppApi) -> None:
    reply = await api.request("GET", "/api/monitor/x", params={"interval": "²"})
    assert_app_error(reply, 400, "invalid_interval")


async def test_the_monitor_page_with_a_trailing_slash_polls_the_right_url(api: AppApi) -> None:
    reply = await api.request("GET", "/api/monitor/two%20words/")
    assert reply.status == 200, reply.text
    assert '"statusPath": "/api/status/two%20words"' in reply.text


async def test_a_created_time_before_year_one_in_utc_is_no_date(api: AppApi) -> None:
    query = {"createdTimeFrom": "0001-01-01T00:00:00+01:00"}
    reply = await api.request("DELETE", f"{WEBHOOKS}/instances/", params=query)
    assert (reply.status, reply.json) == (
        400,
        "Please provide value for 'createdTimeFrom' parameter.",
    )
    reply = await api.request("GET", f"{WEBHOOKS}/instances/", params={**query, "top": "1"})
    assert reply.status == 200


async def test_a_body_over_100_mb_on_the_builtin_start_is_413(api: AppApi) -> None:
    body = b'"' + b"x" * (101 * 1024 * 1024) + b'"'
    reply = await api.request("POST", f"{WEBHOOKS}/orchestrators/E1_HelloSequence", data=body)
    assert reply.status == 413, reply.text[:200]
