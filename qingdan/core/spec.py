"""What a campaign plugin contributes: the models of the plugin contract (docs/plugin-guide.md).

A campaign plugin is data first: its phases, tasks, targets and categories read like the clauses of
the seed, each carrying a ``source`` citation (``附件3 一、整治目标``). Code appears only where a rule
needs computing: a target's ``measure``, a check's ``run``, a projection's ``build``; each receives a
read-only :class:`Snapshot`. A :class:`DeadlineRule` (so many working days from a date of the hazard)
is data too: the catalogue makes it a check.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .calendar import CalendarUnknown, add_working_days, supported_years, working_days_between
from .labels import DEADLINE_WHAT_LABELS, FIVE_PART_LABELS, HAZARD_FIELD_LABELS
from .rows import HazardRow, IndicatorReading, MeasureRow, TaskRow, UnitRow

Comparator = Literal[">=", "<=", "=="]
Severity = Literal["提示", "警告", "严重"]
AttributeType = Literal["bool", "int", "float", "str", "date", "choice"]
DeadlineWhat = Literal["five_in_place", "progress"]


class Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True, defer_build=True)


class Phase(Spec):
    """A stage of a campaign (动员部署, 排查整治 …) with its dates."""

    id: str
    name: str
    start: date
    end: date
    source: str

    @model_validator(mode="after")
    def _ordered(self) -> Phase:
        if self.end < self.start:
            raise ValueError(f"phase {self.id}: end {self.end} before start {self.start}")
        return self


Recurrence = Literal["yearly", "half-yearly", "quarterly", "monthly"]
_MONTHS = {"yearly": 12, "half-yearly": 6, "quarterly": 3, "monthly": 1}


def _month_end(year: int, month: int) -> date:
    following = date(year + month // 12, month % 12 + 1, 1)
    return following - timedelta(days=1)


def period_label(recurrence: Recurrence, day: date) -> str:
    """The period of ``recurrence`` that contains ``day``: ``2021``, ``2021-H1``, ``2021-Q3``, ``2021-05``."""
    if recurrence == "yearly":
        return str(day.year)
    if recurrence == "half-yearly":
        return f"{day.year}-H{(day.month - 1) // 6 + 1}"
    if recurrence == "quarterly":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year}-{day.month:02d}"


def period_bounds(recurrence: Recurrence, label: str) -> tuple[date, date]:
    """The first and last day of the period ``label`` (``ValueError`` if it is not one of ``recurrence``)."""
    patterns = {"yearly": r"(\d{4})", "half-yearly": r"(\d{4})-H([12])", "quarterly": r"(\d{4})-Q([1-4])",
                "monthly": r"(\d{4})-(0[1-9]|1[0-2])"}
    match = re.fullmatch(patterns[recurrence], label or "")
    if match is None:
        raise ValueError(label)
    year, index = int(match.group(1)), int(match.group(2)) if match.lastindex == 2 else 1
    months = _MONTHS[recurrence]
    first = (index - 1) * months + 1
    return date(year, first, 1), _month_end(year, first + months - 1)


class TaskSpec(Spec):
    """A numbered 重点任务 of a campaign as the seed states it.

    Departments as each clause's parenthetical says: ``lead_departments`` 牵头, ``responsible_departments``
    负责 / 按职责分工负责, ``departments`` 配合. ``inferred``: why a date or a lead department is inferred
    when the clause does not state it.

    A one-off task has a ``due`` date. A recurring duty (``每年至少开展一次`` …) has a ``recurrence`` and
    no ``due``: it is one task per period, from the period containing ``start`` (default: the campaign's
    start) to the one containing ``end`` (default: the campaign's end), each due on ``due_in_period``:

    * ``"end"`` (the default) — the last day of the period;
    * yearly: ``"MM-DD"``, a day of the year (``"12-31"``, ``"06-30"``);
    * half-yearly and quarterly: ``"M-DD"``, a day of the period's ``M``-th month (``"3-31"``: the
      period's third month, day 31 or that month's last day);
    * monthly: ``"DD"``, a day of the month (the month's last day if it is shorter).
    """

    id: str
    campaign: str
    title: str
    lead_departments: tuple[str, ...]
    departments: tuple[str, ...] = ()
    responsible_departments: tuple[str, ...] = ()
    due: date | None = None
    source: str
    inferred: str | None = None
    recurrence: Recurrence | None = None
    due_in_period: str = "end"
    start: date | None = None
    end: date | None = None

    @model_validator(mode="after")
    def _recurring(self) -> TaskSpec:
        if self.recurrence is None:
            if self.due_in_period != "end" or self.start or self.end:
                raise ValueError(f"task {self.id}: due_in_period, start and end are for recurring tasks")
            return self
        if self.due is not None:
            raise ValueError(f"task {self.id}: a recurring task has a due day in each period, not a due date")
        label = period_label(self.recurrence, date(2021, 1, 1))
        self.period_due(label)  # raises on a malformed due_in_period
        return self

    @property
    def all_departments(self) -> tuple[str, ...]:
        """牵头, 负责 and 配合 departments, each once."""
        return tuple(dict.fromkeys((*self.lead_departments, *self.responsible_departments, *self.departments)))

    def period_due(self, label: str) -> date:
        """The due day of the period ``label`` of a recurring task."""
        assert self.recurrence is not None
        first, last = period_bounds(self.recurrence, label)
        spec = self.due_in_period
        try:
            if spec == "end":
                return last
            if self.recurrence == "yearly":
                month, day = (int(x) for x in spec.split("-"))
            elif self.recurrence == "monthly":
                month, day = 1, int(spec)
            else:
                month, day = (int(x) for x in spec.split("-"))
            if not 1 <= month <= _MONTHS[self.recurrence] or not 1 <= day <= 31:
                raise ValueError(spec)
            month = first.month + month - 1
            return min(date(first.year, month, 1) + timedelta(days=day - 1), _month_end(first.year, month))
        except ValueError:
            raise ValueError(f"task {self.id}: due_in_period {spec!r} is not valid for {self.recurrence}") from None

    def periods(self, start: date, end: date, as_of: date) -> list[tuple[str, date]]:
        """The periods begun by ``as_of`` (``start``/``end``: the campaign's, unless the task has its
        own), each with its due day."""
        assert self.recurrence is not None
        first, last = self.start or start, min(self.end or end, as_of)
        out: list[tuple[str, date]] = []
        day = first
        while day <= last:
            label = period_label(self.recurrence, day)
            out.append((label, self.period_due(label)))
            day = period_bounds(self.recurrence, label)[1] + timedelta(days=1)
        return out


class AttributeSpec(Spec):
    """A unit attribute a campaign's targets and checks read (e.g. ``风险等级: 红|橙|黄|蓝``)."""

    name: str
    type: AttributeType
    choices: tuple[str, ...] = ()
    unit_kinds: tuple[str, ...] = ()
    description: str = ""
    source: str = ""

    def validate_value(self, value: Any) -> Any:
        """Coerce ``value`` to this attribute's type or raise ``ValueError`` with a clerk's message."""
        if value is None:
            return None
        if self.type == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"是", "有", "true", "1", "yes", "y", "√"}:
                return True
            if text in {"否", "无", "false", "0", "no", "n", "×"}:
                return False
            raise ValueError(f"属性“{self.name}”应为是/否，收到“{value}”")
        if self.type == "int":
            try:
                return int(value)
            except (TypeError, ValueError):
                raise ValueError(f"属性“{self.name}”应为整数，收到“{value}”") from None
        if self.type == "float":
            try:
                return float(value)
            except (TypeError, ValueError):
                raise ValueError(f"属性“{self.name}”应为数值，收到“{value}”") from None
        if self.type == "date":
            if isinstance(value, date) and not isinstance(value, datetime):
                return value
            try:
                return date.fromisoformat(str(value))
            except ValueError:
                raise ValueError(f"属性“{self.name}”应为日期（YYYY-MM-DD），收到“{value}”") from None
        if self.type == "choice":
            if str(value) not in self.choices:
                raise ValueError(
                    f"属性“{self.name}”应为 {'、'.join(self.choices)} 之一，收到“{value}”"
                )
            return str(value)
        return str(value)


class Campaign(Spec):
    """One 专项 or 专题 of the plan, with everything the seed says of it."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    kind: Literal["专项", "专题", "总体"]
    lead_departments: tuple[str, ...]
    departments: tuple[str, ...] = ()
    start: date
    end: date
    phases: tuple[Phase, ...] = ()
    tasks: tuple[TaskSpec, ...] = ()
    hazard_categories: tuple[str, ...] = ()
    unit_attributes: tuple[AttributeSpec, ...] = ()
    source: str


class Target(Spec):
    """A dated or quantitative 整治目标.

    ``measure(snapshot)`` computes the value as of the snapshot's date; ``None`` as measure means the
    value is reported as an indicator reading (``record_indicator``). ``start`` (default: the campaign's
    start) anchors the straight-line path used to tell ``on_track`` from ``at_risk``.
    """

    id: str
    campaign: str
    title: str
    goal: float
    comparator: Comparator = ">="
    unit: str = "%"
    due: date
    source: str
    start: date | None = None
    measure: Callable[[Snapshot], float | None] | None = None
    inferred: str | None = None


class Finding(Spec):
    """Something a check found: a subject (hazard, unit, report …) and what is wrong with it."""

    check: str
    campaign: str
    subject: str
    message: str
    severity: Severity = "警告"


class Check(Spec):
    """A rule run against a snapshot; ``run`` yields :class:`Finding` objects. ``inferred``: what the
    rule reads into its clause (a period, a threshold) that the clause does not state."""

    id: str
    campaign: str
    title: str
    severity: Severity = "警告"
    source: str
    run: Callable[[Snapshot], Iterable[Finding]]
    inferred: str | None = None


#: The hazard statuses in which a rectification is still under way (``base.OPEN_STATUSES``, which
#: this layer cannot import).
_UNDER_WAY = ("reported", "rectifying")
_DATE_FIELDS = tuple(name for name, f in HazardRow.model_fields.items() if f.annotation in (date, date | None))


class DeadlineRule(Spec):
    """A 时限规则: what must be done within ``working_days`` working days (法定节假日和调休 counted by
    :mod:`qingdan.core.calendar`) of a date of the hazard.

    ``applies_to(hazard)`` chooses the hazards (e.g. ``level == "重大"``); ``from_field`` is the date
    field of :class:`HazardRow` the period runs from (``found_on``, ``escalated_on`` …; a hazard
    without that date is not yet bound). ``what``:

    * ``five_in_place`` — the 五到位 plan complete, while the hazard is not closed or withdrawn;
    * ``progress`` — a progress report (整改进展) every ``working_days``, counted from the later of
      ``from_field`` and the last report, while the rectification is under way.

    ``inferred``: why the number of days is inferred, when the cited clause does not state it (say so
    in the title too). ``every_campaign``: judge every campaign's hazards (the 总体方案's rules), each
    finding carrying the hazard's campaign. The catalogue turns each rule into the :class:`Check` of
    the same id that :meth:`check` returns.
    """

    id: str
    campaign: str
    title: str
    source: str
    applies_to: Callable[[HazardRow], bool]
    working_days: int = Field(ge=1, le=250)
    from_field: str
    what: DeadlineWhat
    severity: Severity = "警告"
    every_campaign: bool = False
    inferred: str = ""

    @model_validator(mode="after")
    def _date_field(self) -> DeadlineRule:
        if self.from_field not in _DATE_FIELDS:
            raise ValueError(f"deadline rule {self.id}: from_field {self.from_field!r} is not a date field "
                             f"of HazardRow ({', '.join(_DATE_FIELDS)})")
        return self

    def start(self, hazard: HazardRow) -> date | None:
        """The day the period runs from (not counted), or None when the rule does not bind yet."""
        start = getattr(hazard, self.from_field)
        if start is not None and self.what == "progress" and hazard.last_progress_on is not None:
            start = max(start, hazard.last_progress_on)
        return start

    def pending(self, hazard: HazardRow) -> bool:
        """Whether the hazard is bound by the rule and what it asks is not done."""
        if self.what == "five_in_place":
            pending = hazard.status not in ("closed", "withdrawn") and not hazard.five_in_place
        else:
            pending = hazard.status in _UNDER_WAY
        return pending and self.start(hazard) is not None and bool(self.applies_to(hazard))

    def due(self, hazard: HazardRow) -> date | None:
        """The last day to do it (may raise :class:`~qingdan.core.calendar.CalendarUnknown`)."""
        start = self.start(hazard)
        return None if start is None else add_working_days(start, self.working_days)

    def breached(self, hazard: HazardRow, as_of: date) -> bool:
        """Pending, and its last day was before ``as_of``; only the days up to ``as_of`` are counted,
        so a period reaching into a year the calendar does not know yet is judged all the same.
        Raises :class:`~qingdan.core.calendar.CalendarUnknown` when ``as_of`` itself is unknown."""
        if not self.pending(hazard):
            return False
        start = self.start(hazard)
        assert start is not None
        if (as_of - start).days <= self.working_days:  # n working days never take fewer than n days
            return False
        return working_days_between(start, as_of - timedelta(days=1)) >= self.working_days

    def message(self, hazard: HazardRow) -> str:
        start, due = self.start(hazard), self.due(hazard)
        since = f"{HAZARD_FIELD_LABELS.get(self.from_field, self.from_field)} {getattr(hazard, self.from_field)}"
        if self.what == "progress":
            last = f"最近一次进展 {hazard.last_progress_on}" if hazard.last_progress_on else "尚未报告进展"
            return (f"自{since}起每 {self.working_days} 个工作日应{DEADLINE_WHAT_LABELS[self.what]}，"
                    f"{last}，应于 {due} 前报告，已逾期（自 {start} 起计）")
        missing = "、".join(FIVE_PART_LABELS.get(p, p) for p in hazard.missing_parts)
        return (f"自{since}起 {self.working_days} 个工作日内（至 {due}）应{DEADLINE_WHAT_LABELS[self.what]}，"
                f"已逾期，尚缺：{missing}")

    def run(self, snapshot: Snapshot) -> Iterable[Finding]:
        """The findings of the rule as of the snapshot's date."""
        hazards = snapshot.hazards() if self.every_campaign else [
            h for h in snapshot.hazards(campaign=self.campaign) if h.campaign == self.campaign]
        unknown = 0
        for hazard in hazards:
            try:
                if not self.breached(hazard, snapshot.as_of):
                    continue
                text = self.message(hazard)
            except CalendarUnknown:
                unknown += 1
                continue
            yield Finding(check=self.id, campaign=hazard.campaign if self.every_campaign else self.campaign,
                          subject=hazard.number, message=f"{hazard.number} {hazard.unit}：{text}",
                          severity=self.severity)
        if unknown:
            first, last = supported_years()
            yield Finding(check=self.id, campaign=self.campaign, subject=self.id, severity="提示",
                          message=f"{unknown} 条隐患无法按工作日判断：截至 {snapshot.as_of} 的期限超出已知的"
                                  f"节假日安排（{first}—{last} 年），请升级 chinesecalendar")

    def check(self) -> Check:
        """The rule as a check of the same id, title, severity and source."""
        return Check(id=self.id, campaign=self.campaign, title=self.title, severity=self.severity,
                     source=self.source, run=self.run, inferred=self.inferred or None)


class Projection(Spec):
    """A campaign-specific table built from a snapshot (e.g. 红橙黄蓝 distribution of units)."""

    id: str
    campaign: str
    title: str
    columns: tuple[str, ...]
    build: Callable[[Snapshot], Iterable[dict[str, Any]]]


class Snapshot(abc.ABC):
    """Read-only state of the ledger as of ``as_of`` (end of that day), as known at ``known_at``."""

    as_of: date
    known_at: datetime | None

    @abc.abstractmethod
    def hazards(self, campaign: str | None = None) -> Sequence[HazardRow]:
        """Hazards that existed as of the date (withdrawn ones included, with status ``withdrawn``)."""

    @abc.abstractmethod
    def measures(self, campaign: str | None = None) -> Sequence[MeasureRow]:
        """Measures as of the date."""

    @abc.abstractmethod
    def tasks(self, campaign: str | None = None) -> Sequence[TaskRow]:
        """Tasks declared by the loaded campaigns, with their progress as of the date."""

    @abc.abstractmethod
    def units(self, kind: str | None = None, **attributes: Any) -> Sequence[UnitRow]:
        """Units registered and not closed as of the date, filtered by kind and attribute values."""

    def all_units(self) -> Sequence[UnitRow]:
        """Units registered by the date, those closed by then included (with ``closed_on`` and
        ``closed_reason``)."""
        return self.units()

    @abc.abstractmethod
    def indicator(self, target_id: str) -> IndicatorReading | None:
        """The latest reading of ``target_id`` dated on or before ``as_of`` (as known), or None."""

    @abc.abstractmethod
    def reports(self) -> Sequence[Any]:
        """Report submissions recorded with ``as_of`` on or before the snapshot date."""


for _model in (Target, Check, DeadlineRule, Projection):
    _model.model_rebuild()
