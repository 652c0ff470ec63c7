"""Queries over the materialised view: the 两个清单, statistics, the snapshot plugins read.

Every query takes ``as_of`` (the world at the end of that day) and ``known_at`` (only what had been
recorded by then; None = everything recorded so far).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from .kinds import BY_NAME
from .rows import (
    HazardRow,
    IndicatorReading,
    MeasureRow,
    ReportRow,
    TaskRow,
    TwoLists,
    UnitRow,
    digest_fields,
)
from .rules import OPEN_STATUSES, hazard_overdue, measure_overdue, task_overdue
from .spec import Snapshot
from .view import View, in_effect, spans


def _with_overdue_hazard(row: HazardRow, as_of: date) -> HazardRow:
    overdue = hazard_overdue(row.status, row.deadline, as_of)
    return row if overdue == row.overdue else row.model_copy(update={"overdue": overdue})


def _with_overdue_measure(row: MeasureRow, as_of: date) -> MeasureRow:
    overdue = measure_overdue(row.status, row.due, as_of)
    return row if overdue == row.overdue else row.model_copy(update={"overdue": overdue})


def with_overdue(row: Any, as_of: date) -> Any:
    """A row read from the view with its ``overdue`` as of ``as_of`` (the one field that changes
    with the date alone, within a version's interval)."""
    if isinstance(row, HazardRow):
        return _with_overdue_hazard(row, as_of)
    if isinstance(row, MeasureRow):
        return _with_overdue_measure(row, as_of)
    return row


#: rows read at once by a scan of a whole list (:meth:`LedgerSnapshot.each`)
PAGE_ROWS = 500
#: decoded rows a snapshot keeps for repeated reads (hazards, measures, units, reports together;
#: about 3.4 KB each, so about 680 MB), and the snapshots a ledger keeps together (``reading``
#: drops the older ones past it); a list that would take a snapshot past this is answered from the
#: view each time it is asked for, and kept by nobody: memory is bounded whatever the ledger's size.
#: A part of a list kept whole (one campaign's hazards, of all hazards) is taken from it and costs
#: no rows. The budget is the working set of the targets and checks of a city (915k events: 82,000
#: hazards, 20,000 units and the rest): under it each target and check reads the view again (at
#: 10,000 rows a county's took 929 ms instead of 276 ms; at 100,000 a city's 18.6 s instead of 3 s).
CACHE_ROWS = 200_000


class LedgerSnapshot(Snapshot):
    """The ledger as of ``(as_of, known_at)``, read from the view; results are cached per snapshot."""

    def __init__(self, view: View, catalogue: Any, as_of: date, known_at: datetime | None) -> None:
        self.view = view
        self.catalogue = catalogue
        self.as_of = as_of
        self.known_at = known_at
        self._cache: dict[Any, Any] = {}
        self._cached_rows = 0

    def _kept(self, key: Any, rows: tuple[Any, ...]) -> tuple[Any, ...]:
        """``rows``, remembered under ``key`` while the snapshot holds fewer than :data:`CACHE_ROWS`."""
        if self._cached_rows + len(rows) <= CACHE_ROWS:
            self._cache[key] = rows
            self._cached_rows += len(rows)
        return rows

    @staticmethod
    def _part(kind: str, whole: tuple[Any, ...], campaign: str | None, filters: dict[str, str | None],
              exclude_status: str | None, statuses: Sequence[str] | None = None) -> tuple[Any, ...]:
        """The rows of a list kept whole that the view would select with these filters, in its order:
        tested on the columns the view indexes each row by (the record kind's one rule for them)."""
        index = BY_NAME[kind].index
        wanted = {"campaign": campaign, **filters}

        def keep(row: Any) -> bool:
            columns = index(None, row)
            return all(value is None or columns[name] == value for name, value in wanted.items()) and (
                exclude_status is None or columns["status"] is None or columns["status"] != exclude_status) and (
                statuses is None or columns["status"] in statuses)

        return tuple(row for row in whole if keep(row))

    def _whole(self, kind: str) -> tuple[Any, ...] | None:
        """The whole list of ``kind`` (hazards, withdrawn ones too; measures) if this snapshot holds it."""
        return self._cache.get(("hazards", None, None, None, True, None, 0) if kind == "hazard"
                               else ("measures", None, None, None, 0))

    def counts(self, kind: str, columns: Sequence[str], campaign: str | None = None) -> dict[tuple[Any, ...], int]:
        """How many hazards or measures the lists hold for each combination of the values of these
        index ``columns`` (``status``, ``level``, ``campaign``, ``village``, ``department``): counted in
        the view, or in the whole list when this snapshot holds it (by the same rule for the columns)."""
        key = ("counts", kind, tuple(columns), campaign)
        if key in self._cache:
            return self._cache[key]
        whole = self._whole(kind)
        if whole is not None:
            index = BY_NAME[kind].index
            found: Counter[tuple[Any, ...]] = Counter()
            for row in self._part(kind, whole, campaign, {}, None):
                values = index(None, row)
                found[tuple(values[c] for c in columns)] += 1
            self._cache[key] = dict(found)
        else:
            self._cache[key] = {tuple(r[:-1]): int(r[-1])
                                for r in self.view.counts(kind, self.as_of, self.known_at, columns, campaign=campaign)}
        return self._cache[key]

    def _rows(self, kind: str, campaign: str | None = None, **options: Any) -> Iterator[Any]:
        decode = BY_NAME[kind].decode
        return (decode(state) for state in self._states(kind, campaign, **options))

    def _states(self, kind: str, campaign: str | None = None, *, page: tuple[int | None, int] = (None, 0),
                exclude_status: str | None = None, after: str | None = None,
                statuses: Sequence[str] | None = None, **filters: str | None) -> list[str]:
        return self.view.states(kind, self.as_of, self.known_at, campaign=campaign,
                                filters={k: v for k, v in filters.items() if v is not None},
                                exclude_status=exclude_status, limit=page[0], offset=page[1], after=after,
                                statuses=statuses)

    def hazards(self, campaign: str | None = None, *, village: str | None = None,
                department: str | None = None, include_withdrawn: bool = True,
                limit: int | None = None, offset: int = 0, after: str | None = None,
                statuses: Sequence[str] | None = None, level: str | None = None) -> Sequence[HazardRow]:
        """The 问题隐患清单 in number order (``limit``/``offset``: a page of it; ``after``: only the rows
        numbered after this one, a page read from an index seek however far down the list it is;
        ``statuses``: only the rows in one of these; ``level``: only this level)."""
        key = ("hazards", campaign, village, department, include_withdrawn, limit, offset) + (
            () if after is None else (after,)) + (() if statuses is None and level is None
                                                  else (None if statuses is None else tuple(statuses), level))
        if key in self._cache:
            return self._cache[key]
        whole = self._whole("hazard")
        if whole is not None and limit is None and not offset and after is None:
            self._cache[key] = self._part("hazard", whole, campaign,
                                          {"village": village, "department": department, "level": level},
                                          None if include_withdrawn else "withdrawn", statuses)
            return self._cache[key]
        return self._kept(key, tuple(
            _with_overdue_hazard(row, self.as_of)
            for row in self._rows("hazard", campaign, village=village, department=department, level=level,
                                  exclude_status=None if include_withdrawn else "withdrawn",
                                  page=(limit, offset), after=after, statuses=statuses)))

    def count(self, kind: str, campaign: str | None = None, *, exclude_status: str | None = None,
              statuses: Sequence[str] | None = None, **filters: str | None) -> int:
        """How many records of ``kind`` the lists hold, counted in the view (nothing decoded)."""
        cached = self._whole(kind)
        filters = {k: v for k, v in filters.items() if v is not None}
        if cached is not None and not filters and campaign is None and exclude_status is None and statuses is None:
            return len(cached)
        return int(self.view.states(kind, self.as_of, self.known_at, campaign=campaign, filters=filters,
                                    exclude_status=exclude_status, statuses=statuses, count=True)[0])

    def each(self, kind: str, numbers: Sequence[str] | None = None) -> Iterator[Any]:
        """Every hazard (``kind`` ``"hazard"``) or measure, withdrawn ones too, in number order, read
        :data:`PAGE_ROWS` at a time and kept by nobody (``numbers``: only these): what a scan of a
        whole ledger holds in memory is one page, whatever the ledger's size."""
        fix = _with_overdue_hazard if kind == "hazard" else _with_overdue_measure
        decode = BY_NAME[kind].decode
        if numbers is not None:
            wanted = sorted(set(numbers))
            for i in range(0, len(wanted), PAGE_ROWS):
                for state in self.view.states(kind, self.as_of, self.known_at, numbers=wanted[i:i + PAGE_ROWS]):
                    yield fix(decode(state), self.as_of)
            return
        after: str | None = None
        while True:
            states = self.view.states(kind, self.as_of, self.known_at, limit=PAGE_ROWS, after=after)
            rows = [fix(decode(state), self.as_of) for state in states]
            yield from rows
            if len(states) < PAGE_ROWS:
                return
            after = rows[-1].number

    def measures(self, campaign: str | None = None, *, department: str | None = None,
                 limit: int | None = None, offset: int = 0, after: str | None = None,
                 statuses: Sequence[str] | None = None) -> Sequence[MeasureRow]:
        """The 制度措施清单 in number order (``limit``, ``offset``, ``after``, ``statuses``: as for
        :meth:`hazards`)."""
        key = ("measures", campaign, department, limit, offset) + (() if after is None else (after,)) + (
            () if statuses is None else ("statuses", tuple(statuses)))
        if key in self._cache:
            return self._cache[key]
        whole = self._whole("measure")
        if whole is not None and limit is None and not offset and after is None:
            self._cache[key] = self._part("measure", whole, campaign, {"department": department}, None, statuses)
            return self._cache[key]
        return self._kept(key, tuple(
            _with_overdue_measure(row, self.as_of)
            for row in self._rows("measure", campaign, department=department, page=(limit, offset),
                                  after=after, statuses=statuses)))

    def tasks(self, campaign: str | None = None) -> Sequence[TaskRow]:
        key = ("tasks", campaign)
        if key not in self._cache:
            progress = dict(self._rows("task", campaign))
            rows = []
            for spec in self.catalogue.tasks_of(campaign):
                if spec.recurrence is None:
                    periods: list[tuple[str | None, Any]] = [(None, spec.due)]
                else:
                    of = self.catalogue.campaigns[spec.campaign]
                    periods = list(spec.periods(of.start, of.end, self.as_of))
                for period, due in periods:
                    number = spec.id if period is None else f"{spec.id}@{period}"
                    data = progress.get(number, {"status": "not_started"})
                    rows.append(TaskRow(
                        id=spec.id, campaign=spec.campaign, title=spec.title,
                        lead_departments=spec.lead_departments, departments=spec.departments,
                        responsible_departments=spec.responsible_departments, inferred=spec.inferred,
                        recurrence=spec.recurrence, period=period,
                        due=due, source=spec.source, **data,
                        overdue=task_overdue(data["status"], due, self.as_of)))
            self._cache[key] = tuple(rows)
        return self._cache[key]

    def units(self, kind: str | None = None, **attributes: Any) -> Sequence[UnitRow]:
        rows = [u for u in self.all_units() if u.closed_on is None]
        if kind is not None:
            rows = [u for u in rows if u.kind == kind]
        for name, value in attributes.items():
            rows = [u for u in rows if u.attributes.get(name) == value]
        return rows

    def all_units(self) -> Sequence[UnitRow]:
        """Units including those closed by ``as_of``."""
        if "all" in self._cache:
            return self._cache["all"]
        return self._kept("all", tuple(self._rows("unit")))

    def indicator(self, target_id: str) -> IndicatorReading | None:
        if "indicators" not in self._cache:
            self._cache["indicators"] = {
                reading.target_id: reading for reading in self._rows("indicator") if reading is not None}
        return self._cache["indicators"].get(target_id)

    def reports(self) -> Sequence[ReportRow]:
        if "reports" in self._cache:
            return self._cache["reports"]
        return self._kept("reports", tuple(row for rows in self._rows("report") for row in rows))


def two_lists(snapshot: LedgerSnapshot, *, campaign: str | None = None, department: str | None = None,
              village: str | None = None, include_withdrawn: bool = False,
              limit: int | None = None, offset: int = 0, after: str | None = None) -> TwoLists:
    hazards = snapshot.hazards(campaign, village=village, department=department,
                               include_withdrawn=include_withdrawn, limit=limit, offset=offset, after=after)
    measures = () if village is not None else snapshot.measures(
        campaign, department=department, limit=limit, offset=offset, after=after)
    return TwoLists(as_of=snapshot.as_of, known_at=snapshot.known_at, hazards=tuple(hazards),
                    measures=tuple(measures))


class Stats(BaseModel):
    """The figures of the 两个清单 as of a date."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    as_of: date
    known_at: datetime | None
    hazards_found: int
    hazards_withdrawn: int
    hazards_closed: int
    rectification_rate: float | None  # 整改率 = closed ÷ (found − withdrawn)
    major_open: int
    major_overdue: int
    overdue: int
    by_campaign: dict[str, int]
    by_level: dict[str, int]
    by_status: dict[str, int]
    measures_by_status: dict[str, int]


def stats(snapshot: LedgerSnapshot, campaign: str | None = None) -> Stats:
    """The figures of the two lists. Counted in the view by status, level and campaign; only the
    hazards that can be overdue (:data:`OPEN_STATUSES`) are read, to apply the overdue rule to them
    (a month's figures for a county: 13,000 rows decoded before, a few hundred now)."""
    counted = snapshot.counts("hazard", ("status", "level", "campaign"), campaign)
    by_status: Counter[str] = Counter()
    by_level: Counter[str] = Counter()
    by_campaign: Counter[str] = Counter()
    major_open = 0
    for (status, level, of), n in counted.items():
        by_status[status] += n
        if status != "withdrawn":
            by_level[level] += n
            by_campaign[of] += n
            major_open += n if level == "重大" and status != "closed" else 0
    found, withdrawn, closed = sum(by_status.values()), by_status["withdrawn"], by_status["closed"]
    overdue = [h for h in snapshot.hazards(campaign, statuses=OPEN_STATUSES) if h.overdue]
    measures: Counter[str] = Counter()
    for (status,), n in snapshot.counts("measure", ("status",), campaign).items():
        measures[status] += n
    return Stats(
        as_of=snapshot.as_of, known_at=snapshot.known_at, hazards_found=found,
        hazards_withdrawn=withdrawn, hazards_closed=closed,
        rectification_rate=(closed / (found - withdrawn)) if found - withdrawn else None,
        major_open=major_open, major_overdue=sum(h.level == "重大" for h in overdue), overdue=len(overdue),
        by_campaign=dict(sorted((k, v) for k, v in by_campaign.items() if v)),
        by_level=dict(sorted((k, v) for k, v in by_level.items() if v)),
        by_status=dict(sorted((k, v) for k, v in by_status.items() if v)),
        measures_by_status=dict(sorted((k, v) for k, v in measures.items() if v)),
    )


class Trend(BaseModel):
    """The hazards by status and how many are overdue as of one date, as :func:`stats` counts them."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    as_of: date
    by_status: dict[str, int]
    overdue: int


def trend(view: View, days: Sequence[date], known_at: datetime | None, campaign: str | None = None) -> list[Trend]:
    """:class:`Trend` as of each of ``days``, from one read of the hazards' rows (each counted on
    the days it is in effect; the rows that can be overdue decoded once, the overdue rule applied
    to them on each of their days) — what :func:`stats` gives for each day, for a chart of months."""
    ordered = sorted(set(days))
    texts = [day.isoformat() for day in ordered]
    by_status: list[Counter[str]] = [Counter() for _ in ordered]
    overdue = [0] * len(ordered)
    decode = BY_NAME["hazard"].decode
    for status, valid_from, valid_to, state in spans(view, "hazard", known_at, campaign, OPEN_STATUSES):
        on = in_effect(valid_from, valid_to, texts)
        for i in on:
            by_status[i][status] += 1
        if state is not None and on:
            deadline = decode(state).deadline
            for i in on:
                overdue[i] += hazard_overdue(status, deadline, ordered[i])
    at = {day: i for i, day in enumerate(ordered)}
    return [Trend(as_of=day, by_status=dict(sorted((k, v) for k, v in by_status[at[day]].items() if v)),
                  overdue=overdue[at[day]]) for day in days]


def rows_digest(lists: TwoLists, fields: Mapping[str, Sequence[str]] | None = None) -> str:
    """A digest of the rows handed in: sha256 of their canonical JSON, hazards then measures.

    ``fields``: the fields of each list to hash (default: all of today's, :func:`digest_fields`); a
    submission records them, so its digest is recomputed over the same fields whatever is added later.
    """
    fields = fields or digest_fields()
    hazards, measures = set(fields["hazards"]), set(fields["measures"])
    payload = {
        "hazards": [h.model_dump(mode="json", include=hazards) for h in lists.hazards],
        "measures": [m.model_dump(mode="json", include=measures) for m in lists.measures],
    }
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class FieldChange(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    field: str
    before: Any
    after: Any


class RowDifference(BaseModel):
    """One row of the 回头看 audit: a row added, changed or removed since the submission."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    list: str  # "hazards" | "measures"
    number: str
    change: str  # "added" | "changed" | "removed"
    fields: tuple[FieldChange, ...] = ()
    events: tuple[dict[str, Any], ...] = ()


class ReportDiff(BaseModel):
    """What the submitted lists said versus what is now known for the same ``as_of``."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    report: ReportRow
    digest_matches: bool
    differences: tuple[RowDifference, ...]


def compare_lists(then: TwoLists, now: TwoLists) -> list[tuple[str, str, str, list[FieldChange]]]:
    """(list, number, change, fields) for every row that differs between two versions of the lists."""
    out: list[tuple[str, str, str, list[FieldChange]]] = []
    for name in ("hazards", "measures"):
        before = {r.number: r.model_dump() for r in getattr(then, name)}
        after = {r.number: r.model_dump() for r in getattr(now, name)}
        for number in sorted(before.keys() | after.keys()):
            if number not in before:
                out.append((name, number, "added", []))
            elif number not in after:
                out.append((name, number, "removed", []))
            elif before[number] != after[number]:
                fields = [FieldChange(field=k, before=before[number][k], after=after[number][k])
                          for k in before[number] if before[number][k] != after[number][k]]
                out.append((name, number, "changed", fields))
    return out
