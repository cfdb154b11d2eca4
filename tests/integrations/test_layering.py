"""The layers depend one way: models and services on the platform layer, never the reverse;
the emulators never on the clients."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLATFORMS = ROOT / "integrations" / "platforms"
SANDBOX = ROOT / "integrations" / "sandbox"

# What the platform layer may not import: the ORM's models, the services, the database-backed
# limiter and meter (the console hands those in: integrations/platforms/runtime.py).
FORBIDDEN_IN_PLATFORMS = (
    "integrations.models",
    "integrations.services",
    "integrations.ratelimit",
    "integrations.metering",
    "integrations.runtime",
    "django.db",
    "django.http",
)
# A module of the platform layer holds one job: machinery modules stay small, and so does each
# file of a platform's package and of its emulator.
MAX_LINES = 400


def imported_names(path: Path) -> set[str]:
    """Every module `path` imports (with `from x import y` also as x.y), at any depth."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def reaches(names: set[str], prefix: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for name in names)


PLATFORM_FILES = sorted(PLATFORMS.rglob("*.py"))


@pytest.mark.parametrize("path", PLATFORM_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_platform_layer_imports_no_orm_or_service(path):
    names = imported_names(path)
    found = [prefix for prefix in FORBIDDEN_IN_PLATFORMS if reaches(names, prefix)]
    assert not found, f"{path.relative_to(ROOT)} imports {', '.join(found)}"


@pytest.mark.parametrize(
    "path", PLATFORM_FILES + sorted(SANDBOX.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_platform_and_emulator_files_stay_small(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines (at most {MAX_LINES})"


@pytest.mark.parametrize(
    "path", sorted(SANDBOX.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_emulators_never_import_the_clients(path):
    names = imported_names(path)
    clients = {
        name
        for name in names
        if name.startswith("integrations.platforms.")
        and name.split(".")[2] not in {"types", "rules", "errors", "registry", "urlpolicy"}
    }
    assert not clients, f"{path.relative_to(ROOT)} imports the clients: {sorted(clients)}"


def test_the_checks_see_a_forbidden_import(tmp_path):
    """The import scan finds a nested, aliased import (so the tests above can fail)."""
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from integrations.models import Integration as I\n")
    assert reaches(imported_names(module), "integrations.models")
