"""What a campaign plugin contributes: the models of the plugin contract (docs/plugin-guide.md).

A campaign plugin is data first: its phases, tasks, targets and categories read like the clauses of
the seed, each carrying a ``source`` citation (``附件3 一、整治目标``). Code appears only where a rule
needs computing: a target's ``measure``, a check's ``run``, a projection's ``build``; each receives a
read-only :class:`Snapshot`.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .rows import HazardRow, IndicatorReading, MeasureRow, TaskRow, UnitRow

Comparator = Literal[">=", "<=", "=="]
Severity = Literal["提示", "警告", "严重"]
AttributeType = Literal["bool", "int", "float", "str", "date", "choice"]


class Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


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


class TaskSpec(Spec):
    """A numbered 重点任务 of a campaign as the seed states it."""

    id: str
    campaign: str
    title: str
    lead_departments: tuple[str, ...]
    departments: tuple[str, ...] = ()
    due: date | None = None
    source: str


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


class Finding(Spec):
    """Something a check found: a subject (hazard, unit, report …) and what is wrong with it."""

    check: str
    campaign: str
    subject: str
    message: str
    severity: Severity = "警告"


class Check(Spec):
    """A rule run against a snapshot; ``run`` yields :class:`Finding` objects."""

    id: str
    campaign: str
    title: str
    severity: Severity = "警告"
    source: str
    run: Callable[[Snapshot], Iterable[Finding]]


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

    @abc.abstractmethod
    def indicator(self, target_id: str) -> IndicatorReading | None:
        """The latest reading of ``target_id`` dated on or before ``as_of`` (as known), or None."""

    @abc.abstractmethod
    def reports(self) -> Sequence[Any]:
        """Report submissions recorded with ``as_of`` on or before the snapshot date."""


for _model in (Target, Check, Projection):
    _model.model_rebuild()
