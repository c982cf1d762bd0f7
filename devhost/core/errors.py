"""devhost's errors. Client mistakes carry a message fit for a client and no HTTP status: the
HTTP layer maps each type to the extension's answer in one table
(``http.durable_answers.ERROR_ANSWERS``). Start-up failures share :class:`StartupError`, which the
CLI reports in one line."""


class DevhostError(Exception):
    """A request devhost refuses; ``str(error)`` is safe to show a client (never a traceback)."""


class InvalidInstanceId(DevhostError):
    """The id breaks the extension's rules (length, leading '@', '/', '\\', '#', '?', controls)."""


class UnknownOrchestrator(DevhostError):
    """No orchestrator function of that name is registered in the app."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(unknown_orchestrator_message(name, known))


def unknown_orchestrator_message(name: str, known: list[str]) -> str:
    """``GetInvalidOrchestratorFunctionMessage`` from the extension, verbatim in structure."""
    message = (
        f"The function '{name}' doesn't exist, is disabled, or is not an orchestrator function. "
        "Additional info: "
    )
    if known:
        return message + "The following are the known orchestrator functions: '{}'.".format(
            "', '".join(known)
        )
    return message + "No orchestrator functions are currently registered!"


class InstanceNotFound(DevhostError):
    """No instance has that id."""


class InstanceEnded(DevhostError):
    """The instance has ended (Completed, Failed or Terminated): it takes no more operations."""


class NotFailed(DevhostError):
    """Rewind was asked of an instance that has not failed."""


class InstanceExists(DevhostError):
    """An instance with that id is Pending, Running or Suspended."""


class StartupError(Exception):
    """devhost cannot start; the message alone (one line, no traceback) tells the user what to do.

    The CLI catches this base once and exits non-zero."""


class UnsupportedBinding(StartupError):
    """The app uses a binding devhost cannot honour; raised at start-up, naming both."""


class StateFileLocked(StartupError):
    """Another devhost process has the state file open."""


class StateFileUnusable(StartupError):
    """The state file is not a devhost state file, is damaged, or has a schema we cannot read."""
