"""Read-only links to one status blob, for clients that fetch a large status straight from storage.

With an account key in the connection (Azurite's well-known key locally, or a key-based account)
the link is an account-key SAS, signed without I/O. Without one, as on an account with shared
keys disabled, it is a **user delegation SAS**: signed with a user delegation key that the app's
identity asks storage for (the Storage Blob Data Owner role it holds anyway allows it). The key is
cached per client and asked for again before it expires, so a busy status page costs one key
request an hour, not one per link. Either way: read only, one blob, HTTPS when the account is,
expiring at most 15 minutes after it is made and never after the key it was signed with.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from azure.storage.blob import BlobSasPermissions, UserDelegationKey, generate_blob_sas
from azure.storage.blob.aio import BlobServiceClient

from custom_status.connection import StorageSettings, shared
from custom_status.errors import StorageNotConfigured
from custom_status.reference import StatusReference

MAX_SAS_TTL = timedelta(minutes=15)
DELEGATION_KEY_LIFETIME = timedelta(hours=1)
"""How long a user delegation key is asked for (storage allows up to seven days)."""
_KEY = "user_delegation_key"


async def sas_url(
    ref: StatusReference,
    ttl: timedelta = timedelta(minutes=5),
    *,
    now: datetime | None = None,
    settings: StorageSettings | None = None,
) -> str:
    """A read-only URL for the status blob, valid for ``ttl`` (at most 15 minutes) from ``now``.
    ``now`` exists for tests and clock-skew handling."""
    if ttl <= timedelta(0) or ttl > MAX_SAS_TTL:
        raise ValueError(f"ttl must be positive and at most {MAX_SAS_TTL}")
    settings = settings if settings is not None else StorageSettings.from_env()
    start = now if now is not None else datetime.now(UTC)
    async with shared(settings) as entry:
        service = entry.service
        url = service.get_blob_client(ref.container, ref.blob).url
        https = url.startswith("https://")
        account_key = settings.account_key
        if account_key is not None:
            name, key = account_key
            token = generate_blob_sas(
                account_name=name,
                container_name=ref.container,
                blob_name=ref.blob,
                account_key=key,
                permission=BlobSasPermissions(read=True),
                expiry=start + ttl,
                protocol="https" if https else None,
            )
            return f"{url}?{token}"
        if settings.connection_string:
            raise StorageNotConfigured(
                "a read-only link needs an account key or an identity: the connection string has "
                "neither (a SAS-only connection string cannot sign one)"
            )
        delegation = await _delegation_key(entry.extras, service, start + ttl)
        expiry = min(start + ttl, _parse_time(delegation.signed_expiry))
        token = generate_blob_sas(
            account_name=service.account_name,
            container_name=ref.container,
            blob_name=ref.blob,
            user_delegation_key=delegation,
            permission=BlobSasPermissions(read=True),
            expiry=expiry,
            protocol="https" if https else None,
        )
        return f"{url}?{token}"


async def _delegation_key(
    cache: dict[str, Any], service: BlobServiceClient, needed_until: datetime
) -> UserDelegationKey:
    """The cached user delegation key, or a new one if it would expire before ``needed_until``."""
    key: UserDelegationKey | None = cache.get(_KEY)
    if key is not None and _parse_time(key.signed_expiry) >= needed_until:
        return key
    start = datetime.now(UTC) - timedelta(minutes=5)  # allow for clock skew
    key = await service.get_user_delegation_key(start, start + DELEGATION_KEY_LIFETIME)
    cache[_KEY] = key
    return key


def _parse_time(text: str | datetime | None) -> datetime:
    if isinstance(text, datetime):
        return text if text.tzinfo else text.replace(tzinfo=UTC)
    if not text:
        return datetime.min.replace(tzinfo=UTC)
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
