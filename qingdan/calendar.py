"""Working days (工作日) by China's official holiday arrangements: ``is_working_day``,
``add_working_days``, ``working_days_between``, ``CALENDAR_VERSION`` and ``CalendarUnknown``.

The one implementation is :mod:`qingdan.core.calendar` (the ledger's commands and checks count with
it, and the core may not import from above itself); this module is its public home for hosts and
scripts: ``from qingdan.calendar import add_working_days``.
"""

from __future__ import annotations

from qingdan.core.calendar import (
    CALENDAR_VERSION,
    CalendarUnknown,
    add_working_days,
    is_working_day,
    rule,
    supported_years,
    working_days_between,
)

__all__ = ["CALENDAR_VERSION", "CalendarUnknown", "add_working_days", "is_working_day", "rule",
           "supported_years", "working_days_between"]
