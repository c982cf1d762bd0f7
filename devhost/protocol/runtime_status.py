"""Runtime statuses as the extension names them: every one a :class:`RuntimeStatus`, never a
string literal, and the sets devhost's rules are made of (ended, active, purgeable)."""

from __future__ import annotations

from enum import StrEnum


class RuntimeStatus(StrEnum):
    """``OrchestrationRuntimeStatus`` as the extension names it in status bodies and filters."""

    RUNNING = "Running"
    COMPLETED = "Completed"
    CONTINUED_AS_NEW = "ContinuedAsNew"
    FAILED = "Failed"
    CANCELED = "Canceled"
    TERMINATED = "Terminated"
    PENDING = "Pending"
    SUSPENDED = "Suspended"

    @property
    def is_ended(self) -> bool:
        """Completed, Failed, Terminated or Canceled: it takes no more events or operations."""
        return self in ENDED

    def __str__(self) -> str:
        return self.value


ENDED = frozenset(
    {
        RuntimeStatus.COMPLETED,
        RuntimeStatus.FAILED,
        RuntimeStatus.TERMINATED,
        RuntimeStatus.CANCELED,
    }
)
ACTIVE = (RuntimeStatus.PENDING, RuntimeStatus.RUNNING, RuntimeStatus.SUSPENDED)
"""What an instance of devhost's can be while it has not ended (it never stores the others)."""
PURGEABLE = (RuntimeStatus.COMPLETED, RuntimeStatus.FAILED, RuntimeStatus.TERMINATED)

NOT_ENDED = frozenset(status for status in RuntimeStatus if not status.is_ended)
"""Running, Pending, ContinuedAsNew, Suspended: a status query answers 202 for these."""

BY_NUMBER = {
    0: RuntimeStatus.RUNNING,
    1: RuntimeStatus.COMPLETED,
    2: RuntimeStatus.CONTINUED_AS_NEW,
    3: RuntimeStatus.FAILED,
    4: RuntimeStatus.CANCELED,
    5: RuntimeStatus.TERMINATED,
    6: RuntimeStatus.PENDING,
    7: RuntimeStatus.SUSPENDED,
}
"""``OrchestrationRuntimeStatus``'s numbers (``Enum.TryParse`` takes names or numbers; -1,
Unknown, is no status devhost has)."""


def runtime_status(text: object) -> RuntimeStatus | None:
    """The status a status body names, or None for anything else."""
    try:
        return RuntimeStatus(text)
    except ValueError:
        return None
