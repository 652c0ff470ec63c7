"""总体方案: the rules of 南阳镇安全生产专项整治三年行动工作方案 that apply to every campaign.

Its hazard and task checks read every campaign's rows (the main plan's rules bind all of them), and
each finding carries the campaign of the hazard or task it is about, so a 专项 clerk sees it in his own
list. The monthly 两个清单 check reads the township-wide submissions (campaign ``None`` or ``general``).
The plan gives its two targets no date: “五到位” is due at the campaign's end, and the 督导组 transfers
(“立即整改销号”) at the end of 三(二)1 集中攻坚（2020年）; both titles say so. Its two 时限规则 (五到位
of a 重大隐患, progress of a 挂牌督办 hazard) count working days the plan does not state: each says
why its number is what it is (``inferred``), and its title says it is inferred.

Reminders: with ``QINGDAN_REMINDER_DIR`` set, ``qingdan remind --send`` writes each department's
notice into that folder (a host's mail or SMS job picks them up); unset, this plugin sends nothing.
"""

from __future__ import annotations

import json
import os
import re
from datetime import date
from pathlib import Path

from qingdan import Campaign, Check, Finding, Projection, Snapshot, Target, hookimpl
from qingdan.core import authoring as author
from qingdan.core import targets as rules
from qingdan.core.authoring import ACTION_END, ACTION_START
from qingdan.core.rows import FIVE_PART_LABELS, ReminderNotice
from qingdan.core.spec import DeadlineRule

ID = "general"
PLAN = "总体方案"
SUMMARY_REPORT_DUE = date(2022, 11, 10)
SUMMARY_TASK = f"{ID}.5"
OFFICE = "镇安委会办公室"
ALL = ("各有关部门和单位",)
RELEVANT = ("各相关部门",)

TASK_COLUMNS = "number title lead departments due clause"
TASKS = (
    ("1", "各有关部门和单位实施方案报镇安委会办公室", ALL, (OFFICE,), date(2020, 7, 31), "三(二)"),
    ("2", "2020年度安全生产专项整治工作情况报告报镇安委会办公室汇总并上报镇党委政府", ALL, (OFFICE,),
     date(2020, 12, 31), "三(二)"),
    ("3", "2021年度安全生产专项整治工作情况报告报镇安委会办公室汇总并上报镇党委政府", ALL, (OFFICE,),
     date(2021, 12, 31), "三(二)"),
    ("4", "2022年度安全生产专项整治工作情况报告报镇安委会办公室汇总并上报镇党委政府", ALL, (OFFICE,),
     date(2022, 12, 31), "三(二)"),
    ("5", "专项整治三年行动总结报告报镇安委会办公室汇总并上报镇党委政府", ALL, (OFFICE,), SUMMARY_REPORT_DUE,
     "三(二)"),
    ("6", "强化组织领导：调整成立“镇安全生产专项整治三年行动计划暨专项整治行动领导小组”，建立主任办公例会制度",
     ("镇安委办",), ("各村", "各有关部门和单位"), None, "四(一)"),
    ("7", "强化法治建设：安全生产公益诉讼、行刑衔接、全过程追溯、“一案五制”", ("安全生产监督管理局",), (), None,
     "四(二)"),
    ("8", "强化问题整改：确保整改责任、措施、资金、时限和预案“五到位”，重大隐患难以整改到位的坚决依法关停",
     RELEVANT, (), None, "四(三)"),
    ("9", "强化保障能力：安全生产标准化达标升级、安全生产费用、“互联网+安全监管”、安责险", RELEVANT, (), None,
     "四(四)"),
    ("10", "强化问效问责：纳入督查督办、安全生产巡查、督导和党政领导干部年度综合考核", RELEVANT, (), None, "四(五)"),
    ("11", "强化氛围营造：鼓励举报重大隐患和违法违规行为，曝光典型案例", RELEVANT, (), None, "四(六)"),
)


@hookimpl
def qingdan_campaign() -> Campaign:
    return Campaign(
        id=ID, name="南阳镇安全生产专项整治三年行动（总体方案）", kind="总体", lead_departments=(OFFICE,),
        departments=("镇安全生产监督管理局办公室", "各村（居）", "各有关部门和单位"),
        start=ACTION_START, end=ACTION_END,
        phases=author.standard_phases(ID, PLAN, clauses=("三(一)1", "三(一)2", "三(一)3", "三(一)4")),
        tasks=author.responsible_only(author.task_table(ID, TASK_COLUMNS, TASKS, cite=PLAN), "8", "9", "10", "11"),
        hazard_categories=("督导组移交问题隐患", "区域性行业性共性问题", "其他"),
        source=f"{PLAN}（南委发〔2020〕78号）",
    )


def _five_in_place_rate(snapshot: Snapshot) -> float | None:
    hazards = rules.live_hazards(snapshot, None)
    if not hazards:
        return None
    return 100.0 * sum(1 for h in hazards if h.five_in_place) / len(hazards)


def _transfer_closure_rate(snapshot: Snapshot) -> float | None:
    hazards = rules.live_hazards(snapshot, None, lambda h: h.source == "督导组移交")
    if not hazards:
        return None
    return 100.0 * sum(1 for h in hazards if h.status == "closed") / len(hazards)


#: Why the dates of some targets are inferred (the clause states none).
TARGETS_INFERRED = {
    "five_in_place_rate": "“确保五到位”未定期限：按三年行动期末（2022年底）",
    "inspection_transfer_closure_rate": "“立即整改销号”未定期限：按三(二)1 集中攻坚（2020年）阶段末",
}


@hookimpl
def qingdan_targets() -> list[Target]:
    return author.inferred([
        author.target(
            ID, "five_in_place_rate",
            "问题隐患整改责任、措施、资金、时限和预案“五到位”率（全部专项；“确保五到位”，三年行动期末）",
            ACTION_END, f"{PLAN} 四(三)", _five_in_place_rate),
        author.target(
            ID, "inspection_transfer_closure_rate",
            "督导组现场指出和移交的问题隐患整改销号率（全部专项；“立即整改销号”，期限按2020年集中攻坚阶段末）",
            date(2020, 12, 31), f"{PLAN} 三(一)2；三(二)1", _transfer_closure_rate),
    ], **TARGETS_INFERRED)


def _open(hazard) -> bool:
    return hazard.status not in rules.CLOSED_STATUSES


@author.hazard_rule(ID, "major_not_escalated", "重大隐患未挂牌督办", "严重", f"{PLAN} 三(一)3；三(二)2",
                    every_campaign=True)
def major_not_escalated(hazard, snapshot: Snapshot) -> str | None:
    if hazard.level == "重大" and _open(hazard) and not hazard.escalated:
        return f"重大隐患（{hazard.description}）尚未挂牌督办"
    return None


@author.hazard_rule(ID, "rectification_overdue", "问题隐患逾期未整改", "警告", f"{PLAN} 四(三)", every_campaign=True)
def rectification_overdue(hazard, snapshot: Snapshot) -> tuple[str, str] | None:
    if hazard.overdue and _open(hazard):
        return f"整改期限 {hazard.deadline} 已过，尚未完成整改", ("严重" if hazard.level == "重大" else "警告")
    return None


@author.hazard_rule(ID, "five_parts_missing", "整改中的隐患“五到位”不全", "提示", f"{PLAN} 四(三)",
                    every_campaign=True)
def five_parts_missing(hazard, snapshot: Snapshot) -> str | None:
    if hazard.status == "rectifying" and not hazard.five_in_place:
        return f"整改中但“五到位”缺少{'、'.join(FIVE_PART_LABELS.get(p, p) for p in hazard.missing_parts)}"
    return None


@author.task_rule(ID, "task_overdue", "重点任务逾期未完成", "警告", f"{PLAN} 四(五)", every_campaign=True)
def task_overdue(task, snapshot: Snapshot) -> str | None:
    if task.status != "done" and task.due is not None and task.due < snapshot.as_of:
        period = f"{task.period} 年度/周期" if task.period else ""
        return f"{period}应于 {task.due} 前完成，尚未完成（牵头：{'、'.join(task.lead_departments)}）"
    return None


def _summary_report(snapshot: Snapshot) -> list[Finding]:
    if snapshot.as_of <= SUMMARY_REPORT_DUE:
        return []
    task = next((t for t in snapshot.tasks(ID) if t.id == SUMMARY_TASK), None)
    if task is not None and task.status == "done" and task.completed_on and task.completed_on <= SUMMARY_REPORT_DUE:
        return []
    if task is not None and task.status == "done":
        message = f"专项整治三年行动总结报告于 {task.completed_on} 报送，晚于 {SUMMARY_REPORT_DUE}"
    else:
        message = f"专项整治三年行动总结报告应于 {SUMMARY_REPORT_DUE} 前报镇安委会办公室，尚未报送"
    return [Finding(check=f"{ID}.summary_report", campaign=ID, subject=SUMMARY_TASK, message=message,
                    severity="严重")]


@hookimpl
def qingdan_checks() -> list[Check]:
    return [
        author.monthly_two_lists_check(ID, "两个清单每月25日前报送", source=f"{PLAN} 三(一)2",
                                       covers=lambda report: getattr(report, "campaign", None) in (None, ID)),
        major_not_escalated,
        rectification_overdue,
        five_parts_missing,
        task_overdue,
        author.check(ID, "summary_report", "专项整治三年行动总结报告2022年11月10日前报送", "严重", f"{PLAN} 三(二)",
                     _summary_report),
        not_rechecked,
        xiaozao_2020_open.model_copy(update={"inferred": XIAOZAO_INFERRED}),
        major_not_shut_down,
    ]


# -- 时限规则 -------------------------------------------------------------------------------------

MAJOR_FIVE_IN_PLACE_DAYS = 15
ESCALATED_PROGRESS_DAYS = 20

DEADLINE_RULES = (
    DeadlineRule(
        id=f"{ID}.major_five_in_place_within",
        campaign=ID,
        title=f"重大隐患排查后{MAJOR_FIVE_IN_PLACE_DAYS}个工作日内落实“五到位”（天数为推定）",
        source=f"{PLAN} 四(三)；三(一)3",
        applies_to=lambda h: h.level == "重大",
        working_days=MAJOR_FIVE_IN_PLACE_DAYS, from_field="found_on", what="five_in_place",
        severity="严重", every_campaign=True,
        inferred="四(三)要求对排查发现的问题隐患“从严从快立查立改”、确保“五到位”，未规定天数；"
                 "按15个工作日（三周）推定：短于两个清单按月报送的周期（三(一)2），方案能在下一次报送前到位",
    ),
    DeadlineRule(
        id=f"{ID}.escalated_progress_every",
        campaign=ID,
        title=f"挂牌督办的隐患每{ESCALATED_PROGRESS_DAYS}个工作日报告一次整改进展（频次为推定）",
        source=f"{PLAN} 三(一)3；三(二)2",
        applies_to=lambda h: h.escalated,
        working_days=ESCALATED_PROGRESS_DAYS, from_field="escalated_on", what="progress",
        severity="警告", every_campaign=True,
        inferred="三(一)3、三(二)2要求对重大隐患“跟踪督办、闭环整改”，未规定报告频次；"
                 "按20个工作日（约一个月）推定，与两个清单每月25日前报送（三(一)2）的节奏一致",
    ),
)


@hookimpl
def qingdan_deadline_rules() -> list[DeadlineRule]:
    return list(DEADLINE_RULES)


# -- reminders -------------------------------------------------------------------------------------

REMINDER_DIR_ENV = "QINGDAN_REMINDER_DIR"


def _file_name(text: str) -> str:
    return re.sub(r'[\\/:*?"<>|\s]+', "_", text).strip("._")[:60] or "未明确责任单位"


def _write(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


@hookimpl
def qingdan_reminders(notices: list[ReminderNotice]) -> str | None:
    """With ``QINGDAN_REMINDER_DIR`` set, one ``<日期>-<部门>.txt`` per notice and all of them as
    ``<日期>-reminders.json``; otherwise nothing."""
    folder = os.environ.get(REMINDER_DIR_ENV)
    if not folder or not notices:
        return None
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    day = notices[0].as_of.isoformat()
    for notice in notices:
        _write(path / f"{day}-{_file_name(notice.department)}.txt", notice.text)
    _write(path / f"{day}-reminders.json",
           json.dumps([n.model_dump(mode="json") for n in notices], ensure_ascii=False, indent=2) + "\n")
    return f"已将 {len(notices)} 份提醒通知写入 {path}"


@author.projection(ID, "two_lists_by_campaign", "各专项两个清单汇总",
                   ("专项", "隐患总数", "重大隐患", "已销号", "未销号", "逾期", "制度措施", "已印发或落实"))
def two_lists_by_campaign(snapshot: Snapshot) -> list[dict]:
    hazards = rules.live_hazards(snapshot, None)
    measures = snapshot.measures()
    campaigns = sorted({h.campaign for h in hazards} | {m.campaign for m in measures})
    rows = []
    for campaign in campaigns:
        group = [h for h in hazards if h.campaign == campaign]
        own_measures = [m for m in measures if m.campaign == campaign and m.status != "repealed"]
        rows.append({
            "专项": campaign,
            "隐患总数": len(group),
            "重大隐患": sum(1 for h in group if h.level == "重大"),
            "已销号": sum(1 for h in group if h.status == "closed"),
            "未销号": sum(1 for h in group if h.status != "closed"),
            "逾期": sum(1 for h in group if h.overdue and h.status != "closed"),
            "制度措施": len(own_measures),
            "已印发或落实": sum(1 for m in own_measures if m.status in ("issued", "implemented")),
        })
    return rows


@author.projection(ID, "monthly_report_register", "两个清单月度报送登记", ("期次", "截止日期", "报送日期", "状态"))
def monthly_report_register(snapshot: Snapshot) -> list[dict]:
    submitted: dict[str, date] = {}
    for report in snapshot.reports():
        if getattr(report, "campaign", None) in (None, ID):
            on = rules.as_date(report.submitted_on)
            if on is not None and (report.period not in submitted or on < submitted[report.period]):
                submitted[report.period] = on
    rows = []
    for year, month in rules.months(date(2020, 8, 1), min(ACTION_END, snapshot.as_of)):
        period, deadline = f"{year}-{month:02d}", date(year, month, 25)
        on = submitted.get(period)
        if on is None:
            state = "未报送" if snapshot.as_of > deadline else "未到期"
        else:
            state = "按时" if on <= deadline else "逾期"
        rows.append({"期次": period, "截止日期": deadline.isoformat(),
                     "报送日期": on.isoformat() if on else "", "状态": state})
    return rows


@hookimpl
def qingdan_projections() -> list[Projection]:
    return [two_lists_by_campaign, monthly_report_register]


# -- 回头看, 一年小灶 and 关停 (总体方案 三(二)1, 三(一)2, 四(三)) ---------------------------------------

RECHECK_INFERRED = ("三(二)1 把“回头看”列在集中攻坚（2020年）阶段，未定期限：2020年销号的应于2020年底前复查，"
                    "此后销号的按销号当年年底")


def recheck_due(hazard) -> date | None:
    """The last day for the 回头看 of a closed 督导组移交 or 督办 hazard (see :data:`RECHECK_INFERRED`)."""
    if hazard.closed_on is None:
        return None
    return date(max(hazard.closed_on.year, 2020), 12, 31)


def _not_rechecked(hazard, snapshot: Snapshot) -> str | None:
    if hazard.status != "closed" or not (hazard.source == "督导组移交" or hazard.escalated):
        return None
    due = recheck_due(hazard)
    if due is None or snapshot.as_of <= due or (hazard.rechecked_on is not None):
        return None
    what = "督导组移交" if hazard.source == "督导组移交" else "挂牌督办"
    return f"{what}问题隐患于 {hazard.closed_on} 销号，应于 {due} 前“回头看”复查，尚未复查（{RECHECK_INFERRED}）"


not_rechecked = author.hazard_rule(
    ID, "not_rechecked", "督导组移交、督办问题隐患销号后未“回头看”复查（期限为推定：见说明）", "警告",
    f"{PLAN} 三(二)1", every_campaign=True)(_not_rechecked).model_copy(update={"inferred": RECHECK_INFERRED})


XIAOZAO_END = date(2020, 12, 31)


XIAOZAO_INFERRED = ("三(一)2 排查整治（2020年8月至12月）“完成一年小灶隐患整改任务”：2020年排查的隐患应于2020年底前销号；"
                    "“具备整改条件”与否台账不记，一律按此判断")


@author.hazard_rule(ID, "xiaozao_2020_open", "2020年排查的问题隐患未在当年完成“一年小灶”整改", "警告",
                    f"{PLAN} 三(一)2", every_campaign=True, after=XIAOZAO_END)
def xiaozao_2020_open(hazard, snapshot: Snapshot) -> str | None:
    if hazard.found_on.year != 2020 or hazard.status == "withdrawn":
        return None
    if hazard.closed_on is not None and hazard.closed_on <= XIAOZAO_END:
        return None
    if hazard.status == "closed":
        return f"2020年排查发现，{hazard.closed_on} 才销号，晚于2020年底的“一年小灶”期限"
    return "2020年排查发现，2020年底前未完成“一年小灶”整改，至今未销号"


def _shut_down(hazard, snapshot: Snapshot) -> bool:
    if hazard.unit_number is None:
        return False
    unit = next((u for u in snapshot.all_units() if u.number == hazard.unit_number), None)
    return unit is not None and unit.closed_on is not None and "关停" in (unit.closed_reason or "")


SHUTDOWN_INFERRED = "“难以整改到位”推定为：重大隐患已过整改期限仍未销号（方案未定义）"


def _major_not_shut_down(hazard, snapshot: Snapshot) -> str | None:
    if hazard.level != "重大" or not _open(hazard) or not hazard.overdue or _shut_down(hazard, snapshot):
        return None
    return (f"重大隐患整改期限 {hazard.deadline} 已过仍未整改到位，未销号，所属单位也未依法关停"
            f"（{SHUTDOWN_INFERRED}）")


major_not_shut_down = author.hazard_rule(
    ID, "major_not_shut_down", "重大隐患难以整改到位却既未销号也未依法关停（“难以整改到位”为推定）", "严重",
    f"{PLAN} 四(三)", every_campaign=True)(_major_not_shut_down).model_copy(update={"inferred": SHUTDOWN_INFERRED})
