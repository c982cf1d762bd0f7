"""The SDK's real ``DurableOrchestrationClient`` against devhost running our app.

Our HTTP functions only use a few client calls; other code (a timer-triggered clean-up, an admin
script, Core Tools' own client) may use the rest. The client is built from the same binding JSON
devhost passes to the app's functions, so each call takes the path it takes inside the app: the
SDK's URL building and status-code handling against the host's RPC endpoints.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import azure.durable_functions as df
import azure.functions as func
import pytest
from azure.durable_functions.models.OrchestrationRuntimeStatus import (
    OrchestrationRuntimeStatus as Runtime,
)

from .conftest import AppApi
from .test_app_orchestrators import USER_1_OFFER

pytestmark = pytest.mark.e2e

OPEN_OFFER = {"userId": "user-1", "discountTimeout": 86400}


def http_request(api: AppApi, path: str = "/api/orchestrators/ReserveTicket") -> func.HttpRequest:
    """The request an HTTP function would have received (its URL's origin goes into the links)."""
    return func.HttpRequest(method="POST", url=api.base_url + path, body=b"")


async def test_start_new_with_and_without_an_instance_id(
    sdk_client: df.DurableOrchestrationClient, api: AppApi, instance_id: str
) -> None:
    chosen = await sdk_client.start_new("SetStatusTest", instance_id)
    assert chosen == instance_id
    generated = await sdk_client.start_new("E1_HelloSequence")
    assert generated and generated != chosen

    for started, output in (
        (chosen, ["Done: step 1", "Done: step 2"]),
        (generated, ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]),
    ):
        await api.wait(started)
        status = await sdk_client.get_status(started)
        assert status.runtime_status == Runtime.Completed
        assert status.output == output


async def test_get_status_with_input_and_history(
    sdk_client: df.DurableOrchestrationClient, api: AppApi
) -> None:
    instance_id = await sdk_client.start_new("ReserveTicket", None, "user-1")
    # Running comes first; the offer follows once CalculateDiscount has answered.
    await api.wait(instance_id, ("Running",), custom_status={**USER_1_OFFER, "discountTimeout": 60})
    running = await sdk_client.get_status(instance_id, show_input=True)
    assert running.name == "ReserveTicket" and running.instance_id == instance_id
    assert running.runtime_status == Runtime.Running
    assert running.input_ == '"user-1"'  # start_new's JSON-in-JSON, kept as the extension keeps it
    assert running.custom_status["discount"] == 25
    assert running.created_time is not None and running.last_updated_time is not None

    await sdk_client.raise_event(instance_id, "BookingConfirmed", True)
    await api.wait(instance_id)
    done = await sdk_client.get_status(instance_id, show_history=True, show_history_output=True)
    assert done.runtime_status == Runtime.Completed
    assert done.custom_status == {"message": "Thank you for confirming your booking."}
    # The extension names the list "historyEvents"; the SDK keeps it as an extra attribute
    # (its ``history`` property stays None).
    events = done.historyEvents  # type: ignore[attr-defined]
    kinds = [event["EventType"] for event in events]
    assert kinds[0] == "ExecutionStarted" and kinds[-1] == "ExecutionCompleted"
    assert "EventRaised" in kinds and "TimerCreated" in kinds
    assert "TimerFired" not in kinds  # the event won; the timer was cancelled
    assert not await sdk_client.get_status("no-such-instance-here")  # 404: a falsy status


async def test_get_status_all_and_by(
    sdk_client: df.DurableOrchestrationClient, api: AppApi, instance_id: str
) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    done_id = await sdk_client.start_new("SetStatusTest", f"{instance_id}-done")
    open_id = await sdk_client.start_new("ReserveTicket", f"{instance_id}-open", OPEN_OFFER)
    await api.wait(done_id)
    await api.wait(open_id, ("Running",))

    everything = {status.instance_id for status in await sdk_client.get_status_all()}
    assert {done_id, open_id} <= everything

    running = await sdk_client.get_status_by(
        created_time_from=since, runtime_status=[Runtime.Running], instance_id_prefix=instance_id
    )
    assert [status.instance_id for status in running] == [open_id]
    ours = await sdk_client.get_status_by(instance_id_prefix=instance_id)
    assert sorted(status.instance_id for status in ours) == sorted([done_id, open_id])
    future = await sdk_client.get_status_by(
        created_time_from=datetime.now(UTC) + timedelta(days=365),
        instance_id_prefix=instance_id,
    )
    assert future == []
    await sdk_client.terminate(open_id, "test over")


async def test_raise_event_reaches_the_orchestrator_despite_double_encoding(
    sdk_client: df.DurableOrchestrationClient, api: AppApi
) -> None:
    """The SDK sends event data as JSON text inside JSON (azure-functions-durable-python#295);
    the orchestrators decode it once more, so a plain city name still matches."""
    instance_id = await sdk_client.start_new("CityRecommender", None, 1)
    await api.wait(instance_id, ("Running",))
    await sdk_client.raise_event(instance_id, "CitySelected", "Seattle")
    status = await api.wait(instance_id)
    assert status["output"]["selectedCity"] == "Seattle"
    with pytest.raises(Exception, match="is gone"):
        await sdk_client.raise_event(instance_id, "CitySelected", "Tokyo")
    with pytest.raises(Exception, match="No instance with ID"):
        await sdk_client.raise_event("no-such-instance-here", "CitySelected", "Tokyo")


async def test_terminate_suspend_resume(
    sdk_client: df.DurableOrchestrationClient, api: AppApi
) -> None:
    instance_id = await sdk_client.start_new("ReserveTicket", None, OPEN_OFFER)
    await api.wait(instance_id, ("Running",))

    await sdk_client.suspend(instance_id, "pause")
    assert (await api.wait(instance_id, ("Suspended",)))["runtimeStatus"] == "Suspended"
    await sdk_client.resume(instance_id, "carry on")
    await api.wait(instance_id, ("Running",))

    await sdk_client.terminate(instance_id, "changed my mind")
    status = await api.wait(instance_id)
    assert (status["runtimeStatus"], status["output"]) == ("Terminated", "changed my mind")
    await sdk_client.terminate(instance_id, "again")  # 410: the SDK accepts it silently
    with pytest.raises(Exception, match="No instance with ID"):
        await sdk_client.terminate("no-such-instance-here", "x")


async def test_purge_instance_history(
    sdk_client: df.DurableOrchestrationClient, api: AppApi, instance_id: str
) -> None:
    await sdk_client.start_new("E1_HelloSequence", instance_id)
    await api.wait(instance_id)
    assert (await sdk_client.purge_instance_history(instance_id)).instances_deleted == 1
    assert (await sdk_client.purge_instance_history(instance_id)).instances_deleted == 0
    assert not await sdk_client.get_status(instance_id)
    assert (await api.status(instance_id)).status == 404


async def test_purge_instance_history_by(
    sdk_client: df.DurableOrchestrationClient, api: AppApi
) -> None:
    """Purging by time and status never touches a running instance (the filter says so).

    The window is this test's own instances' creation times (the host's clock, which the manual
    clock may have moved ahead of ours); tests run one at a time, so little else is in it.
    """
    done = await sdk_client.start_new("SetStatusTest")
    running = await sdk_client.start_new("ReserveTicket", None, OPEN_OFFER)
    await api.wait(done)
    await api.wait(running, ("Running",))
    first = (await sdk_client.get_status(done)).created_time
    # Shown times are whole seconds; the host keeps (and filters on) the exact time.
    last = (await sdk_client.get_status(running)).created_time + timedelta(seconds=1)
    result = await sdk_client.purge_instance_history_by(
        created_time_from=first, created_time_to=last, runtime_status=[Runtime.Completed]
    )
    assert result.instances_deleted >= 1
    assert not await sdk_client.get_status(done)
    assert (await sdk_client.get_status(running)).runtime_status == Runtime.Running
    await sdk_client.terminate(running, "test over")


async def test_wait_for_completion_or_create_check_status_response(
    sdk_client: df.DurableOrchestrationClient, api: AppApi
) -> None:
    completed = await sdk_client.start_new("E1_HelloSequence")
    await api.wait(completed)
    response = await sdk_client.wait_for_completion_or_create_check_status_response(
        http_request(api), completed
    )
    assert response.status_code == 200
    assert json.loads(response.get_body()) == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]

    waiting = await sdk_client.start_new("ReserveTicket", None, OPEN_OFFER)
    await api.wait(waiting, ("Running",))
    # The SDK polls on its own here (its interval, not a sleep of ours); a day-long offer
    # cannot end within the 100 ms it is given.
    response = await sdk_client.wait_for_completion_or_create_check_status_response(
        http_request(api), waiting, timeout_in_milliseconds=100, retry_interval_in_milliseconds=50
    )
    assert response.status_code == 202
    assert json.loads(response.get_body())["id"] == waiting
    await sdk_client.terminate(waiting, "test over")


async def test_create_check_status_response_links_work(
    sdk_client: df.DurableOrchestrationClient, api: AppApi
) -> None:
    instance_id = await sdk_client.start_new("ReserveTicket", None, OPEN_OFFER)
    response = sdk_client.create_check_status_response(http_request(api), instance_id)
    assert response.status_code == 202
    payload = json.loads(response.get_body())
    assert response.headers["Location"] == payload["statusQueryGetUri"]
    assert payload["statusQueryGetUri"].startswith(api.base_url)  # the request's origin

    await api.wait(instance_id, ("Running",))
    assert (await api.request("GET", payload["statusQueryGetUri"])).status == 202
    event = payload["sendEventPostUri"].replace("{eventName}", "BookingConfirmed")
    raised = await api.request(
        "POST", event, data="false", headers={"Content-Type": "application/json"}
    )
    assert raised.status == 202, raised.text
    await api.wait(instance_id)
    done = await api.request("GET", payload["statusQueryGetUri"])
    assert (done.status, done.json["output"]) == (200, False)

    # Without a request the links keep the host's public origin (as func start prints it).
    links = sdk_client.create_http_management_payload(instance_id)
    assert links["statusQueryGetUri"].startswith("http://localhost:")
