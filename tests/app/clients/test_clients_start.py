"""POST /api/orchestrators/{functionName}: start with the JSON body as input."""

import json

import pytest

from tests.app.fakes import http_request, status_json

START = "StartOrchestration"


def start_request(function_name, body=b"", params=None):
    return http_request(
        "POST",
        f"/api/orchestrators/{function_name}",
        route_params={"functionName": function_name},
        params=params,
        body=body,
    )


def assert_error(response, status_code, code):
    assert response.status_code == status_code
    assert response.headers["Content-Type"] == "application/json"
    body = json.loads(response.get_body())
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


@pytest.mark.parametrize(
    ("function_name", "body", "expected_input"),
    [
        ("E1_HelloSequence", b"", None),
        ("CityRecommender", b"2", 2),
        ("CityRecommender", b'"3"', "3"),
        ("ReserveTicket", b'"user-1"', "user-1"),
        (
            "ReserveTicket",
            b'{"userId": "u", "discountTimeout": 5}',
            {"userId": "u", "discountTimeout": 5},
        ),
        ("SetStatusTest", b"  ", None),
        ("e1_hellosequence", b"", None),  # function names are case-insensitive
    ],
)
async def test_starts_with_the_body_as_input_and_answers_202(
    client_function, client, function_name, body, expected_input
):
    response = await client_function(START)(req=start_request(function_name, body), client=client)

    assert response.status_code == 202
    assert json.loads(response.get_body())["id"] == "instance-1"
    assert "Location" in response.headers
    canonical = {"e1_hellosequence": "E1_HelloSequence"}.get(function_name, function_name)
    assert client.started == [(canonical, None, expected_input)]


async def test_unknown_orchestrator_is_404_and_nothing_starts(client_function, client):
    response = await client_function(START)(req=start_request("Nope"), client=client)

    body = assert_error(response, 404, "unknown_orchestrator")
    assert "E1_HelloSequence" in body["message"]
    assert client.started == []


@pytest.mark.parametrize("body", [b"{", b"Tokyo", b"\xff\xfe", b"NaN", b"[1,]"])
async def test_a_body_that_is_not_json_is_400(client_function, client, body):
    response = await client_function(START)(
        req=start_request("E1_HelloSequence", body), client=client
    )

    assert_error(response, 400, "invalid_json")
    assert client.started == []


@pytest.mark.parametrize(
    ("function_name", "body"),
    [
        ("CityRecommender", b""),
        ("CityRecommender", b"4"),
        ("CityRecommender", b'"x"'),
        ("CityRecommender", b"1.5"),
        ("ReserveTicket", b""),
        ("ReserveTicket", b'""'),
        ("ReserveTicket", b"42"),
        ("ReserveTicket", b'{"userId": "u", "discountTimeout": 0}'),
    ],
)
async def test_input_the_orchestrator_would_reject_is_400_before_anything_starts(
    client_function, client, function_name, body
):
    response = await client_function(START)(req=start_request(function_name, body), client=client)

    body = assert_error(response, 400, "invalid_input")
    assert body["message"].startswith(function_name)
    assert client.started == []


@pytest.mark.parametrize("instance_id", ["my-id", "my id", "x" * 256, "été-名前"])
async def test_a_chosen_instance_id_is_used(client_function, client, instance_id):
    request = start_request("E1_HelloSequence", params={"instanceId": instance_id})

    response = await client_function(START)(req=request, client=client)

    assert response.status_code == 202
    assert client.started == [("E1_HelloSequence", instance_id, None)]


@pytest.mark.parametrize(
    "instance_id",
    ["@entity", "a/b", "a\\b", "a#b", "a?b", "a\x01b", "x" * 257, "", " a", "a ", "\u3000a", " "],
)
async def test_an_invalid_instance_id_is_400(client_function, client, instance_id):
    request = start_request("E1_HelloSequence", params={"instanceId": instance_id})

    response = await client_function(START)(req=request, client=client)

    assert_error(response, 400, "invalid_instance_id")
    assert client.started == []


@pytest.mark.parametrize(
    ("runtime_status", "expected"),
    [("Running", 409), ("Pending", 409), ("Suspended", 409), ("Completed", 202), ("Failed", 202)],
)
async def test_an_instance_id_still_in_use_is_409(
    client_function, client, runtime_status, expected
):
    client.statuses["taken"] = status_json("taken", runtime_status=runtime_status)
    request = start_request("E1_HelloSequence", params={"instanceId": "taken"})

    response = await client_function(START)(req=request, client=client)

    assert response.status_code == expected
    if expected == 409:
        assert_error(response, 409, "instance_conflict")
        assert client.started == []


async def test_an_unexpected_failure_is_a_generic_500_and_is_logged(
    client_function, client, caplog
):
    async def broken_start_new(*args, **kwargs):
        raise RuntimeError("secret connection string in /home/app")

    client.start_new = broken_start_new

    response = await client_function(START)(req=start_request("E1_HelloSequence"), client=client)

    body = assert_error(response, 500, "internal_error")
    assert "secret" not in body["message"] and "Traceback" not in response.get_body().decode()
    assert any(record.exc_info and "secret" in str(record.exc_info[1]) for record in caplog.records)


@pytest.mark.parametrize(
    ("instance_id", "encoded"),
    [("two words", "two%20words"), ("été", "%C3%A9t%C3%A9"), ("a+b&c", "a%2Bb%26c")],
)
async def test_the_202_links_are_ours_with_the_id_percent_encoded(
    client_function, client, instance_id, encoded
):
    req = http_request(
        "POST",
        "/api/orchestrators/E1_HelloSequence",
        route_params={"functionName": "E1_HelloSequence"},
        params={"instanceId": instance_id},
    )
    response = await client_function(START)(req=req, client=client)
    body = json.loads(response.get_body())
    assert body["statusQueryGetUri"] == f"http://localhost:7071/api/status/{encoded}"
    assert body["monitorUri"] == f"http://localhost:7071/api/monitor/{encoded}"
    text = response.get_body().decode() + json.dumps(dict(response.headers))
    assert "runtime/webhooks" not in text and "code=" not in text
