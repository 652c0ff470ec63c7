"""Measures, tasks, units, indicator readings, report submissions and the township profile.

Their events were defined in :mod:`qingdan.core.domain` until the core was split into layers; that
module still exports them, so events stored under the old topics (``qingdan.core.domain:Measure.Added``)
load as before.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from .base import (  # noqa: F401  (TOWNSHIP_KEY, POLICY_*, report_number: importable from here too)
    POLICY_KEY,
    POLICY_NUMBER,
    TOWNSHIP_KEY,
    Attachable,
    Record,
    aggregate_id,
    measure_overdue,
    report_number,
)
from .errors import InvalidCommand
from .labels import MEASURE_STATUS_LABELS
from .rows import DIGEST_FIELDS_V1

# --------------------------------------------------------------------------------------------
# Measure 制度措施
# --------------------------------------------------------------------------------------------


class Measure(Attachable):
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
            u.closed_reason = self.reason

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

    SUBMISSION_FIELDS = ("as_of", "known_at", "position", "chain", "digest", "digest_fields",
                         "hazard_count", "measure_count")

    class Submitted(Record.Created):
        # Version 2 added ``digest_fields``: which fields of the rows the digest hashed, so a field
        # added to the rows later never makes a past submission look altered.
        class_version = 2

        number: str
        period: str
        campaign: str | None
        as_of: date
        known_at: datetime
        position: int
        chain: str
        digest: str
        digest_fields: dict[str, Any]
        hazard_count: int
        measure_count: int

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["digest_fields"] = {k: list(v) for k, v in DIGEST_FIELDS_V1.items()}

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
        # Version 3 added ``digest_fields`` (see ``Submitted``).
        class_version = 3

        as_of: date
        known_at: datetime
        position: int
        chain: str
        digest: str
        digest_fields: dict[str, Any]
        hazard_count: int
        measure_count: int
        reason: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["reason"] = None

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            Report.Submitted.upcast_v1_v2(state)

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


# --------------------------------------------------------------------------------------------
# Township 乡镇信息: the profile every form is printed for
# --------------------------------------------------------------------------------------------



class Township(Record):
    """The one township a ledger belongs to: what titles and the foot of every form print."""

    class Described(Record.Created):
        number: str
        profile: dict[str, Any]

        def apply(self, t: Township) -> None:
            t.number = self.number
            t.profile = dict(self.profile)
            t.set_on = self.on
            t.set_by = self.actor

    class Redescribed(Record.Event):
        profile: dict[str, Any]

        def apply(self, t: Township) -> None:
            t.profile = dict(self.profile)
            t.set_on = self.on
            t.set_by = self.actor

    @classmethod
    def describe(cls, *, on: date, actor: str | None, note: str | None, profile: dict[str, Any]) -> Township:
        return cls._create(cls.Described, id=aggregate_id(TOWNSHIP_KEY), number=TOWNSHIP_KEY, on=on,
                           actor=actor, note=note, profile=profile)

    def redescribe(self, *, on: date, actor: str | None, note: str | None, profile: dict[str, Any]) -> None:
        if profile == self.profile:
            raise InvalidCommand("乡镇信息与台账中已有的相同，没有需要修改的内容")
        self._check_on(on, self.set_on, "修改乡镇信息", "上次设定日期")
        self.trigger_event(self.Redescribed, on=on, actor=actor, note=note, profile=profile)


# --------------------------------------------------------------------------------------------
# AccessPolicy 权限配置: the ledger's own policy (qingdan policy set)
# --------------------------------------------------------------------------------------------



class AccessPolicy(Record):
    """Who may do what in this ledger: the grants of :class:`qingdan.core.policy.Policy`, as data.

    One record per ledger; each change is an event, so the policy in force at any time is in the log
    and covered by the hash chain like every other fact.
    """

    class PolicyAdopted(Record.Created):
        number: str
        grants: dict[str, Any]

        def apply(self, p: AccessPolicy) -> None:
            p.number = self.number
            p.grants = self.grants
            p.adopted_on = self.on
            p.changes = 0

    class PolicyChanged(Record.Event):
        grants: dict[str, Any]

        def apply(self, p: AccessPolicy) -> None:
            p.grants = self.grants
            p.changes += 1

    @classmethod
    def adopt(cls, *, on: date, actor: str | None, note: str | None, grants: dict[str, Any]) -> AccessPolicy:
        return cls._create(cls.PolicyAdopted, id=aggregate_id(POLICY_KEY), number=POLICY_NUMBER,
                           grants=grants, on=on, actor=actor, note=note)

    def change(self, *, on: date, actor: str | None, note: str | None, grants: dict[str, Any]) -> None:
        if grants == self.grants:
            raise InvalidCommand("新的权限配置与台账中现行的相同，未作修改")
        self.trigger_event(self.PolicyChanged, on=max(on, self.adopted_on), actor=actor, note=note,
                           grants=grants)
