"""The few reads every page makes, compiled once per database and run on the driver's cursor.

SQLAlchemy's execute() costs several times the SQL itself for the small indexed
reads a page makes (an execution context, Row objects, event dispatch): a third
of a list page. A Prepared statement is built and compiled once, then each call
converts the bound values and the result columns with the same type processors
SQLAlchemy uses, so the values are the same as from connection().execute().
Listeners of before/after_cursor_execute still see every statement, errors come
as SQLAlchemy's exceptions (what outages.is_outage() reads). Inside a
transaction the statement runs in it like any other; outside one it runs on
its own, with its own snapshot, on both databases (see _execute).

Whole numbers fixed when a statement is built (`.limit(1)`), and the values of
the parameters a statement names as `inline` (LIMIT and OFFSET), are written
into the SQL rather than bound. PostgreSQL cannot estimate a generic plan for
`LIMIT $1` (it assumes a tenth of the table), so it planned such statements
anew on every run: twice the cost of running them. With the numbers in the
text, each kind of page gets one plan, made once per connection.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.sql.visitors import replacement_traverse

from flaskr.contexts import this_app
from flaskr.db import connection, postgresql, sqlite

#: A row of a Prepared statement: {column key: value}, like a RowMapping.
Row = Mapping[Any, Any]
Processor = Callable[[Any], Any]


@dataclass
class _Plan:
    """A statement compiled for one database."""

    sql: str
    #: Parameter names in placeholder order (qmark style), or None for named (pyformat).
    order: list[str] | None
    #: Values fixed when the statement was built (e.g. 'published').
    constants: dict[str, Any]
    #: Bind processors by parameter name (e.g. datetime -> text on SQLite).
    binds: dict[str, Processor]
    #: Placeholder names where the dialect escaped a parameter name.
    escaped: dict[str, str]
    keys: list[str]
    #: (column index, result processor) for the columns that need converting.
    results: list[tuple[int, Processor]]
    #: Parameters whose values are written into `sql`, not bound.
    inlined: tuple[str, ...] = ()


#: At most this many texts of one statement, one per combination of inline values;
#: past it, other combinations are bound as parameters (one more text).
MAX_TEXTS = 8


class Prepared:
    """A SELECT built once; rows() gives its rows as dicts of column key -> value.

    `inline`: parameters whose whole-number values are written into the SQL (one
    text per combination of values, at most MAX_TEXTS), for values that take few
    forms and decide the plan, such as a page's LIMIT and OFFSET.
    """

    def __init__(self, statement: sa.Select[Any], inline: tuple[str, ...] = ()) -> None:
        self.statement = statement
        self.inline = inline
        self._plans: dict[tuple[str, tuple[int, ...]], _Plan] = {}

    def _plan(self, dialect: sa.Dialect, written: tuple[int, ...]) -> _Plan:
        key = (dialect.name, written)
        plan = self._plans.get(key)
        if plan is None:
            if written and len(self._plans) >= MAX_TEXTS:
                return self._plan(dialect, ())
            literals = dict(zip(self.inline, written, strict=True)) if written else {}
            plan = self._plans[key] = _compile(self.statement, dialect, literals)
        return plan

    def _written(self, params: Mapping[str, Any] | None) -> tuple[int, ...]:
        """The inline parameters' values, or () when any is missing or not a whole number."""
        if not self.inline or not params:
            return ()
        found = tuple(params.get(name) for name in self.inline)
        if all(type(value) is int for value in found):
            return cast(tuple[int, ...], found)
        return ()

    def rows(self, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Every row, as {column key: value}."""
        conn = connection()
        written = self._written(params)
        plan = self._plan(conn.dialect, written)
        values = dict(plan.constants)
        if params:
            values.update(params)
        for name in plan.inlined:
            del values[name]  # in the SQL text
        for name, process in plan.binds.items():
            values[name] = process(values[name])
        if plan.order is not None:
            arguments: Any = tuple(values[name] for name in plan.order)
        else:
            arguments = {plan.escaped.get(name, name): value for name, value in values.items()}
        raw = _execute(conn, plan.sql, arguments)
        keys, results = plan.keys, plan.results
        if not results:
            return [dict(zip(keys, row, strict=True)) for row in raw]
        out: list[Row] = []
        for row in raw:
            converted = list(row)
            for index, process in results:
                converted[index] = process(converted[index])
            out.append(dict(zip(keys, converted, strict=True)))
        return out

    def first(self, params: Mapping[str, Any] | None = None) -> Row | None:
        """The first row, or None."""
        rows = self.rows(params)
        return rows[0] if rows else None

    def scalar(self, params: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row, or None."""
        row = self.first(params)
        return None if row is None else next(iter(row.values()))


def _with_numbers(statement: sa.Select[Any], literals: Mapping[str, int]) -> sa.Select[Any]:
    """The statement with `literals` and its own whole-number constants written as numbers."""

    def number(element: Any, **_: Any) -> Any:
        if not isinstance(element, sa.BindParameter):
            return None
        if element.key in literals:
            value = literals[element.key]
        elif element.unique and type(element.value) is int:
            value = element.value  # fixed when built (.limit(1), a literal 0)
        else:
            return None
        return sa.literal_column(str(int(value)), type_=sa.Integer())

    copy = replacement_traverse(cast(Any, statement), {}, number)
    return cast(sa.Select[Any], copy)


def _compile(statement: sa.Select[Any], dialect: sa.Dialect, literals: Mapping[str, int]) -> _Plan:
    compiled = _with_numbers(statement, literals).compile(dialect=dialect)
    if compiled.literal_execute_params or compiled.post_compile_params:
        # Those are rendered into the SQL at each execution: not for a plan made once.
        raise ValueError("Prepared statements take no literal-execute or expanding parameters")
    constants = {
        name: value
        for name, value in compiled.construct_params(_check=False).items()
        if value is not None
    }
    binds: dict[str, Processor] = {}
    # By the name the SQL uses: an anonymous parameter's (a literal in the
    # statement) is resolved only when compiled.
    for bind, name in compiled.bind_names.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            binds[name] = process
    columns = list(statement.selected_columns)
    results: list[tuple[int, Processor]] = []
    for index, column in enumerate(columns):
        process = column.type.dialect_impl(dialect).result_processor(dialect, None)
        if process is not None:
            results.append((index, process))
    return _Plan(
        sql=compiled.string,
        order=list(compiled.positiontup) if compiled.positiontup is not None else None,
        constants=constants,
        binds=binds,
        escaped=dict(compiled.escaped_bind_names or {}),
        keys=[str(column.key) for column in columns],
        results=results,
        inlined=tuple(literals),
    )


def _execute(conn: sa.Connection, sql: str, arguments: Any) -> list[Any]:
    """Run sql on the driver's cursor, in conn's transaction when one is open; errors
    as SQLAlchemy's.

    Outside a transaction the read is a statement of its own, as every read of a
    request already was on PostgreSQL (at READ COMMITTED each statement takes its
    own snapshot): SQLite's driver never begins a transaction for a SELECT
    (isolation_level None, db/sqlite.py), and psycopg does not while autocommit
    is on (db.connection()). A SQLite read transaction - BEGIN, then a rollback
    through SQLAlchemy when the request ends - was 4-5% of a cold list page
    (bench/RESULTS.md). Where psycopg would begin one unseen (autocommit off,
    after a write in the same request), SQLAlchemy begins it, so it is ended.
    """
    dbapi_connection = conn.connection.driver_connection
    on_sqlite = conn.dialect.name == "sqlite"
    if not (on_sqlite or dbapi_connection.autocommit or conn.in_transaction()):  # type: ignore[union-attr]
        conn.begin()
    before = conn.dispatch.before_cursor_execute
    after = conn.dispatch.after_cursor_execute
    # SQLite's cursors cost next to nothing; psycopg's are kept per connection.
    cursor = dbapi_connection.cursor() if on_sqlite else postgresql.kept_cursor(conn)  # type: ignore[union-attr]
    try:
        for listener in before:
            listener(conn, cursor, sql, arguments, None, False)
        if on_sqlite:
            rows = sqlite.fetch_all(dbapi_connection, cursor, sql, arguments)  # type: ignore[arg-type]
        else:
            cursor.execute(sql, arguments)
            rows = cursor.fetchall()
        for listener in after:
            listener(conn, cursor, sql, arguments, None, False)
        return rows
    except conn.dialect.loaded_dbapi.Error as error:
        invalidated = conn.dialect.is_disconnect(error, dbapi_connection, cursor)
        if invalidated:
            conn.invalidate(error)
        raise sa.exc.DBAPIError.instance(
            sql,
            arguments,
            error,
            conn.dialect.loaded_dbapi.Error,
            connection_invalidated=invalidated,
            dialect=conn.dialect,
        ) from error
    finally:
        if on_sqlite:
            cursor.close()


T = TypeVar("T")


def once_per_app(build: Callable[..., T], *args: Hashable) -> T:
    """What build(*args) makes, made at the app's first use and kept in app.extensions.

    Statements are built once per app rather than at import: the same cost in a
    server (one app per process), and each test's app runs the builders itself,
    so mutation testing sees them as the code they are.
    """
    built: dict[Hashable, Any] = this_app().extensions.setdefault("flaskr.statements", {})
    key = (build, args)
    found = built.get(key)
    if found is None:
        found = built[key] = build(*args)
    return cast(T, found)
