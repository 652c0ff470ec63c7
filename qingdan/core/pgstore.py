"""The PostgreSQL recorder: eventsourcing's, plus the step taken under its write lock (see
:mod:`qingdan.core.store`), the write's view rows in the same transaction, attachments, large
batches in chunks, and the restore of a bundle.

A module of its own so that a SQLite ledger never imports ``eventsourcing.postgres`` and psycopg
(about 70 ms of every command's start-up); eventsourcing loads it by its topic
(:data:`qingdan.core.store.RECORDER_TOPICS`) when a ledger's URL is a PostgreSQL one.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder

from . import blobs as _blobs
from .store import LOOKUP_CHUNK, LogNotEmpty, More, Restamp, Within, locked_reads

#: Events per INSERT statement on PostgreSQL (an event's state is about 0.5 KB: 1,000 make ~0.5 MB).
INSERT_CHUNK = 1_000
#: A write of at most this many events and bytes of state runs in pipeline mode (see insert_events).
PIPELINE_EVENTS, PIPELINE_BYTES = 100, 256 * 1024


def in_pipeline(conn: Any) -> bool:
    """Whether ``conn`` (psycopg's) is in pipeline mode: statements are queued, not sent one by one."""
    from psycopg import pq

    return bool(conn.pgconn.pipeline_status != pq.PipelineStatus.OFF)



class PostgresLedgerRecorder(PostgresApplicationRecorder):
    #: Notification ids of a chunked insert, by cursor, until eventsourcing asks for them.
    _chunked_ids: dict[int, list[int]] = {}

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        within: Within | None = kwargs.pop("within", None)
        more: More | None = kwargs.pop("more", None)
        if within is None or (not stored_events and more is None):
            return super().insert_events(stored_events, **kwargs)
        # The library's insert, then ``within`` in the same transaction. A small write (a single
        # command) runs in psycopg's pipeline mode, as the library's own insert does: statements
        # whose results are not needed yet go out with the next that is — BEGIN with the lock and the
        # read under it, the view's writes with the COMMIT — four round trips where there were ten,
        # each also a wake-up of the server process on a busy machine. A large batch does not:
        # one statement of more than about 4 MB hangs the pipeline (psycopg#685, see below).
        small = more is None and len(stored_events) <= PIPELINE_EVENTS and \
            sum(len(e.state) for e in stored_events) + sum(len(b[1]) for b in kwargs.get("blobs", ())) \
            <= PIPELINE_BYTES  # an attachment's bytes too
        with self.datastore.get_connection() as conn, \
                (conn.pipeline() if small else nullcontext()) as pipeline, conn.transaction():
            with conn.cursor() as curs:
                self._insert_stored_events(curs, stored_events, **kwargs)
                if pipeline is not None:
                    pipeline.sync()  # the insert's result (and any error) before its ids are read
                ids = list(self._fetch_ids_after_insert_events(curs, stored_events, **kwargs) or ())
            if ids:
                within(ids, conn)
            for chunk in more() if more is not None else ():  # the rest of a large batch, same transaction
                chunk_ids: list[int] = []
                with conn.cursor() as curs:
                    for start in range(0, len(chunk), INSERT_CHUNK):
                        PostgresAggregateRecorder._insert_stored_events(
                            self, curs, chunk[start:start + INSERT_CHUNK], **kwargs)
                        chunk_ids.extend(row["notification_id"] for row in curs.fetchall())
                if chunk_ids:
                    within(chunk_ids, conn)
                ids += chunk_ids
        return ids

    def _insert_stored_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        restamp: Restamp | None = kwargs.pop("restamp", None)
        blobs: Sequence[_blobs.Blob] = kwargs.pop("blobs", ())
        watch: Sequence[UUID] = kwargs.pop("watch", ())
        if restamp is not None:
            from psycopg.sql import SQL, Identifier, Literal

            # One round trip: the library's lock (its lock timeout, then the table), its notification
            # to listeners (sent at commit, so only for a write that commits), the log's last event
            # and, in that statement, the last version of each watched record (what ``newer`` and
            # ``lookup`` would each have asked separately) — sent as one text of several statements
            # (psycopg's simple query, no parameters: the record ids are quoted by psycopg's Literal).
            # Seven statements of a round trip each before (the lock was taken twice), of 21 a command.
            table = SQL("{0}.{1}").format(Identifier(self.datastore.schema), Identifier(self.events_table_name))
            probes = SQL("").join(
                SQL(", (SELECT MAX(originator_version) FROM {0} WHERE originator_id = {1}) AS {2}").format(
                    table, Literal(u), Identifier(f"v{i}")) for i, u in enumerate(watch))
            statements = [*self.lock_table_statements, SQL("NOTIFY {0}").format(Identifier(self.channel_name)),
                          SQL("SELECT notification_id, originator_id, originator_version, topic, state{0} "
                              "FROM {1} ORDER BY notification_id DESC LIMIT 1").format(probes, table)]
            if in_pipeline(curs.connection):  # queued, sent with the read (a text of several is refused)
                for statement in statements[:-1]:
                    curs.connection.execute(statement)
                curs.execute(statements[-1])
            else:
                curs.execute(SQL("; ").join(statements))
                while curs.nextset():
                    pass  # to the last statement's result
            row = curs.fetchone()
            last = None if row is None else Notification(
                id=row["notification_id"], originator_id=row["originator_id"],
                originator_version=row["originator_version"], topic=row["topic"],
                state=bytes(row["state"]) if row["state"] is not None else b"")
            # an empty log holds no version of anything
            versions = {u: (None if row is None else row[f"v{i}"]) for i, u in enumerate(watch)}
            def newer(originator_id: Any, version: int) -> bool:
                curs.execute(SQL("SELECT 1 FROM {0}.{1} WHERE originator_id = %s AND originator_version > %s "
                                 "LIMIT 1").format(Identifier(self.datastore.schema),
                                                   Identifier(self.events_table_name)),
                             (originator_id, version))
                return curs.fetchone() is not None

            def lookup(ids: Sequence[UUID]) -> set[UUID]:
                found: set[UUID] = set()
                for i in range(0, len(ids), LOOKUP_CHUNK):
                    curs.execute(SQL("SELECT DISTINCT originator_id FROM {0}.{1} WHERE originator_id = ANY(%s)").format(
                        Identifier(self.datastore.schema), Identifier(self.events_table_name)),
                        (list(ids[i:i + LOOKUP_CHUNK]),))
                    found.update(r["originator_id"] for r in curs.fetchall())
                return found

            # insert_events keeps its own reference to the list, so change it in place.
            stored_events[:] = restamp(last, locked_reads(versions, newer, lookup))  # type: ignore[index]
        # After restamp (which may refuse the write, and is Python: eventsourcing commits what the
        # transaction holds when Python code raises here); a failing SQL statement aborts it all.
        _blobs.insert_postgres(curs, self.datastore.schema, blobs)
        if not stored_events:  # a batch whose records were all set aside: they follow (``more``)
            if restamp is None:
                self._notify_channel(curs)
            self._chunked_ids[id(curs)] = []
            return
        if len(stored_events) <= INSERT_CHUNK:
            if restamp is not None:
                # Locked and notified above: the library's insert would send those three statements
                # again, three more round trips of a single command for nothing.
                PostgresAggregateRecorder._insert_stored_events(self, curs, stored_events, **kwargs)
                return
            super()._insert_stored_events(curs, stored_events, **kwargs)
            return
        # A batch (an import) of many events: inserted by several INSERTs within the same
        # transaction, each fetched before the next is sent. One statement of more than about 4 MB
        # hangs psycopg's pipeline mode for ever (psycopg#685: the client blocks sending while the
        # server blocks replying), so no statement here is near that size.
        if restamp is None:
            self._lock_table(curs)
            self._notify_channel(curs)
        ids: list[int] = []
        for start in range(0, len(stored_events), INSERT_CHUNK):
            PostgresAggregateRecorder._insert_stored_events(
                self, curs, stored_events[start:start + INSERT_CHUNK], **kwargs)
            ids.extend(row["notification_id"] for row in curs.fetchall())
        self._chunked_ids[id(curs)] = ids  # read back by _fetch_ids_after_insert_events

    def _fetch_ids_after_insert_events(self, curs: Any, stored_events: Sequence[StoredEvent],
                                       **kwargs: Any) -> Sequence[int] | None:
        ids = self._chunked_ids.pop(id(curs), None)
        if ids is not None:
            return ids
        return super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)


    def restore(self, rows: Sequence[Any], blobs: Sequence[_blobs.Blob]) -> None:
        from psycopg.sql import SQL, Identifier

        table = SQL("{0}.{1}").format(Identifier(self.datastore.schema), Identifier(self.events_table_name))
        with self.datastore.transaction(commit=True) as curs:
            self._lock_table(curs)
            curs.execute(SQL("SELECT 1 FROM {0} LIMIT 1").format(table))
            if curs.fetchone() is not None:
                raise LogNotEmpty
            _blobs.insert_postgres(curs, self.datastore.schema, blobs)
            curs.executemany(SQL("INSERT INTO {0} (originator_id, originator_version, topic, state, "
                                 "notification_id) VALUES (%s, %s, %s, %s, %s)").format(table),
                             [(r.originator_id, r.originator_version, r.topic, r.state, r.id) for r in rows])
            if rows:  # the next event goes after the restored ones
                curs.execute("SELECT setval(pg_get_serial_sequence(%s, 'notification_id'), %s)",
                             (table.as_string(curs), max(r.id for r in rows)))
