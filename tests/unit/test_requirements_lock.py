"""requirements.lock pins every dependency of pyproject.toml (and what they need), within its ranges."""

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def lock_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lock_requirements", ROOT / "scripts" / "lock_requirements.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_lock_covers_pyproject_and_the_installed_closure() -> None:
    tool = lock_tool()
    assert tool.problems(tool.read_lock()) == []


def test_the_check_finds_a_missing_and_a_mispinned_package(tmp_path: Path) -> None:
    tool = lock_tool()
    pins = tool.read_lock()
    del pins["fastapi"]
    pins["sqlalchemy"] = "1.4.0"
    found = tool.problems(pins)
    assert "fastapi: a dependency in pyproject.toml, not pinned" in found
    assert any(p.startswith("sqlalchemy==1.4.0: does not satisfy") for p in found)


def test_the_image_and_ci_install_with_the_lock() -> None:
    assert "--constraint requirements.lock" in (ROOT / "Dockerfile").read_text()
    assert '-c requirements.lock -e ".[dev]"' in (ROOT / ".ci" / "run").read_text()
    assert "!requirements.lock" in (ROOT / ".dockerignore").read_text()
