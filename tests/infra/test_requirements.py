"""requirements.txt alone is enough to run the app: a clean virtualenv with only it installed
indexes function_app.py as the Python worker does (every function, its bindings and auth level),
so a runtime dependency that only requirements-dev.txt brings in fails here, not on Azure."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

INDEX = """
import json, sys
sys.path.insert(0, sys.argv[1])
import function_app
functions = []
for fn in function_app.app.get_functions():
    bindings = [json.loads(raw) for raw in fn.get_raw_bindings()]  # what the worker reports
    functions.append({"name": fn.get_function_name(), "bindings": bindings})
print(json.dumps(functions))
"""


def test_requirements_txt_alone_indexes_every_function(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-r", str(ROOT / "requirements.txt")],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-2000:]
    indexed = subprocess.run(
        [str(python), "-c", INDEX, str(ROOT)], capture_output=True, text=True, timeout=120,
        cwd=tmp_path,
    )  # fmt: skip
    assert indexed.returncode == 0, indexed.stderr[-2000:]
    functions = {fn["name"]: fn["bindings"] for fn in json.loads(indexed.stdout)}
    assert {"E1_HelloSequence", "CityRecommender", "ReserveTicket", "SetStatusTest",
            "BatchProgress", "StartOrchestration", "GetInstanceStatus", "RaiseInstanceEvent",
            "PurgeInstance", "MonitorInstance"} <= set(functions)  # fmt: skip
    http = {name: b for name, bs in functions.items() for b in bs if b["type"] == "httpTrigger"}
    # Every HTTP function needs a function key, but for the client page: static, holding no
    # data, and it must load without a key to ask a visitor for one (clients/client_page.py).
    levels = {name: b["authLevel"].upper() for name, b in http.items()}
    assert levels.pop("ClientPage") == "ANONYMOUS"
    assert levels and set(levels.values()) == {"FUNCTION"}, levels
    triggers = {b["type"] for bs in functions.values() for b in bs}
    assert {"orchestrationTrigger", "activityTrigger", "durableClient"} <= triggers
    assert sys.version_info >= (3, 10)
