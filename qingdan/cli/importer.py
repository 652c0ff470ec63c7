"""``qingdan import FILE``: a 台账 into the ledger — new rows registered, changed rows brought up to
date, all or nothing; importing the same file again changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from qingdan.cli.common import Campaign, Format, On, Output, open_ledger
from qingdan.cli.output import OutputFormat, columns, emit, message, records_sheet

PLAN_COLUMNS = columns("sheet:工作表:12", "row:行:6", "action:处理:6", "number:编号:22", "label:单位/名称:24",
                       "status:导入后状态:12", "changes:变化/原因:50", "events:事件数:6")
PHASES = {"读取": "读取台账", "检查": "逐行检查", "写入": "写入台账"}


@contextmanager
def import_progress() -> Iterator[Callable[[str, int, int | None], None]]:
    """Bars on stderr for each phase of an import: rows read, rows checked, writing."""
    console = Console(stderr=True)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True,
                  disable=not console.is_terminal) as bar:
        tasks: dict[str, int] = {}

        def update(phase: str, done: int, total: int | None) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(PHASES.get(phase, phase), total=total)
            bar.update(tasks[phase], completed=done, total=total)

        yield update


def import_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(
        help="台账文件 .xlsx、.xls、.csv 或制表符分隔的 .txt（UTF-8、GBK、UTF-16…）— the 台账 file", metavar="FILE")],
    campaign: Campaign = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="只检查，逐行显示新增/更新/未变/忽略，不写入 — check only, show every row, write nothing")] = False,
    on: On = None,
    fmt: Format = OutputFormat.table,
    output: Output = None,
) -> None:
    """导入台账：新增的登记，已有的按表更新；全部检查通过才写入 — import a 台账, all or nothing.

    已在台账中的隐患（按隐患编号，或单位名称+隐患描述+排查日期）如表中状态、日期、期限等有变化，导入为相应的
    整改完成、验收、销号、更正等事件；--on 为表中没有日期的更改（更正、整改方案、挂牌督办）的业务日期，默认今天。
    export --format zip 导出的台账包（.zip）恢复到空台账：事件原样、附件齐全、哈希链相同。
    """
    from qingdan.io.bundle import check_bundle, is_bundle, restore_bundle
    from qingdan.io.importer import import_file, rows_of

    if file.suffix.lower() == ".zip" and is_bundle(file):
        if dry_run:
            _, problems = check_bundle(file)
            message("；".join(problems) if problems else f"{file.name}：台账包校验通过；试运行，未写入任何数据")
            raise typer.Exit(1 if problems else 0)
        with open_ledger(ctx, write=True) as ledger:
            summary = restore_bundle(ledger, file)
        message(f"已从台账包 {file.name} 恢复 {summary.events} 个事件、{summary.attachments} 个附件；"
                f"哈希链头 {summary.chain_head} 与台账包一致")
        return
    with open_ledger(ctx, write=not dry_run, or_empty=dry_run) as ledger, import_progress() as update:
        result = import_file(ledger, file, campaign=campaign, dry_run=dry_run, on=on, progress=update)
    records = list(rows_of(result))
    verb = "将登记" if dry_run else "已登记"
    counts = result.counts
    ignored = sum(i.last - i.first + 1 for i in result.ignored)
    parts = [f"{file.name}：{verb}问题隐患 {counts['new hazards']} 条、制度措施 {counts['new measures']} 项",
             f"{'将更新' if dry_run else '更新'} {counts['updated']} 条", f"跳过已有的 {counts['unchanged']} 行",
             f"忽略 {ignored} 行（合计、签名、说明、空行等）" if ignored else "", f"共 {result.events} 个事件"]
    message("；".join(p for p in parts if p) + ("；试运行，未写入任何数据" if dry_run else ""))
    if not result.described and (dry_run or fmt is not OutputFormat.table):
        message(f"逐行结果只列出前 {len(result.rows):,} 行（其余各行已计入上面的合计）", style="yellow")
    for name in result.sheets_without_table:
        message(f"工作表“{name}”中找不到台账表头，未导入", style="yellow")
    if dry_run or fmt is not OutputFormat.table:
        title = f"{file.name} {'试导入' if dry_run else '导入'}结果"
        emit(fmt, output, [records_sheet("import", title, PLAN_COLUMNS, records)], records)


def register(app: typer.Typer) -> None:
    app.command("import")(import_command)
