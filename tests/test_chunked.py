"""CSV datasets synced a chunk of rows at a time (`chunked`): the same outcome as planned whole.

Chunks are made three rows long here, so that a ten-row file crosses four of
them; a real sync takes `chunked.CHUNK_ROWS` (10,000) at a time.
"""

from __future__ import annotations

import decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from alembic_datasync import (
    ApplyFailed,
    Dataset,
    InvalidDatasets,
    chunked,
    sync,
    sync_history,
    sync_record,
)
from alembic_datasync.history import sync_lines
from alembic_datasync.state import read_states, state_key
from alembic_datasync.storage import StateTables

from conftest import StatementLog
from databases import isolated_database

metadata = sa.MetaData()
items = sa.Table(
    "items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(40), nullable=False),
    sa.Column("price", sa.Numeric(10, 2)),
    sa.Column("note", sa.String(40)),
)
parents = sa.Table(
    "tree",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("tree.id")),
)
ITEMS = Dataset("items.csv", table="items", key="id")


def csv_text(rows: range, *, price: dict[int, str] | None = None, note: bool = True) -> str:
    """``id,name,price[,note]``: one row an id, each priced id.50 unless ``price`` says."""
    prices = price or {}
    lines = ["id,name,price" + (",note" if note else "")]
    for number in rows:
        cells = [str(number), f"item {number}", prices.get(number, f"{number}.50")]
        lines.append(",".join(cells + ([f"note {number}"] if note else [])))
    return "\n".join(lines) + "\n"


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Three rows a chunk; the datasets synced in chunks, by name."""
    monkeypatch.setattr(chunked, "CHUNK_ROWS", 3)
    taken: list[str] = []
    real = chunked.sync_in_chunks

    def spy(connection: sa.Connection, dataset: Dataset, *args: Any, **kwargs: Any) -> Any:
        taken.append(dataset.label)
        return real(connection, dataset, *args, **kwargs)

    monkeypatch.setattr(chunked, "sync_in_chunks", spy)
    return taken


@pytest.fixture
def table(engine: sa.Engine) -> sa.Engine:
    metadata.create_all(engine)
    return engine


def stored(engine: sa.Engine) -> dict[int, tuple[Any, ...]]:
    with engine.connect() as connection:
        found = connection.execute(sa.select(items).order_by(items.c.id))
        return {row[0]: tuple(row[1:]) for row in found}


def run(engine: sa.Engine, base: Path, dataset: Dataset = ITEMS, **options: Any) -> Any:
    with engine.connect() as connection:
        return sync(connection, [dataset], base_dir=base, **options)


def refused(engine: sa.Engine, base: Path, dataset: Dataset = ITEMS, **options: Any) -> list[str]:
    """The problems a sync of ``dataset`` is refused with, as printed."""
    with pytest.raises(InvalidDatasets) as raised:
        run(engine, base, dataset, **options)
    return [str(problem) for problem in raised.value.problems]


def test_a_file_of_four_chunks_is_written_a_chunk_at_a_time_then_plans_nothing(
    table: sa.Engine, tmp_path: Path, statements: StatementLog, small_chunks: list[str]
) -> None:
    (tmp_path / "items.csv").write_text(csv_text(range(1, 11)), encoding="utf-8")
    report = run(table, tmp_path)
    assert small_chunks == ["items"]
    assert report.summary_lines() == [
        "datasync: items (items.csv): 10 total, 10 created, 0 updated, 0 unchanged"
    ]
    # One INSERT a chunk: 3 + 3 + 3 + 1 rows.
    assert [s.split()[0] for s in statements.writes] == ["INSERT"] * 4
    found = stored(table)
    assert sorted(found) == list(range(1, 11))
    assert found[10] == ("item 10", decimal.Decimal("10.50"), "note 10")
    statements.clear()
    again = run(table, tmp_path)
    assert again.summary_lines() == [
        "datasync: items (items.csv): 10 total, 0 created, 0 updated, 10 unchanged"
    ]
    assert statements.writes == []
    (tmp_path / "items.csv").write_text(csv_text(range(1, 11), price={8: "9.99"}))
    statements.clear()
    changed = run(table, tmp_path)
    assert changed.summary_lines() == [
        "datasync: items (items.csv): 10 total, 0 created, 1 updated, 9 unchanged"
    ]
    assert [s.split()[0] for s in statements.writes] == ["UPDATE"]
    assert stored(table)[8][1] == decimal.Decimal("9.99")
    assert changed.plan_lines() == ["~ 8", "    price: 8.50 -> 9.99"]


def test_a_key_two_chunks_list_is_a_problem_and_nothing_is_written(
    table: sa.Engine, tmp_path: Path
) -> None:
    text = csv_text(range(1, 11)).replace("9,item 9,", "2,item 9,")
    (tmp_path / "items.csv").write_text(text, encoding="utf-8")
    assert refused(table, tmp_path) == [
        "items.csv:10:1: duplicate key '2': first at line 3, again at line 10; remove one"
    ]
    assert stored(table) == {}


def test_a_bad_value_in_the_last_chunk_leaves_the_table_as_it_was(
    table: sa.Engine, tmp_path: Path
) -> None:
    (tmp_path / "items.csv").write_text(csv_text(range(1, 11)), encoding="utf-8")
    run(table, tmp_path)
    before = stored(table)
    (tmp_path / "items.csv").write_text(
        csv_text(range(1, 13), price={1: "1.25", 12: "cheap"}), encoding="utf-8"
    )
    assert refused(table, tmp_path) == [
        "items.csv:13:12: price expects a number of at most 8 digits before the decimal point "
        "and 2 after it, got 'cheap'"
    ]
    assert stored(table) == before  # the first chunk's update and the new rows rolled back


def test_pruning_deletes_the_rows_the_file_no_longer_lists_and_keeps_the_applications(
    table: sa.Engine, tmp_path: Path
) -> None:
    owned = Dataset("items.csv", table="items", key="id", prune=True)
    (tmp_path / "items.csv").write_text(csv_text(range(1, 11)), encoding="utf-8")
    run(table, tmp_path, owned)
    with table.begin() as connection:
        connection.execute(items.insert().values(id=100, name="the application's"))
    (tmp_path / "items.csv").write_text(
        csv_text([n for n in range(1, 11) if n not in (4, 9)]), encoding="utf-8"
    )
    report = run(table, tmp_path, owned)
    assert report.summary_lines() == [
        "datasync: items (items.csv): 8 total, 0 created, 0 updated, 8 unchanged, 2 deleted"
    ]
    assert sorted(stored(table)) == [1, 2, 3, 5, 6, 7, 8, 10, 100]
    everything = Dataset("items.csv", table="items", key="id", prune="all")
    report = run(table, tmp_path, everything)
    assert report.summary_lines()[0].endswith("8 unchanged, 1 deleted")
    assert sorted(stored(table)) == [1, 2, 3, 5, 6, 7, 8, 10]


def test_a_file_with_no_rows_never_empties_the_table_it_prunes(
    table: sa.Engine, tmp_path: Path
) -> None:
    owned = Dataset("items.csv", table="items", key="id", prune=True)
    (tmp_path / "items.csv").write_text(csv_text(range(1, 8)), encoding="utf-8")
    run(table, tmp_path, owned)
    (tmp_path / "items.csv").write_text("id,name,price,note\n", encoding="utf-8")
    assert refused(table, tmp_path, owned) == [
        "items.csv: the file has no rows, and pruning would delete all 7 rows it wrote to "
        "'items'; if that is what you want, declare the dataset with allow_empty=True"
    ]
    assert len(stored(table)) == 7


def test_a_column_the_header_no_longer_has_goes_back_to_its_default(
    table: sa.Engine, tmp_path: Path
) -> None:
    (tmp_path / "items.csv").write_text(csv_text(range(1, 8)), encoding="utf-8")
    run(table, tmp_path)
    (tmp_path / "items.csv").write_text(csv_text(range(1, 8), note=False), encoding="utf-8")
    report = run(table, tmp_path)
    assert report.summary_lines()[0].endswith("0 created, 7 updated, 0 unchanged")
    assert {row[2] for row in stored(table).values()} == {None}


def test_the_state_is_the_one_a_plan_of_the_whole_file_records(
    table: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_chunks: list[str]
) -> None:
    (tmp_path / "items.csv").write_text(csv_text(range(1, 11)), encoding="utf-8")
    run(table, tmp_path)

    def remembered() -> tuple[str, list[Any]]:
        with table.connect() as connection:
            state = read_states(connection, StateTables(), [ITEMS], with_rows=True)
        own = state[state_key(ITEMS)]
        assert own.applied is not None
        return own.rows_digest, own.applied.rows

    in_chunks = remembered()
    assert in_chunks[1][:2] == [
        ((1,), ("name", "price", "note")),
        ((2,), ("name", "price", "note")),
    ]
    assert len(in_chunks[1]) == 10
    monkeypatch.setattr(chunked, "streamable", lambda *args, **kwargs: False)
    with table.begin() as connection:
        connection.execute(sa.text("DELETE FROM alembic_datasync_state"))
    run(table, tmp_path)
    assert small_chunks == ["items"]  # the second sync planned the file whole
    assert remembered() == in_chunks


def test_a_large_plan_keeps_its_first_changes_and_counts_them_all(
    table: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chunked, "KEPT_CHANGES", 4)
    (tmp_path / "items.csv").write_text(csv_text(range(1, 11)), encoding="utf-8")
    report = run(table, tmp_path)
    (only,) = report.datasets
    assert (only.create_count, len(only.creates), only.let_go) == (10, 4, (6, 0, 0))
    assert report.render().splitlines()[-1] == (
        "  ... and 6 more changed rows (a CSV dataset planned in chunks lists its first 10,000)"
    )
    with table.connect() as connection:
        (record,) = sync_history(connection)
        assert (record.change_count, record.datasets[0].created) == (10, 10)
        whole = sync_record(connection, record.id)
    assert whole is not None
    changes = whole.datasets[0].changes
    assert changes is not None
    assert [change.key for change in changes] == [(1,), (2,), (3,), (4,)]
    assert sync_lines(whole)[-1] == (
        "  ... and 6 more changed rows, not kept (a CSV dataset synced in chunks keeps its first "
        "4 changes of a sync)"
    )
    assert len(stored(table)) == 10


def test_what_a_chunk_cannot_see_is_planned_whole(engine: sa.Engine, tmp_path: Path) -> None:
    metadata.create_all(engine)
    with engine.connect() as connection:
        items_table = sa.Table("items", sa.MetaData(), autoload_with=connection)
        tree = sa.Table("tree", sa.MetaData(), autoload_with=connection)
        csv = ITEMS
        tree_csv = Dataset("tree.csv", table="tree", key="id")

        def takes(dataset: Dataset, table: sa.Table, *others: Dataset) -> bool:
            run = [(dataset, table), *((other, None) for other in others)]
            return chunked.streamable(connection, dataset, table, run, base_dir=tmp_path)

        assert takes(csv, items_table)
        assert not takes(Dataset("items.yaml", table="items", key="id"), items_table)
        assert not takes(tree_csv, tree)  # rows that refer to rows of their own table
        # Another dataset of the same table.
        assert not takes(csv, items_table, Dataset("more.yaml", table="items", key="id"))
        assert takes(csv, items_table, Dataset("other.yaml", table="tree", key="id"))


def test_an_audit_in_chunks_lists_the_rows_and_values_the_sync_leaves_alone(
    table: sa.Engine, tmp_path: Path, small_chunks: list[str], statements: StatementLog
) -> None:
    (tmp_path / "items.csv").write_text(csv_text(range(1, 11), note=False), encoding="utf-8")
    run(table, tmp_path)
    with table.begin() as connection:
        connection.execute(items.insert().values(id=100, name="the application's"))
        connection.execute(items.update().where(items.c.id == 7).values(note="by hand"))
        connection.execute(items.update().where(items.c.id == 2).values(price=3))
    statements.clear()
    report = run(table, tmp_path, dry_run=True, audit=True)
    assert small_chunks == ["items", "items"]
    assert statements.writes == []
    assert report.render().splitlines() == [
        "datasync: items (items.csv): 10 total, 0 to create, 1 to update, 9 unchanged",
        "  ~ 2",
        "      price: 3.00 -> 2.50",
        "  1 row in the table but not in the file, kept (the dataset does not prune; "
        "prune='all' would delete it):",
        "      100",
        "  1 value set in the table in columns the file does not write for that row, left as "
        "they are:",
        "      7: note = 'by hand'",
    ]


def loose_codes(engine: sa.Engine) -> None:
    """A table ``codes`` whose text key compares case-insensitively (`case_insensitive_key`)."""
    from test_keys_collation import case_insensitive_key

    with engine.begin() as connection:
        connection.exec_driver_sql(
            f"CREATE TABLE codes (code {case_insensitive_key(engine)} PRIMARY KEY, "
            "label VARCHAR(40) NOT NULL)"
        )


CODES = Dataset("codes.csv", table="codes", key="code")


def codes_csv(codes: list[str]) -> str:
    return "code,label\n" + "".join(f"{code},label of {code.lower()}\n" for code in codes)


def test_keys_a_collation_calls_equal_in_two_chunks_are_one_key_to_the_sync(
    engine: sa.Engine, tmp_path: Path, small_chunks: list[str]
) -> None:
    loose_codes(engine)
    codes = ["a1", "a2", "a3", "b1", "b2", "b3", "c1"]
    (tmp_path / "codes.csv").write_text(codes_csv(codes), encoding="utf-8")
    with engine.connect() as connection:
        sync(connection, [CODES], base_dir=tmp_path)
    assert small_chunks == ["codes"]
    # 'A2' in the third chunk is 'a2' of the first to the database: a problem, as planned whole.
    (tmp_path / "codes.csv").write_text(codes_csv([*codes, "A2"]), encoding="utf-8")
    assert refused(engine, tmp_path, CODES) == [
        "codes.csv:9:1: key 'A2' is the same key to the database as 'a2' at line 3 (the key "
        "column compares them as equal, e.g. ignoring case, accents or trailing spaces); remove "
        "one of the rows"
    ]
    # The file now spells b3 'B3' (one key to the database: the row stays) and drops c1.
    pruned = Dataset("codes.csv", table="codes", key="code", prune=True)
    (tmp_path / "codes.csv").write_text(
        codes_csv(["a1", "a2", "a3", "b1", "b2", "B3"]), encoding="utf-8"
    )
    with engine.connect() as connection:
        report = sync(connection, [pruned], base_dir=tmp_path)
    assert report.summary_lines() == [
        "datasync: codes (codes.csv): 6 total, 0 created, 0 updated, 6 unchanged, 1 deleted"
    ]
    with engine.connect() as connection:
        left = connection.exec_driver_sql("SELECT code FROM codes ORDER BY code").all()
    assert sorted(code.lower() for (code,) in left) == ["a1", "a2", "a3", "b1", "b2", "b3"]


def test_a_row_the_database_refuses_in_a_later_chunk_is_named_and_nothing_is_written(
    engine: sa.Engine, tmp_path: Path
) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE priced (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL, "
            "price NUMERIC(10, 2), CONSTRAINT price_not_negative CHECK (price >= 0))"
        )
    (tmp_path / "priced.csv").write_text(
        csv_text(range(1, 11), price={9: "-1.00"}, note=False), encoding="utf-8"
    )
    with pytest.raises(ApplyFailed) as raised, engine.connect() as connection:
        sync(connection, [Dataset("priced.csv", table="priced", key="id")], base_dir=tmp_path)
    message = str(raised.value)
    assert message.startswith(
        "priced.csv:10:1: the database refused to insert row '9' of 'priced': "
    ), message
    assert message.endswith("; nothing was written"), message
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM priced").scalar() == 0


def test_a_problem_of_the_header_is_named_once_not_once_a_chunk(
    table: sa.Engine, tmp_path: Path
) -> None:
    text = csv_text(range(1, 11)).replace("id,name,price,note", "id,name,price,colour")
    (tmp_path / "items.csv").write_text(text, encoding="utf-8")
    assert refused(table, tmp_path) == ["items.csv:1:15: unknown column 'colour' for table 'items'"]


def test_a_missing_file_is_the_warning_it_is_when_planned_whole(
    table: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_chunks: list[str]
) -> None:
    in_chunks = run(table, tmp_path)
    assert small_chunks == ["items"]
    monkeypatch.setattr(chunked, "streamable", lambda *args, **kwargs: False)
    whole = run(table, tmp_path)
    assert (
        in_chunks.render()
        == whole.render()
        == (
            "datasync: warning: items.csv: dataset file for 'items' not found; create it, or fix the "
            "path in the Dataset(...) declaration; table 'items' left unchanged"
        )
    )
    assert refused(table, tmp_path, strict=True) == [
        "items.csv: dataset file for 'items' not found; create it, or fix the path in the "
        "Dataset(...) declaration"
    ]


def test_references_by_natural_key_to_a_table_no_dataset_fills_are_resolved_a_chunk_at_a_time(
    engine: sa.Engine, tmp_path: Path, small_chunks: list[str]
) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE providers (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL, "
            "CONSTRAINT providers_name UNIQUE (name))"
        )
        connection.exec_driver_sql(
            "INSERT INTO providers (id, name) VALUES (1, 'openai'), (2, 'anthropic')"
        )
        connection.exec_driver_sql(
            "CREATE TABLE models (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL, "
            "provider_id INTEGER REFERENCES providers (id))"
        )
    models = Dataset(
        "models.csv", table="models", key="id", references={"provider_id": ("providers", "name")}
    )
    names = ["openai", "anthropic"] * 4
    lines = [f"{number},model {number},{name}" for number, name in enumerate(names, 1)]
    (tmp_path / "models.csv").write_text("id,name,provider_id\n" + "\n".join(lines) + "\n")
    with engine.connect() as connection:
        report = sync(connection, [models], base_dir=tmp_path)
    assert small_chunks == ["models"]
    assert report.summary_lines()[0].endswith("8 total, 8 created, 0 updated, 0 unchanged")
    with engine.connect() as connection:
        stored_ids = connection.exec_driver_sql(
            "SELECT id, provider_id FROM models ORDER BY id"
        ).all()
    assert [provider for _, provider in stored_ids] == [1, 2] * 4
    lines[6] = "7,model 7,opnai"
    (tmp_path / "models.csv").write_text("id,name,provider_id\n" + "\n".join(lines) + "\n")
    assert refused(engine, tmp_path, models) == [
        "models.csv:8:11: provider_id: no row of 'providers' has name 'opnai' (did you mean "
        "'openai'?); add the row to 'providers' (or its dataset file), or fix the name"
    ]


def test_pruning_deletes_only_rows_whose_key_the_state_holds_not_a_hash_alike(
    table: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    owned = Dataset("items.csv", table="items", key="id", prune=True)
    (tmp_path / "items.csv").write_text(csv_text(range(1, 8)), encoding="utf-8")
    run(table, tmp_path, owned)
    with table.begin() as connection:
        connection.execute(items.insert().values(id=100, name="the application's"))
    # As if the hash of every key were one the state holds (64-bit hashes of two keys alike).
    monkeypatch.setattr(chunked._Remembered, "owns", lambda self, hashed: True)
    (tmp_path / "items.csv").write_text(csv_text(range(1, 7)), encoding="utf-8")
    report = run(table, tmp_path, owned)
    assert report.summary_lines()[0].endswith("6 unchanged, 1 deleted")
    assert sorted(stored(table)) == [1, 2, 3, 4, 5, 6, 100]


# -- the same outcome as planned whole ----------------------------------------------------
#
# ``mode`` "whole" switches `chunked` off (`chunked.streamable` says no): each case below runs
# both ways, the chunked path against the whole-file plan (hash collisions of integer keys, a
# unique column a row hands to another, a key PostgreSQL compares itself, a table read again
# around an unreadable value, a key respelled under a loose collation, a duplicate of a row
# with a bad value).


@pytest.fixture(params=["chunks", "whole"])
def mode(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, small_chunks: list[str]
) -> str:
    if request.param == "whole":
        monkeypatch.setattr(chunked, "streamable", lambda *args, **kwargs: False)
    return str(request.param)


def write(base: Path, ids: list[int]) -> None:
    lines = ["id,name"] + [f"{number},item {number}" for number in ids]
    (base / "items.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def rows_of(engine: sa.Engine, sql: str) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.exec_driver_sql(sql)]


def test_pruning_never_deletes_a_row_whose_key_hashes_like_one_the_file_wrote(
    table: sa.Engine, tmp_path: Path, mode: str
) -> None:
    # hash(-1) == hash(-2) in CPython.
    owned = Dataset("items.csv", table="items", key="id", prune=True)
    write(tmp_path, [-1, 5])
    run(table, tmp_path, owned)
    with table.begin() as connection:  # the application's own row
        connection.execute(items.insert().values(id=-2, name="the application's"))
    write(tmp_path, [5])  # the file drops -1
    run(table, tmp_path, owned)
    assert sorted(stored(table)) == [-2, 5]


def test_prune_all_deletes_a_row_whose_key_hashes_like_one_the_file_lists(
    table: sa.Engine, tmp_path: Path, mode: str
) -> None:
    everything = Dataset("items.csv", table="items", key="id", prune="all")
    with table.begin() as connection:
        connection.execute(items.insert().values(id=-2, name="stale"))
    write(tmp_path, [-1, 5])
    run(table, tmp_path, everything)
    assert sorted(stored(table)) == [-1, 5]


def test_a_unique_value_that_moves_to_a_renumbered_row(
    engine: sa.Engine, tmp_path: Path, mode: str, small_chunks: list[str]
) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE units (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL, "
            "CONSTRAINT units_name UNIQUE (name))"
        )
    units = Dataset("units.csv", table="units", key="id", prune=True)
    (tmp_path / "units.csv").write_text("id,name\n1,kg\n", encoding="utf-8")
    with engine.connect() as connection:
        sync(connection, [units], base_dir=tmp_path)
    # Renumbered: deleting 1 first frees 'kg' for 2, as the whole plan orders it.
    (tmp_path / "units.csv").write_text("id,name\n2,kg\n", encoding="utf-8")
    with engine.connect() as connection:
        sync(connection, [units], base_dir=tmp_path)
    assert rows_of(engine, "SELECT id, name FROM units") == [(2, "kg")]
    assert small_chunks == []  # a unique column the file writes: planned whole


def test_a_key_postgresql_compares_itself_is_never_pruned_as_unlisted(
    tmp_path: Path, mode: str
) -> None:
    # INET has no Python rule: the database compares the file's values.
    with isolated_database("postgresql", tmp_path) as url:
        engine = sa.create_engine(url)
        try:
            with engine.begin() as connection:
                connection.exec_driver_sql("CREATE TABLE nets (net INET PRIMARY KEY, note TEXT)")
            nets = Dataset("nets.csv", table="nets", key="net", prune="all")
            (tmp_path / "nets.csv").write_text("net,note\n10.0.0.1,a\n10.0.0.2,b\n")
            with engine.connect() as connection:
                report = sync(connection, [nets], base_dir=tmp_path)
            assert report.summary_lines()[0].endswith(
                "2 created, 0 updated, 0 unchanged, 0 deleted"
            )
            assert rows_of(engine, "SELECT count(*) FROM nets") == [(2,)]
        finally:
            engine.dispose()


def test_an_audit_lists_a_row_once_when_the_table_is_read_again_around_a_bad_value(
    tmp_path: Path, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A DATE SQLite's driver cannot read, after more than a batch of the read.
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'unreadable.db'}")
    monkeypatch.setattr(chunked, "CHUNK_ROWS", 1000)
    names = [f"a{number:04}" for number in range(4200)]
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (name VARCHAR(20) PRIMARY KEY, v DATE)")
        connection.exec_driver_sql("INSERT INTO t VALUES ('zzz', '2024-05-01')")
        connection.exec_driver_sql(
            "INSERT INTO t VALUES " + ",".join(f"('{n}', '2024-05-01')" for n in names[:-1])
        )
        connection.exec_driver_sql(f"INSERT INTO t VALUES ('{names[-1]}', 'yesterday')")
    (tmp_path / "t.csv").write_text(
        "name,v\n" + "".join(f"{name},2024-05-01\n" for name in names), encoding="utf-8"
    )
    with engine.connect() as connection:
        report = sync(
            connection,
            [Dataset("t.csv", table="t", key="name")],
            base_dir=tmp_path,
            dry_run=True,
            audit=True,
        )
    engine.dispose()
    (plan,) = report.datasets
    assert plan.unlisted == [("zzz",)]


def test_a_key_respelled_under_a_loose_collation_still_reverts_what_the_file_dropped(
    engine: sa.Engine, tmp_path: Path, mode: str, small_chunks: list[str]
) -> None:
    from test_keys_collation import case_insensitive_key

    with engine.begin() as connection:
        connection.exec_driver_sql(
            f"CREATE TABLE codes (code {case_insensitive_key(engine)} PRIMARY KEY, "
            "label VARCHAR(40), note VARCHAR(40))"
        )
    codes = Dataset("codes.csv", table="codes", key="code")
    (tmp_path / "codes.csv").write_text("code,label,note\na1,x,n\nb3,x,n\n", encoding="utf-8")
    with engine.connect() as connection:
        sync(connection, [codes], base_dir=tmp_path)
    (tmp_path / "codes.csv").write_text("code,label\na1,x\nB3,x\n", encoding="utf-8")
    with engine.connect() as connection:
        report = sync(connection, [codes], base_dir=tmp_path)
    assert report.summary_lines()[0].endswith("0 created, 2 updated, 0 unchanged")
    assert rows_of(engine, "SELECT note FROM codes") == [(None,), (None,)]
    assert small_chunks == ([] if mode == "whole" else ["codes", "codes"])


def test_a_key_listed_again_after_a_row_with_a_bad_value_is_a_duplicate_too(
    table: sa.Engine, tmp_path: Path, mode: str
) -> None:
    lines = ["id,name,price", "2,item 2,cheap"] + [f"{n},item {n},1.00" for n in range(3, 8)]
    lines.append("2,item 2 again,1.00")
    (tmp_path / "items.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert refused(table, tmp_path) == [
        "items.csv:2:10: price expects a number of at most 8 digits before the decimal point "
        "and 2 after it, got 'cheap'",
        "items.csv:8:1: duplicate key '2': first at line 2, again at line 8; remove one",
    ]


def test_a_floating_point_key_matches_its_rows_again(
    engine: sa.Engine, tmp_path: Path, mode: str, small_chunks: list[str]
) -> None:
    # PostgreSQL's REAL 0.1 is not the double 0.1 a read by key sends.
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE fk (k REAL PRIMARY KEY, v VARCHAR(10))")
    (tmp_path / "fk.csv").write_text("k,v\n0.1,a\n0.2,b\n0.3,c\n0.4,d\n", encoding="utf-8")
    floats = Dataset("fk.csv", table="fk", key="k")
    with engine.connect() as connection:
        sync(connection, [floats], base_dir=tmp_path)
    with engine.connect() as connection:
        again = sync(connection, [floats], base_dir=tmp_path)
    assert again.summary_lines() == [
        "datasync: fk (fk.csv): 4 total, 0 created, 0 updated, 4 unchanged"
    ]
    assert again.warnings == []
    assert rows_of(engine, "SELECT count(*) FROM fk") == [(4,)]
