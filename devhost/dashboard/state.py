"""The engine's state as the dashboard reads it: the store of a running engine, never a copy.

The dashboard answers from the same SQLite connection the engine writes through, on the same
event loop thread, so a page never shows a state the engine has not committed, and nothing is
cached that could go stale.
"""

from __future__ import annotations

from devhost.runtime.engine import Engine
from devhost.runtime.store import Store


def running_store(engine: Engine) -> Store:
    """The engine's store; the server mounts the dashboard only while the engine runs."""
    if engine.store is None:
        raise RuntimeError("the engine is not started")
    return engine.store
