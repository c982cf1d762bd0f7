"""Microsoft's worker library indexes this app: every function, none refused.

On Azure (Python 3.13+) the worker hands indexing to ``azure_functions_runtime``, which checks
each parameter's annotation; one it refuses fails the whole app, so the deployed app has no
functions at all. ``payload: dict[str, Any]`` on an activity was such a case ("binding payload
has invalid non-type annotation"), and nothing local noticed while devhost imported the app
itself. This test runs the library's own indexing in a fresh process (it keeps module-global
state and imports ``function_app`` by name), as the worker does at start-up.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The library's registry reads only the binding directions and data types from the protos module
# while indexing; the full Functions RPC round trip is tested with devhost's worker processes.
INDEX = """
import json, sys, types
sys.path.insert(0, sys.argv[1])
from azure_functions_runtime.bindings.meta import load_binding_registry
from azure_functions_runtime.functions import Registry
from azure_functions_runtime.loader import index_function_app
BindingInfo = types.SimpleNamespace(**{"in": 0}, out=1, inout=2, undefined=0, string=1, binary=2,
                                    stream=3)
protos = types.SimpleNamespace(BindingInfo=BindingInfo)
load_binding_registry()  # as worker_init_request does before indexing
registry, refused, names = Registry(), [], []
for fn in index_function_app(sys.argv[1] + "/function_app.py"):
    try:
        registry.add_indexed_function(function=fn, protos=protos)
        names.append(fn.get_function_name())
    except Exception as error:
        refused.append(f"{type(error).__name__}: {error}")
print(json.dumps({"indexed": names, "refused": refused}))
"""


def test_the_worker_library_indexes_every_function() -> None:
    done = subprocess.run(
        [sys.executable, "-c", INDEX, str(ROOT)], capture_output=True, text=True, timeout=120,
        cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["refused"] == []
    assert {"UploadCustomStatus", "AppendCustomStatus", "E1_HelloSequence", "BatchProgress",
            "StartOrchestration", "GetInstanceStatus"} <= set(result["indexed"])  # fmt: skip
