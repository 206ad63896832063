"""An Alembic whose command line changed: stock commands work, datasync at worst goes missing.

Each test runs the real scripts on a copy of the installed Alembic whose
``alembic/config.py`` was edited the way a future release may change it, put
first on PYTHONPATH: private methods of `CommandLine` take extra keyword
arguments, or are renamed, or the pieces `datasync` is built with are gone.
The subject is the command line, the same on every database: SQLite.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import alembic
import pytest
import sqlalchemy as sa

from alembic_project import BIN, Project, Run, copy_example

#: Each change: (pattern, replacement) applied to alembic/config.py, each must match.
CHANGES: dict[str, list[tuple[str, str]]] = {
    "extra keyword arguments": [
        (
            r"def _generate_args\(self, prog([^)]*)\)",
            r"def _generate_args(self, prog\1, *, color: bool = False)",
        ),
        (r"self\._generate_args\(prog\)", "self._generate_args(prog, color=True)"),
        (
            r"def _inspect_function\(self, fn([^)]*)\)",
            r"def _inspect_function(self, fn\1, *, strict: bool = False)",
        ),
        (r"self\._inspect_function\(fn\)", "self._inspect_function(fn, strict=True)"),
        (
            r"def run_cmd\(self, config([^)]*), options([^)]*)\)",
            r"def run_cmd(self, config\1, options\2, *, timing: bool = False)",
        ),
        (r"self\.run_cmd\(cfg, options\)", "self.run_cmd(cfg, options, timing=True)"),
    ],
    "renamed private methods": [
        (r"\b_generate_args\b", "_build_parser"),
        (r"\b_inspect_function\b", "_describe_command"),
        (r"\b_inis_from_config\b", "_config_files"),
    ],
    "no subparsers attribute": [
        (r"\bself\.subparsers\b", "self._commands"),
    ],
    "no register_command": [
        (r"\bregister_command\b", "_add_command"),
    ],
}

#: The changes after which `datasync` cannot be added, and what alembic-datasync says.
MISSING = {
    "no subparsers attribute": "its CommandLine has no subcommand parsers to add it to",
    "no register_command": "CommandLine.register_command failed: AttributeError: "
    "'CommandLine' object has no attribute 'register_command'",
}


def changed_alembic(site: Path, change: str) -> Path:
    """A copy of the installed alembic package in ``site``, its config.py changed."""
    source = Path(alembic.__file__).parent
    shutil.copytree(source, site / "alembic", ignore=shutil.ignore_patterns("__pycache__"))
    config_py = site / "alembic" / "config.py"
    text = config_py.read_text()
    for pattern, replacement in CHANGES[change]:
        text, count = re.subn(pattern, replacement, text)
        assert count, (
            f"alembic {alembic.__version__}'s config.py has no {pattern!r}: "
            "update CHANGES in this test"
        )
    config_py.write_text(text)
    return site


@pytest.fixture(params=list(CHANGES))
def change(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@dataclass
class ChangedAlembic:
    """The example project, run with the changed copy of Alembic first on PYTHONPATH."""

    project: Project
    site: Path

    def run(self, program: str, *args: str) -> Run:
        """``program`` is ``alembic``, ``alembic-datasync`` or ``python -m``."""
        if program == "python -m":
            return self.project.python("-m", "alembic_datasync", *args, PYTHONPATH=str(self.site))
        return self.project.run(*args, program=BIN / program, PYTHONPATH=str(self.site))


@pytest.fixture
def changed(change: str, tmp_path: Path) -> ChangedAlembic:
    site = changed_alembic(tmp_path / "site", change)
    url = sa.make_url(f"sqlite:///{tmp_path / 'app.db'}")
    return ChangedAlembic(copy_example(tmp_path / "project", url), site)


def test_the_changed_copy_is_the_alembic_that_runs(changed: ChangedAlembic) -> None:
    done = changed.run("python -m", "--version")
    assert done.returncode == 0, done.output
    probe = changed.project.python(
        "-c", "import alembic.config; print(alembic.config.__file__)", PYTHONPATH=str(changed.site)
    )
    assert probe.stdout.strip() == str(changed.site / "alembic" / "config.py")


def test_stock_commands_work(changed: ChangedAlembic) -> None:
    version = changed.run("alembic", "--version")
    assert (version.returncode, version.stdout) == (0, f"alembic {alembic.__version__}\n")
    heads = changed.run("alembic", "heads")
    assert heads.returncode == 0, heads.output
    assert heads.stdout == "0001 (head)\n"
    upgrade = changed.run("alembic", "upgrade", "head")
    assert upgrade.returncode == 0, upgrade.output
    # The sync in env.py does not depend on the command line.
    assert upgrade.datasync_lines()[0].endswith("8 total, 8 created, 0 updated, 0 unchanged")
    current = changed.run("alembic", "current")
    assert current.returncode == 0, current.output
    assert current.stdout == "0001 (head)\n"
    for program in ("alembic", "alembic-datasync", "python -m"):
        bad = changed.run(program, "no_such_command")
        assert bad.returncode == 2
        assert "invalid choice: 'no_such_command'" in bad.stderr
    assert "Traceback" not in heads.output + upgrade.output + current.output


def test_datasync_works_or_is_missing_with_a_clear_message(
    changed: ChangedAlembic, change: str
) -> None:
    assert changed.run("alembic", "upgrade", "head").returncode == 0
    if change not in MISSING:
        for program in ("alembic", "alembic-datasync", "python -m"):
            check = changed.run(program, "datasync", "--check")
            assert check.returncode == 0, (program, check.output)
            assert "warning" not in check.stderr
            assert check.stdout.startswith("datasync: llm_node_configuration"), check.output
        return

    stock = changed.run("alembic", "datasync", "--check")
    assert stock.returncode == 2
    assert "invalid choice: 'datasync'" in stock.stderr
    assert "Traceback" not in stock.output

    for program, prog in (
        ("alembic-datasync", "alembic-datasync"),
        ("python -m", "python -m alembic_datasync"),
    ):
        missing = changed.run(program, "datasync", "--check")
        assert missing.returncode == 2
        assert missing.stderr.splitlines()[0] == (
            f"{prog}: warning: the datasync command is not available with Alembic "
            f"{alembic.__version__}: {MISSING[change]}. Every other command works, and env.py "
            f"still syncs on `upgrade`; please report this with your Alembic version"
        )
        assert "invalid choice: 'datasync'" in missing.stderr
        # Every other command of alembic-datasync still works.
        heads = changed.run(program, "heads")
        assert heads.returncode == 0, heads.output
        assert heads.stdout == "0001 (head)\n"
        assert "Traceback" not in missing.output + heads.output
