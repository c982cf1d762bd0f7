"""HTTP starters: start an orchestrator, or start it and wait for a custom status.

``POST /api/orchestrators/{functionName}``
    Body: the orchestrator's input as JSON (empty body: no input). Optional ``?instanceId=``.
    202 with our own links (``links.py``: status, events, purge, monitor; never the host's
    built-in URLs or its system key); 400 bad JSON / input / instance id; 404 unknown
    orchestrator; 409 when an instance with that id is still running.

``POST /api/orchestrators/{functionName}/wait-for-status``
    Same body and ``instanceId``, plus ``?status=`` (the custom status to wait for: JSON if it
    parses, else the plain string; E1_HelloSequence defaults to "London", SetStatusTest to its
    sample status) and ``?timeout=`` (seconds, default 10, capped at 60, 0 = check once).
    200 with the status JSON when the custom status matched or the instance ended first;
    202 with the same links on timeout.
"""

import math
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from custom_status import CustomStatusError, status_error_response

from .blueprint import blueprint
from .http import (
    ApiError,
    http_errors,
    json_response,
    parse_json_text,
    quoted,
    read_json_body,
)
from .instance_ids import validate_new_instance_id
from .links import accepted
from .polling import (
    DEFAULT_TIMEOUT_SECONDS,
    MAX_TIMEOUT_SECONDS,
    Outcome,
    wait_for_custom_status,
)
from .registry import NO_DEFAULT, STARTABLE, Startable, find_startable
from .status_view import has_ended, instance_exists


def _startable(req: func.HttpRequest) -> Startable:
    function_name = req.route_params.get("functionName", "")
    startable = find_startable(function_name)
    if startable is None:
        known = ", ".join(s.name for s in STARTABLE)
        raise ApiError(
            404,
            "unknown_orchestrator",
            f"No orchestrator named {quoted(function_name)} can be started here; known: {known}.",
        )
    return startable


async def _start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> str:
    """Validate everything about the request, then start the instance; returns its id."""
    startable = _startable(req)
    orchestrator_input = read_json_body(req)
    try:
        startable.validate_input(orchestrator_input)
    except ValueError as error:
        raise ApiError(400, "invalid_input", str(error)) from None

    instance_id = req.params.get("instanceId")
    if instance_id is None:
        return await client.start_new(startable.name, None, orchestrator_input)
    validate_new_instance_id(instance_id)
    await _refuse_if_running(client, instance_id)
    try:
        return await client.start_new(startable.name, instance_id, orchestrator_input)
    except Exception:
        # Another start with this id won the race. The extension answers it with a 500
        # (OrchestrationAlreadyExistsException reaches its catch-all), which the SDK raises as a
        # bare Exception: look again, and answer 409 if that is what happened.
        await _refuse_if_running(client, instance_id)
        raise


async def _refuse_if_running(client: df.DurableOrchestrationClient, instance_id: str) -> None:
    """409 when an instance with this id is Pending, Running or Suspended."""
    existing = await client.get_status(instance_id)
    if instance_exists(existing) and not has_ended(existing):
        raise ApiError(
            409,
            "instance_conflict",
            f"Instance {quoted(instance_id)} already exists and is "
            f"{existing.runtime_status.value}; choose another id or wait for it to end.",
        )


def _awaited_status(req: func.HttpRequest, startable: Startable) -> Any:
    raw = req.params.get("status")
    if raw is None:
        if startable.awaited_status is NO_DEFAULT:
            raise ApiError(
                400,
                "missing_status",
                f"{startable.name} has no default status to wait for; "
                "pass the custom status as ?status=<JSON or text>.",
            )
        return startable.awaited_status
    try:
        return parse_json_text(raw)
    except ValueError:
        return raw


def _timeout(req: func.HttpRequest) -> float:
    raw = req.params.get("timeout")
    if raw is None:
        return DEFAULT_TIMEOUT_SECONDS
    try:
        timeout = float(raw)
    except ValueError:
        timeout = math.nan
    if not math.isfinite(timeout) or timeout < 0:
        raise ApiError(
            400, "invalid_timeout", f"timeout must be a number of seconds >= 0; got {quoted(raw)}."
        )
    return min(timeout, MAX_TIMEOUT_SECONDS)


@blueprint.function_name(name="StartOrchestration")
@blueprint.route(route="orchestrators/{functionName}", methods=["POST"])
@blueprint.durable_client_input(client_name="client")
@http_errors
async def start_orchestration(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    """Start the named orchestrator with the body as input; 202 with our own links."""
    instance_id = await _start(req, client)
    return accepted(req, instance_id)


@blueprint.function_name(name="StartAndWaitForStatus")
@blueprint.route(route="orchestrators/{functionName}/wait-for-status", methods=["POST"])
@blueprint.durable_client_input(client_name="client")
@http_errors
async def start_and_wait_for_status(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    """Start, then answer once the custom status matches, the instance ends, or time runs out."""
    expected = _awaited_status(req, _startable(req))
    timeout = _timeout(req)
    instance_id = await _start(req, client)
    try:
        result = await wait_for_custom_status(client, instance_id, expected, timeout=timeout)
    except CustomStatusError as error:  # an offloaded status that cannot be read: 502, 503
        return status_error_response(error, instance_id)
    if result.outcome is Outcome.TIMED_OUT or result.status is None:
        return accepted(req, instance_id)
    return json_response(result.status)
