"""An app made of custom_status's public API only, for the package's end-to-end tests.

The package's blueprint (its activities), ``status_response`` at ``/api/status/{id}`` as an app
writes it, ``get_status`` at ``/api/get-status/{id}`` (``null`` for an unknown instance), and two
test orchestrators:

``StatusScript`` input ``{"steps": [...]}``, each step one of

* ``{"set": <spec>, "summary": <optional>}``: set ``tests.support.sized.make_value(spec)`` with
  ``set_custom_status``;
* ``{"wait": "<event name>"}``: wait for that external event (its payload is ignored).

Output: the number of steps run.

``AppendScript`` appends rows with ``append_custom_status`` in batches and continues as new every
``batchesPerGeneration`` batches, passing the log on in its input. Input: ``{"rows": n, "batch":
k, "batchesPerGeneration": g}`` (plus ``log``, ``next`` when continued). Output: the number of
rows the log holds.
"""

import json
import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any

# custom_status and tests.support live at the project root, three folders up: put it on the path,
# as if this file sat beside them (the worker puts only this app's folder there).
ROOT = str(Path(__file__).resolve().parents[3])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import azure.durable_functions as df  # noqa: E402
import azure.functions as func  # noqa: E402

import custom_status  # noqa: E402
from custom_status import (  # noqa: E402
    append_custom_status,
    get_status,
    set_custom_status,
    status_response,
)
from tests.support.sized import make_value  # noqa: E402

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(custom_status.blueprint)


@app.route(route="status/{instanceId}", methods=["GET"])
@app.durable_client_input(client_name="client")
async def status(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    return await status_response(req, client, req.route_params["instanceId"])


@app.route(route="get-status/{instanceId}", methods=["GET"])
@app.durable_client_input(client_name="client")
async def whole_status(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    found = await get_status(client, req.route_params["instanceId"])
    return func.HttpResponse(json.dumps(found), mimetype="application/json")


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
