"""Every devhost option in one documented dataclass (the CLI and tests build one of these)."""

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class HostOptions:
    """How to run devhost.

    app_dir: directory holding ``function_app.py``, ``host.json`` and ``local.settings.json``.
    host, port: where HTTP is served (the Functions host default is localhost:7071).
    state_path: SQLite file for durable state; None means ``<app_dir>/.devhost/state.sqlite``.
    in_memory: keep state in an in-memory SQLite database (lost when the host stops).
    manual_clock: timers fire from a clock that only moves when told (``advance``), for tests.
    test_hooks: expose ``/admin/devhost/...`` endpoints (clock control); never on by default.
    start_azurite: start Azurite when ``AzureWebJobsStorage`` is ``UseDevelopmentStorage=true`` and
        nothing listens on its port.
    task_hub: overrides the hub name from host.json.
    require_keys: check function, master and system keys as the Functions host does on Azure
        (``devhost/http/keys.py``); off, as under ``func start``.
    status_changes_kept: how many custom-status changes the dashboard's timeline keeps per
        instance (the oldest go first, and are counted): a status set in every episode of a
        long-running instance would otherwise grow the state file without end.
    """

    app_dir: Path = field(default_factory=Path.cwd)
    host: str = "127.0.0.1"
    port: int = 7071
    state_path: Path | None = None
    in_memory: bool = False
    manual_clock: bool = False
    test_hooks: bool = False
    start_azurite: bool = True
    task_hub: str | None = None
    require_keys: bool = False
    status_changes_kept: int = 1_000

    def resolved_state_path(self) -> Path:
        return self.state_path or (self.app_dir / ".devhost" / "state.sqlite")

    def __post_init__(self) -> None:
        if self.status_changes_kept < 1:
            # The last change must stay: the next one is recorded only if it differs from it.
            raise ValueError("status_changes_kept must be at least 1")
