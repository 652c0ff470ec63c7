"""``qingdan hazard …``: a 问题隐患 from report to 销号."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

import typer

from qingdan.cli.common import (
    AsOf,
    Campaign,
    Format,
    KnownAt,
    Note,
    Number,
    On,
    Output,
    ShownColumns,
    clerk_campaign,
    clerk_date,
    clerk_escalation_level,
    clerk_level,
    clerk_method,
    clerk_source,
    done,
    open_ledger,
    screen_limit,
    settings,
)
from qingdan.cli.output import OutputFormat, emit, message
from qingdan.cli.sanity import Force, check_hazard
from qingdan.cli.views import HAZARD_BRIEF, campaign_names, emit_history, emit_record
from qingdan.core.labels import FIVE_PART_LABELS, HAZARD_CORRECTABLE, HAZARD_STATUS_LABELS
from qingdan.core.text import name_key

app = typer.Typer(no_args_is_help=True)

WORKING_DAYS = re.compile(r"^\s*(\d{1,3})\s*个?\s*工作日\s*$")


@dataclass(frozen=True)
class DeadlineGiven:
    """``--deadline`` as typed: a date, or a number of working days (``15工作日``, ``15个工作日``)."""

    date: date | None = None
    working_days: int | None = None

    def keywords(self) -> dict[str, Any]:
        return {"deadline": self.date, "deadline_working_days": self.working_days}


def clerk_field(value: Any) -> str:
    """``correct --field``: the English name (``village``), the 台账 column (``村（居）``) or any header
    the importer reads for it (``所在村``、``企业名称`` …)."""
    from qingdan.io.layout import HAZARD_HEADERS, normalise_header

    text = str(value).strip()
    if text in HAZARD_CORRECTABLE:
        return text
    for key, label in HAZARD_CORRECTABLE.items():
        if text == label:
            return key
    column = HAZARD_HEADERS.get(normalise_header(text))
    if column is not None and column.key in HAZARD_CORRECTABLE:
        return column.key
    raise typer.BadParameter(f"不能更正“{text}”；可更正：" + "、".join(HAZARD_CORRECTABLE.values()))


def clerk_deadline(value: Any) -> DeadlineGiven | None:
    """Option parser: ``2020-10-21`` (any date form clerks type) or ``15工作日`` / ``15个工作日``."""
    if value is None or isinstance(value, DeadlineGiven):
        return value
    found = WORKING_DAYS.match(str(value))
    if found:
        return DeadlineGiven(working_days=int(found.group(1)))
    return DeadlineGiven(date=clerk_date(value))


Deadline = Annotated[DeadlineGiven | None, typer.Option(
    "--deadline", parser=clerk_deadline, metavar="DATE|N个工作日",
    help="整改期限：日期，或自业务日期起的工作日数（如 15个工作日，按法定节假日和调休计算）"
         " — deadline: a date, or working days after --on")]


@app.command("report")
def report(
    ctx: typer.Context,
    campaign: Annotated[str, typer.Option(
        "--campaign", "-c", parser=clerk_campaign, metavar="专项",
        help="专项：id 或名称，如 fire 或 消防 — campaign id or name")],
    unit: Annotated[str, typer.Option("--unit", "-u", help="单位名称 — the unit (enterprise, place …)")],
    description: Annotated[str, typer.Option("--description", "-d", help="隐患描述 — what was found")],
    level: Annotated[str, typer.Option(
        "--level", parser=clerk_level, metavar="等级",
        help="隐患等级：一般 | 重大（也可写 重大隐患、一般事故隐患）— level")] = "一般",
    found_on: Annotated[date | None, typer.Option(
        "--found-on", parser=clerk_date, metavar="DATE", help="排查日期，默认今天 — date found")] = None,
    category: Annotated[str | None, typer.Option("--category", help="隐患类别（见专项）— category")] = None,
    village: Annotated[str | None, typer.Option("--village", help="村（居）— village")] = None,
    location: Annotated[str | None, typer.Option("--location", help="隐患部位 — where in the unit")] = None,
    source: Annotated[str, typer.Option(
        "--source", parser=clerk_source, metavar="来源",
        help="隐患来源：自查|检查|督查|督导组移交|举报|其他（也可写 执法检查、群众举报 …）— source")] = "自查",
    inspector: Annotated[list[str] | None, typer.Option(
        "--inspector", help="检查人员，可多次给出 — inspector (repeatable)")] = None,
    unit_number: Annotated[str | None, typer.Option(
        "--unit-number", help="已登记单位的编号 U-00001 — registered unit number")] = None,
    note: Note = None,
    force: Force = False,
) -> None:
    """登记问题隐患 — report a hazard; prints its number (H-fire-2020-0007).

    排查日期不在专项期间内、或与已登记的隐患疑似重复（同一单位、同样的描述）时不登记并说明原因；确属实的加 --force。
    """
    with open_ledger(ctx, write=True) as ledger:
        check_hazard(ledger, campaign=campaign, unit=unit, description=description, found_on=found_on, force=force)
        number = ledger.report_hazard(
            campaign=campaign, unit=unit, description=description, level=level, found_on=found_on,
            category=category, village=village, location=location, source=source,
            inspectors=tuple(inspector or ()), unit_number=unit_number, note=note)
    done(number, f"已登记问题隐患 {number}")


@app.command("plan")
def plan(
    ctx: typer.Context,
    number: Number,
    responsible_unit: Annotated[str | None, typer.Option("--responsible-unit", help="整改责任单位 — responsible unit")] = None,
    responsible_person: Annotated[str | None, typer.Option("--responsible-person", help="责任人 — responsible person")] = None,
    measures: Annotated[str | None, typer.Option("--measures", help="整改措施 — measures")] = None,
    funds: Annotated[float | None, typer.Option("--funds", help="整改资金（万元）— funds, 10k yuan")] = None,
    deadline: Deadline = None,
    contingency: Annotated[str | None, typer.Option("--contingency", help="应急预案 — contingency plan")] = None,
    on: On = None,
    note: Note = None,
) -> None:
    """制定整改方案（五到位任意几项）— record any of the five parts of the rectification."""
    with open_ledger(ctx, write=True) as ledger:
        ledger.plan_rectification(number, responsible_unit=responsible_unit,
                                  responsible_person=responsible_person, measures=measures,
                                  funds=funds, contingency=contingency, on=on, note=note,
                                  **(deadline or DeadlineGiven()).keywords())
        row = ledger.hazard(number, as_of=on)
    missing = "、".join(FIVE_PART_LABELS.get(p, p) for p in row.missing_parts)
    until = f"；整改期限 {row.deadline_rule}" if deadline and deadline.working_days and row.deadline_rule else ""
    done(number, f"已记录 {number} 的整改方案{until}" + (f"；五到位尚缺：{missing}" if missing else "；五到位已齐"))


@app.command("escalate")
def escalate(
    ctx: typer.Context,
    number: Number,
    supervisor: Annotated[str, typer.Option("--supervisor", help="督办单位 — supervising body")],
    level: Annotated[str, typer.Option(
        "--level", parser=clerk_escalation_level, metavar="级别",
        help="督办级别：镇 | 市 | 省（也可写 镇级、市级、省级）— level")] = "镇",
    doc_no: Annotated[str | None, typer.Option("--doc-no", help="督办文号 — document number")] = None,
    on: On = None,
    note: Note = None,
) -> None:
    """挂牌督办 — list the hazard for supervision."""
    with open_ledger(ctx, write=True) as ledger:
        ledger.escalate(number, supervisor=supervisor, level=level, doc_no=doc_no, on=on, note=note)
    done(number, f"{number} 已挂牌督办（{level}级，{supervisor}）")


@app.command("extend")
def extend(
    ctx: typer.Context,
    number: Number,
    deadline: Annotated[DeadlineGiven, typer.Option(
        "--deadline", parser=clerk_deadline, metavar="DATE|N个工作日",
        help="申请延至的日期，或自现有整改期限起延期的工作日数（如 10个工作日）"
             " — the new deadline, or working days after the current one")],
    reason: Annotated[str, typer.Option("--reason", help="延期理由 — reason")],
    on: On = None,
    note: Note = None,
) -> None:
    """申请延期 — request a later deadline."""
    with open_ledger(ctx, write=True) as ledger:
        ledger.request_extension(number, reason=reason, on=on, note=note, **deadline.keywords())
        asked = ledger.hazard(number, as_of=on).extension_pending if deadline.working_days else deadline.date
    days = f"{deadline.working_days}个工作日，" if deadline.working_days else ""
    done(number, f"{number} 已申请延期{days}至 {asked}，待审批")


@app.command("decide-extension")
def decide_extension(
    ctx: typer.Context,
    number: Number,
    approved: Annotated[bool, typer.Option("--approve/--refuse", help="批准或不批准 — approve or refuse")],
    on: On = None,
    note: Note = None,
) -> None:
    """审批延期申请 — approve or refuse the pending extension."""
    with open_ledger(ctx, write=True) as ledger:
        ledger.decide_extension(number, approved=approved, on=on, note=note)
    done(number, f"{number} 的延期申请已{'批准' if approved else '不予批准'}")


@app.command("progress")
def progress(
    ctx: typer.Context,
    number: Number,
    text: Annotated[str, typer.Option("--text", "-t", help="整改进展 — progress text")],
    on: On = None,
    note: Note = None,
) -> None:
    """报告整改进展 — note progress of the rectification."""
    with open_ledger(ctx, write=True) as ledger:
        ledger.report_progress(number, text=text, on=on, note=note)
    done(number, f"已记录 {number} 的整改进展")


@app.command("complete")
def complete(
    ctx: typer.Context,
    number: Number,
    cost: Annotated[float | None, typer.Option("--cost", help="实际整改费用（万元）— actual cost")] = None,
    on: On = None,
    note: Note = None,
) -> None:
    """整改完成，待验收 — rectification done, awaiting verification."""
    with open_ledger(ctx, write=True) as ledger:
        ledger.complete_rectification(number, cost=cost, on=on, note=note)
    done(number, f"{number} 整改完成，待验收")


@app.command("verify")
def verify(
    ctx: typer.Context,
    number: Number,
    passed: Annotated[bool, typer.Option("--passed/--failed", help="验收通过或不通过 — passed or failed")],
    inspector: Annotated[str, typer.Option("--inspector", help="验收人 — inspector")],
    method: Annotated[str, typer.Option(
        "--method", parser=clerk_method, metavar="方式",
        help="验收方式：自评 | 专家 | 政府验收（也可写 专家验收、企业自评）— method")] = "政府验收",
    on: On = None,
    note: Note = None,
) -> None:
    """验收 — verify the rectification (a failed one returns it to 整改中)."""
    with open_ledger(ctx, write=True) as ledger:
        ledger.verify(number, passed=passed, inspector=inspector, method=method, on=on, note=note)
    done(number, f"{number} 验收{'通过，可销号' if passed else '不通过，退回整改中'}")


@app.command("close")
def close(ctx: typer.Context, number: Number, on: On = None, note: Note = None) -> None:
    """销号 — close a hazard whose rectification passed verification."""
    with open_ledger(ctx, write=True) as ledger:
        ledger.close(number, on=on, note=note)
    done(number, f"{number} 已销号")


@app.command("reopen")
def reopen(
    ctx: typer.Context,
    number: Number,
    reason: Annotated[str, typer.Option("--reason", help="反销号理由（如回头看发现未整改到位）— reason")],
    on: On = None,
    note: Note = None,
) -> None:
    """反销号 — reopen a closed hazard found not fixed (回头看)."""
    with open_ledger(ctx, write=True) as ledger:
        ledger.reopen(number, reason=reason, on=on, note=note)
    done(number, f"{number} 已反销号，退回整改中")


@app.command("correct")
def correct(
    ctx: typer.Context,
    number: Number,
    field: Annotated[str, typer.Option(
        "--field", parser=clerk_field, metavar="字段",
        help="更正字段，中文列名或英文名：" + "、".join(
            f"{v}（{k}）" for k, v in HAZARD_CORRECTABLE.items()) + " — field to correct")],
    value: Annotated[str, typer.Option("--value", help="正确的值（空串表示清空）— the right value")],
    reason: Annotated[str, typer.Option("--reason", help="更正理由 — reason")],
    on: Annotated[date | None, typer.Option(
        "--on", parser=clerk_date, metavar="DATE",
        help="自何日起更正，默认排查日期 — effective from (default: the date found)")] = None,
    note: Note = None,
) -> None:
    """更正登记错误的字段 — correct a wrongly recorded field (kept in the history)."""
    parsed: object = value if value != "" else None
    if field == "deadline" and parsed is not None:
        parsed = clerk_date(value)
    elif field == "level" and parsed is not None:
        parsed = clerk_level(value)
    elif field == "source" and parsed is not None:
        parsed = clerk_source(value)
    elif field == "funds" and parsed is not None:
        try:
            parsed = float(value)
        except ValueError:
            raise typer.BadParameter(f"“{value}”不是数字", param_hint="--value") from None
    elif field == "inspectors":
        parsed = [p for p in value.replace("，", "、").replace(",", "、").split("、") if p]
    with open_ledger(ctx, write=True) as ledger:
        ledger.correct(number, field=field, value=parsed, reason=reason, on=on, note=note)
    done(number, f"已更正 {number} 的 {HAZARD_CORRECTABLE.get(field, field)}")


@app.command("withdraw")
def withdraw(
    ctx: typer.Context,
    number: Number,
    reason: Annotated[str, typer.Option("--reason", help="撤销理由（重复登记、误登记）— reason")],
    on: On = None,
    note: Note = None,
) -> None:
    """撤销（重复或错误登记；记录保留）— withdraw a duplicate or erroneous entry.

    撤销日期默认为该隐患的排查日期：按现在所知，它从未出现在任何一天的清单里；按当时所知（--known-at），当时的清单照旧有它。
    """
    with open_ledger(ctx, write=True) as ledger:
        ledger.withdraw(number, reason=reason, on=on, note=note)
    done(number, f"{number} 已撤销")


def clerk_status(value: Any) -> Any:
    """``--status``: 待整改|整改中|待验收|已销号|已撤销 (or the codes), 未销号 for any still open."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return [clerk_status(v) for v in value]
    text = str(value).strip()
    words = {label: code for code, label in HAZARD_STATUS_LABELS.items()} | {c: c for c in HAZARD_STATUS_LABELS}
    words |= {"未销号": "open", "未完成": "open", "在整改": "open", "已完成": "awaiting_verification",
              "已整改": "awaiting_verification", "销号": "closed", "撤销": "withdrawn"}
    if text not in words:
        raise typer.BadParameter(f"无法识别的整改状态“{text}”，可填：" + "、".join(
            [*HAZARD_STATUS_LABELS.values(), "未销号"]))
    return words[text]


def _searchable(text: str | None) -> str:
    """Text as a search compares it: :func:`~qingdan.core.text.name_key` without any spaces."""
    return name_key(text or "").replace(" ", "")


@app.command("list")
def list_hazards(
    ctx: typer.Context,
    campaign: Campaign = None,
    status: Annotated[list[str] | None, typer.Option(
        "--status", "-s", parser=clerk_status, metavar="状态",
        help="整改状态：待整改|整改中|待验收|已销号|已撤销，未销号 = 尚未销号的；可多次给出 — status")] = None,
    level: Annotated[str | None, typer.Option(
        "--level", parser=clerk_level, metavar="等级", help="隐患等级：一般 | 重大 — level")] = None,
    village: Annotated[str | None, typer.Option("--village", help="村（居）— village")] = None,
    department: Annotated[str | None, typer.Option(
        "--department", help="整改责任单位（部门）— responsible department")] = None,
    unit: Annotated[str | None, typer.Option("--unit", "-u", help="单位名称（含这几个字即可）— unit name contains")] = None,
    text: Annotated[str | None, typer.Option(
        "--text", "-t", help="隐患描述、部位、单位或措施中含这几个字 — text anywhere")] = None,
    found_from: Annotated[date | None, typer.Option(
        "--found-from", parser=clerk_date, metavar="DATE", help="排查日期不早于 — found on or after")] = None,
    found_to: Annotated[date | None, typer.Option(
        "--found-to", parser=clerk_date, metavar="DATE", help="排查日期不晚于 — found on or before")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="只看超期未整改的 — only overdue")] = False,
    escalated: Annotated[bool | None, typer.Option(
        "--escalated/--not-escalated", help="只看已挂牌督办的（或未挂牌的）— escalated or not")] = None,
    include_withdrawn: Annotated[bool, typer.Option("--include-withdrawn", help="含已撤销 — include withdrawn")] = False,
    limit: Annotated[int | None, typer.Option(
        "--limit", min=0, help="最多显示几条，0 为全部（在终端上默认 100）— at most N")] = None,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    shown: ShownColumns = None,
    fmt: Format = OutputFormat.table,
    output: Output = None,
) -> None:
    """查找问题隐患：按专项、状态、等级、村、责任单位、单位、文字、排查日期、超期、督办 — search hazards."""
    from qingdan.io.writer import HAZARD_SHEET, two_lists_sheets

    statuses = set(status or ())
    include_withdrawn = include_withdrawn or "withdrawn" in statuses
    with open_ledger(ctx) as ledger:
        everything = ledger.two_lists(as_of=as_of, known_at=known_at, include_withdrawn=include_withdrawn)
        if campaign or village or department:
            result = ledger.two_lists(as_of=as_of, known_at=known_at, campaign=campaign, village=village,
                                      department=department, include_withdrawn=include_withdrawn)
        else:
            result = everything
        campaigns = campaign_names(ledger, fmt) or {}

    def wanted(row: Any) -> bool:
        if statuses and row.status not in statuses and not (
                "open" in statuses and row.status not in ("closed", "withdrawn")):
            return False
        if level and row.level != level:
            return False
        if unit and _searchable(unit) not in _searchable(row.unit):  # ＡＢＣ饭店 finds ABC饭店
            return False
        if text and not any(_searchable(text) in _searchable(v)
                            for v in (row.description, row.location, row.unit, row.measures)):
            return False
        if found_from and row.found_on < found_from or found_to and row.found_on > found_to:
            return False
        if overdue and not row.overdue:
            return False
        return escalated is None or row.escalated == escalated

    found = [row for row in result.hazards if wanted(row)]
    limit = screen_limit(limit, fmt)
    picked = found[:limit] if limit else found
    total = len(everything.hazards)
    lists = result.model_copy(update={"hazards": picked, "measures": []})
    sheet = two_lists_sheets(lists, campaigns, settings(ctx).township,
                             known_at=result.known_at if known_at is not None else None)[0]
    line = f"显示 {len(picked)} 条" + (f"（符合条件 {len(found)} 条）" if len(found) != len(picked) else "")
    line += f"，共 {total} 条"
    emit(fmt, output, [sheet], [h.model_dump(mode="json") for h in picked],
         brief={HAZARD_SHEET: HAZARD_BRIEF}, shown=shown, summary={HAZARD_SHEET: line})
    if fmt is not OutputFormat.table:
        message(line)


@app.command("show")
def show(ctx: typer.Context, number: Number, as_of: AsOf = None, known_at: KnownAt = None,
         fmt: Format = OutputFormat.table, output: Output = None) -> None:
    """查看一条隐患（截至某日）— show a hazard as of a date."""
    with open_ledger(ctx) as ledger:
        row = ledger.hazard(number, as_of=as_of, known_at=known_at)
        campaigns = campaign_names(ledger, fmt)
    emit_record(fmt, output, f"{number}（截至 {as_of or '今天'}）", row, campaigns)


@app.command("history")
def history(ctx: typer.Context, number: Number, fmt: Format = OutputFormat.table,
            output: Output = None) -> None:
    """全部记录：业务日期、登记时间、操作人 — every event of the hazard."""
    with open_ledger(ctx) as ledger:
        entries = ledger.history(number)
        campaigns = campaign_names(ledger, fmt)
    emit_history(fmt, output, number, entries, campaigns)


@app.command("recheck")
def recheck(
    ctx: typer.Context,
    number: Number,
    passed: Annotated[bool, typer.Option("--passed/--failed", help="回头看复查通过或不通过 — passed or failed")],
    inspector: Annotated[str, typer.Option("--inspector", help="复查人 — inspector")],
    method: Annotated[str, typer.Option("--method", help="复查方式：现场复查 | 资料复查 | 暗查暗访 — method")] = "现场复查",
    on: On = None,
    note: Note = None,
) -> None:
    """回头看复查 — re-inspect a closed hazard (a failed one is reopened, 整改中 again)."""
    with open_ledger(ctx, write=True) as ledger:
        ledger.recheck(number, passed=passed, inspector=inspector, method=method, on=on, note=note)
    done(number, f"{number} 回头看复查{'通过' if passed else '不通过，已反销号退回整改中'}")
