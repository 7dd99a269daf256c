"""`contracts/` is a package of its own: a downstream team installs it without the services.

The wheel is built from contracts/pyproject.toml and installed into a fresh virtual environment; the
models there parse the committed examples and carry their JSON Schemas, and nothing of ours but
`contracts` (and its two dependencies) comes along.

The build and the venv run with --offline (hatchling comes from uv's cache, which `make install`
fills). The install resolves the wheel's two dependencies from uv's cache when its index pages are
there, and from the package registry when they are not: `uv sync --frozen` downloads the locked wheels
by URL and never caches the index pages an offline resolution needs, so a machine whose uv cache was
filled only by `make install` cannot resolve `pydantic>=2.11` offline.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import importlib.util, json, sys
import contracts
from contracts import OrderPlaced, topics
from contracts.examples import order_placed
from contracts.registry import EVENTS, by_topic
from contracts.design_doc import render_contract
from importlib.resources import files

event = order_placed()
again = OrderPlaced.model_validate_json(event.model_dump_json())
schema = json.loads(files("contracts").joinpath("schemas", "orders.placed.v1.json").read_text())
print(json.dumps({
    "file": contracts.__file__,
    "same": again == event,
    "topic": by_topic(topics.ORDERS_PLACED).TOPIC,
    "events": len(EVENTS),
    "schema_title": schema.get("title"),
    "typed": files("contracts").joinpath("py.typed").is_file(),
    "documented": "orders.placed.v1" in render_contract(),
    "others": [m for m in ("chassis", "services", "fastapi", "asyncpg") if importlib.util.find_spec(m)],
}))
"""


def _uv() -> list[str]:
    found = shutil.which("uv")
    return [found] if found else ["python3", "-m", "uv"]


def _run(*cmd: str | Path, cwd: Path) -> str:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("VIRTUAL_ENV", "PYTHONPATH", "UV_PROJECT_ENVIRONMENT")
    }
    done = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, f"{cmd}: {done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.timeout(300)
def test_the_contracts_wheel_installs_alone_into_a_fresh_venv_and_parses_the_examples(tmp_path: Path) -> None:
    uv = _uv()
    _run(*uv, "build", "--offline", "--wheel", ROOT / "contracts", "-o", tmp_path / "dist", cwd=tmp_path)
    [wheel] = (tmp_path / "dist").glob("dabba_contracts-*.whl")
    _run(*uv, "venv", "--offline", "--python", sys.executable, tmp_path / "venv", cwd=tmp_path)
    python = tmp_path / "venv" / "bin" / "python"
    _run(*uv, "pip", "install", "--python", python, wheel, cwd=tmp_path)
    found = json.loads(_run(python, "-c", _PROBE, cwd=tmp_path))
    assert Path(found["file"]).is_relative_to(tmp_path / "venv")
    assert found["same"] and found["topic"] == "orders.placed.v1" and found["typed"] and found["documented"]
    from contracts.registry import EVENTS

    assert found["events"] == len(EVENTS)
    assert (
        found["schema_title"]
        == json.loads((ROOT / "contracts/schemas/orders.placed.v1.json").read_text())["title"]
    )
    assert found["others"] == [], f"the contracts wheel pulled in {found['others']}"
