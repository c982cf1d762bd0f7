"""``status_response``: an HTTP status route over ``get_status``, cheap to poll.

An app's route becomes::

    @app.route(route="status/{instanceId}", methods=["GET"])
    @app.durable_client_input(client_name="client")
    async def status(req: func.HttpRequest, client: df.DurableOrchestrationClient):
        return await custom_status.status_response(req, client, req.route_params["instanceId"])

What it answers (the shape of the built-in status API, the custom status resolved):

* ``200`` with the status; ``input`` only with ``?showInput=true``;
* an ``ETag`` computed from the unresolved status, before anything is downloaded (an offloaded
  status's reference holds its content's SHA-256, so it already names the whole answer), and
  ``304 Not Modified`` with no body and no download to an ``If-None-Match`` that holds it;
* ``Retry-After: 1`` while the instance runs: how soon a poller may ask again;
* ``?resolve=false``: an offloaded status as its reference plus a read-only SAS URL of the blob
  (valid ``SAS_TTL``) for clients that fetch a multi-megabyte status straight from storage;
  never 304, since each answer carries a fresh URL;
* JSON errors ``{"error": <code>, "message": <text>}`` (codes in ``wire.py``), never a stack
  trace: 400 a bad ``showInput``/``resolve``; 404 unknown instance; 502 offloaded status missing,
  altered, malformed or refused by storage; 503 storage unreachable (try again); 500 storage not
  configured. Any other exception (the durable client failing) propagates to the app.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import azure.durable_functions as df
import azure.functions as func
from azure.durable_functions.models.DurableOrchestrationStatus import DurableOrchestrationStatus

from custom_status import wire
from custom_status.errors import (
    CustomStatusError,
    InvalidStatusReference,
    StatusBlobCorrupt,
    StatusBlobMissing,
    StorageNotConfigured,
    StorageRefused,
    StorageUnavailable,
)
from custom_status.reader import (
    format_time,
    has_ended,
    instance_exists,
    read_status,
    status_json,
)
from custom_status.reference import StatusReference, unwrap
from custom_status.sas import sas_url

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 1
"""Sent while the instance runs: how soon a poller may ask again."""
SAS_TTL = timedelta(minutes=10)
"""How long the ``?resolve=false`` URL works; the blob may be deleted sooner (two newer statuses,
or a purge), after which storage answers 404."""
JSON = "application/json"

_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})


class _Refused(Exception):
    """An answer other than the status: ``(status code, error code, message)``."""

    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status_code, self.code, self.message = status_code, code, message


def quoted(text: str | None, limit: int = 300) -> str:
    """``text`` as a JSON string for a message: unambiguous and bounded (it is untrusted)."""
    if text is None:
        return "(none)"
    return json.dumps(text if len(text) <= limit else text[:limit] + "...")


def error_response(status_code: int, code: str, message: str) -> func.HttpResponse:
    """``{"error": code, "message": message}`` as JSON."""
    body = json.dumps({"error": code, "message": message}).encode("utf-8")
    return func.HttpResponse(
        body, status_code=status_code, headers={"Content-Type": JSON}, mimetype=JSON
    )


def _bool_param(req: func.HttpRequest, name: str, default: bool) -> bool:
    raw = req.params.get(name)
    if raw is None:
        return default
    if raw.strip().lower() in _TRUE:
        return True
    if raw.strip().lower() in _FALSE:
        return False
    message = f"{name} must be true or false; got {quoted(raw)}."
    raise _Refused(400, f"invalid_{name.lower()}", message)


async def status_response(
    req: func.HttpRequest, client: df.DurableOrchestrationClient, instance_id: str
) -> func.HttpResponse:
    """Answer ``GET .../status/{instance_id}`` (see the module doc). ``instance_id`` is the route
    parameter, checked by the caller as its routes check ids."""
    try:
        return await _answer(req, client, instance_id)
    except _Refused as refused:
        return error_response(refused.status_code, refused.code, refused.message)
    except CustomStatusError as error:
        return status_error_response(error, instance_id)


def status_error_response(error: CustomStatusError, instance_id: str) -> func.HttpResponse:
    """The JSON error answer for a package error met reading ``instance_id``'s status (for routes
    of an app's own that call ``get_status``): 502, 503 or 500 as the module doc says."""
    return error_response(*error_answer(error, instance_id))


async def _answer(
    req: func.HttpRequest, client: df.DurableOrchestrationClient, instance_id: str
) -> func.HttpResponse:
    resolve = _bool_param(req, wire.RESOLVE_PARAM, True)
    show_input = _bool_param(req, wire.SHOW_INPUT_PARAM, False)
    status = await client.get_status(instance_id, show_input=show_input)
    if not instance_exists(status):
        raise _not_found(instance_id)
    etag = representation_tag(status, resolve=resolve, show_input=show_input)
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if not has_ended(status):
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    if not resolve:
        headers.pop("ETag")  # a fresh SAS URL each time: never the same representation
        ref = StatusReference.from_status(status.custom_status)
        shown = unwrap(status.custom_status) if ref is None else await reference_with_url(ref)
        return _json(_without_input(status_json(status, shown), show_input), headers)
    if etag_matches(req.headers.get("If-None-Match"), etag):
        return func.HttpResponse(status_code=304, headers=headers)
    resolved = await read_status(client, status, show_input=show_input)
    if resolved is None:
        raise _not_found(instance_id)  # purged meanwhile
    if resolved.offloaded is None:
        body = status_json(resolved.status, unwrap(resolved.status.custom_status))
        return _json(_without_input(body, show_input), headers)
    # Passed on as stored: parsing and re-serialising a 1 MB status would cost more than
    # everything else this route does.
    body = _without_input(status_json(resolved.status, None), show_input)
    return _json(body, headers, raw={"customStatus": resolved.offloaded})


def _not_found(instance_id: str) -> _Refused:
    return _Refused(404, wire.INSTANCE_NOT_FOUND, f"No instance with id {quoted(instance_id)}.")


def _without_input(body: dict[str, Any], show_input: bool) -> dict[str, Any]:
    # The SDK never sends showInput=false (it adds only truthy options to the URL), so the host
    # answers with the input all the same: drop it here.
    if not show_input:
        body["input"] = None
    return body


def _json(
    body: dict[str, Any], headers: dict[str, str], raw: dict[str, bytes] | None = None
) -> func.HttpResponse:
    """``body`` as JSON; ``raw`` replaces members with UTF-8 JSON given as is (already
    serialised, and known to be JSON: an offloaded status checked against its reference)."""
    raw = raw or {}
    members = (
        json.dumps(key).encode() + b": " + (raw[key] if key in raw else json.dumps(value).encode())
        for key, value in body.items()
    )
    data = b"{" + b", ".join(members) + b"}"
    return func.HttpResponse(
        data, status_code=200, headers={"Content-Type": JSON, **headers}, mimetype=JSON
    )


def error_answer(error: CustomStatusError, instance_id: str | None) -> tuple[int, str, str]:
    """``(status code, error code, message)`` for a package error met reading a status."""
    subject = f"The custom status of instance {quoted(instance_id)}"
    if isinstance(error, StatusBlobMissing):
        where = f"{error.container}/{error.blob}"
        return (
            502,
            wire.STATUS_BLOB_MISSING,
            f"{subject} is offloaded to blob {where}, which does not exist (deleted outside this "
            "app, or the instance is being purged).",
        )
    if isinstance(error, StatusBlobCorrupt):
        where = f"{error.container}/{error.blob}"
        log.error("Offloaded status of %s (%s) does not match: %s", instance_id, where, error)
        return (
            502,
            wire.STATUS_BLOB_CORRUPT,
            f"{subject} cannot be trusted: blob {where} does not match its reference "
            f"({error.reason}).",
        )
    if isinstance(error, InvalidStatusReference):
        log.warning("Instance %s has a malformed reference: %s", instance_id, error)
        return (
            502,
            wire.INVALID_STATUS_REFERENCE,
            f"{subject} is a malformed reference to an offloaded status: {error}.",
        )
    if isinstance(error, StorageUnavailable):
        log.warning("Offloaded status of %s not readable: %s", instance_id, error)
        return (
            503,
            wire.STORAGE_UNAVAILABLE,
            f"Blob storage is unavailable, so the offloaded custom status of instance "
            f"{quoted(instance_id)} cannot be read right now; try again later.",
        )
    if isinstance(error, StorageRefused):
        log.error("Offloaded status of %s: %s", instance_id, error)
        return (
            502,
            wire.STORAGE_ERROR,
            f"Blob storage refused to return the offloaded custom status of instance "
            f"{quoted(instance_id)} (status {error.status_code}).",
        )
    if isinstance(error, StorageNotConfigured):
        return (
            500,
            wire.STORAGE_NOT_CONFIGURED,
            f"{subject} is offloaded to Blob storage, but this app cannot reach it: {error}.",
        )
    return 500, "custom_status_error", f"{subject} cannot be read: {error}."


async def reference_with_url(
    ref: StatusReference, *, now: datetime | None = None, ttl: timedelta = SAS_TTL
) -> dict[str, Any]:
    """The reference as the host stores it, plus a read-only SAS URL valid ``ttl`` from ``now``."""
    start = now if now is not None else datetime.now(UTC)
    try:
        url = await sas_url(ref, ttl, now=start)
    except StorageNotConfigured as error:
        raise _Refused(
            500,
            wire.STORAGE_NOT_CONFIGURED,
            f"A read-only URL of the status blob cannot be signed: {error}.",
        ) from None
    body = ref.to_status()
    body[wire.REF_KEY] = {
        **body[wire.REF_KEY],
        "url": url,
        "urlExpiresOn": format_time(start + ttl),
    }
    return body


def representation_tag(
    status: DurableOrchestrationStatus, *, resolve: bool, show_input: bool
) -> str:
    """A strong ETag for what the route answers about ``status``."""
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
