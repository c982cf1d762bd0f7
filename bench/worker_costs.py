"""8 and 9. What running the app in worker processes costs: one invocation, and start-up.

Since devhost runs the app in worker processes over the Functions RPC (``devhost.workers``),
every invocation crosses a gRPC stream and a process boundary, and starting the app means
starting a worker. Two rows measure those costs against Microsoft's worker library doing the
same work in this process (``bench.library_floor``):

- **8 invocation**: ``E1_SayHello`` (the real app's activity, a one-line function) invoked one
  call after another through devhost's invoker (``running.invoker.activity``: an
  ``InvocationRequest`` over gRPC to a worker, the library there, the response back) ÷ the same
  request handed to ``azure_functions_runtime.invocation_request`` in this process. Rounds of
  both alternate, medians of the rounds. CPU per call of this process (the host side) and of the
  worker process are reported beside it, and ``bare_grpc_echo_us``: one round trip of the same
  kind of messages over the same kind of stream (``grpc.aio``, a bidirectional ``EventStream``,
  the far end a bare Python process answering each request at once), the part of a call that is
  gRPC itself; ``bare_stream_echo_us``, the same messages over a plain asyncio TCP stream (each
  one length-prefixed), what moving them between two processes costs without gRPC; and the
  context switches per call of both sides (gRPC hands each message between its threads).
- **9 worker start-up**: ``start_app`` until the first worker is ready (spawn, connect,
  ``WorkerInitRequest``: the library imports and indexes the app, ``FunctionsMetadataRequest``,
  a ``FunctionLoadRequest`` per function) ÷ importing the app in a bare Python process
  (``python -c "import sys; sys.path.insert(0, APP); import function_app"``, timed around the
  subprocess). Launches alternate, medians. For context: a bare interpreter, and one importing
  what the worker imports before the app (grpc, the library, devhost's RPC module).

No goal for either: they are the price of running as the Functions host does, reported so a
change that makes it worse shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import struct
import subprocess
import sys
import time
import uuid
from typing import Any

from bench.common import ROOT, Result, context_switches, process_cpu_seconds, saved_environ
from bench.library_floor import Call, InProcessWorker
from devhost.workers import rpc

ACTIVITY = "E1_SayHello"


async def measure_invocation(calls: int = 3000, rounds: int = 6) -> Result:
    from devhost.workers.app import start_app

    per_round = max(1, calls // rounds)
    with saved_environ():
        running = await start_app(ROOT)
        try:
            function = running.index.activities[ACTIVITY]
            call = Call(function.function_id, function.function_name, function.input_param, '"x"')
            local = await InProcessWorker.for_app(ROOT)
            invoker = running.invoker
            pids = running.pool.pids

            async def over_grpc(count: int) -> None:
                for _ in range(count):
                    reply = await invoker.activity(
                        call.function_id, call.function_name, call.param, call.text
                    )
                    if not reply.ok:
                        raise RuntimeError(f"{ACTIVITY} failed over gRPC: {reply.error}")

            await over_grpc(min(per_round, 50))  # warm up: connections, imports, thread pools
            await local.time_calls([call], min(per_round, 50))
            grpc_s: list[float] = []
            local_s: list[float] = []
            host_cpu = worker_cpu = 0.0
            host_switches = worker_switches = 0
            for _ in range(rounds):
                worker_before, cpu_before = process_cpu_seconds(pids), time.process_time()
                switches = context_switches([os.getpid()]), context_switches(pids)
                started = time.perf_counter()
                await over_grpc(per_round)
                grpc_s.append((time.perf_counter() - started) / per_round)
                host_cpu += time.process_time() - cpu_before
                worker_cpu += process_cpu_seconds(pids) - worker_before
                host_switches += context_switches([os.getpid()]) - switches[0]
                worker_switches += context_switches(pids) - switches[1]
                local_s.append(await local.time_calls([call], per_round) / per_round)
        finally:
            await running.stop()
    echo_us = await grpc_echo_us(per_round * 2)
    stream_us = await stream_echo_us(per_round * 2)
    grpc_us = statistics.median(grpc_s) * 1e6
    local_us = statistics.median(local_s) * 1e6
    total = per_round * rounds
    return Result(
        name="8 invocation over gRPC",
        ratio=grpc_us / local_us,
        ratio_means=f"µs per {ACTIVITY} call through devhost's worker ÷ through the library here",
        goal="none (reported)",
        passed=None,
        numbers={
            "calls_each": total,
            "grpc_us_per_call": grpc_us,
            "in_process_us_per_call": local_us,
            "grpc_host_cpu_us_per_call": host_cpu / total * 1e6,
            "grpc_worker_cpu_us_per_call": worker_cpu / total * 1e6,
            "grpc_host_switches_per_call": host_switches / total,
            "grpc_worker_switches_per_call": worker_switches / total,
            "bare_grpc_echo_us": echo_us,
            "bare_stream_echo_us": stream_us,
        },
        note=f"one call at a time, medians of {rounds} alternating rounds",
    )


def _time_python(code: str, cwd: str) -> float:
    """Seconds from starting ``python -c code`` to its exit."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=cwd, check=True)
    return time.perf_counter() - started


async def measure_startup(launches: int = 7) -> Result:
    """``start_app`` ÷ a bare Python importing the app.

    The bare process leaves with ``os._exit`` straight after the import: ``start_app`` is timed
    to a ready worker that keeps running, so the interpreter's teardown (0.14 to 0.5 s here,
    freeing every module the app imported) would otherwise count against the import only.
    ``import_app_with_exit_s`` is the same command ending normally, for comparison.
    """
    from devhost.workers.app import start_app

    app = str(ROOT)
    import_app = f"import sys; sys.path.insert(0, {app!r}); import function_app"
    commands = {
        "import": import_app + "; import os; os._exit(0)",
        "import_with_exit": import_app,
        "bare": "pass",
        "worker_modules": "import grpc, azure_functions_runtime, azure.functions; "
        "from devhost.workers import rpc; import os; os._exit(0)",
    }
    samples: dict[str, list[float]] = {"start_app": [], **{kind: [] for kind in commands}}
    with saved_environ():
        _time_python(import_app, app)  # warm the OS file cache
        for _ in range(launches):
            started = time.perf_counter()
            running = await start_app(ROOT)
            samples["start_app"].append(time.perf_counter() - started)
            await running.stop()
            for kind, code in commands.items():
                samples[kind].append(_time_python(code, app))
    medians = {kind: statistics.median(values) for kind, values in samples.items()}
    return Result(
        name="9 worker start-up",
        ratio=medians["start_app"] / medians["import"],
        ratio_means="start_app until a worker is ready ÷ a bare Python importing the app",
        goal="none (reported)",
        passed=None,
        numbers={
            "launches_each": launches,
            "start_app_s": medians["start_app"],
            "import_app_s": medians["import"],
            "import_app_with_exit_s": medians["import_with_exit"],
            "bare_python_s": medians["bare"],
            "import_worker_modules_s": medians["worker_modules"],
        },
        note="the real app (function_app.py at the project root), one worker",
    )


async def measure(calls: int = 3000, launches: int = 7) -> list[Result]:
    return [await measure_invocation(calls), await measure_startup(launches)]


# -- the bare gRPC round trip -----------------------------------------------------------------


class _EchoHost(rpc.FunctionRpcServicer):
    """Hands each connecting stream's context to whoever awaits ``streams``."""

    def __init__(self) -> None:
        self.streams: asyncio.Queue[Any] = asyncio.Queue()

    async def EventStream(self, request_iterator: Any, context: Any) -> None:
        await self.streams.put(context)
        await asyncio.Event().wait()  # held open until the server stops


async def grpc_echo_us(round_trips: int) -> float:
    """µs per request and answer over a ``grpc.aio`` stream to a process that answers at once."""
    import grpc

    server = grpc.aio.server()
    echo = _EchoHost()
    rpc.add_FunctionRpcServicer_to_server(echo, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.worker_costs", "--echo", str(port), cwd=ROOT
    )
    try:
        context = await asyncio.wait_for(echo.streams.get(), 30)
        await context.read()  # StartStream
        request = _echo_request()
        for _ in range(min(round_trips, 50)):  # warm up
            await context.write(request)
            await context.read()
        started = time.perf_counter()
        for _ in range(round_trips):
            await context.write(request)
            await context.read()
        return (time.perf_counter() - started) / round_trips * 1e6
    finally:
        process.kill()
        await process.wait()
        await server.stop(grace=None)


def _answer(message: Any) -> Any:
    answer = rpc.InvocationResponse(
        invocation_id=message.invocation_request.invocation_id,
        return_value=rpc.TypedData(json='"Hello x!"'),
    )
    return rpc.StreamingMessage(invocation_response=answer)


def _echo_request() -> Any:
    return rpc.StreamingMessage(
        invocation_request=rpc.InvocationRequest(
            invocation_id=str(uuid.uuid4()),
            function_id=str(uuid.uuid4()),
            input_data=[rpc.ParameterBinding(name="city", data=rpc.TypedData(string='"x"'))],
        )
    )


async def _echo_worker(port: int) -> None:
    """The far end: answers every request with an ``InvocationResponse``, as a worker would,
    its stream read and written as devhost's launcher does (one writer task, ``call.read``)."""
    import grpc

    outbox: asyncio.Queue[Any] = asyncio.Queue()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        call = rpc.FunctionRpcStub(channel).EventStream()
        await call.write(rpc.StreamingMessage(start_stream=rpc.StartStream(worker_id="echo")))

        async def write() -> None:
            while True:
                await call.write(await outbox.get())

        writer = asyncio.create_task(write())
        while (message := await call.read()) is not grpc.aio.EOF:
            outbox.put_nowait(_answer(message))
        writer.cancel()


# -- the same round trip without gRPC ---------------------------------------------------------
_LENGTH = struct.Struct("<I")


async def _read_framed(reader: asyncio.StreamReader) -> Any:
    (size,) = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))
    return rpc.StreamingMessage.FromString(await reader.readexactly(size))


def _write_framed(writer: asyncio.StreamWriter, message: Any) -> None:
    body = message.SerializeToString()
    writer.write(_LENGTH.pack(len(body)) + body)


async def stream_echo_us(round_trips: int) -> float:
    """µs per request and answer over a plain asyncio TCP stream (4-byte length, then the
    serialised ``StreamingMessage``) to a process that answers at once: the same messages
    between the same two kinds of process, without gRPC's threads."""
    connected: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await connected.put((reader, writer))

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.worker_costs", "--stream-echo", str(port), cwd=ROOT
    )
    try:
        reader, writer = await asyncio.wait_for(connected.get(), 30)
        request = _echo_request()
        for _ in range(min(round_trips, 50)):  # warm up
            _write_framed(writer, request)
            await _read_framed(reader)
        started = time.perf_counter()
        for _ in range(round_trips):
            _write_framed(writer, request)
            await _read_framed(reader)
        elapsed = time.perf_counter() - started
        writer.close()
        return elapsed / round_trips * 1e6
    finally:
        process.kill()
        await process.wait()
        server.close()


async def _stream_echo_worker(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
        while True:
            _write_framed(writer, _answer(await _read_framed(reader)))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--echo"]:
        asyncio.run(_echo_worker(int(sys.argv[2])))
    elif sys.argv[1:2] == ["--stream-echo"]:
        asyncio.run(_stream_echo_worker(int(sys.argv[2])))
    else:
        for result in asyncio.run(measure(60, 1) if "--quick" in sys.argv else measure()):
            print(f"{result.name}: {result.ratio:.2f} {result.numbers}")
