"""Kill devhost with SIGKILL in the middle of orchestrations, restart it on the same state file.

Every instance must finish with the right output; no completed activity result may be lost; and
every activity must have run at least once (re-running one that was in flight is allowed).
"""

import collections
from pathlib import Path

import aiohttp
import pytest

from tests.support.devhost_process import ROOT, DevhostProcess
from tests.support.http import start_like_the_sdk, wait_until

PATTERNS_APP = ROOT / "tests" / "apps" / "patterns"
INSTANCES = 5
STEPS = 40

pytestmark = pytest.mark.crash


def journal_runs(journal: Path) -> collections.Counter[tuple[str, int]]:
    runs: collections.Counter[tuple[str, int]] = collections.Counter()
    if journal.exists():
        for line in journal.read_text().splitlines():
            instance_id, step = line.split()
            runs[(instance_id, int(step))] += 1
    return runs


async def test_sigkill_mid_run_then_restart_completes_every_instance(tmp_path: Path) -> None:
    journal = tmp_path / "journal.txt"
    state = tmp_path / "state.sqlite"
    env = {"PATTERNS_JOURNAL": str(journal)}
    first = DevhostProcess(PATTERNS_APP, state, env, extra_args=("--no-azurite",)).start()
    ids = [f"journal-{n}" for n in range(INSTANCES)]
    try:
        async with aiohttp.ClientSession() as session:
            for instance_id in ids:
                await start_like_the_sdk(session, first.base_url, "Journal", STEPS, instance_id)
        first.wait_for_line(r"Executed 'Functions\.Record'", count=20)
    finally:
        first.kill()
    runs_at_kill = sum(journal_runs(journal).values())
    assert runs_at_kill < INSTANCES * STEPS, "the host finished before it was killed"

    second = DevhostProcess(PATTERNS_APP, state, env, extra_args=("--no-azurite", "--test-hooks"))
    second.start()
    try:
        async with aiohttp.ClientSession() as session:
            for instance_id in ids:
                status = await wait_until(session, second.base_url, instance_id)
                assert status["runtimeStatus"] == "Completed", status
                assert status["output"] == list(range(STEPS))
    finally:
        assert second.stop() == 0

    runs = journal_runs(journal)
    missing = [(i, s) for i in ids for s in range(STEPS) if runs[(i, s)] == 0]
    assert missing == []
    # Only activities in flight at the kill may run twice: never a whole instance again.
    assert sum(runs.values()) - INSTANCES * STEPS <= INSTANCES
