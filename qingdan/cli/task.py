"""``qingdan task …``: the campaigns' 重点任务 and their progress."""

from __future__ import annotations

from typing import Annotated

import typer

from qingdan.cli.common import AsOf, Campaign, Format, KnownAt, Note, On, Output, done, open_ledger
from qingdan.cli.output import OutputFormat, columns, emit, records_sheet
from qingdan.core.rows import TASK_STATUS_LABELS

app = typer.Typer(no_args_is_help=True)

Period = Annotated[str | None, typer.Option(
    "--period", help="周期性任务的周期，如 2021、2021-H1、2021-Q3、2021-05 — period of a recurring task")]
TaskId = Annotated[str, typer.Argument(help="任务编号，如 fire.3（见 qingdan task list）— task id", metavar="TASK_ID")]
TASK_COLUMNS = columns("id:任务编号:14", "period:周期:8", "campaign:专项:10", "title:任务:50",
                       "lead_departments:牵头部门:16", "responsible_departments:负责部门:16",
                       "departments:配合部门:16", "due:完成时限", "status:状态:8", "percent:完成%:6", "last_progress:最近进展:30",
                       "completed_on:完成日期", "overdue:是否超期:6", "source:依据:14",
                       "inferred:推定说明:30")


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
         brief={"tasks": ("id", "period", "title", "lead_departments", "responsible_departments", "due",
                           "status", "percent", "overdue")})


@app.command("progress")
def progress(
    ctx: typer.Context,
    task_id: TaskId,
    text: Annotated[str, typer.Option("--text", "-t", help="进展情况 — progress text")],
    percent: Annotated[float | None, typer.Option("--percent", help="完成百分比 0–100 — percent done")] = None,
    period: Period = None,
    on: On = None,
    note: Note = None,
) -> None:
    """报告任务进展 — report progress on a task."""
    with open_ledger(ctx, write=True) as ledger:
        number = ledger.report_task_progress(task_id, text=text, percent=percent, period=period, on=on, note=note)
    done(number, f"已记录任务 {number} 的进展")


@app.command("complete")
def complete(ctx: typer.Context, task_id: TaskId, period: Period = None, on: On = None,
             note: Note = None) -> None:
    """任务完成 — the task is done (for a recurring task, in one period)."""
    with open_ledger(ctx, write=True) as ledger:
        number = ledger.complete_task(task_id, period=period, on=on, note=note)
    done(number, f"任务 {number} 已完成")
