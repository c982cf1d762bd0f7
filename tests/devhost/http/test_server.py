"""DevHost lifecycle, the start-up listing, Azurite hand-off and the CLI."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devhost import __main__ as cli
from devhost.http.urls import host_urls
from devhost.runtime.engine import Engine
from devhost.server import DevHost

from .conftest import APPS, make_options

ROOT = Path(__file__).resolve().parents[3]


async def test_port_zero_binds_a_free_port_and_runs_the_engine() -> None:
    host = DevHost(make_options("basic"))
    async with host:
        engine = host.engine
        assert engine.store is not None  # started
        assert host.port > 0
        assert host.base_url == f"http://127.0.0.1:{host.port}"
        assert host.public_url == f"http://localhost:{host.port}"
        assert host.urls.rpc_base_url == f"http://127.0.0.1:{host.port}/durabletask/"
    assert engine.store is None  # stopped


def test_public_and_rpc_urls_per_listen_address() -> None:
    assert host_urls("0.0.0.0", 7071).public_origin == "http://localhost:7071"
    assert host_urls("127.0.0.1", 7071).rpc_origin == "http://127.0.0.1:7071"
    assert host_urls("::1", 80).rpc_origin == "http://[::1]:80"
    assert host_urls("10.1.2.3", 8080).public_origin == "http://10.1.2.3:8080"


async def test_function_listing_like_func_start(start_host: Any) -> None:
    async with start_host("basic") as host:
        listing = host.describe_functions()
    origin = host.public_url
    assert listing.startswith("Functions:\n\n")
    assert f"\titem_by_id: [GET] {origin}/api/items/{{id:int}}\n" in listing
    assert f"\toptional: [ALL] {origin}/api/optional/{{name?}}\n" in listing
    assert "\thello_orchestrator: orchestrationTrigger\n" in listing
    named = "\tnamed_orchestrator: orchestrationTrigger (registered as 'NamedOrchestrator')"
    assert named in listing
    assert "\tsay_hello: activityTrigger\n" in listing


class FakeAzurite:
    def __init__(self) -> None:
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True


def dev_storage_app(tmp_path: Path) -> Path:
    (tmp_path / "function_app.py").write_text((APPS / "rootprefix" / "function_app.py").read_text())
    (tmp_path / "local.settings.json").write_text(
        json.dumps({"Values": {"AzureWebJobsStorage": "UseDevelopmentStorage=true"}})
    )
    return tmp_path


async def test_azurite_started_for_development_storage_and_stopped_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from devhost.dev import azurite

    monkeypatch.delenv("AzureWebJobsStorage", raising=False)
    started: list[Any] = []
    handle = FakeAzurite()

    def ensure(settings: dict[str, object], data_dir: Any) -> FakeAzurite:
        started.append((settings["AzureWebJobsStorage"], Path(data_dir)))
        return handle

    monkeypatch.setattr(azurite, "ensure_for_settings", ensure)
    app_dir = dev_storage_app(tmp_path)
    options = make_options("basic", app_dir=app_dir, start_azurite=True)
    async with DevHost(options) as host:
        assert started == [("UseDevelopmentStorage=true", app_dir / ".azurite")]
        assert host.engine.store is not None
        assert not handle.stopped
    assert handle.stopped


async def test_azurite_stop_runs_even_when_the_engine_fails_to_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from devhost.dev import azurite

    monkeypatch.delenv("AzureWebJobsStorage", raising=False)
    handle = FakeAzurite()
    monkeypatch.setattr(azurite, "ensure_for_settings", lambda settings, data_dir: handle)

    async def broken_start(self: Engine) -> None:
        raise RuntimeError("store is locked")

    monkeypatch.setattr(Engine, "start", broken_start)
    options = make_options("basic", app_dir=dev_storage_app(tmp_path), start_azurite=True)
    with pytest.raises(RuntimeError, match="store is locked"):
        async with DevHost(options):
            pass
    assert handle.stopped


async def test_no_azurite_when_disabled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from devhost.dev import azurite

    monkeypatch.delenv("AzureWebJobsStorage", raising=False)
    handle = FakeAzurite()
    calls: list[Any] = []
    monkeypatch.setattr(
        azurite, "ensure_for_settings", lambda settings, data_dir: calls.append(1) or handle
    )
    options = make_options("basic", app_dir=dev_storage_app(tmp_path), start_azurite=False)
    async with DevHost(options):
        pass
    assert calls == []


def test_cli_help_documents_every_option() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "devhost", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    for flag in (
        "--app-dir", "--host", "--port", "--state", "--in-memory", "--manual-clock",
        "--test-hooks", "--no-azurite", "--task-hub",
    ):  # fmt: skip
        assert flag in result.stdout


def test_cli_options(tmp_path: Path) -> None:
    args = cli.build_parser().parse_args(
        ["--app-dir", str(tmp_path), "--port", "0", "--in-memory", "--manual-clock",
         "--test-hooks", "--no-azurite", "--task-hub", "Hub1"]
    )  # fmt: skip
    options = cli.options_from(args)
    assert options.app_dir == tmp_path.resolve()
    assert (options.port, options.in_memory, options.manual_clock) == (0, True, True)
    assert (options.test_hooks, options.start_azurite, options.task_hub) == (True, False, "Hub1")


def test_cli_refuses_an_unsupported_app_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["--app-dir", str(APPS / "entity_app"), "--port", "0", "--no-azurite"])
    assert code == 1
    err = capsys.readouterr().err
    assert "'Counter'" in err
    assert "'entityTrigger'" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("verbose", [False, True])
def test_the_azure_sdks_request_logs_are_for_verbose_only(verbose: bool) -> None:
    policy = logging.getLogger("azure.core.pipeline.policies.http_logging_policy")
    root = logging.getLogger()
    saved = {name: logging.getLogger(name).level for name in ("", *cli.QUIET_LOGGERS)}
    handlers = list(root.handlers)
    try:
        cli.configure_logging(verbose)
        assert policy.isEnabledFor(logging.INFO) is verbose
        assert logging.getLogger("devhost.runtime.engine").isEnabledFor(logging.INFO)
    finally:  # the CLI configures the whole process: give pytest its logging back
        for handler in root.handlers:
            if handler not in handlers:
                root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
