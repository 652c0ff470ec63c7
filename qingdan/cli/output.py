"""One place that writes results: data on stdout (or ``--output``), messages on stderr.

``OutputFormat``: ``table`` (rich, for people), ``json`` (the rows' English field names; ``[]`` when
empty), ``csv``, ``xlsx`` (needs ``--output``) and ``md``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from qingdan.io.atomic import atomic_write, check_output_path
from qingdan.io.layout import Column
from qingdan.io.writer import Sheet, csv_text, write_csv, write_workbook


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    xlsx = "xlsx"
    md = "md"


def stderr() -> Console:
    return Console(stderr=True)


def message(text: str) -> None:
    """A message for people: always on stderr, so stdout stays data."""
    stderr().print(text, highlight=False)


def columns(*specs: str) -> tuple[Column, ...]:
    """``columns("number:编号:20", "title:名称:40")`` — key, header, optional width."""
    out = []
    for spec in specs:
        key, header, *rest = spec.split(":")
        out.append(Column(key, header, (), int(rest[0]) if rest else 12))
    return tuple(out)


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return str(value)


def emit(fmt: OutputFormat, output: Path | None, sheets: Sequence[Sheet], data: Any,
         *, brief: dict[str, Sequence[str]] | None = None) -> None:
    """Write ``sheets`` (table, csv, xlsx, md) or ``data`` (json) to ``output`` or stdout.

    ``brief``: for the table format, the column keys to show per sheet name (people read a few
    columns on screen; the files get them all).

    A file is written atomically (:func:`qingdan.io.atomic.atomic_write`): all of it, or on any
    failure nothing, with an existing file left as it was. Its path is checked first (a missing
    folder or a folder is a clear error).
    """
    if output is not None:
        check_output_path(output)
    if fmt is OutputFormat.json:
        _write_text(output, to_json(data) + "\n")
    elif fmt is OutputFormat.xlsx:
        if output is None:
            raise typer.BadParameter("xlsx 格式须用 --output 指定文件 — xlsx needs --output FILE",
                                     param_hint="--output")
        write_workbook(output, sheets)
    elif fmt is OutputFormat.csv:
        if output is None:
            for i, sheet in enumerate(sheets):
                if i:
                    sys.stdout.write("\n")
                write_csv(sys.stdout, sheet, title=len(sheets) > 1)
        else:
            with atomic_write(output, "w", encoding="utf-8-sig", newline="") as stream:  # BOM: Excel reads it
                for i, sheet in enumerate(sheets):
                    if i:
                        stream.write("\n")
                    write_csv(stream, sheet, title=len(sheets) > 1)
    elif fmt is OutputFormat.md:
        _write_text(output, "\n".join(_markdown(sheet) for sheet in sheets))
    else:
        _table(output, sheets, brief or {})
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
        lines += [f"## {sheet.title}", ""]
    lines.append("| " + " | ".join(c.header for c in sheet.columns) + " |")
    lines.append("|" + "|".join("---" for _ in sheet.columns) + "|")
    for values in sheet.rows:
        cells = [csv_text(v).replace("|", "\\|").replace("\n", " ") for v in values]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _table(output: Path | None, sheets: Sequence[Sheet], brief: dict[str, Sequence[str]]) -> None:
    if output is None:
        _print_tables(Console(), sheets, brief)
        return
    with atomic_write(output, "w", encoding="utf-8") as stream:
        _print_tables(Console(file=stream, width=200), sheets, brief)


def _print_tables(console: Console, sheets: Sequence[Sheet], brief: dict[str, Sequence[str]]) -> None:
    for sheet in sheets:
        keys = brief.get(sheet.name)
        shown = [(i, c) for i, c in enumerate(sheet.columns) if keys is None or c.key in keys]
        table = Table(title=sheet.title, show_lines=False, header_style="bold")
        for _, column in shown:
            table.add_column(column.header, overflow="fold", max_width=max(column.width, 8) * 2)
        for values in sheet.rows:
            table.add_row(*(csv_text(values[i]) for i, _ in shown))
        if not sheet.rows:
            table.caption = "（无记录）"
        console.print(table)


def records_sheet(name: str, title: str | None, cols: Sequence[Column], records: Sequence[dict[str, Any]]) -> Sheet:
    """A sheet from dicts keyed by column key."""
    return Sheet(name, title, cols, [[r.get(c.key) for c in cols] for r in records])
