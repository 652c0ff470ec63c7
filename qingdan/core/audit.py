"""``verify``: is the ledger what qingdan wrote, and does every view and report agree with it?

It reads and decodes the log once (:mod:`qingdan.core.logscan`): the same decoded events serve the
chain check and the reference fold the view is compared with. Everything it reads comes from the
collaborators in :class:`Sources`, never from the :class:`~qingdan.core.ledger.Ledger` facade.
"""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, computed_field

from . import blobs, reference
from .base import AttachedEvent
from .chain import chain_head
from .eventlog import EventLog
from .logscan import BROKEN, LogScan, Problem, brief
from .view import View


@dataclass(frozen=True)
class Sources:
    """What ``verify`` reads: the event log, the view, the catalogue and the read side's answers."""

    log: EventLog
    view: View
    catalogue: Any
    snapshot: Callable[..., Any]  # (as_of=, known_at=) -> LedgerSnapshot
    two_lists: Callable[..., Any]  # (as_of=, known_at=, campaign=) -> TwoLists
    today: Callable[[], date]


class VerifyReport(BaseModel):
    """What ``verify`` checked and every problem it found (``ok`` when there is none)."""

    model_config = ConfigDict(frozen=True)

    events_checked: int
    chain_head: str
    reports_checked: int
    dates_checked: tuple[date, ...]
    problems: tuple[Problem, ...]

    @computed_field  # type: ignore[prop-decorator]  # shown in JSON too
    @property
    def ok(self) -> bool:
        """Nothing wrong was found."""
        return not self.problems


# -- the reference fold at every probe ------------------------------------------------------------

# A probe is one ``(as_of, known_at)`` question put to both the view and the reference fold.
Probe = tuple[date, datetime | None]
#: the lists the view is compared with the fold on, by kind
LISTS = {kind: reference.LISTS[kind] for kind in ("hazard", "measure", "unit")}
Overdue = Callable[[Any, date], bool]


def _overdue_rules() -> dict[str, Overdue | None]:
    """How each compared row depends on ``as_of``: only through ``overdue`` (None: not at all), as the
    snapshot recomputes it on the rows it reads."""
    from .domain import hazard_overdue, measure_overdue

    return {"hazards": lambda r, d: hazard_overdue(r.status, r.deadline, d),
            "measures": lambda r, d: measure_overdue(r.status, r.due, d), "units": None}


class AsOf:
    """One row for every ``as_of``: kept with ``overdue`` as of no date, and its copy for a date made
    once per value of ``overdue``. Two of them are equal at every date exactly when their rows are."""

    __slots__ = ("overdue", "row", "variants")

    def __init__(self, row: Any, overdue: Overdue | None) -> None:
        self.overdue = overdue
        self.variants: dict[Any, Any] = {}
        self.row = row if overdue is None else self._variant(row, overdue(row, date.min))

    def _variant(self, row: Any, flag: bool) -> Any:
        found = self.variants.get(flag)
        if found is None:
            found = self.variants[flag] = row if row.overdue == flag else row.model_copy(update={"overdue": flag})
        return found

    def at(self, as_of: date) -> Any:
        if self.overdue is None:
            return self.row
        return self._variant(self.row, self.overdue(self.row, as_of))


def _fold_rows(aggregate: Any, dates: list[date], build: Callable[[Any, date], Any],
               overdue: Overdue | None) -> list[Any]:
    """The rows of one folded state at each of ``dates``: one :class:`AsOf` for all (built at the
    first date), after making sure, by building the row at the last date too, that ``overdue`` is
    all that changes with the date; if it is not, a row built for each date."""
    first, last = min(dates), max(dates)
    row = AsOf(build(aggregate, first), overdue)
    if overdue is not None and last != first and row.at(last) != build(aggregate, last):
        built = {d: build(aggregate, d) for d in set(dates)}
        return [built[d] for d in dates]
    return [row] * len(dates)


def _failing_event(items: list[tuple[int, Any]]) -> int:
    """The position of the first event that cannot be folded (else the record's first)."""
    aggregate: Any = None
    for position, event in items:
        try:
            if aggregate is None:
                aggregate = event.mutate(None)
            else:
                event.apply(aggregate)
        except Exception:
            return position
    return items[0][0]


def fold_at_probes(scan: LogScan, probes: list[Probe]
                   ) -> tuple[list[dict[tuple[str, str], Any]], list[Problem], set[str]]:
    """The reference answer at every probe, ``(list, number) -> row`` (an :class:`AsOf`, or a row
    for that date) for hazards, measures and units, from the events the scan decoded; plus a
    problem for each record whose events cannot be folded, and those records' numbers."""
    from .kinds import kind_of
    from .reference import fold_probes

    rules = _overdue_rules()
    expected: list[dict[tuple[str, str], Any]] = [{} for _ in probes]
    problems: list[Problem] = []
    failed: set[str] = set()
    for originator_id, items in scan.streams.items():
        items.sort(key=lambda item: item[1].originator_version)
        events = [event for _, event in items]
        found: list[tuple[list[int], tuple[str, str], list[Any]]] = []
        try:
            for aggregate, indexes in fold_probes(events, probes):
                kind = kind_of(aggregate)
                name = LISTS.get(kind.name)
                if name is None:
                    break  # not a record the lists compare (task, indicator, report)
                rows = _fold_rows(aggregate, [probes[i][0] for i in indexes], kind.row, rules[name])
                found.append((indexes, (name, aggregate.number), rows))
        except Exception as error:
            position = _failing_event(items)
            number = scan.number(originator_id) or getattr(events[0], "number", None)
            if number:
                failed.add(number)
            problems.append(Problem(
                kind="tampered", position=position, number=number or str(originator_id),
                message=f"记录 {number or originator_id} 的事件无法重放（{brief(error)}）：自事件 #{position} "
                        "起的记录被改动"))
            continue
        for indexes, key, rows in found:
            for index, row in zip(indexes, rows, strict=True):
                expected[index][key] = row
    return expected, problems, failed


# -- the view at every probe ----------------------------------------------------------------------


class Unreadable:
    """A view row whose state the snapshot cannot read: equal to nothing."""

    __hash__ = object.__hash__

    def __init__(self, error: BaseException) -> None:
        self.error = brief(error)

    def __eq__(self, other: object) -> bool:
        return False

    def at(self, as_of: date) -> Unreadable:
        return self


class _Given:
    """Stands in for the view under a :class:`LedgerSnapshot`: every query answers with the given
    states, so the snapshot turns them into rows exactly as it turns the view's."""

    def __init__(self, states: list[str]) -> None:
        self._states = states

    def states(self, *args: Any, **kwargs: Any) -> list[str]:
        return self._states


def read_states(src: Sources, kind: str, states: list[str]) -> list[Any]:
    """The rows the ledger's snapshot reads from these view states (as of no date: ``overdue`` is
    set per probe), an :class:`Unreadable` for each it cannot read."""
    from .queries import LedgerSnapshot

    method = {"hazard": "hazards", "measure": "measures", "unit": "all_units"}[kind]

    def convert(batch: list[str]) -> list[Any]:
        snapshot = LedgerSnapshot(_Given(batch), src.catalogue, date.min, None)  # type: ignore[arg-type]
        return list(getattr(snapshot, method)())

    try:
        rows = convert(states)
        if len(rows) == len(states):
            return rows
    except Exception:
        pass
    out: list[Any] = []
    for state in states:  # one at a time, to name the unreadable ones
        try:
            [row] = convert([state])
        except Exception as error:
            row = Unreadable(error)
        out.append(row)
    return out


@dataclass(slots=True)
class ViewRow:
    ordinal: int  # its place in the view's number order
    kind: str
    number: str
    campaign: str | None
    status: str | None
    row: Any  # an AsOf, or an Unreadable


def view_at_probes(src: Sources, probes: list[Probe]) -> tuple[list[list[ViewRow]], int]:
    """The rows the view answers at every probe (hazards, measures, units), from one read of its
    table; and the log position the view was at.

    Per probe, the rows whose intervals contain ``(as_of, known_at)`` by the comparisons of
    :meth:`View.states` (on the ISO text of the date and the recorded time), in its order (by
    number); each distinct state read into its row once, by the snapshot's own reading."""
    from .view import stamp

    store = src.view.store
    with store.read_snapshot():
        position = store.position()
        raw = store.query(
            "SELECT kind, number, campaign, status, valid_from, valid_to, recorded_from, recorded_to, state "
            "FROM qd_versions WHERE kind IN ('hazard', 'measure', 'unit') ORDER BY number, id")
    rules = _overdue_rules()
    distinct: dict[str, dict[str, Any]] = {kind: {} for kind in LISTS}
    for kind, *_, state in raw:
        distinct[kind][state] = None
    for kind, states in distinct.items():
        for state, row in zip(states, read_states(src, kind, list(states)), strict=True):
            states[state] = row if isinstance(row, Unreadable) else AsOf(row, rules[LISTS[kind]])

    current = sorted((probes[i][0].isoformat(), i) for i, p in enumerate(probes) if p[1] is None)
    current_days = [day for day, _ in current]
    known = [(p[0].isoformat(), stamp(p[1]), i) for i, p in enumerate(probes) if p[1] is not None]
    by_day = sorted(known)
    days = [k[0] for k in by_day]
    by_time = sorted(known, key=lambda k: k[1])
    times = [k[1] for k in by_time]

    answers: list[list[ViewRow]] = [[] for _ in probes]
    for ordinal, (kind, number, campaign, status, vf, vt, rf, rt, state) in enumerate(raw):
        if vf is None:
            continue  # `valid_from <= ?` is never true of NULL
        item = ViewRow(ordinal, kind, number, campaign, status, distinct[kind][state])
        if rt is None:  # a current row: the probes without known_at whose date it covers
            lo, hi = bisect_left(current_days, vf), len(current) if vt is None else bisect_left(current_days, vt)
            for _, index in current[lo:hi]:
                answers[index].append(item)
        if rf is None or not known:
            continue
        # The probes with known_at inside both its intervals: look through the fewer of those
        # whose date, or whose recorded time, is inside.
        lo, hi = bisect_left(days, vf), len(days) if vt is None else bisect_left(days, vt)
        tlo, thi = bisect_left(times, rf), len(times) if rt is None else bisect_left(times, rt)
        candidates = by_day[lo:hi] if hi - lo <= thi - tlo else by_time[tlo:thi]
        for day, moment, index in candidates:
            if vf <= day and (vt is None or vt > day) and rf <= moment and (rt is None or rt > moment):
                answers[index].append(item)
    for items in answers:
        items.sort(key=lambda v: v.ordinal)
    return answers, position


def _by_list(items: list[ViewRow], as_of: date) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {name: [] for name in LISTS.values()}
    for v in items:
        out[LISTS[v.kind]].append(v.row.at(as_of))
    return out


def _snapshot_lists(src: Sources, probe: Probe) -> dict[str, list[Any]]:
    snap = src.snapshot(as_of=probe[0], known_at=probe[1])
    return {"hazards": list(snap.hazards()), "measures": list(snap.measures()), "units": list(snap.all_units())}


def _two_lists(items: list[ViewRow], report: Any) -> Any:
    """The lists :meth:`Ledger.two_lists` gives for a report's campaign (withdrawn hazards left out)
    from the view's answer at its probe: the same column tests as its query (``campaign = ?``,
    ``status IS NULL OR status <> 'withdrawn'``). None when a row cannot be read."""
    from .rows import TwoLists

    campaign, as_of = report.campaign, report.as_of
    hazards = [v.row.at(as_of) for v in items if v.kind == "hazard"
               and (campaign is None or v.campaign == campaign) and (v.status is None or v.status != "withdrawn")]
    measures = [v.row.at(as_of) for v in items if v.kind == "measure" and (campaign is None or v.campaign == campaign)]
    if any(isinstance(r, Unreadable) for r in hazards + measures):
        return None
    return TwoLists(as_of=as_of, known_at=report.known_at, hazards=tuple(hazards), measures=tuple(measures))


class Digests:
    """:func:`rows_digest`, with each row's canonical JSON made once for all the reports it is in
    (the same text ``rows_digest`` hashes: its payload's JSON, assembled from its rows')."""

    def __init__(self) -> None:
        self._texts: dict[tuple[int, frozenset[str]], tuple[Any, str]] = {}

    def _text(self, row: Any, fields: frozenset[str]) -> str:
        found = self._texts.get((id(row), fields))
        if found is None:
            found = self._texts[(id(row), fields)] = (row, json.dumps(
                row.model_dump(mode="json", include=set(fields)), ensure_ascii=False, sort_keys=True,
                separators=(",", ":")))
        return found[1]

    def __call__(self, lists: Any, fields: Any = None) -> str:
        from .rows import digest_fields

        fields = fields or digest_fields()
        hazards, measures = frozenset(fields["hazards"]), frozenset(fields["measures"])
        text = (f'{{"hazards":[{",".join(self._text(r, hazards) for r in lists.hazards)}],'
                f'"measures":[{",".join(self._text(r, measures) for r in lists.measures)}]}}')
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- verify ---------------------------------------------------------------------------------------


class _Same:
    """Whether the view's row and the fold's are equal at a date; for two :class:`AsOf` (the usual
    case) that is whether their rows are, remembered per pair."""

    def __init__(self) -> None:
        self._seen: dict[tuple[int, int], bool] = {}

    def __call__(self, actual: Any, expected: Any, as_of: date) -> bool:
        if isinstance(actual, AsOf) and isinstance(expected, AsOf):
            key = (id(actual), id(expected))  # both are kept by the answers until verify ends
            found = self._seen.get(key)
            if found is None:
                found = self._seen[key] = actual.row == expected.row
            return found
        if isinstance(expected, AsOf):
            expected = expected.at(as_of)
        return (actual.at(as_of) if isinstance(actual, AsOf | Unreadable) else actual) == expected


def _reports(src: Sources, *, caught_up: bool) -> tuple[list[Any], Problem | None]:
    """Every submission the view lists (read without catching up when the log is not to be trusted)."""
    from .queries import LedgerSnapshot

    try:
        snap = (src.snapshot(as_of=date.max) if caught_up
                else LedgerSnapshot(src.view, src.catalogue, date.max, None))
        return list(snap.reports()), None
    except Exception as error:
        return [], Problem(kind="view", message=f"视图中的报送记录无法读取（{brief(error)}）；请运行 `qingdan rebuild`")


def _view_problems(probe: Probe, view: dict[tuple[str, str], list[Any]], expected: dict[tuple[str, str], Any],
                   same: _Same, failed: set[str]) -> list[Problem]:
    """One problem per list whose rows at this probe differ between the view and the fold."""
    as_of, known_at = probe
    wrong: dict[str, set[str]] = {}
    for key, rows in view.items():
        row = expected.get(key)
        if row is None or len(rows) != 1 or not same(rows[0], row, as_of):
            wrong.setdefault(key[0], set()).add(key[1])
    for key in expected.keys() - view.keys():
        wrong.setdefault(key[0], set()).add(key[1])
    problems = []
    for name in LISTS.values():
        numbers = sorted(wrong.get(name, set()) - failed)
        if numbers:
            problems.append(Problem(
                kind="view", number=numbers[0],
                message=f"视图与事件重放不一致（{name}，截至 {as_of}"
                        f"{'，按 ' + str(known_at) + ' 时的登记' if known_at else ''}）：{'、'.join(numbers[:10])}"
                        "；请运行 `qingdan rebuild`"))
    return problems


def _fast_path_agrees(src: Sources, answers: list[list[ViewRow]], index_of: dict[Probe, int],
                      reports: list[Any], today: date) -> tuple[bool, bool]:
    """Whether the one read of the view answers as the ledger's snapshot does (today, and at the
    last report's probe, and that report's lists as :meth:`Ledger.two_lists` gives them); and
    whether :class:`Digests` digests them as :func:`rows_digest` does."""
    from .queries import rows_digest

    for probe in [(today, None)] + [(r.as_of, r.known_at) for r in reports[-1:]]:
        mine = _by_list(answers[index_of[probe]], probe[0])
        try:
            if _snapshot_lists(src, probe) != mine:
                return False, False
        except Exception:  # the snapshot cannot read the view: neither must the fast path
            if not any(isinstance(r, Unreadable) for rows in mine.values() for r in rows):
                return False, False
    if not reports:
        return True, True
    last = reports[-1]
    lists = _two_lists(answers[index_of[(last.as_of, last.known_at)]], last)
    try:
        real = src.two_lists(as_of=last.as_of, known_at=last.known_at, campaign=last.campaign)
    except Exception:
        return lists is None, lists is None
    if lists is None or rows_digest(lists) != rows_digest(real):
        return False, False
    return True, Digests()(lists) == rows_digest(lists)


def _what(report: Any) -> str:
    """A submission, for a message: its number, period, and which submission when not the first."""
    submission = getattr(report, "submission", 1)
    return f"{report.number}（{report.period}{'，第 ' + str(submission) + ' 次报送' if submission > 1 else ''}）"


def attachment_problems(scan: LogScan, store: Any) -> list[Problem]:
    """Every stored attachment against its sha256, and every attachment an event names present
    (:func:`qingdan.core.blobs.check`), each problem naming the records that refer to it."""
    references: dict[str, list[str]] = {}
    for stream in scan.streams.values():
        for _, event in stream:
            if isinstance(event, AttachedEvent):
                number = scan.number(event.originator_id) or str(event.originator_id)
                references.setdefault(event.sha256, []).append(number)
    try:
        _, found = blobs.check(store.query, references)
    except Exception as error:  # the table itself altered (dropped, a column changed)
        return [Problem(kind="attachment", message=f"附件表无法读取（{brief(error)}）")]
    return [Problem(kind="attachment", number=(references.get(sha) or [None])[0], message=message)
            for sha, message in found]


def verify(src: Sources, *, dates: list[date] | None = None) -> VerifyReport:
    """Check the hash chain, every submitted report's digest, and the view against the reference fold.

    Never raises on a database altered outside qingdan: whatever is wrong is a :class:`Problem`.
    The log is read and decoded once (:class:`LogScan`); when it is what qingdan wrote, the view is
    compared with the fold of those events at every probe — today, each report's ``as_of`` and
    ``dates``; each report's ``(as_of, known_at)`` — row by row as the snapshot reads them, and each
    submission's digest is recomputed from the lists as of its ``(as_of, known_at)``.

    The view is read once for all probes (:func:`view_at_probes`), and each folded state is turned
    into rows once (:func:`fold_at_probes`). That the one read answers as the ledger's snapshot does
    is checked at two probes and on the last submission's lists (:func:`_fast_path_agrees`); if it
    does not, every probe is read through the snapshot and every digest made by ``rows_digest``.
    """
    from .queries import rows_digest

    store = src.view.store
    scan = LogScan(src.log, store)
    scan.run()
    problems = list(scan.problems) + attachment_problems(scan, store)
    trusted = not any(p.kind in BROKEN for p in problems)
    if trusted:
        try:
            src.view.catch_up()
        except Exception as error:
            problems.append(Problem(kind="view", message=f"视图无法按事件日志更新（{brief(error)}）"))
            trusted = False
    reports, unreadable = _reports(src, caught_up=trusted)
    if unreadable is not None:
        problems.append(unreadable)
    for report in reports:
        at = store.query("SELECT hash FROM qd_chain WHERE position = ?", (report.position,))
        if report.position and (not at or at[0][0] != report.chain):
            problems.append(Problem(
                kind="report", number=report.number, position=report.position,
                message=f"{_what(report)}报送时记录的哈希链头与现在的哈希链（#{report.position}）不一致"))
    if not trusted or unreadable is not None:
        # Reconstructions from a log that was tampered with prove nothing; stop here.
        return VerifyReport(events_checked=scan.checked, chain_head=chain_head(store), reports_checked=0,
                            dates_checked=(), problems=tuple(problems))

    today = src.today()
    probe_dates = sorted(set(dates or []) | {today} | {r.as_of for r in reports})
    probes: list[Probe] = list(dict.fromkeys([(d, None) for d in probe_dates]
                                             + [(r.as_of, r.known_at) for r in reports]))
    index_of = {probe: i for i, probe in enumerate(probes)}
    answers, position = view_at_probes(src, probes)
    if position > scan.position:  # the view has events the scan has not seen (written meanwhile)
        before = len(scan.problems)
        scan.run()
        problems += scan.problems[before:]
        if any(p.kind in BROKEN for p in scan.problems[before:]):
            return VerifyReport(events_checked=scan.checked, chain_head=chain_head(store), reports_checked=0,
                                dates_checked=(), problems=tuple(problems))
    head = chain_head(store)
    expected, fold_problems, failed = fold_at_probes(scan, probes)
    problems += fold_problems
    fast_view, fast_digest = _fast_path_agrees(src, answers, index_of, reports, today)

    digests = Digests()
    for report in reports:
        try:
            if fast_view:
                lists = _two_lists(answers[index_of[(report.as_of, report.known_at)]], report)
            else:
                lists = src.two_lists(as_of=report.as_of, known_at=report.known_at, campaign=report.campaign)
            digest = None if lists is None else digests(lists, report.digest_fields) if fast_digest else rows_digest(lists, report.digest_fields)
        except Exception:
            digest = None
        if digest != report.digest:
            problems.append(Problem(
                kind="report", number=report.number,
                message=f"{_what(report)}报送时的清单摘要与现在按同一时点重建的不一致"))
    same = _Same()
    for index, probe in enumerate(probes):
        view: dict[tuple[str, str], list[Any]] = {}
        if fast_view:
            for v in answers[index]:
                view.setdefault((LISTS[v.kind], v.number), []).append(v.row)
        else:
            try:
                for name, rows in _snapshot_lists(src, probe).items():
                    for row in rows:
                        view.setdefault((name, row.number), []).append(row)
            except Exception as error:
                problems.append(Problem(kind="view", message=f"视图无法读取（截至 {probe[0]}）：{brief(error)}"
                                                             "；请运行 `qingdan rebuild`"))
                continue
        problems += _view_problems(probe, view, expected[index], same, failed)
    return VerifyReport(events_checked=scan.checked, chain_head=head, reports_checked=len(reports),
                        dates_checked=tuple(probe_dates), problems=tuple(problems))
