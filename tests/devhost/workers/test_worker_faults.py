"""devhost's workers fail, block and time out as the Functions host's do, and the host stays up.

The app (``apps/faults``) misbehaves on purpose. Every test runs real worker processes; none
waits by sleeping: each waits for a response, a log line, a worker becoming ready, or a process
ending (``pidfd``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import select
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from devhost.core.options import HostOptions
from devhost.server import DevHost
from tests.support.devhost_process import ROOT, DevhostProcess
from tests.support.refused_apps import DICT_ANNOTATED_ACTIVITY, DICT_ANNOTATION_REFUSAL

FAULTS_APP = Path(__file__).parent / "apps" / "faults"
WEBHOOK = "/runtime/webhooks/durabletask"

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _restore_environ(restore_environ: None) -> None:
    """Each test starts with the environment the one before it found."""


@pytest.fixture
def start_host() -> Callable[..., Any]:
    @asynccontextmanager
    async def start(**env: str) -> AsyncIterator[DevHost]:
        os.environ.update(env)
        options = HostOptions(app_dir=FAULTS_APP, port=0, in_memory=True, start_azurite=False)
        async with DevHost(options) as host:
            yield host

    return start


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def get_text(http: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with http.get(url) as response:
        return response.status, await response.text()


async def test_a_worker_that_exits_answers_500_and_a_new_worker_serves_the_next_request(
    start_host: Callable[..., Any], http: aiohttp.ClientSession
) -> None:
    async with start_host() as host:
        [first] = host.worker_pids
        status, body = await get_text(http, host.base_url + "/api/exit")
        assert status == 500
        assert json.loads(body)["error"] == "InternalServerError"  # no traceback, no exit code
        status, served_by = await get_text(http, host.base_url + "/api/pid")
        assert status == 200
        assert int(served_by) != first
        assert host.worker_pids == [int(served_by)]
        assert host.running_app is not None and host.running_app.pool.restarts == 1


async def test_a_blocked_worker_does_not_delay_the_durable_api(
    start_host: Callable[..., Any], http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    """The function blocks its worker's event loop; the host's own loop stays free."""
    release = tmp_path / "release"
    async with start_host() as host:
        blocked = asyncio.create_task(get_text(http, f"{host.base_url}/api/block?until={release}"))
        instance_id = await host.engine.start_orchestration("CallsSlow", "blocked-1", None)
        async with http.get(f"{host.base_url}{WEBHOOK}/instances/{instance_id}") as response:
            assert response.status in (200, 202)
            assert (await response.json())["instanceId"] == instance_id
        async with http.get(f"{host.base_url}{WEBHOOK}/instances") as response:
            assert response.status == 200
        assert not blocked.done()  # the durable API answered while the function was blocked
        release.touch()
        assert await blocked == (200, "released")


async def test_two_worker_processes_share_the_invocations(
    start_host: Callable[..., Any], http: aiohttp.ClientSession
) -> None:
    async with start_host(FUNCTIONS_WORKER_PROCESS_COUNT="2") as host:
        assert host.running_app is not None
        pids = await host.running_app.pool.wait_for_workers(2)
        served = {int((await get_text(http, host.base_url + "/api/pid"))[1]) for _ in range(4)}
        assert served == set(pids) and len(served) == 2
        assert os.getpid() not in served


async def test_a_worker_process_count_out_of_range_is_refused(
    start_host: Callable[..., Any],
) -> None:
    with pytest.raises(Exception, match="from 1 to 10"):
        async with start_host(FUNCTIONS_WORKER_PROCESS_COUNT="11"):
            pass


async def test_function_timeout_fails_the_invocation_and_restarts_its_worker(
    start_host: Callable[..., Any], http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    async with start_host() as host:
        [first] = host.worker_pids
        status, body = await get_text(http, host.base_url + "/api/forever")
        assert status == 500 and json.loads(body)["error"] == "InternalServerError"
        assert "Timeout value of 00:00:02 exceeded by function 'Functions.forever'" in caplog.text
        assert "A function timeout has occurred. Restarting worker process" in caplog.text
        status, served_by = await get_text(http, host.base_url + "/api/pid")
        assert status == 200 and int(served_by) != first


async def test_function_timeout_fails_an_activity_with_the_hosts_message(
    start_host: Callable[..., Any],
) -> None:
    async with start_host() as host:
        instance_id = await host.engine.start_orchestration("CallsSlow", "slow-1", None)
        status = await host.engine.wait_for(instance_id, lambda s: s["runtimeStatus"] == "Failed")
        assert (
            "Activity function 'Slow' failed: Timeout value of 00:00:02 was exceeded by "
            "function: Functions.Slow"
        ) in status["output"]


async def test_a_worker_that_exits_under_an_activity_fails_its_task(
    start_host: Callable[..., Any],
) -> None:
    """The extension counts a failed invocation as the activity's failure
    (``FunctionExecutionHelper.ExecuteActivityFunction``: not a runtime error)."""
    async with start_host() as host:
        instance_id = await host.engine.start_orchestration("CallsExit", "exit-1", None)
        status = await host.engine.wait_for(instance_id, lambda s: s["runtimeStatus"] == "Failed")
        assert (
            "Activity function 'Exit' failed: python exited with code 4 (0x4)" in status["output"]
        )


async def test_python_threadpool_thread_count_reaches_the_worker(
    start_host: Callable[..., Any], http: aiohttp.ClientSession
) -> None:
    async with start_host() as host:  # local.settings.json sets it to 3
        assert await get_text(http, host.base_url + "/api/threads") == (200, "3")


def run_cli(app_dir: Path) -> subprocess.CompletedProcess[str]:
    """``python -m devhost`` on ``app_dir``, expected to refuse it at start-up."""
    return subprocess.run(
        [sys.executable, "-m", "devhost", "--app-dir", str(app_dir), "--port", "0",
         "--in-memory", "--no-azurite"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip


def test_the_cli_refuses_an_app_the_worker_refuses_with_the_workers_words(tmp_path: Path) -> None:
    (tmp_path / "function_app.py").write_text(DICT_ANNOTATED_ACTIVITY)
    done = run_cli(tmp_path)
    assert done.returncode == 1
    assert "devhost: Initializing worker process failed\nResult: Failure\n" in done.stderr
    assert f"Exception: {DICT_ANNOTATION_REFUSAL}" in done.stderr
    assert "listening on" not in done.stdout


def wait_until_gone(pid: int, timeout: float) -> bool:
    """True once process ``pid`` has ended (a pidfd turns readable), False after ``timeout``."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        readable, _, _ = select.select([fd], [], [], timeout)
        return bool(readable)
    finally:
        os.close(fd)


@pytest.mark.crash
def test_no_worker_outlives_a_devhost_killed_with_sigkill(tmp_path: Path) -> None:
    """Workers notice the closed stream and exit, as the host's do when it dies."""
    host = DevhostProcess(
        FAULTS_APP, tmp_path / "state.sqlite", env={"FUNCTIONS_WORKER_PROCESS_COUNT": "2"},
        extra_args=("--no-azurite",),
    ).start()  # fmt: skip
    try:
        host.wait_for_line(r"Worker process started and initialized \(pid \d+\)", count=2)
        pids = [
            int(line.split("(pid ")[1].split(")")[0])
            for line in host.lines
            if "Worker process started and initialized" in line
        ]
        assert len(pids) == 2
        for pid in pids:
            os.kill(pid, 0)  # alive
    finally:
        assert host.process is not None
        host.process.send_signal(signal.SIGKILL)
        host.process.wait(timeout=30)
    assert all(wait_until_gone(pid, timeout=30) for pid in pids)


async def test_function_timeout_aborts_an_orchestrator_episode_which_runs_again(
    start_host: Callable[..., Any], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``DurableTaskExtension``: a timed-out orchestrator invocation is aborted and retried, not
    failed; the instance completes once an episode finishes in time."""
    async with start_host() as host:
        marker = json.dumps(json.dumps(str(tmp_path / "first-episode")))  # as start_new sends
        instance_id = await host.engine.start_orchestration("StallsOnce", "stalls-1", marker)
        status = await host.engine.wait_for(instance_id, lambda s: s["runtimeStatus"] != "Pending"
                                            and s["runtimeStatus"] != "Running")  # fmt: skip
        assert (status["runtimeStatus"], status["output"]) == ("Completed", "ran again")
        assert "exceeded by function 'Functions.StallsOnce'" in caplog.text
        assert "The episode is aborted and will run again" in caplog.text


async def test_the_workers_log_lines_carry_their_function_and_invocation(
    start_host: Callable[..., Any], http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="devhost.app"):
        async with start_host() as host, http.get(host.base_url + "/api/logs") as response:
            assert response.status == 200
            invocation = response.headers.get("x-devhost-invocation")
    lines = {(r.levelno, r.getMessage()) for r in caplog.records if r.name == "devhost.app"}
    warning = [m for level, m in lines if level == logging.WARNING]
    info = [m for level, m in lines if level == logging.INFO]
    assert any(m.startswith("Functions.logs (Id=") and m.endswith("): a warning from the app")
               for m in warning), lines  # fmt: skip
    assert any(m.endswith("): an info line from the app") for m in info), lines
    assert invocation is None  # nothing of the host's is added to the app's response


def test_an_http_streaming_app_is_refused_at_start_up_in_one_line() -> None:
    done = run_cli(Path(__file__).parent / "apps" / "streaming")
    assert done.returncode == 1
    [refusal] = [line for line in done.stderr.splitlines() if line.startswith("devhost:")]
    assert "uses HTTP streaming (azurefunctions-extensions-http-fastapi)" in refusal
    assert "listening on" not in done.stdout
