"""``GET /api/status/{instanceId}[?resolve=false]``: an instance's status in the built-in shape.

Ours rather than only the built-in endpoint because it renders through ``status_view``: a custom
status offloaded to Blob storage (over the host's 16 KB limit) is downloaded, checked and shown
as the value the orchestrator set, and a falsy status (stored in an envelope) as that value.

``?resolve=false`` skips the download: an offloaded ``customStatus`` is the reference itself
plus a read-only SAS URL of the blob (valid ``SAS_TTL``, at most 15 minutes), for clients that
fetch a multi-megabyte status straight from storage::

    {"$customStatusRef": {"container": ..., "blob": ..., "size": ..., "utf16Size": ...,
                          "sha256": ..., "contentType": "application/json", "summary": ...,
                          "url": "https://...?se=...&sp=r&sig=...",
                          "urlExpiresOn": "2026-11-22T10:10:00Z"}}

Inline statuses look the same either way. While the instance runs, ``Retry-After: 1`` says how
soon to poll again. 200 with the status; 400 bad id or ``resolve``; 404
unknown instance; 502 offloaded status missing, altered or malformed; 503 storage unreachable.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import azure.durable_functions as df
import azure.functions as func
from azure.durable_functions.models.DurableOrchestrationStatus import DurableOrchestrationStatus

from custom_status import REF_KEY, StatusReference, StorageNotConfigured, unwrap
from custom_status.blobs import sas_url

from .blueprint import blueprint
from .http import ApiError, http_errors, json_response, quoted
from .instance_ids import validate_instance_id
from .status_view import (
    STORAGE_NOT_CONFIGURED,
    format_time,
    has_ended,
    instance_exists,
    instance_not_found,
    resolve_custom_status_data,
    resolve_read_status,
    status_reference,
    status_to_json,
)

RETRY_AFTER_SECONDS = 1
"""Sent while the instance runs: how soon a poller may ask again (the page honours it)."""

SAS_TTL = timedelta(minutes=10)
"""How long the ``?resolve=false`` URL works; the blob may be deleted sooner (two newer statuses,
or a purge), after which storage answers 404."""

_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})


def _bool_param(req: func.HttpRequest, name: str, default: bool) -> bool:
    raw = req.params.get(name)
    if raw is None:
        return default
    if raw.strip().lower() in _TRUE:
        return True
    if raw.strip().lower() in _FALSE:
        return False
    message = f"{name} must be true or false; got {quoted(raw)}."
    raise ApiError(400, f"invalid_{name.lower()}", message)


async def reference_with_url(
    ref: StatusReference, *, now: datetime | None = None, ttl: timedelta = SAS_TTL
) -> dict[str, Any]:
    """The reference as the host stores it, plus a read-only SAS URL valid ``ttl`` from ``now``."""
    start = now if now is not None else datetime.now(timezone.utc)
    try:
        url = await sas_url(ref, ttl, now=start)
    except StorageNotConfigured as error:
        raise ApiError(
            500,
            STORAGE_NOT_CONFIGURED,
            f"A read-only URL of the status blob cannot be signed: {error}.",
        ) from None
    body = ref.to_status()
    body[REF_KEY] = {**body[REF_KEY], "url": url, "urlExpiresOn": format_time(start + ttl)}
    return body


@blueprint.function_name(name="GetInstanceStatus")
@blueprint.route(route="status/{instanceId}", methods=["GET"])
@blueprint.durable_client_input(client_name="client")
@http_errors
async def get_instance_status(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    """Answer the instance's status (its resolved custom status; its input only when asked for
    with ``?showInput=true``: an input such as ReserveTicket's user id is not echoed by
    default), or 404."""
    instance_id = validate_instance_id(req.route_params.get("instanceId"))
    resolve = _bool_param(req, "resolve", True)
    show_input = _bool_param(req, "showInput", False)
    status = await client.get_status(instance_id, show_input=show_input)
    if not instance_exists(status):
        raise instance_not_found(instance_id)
    # The tag is computed before anything is downloaded: an offloaded status's reference holds
    # its content's SHA-256, so the unresolved status already names the whole representation.
    # (A resolve=false answer carries a fresh SAS URL each time, so it is never 304.)
    etag = representation_tag(status, resolve=resolve, show_input=show_input)
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if not has_ended(status):
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    if resolve and etag_matches(req.headers.get("If-None-Match"), etag):
        return func.HttpResponse(status_code=304, headers=headers)
    raw_members: dict[str, bytes] = {}
    if resolve:
        status = await resolve_read_status(client, status, show_input=show_input, raw=True)
        if status is None:
            raise instance_not_found(instance_id)
        offloaded = await resolve_custom_status_data(status)
        if offloaded is None:
            body = await status_to_json(status)
        else:
            # Passed on as stored: parsing and re-serialising a 1 MB status would cost more
            # than everything else this route does.
            body = await status_to_json(status, custom_status=None)
            raw_members["customStatus"] = offloaded
    else:
        ref = status_reference(status)
        shown = unwrap(status.custom_status) if ref is None else await reference_with_url(ref)
        body = await status_to_json(status, custom_status=shown)
    if not show_input:
        # The SDK never sends showInput=false (it adds only truthy options to the URL), so the
        # host answers with the input all the same: drop it here.
        body["input"] = None
    if not resolve:
        headers.pop("ETag")  # a fresh SAS URL each time: never the same representation
    return json_response(body, headers=headers, raw_members=raw_members or None)


def representation_tag(
    status: DurableOrchestrationStatus, *, resolve: bool, show_input: bool
) -> str:
    """A strong ETag for what this route answers about ``status``."""
    seen = {
        "name": status.name,
        "runtimeStatus": status.runtime_status.value if status.runtime_status else None,
        "input": status.input_ if show_input else None,
        "customStatus": status.custom_status,
        "output": status.output,
        "createdTime": format_time(status.created_time),
        "lastUpdatedTime": format_time(status.last_updated_time),
        "resolve": resolve,
    }
    text = json.dumps(seen, sort_keys=True, separators=(",", ":"), default=str)
    return '"' + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32] + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """``If-None-Match`` holds ``etag`` (in a list, weak or not) or ``*``."""
    if not if_none_match:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags
