"""The reference semantics of DESIGN §3, kept small so it is obviously right.

The state of an aggregate as of ``(D, T)`` is the fold, in recording order, of its events recorded at
or before ``T`` whose effective date is on or before ``D``. Every projection must agree with
:func:`fold`; the property tests compare them on random histories.

The row builders here (``hazard_row`` …) turn a folded aggregate into the public row models; the
materialised view uses the same builders, so there is one definition of every derived field.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

from .domain import Hazard, Indicator, Measure, Record, Task, Unit
from .rows import HazardRow, IndicatorReading, MeasureRow, UnitRow


def fold(events: Iterable[Record.Event], as_of: date | None = None,
         known_at: datetime | None = None) -> Record | None:
    """Fold an aggregate's events (in recording order) as of ``as_of``, known at ``known_at``.

    Returns None when the aggregate did not exist yet: its first event, whose date is the earliest
    of its history by the command rules, is not yet effective or not yet recorded.
    """
    aggregate: Any = None
    for event in events:
        if known_at is not None and event.timestamp > known_at:
            break  # recorded times never go backwards within an aggregate
        if as_of is not None and event.on > as_of:
            if aggregate is None:
                return None
            continue
        if aggregate is None:
            aggregate = event.mutate(None)
        else:
            event.apply(aggregate)
            aggregate._version = event.originator_version
            aggregate._modified_on = event.timestamp
    return aggregate


def hazard_row(h: Hazard, as_of: date) -> HazardRow:
    missing = h.missing_parts()
    return HazardRow(
        number=h.number, campaign=h.campaign, unit=h.unit, unit_number=h.unit_number,
        village=h.village, location=h.location, category=h.category, level=h.level,
        source=h.source, found_on=h.found_on, inspectors=tuple(h.inspectors),
        description=h.description, responsible_unit=h.responsible_unit,
        responsible_person=h.responsible_person, measures=h.measures, funds=h.funds,
        deadline=h.deadline, contingency=h.contingency, escalated=h.escalated,
        escalation_level=h.escalation_level, supervisor=h.supervisor,
        escalation_doc_no=h.escalation_doc_no, extension_pending=h.extension_pending,
        status=h.status, overdue=h.is_overdue(as_of), five_in_place=not missing,
        missing_parts=missing, completed_on=h.completed_on, cost=h.cost,
        verified_on=h.verified_on, closed_on=h.closed_on, withdrawn_on=h.withdrawn_on,
        reopened=h.reopened, note=h.note,
    )


def measure_row(m: Measure, as_of: date) -> MeasureRow:
    return MeasureRow(
        number=m.number, campaign=m.campaign, title=m.title, kind=m.kind,
        department=m.department, due=m.due, added_on=m.added_on, status=m.status,
        doc_no=m.doc_no, issued_on=m.issued_on, implemented_on=m.implemented_on,
        repealed_on=m.repealed_on, revisions=m.revisions, overdue=m.is_overdue(as_of),
    )


def unit_row(u: Unit) -> UnitRow:
    return UnitRow(
        number=u.number, name=u.name, kind=u.kind, village=u.village,
        credit_code=u.credit_code, attributes=dict(u.attributes),
        registered_on=u.registered_on, closed_on=u.closed_on,
    )


def task_state(t: Task | None) -> dict[str, Any]:
    """The ledger part of a task row (the plugin supplies title, departments and due)."""
    if t is None:
        return {"status": "not_started"}
    return {
        "status": t.status, "percent": t.percent, "last_progress": t.last_progress,
        "last_progress_on": t.last_progress_on, "completed_on": t.completed_on,
    }


def indicator_reading(i: Indicator | None) -> IndicatorReading | None:
    if i is None:
        return None
    latest = i.latest()
    if latest is None:
        return None
    on, value, recorded_at, actor = latest
    return IndicatorReading(target_id=i.number, value=value, on=on, recorded_at=recorded_at,
                            actor=actor)



def load_streams(app: Any) -> dict[Any, list[Any]]:
    """Every record's events, read page by page from the log (the naive path: all in memory)."""
    streams: dict[Any, list[Any]] = {}
    position = 0
    while True:
        batch = app.recorder.select_notifications(start=position + 1, limit=1000)
        if not batch:
            break
        for notification in batch:
            streams.setdefault(notification.originator_id, []).append(
                app.mapper.to_domain_event(notification))
        position = batch[-1].id
    for events in streams.values():
        events.sort(key=lambda e: e.originator_version)
    return streams


def fold_streams(streams: dict[Any, list[Any]], as_of: date,
                 known_at: datetime | None = None) -> dict[str, list[Any]]:
    """Fold every record as of ``(as_of, known_at)`` into rows by kind: hazards, measures, units
    (including closed), tasks (ledger state by task id), indicators (readings), reports."""
    from .view import report_rows

    out: dict[str, list[Any]] = {"hazards": [], "measures": [], "units": [], "tasks": [],
                                 "indicators": [], "reports": []}
    for events in streams.values():
        aggregate = fold(events, as_of, known_at)
        if aggregate is None:
            continue
        if isinstance(aggregate, Hazard):
            out["hazards"].append(hazard_row(aggregate, as_of))
        elif isinstance(aggregate, Measure):
            out["measures"].append(measure_row(aggregate, as_of))
        elif isinstance(aggregate, Unit):
            out["units"].append(unit_row(aggregate))
        elif isinstance(aggregate, Task):
            out["tasks"].append((aggregate.number, task_state(aggregate)))
        elif isinstance(aggregate, Indicator):
            reading = indicator_reading(aggregate)
            if reading is not None:
                out["indicators"].append(reading)
        else:
            out["reports"].extend(report_rows(aggregate))
    for rows in out.values():
        rows.sort(key=lambda r: r[0] if isinstance(r, tuple) else getattr(r, "number", getattr(r, "target_id", "")))
    return out


def fold_all(app: Any, as_of: date, known_at: datetime | None = None) -> dict[str, list[Any]]:
    """The naive answer: read the whole log and fold every record as of ``(as_of, known_at)``.

    Slow by design — it is what the materialised view must agree with, and the baseline the
    benchmarks compare against.
    """
    return fold_streams(load_streams(app), as_of, known_at)


def fold_probes(events: list[Any], probes: list[tuple[date, datetime | None]]
                ) -> Iterator[tuple[Record, list[int]]]:
    """``fold(events, as_of, known_at)`` at every probe ``(as_of, known_at)``, each distinct state once.

    Yields ``(aggregate, indexes)``: a state and the indexes of the probes at which the record is in
    it (probes where it does not exist yet are left out). The aggregate is the running state and is
    changed after the next item is asked for: use it (build its rows) before moving on.

    Same answers as calling :func:`fold` per probe: a probe's state is the fold, in recording order,
    of the events recorded up to the first one after ``known_at`` whose date is on or before
    ``as_of`` (none when the first event is not yet effective). Each distinct set of events is folded
    once, by applying the newly included events to the previous state when they all come after it
    in recording order (the usual case), from scratch otherwise.
    """
    count = len(events)
    ons = [e.on for e in events]
    stamps = [e.timestamp for e in events]
    in_date_order = all(ons[i] <= ons[i + 1] for i in range(count - 1))
    in_time_order = all(stamps[i] <= stamps[i + 1] for i in range(count - 1))
    first_on, last_on, last_stamp = ons[0], ons[-1], stamps[-1]
    groups: dict[Any, list[int]] = {}
    for index, (as_of, known_at) in enumerate(probes):
        if as_of < first_on:
            continue
        if known_at is None or (in_time_order and known_at >= last_stamp):
            known = count
        elif in_time_order:
            known = bisect_right(stamps, known_at)
        else:  # fold stops at the first event recorded after known_at
            known = next((i for i, s in enumerate(stamps) if s > known_at), count)
        if known == 0:
            continue
        if in_date_order:
            key: Any = known if as_of >= last_on else min(known, bisect_right(ons, as_of))
        else:
            key = tuple(i for i in range(known) if ons[i] <= as_of)
        groups.setdefault(key, []).append(index)
    aggregate: Any = None
    applied: tuple[int, ...] = ()
    for key in sorted(groups) if in_date_order else sorted(groups, key=lambda k: (len(k), k)):
        included = tuple(range(key)) if isinstance(key, int) else key
        if aggregate is not None and included[:len(applied)] == applied:
            fresh = included[len(applied):]
        else:
            aggregate, fresh = None, included
        for i in fresh:
            event = events[i]
            if aggregate is None:
                aggregate = event.mutate(None)
            else:
                event.apply(aggregate)
                aggregate._version = event.originator_version
                aggregate._modified_on = event.timestamp
        applied = included
        yield aggregate, groups[key]
