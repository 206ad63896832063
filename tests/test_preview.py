"""``alembic datasync --dry-run`` while a migration is pending: the plan the next deploy writes."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from alembic_project import Project, copy_example

ADD_TIMEOUT = '''\
"""add timeout_seconds"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "llm_node_configuration",
        sa.Column("timeout_seconds", sa.Integer, nullable=False, server_default="30"),
    )


def downgrade():
    op.drop_column("llm_node_configuration", "timeout_seconds")
'''


def pending_column(project: Project) -> None:
    """A pull request: a migration adds timeout_seconds, and the file fills it in."""
    assert project.run("upgrade", "head").returncode == 0
    (project.folder / "migrations" / "versions" / "0002_timeout.py").write_text(ADD_TIMEOUT)
    project.edit(
        "config/llm_nodes.yaml",
        "  langsmith_tracing: false\n",
        "  langsmith_tracing: false\n  timeout_seconds: 90\n",
    )


def plan_part(lines: list[str]) -> list[str]:
    """The summary and the row changes: what a deploy logs (not the dry run's audit after)."""
    kept = []
    for line in lines:
        if "left as they are" in line or "the file does not list" in line:
            break
        if not line.startswith("datasync: warning"):
            kept.append(line.strip())
    return kept


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_dry_run_previews_the_plan_the_next_deploy_applies_byte_for_byte(
    project_at_head: Project,
) -> None:
    project = project_at_head
    pending_column(project)
    dry = project.run("datasync", "--dry-run")
    assert dry.returncode == 0, dry.output
    assert dry.stdout.splitlines()[0] == (
        "datasync: warning: the database is at 0001, not at head: this plan is previewed after "
        "the pending migrations, which were run and rolled back; `alembic upgrade head` runs "
        "them and then writes this plan"
    )
    previewed = plan_part(dry.stdout.splitlines())
    assert previewed[1] == "~ intent_classification"
    assert previewed[2] == "timeout_seconds: 30 -> 90"
    # Rolled back: the database is as it was.
    assert project.version() == ["0001"]
    assert not project.query(
        "SELECT 1 FROM information_schema.columns WHERE column_name = 'timeout_seconds' "
        "AND table_schema = current_schema()"
    )
    deploy = project.run("upgrade", "head")
    assert deploy.returncode == 0, deploy.output
    applied = [
        line.replace(" created,", " to create,").replace(" updated,", " to update,")
        for line in deploy.datasync_lines()
    ]
    assert plan_part(applied) == previewed
    assert project.version() == ["0002"]


@pytest.mark.parametrize("database_url", ["sqlite", "mysql"], indirect=True)
def test_a_dry_run_says_plainly_what_it_cannot_preview(project_at_head: Project) -> None:
    project = project_at_head
    pending_column(project)
    dry = project.run("datasync", "--dry-run")
    assert dry.returncode == 255
    dialect = "sqlite" if project.url.get_backend_name() == "sqlite" else "mysql"
    assert (
        f"the database is not at head (0001); run `alembic upgrade head`, which also syncs "
        f"({dialect} cannot roll back the migrations' DDL, so they cannot be previewed, so this "
        f"plan is against the current schema)"
    ) in dry.output
    assert "unknown column 'timeout_seconds'" in dry.output
    assert project.version() == ["0001"]


@pytest.fixture
def project_at_head(database_url: sa.URL, tmp_path: Path) -> Project:
    return copy_example(tmp_path / "project", database_url)
