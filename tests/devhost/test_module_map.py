"""devhost/README.md's module map is what the packages' docstrings say, module for module."""

from __future__ import annotations

from tests.devhost.module_map import DEVHOST, README, first_sentence, generate, readme_map


def test_every_module_says_what_it_is_for() -> None:
    missing = [
        str(path.relative_to(DEVHOST))
        for path in DEVHOST.rglob("*.py")
        if "_pb2" not in path.name and not first_sentence(path)
    ]
    assert missing == []


def test_the_readme_map_is_generated_from_the_docstrings() -> None:
    assert readme_map(README.read_text(encoding="utf-8")) == generate(), (
        "devhost/README.md's module map is out of date: run "
        "`python -m tests.devhost.module_map --write`"
    )
