"""Microsoft's worker library runs a real app with devhost's ``rpc`` module as its ``protos``.

The library reaches for messages, fields and enum values of ``protos`` by attribute as it indexes,
loads and invokes; one that the subset lacks is an AttributeError (or a ValueError for a field)
at run time. This drives the library's handlers the way a worker process does, on a small v2 app,
in a subprocess: the library keeps its registry in module globals and imports the app by module
name (function_app), so neither may leak into this process or meet the project's own app.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from devhost.workers import rpc

ROOT = Path(__file__).resolve().parents[3]

APP = """
import json

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="greet/{name}", methods=["POST"])
def greet(req: func.HttpRequest) -> func.HttpResponse:
    seen = {
        "name": req.route_params["name"],
        "q": req.params.get("q"),
        "header": req.headers.get("x-test"),
        "body": req.get_body().decode(),
        "method": req.method,
    }
    return func.HttpResponse(
        json.dumps(seen),
        status_code=201,
        mimetype="application/json",
        headers={
            "Set-Cookie": "session=abc; Domain=example.org; Path=/app; Max-Age=60; Secure; "
            "HttpOnly; SameSite=Strict; Expires=Thu, 01 Jan 2026 00:00:00 GMT"
        },
    )


@app.activity_trigger(input_name="payload")
def double(payload: dict) -> dict:
    return {"doubled": payload["n"] * 2}


@app.retry(strategy="fixed_delay", max_retry_count="3", delay_interval="00:00:05")
@app.timer_trigger(schedule="0 0 * * * *", arg_name="timer", run_on_startup=False)
def tick(timer: func.TimerRequest) -> None:
    pass
"""

# Runs in the app's directory. argv: repository root, app directory, output file and, to start
# the way a placeholder worker is specialized on Azure, an empty directory to initialize on before
# the environment reload that points the worker at the app. Writes each handler's answer as a
# StreamingMessage (so a message of a foreign class could not be embedded), serialized and
# base64-encoded, by step name.
DRIVER = textwrap.dedent(
    """
    import asyncio, base64, json, os, sys

    root, app_dir, out, placeholder_dir = sys.argv[1:5]
    sys.path[:0] = [app_dir, root]

    import azure_functions_runtime as runtime
    from devhost.workers import rpc


    class Request:
        def __init__(self, message):
            self.request = message
            self.properties = {"host": "127.0.0.1", "protos": rpc}


    async def main():
        answers = {}

        async def step(name, handler, frame, **content):
            answer = await handler(Request(rpc.StreamingMessage(request_id=name, **content)))
            answers[name] = base64.b64encode(
                rpc.StreamingMessage(request_id=name, **{frame: answer}).SerializeToString()
            ).decode()
            return answer

        await step(
            "init", runtime.worker_init_request, "worker_init_response",
            worker_init_request=rpc.WorkerInitRequest(
                host_version="4.0.0-devhost",
                capabilities={"FunctionDataCache": "false"},
                log_categories={"Worker": rpc.RpcLog.Information},
                worker_directory=app_dir,
                function_app_directory=placeholder_dir or app_dir,
            ),
        )
        if placeholder_dir:
            await step(
                "reload", runtime.function_environment_reload_request,
                "function_environment_reload_response",
                function_environment_reload_request=rpc.FunctionEnvironmentReloadRequest(
                    environment_variables=dict(os.environ), function_app_directory=app_dir
                ),
            )
        metadata = await step(
            "metadata", runtime.functions_metadata_request, "function_metadata_response",
            functions_metadata_request=rpc.FunctionsMetadataRequest(
                function_app_directory=app_dir
            ),
        )
        ids = {}
        for fn in metadata.function_metadata_results:
            ids[fn.name] = fn.function_id
            await step(
                "load:" + fn.name, runtime.function_load_request, "function_load_response",
                function_load_request=rpc.FunctionLoadRequest(
                    function_id=fn.function_id, metadata=fn
                ),
            )
        invocations = json.loads(os.environ["DRIVER_INVOCATIONS"])
        for name, (function, request) in invocations.items():
            request = rpc.InvocationRequest.FromString(base64.b64decode(request))
            request.function_id = ids[function]
            await step(
                name, runtime.invocation_request, "invocation_response",
                invocation_request=request,
            )
        with open(out, "w") as f:
            json.dump(answers, f)


    runtime.start_threadpool_executor()
    try:
        asyncio.run(main())
    finally:
        runtime.stop_threadpool_executor()
    """
)


def _http_invocation() -> rpc.InvocationRequest:
    return rpc.InvocationRequest(
        invocation_id="inv-http",
        input_data=[
            rpc.ParameterBinding(
                name="req",
                data=rpc.TypedData(
                    http=rpc.RpcHttp(
                        method="POST",
                        url="http://127.0.0.1:7071/api/greet/ada?q=1",
                        headers={"x-test": "yes", "content-type": "text/plain"},
                        query={"q": "1"},
                        params={"name": "ada"},
                        body=rpc.TypedData(bytes="héllo".encode()),
                    )
                ),
            )
        ],
        trigger_metadata={
            "name": rpc.TypedData(string="ada"),
            "Query": rpc.TypedData(json='{"q": "1"}'),
        },
        trace_context=rpc.RpcTraceContext(
            trace_parent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            attributes={"OperationName": "greet"},
        ),
        retry_context=rpc.RetryContext(retry_count=0, max_retry_count=0),
    )


def _activity_invocation(invocation_id: str, payload: str) -> rpc.InvocationRequest:
    return rpc.InvocationRequest(
        invocation_id=invocation_id,
        input_data=[rpc.ParameterBinding(name="payload", data=rpc.TypedData(json=payload))],
    )


def _drive(
    app_dir: Path, invocations: dict[str, tuple[str, rpc.InvocationRequest]], placeholder: str = ""
) -> dict[str, rpc.StreamingMessage]:
    (app_dir / "function_app.py").write_text(APP)
    (app_dir / "host.json").write_text('{"version": "2.0"}')
    out = app_dir / "answers.json"
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(app_dir),
        "TZ": "UTC",
        "DRIVER_INVOCATIONS": json.dumps(
            {
                name: (function, base64.b64encode(request.SerializeToString()).decode())
                for name, (function, request) in invocations.items()
            }
        ),
    }
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(ROOT), str(app_dir), str(out), placeholder],
        cwd=app_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"driver failed:\n{done.stdout}\n{done.stderr}"
    return {
        name: rpc.StreamingMessage.FromString(base64.b64decode(data))
        for name, data in json.loads(out.read_text()).items()
    }


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, rpc.StreamingMessage]:
    return _drive(
        tmp_path_factory.mktemp("tiny_app"),
        {
            "invoke:greet": ("greet", _http_invocation()),
            "invoke:double": ("double", _activity_invocation("inv-act", '{"n": 21}')),
            "invoke:double-fails": ("double", _activity_invocation("inv-bad", '{"m": 1}')),
        },
    )


def _assert_success(result: rpc.StatusResult) -> None:
    assert result.status == rpc.StatusResult.Success, (
        f"{rpc.StatusResult.Status.Name(result.status)}: {result.exception.message}\n"
        f"{result.exception.stack_trace}"
    )


def test_init_succeeds_and_describes_the_worker(answers):
    init = answers["init"].worker_init_response
    _assert_success(init.result)
    assert init.capabilities["RpcHttpBodyOnly"] == "true"
    assert init.capabilities["TypedDataCollection"] == "true"
    assert init.worker_metadata.runtime_name == "python"
    assert init.worker_metadata.runtime_version == f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert init.worker_metadata.worker_version


def test_indexing_returns_the_metadata_of_every_function(answers):
    response = answers["metadata"].function_metadata_response
    _assert_success(response.result)
    assert not response.use_default_metadata_indexing
    functions = {fn.name: fn for fn in response.function_metadata_results}
    assert set(functions) == {"greet", "double", "tick"}
    for fn in functions.values():
        assert fn.function_id
        assert fn.language == "python"
        assert fn.script_file.endswith("function_app.py")
        assert fn.entry_point == fn.name
        assert fn.properties["worker_indexed"] == "True"
        raw = [json.loads(b) for b in fn.raw_bindings]
        assert {b["name"] for b in raw} == set(fn.bindings)

    greet = functions["greet"].bindings
    assert greet["req"].type == "httpTrigger"
    assert greet["req"].direction == rpc.BindingInfo.Direction.Value("in")
    assert greet["$return"].type == "http"
    assert greet["$return"].direction == rpc.BindingInfo.out
    assert functions["double"].bindings["payload"].type == "activityTrigger"
    assert not functions["double"].HasField("retry_options")

    retry = functions["tick"].retry_options
    assert retry.retry_strategy == rpc.RpcRetryOptions.fixed_delay
    assert retry.max_retry_count == 3
    assert retry.delay_interval.ToTimedelta().total_seconds() == 5


def test_every_function_loads(answers):
    functions = answers["metadata"].function_metadata_response.function_metadata_results
    for fn in functions:
        load = answers[f"load:{fn.name}"].function_load_response
        _assert_success(load.result)
        assert load.function_id == fn.function_id


def test_an_http_invocation_returns_the_functions_response(answers):
    response = answers["invoke:greet"].invocation_response
    _assert_success(response.result)
    assert response.invocation_id == "inv-http"
    http = response.return_value.http
    assert http.status_code == "201"
    assert http.headers["content-type"] == "application/json"
    assert json.loads(http.body.bytes) == {
        "name": "ada",
        "q": "1",
        "header": "yes",
        "body": "héllo",
        "method": "POST",
    }
    [cookie] = http.cookies
    assert (cookie.name, cookie.value) == ("session", "abc")
    assert cookie.domain.value == "example.org"
    assert cookie.path.value == "/app"
    assert cookie.max_age.value == 60
    assert cookie.secure.value is True
    assert cookie.http_only.value is True
    assert cookie.same_site == rpc.RpcHttpCookie.SameSite.Strict
    # The library reads Expires as local time (a naive datetime's timestamp()): TZ=UTC above.
    expected = datetime(2026, 1, 1, tzinfo=UTC)
    assert cookie.expires.value.ToDatetime(tzinfo=UTC) == expected


def test_an_activity_invocation_returns_its_json_result(answers):
    response = answers["invoke:double"].invocation_response
    _assert_success(response.result)
    assert response.invocation_id == "inv-act"
    assert response.return_value.WhichOneof("data") == "json"
    assert json.loads(response.return_value.json) == {"doubled": 42}


def test_a_failing_invocation_reports_the_exception(answers):
    response = answers["invoke:double-fails"].invocation_response
    assert response.result.status == rpc.StatusResult.Failure
    assert response.invocation_id == "inv-bad"
    assert response.result.exception.message == "KeyError: 'n'"
    assert "function_app.py" in response.result.exception.stack_trace
    assert not response.HasField("return_value")


def test_a_placeholder_worker_specializes_on_an_environment_reload(tmp_path):
    placeholder = tmp_path / "placeholder"
    placeholder.mkdir()
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    answers = _drive(
        app_dir,
        {"invoke:double": ("double", _activity_invocation("inv-act", '{"n": 4}'))},
        placeholder=str(placeholder),
    )
    _assert_success(answers["init"].worker_init_response.result)
    reload = answers["reload"].function_environment_reload_response
    _assert_success(reload.result)
    assert reload.worker_metadata.runtime_name == "python"
    functions = answers["metadata"].function_metadata_response.function_metadata_results
    assert {fn.name for fn in functions} == {"greet", "double", "tick"}
    response = answers["invoke:double"].invocation_response
    _assert_success(response.result)
    assert json.loads(response.return_value.json) == {"doubled": 8}
