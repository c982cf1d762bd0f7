"""Compose devhost: start the app's workers, build the engine, serve HTTP on one port, stop cleanly.

One aiohttp application answers everything the Functions host and the Durable extension would:
the durable RPC API, the public webhooks, the optional test hooks, devhost's dashboard
(``devhost.dashboard``, under ``/devhost/``), and the app's HTTP functions,
which run in worker processes like every other function (``devhost.workers``). :class:`DevHost`
is the unit tests and the CLI share: ``async with DevHost(options) as host`` gives a running host
on ``host.base_url`` (a free port when ``options.port`` is 0).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

from devhost.app.loader import AppIndex
from devhost.core.options import HostOptions
from devhost.dashboard.routes import Dashboard
from devhost.http import errors as http_errors
from devhost.http.durable_answers import not_found
from devhost.http.durable_api import DurableApi
from devhost.http.http_triggers import HttpTriggerHandler
from devhost.http.keys import ENV_NAMES, HostKeys, unauthorized
from devhost.http.request_body import MAX_REQUEST_BYTES
from devhost.http.routing import Mount, find, methods_for, segments_after
from devhost.http.urls import RPC_PATH, WEBHOOK_PATH, HostUrls, host_urls
from devhost.runtime.engine import Engine, open_store
from devhost.runtime.store import Store
from devhost.workers.app import RunningApp, start_app
from devhost.workers.invocation_log import log_invocation
from devhost.workers.invocations import Invoker

log = logging.getLogger("devhost")

INDEX_KEY = web.AppKey("devhost_index", AppIndex)
ENGINE_KEY = web.AppKey("devhost_engine", Engine)
TRIGGERS_KEY = web.AppKey("devhost_triggers", HttpTriggerHandler)
DURABLE_KEY = web.AppKey("devhost_durable", DurableApi)
KEYS_KEY = web.AppKey("devhost_keys", HostKeys)


def _mounts(
    durable: DurableApi, engine: Engine, options: HostOptions, dashboard: Dashboard, keys: HostKeys
) -> list[Mount]:
    """The one routing table: each base path, its routes and the key it needs under
    ``--require-keys``. Anything under none of them is the app's HTTP functions', which check
    their own auth level (``http_triggers``)."""
    mounts = [
        Mount(RPC_PATH, durable.routes, lambda r: keys.allows_durable_api(r, rpc=True)),
        Mount(WEBHOOK_PATH, durable.routes, lambda r: keys.allows_durable_api(r, rpc=False)),
        *dashboard.mounts,
    ]
    if options.test_hooks:
        # Imported only when asked for: the hooks are not on the production import chain.
        from devhost.dev import test_hooks

        hooks = test_hooks.TestHooks(engine)
        mounts.append(Mount(test_hooks.BASE_PATH, hooks.routes, keys.allows_admin))
    return mounts


async def _dispatch(
    mounts: list[Mount], triggers: HttpTriggerHandler, request: web.Request
) -> web.StreamResponse:
    path = request.raw_path.split("?", 1)[0]
    for mount in mounts:
        segments = segments_after(path, mount.base)
        if segments is None:
            continue
        if not mount.allowed(request):
            return mount.refused() if mount.refused else unauthorized()
        found = find(mount.routes, request.method, segments)
        if found is None:
            if mount.unmatched is not None:
                return mount.unmatched(methods_for(mount.routes, segments))
            return not_found()
        route, params = found
        return await route.handler(request, params)
    return await triggers.handle(request)


def create_app(
    options: HostOptions, index: AppIndex, invoker: Invoker, store: Store | None = None
) -> tuple[web.Application, Engine]:
    """Build (not start) the engine and the aiohttp application for an app whose workers run.

    The engine starts and stops with the application (``cleanup_ctx``), after Azurite when the
    app uses development storage. :class:`DevHost` gives the durable API and the HTTP functions'
    client binding the bound port's URLs once it listens.
    """
    keys = HostKeys.load(options.require_keys)
    engine = Engine(index, options, invoker, log_invocation=log_invocation, store=store)
    urls = host_urls(options.host, options.port, keys.url_code)
    durable = DurableApi(engine, index.task_hub, urls)
    triggers = HttpTriggerHandler(
        index.http_functions, index.route_prefix, index.task_hub, urls, invoker, keys
    )
    dashboard = Dashboard(engine, options, index, keys)
    mounts = _mounts(durable, engine, options, dashboard, keys)

    async def dispatch(request: web.Request) -> web.StreamResponse:
        return await _dispatch(mounts, triggers, request)

    app = web.Application(
        client_max_size=MAX_REQUEST_BYTES, middlewares=[http_errors.json_router_errors]
    )
    app[INDEX_KEY] = index
    app[ENGINE_KEY] = engine
    app[TRIGGERS_KEY] = triggers
    app[DURABLE_KEY] = durable
    app[KEYS_KEY] = keys
    # [\s\S], not ".": aiohttp matches the decoded path, and an id may hold an encoded newline
    # (%0A), which must reach the API to be refused with a 400 rather than fall through to a 404.
    app.router.add_route("*", r"/{tail:[\s\S]*}", dispatch)
    app.on_shutdown.append(dashboard.shutdown)  # its long polls end before the server waits
    app.cleanup_ctx.append(_azurite_context(options, index))
    app.cleanup_ctx.append(_engine_context(engine))
    return app, engine


def _azurite_context(
    options: HostOptions, index: AppIndex
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def azurite(_: web.Application) -> AsyncIterator[None]:
        started = await _start_azurite(options, index) if options.start_azurite else None
        watcher = None
        if started is not None:
            from devhost.dev.azurite import watch

            # Restarts the Azurite this devhost owns if it dies (one WARNING line); returns at
            # once for anything else.
            watcher = asyncio.create_task(watch(started), name="devhost-azurite-watch")
        try:
            yield
        finally:
            if watcher is not None:
                watcher.cancel()
                await asyncio.gather(watcher, return_exceptions=True)
            if started is not None:
                await asyncio.get_running_loop().run_in_executor(None, started.stop)

    return azurite


async def _start_azurite(options: HostOptions, index: AppIndex) -> Any:
    """Start Azurite for ``UseDevelopmentStorage=true`` (imported late: it may be absent)."""
    storage = index.settings.get("AzureWebJobsStorage", "")
    if "usedevelopmentstorage=true" not in storage.replace(" ", "").lower():
        return None
    try:
        from devhost.dev import azurite
    except ImportError:
        log.warning("devhost.dev.azurite is not available; start Azurite yourself")
        return None
    data_dir = options.app_dir / ".azurite"
    loop = asyncio.get_running_loop()
    started = await loop.run_in_executor(
        None, azurite.ensure_for_settings, dict(index.settings), data_dir
    )
    return started


def _engine_context(engine: Engine) -> Callable[[web.Application], AsyncIterator[None]]:
    async def engine_lifecycle(_: web.Application) -> AsyncIterator[None]:
        await engine.start()
        try:
            yield
        finally:
            await engine.stop()

    return engine_lifecycle


def describe_functions(index: AppIndex, urls: HostUrls) -> str:
    """The ``func start`` listing: HTTP functions with methods and URL, others with trigger."""
    lines = ["Functions:", ""]
    http = {fn.name: fn for fn in index.http_functions}
    prefix = f"/{index.route_prefix}" if index.route_prefix else ""
    for summary in index.functions:
        fn = http.get(summary.name)
        if fn is not None:
            methods = ",".join(fn.methods) if fn.methods else "ALL"
            lines.append(f"\t{fn.name}: [{methods}] {urls.public_origin}{prefix}/{fn.route}")
        else:
            alias = ""
            if summary.durable_name and summary.durable_name != summary.name:
                alias = f" (registered as '{summary.durable_name}')"
            lines.append(f"\t{summary.name}: {summary.trigger}{alias}")
        lines.append("")
    return "\n".join(lines)


class DevHost:
    """A running devhost: ``async with DevHost(options) as host: ... host.base_url ...``."""

    def __init__(self, options: HostOptions) -> None:
        self.options = options
        self.app: web.Application | None = None
        self._engine: Engine | None = None
        self.runner: web.AppRunner | None = None
        self.running_app: RunningApp | None = None
        self.urls = HostUrls()
        self.port = 0

    @property
    def base_url(self) -> str:
        """Where to send requests (the loopback address, reliable on IPv4-only hosts)."""
        return self.urls.rpc_origin

    @property
    def public_url(self) -> str:
        return self.urls.public_origin

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("the host is not started")
        return self._engine

    @property
    def keys(self) -> HostKeys:
        if self.app is None:
            raise RuntimeError("the host is not started")
        return self.app[KEYS_KEY]

    @property
    def index(self) -> AppIndex:
        if self.app is None:
            raise RuntimeError("the host is not started")
        return self.app[INDEX_KEY]

    async def start(self) -> None:
        """Open the state file, start the workers (the worker library indexes the app), serve.

        The state file comes first: a file in use or damaged is refused before any worker
        process starts."""
        store = open_store(self.options)
        try:
            self.running_app = await start_app(self.options.app_dir, task_hub=self.options.task_hub)
        except BaseException:
            store.close()
            raise
        try:
            running = self.running_app
            self.app, self._engine = create_app(self.options, running.index, running.invoker, store)
            # auto_decompress off: bodies reach functions and webhooks as sent, as on Azure
            # (``request_body.py``), and nothing is ever inflated on the event loop.
            self.runner = web.AppRunner(
                self.app, access_log=None, handle_signals=False, auto_decompress=False
            )
            try:
                await self.runner.setup()
                http_errors.install(self.runner)
                site = web.TCPSite(self.runner, self.options.host, self.options.port)
                await site.start()
            except BaseException:
                await self.runner.cleanup()
                raise
        except BaseException:
            await self.running_app.stop()
            self.running_app = None
            raise
        self.port = int(self.runner.addresses[0][1])
        self.urls = host_urls(self.options.host, self.port, self.keys.url_code)
        # The durable API's links and the client binding name the bound port.
        self.app[TRIGGERS_KEY].urls = self.urls
        self.app[DURABLE_KEY].urls = self.urls

    async def stop(self) -> None:
        try:
            if self.runner is not None:
                runner, self.runner = self.runner, None
                await runner.cleanup()
        finally:
            if self.running_app is not None:
                running, self.running_app = self.running_app, None
                await running.stop()

    @property
    def worker_pids(self) -> list[int]:
        """The worker processes serving the app now (restarts change them)."""
        return self.running_app.pool.pids if self.running_app else []

    def describe_functions(self) -> str:
        return describe_functions(self.index, self.urls)

    async def __aenter__(self) -> DevHost:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


async def serve_forever(
    options: HostOptions, *, on_ready: Callable[[DevHost], Any] | None = None
) -> None:
    """Run until SIGINT or SIGTERM, then stop the engine, the server and Azurite."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = (signal.SIGINT, signal.SIGTERM)

    def on_signal() -> None:
        if stop.is_set():  # a second Ctrl+C while stopping: leave now (SQLite is crash-safe)
            print("devhost: stopped without cleaning up (second signal)", file=sys.stderr)
            os._exit(130)
        stop.set()

    for sig in signals:
        loop.add_signal_handler(sig, on_signal)
    try:
        async with DevHost(options) as host:
            freeze_startup_objects()
            print(host.describe_functions(), flush=True)
            print(keys_banner(host.keys), flush=True)
            if options.host in ("0.0.0.0", "::"):
                log.warning(
                    "Listening on %s: the app and devhost's API are reachable from the network.",
                    options.host,
                )
            print(
                f"devhost: task hub '{host.index.task_hub}', listening on {host.public_url} "
                f"(durable RPC at {host.urls.rpc_base_url}). Press Ctrl+C to stop.",
                flush=True,
            )
            if on_ready is not None:
                result = on_ready(host)
                if inspect.isawaitable(result):
                    await result
            await stop.wait()
            log.info("Stopping devhost")
    finally:
        for sig in signals:
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)


def keys_banner(keys: HostKeys) -> str:
    """What the start-up banner says about keys (the keys themselves only when required)."""
    if not keys.required:
        return (
            "devhost: function keys are not checked, as under func start "
            "(pass --require-keys to check them as Azure does)."
        )

    def shown(name: str, value: str) -> str:
        return value if name in keys.generated else f"(from {ENV_NAMES[name]}, not shown)"

    return (
        "devhost: keys are required (--require-keys), as on Azure:\n"
        f"\tmaster key:             {shown('master', keys.master)}\n"
        f"\tdefault function key:   {shown('function', keys.function)}\n"
        f"\tdurabletask system key: {shown('system', keys.system)}"
    )


def freeze_startup_objects() -> None:
    """Exempt everything alive after start-up from garbage collection (``gc.freeze``).

    The app's modules, the SDK and aiohttp make a large, permanent heap that every full
    collection would scan again; frozen, a collection scans only what serving allocates, which
    removes most of the sub-millisecond outliers in wake latency (bench 3). Only for a process
    devhost owns (the CLI, the benchmarks); code embedding :class:`DevHost` decides for itself.
    """
    gc.collect()
    gc.freeze()


async def run(options: HostOptions) -> None:
    """The CLI's entry: :func:`serve_forever` without a readiness callback."""
    await serve_forever(options)
