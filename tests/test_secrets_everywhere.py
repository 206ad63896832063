"""Issue 9, class 4: a secret column's value, or any part or spelling of it, is never shown.

Redaction must hold for any substring, any spelling YAML allows, and any
database or driver message, on every path: plans, logs, errors, ``FAILED:``
lines and the reports the API returns.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import sqlalchemy as sa

from alembic_datasync import ApplyFailed, Dataset, InvalidDatasets, sync, validate_datasets

from alembic_project import copy_example

#: A secret long enough to be truncated anywhere (131 characters), with no
#: 8-character piece that a message could contain by chance.
SECRET = "pk_" + hashlib.sha512(b"issue 9, class 4").hexdigest()[:128]

PROVIDERS = Dataset(
    "providers.yaml", table="providers", key="name", secret=["api_key", "pin", "token"]
)


def shown_parts(text: str, secret: str = SECRET, width: int = 8) -> list[str]:
    """Every ``width``-character piece of ``secret`` that ``text`` contains."""
    return sorted(
        {secret[i : i + width] for i in range(len(secret) - width + 1)}
        & {text[i : i + width] for i in range(len(text) - width + 1)}
    )


def providers_table(engine: sa.Engine, key_length: int) -> sa.MetaData:
    metadata = sa.MetaData()
    sa.Table(
        "providers",
        metadata,
        sa.Column("name", sa.String(20), primary_key=True),
        sa.Column("api_key", sa.String(key_length), unique=True),
        sa.Column("pin", sa.String(20)),
        sa.Column("token", sa.Uuid),
        sa.Column("blob", sa.LargeBinary),
    )
    metadata.create_all(engine)
    return metadata


def write(folder: Path, text: str) -> None:
    (folder / "providers.yaml").write_text(text)


def test_a_secret_too_long_for_its_column_is_not_shown_even_in_part(
    engine: sa.Engine, tmp_path: Path
) -> None:
    metadata = providers_table(engine, key_length=40)
    write(tmp_path, f"openai: {{api_key: {SECRET}}}\n")
    with engine.connect() as connection, pytest.raises(InvalidDatasets) as online:
        sync(connection, [PROVIDERS], base_dir=tmp_path)
    assert "providers.yaml:1:19: api_key expects text of at most 40 characters" in str(online.value)
    with pytest.raises(InvalidDatasets) as offline:
        validate_datasets([PROVIDERS], metadata, base_dir=tmp_path)
    assert shown_parts(str(online.value)) == []
    assert shown_parts(str(offline.value)) == []


def test_a_long_secret_of_the_wrong_type_is_not_shown_even_in_part(
    engine: sa.Engine, tmp_path: Path
) -> None:
    # Messages cut values over 40 characters; the cut value must be hidden too.
    metadata = providers_table(engine, key_length=40)
    write(tmp_path, f"openai: {{token: {SECRET}}}\n")
    with engine.connect() as connection, pytest.raises(InvalidDatasets) as online:
        sync(connection, [PROVIDERS], base_dir=tmp_path)
    assert "providers.yaml:1:17: token expects " in str(online.value)
    with pytest.raises(InvalidDatasets) as offline:
        validate_datasets([PROVIDERS], metadata, base_dir=tmp_path)
    assert shown_parts(str(online.value)) == []
    assert shown_parts(str(offline.value)) == []


# (as written, as YAML 1.1 reads it): both are spellings of the secret.
RETYPED = [
    pytest.param("0471236", "160414", id="octal"),
    pytest.param("0x5eed1e55", "1592598101", id="hexadecimal"),
    pytest.param("73_914_205", "73914205", id="underscores"),
    pytest.param("1:02:03:04", "223384", id="base-60"),
]


@pytest.mark.parametrize(("written", "read"), RETYPED)
def test_a_secret_yaml_reads_as_a_number_is_hidden_in_every_spelling(
    engine: sa.Engine, tmp_path: Path, written: str, read: str
) -> None:
    metadata = providers_table(engine, key_length=40)
    write(tmp_path, f"bank:\n  pin: {written}\n")
    with engine.connect() as connection, pytest.raises(InvalidDatasets) as online:
        sync(connection, [PROVIDERS], base_dir=tmp_path)
    with pytest.raises(InvalidDatasets) as offline:
        validate_datasets([PROVIDERS], metadata, base_dir=tmp_path)
    for caught in (online, offline):
        message = str(caught.value)
        # --validate never writes, so it does not say "nothing written".
        assert message.startswith(
            "1 problem in dataset files" + (", nothing written" if caught is online else "") + ":\n"
        )
        assert "providers.yaml:2:8: pin expects text" in message
        assert written not in message and read not in message, message
        assert "quote it" in message  # the hint stays, without the value


@pytest.mark.parametrize(
    "database_url",
    [
        "sqlite",
        "postgresql",
        "mysql",
    ],
    indirect=True,
)
def test_a_database_error_quoting_part_of_a_secret_does_not_show_it(
    engine: sa.Engine, tmp_path: Path
) -> None:
    # Two providers with one key break UNIQUE(api_key); MariaDB's message
    # quotes the first 64 characters of the duplicate value.
    providers_table(engine, key_length=200)
    write(tmp_path, f"a: {{api_key: {SECRET}}}\nb: {{api_key: {SECRET}}}\n")
    with engine.connect() as connection, pytest.raises(ApplyFailed) as caught:
        sync(connection, [PROVIDERS], base_dir=tmp_path)
    message = str(caught.value)
    assert message.startswith("providers.yaml:2:1: the database refused to insert row 'b'")
    assert shown_parts(message) == []


def test_a_row_the_driver_cannot_write_does_not_show_its_secrets(
    engine: sa.Engine, tmp_path: Path
) -> None:
    providers_table(engine, key_length=200)
    write(tmp_path, f"a:\n  api_key: {SECRET}\n  blob: not bytes\n")
    with engine.connect() as connection:
        try:
            report = sync(connection, [PROVIDERS], base_dir=tmp_path)
        except Exception as error:  # whatever escapes must not show it
            said = f"{type(error).__name__}: {error}"
        else:
            said = report.render()
    assert shown_parts(said) == [], said
    assert said.startswith(("InvalidDatasets", "ApplyFailed", "datasync:")), said


def test_the_report_the_api_returns_does_not_show_a_secret_when_printed(
    engine: sa.Engine, tmp_path: Path
) -> None:
    providers_table(engine, key_length=200)
    write(tmp_path, f"a: {{api_key: {SECRET}}}\n")
    with engine.connect() as connection:
        report = sync(connection, [PROVIDERS], base_dir=tmp_path)
    assert report.plan_lines() == ["+ a", "    api_key: (secret)"]
    for text in (report.render(), str(report), repr(report)):
        assert shown_parts(text) == []


def test_alembic_logs_and_failed_lines_never_show_part_of_a_secret(
    database_url: sa.URL, tmp_path: Path
) -> None:
    project = copy_example(tmp_path / "project", database_url)
    project.edit(
        "migrations/env.py", 'key="node_name")', 'key="node_name", secret=["azure_max_tokens"])'
    )
    project.edit("config/llm_nodes.yaml", "azure_max_tokens: 1200", f"azure_max_tokens: {SECRET}")
    default = project.run("upgrade", "head")
    strict = project.run("-x", "datasync=strict", "upgrade", "head")
    validate = project.run("datasync", "--validate")
    assert default.returncode == 0, default.output
    assert strict.returncode == 255 and validate.returncode == 255
    assert "azure_max_tokens expects a whole number" in strict.output
    for run in (default, strict, validate):
        assert "config/llm_nodes.yaml:" in run.output
        assert shown_parts(run.output) == [], run.output
