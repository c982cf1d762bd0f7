"""Fixtures for the unit tests: the app's functions and a stand-in durable client (``fakes``).

The repository root goes on ``sys.path`` first, so ``function_app`` and ``tests.replay`` import the
same way wherever pytest is started from.
"""

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.app.fakes import FakeDurableClient  # noqa: E402


def _own_copy_of_the_app() -> Any:
    """``function_app.app`` from a module of the tests' own: ``get_functions()`` refuses to run
    twice on one app object, and other tests in this process index the ``function_app`` module
    too (bench's in-process worker does, as the worker library does)."""
    spec = importlib.util.spec_from_file_location(
        "unit_tests_function_app", ROOT / "function_app.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


app = _own_copy_of_the_app()


@pytest.fixture(scope="session")
def functions() -> dict[str, Any]:
    """Every function registered on the app, by function name."""
    return {function.get_function_name(): function for function in app.get_functions()}


@pytest.fixture(scope="session")
def orchestrator(functions) -> Callable[[str], Callable[[func.OrchestrationContext], str]]:
    """Look up an orchestrator's registered handle (the SDK's ``handle(context)``) by name."""
    return lambda name: functions[name].get_user_function()


@pytest.fixture(scope="session")
def activity(functions) -> Callable[[str], Callable[..., Any]]:
    """Look up an activity's user function by name."""
    return lambda name: functions[name].get_user_function()


@pytest.fixture(scope="session")
def client_function(functions) -> Callable[[str], Callable[..., Any]]:
    """Look up an HTTP client function by name, below the SDK's client middleware.

    The SDK wraps client functions so that the binding's JSON string becomes a rich client; the
    wrapped function (``client_function``) takes the client object, so tests pass a fake.
    """
    return lambda name: functions[name].get_user_function().client_function


@pytest.fixture
def client() -> FakeDurableClient:
    """A fresh stand-in durable client."""
    return FakeDurableClient()
