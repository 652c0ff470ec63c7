"""The one reader of the event log: pages of stored events in log order, and a record's events.

Everything that reads the log — the view's catch-up, ``verify``, the reference fold over the whole
ledger, ``export --format jsonl``, a host system following the ledger — reads it through this class,
so "position" means one thing everywhere: eventsourcing's notification id, increasing along the log.
On SQLite positions run 1, 2, 3 …; on PostgreSQL a sequence gives them and a write that is retried
(two writers raced) leaves gaps, so count events by reading them, not by subtracting positions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .rules import aggregate_id


class EventLog:
    def __init__(self, app: Any, *, query: Callable[..., list[Any]] | None = None,
                 backend: str = "sqlite") -> None:
        self._app = app
        self.query = query  # raw SQL on the ledger's database, for reading rows as stored
        self.backend = backend

    @property
    def recorder(self) -> Any:
        return self._app.recorder

    def max_position(self) -> int:
        """The position of the last stored event (0 for an empty log)."""
        return self._app.recorder.max_notification_id() or 0

    def page(self, *, after: int = 0, limit: int = 1000) -> Sequence[Any]:
        """Up to ``limit`` stored events (eventsourcing ``Notification``) after position ``after``."""
        return self._app.recorder.select_notifications(start=after + 1, limit=limit)

    def pages(self, *, after: int = 0, limit: int = 1000) -> Iterator[Sequence[Any]]:
        """Every stored event after ``after``, a page at a time."""
        while page := self.page(after=after, limit=limit):
            yield page
            after = page[-1].id

    def decode(self, notification: Any) -> Any:
        """The domain event a stored event holds (upcast to its current class version)."""
        return self._app.mapper.to_domain_event(notification)

    def events(self, *, after: int = 0, limit: int = 1000) -> Iterator[tuple[Any, Any]]:
        """(stored, decoded) for every event after ``after``, in log order."""
        for page in self.pages(after=after, limit=limit):
            for notification in page:
                yield notification, self.decode(notification)

    def record(self, key: str, *, upto: int | None = None) -> list[Any]:
        """The events of one record (by number or key), in version order, up to version ``upto``."""
        return list(self._app.events.get(aggregate_id(key), lte=upto))

    def record_by_id(self, originator_id: Any, *, upto: int | None = None) -> list[Any]:
        return list(self._app.events.get(originator_id, lte=upto))

    def stored_rows(self, *, after: int, limit: int) -> list[StoredRow]:
        """The stored event rows after log position ``after``, in log order, values as stored."""
        return self._stored("{position} > ?", (after,), limit)

    def stored_rows_of(self, originator_ids: Sequence[Any], *, upto: int) -> list[StoredRow]:
        """The stored event rows of these records (record ids as the recorder takes them) at or
        before position ``upto``, in log order, values as stored."""
        ids = [i.hex if self.backend == "sqlite" and hasattr(i, "hex") else i for i in originator_ids]
        found: list[StoredRow] = []
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            found += self._stored(f"originator_id IN ({', '.join('?' * len(chunk))}) AND {{position}} <= ?",
                                  (*chunk, upto), None)
        return sorted(found, key=lambda row: row.id)

    def _stored(self, where: str, params: tuple[Any, ...], limit: int | None, *,
                typed: bool = False) -> list[StoredRow]:
        """The rows matching ``where``, values as stored. On SQLite, ``typed``: always read each
        column with its ``typeof`` (the read a plain one falls back to)."""
        recorder = self._app.recorder
        table = '"' + recorder.events_table_name.replace('"', '""') + '"'
        if self.query is None:
            raise RuntimeError("this event log was opened without SQL access")
        tail = "" if limit is None else " LIMIT ?"
        params = params if limit is None else (*params, limit)
        if self.backend == "sqlite":
            # The plain read first: when every text value is UTF-8 (anything qingdan wrote, and most
            # edits) it returns exactly what the typed read below returns, at a fraction of its cost.
            plain = None
            if not typed:
                try:
                    plain = self.query(f"SELECT rowid, originator_id, originator_version, topic, state FROM {table} "
                                       f"WHERE {where.format(position='rowid')} ORDER BY rowid{tail}", params)
                except Exception:  # text that is not UTF-8, which sqlite3 cannot return: read it typed
                    pass
            if plain is not None:
                return [StoredRow(*r) for r in plain]
            columns = ", ".join(f"typeof({c}), CASE typeof({c}) WHEN 'integer' THEN {c} WHEN 'real' THEN {c} END, "
                                f"CAST({c} AS BLOB)"
                                for c in ("originator_id", "originator_version", "topic", "state"))
            rows = self.query(f"SELECT rowid, {columns} FROM {table} WHERE {where.format(position='rowid')} "
                              f"ORDER BY rowid{tail}", params)
            return [StoredRow(r[0], *(_sqlite_value(*r[i:i + 3]) for i in range(1, 13, 3))) for r in rows]
        schema = '"' + recorder.datastore.schema.replace('"', '""') + '"'
        rows = self.query(
            f"SELECT notification_id, originator_id, originator_version, topic, state FROM {schema}.{table} "
            f"WHERE {where.format(position='notification_id')} ORDER BY notification_id{tail}", params)
        return [StoredRow(*r) for r in rows]


@dataclass(frozen=True, slots=True)
class StoredRow:
    """One row of the events table as stored, whatever its values' types (the recorder's names)."""

    id: int
    originator_id: Any
    originator_version: Any
    topic: Any
    state: Any


def _sqlite_value(kind: str, number: Any, raw: Any) -> Any:
    """A SQLite value from ``typeof(c)``, ``c`` if numeric and ``CAST(c AS BLOB)`` — read that way so
    that text which is not UTF-8 can be named instead of failing the read."""
    if kind == "null":
        return None
    if kind in ("integer", "real"):
        return number
    if kind == "text":
        return bytes(raw).decode("utf-8", "replace")
    return bytes(raw)
