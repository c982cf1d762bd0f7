"""Loading a v2 app: settings, host.json, the function index, and refused bindings."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from devhost.errors import UnsupportedBinding
from devhost.loader import AppLoadError, load_app, resolve_setting_refs

from .conftest import APPS


def test_basic_app_is_indexed() -> None:
    index = load_app(APPS / "basic")
    assert set(index.orchestrators) == {
        "hello_orchestrator",
        "NamedOrchestrator",
        "timer_orchestrator",
        "failing_orchestrator",
    }
    assert set(index.activities) == {"say_hello"}
    activity = index.activities["say_hello"]
    assert (activity.input_param, activity.is_async) == ("city", False)
    assert activity.func("Oslo") == "Hello Oslo!"
    http = {fn.name: fn for fn in index.http_functions}
    assert http["item_by_id"].route == "items/{id:int}"
    assert http["item_by_id"].methods == ("GET",)
    assert http["optional"].methods is None
    assert http["optional"].is_async is True
    assert http["http_start"].client_param == "client"
    assert http["http_start"].request_param == "req"
    assert http["with_context"].context_param is True
    assert http["echo"].auth_level == "anonymous"
    assert index.route_prefix == "api"
    trigger_of = {f.name: f.trigger for f in index.functions}
    assert trigger_of["named_orchestrator"] == "orchestrationTrigger"
    assert trigger_of["say_hello"] == "activityTrigger"


def test_orchestrator_is_the_sdk_handle_returning_json_state() -> None:
    """The engine calls the registered callable, the SDK's ``handle(context) -> str``."""
    index = load_app(APPS / "basic")
    handle = index.orchestrators["NamedOrchestrator"]
    context = json.dumps(
        {
            "history": [
                {
                    "EventType": 12,
                    "EventId": -1,
                    "IsPlayed": False,
                    "Timestamp": "2026-01-01T00:00:00Z",
                },
                {
                    "EventType": 0,
                    "EventId": -1,
                    "IsPlayed": False,
                    "Name": "NamedOrchestrator",
                    "Input": json.dumps({"x": 1}),
                    "Version": "",
                    "Timestamp": "2026-01-01T00:00:00Z",
                },
            ],
            "input": json.dumps({"x": 1}),
            "instanceId": "abc",
            "isReplaying": False,
            "parentInstanceId": None,
            "upperSchemaVersion": 1,
        }
    )
    state = json.loads(handle(context))
    assert state["isDone"] is True
    assert state["output"] == {"x": 1}


def test_local_settings_fill_the_environment_without_overriding_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEVHOST_HTTP_TEST_SETTING", "from-environment")
    monkeypatch.delenv("DEVHOST_HTTP_TEST_HUB", raising=False)
    index = load_app(APPS / "basic")
    assert os.environ["DEVHOST_HTTP_TEST_SETTING"] == "from-environment"
    assert index.settings["DEVHOST_HTTP_TEST_SETTING"] == "from-environment"
    assert index.task_hub == "HttpTestHub"  # %DEVHOST_HTTP_TEST_HUB% from local.settings.json


def test_hub_name_setting_from_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVHOST_HTTP_TEST_HUB", "EnvHub")
    assert load_app(APPS / "basic").task_hub == "EnvHub"
    assert load_app(APPS / "basic", task_hub="CliHub").task_hub == "CliHub"


def test_defaults_without_settings_files() -> None:
    index = load_app(APPS / "rootprefix")
    assert index.route_prefix == ""
    assert index.task_hub == "TestHubName"
    routes = {fn.name: fn.route for fn in index.http_functions}
    assert routes["unnamed_route"] == "unnamed_route"


def test_unresolved_setting_reference_is_a_startup_error() -> None:
    with pytest.raises(AppLoadError, match="'MISSING'"):
        resolve_setting_refs("%MISSING%", {}, what="hubName")
    assert resolve_setting_refs("%A%-%B%", {"A": "x", "B": "y"}, what="hubName") == "x-y"


@pytest.mark.parametrize(
    ("app", "function", "binding"),
    [
        ("entity_app", "Counter", "entityTrigger"),
        ("timer_app", "every_five_minutes", "timerTrigger"),
    ],
)
def test_unsupported_bindings_are_refused_naming_function_and_binding(
    app: str, function: str, binding: str
) -> None:
    with pytest.raises(UnsupportedBinding) as refused:
        load_app(APPS / app)
    assert f"'{function}'" in str(refused.value)
    assert f"'{binding}'" in str(refused.value)


def test_unsupported_extra_binding_on_an_http_function(tmp_path: Path) -> None:
    (tmp_path / "function_app.py").write_text(
        "import azure.functions as func\n"
        "app = func.FunctionApp()\n"
        "@app.route(route='x')\n"
        "@app.queue_output(arg_name='msg', queue_name='q', connection='AzureWebJobsStorage')\n"
        "def with_queue(req: func.HttpRequest, msg: func.Out[str]) -> str:\n"
        "    return 'x'\n"
    )
    with pytest.raises(UnsupportedBinding, match=r"'with_queue'.*'queue'"):
        load_app(tmp_path)


def test_missing_app_and_bad_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(AppLoadError, match=r"function_app\.py"):
        load_app(tmp_path)
    (tmp_path / "function_app.py").write_text("x = 1\n")
    with pytest.raises(AppLoadError, match="no top-level FunctionApp"):
        load_app(tmp_path)
    (tmp_path / "host.json").write_text("{not json")
    with pytest.raises(AppLoadError, match=r"host\.json"):
        load_app(tmp_path)


def test_import_error_in_the_app_is_reported(tmp_path: Path) -> None:
    (tmp_path / "function_app.py").write_text("import does_not_exist_anywhere\n")
    with pytest.raises(AppLoadError, match="does_not_exist_anywhere"):
        load_app(tmp_path)
