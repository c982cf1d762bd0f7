"""The other BatchProgress design, measured: one activity per chunk that processes its items and
appends their rows itself, so no row ever passes through the orchestrator.

Row 7 asks for both a small history (history bytes ÷ final status bytes <= 2) and a cheap status (÷
the same work with no status <= 1.3). BatchProgress (one activity per item, rows appended 100 at a
time beside the next chunk) meets the second and misses the first: every item brings two events of
its own (its call and its outcome, about twice a row before the row is anywhere) and its row once
more in the append's input. This benchmark runs the alternative through the same devhost and
Azurite, ``BatchChunked`` against ``BatchChunkedNoStatus`` (the same chunks of ``CHUNK`` items, one
activity each, without the append), so the trade can be decided on numbers. The benchmark's item
costs ~2 µs, which leaves the append nothing to hide behind; ``--item-ms X`` gives every item X ms
of simulated I/O in both variants. Not part of ``python -m bench``; run it with ``python -m
bench.batch_designs [--quick] [--item-ms X]``.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import textwrap

import aiohttp

from bench.batch_progress import APP as BATCH_APP
from bench.batch_progress import history_bytes, run_batch
from bench.common import Result
from bench.large_status import app_under_devhost


def chunked_app(item_ms: float = 0.0) -> str:
    """The app with BatchChunked and BatchChunkedNoStatus, each item taking ``item_ms`` of
    simulated I/O (an ``asyncio.sleep``, in both, so the two differ only by the append)."""
    return BATCH_APP + CHUNKED + f"\nITEM_SECONDS = {item_ms / 1000!r}\n"


CHUNKED = textwrap.dedent(
    '''

    import asyncio

    from activities.process_batch_item import process_item
    from custom_status import LogReference, append_rows, new_log
    from orchestrators.batch_progress import status_row

    CHUNK = 100
    GENERATION = 5_000
    ITEM_SECONDS = 0.0  # set at the end of the source by chunked_app


    @app.activity_trigger(input_name="job")
    async def ProcessChunkAndAppend(job):
        """Process items [start, end) and append their rows to the instance's log."""
        await asyncio.sleep(ITEM_SECONDS * (job["end"] - job["start"]))
        rows = [status_row(i, process_item(i)) for i in range(job["start"], job["end"])]
        log = LogReference.from_status(job["log"]) if job["log"] else None
        if log is None:
            log = new_log(job["instanceId"], job["logId"], rows_key="items")
        appended = await append_rows(log, rows, {"done": job["end"], "total": job["total"]})
        return appended.to_status()


    @app.activity_trigger(input_name="job")
    async def ProcessChunk(job):
        """The same work, no status: the number of items that did not succeed."""
        await asyncio.sleep(ITEM_SECONDS * (job["end"] - job["start"]))
        rows = [process_item(i) for i in range(job["start"], job["end"])]
        return sum(1 for row in rows if row["result"] != "ok")


    def _chunked(context, with_status):
        job = context.get_input()
        total, done, log = job["size"], job.get("done", 0), job.get("log")
        log_id = job.get("logId") or str(context.new_uuid()).replace("-", "")
        end = min(done + GENERATION, total)
        while done < end:
            upto = min(done + CHUNK, end)
            request = {"instanceId": context.instance_id, "start": done, "end": upto,
                       "total": total, "log": log, "logId": log_id}
            if with_status:
                log = yield context.call_activity("ProcessChunkAndAppend", request)
                context.set_custom_status(log)
            else:
                yield context.call_activity("ProcessChunk", request)
            done = upto
        if done < total:
            context.continue_as_new({"size": total, "done": done, "log": log, "logId": log_id})
        return done


    @app.orchestration_trigger(context_name="context")
    def BatchChunked(context):
        return (yield from _chunked(context, True))


    @app.orchestration_trigger(context_name="context")
    def BatchChunkedNoStatus(context):
        return (yield from _chunked(context, False))
    '''
)


async def measure(size: int = 10_000, rounds: int = 3, item_ms: float = 0.0) -> list[Result]:
    """The chunked design's two row-7 ratios; ``item_ms`` gives each item that much simulated
    I/O (the issue's benchmark item costs ~2 µs, so the append is compared against nearly
    nothing: this shows how much work per item makes the append's cost small)."""
    samples: dict[str, list[float]] = {"chunked": [], "bare": []}
    with app_under_devhost(chunked_app(item_ms), "bench-designs-") as (host, _):
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None)) as http:
            await run_batch(http, host.base_url, "BatchChunked", 100)  # warm up
            for _ in range(rounds):
                for kind, name in (("chunked", "BatchChunked"), ("bare", "BatchChunkedNoStatus")):
                    samples[kind].append(await run_batch(http, host.base_url, name, size) / size)
    history, final_status = await history_bytes(size, "BatchChunked", chunked_app())
    ms = {kind: statistics.median(values) * 1000 for kind, values in samples.items()}
    overhead = ms["chunked"] / ms["bare"]
    numbers = {
        "items": float(size),
        "ms_per_item_chunked": ms["chunked"],
        "ms_per_item_chunked_no_status": ms["bare"],
        "history_bytes": float(history),
        "final_status_bytes": float(final_status),
        "rounds": float(rounds),
        "item_ms": item_ms,
    }
    return [
        Result(
            "7 batch, chunked design: status overhead",
            overhead,
            f"BatchChunked ÷ the same chunks with no status, at {size:,} items of {item_ms:g} ms",
            "<= 1.3",
            overhead <= 1.3,
            numbers,
        ),
        Result(
            "7 batch, chunked design: history",
            history / final_status,
            f"history bytes of BatchChunked at {size:,} items ÷ its final status's bytes",
            "<= 2",
            history / final_status <= 2,
            {},
        ),
    ]


if __name__ == "__main__":
    # --item-ms X: each item also waits X ms (simulated I/O), in both variants
    work = float(sys.argv[sys.argv.index("--item-ms") + 1]) if "--item-ms" in sys.argv else 0.0
    quick = "--quick" in sys.argv
    for result in asyncio.run(measure(300, 1, work) if quick else measure(item_ms=work)):
        print(f"{result.name}: {result.ratio:.2f} (goal {result.goal}) {result.numbers}")
