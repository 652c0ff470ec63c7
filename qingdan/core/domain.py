"""The domain: aggregates and their events (DESIGN §4).

Each aggregate's events carry ``on`` (the effective date), ``actor`` and ``note``. An event's
``apply`` is the one definition of how it changes state; it is deliberately permissive (it never
raises), because the reference fold of :mod:`qingdan.core.reference` applies subsets of a history
(only the events effective by a date, recorded by a time). The rules live in the command methods,
which check the current state and raise :class:`InvalidCommand` before any event is triggered.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from eventsourcing.domain import Aggregate

from .errors import InvalidCommand
from .rows import FIVE_PART_LABELS, FIVE_PARTS, HAZARD_STATUS_LABELS, MEASURE_STATUS_LABELS

CST = timezone(timedelta(hours=8), "Asia/Shanghai")
NAMESPACE = uuid.UUID("6b1d3f0e-2f5c-5d2a-9a7e-71a4e8c0d1a1")

LEVELS = ("一般", "重大")
SOURCES = ("自查", "检查", "督查", "督导组移交", "举报", "其他")
ESCALATION_LEVELS = ("镇", "市", "省")
VERIFY_METHODS = ("自评", "专家", "政府验收")
MEASURE_KINDS = ("制度", "机制", "方案", "标准", "其他")
OPEN_STATUSES = ("reported", "rectifying")


def _system_now() -> datetime:
    return datetime.now(UTC)


#: The clock of the write in progress; the ledger sets it around every command so the recorded
#: time of an event comes from the store's injectable clock, never from the caller.
current_clock: ContextVar[Callable[[], datetime]] = ContextVar("qingdan_clock", default=_system_now)


@functools.lru_cache(maxsize=65536)
def aggregate_id(number: str) -> uuid.UUID:
    """The aggregate id of a number (``H-fire-2020-0007``): the same number is the same aggregate."""
    return uuid.uuid5(NAMESPACE, number)


def hazard_overdue(status: str, deadline: date | None, as_of: date) -> bool:
    """Not completed and its deadline passed before ``as_of`` (DESIGN §4)."""
    return status in OPEN_STATUSES and deadline is not None and deadline < as_of


def measure_overdue(status: str, due: date | None, as_of: date) -> bool:
    """Still only planned and its due date passed before ``as_of``."""
    return status == "planned" and due is not None and due < as_of


def task_overdue(status: str, due: date | None, as_of: date) -> bool:
    """Not done and its due date passed before ``as_of``."""
    return status != "done" and due is not None and due < as_of


class Record(Aggregate):
    """Base of every qingdan aggregate: effective date, actor and note on every event."""

    class Event(Aggregate.Event):
        on: date
        actor: str | None
        note: str | None

        @staticmethod
        def create_timestamp() -> datetime:
            return current_clock.get()().astimezone(UTC)

    class Created(Event, Aggregate.Created):
        pass

    def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None:
        # Recorded time never goes backwards within an aggregate, whatever the clock says,
        # so "recorded at or before T" always selects a prefix of the aggregate's history.
        stamp = event_class.create_timestamp()
        if stamp < self.modified_on:
            stamp = self.modified_on
        super().trigger_event(event_class, timestamp=stamp, **kwargs)

    # Rules shared by every aggregate.
    def _check_on(self, on: date, earliest: date, what: str, earliest_label: str) -> None:
        today = current_clock.get()().astimezone(CST).date()
        if on > today:
            raise InvalidCommand(f"{self.number}：{what}日期 {on} 晚于今天 {today}，不能登记未来的事实")
        if on < earliest:
            raise InvalidCommand(
                f"{self.number}：{what}日期 {on} 早于{earliest_label} {earliest}"
            )


# --------------------------------------------------------------------------------------------
# Hazard 问题隐患
# --------------------------------------------------------------------------------------------

HAZARD_CORRECTABLE = {
    "unit": "单位名称",
    "unit_number": "单位编号",
    "village": "村（居）",
    "location": "隐患部位",
    "category": "隐患类别",
    "level": "隐患等级",
    "source": "隐患来源",
    "inspectors": "检查人员",
    "description": "隐患描述",
    "responsible_unit": "整改责任单位",
    "responsible_person": "责任人",
    "measures": "整改措施",
    "funds": "整改资金",
    "deadline": "整改期限",
    "contingency": "应急预案",
}


class Hazard(Record):
    """A 问题隐患 from report to 销号 (or 撤销)."""

    class Reported(Record.Created):
        number: str
        campaign: str
        unit: str
        unit_number: str | None
        village: str | None
        location: str | None
        category: str | None
        level: str
        source: str
        found_on: date
        inspectors: list[str]
        description: str

        def apply(self, h: Hazard) -> None:
            h.number = self.number
            h.campaign = self.campaign
            h.unit = self.unit
            h.unit_number = self.unit_number
            h.village = self.village
            h.location = self.location
            h.category = self.category
            h.level = self.level
            h.source = self.source
            h.found_on = self.found_on
            h.inspectors = tuple(self.inspectors)
            h.description = self.description
            h.note = self.note
            h.responsible_unit = h.responsible_person = h.measures = h.contingency = None
            h.funds = None
            h.deadline = None
            h.escalated = False
            h.escalation_level = h.supervisor = h.escalation_doc_no = None
            h.extension_pending = None
            h.extension_requested_on = None
            h.status = "reported"
            h.completed_on = h.verified_on = h.closed_on = h.withdrawn_on = None
            h.completed_by = None
            h.cost = None
            h.verification_passed = False
            h.reopened = 0
            h.last_step_on = self.found_on
            h.last_progress = None

    class RectificationPlanned(Record.Event):
        responsible_unit: str | None
        responsible_person: str | None
        measures: str | None
        funds: float | None
        deadline: date | None
        contingency: str | None

        def apply(self, h: Hazard) -> None:
            for name in ("responsible_unit", "responsible_person", "measures", "contingency"):
                value = getattr(self, name)
                if value is not None:
                    setattr(h, name, value)
            if self.funds is not None:
                h.funds = self.funds
            if self.deadline is not None:
                h.deadline = self.deadline
            if h.status == "reported":
                h.status = "rectifying"
                h.last_step_on = max(h.last_step_on, self.on)

    class Escalated(Record.Event):
        level: str
        supervisor: str
        doc_no: str | None

        def apply(self, h: Hazard) -> None:
            h.escalated = True
            h.escalation_level = self.level
            h.supervisor = self.supervisor
            h.escalation_doc_no = self.doc_no

    class ExtensionRequested(Record.Event):
        deadline: date
        reason: str

        def apply(self, h: Hazard) -> None:
            h.extension_pending = self.deadline
            h.extension_requested_on = self.on

    class ExtensionDecided(Record.Event):
        approved: bool
        deadline: date | None

        def apply(self, h: Hazard) -> None:
            if self.approved and self.deadline is not None:
                h.deadline = self.deadline
            h.extension_pending = None
            h.extension_requested_on = None

    class ProgressReported(Record.Event):
        text: str

        def apply(self, h: Hazard) -> None:
            h.last_progress = self.text

    class RectificationCompleted(Record.Event):
        cost: float | None

        def apply(self, h: Hazard) -> None:
            if h.status in OPEN_STATUSES:
                h.status = "awaiting_verification"
                h.completed_on = self.on
                h.completed_by = self.actor
                h.cost = self.cost
                h.verification_passed = False
                h.verified_on = None
                h.last_step_on = max(h.last_step_on, self.on)

    class Verified(Record.Event):
        passed: bool
        inspector: str
        method: str

        def apply(self, h: Hazard) -> None:
            if h.status != "awaiting_verification":
                return
            h.last_step_on = max(h.last_step_on, self.on)
            if self.passed:
                h.verification_passed = True
                h.verified_on = self.on
            else:
                h.status = "rectifying"
                h.verification_passed = False
                h.verified_on = None
                h.completed_on = None

    class Closed(Record.Event):
        def apply(self, h: Hazard) -> None:
            if h.status == "withdrawn":
                return
            h.status = "closed"
            h.closed_on = self.on
            h.last_step_on = max(h.last_step_on, self.on)

    class Reopened(Record.Event):
        reason: str

        def apply(self, h: Hazard) -> None:
            if h.status != "closed":
                return
            h.status = "rectifying"
            h.reopened += 1
            h.closed_on = h.completed_on = h.verified_on = None
            h.verification_passed = False
            h.last_step_on = max(h.last_step_on, self.on)

    class Corrected(Record.Event):
        field: str
        value: Any
        previous: Any
        reason: str

        def apply(self, h: Hazard) -> None:
            value = self.value
            if self.field == "inspectors":
                value = tuple(value or ())
            setattr(h, self.field, value)

    class Withdrawn(Record.Event):
        reason: str

        def apply(self, h: Hazard) -> None:
            h.status = "withdrawn"
            h.withdrawn_on = self.on
            h.last_step_on = max(h.last_step_on, self.on)

    # -- derived -------------------------------------------------------------------------

    def parts_in_place(self) -> dict[str, bool]:
        return {
            "responsibility": bool(self.responsible_unit or self.responsible_person),
            "measures": bool(self.measures),
            "funds": self.funds is not None,
            "deadline": self.deadline is not None,
            "contingency": bool(self.contingency),
        }

    def missing_parts(self) -> tuple[str, ...]:
        parts = self.parts_in_place()
        return tuple(p for p in FIVE_PARTS if not parts[p])

    def is_overdue(self, as_of: date) -> bool:
        return hazard_overdue(self.status, self.deadline, as_of)

    # -- commands ------------------------------------------------------------------------

    @classmethod
    def report(cls, *, number: str, on: date, actor: str | None, note: str | None, **fields: Any) -> Hazard:
        return cls._create(
            cls.Reported, id=aggregate_id(number), number=number, on=on, actor=actor, note=note,
            **fields,
        )

    def _guard(self, on: date, what: str, *, step: bool = False) -> None:
        if self.status == "withdrawn":
            raise InvalidCommand(f"{self.number} 已于 {self.withdrawn_on} 撤销，不能再{what}")
        self._check_on(on, self.found_on, what, "排查日期")
        if step and on < self.last_step_on:
            raise InvalidCommand(
                f"{self.number}：{what}日期 {on} 早于上一状态变更日期 {self.last_step_on}"
                f"（当前状态：{HAZARD_STATUS_LABELS[self.status]}）"
            )

    def plan(self, *, on: date, actor: str | None, note: str | None, **parts: Any) -> None:
        given = {k: v for k, v in parts.items() if v is not None}
        if not given:
            raise InvalidCommand(f"{self.number}：整改方案至少要填写五到位中的一项（责任、措施、资金、时限、预案）")
        if self.status == "closed":
            raise InvalidCommand(f"{self.number} 已销号，如需重新整改请先反销号")
        self._guard(on, "制定整改方案", step=self.status == "reported")
        deadline = given.get("deadline")
        if deadline is not None and deadline < self.found_on:
            raise InvalidCommand(f"{self.number}：整改期限 {deadline} 早于排查日期 {self.found_on}")
        if given.get("funds") is not None and given["funds"] < 0:
            raise InvalidCommand(f"{self.number}：整改资金不能为负数（{given['funds']} 万元）")
        full = {k: parts.get(k) for k in (
            "responsible_unit", "responsible_person", "measures", "funds", "deadline", "contingency")}
        self.trigger_event(self.RectificationPlanned, on=on, actor=actor, note=note, **full)

    def escalate(self, *, on: date, actor: str | None, note: str | None, supervisor: str,
                 level: str, doc_no: str | None) -> None:
        if self.status == "closed":
            raise InvalidCommand(f"{self.number} 已销号，不能再挂牌督办")
        self._guard(on, "挂牌督办")
        self.trigger_event(self.Escalated, on=on, actor=actor, note=note, level=level,
                           supervisor=supervisor, doc_no=doc_no)

    def request_extension(self, *, on: date, actor: str | None, note: str | None,
                          deadline: date, reason: str) -> None:
        self._guard(on, "申请延期")
        if self.status not in OPEN_STATUSES:
            raise InvalidCommand(
                f"{self.number} 当前状态为{HAZARD_STATUS_LABELS[self.status]}，只有待整改或整改中的隐患可以申请延期"
            )
        if self.deadline is None:
            raise InvalidCommand(f"{self.number} 尚未确定整改期限，请先制定整改方案（时限）")
        if self.extension_pending is not None:
            raise InvalidCommand(
                f"{self.number} 已有待审批的延期申请（延至 {self.extension_pending}），请先审批"
            )
        if deadline <= self.deadline:
            raise InvalidCommand(
                f"{self.number}：延期后的期限 {deadline} 应晚于现有整改期限 {self.deadline}"
            )
        self.trigger_event(self.ExtensionRequested, on=on, actor=actor, note=note,
                           deadline=deadline, reason=reason)

    def decide_extension(self, *, on: date, actor: str | None, note: str | None, approved: bool) -> None:
        self._guard(on, "审批延期")
        if self.extension_pending is None:
            raise InvalidCommand(f"{self.number} 没有待审批的延期申请")
        if on < self.extension_requested_on:
            raise InvalidCommand(
                f"{self.number}：审批日期 {on} 早于延期申请日期 {self.extension_requested_on}"
            )
        self.trigger_event(self.ExtensionDecided, on=on, actor=actor, note=note,
                           approved=approved, deadline=self.extension_pending)

    def report_progress(self, *, on: date, actor: str | None, note: str | None, text: str) -> None:
        self._guard(on, "报告整改进展")
        if self.status == "closed":
            raise InvalidCommand(f"{self.number} 已销号，不能再报告整改进展")
        self.trigger_event(self.ProgressReported, on=on, actor=actor, note=note, text=text)

    def complete(self, *, on: date, actor: str | None, note: str | None, cost: float | None) -> None:
        self._guard(on, "整改完成", step=True)
        if self.status not in OPEN_STATUSES:
            raise InvalidCommand(
                f"{self.number} 当前状态为{HAZARD_STATUS_LABELS[self.status]}，不能登记整改完成"
            )
        if cost is not None and cost < 0:
            raise InvalidCommand(f"{self.number}：实际整改费用不能为负数（{cost} 万元）")
        self.trigger_event(self.RectificationCompleted, on=on, actor=actor, note=note, cost=cost)

    def verify(self, *, on: date, actor: str | None, note: str | None, passed: bool,
               inspector: str, method: str) -> None:
        self._guard(on, "验收", step=True)
        if self.status != "awaiting_verification":
            raise InvalidCommand(
                f"{self.number} 当前状态为{HAZARD_STATUS_LABELS[self.status]}，整改完成后才能验收"
            )
        self.trigger_event(self.Verified, on=on, actor=actor, note=note, passed=passed,
                           inspector=inspector, method=method)

    def close(self, *, on: date, actor: str | None, note: str | None) -> None:
        self._guard(on, "销号", step=True)
        if self.status == "closed":
            raise InvalidCommand(f"{self.number} 已于 {self.closed_on} 销号")
        if self.status != "awaiting_verification" or not self.verification_passed:
            raise InvalidCommand(
                f"{self.number} 当前状态为{HAZARD_STATUS_LABELS[self.status]}，"
                "销号前须在最近一次整改完成之后验收通过"
            )
        if self.level == "重大":
            missing = self.missing_parts()
            if missing:
                labels = "、".join(FIVE_PART_LABELS[p] for p in missing)
                raise InvalidCommand(f"{self.number} 为重大隐患，五到位尚缺：{labels}，不能销号")
            if not self.escalated:
                raise InvalidCommand(f"{self.number} 为重大隐患，须先挂牌督办才能销号")
        self.trigger_event(self.Closed, on=on, actor=actor, note=note)

    def reopen(self, *, on: date, actor: str | None, note: str | None, reason: str) -> None:
        self._guard(on, "反销号", step=True)
        if self.status != "closed":
            raise InvalidCommand(
                f"{self.number} 当前状态为{HAZARD_STATUS_LABELS[self.status]}，只有已销号的隐患可以反销号"
            )
        self.trigger_event(self.Reopened, on=on, actor=actor, note=note, reason=reason)

    def correct(self, *, on: date, actor: str | None, note: str | None, field: str, value: Any,
                reason: str) -> None:
        self._guard(on, "更正")
        if field == "deadline" and value is not None and value < self.found_on:
            raise InvalidCommand(f"{self.number}：整改期限 {value} 早于排查日期 {self.found_on}")
        previous = getattr(self, field)
        if isinstance(previous, tuple):
            previous = list(previous)
        if value == previous:
            raise InvalidCommand(f"{self.number}：{HAZARD_CORRECTABLE[field]}已是“{value}”，无需更正")
        self.trigger_event(self.Corrected, on=on, actor=actor, note=note, field=field,
                           value=value, previous=previous, reason=reason)

    def withdraw(self, *, on: date, actor: str | None, note: str | None, reason: str) -> None:
        self._guard(on, "撤销", step=True)
        self.trigger_event(self.Withdrawn, on=on, actor=actor, note=note, reason=reason)


# --------------------------------------------------------------------------------------------
# Measure 制度措施
# --------------------------------------------------------------------------------------------


class Measure(Record):
    """A 制度措施: a rule, mechanism, plan or standard to establish."""

    class Added(Record.Created):
        number: str
        campaign: str
        title: str
        kind: str
        department: str
        due: date | None

        def apply(self, m: Measure) -> None:
            m.number = self.number
            m.campaign = self.campaign
            m.title = self.title
            m.kind = self.kind
            m.department = self.department
            m.due = self.due
            m.added_on = self.on
            m.status = "planned"
            m.doc_no = None
            m.issued_on = m.implemented_on = m.repealed_on = None
            m.revisions = 0
            m.last_step_on = self.on

    class Issued(Record.Event):
        doc_no: str

        def apply(self, m: Measure) -> None:
            m.doc_no = self.doc_no
            if m.status == "planned":
                m.status = "issued"
                m.issued_on = self.on
                m.last_step_on = max(m.last_step_on, self.on)

    class Implemented(Record.Event):
        def apply(self, m: Measure) -> None:
            if m.status in ("planned", "issued"):
                m.status = "implemented"
                m.implemented_on = self.on
                m.last_step_on = max(m.last_step_on, self.on)

    class Revised(Record.Event):
        reason: str
        title: str | None
        doc_no: str | None

        def apply(self, m: Measure) -> None:
            if self.title is not None:
                m.title = self.title
            if self.doc_no is not None:
                m.doc_no = self.doc_no
            m.revisions += 1

    class Repealed(Record.Event):
        reason: str

        def apply(self, m: Measure) -> None:
            m.status = "repealed"
            m.repealed_on = self.on
            m.last_step_on = max(m.last_step_on, self.on)

    def is_overdue(self, as_of: date) -> bool:
        return measure_overdue(self.status, self.due, as_of)

    @classmethod
    def add(cls, *, number: str, on: date, actor: str | None, note: str | None, **fields: Any) -> Measure:
        return cls._create(cls.Added, id=aggregate_id(number), number=number, on=on, actor=actor,
                           note=note, **fields)

    def _guard(self, on: date, what: str, *, step: bool = False) -> None:
        if self.status == "repealed":
            raise InvalidCommand(f"{self.number} 已于 {self.repealed_on} 废止，不能再{what}")
        self._check_on(on, self.added_on, what, "制定计划登记日期")
        if step and on < self.last_step_on:
            raise InvalidCommand(
                f"{self.number}：{what}日期 {on} 早于上一状态变更日期 {self.last_step_on}"
                f"（当前状态：{MEASURE_STATUS_LABELS[self.status]}）"
            )

    def issue(self, *, on: date, actor: str | None, note: str | None, doc_no: str) -> None:
        self._guard(on, "印发", step=True)
        if self.status != "planned":
            raise InvalidCommand(
                f"{self.number} 当前状态为{MEASURE_STATUS_LABELS[self.status]}，已印发的制度修订请用 revise"
            )
        self.trigger_event(self.Issued, on=on, actor=actor, note=note, doc_no=doc_no)

    def implement(self, *, on: date, actor: str | None, note: str | None) -> None:
        self._guard(on, "落实", step=True)
        if self.status == "implemented":
            raise InvalidCommand(f"{self.number} 已于 {self.implemented_on} 落实")
        self.trigger_event(self.Implemented, on=on, actor=actor, note=note)

    def revise(self, *, on: date, actor: str | None, note: str | None, reason: str,
               title: str | None, doc_no: str | None) -> None:
        self._guard(on, "修订")
        if title is None and doc_no is None:
            raise InvalidCommand(f"{self.number}：修订须给出新的标题或文号")
        self.trigger_event(self.Revised, on=on, actor=actor, note=note, reason=reason,
                           title=title, doc_no=doc_no)

    def repeal(self, *, on: date, actor: str | None, note: str | None, reason: str) -> None:
        self._guard(on, "废止", step=True)
        self.trigger_event(self.Repealed, on=on, actor=actor, note=note, reason=reason)


# --------------------------------------------------------------------------------------------
# Task 重点任务 (declared by a campaign plugin; the ledger holds its progress)
# --------------------------------------------------------------------------------------------


class Task(Record):
    """Progress of one 重点任务. Tracking starts at the campaign's start, so every report folds."""

    class Tracked(Record.Created):
        number: str
        campaign: str

        def apply(self, t: Task) -> None:
            t.number = self.number
            t.campaign = self.campaign
            t.start = self.on
            t.status = "not_started"
            t.percent = None
            t.last_progress = None
            t.last_progress_on = None
            t.completed_on = None
            t.last_step_on = self.on

    class ProgressReported(Record.Event):
        text: str
        percent: float | None

        def apply(self, t: Task) -> None:
            t.last_progress = self.text
            if t.last_progress_on is None or self.on >= t.last_progress_on:
                t.last_progress_on = self.on
            if self.percent is not None:
                t.percent = self.percent
            if t.status == "not_started":
                t.status = "in_progress"

    class Completed(Record.Event):
        def apply(self, t: Task) -> None:
            t.status = "done"
            t.completed_on = self.on
            t.percent = 100.0
            t.last_step_on = max(t.last_step_on, self.on)

    @classmethod
    def track(cls, *, number: str, campaign: str, start: date, actor: str | None) -> Task:
        return cls._create(cls.Tracked, id=aggregate_id("task:" + number), number=number,
                           campaign=campaign, on=start, actor=actor, note=None)

    def report_progress(self, *, on: date, actor: str | None, note: str | None, text: str,
                        percent: float | None) -> None:
        self._check_on(on, self.start, "报告任务进展", "专项开始日期")
        if self.status == "done":
            raise InvalidCommand(f"任务 {self.number} 已于 {self.completed_on} 完成")
        self.trigger_event(self.ProgressReported, on=on, actor=actor, note=note, text=text,
                           percent=percent)

    def complete(self, *, on: date, actor: str | None, note: str | None) -> None:
        self._check_on(on, self.start, "任务完成", "专项开始日期")
        if self.status == "done":
            raise InvalidCommand(f"任务 {self.number} 已于 {self.completed_on} 完成")
        if self.last_progress_on is not None and on < self.last_progress_on:
            raise InvalidCommand(
                f"任务 {self.number}：完成日期 {on} 早于最近一次进展日期 {self.last_progress_on}"
            )
        self.trigger_event(self.Completed, on=on, actor=actor, note=note)


# --------------------------------------------------------------------------------------------
# Unit 监管对象
# --------------------------------------------------------------------------------------------


class Unit(Record):
    """An enterprise, place, vessel, road section, building or site, with dated attributes."""

    class Registered(Record.Created):
        number: str
        name: str
        kind: str
        village: str | None
        credit_code: str | None
        attributes: dict[str, Any]

        def apply(self, u: Unit) -> None:
            u.number = self.number
            u.name = self.name
            u.kind = self.kind
            u.village = self.village
            u.credit_code = self.credit_code
            u.attributes = dict(self.attributes)
            u.registered_on = self.on
            u.closed_on = None

    class AttributesSet(Record.Event):
        attributes: dict[str, Any]

        def apply(self, u: Unit) -> None:
            merged = dict(u.attributes)
            for key, value in self.attributes.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            u.attributes = merged

    class UnitClosed(Record.Event):
        reason: str

        def apply(self, u: Unit) -> None:
            u.closed_on = self.on

    @classmethod
    def register(cls, *, number: str, on: date, actor: str | None, note: str | None, **fields: Any) -> Unit:
        return cls._create(cls.Registered, id=aggregate_id(number), number=number, on=on,
                           actor=actor, note=note, **fields)

    def set_attributes(self, *, on: date, actor: str | None, note: str | None,
                       attributes: dict[str, Any]) -> None:
        self._check_on(on, self.registered_on, "属性变更", "登记日期")
        if self.closed_on is not None:
            raise InvalidCommand(f"{self.number} 已于 {self.closed_on} 注销，不能再变更属性")
        self.trigger_event(self.AttributesSet, on=on, actor=actor, note=note, attributes=attributes)

    def close(self, *, on: date, actor: str | None, note: str | None, reason: str) -> None:
        self._check_on(on, self.registered_on, "注销", "登记日期")
        if self.closed_on is not None:
            raise InvalidCommand(f"{self.number} 已于 {self.closed_on} 注销")
        self.trigger_event(self.UnitClosed, on=on, actor=actor, note=note, reason=reason)


# --------------------------------------------------------------------------------------------
# Indicator reading 指标 and Report 报送
# --------------------------------------------------------------------------------------------


class Indicator(Record):
    """Readings of a target that is reported rather than computed."""

    class Tracked(Record.Created):
        number: str
        campaign: str

        def apply(self, i: Indicator) -> None:
            i.number = self.number
            i.campaign = self.campaign
            i.start = self.on
            i.readings = ()

    class Recorded(Record.Event):
        value: float

        def apply(self, i: Indicator) -> None:
            i.readings = (*i.readings, (self.on, self.value, self.timestamp, self.actor))

    @classmethod
    def track(cls, *, number: str, campaign: str, start: date, actor: str | None) -> Indicator:
        return cls._create(cls.Tracked, id=aggregate_id("indicator:" + number), number=number,
                           campaign=campaign, on=start, actor=actor, note=None)

    def record(self, *, on: date, actor: str | None, note: str | None, value: float) -> None:
        self._check_on(on, self.start, "指标", "专项开始日期")
        self.trigger_event(self.Recorded, on=on, actor=actor, note=note, value=value)

    def latest(self) -> tuple[date, float, datetime, str | None] | None:
        """The reading with the latest date; of several on one day, the last recorded."""
        if not self.readings:
            return None
        return max(enumerate(self.readings), key=lambda p: (p[1][0], p[0]))[1]


class Report(Record):
    """Every submission of the 两个清单 for a period; a resubmission is a new event, never an edit.

    Each submission records what was handed in: the ``as_of`` date, the recorded time and log
    position it was computed at, a digest of the rows and the hash-chain head at that moment. A
    resubmission says why (``reason``); the earlier submissions stay comparable.
    """

    SUBMISSION_FIELDS = ("as_of", "known_at", "position", "chain", "digest", "hazard_count",
                         "measure_count")

    class Submitted(Record.Created):
        number: str
        period: str
        campaign: str | None
        as_of: date
        known_at: datetime
        position: int
        chain: str
        digest: str
        hazard_count: int
        measure_count: int

        def apply(self, r: Report) -> None:
            r.number = self.number
            r.period = self.period
            r.campaign = self.campaign
            r.submitted_on = self.on
            r.submissions = (self.submission(None),)

        def submission(self, reason: str | None) -> dict[str, Any]:
            return {"on": self.on, "actor": self.actor, "recorded_at": self.timestamp,
                    "reason": reason, **{name: getattr(self, name) for name in Report.SUBMISSION_FIELDS}}

    class Resubmitted(Record.Event):
        # Version 2 added ``reason``: a resubmission must say why (version 1 events have none).
        class_version = 2

        as_of: date
        known_at: datetime
        position: int
        chain: str
        digest: str
        hazard_count: int
        measure_count: int
        reason: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["reason"] = None

        def apply(self, r: Report) -> None:
            r.submissions = (*r.submissions, Report.Submitted.submission(self, self.reason))  # type: ignore[arg-type]

    @classmethod
    def submit(cls, *, number: str, on: date, actor: str | None, note: str | None, **fields: Any) -> Report:
        return cls._create(cls.Submitted, id=aggregate_id(number), number=number, on=on,
                           actor=actor, note=note, **fields)

    def resubmit(self, *, on: date, actor: str | None, note: str | None, reason: str,
                 **fields: Any) -> None:
        self._check_on(on, self.submitted_on, "重新报送", "首次报送日期")
        self.trigger_event(self.Resubmitted, on=on, actor=actor, note=note, reason=reason, **fields)

    @staticmethod
    def stamp_known_at(events: Any) -> None:
        """The first event of a log, a submission of empty lists, is known at its own recorded time.

        Called once its recorded time is final (under the log's write lock, see
        :func:`qingdan.core.store.restamp`); like ``restamp`` it sets a field of an event not yet stored.
        """
        for event in events:
            if isinstance(event, (Report.Submitted, Report.Resubmitted)):
                object.__setattr__(event, "known_at", event.timestamp)
