"""``qingdan lists | overdue | stats | targets | check | projection``: what the ledger says as of a date."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from qingdan.cli.common import AsOf, Campaign, KnownAt, Output, open_ledger, screen_limit, settings
from qingdan.cli.export import DEFAULT_CLI_LAYOUT, Layout, ProfileOption, profile_of
from qingdan.cli.output import OutputFormat, columns, emit, message, records_sheet
from qingdan.cli.views import HAZARD_BRIEF, MEASURE_BRIEF, names
from qingdan.core.clock import today
from qingdan.core.labels import TARGET_STATE_LABELS
from qingdan.io.atomic import check_output_path
from qingdan.io.layout import HAZARD_COLUMNS
from qingdan.io.writer import (
    HAZARD_SHEET,
    MEASURE_SHEET,
    Sheet,
    hazard_record,
    list_title,
    two_lists_sheets,
)


class ListFormat(StrEnum):
    """The listing formats, and pdf: the printable form."""

    table = "table"
    json = "json"
    csv = "csv"
    xlsx = "xlsx"
    md = "md"
    pdf = "pdf"


Format = Annotated[ListFormat, typer.Option(
    "--format", "-f", case_sensitive=False,
    help="输出格式 — output format: table (表格) | json | csv | xlsx | md | pdf（打印用报送表，须 --output）")]
LayoutChoice = Annotated[Layout | None, typer.Option(
    "--layout", help="xlsx/pdf 版式：台账（xlsx 默认）| 报送表（pdf 默认：填报单位、分组表头、签名栏）"
                     " — the register or the form handed in")]


def _emit(ctx: typer.Context, fmt: ListFormat, output: Any, sheets: list[Sheet], data: Any, *,
          profile_file: Any = None, brief: dict[str, Any] | None = None,
          summary: dict[str, str] | None = None, profile_read: tuple[Any, bool] | None = None) -> None:
    """Write the sheets in ``fmt``: pdf here (the form, with the township's profile), the rest by ``emit``.

    ``profile_read``: the profile already read with the ledger open (else it is read here)."""
    if fmt in (ListFormat.pdf, ListFormat.xlsx) and not all(sheet.profile for sheet in sheets):
        profile, known = profile_read or profile_of(ctx, profile_file)
        for sheet in sheets if fmt is ListFormat.pdf or known else ():
            sheet.profile = sheet.profile or profile
    if fmt is not ListFormat.pdf:
        emit(OutputFormat(fmt.value), output, sheets, data, brief=brief, summary=summary)
        return
    if output is None:
        raise typer.BadParameter("pdf 格式须用 --output 指定文件 — pdf needs --output FILE", param_hint="--output")
    from qingdan.io.pdf import write_pdf

    check_output_path(output)
    write_pdf(output, sheets)
    message(f"已写入 {output}")


class Which(StrEnum):
    both = "both"
    hazards = "hazards"
    measures = "measures"


def lists(
    ctx: typer.Context,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    campaign: Campaign = None,
    department: Annotated[str | None, typer.Option("--department", help="责任部门 — department")] = None,
    village: Annotated[str | None, typer.Option("--village", help="村（居）— village")] = None,
    which: Annotated[Which, typer.Option(
        "--list", help="哪个清单：both | hazards（问题隐患）| measures（制度措施）— which list")] = Which.both,
    limit: Annotated[int | None, typer.Option(
        "--limit", min=0, help="最多显示几行，0 为全部（在终端上默认 100）— at most N rows per list")] = None,
    include_withdrawn: Annotated[bool, typer.Option("--include-withdrawn", help="含已撤销 — include withdrawn")] = False,
    fmt: Format = ListFormat.table,
    output: Output = None,
    layout: LayoutChoice = None,
    profile_file: ProfileOption = None,
) -> None:
    """两个清单（截至某日）— the 问题隐患清单 and 制度措施清单 as of a date.

    csv holds one list (the hazard list unless --list measures), in the 台账 columns that import reads.
    pdf is the form handed in (报送表), as is xlsx with --layout 报送表; both import again.
    """
    if output is not None:
        check_output_path(output)  # before the summary line: a bad path is all the clerk should see
    limit = screen_limit(limit, fmt)
    with open_ledger(ctx) as ledger:
        result = ledger.two_lists(as_of=as_of, known_at=known_at, campaign=campaign,
                                  department=department, village=village,
                                  include_withdrawn=include_withdrawn, limit=limit or None)
        if limit:  # a screenful read, the rest counted in the view (a city's whole lists: 4 s)
            snap = ledger.snapshot(as_of=as_of, known_at=known_at)
            hazards = snap.count("hazard", campaign, village=village, department=department,
                                 exclude_status=None if include_withdrawn else "withdrawn")
            measures = 0 if village is not None else snap.count("measure", campaign, department=department)
        else:
            hazards, measures = len(result.hazards), len(result.measures)
        campaign_names = names(ledger)
        profile, known = profile_of(ctx, profile_file, ledger)
    totals = {HAZARD_SHEET: (hazards, "条"), MEASURE_SHEET: (measures, "项")}
    shown = {HAZARD_SHEET: len(result.hazards), MEASURE_SHEET: len(result.measures)}
    summary = {name: f"显示 {shown[name]} {word}，共 {total} {word}（--limit 0 显示全部，或 -f csv -o 文件）"
               for name, (total, word) in totals.items() if shown[name] < total}
    chosen = layout or (Layout.form if fmt is ListFormat.pdf else DEFAULT_CLI_LAYOUT)
    if fmt not in (ListFormat.xlsx, ListFormat.pdf):
        chosen = Layout.register  # on screen and in csv/md: the register's columns
    sheets = two_lists_sheets(result, campaign_names, profile.name,
                              known_at=result.known_at if known_at is not None else None,
                              profile=profile if chosen is Layout.form or known else None,
                              layout=chosen.value)
    if fmt is ListFormat.csv and which is Which.both:
        which = Which.hazards
    if which is Which.hazards:
        sheets = sheets[:1]
    elif which is Which.measures:
        sheets = sheets[1:]
    data: Any = {"as_of": result.as_of, "known_at": result.known_at,
                 "hazards": [h.model_dump(mode="json") for h in result.hazards],
                 "measures": [m.model_dump(mode="json") for m in result.measures]}
    if which is not Which.both:
        data = data[which.value]
    if fmt is ListFormat.table:
        message(f"截至 {result.as_of}：问题隐患 {totals[HAZARD_SHEET][0]} 条，制度措施 {totals[MEASURE_SHEET][0]} 项")
    _emit(ctx, fmt, output, sheets, data, profile_file=profile_file,
          brief={HAZARD_SHEET: HAZARD_BRIEF, MEASURE_SHEET: MEASURE_BRIEF}, summary=summary,
          profile_read=(profile, known))


def overdue(ctx: typer.Context, as_of: AsOf = None, known_at: KnownAt = None, campaign: Campaign = None,
            fmt: Format = ListFormat.table, output: Output = None, profile_file: ProfileOption = None) -> None:
    """逾期未整改的问题隐患 — hazards not completed whose deadline has passed."""
    with open_ledger(ctx) as ledger:
        rows = ledger.overdue(as_of=as_of, known_at=known_at, campaign=campaign)
        campaign_names = names(ledger)
        day = as_of or ledger.today()
    records = [hazard_record(h, i, campaign_names) for i, h in enumerate(rows, 1)]
    sheet = records_sheet(HAZARD_SHEET, list_title(settings(ctx).township, "逾期问题隐患清单", day),
                          HAZARD_COLUMNS, records)
    sheet.printed = 22
    _emit(ctx, fmt, output, [sheet], [h.model_dump(mode="json") for h in rows], profile_file=profile_file,
          brief={HAZARD_SHEET: HAZARD_BRIEF})


STATS_COLUMNS = columns("item:项目:24", "value:数值:12")


def stats(ctx: typer.Context, as_of: AsOf = None, known_at: KnownAt = None, campaign: Campaign = None,
          fmt: Format = ListFormat.table, output: Output = None, profile_file: ProfileOption = None) -> None:
    """统计：隐患数、整改率、重大隐患、逾期、制度措施 — the figures of the two lists."""
    with open_ledger(ctx) as ledger:
        s = ledger.stats(as_of=as_of, known_at=known_at, campaign=campaign)
        campaign_names = names(ledger)
    from qingdan.core.rows import HAZARD_STATUS_LABELS, MEASURE_STATUS_LABELS

    rate = f"{s.rectification_rate:.1%}" if s.rectification_rate is not None else "—"
    items: list[tuple[str, Any]] = [
        ("排查发现问题隐患", s.hazards_found), ("其中已撤销", s.hazards_withdrawn), ("已销号", s.hazards_closed),
        ("整改率（已销号÷有效隐患）", rate), ("重大隐患未销号", s.major_open), ("重大隐患逾期", s.major_overdue),
        ("逾期未整改", s.overdue),
    ]
    items += [(f"专项：{campaign_names.get(k, k)}", v) for k, v in s.by_campaign.items()]
    items += [(f"等级：{k}", v) for k, v in s.by_level.items()]
    items += [(f"状态：{HAZARD_STATUS_LABELS.get(k, k)}", v) for k, v in s.by_status.items()]
    items += [(f"制度措施：{MEASURE_STATUS_LABELS.get(k, k)}", v) for k, v in s.measures_by_status.items()]
    sheet = records_sheet("stats", f"两个清单统计（截至 {s.as_of}）", STATS_COLUMNS,
                          [{"item": k, "value": v} for k, v in items])
    _emit(ctx, fmt, output, [sheet], s.model_dump(mode="json"), profile_file=profile_file)


TARGET_COLUMNS = columns("id:目标编号:28", "campaign:专项:10", "title:整治目标:40", "value:当前值:8",
                         "goal:目标值:8", "unit:单位:4", "due:期限", "state:状态:8", "source:依据:16")


def target_records(rows: Any) -> list[dict[str, Any]]:
    """Target rows for a table, in the clerk's words (states as labels, goals with their comparator)."""
    records = []
    for t in rows:
        record = t.model_dump()
        record["goal"] = f"{t.comparator}{t.goal:g}"
        record["value"] = None if t.value is None else round(t.value, 2)
        record["state"] = TARGET_STATE_LABELS.get(t.state, t.state)
        records.append(record)
    return records


def targets(ctx: typer.Context, as_of: AsOf = None, known_at: KnownAt = None, campaign: Campaign = None,
            fmt: Format = ListFormat.table, output: Output = None, profile_file: ProfileOption = None) -> None:
    """整治目标完成情况 — every target's value and state (met, on_track, at_risk, missed, no_data)."""
    with open_ledger(ctx) as ledger:
        rows = ledger.targets(as_of=as_of, known_at=known_at, campaign=campaign)
        problems = list(ledger.evaluation_errors)
    records = target_records(rows)
    for problem in problems:
        message(f"插件出错：{problem}", style="yellow")
    _emit(ctx, fmt, output, [records_sheet("targets", f"整治目标（截至 {as_of or '今天'}）", TARGET_COLUMNS, records)],
          [t.model_dump(mode="json") for t in rows], profile_file=profile_file)


FINDING_COLUMNS = columns("severity:严重程度:6", "campaign:专项:10", "check:检查规则:28",
                          "subject:对象:20", "message:问题:60")
SEVERITY_ORDER = {"严重": 0, "警告": 1, "提示": 2}


def check(ctx: typer.Context, as_of: AsOf = None, known_at: KnownAt = None, campaign: Campaign = None,
          severity: Annotated[str | None, typer.Option("--severity", help="只看：严重|警告|提示 — only this severity")] = None,
          fmt: Format = ListFormat.table, output: Output = None, profile_file: ProfileOption = None) -> None:
    """运行各专项检查规则 — run every check and list what it finds."""
    if output is not None:
        check_output_path(output)
    with open_ledger(ctx) as ledger:
        found = ledger.findings(as_of=as_of, known_at=known_at, campaign=campaign)
        problems = list(ledger.evaluation_errors)
    found = sorted((f for f in found if severity is None or f.severity == severity),
                   key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), f.check, f.subject))
    for problem in problems:
        message(f"插件出错：{problem}", style="yellow")
    if fmt is ListFormat.table:
        message(f"发现 {len(found)} 个问题")
    _emit(ctx, fmt, output, [records_sheet("findings", f"检查发现（截至 {as_of or '今天'}）", FINDING_COLUMNS,
                                           [f.model_dump() for f in found])],
          [f.model_dump(mode="json") for f in found], profile_file=profile_file)


def projection(
    ctx: typer.Context,
    projection_id: Annotated[str | None, typer.Argument(
        help="专题表编号；不给则列出全部 — projection id (omit to list them)", metavar="ID")] = None,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    fmt: Format = ListFormat.table,
    output: Output = None,
) -> None:
    """专项专题表（如红橙黄蓝分布）— a campaign's own table as of a date."""
    with open_ledger(ctx) as ledger:
        catalogue = ledger.catalogue
        if projection_id is None:
            rows = [{"id": p.id, "campaign": p.campaign, "title": p.title} for p in catalogue.projections.values()]
            cols = columns("id:编号:30", "campaign:专项:12", "title:专题表:40")
            _emit(ctx, fmt, output, [records_sheet("projections", "专题表", cols, rows)], rows)
            return
        spec = catalogue.projection(projection_id)
        rows = ledger.projection(projection_id, as_of=as_of, known_at=known_at)
    cols = columns(*(f"{c}:{c}:14" for c in spec.columns))
    _emit(ctx, fmt, output, [records_sheet("projection", f"{spec.title}（截至 {as_of or today()}）", cols, rows)],
         rows)


def register(app: typer.Typer) -> None:
    app.command("lists")(lists)
    app.command("overdue")(overdue)
    app.command("stats")(stats)
    app.command("targets")(targets)
    app.command("check")(check)
    app.command("projection")(projection)
