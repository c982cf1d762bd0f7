"""Fixtures of the custom_status package's tests.

Storage: the session Azurite (``tests.support.azurite``) with a fresh container per test
(``status_container``, ``container``), or the session devhost's (``container_name``, ``blobs``).

devhost: ``host`` runs ``app/``, an app made only of the package's public API (its blueprint, two
test orchestrators that set statuses through ``set_custom_status`` and
``append_custom_status``, and ``status_response`` and ``get_status`` routes), on the session
Azurite; tests use fresh instance ids. Every test that uses it is marked ``e2e`` here.
"""

import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

# The repository root goes on sys.path first (as in tests/app/conftest.py), so custom_status,
# devhost and tests.support import the same way wherever pytest is started from.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402
from azure.storage.blob.aio import BlobServiceClient, ContainerClient  # noqa: E402

from devhost.dev.azurite import Azurite  # noqa: E402
from tests.support.azurite import azurite, azurite_storage  # noqa: E402, F401
from tests.support.devhost_process import DevhostProcess  # noqa: E402
from tests.support.storage_fixtures import (  # noqa: E402, F401 (pytest fixtures)
    app_settings,
    blobs,
    http,
    instance_id,
)

APP_DIR = Path(__file__).resolve().parent / "app"

# Fixtures below take `request` rather than naming `azurite_storage` as a parameter, which would
# shadow the import above (ruff F811).


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that runs devhost is end to end (``-m "not e2e"`` skips it)."""
    here = Path(__file__).resolve().parent
    for item in items:
        in_here = here in Path(str(item.fspath)).resolve().parents
        if in_here and "host" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.e2e)


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


@pytest.fixture(scope="session")
def container_name() -> str:
    """The status container of the session's devhost (created by the first upload)."""
    return f"e2e-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def host(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, container_name: str
) -> Iterator[DevhostProcess]:
    """devhost running ``app/`` on the session Azurite (manual clock, test hooks)."""
    storage: Azurite = request.getfixturevalue("azurite")
    env = {
        "AzureWebJobsStorage": storage.connection_string,
        "STATUS_BLOB_CONTAINER": container_name,
    }
    state = tmp_path_factory.mktemp("devhost") / "state.sqlite"
    process = DevhostProcess(APP_DIR, state, env).start()
    yield process
    assert process.stop() == 0, process.log


@pytest.fixture(scope="session")
def get_instance_status() -> Callable[..., Any]:
    """A status route as an app writes it with ``status_response`` (``app/``'s), called
    in-process with a stand-in durable client: ``await get_instance_status(req=, client=)``."""
    from custom_status import status_response

    async def route(req: Any, client: Any) -> Any:
        return await status_response(req, client, req.route_params["instanceId"])

    return route
