"""The domain: aggregates and their events, and the 问题隐患 itself.

Each aggregate's events carry ``on`` (the effective date), ``actor`` and ``note``. An event's
``apply`` is the one definition of how it changes state; it is deliberately permissive (it never
raises), because the reference fold of :mod:`qingdan.core.reference` applies subsets of a history
(only the events effective by a date, recorded by a time). The rules live in the command methods,
which check the current state and raise :class:`InvalidCommand` before any event is triggered.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from .base import (  # noqa: F401  (the domain's public names, all importable from here)
    NAMESPACE,
    OPEN_STATUSES,
    Attachable,
    AttachedEvent,
    Record,
    aggregate_id,
    hazard_overdue,
    measure_overdue,
    task_overdue,
)
from .calendar import add_working_days
from .calendar import rule as working_days_rule
from .clock import CST, current_clock  # noqa: F401
from .clock import system_now as _system_now  # noqa: F401
from .errors import InvalidCommand
from .labels import (  # noqa: F401
    ESCALATION_LEVELS,
    FIVE_PART_LABELS,
    FIVE_PARTS,
    HAZARD_CORRECTABLE,
    HAZARD_STATUS_LABELS,
    LEVELS,
    MEASURE_KINDS,
    SOURCES,
    VERIFY_METHODS,
)

# --------------------------------------------------------------------------------------------
# Hazard 问题隐患
# --------------------------------------------------------------------------------------------


class Hazard(Attachable):
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
            h.deadline = h.deadline_rule = None
            h.escalated = False
            h.escalated_on = h.escalation_level = h.supervisor = h.escalation_doc_no = None
            h.extension_pending = h.extension_pending_rule = None
            h.extension_requested_on = None
            h.status = "reported"
            h.completed_on = h.verified_on = h.closed_on = h.withdrawn_on = None
            h.completed_by = None
            h.reported_by = self.actor
            h.cost = None
            h.verification_passed = False
            h.reopened = 0
            h.rechecked_on = None
            h.last_step_on = self.found_on
            h.last_progress = h.last_progress_on = None

    class RectificationPlanned(Record.Event):
        # Version 2 added ``deadline_rule``: how a deadline given in working days was counted
        # ({"working_days", "from", "calendar"}); None for a deadline given as a date.
        class_version = 2

        responsible_unit: str | None
        responsible_person: str | None
        measures: str | None
        funds: float | None
        deadline: date | None
        deadline_rule: dict[str, Any] | None
        contingency: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["deadline_rule"] = None

        def apply(self, h: Hazard) -> None:
            for name in ("responsible_unit", "responsible_person", "measures", "contingency"):
                value = getattr(self, name)
                if value is not None:
                    setattr(h, name, value)
            if self.funds is not None:
                h.funds = self.funds
            if self.deadline is not None:
                h.deadline = self.deadline
                h.deadline_rule = self.deadline_rule
            if h.status == "reported":
                h.status = "rectifying"
                h.last_step_on = max(h.last_step_on, self.on)

    class Escalated(Record.Event):
        level: str
        supervisor: str
        doc_no: str | None

        def apply(self, h: Hazard) -> None:
            if not h.escalated:
                h.escalated_on = self.on
            h.escalated = True
            h.escalation_level = self.level
            h.supervisor = self.supervisor
            h.escalation_doc_no = self.doc_no

    class ExtensionRequested(Record.Event):
        # Version 2 added ``deadline_rule`` (see ``RectificationPlanned``): working days counted
        # from the deadline in force.
        class_version = 2

        deadline: date
        deadline_rule: dict[str, Any] | None
        reason: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["deadline_rule"] = None

        def apply(self, h: Hazard) -> None:
            h.extension_pending = self.deadline
            h.extension_pending_rule = self.deadline_rule
            h.extension_requested_on = self.on

    class ExtensionDecided(Record.Event):
        approved: bool
        deadline: date | None

        def apply(self, h: Hazard) -> None:
            if self.approved and self.deadline is not None:
                h.deadline = self.deadline
                h.deadline_rule = h.extension_pending_rule  # the request this decides
            h.extension_pending = h.extension_pending_rule = None
            h.extension_requested_on = None

    class ProgressReported(Record.Event):
        text: str

        def apply(self, h: Hazard) -> None:
            h.last_progress = self.text
            if h.last_progress_on is None or self.on > h.last_progress_on:
                h.last_progress_on = self.on

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

    class Rechecked(Record.Event):  # 回头看: passed, recorded; failed, reopened (counted in ``reopened``)
        passed: bool
        inspector: str
        method: str

        def apply(self, h: Hazard) -> None:
            if h.status != "closed":
                return
            h.last_step_on = max(h.last_step_on, self.on)
            if self.passed:
                h.rechecked_on = self.on
                return
            h.status = "rectifying"
            h.reopened += 1
            h.closed_on = h.completed_on = h.verified_on = h.rechecked_on = None
            h.verification_passed = False

    class Corrected(Record.Event):
        field: str
        value: Any
        previous: Any
        reason: str

        def apply(self, h: Hazard) -> None:
            value = self.value
            if self.field == "inspectors":
                value = tuple(value or ())
            elif self.field == "deadline":
                h.deadline_rule = None  # a corrected date is a date, no longer counted by a rule
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

    def plan(self, *, on: date, actor: str | None, note: str | None,
             deadline_working_days: int | None = None, **parts: Any) -> None:
        """The 五到位 plan; a deadline in working days is counted from ``on`` and recorded with its rule."""
        given = {k: v for k, v in parts.items() if v is not None}
        if not given and deadline_working_days is None:
            raise InvalidCommand(f"{self.number}：整改方案至少要填写五到位中的一项（责任、措施、资金、时限、预案）")
        if self.status == "closed":
            raise InvalidCommand(f"{self.number} 已销号，如需重新整改请先反销号")
        self._guard(on, "制定整改方案", step=self.status == "reported")
        parts["deadline"], rule = _deadline(parts.get("deadline"), deadline_working_days, on)
        deadline = parts["deadline"]
        if deadline is not None and deadline < self.found_on:
            raise InvalidCommand(f"{self.number}：整改期限 {deadline} 早于排查日期 {self.found_on}")
        if given.get("funds") is not None and given["funds"] < 0:
            raise InvalidCommand(f"{self.number}：整改资金不能为负数（{given['funds']} 万元）")
        full = {k: parts.get(k) for k in (
            "responsible_unit", "responsible_person", "measures", "funds", "deadline", "contingency")}
        self.trigger_event(self.RectificationPlanned, on=on, actor=actor, note=note, deadline_rule=rule,
                           **full)

    def escalate(self, *, on: date, actor: str | None, note: str | None, supervisor: str,
                 level: str, doc_no: str | None) -> None:
        if self.status == "closed":
            raise InvalidCommand(f"{self.number} 已销号，不能再挂牌督办")
        self._guard(on, "挂牌督办")
        self.trigger_event(self.Escalated, on=on, actor=actor, note=note, level=level,
                           supervisor=supervisor, doc_no=doc_no)

    def request_extension(self, *, on: date, actor: str | None, note: str | None,
                          deadline: date | None, reason: str,
                          deadline_working_days: int | None = None) -> None:
        """A later deadline: a date, or working days counted from the deadline in force."""
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
        deadline, rule = _deadline(deadline, deadline_working_days, self.deadline)
        if deadline is None:
            raise InvalidCommand(f"{self.number}：请填写延期后的期限（日期或工作日数）")
        if deadline <= self.deadline:
            raise InvalidCommand(
                f"{self.number}：延期后的期限 {deadline} 应晚于现有整改期限 {self.deadline}"
            )
        self.trigger_event(self.ExtensionRequested, on=on, actor=actor, note=note,
                           deadline=deadline, deadline_rule=rule, reason=reason)

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

    def recheck(self, *, on: date, actor: str | None, note: str | None, passed: bool,
                inspector: str, method: str) -> None:
        self._guard(on, "回头看复查", step=True)
        if self.status != "closed":
            raise InvalidCommand(
                f"{self.number} 当前状态为{HAZARD_STATUS_LABELS[self.status]}，只有已销号的隐患可以回头看复查"
            )
        self.trigger_event(self.Rechecked, on=on, actor=actor, note=note, passed=passed,
                           inspector=inspector, method=method)

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
        # Any date from the 排查日期 on: an entry made in error is withdrawn from the day it claims.
        self._guard(on, "撤销")
        self.trigger_event(self.Withdrawn, on=on, actor=actor, note=note, reason=reason)


def _deadline(deadline: date | None, working_days: int | None,
              start: date) -> tuple[date | None, dict[str, Any] | None]:
    """A deadline given as a date (no rule), or as working days after ``start`` (with its rule)."""
    if working_days is None:
        return deadline, None
    if deadline is not None:
        raise InvalidCommand("整改期限只能填写日期或工作日数中的一项")
    return add_working_days(start, working_days), working_days_rule(working_days, start)


# Defined beside the other records; exported here so events stored under their first topics
# (``qingdan.core.domain:Report.Submitted`` …) still resolve.
from .records import Indicator, Measure, Report, Task, Unit  # noqa: E402,F401
