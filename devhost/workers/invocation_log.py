"""One console line per function invocation, shaped like the Functions host's.

The host prints ``Executed 'Functions.X' (Succeeded, Id=..., Duration=12ms)``; developers scan
for that line, so devhost keeps its shape and adds the instance id (orchestrations and
activities) and the status code (HTTP functions) in the same parentheses. The engine calls
:func:`log_invocation` for orchestrator and activity episodes; the HTTP layer for requests.
"""

from __future__ import annotations

import logging

log = logging.getLogger("devhost.invocations")


def format_invocation(
    name: str,
    duration_ms: float,
    outcome: str,
    *,
    instance_id: str | None = None,
    invocation_id: str | None = None,
    status: int | None = None,
) -> str:
    """The log line without logging it (tests and the engine's own messages reuse it)."""
    details = [outcome]
    if invocation_id:
        details.append(f"Id={invocation_id}")
    if instance_id:
        details.append(f"InstanceId={instance_id}")
    if status is not None:
        details.append(f"Status={status}")
    details.append(f"Duration={round(duration_ms)}ms")
    return f"Executed 'Functions.{name}' ({', '.join(details)})"


def log_invocation(
    kind: str,
    name: str,
    duration_ms: float,
    outcome: str,
    instance_id: str | None = None,
    invocation_id: str | None = None,
    *,
    status: int | None = None,
) -> None:
    """Log one invocation. ``kind`` is "http", "orchestrator" or "activity"; ``outcome`` is
    "Succeeded" or "Failed" (anything else is logged as given)."""
    level = logging.INFO if outcome == "Succeeded" else logging.ERROR
    if not log.isEnabledFor(level):
        return  # formatting costs more than an episode's commit when nobody reads the line
    message = format_invocation(
        name,
        duration_ms,
        outcome,
        instance_id=instance_id,
        invocation_id=invocation_id,
        status=status,
    )
    log.log(level, message, extra={"devhost_kind": kind, "devhost_function": name})
