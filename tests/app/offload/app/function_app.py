"""The app under test plus one test-only orchestrator, for the app's end-to-end offload tests.

It registers the deployed app's blueprints (the custom_status package's, orchestrators,
activities, HTTP clients) unchanged and adds ``StatusScript``, which sets statuses of exact sizes
through ``custom_status.set_custom_status`` so the real offload path runs under devhost behind
the app's own routes (the client page, BatchProgress, purge). It lives here so that the deployed
``function_app.py`` carries no test orchestrator.

StatusScript input: ``{"steps": [...]}``, each step one of

* ``{"set": <spec>, "summary": <optional>}``: set ``tests.support.sized.make_value(spec)``;
* ``{"wait": "<event name>"}``: wait for that external event (its payload is ignored).

Output: the number of steps run.
"""

import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any

# The app's own packages live at the project root, three folders up: put it on the path, as if
# this file sat beside them (the worker puts only this app's folder there).
ROOT = str(Path(__file__).resolve().parents[4])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import azure.durable_functions as df  # noqa: E402
import azure.functions as func  # noqa: E402

import custom_status  # noqa: E402
from activities import blueprint as activities_blueprint  # noqa: E402
from clients import blueprint as clients_blueprint  # noqa: E402
from custom_status import set_custom_status  # noqa: E402
from orchestrators import blueprint as orchestrators_blueprint  # noqa: E402
from tests.support.sized import make_value  # noqa: E402

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(custom_status.blueprint)
app.register_functions(orchestrators_blueprint)
app.register_functions(activities_blueprint)
app.register_functions(clients_blueprint)


@app.orchestration_trigger(context_name="context")
def StatusScript(context: df.DurableOrchestrationContext) -> Generator[Any, Any, int]:
    steps = context.get_input()["steps"]
    for step in steps:
        if "wait" in step:
            yield context.wait_for_external_event(step["wait"])
        else:
            yield from set_custom_status(context, make_value(step["set"]), step.get("summary"))
    return len(steps)
