"""Session-wide Azurite for tests that need real Blob storage.

Use from any test folder by importing the fixtures into that folder's ``conftest.py``::

    from tests.support.azurite import azurite, azurite_storage  # noqa: F401 (pytest fixtures)

``azurite`` starts one Azurite Blob service per test session (``devhost.dev.azurite.Azurite`` on a
port Azurite picks itself, data in a temporary directory) and stops it at the end.
``azurite_storage`` additionally sets ``AzureWebJobsStorage`` to its connection string for the rest
of the session, so code that reads app settings (``custom_status.blobs``) talks to it. Tests that
need isolation should use their own container (see ``tests/custom_status/conftest.py``:
``status_container``).

A missing ``node_modules`` fails the fixture with the message to run ``npm ci``: tests that need
storage should not silently pass without it.

``write_blob`` and ``read_blob`` are one synchronous request each, for tests that check an Azurite
serves (and keeps) data across restarts.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from azure.storage.blob import BlobServiceClient

from devhost.dev.azurite import Azurite


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """One running Azurite Blob service for the session (``.connection_string``, ``.blob_port``)."""
    with Azurite(tmp_path_factory.mktemp("azurite"), port=0) as server:
        yield server


@pytest.fixture(scope="session")
def azurite_storage(azurite: Azurite) -> Iterator[str]:
    """``AzureWebJobsStorage`` set to the session Azurite; yields the connection string."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AzureWebJobsStorage", azurite.connection_string)
        yield azurite.connection_string


def write_blob(connection_string: str, container: str, blob: str, data: bytes) -> None:
    """Upload ``data`` (creating the container if needed); raises if storage does not answer."""
    with BlobServiceClient.from_connection_string(connection_string, retry_total=0) as service:
        client = service.get_container_client(container)
        if not client.exists():
            client.create_container()
        client.upload_blob(blob, data, overwrite=True)


def read_blob(connection_string: str, container: str, blob: str) -> bytes:
    """The blob's bytes; raises if it is missing or storage does not answer."""
    with BlobServiceClient.from_connection_string(connection_string, retry_total=0) as service:
        return service.get_blob_client(container, blob).download_blob().readall()
