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
from .rules import hazard_overdue, measure_overdue, task_overdue
from .spec import Snapshot
from .view import View


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
              exclude_status: str | None) -> tuple[Any, ...]:
        """The rows of a list kept whole that the view would select with these filters, in its order:
        tested on the columns the view indexes each row by (the record kind's one rule for them)."""
        index = BY_NAME[kind].index
        wanted = {"campaign": campaign, **filters}

        def keep(row: Any) -> bool:
            columns = index(None, row)
            return all(value is None or columns[name] == value for name, value in wanted.items()) and (
                exclude_status is None or columns["status"] is None or columns["status"] != exclude_status)

        return tuple(row for row in whole if keep(row))

    def _rows(self, kind: str, campaign: str | None = None, **options: Any) -> Iterator[Any]:
        decode = BY_NAME[kind].decode
        return (decode(state) for state in self._states(kind, campaign, **options))

    def _states(self, kind: str, campaign: str | None = None, *, page: tuple[int | None, int] = (None, 0),
                exclude_status: str | None = None, after: str | None = None, **filters: str | None) -> list[str]:
        return self.view.states(kind, self.as_of, self.known_at, campaign=campaign,
                                filters={k: v for k, v in filters.items() if v is not None},
                                exclude_status=exclude_status, limit=page[0], offset=page[1], after=after)

    def hazards(self, campaign: str | None = None, *, village: str | None = None,
                department: str | None = None, include_withdrawn: bool = True,
                limit: int | None = None, offset: int = 0, after: str | None = None) -> Sequence[HazardRow]:
        """The 问题隐患清单 in number order (``limit``/``offset``: a page of it; ``after``: only the rows
        numbered after this one, a page read from an index seek however far down the list it is)."""
        key = ("hazards", campaign, village, department, include_withdrawn, limit, offset) + (
            () if after is None else (after,))
        if key in self._cache:
            return self._cache[key]
        whole = self._cache.get(("hazards", None, None, None, True, None, 0))
        if whole is not None and limit is None and not offset and after is None:
            self._cache[key] = self._part("hazard", whole, campaign, {"village": village, "department": department},
                                          None if include_withdrawn else "withdrawn")
            return self._cache[key]
        return self._kept(key, tuple(
            _with_overdue_hazard(row, self.as_of)
            for row in self._rows("hazard", campaign, village=village, department=department,
                                  exclude_status=None if include_withdrawn else "withdrawn",
                                  page=(limit, offset), after=after)))

    def count(self, kind: str, campaign: str | None = None, *, exclude_status: str | None = None,
              **filters: str | None) -> int:
        """How many records of ``kind`` the lists hold, counted in the view (nothing decoded)."""
        cached = self._cache.get(("hazards", None, None, None, True, None, 0) if kind == "hazard"
                                 else ("measures", None, None, None, 0))
        if cached is not None and not filters and campaign is None and exclude_status is None:
            return len(cached)
        return int(self.view.states(kind, self.as_of, self.known_at, campaign=campaign,
                                    filters={k: v for k, v in filters.items() if v is not None},
                                    exclude_status=exclude_status, count=True)[0])

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
                 limit: int | None = None, offset: int = 0, after: str | None = None) -> Sequence[MeasureRow]:
        """The 制度措施清单 in number order (``limit``, ``offset``, ``after``: as for :meth:`hazards`)."""
        key = ("measures", campaign, department, limit, offset) + (() if after is None else (after,))
        if key in self._cache:
            return self._cache[key]
        whole = self._cache.get(("measures", None, None, None, 0))
        if whole is not None and limit is None and not offset and after is None:
            self._cache[key] = self._part("measure", whole, campaign, {"department": department}, None)
            return self._cache[key]
        return self._kept(key, tuple(
            _with_overdue_measure(row, self.as_of)
            for row in self._rows("measure", campaign, department=department, page=(limit, offset),
                                  after=after)))

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
    hazards = snapshot.hazards(campaign)
    found = len(hazards)
    withdrawn = sum(h.status == "withdrawn" for h in hazards)
    closed = sum(h.status == "closed" for h in hazards)
    live = [h for h in hazards if h.status != "withdrawn"]
    major_open = [h for h in live if h.level == "重大" and h.status != "closed"]
    return Stats(
        as_of=snapshot.as_of, known_at=snapshot.known_at, hazards_found=found,
        hazards_withdrawn=withdrawn, hazards_closed=closed,
        rectification_rate=(closed / (found - withdrawn)) if found - withdrawn else None,
        major_open=len(major_open), major_overdue=sum(h.overdue for h in major_open),
        overdue=sum(h.overdue for h in live),
        by_campaign=dict(sorted(Counter(h.campaign for h in live).items())),
        by_level=dict(sorted(Counter(h.level for h in live).items())),
        by_status=dict(sorted(Counter(h.status for h in hazards).items())),
        measures_by_status=dict(sorted(Counter(m.status for m in snapshot.measures(campaign)).items())),
    )


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
