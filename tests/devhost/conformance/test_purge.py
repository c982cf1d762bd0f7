"""Rows "purge one", "purge by filter" and "purge by filter with only unknown statuses" of
devhost/CONFORMANCE.md (HttpApiHandler.cs and DurableTask.AzureStorage's
AzureTableTrackingStore)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import aiohttp
import azure.durable_functions as df
import pytest
from azure.durable_functions.models.OrchestrationRuntimeStatus import OrchestrationRuntimeStatus

from devhost.server import DevHost

from .conftest import WEBHOOK, call, ended, running

SINCE = datetime(2000, 1, 1, tzinfo=UTC)


async def test_purge_one_deletes_an_instance_whatever_its_status(
    host: DevHost, client: df.DurableOrchestrationClient, caplog: pytest.LogCaptureFixture
) -> None:
    await client.start_new("Collector", "live", 1)
    await host.engine.wait_for("live", running)
    with caplog.at_level(logging.WARNING, logger="devhost.runtime.engine"):
        assert (await client.purge_instance_history("live")).instances_deleted == 1
    assert host.engine.get_status("live") is None
    assert any(
        "Purged instance live while it was Running" in r.getMessage() for r in caplog.records
    )


async def test_purge_by_filter_keeps_terminal_statuses_or_purges_every_status(
    host: DevHost, client: df.DurableOrchestrationClient, http: aiohttp.ClientSession
) -> None:
    for instance_id in ("done-1", "done-2"):
        await host.engine.start_orchestration("FanOutFanIn", instance_id, json.dumps("1"))
        await host.engine.wait_for(instance_id, ended)
    await host.engine.start_orchestration("Collector", "live", json.dumps("1"))
    await host.engine.wait_for("live", running)

    completed = [OrchestrationRuntimeStatus.Completed, OrchestrationRuntimeStatus.Running]
    result = await client.purge_instance_history_by(SINCE, None, completed)
    assert result.instances_deleted == 2  # Running is not a purge status: dropped from the filter
    assert host.engine.get_status("live") is not None

    # A filter with no terminal status filters nothing: the running instance goes too.
    result = await client.purge_instance_history_by(
        SINCE, None, [OrchestrationRuntimeStatus.Running]
    )
    assert result.instances_deleted == 1 and host.engine.get_status("live") is None

    code, body, _ = await call(http, "DELETE", f"{host.base_url}{WEBHOOK}/instances/")
    assert (code, body) == (400, "Please provide value for 'createdTimeFrom' parameter.")
    query = "?createdTimeFrom=2000-01-01T00:00:00Z"
    assert await call(http, "DELETE", f"{host.base_url}{WEBHOOK}/instances/{query}") == (
        404,
        None,
        "",
    )


async def test_purge_by_filter_with_only_unknown_statuses_purges_every_status(
    host: DevHost, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    await host.engine.start_orchestration("FanOutFanIn", "done", json.dumps("1"))
    await host.engine.wait_for("done", ended)
    await host.engine.start_orchestration("Collector", "live", json.dumps("1"))
    await host.engine.wait_for("live", running)
    url = f"{host.base_url}{WEBHOOK}/instances/"
    since = "2000-01-01T00:00:00Z"

    # An unknown name is skipped: "Bogus,Completed" is "Completed".
    query = {"createdTimeFrom": since, "runtimeStatus": "Bogus,Completed"}
    status, body, _ = await call(http, "DELETE", url, params=query)
    assert (status, body) == (200, {"instancesDeleted": 1})
    assert host.engine.get_status("live") is not None

    # Nothing but unknown names: no filter at all, so the running instance is purged too.
    with caplog.at_level(logging.WARNING, logger="devhost"):
        query = {"createdTimeFrom": since, "runtimeStatus": "Bogus"}
        status, body, _ = await call(http, "DELETE", url, params=query)
    assert (status, body) == (200, {"instancesDeleted": 1})
    assert host.engine.get_status("live") is None
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any('runtimeStatus="Bogus" names no Completed' in w for w in warnings), warnings
    assert any("Purged 1 instance(s) that had not ended (live)" in w for w in warnings), warnings
