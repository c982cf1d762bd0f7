"""The client side: an instance's status with its custom status resolved.

What the host stores is not always what the orchestrator set (``orchestrator.py``):

* ``{"$customStatusValue": v}`` (a falsy value, which the SDK would not send) is unwrapped to
  ``v`` without I/O;
* ``{"$customStatusRef": {...}}`` (a status over the host's 16 KB limit) is downloaded from Blob
  storage, its size and SHA-256 checked, and the value returned;
* ``{"$customStatusLog": {...}}`` (an append-style status) becomes its summary with every row
  appended so far under its rows key, the log's hash chain checked;
* anything else is the value itself.

``get_status`` is the public entry; ``read_status`` is what the status route builds on (it
passes an offloaded status's JSON on as stored instead of parsing it).

A blob can go missing legitimately: the upload activity deletes a blob once two newer statuses
superseded it, so a reader that got the reference just before that reads the status once more
before raising ``StatusBlobMissing``.

Offloaded content is cached in the process by its content key (a blob's SHA-256, a log's last
chain hash), so polling an unchanged offloaded status downloads nothing (``CONTENT_CACHE``).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import azure.durable_functions as df
from azure.durable_functions import OrchestrationRuntimeStatus
from azure.durable_functions.models.DurableOrchestrationStatus import DurableOrchestrationStatus

from custom_status.blobs import read_status_data
from custom_status.errors import StatusBlobCorrupt, StatusBlobMissing, first_line
from custom_status.log_reference import LogReference, resolved_log_json
from custom_status.reference import StatusReference, unwrap
from custom_status.status_log import read_log_rows

ENDED = frozenset(
    {
        OrchestrationRuntimeStatus.Completed,
        OrchestrationRuntimeStatus.Failed,
        OrchestrationRuntimeStatus.Terminated,
        OrchestrationRuntimeStatus.Canceled,
    }
)
"""Runtime statuses after which an instance never runs again."""


class ContentCache:
    """Offloaded statuses' UTF-8 JSON by content key, for every read in this process.

    A status blob's content is fixed by its SHA-256 (the reference carries it, and every read is
    checked against it), and a log's first ``size`` bytes by its chain hash, so an entry never
    goes stale: a poll of an unchanged offloaded status costs no download. The bytes are kept,
    not the parsed value: their length is the exact bound (Python objects take several times
    their JSON's bytes), and the status route passes them on without re-serialising. Least
    recently used first out."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0
        self.hits = 0

    def get(self, key: str) -> bytes | None:
        data = self._entries.get(key)
        if data is None:
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return data

    def put(self, key: str, data: bytes) -> None:
        """Keep ``data``; content larger than the whole cache is not kept."""
        if len(data) > self.max_bytes or key in self._entries:
            return
        self._entries[key] = data
        self._bytes += len(data)
        while self._bytes > self.max_bytes:
            _, dropped = self._entries.popitem(last=False)
            self._bytes -= len(dropped)


CONTENT_CACHE = ContentCache(max_bytes=32 * 1024 * 1024)
"""The process's cache: 32 MiB of UTF-8 JSON, 32 statuses of the 1 MB kind."""


def instance_exists(status: DurableOrchestrationStatus | None) -> bool:
    """Whether ``client.get_status`` found the instance.

    For an unknown id the SDK returns a status object whose fields are all None (the host answers
    404 with an empty body), not None, so the runtime status is what tells.
    """
    return status is not None and status.runtime_status is not None


def has_ended(status: DurableOrchestrationStatus) -> bool:
    """Whether the instance is Completed, Failed, Terminated or Canceled."""
    return status.runtime_status in ENDED


def offloaded_reference(custom_status: Any) -> StatusReference | LogReference | None:
    """The reference a custom status carries (whole or append-style), None for an inline one.

    Raises ``InvalidStatusReference`` when a marker key is there but the fields are not."""
    return StatusReference.from_status(custom_status) or LogReference.from_status(custom_status)


def _content_key(ref: StatusReference | LogReference) -> str:
    return ref.sha256 if isinstance(ref, StatusReference) else "log:" + ref.chain


async def offloaded_json(ref: StatusReference | LogReference) -> bytes:
    """The UTF-8 JSON a reference resolves to: from the process cache, or downloaded and checked.

    Raises ``StatusBlobMissing``, ``StatusBlobCorrupt``, ``StorageUnavailable``,
    ``StorageRefused`` or ``StorageNotConfigured``."""
    key = _content_key(ref)
    data = CONTENT_CACHE.get(key)
    if data is None:
        if isinstance(ref, LogReference):
            data = await read_log_rows(ref)
        else:
            data = await read_status_data(ref)
        CONTENT_CACHE.put(key, data)
    if isinstance(ref, LogReference):
        # The summary around the rows; only the rows are cached (the chain does not cover it).
        data = resolved_log_json(ref, data)
    return data


async def resolve_custom_status(custom_status: Any) -> Any:
    """The value the orchestrator set, from a custom status as the host returns it."""
    ref = offloaded_reference(custom_status)
    if ref is None:
        return unwrap(custom_status)
    data = await offloaded_json(ref)
    try:
        return json.loads(data)
    except ValueError:
        raise StatusBlobCorrupt(ref.container, ref.blob, "its content is not JSON") from None


@dataclass(frozen=True)
class ResolvedStatus:
    """A status as ``client.get_status`` read it, with its custom status resolved.

    ``offloaded`` is the UTF-8 JSON of an offloaded custom status as stored (None for an inline
    one): the status route passes it on without parsing it."""

    status: DurableOrchestrationStatus
    offloaded: bytes | None

    def custom_status(self) -> Any:
        if self.offloaded is None:
            return unwrap(self.status.custom_status)
        return json.loads(self.offloaded)  # checked against its reference when read


async def read_status(
    client: df.DurableOrchestrationClient,
    status: DurableOrchestrationStatus,
    *,
    show_input: bool = False,
) -> ResolvedStatus | None:
    """Resolve a status already read with ``client.get_status`` (which found the instance).

    If its blob is missing, the status is read once more: the orchestrator may have moved on
    twice since, and the upload activity deleted the superseded blob. Only if the fresh status
    still points at the same missing blob is ``StatusBlobMissing`` raised. None if the instance
    was purged meanwhile."""
    try:
        return await _resolved(status)
    except StatusBlobMissing as error:
        missing = error
    status = await client.get_status(status.instance_id, show_input=show_input)
    if not instance_exists(status):
        return None  # purged meanwhile
    ref = offloaded_reference(status.custom_status)
    if ref is not None and (ref.container, ref.blob) == (missing.container, missing.blob):
        raise missing  # the same blob: really gone, not superseded
    return await _resolved(status)


async def _resolved(status: DurableOrchestrationStatus) -> ResolvedStatus:
    ref = offloaded_reference(status.custom_status)
    if ref is None:
        return ResolvedStatus(status, None)
    data = await offloaded_json(ref)
    if isinstance(ref, StatusReference):
        try:  # the hash says these are the bytes the activity wrote; are they JSON at all?
            json.loads(data)
        except ValueError:
            raise StatusBlobCorrupt(ref.container, ref.blob, "its content is not JSON") from None
    return ResolvedStatus(status, data)


async def get_status(
    client: df.DurableOrchestrationClient, instance_id: str, *, show_input: bool = False
) -> dict[str, Any] | None:
    """The instance's status in the built-in status API's shape, its custom status resolved;
    None for an unknown instance.

    ``{"name", "instanceId", "runtimeStatus", "input", "customStatus", "output", "createdTime",
    "lastUpdatedTime"}``: ``input`` only with ``show_input`` (None otherwise), and a failed
    instance's ``output`` is its first line (on Azure the rest is the worker's stack trace).
    Raises ``StatusBlobMissing``, ``StatusBlobCorrupt``, ``InvalidStatusReference``,
    ``StorageUnavailable``, ``StorageRefused`` or ``StorageNotConfigured`` when an offloaded
    status cannot be read."""
    status = await client.get_status(instance_id, show_input=show_input)
    if not instance_exists(status):
        return None
    resolved = await read_status(client, status, show_input=show_input)
    if resolved is None:
        return None
    body = status_json(resolved.status, resolved.custom_status())
    if not show_input:
        body["input"] = None
    return body


def format_time(moment: datetime | None) -> str | None:
    """``2019-10-06T18:30:24Z``, as the built-in status API formats times (naive means UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def status_json(status: DurableOrchestrationStatus, custom_status: Any) -> dict[str, Any]:
    """The status in the built-in HTTP API's shape (every key present, null when unknown), with
    ``custom_status`` as its ``customStatus``."""
    runtime_status = status.runtime_status
    return {
        "name": status.name,
        "instanceId": status.instance_id,
        "runtimeStatus": runtime_status.value if runtime_status is not None else None,
        "input": status.input_,
        "customStatus": custom_status,
        "output": public_output(status),
        "createdTime": format_time(status.created_time),
        "lastUpdatedTime": format_time(status.last_updated_time),
    }


def public_output(status: DurableOrchestrationStatus) -> Any:
    """A failed instance's output without what follows its first line (``first_line``)."""
    output = status.output
    failed = status.runtime_status is OrchestrationRuntimeStatus.Failed
    return first_line(output) if failed and isinstance(output, str) else output
