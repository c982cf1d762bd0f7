"""requirements.txt alone is enough to run the app: a clean Python 3.13 virtualenv with only it
installed indexes function_app.py with Microsoft's worker library, as the Python worker does on
Azure (every function, its bindings and auth level), so a runtime dependency that only
requirements-dev.txt brings in fails here, not on Azure. The worker library's pin is the one devhost
runs on."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

INDEX = """
import json, sys
import azure.functions, azure_functions_runtime
from azure_functions_runtime.loader import index_function_app
sys.path.insert(0, sys.argv[1])
functions = []
for fn in index_function_app(sys.argv[1] + "/function_app.py"):  # the worker's own indexing
    bindings = [json.loads(raw) for raw in fn.get_raw_bindings()]  # what the worker reports
    functions.append({"name": fn.get_function_name(), "bindings": bindings})
print(json.dumps({"python": list(sys.version_info[:2]), "functions": functions,
                  "runtime": azure_functions_runtime.version.VERSION,
                  "sdk": azure.functions.__version__}))
"""


def pinned(path: Path, name: str) -> str:
    """The version ``name==X`` pins in a requirements file."""
    found = re.findall(rf"^{re.escape(name)}==(\S+)\s*$", path.read_text(), re.M)
    assert len(found) == 1, (path.name, name, found)
    return found[0]


def test_the_worker_library_is_pinned_to_the_version_devhost_runs_on() -> None:
    runtime = pinned(ROOT / "requirements.txt", "azure-functions-runtime")
    assert runtime == pinned(ROOT / "requirements-dev.txt", "azure-functions-runtime")


def test_requirements_txt_alone_indexes_every_function(tmp_path: Path) -> None:
    assert sys.version_info >= (3, 13), sys.version  # the venv is made with this interpreter
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
    report = json.loads(indexed.stdout)
    assert report["python"] >= [3, 13], report["python"]
    assert report["runtime"] == pinned(ROOT / "requirements.txt", "azure-functions-runtime")
    sdk = tuple(int(part) for part in report["sdk"].split(".")[:2])
    assert (1, 25) <= sdk < (2, 0), report["sdk"]  # the first 1.x that declares Python 3.13
    functions = {fn["name"]: fn["bindings"] for fn in report["functions"]}
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
