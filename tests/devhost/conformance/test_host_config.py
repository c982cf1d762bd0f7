"""Row "host.json" of devhost/CONFORMANCE.md: read as the host reads it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from devhost.app.loader import load_config
from devhost.protocol.lenient_json import loads

from .conftest import PATTERNS_APP


def test_host_json_accepts_comments_and_trailing_commas_and_names_ignored_settings(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "function_app.py").write_text((PATTERNS_APP / "function_app.py").read_text())
    (app / "host.json").write_text(
        """{
          // the task hub, with a comment and trailing commas as the host allows
          "version": "2.0",
          "extensions": {
            "http": { "routePrefix": "api", },
            "durableTask": {
              "hubName": "Commented", /* a block comment */
              "storageProvider": { "type": "mssql" },
              "maxConcurrentActivityFunctions": 4,
            },
          },
        }"""
    )
    with caplog.at_level(logging.WARNING, logger="devhost.app.loader"):
        index = load_config(app)
    assert index.task_hub == "Commented"
    assert [r.getMessage() for r in caplog.records] == [
        "host.json: devhost ignores extensions.durableTask maxConcurrentActivityFunctions, "
        "storageProvider (they apply on Azure only)"
    ]


def test_comment_markers_inside_strings_are_text() -> None:
    assert loads('{"url": "http://x//y", "c": "/* no */", "q": "a\\\\"} ') == {
        "url": "http://x//y",
        "c": "/* no */",
        "q": "a\\",
    }
