"""Functions that misbehave on purpose, to test devhost's workers as the Functions host's.

Each one does what a real app can do to its worker: exit the process, block its event loop,
run past functionTimeout (2 s in host.json), or report which process served it.
"""

import asyncio
import logging
import os
import time
from pathlib import Path

import azure.durable_functions as df
import azure.functions as func
import azure_functions_runtime

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="pid")
def pid(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(str(os.getpid()))


@app.route(route="exit")
def exit_process(req: func.HttpRequest) -> func.HttpResponse:
    os._exit(3)


@app.route(route="block")
async def block(req: func.HttpRequest) -> func.HttpResponse:
    """Blocks its worker's event loop (a blocking call inside ``async def``) until the file named
    by ``?until=`` exists."""
    until = Path(req.params["until"])
    while not until.exists():  # noqa: ASYNC240 (blocking on purpose)
        time.sleep(0.01)  # noqa: ASYNC251
    return func.HttpResponse("released")


@app.route(route="forever")
async def forever(req: func.HttpRequest) -> func.HttpResponse:
    await asyncio.sleep(3600)
    return func.HttpResponse("never")


@app.route(route="threads")
def threads(req: func.HttpRequest) -> func.HttpResponse:
    executor = azure_functions_runtime.get_threadpool_executor()
    return func.HttpResponse(str(executor._max_workers))


@app.orchestration_trigger(context_name="context")
def CallsSlow(context: df.DurableOrchestrationContext):
    return (yield context.call_activity("Slow", None))


@app.activity_trigger(input_name="anything")
def Slow(anything: str) -> str:
    time.sleep(3600)
    return "never"


@app.orchestration_trigger(context_name="context")
def CallsExit(context: df.DurableOrchestrationContext):
    return (yield context.call_activity("Exit", None))


@app.activity_trigger(input_name="anything")
def Exit(anything: str) -> str:
    os._exit(4)


@app.route(route="logs")
def logs(req: func.HttpRequest) -> func.HttpResponse:
    logging.warning("a warning from the app")
    logging.info("an info line from the app")
    return func.HttpResponse("logged")


@app.orchestration_trigger(context_name="context")
def StallsOnce(context: df.DurableOrchestrationContext):
    """Runs past functionTimeout in its first episode only (a marker file tells the next one);
    breaks the orchestrator rules on purpose, to show what the host does with the episode."""
    marker = Path(context.get_input())
    if not marker.exists():
        marker.touch()
        time.sleep(3600)
    return "ran again"
