"""Append-style offloaded status: a growing list of rows kept in an append blob, one segment per
append, so neither the orchestration's history nor a replay ever carries the whole list.

``set_custom_status`` with a 100,000-row table passes the whole table to the upload activity each
time it changes: the history holds every past version, and each replay re-serialises them all.
Here the orchestrator hands the activity only the *new* rows; the activity appends them to the
instance's log blob and returns a small reference, which the orchestrator sets as its status.

The blob (``status/<instance segment>/log-<log id>.ndjson``, under the instance's prefix so purge
and clean-up find it) is a sequence of segments, each one line: the compact JSON array of the rows
appended together, then ``\\n`` (JSON text never holds a raw newline, so lines are segments). The
reference (``{"$customStatusLog": {...}}``) says how many bytes and segments belong to the status
and carries a hash chain over them, ``chain_n = sha256(chain_{n-1} || segment_n)`` starting from
64 zeros: a reader checks every byte it was given without the reference naming each segment.

Why it is safe:

* **Retried appends write nothing twice.** Each append is conditional on the blob's length being
  what the reference says (``appendpos_condition``). A retry after an append that succeeded but
  whose activity did not complete finds the blob longer; it then reads that range back and, if it
  holds exactly this segment, returns the same reference as the first attempt (anything else is
  an error, never a silent double append).
* **Readers never see a torn value.** A reader downloads only the first ``size`` bytes the
  reference names; an append in progress lies beyond them. The next reference names the longer
  prefix, checked by the next chain hash.
* **Alterations are found.** A changed byte changes the chain (502 for the status route).

Azure limits to keep in mind: an append blob takes at most 50,000 appends and 4 MiB per append
(100 MiB on newer service versions); callers append batches of rows, not one row at a time.
"""

from __future__ import annotations

import hashlib
import re
from contextlib import suppress
from dataclasses import dataclass, replace
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from custom_status.blobs import in_container, settings_or_env, storage_errors, write_deadline
from custom_status.connection import StorageSettings, service_client
from custom_status.errors import InvalidStatusReference, StatusBlobCorrupt, StatusBlobMissing
from custom_status.naming import instance_prefix
from custom_status.size import serialize

LOG_KEY = "$customStatusLog"
EMPTY_CHAIN = "0" * 64
MAX_APPENDS = 50_000
MAX_SEGMENT_BYTES = 4 * 1024 * 1024

_LOG_ID = re.compile(r"[0-9a-f]{32}")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class AppendConflict(StatusBlobCorrupt):
    """The log holds bytes after the reference's end that are not the segment being appended:
    another writer, or a reference from an older episode. Appending anyway would corrupt it."""


@dataclass(frozen=True)
class LogReference:
    """The part of an append log that makes up a status, and how to check it.

    ``summary`` travels inline (clients can show it without reading the blob); the resolved
    status is the summary object with ``rows_key`` set to every row appended so far."""

    container: str
    blob: str
    size: int = 0
    segments: int = 0
    rows: int = 0
    chain: str = EMPTY_CHAIN
    rows_key: str = "rows"
    summary: dict[str, Any] | None = None

    def to_status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "container": self.container,
            "blob": self.blob,
            "size": self.size,
            "segments": self.segments,
            "rows": self.rows,
            "chain": self.chain,
            "rowsKey": self.rows_key,
        }
        if self.summary is not None:
            body["summary"] = self.summary
        return {LOG_KEY: body}

    @classmethod
    def from_status(cls, value: Any) -> LogReference | None:
        """The log reference a custom status carries; None for any other status.

        Raises ``InvalidStatusReference`` if the marker is there but the fields are not."""
        if not (isinstance(value, dict) and len(value) == 1 and LOG_KEY in value):
            return None
        body = value[LOG_KEY]
        try:
            ref = cls(
                container=body["container"],
                blob=body["blob"],
                size=body["size"],
                segments=body["segments"],
                rows=body["rows"],
                chain=body["chain"],
                rows_key=body.get("rowsKey", "rows"),
                summary=body.get("summary"),
            )
        except (KeyError, TypeError) as exc:
            raise InvalidStatusReference(f"{LOG_KEY} lacks a field: {exc}") from None
        counts = (ref.size, ref.segments, ref.rows)
        if not (
            isinstance(ref.container, str)
            and isinstance(ref.blob, str)
            and all(type(n) is int and n >= 0 for n in counts)
            and isinstance(ref.chain, str)
            and _SHA256_HEX.fullmatch(ref.chain)
            and isinstance(ref.rows_key, str)
            and (ref.summary is None or isinstance(ref.summary, dict))
        ):
            raise InvalidStatusReference(f"{LOG_KEY} has a field of the wrong type or form")
        return ref


def new_log(
    instance_id: str,
    log_id: str,
    *,
    rows_key: str = "rows",
    container: str | None = None,
    settings: StorageSettings | None = None,
) -> LogReference:
    """An empty log for ``instance_id``. ``log_id`` is 32 hex digits the orchestrator takes from
    ``context.new_uuid()`` (deterministic on replay, so a retried first append names the same
    blob). No I/O: the blob is created by the first append."""
    if not _LOG_ID.fullmatch(log_id):
        raise ValueError("log_id must be 32 lowercase hex digits (uuid.hex)")
    container = container or settings_or_env(settings).container
    return LogReference(
        container, f"{instance_prefix(instance_id)}log-{log_id}.ndjson", rows_key=rows_key
    )


def segment_of(rows: list[Any]) -> bytes:
    """The bytes one append writes: the rows' compact JSON array and a newline."""
    return serialize(rows).encode("utf-8") + b"\n"


def next_chain(chain: str, segment: bytes) -> str:
    return hashlib.sha256(bytes.fromhex(chain) + segment).hexdigest()


def after_append(
    ref: LogReference, rows: list[Any], summary: dict[str, Any] | None
) -> tuple[LogReference, bytes]:
    """The reference once ``rows`` are appended, and the segment to append (no I/O)."""
    segment = segment_of(rows)
    if len(segment) > MAX_SEGMENT_BYTES:
        raise ValueError(f"one append of {len(segment)} bytes exceeds {MAX_SEGMENT_BYTES}")
    if ref.segments >= MAX_APPENDS:
        raise ValueError(f"an append blob takes at most {MAX_APPENDS} appends; start a new log")
    appended = replace(
        ref,
        size=ref.size + len(segment),
        segments=ref.segments + 1,
        rows=ref.rows + len(rows),
        chain=next_chain(ref.chain, segment),
        summary=summary,
    )
    return appended, segment


async def append_rows(
    ref: LogReference,
    rows: list[Any],
    summary: dict[str, Any] | None = None,
    *,
    settings: StorageSettings | None = None,
) -> LogReference:
    """Append ``rows`` after the first ``ref.size`` bytes of the log; the new reference.

    Idempotent under retries (see the module doc); raises ``AppendConflict`` if the log holds
    other bytes there, ``StorageUnavailable`` if storage cannot be reached."""
    settings = settings_or_env(settings)
    appended, segment = after_append(ref, rows, summary)
    async with (
        write_deadline(f"append to {ref.blob}", settings),
        service_client(settings) as service,
    ):
        container = service.get_container_client(ref.container)
        blob = container.get_blob_client(ref.blob)
        with storage_errors(f"append to {ref.blob}"):
            if ref.size == 0:
                await _create(container, blob)
            try:
                await blob.append_block(segment, appendpos_condition=ref.size)
            except HttpResponseError as exc:
                if exc.error_code != "AppendPositionConditionNotMet":
                    raise
                # Longer than this reference: an earlier attempt of this append got through?
                written = await blob.download_blob(offset=ref.size, length=len(segment))
                if await written.readall() != segment:
                    raise AppendConflict(
                        ref.container, ref.blob, f"other bytes follow offset {ref.size}"
                    ) from None
    return appended


async def _create(container: Any, blob: Any) -> None:
    """Create the append blob (and the container) unless an earlier attempt did."""

    async def create_blob() -> None:
        with suppress(ResourceExistsError):
            await blob.create_append_blob(if_none_match="*")

    await in_container(container, create_blob)


async def read_log_rows(ref: LogReference, *, settings: StorageSettings | None = None) -> bytes:
    """The JSON array of every row the reference covers (UTF-8 bytes), after checking the chain.

    Only the first ``ref.size`` bytes are read: later appends are not part of this status."""
    if ref.size == 0:
        return b"[]"
    settings = settings_or_env(settings)
    async with service_client(settings) as service:
        blob = service.get_blob_client(ref.container, ref.blob)
        with storage_errors(f"read {ref.blob}"):
            try:
                downloader = await blob.download_blob(offset=0, length=ref.size)
                data = await downloader.readall()
            except ResourceNotFoundError as exc:
                raise StatusBlobMissing(ref.container, ref.blob) from exc
    return rows_of(ref, data)


def rows_of(ref: LogReference, data: bytes) -> bytes:
    """Check ``data`` (the log's first ``ref.size`` bytes) against the reference; the rows of all
    its segments as one JSON array. Raises ``StatusBlobCorrupt``."""

    def corrupt(reason: str) -> StatusBlobCorrupt:
        return StatusBlobCorrupt(ref.container, ref.blob, reason)

    if len(data) != ref.size:
        raise corrupt(f"size {len(data)} < {ref.size}")
    if not data.endswith(b"\n"):
        raise corrupt("the last segment is not complete")
    segments = data[:-1].split(b"\n")
    if len(segments) != ref.segments:
        raise corrupt(f"{len(segments)} segments, not {ref.segments}")
    chain = EMPTY_CHAIN
    for segment in segments:
        chain = next_chain(chain, segment + b"\n")
    if chain != ref.chain:
        raise corrupt(f"hash chain {chain} != {ref.chain}")
    # Each segment is a JSON array the appending activity serialised ("[...]", or "[]"): their
    # contents joined by commas are the rows of all of them, in order.
    inner = [segment[1:-1] for segment in segments if segment != b"[]"]
    return b"[" + b",".join(inner) + b"]"


def resolved_log_json(ref: LogReference, rows_json: bytes) -> bytes:
    """The status clients get (UTF-8 JSON): the summary object with ``rows_key`` set to
    ``rows_json`` (``read_log_rows``'s array), spliced in without parsing it."""
    head = serialize({k: v for k, v in (ref.summary or {}).items() if k != ref.rows_key})
    separator = "," if head != "{}" else ""
    key = serialize(ref.rows_key)
    return (head[:-1] + separator + key + ":").encode("utf-8") + rows_json + b"}"
