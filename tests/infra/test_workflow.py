"""The deploy workflow: valid against the published GitHub workflow schema (vendored in
check-jsonschema, so no download), clean under zizmor's offline audits, actions pinned by commit."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "deploy.yml"
BIN = Path(sys.executable).parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_the_workflow_matches_githubs_schema() -> None:
    result = run(str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                 str(WORKFLOW))  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing_offline() -> None:
    zizmor = shutil.which("zizmor", path=str(BIN)) or "zizmor"
    result = run(zizmor, "--offline", str(WORKFLOW))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_action_is_pinned_by_commit_and_signs_in_with_oidc() -> None:
    text = WORKFLOW.read_text()
    uses = re.findall(r"uses:\s*(\S+)", text)
    assert uses and all(re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", use) for use in uses), uses
    assert "id-token: write" in text and "--federated-credential-provider github" in text
    assert "secrets." not in text  # nothing stored: OIDC only
