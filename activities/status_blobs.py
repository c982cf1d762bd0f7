"""UploadCustomStatus: store a custom status too large for the host, return its reference.

Called only by ``orchestrators.status.set_custom_status`` (with a retry policy). Input::

    {"instanceId": "...", "json": "<the status as compact JSON>", "summary": <small JSON or null>,
     "previousBlob": "<blob name of the instance's previous offloaded status, or null>"}

Output: ``{"$customStatusRef": {...}}`` (``custom_status.StatusReference.to_status()``).

The blob name comes from the instance id and the SHA-256 of the JSON, so a retried or re-run
attempt rewrites the same blob. After the upload, the instance's other status blobs are deleted
except the new one and ``previousBlob``: a client may have read the previous reference a moment
ago and still be downloading it (and if it loses that race anyway, it reads the status again).
A failed clean-up does not fail the upload: the next upload, or the purge, removes the rest.
"""

from __future__ import annotations

import logging
from typing import Any

from azure.core.exceptions import AzureError

from custom_status import CustomStatusError
from custom_status.blobs import delete_superseded, upload_status
from orchestrators.status import UPLOAD_CUSTOM_STATUS

from .blueprint import blueprint

log = logging.getLogger(__name__)


@blueprint.function_name(name=UPLOAD_CUSTOM_STATUS)
@blueprint.activity_trigger(input_name="payload", activity=UPLOAD_CUSTOM_STATUS)
async def upload_custom_status(payload: dict[str, Any]) -> dict[str, Any]:
    """Upload the status JSON; delete superseded blobs; return the reference to set."""
    instance_id = payload["instanceId"]
    reference = await upload_status(instance_id, payload["json"], payload.get("summary"))
    keep = {reference.blob}
    if payload.get("previousBlob"):
        keep.add(payload["previousBlob"])
    try:
        await delete_superseded(instance_id, keep)
    except (CustomStatusError, AzureError) as error:
        log.warning("Superseded status blobs of %s not deleted yet: %s", instance_id, error)
    return reference.to_status()
