"""The infrastructure (infra/*.bicep) checked here, since nothing can be deployed from these
machines: every file parses (pycep-parser; the Bicep compiler cannot be installed here), every app
setting the code reads is set or documented optional, the identity gets its roles, storage allows
no shared keys, and no setting Flex Consumption refuses is set."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from pycep import BicepParser

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
PACKAGES = ("activities", "clients", "custom_status", "orchestrators")
APP_CODE = [ROOT / "function_app.py", *(ROOT / package for package in PACKAGES)]
OPTIONAL_SETTINGS = {"STATUS_BLOB_CONNECTION"}  # documented in custom_status/README.md
FLEX_REFUSES = {
    "FUNCTIONS_WORKER_RUNTIME",
    "FUNCTIONS_EXTENSION_VERSION",
    "WEBSITE_RUN_FROM_PACKAGE",
    "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
    "WEBSITE_CONTENTSHARE",
    "WEBSITE_NODE_DEFAULT_VERSION",
    "AzureWebJobsStorage",  # a key-based connection string: the account allows no shared keys
}
ROLES = {
    "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "Storage Queue Data Contributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
    "Storage Table Data Contributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
    "Monitoring Metrics Publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
}
DURABLE_TASK_DATA_CONTRIBUTOR = "0ad04412-c4d5-4796-b79c-f76d14c8d402"


@cache
def parsed(name: str) -> dict[str, Any]:
    return BicepParser().parse(file_path=INFRA / name)  # type: ignore[return-value]


def bicep_files() -> list[str]:
    return sorted(str(p.relative_to(INFRA)) for p in INFRA.rglob("*.bicep"))


def setting_names(value: Any) -> set[str]:
    """Every ``{name: ..., value: ...}`` app setting anywhere in a parsed tree."""
    names: set[str] = set()
    if isinstance(value, dict):
        if isinstance(value.get("name"), str) and "value" in value:
            names.add(value["name"])
        for item in value.values():
            names |= setting_names(item)
    elif isinstance(value, list):
        for item in value:
            names |= setting_names(item)
    return names


def infra_settings() -> set[str]:
    return setting_names(parsed("main.bicep")) | setting_names(parsed("modules/functionapp.bicep"))


def settings_the_code_reads() -> set[str]:
    """Names read from the environment by the deployed code (``env.get("NAME")``, and setting
    names held in ``*_CONNECTION = "NAME"`` or ``*_SETTING = "NAME"`` constants, as
    custom_status/wire.py holds them), and ``%NAME%`` in host.json."""
    read = re.compile(r"""(?:env|environ)\.get\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']""")
    connection = re.compile(
        r"""^[A-Z_]*(?:CONNECTION|SETTING)\s*=\s*["']([A-Za-z_][A-Za-z0-9_]*)["']""", re.M
    )
    found: set[str] = set()
    for place in APP_CODE:
        for path in [place] if place.is_file() else place.rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            found |= set(read.findall(text)) | set(connection.findall(text))
    found |= set(re.findall(r"%([A-Za-z_][A-Za-z0-9_]*)%", (ROOT / "host.json").read_text()))
    return found


@pytest.mark.parametrize("name", bicep_files())
def test_every_bicep_file_parses(name: str) -> None:
    tree = parsed(name)
    assert tree["resources"] or tree["modules"]


def test_every_setting_the_code_reads_is_set_or_optional() -> None:
    read = settings_the_code_reads()
    assert {"STATUS_BLOB_CONTAINER", "TASKHUB_NAME", "AzureWebJobsStorage"} <= read
    provided = infra_settings()
    for name in sorted(read - OPTIONAL_SETTINGS):
        identity_based = any(s.startswith(f"{name}__") for s in provided)
        assert name in provided or identity_based, f"{name} is read but not set by infra/"


def test_storage_is_reached_by_identity_only() -> None:
    provided = infra_settings()
    assert {
        "AzureWebJobsStorage__blobServiceUri",
        "AzureWebJobsStorage__queueServiceUri",
        "AzureWebJobsStorage__tableServiceUri",
        "AzureWebJobsStorage__credential",
        "AzureWebJobsStorage__clientId",
    } <= provided
    account = parsed("modules/storage.bicep")["resources"]["storage"]["config"]["properties"]
    assert account["allowSharedKeyAccess"] is False
    assert account["allowBlobPublicAccess"] is False
    assert account["minimumTlsVersion"] == "TLS1_2"


def test_no_setting_flex_consumption_refuses() -> None:
    assert infra_settings() & FLEX_REFUSES == set()


def test_the_identity_gets_its_data_roles() -> None:
    text = (INFRA / "modules" / "roles.bicep").read_text()
    for role, role_id in ROLES.items():
        assert role_id in text, role
    modules = parsed("main.bicep")["modules"]
    assert modules["appRoles"]["detail"]["path"] == "modules/roles.bicep"
    assert modules["userRoles"]["detail"]["path"] == "modules/roles.bicep"  # the deploying user
    assert (
        DURABLE_TASK_DATA_CONTRIBUTOR
        in (INFRA / "modules/durable-task-scheduler.bicep").read_text()
    )


def test_the_function_app_is_locked_down_and_runs_python_on_flex() -> None:
    resources = parsed("modules/functionapp.bicep")["resources"]
    plan = resources["plan"]["config"]
    assert plan["sku"] == {"tier": "FlexConsumption", "name": "FC1"}
    app = resources["app"]["config"]["properties"]
    assert app["httpsOnly"] is True
    assert app["siteConfig"]["ftpsState"] == "Disabled"
    config = app["functionAppConfig"]
    assert config["runtime"] == {"name": "python", "version": "pythonVersion"}
    assert config["deployment"]["storage"]["authentication"]["type"] == "UserAssignedIdentity"
    assert config["scaleAndConcurrency"]["alwaysReady"] == [{"name": "durable", "instanceCount": 1}]
    for policy in ("ftpPublishing", "scmPublishing"):
        assert resources[policy]["config"]["properties"] == {"allow": False}


def test_the_function_app_runs_python_3_13_and_main_does_not_override_it() -> None:
    """Python 3.13: GA on Flex Consumption, and what the project needs (pyproject.toml,
    scripts/bootstrap.sh). Only 3.13 is allowed: remote builds of 3.14 apps on Flex were reported
    failing (Azure/azure-functions-python-worker#1801), and the app is tested on 3.13."""
    version = parsed("modules/functionapp.bicep")["parameters"]["pythonVersion"]
    assert version["default"] == "3.13"
    assert {"type": "allowed", "argument": ["3.13"]} in version["decorators"]
    assert "pythonVersion" not in parsed("main.bicep")["modules"]["app"]["config"]["params"]
    requires = re.search(r'^requires-python = "(.*)"$', (ROOT / "pyproject.toml").read_text(), re.M)
    assert requires and requires.group(1) == ">=3.13"


def test_monitoring_uses_entra_id_not_keys() -> None:
    insights = parsed("modules/monitoring.bicep")["resources"]["insights"]["config"]
    assert insights["properties"]["DisableLocalAuth"] is True
    assert "APPLICATIONINSIGHTS_AUTHENTICATION_STRING" in infra_settings()


def test_azure_yaml_names_one_python_function_service() -> None:
    text = (ROOT / "azure.yaml").read_text()
    assert re.search(r"^\s+host: function$", text, re.M)
    assert re.search(r"^\s+language: python$", text, re.M)
