"""One place that writes results: data on stdout (or ``--output``), messages on stderr.

``OutputFormat``: ``table`` (rich, for people), ``json`` (the rows' English field names; ``[]`` when
empty), ``csv``, ``xlsx`` (needs ``--output``) and ``md``.

Tables on a terminal fit its width: numbers and dates are never broken, columns are as wide as their
content needs, Chinese text is broken so that no line starts with a closing punctuation mark (and
none ends with an opening one), and when the columns cannot all fit the least important are left out
with a note saying which (``--columns`` picks them). Not on a terminal (a pipe, a file) a table is
plain text at its full width, one line per row.
"""

from __future__ import annotations

import functools
import io
import json
import re
import sys
import unicodedata
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from qingdan.core.rows import json_default
from qingdan.core.text import json_safe, terminal_safe
from qingdan.io.atomic import atomic_write, check_output_path
from qingdan.io.layout import Column
from qingdan.io.writer import MEASURE_SHEET, Sheet, csv_text, write_csv, write_workbook

if TYPE_CHECKING:
    from rich.console import Console


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    xlsx = "xlsx"
    md = "md"


def stderr() -> Console:
    """The console for messages: wrapped to a terminal's width, never wrapped into a log or a pipe
    (a line broken in the middle of a path or a number cannot be searched for)."""
    import sys

    from rich.console import Console

    return Console(stderr=True, soft_wrap=not sys.stderr.isatty())


def message(text: str, *, style: str | None = None) -> None:
    """A message for people: always on stderr, so stdout stays data. The text is never read as
    markup and its control and format characters are shown escaped (:func:`terminal_text`)."""
    stderr().print(terminal_text(text), highlight=False, markup=False, emoji=False, style=style)


#: The most of one message written to the terminal (an echoed value is cut long before this).
MESSAGE_MAX = 4000


def terminal_text(text: str, limit: int = MESSAGE_MAX) -> str:
    """``text`` as it may reach a terminal: at most ``limit`` characters (cut before anything
    else), no ESC or other control or format character raw (:func:`qingdan.core.text.terminal_safe`)."""
    if len(text) > limit:
        text = text[:limit] + f"…（共 {len(text)} 字）"
    return terminal_safe(text)


def columns(*specs: str) -> tuple[Column, ...]:
    """``columns("number:编号:20", "title:名称:40")`` — key, header, optional width."""
    out = []
    for spec in specs:
        key, header, *rest = spec.split(":")
        out.append(Column(key, header, (), int(rest[0]) if rest else 12))
    return tuple(out)


def to_json(data: Any) -> str:
    """JSON for people and scripts alike: Chinese as it is, an invisible or direction character kept
    from old data written as its escape (:func:`qingdan.core.text.json_safe`)."""
    return json_safe(json.dumps(data, ensure_ascii=False, indent=2, default=json_default))


def emit(fmt: OutputFormat, output: Path | None, sheets: Sequence[Sheet], data: Any,
         *, brief: dict[str, Sequence[str]] | None = None, shown: str | Sequence[str] | None = None,
         summary: dict[str, str] | None = None) -> None:
    """Write ``sheets`` (table, csv, xlsx, md) or ``data`` (json) to ``output`` or stdout.

    ``brief``: for the table format, the column keys to show per sheet name (people read a few
    columns on screen; the files get them all). ``shown``: the columns asked for with ``--columns``
    (keys or headers, for every format but json; ``全部``/``all`` for all of them). ``summary``: a
    line under a sheet's table, by sheet name (``显示 6 条，共 13 条``).

    A file is written atomically (:func:`qingdan.io.atomic.atomic_write`): all of it, or on any
    failure nothing, with an existing file left as it was. Its path is checked first (a missing
    folder or a folder is a clear error).
    """
    if output is not None:
        check_output_path(output)
    if isinstance(shown, str):
        shown = [part for part in re.split(r"[,，、;；\s]+", shown) if part]
    if shown:
        sheets = [select_columns(sheet, shown) for sheet in sheets]
        brief = {}
    if fmt is OutputFormat.json:
        _write_text(output, to_json(data) + "\n")
    elif fmt is OutputFormat.xlsx:
        if output is None:
            raise typer.BadParameter("xlsx 格式须用 --output 指定文件 — xlsx needs --output FILE",
                                     param_hint="--output")
        write_workbook(output, sheets)
    elif fmt is OutputFormat.csv:
        if output is None:
            buffer = io.StringIO()
            for i, sheet in enumerate(sheets):
                if i:
                    buffer.write("\n")
                write_csv(buffer, sheet, title=len(sheets) > 1)
            sys.stdout.write(terminal_safe(buffer.getvalue()))  # the file keeps the data; a screen never gets ESC
        else:
            with atomic_write(output, "w", encoding="utf-8-sig", newline="") as stream:  # BOM: Excel reads it
                for i, sheet in enumerate(sheets):
                    if i:
                        stream.write("\n")
                    write_csv(stream, sheet, title=len(sheets) > 1)
    elif fmt is OutputFormat.md:
        _write_text(output, "\n".join(_markdown(sheet) for sheet in sheets))
    else:
        _table(output, sheets, brief or {}, summary or {})
    if output is not None:
        message(f"已写入 {output}")


def _write_text(output: Path | None, text: str) -> None:
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        with atomic_write(output, "w", encoding="utf-8") as stream:
            stream.write(text)


def _markdown(sheet: Sheet) -> str:
    lines = []
    if sheet.title:
        lines += [f"## {terminal_safe(sheet.title)}", ""]
    lines.append("| " + " | ".join(c.header for c in sheet.columns) + " |")
    lines.append("|" + "|".join("---" for _ in sheet.columns) + "|")
    for values in sheet.rows:
        cells = [terminal_safe(csv_text(v)).replace("|", "\\|").replace("\n", " ") for v in values]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _table(output: Path | None, sheets: Sequence[Sheet], brief: dict[str, Sequence[str]],
           summary: dict[str, str]) -> None:
    if output is None:
        _print_tables(sys.stdout, sheets, brief, summary, terminal=sys.stdout.isatty())
        return
    with atomic_write(output, "w", encoding="utf-8") as stream:
        _print_tables(stream, sheets, brief, summary, terminal=False)


# -- tables that read well --------------------------------------------------------------------------

#: Closing marks a line never starts with, opening marks a line never ends with (禁则).
NO_LINE_START = frozenset("，。、；：？！）》」』】〕〉”’…—·％,.;:?!)]}>%")
NO_LINE_END = frozenset("（《「『【〔〈“‘([{<")
#: What is never broken: record numbers, dates, amounts, words in Latin letters.
_UNBROKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-/:+@#%]*|\s+|.", re.S)
#: Columns that are identifiers: shown whole, never wrapped.
ID_KEYS = frozenset({"number", "id", "unit_number", "task_id", "target_id", "period", "version"})
#: Which columns stay when a terminal is too narrow for them all, most important first; the rest
#: (and any column not named here) go before these, from the right.
PRIORITY = ("number", "id", "task_id", "target_id", "period", "description", "title", "name", "unit",
            "status", "state", "deadline", "due", "level", "department", "lead_departments", "village",
            "kind", "value", "overdue", "missing_parts", "days_left", "found_on", "on", "type", "data",
            "doc_no", "campaign", "index")
_NUMERIC = re.compile(r"^[\d\-:./ +T]*$")  # dates, times, amounts: kept on one line
_BORDER = 3  # a column's padding and rule: "│ x " plus the table's last "│"


@functools.lru_cache(maxsize=4096)
def cell_width(text: str) -> int:
    """Screen cells of ``text``: two for each wide (CJK) character."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else (0 if unicodedata.combining(ch) else 1)
               for ch in text)


def wrap_cell(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` cells: numbers, dates and Latin words kept whole (unless
    longer than a line), no line starting with a closing mark nor ending with an opening one."""
    width = max(width, 2)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line: list[str] = []
        used = 0
        for piece in _pieces(paragraph, width):
            size = cell_width(piece)
            if used + size <= width:
                line.append(piece)
                used += size
                continue
            if piece.isspace():
                lines.append("".join(line).rstrip())
                line, used = [], 0
                continue
            carry = [piece]
            while len(line) > 1 and carry[0][0] in NO_LINE_START:
                carry.insert(0, line.pop())
            while len(line) > 1 and line[-1][-1] in NO_LINE_END:
                carry.insert(0, line.pop())
            if sum(cell_width(p) for p in carry) > width:  # cannot be helped in so narrow a column
                line, carry = line + carry[:-1], carry[-1:]
            lines.append("".join(line).rstrip())
            line, used = carry, sum(cell_width(p) for p in carry)
        lines.append("".join(line).rstrip())
    return lines


def _pieces(paragraph: str, width: int) -> list[str]:
    pieces = []
    for piece in _UNBROKEN.findall(paragraph):
        while cell_width(piece) > width:  # a token longer than the column: fold it
            cut = 1
            while cell_width(piece[:cut + 1]) <= width:
                cut += 1
            pieces.append(piece[:cut])
            piece = piece[cut:]
        pieces.append(piece)
    return pieces


def _header_lines(header: str, width: int) -> list[str]:
    """A header too wide for its column in two even lines: 整改/状态, not 整改状/态."""
    size = cell_width(header)
    if size <= width:
        return [header]
    half = -(-size // 2)
    return wrap_cell(header, min(width, half + half % 2))


def select_columns(sheet: Sheet, wanted: Sequence[str]) -> Sheet:
    """``--columns 编号,单位名称,status``: the sheet with those columns, in that order."""
    if any(w.strip().lower() in ("全部", "all", "*") for w in wanted):
        return sheet
    by_name: dict[str, int] = {}
    for i, column in enumerate(sheet.columns):
        by_name.setdefault(column.key.lower(), i)
        by_name.setdefault(column.header, i)
        for variant in column.variants:
            by_name.setdefault(variant, i)
    picked, unknown = [], []
    for word in wanted:
        word = word.strip()
        if not word:
            continue
        index = by_name.get(word, by_name.get(word.lower()))
        if index is None:
            unknown.append(word)
        elif index not in picked:
            picked.append(index)
    if unknown:
        known = "、".join(f"{c.header}（{c.key}）" for c in sheet.columns)
        raise typer.BadParameter(f"没有这一列：{'、'.join(unknown)}；可选：{known}", param_hint="--columns")
    return Sheet(sheet.name, sheet.title, [sheet.columns[i] for i in picked],
                 [[values[i] for i in picked] for values in sheet.rows])


#: How the rows of a sheet are counted (``共 12 项``); any other sheet counts 条.
COUNT_WORDS = {MEASURE_SHEET: "项", "units": "个", "campaigns": "个", "plugins": "个", "tasks": "项", "attachments": "个"}
#: Sheets that are not lists of records (one record's fields, statistics): no count under them.
UNCOUNTED = frozenset({"record", "stats", "profile"})
#: Columns of long text: given more room before anything else is left out.
LONG_TEXT = frozenset({"description", "title", "measures", "data", "text", "reason", "name", "unit"})
_ESSENTIAL = frozenset(PRIORITY[:PRIORITY.index("level") + 1])


def _fit(headers: list[str], cells: list[list[str]], keys: list[str], width: int | None
         ) -> tuple[list[int], list[int]]:
    """(the columns kept, their widths): natural widths when they fit (or ``width`` is None); else
    identifiers whole, short columns whole, long text sharing the rest, and what is least important
    left out — first with comfortable room for text, then tighter (headers in two lines)."""
    n = len(headers)
    content = [max([cell_width(line) for row in cells for line in row[i].split("\n")] + [1]) for i in range(n)]
    head = [cell_width(h) for h in headers]
    natural = [max(content[i], head[i]) for i in range(n)]
    if width is None:
        return list(range(n)), natural
    fixed = [keys[i] in ID_KEYS or content[i] <= 12 or keys[i].endswith(("_at", "_on"))
             or all(_NUMERIC.match(row[i]) for row in cells) for i in range(n)]
    comfortable = [natural[i] if fixed[i] else min(natural[i], 20 if keys[i] in LONG_TEXT else 12)
                   for i in range(n)]
    tight = [max(content[i], min(head[i], 4)) if fixed[i]
             else max(min(natural[i], 10 if keys[i] in LONG_TEXT else 8), min(head[i], 4)) for i in range(n)]
    kept = list(range(n))

    def importance(i: int) -> tuple[int, int]:  # larger: left out sooner
        return (PRIORITY.index(keys[i]) if keys[i] in PRIORITY else len(PRIORITY), i)

    def overflow(least: list[int]) -> bool:
        return sum(least[i] + _BORDER for i in kept) + 1 > width

    least = comfortable
    for least, essential_too in ((comfortable, False), (tight, False), (tight, True)):
        while len(kept) > 1 and overflow(least):
            candidates = [i for i in kept if keys[i] not in ID_KEYS
                          and (essential_too or keys[i] not in _ESSENTIAL)]
            if not candidates:
                break
            kept.remove(max(candidates, key=importance))
        if not overflow(least):
            break
    widths = {i: least[i] for i in kept}
    spare = width - 1 - sum(widths[i] + _BORDER for i in kept)
    wanting = {i: natural[i] - widths[i] for i in kept if natural[i] > widths[i]}
    while spare > 0 and wanting:
        total = sum(wanting.values())
        for i in list(wanting):
            grant = min(max(1, spare * wanting[i] // total), wanting[i], spare)
            widths[i] += grant
            spare -= grant
            wanting[i] -= grant
            if wanting[i] <= 0:
                del wanting[i]
            if spare <= 0:
                break
    return kept, [widths[i] for i in kept]


def _print_tables(stream: Any, sheets: Sequence[Sheet], brief: dict[str, Sequence[str]],
                  summary: dict[str, str], *, terminal: bool) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    probe = Console(file=stream)
    width = probe.width if terminal else None
    for sheet in sheets:
        keys = brief.get(sheet.name)
        shown = [(i, c) for i, c in enumerate(sheet.columns) if keys is None or c.key in keys]
        headers = [c.header for _, c in shown]
        cells = [[terminal_safe(csv_text(values[i])) for i, _ in shown] for values in sheet.rows]
        kept, widths = _fit(headers, cells, [c.key for _, c in shown], width)
        table = Table(title=terminal_safe(sheet.title) if sheet.title else None, header_style="bold" if terminal else None,
                      box=box.HEAVY_HEAD if terminal else box.SQUARE, title_style=None, safe_box=True,
                      caption_justify="left", caption_style=None)
        for index, size in zip(kept, widths, strict=True):
            justify = "right" if shown[index][1].kind == "number" else "left"
            table.add_column(Text("\n".join(_header_lines(headers[index], size))), width=size, no_wrap=True,
                             justify=justify, overflow="crop")
        for row in cells:
            table.add_row(*(Text("\n".join(wrap_cell(row[i], size))) for i, size in zip(kept, widths,
                                                                                   strict=True)))
        notes = []
        if not sheet.rows:
            notes.append("（无记录）")
        if sheet.name in summary:
            notes.append(summary[sheet.name])
        elif sheet.rows and sheet.name not in UNCOUNTED:
            notes.append(f"共 {len(sheet.rows)} {COUNT_WORDS.get(sheet.name, '条')}")
        left_out = [headers[i] for i in range(len(shown)) if i not in kept and any(row[i] for row in cells)]
        if left_out:
            notes.append(f"未显示：{'、'.join(left_out)}（窗口加宽，或用 --columns 选列）")
        if notes:
            table.caption = "；".join(notes)
        total = sum(size + _BORDER for size in widths) + 1
        if terminal:
            Console(file=stream, width=max(total, probe.width, 20), force_terminal=True, highlight=False,
                    color_system=probe.color_system, emoji=False, markup=False).print(table)
            continue
        buffer = io.StringIO()
        Console(file=buffer, width=max(total, 20), force_terminal=False, no_color=True, highlight=False,
                color_system=None, emoji=False, markup=False).print(table)
        stream.write("".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines()))
        stream.flush()


def records_sheet(name: str, title: str | None, cols: Sequence[Column], records: Sequence[dict[str, Any]]) -> Sheet:
    """A sheet from dicts keyed by column key."""
    return Sheet(name, title, cols, [[r.get(c.key) for c in cols] for r in records])
