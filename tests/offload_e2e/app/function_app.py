"""The app under test plus one test-only orchestrator, for the offload end-to-end tests.

It registers the deployed app's blueprints (orchestrators, activities, HTTP clients) unchanged and
adds ``StatusScript``, which sets statuses of exact sizes through the app's own helper
(``orchestrators.status.set_custom_status``) so the real offload path runs under devhost. It
lives here so that the deployed ``function_app.py`` carries no test orchestrator.

StatusScript input: ``{"steps": [...]}``, each step one of

* ``{"set": <spec>, "summary": <optional>}``: set ``tests.offload_e2e.sized.make_value(spec)``;
* ``{"wait": "<event name>"}``: wait for that external event (its payload is ignored).

Output: the number of steps run.

``AppendScript`` appends rows to an append-style status (``orchestrators.append_status``) in
batches and continues as new every ``batchesPerGeneration`` batches, passing the log on in its
input. Input: ``{"rows": n, "batch": k, "batchesPerGeneration": g}`` (plus ``log``, ``next``
when continued). Output: the number of rows the log holds.
"""

import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any

# The app's own packages live at the project root, two folders up: put it on the path, as if
# this file sat beside them (the worker puts only this app's folder there).
ROOT = str(Path(__file__).resolve().parents[3])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import azure.durable_functions as df  # noqa: E402
import azure.functions as func  # noqa: E402

from activities import blueprint as activities_blueprint  # noqa: E402
from clients import blueprint as clients_blueprint  # noqa: E402
from orchestrators import blueprint as orchestrators_blueprint  # noqa: E402
from orchestrators.append_status import append_custom_status  # noqa: E402
from orchestrators.status import set_custom_status  # noqa: E402
from tests.offload_e2e.sized import make_value  # noqa: E402

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
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


def script_row(n: int) -> dict[str, Any]:
    return {"item": n, "city": "Zürich", "result": "ok"}


@app.orchestration_trigger(context_name="context")
def AppendScript(context: df.DurableOrchestrationContext) -> Generator[Any, Any, int]:
    job = context.get_input()
    total, batch, generation = job["rows"], job["batch"], job["batchesPerGeneration"]
    log, start = job.get("log"), job.get("next", 0)
    for _ in range(generation):
        if start >= total:
            break
        rows = [script_row(n) for n in range(start, min(start + batch, total))]
        start += len(rows)
        summary = {"done": start, "total": total}
        log = yield from append_custom_status(context, log, rows, summary, rows_key="items")
    if start < total:
        context.continue_as_new({**job, "log": log, "next": start})
        return 0
    return start
