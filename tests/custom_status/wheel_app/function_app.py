"""A minimal app on the custom_status wheel: the package installed in the app's own virtualenv,
nothing of this repository on the path (tests/custom_status/test_wheel.py)."""

import json

import azure.durable_functions as df
import azure.functions as func

import custom_status
from custom_status import append_custom_status, get_status, set_custom_status

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(custom_status.blueprint)  # the one line of wiring


@app.orchestration_trigger(context_name="context")
def Report(context: df.DurableOrchestrationContext):
    kb = context.get_input()  # "é" is 2 bytes in the host's UTF-16 count
    yield from set_custom_status(context, {"text": "é" * 512 * kb}, summary={"kb": kb})


@app.orchestration_trigger(context_name="context")
def Table(context: df.DurableOrchestrationContext):
    rows, log = context.get_input(), None
    for start in range(0, rows, 100):
        batch = [{"row": n, "city": "Zürich"} for n in range(start, min(start + 100, rows))]
        summary = {"done": start + len(batch), "total": rows}
        log = yield from append_custom_status(context, log, batch, summary, rows_key="items")


@app.route(route="status/{instanceId}", methods=["GET"])
@app.durable_client_input(client_name="client")
async def status(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    found = await get_status(client, req.route_params["instanceId"])
    where = {"X-Package": custom_status.__file__}  # which copy of the package the worker runs
    return func.HttpResponse(json.dumps(found), headers=where, mimetype="application/json")
