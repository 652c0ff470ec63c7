"""The read side of a ledger: every query as of ``(as_of, known_at)``.

Lists, and one hazard, measure or unit as of a date, come from the materialised view
(:class:`~qingdan.core.queries.LedgerSnapshot`), caught up before each read: the same rows every
list shows, which ``verify`` compares with the fold of the log. A record's history, and the
one-per-ledger records, come from folding its own events with the reference semantics
(:func:`qingdan.core.reference.fold`), cheap for one record. Nothing here imports the aggregates
and their event classes until a fold needs them (they are most of a command's start-up).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from . import queries as _queries
from .calendar import CalendarUnknown, working_days_between
from .clock import CST, EARLIEST_KNOWN, LATEST_KNOWN, as_known_at
from .errors import InvalidCommand, NotFound
from .errors import show as _show
from .eventlog import EventLog
from .kinds import BY_NAME, indicator_reading, township_profile
from .labels import DUE_KIND_LABELS, days_label
from .queries import (
    LedgerSnapshot,
    ReportDiff,
    RowDifference,
    Stats,
    compare_lists,
    rows_digest,
    stats,
    two_lists,
    with_overdue,
)
from .reference import fold
from .rows import (
    DueItem,
    HazardRow,
    HistoryEntry,
    IndicatorReading,
    LoggedEvent,
    MeasureRow,
    ReminderNotice,
    ReportRow,
    TargetStatus,
    TaskRow,
    TownshipProfile,
    TwoLists,
    UnitRow,
)
from .rules import OPEN_STATUSES, TOWNSHIP_KEY, report_number
from .spec import Finding
from .targets import EvaluationError, build_projection, evaluate_targets, run_checks
from .view import View
from .writes import check_number

if TYPE_CHECKING:
    from .base import Record

#: The fields every event has; ``history`` shows the rest as the event's data.
COMMON_FIELDS = {"originator_id", "originator_version", "timestamp", "originator_topic", "on",
                 "actor", "note"}
SNAPSHOTS = 4  # decoded snapshots kept for repeated reads at the same (as_of, known_at)


#: The recorded times a question may name (a ledger holds nothing outside them).


def known(value: date | datetime | None) -> datetime | None:
    """``known_at`` as an aware datetime, refused when it is outside any ledger's recorded times."""
    try:
        moment = as_known_at(value)
        if moment is not None and not EARLIEST_KNOWN <= moment <= LATEST_KNOWN:
            raise OverflowError
    except (OverflowError, ValueError):
        raise InvalidCommand(f"按此时登记（known_at）{_show(value)} 超出可用范围"
                             f"（{EARLIEST_KNOWN.year} 年至 {LATEST_KNOWN.year} 年）") from None
    return moment


def _known_label(known_at: date | datetime | None) -> str:
    return f"（按 {known_at} 时的登记）" if known_at is not None else ""


class Queries:
    def __init__(self, log: EventLog, view: View, catalogue: Callable[[], Any],
                 today: Callable[[], date]) -> None:
        self.log = log
        self.view = view
        self._catalogue = catalogue
        self.today = today
        self._snapshots: dict[Any, tuple[int, LedgerSnapshot]] = {}
        self.evaluation_errors: list[EvaluationError] = []

    @property
    def catalogue(self) -> Any:
        return self._catalogue()

    # -- snapshots -----------------------------------------------------------------------------

    def snapshot(self, *, as_of: date | None = None,
                 known_at: date | datetime | None = None) -> LedgerSnapshot:
        self.view.catch_up()  # before every read, so other processes' writes are seen too
        key = (as_of or self.today(), known(known_at))
        position = self.view.position()
        cached = self._snapshots.get(key)
        if cached is not None and cached[0] == position:
            return cached[1]  # nothing recorded since: the same answers, already decoded
        snapshot = LedgerSnapshot(self.view, self.catalogue, *key)
        self._snapshots[key] = (position, snapshot)
        while len(self._snapshots) > SNAPSHOTS or (  # the older ones go first past the row budget
                len(self._snapshots) > 1 and sum(s._cached_rows for _, s in self._snapshots.values()) > _queries.CACHE_ROWS):
            self._snapshots.pop(next(iter(self._snapshots)))
        return snapshot

    def forget_snapshots(self) -> None:
        self._snapshots.clear()

    # -- lists ---------------------------------------------------------------------------------

    def two_lists(self, *, as_of: date | None, known_at: date | datetime | None, campaign: str | None,
                  department: str | None, village: str | None, include_withdrawn: bool,
                  limit: int | None, offset: int, after: str | None = None) -> TwoLists:
        if campaign is not None:
            self.catalogue.campaign(campaign)
        if (limit is not None and limit < 0) or offset < 0:
            raise InvalidCommand("分页参数不能为负数")
        if after is not None and (not isinstance(after, str) or not after.strip()):
            raise InvalidCommand(f"after 应为一个编号（上一页最后一行的编号），收到 {after!r}")
        if offset and limit is None:
            limit = 2**62  # an offset alone still skips rows
        return two_lists(self.snapshot(as_of=as_of, known_at=known_at), campaign=campaign,
                         department=department, village=village, include_withdrawn=include_withdrawn,
                         limit=limit, offset=offset, after=None if after is None else after.strip())

    def stats(self, as_of: date | None, known_at: date | datetime | None,
              campaign: str | None) -> Stats:
        return stats(self.snapshot(as_of=as_of, known_at=known_at), campaign)

    def trend(self, days: Sequence[date], known_at: date | datetime | None,
              campaign: str | None) -> list[_queries.Trend]:
        if campaign is not None:
            self.catalogue.campaign(campaign)
        self.view.catch_up()  # as a snapshot does: other processes' writes are seen too
        return _queries.trend(self.view, days, known(known_at), campaign)

    def tasks(self, as_of: date | None, known_at: date | datetime | None,
              campaign: str | None) -> list[TaskRow]:
        return list(self.snapshot(as_of=as_of, known_at=known_at).tasks(campaign))

    def units(self, as_of: date | None, known_at: date | datetime | None, kind: str | None,
              include_closed: bool, attributes: dict[str, Any]) -> list[UnitRow]:
        wanted = self.catalogue.check_unit_attributes(attributes, allow_none=True)
        snap = self.snapshot(as_of=as_of, known_at=known_at)
        return [u for u in (snap.all_units() if include_closed else snap.units(kind))
                if (kind is None or u.kind == kind)
                and all(u.attributes.get(name) == value for name, value in wanted.items())]

    def _whole(self, as_of: date | None, known_at: date | datetime | None) -> LedgerSnapshot:
        """A snapshot holding the whole lists (if they fit its cache): the targets and checks of every
        campaign then read their campaign's part of them, not the view again for each."""
        snap = self.snapshot(as_of=as_of, known_at=known_at)
        snap.hazards()
        snap.measures()
        return snap

    def targets(self, as_of: date | None, known_at: date | datetime | None,
                campaign: str | None) -> list[TargetStatus]:
        snap = self._whole(as_of, known_at)
        statuses, self.evaluation_errors = evaluate_targets(
            self.catalogue.targets_of(campaign), snap, self.catalogue.campaigns)
        return statuses

    def findings(self, as_of: date | None, known_at: date | datetime | None,
                 campaign: str | None) -> list[Finding]:
        snap = self._whole(as_of, known_at)
        found, self.evaluation_errors = run_checks(self.catalogue.checks_of(), snap)
        return [f for f in found if campaign is None or f.campaign == campaign]

    def due_soon(self, within_days: int, as_of: date | None,
                 known_at: date | datetime | None) -> list[DueItem]:
        if isinstance(within_days, bool) or not isinstance(within_days, int) or not 0 <= within_days <= 3660:
            raise InvalidCommand(f"提前天数应为 0 至 3660 之间的整数，收到“{_show(within_days)}”")
        return due_items(self.snapshot(as_of=as_of, known_at=known_at), within_days)

    def projection(self, projection_id: str, as_of: date | None,
                   known_at: date | datetime | None) -> list[dict[str, Any]]:
        projection = self.catalogue.projection(projection_id)
        return build_projection(projection, self.snapshot(as_of=as_of, known_at=known_at))

    # -- one record ----------------------------------------------------------------------------

    def _events(self, key: str) -> list[Record.Event]:
        check_number(key)
        return self.log.record(key)

    def _row(self, kind: str, number: str, as_of: date | None, known_at: date | datetime | None) -> Any:
        """One record's row as of ``as_of`` as known at ``known_at``, from the view."""
        check_number(number)
        as_of = as_of or self.today()
        moment = known(known_at)
        self.view.catch_up()
        states = self.view.states(kind, as_of, moment, number=number)
        if states:
            return with_overdue(BY_NAME[kind].decode(states[0]), as_of)
        kinds = self.view.kinds_of(number)
        if not kinds:
            raise NotFound(f"台账中没有 {_show(number)}")
        if kind not in kinds:
            raise NotFound(f"{_show(number)} 不是{BY_NAME[kind].label}")
        raise NotFound(f"截至 {as_of}{_known_label(known_at)}，台账中还没有 {_show(number)}")

    def hazard(self, number: str, as_of: date | None, known_at: date | datetime | None) -> HazardRow:
        return self._row("hazard", number, as_of, known_at)  # type: ignore[no-any-return]

    def measure(self, number: str, as_of: date | None, known_at: date | datetime | None) -> MeasureRow:
        return self._row("measure", number, as_of, known_at)  # type: ignore[no-any-return]

    def unit(self, number: str, as_of: date | None, known_at: date | datetime | None) -> UnitRow:
        return self._row("unit", number, as_of, known_at)  # type: ignore[no-any-return]

    def indicator(self, target_id: str, as_of: date | None,
                  known_at: date | datetime | None) -> IndicatorReading | None:
        if target_id not in self.catalogue.targets:
            raise NotFound(f"没有目标“{_show(target_id)}”。用 `qingdan targets` 查看各专项的整治目标")
        events = self._events("indicator:" + target_id)
        if not events:
            return None
        return indicator_reading(fold(events, as_of or self.today(), known(known_at)))

    def profile(self, as_of: date | None, known_at: date | datetime | None) -> TownshipProfile | None:
        events = self._events(TOWNSHIP_KEY)
        township = fold(events, as_of or self.today(), known(known_at)) if events else None
        return township_profile(township) if township is not None else None

    def history(self, number: str) -> list[HistoryEntry]:
        events: list[Record.Event] = []
        for key in (number, "task:" + number, "indicator:" + number):
            events = self._events(key)
            if events:
                break
        if not events:
            raise NotFound(f"台账中没有 {_show(number)}")
        return [HistoryEntry(
            number=number, version=event.originator_version, type=type(event).__name__,
            on=event.on, recorded_at=event.timestamp.astimezone(CST), actor=event.actor,
            note=event.note, data={k: v for k, v in vars(event).items() if k not in COMMON_FIELDS},
        ) for event in events]

    def events(self, after: int, limit: int | None) -> Iterator[LoggedEvent]:
        """Every stored event after position ``after`` (at most ``limit``), in log order."""
        numbers: dict[Any, str | None] = {}
        count = 0
        for notification, event in self.log.events(after=after):
            if limit is not None and count >= limit:
                return
            data = {k: v for k, v in vars(event).items() if k not in COMMON_FIELDS}
            number = numbers.get(event.originator_id)
            if number is None:
                number = data.get("number") if event.originator_version == 1 else None
                if number is None:  # a feed that starts after the record's first event
                    first = self.log.record_by_id(event.originator_id, upto=1)
                    number = getattr(first[0], "number", None) if first else None
                numbers[event.originator_id] = number
            yield LoggedEvent(position=notification.id, number=number, version=event.originator_version,
                              type=type(event).__qualname__, on=event.on,
                              recorded_at=event.timestamp.astimezone(CST), actor=event.actor,
                              note=event.note, data=data)
            count += 1

    # -- reports -------------------------------------------------------------------------------

    def reports(self, period: str | None, campaign: str | None) -> list[ReportRow]:
        rows = self.snapshot(as_of=date.max).reports()
        return sorted((r for r in rows if (period is None or r.period == period)
                       and (campaign is None or r.campaign == campaign)),
                      key=lambda r: (r.period, r.campaign or "", r.submission))

    def report(self, period: str, campaign: str | None, submission: int | None) -> ReportRow:
        number = report_number(period, campaign)
        rows = [r for r in self.snapshot(as_of=date.max).reports() if r.number == number]
        if not rows:
            raise NotFound(f"{_show(period)} 的两个清单尚未报送（{_show(number)}）")
        if submission is None:
            return rows[-1]
        for row in rows:
            if row.submission == submission:
                return row
        raise NotFound(f"{_show(period)} 的两个清单只报送过 {len(rows)} 次，没有第 {_show(submission)} 次")

    def report_diff(self, period: str, campaign: str | None, submission: int | None) -> ReportDiff:
        report = self.report(period, campaign, submission)
        lists = {"include_withdrawn": False, "department": None, "village": None, "limit": None,
                 "offset": 0, "campaign": campaign}
        then = self.two_lists(as_of=report.as_of, known_at=report.known_at, **lists)
        now = self.two_lists(as_of=report.as_of, known_at=None, **lists)
        differences = []
        for name, number, change, fields in compare_lists(then, now):
            causes = [
                {"type": e.type, "on": e.on, "recorded_at": e.recorded_at, "actor": e.actor,
                 "note": e.note, "data": e.data}
                for e in self.history(number)
                if e.recorded_at > report.known_at and e.on <= report.as_of
            ]
            differences.append(RowDifference(list=name, number=number, change=change,
                                             fields=tuple(fields), events=tuple(causes)))
        return ReportDiff(report=report, digest_matches=rows_digest(then, report.digest_fields) == report.digest,
                          differences=tuple(differences))


# -- what falls due ------------------------------------------------------------------------------

_KIND_ORDER = {"hazard": 0, "task": 1, "measure": 2}
_DUE_WORDS = {"hazard": "整改期限", "task": "完成时限", "measure": "完成时限"}
NO_DEPARTMENT = "未明确责任单位"


def _item(kind: str, number: str, campaign: str, title: str, department: str | None, due: date,
          as_of: date, status: str, level: str | None = None) -> DueItem:
    try:
        working = working_days_between(as_of, due)
    except CalendarUnknown:  # a year whose holidays are not known: say nothing rather than guess
        working = None
    return DueItem(kind=kind, number=number, campaign=campaign, title=title, department=department or None,
                   due=due, days_left=(due - as_of).days, working_days_left=working, status=status,
                   level=level)


def due_items(snapshot: LedgerSnapshot, within_days: int) -> list[DueItem]:
    """Open hazards with a deadline, unfinished 重点任务 and planned 制度措施 with a due date, whose
    date is at most ``within_days`` after the snapshot's date (overdue ones included), by date."""
    as_of = snapshot.as_of
    last = as_of + timedelta(days=within_days)
    items = [_item("hazard", h.number, h.campaign, f"{h.unit}：{h.description}", h.responsible_unit,
                   h.deadline, as_of, h.status, h.level)
             for h in snapshot.hazards() if h.status in OPEN_STATUSES and h.deadline and h.deadline <= last]
    items += [_item("task", t.id if t.period is None else f"{t.id}@{t.period}", t.campaign, t.title,
                    "、".join(t.lead_departments or t.responsible_departments), t.due, as_of, t.status)
              for t in snapshot.tasks() if t.status != "done" and t.due and t.due <= last]
    items += [_item("measure", m.number, m.campaign, m.title, m.department, m.due, as_of, m.status)
              for m in snapshot.measures() if m.status == "planned" and m.due and m.due <= last]
    return sorted(items, key=lambda i: (i.due, _KIND_ORDER[i.kind], i.number))


def _line(index: int, item: DueItem) -> str:
    kind = DUE_KIND_LABELS[item.kind] + (f"·{item.level}" if item.level == "重大" else "")
    return (f"{index}. 【{kind}】{item.number} {item.title} — {_DUE_WORDS[item.kind]} {item.due}，"
            f"{days_label(item.days_left, item.working_days_left)}")


def reminder_notices(items: Iterable[DueItem], *, as_of: date, within_days: int,
                     sender: str = "安委会办公室") -> list[ReminderNotice]:
    """One notice per responsible department (by name; items without one under “未明确责任单位”):
    what is overdue and what falls due within ``within_days``, with the text a 安委办 sends."""
    by_department: dict[str, list[DueItem]] = {}
    for item in items:
        by_department.setdefault(item.department or NO_DEPARTMENT, []).append(item)
    notices = []
    for department in sorted(by_department):
        group = by_department[department]
        overdue = tuple(i for i in group if i.days_left < 0)
        soon = tuple(i for i in group if i.days_left >= 0)
        lines = ["关于抓紧办理到期事项的提醒", "", f"{department}：", "",
                 f"截至 {as_of}，贵单位负责的以下事项已逾期或将于 {within_days} 日内到期，请抓紧办理，"
                 "办结后及时在台账中登记；确需延期的，请按程序申请延期。", ""]
        for heading, part in (("已逾期", overdue), ("即将到期", soon)):
            if part:
                lines.append(f"{'一' if heading == '已逾期' or not overdue else '二'}、{heading}（{len(part)} 项）")
                lines += [_line(n, i) for n, i in enumerate(part, 1)]
                lines.append("")
        lines += [sender, str(as_of)]
        notices.append(ReminderNotice(department=department, as_of=as_of, within_days=within_days,
                                      overdue_items=overdue, due_items=soon, text="\n".join(lines) + "\n"))
    return notices
