"""The reference semantics of the two time axes (docs/architecture.md, "Time"), kept small so it is obviously right.

The state of an aggregate as of ``(D, T)`` is the fold, in recording order, of its events recorded at
or before ``T`` whose effective date is on or before ``D``. Every projection must agree with
:func:`fold`; the property tests compare them on random histories.

The row builders (``hazard_row`` …, in :mod:`qingdan.core.kinds`) turn a folded aggregate into the
public row models; the materialised view uses the same builders, so there is one definition of every
derived field.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from .eventlog import EventLog
from .kinds import (  # noqa: F401  (the row builders' old home)
    hazard_row,
    indicator_reading,
    kind_of,
    measure_row,
    task_state,
    unit_row,
)

if TYPE_CHECKING:
    from .base import Record


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
        aggregate = step(aggregate, event)
    return aggregate


def step(aggregate: Any, event: Any) -> Any:
    """The state after one more event (the first event creates it), as eventsourcing folds it."""
    if aggregate is None:
        return event.mutate(None)
    event.apply(aggregate)
    aggregate._version = event.originator_version
    aggregate._modified_on = event.timestamp
    return aggregate


def load_streams(source: Any) -> dict[Any, list[Any]]:
    """Every record's events, read page by page from the log (the naive path: all in memory).

    ``source``: an :class:`~qingdan.core.eventlog.EventLog`, or an eventsourcing application.
    """
    log = source if isinstance(source, EventLog) else EventLog(source)
    streams: dict[Any, list[Any]] = {}
    for notification, event in log.events():
        streams.setdefault(notification.originator_id, []).append(event)
    for events in streams.values():
        events.sort(key=lambda e: e.originator_version)
    return streams


#: How :func:`fold_streams` names each kind's list.
LISTS = {"hazard": "hazards", "measure": "measures", "unit": "units", "task": "tasks",
         "indicator": "indicators", "report": "reports", "policy": "policies"}


def fold_streams(streams: dict[Any, list[Any]], as_of: date,
                 known_at: datetime | None = None) -> dict[str, list[Any]]:
    """Fold every record as of ``(as_of, known_at)`` into rows by kind: hazards, measures, units
    (including closed), tasks (ledger state by task id), indicators (readings), reports."""
    out: dict[str, list[Any]] = {name: [] for name in LISTS.values()}
    for events in streams.values():
        aggregate = fold(events, as_of, known_at)
        if aggregate is None:
            continue
        kind = kind_of(aggregate)
        row = kind.row(aggregate, as_of)
        if kind.name == "report":
            out["reports"].extend(row)
        elif row is not None:  # an indicator with no reading yet has none
            out[LISTS[kind.name]].append(row)
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
            aggregate = step(aggregate, events[i])
        applied = included
        yield aggregate, groups[key]
