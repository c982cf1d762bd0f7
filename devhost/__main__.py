"""``python -m devhost``: run a v2-model Durable Functions Python app without the Functions host."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from devhost.app.loader import AppLoadError
from devhost.core.errors import StartupError
from devhost.core.options import HostOptions
from devhost.workers.process import WORKER_PYTHON_ENV


def build_parser() -> argparse.ArgumentParser:
    defaults = HostOptions()
    parser = argparse.ArgumentParser(
        prog="python -m devhost",
        description=(
            "Run the Durable Functions app in --app-dir (function_app.py, host.json, "
            "local.settings.json) unchanged: its HTTP functions under /{routePrefix}/..., the "
            "Durable extension's HTTP API under /runtime/webhooks/durabletask/ and the SDK's "
            "RPC API under /durabletask/, with durable state in SQLite."
        ),
    )
    parser.add_argument(
        "--app-dir", type=Path, default=Path.cwd(), help="the app's root (default: cwd)"
    )
    parser.add_argument(
        "--host", default=defaults.host, help=f"interface to listen on (default: {defaults.host})"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=defaults.port,
        help=f"port to listen on; 0 picks a free one (default: {defaults.port})",
    )
    state = parser.add_mutually_exclusive_group()
    state.add_argument(
        "--state",
        type=Path,
        default=None,
        help="SQLite file for durable state (default: <app-dir>/.devhost/state.sqlite)",
    )
    state.add_argument(
        "--in-memory", action="store_true", help="keep durable state in memory (lost on exit)"
    )
    parser.add_argument(
        "--manual-clock",
        action="store_true",
        help="durable timers follow a clock that tests advance (see --test-hooks)",
    )
    parser.add_argument(
        "--test-hooks",
        action="store_true",
        help='serve POST /admin/devhost/clock/advance {"seconds": N} (never in shared setups)',
    )
    parser.add_argument(
        "--no-azurite",
        action="store_true",
        help="do not start Azurite even if AzureWebJobsStorage is UseDevelopmentStorage=true",
    )
    parser.add_argument(
        "--task-hub", default=None, help="task hub name (default: host.json durableTask.hubName)"
    )
    parser.add_argument(
        "--require-keys",
        action="store_true",
        help=(
            "check function keys (code= or x-functions-key) by auth level, and the system key on "
            "/runtime/webhooks/durabletask, as Azure does; keys from DEVHOST_MASTER_KEY, "
            "DEVHOST_FUNCTION_KEY, DEVHOST_SYSTEM_KEY or generated and printed"
        ),
    )
    parser.add_argument(
        "--worker-python",
        type=Path,
        default=None,
        help=(
            "the Python the worker processes run (default: devhost's own; also "
            "DEVHOST_WORKER_PYTHON): an app with a virtualenv of its own, which then needs "
            "azure-functions-runtime, grpcio and protobuf as Azure's worker brings them"
        ),
    )
    parser.add_argument(
        "--status-changes-kept",
        type=_at_least_one,
        default=defaults.status_changes_kept,
        metavar="N",
        help=(
            "custom-status changes the dashboard's timeline keeps per instance, the oldest "
            f"dropped first (default: {defaults.status_changes_kept:,})"
        ),
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="debug logging")
    return parser


def _at_least_one(text: str) -> int:
    """A whole number of at least 1, or argparse's one-line usage error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("it must be at least 1 (the last change is always kept)")
    return value


def options_from(args: argparse.Namespace) -> HostOptions:
    app_dir = args.app_dir.resolve()
    return HostOptions(
        app_dir=app_dir,
        host=args.host,
        port=args.port,
        state_path=args.state.resolve() if args.state else None,
        in_memory=args.in_memory,
        manual_clock=args.manual_clock,
        test_hooks=args.test_hooks,
        start_azurite=not args.no_azurite,
        task_hub=args.task_hub,
        require_keys=args.require_keys,
        status_changes_kept=args.status_changes_kept,
    )


QUIET_LOGGERS = ("azure",)
"""Libraries whose INFO lines would drown the host's own: the Azure SDK logs every storage
request with its headers (848 lines for three fan-out runs). WARNING unless ``--verbose``."""


def configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="[%(asctime)s] %(message)s",
        stream=sys.stderr,
        force=True,
    )
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if verbose else logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose)
    if args.worker_python is not None:
        python = args.worker_python.absolute()  # not resolved: a venv's python is a symlink
        if not (python.is_file() and os.access(python, os.X_OK)):
            print(f"devhost: --worker-python {python} is not an executable file", file=sys.stderr)
            return 1
        os.environ[WORKER_PYTHON_ENV] = str(python)  # read by each worker process's spawn
    options = options_from(args)
    from devhost.server import run

    try:
        asyncio.run(run(options))
    except AppLoadError as exc:
        print(f"devhost: cannot start the app: {exc}", file=sys.stderr)
        return 1
    except StartupError as exc:
        print(f"devhost: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"devhost: cannot listen on {options.host}:{options.port}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # a Ctrl+C during start-up, before the signal handlers are set
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
