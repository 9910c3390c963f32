"""Everything that differs between database engines, kept in one place.

SQLite and PostgreSQL differ in three ways that matter here: how a writer takes the
ledger's single write lock, how append-only triggers are declared, and what their
errors look like when the database is locked or unreachable.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from itertools import chain
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from .errors import InputError, LedgerNotFound, StorageError, shown

LOCK_TIMEOUT_S = float(os.environ.get("CLAIMLEDGER_LOCK_TIMEOUT", "30"))
ADVISORY_LOCK_KEY = 0x636C61696D  # "claim": one writer at a time per PostgreSQL database

APPEND_ONLY_TABLES = ("log", "tree_node", "entry_ref", "checkpoint", "cosignature")

# sqlite3 sends every bytes value it binds through its adapter registry; for a type it
# has none for, it looks for ``__adapt__`` on a type, which builds and drops an
# AttributeError: about 4,000 instructions a blob, all with the GIL held, and a bulk
# import binds seven blobs an entry.  ``bytes.__bytes__`` returns the value itself, so
# it binds the same bytes, and is found at once (a blob: ~450 ns, ~210 ns with it).
# Left alone if the process adapts bytes already.
if (bytes, sqlite3.PrepareProtocol) not in sqlite3.adapters:
    sqlite3.register_adapter(bytes, bytes.__bytes__)


def shown_url(url: str) -> str:
    """``url`` for a message, its password masked: an error line ends up in terminals
    seen over a shoulder, in pasted tickets and in CI logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:  # not a URL SQLAlchemy reads: mask what looks like user:password@
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def normalise_url(target: str) -> str:
    """Accept a SQLAlchemy URL or a plain file path (meaning SQLite)."""
    if "://" in target:
        try:
            make_url(target)
        except ArgumentError as exc:
            raise InputError(f"invalid database URL {shown(shown_url(target))}") from exc
        return target
    return f"sqlite:///{Path(target).expanduser()}"


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other engines or in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def create(url: str, *, must_exist: bool, read_only: bool = False) -> Engine:
    """An engine for ``url``; with ``must_exist``, refuse to create a SQLite file."""
    from sqlalchemy import create_engine

    path = sqlite_path(url)
    if path is not None:
        if must_exist and not path.is_file():
            raise LedgerNotFound(f"no ledger at {path} (create one with: claimledger init)")
        if not must_exist and not path.parent.is_dir():
            raise InputError(f"cannot create a ledger in {path.parent}: no such directory")
        connect_args: dict[str, object] = {"timeout": LOCK_TIMEOUT_S, "check_same_thread": False}
        if read_only:
            url = f"sqlite:///file:{path}?mode=ro&uri=true"
        engine = create_engine(url, connect_args=connect_args)
        _sqlite_transactions(engine, read_only=read_only)
        return engine
    try:
        # No server-side prepared statements: psycopg prepares a query after five runs,
        # and PostgreSQL may then keep a generic plan made while the log was empty (a
        # sequential scan), which a bulk import would run a million entries later.
        # And a name a server's administrator can tell apart (pg_stat_activity), with the
        # process that opened the ledger (its forked planner and workers share it).
        connect_args = {"prepare_threshold": None, "application_name": f"claimledger {os.getpid()}"} \
            if make_url(url).get_backend_name() == "postgresql" else {}
        return create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    except (ArgumentError, ImportError) as exc:
        raise InputError(f"cannot use database URL {shown(shown_url(url))}: {exc}") from exc


def _sqlite_transactions(engine: Engine, *, read_only: bool) -> None:
    # pysqlite's own transaction handling defers BEGIN and cannot take the write lock
    # up front; take over, as SQLAlchemy's documentation recommends.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not read_only:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL" if not read_only else "PRAGMA query_only=1")
        cursor.execute("PRAGMA secure_delete=ON")  # deleted secrets are overwritten, not left in free pages
        cursor.execute(f"PRAGMA busy_timeout={int(LOCK_TIMEOUT_S * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("claimledger_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


@contextmanager
def write_transaction(engine: Engine, *, bulk: bool = False) -> Iterator[Connection]:
    """A transaction that holds the ledger's only write lock until it ends.

    Seq assignment and insert happen inside it, so concurrent writers queue instead of
    forking the chain.  ``bulk`` is for a bulk import's batches (``_bulk_sqlite``).
    """
    with translate_errors(), engine.connect() as conn:
        conn.execution_options(claimledger_write=True)
        bulk = bulk and is_sqlite(engine)
        if bulk:
            _bulk_sqlite(conn, BULK_PRAGMAS)
        try:
            with conn.begin():
                if engine.dialect.name == "postgresql":
                    conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(LOCK_TIMEOUT_S * 1000)}ms'")
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK_KEY})")
                yield conn
        except BaseException:
            if bulk:
                with suppress(Exception):  # the error that ended the transaction is the one to tell
                    _bulk_sqlite(conn, DEFAULT_PRAGMAS)
            raise
        if bulk:  # the connection goes back to the pool as it came
            _bulk_sqlite(conn, DEFAULT_PRAGMAS)


# A bulk import's batch of thousands of entries dirties more pages than SQLite's
# default cache of 2 MB holds (its leaf-hash and content indexes take random pages), so
# SQLite wrote them to the WAL mid-transaction and read them back; and with checkpoints
# every 1,000 pages of WAL, each commit copied the indexes' pages to the database again.
# A batch keeps its pages in memory, and checkpoints come every 64 MB of WAL instead
# (a cache of 128 MB made no difference at 1M).  And each multi-row INSERT keeps a
# statement journal (the log's expression indexes make any statement one that may
# abort midway), which SQLite spilled past 64 KB to a file in /var/tmp: about one 4 KB
# write an entry.  A bulk write keeps it in memory.
BULK_PRAGMAS = ("cache_size=-65536", "wal_autocheckpoint=16384", "temp_store=MEMORY")
DEFAULT_PRAGMAS = ("cache_size=-2000", "wal_autocheckpoint=1000", "temp_store=DEFAULT")  # SQLite's own


def _bulk_sqlite(conn: Connection, pragmas: tuple[str, ...]) -> None:
    cursor = conn.connection.driver_connection.cursor()
    try:
        for pragma in pragmas:
            cursor.execute(f"PRAGMA {pragma}")
    finally:
        cursor.close()


@contextmanager
def read_snapshot(conn: Connection) -> Iterator[Connection]:
    """A read transaction in which every query sees the database as of its first read.

    Verify takes the log's size and later checks that nothing lies past it: with
    writers appending meanwhile, both must see the same moment.  SQLite's deferred
    BEGIN gives that; PostgreSQL's default READ COMMITTED would not.
    """
    if conn.dialect.name == "postgresql":
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
    with conn.begin():
        yield conn


def _driver_operational_errors() -> tuple[type[BaseException], ...]:
    """The drivers' own OperationalError classes, for statements run on raw cursors."""
    import sqlite3

    errors: list[type[BaseException]] = [sqlite3.OperationalError]
    try:
        import psycopg

        errors.append(psycopg.OperationalError)
    except ImportError:  # pragma: no cover - psycopg is a dependency
        pass
    return tuple(errors)


def _failure(message: str) -> str:
    """What kind of storage failure a driver's message tells of: the database could not
    be reached or locked, or it took the statement and could not write it."""
    text = message.lower()
    if any(words in text for words in ("disk is full", "disk full", "no space left", "disk i/o error", "readonly database",
                                       "read-only")):
        return "database write failed"
    if any(words in text for words in ("server closed the connection", "terminating connection", "connection reset",
                                       "connection is lost", "connection is closed")):
        return "database connection lost"
    return "database unavailable"


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn driver errors about locks and connections into StorageError (exit 3)."""
    try:
        yield
    except _driver_operational_errors() as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StorageError(f"{_failure(message)}: {message}") from exc
    except OperationalError as exc:
        raise StorageError(f"{_failure(_first_line(exc))}: {_first_line(exc)}") from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise StorageError(f"database connection lost: {_first_line(exc)}") from exc
        message = _first_line(exc)
        if "append-only" in message:
            raise StorageError(f"refused by the database: {message}") from exc
        raise


SQLITE_NOTADB = 26  # sqlite3's extended error code for "file is not a database"


def not_a_database(exc: BaseException) -> bool:
    """Whether opening failed because the file at a SQLite path is not a database at all:
    a wrong ``--db`` path (bad input), not a database that is unavailable."""
    orig = getattr(exc, "orig", exc)
    return getattr(orig, "sqlite_errorcode", None) == SQLITE_NOTADB


def _first_line(exc: DBAPIError) -> str:
    return str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)


def append_only_ddl(dialect: str) -> list[str]:
    """Statements that make the log tables refuse UPDATE and DELETE in the database."""
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            for table in APPEND_ONLY_TABLES
            for op in ("UPDATE", "DELETE")
        ]
    if dialect == "postgresql":
        ddl = [
            "CREATE OR REPLACE FUNCTION claimledger_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION '%% is append-only', TG_TABLE_NAME; END $$ LANGUAGE plpgsql"
        ]
        for table in APPEND_ONLY_TABLES:
            ddl.append(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            ddl.append(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION claimledger_append_only()"
            )
        return ddl
    return []


# Bytes of a leaf hash or content hash that their indexes hold (``ledger.models``).  A
# lookup asks for the prefix, which the index finds, and for the whole digest, which
# settles it: ``substr(x, 1, 8) = ? AND x = ?``.  A ledger made before these indexes
# keeps its indexes on the whole digests, which the same condition also finds.
PREFIX = 8


def _is_digest(column: str, placeholder: str) -> str:
    """The condition ``column = digest`` as the indexes answer it: bind ``digest[:PREFIX]``
    and then ``digest``."""
    return f"substr({column}, 1, {PREFIX}) = {placeholder} AND {column} = {placeholder}"


def content_lookup(conn: Connection) -> Callable[[bytes], str | None]:
    """A fast ``content hash -> leaf hash hex`` lookup, for imports that skip what is recorded."""
    placeholder = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"SELECT leaf_hash FROM log WHERE {_is_digest('content', placeholder)} LIMIT 1"
    cursor = conn.connection.driver_connection.cursor()

    def lookup(digest: bytes) -> str | None:
        cursor.execute(sql, (digest[:PREFIX], digest))
        row = cursor.fetchone()
        return bytes(row[0]).hex() if row is not None else None

    return lookup


def statistics_rows(conn: Connection) -> int:
    """How many log rows PostgreSQL's statistics last counted (0 if none; SQLite: 0, its
    planner needs none): a bulk import refreshes them only once the log has outgrown
    them, not at the start of every import into a large ledger, where ANALYZE would
    cost more than a small import itself (0.4 s at 1M)."""
    if conn.dialect.name != "postgresql":
        return 0
    counted = conn.exec_driver_sql("SELECT reltuples FROM pg_class WHERE oid = 'log'::regclass").scalar()
    return max(int(counted or 0), 0)  # -1: never analyzed nor vacuumed


def refresh_statistics(engine: Engine) -> None:
    """Have the planner's statistics catch up with a log that grew quickly.

    PostgreSQL plans by its statistics, which autovacuum refreshes only now and then;
    until it does, a log that grew from empty looks tiny, and looking up a batch of
    contents at once is planned as a scan of the whole table.  A bulk import calls this
    each time the log has doubled since the statistics last counted it
    (``statistics_rows``).  SQLite needs nothing: it uses the indexes anyway.
    """
    if engine.dialect.name == "postgresql":  # in a transaction of its own: a rolled-back ANALYZE keeps nothing
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE log, tree_node, entry_ref")


def contents_lookup(conn: Connection, digests: list[bytes]) -> dict[bytes, str]:
    """``content hash -> leaf hash hex`` for many content hashes in a few queries: a
    bulk import asks about a whole batch at once (on PostgreSQL a query is a round trip).

    The prefixes find the rows, and the whole digests settle them (PREFIX): here in
    Python, which at 1M saved a fifth of the query's time; on a ledger made before the
    prefix indexes, in SQL, since only the condition on the whole digest finds its index.
    """
    found: dict[bytes, str] = {}
    if _has_index(conn, "ix_log_content_prefix"):
        wanted = set(digests)
        sql = f"SELECT content, leaf_hash FROM log WHERE substr(content, 1, {PREFIX}) IN ({{}})"
        rows = rows_in(conn, sql, digests, bind=lambda part: [d[:PREFIX] for d in part])
    else:
        wanted = None
        sql = f"SELECT content, leaf_hash FROM log WHERE substr(content, 1, {PREFIX}) IN ({{}}) AND content IN ({{}})"
        rows = rows_in(conn, sql, digests, bind=lambda part: [d[:PREFIX] for d in part] + part)
    for content, leaf in rows:
        content = bytes(content)
        if wanted is None or content in wanted:
            found.setdefault(content, bytes(leaf).hex())
    return found


def _has_index(conn: Connection, name: str) -> bool:
    """Whether the ledger's schema has the index ``name`` (ours, a constant)."""
    if conn.dialect.name == "postgresql":
        sql = "SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND indexname = ?"
    else:
        sql = "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?"
    return bool(fetch_all(conn, sql, (name,)))


def rows_in(conn: Connection, sql: str, values: list[bytes] | list[int], part: int = 500,
            bind: Callable[[list], list] = list) -> Iterator[tuple]:
    """The rows of ``sql`` with each ``{}`` filled by placeholders for ``values``, a few
    hundred a statement, bound as ``bind`` lays them out.  ``sql`` is our constant text;
    values are bound."""
    placeholder = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    cursor = conn.connection.driver_connection.cursor()
    try:
        for start in range(0, len(values), part):
            chunk = values[start:start + part]
            cursor.execute(sql.replace("{}", ", ".join([placeholder] * len(chunk))), bind(chunk))
            yield from cursor.fetchall()
    finally:
        cursor.close()


def fetch_all(conn: Connection, sql: str, params: tuple[object, ...] = ()) -> list[tuple]:
    """Every row of ``sql`` at once, on the driver's own cursor: for bounded reads, such
    as one range of the log that a verify worker checks.  ``?`` placeholders; values bound.

    PostgreSQL sends the rows in binary: its text form of ``bytea`` is hex, which the
    server writes and the driver decodes again (a 100k verify: 4.32 s, 4.21 s binary).
    """
    cursor = conn.connection.driver_connection.cursor()
    try:
        if conn.dialect.name == "postgresql":
            cursor.execute(sql.replace("?", "%s"), params, binary=True)
        else:
            cursor.execute(sql, params)
        return cursor.fetchall()
    finally:
        cursor.close()


def hash_lookup(conn: Connection) -> Callable[[bytes], tuple[int, str] | None]:
    """A fast ``leaf hash -> (seq, kind)`` lookup on the connection's own DB-API cursor.

    Appends and verify look up every reference; SQLAlchemy's statement machinery costs
    ~150 us a call there, a raw parametrised query ~5 us.  Only the placeholder style
    differs between drivers.
    """
    placeholder = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"SELECT seq, kind FROM log WHERE {_is_digest('leaf_hash', placeholder)}"
    cursor = conn.connection.driver_connection.cursor()

    def lookup(digest: bytes) -> tuple[int, str] | None:
        cursor.execute(sql, (digest[:PREFIX], digest))
        row = cursor.fetchone()
        return (row[0], row[1]) if row is not None else None

    return lookup


def leaf_lookup(conn: Connection) -> Callable[[int], bytes | None]:
    """A fast ``seq -> leaf hash`` lookup on the connection's own DB-API cursor, as
    ``hash_lookup`` is: a bulk import reads the hash of a line far back this way."""
    placeholder = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"SELECT leaf_hash FROM log WHERE seq = {placeholder}"
    cursor = conn.connection.driver_connection.cursor()

    def lookup(seq: int) -> bytes | None:
        cursor.execute(sql, (seq,))
        row = cursor.fetchone()
        return bytes(row[0]) if row is not None else None

    return lookup


# Below SQLite's default limit of 32,766 bound values a statement (and PostgreSQL's 65,535).
MULTI_ROW_PARAMS = 7000


def insert_rows(conn: Connection, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert many rows through the driver's own cursor (bulk appends are hot).

    Rows go in multi-row ``INSERT ... VALUES (...), (...)`` statements of up to
    ``MULTI_ROW_PARAMS`` values: the database then does its work in one call a
    statement, during which the driver releases the GIL, so a bulk import's writer
    thread runs beside the signing instead of waiting for the GIL at every row.
    ``table`` and ``columns`` are our constants, never user input; values are bound.
    """
    if not rows:
        return
    if conn.dialect.name == "postgresql":  # COPY: the server's bulk path, several times INSERT's speed
        with conn.connection.driver_connection.cursor() as pg_cursor:
            with pg_cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    placeholder = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    group = f"({', '.join([placeholder] * len(columns))})"
    head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
    per_statement = max(1, MULTI_ROW_PARAMS // len(columns))
    cursor = conn.connection.driver_connection.cursor()
    try:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start:start + per_statement]
            cursor.execute(head + ", ".join([group] * len(chunk)), list(chain.from_iterable(chunk)))
    finally:
        cursor.close()


def compact(engine: Engine) -> None:
    """Rewrite storage so deleted rows (erased secrets) leave no bytes behind."""
    if is_sqlite(engine):
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        raw = engine.raw_connection()
        try:
            raw.driver_connection.execute("VACUUM")
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
    elif engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM FULL secret")
