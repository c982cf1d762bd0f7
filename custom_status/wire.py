"""Every name this package shares with something outside Python: the one place to read them.

A wire name is a string another party matches exactly: the Durable host (activity names), the
clients that read a status (the envelope keys), the Functions app settings, Blob storage (the
container and the blob layout), HTTP callers (query parameters and error codes). Retyping one in
two modules is how the two copies drift apart unnoticed; every module of the package imports
them from here instead. (The field names *inside* a reference belong to its format and live with
its ``to_status``/``from_status`` in ``reference.py`` and ``log_reference.py``.)
"""

from __future__ import annotations

# -- Activities (what the orchestrator helpers call; ``custom_status.blueprint`` registers them) --
UPLOAD_ACTIVITY = "UploadCustomStatus"
"""Stores a whole status too large for the host and returns its ``$customStatusRef``."""
APPEND_ACTIVITY = "AppendCustomStatus"
"""Appends rows to the instance's status log and returns its ``$customStatusLog``."""

# -- Envelopes (the one-key objects set in place of a status; clients recognise them) ------------
REF_KEY = "$customStatusRef"
"""An offloaded whole status: ``{"$customStatusRef": {container, blob, size, ...}}``."""
VALUE_KEY = "$customStatusValue"
"""A value the SDK would drop (falsy) or misread (shaped like an envelope), wrapped:
``{"$customStatusValue": v}``."""
LOG_KEY = "$customStatusLog"
"""An append-style status: ``{"$customStatusLog": {container, blob, size, chain, ...}}``."""

# -- AppendCustomStatus's input (``append_input.py``) ----------------------------------------
# The orchestrator helper writes it and the activity reads it, but it is also kept in the history
# of every orchestration in flight: an activity of a later release still gets inputs written by
# an earlier one, so a name here never changes meaning, it only gains companions.
APPEND_INSTANCE_ID = "instanceId"
APPEND_LOG = "log"
"""The last log reference, or null for the first append (which then names ``logId``)."""
APPEND_LOG_ID = "logId"
APPEND_ROWS_KEY = "rowsKey"
APPEND_SUMMARY = "summary"
APPEND_ROWS = "rows"
"""The rows as given: every append of the first release, and rows that do not share one key list."""
APPEND_COLUMNS = "columns"
"""Rows that are objects with the same keys in the same order travel as their keys once ..."""
APPEND_VALUES = "values"
"""... and each row's values in that order: ``{"columns": ["item", "name"], "values": [[1, "a"],
[2, "b"]]}`` is the rows ``[{"item": 1, "name": "a"}, {"item": 2, "name": "b"}]``. Not ``rows``
holding value lists: an activity that predates the columns would append the lists as rows
silently, where a missing ``rows`` fails the attempt loudly (and ``UPLOAD_RETRY`` retries it)."""

# -- App settings (read as the Functions host reads its own connection) ------------------------
DEFAULT_CONNECTION = "AzureWebJobsStorage"
"""The host's own storage connection; status blobs use it unless told otherwise."""
CONNECTION_SETTING = "STATUS_BLOB_CONNECTION"
"""Names another connection (a setting prefix, as ``AzureWebJobsStorage``) for status blobs."""
CONTAINER_SETTING = "STATUS_BLOB_CONTAINER"
"""The container status blobs go to."""

# -- Blob storage layout ------------------------------------------------------------------------
DEFAULT_CONTAINER = "custom-status"
BLOB_ROOT = "status/"
"""Every status blob's name starts with it: ``status/<instance segment>/...``."""
CONTENT_TYPE = "application/json"

# -- HTTP (the status route: ``custom_status.status_response``) ---------------------------------
SHOW_INPUT_PARAM = "showInput"
RESOLVE_PARAM = "resolve"
KEY_HEADER = "x-functions-key"
"""How a caller (the watcher) sends a function key, as the Functions host reads it."""

# Error codes of the JSON error bodies, ``{"error": <code>, "message": <text>}``.
INSTANCE_NOT_FOUND = "instance_not_found"
STATUS_BLOB_MISSING = "status_blob_missing"
STATUS_BLOB_CORRUPT = "status_blob_corrupt"
INVALID_STATUS_REFERENCE = "invalid_status_reference"
STORAGE_UNAVAILABLE = "storage_unavailable"
STORAGE_ERROR = "storage_error"
STORAGE_NOT_CONFIGURED = "storage_not_configured"
