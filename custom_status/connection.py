"""Which storage account status blobs go to, and the clients (and credentials) that reach it.

The connection is read as the Functions host reads ``AzureWebJobsStorage``, so status blobs use
the same storage the host does:

* a connection string (``UseDevelopmentStorage=true`` for Azurite, or an account key where the
  account allows shared keys), or
* identity-based settings, as Microsoft's current templates deploy (Flex Consumption, shared keys
  disabled): ``AzureWebJobsStorage__blobServiceUri`` (or ``__accountName``), with
  ``__credential=managedidentity`` and ``__clientId`` for a user-assigned identity; without
  ``__credential`` a ``DefaultAzureCredential``, as the host uses locally.

``STATUS_BLOB_CONNECTION`` names another connection for status blobs (same rules, that name in
place of ``AzureWebJobsStorage``); ``STATUS_BLOB_CONTAINER`` the container (``custom-status``).

One client (one connection pool) and its credential are shared by every call made on the same
event loop with the same settings, as the Azure SDK guidance asks; both are closed together
(:func:`close_shared_clients`) and never shared across loops (an aiohttp session belongs to one).
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from azure.core.credentials_async import AsyncTokenCredential
from azure.storage.blob.aio import BlobServiceClient, LinearRetry

from custom_status.errors import StorageNotConfigured
from custom_status.wire import (
    CONNECTION_SETTING,
    CONTAINER_SETTING,
    DEFAULT_CONNECTION,
    DEFAULT_CONTAINER,
)

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
    """Where status blobs go and how patiently storage is called.

    Either ``connection_string``, or ``account_url`` with ``credential`` (``"managedidentity"``,
    ``"default"`` for ``DefaultAzureCredential``, or a name registered in
    ``CREDENTIAL_FACTORIES``) and ``client_id`` for a user-assigned identity."""

    connection_string: str = ""
    container: str = DEFAULT_CONTAINER
    connection_timeout: float = 2.0
    """Seconds to open a TCP connection; local or in-region storage connects in milliseconds."""
    read_timeout: float = 30.0
    """Seconds between bytes of a response (not for the whole body: 5 MB is fine)."""
    retry_total: int = 2
    retry_backoff: float = 0.25
    """Seconds between retries (jittered by up to 0.1 s)."""
    write_timeout: float = 30.0
    """Seconds one status write (an upload, an append, the clean-up beside an upload) may take in
    all, the client's retries included; then it fails with ``StorageUnavailable``. Without it an
    attempt against storage that accepts connections but does not answer could wait the read
    timeout on every request and every retry (minutes), while the orchestrator's own retry policy
    (``custom_status.retry.UPLOAD_RETRY``) is what rides out long outages."""
    account_url: str = ""
    credential: str = ""
    client_id: str = ""
    ca_file: str = ""
    """A CA bundle to trust instead of the system's (a local emulator's self-signed certificate)."""

    @property
    def account_key(self) -> tuple[str, str] | None:
        """``(account name, key)`` when the connection string holds a key, else None."""
        if not self.connection_string:
            return None
        parts = parse_connection_string(resolve_connection_string(self.connection_string))
        name, key = parts.get("accountname"), parts.get("accountkey")
        return (name, key) if name and key else None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StorageSettings:
        """Settings from app settings (environment variables in the Functions host)."""
        env = os.environ if environ is None else environ
        name = env.get(CONNECTION_SETTING, "").strip() or DEFAULT_CONNECTION
        container = env.get(CONTAINER_SETTING, "").strip() or DEFAULT_CONTAINER
        raw = env.get(name, "").strip()
        if raw:
            return cls(connection_string=resolve_connection_string(raw), container=container)
        identity = {
            key[len(name) + 2 :].lower(): value.strip()
            for key, value in env.items()
            if key.lower().startswith(name.lower() + "__") and value.strip()
        }
        account_url = identity.get("blobserviceuri") or identity.get("serviceuri", "")
        if not account_url and identity.get("accountname"):
            account_url = f"https://{identity['accountname']}.blob.core.windows.net"
        if not account_url:
            raise StorageNotConfigured(
                f"the app setting {name} is not set, and neither is {name}__blobServiceUri or "
                f"{name}__accountName (identity-based connection)"
            )
        return cls(
            container=container,
            account_url=account_url.rstrip("/"),
            credential=identity.get("credential", "default").lower(),
            client_id=identity.get("clientid", ""),
        )


def _managed_identity(settings: StorageSettings) -> AsyncTokenCredential:
    from azure.identity.aio import ManagedIdentityCredential

    if settings.client_id:
        return ManagedIdentityCredential(client_id=settings.client_id)
    return ManagedIdentityCredential()


def _default_credential(settings: StorageSettings) -> AsyncTokenCredential:
    from azure.identity.aio import DefaultAzureCredential

    if settings.client_id:
        return DefaultAzureCredential(managed_identity_client_id=settings.client_id)
    return DefaultAzureCredential()


CREDENTIAL_FACTORIES: dict[str, Callable[[StorageSettings], AsyncTokenCredential]] = {
    "managedidentity": _managed_identity,
    "default": _default_credential,
}
"""How ``StorageSettings.credential`` becomes a token credential (tests register their own)."""


@dataclass
class _Shared:
    service: BlobServiceClient
    credential: AsyncTokenCredential | None
    extras: dict[str, Any]
    """Per-client caches (the user delegation key of ``sas.py``)."""


_SHARED: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[StorageSettings, _Shared]] = (
    weakref.WeakKeyDictionary()
)


def _new_shared(settings: StorageSettings) -> _Shared:
    options: dict[str, Any] = {
        "retry_policy": LinearRetry(
            backoff=settings.retry_backoff,  # type: ignore[arg-type]
            random_jitter_range=0.1,  # type: ignore[arg-type]
            retry_total=settings.retry_total,
        ),
        "connection_timeout": settings.connection_timeout,
        "read_timeout": settings.read_timeout,
    }
    if settings.ca_file:
        options["connection_verify"] = settings.ca_file
    try:
        if settings.connection_string:
            conn = resolve_connection_string(settings.connection_string)
            return _Shared(BlobServiceClient.from_connection_string(conn, **options), None, {})
        factory = CREDENTIAL_FACTORIES.get(settings.credential)
        if factory is None:
            raise StorageNotConfigured(
                f"unknown credential {settings.credential!r} (use managedidentity, or leave it "
                "out for DefaultAzureCredential)"
            )
        credential = factory(settings)
        return _Shared(
            BlobServiceClient(settings.account_url, credential, **options), credential, {}
        )
    except ValueError as exc:
        raise StorageNotConfigured(f"the storage connection is not usable: {exc}") from exc


@asynccontextmanager
async def shared(settings: StorageSettings) -> AsyncIterator[_Shared]:
    """This event loop's shared client (and credential) for ``settings``, created on first use."""
    clients = _SHARED.setdefault(asyncio.get_running_loop(), {})
    entry = clients.get(settings)
    if entry is None:
        entry = _new_shared(settings)
        await entry.service.__aenter__()
        clients[settings] = entry
    yield entry


@asynccontextmanager
async def service_client(settings: StorageSettings) -> AsyncIterator[BlobServiceClient]:
    async with shared(settings) as entry:
        yield entry.service


async def close_shared_clients() -> None:
    """Close this event loop's shared clients and their credentials (tests, and hosts that stop
    a loop they reuse)."""
    for entry in _SHARED.pop(asyncio.get_running_loop(), {}).values():
        await entry.service.close()
        if entry.credential is not None:
            await entry.credential.close()
