"""The base of every aggregate: effective date, actor and note on every event; ids from numbers.

Each aggregate's events carry ``on`` (the effective date), ``actor`` and ``note``. An event's
``apply`` is the one definition of how it changes state; it is deliberately permissive (it never
raises), because the reference fold of :mod:`qingdan.core.reference` applies subsets of a history
(only the events effective by a date, recorded by a time). The rules live in the command methods,
which check the current state and raise :class:`InvalidCommand` before any event is triggered.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from eventsourcing.domain import Aggregate

from .clock import CST, current_clock
from .errors import InvalidCommand
from .rules import (  # noqa: F401  (the rules' old home: importable from here too)
    NAMESPACE,
    OPEN_STATUSES,
    POLICY_KEY,
    POLICY_NUMBER,
    TOWNSHIP_KEY,
    aggregate_id,
    hazard_overdue,
    measure_overdue,
    no_future,
    report_number,
    task_overdue,
)


class Record(Aggregate):
    """Base of every qingdan aggregate: effective date, actor and note on every event."""

    class Event(Aggregate.Event):
        on: date
        actor: str | None
        note: str | None

        @staticmethod
        def create_timestamp() -> datetime:
            return current_clock.get()().astimezone(UTC)

    class Created(Event, Aggregate.Created):
        pass

    def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None:
        # Recorded time never goes backwards within an aggregate, whatever the clock says,
        # so "recorded at or before T" always selects a prefix of the aggregate's history.
        stamp = event_class.create_timestamp()
        if stamp < self.modified_on:
            stamp = self.modified_on
        super().trigger_event(event_class, timestamp=stamp, **kwargs)

    # Rules shared by every aggregate.
    def _check_on(self, on: date, earliest: date, what: str, earliest_label: str) -> None:
        no_future(on, current_clock.get()().astimezone(CST).date(), what, self.number)
        if on < earliest:
            raise InvalidCommand(
                f"{self.number}：{what}日期 {on} 早于{earliest_label} {earliest}"
            )


class Attachable(Record):
    """A record that takes attachments (``Ledger.attach``): hazards and measures.

    One event class serves both (its topic is ``qingdan.core.base:Attachable.Attached``); the
    content itself is stored once in ``qd_blobs`` (:mod:`qingdan.core.blobs`), in the same
    transaction as the event, which carries its sha256 so the hash chain covers it.
    """

    class Attached(Record.Event):
        sha256: str
        size: int
        media_type: str
        name: str
        kind: str
        taken_at: str | None
        gps: list[float] | None
        width: int | None
        height: int | None

        def apply(self, record: Any) -> None:
            record.attachments = (*getattr(record, "attachments", ()), {
                "sha256": self.sha256, "size": self.size, "media_type": self.media_type,
                "name": self.name, "kind": self.kind, "on": self.on, "actor": self.actor,
                "note": self.note, "recorded_at": self.timestamp, "taken_at": self.taken_at,
                "gps": tuple(self.gps) if self.gps else None, "width": self.width,
                "height": self.height})

    def _guard(self, on: date, what: str, *, step: bool = False) -> None:
        raise NotImplementedError

    def attach(self, *, on: date, actor: str | None, note: str | None, **fields: Any) -> None:
        """The record's own guard (not withdrawn or repealed, not before it began); one attachment
        of each content per record."""
        self._guard(on, "添加附件")
        for item in getattr(self, "attachments", ()):
            if item["sha256"] == fields["sha256"]:
                raise InvalidCommand(f"{self.number} 已于 {item['on']} 附上同一文件"
                                     f"（“{item['name']}”，{item['kind']}），无需重复添加")
        self.trigger_event(self.Attached, on=on, actor=actor, note=note, **fields)


AttachedEvent = Attachable.Attached
