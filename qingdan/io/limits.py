"""How big a 台账 may be: files, sheets and cells over these limits are refused, saying where.

A township's 台账 is a few thousand rows of a few dozen columns; these limits are far above that and
far below what would exhaust a clerk's PC (each one keeps the memory and time of an import bounded):

=========================  ===============  ==================================================
limit                      value            why
=========================  ===============  ==================================================
``file_bytes``             50 MB            a 台账 of 100,000 rows is under 20 MB as xlsx
``unpacked_bytes``         400 MB           an xlsx is a zip: a "zip bomb" unpacks to gigabytes
``cell_chars``             32,767           Excel's own limit for one cell
``columns``                200              a 台账 has 20–40 columns; ``XFD`` (16,384) is a sheet
                                            formatted to its last column, not a table
``rows``                   100,000          data rows in one file (a county's whole 台账)
``shared_string_chars``    1,000,000        one string of an xlsx's shared-string table
``shared_strings_chars``   50,000,000       all of them together
=========================  ===============  ==================================================

An import is one transaction (``ledger.batch()``) whatever its size; on PostgreSQL the core
stores a large batch by several INSERT statements within that transaction (see
``qingdan.core.pgstore.INSERT_CHUNK``), so no limit on the number of events is needed here.

:class:`FileTooLarge` says which limit, and where (sheet, row, column) when there is a where.
"""

from __future__ import annotations

from dataclasses import dataclass

from qingdan.core.errors import InvalidCommand


@dataclass(frozen=True)
class Limits:
    file_bytes: int = 50 * 1024 * 1024
    unpacked_bytes: int = 400 * 1024 * 1024
    cell_chars: int = 32_767
    columns: int = 200
    rows: int = 100_000
    shared_string_chars: int = 1_000_000
    shared_strings_chars: int = 50_000_000


DEFAULT_LIMITS = Limits()


class FileTooLarge(InvalidCommand):
    """A file, sheet or cell over a :class:`Limits` value: nothing was imported."""

    def __init__(self, message: str, *, sheet: str | None = None, row: int | None = None,
                 column: int | None = None) -> None:
        self.sheet, self.row, self.column = sheet, row, column
        where = []
        if sheet:
            where.append(f"工作表“{sheet[:30]}”")
        if row:
            where.append(f"第 {row} 行")
        if column:
            from openpyxl.utils import get_column_letter  # here: every command imports this module

            where.append(f"第 {get_column_letter(column)} 列" if column <= 16384 else f"第 {column} 列")
        prefix = "".join(where)
        super().__init__(f"{prefix}：{message}" if prefix else message)


def megabytes(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"
