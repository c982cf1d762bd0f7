"""Fixtures of devhost's Azurite tests: the shared session Azurite."""

import sys
from pathlib import Path

# The repository root goes on sys.path first (as in tests/app/conftest.py), so devhost and
# tests.support import the same way wherever pytest is started from.
ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.azurite import azurite, azurite_storage  # noqa: E402, F401
