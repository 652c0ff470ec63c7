"""``qingdan report submit | diff | list``: the monthly 两个清单 submission and the 回头看 audit."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from qingdan.cli.common import Campaign, Format, On, Output, clerk_date, done, open_ledger
from qingdan.cli.export import Layout, LayoutOption, ProfileOption, profile_of
from qingdan.cli.output import OutputFormat, columns, emit, message, records_sheet
from qingdan.cli.views import FIELD_LABELS, label_value, names
from qingdan.core.clock import CST, EARLIEST, LATEST
from qingdan.core.errors import InvalidCommand
from qingdan.core.labels import CHANGE_LABELS, KIND_LABELS, event_label
from qingdan.core.text import show as show_text
from qingdan.io.atomic import OutputPathError, StagedFile, check_output_path
from qingdan.io.safe import safe_file_name
from qingdan.io.writer import two_lists_sheets, write_workbook

if TYPE_CHECKING:
    from qingdan.core.rows import TwoLists

app = typer.Typer(no_args_is_help=True)

DUE_DAY = 25


def _period(value: str) -> str:
    match = re.fullmatch(r"(\d{4})[-/.年]?(\d{1,2})月?", value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise typer.BadParameter(f"报送期次应写作 YYYY-MM（如 2020-09），收到“{show_text(value)}”")
    if not EARLIEST.year <= int(match.group(1)) <= LATEST.year:
        raise typer.BadParameter(f"报送期次 {show_text(value)} 不合理（年份应在 {EARLIEST.year} 至 {LATEST.year} 之间）")
    return f"{match.group(1)}-{int(match.group(2)):02d}"


Period = Annotated[str, typer.Option("--period", "-p", parser=_period, metavar="YYYY-MM",
                                     help="报送期次，如 2020-09 — the month reported")]
AnyPeriod = Annotated[str | None, typer.Option("--period", "-p", parser=_period, metavar="YYYY-MM",
                                               help="只看这一期，如 2020-09 — only this month")]
Submission = Annotated[int | None, typer.Option(
    "--submission", "-n", min=1, metavar="N",
    help="对比第几次报送：1 为首次报送，默认最近一次 — which submission (1 = the original; default the latest)")]


def _submissions(ledger: Any, period: str, campaign: str | None) -> list[Any]:
    """The earlier submissions of one period (and campaign: None is the township's own)."""
    return [r for r in ledger.reports(period=period, campaign=campaign) if r.campaign == campaign]


def _label(period: str, campaign: str | None) -> str:
    return f"{period}{f'（{campaign}）' if campaign else ''} 两个清单"


def _how(row: Any) -> str:
    """``第 2 次报送（2020-09-28，原因：…）`` — which submission, in words."""
    text = f"第 {row.submission} 次报送（{row.submitted_on}"
    if row.resubmit_reason:
        text += f"，原因：{row.resubmit_reason}"
    return text + "）"


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
        "--output", "-o", help="报送表文件，默认 南阳镇两个清单_2020-09.xlsx（重新报送：…_第2次报送.xlsx）"
                               " — the workbook written")] = None,
    resubmit: Annotated[bool, typer.Option(
        "--resubmit", help="重新报送已报送过的一期（须同时用 --reason 说明原因）— submit a period again")] = False,
    reason: Annotated[str | None, typer.Option(
        "--reason", help="重新报送的原因，记入台账 — why it is submitted again (recorded)")] = None,
    pdf: Annotated[bool, typer.Option(
        "--pdf/--no-pdf", help="同时写出打印用的报送表 PDF（与 xlsx 同名，默认写出）"
                               " — also write the form as a PDF beside the xlsx (default)")] = True,
    layout: LayoutOption = Layout.form,
    profile_file: ProfileOption = None,
) -> None:
    """报送两个清单：记录报送并生成报送表 — record the month's submission and write its workbook.

    报送表只在报送记录成功时写出：写入失败则不记录报送，记录失败则不留报送表（--pdf 的 PDF 也一样）。
    """
    if reason is not None and not reason.strip():
        reason = None
    if resubmit and reason is None:
        raise InvalidCommand("重新报送须说明原因：请加 --reason \"原因\"（如 --reason \"补报漏登的隐患\"），原因记入台账")
    if reason is not None and not resubmit:
        raise InvalidCommand("--reason 只用于重新报送：如确需重新报送，请同时加 --resubmit")
    year, month = (int(p) for p in period.split("-"))
    label = _label(period, campaign)
    if output is not None:
        check_output_path(output)  # before opening the ledger: nothing is recorded for a bad path
    with open_ledger(ctx, write=True) as ledger:
        profile, known = profile_of(ctx, profile_file, ledger)
        township = profile.name
        earlier = _submissions(ledger, period, campaign)
        if earlier and not resubmit:
            last = earlier[-1]
            raise InvalidCommand(
                f"{label}已报送 {len(earlier)} 次（最近一次 {last.submitted_on}），不能再次报送。"
                f"如确需重新报送，请加 --resubmit --reason \"原因\"；原报送记录会保留，"
                f"可用 qingdan report diff --period {period} 对比")
        if resubmit and not earlier:
            raise InvalidCommand(f"{label}尚未报送过，无需重新报送：请去掉 --resubmit 和 --reason 再报送")
        if output is None:
            suffix = (f"_{campaign}" if campaign else "") + (f"_第{len(earlier) + 1}次报送" if earlier else "")
            output = Path(safe_file_name(f"{township}两个清单_{period}{suffix}") + ".xlsx")
        staged = StagedFile(output)  # checks the path: a bad one stops here, before anything is recorded
        staged_pdf = StagedFile(output.with_suffix(".pdf")) if pdf else None
        if as_of is None:
            as_of = min(date(year, month, DUE_DAY), on or ledger.today())
        campaign_names = names(ledger)
        handed_in: list[TwoLists] = []

        filled_on = on or ledger.today()

        def prepare(lists: TwoLists) -> None:
            """Write the workbook of exactly the lists about to be recorded (again, if re-read)."""
            form = layout.value == "报送表" or known
            with staged.open("wb") as stream:
                write_workbook(stream, two_lists_sheets(lists, campaign_names, township, layout=layout.value,
                                                        profile=profile if form else None, filled_on=filled_on))
            if staged_pdf is not None:
                from qingdan.io.pdf import write_pdf

                with staged_pdf.open("wb") as stream:
                    write_pdf(stream, two_lists_sheets(lists, campaign_names, township, layout="报送表",
                                                       profile=profile, filled_on=filled_on))
            handed_in[:] = [lists]

        try:
            number = ledger.submit_report(period=period, campaign=campaign, as_of=as_of, on=on,
                                          resubmit_reason=reason if resubmit else None, prepare=prepare)
        except BaseException:
            staged.discard()  # not recorded: no workbook (an existing file is left as it was)
            if staged_pdf is not None:
                staged_pdf.discard()
            raise
        row = _submissions(ledger, period, campaign)[-1]
    try:
        staged.commit()
        if staged_pdf is not None:
            staged_pdf.commit()
    except OutputPathError as error:
        known = row.known_at.astimezone(CST).isoformat()
        raise InvalidCommand(f"{label}的报送已记录（{number}），但报送表未能写出：{error}。请用 "
                             f"qingdan export -f xlsx --as-of {row.as_of} --known-at {known} -o 文件名 "
                             "按报送时的登记重新生成") from None
    lists = handed_in[-1]
    notes = [f"第 {row.submission} 次，原因：{row.resubmit_reason}"] if row.submission > 1 else []
    if row.submission == 1 and row.submitted_on > date(year, month, DUE_DAY):
        notes.append("逾期报送")
    verb = "已重新报送" if row.submission > 1 else "已报送"
    done(number, f"{verb} {label}{'（' + '；'.join(notes) + '）' if notes else ''}：问题隐患 "
                 f"{len(lists.hazards)} 条、制度措施 {len(lists.measures)} 项，截至 {row.as_of}；报送表已写入 {output}"
                 + (f" 和 {output.with_suffix('.pdf')}" if pdf else ""))


DIFF_COLUMNS = columns("list:清单:8", "number:编号:20", "change:变化:6", "field:字段:14", "before:报送时:24",
                       "after:现在:24", "events:原因（事后登记的事件）:50")


def _event_text(event: dict[str, Any]) -> str:
    recorded = event["recorded_at"].strftime("%Y-%m-%d") if hasattr(event["recorded_at"], "strftime") else event["recorded_at"]
    text = f"{event_label(event['type'])}（业务日期 {event['on']}，{recorded} 登记"
    if event.get("actor"):
        text += f"，{event['actor']}"
    return text + "）"


def diff_records(result: Any) -> list[dict[str, Any]]:
    """A 回头看's differences as table rows, in the clerk's words: one row per changed field."""
    records = []
    for d in result.differences:
        causes = "；".join(_event_text(e) for e in d.events)
        base = {"list": KIND_LABELS.get(d.list.rstrip("s"), d.list), "number": d.number,
                "change": CHANGE_LABELS.get(d.change, d.change), "events": causes}
        if not d.fields:
            records.append(base)
        for f in d.fields:
            records.append(base | {"field": FIELD_LABELS.get(f.field, f.field),
                                   "before": label_value(f.field, f.before),
                                   "after": label_value(f.field, f.after)})
    return records


@app.command("diff")
def diff(
    ctx: typer.Context,
    period: Period,
    campaign: Campaign = None,
    submission: Submission = None,
    fmt: Format = OutputFormat.table,
    output: Output = None,
) -> None:
    """回头看：报送之后对当日情况的更改 — what changed since a submission (default the latest), and why."""
    if output is not None:
        check_output_path(output)
    with open_ledger(ctx) as ledger:
        result = ledger.report_diff(period, campaign=campaign, submission=submission)
        count = len(_submissions(ledger, period, campaign))
    records = diff_records(result)
    r = result.report
    of = f"共报送 {count} 次，对比{'最近一次即' if r.submission == count and count > 1 else ''}{_how(r)}"
    if fmt is OutputFormat.table:
        state = "与报送时一致" if result.digest_matches else "报送摘要不一致！"
        message(f"{_label(period, campaign)}{of}：截至 {r.as_of}，{r.hazard_count} 条隐患、"
                f"{r.measure_count} 项措施；重算摘要{state}；此后更改 {len(result.differences)} 处")
    title = f"{_label(period, campaign)}回头看：对比{_how(r)}，截至 {r.as_of}"
    emit(fmt, output, [records_sheet("diff", title, DIFF_COLUMNS, records)], result.model_dump(mode="json"))


REPORT_COLUMNS = columns("number:编号:16", "period:期次:8", "campaign:专项:10", "submission:第几次:4",
                         "submitted_on:报送日期", "submitted_at:登记时间:20", "actor:操作人:12",
                         "resubmit_reason:重新报送原因:30", "as_of:截至日期", "hazard_count:隐患条数:8",
                         "measure_count:措施项数:8", "digest:摘要:14")

#: On screen: who handed in what, when and why; the files get every column.
REPORT_BRIEF = ("period", "campaign", "submission", "submitted_on", "actor", "resubmit_reason",
                "hazard_count", "measure_count")


@app.command("list")
def list_reports(ctx: typer.Context, period: AnyPeriod = None, campaign: Campaign = None,
                 fmt: Format = OutputFormat.table, output: Output = None) -> None:
    """报送记录：每一次报送（含重新报送及其原因）— every submission recorded, resubmissions included."""
    if output is not None:
        check_output_path(output)
    with open_ledger(ctx) as ledger:
        rows = ledger.reports(period=period, campaign=campaign)
    records = [r.model_dump() | {"digest": r.digest[:12], "campaign": r.campaign or "全镇",
                                 "submitted_at": r.submitted_at.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S")
                                 if r.submitted_at else None} for r in rows]
    scope = "、".join(x for x in (period and f"{period} 期", campaign and f"专项 {campaign}") if x)
    title = f"两个清单报送记录（{scope}）" if scope else "两个清单报送记录"
    if fmt is OutputFormat.table:
        resubmitted = sum(1 for r in rows if r.submission > 1)
        message(f"共 {len(rows)} 次报送" + (f"，其中重新报送 {resubmitted} 次" if resubmitted else ""))
    emit(fmt, output, [records_sheet("reports", title, REPORT_COLUMNS, records)],
         [r.model_dump(mode="json") for r in rows], brief={"reports": REPORT_BRIEF})
