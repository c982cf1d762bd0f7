"""What a client page needs beside starting and following one instance.

``GET /api/orchestrators``
    The orchestrators this app starts, each with a line on its input and an example:
    ``[{"name", "inputHelp", "exampleInput"}]``.
``GET /api/instances[?top=20]``
    The newest instances of the last ``RECENT_DAYS`` days, newest first: ``[{"instanceId",
    "name", "runtimeStatus", "createdTime", "lastUpdatedTime"}]`` (no inputs, outputs or
    statuses: those can be large or private). 400 for a ``top`` outside 1-100.
``POST /api/instances/{instanceId}/terminate[?reason=]``
    202 ``{"instanceId", "runtimeStatus": "Terminated"}`` once asked; 400 bad id; 404 unknown;
    410 the instance has already ended.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from .blueprint import blueprint
from .http import ApiError, http_errors, json_response, quoted, whole_number
from .instance_ids import has_control_characters, validate_instance_id
from .registry import STARTABLE
from .status_view import format_time, has_ended, instance_exists, instance_not_found

RECENT_DAYS = 7
HOST_PAGE_SIZE = 100
"""What one query returns at most: the extension's page (the SDK reads no further)."""
INITIAL_WINDOW = timedelta(minutes=10)
MIN_WINDOW = timedelta(milliseconds=1)
"""The finest bound tried (the SDK sends createdTimeFrom with microseconds)."""
MAX_QUERIES = 40
DEFAULT_TOP = 20
MAX_TOP = 100
MAX_REASON_LENGTH = 500


@blueprint.function_name(name="ListOrchestrators")
@blueprint.route(route="orchestrators", methods=["GET"])
@http_errors
async def list_orchestrators(req: func.HttpRequest) -> func.HttpResponse:
    """The startable orchestrators, in the order the page offers them."""
    return json_response(
        [
            {"name": s.name, "inputHelp": s.input_help, "exampleInput": s.example_input}
            for s in STARTABLE
        ]
    )


def _top(req: func.HttpRequest) -> int:
    raw = req.params.get("top")
    if raw is None:
        return DEFAULT_TOP
    top = whole_number(raw, 1, MAX_TOP)
    if top is None:
        raise ApiError(400, "invalid_top", f"top must be a whole number from 1 to {MAX_TOP}.")
    return top


def _summary(status: Any) -> dict[str, Any]:
    return {
        "instanceId": status.instance_id,
        "name": status.name,
        "runtimeStatus": status.runtime_status.value if status.runtime_status else None,
        "createdTime": format_time(status.created_time),
        "lastUpdatedTime": format_time(status.last_updated_time),
    }


async def newest_instances(
    client: df.DurableOrchestrationClient, top: int, now: datetime
) -> list[Any]:
    """The ``top`` newest instances of the last ``RECENT_DAYS`` days, newest first.

    A query answers only the host's first page (the extension's 100, ordered by instance id, not
    by time), so one query over the whole period would miss the newest instances once it holds
    more than 100. Only a page that is not full is the whole answer, so this looks for the
    earliest ``createdTimeFrom`` (open-ended, as the host's clock may be ahead of ours) whose
    answer is not full: wider while there are fewer than ``top``, bisected once it overflows."""
    oldest = now - timedelta(days=RECENT_DAYS)
    since = max(now - INITIAL_WINDOW, oldest)
    overflowing: datetime | None = None  # a bound whose page was full
    complete: tuple[datetime, list[Any]] | None = None  # the widest bound seen whole
    for _ in range(MAX_QUERIES):
        page = await client.get_status_by(created_time_from=since)
        if len(page) < HOST_PAGE_SIZE:
            complete = (since, page)
            if len(page) >= top or since <= oldest:
                break
            if overflowing is None:  # too few, and nothing older overflowed yet: look further back
                since = max(oldest, now - (now - since) * 4)
                continue
            narrower = since
        else:
            overflowing = since
            newest_seen = max((s.created_time for s in page if s.created_time), default=since)
            # createdTime comes in whole seconds; the instance may be up to a second newer.
            narrower = complete[0] if complete else newest_seen + timedelta(seconds=1)
        if narrower - overflowing <= MIN_WINDOW:
            break
        since = overflowing + (narrower - overflowing) / 2
    found = _newest_first(complete[1] if complete else page)
    if len(found) < top and complete is not None and overflowing is not None:
        # More than a page was created within MIN_WINDOW: fill up from the last full page, which
        # holds instances at least that new but is not ordered by time (the only approximation).
        seen = {s.instance_id for s in found}
        overflow = await client.get_status_by(created_time_from=overflowing)
        found += [s for s in _newest_first(overflow) if s.instance_id not in seen]
    return found[:top]


def _newest_first(statuses: list[Any]) -> list[Any]:
    return sorted(
        (s for s in statuses if s.created_time is not None),
        key=lambda s: (s.created_time, s.instance_id),
        reverse=True,
    )


@blueprint.function_name(name="ListRecentInstances")
@blueprint.route(route="instances", methods=["GET"])
@blueprint.durable_client_input(client_name="client")
@http_errors
async def list_recent_instances(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    """The newest instances first."""
    instances = await newest_instances(client, _top(req), datetime.now(UTC))
    return json_response([_summary(s) for s in instances])


@blueprint.function_name(name="TerminateInstance")
@blueprint.route(route="instances/{instanceId}/terminate", methods=["POST"])
@blueprint.durable_client_input(client_name="client")
@http_errors
async def terminate_instance(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    """Terminate a Pending, Running or Suspended instance."""
    instance_id = validate_instance_id(req.route_params.get("instanceId"))
    reason = req.params.get("reason") or "Terminated from the client page."
    if len(reason) > MAX_REASON_LENGTH or has_control_characters(reason):
        raise ApiError(
            400,
            "invalid_reason",
            f"reason must be at most {MAX_REASON_LENGTH} characters without control characters.",
        )
    status = await client.get_status(instance_id)
    if not instance_exists(status):
        raise instance_not_found(instance_id)
    if has_ended(status):
        raise ApiError(
            410,
            "instance_gone",
            f"Instance {quoted(instance_id)} has already ended ({status.runtime_status.value}).",
        )
    await client.terminate(instance_id, reason)
    return json_response({"instanceId": instance_id, "runtimeStatus": "Terminated"}, 202)
