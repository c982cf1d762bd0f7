"""The SDK's real DurableOrchestrationClient, built from devhost's binding JSON, against devhost."""

from __future__ import annotations

from datetime import UTC, datetime

import azure.durable_functions as df
import pytest
from azure.durable_functions.models.OrchestrationRuntimeStatus import OrchestrationRuntimeStatus

from devhost.http.urls import client_binding_json
from devhost.server import DevHost


def sdk_client(host: DevHost) -> df.DurableOrchestrationClient:
    return df.DurableOrchestrationClient(client_binding_json(host.urls, host.index.task_hub))


async def test_start_status_event_terminate_purge(host: DevHost) -> None:
    client = sdk_client(host)
    instance_id = await client.start_new("hello_orchestrator", "sdk-1", {"n": 1})
    assert instance_id == "sdk-1"
    await host.engine.wait_for(instance_id, lambda s: s["runtimeStatus"] == "Running")
    status = await client.get_status(instance_id, show_input=True)
    assert status.runtime_status == OrchestrationRuntimeStatus.Running
    assert status.input_ == '{"n": 1}'  # the SDK's double encoding, kept as the extension keeps it

    await client.suspend(instance_id, "pause")
    assert (await client.get_status(instance_id)).runtime_status.value == "Suspended"
    await client.resume(instance_id, "go on")
    assert (await client.get_status(instance_id)).runtime_status.value == "Running"

    await client.terminate(instance_id, "enough")
    status = await client.get_status(instance_id)
    assert status.runtime_status == OrchestrationRuntimeStatus.Terminated
    await client.terminate(instance_id, "again")  # 410: the SDK accepts it silently

    result = await client.purge_instance_history(instance_id)
    assert result.instances_deleted == 1
    assert (await client.purge_instance_history(instance_id)).instances_deleted == 0
    assert not await client.get_status(instance_id)  # 404 -> an empty (falsy) status


async def test_query_and_purge_by(host: DevHost) -> None:
    client = sdk_client(host)
    for instance_id in ("q-1", "q-2", "z-1"):
        await client.start_new("hello_orchestrator", instance_id)
        await host.engine.wait_for(instance_id, lambda s: s["runtimeStatus"] == "Running")
    await client.raise_event("q-2", "Approval", 7)
    await host.engine.wait_for("q-2", lambda s: s["runtimeStatus"] == "Completed")

    everything = await client.get_status_all()
    assert {s.instance_id for s in everything} == {"q-1", "q-2", "z-1"}
    running = await client.get_status_by(
        runtime_status=[OrchestrationRuntimeStatus.Running], instance_id_prefix="q-"
    )
    assert [s.instance_id for s in running] == ["q-1"]

    since = datetime(2000, 1, 1, tzinfo=UTC)
    purged = await client.purge_instance_history_by(
        created_time_from=since, runtime_status=[OrchestrationRuntimeStatus.Completed]
    )
    assert purged.instances_deleted == 1
    assert not await client.get_status("q-2")  # purged: 404, an empty status
    # No terminal status in the filter: Azure Storage purges every status, running ones too.
    everything = await client.purge_instance_history_by(created_time_from=since)
    assert everything.instances_deleted == 2
    nothing = await client.purge_instance_history_by(created_time_from=since)
    assert nothing.instances_deleted == 0  # 404 from the API


async def test_sdk_errors(host: DevHost) -> None:
    client = sdk_client(host)
    with pytest.raises(Exception, match="The function 'missing' doesn't exist"):
        await client.start_new("missing")
    await client.start_new("hello_orchestrator", "dup")
    with pytest.raises(Exception, match="already exists"):
        await client.start_new("hello_orchestrator", "dup")
    with pytest.raises(Exception, match="No instance with ID 'ghost' found"):
        await client.terminate("ghost", "x")
    with pytest.raises(Exception, match="No instance with ID ghost found"):
        await client.raise_event("ghost", "Approval", 1)
    with pytest.raises(Exception, match="unexpected payload"):
        await client.rewind("dup", "x")  # 412: not failed
