"""The README documents what the code offers: every flag, every public name."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import alembic_datasync
from alembic_datasync.cli import _ACTIONS, _OPTIONS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_every_datasync_flag_is_in_the_readme() -> None:
    missing = [flag for flag, *_ in _OPTIONS if f"alembic datasync {flag}" not in README]
    assert missing == []


def test_each_actions_help_is_the_first_paragraph_of_its_functions_docstring() -> None:
    # The command line spells the help out, so that building it imports no command.
    from alembic_datasync import commands

    for _, function_name, summary, _ in _ACTIONS:
        docstring = getattr(commands, function_name).__doc__ or ""
        assert summary == " ".join(docstring.split("\n\n")[0].split()), function_name


def test_every_history_option_is_in_the_readme() -> None:
    section = README.split("## State and history", 1)[1].split("\n## ", 1)[0]
    (arguments,) = [arguments for name, _, _, arguments in _ACTIONS if name == "history"]
    flags = [spelled[0] for spelled, _ in arguments if spelled[0].startswith("-")]
    missing = [
        flag
        for flag in flags
        if not any(
            line.startswith("alembic datasync history") and f" {flag} " in f"{line} "
            for line in section.splitlines()
        )
    ]
    assert missing == []


def test_every_dataset_and_datasync_option_is_in_the_readme() -> None:
    import inspect

    for function in (alembic_datasync.Dataset, alembic_datasync.DataSync):
        parameters = inspect.signature(function).parameters
        missing = [
            name
            for name in parameters
            if name not in ("self", "context", "datasets", "path", "table", "key")
            and f"{name}=" not in README
        ]
        assert missing == [], function.__name__


def test_the_quickstart_is_two_commands() -> None:
    quickstart = README.split("## Quickstart", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in quickstart.strip().splitlines()]
    assert commands == ["make example", "make test"]


def test_the_quickstart_shows_what_make_example_prints(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parent.parent / "example"
    bin_folder = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_folder}{os.pathsep}{os.environ['PATH']}"}
    env.update(TMPDIR=str(tmp_path))
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        ["bash", "run_example.sh"], cwd=example, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    printed = re.sub(r"datasync-example\.\w+", "datasync-example.XXXXXX", done.stdout)
    printed = printed.replace(str(tmp_path), "/tmp")
    shown = README.split("## Quickstart", 1)[1].split("```text\n", 1)[1].split("\n```\n", 1)[0]
    assert printed.splitlines() == shown.splitlines()
