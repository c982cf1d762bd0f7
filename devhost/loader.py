"""Import a v2-model ``function_app.py`` and index it the way the Python worker does.

The Functions host never runs here, so this module does its start-up work: it applies
``local.settings.json`` to the environment (as ``func start`` does), reads ``host.json``, imports
the app, finds its one ``FunctionRegister`` and turns each function's bindings into an
:class:`AppIndex`. Bindings devhost cannot honour are refused here, before any request is served,
so that an app never half-works.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import logging
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from devhost import lenient_json
from devhost.errors import StartupError, UnsupportedBinding

log = logging.getLogger("devhost.loader")

SCRIPT_FILE = "function_app.py"
DEFAULT_ROUTE_PREFIX = "api"
DEFAULT_TASK_HUB = "TestHubName"

HTTP_TRIGGER = "httpTrigger"
HTTP_OUTPUT = "http"
ORCHESTRATION_TRIGGER = "orchestrationTrigger"
ACTIVITY_TRIGGER = "activityTrigger"
DURABLE_CLIENT = "durableClient"

_SETTING_REF = re.compile(r"%([^%]+)%")


class AppLoadError(StartupError):
    """The app directory cannot be loaded (missing file, bad JSON, import error, bad settings)."""


@dataclass(frozen=True)
class ActivityFunction:
    """An activity as the engine calls it: ``func(**{input_param: value})``, awaited if async."""

    name: str
    function_name: str
    func: Callable[..., Any]
    input_param: str
    is_async: bool


@dataclass(frozen=True)
class HttpFunction:
    """An HTTP-triggered function and what it needs at call time.

    ``route`` is the template without the route prefix; ``methods`` is None when the function
    accepts every method. ``client_param`` names the durableClient parameter, if any, and
    ``client_task_hub`` the hub named on that binding (None: the app's hub).
    """

    name: str
    route: str
    methods: tuple[str, ...] | None
    auth_level: str
    func: Callable[..., Any]
    request_param: str
    client_param: str | None
    client_task_hub: str | None
    context_param: bool
    is_async: bool


@dataclass(frozen=True)
class FunctionSummary:
    """One line of the start-up listing: the function name and its trigger binding type."""

    name: str
    trigger: str
    durable_name: str | None = None


@dataclass
class AppIndex:
    """Everything the engine and the HTTP layer need from the app, read once at start-up."""

    app_dir: Path
    orchestrators: dict[str, Callable[[Any], str]]
    activities: dict[str, ActivityFunction]
    http_functions: list[HttpFunction]
    route_prefix: str
    task_hub: str
    settings: dict[str, str]
    functions: list[FunctionSummary] = field(default_factory=list)


def load_app(app_dir: Path, *, task_hub: str | None = None) -> AppIndex:
    """Load the app in ``app_dir``: settings first (the app may read them at import), then code."""
    app_dir = Path(app_dir).resolve()
    script = app_dir / SCRIPT_FILE
    if not script.is_file():
        raise AppLoadError(f"{script} not found: devhost runs v2-model apps (function_app.py)")
    settings = apply_local_settings(app_dir)
    host_config = read_json_file(app_dir / "host.json", required=False)
    warn_ignored_durable_settings(host_config)
    route_prefix = route_prefix_from(host_config)
    hub = task_hub or task_hub_from(host_config, os.environ)
    module = import_function_app(app_dir)
    register = find_function_register(module)
    index = AppIndex(
        app_dir=app_dir,
        orchestrators={},
        activities={},
        http_functions=[],
        route_prefix=route_prefix,
        task_hub=hub,
        settings=settings,
    )
    for fn in _get_functions(register):
        _index_function(index, fn)
    return index


def read_json_file(path: Path, *, required: bool) -> dict[str, Any]:
    """Parse a JSON settings file as the host does (comments and trailing commas allowed); a
    missing optional file reads as ``{}``."""
    if not path.is_file():
        if required:
            raise AppLoadError(f"{path} not found")
        return {}
    try:
        data = lenient_json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise AppLoadError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise AppLoadError(f"{path} must hold a JSON object")
    return data


def apply_local_settings(app_dir: Path) -> dict[str, str]:
    """Put ``local.settings.json`` ``Values`` into ``os.environ`` without overriding what is set.

    Returns the effective value of every setting named there (an environment variable wins,
    as with ``func start``), which is what bindings and Azurite detection must see.
    """
    data = read_json_file(app_dir / "local.settings.json", required=False)
    values = data.get("Values") or {}
    if not isinstance(values, dict):
        raise AppLoadError("local.settings.json: 'Values' must be an object")
    if data.get("IsEncrypted"):
        raise AppLoadError("local.settings.json is encrypted; devhost reads plain settings only")
    effective: dict[str, str] = {}
    for name, value in values.items():
        text = "" if value is None else str(value)
        os.environ.setdefault(name, text)
        effective[name] = os.environ[name]
    runtime = effective.get("FUNCTIONS_WORKER_RUNTIME")
    if runtime and runtime.lower() != "python":
        log.warning("FUNCTIONS_WORKER_RUNTIME is %r; devhost runs Python apps only", runtime)
    return effective


HONOURED_DURABLE_SETTINGS = {"hubName", "overridableExistingInstanceStates"}


def warn_ignored_durable_settings(host_config: Mapping[str, Any]) -> None:
    """One line naming the ``extensions.durableTask`` settings devhost does not apply (storage
    provider, concurrency, ...): they take effect on Azure only. ``hubName`` is used, and
    ``overridableExistingInstanceStates`` is the extension's default (``NonRunningStates``)."""
    durable = (host_config.get("extensions") or {}).get("durableTask") or {}
    ignored = sorted(k for k in durable if k not in HONOURED_DURABLE_SETTINGS)
    overridable = str(durable.get("overridableExistingInstanceStates", "NonRunningStates"))
    if overridable.lower() != "nonrunningstates":
        ignored.append(f"overridableExistingInstanceStates={overridable}")
    if ignored:
        log.warning(
            "host.json: devhost ignores extensions.durableTask %s (they apply on Azure only)",
            ", ".join(ignored),
        )


def route_prefix_from(host_config: Mapping[str, Any]) -> str:
    """``extensions.http.routePrefix``; "api" when absent, "" allowed (routes at the root)."""
    http = (host_config.get("extensions") or {}).get("http") or {}
    prefix = http.get("routePrefix", DEFAULT_ROUTE_PREFIX)
    if prefix is None:
        return DEFAULT_ROUTE_PREFIX
    return str(prefix).strip("/")


def task_hub_from(host_config: Mapping[str, Any], env: Mapping[str, str]) -> str:
    """``extensions.durableTask.hubName`` with ``%SETTING%`` references resolved from ``env``."""
    durable = (host_config.get("extensions") or {}).get("durableTask") or {}
    raw = durable.get("hubName")
    if not raw:
        return DEFAULT_TASK_HUB
    return resolve_setting_refs(str(raw), env, what="host.json extensions.durableTask.hubName")


def resolve_setting_refs(text: str, env: Mapping[str, str], *, what: str) -> str:
    """Replace ``%NAME%`` by the app setting NAME; an unknown setting is a start-up error."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise AppLoadError(f"{what} refers to app setting '{name}', which is not set")
        return env[name]

    return _SETTING_REF.sub(substitute, text)


def import_function_app(app_dir: Path) -> ModuleType:
    """Import ``function_app.py`` as module ``function_app`` with ``app_dir`` on ``sys.path``.

    The app imports its own packages (``from activities import ...``) relative to its root, as
    under the worker, so the directory goes first on the path.
    """
    script = app_dir / SCRIPT_FILE
    if str(app_dir) not in sys.path:
        sys.path.insert(0, str(app_dir))
    name = _module_name(script)
    spec = importlib.util.spec_from_file_location(name, script)
    if spec is None or spec.loader is None:
        raise AppLoadError(f"cannot import {script}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(name, None)
        raise AppLoadError(f"importing {script} failed: {exc!r}") from exc
    return module


def _module_name(script: Path) -> str:
    """``function_app``, unless a different app already holds that name in this process.

    Several apps load into one process only in tests; they get a distinct name so that neither
    app's module is replaced under code that imported it.
    """
    loaded = sys.modules.get("function_app")
    loaded_file = getattr(loaded, "__file__", None)
    if loaded is None or (loaded_file and Path(loaded_file).resolve() == script):
        return "function_app"
    digest = hashlib.sha1(str(script).encode()).hexdigest()[:10]
    return f"function_app_{digest}"


def find_function_register(module: ModuleType) -> Any:
    """The module's single top-level ``FunctionRegister`` (``func.FunctionApp`` / ``df.DFApp``)."""
    from azure.functions.decorators.function_app import FunctionRegister

    found = [
        (name, value) for name, value in vars(module).items() if isinstance(value, FunctionRegister)
    ]
    if not found:
        raise AppLoadError(f"no top-level FunctionApp instance in {SCRIPT_FILE}")
    if len(found) > 1:
        names = ", ".join(name for name, _ in found)
        raise AppLoadError(
            f"more than one top-level FunctionApp instance in {SCRIPT_FILE}: {names}"
        )
    return found[0][1]


def _get_functions(register: Any) -> list[Any]:
    try:
        return list(register.get_functions())
    except Exception as exc:  # the SDK validates names and bindings here
        raise AppLoadError(f"indexing the app's functions failed: {exc}") from exc


def _binding_type(binding: Mapping[str, Any]) -> str:
    return str(binding.get("type", ""))


def _enum_text(value: Any) -> str:
    return str(getattr(value, "value", value))


def _index_function(index: AppIndex, fn: Any) -> None:
    name = fn.get_function_name()
    bindings: list[dict[str, Any]] = list(fn.get_bindings_dict().get("bindings", []))
    trigger = fn.get_trigger()
    trigger_type = trigger.get_binding_name() if trigger is not None else ""
    user_func = fn.get_user_function()
    for binding in bindings:
        _check_supported(name, trigger_type, binding)
    trigger_binding = next(b for b in bindings if _binding_type(b) == trigger_type)
    if trigger_type == ORCHESTRATION_TRIGGER:
        durable_name = str(trigger_binding.get("orchestration") or name)
        _check_unique(index.orchestrators, durable_name, "orchestrator")
        index.orchestrators[durable_name] = user_func
    elif trigger_type == ACTIVITY_TRIGGER:
        durable_name = str(trigger_binding.get("activity") or name)
        _check_unique(index.activities, durable_name, "activity")
        index.activities[durable_name] = ActivityFunction(
            name=durable_name,
            function_name=name,
            func=user_func,
            input_param=str(trigger_binding["name"]),
            is_async=inspect.iscoroutinefunction(user_func),
        )
    else:
        durable_name = None
        index.http_functions.append(_http_function(name, bindings, trigger_binding, user_func))
    index.functions.append(FunctionSummary(name, trigger_type, durable_name))


def _check_supported(function: str, trigger_type: str, binding: Mapping[str, Any]) -> None:
    """Refuse bindings devhost has no implementation for, naming function and binding type."""
    kind = _binding_type(binding)
    if trigger_type not in (HTTP_TRIGGER, ORCHESTRATION_TRIGGER, ACTIVITY_TRIGGER):
        raise UnsupportedBinding(
            f"function '{function}' uses binding '{trigger_type or kind}', which devhost does "
            f"not support (supported: {HTTP_TRIGGER}, {ORCHESTRATION_TRIGGER}, "
            f"{ACTIVITY_TRIGGER}, {DURABLE_CLIENT})"
        )
    if kind == trigger_type:
        return
    if trigger_type == HTTP_TRIGGER:
        if kind == HTTP_OUTPUT and binding.get("name") == "$return":
            return
        if kind == DURABLE_CLIENT:
            return
    raise UnsupportedBinding(
        f"function '{function}' uses binding '{kind}' (name '{binding.get('name')}') with a "
        f"{trigger_type}, which devhost does not support"
    )


def _check_unique(existing: Mapping[str, Any], name: str, what: str) -> None:
    if name in existing:
        raise AppLoadError(f"two {what} functions are registered as '{name}'")


def _http_function(
    name: str,
    bindings: list[dict[str, Any]],
    trigger: Mapping[str, Any],
    user_func: Callable[..., Any],
) -> HttpFunction:
    clients = [b for b in bindings if _binding_type(b) == DURABLE_CLIENT]
    if len(clients) > 1:
        raise UnsupportedBinding(
            f"function '{name}' has {len(clients)} '{DURABLE_CLIENT}' bindings; "
            "devhost supports one"
        )
    client = clients[0] if clients else None
    methods = trigger.get("methods")
    method_names = tuple(_enum_text(m).upper() for m in methods) if methods else None
    route = trigger.get("route")
    route_text = name if route is None or str(route).strip() == "" else str(route).strip("/")
    request_param = str(trigger["name"])
    client_param = str(client["name"]) if client else None
    parameters = _parameter_names(user_func)
    context_param = "context" in parameters and "context" not in (request_param, client_param)
    bound = {request_param, client_param, "context"} - {None}
    unbound = [p for p in parameters if p not in bound and not _has_default(user_func, p)]
    if unbound:
        raise AppLoadError(
            f"function '{name}' declares parameter(s) {', '.join(unbound)} with no binding"
        )
    return HttpFunction(
        name=name,
        route=route_text,
        methods=method_names,
        auth_level=_enum_text(trigger.get("authLevel", "function")).lower(),
        func=user_func,
        request_param=request_param,
        client_param=client_param,
        client_task_hub=str(client["taskHub"]) if client and client.get("taskHub") else None,
        context_param=context_param,
        is_async=inspect.iscoroutinefunction(user_func),
    )


def _parameter_names(user_func: Callable[..., Any]) -> list[str]:
    try:
        return list(inspect.signature(user_func).parameters)
    except (TypeError, ValueError):
        return []


def _has_default(user_func: Callable[..., Any], parameter: str) -> bool:
    param = inspect.signature(user_func).parameters[parameter]
    return param.default is not inspect.Parameter.empty or param.kind in (
        inspect.Parameter.VAR_KEYWORD,
        inspect.Parameter.VAR_POSITIONAL,
    )
