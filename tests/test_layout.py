"""The package's shape: every module importable by name, the public API pinned, no cycle."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import alembic_datasync

from conftest import python_lines

PACKAGE = Path(alembic_datasync.__file__).parent

PUBLIC_API = [
    "ApplyFailed",
    "ColumnChange",
    "DataSync",
    "Dataset",
    "DatasetFileMissing",
    "DatasetPlan",
    "DatasetsOutOfSync",
    "DatasyncError",
    "InvalidDatasets",
    "LockTimeout",
    "Position",
    "Problem",
    "RowChange",
    "StateTables",
    "SyncOrigin",
    "SyncRecord",
    "SyncReport",
    "apply",
    "plan",
    "sync",
    "sync_history",
    "sync_record",
    "validate_datasets",
]


def module_names() -> list[str]:
    return sorted(info.name for info in pkgutil.iter_modules([str(PACKAGE)]))


def test_public_api_is_pinned() -> None:
    assert alembic_datasync.__all__ == PUBLIC_API
    for name in PUBLIC_API:
        assert getattr(alembic_datasync, name) is not None


def test_every_module_imports_by_its_name_and_none_is_shadowed() -> None:
    for name in module_names():
        if name == "__main__":
            continue
        module = importlib.import_module(f"alembic_datasync.{name}")
        # `alembic_datasync.<name>` is the module itself, never a function of that name.
        assert getattr(alembic_datasync, name) is module, name


def test_no_module_shares_its_name_with_an_exported_function() -> None:
    assert set(module_names()).isdisjoint(alembic_datasync.__all__)


def local_imports(name: str) -> set[str]:
    """The package modules that module ``name`` imports (``from .x import ...``)."""
    tree = ast.parse((PACKAGE / f"{name}.py").read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
    return found


def test_the_package_has_no_import_cycle() -> None:
    graph = {name: local_imports(name) for name in module_names()}
    visiting: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        assert name not in visiting, " -> ".join([*visiting, name])
        if name in done:
            return
        visiting.append(name)
        for imported in sorted(graph.get(name, ())):
            visit(imported)
        visiting.pop()
        done.add(name)

    for name in graph:
        visit(name)


def test_the_planner_imports_nothing_from_the_checks() -> None:
    assert "check" not in local_imports("planner")


def test_the_readme_maps_every_module() -> None:
    readme = (PACKAGE.parent / "README.md").read_text()
    section = readme[readme.index("## How it works") : readme.index("## Testing")]
    missing = [name for name in module_names() if f"{name}.py" not in section]
    assert missing == [], f"README 'How it works' does not name: {missing}"


def test_references_sit_below_the_plans() -> None:
    # `plans` holds the resolved references; the writer turns names into ids.
    assert {"plans", "planner", "writer"}.isdisjoint(local_imports("references"))


def test_the_package_imports_its_names_and_modules_on_first_use() -> None:
    """`import alembic_datasync` is cheap (the plugin imports it for every alembic
    command), yet every public name and every module is there as before."""
    program = (
        "import sys, alembic_datasync as ds\n"
        "before = sorted(m for m in sys.modules if m.startswith('alembic_datasync.'))\n"
        "assert ds.errors.DatasyncError is ds.DatasyncError\n"
        "assert ds.Dataset.__module__ == 'alembic_datasync.dataset'\n"
        "assert isinstance(ds.__version__, str)\n"
        "try:\n"
        "    ds.no_such_name\n"
        "except AttributeError as error:\n"
        "    print(error)\n"
        "print(before)\n"
    )
    assert python_lines(program) == [
        "module 'alembic_datasync' has no attribute 'no_such_name'",
        "[]",
    ]
