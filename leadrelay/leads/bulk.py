"""The lead core's bulk writer: many rows of one model in a few statements.

For imports (``create_leads_bulk``). The ORM's ``bulk_create`` spends ~200 µs a lead
building multi-row INSERTs and adapting values field by field; this writes the same rows
with one ``executemany`` on SQLite and one ``COPY`` on PostgreSQL, after taking the ids
itself:

- SQLite: the next ids after the table's AUTOINCREMENT high-water mark
  (``sqlite_sequence``, the counterpart of PostgreSQL's sequence: what the ORM's INSERT
  would hand out next), read inside the write transaction. The settings'
  ``transaction_mode = IMMEDIATE`` takes the database write lock at BEGIN, so no other
  writer can take an id before this transaction commits. (In a DEFERRED transaction a
  concurrent writer would make the insert fail with "database is locked" rather than
  reuse an id.)
- PostgreSQL: ``nextval`` of the table's sequence, once per row, as the ORM's INSERT does:
  no lock, concurrent writers get disjoint ids and the sequence is already past them.

Rows are in column order (``Table.attnames``: the model's concrete fields, foreign keys
as their ``*_id``), Python values as a model instance holds them. Each value goes through
its field's ``get_db_prep_save``, as in ``save()``, so dates and JSON are stored as the ORM
stores them; an object repeated down a column (a status, a source's id, NULL) is adapted
once.

Only the rows are written: no ``save()``, no signals, no validation. Callers are domain
functions that know their model needs none of that (``bulk_create`` skips it too).
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, NotSupportedError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model
from django.db.transaction import TransactionManagementError
from psycopg.adapt import PyFormat
from psycopg.types.json import Jsonb

M = TypeVar("M", bound=Model)

_NO_DEFAULT = object()  # a NOT NULL column the caller must fill
_MISS = object()


class Table(Generic[M]):
    """A model's table for bulk inserts: its columns in order, their defaults, the SQL."""

    def __init__(self, model: type[M], using: str = DEFAULT_DB_ALIAS) -> None:
        meta = model._meta
        self.model = model
        self.using = using
        self.fields: tuple[Field[Any, Any], ...] = tuple(meta.concrete_fields)
        self.attnames = tuple(f.attname for f in self.fields)
        self.columns = tuple(_column(f) for f in self.fields)
        self.position = {name: i for i, name in enumerate(self.attnames)}
        pk = meta.pk
        if pk is None or pk.attname not in self.position:  # pragma: no cover - a Django model
            raise TypeError(f"{meta.label} has no primary key column")
        self.pk_attname = pk.attname
        # The row ``row()`` starts from: each column's default, computed once; the
        # columns whose default is a callable (dict, list…) get a fresh one per row.
        self._template: list[Any] = []
        self._fresh: list[tuple[int, Callable[[], Any]]] = []
        for i, f in enumerate(self.fields):
            if f.has_default() and callable(f.default):
                self._template.append(None)
                self._fresh.append((i, f.get_default))
                continue
            value = f.get_default()
            if value is None and not f.null and f is not pk:
                value = _NO_DEFAULT
            self._template.append(value)
        self._required = frozenset(
            name for name, value in zip(self.attnames, self._template, strict=True)
            if value is _NO_DEFAULT
        )  # fmt: skip

    @property
    def connection(self) -> BaseDatabaseWrapper:
        return connections[self.using]

    def row(self, values: Mapping[str, Any]) -> list[Any]:
        """One row in column order: ``values`` by attname, the defaults for the rest."""
        missing = self._required - values.keys()
        if missing:
            raise ValueError(f"{self.model._meta.label}: no value for {sorted(missing)}")
        row = self._template.copy()
        for i, default in self._fresh:
            row[i] = default()
        position = self.position
        try:
            for name, value in values.items():
                row[position[name]] = value
        except KeyError as exc:
            raise ValueError(f"{self.model._meta.label} has no column {exc.args[0]!r}") from None
        return row

    def new_ids(self, count: int) -> list[int]:
        """``count`` unused primary keys, ascending, for rows this transaction inserts."""
        connection = self.connection
        if not connection.in_atomic_block:
            raise TransactionManagementError("new_ids() must run inside transaction.atomic")
        if count <= 0:
            return []
        q = connection.ops.quote_name
        table = self.model._meta.db_table
        pk_column = self.columns[self.position[self.pk_attname]]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # The scalar subquery runs once; nextval once per row.
                cursor.execute(
                    "SELECT nextval((SELECT pg_get_serial_sequence(%s, %s))::regclass) "
                    "FROM generate_series(1, %s)",
                    [q(table), pk_column, count],
                )
                return sorted(int(r[0]) for r in cursor.fetchall())
            if connection.vendor == "sqlite":
                # Django's SQLite tables are AUTOINCREMENT: sqlite_sequence holds the
                # largest id the table ever had (SQLite keeps it current on every insert,
                # explicit ids included), the counterpart of PostgreSQL's sequence. No
                # row: the table never had one.
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                found = cursor.fetchone()
                top = 0 if found is None else int(found[0])
                return list(range(top + 1, top + 1 + count))
        raise NotSupportedError(f"bulk writes are not implemented for {connection.vendor}")

    def insert(self, rows: Sequence[Sequence[Any]]) -> None:
        """Write ``rows`` (each with its id) in the current transaction."""
        insert((self, rows))

    def _write(self, rows: Sequence[Sequence[Any]], shared: _Shared) -> None:
        if not rows:
            return
        connection = self.connection
        q = connection.ops.quote_name
        columns = ", ".join(q(c) for c in self.columns)
        table = q(self.model._meta.db_table)
        prepared = self._prepared(rows, connection, shared)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in prepared:
                        copy.write_row(row)
            elif connection.vendor == "sqlite":
                marks = ", ".join(["%s"] * len(self.fields))
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", prepared)
            else:
                raise NotSupportedError(f"bulk writes are not implemented for {connection.vendor}")

    def instances(self, rows: Iterable[Sequence[Any]]) -> list[M]:
        """Model instances of written rows, as if loaded from the database."""
        from_db, using, attnames = self.model.from_db, self.using, self.attnames
        return [from_db(using, attnames, row) for row in rows]

    def _prepared(
        self, rows: Sequence[Sequence[Any]], connection: BaseDatabaseWrapper, shared: _Shared
    ) -> list[tuple[Any, ...]]:
        """The rows with each value adapted for the database, worked out column by column."""
        try:
            columns = list(zip(*rows, strict=True))
        except ValueError:
            columns = []  # rows of different lengths
        if len(columns) != len(self.fields):
            widths = sorted({len(row) for row in rows})
            raise ValueError(
                f"{self.model._meta.label}: rows of {widths} values for {len(self.fields)} columns"
            )
        adapted = [
            _adapted(_preparer(field, connection), values, shared.setdefault(_kind(field), {}))
            for field, values in zip(self.fields, columns, strict=True)
        ]
        return list(zip(*adapted, strict=True))


def related_id(obj: Model | None, field: str) -> Any:
    """The id a row stores for a related object; an unsaved one is refused, as ``save()``
    refuses it, rather than written as NULL."""
    if obj is None:
        return None
    if obj.pk is None:
        raise ValueError(f"{field}: an unsaved {type(obj).__name__} cannot be referred to")
    return obj.pk


# Adapted values by field kind (``_kind``), then by object (``_adapted``).
_Shared = dict[Hashable, dict[Hashable, Any]]


def insert(*writes: tuple[Table[Any], Sequence[Sequence[Any]]]) -> None:
    """Write each table's rows in turn (parents first), in the current transaction.

    Columns of one kind share what their values were adapted to: a lead's ``received_at``,
    its ``status_changed_at`` and its event's ``at`` hold the same datetime, converted
    once. (The rows stay alive until this returns, so an object's id means that object.)
    """
    shared: _Shared = {}
    for table, rows in writes:
        table._write(rows, shared)


# Field options that do not change what ``get_db_prep_save`` makes of a value.
_LABELS = frozenset(
    {
        "auto_created", "blank", "choices", "db_column", "db_comment", "db_default",
        "db_index", "db_tablespace", "default", "editable", "error_messages", "help_text",
        "limit_choices_to", "null", "on_delete", "primary_key", "related_name",
        "related_query_name", "serialize", "unique", "unique_for_date", "unique_for_month",
        "unique_for_year", "validators", "verbose_name",
    }
)  # fmt: skip


def _kind(field: Field[Any, Any]) -> Hashable:
    """Fields that adapt a value alike: the same class with the same options, labels aside."""
    _, _, args, kwargs = field.deconstruct()
    options = sorted((k, repr(v)) for k, v in kwargs.items() if k not in _LABELS)
    return (type(field), tuple(map(repr, args)), tuple(options))


def _column(field: Field[Any, Any]) -> str:
    if not field.column:  # pragma: no cover - concrete fields have columns
        raise TypeError(f"{field} has no column")
    return field.column


def _preparer(field: Field[Any, Any], connection: BaseDatabaseWrapper) -> Callable[[Any], Any]:
    """``field.get_db_prep_save`` on this connection. On PostgreSQL a JSON value then
    becomes its text, as psycopg's dumper writes it: COPY reads the same characters, and
    the dumper runs once per distinct value instead of once per row."""
    prep = field.get_db_prep_save
    if connection.vendor != "postgresql":
        return lambda value: prep(value, connection)
    raw = connection.connection
    json_dumper = raw.adapters.get_dumper(Jsonb, PyFormat.TEXT)(Jsonb, raw)

    def prep_for_copy(value: Any) -> Any:
        adapted = prep(value, connection)
        if isinstance(adapted, Jsonb):
            return bytes(json_dumper.dump(adapted)).decode()
        return adapted

    return prep_for_copy


def _adapted(
    prep: Callable[[Any], Any], values: Sequence[Any], seen: dict[Hashable, Any]
) -> Sequence[Any]:
    """``prep`` of each value of one column, each object once (``seen``: what values of
    this column's kind were adapted to, in this insert).

    Most columns of a bulk insert hold one object all the way down (a status, a source's
    id, NULL): that is adapted once. Otherwise each object is adapted once, and so is each
    distinct str or int, and each empty dict or list (JSON columns). Equal is not enough
    in general: 01:30 on the night the clocks go back equals itself an hour later (the
    same wall time, the other fold), and ``0.0 == -0.0``.
    """
    first = values[0]
    if all(map(operator.is_, values, itertools.repeat(first))):
        return [prep(first)] * len(values)
    adapted = []
    for value in values:
        cls = value.__class__
        key: Hashable
        if cls is str or cls is int:
            key = (cls, value)
        elif (cls is dict or cls is list) and not value:
            key = cls
        else:
            key = id(value)
        found = seen.get(key, _MISS)
        if found is _MISS:
            found = seen[key] = prep(value)
        adapted.append(found)
    return adapted
