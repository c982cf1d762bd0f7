"""Fixtures for devhost's app layer: loading an app changes ``os.environ`` (local.settings.json's
values), so each test gets back the environment it found."""

import pytest


@pytest.fixture(autouse=True)
def _restore_environ(restore_environ: None) -> None:
    """Each test starts with the environment the one before it found."""
