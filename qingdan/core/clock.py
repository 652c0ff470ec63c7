"""Time: the two axes of the bitemporal model, and the clock of the write in progress.

Effective dates (业务日期) are calendar days in China Standard Time; recorded times (登记时间) are aware
datetimes, stored in UTC and shown in Asia/Shanghai. A bare date given as ``known_at`` means the end
of that day in China Standard Time.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, date, datetime, time, timedelta, timezone

CST = timezone(timedelta(hours=8), "Asia/Shanghai")

#: The effective dates the ledger takes (a date outside is a typing slip, not a fact).
EARLIEST, LATEST = date(1990, 1, 1), date(2099, 12, 31)
#: The recorded times a ``known_at`` may name.
EARLIEST_KNOWN, LATEST_KNOWN = datetime(1990, 1, 1, tzinfo=CST), datetime(2200, 1, 1, tzinfo=CST)


def system_now() -> datetime:
    return datetime.now(UTC)


#: The clock of the write in progress; the ledger sets it around every command so the recorded
#: time of an event comes from the store's injectable clock, never from the caller.
current_clock: ContextVar[Callable[[], datetime]] = ContextVar("qingdan_clock", default=system_now)


def today() -> date:
    """Today in China Standard Time, by the clock of the write in progress."""
    return current_clock.get()().astimezone(CST).date()


def end_of_day(d: date) -> datetime:
    """A bare date as ``known_at`` means the end of that day in China Standard Time."""
    return datetime.combine(d, time(23, 59, 59, 999999), tzinfo=CST)


def as_known_at(value: date | datetime | None) -> datetime | None:
    """``known_at`` as given (a date, a naive or aware datetime, or None) as an aware datetime."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=CST)
        return value
    return end_of_day(value)
