"""Append-style offloaded status: a growing list of rows kept in an append blob, one segment per
append, so neither the orchestration's history nor a replay ever carries the whole list.

``set_custom_status`` with a 100,000-row table passes the whole table to the upload activity each
time it changes: the history holds every past version, and each replay re-serialises them all.
Here the orchestrator hands the activity only the *new* rows; the activity appends them to the
instance's log blob and returns a small reference, which the orchestrator sets as its status.

The blob (``status/<instance segment>/log-<log id>.ndjson``, under the instance's prefix so purge
and clean-up find it) is a sequence of segments; the reference (``{"$customStatusLog": {...}}``)
says how many bytes and segments belong to the status and carries a hash chain over them. Both
are defined in ``log_reference.py``, which needs no storage; this module does the I/O.

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

from contextlib import suppress
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from custom_status.blobs import in_container, settings_or_env, storage_errors, write_deadline
from custom_status.connection import StorageSettings, service_client
from custom_status.errors import StatusBlobCorrupt, StatusBlobMissing
from custom_status.log_reference import LogReference, after_append, log_blob_name, rows_of


class AppendConflict(StatusBlobCorrupt):
    """The log holds bytes after the reference's end that are not the segment being appended:
    another writer, or a reference from an older episode. Appending anyway would corrupt it."""


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
    blob = log_blob_name(instance_id, log_id)
    container = container or settings_or_env(settings).container
    return LogReference(container, blob, rows_key=rows_key)


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
