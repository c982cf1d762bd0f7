"""The reference an append-style status sets, and everything about a log that needs no I/O.

An append-style status keeps its rows in an append blob (``status_log.py`` does the storage);
the host holds only ``{"$customStatusLog": {...}}``: where the log is, how many bytes, segments
and rows belong to the status, a hash chain over its segments, the key the rows go under and a
small inline summary. The segment format and the chain are defined here, so that the orchestrator
helper (which builds no blob) and readers (which check one) agree without storage.

A segment is one line: the compact JSON array of the rows appended together, then ``\\n`` (JSON
text never holds a raw newline, so lines are segments). ``chain_n = sha256(chain_{n-1} ||
segment_n)``, starting from 64 zeros: a reader checks every byte it was given without the
reference naming each segment.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from typing import Any

from custom_status.errors import InvalidStatusReference, StatusBlobCorrupt
from custom_status.naming import instance_prefix
from custom_status.size import serialize
from custom_status.wire import LOG_KEY

EMPTY_CHAIN = "0" * 64
MAX_APPENDS = 50_000
"""Azure's limit of appends (blocks) per append blob."""
MAX_SEGMENT_BYTES = 4 * 1024 * 1024
"""Azure's limit of one append (100 MiB on newer service versions; the older is kept)."""

LOG_ID = re.compile(r"[0-9a-f]{32}")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


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


def log_blob_name(instance_id: str, log_id: str) -> str:
    """``status/<instance segment>/log-<log id>.ndjson``: under the instance's prefix, so purge
    and clean-up find it. ``log_id`` is 32 lowercase hex digits."""
    if not LOG_ID.fullmatch(log_id):
        raise ValueError("log_id must be 32 lowercase hex digits (uuid.hex)")
    return f"{instance_prefix(instance_id)}log-{log_id}.ndjson"


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
