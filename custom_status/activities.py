"""``custom_status.blueprint``: the two activities the orchestrator helpers call.

``app.register_functions(custom_status.blueprint)`` is all the wiring an app needs: the helpers
call these by the names in ``wire.py``, and the activities read the storage settings
(``connection.py``) when they run.

``UploadCustomStatus`` input::

    {"instanceId": "...", "json": "<the status as compact JSON>", "summary": <small JSON or null>,
     "previousBlob": "<blob name of the instance's previous offloaded status, or null>"}

Output: ``{"$customStatusRef": {...}}``. The blob name comes from the instance id and the
SHA-256 of the JSON, so a retried or re-run attempt rewrites the same blob. While it uploads,
the instance's other status blobs are deleted except the new one and ``previousBlob``: a client
may have read the previous reference a moment ago and still be downloading it (and if it loses
that race anyway, it reads the status again). The two run concurrently (the new blob's name is
known before it is written), which takes the clean-up's list-and-delete round trips off the
orchestration's path. A failed clean-up does not fail the upload: the next upload, or the purge,
removes the rest.

``AppendCustomStatus`` input: ``{"instanceId", "log": <the last reference or null>, the rows,
"summary", "logId" and "rowsKey" (first append only)}``, the rows either as ``"rows": [...]`` or,
for objects sharing their keys, as ``"columns": [keys], "values": [[...], ...]``
(``append_input.py``; inputs of either form are read, since histories keep them); output
``{"$customStatusLog": {...}}``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import azure.durable_functions as df
from azure.core.exceptions import AzureError

from custom_status.append_input import decode_rows
from custom_status.blobs import StorageSettings, delete_superseded, make_reference, store_status
from custom_status.errors import CustomStatusError
from custom_status.log_reference import LogReference
from custom_status.naming import instance_prefix
from custom_status.status_log import append_rows, new_log
from custom_status.wire import (
    APPEND_ACTIVITY,
    APPEND_INSTANCE_ID,
    APPEND_LOG,
    APPEND_LOG_ID,
    APPEND_ROWS_KEY,
    APPEND_SUMMARY,
    UPLOAD_ACTIVITY,
)

log = logging.getLogger(__name__)

blueprint = df.Blueprint()
"""Register it on the app: ``app.register_functions(custom_status.blueprint)``."""

# The inputs are annotated ``dict``, not ``dict[str, Any]``: Microsoft's worker refuses a
# parameter annotation that is not a class ("invalid non-type annotation", checked with
# ``isinstance(annotation, type)``), and one refused function fails the whole app's indexing
# (Azure/azure-functions-durable-python#468). The wheel test indexes them with the worker.


@blueprint.function_name(name=UPLOAD_ACTIVITY)
@blueprint.activity_trigger(input_name="payload", activity=UPLOAD_ACTIVITY)
async def upload_custom_status(payload: dict) -> dict[str, Any]:
    """Upload the status JSON; delete superseded blobs; return the reference to set."""
    instance_id, json_text, summary = payload["instanceId"], payload["json"], payload.get("summary")
    settings = StorageSettings.from_env()
    reference = make_reference(instance_id, json_text, summary, settings=settings)
    keep = {reference.blob}
    if payload.get("previousBlob"):
        keep.add(payload["previousBlob"])
    await asyncio.gather(
        store_status(reference, json_text, settings=settings),
        _delete_superseded_quietly(instance_id, keep, settings),
    )
    return reference.to_status()


async def _delete_superseded_quietly(
    instance_id: str, keep: set[str], settings: StorageSettings
) -> None:
    try:
        await delete_superseded(instance_id, keep, settings=settings)
    except (CustomStatusError, AzureError) as error:
        log.warning("Superseded status blobs of %s not deleted yet: %s", instance_id, error)


@blueprint.function_name(name=APPEND_ACTIVITY)
@blueprint.activity_trigger(input_name="payload", activity=APPEND_ACTIVITY)
async def append_custom_status(payload: dict) -> dict[str, Any]:
    """Append the rows to the instance's status log; return the log reference to set.

    A log must lie under the instance's own prefix: a reference carried in an orchestration's
    input (continue-as-new) could otherwise be made to point at another instance's log."""
    instance_id = payload[APPEND_INSTANCE_ID]
    if payload.get(APPEND_LOG) is None:
        rows_key = payload.get(APPEND_ROWS_KEY, "rows")
        ref = new_log(instance_id, payload[APPEND_LOG_ID], rows_key=rows_key)
    else:
        ref = LogReference.from_status(payload[APPEND_LOG])
        if ref is None or not ref.blob.startswith(instance_prefix(instance_id)):
            raise ValueError(f"not a status log of instance {instance_id!r}")
    appended = await append_rows(ref, decode_rows(payload), payload.get(APPEND_SUMMARY))
    return appended.to_status()
