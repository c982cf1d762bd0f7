"""Blob storage I/O for offloaded custom statuses (async: the Functions host runs on its loop).

Configuration comes from the app settings, read when a call is made:

* ``AzureWebJobsStorage``: the storage connection string; ``UseDevelopmentStorage=true`` means
  Azurite's Blob service on 127.0.0.1:10000 with the well-known development account.
* ``STATUS_BLOB_CONTAINER``: the container (default ``custom-status``), created on first upload.

Every function also takes ``settings=StorageSettings(...)`` to bypass the environment.

Timeouts and retries are deliberately small (``StorageSettings``): the SDK defaults (20 s connect,
exponential retries starting at 15 s) make a client wait minutes when storage is down, which for
a status read is worse than a fast ``StorageUnavailable`` the caller can turn into a 503.

One client (one connection pool) is shared by every call made on the same event loop with the
same settings, as the Azure SDK guidance asks: a new client per call cost a TCP connection and
its set-up per upload or read (about a third of an offloaded status's round trip on loopback).
Clients are never shared across event loops (an aiohttp session belongs to one loop); a loop's
clients go away with it, or with :func:`close_shared_clients`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import weakref
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.storage.blob import BlobClient as SyncBlobClient
from azure.storage.blob import BlobSasPermissions, ContentSettings, generate_blob_sas
from azure.storage.blob.aio import BlobServiceClient, ContainerClient, LinearRetry

from custom_status.errors import (
    StatusBlobCorrupt,
    StatusBlobMissing,
    StorageNotConfigured,
    StorageUnavailable,
    SummaryTooLarge,
)
from custom_status.naming import blob_name, instance_prefix
from custom_status.reference import CONTENT_TYPE, StatusReference, unwrap
from custom_status.size import MAX_INLINE_BYTES, inline_size, utf16_size

DEFAULT_CONTAINER = "custom-status"
MAX_SAS_TTL = timedelta(minutes=15)

DEV_ACCOUNT_NAME = "devstoreaccount1"
# The well-known development storage key: public by design, it only unlocks a local emulator.
DEV_ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
DEV_CONNECTION_STRING = (
    "DefaultEndpointsProtocol=http;"
    f"AccountName={DEV_ACCOUNT_NAME};AccountKey={DEV_ACCOUNT_KEY};"
    f"BlobEndpoint=http://127.0.0.1:10000/{DEV_ACCOUNT_NAME};"
)


def parse_connection_string(value: str) -> dict[str, str]:
    """``Key=Value;...`` as a dict with lower-case keys (values may contain ``=``)."""
    parts: dict[str, str] = {}
    for part in value.split(";"):
        key, sep, setting = part.partition("=")
        if sep and key.strip():
            parts[key.strip().lower()] = setting.strip()
    return parts


def resolve_connection_string(value: str) -> str:
    """Expand ``UseDevelopmentStorage=true`` to Azurite's explicit connection string."""
    if parse_connection_string(value).get("usedevelopmentstorage", "").lower() == "true":
        return DEV_CONNECTION_STRING
    return value


@dataclass(frozen=True)
class StorageSettings:
    """Where status blobs go and how patiently storage is called."""

    connection_string: str
    container: str = DEFAULT_CONTAINER
    connection_timeout: float = 2.0
    """Seconds to open a TCP connection; local or in-region storage connects in milliseconds."""
    read_timeout: float = 30.0
    """Seconds between bytes of a response (not for the whole body: 5 MB is fine)."""
    retry_total: int = 2
    retry_backoff: float = 0.25
    """Seconds between retries (jittered by up to 0.1 s)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StorageSettings:
        """Settings from app settings (environment variables in the Functions host)."""
        env = os.environ if environ is None else environ
        raw = env.get("AzureWebJobsStorage", "").strip()
        if not raw:
            raise StorageNotConfigured("the app setting AzureWebJobsStorage is not set")
        container = env.get("STATUS_BLOB_CONTAINER", "").strip() or DEFAULT_CONTAINER
        return cls(connection_string=resolve_connection_string(raw), container=container)


def _settings(settings: StorageSettings | None) -> StorageSettings:
    return settings if settings is not None else StorageSettings.from_env()


_SHARED: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[StorageSettings, BlobServiceClient]
] = weakref.WeakKeyDictionary()


@asynccontextmanager
async def _service(settings: StorageSettings) -> AsyncIterator[BlobServiceClient]:
    """The shared client of this event loop for ``settings`` (created on first use)."""
    clients = _SHARED.setdefault(asyncio.get_running_loop(), {})
    client = clients.get(settings)
    if client is None:
        client = _new_service(settings)
        await client.__aenter__()
        clients[settings] = client
    yield client


async def close_shared_clients() -> None:
    """Close this event loop's shared clients (tests and hosts that stop a loop they reuse)."""
    for client in _SHARED.pop(asyncio.get_running_loop(), {}).values():
        await client.close()


def _new_service(settings: StorageSettings) -> BlobServiceClient:
    try:
        return BlobServiceClient.from_connection_string(
            resolve_connection_string(settings.connection_string),
            retry_policy=LinearRetry(
                backoff=settings.retry_backoff,  # type: ignore[arg-type]
                random_jitter_range=0.1,  # type: ignore[arg-type]
                retry_total=settings.retry_total,
            ),
            connection_timeout=settings.connection_timeout,
            read_timeout=settings.read_timeout,
        )
    except ValueError as exc:
        raise StorageNotConfigured(f"AzureWebJobsStorage is not usable: {exc}") from exc


@contextmanager
def _storage_errors(action: str) -> Iterator[None]:
    """Turn transport failures and server errors into ``StorageUnavailable``.

    Not-found and client errors (4xx) pass through: callers map not-found to their own meaning,
    and other 4xx are bugs or configuration (wrong key) that a retry later will not fix.
    """
    try:
        yield
    except HttpResponseError as exc:
        status = exc.status_code or 0
        if status >= 500 or status in (408, 429):
            raise StorageUnavailable(f"{action}: storage answered {status}") from exc
        raise
    except (ServiceRequestError, ServiceResponseError) as exc:
        raise StorageUnavailable(f"{action}: storage unreachable ({exc})") from exc
    except AzureError as exc:  # other transport-level failures (e.g. connection reset)
        raise StorageUnavailable(f"{action}: {exc}") from exc
    except OSError as exc:  # TimeoutError and socket errors the transport did not wrap
        raise StorageUnavailable(f"{action}: {exc!r}") from exc


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
    settings = _settings(settings)
    ref = make_reference(instance_id, json_text, summary, settings=settings)
    await store_status(ref, json_text, settings=settings)
    return ref


async def store_status(ref: StatusReference, json_text: str, *, settings: StorageSettings) -> None:
    """Write ``json_text`` to the blob ``ref`` names (``ref`` from :func:`make_reference` of the
    same text); creates the container if missing. Raises ``StorageUnavailable``."""
    data = json_text.encode("utf-8")
    async with _service(settings) as service:
        container = service.get_container_client(ref.container)
        with _storage_errors(f"upload {ref.blob}"):
            try:
                await _upload(container, ref, data)
            except ResourceNotFoundError as exc:
                if exc.error_code != "ContainerNotFound":
                    raise
                with suppress(ResourceExistsError):  # created concurrently by another upload
                    await container.create_container()
                await _upload(container, ref, data)


async def _upload(container: ContainerClient, ref: StatusReference, data: bytes) -> None:
    await container.upload_blob(
        ref.blob,
        data,
        overwrite=True,
        content_settings=ContentSettings(content_type=ref.content_type),
    )


async def read_status(ref: StatusReference, *, settings: StorageSettings | None = None) -> Any:
    """The status value a reference points to, after checking size and SHA-256.

    Reads from ``ref.container`` (not the configured one), so references stay readable after the
    setting changes. Raises ``StatusBlobMissing``, ``StatusBlobCorrupt`` or ``StorageUnavailable``.
    """
    settings = _settings(settings)
    async with _service(settings) as service:
        blob = service.get_blob_client(ref.container, ref.blob)
        with _storage_errors(f"read {ref.blob}"):
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
    return _decode(ref, data)


def _decode(ref: StatusReference, data: bytes) -> Any:
    if len(data) != ref.size:
        raise StatusBlobCorrupt(ref.container, ref.blob, f"size {len(data)} != {ref.size}")
    digest = hashlib.sha256(data).hexdigest()
    if digest != ref.sha256:
        raise StatusBlobCorrupt(ref.container, ref.blob, f"sha256 {digest} != {ref.sha256}")
    try:
        return json.loads(data.decode("utf-8"))
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
    return await _delete_under(instance_prefix(instance_id), frozenset(), _settings(settings))


async def delete_superseded(
    instance_id: str, keep: set[str], *, settings: StorageSettings | None = None
) -> int:
    """Delete the instance's status blobs whose names are not in ``keep``; returns the count.

    Pass the current and the previous reference's blob names: the previous one survives because a
    client may have read the previous reference just before the status changed and still be
    about to download it.
    """
    return await _delete_under(instance_prefix(instance_id), frozenset(keep), _settings(settings))


async def _delete_under(prefix: str, keep: frozenset[str], settings: StorageSettings) -> int:
    deleted = 0
    async with _service(settings) as service:
        container = service.get_container_client(settings.container)
        with _storage_errors(f"delete under {prefix}"):
            try:
                names = [b.name async for b in container.list_blobs(name_starts_with=prefix)]
            except ResourceNotFoundError:
                return 0  # no container: nothing was ever offloaded
            for name in names:
                if name in keep:
                    continue
                try:
                    await container.delete_blob(name, delete_snapshots="include")
                except ResourceNotFoundError:
                    continue  # deleted concurrently
                deleted += 1
    return deleted


def sas_url(
    ref: StatusReference,
    ttl: timedelta = timedelta(minutes=5),
    *,
    now: datetime | None = None,
    settings: StorageSettings | None = None,
) -> str:
    """A read-only URL for the status blob, valid for ``ttl`` (at most 15 minutes) from ``now``.

    For clients that fetch the large status straight from storage instead of through the app.
    Signed with the account key from the connection string (Azurite's well-known key locally), so
    it needs a key-based connection string. ``now`` exists for tests and clock skew handling.
    No I/O.
    """
    if ttl <= timedelta(0) or ttl > MAX_SAS_TTL:
        raise ValueError(f"ttl must be positive and at most {MAX_SAS_TTL}")
    settings = _settings(settings)
    conn = resolve_connection_string(settings.connection_string)
    parts = parse_connection_string(conn)
    account_name, account_key = parts.get("accountname"), parts.get("accountkey")
    if not account_name or not account_key:
        raise StorageNotConfigured("sas_url needs AccountName and AccountKey in the connection")
    url = SyncBlobClient.from_connection_string(conn, ref.container, ref.blob).url
    start = now if now is not None else datetime.now(timezone.utc)
    token = generate_blob_sas(
        account_name=account_name,
        container_name=ref.container,
        blob_name=ref.blob,
        account_key=account_key,
        permission=BlobSasPermissions(read=True),
        expiry=start + ttl,
        protocol="https" if url.startswith("https://") else None,
    )
    return f"{url}?{token}"


__all__ = [
    "CONTENT_TYPE",
    "DEFAULT_CONTAINER",
    "MAX_SAS_TTL",
    "StorageSettings",
    "close_shared_clients",
    "delete_instance_blobs",
    "delete_superseded",
    "make_reference",
    "read_status",
    "resolve_status",
    "sas_url",
    "store_status",
    "upload_status",
]
