"""custom_status as another team takes it: a wheel of the package alone, installed into a clean
Python 3.13 virtualenv with only the Azure packages, and a minimal app (``wheel_app/``) on it
under devhost, whose workers run that virtualenv's interpreter (``--worker-python``) so nothing
of this repository is importable by the app.

The virtualenv gets the wheel (which brings its own dependencies) and what Azure's Python worker
brings itself, at the versions devhost runs on (requirements-dev.txt): the worker library
``azure-functions-runtime``, ``grpcio`` and ``protobuf``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import uuid
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from devhost.dev.azurite import Azurite
from tests.support.devhost_process import DevhostProcess
from tests.support.http import start_like_the_sdk, wait_until

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
APP_DIR = Path(__file__).resolve().parent / "wheel_app"
WORKER_PACKAGES = ("azure-functions-runtime", "grpcio", "protobuf")


def pinned(name: str) -> str:
    """``name==X`` as requirements-dev.txt pins it."""
    found = re.findall(
        rf"^{re.escape(name)}==\S+", (ROOT / "requirements-dev.txt").read_text(), re.M
    )
    assert len(found) == 1, (name, found)
    return found[0]


def run(*command: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, timeout=600, cwd=cwd
    )
    assert done.returncode == 0, (command, done.stdout[-3000:], done.stderr[-3000:])
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of pyproject.toml and custom_status/ alone: the build needs
    nothing else of the repository (and leaves no build folders in it)."""
    source = tmp_path_factory.mktemp("source")
    shutil.copy(ROOT / "pyproject.toml", source)
    skip = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "custom_status", source / "custom_status", ignore=skip)
    dist = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
        "--wheel-dir", dist, source)  # fmt: skip
    (built,) = dist.glob("durable_custom_status-*.whl")
    return built


@pytest.fixture(scope="module")
def app_python(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean virtualenv with the wheel and the worker's packages; its interpreter."""
    assert sys.version_info >= (3, 13), sys.version  # the venv is made with this interpreter
    env_dir = tmp_path_factory.mktemp("app-venv")
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", wheel, *map(pinned, WORKER_PACKAGES))
    return python


@pytest.fixture(scope="module")
def wheel_host(
    request: pytest.FixtureRequest, app_python: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DevhostProcess]:
    storage: Azurite = request.getfixturevalue("azurite")
    env = {
        "AzureWebJobsStorage": storage.connection_string,
        "STATUS_BLOB_CONTAINER": f"wheel-{uuid.uuid4().hex[:12]}",
    }
    args = ("--manual-clock", "--test-hooks", "--no-azurite", "--worker-python", str(app_python))
    state = tmp_path_factory.mktemp("wheel-devhost") / "state.sqlite"
    process = DevhostProcess(APP_DIR, state, env, extra_args=args).start()
    yield process
    assert process.stop() == 0, process.log


def test_the_wheel_holds_the_package_alone_with_its_dependencies(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        requires = re.findall(r"^Requires-Dist: (.+)$", archive.read(metadata).decode(), re.M)
    packages = {name.split("/")[0] for name in names if not name.startswith("durable_custom")}
    assert packages == {"custom_status"}, packages
    assert {"custom_status/__init__.py", "custom_status/README.md", "custom_status/py.typed"} <= (
        set(names)
    )
    assert not [name for name in names if "test" in name.lower()], names
    runtime = {re.split(r"[<>=;\s]", req)[0] for req in requires if "extra ==" not in req}
    assert runtime == {
        "azure-functions",
        "azure-functions-durable",
        "azure-storage-blob",
        "azure-identity",
        "aiohttp",
    }
    assert any(req.startswith("rich") and 'extra == "watch"' in req for req in requires)


async def read(http: aiohttp.ClientSession, host: DevhostProcess, instance_id: str) -> tuple:
    async with http.get(f"{host.base_url}/api/status/{instance_id}") as response:
        assert response.status == 200, await response.text()
        return await response.json(), response.headers["X-Package"]


async def test_an_app_on_the_wheel_sets_and_reads_large_statuses(
    wheel_host: DevhostProcess, app_python: Path
) -> None:
    async with aiohttp.ClientSession() as http:
        report = await start_like_the_sdk(http, wheel_host.base_url, "Report", 100)
        table = await start_like_the_sdk(http, wheel_host.base_url, "Table", 300)
        for instance_id in (report, table):
            final = await wait_until(http, wheel_host.base_url, instance_id)
            assert final["runtimeStatus"] == "Completed", final

        status, package = await read(http, wheel_host, report)
        assert status["customStatus"] == {"text": "é" * 512 * 100}  # ~100 KB in the host's count
        assert status["instanceId"] == report and status["name"] == "Report"
        # The worker imported the installed wheel, not this repository's folder.
        assert Path(package).is_relative_to(app_python.parent.parent), package

        status, _ = await read(http, wheel_host, table)
        assert status["customStatus"] == {
            "done": 300,
            "total": 300,
            "items": [{"row": n, "city": "Zürich"} for n in range(300)],
        }

        unknown, _ = await read(http, wheel_host, "nobody-" + uuid.uuid4().hex)
        assert unknown is None

        built_in = f"{wheel_host.base_url}/runtime/webhooks/durabletask/instances/{report}"
        async with http.get(built_in) as response:  # the host holds the small reference
            stored = (await response.json())["customStatus"]
        assert set(stored) == {"$customStatusRef"} and stored["$customStatusRef"]["summary"] == {
            "kb": 100
        }
