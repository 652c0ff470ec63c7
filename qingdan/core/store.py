"""The event log's recorders: eventsourcing's own, plus one step taken under its write lock.

qingdan's ``known_at`` selects the events recorded by a moment, and the log's positions order them; the
two must agree whatever the writers' clocks say. So every write, once it holds the log's write lock,
reads the last stored event and hands it to a ``restamp`` callback (passed as a keyword argument of
``insert_events``), which returns the stored events to insert, their recorded times raised when needed
to be later than that last event. Nothing else about eventsourcing's recorders changes; without a
``restamp`` they behave exactly as the library's.

Why subclasses rather than a lock of our own around ``insert_events``: only the recorder's own
transaction holds the lock that orders the log (``BEGIN IMMEDIATE`` on SQLite, eventsourcing's
``LOCK TABLE … IN EXCLUSIVE MODE`` on PostgreSQL); a second lock in a second connection would either
leave a gap or, on SQLite, deadlock against it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, quote, unquote, urlparse
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Notification, StoredEvent, Transcoder, Transcoding
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteTransaction

from . import blobs as _blobs
from .errors import InvalidCommand, NoLedger, QingdanError
from .text import show

#: ``lookup(ids)``: which of these record ids the log already holds, read in the write transaction.
Lookup = Callable[[Sequence[UUID]], set[UUID]]
LOOKUP_CHUNK = 500


@dataclass(frozen=True)
class LockedReads:
    """What a write may ask of the log once it holds the write lock, in its own transaction:
    ``newer(record_id, version)`` — whether that record has an event after ``version`` (another
    writer changed it since it was loaded); ``lookup(ids)`` — which record ids the log already
    holds (numbers another writer took since they were chosen); ``versions`` — the last stored
    version (None: no event) of each record id the write named in ``watch``, read in the same
    statement as the log's last event, so that ``newer`` and ``lookup`` of those ids read nothing."""

    newer: Callable[[Any, int], bool]
    lookup: Lookup
    versions: dict[Any, int | None] = field(default_factory=dict)


def locked_reads(versions: dict[Any, int | None], newer: Callable[[Any, int], bool],
                 lookup: Lookup) -> LockedReads:
    """:class:`LockedReads` answering from ``versions`` where it can (the watched ids), else
    asking the log with ``newer`` and ``lookup``."""

    def newer_of(originator_id: Any, version: int) -> bool:
        if originator_id in versions:
            return (versions[originator_id] or 0) > version
        return newer(originator_id, version)

    def lookup_of(ids: Sequence[UUID]) -> set[UUID]:
        known = {i for i in ids if i in versions and versions[i] is not None}
        rest = [i for i in ids if i not in versions]
        return known | (lookup(rest) if rest else set())

    return LockedReads(newer_of, lookup_of, versions)


#: ``restamp(last, reads)``: called under the log's write lock with the last stored event (None for
#: an empty log) and the :class:`LockedReads` of the write's transaction; returns the stored events to
#: insert.
Restamp = Callable[[Notification | None, LockedReads], Sequence[StoredEvent]]
#: ``within(ids, connection)``: called after the insert, inside the same transaction, with the new
#: events' positions and the raw DB-API connection (``sqlite3.Connection`` or psycopg's): whatever it
#: writes commits or rolls back with the events.
Within = Callable[[Sequence[int], Any], None]
#: ``more()``: after the first insert (and its ``within``), further chunks of stored events to insert
#: in the same transaction, each followed by its own ``within``: a large batch is never held whole.
More = Callable[[], Iterator[Sequence[StoredEvent]]]


class _ImmediateTransaction(SQLiteTransaction):
    """eventsourcing's SQLite transaction, begun with the write lock already taken.

    A deferred ``BEGIN`` would read the last event under a snapshot that another writer may move on
    before we insert; ``BEGIN IMMEDIATE`` takes the lock first (waiting up to the lock timeout).
    """

    def __enter__(self) -> Any:
        cursor = self.connection.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        return cursor


class SQLiteLedgerRecorder(SQLiteApplicationRecorder):
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        restamp: Restamp | None = kwargs.pop("restamp", None)
        blobs: Sequence[_blobs.Blob] = kwargs.pop("blobs", ())
        within: Within | None = kwargs.pop("within", None)
        more: More | None = kwargs.pop("more", None)
        watch: Sequence[UUID] = kwargs.pop("watch", ())
        if restamp is None and not blobs and more is None:
            return super().insert_events(stored_events, **kwargs)
        with self.datastore.get_connection(commit=True) as conn, \
                _ImmediateTransaction(conn, commit=True) as cursor, cursor:
            # The log's last event and, in the same statement, the last version of each watched
            # record (what ``newer``/``lookup`` would each have asked in a statement of their own).
            table = self.events_table_name
            probes = "".join(f", (SELECT MAX(originator_version) FROM {table} WHERE originator_id = ?)"
                             for _ in watch)
            cursor.execute(f"SELECT rowid, originator_id, originator_version, topic, state{probes} "
                           f"FROM {table} ORDER BY rowid DESC LIMIT 1", [u.hex for u in watch])
            row = cursor.fetchone()
            last = None if row is None else Notification(
                id=row[0], originator_id=self.convert_originator_id(row[1]),
                originator_version=row[2], topic=row[3], state=row[4])
            # an empty log holds no version of anything
            versions = {u: (None if row is None else row[5 + i]) for i, u in enumerate(watch)}

            def newer(originator_id: Any, version: int) -> bool:
                cursor.execute(f"SELECT 1 FROM {self.events_table_name} WHERE originator_id = ? "
                               "AND originator_version > ? LIMIT 1",
                               (getattr(originator_id, "hex", originator_id), version))
                return cursor.fetchone() is not None

            def lookup(ids: Sequence[UUID]) -> set[UUID]:
                found: set[UUID] = set()
                for i in range(0, len(ids), LOOKUP_CHUNK):
                    chunk = [u.hex for u in ids[i:i + LOOKUP_CHUNK]]
                    cursor.execute(f"SELECT DISTINCT originator_id FROM {self.events_table_name} "
                                   f"WHERE originator_id IN ({', '.join('?' * len(chunk))})", chunk)
                    found.update(UUID(r[0]) for r in cursor.fetchall())
                return found


            events = restamp(last, locked_reads(versions, newer, lookup)) if restamp else stored_events
            _blobs.insert_sqlite(cursor, blobs)  # in the events' transaction: both or neither
            ids = list(self._insert_events(cursor, events, **kwargs) or ())
            if within is not None and ids:
                within(ids, conn._sqlite_conn)
            for chunk in more() if more is not None else ():  # the rest of a large batch, same transaction
                chunk_ids = list(self._insert_events(cursor, chunk, **kwargs) or ())
                if within is not None and chunk_ids:
                    within(chunk_ids, conn._sqlite_conn)
                ids += chunk_ids
            return ids

    def restore(self, rows: Sequence[Any], blobs: Sequence[_blobs.Blob]) -> None:
        """Into an empty log: stored events exactly as given, at their positions, with their blobs,
        in one transaction (:meth:`qingdan.Ledger.restore`)."""
        with self.datastore.get_connection(commit=True) as conn, \
                _ImmediateTransaction(conn, commit=True) as cursor, cursor:
            cursor.execute(f"SELECT 1 FROM {self.events_table_name} LIMIT 1")
            if cursor.fetchone() is not None:
                raise LogNotEmpty
            _blobs.insert_sqlite(cursor, blobs)
            cursor.executemany(
                f"INSERT INTO {self.events_table_name} (rowid, originator_id, originator_version, topic, state) "
                "VALUES (?, ?, ?, ?, ?)",
                [(r.id, r.originator_id.hex, r.originator_version, r.topic, r.state) for r in rows])



class LogNotEmpty(Exception):
    """A restore into a log that already holds events."""


RECORDER_TOPICS = {
    "sqlite": "qingdan.core.store:SQLiteLedgerRecorder",
    # its own module: eventsourcing.postgres (and psycopg) load only for a PostgreSQL ledger
    "postgres": "qingdan.core.pgstore:PostgresLedgerRecorder",
}


#: The smallest step of recorded time (the view stores recorded times to the microsecond).
TICK = timedelta(microseconds=1)


def restamp(events: Sequence[Any], after: datetime | None) -> list[int]:
    """Raise recorded times so they never go backwards along the log; returns the indices changed.

    ``events`` are about to be inserted, in this order, just after an event recorded at ``after``.
    Each must be recorded later than ``after`` and no earlier than the one before it. A clock that is
    behind (another clerk's PC) would otherwise put an event after a submission in the log but
    before it in recorded time, and ``known_at`` would no longer mean "what the log held then".
    Events of one write that share a time (a batch) keep sharing it.

    The events are not yet stored, and nothing else holds them: setting the field of a frozen event
    here is the same as having created it with this time.
    """
    floor = after + TICK if after is not None else None
    changed = []
    for index, event in enumerate(events):
        if floor is not None and event.timestamp < floor:
            object.__setattr__(event, "timestamp", floor)
            changed.append(index)
        floor = event.timestamp
    return changed


# -- the event store of a ledger ---------------------------------------------------------------


class DateAsISO(Transcoding):
    """Effective dates are stored as ISO strings (``2020-09-01``)."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class TupleAsList(Transcoding):
    type = tuple
    name = "tuple_list"

    def encode(self, obj: tuple[Any, ...]) -> list[Any]:
        return list(obj)

    def decode(self, data: list[Any]) -> tuple[Any, ...]:
        return tuple(data)


class LedgerApplication(Application[Any]):
    """The event store of one ledger (tables ``qingdan_events`` …)."""

    name = "qingdan"

    def register_transcodings(self, transcoder: Transcoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        transcoder.register(TupleAsList())


def persistence_env(url: str | None) -> tuple[dict[str, str], str]:
    """Translate a ledger URL into eventsourcing's environment; returns (env, kind)."""
    if url is None:
        url = os.environ.get("QINGDAN_DB") or "qingdan.db"
    if url.startswith(("postgresql://", "postgres://")):
        parts = urlparse(url)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": (parts.path or "/").lstrip("/") or "postgres",
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_CONNECT_TIMEOUT": "5",
            "POSTGRES_POOL_SIZE": "2",
            "POSTGRES_MAX_OVERFLOW": "4",
            "APPLICATION_RECORDER_TOPIC": RECORDER_TOPICS["postgres"],
        }
        schema = parse_qs(parts.query).get("schema")
        if schema:
            env["POSTGRES_SCHEMA"] = schema[0]
        return env, "postgres"
    path = url.removeprefix("sqlite:///").removeprefix("sqlite://")
    if path in ("", ":memory:"):
        path = "file::memory:?mode=memory&cache=shared"
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": "30", "APPLICATION_RECORDER_TOPIC": RECORDER_TOPICS["sqlite"]}, "sqlite"


@contextmanager
def creation_lock(env: dict[str, str], backend: str) -> Iterator[Any]:
    """Serialise eventsourcing's table creation between processes opening one PostgreSQL database.

    Its ``CREATE … IF NOT EXISTS`` statements race in the system catalogues ("tuple concurrently
    updated") when several processes start at once; an advisory lock makes them take turns. Yields
    the connection holding the lock on PostgreSQL (None on SQLite).
    """
    if backend != "postgres":
        yield None
        return
    import psycopg

    with psycopg.connect(dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"],
                         port=env["POSTGRES_PORT"], user=env["POSTGRES_USER"],
                         password=env.get("POSTGRES_PASSWORD") or None, autocommit=True,
                         connect_timeout=int(env.get("POSTGRES_CONNECT_TIMEOUT", 5))) as conn:
        conn.execute("SELECT pg_advisory_lock(7420370)")
        try:
            yield conn
        finally:
            conn.execute("SELECT pg_advisory_unlock(7420370)")


# -- is there a ledger? -----------------------------------------------------------------------------

#: ``open_ledger(create=…)``: True — create the ledger where there is no database yet or an empty
#: one; ``"new"`` — only where there is none yet (a SQLite file that does not exist, a PostgreSQL
#: schema without tables); False — the ledger must exist (reads).
Create = bool | Literal["new"]

#: The event table of a ledger, by backend (eventsourcing names it so).
EVENTS_TABLES = {"sqlite": "stored_events", "postgres": f"{LedgerApplication.name.lower()}_events"}
#: The view's table every ledger that has been read or written holds.
VIEW_TABLE = "qd_tracking"


@dataclass(frozen=True)
class StoreState:
    """What is at a ledger's location: ``absent`` (nothing yet), ``empty`` (a database without
    tables), ``ledger``, ``foreign`` (tables, none of them a ledger's), ``not-a-database``, ``no-schema``."""

    kind: str
    tables: tuple[str, ...] = ()


def describe_location(env: dict[str, str], backend: str) -> str:
    """The ledger's location as a clerk reads it (never a password)."""
    if backend == "postgres":
        schema = env.get("POSTGRES_SCHEMA")
        where = f"PostgreSQL {env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}/{env['POSTGRES_DBNAME']}"
        return f"{where}（模式 {schema}）" if schema else where
    name = env["SQLITE_DBNAME"]
    return "内存数据库" if "mode=memory" in name or name == ":memory:" else show(name, 300)


def _sqlite_state(name: str) -> StoreState:
    import sqlite3

    memory = "mode=memory" in name or name == ":memory:"
    if memory or name.startswith("file:"):
        uri = name
    else:
        path = Path(name)
        try:
            if not path.exists():
                return StoreState("absent")
        except OSError as error:  # a name too long …
            return StoreState("not-a-database", (error.strerror or str(error),))
        if path.is_dir():
            return StoreState("not-a-database", ("这是一个文件夹",))
        uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=30)
        try:
            names = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'")]
            events = EVENTS_TABLES["sqlite"]
            topic = conn.execute(f"SELECT topic FROM {events} LIMIT 1").fetchone() \
                if events in names and VIEW_TABLE not in names else None
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        return StoreState("not-a-database", (str(error),))
    return _classify(names, "sqlite", topic, "absent" if memory else "empty")


def _postgres_state(conn: Any, env: dict[str, str]) -> StoreState:
    schema = env.get("POSTGRES_SCHEMA") or "public"
    if conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone() is None:
        return StoreState("no-schema", (schema,))
    names = [r[0] for r in conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'v', 'm', 'p', 'f') ORDER BY c.relname", (schema,))]
    events = EVENTS_TABLES["postgres"]
    topic = None
    if events in names and VIEW_TABLE not in names:
        from psycopg.sql import SQL, Identifier

        topic = conn.execute(SQL("SELECT topic FROM {0}.{1} LIMIT 1").format(
            Identifier(schema), Identifier(events))).fetchone()
    return _classify(names, "postgres", topic, "absent")


def _classify(names: Sequence[str], backend: str, topic: Any, nothing: str) -> StoreState:
    """A ledger: its event table with the view's tables beside it, or holding qingdan's events (or
    none yet). Another eventsourcing application's ``stored_events`` is not a ledger."""
    if EVENTS_TABLES[backend] in names and (
            VIEW_TABLE in names or topic is None or str(topic[0]).startswith("qingdan.")):
        return StoreState("ledger")
    return StoreState("foreign", tuple(sorted(names))) if names else StoreState(nothing)


def check_state(env: dict[str, str], backend: str, where: str, create: Create, conn: Any = None) -> None:
    """Refuse to open what is not a ledger (or, with ``create`` false, no ledger at all); nothing is
    created or changed when this raises. Called under :func:`creation_lock` (``conn``: its
    connection on PostgreSQL)."""
    if create not in (True, False, "new"):
        raise ValueError(f"create must be True, False or 'new', not {create!r}")
    for attempt in range(20):
        if backend == "postgres":
            state = _postgres_state(conn, env)
        else:
            state = _sqlite_state(env["SQLITE_DBNAME"])
        # a SQLite file another process has just created is empty until its tables are: look again
        if not (state.kind == "empty" and create == "new" and attempt < 19):
            break
        time.sleep(0.1)
    if state.kind == "ledger":
        return
    if state.kind == "foreign":
        listed = "、".join(state.tables[:5]) + ("…" if len(state.tables) > 5 else "")
        raise InvalidCommand(f"{where} 中有其他程序的表（{listed}），但没有台账：这不是 qingdan 的台账数据库，"
                             "未作任何改动。请检查 --db")
    if state.kind == "not-a-database":
        raise InvalidCommand(f"{where} 不是台账数据库（{state.tables[0][:100]}），未作任何改动。请检查 --db")
    if state.kind == "no-schema":
        raise NoLedger(f"{where} 中没有模式（schema）“{state.tables[0]}”：请检查 ?schema=，或先由数据库管理员创建它")
    if create is True or (create == "new" and state.kind == "absent"):
        return
    if state.kind == "empty":
        raise NoLedger(f"{where} 是一个空数据库，里面没有台账：请检查 --db；要在此新建台账请加 --init")
    raise NoLedger(f"{where} 处没有台账（{'文件不存在' if backend == 'sqlite' else '模式中没有任何表'}）：请检查 --db 路径")


def open_event_store(env: dict[str, str], backend: str, create: Create) -> LedgerApplication:
    """The event store at ``env`` once :func:`check_state` allows it (under :func:`creation_lock`);
    a location that cannot be opened is a :class:`QingdanError` naming it."""
    where = describe_location(env, backend)
    try:
        with creation_lock(env, backend) as conn:
            check_state(env, backend, where, create, conn)
            return LedgerApplication(env=env)
    except QingdanError:
        raise
    except Exception as error:  # a server that is down or a path that cannot be opened
        raise QingdanError(f"无法打开台账数据库 {where}：{show(str(error), 300)}（未写入任何内容）") from error
