"""Status blobs without account keys, against a real Azurite serving HTTPS with ``--oauth basic``:
identity-based settings as Flex Consumption deploys them, a token credential, and user delegation
SAS links (``custom_status/connection.py``, ``custom_status/sas.py``).

The fixture makes a self-signed certificate for 127.0.0.1; the credential hands out well-formed
tokens for ``https://storage.azure.com`` (Azurite's basic OAuth checks format, lifetime, issuer and
audience, not signatures).
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import ssl
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from custom_status import StatusReference, StorageRefused, serialize
from custom_status.blobs import (
    StorageSettings,
    close_shared_clients,
    delete_instance_blobs,
    read_status,
    sas_url,
    upload_status,
)
from custom_status.connection import CREDENTIAL_FACTORIES
from devhost.dev.azurite import Azurite

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
STATUS = {"rows": [{"i": i, "city": "Zürich 😀"} for i in range(2_000)]}


def make_certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _b64(data: dict[str, Any] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class TokenCredential:
    """An async token credential handing out unsigned tokens for ``audience``."""

    def __init__(self, audience: str) -> None:
        self.audience = audience
        self.requests = 0

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.requests += 1
        now = int(time.time())
        claims = {
            "aud": self.audience,
            "iss": f"https://sts.windows.net/{TENANT}/",
            "iat": now,
            "nbf": now - 60,
            "exp": now + 3600,
            "oid": "0b6d1e4e-7c0a-4f7e-9a43-0f1c3c2a9d11",
            "tid": TENANT,
        }
        token = ".".join([_b64({"alg": "RS256", "typ": "JWT"}), _b64(claims), _b64(b"sig")])
        return AccessToken(token, now + 3600)

    async def close(self) -> None:
        pass

    async def __aenter__(self) -> TokenCredential:
        return self

    async def __aexit__(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def secure_azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    folder = tmp_path_factory.mktemp("azurite-tls")
    tls = make_certificate(folder)
    with Azurite(folder / "data", port=0, tls=tls, oauth=True) as server:
        yield server


@pytest.fixture
async def keyless(
    secure_azurite: Azurite, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[StorageSettings]:
    """Identity-based settings as the host reads them, with the test credential."""
    monkeypatch.setitem(
        CREDENTIAL_FACTORIES, "test-token", lambda _: TokenCredential("https://storage.azure.com")
    )
    cert = secure_azurite.tls[0]  # type: ignore[index]
    env = {
        "AzureWebJobsStorage__blobServiceUri": secure_azurite.blob_endpoint,
        "AzureWebJobsStorage__credential": "test-token",
        "STATUS_BLOB_CONTAINER": "keyless",
    }
    from_env = StorageSettings.from_env(env)
    settings = StorageSettings(
        container=from_env.container,
        account_url=from_env.account_url,
        credential=from_env.credential,
        ca_file=str(cert),
    )
    yield settings
    await close_shared_clients()


def trusting(azurite: Azurite) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(azurite.tls[0]))  # type: ignore[index]


def test_identity_based_settings_are_read_as_the_host_reads_them() -> None:
    settings = StorageSettings.from_env(
        {
            "AzureWebJobsStorage__accountName": "prodstatus",
            "AzureWebJobsStorage__credential": "managedidentity",
            "AzureWebJobsStorage__clientId": "11111111-2222-3333-4444-555555555555",
        }
    )
    assert settings.account_url == "https://prodstatus.blob.core.windows.net"
    assert (settings.credential, settings.client_id) == (
        "managedidentity",
        "11111111-2222-3333-4444-555555555555",
    )
    assert settings.connection_string == "" and settings.account_key is None
    own = StorageSettings.from_env(
        {
            "STATUS_BLOB_CONNECTION": "StatusStorage",
            "StatusStorage__blobServiceUri": "https://other.blob.core.windows.net/",
            "AzureWebJobsStorage": "UseDevelopmentStorage=true",
        }
    )
    assert (own.account_url, own.credential) == ("https://other.blob.core.windows.net", "default")


async def test_upload_read_and_purge_with_a_token_and_no_key(keyless: StorageSettings) -> None:
    ref = await upload_status("keyless-1", serialize(STATUS), settings=keyless)
    assert await read_status(ref, settings=keyless) == STATUS
    assert await delete_instance_blobs("keyless-1", settings=keyless) == 1


async def test_a_user_delegation_sas_reads_the_blob_and_a_tampered_one_does_not(
    keyless: StorageSettings, secure_azurite: Azurite
) -> None:
    ref = await upload_status("keyless-2", serialize(STATUS), settings=keyless)
    url = await sas_url(ref, settings=keyless)
    query = parse_qs(urlsplit(url).query)
    assert query["sp"] == ["r"] and query["spr"] == ["https"] and "skoid" in query  # delegation
    async with aiohttp.ClientSession() as http:
        async with http.get(url, ssl=trusting(secure_azurite)) as response:
            assert response.status == 200
            assert json.loads(await response.read()) == STATUS
        tampered = {k: v[0] for k, v in query.items()} | {"sp": "rw"}
        base = url.split("?", 1)[0]
        async with http.get(f"{base}?{urlencode(tampered)}", ssl=trusting(secure_azurite)) as bad:
            assert bad.status == 403
    await delete_instance_blobs("keyless-2", settings=keyless)


async def test_the_delegation_key_is_reused_across_links(keyless: StorageSettings) -> None:
    ref = StatusReference("keyless", "status/x.json", 1, 2, "0" * 64)
    first = parse_qs(urlsplit(await sas_url(ref, settings=keyless)).query)
    second = parse_qs(urlsplit(await sas_url(ref, settings=keyless)).query)
    assert first["skoid"] == second["skoid"] and first["ske"] == second["ske"]


async def test_a_token_for_another_audience_is_refused(
    secure_azurite: Azurite, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(
        CREDENTIAL_FACTORIES, "wrong-audience", lambda _: TokenCredential("https://vault.azure.net")
    )
    settings = StorageSettings(
        container="keyless",
        account_url=secure_azurite.blob_endpoint,
        credential="wrong-audience",
        ca_file=str(secure_azurite.tls[0]),  # type: ignore[index]
    )
    try:
        with pytest.raises(StorageRefused) as refused:  # configuration, not an outage
            await upload_status("keyless-3", serialize({"a": 1}), settings=settings)
        assert refused.value.status_code in (401, 403)
        assert isinstance(refused.value.__cause__, HttpResponseError)
    finally:
        await close_shared_clients()
