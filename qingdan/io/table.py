"""Finding the table in a sheet as clerks lay it out, and telling its data rows from the rest.

A 台账 sheet has title rows (``南阳镇问题隐患清单``, ``填报单位：…  填报日期：…``), then a header of
one row or two (group cells such as 基本情况 / 隐患情况 / 整改落实情况 merged over the sub-columns),
sometimes a row of column numbers (1, 2, 3 …), the data, and a foot: 合计, 审核人：… 填表人：…
联系电话：…, 注：… . :func:`find_table` finds the header in the first rows of a sheet;
:func:`classify` says of every row after it whether it is data or why it is ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from qingdan.io.layout import (
    HAZARD_HEADERS,
    MEASURE_HEADERS,
    MEASURE_MARKERS,
    Column,
    normalise_header,
)

HEADER_SEARCH_ROWS = 20
MIN_HEADER_SCORE = 3

#: Why a row is not data, by the words its first cell begins with.
IGNORED_STARTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^(合计|小计|总计|共计|累计|总数)"), "合计行"),
    (re.compile(r"^(审核人|审核|审批人|审批|填表人|填报人|制表人|统计人|经办人|联系人|联系电话|电话|"
                r"负责人|单位负责人|主要负责人|分管负责人|分管领导|主要领导|签字|签名|盖章|单位盖章|单位（盖章）)"
                r"\s*([:：(（]|$)"), "签名栏"),
    (re.compile(r"^(填报单位|报送单位|填表单位|制表单位|统计单位|填报日期|报送日期|填报时间|填表日期|填表时间|"
                r"制表日期|制表时间|统计时间|统计日期|统计截止|截止日期|截至日期|截止时间|截至时间)"), "填报单位、日期"),
    (re.compile(r"^(注|备注|说明|填表说明|填报说明|附注|注意)\s*\d*\s*[:：、.．）)]"), "说明"),
)
COLUMN_NUMBER = re.compile(r"^[（(]?\d{1,3}[)）]?$")


@dataclass
class Table:
    """A sheet whose header was found: which list it is and where each column is."""

    name: str
    kind: str  # "hazards" | "measures"
    header_rows: tuple[int, ...]  # 1-based row numbers of the header (one or two)
    columns: dict[int, Column]  # position (0-based) -> column
    headers: dict[int, str]  # position -> the header as written in the sheet ("隐患情况/隐患描述")
    unknown_headers: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (header, the earlier header)
    header_key: tuple[str, ...] = ()  # the normalised header row, to spot it repeated
    shared: tuple[dict[str, str], dict[str, str]] | None = field(default=None, repr=False, compare=False)

    @property
    def header_row(self) -> int:
        return self.header_rows[-1]

    @property
    def index_position(self) -> int | None:
        return next((p for p, c in self.columns.items() if c.key == "index"), None)


def _clean(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split()) if value is not None else ""


def _match(index: dict[str, Column], names: list[tuple[str, ...]]) -> dict[int, tuple[Column, str]]:
    """Each position's column: the first of its candidate names (sub-header, group + sub-header) known."""
    found: dict[int, tuple[Column, str]] = {}
    for position, candidates in enumerate(names):
        for candidate in candidates:
            column = index.get(normalise_header(candidate))
            if column is not None:
                found[position] = (column, candidate)
                break
    return found


def _single(row: tuple[Any, ...]) -> list[tuple[str, ...]]:
    return [(_clean(v),) if _clean(v) else () for v in row]


def _combined(top: tuple[Any, ...], sub: tuple[Any, ...]) -> list[tuple[str, ...]]:
    """A two-row header: the sub-header where there is one, else the cell above (merged downwards).

    The group a column is under is the last group cell at or to its left (a merged cell keeps its
    value in its first column); ``整改`` + ``期限`` is tried as ``整改期限`` when ``期限`` alone is
    not known."""
    names: list[tuple[str, ...]] = []
    group = ""
    for position in range(max(len(top), len(sub))):
        above = _clean(top[position]) if position < len(top) else ""
        below = _clean(sub[position]) if position < len(sub) else ""
        if above:
            group = above
        if below:
            bare = group.removesuffix("情况").removesuffix("落实")
            names.append((below, group + below, bare + below) if group else (below,))
        elif above:
            names.append((above,))
        else:
            names.append(())
    return names


def _score(found: dict[int, tuple[Column, str]]) -> int:
    return len({c.key for c, _ in found.values()})


def _kind(rows: list[tuple[Any, ...]]) -> str:
    markers = {normalise_header(m) for m in MEASURE_MARKERS}
    names = {normalise_header(v) for row in rows for v in row}
    return "measures" if markers & names else "hazards"


def find_table(name: str, head: list[tuple[int, tuple[Any, ...]]]) -> Table | None:
    """The header among the first rows of a sheet (``(row number, values)``), or None if none.

    One header row or two: two when together they name more columns than either alone."""
    best: tuple[int, int, int, str, list[tuple[str, ...]]] | None = None  # score, -rows, index, kind, names
    for i, (_, row) in enumerate(head[:HEADER_SEARCH_ROWS]):
        options = [(1, _single(row), [row])]
        if i + 1 < len(head) and head[i + 1][0] == head[i][0] + 1:
            options.append((2, _combined(row, head[i + 1][1]), [row, head[i + 1][1]]))
        for size, names, rows in options:
            kind = _kind(rows)
            score = _score(_match(MEASURE_HEADERS if kind == "measures" else HAZARD_HEADERS, names))
            if score >= MIN_HEADER_SCORE and (best is None or (score, -size) > (best[0], best[1])):
                best = (score, -size, i, kind, names)
    if best is None:
        return None
    _, minus_size, i, kind, names = best
    size = -minus_size
    index = MEASURE_HEADERS if kind == "measures" else HAZARD_HEADERS
    table = Table(name, kind, tuple(head[i + k][0] for k in range(size)), {}, {})
    taken: dict[str, str] = {}
    found = _match(index, names)
    for position, candidates in enumerate(names):
        if position not in found:
            if candidates:
                table.unknown_headers.append(candidates[0])
            continue
        column, written = found[position]
        if column.key in taken:
            table.duplicates.append((written, taken[column.key]))
            continue
        taken[column.key] = written
        table.columns[position] = column
        table.headers[position] = written
    table.header_key = tuple(normalise_header(c[0]) if c else "" for c in names)
    return table


def classify(table: Table, number: int, values: tuple[Any, ...]) -> str | None:
    """Why a row after the header is not data (``"合计行"``, ``"签名栏"`` …), or None for a data row."""
    texts = [(p, _clean(v)) for p, v in enumerate(values) if _clean(v)]
    if not texts:
        return "空行"
    if len(texts) == 1 and texts[0][0] == table.index_position and COLUMN_NUMBER.match(texts[0][1]):
        return "只有序号"
    if tuple(normalise_header(v) for v in values) == table.header_key[:len(values)] \
            and len(texts) >= MIN_HEADER_SCORE:
        return "重复的表头"
    first = texts[0][1].replace(" ", "")
    candidates = [first]
    if texts[0][0] == table.index_position and len(texts) > 1:  # 序号 filled, 合计 in the next cell
        candidates.append(texts[1][1].replace(" ", ""))
    for text in candidates:
        for pattern, reason in IGNORED_STARTS:
            if pattern.match(text):
                return reason
    if number - table.header_row <= 2 and len(texts) >= MIN_HEADER_SCORE \
            and all(COLUMN_NUMBER.match(t) for _, t in texts):
        numbers = [int(re.sub(r"\D", "", t)) for _, t in texts]
        if numbers == sorted(numbers) and len(set(numbers)) == len(numbers):
            return "列序号行"
    return None


@dataclass
class Ignored:
    """Rows that are not data, with why: consecutive rows of one reason are one entry."""

    sheet: str
    first: int
    last: int
    reason: str

    @property
    def rows(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}–{self.last}"


def ignored_runs(sheet: str, rows: Iterator[tuple[int, str]]) -> list[Ignored]:
    runs: list[Ignored] = []
    for number, reason in rows:
        last = runs[-1] if runs else None
        if last is not None and last.reason == reason and last.last == number - 1:
            last.last = number
        else:
            runs.append(Ignored(sheet, number, number, reason))
    return runs
