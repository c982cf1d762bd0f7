"""Custom orchestration statuses larger than the Durable host accepts, offloaded to Blob storage.

This package imports neither ``azure.functions`` nor ``azure.durable_functions``, so activities,
clients, devhost and tests can all use it.

The package namespace holds the pure parts (no I/O; safe in orchestrator code, which must be
deterministic): sizes, references, envelopes, blob names and errors. Storage I/O is imported
explicitly from ``custom_status.blobs`` so that a call doing I/O is visible where it is made
(activities and clients only, never orchestrators). See README.md for the wiring.
"""

from custom_status.errors import (
    CustomStatusError,
    InvalidStatusReference,
    StatusBlobCorrupt,
    StatusBlobMissing,
    StorageNotConfigured,
    StorageUnavailable,
    SummaryTooLarge,
)
from custom_status.naming import blob_name, instance_id_from_blob_name, instance_prefix
from custom_status.reference import (
    REF_KEY,
    VALUE_KEY,
    StatusReference,
    from_status,
    unwrap,
    wrap_falsy,
)
from custom_status.size import MAX_INLINE_BYTES, fits_inline, inline_size, serialize, utf16_size

__all__ = [
    "MAX_INLINE_BYTES",
    "REF_KEY",
    "VALUE_KEY",
    "CustomStatusError",
    "InvalidStatusReference",
    "StatusBlobCorrupt",
    "StatusBlobMissing",
    "StatusReference",
    "StorageNotConfigured",
    "StorageUnavailable",
    "SummaryTooLarge",
    "blob_name",
    "fits_inline",
    "from_status",
    "inline_size",
    "instance_id_from_blob_name",
    "instance_prefix",
    "serialize",
    "unwrap",
    "utf16_size",
    "wrap_falsy",
]
