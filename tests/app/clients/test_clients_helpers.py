"""The pure parts behind the client functions: ids, JSON bodies, status rendering, registry."""

import json
from datetime import UTC, datetime, timedelta, timezone

import azure.functions as func
import pytest
from azure.durable_functions.models.DurableOrchestrationStatus import DurableOrchestrationStatus

from clients.http import ApiError, http_errors, read_json_body
from clients.instance_ids import validate_instance_id
from clients.registry import NO_DEFAULT, STARTABLE, find_startable
from clients.status_view import format_time, has_ended, instance_exists, statuses_equal
from custom_status import get_status
from tests.app.fakes import FakeDurableClient, http_request, status_json


@pytest.mark.parametrize("instance_id", ["abc", "a-b_c.d", "x" * 256, "été", "a b", "a@b"])
def test_valid_instance_ids(instance_id):
    assert validate_instance_id(instance_id) == instance_id


@pytest.mark.parametrize(
    "instance_id", ["", None, "x" * 257, "@a", "a/b", "a\\b", "a#b", "a?b", "a\tb", "a\x7fb"]
)
def test_invalid_instance_ids(instance_id):
    with pytest.raises(ApiError) as raised:
        validate_instance_id(instance_id)
    assert (raised.value.status_code, raised.value.code) == (400, "invalid_instance_id")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", None),
        (b" \n", None),
        (b"null", None),
        (b"1", 1),
        ('"é"'.encode(), "é"),
        (b'"\\ud83d\\ude00"', "\U0001f600"),  # a surrogate pair is one character
        (b"1e308", 1e308),
    ],
)
def test_read_json_body(body, expected):
    assert read_json_body(http_request("POST", "/x", body=body)) == expected


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"\xff",
        b"Infinity",
        b"-Infinity",
        b"NaN",
        b"'a'",
        b"1e999",
        b"[-1E400]",
        b'"\\ud800"',
        b'{"a": ["x\\udc00"]}',
        b'{"\\ud800": 1}',
        b"[" * 100_000 + b"]" * 100_000,
    ],
)
def test_read_json_body_refuses_what_is_not_json(body):
    with pytest.raises(ApiError) as raised:
        read_json_body(http_request("POST", "/x", body=body))
    assert (raised.value.status_code, raised.value.code) == (400, "invalid_json")


async def test_http_errors_passes_responses_through_and_renders_api_errors():
    @http_errors
    async def ok(req):
        return func.HttpResponse("fine")

    @http_errors
    async def refused(req):
        raise ApiError(418, "teapot", "I am a teapot.")

    assert (await ok(req=None)).get_body() == b"fine"
    response = await refused(req=None)
    assert response.status_code == 418
    assert json.loads(response.get_body()) == {"error": "teapot", "message": "I am a teapot."}


def test_statuses_equal_compares_json_values():
    assert statuses_equal({"a": 1, "b": [1, 2]}, {"b": [1, 2], "a": 1})
    assert statuses_equal("London", "London")
    assert statuses_equal(None, None)
    assert not statuses_equal(True, 1)
    assert not statuses_equal("2", 2)
    assert not statuses_equal([1, 2], [2, 1])


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2019, 10, 6, 18, 30, 24, 123456, tzinfo=UTC), "2019-10-06T18:30:24Z"),
        (datetime(2019, 10, 6, 18, 30, 24), "2019-10-06T18:30:24Z"),
        (
            datetime(2019, 10, 6, 20, 30, 24, tzinfo=timezone(timedelta(hours=2))),
            "2019-10-06T18:30:24Z",
        ),
        (None, None),
    ],
)
def test_format_time(moment, text):
    assert format_time(moment) == text


async def test_status_of_an_unknown_instance():
    unknown = DurableOrchestrationStatus.from_json("")  # what the SDK returns for a 404
    assert not instance_exists(unknown)
    assert not instance_exists(None)
    assert await get_status(FakeDurableClient(), "nobody") is None


async def test_get_status_in_the_built_in_shape():
    client = FakeDurableClient()
    client.statuses["i"] = status_json(
        "i", "E1_HelloSequence", "Completed", custom_status="London", output=["x"]
    )
    status = await client.get_status("i")
    assert instance_exists(status) and has_ended(status)
    body = await get_status(client, "i")
    assert body["customStatus"] == "London"
    assert list(body) == [
        "name",
        "instanceId",
        "runtimeStatus",
        "input",
        "customStatus",
        "output",
        "createdTime",
        "lastUpdatedTime",
    ]


def test_the_registry_holds_exactly_the_apps_orchestrators(functions):
    orchestrators = {
        name
        for name, function in functions.items()
        if function.get_bindings_dict()["bindings"][0]["type"] == "orchestrationTrigger"
    }
    assert {startable.name for startable in STARTABLE} == orchestrators
    assert find_startable("CITYRECOMMENDER").name == "CityRecommender"
    assert find_startable("E1_SayHello") is None  # activities cannot be started
    assert find_startable("E1_HelloSequence").awaited_status == "London"
    assert find_startable("CityRecommender").awaited_status is NO_DEFAULT


def test_client_routes(functions):
    routes = {
        name: (binding["route"], [str(m.value) for m in binding["methods"]])
        for name, function in functions.items()
        for binding in function.get_bindings_dict()["bindings"]
        if binding["type"] == "httpTrigger"
    }
    assert routes == {
        "StartOrchestration": ("orchestrators/{functionName}", ["POST"]),
        "StartAndWaitForStatus": ("orchestrators/{functionName}/wait-for-status", ["POST"]),
        "GetInstanceStatus": ("status/{instanceId}", ["GET"]),
        "RaiseInstanceEvent": ("instances/{instanceId}/events/{eventName}", ["POST"]),
        "PurgeInstance": ("instances/{instanceId}", ["DELETE"]),
        "MonitorInstance": ("monitor/{instanceId}", ["GET"]),
        "ListOrchestrators": ("orchestrators", ["GET"]),
        "ListRecentInstances": ("instances", ["GET"]),
        "TerminateInstance": ("instances/{instanceId}/terminate", ["POST"]),
        "ClientPage": ("ui", ["GET"]),
    }
