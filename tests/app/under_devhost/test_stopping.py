"""Stopping devhost while a synchronous activity is blocked: SIGTERM or Ctrl+C ends the process
promptly and cleanly (the activity is abandoned, not awaited), a second Ctrl+C prints no traceback,
and after a restart the abandoned activity runs again, as on the Functions host."""

import signal
import subprocess
from pathlib import Path

import aiohttp
import pytest

from tests.support.devhost_process import ROOT, DevhostProcess
from tests.support.http import start_like_the_sdk, wait_until

PATTERNS_APP = ROOT / "tests" / "apps" / "patterns"
# Generous bounds, never reached by a working host: without the fix the process never exits.
EXIT_BOUND_SECONDS = 30

pytestmark = pytest.mark.crash


async def start_blocked(tmp_path: Path, gate: Path) -> DevhostProcess:
    host = DevhostProcess(PATTERNS_APP, tmp_path / "state.sqlite", extra_args=("--no-azurite",))
    host.start()
    async with aiohttp.ClientSession() as session:
        await start_like_the_sdk(session, host.base_url, "Gated", str(gate), "gated")
    host.wait_for_line(r"WaitAtGate: waiting for")
    return host


def wait_for_exit(host: DevhostProcess) -> int:
    assert host.process is not None
    try:
        return host.process.wait(timeout=EXIT_BOUND_SECONDS)
    except subprocess.TimeoutExpired:
        host.process.kill()
        pytest.fail("devhost did not exit while an activity was blocked:\n" + host.log)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl+C"])
async def test_a_stop_does_not_wait_for_a_blocked_activity_which_reruns_after_restart(
    tmp_path: Path, sig: signal.Signals
) -> None:
    gate = tmp_path / "gate"
    host = await start_blocked(tmp_path, gate)
    assert host.process is not None
    host.process.send_signal(sig)
    assert wait_for_exit(host) == 0
    assert "Traceback" not in host.log

    gate.touch()  # the activity will pass the gate the next time it runs
    again = DevhostProcess(
        PATTERNS_APP, tmp_path / "state.sqlite", extra_args=("--no-azurite", "--test-hooks")
    ).start()
    try:
        async with aiohttp.ClientSession() as session:
            status = await wait_until(session, again.base_url, "gated")
        assert (status["runtimeStatus"], status["output"]) == ("Completed", "opened")
        assert "WaitAtGate: waiting for" in again.log  # it ran again
    finally:
        assert again.stop() == 0


async def test_a_second_ctrl_c_while_stopping_prints_no_traceback(tmp_path: Path) -> None:
    host = await start_blocked(tmp_path, tmp_path / "gate")
    assert host.process is not None
    host.process.send_signal(signal.SIGINT)
    host.process.send_signal(signal.SIGINT)
    assert wait_for_exit(host) in (0, 130)
    assert "Traceback" not in host.log
