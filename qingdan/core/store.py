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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Notification, StoredEvent, Transcoder, Transcoding
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteTransaction

#: ``lookup(ids)``: which of these record ids the log already holds, read in the write transaction.
Lookup = Callable[[Sequence[UUID]], set[UUID]]
#: ``restamp(last, lookup)``: called under the log's write lock with the last stored event (None for an
#: empty log) and a :data:`Lookup`; returns the stored events to insert.
Restamp = Callable[[Notification | None, Lookup], Sequence[StoredEvent]]
LOOKUP_CHUNK = 500


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
        if restamp is None:
            return super().insert_events(stored_events, **kwargs)
        with self.datastore.get_connection(commit=True) as conn, \
                _ImmediateTransaction(conn, commit=True) as cursor, cursor:
            cursor.execute(f"SELECT rowid, originator_id, originator_version, topic, state "
                           f"FROM {self.events_table_name} ORDER BY rowid DESC LIMIT 1")
            row = cursor.fetchone()
            last = None if row is None else Notification(
                id=row[0], originator_id=self.convert_originator_id(row[1]),
                originator_version=row[2], topic=row[3], state=row[4])

            def lookup(ids: Sequence[UUID]) -> set[UUID]:
                found: set[UUID] = set()
                for i in range(0, len(ids), LOOKUP_CHUNK):
                    chunk = [u.hex for u in ids[i:i + LOOKUP_CHUNK]]
                    cursor.execute(f"SELECT DISTINCT originator_id FROM {self.events_table_name} "
                                   f"WHERE originator_id IN ({', '.join('?' * len(chunk))})", chunk)
                    found.update(UUID(r[0]) for r in cursor.fetchall())
                return found

            return self._insert_events(cursor, restamp(last, lookup), **kwargs)


class PostgresLedgerRecorder(PostgresApplicationRecorder):
    def _insert_stored_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        restamp: Restamp | None = kwargs.pop("restamp", None)
        if restamp is not None:
            from psycopg.sql import SQL, Identifier

            self._lock_table(curs)  # taken again by the insert below: a no-op within one transaction
            curs.execute(SQL("SELECT notification_id, originator_id, originator_version, topic, state "
                             "FROM {0}.{1} ORDER BY notification_id DESC LIMIT 1").format(
                Identifier(self.datastore.schema), Identifier(self.events_table_name)))
            row = curs.fetchone()
            last = None if row is None else Notification(
                id=row["notification_id"], originator_id=row["originator_id"],
                originator_version=row["originator_version"], topic=row["topic"],
                state=bytes(row["state"]) if row["state"] is not None else b"")

            def lookup(ids: Sequence[UUID]) -> set[UUID]:
                found: set[UUID] = set()
                for i in range(0, len(ids), LOOKUP_CHUNK):
                    curs.execute(SQL("SELECT DISTINCT originator_id FROM {0}.{1} WHERE originator_id = ANY(%s)").format(
                        Identifier(self.datastore.schema), Identifier(self.events_table_name)),
                        (list(ids[i:i + LOOKUP_CHUNK]),))
                    found.update(r["originator_id"] for r in curs.fetchall())
                return found

            # insert_events keeps its own reference to the list, so change it in place.
            stored_events[:] = restamp(last, lookup)  # type: ignore[index]
        super()._insert_stored_events(curs, stored_events, **kwargs)


RECORDER_TOPICS = {
    "sqlite": "qingdan.core.store:SQLiteLedgerRecorder",
    "postgres": "qingdan.core.store:PostgresLedgerRecorder",
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
def creation_lock(env: dict[str, str], backend: str) -> Iterator[None]:
    """Serialise eventsourcing's table creation between processes opening one PostgreSQL database.

    Its ``CREATE … IF NOT EXISTS`` statements race in the system catalogues ("tuple concurrently
    updated") when several processes start at once; an advisory lock makes them take turns.
    """
    if backend != "postgres":
        yield
        return
    import psycopg

    with psycopg.connect(dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"],
                         port=env["POSTGRES_PORT"], user=env["POSTGRES_USER"],
                         password=env.get("POSTGRES_PASSWORD") or None, autocommit=True,
                         connect_timeout=int(env.get("POSTGRES_CONNECT_TIMEOUT", 5))) as conn:
        conn.execute("SELECT pg_advisory_lock(7420370)")
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(7420370)")
