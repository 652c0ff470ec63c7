"""Reading 台账 sheets from xlsx or csv files (UTF-8, UTF-8 with BOM, or GBK)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qingdan.core.errors import InvalidCommand
from qingdan.io.layout import (
    HAZARD_HEADERS,
    MEASURE_HEADERS,
    MEASURE_MARKERS,
    Column,
    normalise_header,
)

HEADER_SEARCH_ROWS = 20
CSV_ENCODINGS = ("utf-8-sig", "gb18030")  # gb18030 reads GBK and GB2312 files too


@dataclass
class RawSheet:
    name: str
    rows: list[tuple[Any, ...]]


@dataclass
class TableSheet:
    """A sheet whose header row was found: which list it is and where each column is."""

    name: str
    kind: str  # "hazards" | "measures"
    header_row: int  # 1-based row number of the header, as the clerk sees it
    columns: dict[int, Column]  # position -> column
    headers: dict[int, str]  # position -> the header as written in the sheet
    rows: list[tuple[int, tuple[Any, ...]]]  # (1-based row number, values)
    unknown_headers: list[str]
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (header, the earlier header)


def read_raw(path: str | Path) -> list[RawSheet]:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if suffix in (".csv", ".txt"):
        return [RawSheet(path.stem, _read_csv(path))]
    if suffix == ".xls":
        raise InvalidCommand(f"{path.name}：不支持旧版 .xls 文件，请在 Excel/WPS 中另存为 .xlsx 后再导入")
    raise InvalidCommand(f"{path.name}：只能导入 .xlsx 或 .csv 文件")


def _read_xlsx(path: Path) -> list[RawSheet]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # not a zip, a damaged file …
        raise InvalidCommand(f"{path.name}：无法读取 xlsx 文件（{type(error).__name__}: {error}）") from None
    try:
        return [RawSheet(ws.title, [tuple(r) for r in ws.iter_rows(values_only=True)])
                for ws in workbook.worksheets]
    finally:
        workbook.close()


def _read_csv(path: Path) -> list[tuple[Any, ...]]:
    data = path.read_bytes()
    for encoding in CSV_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return [tuple(row) for row in csv.reader(io.StringIO(text, newline=""))]
    raise InvalidCommand(f"{path.name}：无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 csv")


def find_table(sheet: RawSheet) -> TableSheet | None:
    """Find the header row under any title rows; None if the sheet has no recognisable header."""
    best: tuple[int, int, str] | None = None  # (score, row index, kind)
    for i, row in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
        names = [normalise_header(v) for v in row]
        is_measures = any(normalise_header(m) in names for m in MEASURE_MARKERS)
        index = MEASURE_HEADERS if is_measures else HAZARD_HEADERS
        score = len({index[n].key for n in names if n in index})
        if score >= 3 and (best is None or score > best[0]):
            best = (score, i, "measures" if is_measures else "hazards")
    if best is None:
        return None
    _, i, kind = best
    index = MEASURE_HEADERS if kind == "measures" else HAZARD_HEADERS
    columns: dict[int, Column] = {}
    unknown: list[str] = []
    taken: dict[str, str] = {}
    duplicates: list[tuple[str, str]] = []
    for position, value in enumerate(sheet.rows[i]):
        name = normalise_header(value)
        column = index.get(name)
        if column is not None and column.key in taken:
            duplicates.append((str(value).strip(), taken[column.key]))
            continue
        if column is None:
            if name:
                unknown.append(str(value).strip())
            continue
        taken[column.key] = str(value).strip()
        columns[position] = column
    rows = [(n, row) for n, row in enumerate(sheet.rows[i + 1:], start=i + 2)
            if any(v is not None and str(v).strip() for v in row)]
    headers = {p: " ".join(str(sheet.rows[i][p]).split()) for p in columns}
    return TableSheet(sheet.name, kind, i + 1, columns, headers, rows, unknown, duplicates)
