"""The host's start-up reading of an app: its settings, host.json, and the functions the worker
indexed.

The Functions host never imports an app. It applies ``local.settings.json`` to the environment
(as ``func start`` does), reads ``host.json``, and learns the app's functions from the worker's
``FunctionMetadataResponse``: each function's name, id and bindings, exactly as Microsoft's
worker library indexed them (``devhost.workers``). This module turns that metadata into an
:class:`AppIndex`. Bindings devhost cannot honour are refused here, before any request is
served, so that an app never half-works.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devhost.core.errors import StartupError, UnsupportedBinding
from devhost.protocol import lenient_json

log = logging.getLogger("devhost.app.loader")

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
    """An activity: its durable name, the function that implements it and its input binding."""

    name: str
    function_name: str
    function_id: str
    input_param: str


@dataclass(frozen=True)
class OrchestratorFunction:
    """An orchestrator: its durable name, the function and the trigger binding's parameter."""

    name: str
    function_name: str
    function_id: str
    context_param: str


@dataclass(frozen=True)
class HttpFunction:
    """An HTTP-triggered function and what the host needs to call it.

    ``route`` is the template without the route prefix; ``methods`` is None when the function
    accepts every method. ``client_param`` names the durableClient parameter, if any, and
    ``client_task_hub`` the hub named on that binding (None: the app's hub).
    """

    name: str
    function_id: str
    route: str
    methods: tuple[str, ...] | None
    auth_level: str
    request_param: str
    client_param: str | None = None
    client_task_hub: str | None = None


@dataclass(frozen=True)
class FunctionSummary:
    """One line of the start-up listing: the function name and its trigger binding type."""

    name: str
    trigger: str
    durable_name: str | None = None


@dataclass(frozen=True)
class AppConfig:
    """What the host reads before any worker starts: the directory, settings and host.json."""

    app_dir: Path
    route_prefix: str
    task_hub: str
    settings: dict[str, str]
    function_timeout: float | None


@dataclass
class AppIndex:
    """Everything the engine and the HTTP layer need from the app, read once at start-up."""

    app_dir: Path
    orchestrators: dict[str, OrchestratorFunction]
    activities: dict[str, ActivityFunction]
    http_functions: list[HttpFunction]
    route_prefix: str
    task_hub: str
    settings: dict[str, str]
    functions: list[FunctionSummary] = field(default_factory=list)


def load_config(app_dir: Path, *, task_hub: str | None = None) -> AppConfig:
    """Read the app directory as the host does before it starts a worker."""
    app_dir = Path(app_dir).resolve()
    script = app_dir / SCRIPT_FILE
    if not script.is_file():
        raise AppLoadError(f"{script} not found: devhost runs v2-model apps (function_app.py)")
    settings = apply_local_settings(app_dir)
    host_config = read_json_file(app_dir / "host.json", required=False)
    warn_ignored_durable_settings(host_config)
    return AppConfig(
        app_dir=app_dir,
        route_prefix=route_prefix_from(host_config),
        task_hub=task_hub or task_hub_from(host_config, os.environ),
        settings=settings,
        function_timeout=function_timeout_from(host_config),
    )


def index_metadata(config: AppConfig, metadata: Iterable[Any]) -> AppIndex:
    """The app's functions from the worker's ``RpcFunctionMetadata`` (their raw bindings)."""
    index = AppIndex(
        app_dir=config.app_dir,
        orchestrators={},
        activities={},
        http_functions=[],
        route_prefix=config.route_prefix,
        task_hub=config.task_hub,
        settings=config.settings,
    )
    for function in metadata:
        bindings = [json.loads(raw) for raw in function.raw_bindings]
        _index_function(index, function.name, function.function_id, bindings)
    return index


DEFAULT_FUNCTION_TIMEOUT = 30 * 60.0
_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2}(?:\.\d+)?)$")


def function_timeout_from(host_config: Mapping[str, Any]) -> float | None:
    """``functionTimeout`` (a TimeSpan, ``[d.]hh:mm:ss``) in seconds; ``-1``: unbounded.

    Absent, the host's default off Consumption applies: 30 minutes, as on Flex Consumption and
    under ``func start`` (``ScriptJobHostOptionsSetup.cs``)."""
    raw = host_config.get("functionTimeout")
    if raw is None:
        return DEFAULT_FUNCTION_TIMEOUT
    if str(raw).strip() == "-1":
        return None
    match = _TIMESPAN.match(str(raw).strip())
    if match is None:
        raise AppLoadError(
            f'host.json: functionTimeout must be a time span such as "00:05:00" or -1, '
            f"not {json.dumps(raw)}"
        )
    days, hours, minutes, seconds = match.groups()
    total = int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    if total <= 0:
        raise AppLoadError("host.json: functionTimeout must be longer than zero")
    return total


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


def _binding_type(binding: Mapping[str, Any]) -> str:
    return str(binding.get("type", ""))


def _enum_text(value: Any) -> str:
    return str(getattr(value, "value", value))


def _index_function(
    index: AppIndex, name: str, function_id: str, bindings: list[dict[str, Any]]
) -> None:
    trigger_binding = next((b for b in bindings if "trigger" in _binding_type(b).lower()), None)
    trigger_type = _binding_type(trigger_binding) if trigger_binding else ""
    for binding in bindings:
        _check_supported(name, trigger_type, binding)
    assert trigger_binding is not None
    if trigger_type == ORCHESTRATION_TRIGGER:
        durable_name = str(trigger_binding.get("orchestration") or name)
        _check_unique(index.orchestrators, durable_name, "orchestrator")
        index.orchestrators[durable_name] = OrchestratorFunction(
            durable_name, name, function_id, str(trigger_binding["name"])
        )
    elif trigger_type == ACTIVITY_TRIGGER:
        durable_name = str(trigger_binding.get("activity") or name)
        _check_unique(index.activities, durable_name, "activity")
        index.activities[durable_name] = ActivityFunction(
            durable_name, name, function_id, str(trigger_binding["name"])
        )
    else:
        durable_name = None
        index.http_functions.append(_http_function(name, function_id, bindings, trigger_binding))
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
    name: str, function_id: str, bindings: list[dict[str, Any]], trigger: Mapping[str, Any]
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
    return HttpFunction(
        name=name,
        function_id=function_id,
        route=route_text,
        methods=method_names,
        auth_level=_enum_text(trigger.get("authLevel", "function")).lower(),
        request_param=str(trigger["name"]),
        client_param=str(client["name"]) if client else None,
        client_task_hub=str(client["taskHub"]) if client and client.get("taskHub") else None,
    )
