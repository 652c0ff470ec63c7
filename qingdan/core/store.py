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

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteTransaction

#: ``restamp(last)``: called under the log's write lock with the last stored event (None for an empty
#: log); returns the stored events to insert.
Restamp = Callable[[Notification | None], Sequence[StoredEvent]]


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
            return self._insert_events(cursor, restamp(last), **kwargs)


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
            # insert_events keeps its own reference to the list, so change it in place.
            stored_events[:] = restamp(last)  # type: ignore[index]
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
