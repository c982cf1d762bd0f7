"""Loading a v2 app as the host does: settings and host.json read by devhost, the functions
indexed by Microsoft's worker library in a worker process, refused bindings named at start-up."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devhost.app.loader import AppIndex, AppLoadError, load_config, resolve_setting_refs
from devhost.core.errors import UnsupportedBinding
from devhost.workers.app import start_app
from devhost.workers.pool import IndexingFailed
from tests.devhost.http.conftest import APPS
from tests.support.refused_apps import DICT_ANNOTATED_ACTIVITY, DICT_ANNOTATION_REFUSAL


async def load_app(app_dir: Path, **kwargs: object) -> AppIndex:
    """Index the app in a worker, as at start-up, then stop the worker."""
    running = await start_app(app_dir, **kwargs)  # type: ignore[arg-type]
    await running.stop()
    return running.index


async def test_basic_app_is_indexed() -> None:
    index = await load_app(APPS / "basic")
    assert set(index.orchestrators) == {
        "hello_orchestrator",
        "NamedOrchestrator",
        "timer_orchestrator",
        "failing_orchestrator",
    }
    assert set(index.activities) == {"say_hello"}
    activity = index.activities["say_hello"]
    assert activity.input_param == "city"
    assert activity.function_id  # the worker's id for it, used in every invocation
    http = {fn.name: fn for fn in index.http_functions}
    assert http["item_by_id"].route == "items/{id:int}"
    assert http["item_by_id"].methods == ("GET",)
    assert http["optional"].methods is None
    assert http["http_start"].client_param == "client"
    assert http["http_start"].request_param == "req"
    assert http["echo"].auth_level == "anonymous"
    assert index.route_prefix == "api"
    trigger_of = {f.name: f.trigger for f in index.functions}
    assert trigger_of["named_orchestrator"] == "orchestrationTrigger"
    assert trigger_of["say_hello"] == "activityTrigger"


def test_local_settings_fill_the_environment_without_overriding_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEVHOST_HTTP_TEST_SETTING", "from-environment")
    monkeypatch.delenv("DEVHOST_HTTP_TEST_HUB", raising=False)
    index = load_config(APPS / "basic")
    assert os.environ["DEVHOST_HTTP_TEST_SETTING"] == "from-environment"
    assert index.settings["DEVHOST_HTTP_TEST_SETTING"] == "from-environment"
    assert index.task_hub == "HttpTestHub"  # %DEVHOST_HTTP_TEST_HUB% from local.settings.json


def test_hub_name_setting_from_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVHOST_HTTP_TEST_HUB", "EnvHub")
    assert load_config(APPS / "basic").task_hub == "EnvHub"
    assert load_config(APPS / "basic", task_hub="CliHub").task_hub == "CliHub"


async def test_defaults_without_settings_files() -> None:
    index = await load_app(APPS / "rootprefix")
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
async def test_unsupported_bindings_are_refused_naming_function_and_binding(
    app: str, function: str, binding: str
) -> None:
    with pytest.raises(UnsupportedBinding) as refused:
        await load_app(APPS / app)
    assert f"'{function}'" in str(refused.value)
    assert f"'{binding}'" in str(refused.value)


async def test_unsupported_extra_binding_on_an_http_function(tmp_path: Path) -> None:
    (tmp_path / "function_app.py").write_text(
        "import azure.functions as func\n"
        "app = func.FunctionApp()\n"
        "@app.route(route='x')\n"
        "@app.queue_output(arg_name='msg', queue_name='q', connection='AzureWebJobsStorage')\n"
        "def with_queue(req: func.HttpRequest, msg: func.Out[str]) -> str:\n"
        "    return 'x'\n"
    )
    with pytest.raises(UnsupportedBinding, match=r"'with_queue'.*'queue'"):
        await load_app(tmp_path)


async def test_missing_app_and_bad_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(AppLoadError, match=r"function_app\.py"):
        await load_app(tmp_path)
    (tmp_path / "function_app.py").write_text("x = 1\n")
    with pytest.raises(IndexingFailed, match="Could not find top level function app instances"):
        await load_app(tmp_path)
    (tmp_path / "host.json").write_text("{not json")
    with pytest.raises(AppLoadError, match=r"host\.json"):
        await load_app(tmp_path)


async def test_import_error_in_the_app_is_the_workers_own_message(tmp_path: Path) -> None:
    (tmp_path / "function_app.py").write_text("import does_not_exist_anywhere\n")
    with pytest.raises(IndexingFailed) as refused:
        await load_app(tmp_path)
    text = str(refused.value)
    assert text.startswith("Initializing worker process failed\nResult: Failure\nException: ")
    assert "No module named 'does_not_exist_anywhere'" in text
    assert "Please check the requirements.txt file" in text  # the worker library's own advice


async def test_an_annotation_the_worker_refuses_fails_start_up_with_its_words(
    tmp_path: Path,
) -> None:
    """The lesson of this project: ``dict[str, Any]`` on an activity parameter is refused by
    Microsoft's worker, which then indexes nothing; devhost must refuse the app too."""
    (tmp_path / "function_app.py").write_text(DICT_ANNOTATED_ACTIVITY)
    with pytest.raises(IndexingFailed) as refused:
        await load_app(tmp_path)
    assert DICT_ANNOTATION_REFUSAL in str(refused.value)


async def test_an_orchestrator_context_not_named_context_is_refused_as_on_azure(
    tmp_path: Path,
) -> None:
    """The SDK's orchestrator wrapper has one parameter, ``context``; with another
    ``context_name`` the worker finds a ``context`` parameter bound to nothing and refuses the
    app. devhost once imported the app itself and ran it happily."""
    (tmp_path / "function_app.py").write_text(
        "import azure.durable_functions as df\n"
        "app = df.DFApp()\n"
        "@app.orchestration_trigger(context_name='ctx')\n"
        "def Hello(ctx: df.DurableOrchestrationContext):\n"
        "    return ctx.get_input()\n"
    )
    with pytest.raises(IndexingFailed, match='the "context" parameter is expected to be of type'):
        await load_app(tmp_path)
