"""The durable client binding: the JSON string a function receives and what the SDK makes of it."""

from __future__ import annotations

import json

import aiohttp
import azure.durable_functions as df

from devhost.http.urls import HostUrls, client_binding_json
from devhost.server import DevHost


def test_binding_json_has_the_extension_shape() -> None:
    urls = HostUrls("http://localhost:7071", "http://127.0.0.1:7071")
    binding = json.loads(client_binding_json(urls, "MyHub"))
    assert set(binding) == {
        "taskHubName", "connectionName", "creationUrls", "managementUrls", "baseUrl",
        "requiredQueryStringParameters", "rpcBaseUrl", "httpBaseUrl",
    }  # fmt: skip
    assert binding["httpBaseUrl"] is None  # sent only for the gRPC protocol
    assert binding["taskHubName"] == "MyHub"
    assert binding["baseUrl"] == "http://localhost:7071/runtime/webhooks/durabletask"
    assert binding["rpcBaseUrl"] == "http://127.0.0.1:7071/durabletask/"
    assert binding["requiredQueryStringParameters"] == ""
    base = "http://localhost:7071/runtime/webhooks/durabletask"
    assert binding["creationUrls"] == {
        "createNewInstancePostUri": f"{base}/orchestrators/{{functionName}}[/{{instanceId}}]?",
        "createAndWaitOnNewInstancePostUri": (
            f"{base}/orchestrators/{{functionName}}[/{{instanceId}}]"
            "?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&"
        ),
    }
    suffix = "taskHub=MyHub&connection=Storage"
    assert binding["managementUrls"] == {
        "id": "INSTANCEID",
        "statusQueryGetUri": f"{base}/instances/INSTANCEID?{suffix}",
        "sendEventPostUri": f"{base}/instances/INSTANCEID/raiseEvent/{{eventName}}?{suffix}",
        "terminatePostUri": f"{base}/instances/INSTANCEID/terminate?reason={{text}}&{suffix}",
        "rewindPostUri": f"{base}/instances/INSTANCEID/rewind?reason={{text}}&{suffix}",
        "purgeHistoryDeleteUri": f"{base}/instances/INSTANCEID?{suffix}",
        "restartPostUri": f"{base}/instances/INSTANCEID/restart?{suffix}",
        "suspendPostUri": f"{base}/instances/INSTANCEID/suspend?reason={{text}}&{suffix}",
        "resumePostUri": f"{base}/instances/INSTANCEID/resume?reason={{text}}&{suffix}",
    }


def test_sdk_management_payload_replaces_the_placeholder() -> None:
    urls = HostUrls("http://localhost:7071", "http://127.0.0.1:7071")
    client = df.DurableOrchestrationClient(client_binding_json(urls, "MyHub"))
    payload = client.create_http_management_payload("abc123")
    assert payload["id"] == "abc123"
    assert payload["statusQueryGetUri"] == (
        "http://localhost:7071/runtime/webhooks/durabletask/instances/abc123"
        "?taskHub=MyHub&connection=Storage"
    )


async def test_function_receives_the_binding_with_the_bound_port(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    async with http.get(host.base_url + "/api/client-json") as response:
        seen = await response.json()
    assert seen["rpc"] == f"http://127.0.0.1:{host.port}/durabletask/"
    assert seen["management"]["statusQueryGetUri"].startswith(
        f"http://localhost:{host.port}/runtime/webhooks/durabletask/instances/INSTANCEID?"
    )


async def test_starter_function_round_trip_through_the_sdk(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    """The app's starter calls start_new over RPC and answers create_check_status_response."""
    url = host.base_url + "/api/orchestrators/hello_orchestrator/from-http"
    async with http.post(url, json={"city": "Lima"}) as response:
        assert response.status == 202
        payload = await response.json()
        location = response.headers["Location"]
    assert payload["id"] == "from-http"
    assert location == payload["statusQueryGetUri"]
    # create_check_status_response swaps in the request's origin, as in Azure.
    assert location.startswith(f"{host.base_url}/runtime/webhooks/durabletask/instances/from-http?")
    status = host.engine.get_status("from-http")
    assert status is not None and status["name"] == "hello_orchestrator"
    async with http.get(location) as response:
        assert response.status == 202
        assert (await response.json())["input"] == '{"city": "Lima"}'
