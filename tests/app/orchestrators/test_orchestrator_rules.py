"""Rules every orchestrator module follows, checked on the source.

* custom statuses go through ``custom_status.set_custom_status`` (or ``append_custom_status``),
  which offload large statuses and wrap falsy ones, never ``context.set_custom_status``;
* no clocks, randomness or I/O modules: orchestrators replay, and must decide the same each time.
"""

import ast
from pathlib import Path

import pytest

ORCHESTRATORS = Path(__file__).resolve().parents[3] / "orchestrators"
ALL_MODULES = sorted(ORCHESTRATORS.glob("*.py"))
MODULES = ALL_MODULES
NONDETERMINISTIC_IMPORTS = {"random", "time", "uuid", "secrets", "os", "socket", "requests"}
NONDETERMINISTIC_CALLS = {"now", "utcnow", "today", "sleep"}


def test_there_are_orchestrator_modules():
    assert {p.name for p in MODULES} >= {
        "hello_sequence.py",
        "city_recommender.py",
        "reserve_ticket.py",
        "set_status_test.py",
    }


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_custom_status_is_set_only_through_the_helper(module):
    tree = ast.parse(module.read_text())
    direct = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr == "set_custom_status"
        and not (isinstance(node.value, ast.Name) and node.value.id == "status")
    ]
    assert direct == [], f"{module.name} sets the custom status directly at lines {direct}"

    helper_calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.YieldFrom)
        and isinstance(node.value, ast.Call)
        and getattr(node.value.func, "id", None) == "set_custom_status"
    ]
    plain_calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "set_custom_status"
    ]
    assert len(helper_calls) == len(plain_calls), "set_custom_status must be used with yield from"


@pytest.mark.parametrize("module", ALL_MODULES, ids=lambda p: p.name)
def test_no_clocks_randomness_or_io(module):
    tree = ast.parse(module.read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
    }
    calls = {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }
    assert not imported & NONDETERMINISTIC_IMPORTS
    assert not calls & NONDETERMINISTIC_CALLS
