"""Error messages name what the caller sent as JSON strings and say what is wrong in words:
never Python's ``repr`` (``' x'``, ``'\\x00'``) nor an exception's text (``Expecting value``,
``'utf-8' codec can't decode``)."""

import json

import pytest

from tests.app.fakes import http_request

START = "StartOrchestration"
WAIT = "StartAndWaitForStatus"
STATUS = "GetInstanceStatus"


async def message_of(response):
    assert response.headers["Content-Type"] == "application/json"
    return response.status_code, json.loads(response.get_body())["message"]


def start(function_name, body=b"", params=None, name=START):
    suffix = "/wait-for-status" if name == WAIT else ""
    return http_request(
        "POST",
        f"/api/orchestrators/{function_name}{suffix}",
        route_params={"functionName": function_name},
        params=params,
        body=body,
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            b"\xff\xfe not UTF-8",
            "The request body is not valid JSON: it is not UTF-8 text (the byte at offset 0, "
            "0xff, cannot be read as UTF-8).",
        ),
        (
            b'{"userId": ',
            "The request body is not valid JSON: a value was expected (line 1, column 12).",
        ),
        (
            b"definitely not json",
            "The request body is not valid JSON: a value was expected (line 1, column 1).",
        ),
        (b"[1,]", "The request body is not valid JSON: a comma ends an array (line 1, column 3)."),
        (b"NaN", "The request body is not valid JSON: NaN is not a JSON value."),
        (
            b"[" * 65 + b"]" * 65,
            "The request body is not valid JSON: it is nested more than 64 levels deep.",
        ),
    ],
)
async def test_a_bad_body_is_named_in_words(client_function, client, body, expected):
    response = await client_function(START)(req=start("ReserveTicket", body), client=client)
    assert await message_of(response) == (400, expected)


async def test_an_unknown_instance_is_named_as_a_json_string(client_function, client):
    req = http_request("GET", "/api/status/ x", route_params={"instanceId": " x"})
    response = await client_function(STATUS)(req=req, client=client)
    assert await message_of(response) == (404, 'No instance with id " x".')


async def test_query_values_are_quoted_as_json_strings(client_function, client):
    req = http_request(
        "GET", "/api/status/t", route_params={"instanceId": "t"}, params={"showInput": "\x00"}
    )
    response = await client_function(STATUS)(req=req, client=client)
    assert await message_of(response) == (400, 'showInput must be true or false; got "\\u0000".')

    req = start("E1_HelloSequence", params={"timeout": "soon'"}, name=WAIT)
    response = await client_function(WAIT)(req=req, client=client)
    assert await message_of(response) == (
        400,
        'timeout must be a number of seconds >= 0; got "soon\'".',
    )

    response = await client_function(START)(req=start("No'pe"), client=client)
    status, message = await message_of(response)
    assert status == 404 and message.startswith('No orchestrator named "No\'pe" can be started')


async def test_a_long_value_is_cut_in_the_message(client_function, client):
    req = start("E1_HelloSequence", params={"timeout": "x" * 10_000}, name=WAIT)
    response = await client_function(WAIT)(req=req, client=client)
    _, message = await message_of(response)
    assert message == f'timeout must be a number of seconds >= 0; got "{"x" * 300}...".'
