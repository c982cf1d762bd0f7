"""Blob storage I/O for offloaded custom statuses (async: the Functions host runs on its loop).

Which account and container, read from the app settings when a call is made, is
``connection.py``'s job (a connection string, or identity-based ``AzureWebJobsStorage__*``
settings, with one shared client per event loop); every function also takes
``settings=StorageSettings(...)`` to bypass the environment. Read-only links to a status blob
are ``sas.py``'s.

Timeouts and retries are deliberately small (``StorageSettings``): the SDK defaults (20 s connect,
exponential retries starting at 15 s) make a client wait minutes when storage is down, which for
a status read is worse than a fast ``StorageUnavailable`` the caller can turn into a 503. Writes
are also bounded as a whole (``write_deadline``): the activities that write are retried by the
orchestrator with a long backoff, so each attempt should fail fast rather than hang.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from typing import Any

from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.storage.blob import ContentSettings
from azure.storage.blob.aio import ContainerClient

from custom_status.connection import (
    DEV_CONNECTION_STRING,
    StorageSettings,
    close_shared_clients,
    service_client,
)
from custom_status.errors import (
    StatusBlobCorrupt,
    StatusBlobMissing,
    StorageRefused,
    StorageUnavailable,
    SummaryTooLarge,
)
from custom_status.naming import blob_name, instance_prefix
from custom_status.reference import StatusReference, unwrap
from custom_status.sas import MAX_SAS_TTL, sas_url
from custom_status.size import MAX_INLINE_BYTES, inline_size, utf16_size
from custom_status.wire import CONTENT_TYPE, DEFAULT_CONTAINER


def settings_or_env(settings: StorageSettings | None) -> StorageSettings:
    """``settings`` if given, else the app settings read now (``StorageSettings.from_env``)."""
    return settings if settings is not None else StorageSettings.from_env()


@contextmanager
def storage_errors(action: str) -> Iterator[None]:
    """Turn transport failures and server errors into ``StorageUnavailable``, and other client
    errors (4xx: a wrong key, a missing role) into ``StorageRefused``.

    Not-found passes through: callers catch it inside this block and map it to their own meaning
    (a missing blob, a container to create). Other 4xx are configuration that a retry later will
    not fix, so they are not ``StorageUnavailable``.
    """
    try:
        yield
    except ResourceNotFoundError:
        raise
    except HttpResponseError as exc:
        status = exc.status_code or 0
        if status >= 500 or status in (408, 429):
            raise StorageUnavailable(f"{action}: storage answered {status}") from exc
        raise StorageRefused(action, exc.status_code) from exc
    except (ServiceRequestError, ServiceResponseError) as exc:
        raise StorageUnavailable(f"{action}: storage unreachable ({exc})") from exc
    except AzureError as exc:  # other transport-level failures (e.g. connection reset)
        raise StorageUnavailable(f"{action}: {exc}") from exc
    except OSError as exc:  # TimeoutError and socket errors the transport did not wrap
        raise StorageUnavailable(f"{action}: {exc!r}") from exc


@asynccontextmanager
async def write_deadline(action: str, settings: StorageSettings) -> AsyncIterator[None]:
    """Bound a write, retries included, by ``settings.write_timeout``: ``StorageUnavailable`` when
    it passes. Safe to cut short: every write here is idempotent (a retried upload rewrites the
    same blob; an append is conditional on the blob's length)."""
    try:
        async with asyncio.timeout(settings.write_timeout):
            yield
    except TimeoutError as exc:
        raise StorageUnavailable(
            f"{action}: storage did not finish within {settings.write_timeout:g} s"
        ) from exc


def make_reference(
    instance_id: str, json_text: str, summary: Any = None, *, settings: StorageSettings
) -> StatusReference:
    """The reference :func:`upload_status` will return for these arguments, without I/O.

    Raises ``ValueError`` if ``json_text`` is not JSON and ``SummaryTooLarge`` if the reference
    with its summary would not fit the host's limit.
    """
    try:
        json.loads(json_text)
    except ValueError as exc:
        raise ValueError(f"json_text is not JSON: {exc}") from exc
    data = json_text.encode("utf-8")
    digest = hashlib.sha256(data).hexdigest()
    ref = StatusReference(
        container=settings.container,
        blob=blob_name(instance_id, digest),
        size=len(data),
        utf16_size=utf16_size(json_text),
        sha256=digest,
        summary=summary,
    )
    ref_size = inline_size(ref.to_status())
    if ref_size > MAX_INLINE_BYTES:
        raise SummaryTooLarge(
            f"the reference with its summary is {ref_size} UTF-16 bytes; "
            f"it must fit in {MAX_INLINE_BYTES}: keep the summary small"
        )
    return ref


async def upload_status(
    instance_id: str,
    json_text: str,
    summary: Any = None,
    *,
    settings: StorageSettings | None = None,
) -> StatusReference:
    """Store ``json_text`` (a status serialized with ``size.serialize``) and return its reference.

    Idempotent: the blob name comes from the instance id and the content's SHA-256, and the
    upload overwrites, so a retried activity rewrites the same blob. The container is created if
    missing. ``summary`` travels inline in the reference; raises ``SummaryTooLarge`` (before any
    I/O) if the reference would not fit the host's limit, ``ValueError`` if ``json_text`` is not
    JSON, ``StorageUnavailable`` if storage cannot be reached.
    """
    settings = settings_or_env(settings)
    ref = make_reference(instance_id, json_text, summary, settings=settings)
    await store_status(ref, json_text, settings=settings)
    return ref


async def store_status(ref: StatusReference, json_text: str, *, settings: StorageSettings) -> None:
    """Write ``json_text`` to the blob ``ref`` names (``ref`` from :func:`make_reference` of the
    same text); creates the container if missing. Raises ``StorageUnavailable``."""
    data = json_text.encode("utf-8")
    async with (
        write_deadline(f"upload {ref.blob}", settings),
        service_client(settings) as service,
    ):
        container = service.get_container_client(ref.container)
        with storage_errors(f"upload {ref.blob}"):
            await in_container(container, lambda: _upload(container, ref, data))


async def in_container(container: ContainerClient, write: Callable[[], Awaitable[None]]) -> None:
    """Run ``write``; if the container does not exist yet, create it (or find it created by a
    concurrent writer) and run ``write`` once more. The container is made on first use, so a
    deployment needs no setup step."""
    try:
        await write()
    except ResourceNotFoundError as exc:
        if exc.error_code != "ContainerNotFound":
            raise
        with suppress(ResourceExistsError):  # created concurrently by another writer
            await container.create_container()
        await write()


async def _upload(container: ContainerClient, ref: StatusReference, data: bytes) -> None:
    await container.upload_blob(
        ref.blob,
        data,
        overwrite=True,
        content_settings=ContentSettings(content_type=ref.content_type),
    )


async def read_status(ref: StatusReference, *, settings: StorageSettings | None = None) -> Any:
    """The status value a reference points to (see ``read_status_data``)."""
    data = await read_status_data(ref, settings=settings)
    try:
        return json.loads(data)
    except ValueError as exc:
        raise StatusBlobCorrupt(ref.container, ref.blob, f"not JSON: {exc}") from exc


async def read_status_data(
    ref: StatusReference, *, settings: StorageSettings | None = None
) -> bytes:
    """The UTF-8 JSON a reference points to, after checking its size, SHA-256 and encoding.

    The bytes as stored, for callers that pass them on without building the value (the status
    route splices them into its answer; re-serialising and encoding a 1 MB value costs more than
    the rest of the request). The hash matches what the upload activity computed over JSON it
    serialised itself, so the bytes are that JSON; ``read_status`` parses them all the same.

    Reads from ``ref.container`` (not the configured one), so references stay readable after the
    setting changes. Raises ``StatusBlobMissing``, ``StatusBlobCorrupt`` or ``StorageUnavailable``.
    """
    settings = settings_or_env(settings)
    async with service_client(settings) as service:
        blob = service.get_blob_client(ref.container, ref.blob)
        with storage_errors(f"read {ref.blob}"):
            try:
                downloader = await blob.download_blob()
                if downloader.size != ref.size:
                    # Checked before reading the body: a swapped-in huge blob is not downloaded.
                    raise StatusBlobCorrupt(
                        ref.container, ref.blob, f"size {downloader.size} != {ref.size}"
                    )
                data = await downloader.readall()
            except ResourceNotFoundError as exc:
                raise StatusBlobMissing(ref.container, ref.blob) from exc
    return _checked(ref, data)


def _checked(ref: StatusReference, data: bytes) -> bytes:
    if len(data) != ref.size:
        raise StatusBlobCorrupt(ref.container, ref.blob, f"size {len(data)} != {ref.size}")
    digest = hashlib.sha256(data).hexdigest()
    if digest != ref.sha256:
        raise StatusBlobCorrupt(ref.container, ref.blob, f"sha256 {digest} != {ref.sha256}")
    try:
        data.decode("utf-8")
        return data
    except ValueError as exc:  # UnicodeDecodeError is a ValueError too
        raise StatusBlobCorrupt(ref.container, ref.blob, f"not UTF-8 JSON: {exc}") from exc


async def resolve_status(custom_status: Any, *, settings: StorageSettings | None = None) -> Any:
    """What a client should show for a custom status as the host returns it.

    A reference is read from storage (``read_status``'s errors apply); a ``$customStatusValue``
    envelope is unwrapped; anything else is returned unchanged. No I/O unless it is a reference.
    """
    ref = StatusReference.from_status(custom_status)
    if ref is None:
        return unwrap(custom_status)
    return await read_status(ref, settings=settings)


async def delete_instance_blobs(
    instance_id: str, *, settings: StorageSettings | None = None
) -> int:
    """Delete every status blob of ``instance_id`` (after a purge); returns how many it deleted."""
    return await _delete_under(instance_prefix(instance_id), frozenset(), settings_or_env(settings))


async def delete_superseded(
    instance_id: str, keep: set[str], *, settings: StorageSettings | None = None
) -> int:
    """Delete the instance's status blobs whose names are not in ``keep``; returns the count.

    Pass the current and the previous reference's blob names: the previous one survives because a
    client may have read the previous reference just before the status changed and still be
    about to download it. Only whole-status blobs (``.json``) go: the instance's append logs
    (``status_log``) are not superseded by a status, and stay until the instance is purged.
    """
    settings = settings_or_env(settings)
    prefix = instance_prefix(instance_id)
    async with write_deadline(f"delete under {prefix}", settings):
        return await _delete_under(prefix, frozenset(keep), settings, suffix=".json")


async def _delete_under(
    prefix: str, keep: frozenset[str], settings: StorageSettings, suffix: str = ""
) -> int:
    deleted = 0
    async with service_client(settings) as service:
        container = service.get_container_client(settings.container)
        with storage_errors(f"delete under {prefix}"):
            try:
                names = [b.name async for b in container.list_blobs(name_starts_with=prefix)]
            except ResourceNotFoundError:
                return 0  # no container: nothing was ever offloaded
            for name in names:
                if name in keep or not name.endswith(suffix):
                    continue
                try:
                    await container.delete_blob(name, delete_snapshots="include")
                except ResourceNotFoundError:
                    continue  # deleted concurrently
                deleted += 1
    return deleted


__all__ = [
    "CONTENT_TYPE",
    "DEFAULT_CONTAINER",
    "DEV_CONNECTION_STRING",
    "MAX_SAS_TTL",
    "StorageSettings",
    "close_shared_clients",
    "delete_instance_blobs",
    "delete_superseded",
    "make_reference",
    "read_status",
    "read_status_data",
    "resolve_status",
    "sas_url",
    "store_status",
    "upload_status",
    "write_deadline",
]
