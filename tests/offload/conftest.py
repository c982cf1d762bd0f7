"""Fixtures of the offload tests: the shared session Azurite plus a fresh container per test."""

import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

# The repository root goes on sys.path first (as in tests/unit/conftest.py), so custom_status,
# devhost and tests.support import the same way wherever pytest is started from.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402
from azure.storage.blob.aio import BlobServiceClient, ContainerClient  # noqa: E402

from tests.support.azurite import azurite, azurite_storage  # noqa: E402, F401

# Fixtures below take `request` rather than naming `azurite_storage` as a parameter, which would
# shadow the import above (ruff F811).


@pytest.fixture
def connection_string(request: pytest.FixtureRequest) -> str:
    """The session Azurite's connection string, also set as AzureWebJobsStorage."""
    return request.getfixturevalue("azurite_storage")


@pytest.fixture
def status_container(connection_string: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A container name no other test uses, set as STATUS_BLOB_CONTAINER (not created yet)."""
    name = f"status-{uuid.uuid4().hex[:16]}"
    monkeypatch.setenv("STATUS_BLOB_CONTAINER", name)
    return name


@pytest.fixture
async def container(
    connection_string: str, status_container: str
) -> AsyncIterator[ContainerClient]:
    """A raw client of the test's container, for looking at and tampering with blobs."""
    async with BlobServiceClient.from_connection_string(connection_string) as service:
        yield service.get_container_client(status_container)
