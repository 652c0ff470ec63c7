"""The one reader of the event log: pages of stored events in log order, and a record's events.

Everything that reads the log — the view's catch-up, ``verify``, the reference fold over the whole
ledger, ``export --format jsonl``, a host system following the ledger — reads it through this class,
so "position" means one thing everywhere: eventsourcing's notification id, from 1, without gaps
unless rows were deleted outside qingdan.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from .base import aggregate_id


class EventLog:
    def __init__(self, app: Any) -> None:
        self._app = app

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
