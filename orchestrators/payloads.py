"""External-event payloads as the client meant them, whichever way they were raised.

The Python SDK's ``DurableOrchestrationClient.raise_event`` JSON-encodes the payload and then
posts that text as JSON again, so the extension stores the JSON *text* as a string and the
orchestrator receives ``'"Tokyo"'`` or ``'true'`` instead of ``"Tokyo"`` or ``True``
(Azure/azure-functions-durable-python#295). The built-in HTTP API (``sendEventPostUri``) and other
SDKs deliver the value itself. Orchestrators read every payload through :func:`event_payload` so
both arrive as the same value.
"""

import json
from typing import Any


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
