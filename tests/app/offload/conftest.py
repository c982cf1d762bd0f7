"""Fixtures of the app's offload end-to-end tests: Azurite, and devhost running the app on it.

The custom_status package's own end-to-end tests are in tests/custom_status. One devhost
(``app/``: the real app plus the test-only ``StatusScript``) serves the whole session
on the session Azurite, with its own container; tests use fresh instance ids. Tests that stop
storage start their own Azurite and devhost (``test_storage_outage.py``).
"""

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402

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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here is end to end (``-m "not e2e"`` skips them)."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def container_name() -> str:
    """The status container of the session's devhost (created by the first upload)."""
    return f"e2e-{uuid.uuid4().hex[:12]}"


def start_devhost(tmp: Path, connection_string: str, container: str) -> DevhostProcess:
    env = {"AzureWebJobsStorage": connection_string, "STATUS_BLOB_CONTAINER": container}
    return DevhostProcess(APP_DIR, tmp / "state.sqlite", env).start()


@pytest.fixture(scope="session")
def host(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, container_name: str
) -> Iterator[DevhostProcess]:
    """devhost running the test app on the session Azurite (manual clock, test hooks)."""
    storage: Azurite = request.getfixturevalue("azurite")
    process = start_devhost(
        tmp_path_factory.mktemp("devhost"), storage.connection_string, container_name
    )
    yield process
    assert process.stop() == 0, process.log
