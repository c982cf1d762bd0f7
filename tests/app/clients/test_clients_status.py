"""GET /api/status/{instanceId}: the built-in API's status shape, from our own function."""

import json

import pytest

from tests.app.fakes import http_request, status_json

GET = "GetInstanceStatus"


def status_request(instance_id):
    return http_request(
        "GET", f"/api/status/{instance_id}", route_params={"instanceId": instance_id}
    )


async def test_answers_the_status_in_the_built_in_shape(client_function, client):
    client.statuses["abc"] = status_json(
        "abc",
        "CityRecommender",
        "Running",
        input=1,
        custom_status={"recommendedCities": ["Tokyo", "Seattle"]},
    )

    response = await client_function(GET)(req=status_request("abc"), client=client)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert json.loads(response.get_body()) == {
        "name": "CityRecommender",
        "instanceId": "abc",
        "runtimeStatus": "Running",
        "input": None,  # not echoed unless asked for
        "customStatus": {"recommendedCities": ["Tokyo", "Seattle"]},
        "output": None,
        "createdTime": "2026-11-22T10:00:00Z",
        "lastUpdatedTime": "2026-11-22T10:00:05Z",
    }
    assert client.get_status_calls == [("abc", False)]


@pytest.mark.parametrize(("query", "shown"), [("true", {"userId": "u"}), ("false", None)])
async def test_the_input_only_when_asked_for(client_function, client, query, shown):
    client.statuses["t"] = status_json("t", "ReserveTicket", "Running", input={"userId": "u"})
    req = http_request(
        "GET", "/api/status/t", route_params={"instanceId": "t"}, params={"showInput": query}
    )
    body = json.loads((await client_function(GET)(req=req, client=client)).get_body())
    assert body["input"] == shown


async def test_show_input_must_be_a_boolean(client_function, client):
    client.statuses["t"] = status_json("t", "ReserveTicket", "Running")
    req = http_request(
        "GET", "/api/status/t", route_params={"instanceId": "t"}, params={"showInput": "maybe"}
    )
    response = await client_function(GET)(req=req, client=client)
    assert response.status_code == 400
    assert json.loads(response.get_body())["error"] == "invalid_showinput"


async def test_a_completed_instance_has_its_output(client_function, client):
    client.statuses["done"] = status_json(
        "done", "SetStatusTest", "Completed", output=["Done: step 1", "Done: step 2"]
    )
    response = await client_function(GET)(req=status_request("done"), client=client)
    body = json.loads(response.get_body())
    assert body["runtimeStatus"] == "Completed"
    assert body["output"] == ["Done: step 1", "Done: step 2"]


async def test_a_failed_instance_shows_the_first_line_of_its_failure_only(client_function, client):
    """On Azure an activity's failure carries the worker's stack trace after the first line."""
    details = json.dumps({"Message": " KeyError: 'x'", "InnerException": {"Message": "Traceback"}})
    failure = (
        "Orchestrator function 'CityRecommender' failed: Activity function 'X' failed:  "
        f"KeyError: 'x' \n {details}"
    )
    client.statuses["bad"] = status_json("bad", "CityRecommender", "Failed", output=failure)
    response = await client_function(GET)(req=status_request("bad"), client=client)
    body = json.loads(response.get_body())
    assert body["output"] == (
        "Orchestrator function 'CityRecommender' failed: Activity function 'X' failed:  "
        "KeyError: 'x'"
    )


async def test_an_unknown_instance_is_404_with_a_json_error(client_function, client):
    response = await client_function(GET)(req=status_request("nope"), client=client)

    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert json.loads(response.get_body())["error"] == "instance_not_found"


@pytest.mark.parametrize("instance_id", ["@e", "a\\b", "a#b", "a\nb", "x" * 257])
async def test_an_invalid_instance_id_is_400(client_function, client, instance_id):
    response = await client_function(GET)(req=status_request(instance_id), client=client)

    assert response.status_code == 400
    assert json.loads(response.get_body())["error"] == "invalid_instance_id"
    assert client.get_status_calls == []


async def test_a_failing_client_is_a_generic_500(client_function, client):
    async def broken(*args, **kwargs):
        raise ConnectionError("host unreachable at 10.0.0.1")

    client.get_status = broken
    response = await client_function(GET)(req=status_request("abc"), client=client)

    assert response.status_code == 500
    assert json.loads(response.get_body()) == {
        "error": "internal_error",
        "message": "The request failed because of an unexpected error.",
    }
