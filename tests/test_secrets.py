"""Secret columns: their values appear in no plan, log line or error message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from alembic_datasync import ApplyFailed, Dataset, InvalidDatasets, sync, validate_datasets
from alembic_datasync.report import json_document

metadata = sa.MetaData()
providers = sa.Table(
    "providers",
    metadata,
    sa.Column("name", sa.String(20), primary_key=True),
    sa.Column("endpoint", sa.String(100)),
    sa.Column("api_key", sa.String(40), unique=True),
)

KEY_A = "sk-live-a1b2c3d4e5"
KEY_B = "sk-live-f6g7h8i9j0"
PROVIDERS = Dataset("providers.yaml", table="providers", key="name", secret=["api_key"])


@pytest.fixture
def table(engine: sa.Engine) -> sa.Engine:
    metadata.create_all(engine)
    return engine


def write(folder: Path, text: str) -> None:
    (folder / "providers.yaml").write_text(text)


def test_plans_show_that_a_secret_changed_never_its_value(table: sa.Engine, tmp_path: Path) -> None:
    write(tmp_path, f"openai: {{endpoint: https://api.openai.com, api_key: {KEY_A}}}\n")
    with table.connect() as connection:
        first = sync(connection, [PROVIDERS], base_dir=tmp_path)
    assert first.plan_lines() == [
        "+ openai",
        "    endpoint: 'https://api.openai.com'  api_key: (secret)",
    ]
    write(tmp_path, f"openai: {{endpoint: https://api.openai.com/v2, api_key: {KEY_B}}}\n")
    with table.connect() as connection:
        second = sync(connection, [PROVIDERS], base_dir=tmp_path)
    assert second.plan_lines() == [
        "~ openai",
        "    endpoint: 'https://api.openai.com' -> 'https://api.openai.com/v2'",
        "    api_key: (secret) changed",
    ]
    assert KEY_A not in second.render() and KEY_B not in second.render()
    with table.connect() as connection:
        assert connection.execute(sa.select(providers.c.api_key)).scalar_one() == KEY_B


def test_validation_messages_hide_secret_values(table: sa.Engine, tmp_path: Path) -> None:
    too_long = "sk-" + "x" * 60
    write(tmp_path, f"openai: {{api_key: {too_long}}}\n")
    with table.connect() as connection, pytest.raises(InvalidDatasets) as caught:
        sync(connection, [PROVIDERS], base_dir=tmp_path)
    assert too_long not in str(caught.value)
    assert "providers.yaml:1:19: " in str(caught.value)
    with pytest.raises(InvalidDatasets) as offline:
        validate_datasets([PROVIDERS], metadata, base_dir=tmp_path)
    assert too_long not in str(offline.value)


def test_database_errors_hide_secret_values(table: sa.Engine, tmp_path: Path) -> None:
    # Two providers with one key break UNIQUE(api_key); databases quote the value.
    write(tmp_path, f"a: {{api_key: {KEY_A}}}\nb: {{api_key: {KEY_A}}}\n")
    with table.connect() as connection, pytest.raises(ApplyFailed) as caught:
        sync(connection, [PROVIDERS], base_dir=tmp_path)
    message = str(caught.value)
    assert message.startswith("providers.yaml:2:1: the database refused to insert row 'b'")
    assert KEY_A not in message


def test_a_key_column_cannot_be_secret() -> None:
    with pytest.raises(ValueError, match="key column\\(s\\) name cannot be secret"):
        Dataset("p.yaml", table="providers", key="name", secret=["name"])


def test_json_and_the_audit_mask_secret_values(table: sa.Engine, tmp_path: Path) -> None:
    write(tmp_path, f"openai: {{endpoint: e1, api_key: {KEY_A}}}\nlocal: {{endpoint: e2}}\n")
    with table.connect() as connection:
        sync(connection, [PROVIDERS], base_dir=tmp_path)
    with table.begin() as connection:
        connection.execute(
            providers.update().where(providers.c.name == "local"), {"api_key": KEY_B}
        )
    write(tmp_path, f"openai: {{endpoint: e3, api_key: {KEY_B[::-1]}}}\nlocal: {{endpoint: e2}}\n")
    with table.connect() as connection:
        report = sync(connection, [PROVIDERS], base_dir=tmp_path, dry_run=True, audit=True)
    document = json.dumps(json_document("dry-run", "planned", 0, report))
    text = report.render()
    for secret in (KEY_A, KEY_B, KEY_B[::-1]):
        assert secret not in document and secret not in text
    [dataset] = json.loads(document)["datasets"]
    assert dataset["changes"][0]["columns"]["api_key"] == {
        "old": "***",
        "new": "***",
        "secret": True,
    }
    assert dataset["unmanaged_values"] == [
        {
            "key": {"name": "local"},
            "label": "local",
            "column": "api_key",
            "value": "***",
            "secret": True,
        }
    ]
    assert "      local: api_key = (secret)" in text.splitlines()
