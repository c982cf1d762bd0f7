"""Test doubles and builders for the HTTP client tests (no host, no network)."""

import itertools
import json
from typing import Any

import azure.functions as func
from azure.durable_functions.models.DurableOrchestrationStatus import DurableOrchestrationStatus

BASE_URL = "http://localhost:7071"


def http_request(
    method: str,
    path: str,
    *,
    route_params: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    body: bytes | str | Any = b"",
    json_body: Any = None,
) -> func.HttpRequest:
    """A ``func.HttpRequest`` for ``BASE_URL + path``; ``json_body`` is serialised if given."""
    if json_body is not None:
        body = json.dumps(json_body)
    if isinstance(body, str):
        body = body.encode("utf-8")
    return func.HttpRequest(
        method,
        BASE_URL + path,
        route_params=route_params or {},
        params=params or {},
        body=body,
    )


def status_json(
    instance_id: str,
    name: str = "E1_HelloSequence",
    runtime_status: str = "Running",
    *,
    input: Any = None,
    custom_status: Any = None,
    output: Any = None,
) -> dict[str, Any]:
    """A status body as the extension's RPC endpoint returns it (what get_status parses)."""
    return {
        "name": name,
        "instanceId": instance_id,
        "runtimeStatus": runtime_status,
        "input": input,
        "customStatus": custom_status,
        "output": output,
        "createdTime": "2026-11-22T10:00:00.1234567Z",
        "lastUpdatedTime": "2026-11-22T10:00:05Z",
    }


class FakeDurableClient:
    """Stands in for ``df.DurableOrchestrationClient``: the same async methods, no host.

    ``get_status`` returns real ``DurableOrchestrationStatus`` objects built the way the SDK builds
    them, including the all-None status for an unknown instance. ``scripts`` holds, per instance
    id, the successive status bodies polling will see (the last one repeats).
    """

    def __init__(self) -> None:
        self.statuses: dict[str, dict[str, Any]] = {}
        self.scripts: dict[str, list[dict[str, Any]]] = {}
        self.started: list[tuple[str, str | None, Any]] = []  # (name, requested id, input)
        self.raised: list[tuple[str, str, Any]] = []
        self.get_status_calls: list[tuple[str, bool]] = []
        self.raise_event_error: Exception | None = None
        self._ids = (f"instance-{n}" for n in itertools.count(1))

    async def start_new(
        self,
        orchestration_function_name: str,
        instance_id: str | None = None,
        client_input: Any = None,
    ) -> str:
        self.started.append((orchestration_function_name, instance_id, client_input))
        instance_id = instance_id or next(self._ids)
        self.statuses.setdefault(
            instance_id,
            status_json(instance_id, orchestration_function_name, "Pending", input=client_input),
        )
        return instance_id

    async def get_status(
        self,
        instance_id: str,
        show_history: bool = False,
        show_history_output: bool = False,
        show_input: bool = False,
    ) -> DurableOrchestrationStatus:
        self.get_status_calls.append((instance_id, show_input))
        script = self.scripts.get(instance_id)
        if script:
            body = script.pop(0) if len(script) > 1 else script[0]
        else:
            body = self.statuses.get(instance_id)
        if body is None:
            return DurableOrchestrationStatus.from_json("")  # what the SDK makes of a 404
        body = dict(body)
        if not show_input:
            body["input"] = None
        return DurableOrchestrationStatus.from_json(body)

    async def raise_event(self, instance_id: str, event_name: str, event_data: Any = None) -> None:
        if self.raise_event_error is not None:
            raise self.raise_event_error
        self.raised.append((instance_id, event_name, event_data))

    def create_check_status_response(
        self, request: func.HttpRequest, instance_id: str
    ) -> func.HttpResponse:
        status_uri = f"{BASE_URL}/runtime/webhooks/durabletask/instances/{instance_id}"
        return func.HttpResponse(
            json.dumps({"id": instance_id, "statusQueryGetUri": status_uri}),
            status_code=202,
            headers={"Content-Type": "application/json", "Location": status_uri},
        )
