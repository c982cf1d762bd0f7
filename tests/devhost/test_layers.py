"""devhost's layers hold, and the contracts would catch a wrong import.

The contracts live in pyproject.toml (``[tool.importlinter]``): imports only go downward
(protocol ← core ← app ← workers ← runtime ← http ← dev and dashboard ← server ← __main__),
protocol and core are pure, SQL stays in the store, devhost never imports the app, the worker
launcher stays light, and no module cycle exists. ``lint-imports`` checks them on the real
tree; a copy with one wrong import shows that a break is reported, naming the contract and the
import.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=300,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip


def test_every_contract_holds_on_the_tree() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "0 broken" in done.stdout


def test_an_upward_import_breaks_the_layers_contract(tmp_path: Path) -> None:
    for name in ("devhost", "orchestrators", "activities", "clients", "custom_status"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    records = tmp_path / "devhost" / "core" / "records.py"
    records.write_text(records.read_text() + "\nfrom devhost.http import durable_api  # wrong\n")
    done = lint_imports(tmp_path)
    assert done.returncode != 0
    assert "devhost's layers: imports only go downward BROKEN" in done.stdout
    assert "devhost.core.records -> devhost.http.durable_api" in done.stdout
    assert "protocol and core are pure" in done.stdout and "BROKEN" in done.stdout
