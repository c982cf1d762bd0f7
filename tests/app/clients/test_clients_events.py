"""POST /api/instances/{instanceId}/events/{eventName}: raise an external event."""

import json

import pytest

from tests.app.fakes import http_request, status_json

RAISE = "RaiseInstanceEvent"


def event_request(instance_id, event_name, body=b""):
    return http_request(
        "POST",
        f"/api/instances/{instance_id}/events/{event_name}",
        route_params={"instanceId": instance_id, "eventName": event_name},
        body=body,
    )


def error_of(response):
    assert response.headers["Content-Type"] == "application/json"
    return json.loads(response.get_body())["error"]


@pytest.mark.parametrize(
    ("body", "payload"),
    [(b'"Tokyo"', "Tokyo"), (b"true", True), (b'{"a": [1]}', {"a": [1]}), (b"", None)],
)
async def test_raises_the_json_body_and_answers_202(client_function, client, body, payload):
    client.statuses["abc"] = status_json("abc", "CityRecommender", "Running")

    response = await client_function(RAISE)(
        req=event_request("abc", "CitySelected", body), client=client
    )

    assert response.status_code == 202
    assert json.loads(response.get_body()) == {"instanceId": "abc", "eventName": "CitySelected"}
    assert client.raised == [("abc", "CitySelected", payload)]


@pytest.mark.parametrize("runtime_status", ["Pending", "Running", "Suspended"])
async def test_instances_that_have_not_ended_accept_events(client_function, client, runtime_status):
    client.statuses["abc"] = status_json("abc", runtime_status=runtime_status)
    response = await client_function(RAISE)(req=event_request("abc", "E", b"1"), client=client)
    assert response.status_code == 202


async def test_an_unknown_instance_is_404(client_function, client):
    response = await client_function(RAISE)(req=event_request("nope", "E", b"1"), client=client)

    assert response.status_code == 404
    assert error_of(response) == "instance_not_found"
    assert client.raised == []


@pytest.mark.parametrize("runtime_status", ["Completed", "Failed", "Terminated", "Canceled"])
async def test_an_ended_instance_is_410(client_function, client, runtime_status):
    client.statuses["old"] = status_json("old", runtime_status=runtime_status)

    response = await client_function(RAISE)(req=event_request("old", "E", b"1"), client=client)

    assert response.status_code == 410
    assert error_of(response) == "instance_gone"
    assert client.raised == []


async def test_a_body_that_is_not_json_is_400(client_function, client):
    client.statuses["abc"] = status_json("abc")

    response = await client_function(RAISE)(req=event_request("abc", "E", b"Tokyo"), client=client)

    assert response.status_code == 400
    assert error_of(response) == "invalid_json"
    assert client.raised == []


async def test_an_invalid_instance_id_is_400(client_function, client):
    response = await client_function(RAISE)(req=event_request("@x", "E", b"1"), client=client)
    assert response.status_code == 400
    assert error_of(response) == "invalid_instance_id"


@pytest.mark.parametrize(
    ("sdk_message", "status_code", "error"),
    [
        ("Instance with ID abc is gone: either completed or failed", 410, "instance_gone"),
        ("No instance with ID abc found.", 404, "instance_not_found"),
        ("Webhook returned unrecognized status code 503", 500, "internal_error"),
    ],
)
async def test_sdk_errors_from_a_race_with_the_instance_ending_are_mapped(
    client_function, client, sdk_message, status_code, error
):
    client.statuses["abc"] = status_json("abc")
    client.raise_event_error = Exception(sdk_message)

    response = await client_function(RAISE)(req=event_request("abc", "E", b"1"), client=client)

    assert response.status_code == status_code
    assert error_of(response) == error
    assert "503" not in response.get_body().decode()
