"""``qingdan export``: the raw event log as JSON lines (streamed), or the 两个清单 as a 台账."""

from __future__ import annotations

import json
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated, Any

import typer

from qingdan.cli.common import AsOf, Campaign, KnownAt, open_ledger, settings
from qingdan.cli.output import message, to_json
from qingdan.cli.views import names
from qingdan.io.atomic import atomic_write, check_output_path
from qingdan.io.writer import two_lists_sheets, write_csv, write_workbook


class ExportFormat(StrEnum):
    jsonl = "jsonl"
    xlsx = "xlsx"
    csv = "csv"


def event_records(ledger: Any) -> Any:
    """Every stored event, in log order, as a dict; read page by page, never all at once."""
    for event in ledger.events():
        yield event.model_dump()


def write_jsonl(ledger: Any, stream: IO[str]) -> int:
    count = 0
    for record in event_records(ledger):
        stream.write(json.dumps(record, ensure_ascii=False, default=_default) + "\n")
        count += 1
    return count


def _default(value: Any) -> Any:
    return json.loads(to_json(value))


def export(
    ctx: typer.Context,
    fmt: Annotated[ExportFormat, typer.Option(
        "--format", "-f", case_sensitive=False,
        help="jsonl：原始事件日志（每行一个事件）；xlsx/csv：两个清单台账 — jsonl event log, or the lists")
    ] = ExportFormat.jsonl,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="写入文件 — write to FILE")] = None,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    campaign: Campaign = None,
) -> None:
    """导出：事件日志或两个清单台账 — export the event log (jsonl) or the 两个清单 (xlsx/csv).

    Files are written whole or not at all (a temporary file beside, then renamed onto, the target).
    """
    if fmt is ExportFormat.xlsx and output is None:
        output = Path(f"{settings(ctx).township}两个清单_{(as_of or date.today()).isoformat()}.xlsx")
    if output is not None:
        check_output_path(output)  # before reading anything: a bad path is the clerk's to fix first
    with open_ledger(ctx) as ledger:
        if fmt is ExportFormat.jsonl:
            if output is None:
                count = write_jsonl(ledger, sys.stdout)
            else:
                with atomic_write(output, "w", encoding="utf-8") as stream:
                    count = write_jsonl(ledger, stream)
            message(f"已导出 {count} 个事件" + (f"到 {output}" if output else ""))
            return
        lists = ledger.two_lists(as_of=as_of, known_at=known_at, campaign=campaign)
        campaign_names = names(ledger.catalogue)
    sheets = two_lists_sheets(lists, campaign_names, settings(ctx).township,
                              known_at=lists.known_at if known_at is not None else None)
    if output is None:  # csv on stdout (xlsx always has a file, chosen above)
        write_csv(sys.stdout, sheets[0], title=True)
    elif fmt is ExportFormat.xlsx:
        write_workbook(output, sheets)
    else:
        with atomic_write(output, "w", encoding="utf-8-sig", newline="") as stream:
            write_csv(stream, sheets[0], title=True)
    message(f"已导出问题隐患 {len(lists.hazards)} 条、制度措施 {len(lists.measures)} 项"
            + (f"到 {output}" if output else "") + ("（csv 只含问题隐患清单）" if fmt is ExportFormat.csv else ""))


def register(app: typer.Typer) -> None:
    app.command("export")(export)
