"""``qingdan task …``: the campaigns' 重点任务 and their progress."""

from __future__ import annotations

from typing import Annotated

import typer

from qingdan.cli.common import AsOf, Campaign, Format, KnownAt, Note, On, Output, done, open_ledger
from qingdan.cli.output import OutputFormat, columns, emit, records_sheet
from qingdan.core.rows import TASK_STATUS_LABELS

app = typer.Typer(no_args_is_help=True)

TaskId = Annotated[str, typer.Argument(help="任务编号，如 fire.3（见 qingdan task list）— task id", metavar="TASK_ID")]
TASK_COLUMNS = columns("id:任务编号:14", "campaign:专项:10", "title:任务:50", "lead_departments:牵头部门:16",
                       "due:完成时限", "status:状态:8", "percent:完成%:6", "last_progress:最近进展:30",
                       "completed_on:完成日期", "overdue:是否超期:6", "source:依据:14")


@app.command("list")
def list_tasks(ctx: typer.Context, campaign: Campaign = None, as_of: AsOf = None, known_at: KnownAt = None,
               overdue: Annotated[bool, typer.Option("--overdue", help="只看逾期的 — only overdue tasks")] = False,
               fmt: Format = OutputFormat.table, output: Output = None) -> None:
    """重点任务及进展 — the key tasks with their progress as of a date."""
    with open_ledger(ctx) as ledger:
        rows = ledger.tasks(as_of=as_of, known_at=known_at, campaign=campaign)
    rows = [r for r in rows if r.overdue or not overdue]
    records = [r.model_dump() | {"status": TASK_STATUS_LABELS.get(r.status, r.status)} for r in rows]
    emit(fmt, output, [records_sheet("tasks", f"重点任务（截至 {as_of or '今天'}）", TASK_COLUMNS, records)],
         [r.model_dump(mode="json") for r in rows],
         brief={"tasks": ("id", "title", "lead_departments", "due", "status", "percent", "overdue")})


@app.command("progress")
def progress(
    ctx: typer.Context,
    task_id: TaskId,
    text: Annotated[str, typer.Option("--text", "-t", help="进展情况 — progress text")],
    percent: Annotated[float | None, typer.Option("--percent", help="完成百分比 0–100 — percent done")] = None,
    on: On = None,
    note: Note = None,
) -> None:
    """报告任务进展 — report progress on a task."""
    with open_ledger(ctx) as ledger:
        ledger.report_task_progress(task_id, text=text, percent=percent, on=on, note=note)
    done(task_id, f"已记录任务 {task_id} 的进展")


@app.command("complete")
def complete(ctx: typer.Context, task_id: TaskId, on: On = None, note: Note = None) -> None:
    """任务完成 — the task is done."""
    with open_ledger(ctx) as ledger:
        ledger.complete_task(task_id, on=on, note=note)
    done(task_id, f"任务 {task_id} 已完成")
