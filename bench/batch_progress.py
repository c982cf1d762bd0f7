"""BatchProgress at scale: cost per item as the batch grows, and what the status costs.

Two rows, each from one run of ``python -m devhost`` with its own Azurite (as bench/large_status):

- **scaling**: BatchProgress's milliseconds per item at ``large`` items ÷ at ``small`` items
  (goal <= 1.5). Before the append-style status, 1,000 items cost 4.8x per item what 125 did:
  every chunk re-uploaded the whole table and every replay re-serialised it.
- **overhead**: BatchProgress ÷ ``BatchNoStatus``, the same orchestration (chunks of 25, the same
  activity, continue-as-new every ``ITEMS_PER_GENERATION`` items) setting no status at all, at
  ``large`` items (goal <= 1.3): what keeping a 100,000-row table in the status costs on top of
  the work.
- **history**: the UTF-8 bytes of every history event BatchProgress's generations commit for
  ``large`` items ÷ the bytes of its final status as clients get it (goal <= 2). This one runs the
  engine in this process (``engine.stats.history_bytes``; the app in a worker it starts), since a
  finished generation's history is gone once it continues as new.
- **history the status adds**: (BatchProgress's history bytes minus ``BatchNoStatus``'s, the same
  run setting no status) ÷ the final status's bytes (goal <= 1.1): what keeping the table costs in
  history, apart from the per-item fan-out both share. Every row is in the history once, inside
  the append's input (a JSON string in the event, so its quotes are escaped; the keys of rows that
  share them once per append), plus each append's small log reference and the log carried through
  continue-as-new. The result also splits the difference by event type (``added_<type>_bytes``).
  One part of it is not the rows at all: an episode that continues as new commits no history
  (devhost, like DurableTask's Azure Storage provider, writes only the new execution's events),
  and BatchNoStatus continues as new in the episode that receives its last chunk's results, so
  those are never written, where BatchProgress, which appends first, writes them and loses only
  the append's result.

Each sample starts the instance through the built-in API with ``timeout`` (devhost answers on the
commit that completes it, no polling), so it times the whole run including every generation.
Run it alone with ``python -m bench.batch_progress [--quick]``.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import textwrap
import time
import uuid
from collections import Counter
from typing import Any

import aiohttp

from bench.common import Result, saved_environ
from bench.large_status import PROJECT_ON_PATH, app_under_devhost, temporary_app

SCALING_GOAL = 1.5
OVERHEAD_GOAL = 1.3
HISTORY_GOAL = 2.0
STATUS_HISTORY_GOAL = 1.1

APP = (
    textwrap.dedent(
        '''
    """The real app plus BatchNoStatus (written by bench/batch_progress.py)."""
    '''
    )
    + PROJECT_ON_PATH
    + textwrap.dedent(
        '''
    import azure.durable_functions as df
    import azure.functions as func

    import custom_status
    from activities import blueprint as activities_blueprint
    from clients import blueprint as clients_blueprint
    from orchestrators import batch_progress as bp
    from orchestrators import blueprint as orchestrators_blueprint

    app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
    app.register_functions(custom_status.blueprint)
    app.register_functions(orchestrators_blueprint)
    app.register_functions(activities_blueprint)
    app.register_functions(clients_blueprint)


    @app.orchestration_trigger(context_name="context")
    def BatchNoStatus(context: df.DurableOrchestrationContext):
        """BatchProgress's loop and generations without any custom status."""
        job = context.get_input()
        total, done = job["size"], job.get("done", 0)
        end = min(done + bp.ITEMS_PER_GENERATION, total)
        while done < end:
            chunk = range(done, min(done + bp.CHUNK_SIZE, end))
            rows = yield context.task_all(
                [context.call_activity(bp.PROCESS_BATCH_ITEM, {"index": i}) for i in chunk]
            )
            done += len(rows)
        if done < total:
            context.continue_as_new({"size": total, "done": done})
        return done
    '''
    )
)


async def run_batch(http: aiohttp.ClientSession, base_url: str, name: str, size: int) -> float:
    """Seconds from the start request until the instance (all generations) has completed."""
    instance_id = f"{name}-{size}-{uuid.uuid4().hex[:8]}"
    url = f"{base_url}/runtime/webhooks/durabletask/orchestrators/{name}/{instance_id}"
    started = time.perf_counter()
    async with http.post(
        url, params={"timeout": "3600", "pollingInterval": "1"}, json=json.dumps({"size": size})
    ) as response:
        body = await response.text()
    if response.status == 200:
        return time.perf_counter() - started
    # continue-as-new ends the first generation's wait early: wait for the last one.
    status_url = f"{base_url}/runtime/webhooks/durabletask/instances/{instance_id}"
    while True:
        async with http.get(status_url) as response:
            status = await response.json()
        if status["runtimeStatus"] == "Completed":
            return time.perf_counter() - started
        if status["runtimeStatus"] not in ("Running", "Pending", "ContinuedAsNew"):
            raise RuntimeError(f"{name} ended {status['runtimeStatus']}: {body[:300]}")
        await asyncio.sleep(0.05)


def count_history_by_event(store: Any, by_event: Counter[str]) -> None:
    """Add to ``by_event`` the UTF-8 bytes of every history event ``store`` commits, by event
    type: the texts devhost hands its store are the ones ``engine.stats.history_bytes`` sums, so
    the parts add up to it."""
    from devhost.protocol.history import EventType

    commit = store.commit_episode

    def counting(instance: Any, outcome: Any, consumed: Any, history: list[str]) -> Any:
        for text in history:
            event_type = EventType(json.loads(text)["EventType"])
            by_event[event_type.name.lower()] += len(text.encode("utf-8"))
        return commit(instance, outcome, consumed, history)

    store.commit_episode = counting


async def history_bytes(
    size: int,
    orchestrator: str = "BatchProgress",
    app_source: str = APP,
    by_event: Counter[str] | None = None,
) -> tuple[int, int]:
    """(history bytes committed, final status bytes) of one run of ``size`` items; the status
    bytes are the compact UTF-8 JSON a client reads (0 for an orchestrator that sets none).
    ``by_event``, if given, gets the history bytes by event type (``count_history_by_event``)."""
    from custom_status import close_shared_clients, resolve_custom_status, serialize
    from devhost.core.options import HostOptions
    from devhost.runtime.engine import Engine, open_store
    from devhost.workers.app import start_app

    with temporary_app(app_source, "bench-history-") as (app_dir, azurite), saved_environ():
        os.environ.update(  # the worker inherits them; this process reads the log with them
            {"AzureWebJobsStorage": azurite.connection_string, "STATUS_BLOB_CONTAINER": "bench"}
        )
        options = HostOptions(app_dir=app_dir, state_path=app_dir.parent / "history.sqlite")
        running = await start_app(app_dir)
        store = open_store(options)
        if by_event is not None:
            count_history_by_event(store, by_event)
        engine = Engine(running.index, options, running.invoker, store=store)
        await engine.start()
        try:
            input_json = json.dumps(json.dumps({"size": size}))  # as the SDK's start_new sends
            instance_id = await engine.start_orchestration(orchestrator, None, input_json)
            status = await engine.wait_for(
                instance_id, lambda s: s["runtimeStatus"] in ("Completed", "Failed"), 3600
            )
            if status["runtimeStatus"] != "Completed":
                raise RuntimeError(f"{orchestrator} failed: {str(status['output'])[:300]}")
            value = await resolve_custom_status(status["customStatus"])
            final = b"" if value is None else serialize(value).encode("utf-8")
        finally:
            await engine.stop()
            await running.stop()
            await close_shared_clients()
    return engine.stats.history_bytes, len(final)


async def measure(small: int = 500, large: int = 10_000, rounds: int = 3) -> list[Result]:
    samples: dict[str, list[float]] = {"small": [], "large": [], "bare": []}
    with app_under_devhost(APP, "bench-batch-") as (host, _):
        # No client timeout: a 100,000-item run waits far longer than aiohttp's default 5 minutes.
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None)) as http:
            await run_batch(http, host.base_url, "BatchProgress", 50)  # warm up
            for _ in range(rounds):  # interleaved: drift affects all three alike
                for kind, name, size in (
                    ("small", "BatchProgress", small),
                    ("large", "BatchProgress", large),
                    ("bare", "BatchNoStatus", large),
                ):
                    samples[kind].append(await run_batch(http, host.base_url, name, size) / size)
    by_event: Counter[str] = Counter()
    bare_by_event: Counter[str] = Counter()
    history, final_status = await history_bytes(large, by_event=by_event)
    bare_history, _ = await history_bytes(large, "BatchNoStatus", by_event=bare_by_event)
    status_history = (history - bare_history) / final_status
    # Where the status's history goes, by event type (BatchProgress's bytes minus BatchNoStatus's).
    added = {
        f"added_{name}_bytes": float(by_event[name] - bare_by_event[name])
        for name in sorted(by_event.keys() | bare_by_event.keys())
    }
    ms = {kind: statistics.median(values) * 1000 for kind, values in samples.items()}
    scaling = ms["large"] / ms["small"]
    overhead = ms["large"] / ms["bare"]
    numbers = {
        "small_items": float(small),
        "large_items": float(large),
        "ms_per_item_small": ms["small"],
        "ms_per_item_large": ms["large"],
        "ms_per_item_no_status": ms["bare"],
        "rounds": float(rounds),
        "history_bytes": float(history),
        "history_bytes_no_status": float(bare_history),
        "final_status_bytes": float(final_status),
    }
    return [
        Result(
            "7 batch: scaling",
            scaling,
            f"BatchProgress ms/item at {large:,} items ÷ at {small:,}",
            f"<= {SCALING_GOAL:g}",
            scaling <= SCALING_GOAL,
            numbers,
        ),
        Result(
            "7 batch: status overhead",
            overhead,
            f"BatchProgress ÷ the same work setting no status, at {large:,} items",
            f"<= {OVERHEAD_GOAL:g}",
            overhead <= OVERHEAD_GOAL,
            {},
        ),
        Result(
            "7 batch: history",
            history / final_status,
            f"history bytes of BatchProgress at {large:,} items ÷ its final status's bytes",
            f"<= {HISTORY_GOAL:g}",
            history / final_status <= HISTORY_GOAL,
            {},
        ),
        Result(
            "7 batch: history the status adds",
            status_history,
            f"(BatchProgress's history minus the same run's with no status) ÷ final status bytes, "
            f"at {large:,} items",
            f"<= {STATUS_HISTORY_GOAL:g}",
            status_history <= STATUS_HISTORY_GOAL,
            added,
        ),
    ]


if __name__ == "__main__":
    # --items N: the large batch (default 10,000; the 100,000-item run is recorded in BENCHMARKS.md)
    items = int(sys.argv[sys.argv.index("--items") + 1]) if "--items" in sys.argv else 10_000
    quick = "--quick" in sys.argv
    results = asyncio.run(
        measure(50, 200, 1) if quick else measure(large=items, rounds=3 if items <= 10_000 else 1)
    )
    for result in results:
        print(f"{result.name}: {result.ratio:.3f} (goal {result.goal}) {result.numbers}")
