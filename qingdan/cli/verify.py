"""``qingdan verify``: is the ledger sound? Hash chain, submitted reports, view vs event log."""

from __future__ import annotations

from typing import Annotated

import typer

from qingdan.cli.common import Format, Output, open_ledger
from qingdan.cli.output import OutputFormat, columns, emit, message, records_sheet

KIND_LABELS = {
    "tampered": "事件被改动", "missing": "事件被删除", "inserted": "事件被插入",
    "unchained": "事件未入链", "report": "报送记录不符", "view": "视图不一致",
}


def verify(
    ctx: typer.Context,
    fmt: Format = OutputFormat.table,
    output: Output = None,
    limit: Annotated[int, typer.Option("--limit", help="表格中最多列出几个问题 — list at most N problems on screen")] = 50,
) -> None:
    """核验台账：哈希链、报送记录、视图与事件日志 — verify the hash chain, every submitted report and the view.

    Exit 0 when everything checks out, 1 when anything is wrong (each problem is named: position,
    record number, what broke).
    """
    with open_ledger(ctx) as ledger:
        result = ledger.verify_integrity()
    problems = [
        {"kind": p.kind, "label": KIND_LABELS.get(p.kind, p.kind), "position": p.position,
         "number": p.number, "message": p.message}
        for p in result.problems
    ]
    data = {"ok": result.ok, "events_checked": result.events_checked, "chain_head": result.chain_head,
            "reports_checked": result.reports_checked,
            "dates_checked": [d.isoformat() for d in result.dates_checked],
            "records_checked": result.records_checked, "view_rows_checked": result.view_rows_checked,
            "problems": problems}
    message(f"已核验 {result.events_checked} 个事件、{result.reports_checked} 次报送、"
            f"视图 {result.view_rows_checked} 行（{result.records_checked} 条记录的全部日期与登记时间）；"
            f"哈希链头 {result.chain_head}")
    if fmt is OutputFormat.json or output is not None or problems:
        shown = problems if fmt is not OutputFormat.table else problems[:limit]
        sheet = records_sheet("problems", "核验发现的问题", columns(
            "label:问题:12", "position:事件序号:10", "number:编号:20", "message:说明:80"), shown)
        emit(fmt, output, [sheet], data)
    if result.ok:
        message("✓ 台账完整：哈希链、报送记录与视图均一致", style="green")
    else:
        message(f"✗ 发现 {len(problems)} 处问题", style="red")
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("verify")(verify)
