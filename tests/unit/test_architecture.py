"""The layering rules of DESIGN.md, checked on the source so they cannot erode silently."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "ixp"
SOURCES = sorted(PACKAGE.rglob("*.py"))
# Modules that import nothing from the project: shared vocabularies and frozen data.
LEAVES = ["ixp/rs/types.py", "ixp/irr/types.py", "ixp/rpki/types.py", "ixp/errors.py"]


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_the_domain_never_imports_the_web_layer(path: Path) -> None:
    web = {"api", "fastapi", "starlette"}
    assert not {m for m in imported_modules(path) if m.split(".")[0] in web}


@pytest.mark.parametrize("leaf", LEAVES)
def test_leaf_modules_import_nothing_from_the_project(leaf: str) -> None:
    modules = imported_modules(PACKAGE.parent / leaf)
    assert not {m for m in modules if m.split(".")[0] == "ixp"}


def test_rendering_is_pure_no_database_inside() -> None:
    modules = imported_modules(PACKAGE / "rs" / "render.py")
    assert not {m for m in modules if m.startswith(("sqlalchemy", "ixp.db", "ixp.models"))}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_only_settings_reads_the_environment(path: Path) -> None:
    """Other modules may hand the environment on to a child process, never read from it."""
    if path.name == "settings.py":
        return
    text = path.read_text(encoding="utf-8")
    reads = text.count("os.environ") - text.count("{**os.environ")
    assert reads == 0 and "getenv(" not in text
