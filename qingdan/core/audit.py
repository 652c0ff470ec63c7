"""``verify``: is the ledger what qingdan wrote, and does every view and report agree with it?

Everything it checks is derived from the event log alone. It reads and decodes the log once
(:mod:`qingdan.core.logscan`): the same decoded events serve the chain check, the submitted reports
(their chain heads and digests come from their events, never from the view) and the reference fold
that the whole view — every record, every date interval, current and superseded rows, every column —
is compared with (:mod:`qingdan.core.viewaudit`). Everything it reads comes from the collaborators in
:class:`Sources`, never from the :class:`~qingdan.core.ledger.Ledger` facade.
"""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from operator import itemgetter
from typing import Any

from pydantic import BaseModel, ConfigDict, computed_field

from . import blobs, reference, viewaudit
from .base import AttachedEvent
from .chain import chain_head
from .clock import CST
from .eventlog import EventLog
from .logscan import BROKEN, LogScan, Problem, brief
from .verifystate import Seen
from .view import View, stamp
from .viewaudit import Folded, RecordFold, ViewRows, differs_at, read_view
from .writes import collector_paused


@dataclass(frozen=True)
class Sources:
    """What ``verify`` reads: the event log, the view (its tables only) and the catalogue."""

    log: EventLog
    view: View
    catalogue: Any
    today: Callable[[], date]


class VerifyReport(BaseModel):
    """What ``verify`` checked and every problem it found (``ok`` when there is none)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    events_checked: int
    chain_head: str
    reports_checked: int
    #: the effective dates at which some record changes (the view is compared on every date: its
    #: answer can change only at these), and any dates asked for
    dates_checked: tuple[date, ...]
    problems: tuple[Problem, ...]
    #: records and view rows compared with the reference fold (an incremental check: every record's
    #: rows, those of records folded again and the rest with the digest remembered)
    records_checked: int = 0
    view_rows_checked: int = 0
    #: a complete check (False: incremental, from the event after position ``since``, verified before)
    full: bool = True
    since: int | None = None
    #: when the prefix up to ``since`` was verified (as the state remembered it)
    verified_before: str | None = None
    #: events decoded and records folded again (a complete check: all of them)
    events_decoded: int = 0
    records_folded: int = 0
    #: attachments whose content was hashed (an incremental check: those new since; the others'
    #: presence and size are compared with what was remembered)
    attachments_hashed: int = 0
    attachments_checked: int = 0
    #: what the reader should know about how it was checked (why complete, the state not saved …)
    notes: tuple[str, ...] = ()
    #: where this machine remembers what it verified of this ledger (None: nothing remembered)
    state_file: str | None = None

    @computed_field  # type: ignore[prop-decorator]  # shown in JSON too
    @property
    def ok(self) -> bool:
        """Nothing wrong was found."""
        return not self.problems


# -- rows as of a date ----------------------------------------------------------------------------

Overdue = Callable[[Any, date], bool]


def _overdue_rules() -> dict[str, Overdue | None]:
    """How a row depends on ``as_of``: only through ``overdue`` (None: not at all), as the snapshot
    recomputes it on the rows it reads."""
    from .domain import hazard_overdue, measure_overdue

    return {"hazard": lambda r, d: hazard_overdue(r.status, r.deadline, d),
            "measure": lambda r, d: measure_overdue(r.status, r.due, d)}


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


def _what(report: Any) -> str:
    """A submission, for a message: its number, period, and which submission when not the first."""
    submission = getattr(report, "submission", 1)
    return f"{report.number}（{report.period}{'，第 ' + str(submission) + ' 次报送' if submission > 1 else ''}）"


def attachment_references(scan: LogScan, after: int = 0) -> dict[str, list[str]]:
    """sha256 → the records (numbers) whose events the scan decoded after ``after`` name it."""
    references: dict[str, list[str]] = {}
    for stream in scan.streams.values():
        for position, event in stream:
            if position > after and isinstance(event, AttachedEvent):
                number = scan.number(event.originator_id) or str(event.originator_id)
                references.setdefault(event.sha256, []).append(number)
    return references


def attachment_problems(scan: LogScan, store: Any, sound: dict[str, int] | None = None) -> list[Problem]:
    """Every stored attachment against its sha256, and every attachment an event names present
    (:func:`qingdan.core.blobs.check`), each problem naming the records that refer to it
    (``sound``: filled with the size of every blob that matched)."""
    references = attachment_references(scan)
    try:
        _, found = blobs.check(store.query, references, sound=sound)
    except Exception as error:  # the table itself altered (dropped, a column changed)
        return [Problem(kind="attachment", message=f"附件表无法读取（{brief(error)}）")]
    return [Problem(kind="attachment", number=(references.get(sha) or [None])[0], message=message)
            for sha, message in found]


# -- the records of the log, folded -----------------------------------------------------------------


@dataclass
class Folds:
    """Every record of the log up to the view's position, ready to fold (by record id, the view's text),
    and the records whose events cannot be folded (named as problems)."""

    records: dict[str, RecordFold]
    numbers: dict[str, str]
    problems: list[Problem]
    failed: set[str]


def fold_records(scan: LogScan, upto: int | None) -> Folds:
    """A :class:`RecordFold` for every record the scan decoded, of its events at or before ``upto``;
    each one folded with all its events once, to name those that cannot be (as tampered)."""
    records: dict[str, RecordFold] = {}
    numbers: dict[str, str] = {}
    problems: list[Problem] = []
    failed: set[str] = set()
    for originator_id, items in scan.streams.items():
        items = sorted((item for item in items if upto is None or item[0] <= upto),
                       key=lambda item: item[1].originator_version)
        if not items:
            continue
        key = str(originator_id)
        events = [event for _, event in items]
        fold = RecordFold(events)
        try:
            final = fold.final()
        except Exception as error:
            number = scan.number(originator_id) or getattr(events[0], "number", None)
            failed.add(key)
            problems.append(Problem(
                kind="tampered", position=_failing_event(items), number=number or key,
                message=f"记录 {number or key} 的事件无法重放（{brief(error)}）：自事件 "
                        f"#{_failing_event(items)} 起的记录被改动"))
            continue
        records[key] = fold
        number = getattr(final.row, "number", None) if final.kind is not None else None
        numbers[key] = number or (final.value[1] if final.value else None) or getattr(events[0], "number", key)
    return Folds(records, numbers, problems, failed)


def submissions(folds: Folds) -> list[Any]:
    """Every submission, as the log's report records say (each record's submissions in order)."""
    out = []
    for fold in folds.records.values():
        final = fold.final()
        if final.kind is not None and final.kind.name == "report":
            out.extend(final.row)
    return sorted(out, key=lambda r: (r.number, r.submission))


def chain_problems(store: Any, reports: list[Any]) -> list[Problem]:
    """A problem for each submission whose recorded chain head is not the chain's hash at its position."""
    problems = []
    for report in reports:
        at = store.query("SELECT hash FROM qd_chain WHERE position = ?", (report.position,))
        if report.position and (not at or at[0][0] != report.chain):
            problems.append(Problem(
                kind="report", number=report.number, position=report.position,
                message=f"{_what(report)}报送时记录的哈希链头与现在的哈希链（#{report.position}）不一致"))
    return problems


# -- the reports' digests, from the fold ------------------------------------------------------------


class Lists:
    """The 两个清单 as :meth:`Ledger.two_lists` gives them for a submission, from the fold: a
    campaign's hazards (withdrawn left out) and measures as of ``(as_of, known_at)``, in the order
    the database sorts their numbers, ``overdue`` as of the date."""

    def __init__(self, folds: Folds, store: Any) -> None:
        rules = _overdue_rules()
        self.by_kind: dict[str, dict[str | None, list[RecordFold]]] = {"hazard": {}, "measure": {}}
        self._as_of: dict[int, AsOf] = {}
        self._rules = rules
        numbers = []
        for key, fold in folds.records.items():
            final = fold.final()
            if final.kind is not None and final.kind.name in self.by_kind:
                self.by_kind[final.kind.name].setdefault(final.row.campaign, []).append(fold)
                numbers.append(folds.numbers[key])
        rank = {number: i for i, number in enumerate(store.collate(sorted(set(numbers))))}
        self.every: dict[str, list[RecordFold]] = {}
        for kind, by_campaign in self.by_kind.items():
            for records in by_campaign.values():
                records.sort(key=lambda f: rank[f.final().row.number])
            self.every[kind] = sorted((f for records in by_campaign.values() for f in records),
                                      key=lambda f: rank[f.final().row.number])

    def rows(self, kind: str, campaign: str | None, as_of: date, moment: str) -> list[Any]:
        records = self.by_kind[kind].get(campaign, []) if campaign is not None else self.every[kind]
        found = []
        for fold in records:
            folded = fold.row_at(as_of, moment)
            if folded is None or folded.kind is None:
                continue
            row = folded.row
            if (campaign is not None and row.campaign != campaign) or (kind == "hazard" and row.status == "withdrawn"):
                continue
            variant = self._as_of.get(id(folded))
            if variant is None:
                variant = self._as_of[id(folded)] = AsOf(row, self._rules[kind])
            found.append(variant.at(as_of))
        return found

    def __call__(self, report: Any) -> Any:
        from .rows import TwoLists

        moment = stamp(report.known_at)
        return TwoLists(as_of=report.as_of, known_at=report.known_at,
                        hazards=tuple(self.rows("hazard", report.campaign, report.as_of, moment)),
                        measures=tuple(self.rows("measure", report.campaign, report.as_of, moment)))


class Submitted:
    """Every submission's lists as :class:`Lists` gives them, assembled record by record while the
    view is compared with the fold — each record's rows in every submission it is in, as the text
    :class:`Digests` hashes, made once for all of them — so that a record's states are built once, in
    order, and let go with it. :meth:`digest` is then :class:`Digests` of :class:`Lists` (the same
    records, in the same order, with the same rows): the first submission's rows are kept, for
    :func:`_compare` to check that against ``rows_digest``.

    A record is in every submission of its campaign and of all campaigns made after it was first
    recorded, so :meth:`add` places a row once per record and submission (56,000 times at the bench's
    county: 13,800 hazards and measures, 30 submissions of one campaign); what does not depend on the
    submission is worked out once — which submissions each list (kind and campaign)
    takes, sorted by recorded time (those before a record's first event skipped at once), each
    record's place in them as one number, each state's row and each row's text once per record."""

    def __init__(self, folds: Folds, store: Any, reports: list[Any]) -> None:
        from .rows import digest_fields

        self.reports = reports
        self.failed: set[int] = set()  # the submissions whose lists could not be made
        self.first: dict[str, list[tuple[Any, Any]]] = {"hazard": [], "measure": []}  # reports[0]'s rows
        self._rules = _overdue_rules()
        moments = [stamp(report.known_at) for report in reports]
        self._parts: list[dict[str, list[tuple[int, str]]]] = [{"hazard": [], "measure": []} for _ in reports]
        # One object for each distinct set of fields (the texts are kept by it, and most submissions
        # hash the same fields).
        alike: dict[frozenset[str], frozenset[str]] = {}
        fields: list[dict[str, frozenset[str]]] = []
        for report in reports:
            named = report.digest_fields or digest_fields()
            fields.append({kind: alike.setdefault(frozenset(named[name]), frozenset(named[name]))
                           for kind, name in (("hazard", "hazards"), ("measure", "measures"))})
        by_campaign: dict[str | None, list[int]] = {}
        for index, report in enumerate(reports):
            by_campaign.setdefault(report.campaign, []).append(index)
        # Where each record goes in a campaign's list and in the list of all campaigns: by the rank of
        # its number, ties as Lists leaves them (its campaign's group, then the records' order) — as
        # one number each, its place among all records by that order.
        groups: dict[str, dict[str | None, int]] = {"hazard": {}, "measure": {}}
        found: list[tuple[str, str, str | None, int]] = []
        for index, (key, fold) in enumerate(folds.records.items()):
            final = fold.final()
            if final.kind is not None and final.kind.name in groups:
                groups[final.kind.name].setdefault(final.row.campaign, len(groups[final.kind.name]))
                found.append((key, final.kind.name, final.row.campaign, index))
        rank = {number: i for i, number in enumerate(store.collate(sorted({folds.numbers[f[0]] for f in found})))}
        own = {f[0]: (rank[folds.numbers[f[0]]], f[3]) for f in found}
        every = {f[0]: (rank[folds.numbers[f[0]]], groups[f[1]][f[2]], f[3]) for f in found}
        own_place = {key: place for place, key in enumerate(sorted(own, key=own.__getitem__))}
        every_place = {key: place for place, key in enumerate(sorted(every, key=every.__getitem__))}
        self._order = {key: (kind, campaign, own_place[key], every_place[key]) for key, kind, campaign, _ in found}
        # For each list a record can be in: its submissions, by recorded time — (as of, known at)
        # to fold the record at, whether of all campaigns, the fields hashed, where the rows go.
        self._takes: dict[tuple[str, str | None], tuple[list[str], list[tuple[date, str]], list[Any]]] = {}
        for kind, campaign in {(kind, campaign) for _, kind, campaign, _ in found}:
            indexes = sorted((*by_campaign.get(campaign, ()), *by_campaign.get(None, ())),
                             key=lambda i: (moments[i], i))
            self._takes[(kind, campaign)] = (
                [moments[i] for i in indexes], [(reports[i].as_of, moments[i]) for i in indexes],
                [(i, reports[i].as_of, reports[i].campaign is None, fields[i][kind], self._parts[i][kind])
                 for i in indexes])

    def add(self, key: str, fold: RecordFold) -> None:
        """One record's rows in every submission it is in."""
        order = self._order.get(key)
        if order is None:  # not a hazard or a measure
            return
        kind, campaign, own, every = order
        rule = self._rules[kind]
        moments, probes, takes = self._takes[(kind, campaign)]
        # submitted before the record was first recorded (known at a moment before its first event): not in it
        start = bisect_left(moments, fold.stamps[0])
        if start == len(moments):
            return
        rows: dict[tuple[Any, bool], Any] = {}  # (state, of all campaigns) → its row, None when not in the list
        variants: dict[tuple[Any, bool], Any] = {}  # (state, overdue) → the row as of a date
        texts: dict[tuple[Any, bool, frozenset[str]], str] = {}
        for (index, as_of, all_campaigns, fields, parts), state in zip(
                takes[start:], fold.keys_at(probes[start:]), strict=True):
            if state is None:  # not yet effective as of the date
                continue
            try:
                row = rows.get((state, all_campaigns), rows)
                if row is rows:
                    row = rows[(state, all_campaigns)] = self._row(fold.state(state), kind, all_campaigns, campaign)
                if row is None:
                    continue
                overdue = rule(row, as_of)
                text = texts.get((state, overdue, fields))
                if text is None or index == 0:
                    variant = variants.get((state, overdue))
                    if variant is None:
                        variant = variants[(state, overdue)] = (
                            row if row.overdue == overdue else row.model_copy(update={"overdue": overdue}))
                    if text is None:
                        text = texts[(state, overdue, fields)] = json.dumps(
                            variant.model_dump(mode="json", include=set(fields)), ensure_ascii=False,
                            sort_keys=True, separators=(",", ":"))
            except Exception:
                self.failed.add(index)
                continue
            place = every if all_campaigns else own
            parts.append((place, text))
            if index == 0:
                self.first[kind].append((place, variant))

    @staticmethod
    def _row(folded: Folded, kind: str, all_campaigns: bool, campaign: str | None) -> Any:
        """The state's row if a list of all campaigns (else of ``campaign``) holds it: a hazard
        withdrawn is left out."""
        if folded.kind is None:
            return None
        row = folded.row
        if (not all_campaigns and row.campaign != campaign) or (kind == "hazard" and row.status == "withdrawn"):
            return None
        return row

    def digest(self, index: int) -> str | None:
        """:class:`Digests` of the submission's lists (None when they could not be made)."""
        if index in self.failed:
            return None
        parts = self._parts[index]
        hazards = ",".join(text for _, text in sorted(parts["hazard"], key=itemgetter(0)))
        measures = ",".join(text for _, text in sorted(parts["measure"], key=itemgetter(0)))
        return hashlib.sha256(f'{{"hazards":[{hazards}],"measures":[{measures}]}}'.encode()).hexdigest()

    def first_lists(self) -> Any:
        """The first submission's lists, as :class:`Lists` gives them."""
        from .rows import TwoLists

        report = self.reports[0]
        return TwoLists(as_of=report.as_of, known_at=report.known_at,
                        hazards=tuple(row for _, row in sorted(self.first["hazard"], key=lambda part: part[0])),
                        measures=tuple(row for _, row in sorted(self.first["measure"], key=lambda part: part[0])))


# -- the view against the fold ----------------------------------------------------------------------


def _moment_text(moment: str) -> str:
    try:
        when = datetime.strptime(moment, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC).astimezone(CST)
    except ValueError:
        return moment
    return when.strftime("%Y-%m-%d %H:%M:%S.%f")


def view_problems(folds: Folds, view: Iterable[tuple[str, ViewRows]],
                  visit: Callable[[str, RecordFold], None] | None = None,
                  unlisted: dict[str, Any] | None = None) -> tuple[list[Problem], int]:
    """One problem per list (and per current / as known then) naming the records whose view rows are
    not the fold's, anywhere in effective date or recorded time; and how many rows were compared.
    The view is read record by record; each record's fold is let go once compared (``visit``: given
    each record's fold first). ``unlisted``: the records whose runs are not their rows' (by record,
    its kind and number: :func:`~qingdan.core.viewaudit.checking_listed`, filled as the view is read),
    named unless their rows are wrong (a rebuild writes the runs of the rows it writes)."""
    wrong: dict[tuple[str, str | None], list[str]] = {}
    unseen = folds.records  # emptied as the view is read
    count = 0

    def pairs() -> Iterator[tuple[str, RecordFold | None, ViewRows | None]]:
        nonlocal count
        for key, rows in view:
            count += len(rows.rows)
            yield key, unseen.pop(key, None), rows
        for key, fold in unseen.items():
            yield key, fold, None

    for key, fold, rows in pairs():
        if key in folds.failed:
            continue
        if visit is not None and fold is not None:
            visit(key, fold)
        where = differs_at(fold, rows)
        if where is False:
            continue
        if unlisted is not None:
            unlisted.pop(key, None)
        if fold is not None and fold.final().kind is not None:
            kind, number = fold.final().kind.name, folds.numbers[key]
        else:
            first = rows.rows[0][4] if rows is not None and rows.rows else (None, key)
            kind, number = first[0], first[1]
        wrong.setdefault((reference.LISTS.get(kind, str(kind)), where), []).append(number)
    for kind, number in (unlisted or {}).values():
        wrong.setdefault((reference.LISTS.get(kind, str(kind)), "runs"), []).append(str(number))
    problems = []
    for (name, where), numbers in sorted(wrong.items(), key=lambda item: (item[0][0], item[0][1] or "")):
        numbers.sort()
        more = f" 等 {len(numbers)} 条" if len(numbers) > 10 else ""
        if where == "runs":  # the view's rows are the fold's, the runs a page by offset counts are not
            problems.append(Problem(kind="view", number=numbers[0], message=(
                f"视图的翻页索引与视图行不一致（{name}）：{'、'.join(numbers[:10])}{more}；请运行 `qingdan rebuild`")))
            continue
        when = ("现在的清单" if where is None else "行无法读取" if where == ""
                else f"按 {_moment_text(where)} 时的登记")
        problems.append(Problem(
            kind="view", number=numbers[0],
            message=f"视图与事件重放不一致（{name}，{when}）：{'、'.join(numbers[:10])}{more}；请运行 `qingdan rebuild`"))
    return problems, count


def verify(src: Sources, *, dates: list[date] | None = None, seen: Seen | None = None,
           watch: Iterable[int] = ()) -> VerifyReport:
    """Check the hash chain, every submitted report's chain head and digest, and the whole view
    against the reference fold — all derived from the event log alone.

    Never raises on a database altered outside qingdan: whatever is wrong is a :class:`Problem`.
    The log is read and decoded once (:class:`LogScan`); the submissions are its report records'
    (not the view's): each one's chain head is compared with the chain at its position, and, when
    the log is what qingdan wrote, its digest with the digest of the lists folded from the log as of
    its ``(as_of, known_at)``. Then every view row is compared with the fold
    (:mod:`qingdan.core.viewaudit`): every record, every date interval, current and superseded rows,
    every column. ``dates`` is kept for callers: every date is compared.

    ``seen`` is filled with what an incremental check needs next time (:mod:`qingdan.core.incremental`);
    the scan notes the chain's hashes at the positions in ``watch``.
    """

    # Paused: a check builds the decoded log and its folds (millions of long-lived objects, none in
    # a reference cycle), and each full collection the growing heap triggers would walk them all
    # again — 10–20 % of a complete check, for nothing.
    with collector_paused():
        return _verify(src, dates, seen if seen is not None else Seen(), watch)


def _verify(src: Sources, dates: list[date] | None, seen: Seen, watch: Iterable[int]) -> VerifyReport:
    store = src.view.store
    scan = seen.scan = LogScan(src.log, store)
    scan.watch = set(watch)
    scan.run()
    problems = list(scan.problems) + attachment_problems(scan, store, seen.blobs)
    trusted = not any(p.kind in BROKEN for p in problems)
    if trusted:
        try:
            src.view.catch_up()
        except Exception as error:
            problems.append(Problem(kind="view", message=f"视图无法按事件日志更新（{brief(error)}）"))
            trusted = False
    if not trusted:
        # Reconstructions from a log that was tampered with prove nothing: only the chain heads the
        # decodable submissions recorded are compared.
        folds = fold_records(scan, None)
        problems += chain_problems(store, submissions(folds))
        return VerifyReport(events_checked=scan.checked, chain_head=chain_head(store), reports_checked=0,
                            dates_checked=(), problems=tuple(problems))

    with store.read_snapshot():
        position = store.position()
        return _compare(src, scan, problems, position, dates, seen)


def _same_digest(submitted: Submitted, digest: str | None, report: Any) -> bool:
    """Whether the digest assembled for the first submission is ``rows_digest`` of its lists."""
    from .queries import rows_digest

    try:
        return digest == rows_digest(submitted.first_lists(), report.digest_fields)
    except Exception:
        return False


def _digests_slow(src: Sources, position: int, reports: list[Any]) -> list[str | None]:
    """Every submission's digest the slow way: ``rows_digest`` of :class:`Lists`, from the log read
    and folded again (inside the same read snapshot)."""
    from .queries import rows_digest

    scan = LogScan(src.log, src.view.store)
    scan.run()
    lists = Lists(fold_records(scan, position), src.view.store)
    digests: list[str | None] = []
    for report in reports:
        try:
            digests.append(rows_digest(lists(report), report.digest_fields))
        except Exception:
            digests.append(None)
    return digests


def _compare(src: Sources, scan: LogScan, problems: list[Problem], position: int,
             dates: list[date] | None, seen: Seen) -> VerifyReport:
    """Inside the view's read snapshot at ``position``: the reports from the log, their heads and
    digests, and the whole view against the fold."""
    store = src.view.store
    if position > scan.position:  # the view has events the scan has not seen (written meanwhile)
        before = len(scan.problems)
        scan.run()
        problems += scan.problems[before:]
        if any(p.kind in BROKEN for p in scan.problems[before:]):
            return VerifyReport(events_checked=scan.checked, chain_head=chain_head(store), reports_checked=0,
                                dates_checked=(), problems=tuple(problems))
    end = src.log.max_position()
    if position > end:  # the view claims events the log does not hold: the next ones would be skipped
        problems.append(Problem(kind="view", position=position,
                                message=f"视图记录的位置 #{position} 超过事件日志的末尾 #{end}；请运行 `qingdan rebuild`"))
    head = chain_head(store, position)
    seen.position = position
    seen.last_recorded = max((event.timestamp for stream in scan.streams.values() for at, event in stream
                              if at <= position), default=None)
    folds = fold_records(scan, position)
    problems += folds.problems
    reports = submissions(folds)
    problems += chain_problems(store, reports)

    days = {day for fold in folds.records.values() for day in fold.ons} | set(dates or ())
    records = len(folds.records)
    scan.streams = {}  # the folds hold each record's events, and let them go once compared
    submitted = Submitted(folds, store, reports)

    def visit(key: str, fold: RecordFold) -> None:
        try:
            fold.prepare()  # every state it can be asked for, in order
        except Exception:
            pass  # built (and failing) one by one, as asked for
        submitted.add(key, fold)

    unlisted: dict[str, Any] = {}
    read = viewaudit.digesting(read_view(store), seen.records)
    found, rows = view_problems(folds, viewaudit.checking_listed(read, store, unlisted), visit, unlisted)
    digested = [submitted.digest(index) for index in range(len(reports))]
    # The assembled digest is rows_digest's (checked on the first submission); else, and when the
    # first submission's lists could not be made, every list is made again the slow way.
    if reports and (0 in submitted.failed or not _same_digest(submitted, digested[0], reports[0])):
        digested = _digests_slow(src, position, reports)
    for report, digest in zip(reports, digested, strict=True):
        if digest != report.digest:
            problems.append(Problem(
                kind="report", number=report.number,
                message=f"{_what(report)}报送时的清单摘要与现在按同一时点从事件日志重建的不一致"))
    return VerifyReport(events_checked=scan.checked, chain_head=head, reports_checked=len(reports),
                        dates_checked=tuple(sorted(days)), problems=tuple(problems + found),
                        records_checked=records, view_rows_checked=rows, events_decoded=scan.decoded,
                        records_folded=records, attachments_hashed=len(seen.blobs),
                        attachments_checked=len(seen.blobs))
