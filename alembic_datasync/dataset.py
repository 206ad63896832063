"""`Dataset`: one YAML file bound to one table and its key column(s)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Table

from .model import model_table, natural_key

#: What ``prune`` accepts: False, True (the same as "owned"), "owned" or "all".
Prune = bool | Literal["owned", "all"]


@dataclass(frozen=True, slots=True)
class Reference:
    """A column whose file values name a row of another table by its natural key.

    ``Dataset(..., references={"provider_id": ("llm_provider", "name")})``:
    the file writes ``provider_id: openai``; the table stores the id of the
    ``llm_provider`` row whose ``name`` is ``openai``.
    """

    column: str
    table: str
    schema: str | None
    natural_key: str

    @property
    def table_label(self) -> str:
        return f"{self.schema}.{self.table}" if self.schema else self.table


#: What ``references`` maps each column to: (table, natural key column); the
#: table by name, or the project's model of it (a model class or a `Table`).
ReferenceTarget = tuple[str | Table | type[Any], str]


@dataclass(frozen=True, init=False)
class Dataset:
    """Declares that the rows of ``path`` belong in ``table``, matched on ``key``.

    ``table`` is the table's name, or the project's model of it: a declarative
    model class, an SQLModel class (``table=True``) or a `Table`.  With a
    model, the dataset's ``table`` holds the table's name and ``model`` the
    `Table`; its column defaults then fill what new rows leave out even where
    no ``target_metadata`` is given, and ``key`` may be left out when the
    model has exactly one single-column unique key other than a generated
    primary key (``node_name: str = Field(unique=True)``).

    ``path`` is relative to the folder of the Alembic config file when synced by
    Alembic, and to the ``base_dir`` given to the Python API otherwise (the
    current directory by default).  ``key`` names the column, or columns, that
    identify a row: one name, or a sequence of names for a composite key.

    ``prune=True`` (or ``"owned"``) deletes rows that the file wrote at an
    earlier sync and no longer lists; rows it never wrote (those the
    application inserted) are never deleted.  ``prune="all"`` deletes every
    row of the table the file does not list, for a table the file alone
    fills.  A file with no rows at all never prunes unless
    ``allow_empty=True`` says that an empty table is what you mean.

    ``secret`` names columns whose values never appear in plans, logs or error
    messages: a plan shows only that such a column is written or changed.  Key
    columns cannot be secret (the key names the row in every message).

    ``references`` maps a column to the table it refers to and that table's
    natural key, ``{"provider_id": ("llm_provider", "name")}``: the file
    writes the natural key (``provider_id: openai``), the sync writes the id
    of that row, and plans, ``--check`` and the history show the natural key.
    The row may come from another dataset of the same sync or already be in
    the table; a name neither has is a problem at its line.

    Who owns what: ``insert_only=True`` creates the rows the table lacks and
    never updates a row that exists (the application owns it once created).
    ``create_only`` names columns the file fills when it creates a row and
    never updates afterwards (an admin page tunes them): ``--check`` shows
    them as owned by the application, not compared, and a line removed from
    the file does not revert them.
    """

    path: str | os.PathLike[str]
    table: str
    key: str | Sequence[str] | None
    schema: str | None
    prune: Prune
    allow_empty: bool
    name: str | None
    secret: Sequence[str]
    model: Table | None = field(default=None, repr=False)
    references: Mapping[str, ReferenceTarget] | Sequence[Reference] = ()
    insert_only: bool = False
    create_only: Sequence[str] = ()
    key_columns: tuple[str, ...] = field(init=False)
    secret_columns: frozenset[str] = field(init=False)
    #: ``references``, one `Reference` per column, in declaration order.
    reference_list: tuple[Reference, ...] = field(init=False)
    create_only_columns: frozenset[str] = field(init=False)

    def __init__(
        self,
        path: str | os.PathLike[str],
        table: str | Table | type[Any],
        key: str | Sequence[str] | None = None,
        schema: str | None = None,
        prune: Prune = False,
        allow_empty: bool = False,
        name: str | None = None,
        secret: Sequence[str] = (),
        *,
        model: Table | type[Any] | None = None,
        references: Mapping[str, ReferenceTarget] | Sequence[Reference] = (),
        insert_only: bool = False,
        create_only: Sequence[str] = (),
    ) -> None:
        if not isinstance(table, str):
            if model is not None and model_table(model) is not model_table(table):
                raise ValueError(f"Dataset({path!r}): table= and model= name different models")
            model = table
        found = model_table(model) if model is not None else None
        if found is not None:
            if isinstance(table, str) and table != found.name:
                raise ValueError(
                    f"Dataset({path!r}): table={table!r} is not the model's table {found.name!r}"
                )
            table = found.name
            schema = schema if schema is not None else found.schema
        assert isinstance(table, str)
        values: dict[str, Any] = {
            "path": path,
            "table": table,
            "key": key,
            "schema": schema,
            "prune": prune,
            "allow_empty": allow_empty,
            "name": name,
            "secret": secret,
            "model": found,
            "references": references,
            "insert_only": insert_only,
            "create_only": create_only,
        }
        for attribute, value in values.items():
            object.__setattr__(self, attribute, value)
        self.__post_init__()

    def __post_init__(self) -> None:
        if self.key is None:
            keys: tuple[str, ...] = (natural_key(self.model, self.table),)
        else:
            keys = (self.key,) if isinstance(self.key, str) else tuple(self.key)
        if not keys or not all(isinstance(k, str) and k for k in keys):
            raise ValueError(f"Dataset for table {self.table!r}: key must name at least one column")
        if len(set(keys)) != len(keys):
            raise ValueError(f"Dataset for table {self.table!r}: key names a column twice")
        object.__setattr__(self, "key_columns", keys)
        if self.prune not in (False, True, "owned", "all"):
            raise ValueError(
                f"Dataset for table {self.table!r}: prune must be False, True (or 'owned': "
                f"delete the rows the file wrote and no longer lists) or 'all' (delete every "
                f"row the file does not list), not {self.prune!r}"
            )
        secret = frozenset((self.secret,) if isinstance(self.secret, str) else self.secret)
        if secret & set(keys):
            raise ValueError(
                f"Dataset for table {self.table!r}: key column(s) "
                f"{', '.join(sorted(secret & set(keys)))} cannot be secret"
            )
        object.__setattr__(self, "secret_columns", secret)
        object.__setattr__(self, "reference_list", _references(self.table, self.references))
        for reference in self.reference_list:
            if reference.column in keys:
                raise ValueError(
                    f"Dataset for table {self.table!r}: key column {reference.column!r} cannot "
                    f"be a reference (references by natural key are for non-key columns)"
                )
        if not isinstance(self.insert_only, bool):
            raise ValueError(
                f"Dataset for table {self.table!r}: insert_only must be True or False, not "
                f"{self.insert_only!r}"
            )
        create_only = (
            (self.create_only,) if isinstance(self.create_only, str) else tuple(self.create_only)
        )
        if not all(isinstance(c, str) and c for c in create_only):
            raise ValueError(
                f"Dataset for table {self.table!r}: create_only must name columns, not "
                f"{self.create_only!r}"
            )
        if set(create_only) & set(keys):
            raise ValueError(
                f"Dataset for table {self.table!r}: key column(s) "
                f"{', '.join(sorted(set(create_only) & set(keys)))} cannot be create_only "
                f"(a key is never updated anyway)"
            )
        object.__setattr__(self, "create_only_columns", frozenset(create_only))

    @property
    def label(self) -> str:
        """The name used in output: ``name`` if given, else the table's (schema-qualified) name."""
        if self.name:
            return self.name
        return f"{self.schema}.{self.table}" if self.schema else self.table

    @property
    def display_path(self) -> str:
        """The path as the user wrote it, with forward slashes."""
        return Path(self.path).as_posix()

    def resolve(self, base_dir: str | os.PathLike[str] | None) -> Path:
        """The file's absolute location, relative paths taken from ``base_dir`` (default: cwd)."""
        path = Path(self.path).expanduser()
        if path.is_absolute():
            return path
        return Path(base_dir if base_dir is not None else os.getcwd()) / path


def table_of(dataset: Dataset) -> tuple[str | None, str]:
    """Where ``dataset`` writes: (schema, table), as datasets of one table are grouped."""
    return (dataset.schema, dataset.table)


def _references(
    table: str, declared: Mapping[str, ReferenceTarget] | Sequence[Reference]
) -> tuple[Reference, ...]:
    """``references`` as `Reference` objects; `ValueError` for a form it cannot be."""
    if not isinstance(declared, Mapping):
        if all(isinstance(item, Reference) for item in declared):
            return tuple(declared)  # a dataset copied with dataclasses.replace
        raise ValueError(
            f"Dataset for table {table!r}: references must map each column to (table, natural "
            f"key column), e.g. references={{'provider_id': ('llm_provider', 'name')}}"
        )
    found: list[Reference] = []
    for column, target in declared.items():
        shape = (
            f"Dataset for table {table!r}: references[{column!r}] must be (table, natural key "
            f"column), e.g. ('llm_provider', 'name'), not {target!r}"
        )
        if not isinstance(column, str) or not column:
            raise ValueError(
                f"Dataset for table {table!r}: references must be keyed by column names, not "
                f"{column!r} (composite references are not supported yet)"
            )
        if not isinstance(target, tuple | list) or len(target) != 2:
            raise ValueError(shape)
        referred, natural = target
        if not isinstance(natural, str) or not natural:
            raise ValueError(
                f"{shape} (composite natural keys are not supported yet)"
                if isinstance(natural, tuple | list)
                else shape
            )
        schema: str | None = None
        if isinstance(referred, str):
            name = referred
            if not name:
                raise ValueError(shape)
        else:
            try:
                referred_table = model_table(referred)
            except (TypeError, ValueError):
                raise ValueError(shape) from None
            name, schema = referred_table.name, referred_table.schema
        found.append(Reference(column, name, schema, natural))
    return tuple(found)
