"""POST /api/orchestrators/{functionName}/wait-for-status, and the polling loop behind it."""

import json

import pytest

from clients.polling import Outcome, wait_for_custom_status
from tests.app.fakes import FakeDurableClient, http_request, status_json

WAIT = "StartAndWaitForStatus"


def wait_request(function_name, body=b"", params=None):
    return http_request(
        "POST",
        f"/api/orchestrators/{function_name}/wait-for-status",
        route_params={"functionName": function_name},
        params=params,
        body=body,
    )


def script(client, *bodies, instance_id="instance-1"):
    client.scripts[instance_id] = list(bodies)


class FakeTime:
    """A clock that only moves when the poller sleeps: waits cost no real time."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def clock(self):
        return self.now

    async def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


async def test_e1_waits_for_london_by_default_and_answers_200_with_the_status(
    client_function, client
):
    script(client, status_json("instance-1", custom_status="London", input=None))

    response = await client_function(WAIT)(req=wait_request("E1_HelloSequence"), client=client)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    body = json.loads(response.get_body())
    assert body["customStatus"] == "London"
    assert body["runtimeStatus"] == "Running"
    assert body["instanceId"] == "instance-1"
    assert client.started == [("E1_HelloSequence", None, None)]


async def test_a_timeout_answers_202_with_our_own_links(client_function, client):
    script(client, status_json("instance-1", custom_status="Tokyo"))

    # timeout=0 is a single check, so no waiting here.
    response = await client_function(WAIT)(
        req=wait_request("E1_HelloSequence", params={"timeout": "0"}), client=client
    )

    assert response.status_code == 202
    body = json.loads(response.get_body())
    assert body == {
        "id": "instance-1",
        "statusQueryGetUri": "http://localhost:7071/api/status/instance-1",
        "sendEventPostUri": "http://localhost:7071/api/instances/instance-1/events/{eventName}",
        "purgeHistoryDeleteUri": "http://localhost:7071/api/instances/instance-1",
        "monitorUri": "http://localhost:7071/api/monitor/instance-1",
    }
    assert response.headers["Location"] == body["statusQueryGetUri"]
    assert response.headers["Retry-After"] == "10"


async def test_a_requested_json_status_is_matched_as_json(client_function, client):
    script(client, status_json("instance-1", custom_status={"foo": 2, "nextActions": ["A"]}))
    response = await client_function(WAIT)(
        req=wait_request(
            "SetStatusTest", params={"status": '{"nextActions": ["A"], "foo": 2}', "timeout": "0"}
        ),
        client=client,
    )
    assert response.status_code == 200


async def test_a_requested_status_that_is_not_json_is_a_plain_string(client_function, client):
    script(client, status_json("instance-1", custom_status="Seattle"))
    response = await client_function(WAIT)(
        req=wait_request("E1_HelloSequence", params={"status": "Seattle", "timeout": "0"}),
        client=client,
    )
    assert response.status_code == 200


async def test_an_instance_that_ends_first_answers_200_with_its_final_status(
    client_function, client
):
    script(
        client,
        status_json(
            "instance-1",
            "ReserveTicket",
            "Completed",
            input="user-1",
            custom_status={"message": "The booking was not confirmed on time. Please try again."},
            output=False,
        ),
    )
    response = await client_function(WAIT)(
        req=wait_request("ReserveTicket", body=b'"user-1"', params={"status": '{"message": "x"}'}),
        client=client,
    )

    assert response.status_code == 200
    body = json.loads(response.get_body())
    assert body["runtimeStatus"] == "Completed"
    assert body["output"] is False
    assert body["input"] == "user-1"


async def test_an_orchestrator_without_a_default_needs_a_status(client_function, client):
    response = await client_function(WAIT)(
        req=wait_request("CityRecommender", body=b"1"), client=client
    )

    assert response.status_code == 400
    assert json.loads(response.get_body())["error"] == "missing_status"
    assert client.started == []


@pytest.mark.parametrize("timeout", ["-1", "soon", "nan", "inf"])
async def test_a_bad_timeout_is_400_before_anything_starts(client_function, client, timeout):
    response = await client_function(WAIT)(
        req=wait_request("E1_HelloSequence", params={"timeout": timeout}), client=client
    )

    assert response.status_code == 400
    assert json.loads(response.get_body())["error"] == "invalid_timeout"
    assert client.started == []


@pytest.mark.parametrize(
    ("function_name", "body", "status", "error"),
    [
        ("Nope", b"", 404, "unknown_orchestrator"),
        ("CityRecommender", b"9", 400, "invalid_input"),
        ("E1_HelloSequence", b"{", 400, "invalid_json"),
    ],
)
async def test_start_errors_are_the_same_as_for_a_plain_start(
    client_function, client, function_name, body, status, error
):
    response = await client_function(WAIT)(
        req=wait_request(function_name, body=body, params={"status": "x"}), client=client
    )

    assert response.status_code == status
    assert json.loads(response.get_body())["error"] == error
    assert client.started == []


async def test_a_long_timeout_is_capped(client_function, client, monkeypatch):
    seen = {}

    async def fake_wait(client_, instance_id, expected, *, timeout):
        seen["timeout"] = timeout
        seen["expected"] = expected
        return await wait_for_custom_status(client_, instance_id, expected, timeout=0)

    monkeypatch.setattr("clients.starters.wait_for_custom_status", fake_wait)
    response = await client_function(WAIT)(
        req=wait_request("E1_HelloSequence", params={"timeout": "3600"}), client=client
    )

    assert seen == {"timeout": 60.0, "expected": "London"}
    assert response.status_code == 202


# -- the polling loop itself, on a fake clock ---------------------------------------------------


async def test_polls_until_the_status_matches():
    client = FakeDurableClient()
    script(
        client,
        None,  # not created yet: the SDK's all-None status
        status_json("instance-1", "E1_HelloSequence", "Pending"),
        status_json("instance-1", custom_status="Tokyo"),
        status_json("instance-1", custom_status="Seattle"),
        status_json("instance-1", custom_status="London"),
    )
    fake = FakeTime()

    result = await wait_for_custom_status(
        client, "instance-1", "London", timeout=10, interval=0.5, clock=fake.clock, sleep=fake.sleep
    )

    assert result.outcome is Outcome.MATCHED
    assert result.status["customStatus"] == "London"
    assert fake.sleeps == [0.5] * 4
    assert all(show_input for _, show_input in client.get_status_calls)


async def test_an_instance_not_found_yet_is_polled_again():
    client = FakeDurableClient()
    fake = FakeTime()

    async def appear_later(seconds):
        await fake.sleep(seconds)
        client.statuses["late"] = status_json("late", custom_status="London")

    result = await wait_for_custom_status(
        client, "late", "London", timeout=5, interval=1, clock=fake.clock, sleep=appear_later
    )

    assert result.outcome is Outcome.MATCHED
    assert fake.sleeps == [1]


async def test_times_out_with_the_last_status_and_never_sleeps_past_the_deadline():
    client = FakeDurableClient()
    client.statuses["slow"] = status_json("slow", custom_status="Tokyo")
    fake = FakeTime()

    result = await wait_for_custom_status(
        client, "slow", "London", timeout=2, interval=0.75, clock=fake.clock, sleep=fake.sleep
    )

    assert result.outcome is Outcome.TIMED_OUT
    assert result.status["customStatus"] == "Tokyo"
    assert fake.sleeps == [0.75, 0.75, 0.5]


async def test_times_out_with_no_status_if_the_instance_never_appears():
    fake = FakeTime()
    result = await wait_for_custom_status(
        FakeDurableClient(), "ghost", "x", timeout=1, interval=1, clock=fake.clock, sleep=fake.sleep
    )
    assert result.outcome is Outcome.TIMED_OUT
    assert result.status is None


@pytest.mark.parametrize("runtime_status", ["Completed", "Failed", "Terminated", "Canceled"])
async def test_stops_when_the_instance_ends(runtime_status):
    client = FakeDurableClient()
    client.statuses["done"] = status_json("done", runtime_status=runtime_status)
    fake = FakeTime()

    result = await wait_for_custom_status(
        client, "done", "London", timeout=10, clock=fake.clock, sleep=fake.sleep
    )

    assert result.outcome is Outcome.ENDED
    assert fake.sleeps == []


async def test_a_match_in_the_final_status_counts_as_matched():
    client = FakeDurableClient()
    client.statuses["done"] = status_json(
        "done", runtime_status="Completed", custom_status="London"
    )
    result = await wait_for_custom_status(client, "done", "London", timeout=0)
    assert result.outcome is Outcome.MATCHED
