"""The alembic.plugins entry point: `alembic datasync` exists, and nothing else changes."""

from __future__ import annotations

import subprocess
import sys

from alembic_project import ALEMBIC


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


def test_stock_alembic_lists_datasync_with_its_flags() -> None:
    listed = run(str(ALEMBIC), "--help")
    assert listed.returncode == 0
    assert (
        "datasync            Sync the datasets declared in env.py into the database"
        in listed.stdout
    )
    own = run(str(ALEMBIC), "datasync", "--help")
    assert own.returncode == 0
    for flag in ("--dry-run", "--check", "--strict", "--validate"):
        assert flag in own.stdout


def test_import_alembic_loads_only_the_small_plugin_module() -> None:
    # The plugin runs while alembic is half imported: it must not import the
    # package (which imports alembic) nor anything heavy.
    probe = (
        "import sys, alembic, alembic.command, alembic.config\n"
        "print(sorted(m for m in sys.modules if m.startswith('alembic_datasync')))\n"
    )
    done = run(sys.executable, "-c", probe)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['alembic_datasync_plugin']"


def test_stock_commands_are_unchanged() -> None:
    listed = run(str(ALEMBIC), "list_templates")
    assert listed.returncode == 0, listed.stderr
    assert "generic" in listed.stdout
    version = run(str(ALEMBIC), "--version")
    assert version.returncode == 0
    assert version.stdout.startswith("alembic ")


def test_the_plugin_module_is_its_own_entry_in_both_alembic_styles() -> None:
    # Alembic 1.18.0-1.20.0 iterate the entry point; 1.20.1+ take the module.
    probe = (
        "import alembic_datasync_plugin as p, types\n"
        "assert isinstance(p, types.ModuleType) and list(p) == [p]\n"
        "print('ok')\n"
    )
    done = run(sys.executable, "-c", probe)
    assert done.stdout.strip() == "ok", done.stderr
