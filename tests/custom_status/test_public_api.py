"""The package's boundary, checked on the source.

* custom_status imports only the standard library, the Azure SDKs, aiohttp and rich: copying the
  folder into another app is enough (nothing of this app's orchestrators, activities, clients,
  devhost or tests);
* the app, its tests and the benchmarks use only the public API: ``import custom_status`` or
  ``from custom_status import <a name of __all__>``, never a submodule;
* every public name resolves, and the SDK-bound ones load on first use only.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import custom_status

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "custom_status"
ALLOWED_THIRD_PARTY = {"azure", "aiohttp", "rich"}
USERS = [
    ROOT / "function_app.py",
    *sorted((ROOT / "orchestrators").glob("*.py")),
    *sorted((ROOT / "activities").glob("*.py")),
    *sorted((ROOT / "clients").glob("*.py")),
    *sorted((ROOT / "bench").rglob("*.py")),
    *sorted(
        path
        for path in (ROOT / "tests").rglob("*.py")
        if PACKAGE.name not in path.relative_to(ROOT / "tests").parts[:1]
        # A stand-in for the package's append activity in replayed histories (no storage).
        and path.name != "replay_driver.py"
    ),
]


def imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, module, names) of every import in ``path`` (names empty for ``import x``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module, [alias.name for alias in node.names]))
    return found


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_the_package_imports_nothing_of_this_app(path):
    stdlib = sys.stdlib_module_names
    foreign = [
        (line, module)
        for line, module, _ in imports(path)
        if (top := module.split(".")[0]) not in stdlib
        and top not in ALLOWED_THIRD_PARTY
        and top != "custom_status"
    ]
    assert foreign == [], f"{path.name} imports {foreign}"


@pytest.mark.parametrize("path", USERS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_app_its_tests_and_the_benchmarks_use_only_the_public_api(path):
    public = set(custom_status.__all__)
    private = [
        (line, module, names)
        for line, module, names in imports(path)
        if (module == "custom_status" and not set(names) <= public)
        or module.startswith("custom_status.")
    ]
    assert private == [], f"{path.relative_to(ROOT)} reaches past the public API: {private}"


def test_every_public_name_resolves():
    for name in custom_status.__all__:
        assert getattr(custom_status, name) is not None, name


def test_the_pure_parts_and_the_watcher_load_without_the_functions_sdks():
    probe = (
        "import sys, custom_status, custom_status.watch; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'azure'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
