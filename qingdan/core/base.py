"""The base of every aggregate: effective date, actor and note on every event; ids from numbers.

Each aggregate's events carry ``on`` (the effective date), ``actor`` and ``note``. An event's
``apply`` is the one definition of how it changes state; it is deliberately permissive (it never
raises), because the reference fold of :mod:`qingdan.core.reference` applies subsets of a history
(only the events effective by a date, recorded by a time). The rules live in the command methods,
which check the current state and raise :class:`InvalidCommand` before any event is triggered.
"""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, date, datetime
from typing import Any

from eventsourcing.domain import Aggregate

from .clock import CST, current_clock
from .errors import InvalidCommand

NAMESPACE = uuid.UUID("6b1d3f0e-2f5c-5d2a-9a7e-71a4e8c0d1a1")
OPEN_STATUSES = ("reported", "rectifying")


@functools.lru_cache(maxsize=65536)
def aggregate_id(number: str) -> uuid.UUID:
    """The aggregate id of a number (``H-fire-2020-0007``): the same number is the same aggregate."""
    return uuid.uuid5(NAMESPACE, number)


#: The numbers and keys of the one-per-ledger records (here, below the aggregates, so the read side
#: can name them without importing the aggregates).
TOWNSHIP_KEY = "township"
POLICY_NUMBER = "ledger"
POLICY_KEY = "policy:" + POLICY_NUMBER


def report_number(period: str, campaign: str | None = None) -> str:
    """The number of a period's submissions (``R-2020-09``, ``R-2020-09-fire``)."""
    return f"R-{period}" + (f"-{campaign}" if campaign else "")


def no_future(on: date, today: date, what: str = "业务", subject: str | None = None) -> None:
    """The one rule against future facts: an effective date is never after today."""
    if on > today:
        prefix = f"{subject}：" if subject else ""
        raise InvalidCommand(f"{prefix}{what}日期 {on} 晚于今天 {today}，不能登记未来的事实")


def hazard_overdue(status: str, deadline: date | None, as_of: date) -> bool:
    """Not completed and its deadline passed before ``as_of``."""
    return status in OPEN_STATUSES and deadline is not None and deadline < as_of


def measure_overdue(status: str, due: date | None, as_of: date) -> bool:
    """Still only planned and its due date passed before ``as_of``."""
    return status == "planned" and due is not None and due < as_of


def task_overdue(status: str, due: date | None, as_of: date) -> bool:
    """Not done and its due date passed before ``as_of``."""
    return status != "done" and due is not None and due < as_of


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
