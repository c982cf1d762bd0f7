"""An app brought up as the host brings it up: settings read, workers started, functions indexed.

:func:`start_app` is the one way devhost runs an app. It reads the app directory
(``loader.load_config``), starts the worker pool (the worker library indexes the app), turns the
worker's metadata into an :class:`~devhost.app.loader.AppIndex`, and refuses at start-up what
devhost cannot run. The worker's log lines (``RpcLog``) are printed here, at their level, with the
function name and invocation id they belong to.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devhost.app.loader import AppIndex, index_metadata, load_config
from devhost.core.errors import UnsupportedBinding
from devhost.workers import rpc
from devhost.workers.invocations import Invoker
from devhost.workers.pool import PoolSettings, WorkerPool, process_count_from, worker_env
from devhost.workers.process import WorkerProcess

app_log = logging.getLogger("devhost.app")

_LEVELS = {
    rpc.RpcLog.Trace: logging.DEBUG,
    rpc.RpcLog.Debug: logging.DEBUG,
    rpc.RpcLog.Information: logging.INFO,
    rpc.RpcLog.Warning: logging.WARNING,
    rpc.RpcLog.Error: logging.ERROR,
    rpc.RpcLog.Critical: logging.CRITICAL,
}
CHATTY_CATEGORIES = ("azure.core", "azure.storage", "azure.identity", "azure.monitor")
"""The Azure SDKs log every storage request with its headers at INFO; as before, such lines
show only with ``--verbose``."""


def print_worker_log(worker: WorkerProcess, entry: Any) -> None:
    """One ``RpcLog`` on the host's console: user logs at their level, tagged with the function
    and invocation they came from (``GrpcWorkerChannel``: category ``Function.<name>.User``);
    the worker's own (System) logs below Warning only with ``--verbose``, as ``func start``."""
    level = _LEVELS.get(entry.level, logging.INFO)
    system = entry.log_category == rpc.RpcLog.System
    if (system or entry.category.startswith(CHATTY_CATEGORIES)) and level < logging.WARNING:
        level = logging.DEBUG
    name = worker.names.get(entry.invocation_id)
    if name is None and not system and level < logging.WARNING:
        level = logging.DEBUG  # the host drops a user log outside any invocation
    where = f"Functions.{name} (Id={entry.invocation_id}): " if name else ""
    app_log.log(level, "%s%s", where, entry.message)


@dataclass
class RunningApp:
    """The app's index and the workers serving it."""

    index: AppIndex
    pool: WorkerPool
    invoker: Invoker

    async def stop(self) -> None:
        await self.pool.stop()


async def start_app(app_dir: Path, *, task_hub: str | None = None) -> RunningApp:
    """Start the app's workers and index it; raises ``StartupError`` kinds when it cannot run."""
    config = load_config(app_dir, task_hub=task_hub)
    settings = PoolSettings(process_count_from(dict(os.environ)), config.function_timeout)
    pool = WorkerPool(config.app_dir, worker_env(config.settings), settings, print_worker_log)
    try:
        metadata = await pool.start()
        if pool.http_streaming:
            raise UnsupportedBinding(
                "the app uses HTTP streaming (azurefunctions-extensions-http-fastapi), which "
                "devhost cannot run: the worker serves such functions on an HTTP server of its "
                "own that only the Functions host proxies to"
            )
        index = index_metadata(config, metadata)
    except BaseException:
        await pool.stop()
        raise
    return RunningApp(index, pool, Invoker(pool))
