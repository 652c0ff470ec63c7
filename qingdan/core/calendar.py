"""Working days (工作日) by China's official holiday arrangements, from the ``chinesecalendar`` package.

A deadline "15个工作日" skips weekends and the statutory holidays, and counts the 调休 Saturdays and
Sundays that are worked instead (2020-09-27 and 2020-10-10 around the National Day week, 2021-02-07
and 2021-02-20 around the Spring Festival). The State Council publishes each year's arrangement late
in the year before; ``chinesecalendar`` carries the published years only. A date outside them raises
:class:`CalendarUnknown` — never a guess that would treat a holiday as a working day.

A deadline computed here is recorded as a date together with the rule it came from (see
:func:`rule`), so a later release of the package never moves a deadline already recorded.

``qingdan.calendar`` re-exports these names for hosts and scripts.
"""

from __future__ import annotations

import functools
from bisect import bisect_left
from datetime import date, datetime, timedelta
from types import ModuleType
from typing import Any

from .errors import InvalidCommand, QingdanError

__all__ = ["CALENDAR_VERSION",  # noqa: F822  (from the module's __getattr__, looked up when asked for)
           "CalendarUnknown", "add_working_days", "calendar_version", "is_working_day", "rule",
           "supported_years", "working_days_between"]


def _cc() -> ModuleType:
    """The ``chinese_calendar`` package, imported on the first question about working days (its
    tables and the package metadata lookup of its release were a tenth of every command's start-up)."""
    import chinese_calendar

    return chinese_calendar


@functools.cache
def calendar_version() -> str:
    """The installed chinesecalendar release: recorded with every deadline computed in working days."""
    import importlib.metadata

    try:
        return importlib.metadata.version("chinesecalendar")
    except importlib.metadata.PackageNotFoundError:  # imported from a source tree
        return str(getattr(_cc(), "__version__", "unknown"))


def __getattr__(name: str) -> Any:
    """``CALENDAR_VERSION``: :func:`calendar_version`, looked up when first asked for (PEP 562)."""
    if name == "CALENDAR_VERSION":
        return calendar_version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

MAX_WORKING_DAYS = 1000


class CalendarUnknown(QingdanError):
    """A date outside the years whose holiday arrangements the installed calendar knows."""


def supported_years() -> tuple[int, int]:
    """The first and last year the installed calendar knows the holidays of."""
    holidays = getattr(getattr(_cc(), "constants", None), "holidays", None)
    if holidays:
        return min(holidays).year, max(holidays).year
    known = [y for y in range(1990, 2100) if _knows(y)]  # pragma: no cover - other package layouts
    return (known[0], known[-1]) if known else (0, -1)


def _knows(year: int) -> bool:
    try:
        _cc().is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def _unknown(day: date, why: str = "") -> CalendarUnknown:
    first, last = supported_years()
    return CalendarUnknown(
        f"{why}{day} 所在的 {day.year} 年不在已知的节假日安排之内（chinesecalendar {calendar_version()} "
        f"只含 {first}—{last} 年的法定节假日和调休），无法按工作日计算；"
        "请升级 chinesecalendar（pip install -U chinesecalendar），或直接填写日期")


# One table per year: cum[i] = working days from 1 January to day i (0-based) inclusive. Built once
# per year from chinesecalendar and dropped when the calendar function or its version changes.
_tables: dict[int, list[int]] = {}
_tables_key: tuple[Any, str] | None = None


def _table(year: int, day: date) -> list[int]:
    global _tables_key
    is_workday = _cc().is_workday
    key = (is_workday, calendar_version())
    if key != _tables_key:
        _tables.clear()
        _tables_key = key
    table = _tables.get(year)
    if table is None:
        start = date(year, 1, 1)
        count, table = 0, []
        try:
            for offset in range((date(year + 1, 1, 1) - start).days):
                count += bool(is_workday(start + timedelta(days=offset)))
                table.append(count)
        except NotImplementedError:  # how chinesecalendar says it does not know a year
            raise _unknown(day) from None
        _tables[year] = table
    return table


def _day(value: date) -> date:
    if isinstance(value, datetime):
        return value.date()
    if not isinstance(value, date):
        raise InvalidCommand(f"不是日期：{value!r}")
    return value


def _index(day: date) -> int:
    return day.timetuple().tm_yday - 1


def is_working_day(d: date) -> bool:
    """Whether ``d`` is a working day (a 调休 weekend day is; a statutory holiday is not)."""
    d = _day(d)
    table = _table(d.year, d)
    i = _index(d)
    return table[i] > (table[i - 1] if i else 0)


def add_working_days(d: date, n: int) -> date:
    """The ``n``-th working day after ``d`` (``d`` itself not counted): the last day of a period of
    "n个工作日" starting the day after ``d``. ``n`` = 0 gives ``d``."""
    d = _day(d)
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_WORKING_DAYS:
        raise InvalidCommand(f"工作日数应为 0 至 {MAX_WORKING_DAYS} 之间的整数，收到“{n}”")
    if n == 0:
        return d
    table = _table(d.year, d)
    wanted = table[_index(d)] + n
    year = d.year
    while wanted > table[-1]:
        wanted -= table[-1]
        year += 1
        if not _knows(year):
            raise _unknown(date(year, 1, 1), f"自 {d} 起 {n} 个工作日的期限延伸到 ")
        table = _table(year, date(year, 1, 1))
    return date(year, 1, 1) + timedelta(days=bisect_left(table, wanted))


def working_days_between(a: date, b: date) -> int:
    """Working days after ``a`` up to and including ``b``; negative (the working days after ``b`` up
    to and including ``a``) when ``b`` is before ``a``. So ``working_days_between(d,
    add_working_days(d, n)) == n``."""
    a, b = _day(a), _day(b)
    if b < a:
        return -working_days_between(b, a)
    first = _table(a.year, a)
    last = _table(b.year, b)
    if a.year == b.year:
        return last[_index(b)] - first[_index(a)]
    middle = sum(_table(y, date(y, 1, 1))[-1] for y in range(a.year + 1, b.year))
    return first[-1] - first[_index(a)] + middle + last[_index(b)]


def rule(working_days: int, start: date) -> dict[str, Any]:
    """The rule a deadline in working days is recorded with: how many, from which day, which
    calendar release counted them."""
    return {"working_days": working_days, "from": _day(start).isoformat(), "calendar": calendar_version()}
