"""External-event payloads and orchestrator inputs as the client meant them, whichever way they
were sent.

The Python SDK's ``DurableOrchestrationClient.raise_event`` JSON-encodes the payload and then
posts that text as JSON again, so the extension stores the JSON *text* as a string and the
orchestrator receives ``'"Tokyo"'`` or ``'true'`` instead of ``"Tokyo"`` or ``True``
(Azure/azure-functions-durable-python#295). The built-in HTTP API (``sendEventPostUri``) and other
SDKs deliver the value itself. Orchestrators read every payload through :func:`event_payload` so
both arrive as the same value.
"""

import json
from typing import Any

import azure.durable_functions as df


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def event_payload(raw: Any) -> Any:
    """``raw`` decoded once if it is a string holding JSON text, else ``raw`` unchanged.

    The cost of undoing the SDK's double encoding: a string payload that is itself JSON text
    (the string ``"true"`` sent through the built-in API) is read as the value it spells. Pure,
    so safe to call during replay.
    """
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw, parse_constant=_refuse_constant)
    except ValueError:
        return raw


def orchestration_input(context: df.DurableOrchestrationContext) -> Any:
    """The orchestrator's input, however the instance was started.

    The SDK's ``start_new`` posts the input as JSON text inside a JSON string, and
    ``get_input()`` decodes that text. A caller of the built-in webhook that posts plain JSON
    (``2``, ``"bob"``, ``[1]``) has the extension store the value itself, and the Python worker
    hands the SDK that value: ``get_input()`` then raises Python's own error (``the JSON object
    must be str, bytes or bytearray, not int``; ``Expecting value``). Here such a value is taken
    as it is, so each orchestrator accepts it, or refuses it with the same message its starter
    gives. A plain string that is itself JSON text (``"2"``) reads as the value it spells, as
    for events. Pure, so safe during replay.
    """
    try:
        return context.get_input()
    except (TypeError, ValueError):
        # The SDK keeps the raw value in _input (a str, or any JSON value but an object).
        return getattr(context, "_input", None)
