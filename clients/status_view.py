"""Reading instance statuses: the one place that turns an SDK status into what callers see.

Every client reads the custom status through :func:`resolve_custom_status` (or reads the whole
status with :func:`read_resolved_status`) and renders statuses with :func:`status_to_json`.

What the host stores is not always what the orchestrator set (``orchestrators/status.py``):

* ``{"$customStatusValue": v}`` (a falsy value, which the SDK would not send) is unwrapped to
  ``v`` without I/O;
* ``{"$customStatusRef": {...}}`` (a status over the host's 16 KB limit) is downloaded from Blob
  storage, its size and SHA-256 checked, and the value returned;
* anything else is the value itself.

Failures become :class:`ApiError` answers with a JSON body, never a traceback: 502 when the blob
is missing, does not match its reference or the reference is malformed (the app's storage holds
something other than it promised), 503 when storage cannot be reached, 500 when storage is not
configured. A blob can also go missing legitimately: the upload activity deletes a blob once two
newer statuses superseded it, so a reader that got the reference just before that re-reads the
status once (:func:`read_resolved_status`) before answering 502.
"""

from __future__ import annotations

import json
import logging
import weakref
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, TypeVar

import azure.durable_functions as df
from azure.core.exceptions import AzureError
from azure.durable_functions import OrchestrationRuntimeStatus
from azure.durable_functions.models.DurableOrchestrationStatus import DurableOrchestrationStatus

from custom_status import (
    InvalidStatusReference,
    StatusBlobCorrupt,
    StatusBlobMissing,
    StatusReference,
    StorageNotConfigured,
    StorageUnavailable,
    unwrap,
)
from custom_status.blobs import read_status_data
from custom_status.status_log import LogReference, read_log_rows, resolved_log_json

from .http import ApiError, quoted

log = logging.getLogger(__name__)

ENDED = frozenset(
    {
        OrchestrationRuntimeStatus.Completed,
        OrchestrationRuntimeStatus.Failed,
        OrchestrationRuntimeStatus.Terminated,
        OrchestrationRuntimeStatus.Canceled,
    }
)
"""Runtime statuses after which an instance never runs again (events to it are refused)."""

STATUS_BLOB_MISSING = "status_blob_missing"
STATUS_BLOB_CORRUPT = "status_blob_corrupt"
INVALID_STATUS_REFERENCE = "invalid_status_reference"
STORAGE_UNAVAILABLE = "storage_unavailable"
STORAGE_ERROR = "storage_error"
STORAGE_NOT_CONFIGURED = "storage_not_configured"

_Ref = TypeVar("_Ref", StatusReference, LogReference)

BlobCache = dict[str, Any]
"""Resolved values by blob SHA-256, for callers that read the same reference repeatedly."""


class ContentCache:
    """Offloaded statuses' UTF-8 JSON by the blob's SHA-256, for every request of this process.

    A status blob's content is fixed by that hash (its reference carries it, and every read is
    checked against it), so an entry never goes stale: a poll of an unchanged offloaded status
    costs no download. The bytes are kept, not the parsed value: their length is the exact bound
    (Python objects take several times their JSON's bytes), and the status route passes them on
    without re-serialising. Least recently used first out."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0
        self.hits = 0

    def get(self, sha256: str) -> bytes | None:
        data = self._entries.get(sha256)
        if data is None:
            return None
        self._entries.move_to_end(sha256)
        self.hits += 1
        return data

    def put(self, sha256: str, data: bytes) -> None:
        """Keep ``data``; content larger than the whole cache is not kept."""
        if len(data) > self.max_bytes or sha256 in self._entries:
            return
        self._entries[sha256] = data
        self._bytes += len(data)
        while self._bytes > self.max_bytes:
            _, dropped = self._entries.popitem(last=False)
            self._bytes -= len(dropped)


RESOLVED_DATA = ContentCache(max_bytes=32 * 1024 * 1024)
"""The process's cache: 32 MiB of UTF-8 JSON, 32 statuses of the 1 MB kind."""

# Each status object is resolved once: status_to_json after read_resolved_status (or after a
# poll) reuses the value instead of downloading the blob again.
_resolved: weakref.WeakKeyDictionary[DurableOrchestrationStatus, Any] = weakref.WeakKeyDictionary()
_resolved_data: weakref.WeakKeyDictionary[DurableOrchestrationStatus, bytes] = (
    weakref.WeakKeyDictionary()
)


def instance_exists(status: DurableOrchestrationStatus | None) -> bool:
    """Whether ``get_status`` found the instance.

    For an unknown id the SDK returns a status object whose fields are all None (the host answers
    404 with an empty body), not None, so the runtime status is what tells.
    """
    return status is not None and status.runtime_status is not None


def instance_not_found(instance_id: str) -> ApiError:
    """The 404 every route answers for an id ``get_status`` did not find."""
    return ApiError(404, "instance_not_found", f"No instance with id {quoted(instance_id)}.")


def has_ended(status: DurableOrchestrationStatus) -> bool:
    """Whether the instance is Completed, Failed, Terminated or Canceled."""
    return status.runtime_status in ENDED


def status_reference(status: DurableOrchestrationStatus) -> StatusReference | None:
    """The reference of an offloaded custom status, None for an inline one; 502 if malformed."""
    return _parse_reference(status, StatusReference.from_status, "an offloaded status")


def log_reference(status: DurableOrchestrationStatus) -> LogReference | None:
    """The append-log reference of a status (``custom_status.status_log``); 502 if malformed."""
    return _parse_reference(status, LogReference.from_status, "an append-style status")


def _parse_reference(
    status: DurableOrchestrationStatus, parse: Callable[[Any], _Ref | None], what: str
) -> _Ref | None:
    try:
        return parse(status.custom_status)
    except InvalidStatusReference as error:
        log.warning("Instance %s has a malformed reference: %s", status.instance_id, error)
        raise ApiError(
            502,
            INVALID_STATUS_REFERENCE,
            f"The custom status of instance {quoted(status.instance_id)} is a malformed "
            f"reference to {what}: {error}.",
        ) from None


def _corrupt(instance_id: str | None, ref: StatusReference | LogReference, reason: str) -> ApiError:
    where = f"{ref.container}/{ref.blob}"
    log.error(
        "Offloaded status of %s (%s) does not match its reference: %s", instance_id, where, reason
    )
    return ApiError(
        502,
        STATUS_BLOB_CORRUPT,
        f"The custom status of instance {quoted(instance_id)} cannot be trusted: blob {where} "
        f"does not match its reference ({reason}).",
    )


async def _download(instance_id: str | None, ref: StatusReference | LogReference) -> bytes:
    where = f"{ref.container}/{ref.blob}"
    try:
        if isinstance(ref, LogReference):
            return await read_log_rows(ref)
        return await read_status_data(ref)
    except StatusBlobMissing:
        raise ApiError(
            502,
            STATUS_BLOB_MISSING,
            f"The custom status of instance {quoted(instance_id)} is offloaded to blob {where}, "
            "which does not exist (deleted outside this app, or the instance is being purged).",
        ) from None
    except StatusBlobCorrupt as error:
        raise _corrupt(instance_id, ref, error.reason) from None
    except StorageUnavailable as error:
        log.warning("Offloaded status of %s not readable: %s", instance_id, error)
        raise ApiError(
            503,
            STORAGE_UNAVAILABLE,
            f"Blob storage is unavailable, so the offloaded custom status of instance "
            f"{quoted(instance_id)} cannot be read right now; try again later.",
        ) from None
    except StorageNotConfigured as error:
        raise ApiError(
            500,
            STORAGE_NOT_CONFIGURED,
            f"The custom status of instance {quoted(instance_id)} is offloaded to Blob storage, "
            f"but this app cannot reach it: {error}.",
        ) from None
    except AzureError as error:  # a 4xx other than not-found: wrong key, permissions...
        log.error("Offloaded status of %s: storage refused the read: %s", instance_id, error)
        code = getattr(error, "status_code", None)
        raise ApiError(
            502,
            STORAGE_ERROR,
            f"Blob storage refused to return the offloaded custom status of instance "
            f"{quoted(instance_id)} (status {code}).",
        ) from None


async def resolve_custom_status(
    status: DurableOrchestrationStatus, *, cache: BlobCache | None = None
) -> Any:
    """The instance's custom status as the orchestrator set it (raises ``ApiError``, see above).

    ``cache`` maps blob SHA-256s to values already read, for pollers that see the same
    reference again and again.
    """
    if status in _resolved:
        return _resolved[status]
    offloaded = _offloaded(status)
    # Only a whole status's value is named by its content key; a log's value also holds the
    # summary, which its chain hash does not cover.
    cache_key = offloaded[1] if offloaded and isinstance(offloaded[0], StatusReference) else None
    if offloaded is None:
        value = unwrap(status.custom_status)
    elif cache is not None and cache_key in cache:
        value = cache[cache_key]
    else:
        data = await _offloaded_data(status, *offloaded)
        try:
            value = json.loads(data)
        except ValueError:
            raise _corrupt(status.instance_id, offloaded[0], "its content is not JSON") from None
        if cache is not None and cache_key is not None:
            cache[cache_key] = value
    _resolved[status] = value
    return value


def _offloaded(
    status: DurableOrchestrationStatus,
) -> tuple[StatusReference | LogReference, str] | None:
    """The status's reference and the key naming its content (a blob's SHA-256, or a log's last
    chain hash), or None for an inline status; 502 if a reference is malformed."""
    ref = status_reference(status)
    if ref is not None:
        return ref, ref.sha256
    log_ref = log_reference(status)
    return (log_ref, "log:" + log_ref.chain) if log_ref is not None else None


async def resolve_custom_status_data(status: DurableOrchestrationStatus) -> bytes | None:
    """An offloaded custom status's UTF-8 JSON (None if it is not offloaded), from the process
    cache or downloaded and checked (raises ``ApiError`` as ``resolve_custom_status``)."""
    offloaded = _offloaded(status)
    return None if offloaded is None else await _offloaded_data(status, *offloaded)


async def _offloaded_data(
    status: DurableOrchestrationStatus, ref: StatusReference | LogReference, content_key: str
) -> bytes:
    if status in _resolved_data:
        return _resolved_data[status]
    data = RESOLVED_DATA.get(content_key)
    if data is None:
        data = await _download(status.instance_id, ref)
        RESOLVED_DATA.put(content_key, data)
    if isinstance(ref, LogReference):
        data = resolved_log_json(ref, data)  # the summary around the rows
    _resolved_data[status] = data
    return data


async def read_resolved_status(
    client: df.DurableOrchestrationClient,
    instance_id: str,
    *,
    show_input: bool = True,
    cache: BlobCache | None = None,
) -> DurableOrchestrationStatus | None:
    """``client.get_status`` with the custom status resolved; None for an unknown instance.

    If the blob is missing, the status is read once more: the orchestrator may have moved on
    twice since, and the upload activity deleted the superseded blob. Only if the fresh status
    still points at a missing blob does the 502 reach the caller.
    """
    status = await client.get_status(instance_id, show_input=show_input)
    if not instance_exists(status):
        return None
    return await resolve_read_status(client, status, show_input=show_input, cache=cache)


async def resolve_read_status(
    client: df.DurableOrchestrationClient,
    status: DurableOrchestrationStatus,
    *,
    show_input: bool = True,
    cache: BlobCache | None = None,
    raw: bool = False,
) -> DurableOrchestrationStatus | None:
    """Resolve a status already read with ``client.get_status`` (see ``read_resolved_status``).

    The caller has looked at the unresolved status first (for an ETag, say); a missing blob
    still earns the one fresh read. None if the instance was purged meanwhile. ``raw`` fetches
    the offloaded JSON (``resolve_custom_status_data``) without parsing it."""
    instance_id = status.instance_id

    async def resolve(status: DurableOrchestrationStatus) -> None:
        if raw:
            await resolve_custom_status_data(status)
        else:
            await resolve_custom_status(status, cache=cache)

    try:
        await resolve(status)
        return status
    except ApiError as error:
        if error.code != STATUS_BLOB_MISSING:
            raise
        missing = error
    missed = _blob_of(status)
    status = await client.get_status(instance_id, show_input=show_input)
    if not instance_exists(status):
        return None  # purged meanwhile
    if _blob_of(status) == missed:
        raise missing  # the same blob: really gone, not superseded
    await resolve(status)
    return status


def _blob_of(status: DurableOrchestrationStatus) -> tuple[str, str] | None:
    ref = status_reference(status) or log_reference(status)
    return (ref.container, ref.blob) if ref is not None else None


def format_time(moment: datetime | None) -> str | None:
    """``2019-10-06T18:30:24Z``, as the built-in status API formats times (naive means UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


_RESOLVE = object()


async def status_to_json(
    status: DurableOrchestrationStatus, *, custom_status: Any = _RESOLVE
) -> dict[str, Any]:
    """The status in the built-in HTTP API's shape (every key present, null when unknown).

    ``customStatus`` is the resolved value unless ``custom_status`` gives what to show instead.
    """
    runtime_status = status.runtime_status
    if custom_status is _RESOLVE:
        custom_status = await resolve_custom_status(status)
    return {
        "name": status.name,
        "instanceId": status.instance_id,
        "runtimeStatus": runtime_status.value if runtime_status is not None else None,
        "input": status.input_,
        "customStatus": custom_status,
        "output": _public_output(status),
        "createdTime": format_time(status.created_time),
        "lastUpdatedTime": format_time(status.last_updated_time),
    }


def _public_output(status: DurableOrchestrationStatus) -> Any:
    """A failed instance's output without what follows its first line.

    On Azure a failure that came from an activity reads "Orchestrator function 'X' failed:
    Activity function 'Y' failed: <error> \\n <details>", where the details are the serialised
    .NET exception holding the worker's Python stack trace: the first line says what failed, the
    rest is for the host's log (and the built-in API, behind the system key), not for clients."""
    output = status.output
    failed = status.runtime_status is not None and status.runtime_status.value == "Failed"
    if failed and isinstance(output, str):
        return output.strip().split("\n", 1)[0].rstrip()
    return output


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def statuses_equal(actual: Any, expected: Any) -> bool:
    """Whether two custom statuses are the same JSON value.

    Compared as canonical JSON rather than with ``==``, for which ``True == 1`` in Python;
    object key order does not matter.
    """
    return _canonical(actual) == _canonical(expected)
