"""Helpers for writing a campaign plugin, so that the plugin reads as the clauses of its plan.

Every campaign plugin declares the same kinds of things — phases, a table of 重点任务, 整治目标,
checks over units, hazards or tasks, and tables — and each needs the same scaffolding: ids prefixed with
the campaign id, ``campaign=`` on every model, a finding per unit labelled the same way. These helpers
write that scaffolding once. They only build the models of :mod:`qingdan.core.spec`; a plugin may mix
them freely with hand-built models. They are exported from :mod:`qingdan` with the models::

    from qingdan import Campaign, hookimpl, standard_phases, task_table, unit_check

The conventions they share:

* ``campaign`` is the campaign id; ``slug`` the rest of an id, so ``("fire", "lane_marking_rate")``
  gives ``fire.lane_marking_rate``.
* ``source`` is a citation exactly as stored (``"附件5 二(二)4"``); where a helper reads clauses from a
  table, ``cite`` is the document they belong to and the source is ``f"{cite} {clause}"``.
* A check's ``severity`` is the severity of its findings unless a rule says otherwise for one finding.
* ``after`` on a check: it finds nothing until ``as_of`` is past that day (a deadline that has to pass
  before its breach is a problem).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from typing import Any, overload

from .rows import HazardRow, TaskRow, UnitRow
from .spec import (
    Check,
    Comparator,
    Finding,
    Phase,
    Projection,
    Severity,
    Snapshot,
    Target,
    TaskSpec,
)
from .targets import (
    UnitPredicate,
    has,
    monthly_report_run,
    share_measure,
    unit_findings,
    unit_label,
)

__all__ = [
    "ACTION_START", "ACTION_END", "END_2020", "END_2021", "END_2022", "STANDARD_PHASES", "CONTINUED_PHASES",
    "phases", "standard_phases", "TASK_COLUMNS", "task_table",
    "target", "share_target",
    "check", "unit_check", "unit_rule", "hazard_rule", "task_rule", "monthly_two_lists_check",
    "projection",
]

# -- the calendar of the three-year action (总体方案: 从2020年7月起至2022年12月) --------------------------

ACTION_START, ACTION_END = date(2020, 7, 1), date(2022, 12, 31)
END_2020, END_2021, END_2022 = date(2020, 12, 31), date(2021, 12, 31), date(2022, 12, 31)

#: 总体方案 三(一), the 专题 and 专项 new in 2020: 动员部署 (2020年7月), 排查整治 (2020年8月至12月),
#: 集中攻坚 (2021年), 巩固提升 (2022年).
STANDARD_PHASES = ("动员部署", "排查整治", "集中攻坚", "巩固提升")
#: 总体方案 三(二), the five 专项 already under way: 集中攻坚 (2020年), 持续整治 (2021年), 巩固提升 (2022年).
CONTINUED_PHASES = ("集中攻坚", "持续整治", "巩固提升")

_NUMERALS = "一二三四五六七八九十"

Verdict = str | tuple[str, Severity] | None
"""What a rule says of one row: nothing (``None`` or ``""``), a message, or a message and a severity."""
Run = Callable[[Snapshot], Iterable[Finding]]
"""A check's ``run``."""
Build = Callable[[Snapshot], Iterable[dict[str, Any]]]
"""A projection's ``build``."""


def _clauses(clauses: str | Sequence[str], count: int) -> list[str]:
    if isinstance(clauses, str):
        if count > len(_NUMERALS):
            raise ValueError(f"cannot number {count} clauses of section {clauses!r}")
        return [f"{clauses}({_NUMERALS[i]})" for i in range(count)]
    if len(clauses) != count:
        raise ValueError(f"{count} phases but {len(clauses)} clauses: {list(clauses)}")
    return list(clauses)


# -- phases -------------------------------------------------------------------------------------------


def phases(
    campaign: str, cite: str, *stages: tuple[str, date, date], clauses: str | Sequence[str] = "三"
) -> tuple[Phase, ...]:
    """The campaign's phases from ``(name, start, end)`` stages, with ids ``<campaign>.p1`` ….

    ``clauses`` cites them: a section (``"三"``: ``三(一)``, ``三(二)`` … in order) or one clause per
    stage (``("三(一)1", "三(一)2")``); each source is ``f"{cite} {clause}"``.
    """
    cited = zip(stages, _clauses(clauses, len(stages)), strict=True)
    return tuple(
        Phase(id=f"{campaign}.p{i}", name=name, start=start, end=end, source=f"{cite} {clause}")
        for i, ((name, start, end), clause) in enumerate(cited, 1)
    )


def standard_phases(
    campaign: str,
    cite: str,
    names: Sequence[str] = STANDARD_PHASES,
    *,
    clauses: str | Sequence[str] = "三",
    mobilised_by: date = date(2020, 7, 31),
    second_from: date | None = None,
) -> tuple[Phase, ...]:
    """The phases of the three-year action: one a year, 2020 (from 1 July), 2021 and 2022.

    Three ``names`` (:data:`CONTINUED_PHASES`, or an annex's own) get a year each. Four names (the
    default, :data:`STANDARD_PHASES`) split 2020: the first phase runs to ``mobilised_by`` and the
    second from ``second_from`` (default: the day after ``mobilised_by``; a plan whose 排查整治 runs
    from July passes ``ACTION_START``) to the end of 2020. ``clauses`` as for :func:`phases`.
    """
    years = [(date(2021, 1, 1), END_2021), (date(2022, 1, 1), END_2022)]
    if len(names) == 3:
        spans = [(ACTION_START, END_2020), *years]
    elif len(names) == 4:
        spans = [(ACTION_START, mobilised_by),
                 (second_from or mobilised_by + timedelta(days=1), END_2020), *years]
    else:
        raise ValueError(f"the three-year action has three or four phases, not {len(names)}: {list(names)}")
    stages = [(name, start, end) for name, (start, end) in zip(names, spans, strict=True)]
    return phases(campaign, cite, *stages, clauses=clauses)


# -- tasks --------------------------------------------------------------------------------------------

TASK_COLUMNS = ("number", "title", "lead", "responsible", "departments", "due", "recurrence", "due_in_period",
                "inferred", "clause", "source")


def task_table(
    campaign: str,
    columns: str,
    rows: Iterable[Sequence[Any]],
    *,
    cite: str = "",
    lead: Sequence[str] = (),
    responsible: Sequence[str] = (),
    departments: Sequence[str] = (),
    due: date | None = None,
    recurrence: str | None = None,
    due_in_period: str = "end",
    inferred: str | None = None,
) -> tuple[TaskSpec, ...]:
    """The 重点任务 of a table whose rows read like the plan's list, one :class:`TaskSpec` a row.

    ``columns`` names the rows' columns in order, separated by spaces, from :data:`TASK_COLUMNS`:
    ``number`` (the id is ``<campaign>.<number>``) and ``title`` are required; ``lead`` (牵头),
    ``responsible`` (负责 / 按职责分工负责), ``departments`` (配合), ``due``, ``recurrence``
    (``yearly`` …, see :class:`~qingdan.core.spec.TaskSpec`), ``due_in_period`` and ``inferred`` (why a
    date or lead is inferred) default to the keyword arguments of the same names; the source is
    ``f"{cite} {clause}"`` for a ``clause`` column, or a ``source`` column taken as written::

        task_table("fire", "number title lead due clause", [
            ("2", "单位和新建住宅小区按标准对消防车通道划线、标名、立牌", ("派出所",), END_2020, "二(一)2"),
        ], cite="附件4")
    """
    names = columns.split()
    unknown = [name for name in names if name not in TASK_COLUMNS]
    if unknown or len(set(names)) != len(names):
        raise ValueError(f"task columns {names}: unknown or repeated {unknown or names}; use {TASK_COLUMNS}")
    missing = {"number", "title"} - set(names)
    if missing or ("clause" in names) == ("source" in names):
        raise ValueError(f"task columns {names} need number, title and one of clause or source")
    tasks = []
    for i, row in enumerate(rows, 1):
        if len(row) != len(names):
            raise ValueError(f"task row {i} has {len(row)} values for the columns {names}: {row!r}")
        value = dict(zip(names, row, strict=True))
        tasks.append(TaskSpec(
            id=f"{campaign}.{value['number']}",
            campaign=campaign,
            title=value["title"],
            lead_departments=tuple(value.get("lead", lead)),
            responsible_departments=tuple(value.get("responsible", responsible)),
            departments=tuple(value.get("departments", departments)),
            due=value.get("due", due),
            recurrence=value.get("recurrence", recurrence),
            due_in_period=value.get("due_in_period", due_in_period),
            inferred=value.get("inferred", inferred),
            source=value["source"] if "source" in value else f"{cite} {value['clause']}".strip(),
        ))
    return tuple(tasks)


#: Why the lead departments of a task are inferred when its clause names only departments that are
#: responsible (“（A、B按职责分工负责）”, “（A负责）”) and none that leads (牵头).
RESPONSIBLE_AS_LEAD = "括注只写“负责”，未写牵头部门：牵头部门按负责部门记"


def responsible_only(
    tasks: Iterable[TaskSpec], *numbers: str, inferred: str = RESPONSIBLE_AS_LEAD
) -> tuple[TaskSpec, ...]:
    """The tasks, those numbered ``numbers`` (all if none given) marked as their clause's parenthetical
    reads when it names departments 负责 and none 牵头: their departments become
    ``responsible_departments`` too, and ``inferred`` says that the lead is inferred from them."""
    wanted = set(numbers)
    out = []
    for task in tasks:
        if not wanted or task.id.split(".", 1)[1] in wanted:
            why = "；".join(x for x in (task.inferred, inferred) if x)
            task = task.model_copy(update={"responsible_departments": task.lead_departments, "inferred": why})
        out.append(task)
    unknown = wanted - {t.id.split(".", 1)[1] for t in out}
    if unknown:
        raise ValueError(f"responsible_only: no task numbered {sorted(unknown)}")
    return tuple(out)


# -- targets ------------------------------------------------------------------------------------------


def target(
    campaign: str,
    slug: str,
    title: str,
    due: date,
    source: str,
    measure: Callable[[Snapshot], float | None] | None = None,
    *,
    goal: float = 100,
    unit: str = "%",
    comparator: Comparator = ">=",
    start: date | None = None,
    inferred: str | None = None,
) -> Target:
    """An 整治目标: by default a percentage to reach 100 by ``due``.

    Without ``measure`` the value is reported (``record_indicator``); ``goal``, ``unit`` and
    ``comparator`` say what is counted otherwise (``goal=0, comparator="<=", unit="起"``).
    """
    return Target(id=f"{campaign}.{slug}", campaign=campaign, title=title, goal=goal,
                  comparator=comparator, unit=unit, due=due, source=source, start=start, measure=measure,
                  inferred=inferred)


def share_target(
    campaign: str,
    slug: str,
    title: str,
    due: date,
    source: str,
    among: UnitPredicate,
    done: UnitPredicate | str,
    *,
    goal: float = 100,
) -> Target:
    """A rate target: the percentage of active units matching ``among`` that are ``done``.

    ``done`` is a predicate, or the name of a ``bool`` attribute that must be true. Measured with
    :func:`qingdan.core.targets.share_measure` (no unit matching ``among``: no data).
    """
    finished = has(done) if isinstance(done, str) else done
    return target(campaign, slug, title, due, source, share_measure(among, finished), goal=goal)


_T = Any


def inferred(items: Iterable[_T], **why: str) -> list[_T]:
    """The targets (or tasks), those whose id is ``<campaign>.<slug>`` for a keyword ``slug`` given the
    reason as ``inferred`` — why a date or lead is inferred where the clause does not state it::

        author.inferred(targets, major_accidents="“坚决杜绝”未定期限：按三年行动期末")
    """
    out, seen = [], set()
    for item in items:
        slug = item.id.split(".", 1)[1]
        if slug in why:
            seen.add(slug)
            item = item.model_copy(update={"inferred": why[slug]})
        out.append(item)
    if set(why) - seen:
        raise ValueError(f"inferred: no item with slug {sorted(set(why) - seen)}")
    return out


# -- checks -------------------------------------------------------------------------------------------


def _from_day_after(after: date | None, run: Run) -> Run:
    if after is None:
        return run

    def gated(snapshot: Snapshot) -> Iterable[Finding]:
        return run(snapshot) if snapshot.as_of > after else []

    return gated


@overload
def check(campaign: str, slug: str, title: str, severity: Severity, source: str, run: Run, *,
          after: date | None = None) -> Check: ...
@overload
def check(campaign: str, slug: str, title: str, severity: Severity, source: str, run: None = None, *,
          after: date | None = None) -> Callable[[Run], Check]: ...
def check(
    campaign: str,
    slug: str,
    title: str,
    severity: Severity,
    source: str,
    run: Run | None = None,
    *,
    after: date | None = None,
) -> Check | Callable[[Run], Check]:
    """A :class:`Check` with id ``<campaign>.<slug>``; ``run(snapshot)`` yields its findings.

    Without ``run``, a decorator: the decorated function is the run and its name the :class:`Check`.
    """
    if run is None:
        return lambda function: check(campaign, slug, title, severity, source, function, after=after)
    return Check(id=f"{campaign}.{slug}", campaign=campaign, title=title, severity=severity,
                 source=source, run=_from_day_after(after, run))


def unit_check(
    campaign: str,
    slug: str,
    title: str,
    severity: Severity,
    source: str,
    where: UnitPredicate,
    message: Callable[[UnitRow], str],
    *,
    after: date | None = None,
) -> Check:
    """A check finding every active unit that matches ``where``, one finding each.

    The finding's subject is the unit's number and its message ``"<unit label>：<message(unit)>"``
    (:func:`qingdan.core.targets.unit_label`), with the check's severity.
    """
    run = unit_findings(f"{campaign}.{slug}", campaign, severity, where, message)
    return check(campaign, slug, title, severity, source, run, after=after)


def _verdict(said: Verdict, severity: Severity) -> tuple[str, Severity] | None:
    if not said:
        return None
    if isinstance(said, tuple):
        return said
    return said, severity


def _rule(
    campaign: str,
    slug: str,
    title: str,
    severity: Severity,
    source: str,
    after: date | None,
    rows: Callable[[Snapshot], Iterable[Any]],
    about: Callable[[Any], tuple[str, str, str]],
) -> Callable[[Callable[[Any, Snapshot], Verdict]], Check]:
    check_id = f"{campaign}.{slug}"

    def decorate(judge: Callable[[Any, Snapshot], Verdict]) -> Check:
        @functools.wraps(judge)
        def run(snapshot: Snapshot) -> list[Finding]:
            findings = []
            for row in rows(snapshot):
                verdict = _verdict(judge(row, snapshot), severity)
                if verdict is not None:
                    subject, of_campaign, label = about(row)
                    findings.append(Finding(check=check_id, campaign=of_campaign, subject=subject,
                                            message=f"{label}{verdict[0]}", severity=verdict[1]))
            return findings

        return check(campaign, slug, title, severity, source, run, after=after)

    return decorate


def unit_rule(
    campaign: str, slug: str, title: str, severity: Severity, source: str, *,
    kinds: Sequence[str] = (), after: date | None = None,
) -> Callable[[Callable[[UnitRow, Snapshot], Verdict]], Check]:
    """Decorator: a check asking ``judge(unit, snapshot)`` of every active unit (of ``kinds``, if given).

    The judge returns nothing, a message, or ``(message, severity)``; each message becomes a finding
    about the unit, worded ``"<unit label>：<message>"``. The decorated name is the :class:`Check`::

        @unit_rule("waste", "storage_over_one_year", "危险废物贮存超过一年", "严重", "附件8 二(一)2(1)")
        def storage_over_one_year(unit, snapshot):
            days = rules.days_since(snapshot, rules.attribute(unit, "贮存起始日期"))
            if days is not None and days > 365:
                return f"危险废物已贮存 {days} 天，超过一年期限"
    """

    def units(snapshot: Snapshot) -> Iterable[UnitRow]:
        return [unit for unit in snapshot.units() if not kinds or unit.kind in kinds]

    return _rule(campaign, slug, title, severity, source, after, units,
                 lambda unit: (unit.number, campaign, f"{unit_label(unit)}："))


def hazard_rule(
    campaign: str, slug: str, title: str, severity: Severity, source: str, *,
    every_campaign: bool = False, after: date | None = None,
) -> Callable[[Callable[[HazardRow, Snapshot], Verdict]], Check]:
    """Decorator: a check asking ``judge(hazard, snapshot)`` of the campaign's hazards.

    As :func:`unit_rule`, over the hazards the snapshot has (withdrawn ones too, with status
    ``withdrawn``); the finding is about the hazard's number, worded ``"<number> <unit>：<message>"``.
    ``every_campaign=True`` (the 总体方案's rules) judges every campaign's hazards, each finding
    carrying the campaign of its hazard.
    """

    def hazards(snapshot: Snapshot) -> Iterable[HazardRow]:
        if every_campaign:
            return snapshot.hazards()
        return [h for h in snapshot.hazards(campaign=campaign) if h.campaign == campaign]

    return _rule(campaign, slug, title, severity, source, after, hazards,
                 lambda h: (h.number, h.campaign, f"{h.number} {h.unit}："))


def task_rule(
    campaign: str, slug: str, title: str, severity: Severity, source: str, *,
    every_campaign: bool = False, after: date | None = None,
) -> Callable[[Callable[[TaskRow, Snapshot], Verdict]], Check]:
    """Decorator: a check asking ``judge(task, snapshot)`` of the campaign's 重点任务.

    As :func:`hazard_rule`, over the tasks with their progress; the finding is about the task id, and
    its message follows the task's name: ``"重点任务 <id>“<title>”<message>"``.
    """

    def tasks(snapshot: Snapshot) -> Iterable[TaskRow]:
        return snapshot.tasks() if every_campaign else snapshot.tasks(campaign)

    return _rule(campaign, slug, title, severity, source, after, tasks,
                 lambda t: (t.id, t.campaign if every_campaign else campaign, f"重点任务 {t.id}“{t.title}”"))


def monthly_two_lists_check(
    campaign: str,
    title: str,
    *,
    source: str = "总体方案 三(一)2",
    first: date = date(2020, 8, 1),
    last: date = ACTION_END,
    covers: Callable[[Any], bool] | None = None,
) -> Check:
    """总体方案 三(一)2: the 两个清单 are submitted by the 25th of every month (``<campaign>.monthly_two_lists``).

    One finding a month from ``first`` to ``last`` whose submission is missing (严重) or late (警告),
    judged by :func:`qingdan.core.targets.monthly_report_run`. ``covers(report)`` says which
    submissions count; by default those of this campaign.
    """

    def own(report: Any) -> bool:
        return getattr(report, "campaign", None) == campaign

    slug = "monthly_two_lists"
    run = monthly_report_run(f"{campaign}.{slug}", campaign, first=first, last=last, covers=covers or own)
    return check(campaign, slug, title, "严重", source, run)


# -- projections --------------------------------------------------------------------------------------


@overload
def projection(campaign: str, slug: str, title: str, columns: Sequence[str], build: Build) -> Projection: ...
@overload
def projection(campaign: str, slug: str, title: str, columns: Sequence[str],
               build: None = None) -> Callable[[Build], Projection]: ...
def projection(
    campaign: str,
    slug: str,
    title: str,
    columns: Sequence[str],
    build: Build | None = None,
) -> Projection | Callable[[Build], Projection]:
    """A :class:`Projection` with id ``<campaign>.<slug>``; ``build(snapshot)`` yields rows of ``columns``.

    Without ``build``, a decorator: the decorated function is the build and its name the
    :class:`Projection`::

        @projection("gas", "users_by_source", "燃气用户按气源分布", ("气源", "燃气用户"))
        def users_by_source(snapshot):
            return [{"气源": s, "燃气用户": len(snapshot.units("燃气用户", 气源=s))} for s in SOURCES]
    """
    if build is None:
        return lambda function: projection(campaign, slug, title, columns, function)
    return Projection(id=f"{campaign}.{slug}", campaign=campaign, title=title, columns=tuple(columns),
                      build=build)
