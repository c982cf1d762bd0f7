"""Fixtures the end-to-end folders on devhost and Azurite share (``tests/custom_status`` and
``tests/app/offload``). Each folder's conftest imports them; ``container_name`` (and ``azurite``)
come from that folder's own conftest, so each gets its own container."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
from azure.storage.blob.aio import BlobServiceClient, ContainerClient

from devhost.dev.azurite import Azurite


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def blobs(
    request: pytest.FixtureRequest, container_name: str
) -> AsyncIterator[ContainerClient]:
    """A raw client of the session devhost's container, to look at and tamper with blobs."""
    storage: Azurite = request.getfixturevalue("azurite")
    async with BlobServiceClient.from_connection_string(storage.connection_string) as service:
        yield service.get_container_client(container_name)


@pytest.fixture
def app_settings(
    request: pytest.FixtureRequest, container_name: str, monkeypatch: pytest.MonkeyPatch
) -> str:
    """For tests calling the app's functions in-process: the same storage settings as ``host``."""
    connection_string = request.getfixturevalue("azurite_storage")
    monkeypatch.setenv("STATUS_BLOB_CONTAINER", container_name)
    return connection_string


@pytest.fixture
def instance_id(request: pytest.FixtureRequest) -> str:
    """A fresh instance id named after the test (readable in devhost's log and blob names)."""
    readable = re.sub(r"[^A-Za-z0-9_-]+", "-", request.node.name)[:40]
    return f"{readable}-{uuid.uuid4().hex[:8]}"
