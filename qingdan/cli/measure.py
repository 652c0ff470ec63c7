"""``qingdan measure …``: a 制度措施 from plan to 落实 (or 废止)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from qingdan.cli.common import (
    AsOf,
    Format,
    KnownAt,
    Note,
    Number,
    On,
    Output,
    clerk_campaign,
    clerk_date,
    clerk_measure_kind,
    done,
    open_ledger,
)
from qingdan.cli.output import OutputFormat
from qingdan.cli.sanity import Force, check_measure
from qingdan.cli.views import campaign_names, emit_history, emit_record

app = typer.Typer(no_args_is_help=True)


@app.command("add")
def add(
    ctx: typer.Context,
    campaign: Annotated[str, typer.Option(
        "--campaign", "-c", parser=clerk_campaign, metavar="专项",
        help="专项：id 或名称，如 fire 或 消防 — campaign id or name")],
    title: Annotated[str, typer.Option("--title", "-t", help="制度措施名称 — title")],
    department: Annotated[str, typer.Option("--department", help="责任部门 — responsible department")],
    kind: Annotated[str, typer.Option(
        "--kind", parser=clerk_measure_kind, metavar="类型",
        help="类型：制度|机制|方案|标准|其他（管理制度、实施方案也可）— kind")] = "制度",
    due: Annotated[date | None, typer.Option("--due", parser=clerk_date, metavar="DATE",
                                             help="完成时限 — due date")] = None,
    on: On = None,
    note: Note = None,
    force: Force = False,
) -> None:
    """登记拟制定的制度措施 — plan a measure; prints its number (M-fire-2020-0001).

    与该专项已登记的制度措施同名时不登记并说明；确属另一项的加 --force。
    """
    with open_ledger(ctx, write=True) as ledger:
        check_measure(ledger, campaign=campaign, title=title, force=force)
        number = ledger.add_measure(campaign=campaign, title=title, department=department, kind=kind,
                                    due=due, on=on, note=note)
    done(number, f"已登记制度措施 {number}")


@app.command("issue")
def issue(
    ctx: typer.Context,
    number: Number,
    doc_no: Annotated[str, typer.Option("--doc-no", help="文号 — document number")],
    on: On = None,
    note: Note = None,
) -> None:
    """印发 — the measure was issued under a document number."""
    with open_ledger(ctx, write=True) as ledger:
        ledger.issue_measure(number, doc_no=doc_no, on=on, note=note)
    done(number, f"{number} 已印发（{doc_no}）")


@app.command("implement")
def implement(ctx: typer.Context, number: Number, on: On = None, note: Note = None) -> None:
    """落实 — the measure is in force and carried out."""
    with open_ledger(ctx, write=True) as ledger:
        ledger.implement_measure(number, on=on, note=note)
    done(number, f"{number} 已落实")


@app.command("revise")
def revise(
    ctx: typer.Context,
    number: Number,
    reason: Annotated[str, typer.Option("--reason", help="修订理由 — reason")],
    title: Annotated[str | None, typer.Option("--title", help="新名称 — new title")] = None,
    doc_no: Annotated[str | None, typer.Option("--doc-no", help="新文号 — new document number")] = None,
    on: On = None,
    note: Note = None,
) -> None:
    """修订（编号不变，记录修改内容）— revise title or document number."""
    with open_ledger(ctx, write=True) as ledger:
        ledger.revise_measure(number, reason=reason, title=title, doc_no=doc_no, on=on, note=note)
    done(number, f"{number} 已修订")


@app.command("repeal")
def repeal(
    ctx: typer.Context,
    number: Number,
    reason: Annotated[str, typer.Option("--reason", help="废止理由 — reason")],
    on: On = None,
    note: Note = None,
) -> None:
    """废止 — repeal the measure."""
    with open_ledger(ctx, write=True) as ledger:
        ledger.repeal_measure(number, reason=reason, on=on, note=note)
    done(number, f"{number} 已废止")


@app.command("show")
def show(ctx: typer.Context, number: Number, as_of: AsOf = None, known_at: KnownAt = None,
         fmt: Format = OutputFormat.table, output: Output = None) -> None:
    """查看一项制度措施 — show a measure as of a date."""
    with open_ledger(ctx) as ledger:
        row = ledger.measure(number, as_of=as_of, known_at=known_at)
        campaigns = campaign_names(ledger, fmt)
    emit_record(fmt, output, f"{number}（截至 {as_of or '今天'}）", row, campaigns)


@app.command("history")
def history(ctx: typer.Context, number: Number, fmt: Format = OutputFormat.table,
            output: Output = None) -> None:
    """全部记录 — every event of the measure."""
    with open_ledger(ctx) as ledger:
        entries = ledger.history(number)
        campaigns = campaign_names(ledger, fmt)
    emit_history(fmt, output, number, entries, campaigns)
