"""Large custom statuses for Durable Functions (Python): over the host's 16 KB limit, offloaded to
Blob storage, and read back whole.

The public API is what this module exports (``__all__``); the submodules are the package's own
and may change. An app needs one line of wiring,
``app.register_functions(custom_status.blueprint)``:

* orchestrators: ``yield from set_custom_status(context, value, summary=None)`` and
  ``log = yield from append_custom_status(context, log, rows, summary=None, rows_key="rows")``;
* clients: ``await get_status(client, instance_id, show_input=False)`` (a dict in the built-in
  status API's shape, the custom status resolved; None for an unknown instance) and
  ``await status_response(req, client, instance_id)`` for an HTTP route (ETag, 304,
  Retry-After); ``await purge_instance(client, instance_id)``;
* activities that build a status themselves: ``upload_status`` (a whole value) and ``new_log`` /
  ``append_rows`` (rows), each returning the reference the orchestrator then sets;
* ``python -m custom_status watch <status URL>``: a terminal view of an instance's progress.

Names that need the Functions SDKs (``azure.functions``, ``azure.durable_functions``) or the
Storage SDK are imported on first use (PEP 562), so the pure parts (sizes, envelopes, errors)
and the terminal watcher load without them. See README.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from custom_status.errors import (
    CustomStatusError,
    CustomStatusOffloadFailed,
    InvalidStatusReference,
    StatusBlobCorrupt,
    StatusBlobMissing,
    StorageNotConfigured,
    StorageRefused,
    StorageUnavailable,
    SummaryTooLarge,
)
from custom_status.log_reference import LogReference
from custom_status.naming import blob_name, instance_id_from_blob_name, instance_prefix
from custom_status.reference import StatusReference, unwrap, wrap_falsy
from custom_status.size import (
    MAX_INLINE_BYTES,
    MAX_SUMMARY_BYTES,
    fits_inline,
    inline_size,
    serialize,
    utf16_size,
)
from custom_status.wire import APPEND_ACTIVITY, LOG_KEY, REF_KEY, UPLOAD_ACTIVITY, VALUE_KEY

if TYPE_CHECKING:
    from custom_status.activities import blueprint
    from custom_status.blobs import delete_instance_blobs, upload_status
    from custom_status.connection import StorageSettings, close_shared_clients
    from custom_status.http import status_error_response, status_response
    from custom_status.orchestrator import append_custom_status, set_custom_status
    from custom_status.purge import InstanceNotEnded, Purged, purge_instance
    from custom_status.reader import get_status, resolve_custom_status
    from custom_status.retry import UPLOAD_RETRY
    from custom_status.status_log import append_rows, new_log

_LAZY = {
    "blueprint": "custom_status.activities",
    "delete_instance_blobs": "custom_status.blobs",
    "upload_status": "custom_status.blobs",
    "StorageSettings": "custom_status.connection",
    "close_shared_clients": "custom_status.connection",
    "status_error_response": "custom_status.http",
    "status_response": "custom_status.http",
    "append_custom_status": "custom_status.orchestrator",
    "set_custom_status": "custom_status.orchestrator",
    "InstanceNotEnded": "custom_status.purge",
    "Purged": "custom_status.purge",
    "purge_instance": "custom_status.purge",
    "get_status": "custom_status.reader",
    "resolve_custom_status": "custom_status.reader",
    "UPLOAD_RETRY": "custom_status.retry",
    "append_rows": "custom_status.status_log",
    "new_log": "custom_status.status_log",
}


def __getattr__(name: str) -> Any:
    """Import an SDK-bound name on first use (see the module doc)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'custom_status' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "APPEND_ACTIVITY",
    "LOG_KEY",
    "MAX_INLINE_BYTES",
    "MAX_SUMMARY_BYTES",
    "REF_KEY",
    "UPLOAD_ACTIVITY",
    "UPLOAD_RETRY",
    "VALUE_KEY",
    "CustomStatusError",
    "CustomStatusOffloadFailed",
    "InstanceNotEnded",
    "InvalidStatusReference",
    "LogReference",
    "Purged",
    "StatusBlobCorrupt",
    "StatusBlobMissing",
    "StatusReference",
    "StorageNotConfigured",
    "StorageRefused",
    "StorageSettings",
    "StorageUnavailable",
    "SummaryTooLarge",
    "append_custom_status",
    "append_rows",
    "blob_name",
    "blueprint",
    "close_shared_clients",
    "delete_instance_blobs",
    "fits_inline",
    "get_status",
    "inline_size",
    "instance_id_from_blob_name",
    "instance_prefix",
    "new_log",
    "purge_instance",
    "resolve_custom_status",
    "serialize",
    "set_custom_status",
    "status_error_response",
    "status_response",
    "unwrap",
    "upload_status",
    "utf16_size",
    "wrap_falsy",
]
