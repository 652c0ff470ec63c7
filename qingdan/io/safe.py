"""Spreadsheet injection safety: text that a spreadsheet would run as a formula is neutralised."""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Prefix formula-like text (``=``, ``+``, ``-``, ``@``, tab, CR) with an apostrophe.

    Only strings are touched; numbers and dates stay real cells.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
