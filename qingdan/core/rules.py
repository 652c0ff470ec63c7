"""The rules and keys the read side shares with the aggregates, with nothing heavy imported: the
record id of a number, the numbers of the one-per-ledger records and of report submissions, when a
record is overdue, and the one rule against future facts.

:mod:`qingdan.core.base` (the aggregates' base) re-exports them; a process that only reads imports
this module and never the aggregates (whose event classes cost a read command's start-up).
"""

from __future__ import annotations

import functools
import uuid
from datetime import date

from .errors import InvalidCommand

NAMESPACE = uuid.UUID("6b1d3f0e-2f5c-5d2a-9a7e-71a4e8c0d1a1")
OPEN_STATUSES = ("reported", "rectifying")
#: a 制度措施 can be overdue only while it is still only planned
MEASURE_OPEN_STATUSES = ("planned",)


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
    return status in MEASURE_OPEN_STATUSES and due is not None and due < as_of


def task_overdue(status: str, due: date | None, as_of: date) -> bool:
    """Not done and its due date passed before ``as_of``."""
    return status != "done" and due is not None and due < as_of
