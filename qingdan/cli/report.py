"""``qingdan report submit | diff | list``: the monthly 两个清单 submission and the 回头看 audit."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from qingdan.cli.common import Campaign, Format, On, Output, clerk_date, done, open_ledger, settings
from qingdan.cli.output import OutputFormat, columns, emit, message, records_sheet
from qingdan.cli.views import FIELD_LABELS, label_value, names
from qingdan.io.writer import two_lists_sheets, write_workbook

app = typer.Typer(no_args_is_help=True)

DUE_DAY = 25


def _period(value: str) -> str:
    match = re.fullmatch(r"(\d{4})[-/.年]?(\d{1,2})月?", value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise typer.BadParameter(f"报送期次应写作 YYYY-MM（如 2020-09），收到“{value}”")
    return f"{match.group(1)}-{int(match.group(2)):02d}"


Period = Annotated[str, typer.Option("--period", "-p", parser=_period, metavar="YYYY-MM",
                                     help="报送期次，如 2020-09 — the month reported")]


@app.command("submit")
def submit(
    ctx: typer.Context,
    period: Period,
    campaign: Campaign = None,
    as_of: Annotated[date | None, typer.Option(
        "--as-of", parser=clerk_date, metavar="DATE",
        help="清单截至日期，默认当月25日（不晚于今天）— lists as of (default the 25th of the month)")] = None,
    on: On = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="报送文件，默认 南阳镇两个清单_2020-09.xlsx — the workbook written")] = None,
) -> None:
    """报送两个清单：记录报送并生成报送表 — record the month's submission and write its workbook."""
    with open_ledger(ctx) as ledger:
        year, month = (int(p) for p in period.split("-"))
        if as_of is None:
            as_of = min(date(year, month, DUE_DAY), on or ledger.today())
        number = ledger.submit_report(period=period, campaign=campaign, as_of=as_of, on=on)
        row = ledger.report(period, campaign=campaign)
        lists = ledger.two_lists(as_of=row.as_of, known_at=row.known_at, campaign=campaign)
        campaign_names = names(ledger.catalogue)
    township = settings(ctx).township
    if output is None:
        suffix = f"_{campaign}" if campaign else ""
        output = Path(f"{township}两个清单_{period}{suffix}.xlsx")
    write_workbook(output, two_lists_sheets(lists, campaign_names, township))
    late = " （逾期报送）" if row.submitted_on > date(year, month, DUE_DAY) else ""
    done(number, f"已报送 {period} 两个清单{late}：问题隐患 {row.hazard_count} 条、制度措施 "
                 f"{row.measure_count} 项，截至 {row.as_of}；报送表已写入 {output}")


CHANGE_LABELS = {"added": "新增", "changed": "变更", "removed": "删除"}
LIST_LABELS = {"hazards": "问题隐患", "measures": "制度措施"}
DIFF_COLUMNS = columns("list:清单:8", "number:编号:20", "change:变化:6", "field:字段:14", "before:报送时:24",
                       "after:现在:24", "events:原因（事后登记的事件）:50")


def _event_text(event: dict[str, Any]) -> str:
    recorded = event["recorded_at"].strftime("%Y-%m-%d") if hasattr(event["recorded_at"], "strftime") else event["recorded_at"]
    text = f"{event['type']}（业务日期 {event['on']}，{recorded} 登记"
    if event.get("actor"):
        text += f"，{event['actor']}"
    return text + "）"


@app.command("diff")
def diff(
    ctx: typer.Context,
    period: Period,
    campaign: Campaign = None,
    fmt: Format = OutputFormat.table,
    output: Output = None,
) -> None:
    """回头看：报送之后对当日情况的更改 — what changed since the submission, and why."""
    with open_ledger(ctx) as ledger:
        result = ledger.report_diff(period, campaign=campaign)
    records = []
    for d in result.differences:
        causes = "；".join(_event_text(e) for e in d.events)
        base = {"list": LIST_LABELS.get(d.list, d.list), "number": d.number,
                "change": CHANGE_LABELS.get(d.change, d.change), "events": causes}
        if not d.fields:
            records.append(base)
        for f in d.fields:
            records.append(base | {"field": FIELD_LABELS.get(f.field, f.field),
                                   "before": label_value(f.field, f.before),
                                   "after": label_value(f.field, f.after)})
    r = result.report
    if fmt is OutputFormat.table:
        state = "与报送时一致" if result.digest_matches else "报送摘要不一致！"
        message(f"{period} 两个清单于 {r.submitted_on} 报送（截至 {r.as_of}，{r.hazard_count} 条隐患、"
                f"{r.measure_count} 项措施；重算摘要{state}）；此后更改 {len(result.differences)} 处")
    title = f"{period} 两个清单回头看（截至 {r.as_of}，报送于 {r.submitted_on}）"
    emit(fmt, output, [records_sheet("diff", title, DIFF_COLUMNS, records)], result.model_dump(mode="json"))


REPORT_COLUMNS = columns("number:编号:16", "period:期次:8", "campaign:专项:10", "submitted_on:报送日期",
                         "as_of:截至日期", "hazard_count:隐患条数:8", "measure_count:措施项数:8",
                         "resubmissions:重报次数:6", "digest:摘要:20")


@app.command("list")
def list_reports(ctx: typer.Context, fmt: Format = OutputFormat.table, output: Output = None) -> None:
    """已报送的两个清单 — the submissions recorded."""
    with open_ledger(ctx) as ledger:
        rows = sorted(ledger.snapshot(as_of=date.max).reports(), key=lambda r: (r.period, r.number))
    records = [r.model_dump() | {"digest": r.digest[:12]} for r in rows]
    emit(fmt, output, [records_sheet("reports", "两个清单报送记录", REPORT_COLUMNS, records)],
         [r.model_dump(mode="json") for r in rows])
