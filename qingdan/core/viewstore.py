"""The view's tables and their SQL, one class per backend in the manner of eventsourcing's recorders.

:class:`ViewStore` holds the statements both backends share (tables, indexes, tracking, the rebuild's
shadow table); :class:`SQLiteViewStore` and :class:`PostgresViewStore` say how each connects,
spells a parameter, takes the write lock and opens a read snapshot. Statements are written with
``?`` placeholders.
"""

from __future__ import annotations

import abc
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from . import listed as _listed
from .blobs import create_table as _blobs_table

VIEW_NAME = "two_lists"
LIVE = "qd_versions"
#: Where ``rebuild`` replays the log while readers go on reading the live view.
SHADOW, SHADOW_TRACKING = "qd_versions_rebuild", "two_lists_rebuild"
COLUMNS = ("aggregate_id, kind, number, campaign, status, village, department, level, valid_from, "
           "valid_to, recorded_from, state, recorded_to")
#: Each record's runs on the lists (:mod:`qingdan.core.listed`), and the rebuild's table of them.
LISTED, SHADOW_LISTED = "qd_listed", "qd_listed_rebuild"
LISTED_COLUMNS = _listed.LISTED_COLUMNS
#: The tracking row that says ``qd_listed`` holds every record's runs (a view written before the
#: table existed has them filled in once, from its rows, when it is first opened).
LISTED_FILLED = "qd_listed_filled"


@dataclass(frozen=True)
class Locked:
    """What taking the view's lock inside a write read: the view's position and the chain's end,
    ``(position, hash)`` (``(0, None)``: no chain yet; None: no tracking row)."""

    position: int
    chain: tuple[int, str | None] | None


def versions_table(name: str, serial: str) -> str:
    return f"""CREATE TABLE IF NOT EXISTS {name} (
                id {serial},
                aggregate_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                number TEXT NOT NULL,
                campaign TEXT,
                status TEXT,
                village TEXT,
                department TEXT,
                level TEXT,
                valid_from TEXT NOT NULL,
                valid_to TEXT,
                recorded_from TEXT NOT NULL,
                recorded_to TEXT,
                state TEXT NOT NULL)"""


def listed_table(name: str, serial: str) -> str:
    """One row per run of a record on the lists: effective dates ``[valid_from, valid_to)`` in which
    it is listed under one number and campaign, withdrawn (1) or not (0), as known for recorded times
    ``[recorded_from, recorded_to)`` — about one row per record, where ``qd_versions`` has one per
    state, so an offset into a list walks one index entry a record."""
    return f"""CREATE TABLE IF NOT EXISTS {name} (
                id {serial},
                aggregate_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                number TEXT NOT NULL,
                campaign TEXT,
                withdrawn SMALLINT NOT NULL,
                valid_from TEXT NOT NULL,
                valid_to TEXT,
                recorded_from TEXT NOT NULL,
                recorded_to TEXT)"""


def listed_indexes(name: str) -> list[str]:
    # The walks of the lists' indexes on qd_versions (one campaign or all), over runs instead of
    # states. One index serves now and as known then: a record's runs change rarely (a new record,
    # a withdrawal, a back-dated entry), so the superseded ones a page for now walks past are few,
    # and each index less is less written by every new record.
    return [
        f"CREATE INDEX IF NOT EXISTS {name}_by_campaign ON {name} "
        "(kind, campaign, number, valid_from, valid_to, recorded_from, recorded_to, withdrawn)",
        f"CREATE INDEX IF NOT EXISTS {name}_by_number ON {name} "
        "(kind, number, valid_from, valid_to, recorded_from, recorded_to, withdrawn)",
        f"CREATE INDEX IF NOT EXISTS {name}_record ON {name} (aggregate_id, recorded_to)",
    ]


class ViewStore(abc.ABC):
    """SQL access to the view tables (``qd_versions``, ``qd_tracking``, ``qd_chain``)."""

    backend: str
    #: the id column of ``qd_versions``
    serial: str

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self._conn: Any = None

    @staticmethod
    def for_backend(env: dict[str, str], backend: str) -> ViewStore:
        return (SQLiteViewStore if backend == "sqlite" else PostgresViewStore)(env)

    @classmethod
    def reader(cls, env: dict[str, str]) -> ViewStore:
        """A store on a connection of its own that only reads tables another one created (nothing is
        created or filled in on connecting: :mod:`qingdan.core.forked`'s child)."""
        store = cls(env)
        store._conn = store._open()
        return store

    # -- what each backend does its own way --------------------------------------------------------

    @abc.abstractmethod
    def _open(self) -> Any:
        """A new connection in autocommit mode."""

    @abc.abstractmethod
    def _sql(self, statement: str) -> str:
        """The statement with this backend's parameter placeholders."""

    @abc.abstractmethod
    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None: ...

    @abc.abstractmethod
    def _begin_read(self, conn: Any) -> None: ...

    @abc.abstractmethod
    def _begin_write(self, conn: Any) -> None:
        """Begin a transaction holding the view's write lock (serialises catch-ups across processes)."""

    @abc.abstractmethod
    def _run_creation(self, conn: Any, statements: list[str]) -> None: ...

    # -- shared --------------------------------------------------------------------------------

    def connect(self) -> Any:
        if self._conn is None:
            self._conn = self._open()
            self._create_tables()
            if not self.query("SELECT 1 FROM qd_tracking WHERE name = ?", (LISTED_FILLED,)):
                self._fill_listed()
        return self._conn

    def _fill_listed(self) -> None:
        """Fill ``qd_listed`` in from the view's rows, once, for a view written before it existed
        (on a new view: nothing to fill; the mark only)."""
        with self.write_lock():
            if self.query("SELECT 1 FROM qd_tracking WHERE name = ?", (LISTED_FILLED,)):
                return  # another process filled it meanwhile
            self.execute(f"DELETE FROM {LISTED}")
            after = ""
            while True:  # a record at a time, read in pages of records
                keys = [r[0] for r in self.query(
                    f"SELECT DISTINCT aggregate_id FROM {LIVE} WHERE aggregate_id > ? "
                    "ORDER BY aggregate_id LIMIT 2000", (after,))]
                if not keys:
                    break
                rows: dict[str, list[tuple[Any, ...]]] = {key: [] for key in keys}
                for r in self.query(f"SELECT aggregate_id, kind, number, campaign, status, valid_from, valid_to, "
                                    f"recorded_from, recorded_to FROM {LIVE} WHERE aggregate_id >= ? "
                                    "AND aggregate_id <= ?", (keys[0], keys[-1])):
                    rows[r[0]].append(r[1:])
                self.executemany(
                    f"INSERT INTO {LISTED} ({LISTED_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(key, *run) for key in keys for run in _listed.history(rows[key])])
                after = keys[-1]
            self.execute("INSERT INTO qd_tracking (name, position) VALUES (?, 1)", (LISTED_FILLED,))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def execute(self, statement: str, params: Sequence[Any] = ()) -> Any:
        return self.connect().execute(self._sql(statement), params)

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self.execute(statement, params).fetchall())

    @contextmanager
    def read_snapshot(self) -> Iterator[None]:
        """One read transaction: every query inside sees the view as of one commit."""
        conn = self.connect()
        self._begin_read(conn)
        try:
            yield
        finally:
            conn.execute("COMMIT")

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """One transaction holding the view's write lock."""
        conn = self.connect()
        self._begin_write(conn)
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextmanager
    def borrowed(self, conn: Any) -> Iterator[Locked]:
        """Run the view's statements on ``conn``, a connection inside the event store's transaction
        (which already holds the log's write lock): they commit or roll back with the events.
        Yields the view's position and the chain's end, read as the view's lock is taken."""
        own = self._conn
        self._conn = self._wrap(conn)
        try:
            yield self._lock_borrowed()
        finally:
            self._conn = own

    def _wrap(self, conn: Any) -> Any:
        return conn

    @abc.abstractmethod
    def _lock_borrowed(self) -> Locked:
        """Inside a borrowed transaction: take the view's write lock too (serialising with catch-ups
        of other processes that hold only that one), and read the view's position and the chain's end."""

    #: the view's position and the chain's end, ``(position, hash)``, in one statement
    LOCKED_READ = ("SELECT position, (SELECT position FROM qd_chain ORDER BY position DESC LIMIT 1), "
                   "(SELECT hash FROM qd_chain ORDER BY position DESC LIMIT 1) "
                   f"FROM qd_tracking WHERE name = '{VIEW_NAME}'")

    @staticmethod
    def _locked(row: Sequence[Any] | None) -> Locked:
        if row is None:
            return Locked(0, None)
        return Locked(int(row[0]), (0, None) if row[1] is None else (int(row[1]), row[2]))

    def _create_tables(self) -> None:
        self._run_creation(self._conn, [
            "CREATE TABLE IF NOT EXISTS qd_tracking (name TEXT PRIMARY KEY, position BIGINT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS qd_chain (position BIGINT PRIMARY KEY, hash TEXT NOT NULL)",
            versions_table(LIVE, self.serial),
            # Lists are read in number order, a page at a time: walk the rows of one campaign (or
            # all) by number and test the two intervals and the status (a list leaves out withdrawn
            # entries) from the index, never sort and never read a row a page skips (a page from
            # the end of the list of all campaigns at 1M events: 414 ms with the status read from
            # each row, 80 ms from the index).
            "DROP INDEX IF EXISTS qd_versions_current",
            "DROP INDEX IF EXISTS qd_versions_known",
            "DROP INDEX IF EXISTS qd_versions_now_by_campaign",
            "DROP INDEX IF EXISTS qd_versions_now_by_number",
            "CREATE INDEX IF NOT EXISTS qd_lists_now_by_campaign ON qd_versions "
            "(kind, campaign, number, valid_from, valid_to, status) WHERE recorded_to IS NULL",
            "CREATE INDEX IF NOT EXISTS qd_lists_now_by_number ON qd_versions "
            "(kind, number, valid_from, valid_to, status) WHERE recorded_to IS NULL",
            # As known at a past time, superseded rows count too: both intervals in the index, so a
            # page walks it in number order, tests each row there and reads only the rows it keeps
            # (a page of all campaigns at 1M events: 773 ms sorted, 61 ms walked).
            "DROP INDEX IF EXISTS qd_versions_then",
            "DROP INDEX IF EXISTS qd_versions_then_by_campaign",
            "DROP INDEX IF EXISTS qd_versions_then_by_number",
            "CREATE INDEX IF NOT EXISTS qd_lists_then_by_campaign ON qd_versions "
            "(kind, campaign, number, valid_from, valid_to, recorded_from, recorded_to, status)",
            "CREATE INDEX IF NOT EXISTS qd_lists_then_by_number ON qd_versions "
            "(kind, number, valid_from, valid_to, recorded_from, recorded_to, status)",
            "CREATE INDEX IF NOT EXISTS qd_versions_record ON qd_versions "
            "(aggregate_id, recorded_to)",
            listed_table(LISTED, self.serial),
            *listed_indexes(LISTED),
            _blobs_table(self.backend),  # attachments (qingdan.core.blobs), written by the recorder
        ])

    def collate(self, texts: list[str]) -> list[str]:
        """``texts`` in the order ``ORDER BY`` puts them in on this database (the view's lists are read
        in number order)."""
        return sorted(texts)

    def position(self, tracking: str = VIEW_NAME) -> int:
        rows = self.query("SELECT position FROM qd_tracking WHERE name = ?", (tracking,))
        return int(rows[0][0]) if rows else 0

    def start_shadow(self) -> None:
        """An empty table beside the live view for ``rebuild`` to fill (a crashed rebuild's is dropped)."""
        with self.write_lock():
            self.execute(f"DROP TABLE IF EXISTS {SHADOW}")
            self.execute(versions_table(SHADOW, self.serial))
            self.execute(f"CREATE INDEX {SHADOW}_record ON {SHADOW} (aggregate_id, recorded_to)")
            self.execute(f"DROP TABLE IF EXISTS {SHADOW_LISTED}")
            self.execute(listed_table(SHADOW_LISTED, self.serial))
            self.execute("DELETE FROM qd_tracking WHERE name = ?", (SHADOW_TRACKING,))
            self.execute("INSERT INTO qd_tracking (name, position) VALUES (?, 0)", (SHADOW_TRACKING,))

    def swap_in_shadow(self) -> None:
        """Within the write lock: the live view becomes the shadow's rows, in one transaction.

        Copied rather than renamed, so the live table keeps its indexes and readers never find it
        missing: until the commit they read the old rows, after it the new ones.
        """
        self.execute(f"DELETE FROM {LIVE}")
        self.execute(f"INSERT INTO {LIVE} ({COLUMNS}) SELECT {COLUMNS} FROM {SHADOW} ORDER BY id")
        self.execute(f"DELETE FROM {LISTED}")
        self.execute(f"INSERT INTO {LISTED} ({LISTED_COLUMNS}) SELECT {LISTED_COLUMNS} FROM {SHADOW_LISTED} "
                     "ORDER BY id")
        self.execute("DELETE FROM qd_tracking WHERE name = ?", (LISTED_FILLED,))
        self.execute("INSERT INTO qd_tracking (name, position) VALUES (?, 1)", (LISTED_FILLED,))
        self.execute("UPDATE qd_tracking SET position = ? WHERE name = ?",
                     (self.position(SHADOW_TRACKING), VIEW_NAME))
        self.execute("DELETE FROM qd_tracking WHERE name = ?", (SHADOW_TRACKING,))
        self.execute(f"DROP TABLE {SHADOW}")
        self.execute(f"DROP TABLE {SHADOW_LISTED}")


class SQLiteViewStore(ViewStore):
    backend = "sqlite"
    serial = "INTEGER PRIMARY KEY AUTOINCREMENT"

    def _open(self) -> Any:
        path = self.env["SQLITE_DBNAME"]
        conn = sqlite3.connect(path, timeout=float(self.env.get("SQLITE_LOCK_TIMEOUT", 30)),
                               isolation_level=None, uri=path.startswith("file:"), check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _sql(self, statement: str) -> str:
        return statement

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.connect().executemany(statement, rows)

    def _begin_read(self, conn: Any) -> None:
        conn.execute("BEGIN")  # deferred: a WAL read snapshot from the first read on

    def _begin_write(self, conn: Any) -> None:
        conn.execute("BEGIN IMMEDIATE")

    def _lock_borrowed(self) -> Locked:
        # SQLite locks the whole file: the event store's transaction holds it already
        return self._locked(self.connect().execute(self.LOCKED_READ).fetchone())

    def _run_creation(self, conn: Any, statements: list[str]) -> None:
        for statement in statements:
            conn.execute(statement)
        conn.execute("INSERT OR IGNORE INTO qd_tracking (name, position) VALUES (?, 0)", (VIEW_NAME,))


class PostgresViewStore(ViewStore):
    backend = "postgres"
    serial = "BIGSERIAL PRIMARY KEY"

    def _open(self) -> Any:
        import psycopg

        conn = psycopg.connect(
            dbname=self.env["POSTGRES_DBNAME"], host=self.env["POSTGRES_HOST"],
            port=self.env["POSTGRES_PORT"], user=self.env["POSTGRES_USER"],
            password=self.env.get("POSTGRES_PASSWORD") or None, autocommit=True,
            connect_timeout=int(self.env.get("POSTGRES_CONNECT_TIMEOUT", 5)),
        )
        schema = self.env.get("POSTGRES_SCHEMA")
        if schema:
            conn.execute(f'SET search_path TO "{schema}"')
        return conn

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s")

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            with self.connect().cursor() as cur:
                cur.executemany(self._sql(statement), rows)

    def _begin_read(self, conn: Any) -> None:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def collate(self, texts: list[str]) -> list[str]:
        # The database's collation, which need not be by code point.
        return [r[0] for r in self.query("SELECT t FROM unnest(?::text[]) AS t ORDER BY t", (list(texts),))]

    def _begin_write(self, conn: Any) -> None:
        conn.execute("BEGIN")
        conn.execute("SELECT position FROM qd_tracking WHERE name = %s FOR UPDATE", (VIEW_NAME,))

    def _wrap(self, conn: Any) -> Any:
        return _TupleRows(conn)

    def _lock_borrowed(self) -> Locked:
        # One round trip: without parameters psycopg sends the text as one simple query, both
        # statements at once (the schema is quoted as the connection's own SET quotes it). The row
        # lock's read is what the write checks next — the view's position and the chain's end —
        # so no statement of its own reads them.
        from psycopg import pq

        schema = self.env.get("POSTGRES_SCHEMA")
        lock = f"{self.LOCKED_READ} FOR UPDATE"
        conn = self.connect()
        cursor = conn.cursor()
        if conn.pgconn.pipeline_status != pq.PipelineStatus.OFF:  # queued, sent with the read
            if schema:
                conn.execute(f'SET LOCAL search_path TO "{schema}"')
            cursor.execute(lock)
        else:
            cursor.execute(f'SET LOCAL search_path TO "{schema}"; {lock}' if schema else lock)
            if schema:
                cursor.nextset()
        return self._locked(cursor.fetchone())

    def _run_creation(self, conn: Any, statements: list[str]) -> None:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(7420371)")  # one creator at a time
            for statement in statements:
                conn.execute(statement)
            conn.execute("INSERT INTO qd_tracking (name, position) VALUES (%s, 0) "
                         "ON CONFLICT (name) DO NOTHING", (VIEW_NAME,))


class _TupleRows:
    """A psycopg connection whose cursors return tuples (the event store's return dicts)."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self.pgconn = conn.pgconn

    def cursor(self) -> Any:
        from psycopg.rows import tuple_row

        return self._conn.cursor(row_factory=tuple_row)

    def execute(self, statement: str, params: Sequence[Any] = ()) -> Any:
        cursor = self.cursor()
        cursor.execute(statement, params)
        return cursor
