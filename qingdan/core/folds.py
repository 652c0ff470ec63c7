"""The log's records, folded for ``verify``: each record's :class:`RecordFold`, the submissions the
report records hold, and the 两个清单 of every submission assembled from the fold (:class:`Lists`, the
slow and obvious way; :class:`Submitted`, record by record while the view is compared).

Everything here is derived from the decoded log (:class:`~qingdan.core.logscan.LogScan`) alone.
"""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from typing import Any

from eventsourcing.utils import resolve_topic

from .kinds import kind_of_class
from .logscan import LogScan, Problem, brief
from .view import stamp
from .viewaudit import Folded, RecordFold

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



# -- the records of the log, folded -----------------------------------------------------------------


@dataclass
class Folds:
    """Every record of the log up to the view's position, ready to fold (by record id, the view's text),
    and the records whose events cannot be folded (named as problems).

    ``identities``: each record's kind, campaign and number — as its final state has them
    (:func:`fold_records`), or as its first event created it (:func:`gather_records`: the record is
    folded only when the view is compared, and :meth:`Submitted.add` checks that its final state
    agrees). ``positions``: each record's events' log positions, to name the one that cannot be folded."""

    records: dict[str, RecordFold]
    numbers: dict[str, str]
    problems: list[Problem]
    failed: set[str]
    identities: dict[str, tuple[str | None, Any, Any]] = field(default_factory=dict)
    positions: dict[str, list[int]] = field(default_factory=dict)

    def folded(self, key: str, fold: RecordFold | None = None) -> bool:
        """Fold the record (its final state) if it has not been; False, the record named as a problem
        and left out from then on, when its events cannot be folded. ``fold``: the record's, when
        no longer in :attr:`records` (the comparison takes each one out as it goes)."""
        fold = fold or self.records.get(key)
        if fold is None or key in self.failed:
            return key not in self.failed
        try:
            fold.final()
        except Exception as error:
            self.fail(key, fold.events, self.positions.get(key) or [0] * len(fold.events), error)
            return False
        return True

    def half(self, keys: Iterable[str]) -> Folds:
        """The same, of these records only, taken out of this one (each half of a check compares its
        own, and lets each record go once compared)."""
        return Folds({key: self.records.pop(key) for key in keys}, self.numbers, [], set(self.failed),
                     self.identities, self.positions)

    def fail(self, key: str, events: list[Any], positions: list[int], error: BaseException) -> None:
        number = self.numbers.get(key) or getattr(events[0], "number", None) or key
        where = _failing_event(list(zip(positions, events, strict=True)))
        self.failed.add(key)
        self.problems.append(Problem(
            kind="tampered", position=where, number=number,
            message=f"记录 {number} 的事件无法重放（{brief(error)}）：自事件 #{where} 起的记录被改动"))


def _streams(scan: LogScan, upto: int | None) -> Iterator[tuple[Any, list[tuple[int, Any]]]]:
    """Each record's decoded events at or before ``upto``, in version order."""
    for originator_id, items in scan.streams.items():
        items = sorted((item for item in items if upto is None or item[0] <= upto),
                       key=lambda item: item[1].originator_version)
        if items:
            yield originator_id, items


def fold_records(scan: LogScan, upto: int | None) -> Folds:
    """A :class:`RecordFold` for every record the scan decoded, of its events at or before ``upto``;
    each one folded with all its events once, to name those that cannot be (as tampered)."""
    folds = Folds({}, {}, [], set())
    for originator_id, items in _streams(scan, upto):
        key = str(originator_id)
        events = [event for _, event in items]
        fold = RecordFold(events)
        try:
            final = fold.final()
        except Exception as error:
            folds.numbers[key] = scan.number(originator_id) or getattr(events[0], "number", None) or key
            folds.fail(key, events, [position for position, _ in items], error)
            continue
        folds.records[key] = fold
        number = getattr(final.row, "number", None) if final.kind is not None else None
        number = folds.numbers[key] = (number or (final.value[1] if final.value else None)
                                       or getattr(events[0], "number", key))
        folds.identities[key] = identity(final, number)
    return folds


def identity(final: Folded, number: Any) -> tuple[str | None, Any, Any]:
    """A folded record's kind, campaign and number."""
    if final.kind is None:
        return None, None, number
    return final.kind.name, getattr(final.row, "campaign", None), number


def gather_records(scan: LogScan, upto: int | None) -> Folds:
    """:func:`fold_records` without folding: each record's kind, campaign and number as its first
    event created it, its events ready to fold as the view is compared (a record is folded once, in
    that pass, instead of a first time here for its final state). The report records are folded
    here: the submissions are needed before the pass."""
    folds = Folds({}, {}, [], set())
    for originator_id, items in _streams(scan, upto):
        key = str(originator_id)
        events = [event for _, event in items]
        folds.records[key] = RecordFold(events)
        folds.positions[key] = [position for position, _ in items]
        first = events[0]
        number = folds.numbers[key] = getattr(first, "number", None) or key
        folds.identities[key] = (_created_kind(first), getattr(first, "campaign", None), number)
    for key, (kind, _, _) in list(folds.identities.items()):
        if kind == "report" and folds.folded(key):
            folds.identities[key] = identity(folds.records[key].final(), folds.numbers[key])
    return folds


def _created_kind(event: Any) -> str | None:
    """The kind of record an event creates (None: it creates none the view holds)."""
    topic = getattr(event, "originator_topic", None)
    if not isinstance(topic, str):
        return None
    try:
        return kind_of_class(resolve_topic(topic)).name
    except Exception:
        return None


def submissions(folds: Folds) -> list[Any]:
    """Every submission, as the log's report records say (each record's submissions in order)."""
    out = []
    for key, (kind, _, _) in folds.identities.items():
        if kind == "report" and key not in folds.failed:
            out.extend(folds.records[key].final().row)
    return sorted(out, key=lambda r: (r.number, r.submission))


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
        self._identities = folds.identities
        self.misplaced = False  # a record's final state is not the kind, campaign or number it was placed by
        for index, key in enumerate(folds.records):
            kind, campaign, _ = folds.identities[key]
            if kind in groups:
                groups[kind].setdefault(campaign, len(groups[kind]))
                found.append((key, kind, campaign, index))
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
        final = fold.final()
        kind = final.kind.name if final.kind is not None else None
        if (order is not None or kind in self.first) and self._identities.get(key) != (
                kind, getattr(final.row, "campaign", None), getattr(final.row, "number", None)):
            self.misplaced = True  # placed by what its first event said, which its final state is not
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

    def taken(self) -> tuple[Any, ...]:
        """What :meth:`add` has placed so far (for :meth:`merge` in another process's copy)."""
        return self._parts, self.first, self.failed, self.misplaced

    def merge(self, taken: tuple[Any, ...]) -> None:
        """Take in what another copy of this object placed (its records are none of this one's)."""
        parts, first, failed, misplaced = taken
        for mine, theirs in zip(self._parts, parts, strict=True):
            for kind, placed in theirs.items():
                mine[kind].extend(placed)
        for kind, placed in first.items():
            self.first[kind].extend(placed)
        self.failed |= failed
        self.misplaced = self.misplaced or misplaced

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


