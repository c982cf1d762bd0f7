"""The Durable extension's answers: its error shape, its answer to each refusal, check-status.

``HttpApiHandler`` answers errors as ASP.NET's ``HttpError`` (``Message``, ``ExceptionMessage``,
``ExceptionType``, never a stack trace), some refusals with a bare 404 or 410, and a new instance
with the check-status payload. Kept apart from the routes (``durable_api.py``) so that every
answer's shape is in one place.
"""

from __future__ import annotations

from aiohttp import web

from devhost.core.errors import (
    DevhostError,
    InstanceEnded,
    InstanceExists,
    InstanceNotFound,
    InvalidInstanceId,
    NotFailed,
    UnknownOrchestrator,
)
from devhost.http.urls import management_urls

CHECK_STATUS_RETRY_AFTER = "10"
ARGUMENTS_INCORRECT = "One or more of the arguments submitted is incorrect"
SOMETHING_WENT_WRONG = "Something went wrong while processing your request"

# The engine's refusals as the extension answers them: (status, Message, ExceptionType); the
# exception's own text is the ExceptionMessage. HttpApiHandler has no 409: a duplicate start's
# OrchestrationAlreadyExistsException reaches its catch-all and answers 500.
ERROR_ANSWERS: tuple[tuple[type[DevhostError], int, str | None, str | None], ...] = (
    (InvalidInstanceId, 400, ARGUMENTS_INCORRECT, "System.ArgumentException"),
    (UnknownOrchestrator, 400, ARGUMENTS_INCORRECT, "System.ArgumentException"),
    (
        InstanceExists,
        500,
        SOMETHING_WENT_WRONG,
        "DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException",
    ),
    (NotFailed, 500, SOMETHING_WENT_WRONG, "System.InvalidOperationException"),
    (InstanceNotFound, 404, None, None),
    (InstanceEnded, 410, None, None),
)
"""The extension's answer to each refusal of the engine, in one place (no body where it sends
none)."""

# DurableClient.StartNewAsync passes these two messages as ArgumentException's *paramName*, so
# .NET renders them like this (the length rule has its arguments the right way round).
_SWAPPED_ARGUMENT_MESSAGES = (
    "Orchestration instance ids must not start with @.",
    "Orchestration instance ids must not contain /, \\, #, ?, or control characters.",
)


def check_status_response(
    origin: str, instance_id: str, task_hub: str, code: str | None = None
) -> web.Response:
    """``CreateCheckStatusResponse``: 202, the payload (no rewind URL), Location, Retry-After 10."""
    urls = management_urls(origin, instance_id, task_hub, code=code)
    urls.pop("rewindPostUri")
    return web.json_response(
        urls,
        status=202,
        headers={"Location": urls["statusQueryGetUri"], "Retry-After": CHECK_STATUS_RETRY_AFTER},
    )


def error_body(
    message: str, exception_message: str | None = None, exception_type: str | None = None
) -> dict[str, str]:
    """The ASP.NET ``HttpError`` shape the extension answers errors with (no stack trace)."""
    body = {"Message": message}
    if exception_message is not None:
        body["ExceptionMessage"] = exception_message
    if exception_type is not None:
        body["ExceptionType"] = exception_type
    return body


def error_response(
    status: int,
    message: str,
    exception_message: str | None = None,
    exception_type: str | None = None,
) -> web.Response:
    return web.json_response(error_body(message, exception_message, exception_type), status=status)


def devhost_error_response(exc: DevhostError) -> web.Response:
    """The engine's refusal as the extension answers it (``ERROR_ANSWERS``)."""
    text = str(exc) or type(exc).__name__
    status, message, exception_type = next(
        (answer[1:] for answer in ERROR_ANSWERS if isinstance(exc, answer[0])),
        (500, SOMETHING_WENT_WRONG, None),
    )
    if message is None:
        return web.Response(status=status)
    if text in _SWAPPED_ARGUMENT_MESSAGES:
        text = f"instanceId (Parameter '{text}')"
    return error_response(status, message, text, exception_type)


def not_found() -> web.Response:
    """The extension's 404: no body."""
    return web.Response(status=404)
