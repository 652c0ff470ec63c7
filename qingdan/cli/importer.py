"""``qingdan import FILE``: a 台账 (xlsx or csv) into the ledger, all or nothing, idempotent."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qingdan.cli.common import Campaign, Format, Output, open_ledger
from qingdan.cli.output import OutputFormat, columns, emit, message, records_sheet
from qingdan.cli.progress import progress_bar
from qingdan.core.rows import HAZARD_STATUS_LABELS, MEASURE_STATUS_LABELS
from qingdan.io.importer import import_file

STATUS_LABELS = HAZARD_STATUS_LABELS | MEASURE_STATUS_LABELS | {
    "open": "待整改/整改中", "completed": "待验收", "verified": "已验收待销号"}
PLAN_COLUMNS = columns("sheet:工作表:12", "row:行:5", "number:编号:20", "label:单位/名称:30",
                       "status:导入后状态:12", "steps:事件数:6")


def import_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="台账文件 .xlsx 或 .csv（UTF-8/GBK）— the 台账 file", metavar="FILE")],
    campaign: Campaign = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只检查并显示将登记的内容，不写入 — check only, write nothing")] = False,
    fmt: Format = OutputFormat.table,
    output: Output = None,
) -> None:
    """导入台账：全部检查通过才写入，重复导入不会重复登记 — import a 台账, all or nothing."""
    with open_ledger(ctx) as ledger, progress_bar("导入台账") as update:
        result = import_file(ledger, file, campaign=campaign, dry_run=dry_run, progress=update)
    records = [{"sheet": r.sheet, "row": r.row, "number": r.number, "label": r.label,
                "status": STATUS_LABELS.get(r.status, r.status), "steps": 1 + len(r.steps),
                "kind": r.kind} for r in result.created]
    verb = "将登记" if dry_run else "已登记"
    hazards = sum(r.kind == "hazards" for r in result.created)
    measures = len(result.created) - hazards
    message(f"{file.name}：{verb}问题隐患 {hazards} 条、制度措施 {measures} 项"
            f"（{sum(r['steps'] for r in records)} 个事件）；跳过已有的 {len(result.skipped)} 行"
            + ("；试运行，未写入任何数据" if dry_run else ""))
    if dry_run or fmt is not OutputFormat.table:
        title = f"{file.name} {'试导入' if dry_run else '导入'}结果"
        emit(fmt, output, [records_sheet("import", title, PLAN_COLUMNS, records)], records)


def register(app: typer.Typer) -> None:
    app.command("import")(import_command)
