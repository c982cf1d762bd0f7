"""A throwaway app for devhost's HTTP-layer tests: routes, mappings, a durable client, failures."""

import json
import threading
from datetime import timedelta

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


def _echo(req: func.HttpRequest, name: str) -> func.HttpResponse:
    body = {
        "function": name,
        "method": req.method,
        "url": req.url,
        "params": dict(req.params),
        "route_params": dict(req.route_params),
        "headers": dict(req.headers),
        "body": req.get_body().decode("utf-8", "replace"),
        "thread": threading.current_thread().name,
    }
    return func.HttpResponse(json.dumps(body), mimetype="application/json")


@app.route(route="items/{id:int}", methods=["GET"])
def item_by_id(req: func.HttpRequest) -> func.HttpResponse:
    return _echo(req, "item_by_id")


@app.route(route="items/{name:alpha}", methods=["GET"])
def item_by_name(req: func.HttpRequest) -> func.HttpResponse:
    return _echo(req, "item_by_name")


@app.route(route="items/special", methods=["GET"])
def item_special(req: func.HttpRequest) -> func.HttpResponse:
    return _echo(req, "item_special")


@app.route(route="Files/{*rest}", methods=["GET", "PUT"])
def files(req: func.HttpRequest) -> func.HttpResponse:
    return _echo(req, "files")


@app.route(route="optional/{name?}")
async def optional(req: func.HttpRequest) -> func.HttpResponse:
    return _echo(req, "optional")


@app.route(route="echo", methods=["GET", "POST"])
def echo(req: func.HttpRequest) -> func.HttpResponse:
    return _echo(req, "echo")


@app.route(route="custom")
def custom(req: func.HttpRequest) -> func.HttpResponse:
    response = func.HttpResponse(
        "<p>hi</p>", status_code=201, mimetype="text/html", charset="utf-8"
    )
    response.headers["X-Custom"] = "yes"
    response.headers.add("Set-Cookie", "a=1")
    response.headers.add("Set-Cookie", "b=2")
    return response


@app.route(route="json-header")
def json_header(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(b"\x00\x01", headers={"Content-Type": "application/octet-stream"})


@app.route(route="text")
def text(req: func.HttpRequest) -> str:
    return "plain text"


@app.route(route="nothing")
def nothing(req: func.HttpRequest):  # no "-> None": the worker refuses it for http
    return None


@app.route(route="a-dict")
def a_dict(req: func.HttpRequest):
    return {"not": "allowed"}


@app.route(route="boom")
def boom(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("secret detail that must stay on the host")


@app.route(route="async-boom")
async def async_boom(req: func.HttpRequest) -> func.HttpResponse:
    raise ValueError("async secret detail")


@app.route(route="with-context")
def with_context(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(
            {"invocation_id": context.invocation_id, "function_name": context.function_name}
        ),
        mimetype="application/json",
    )


@app.route(route="client-json", methods=["GET"])
@app.durable_client_input(client_name="client")
async def client_json(req: func.HttpRequest, client: df.DurableOrchestrationClient):
    # The SDK wrapper turned the binding string into a client; hand back what it was built from.
    return func.HttpResponse(
        json.dumps(
            {
                "task_hub": client.task_hub_name if hasattr(client, "task_hub_name") else None,
                "rpc": client._orchestration_bindings.rpc_base_url,
                "management": client._orchestration_bindings.management_urls,
                "creation": client._orchestration_bindings.creation_urls,
            }
        ),
        mimetype="application/json",
    )


@app.route(route="orchestrators/{functionName}/{instanceId?}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def http_start(req: func.HttpRequest, client: df.DurableOrchestrationClient):
    body = req.get_body()
    instance_id = await client.start_new(
        req.route_params["functionName"],
        req.route_params.get("instanceId"),
        json.loads(body) if body else None,
    )
    return client.create_check_status_response(req, instance_id)


@app.orchestration_trigger(context_name="context")
def hello_orchestrator(context: df.DurableOrchestrationContext):
    first = yield context.call_activity("say_hello", "Tokyo")
    event = yield context.wait_for_external_event("Approval")
    return [first, event]


# context_name must be "context": the SDK's wrapper takes a parameter of that name, and the worker
# refuses an orchestrator whose binding is named otherwise (it fails the whole app on Azure).
@app.orchestration_trigger(context_name="context", orchestration="NamedOrchestrator")
def named_orchestrator(context: df.DurableOrchestrationContext):
    return context.get_input()


@app.orchestration_trigger(context_name="context")
def failing_orchestrator(context: df.DurableOrchestrationContext):
    raise ValueError("boom")
    yield  # pragma: no cover - makes this a generator


@app.activity_trigger(input_name="city")
def say_hello(city: str) -> str:
    return f"Hello {city}!"


@app.orchestration_trigger(context_name="context")
def timer_orchestrator(context: df.DurableOrchestrationContext):
    context.set_custom_status("waiting")
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=60))
    context.set_custom_status("fired")
    return "fired"
