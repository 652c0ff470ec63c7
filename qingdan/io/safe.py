"""Spreadsheet injection safety (text a spreadsheet would run as a formula is neutralised) and file
names built from user text (:func:`safe_file_name`)."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Prefix formula-like text (``=``, ``+``, ``-``, ``@``, tab, CR) with an apostrophe.

    Only strings are touched; numbers and dates stay real cells.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


#: Characters no file name may hold (on Windows, where clerks open the files, or anywhere).
_NOT_IN_NAMES = re.compile(r'[<>:"/\\|?*]')
#: Names Windows reserves whatever the extension.
_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                       *(f"LPT{i}" for i in range(1, 10))})


def safe_file_name(text: str, limit: int = 80) -> str:
    """``text`` (a township's name, a period) made into one file name: no folder separators, no
    ``..``, no character Windows refuses, no control or format character, at most ``limit``
    characters; ``_`` for each character taken out. Never empty."""
    text = text[:limit * 2]
    text = "".join("_" if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    text = _NOT_IN_NAMES.sub("_", text).strip().strip(".")
    text = text[:limit].strip() or "_"
    return "_" + text if text.split(".")[0].upper() in _RESERVED else text
