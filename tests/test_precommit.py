"""The pre-commit hook this repository defines, run by pre-commit itself on a real project."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import sqlalchemy as sa

from alembic_project import BIN, copy_example

REPOSITORY = Path(__file__).resolve().parent.parent


def try_repo(folder: Path) -> subprocess.CompletedProcess[str]:
    environment = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    environment["PRE_COMMIT_HOME"] = str(folder.parent / "pre-commit-home")
    return subprocess.run(
        [str(BIN / "pre-commit"), "try-repo", str(REPOSITORY), "datasync-validate", "--all-files"],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def git(folder: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True)


def test_the_pre_commit_hook_passes_a_valid_project_and_fails_a_misspelt_column(
    tmp_path: Path,
) -> None:
    project = copy_example(tmp_path / "project", sa.make_url("sqlite://"))
    git(project.folder, "init", "-q")
    git(project.folder, "add", ".")
    passed = try_repo(project.folder)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "alembic datasync --validate" in passed.stdout and "Passed" in passed.stdout
    project.edit("config/llm_nodes.yaml", "default_temperature: 0.2", "default_temprature: 0.2")
    git(project.folder, "add", ".")
    failed = try_repo(project.folder)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "Failed" in failed.stdout
    assert (
        "config/llm_nodes.yaml:7:23: unknown column 'default_temprature' for table "
        "'llm_node_configuration'; did you mean 'default_temperature'?" in failed.stdout
    )
