"""The committed modules of devhost.workers.rpc are exactly what its generator writes today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from devhost.workers.rpc import generate

ROOT = Path(__file__).resolve().parents[3]


def test_regenerating_yields_the_committed_modules_byte_for_byte(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "devhost.workers.rpc.generate", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(generate.OUTPUTS)
    stale = [
        name
        for name in generate.OUTPUTS
        if (tmp_path / name).read_bytes() != (generate.HERE / name).read_bytes()
    ]
    assert not stale, f"stale: {stale}; run: python -m devhost.workers.rpc.generate"


def test_the_service_module_imports_the_messages_relatively():
    service = (generate.HERE / generate.SERVICE).read_text()
    assert "from . import function_rpc_pb2 as " in service
    assert "import devhost" not in service and "from devhost" not in service
