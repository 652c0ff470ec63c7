"""Dates as clerks type them: 2020-09-01, 2020/9/1, 2020.9.1, 2020年9月1日, 20200901, Excel cells."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

CST = timezone(timedelta(hours=8), "Asia/Shanghai")
EXCEL_EPOCH = date(1899, 12, 30)  # Excel's day 0 (with its 1900 leap-year bug folded in)

_SEPARATED = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SERIAL = re.compile(r"^\d{5}(\.0+)?$")
_TIME_TAIL = re.compile(r"[T\s]+\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?$")
_ZONE = re.compile(r"([+-]\d{2}:?\d{2}|Z)$")
_WORDS = {"今天": 0, "今日": 0, "today": 0, "昨天": -1, "昨日": -1, "yesterday": -1}

FORMATS_HELP = "2020-09-01、2020/9/1、2020.9.1、2020年9月1日、20200901"


def parse_date(value: object, *, today: date | None = None) -> date | None:
    """A date from a cell or an option; None for an empty value; ``ValueError`` (in Chinese) otherwise.

    Accepts date and datetime objects (Excel date cells), Excel serial numbers (e.g. 44075),
    the written forms of :data:`FORMATS_HELP` (with an optional time part), and 今天/昨天.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise ValueError(f"不是日期：“{value}”")
    if isinstance(value, int | float):
        return _serial(value)
    text = str(value).strip().replace("\u3000", " ")
    if not text:
        return None
    lowered = text.lower()
    if lowered in _WORDS:
        return (today or datetime.now(CST).date()) + timedelta(days=_WORDS[lowered])
    if _SERIAL.match(text):
        return _serial(float(text))
    tail = _TIME_TAIL.search(text)
    if tail is not None:
        _check_time(tail.group(0), value)
        text = text[:tail.start()]
    match = _SEPARATED.match(text) or _COMPACT.match(text)
    if match:
        year, month, day = (int(part) for part in match.groups()[:3])
        try:
            return date(year, month, day)
        except ValueError:
            raise ValueError(f"日期不存在：“{value}”") from None
    raise ValueError(f"不是有效日期：“{value}”（可写作 {FORMATS_HELP}）")


def _check_time(tail: str, value: object) -> None:
    """A time written after a date must exist (``25:00`` does not)."""
    hour, minute, *second = (int(float(part)) for part in re.findall(r"\d+(?:\.\d+)?", _ZONE.sub("", tail))[:3])
    if hour > 23 or minute > 59 or (second and second[0] > 59):
        raise ValueError(f"时间不存在：“{value}”（时应为 0–23，分、秒应为 0–59）")


def _serial(number: float) -> date:
    if not 1 <= number < 2958466:
        raise ValueError(f"不是有效日期：“{number}”")
    return EXCEL_EPOCH + timedelta(days=int(number))


def parse_datetime(value: object) -> date | datetime | None:
    """A ``known_at``: an ISO datetime (China Standard Time if no zone) or a bare date (end of that day)."""
    if value is None or isinstance(value, datetime):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return parse_date(text)
    if len(text) <= 10:  # a bare date such as 2020-12-25
        return moment.date()
    return moment if moment.tzinfo else moment.replace(tzinfo=CST)
