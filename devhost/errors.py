"""Errors the engine raises for client mistakes; each message is safe to show a client."""


class DevhostError(Exception):
    """Base class: a request the host refuses, with the HTTP status the extension would answer."""

    status: int = 400


class InvalidInstanceId(DevhostError):
    """The id breaks the extension's rules (length, leading '@', '/', '\\', '#', '?', controls)."""

    status = 400


class UnknownOrchestrator(DevhostError):
    """No orchestrator function of that name is registered in the app."""

    status = 404


class InstanceNotFound(DevhostError):
    status = 404


class InstanceGone(DevhostError):
    """The instance has ended (Completed, Failed or Terminated)."""

    status = 410


class InstanceConflict(DevhostError):
    """An instance with that id is Pending, Running or Suspended."""

    status = 409


class InvalidOperation(DevhostError):
    status = 400


class StartupError(Exception):
    """devhost cannot start; the message alone (one line, no traceback) tells the user what to do.

    The CLI catches this base once and exits non-zero."""


class UnsupportedBinding(StartupError):
    """The app uses a binding devhost cannot honour; raised at start-up, naming both."""


class StateFileLocked(StartupError):
    """Another devhost process has the state file open."""


class StateFileUnusable(StartupError):
    """The state file is not a devhost state file, is damaged, or has a schema we cannot read."""
