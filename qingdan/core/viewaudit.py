"""The whole view compared with the reference fold: every record, every effective date, every recorded time.

A record's view rows answer, for each ``(as_of D, known_at T)``, the row whose two intervals contain D
and T (:meth:`qingdan.core.view.View.states`). :class:`RecordFold` gives the same function from the
record's events alone — the state is :func:`qingdan.core.reference.fold` of the events recorded up to
T whose date is on or before D, stored as :func:`~qingdan.core.kinds.serialise` stores it, effective
from the latest of those dates. Both are step functions: the fold changes only at the record's event
dates and recorded times, the view only at its rows' bounds. So comparing them at every recorded time
that is an event's or a row's bound (each one answering for the interval up to the next), as the list
of ``[from, to)`` date intervals with their stored state (adjacent equal states joined), compares them
everywhere: current rows, superseded (known-at) rows, every date interval, every column.

Cost: each distinct state is folded and serialised once (the fold of a prefix of the events, in the
usual case where dates and recorded times follow the version order); the comparison is the sum, over
a record's recorded times, of its intervals — for the usual record of a few to a few dozen events,
less than serialising it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any

from . import listed
from .kinds import BY_NAME, kind_of
from .reference import step
from .verifystate import rows_digest
from .view import stamp

#: The columns of ``qd_versions`` the audit reads, in this order (every column but the row id).
VIEW_COLUMNS = ("aggregate_id, kind, number, campaign, status, village, department, level, "
                "valid_from, valid_to, recorded_from, recorded_to, state")

# A stored value: (kind, number, campaign, status, village, department, level, state).
Value = tuple[Any, ...]
# One date interval of the lists as known at a time: (valid_from, valid_to or None, value).
Interval = tuple[str, str | None, Value]


class ViewRows:
    """A record's rows as the view holds them: ``(valid_from, valid_to, recorded_from, recorded_to, value)``,
    in ``valid_from`` order. Bounds are compared as the view's queries compare them (as text); a row
    whose bounds or state are not text cannot be compared, and makes the record's rows malformed."""

    __slots__ = ("_sorted", "rows")

    def __init__(self) -> None:
        self.rows: list[tuple[Any, Any, Any, Any, Value]] = []
        self._sorted = False

    def add(self, raw: tuple[Any, ...]) -> None:
        self.rows.append((raw[8], raw[9], raw[10], raw[11], (*raw[1:8], raw[12])))

    @property
    def malformed(self) -> bool:
        for vf, vt, rf, rt, value in self.rows:
            if not (type(vf) is str and type(rf) is str and type(value[-1]) is str
                    and (vt is None or type(vt) is str) and (rt is None or type(rt) is str)):
                return True
        return False

    def bounds(self) -> set[str]:
        """Every recorded time at which what the rows answer may change."""
        out = {row[2] for row in self.rows}
        out.update(row[3] for row in self.rows if row[3] is not None)
        return out

    def at(self, moment: str) -> list[Interval]:
        """The date intervals the rows answer as known at ``moment`` (empty ones left out; adjacent
        equal states joined), in date order."""
        if not self._sorted:
            self.rows.sort(key=lambda row: row[0])
            self._sorted = True
        return join((vf, vt, value) for vf, vt, rf, rt, value in self.rows
                    if rf <= moment and (rt is None or moment < rt) and (vt is None or vf < vt))


def read_view(store: Any, table: str = "qd_versions", page: int = 5000, *, lo: str | None = None,
              hi: str | None = None) -> Iterator[tuple[str, ViewRows]]:
    """Every record's rows of the view, record by record in record-id order, read a page at a time
    (inside the caller's read snapshot), so the view is never held in memory whole; ``lo``, ``hi``:
    only the records from ``lo`` and before ``hi`` (by the database's order)."""
    for key, raw in _by_record(store, VIEW_COLUMNS, table, page, lo, hi):
        rows = ViewRows()
        for r in raw:
            rows.add(r)
        yield key, rows


def _by_record(store: Any, columns: str, table: str, page: int, lo: str | None = None,
               hi: str | None = None) -> Iterator[tuple[str, list[Any]]]:
    """Every record's rows of ``table`` (its ``columns``, the record id first), record by record in
    record-id order, ``page`` rows at a time (a record a page would split is read whole); from record
    ``lo`` on, before record ``hi``."""
    after: str | None = None
    while True:
        where, params = [], []
        if after is not None or lo is not None:
            where.append("aggregate_id > ?" if after is not None else "aggregate_id >= ?")
            params.append(after if after is not None else lo)
        if hi is not None:
            where.append("aggregate_id < ?")
            params.append(hi)
        raw = store.query(f"SELECT {columns} FROM {table} {'WHERE ' + ' AND '.join(where) if where else ''} "
                          "ORDER BY aggregate_id LIMIT ?", [*params, page])
        if not raw:
            return
        full = len(raw) == page
        if full:  # the last record may go on in the next page: read it whole
            last = raw[-1][0]
            raw = [r for r in raw if r[0] != last]
            raw += store.query(f"SELECT {columns} FROM {table} WHERE aggregate_id = ?", (last,))
        by_record: dict[str, list[Any]] = {}
        for r in raw:
            by_record.setdefault(r[0], []).append(r)
        yield from by_record.items()
        if not full:
            return
        after = raw[-1][0]


def digesting(view: Iterable[tuple[str, ViewRows]], into: dict[str, str]) -> Iterator[tuple[str, ViewRows]]:
    """The view's records as they are read, each one's rows' digest noted ``into``."""
    for key, rows in view:
        into[key] = rows_digest(rows.rows)
        yield key, rows


def checking_listed(view: Iterable[tuple[str, ViewRows]], store: Any, wrong: dict[str, Any],
                    table: str = "qd_listed", page: int = 5000, *, lo: str | None = None,
                    hi: str | None = None) -> Iterator[tuple[str, ViewRows]]:
    """The view's records as they are read, each one's runs in ``table`` (:mod:`qingdan.core.listed`)
    compared with its rows on the way: the records whose runs do not agree go ``wrong`` (by record id:
    the kind and number of the first row or run), runs of records without rows too (``lo``, ``hi``:
    the records :func:`read_view` was given)."""
    runs = _read_listed(store, table, page, lo, hi)
    pending = next(runs, None)
    for key, rows in view:
        while pending is not None and pending[0] < key:
            wrong[pending[0]] = pending[1][0][:2]
            pending = next(runs, None)
        mine: list[tuple[Any, ...]] = []
        if pending is not None and pending[0] == key:
            mine = pending[1]
            pending = next(runs, None)
        spans = [(*value[:3], value[3], vf, vt, rf, rt) for vf, vt, rf, rt, value in rows.rows]
        if not listed.agree(spans, mine):
            wrong[key] = spans[0][:2] if spans else mine[0][:2] if mine else ("?", key)
        yield key, rows
    while pending is not None:
        wrong[pending[0]] = pending[1][0][:2]
        pending = next(runs, None)


def _read_listed(store: Any, table: str, page: int, lo: str | None = None,
                 hi: str | None = None) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    """Every record's runs, ``(kind, number, campaign, withdrawn, valid_from, valid_to, recorded_from,
    recorded_to)``, record by record in record-id order, a page at a time."""
    for key, raw in _by_record(store, listed.LISTED_COLUMNS, table, page, lo, hi):  # the record id first
        yield key, [tuple(r[1:]) for r in raw]


def fast_stamp(moment: datetime) -> str:
    """:func:`qingdan.core.view.stamp` (the same text), without ``strftime``'s cost."""
    utc = moment.astimezone(UTC)
    if utc.year < 1000:  # strftime does not pad the year to four digits
        return stamp(moment)
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds")


def join(intervals: Iterable[Interval]) -> list[Interval]:
    """Adjacent intervals with one state as one (overlapping ones are kept apart: never equal to a fold)."""
    out: list[Interval] = []
    for interval in intervals:
        if out and out[-1][1] == interval[0] and out[-1][2] == interval[2]:
            out[-1] = (out[-1][0], interval[1], interval[2])
        else:
            out.append(interval)
    return out


class Folded:
    """One state of a record: its row as of the date it took effect, and the value the view stores."""

    __slots__ = ("kind", "row", "start", "value")

    def __init__(self, kind: Any, row: Any, start: date, value: Value) -> None:
        self.kind = kind
        self.row = row
        self.start = start
        self.value = value


class RecordFold:
    """The reference fold of one record's events (in version order) at every ``(as_of, known_at)``.

    ``known_at`` is given as the view's recorded-time text (:func:`qingdan.core.view.stamp`).
    """

    def __init__(self, events: list[Any]) -> None:
        self.events = events
        self._states: dict[Any, Folded] = {}
        self._lists: dict[int, list[Interval]] = {}
        self._aggregate: Any = None
        self._applied: range | tuple[int, ...] = ()

    # Worked out when first asked for (a complete check makes every record's fold before the
    # comparison, and works each one out in whichever process compares it).
    @cached_property
    def ons(self) -> list[date]:
        return [e.on for e in self.events]

    @cached_property
    def stamps(self) -> list[str]:
        return [fast_stamp(e.timestamp) for e in self.events]

    @cached_property
    def in_date_order(self) -> bool:
        ons = self.ons
        return all(ons[i] <= ons[i + 1] for i in range(len(ons) - 1))

    @cached_property
    def in_time_order(self) -> bool:
        stamps = self.stamps
        return all(stamps[i] <= stamps[i + 1] for i in range(len(stamps) - 1))

    @cached_property
    def _isos(self) -> list[str]:
        return [on.isoformat() for on in self.ons]

    def prepare(self) -> Folded:
        """Build every state the comparison with the view can ask for — the lists as known at each of
        the record's recorded times, in time order, so that each state goes on from the one before —
        and give the final one (raises when the events cannot be folded)."""
        if self.in_date_order and self.in_time_order:
            self._prepare_in_order()
        else:
            for moment in sorted(set(self.stamps)):
                self.at(moment)
        return self.final()

    def _prepare_in_order(self) -> None:
        """:meth:`prepare` when dates and recorded times follow the versions (the usual record): the
        states asked for are the prefixes ending a date or a recorded time, built in one pass."""
        ons, stamps, count = self.ons, self.stamps, len(self.events)
        known = [i for i in range(1, count) if stamps[i] != stamps[i - 1]] + [count]
        ends = sorted(set(known).union(i for i in range(1, count) if ons[i] != ons[i - 1]))
        states, events = self._states, self.events
        aggregate, done = None, 0
        try:
            for end in ends:
                for i in range(done, end):
                    aggregate = step(aggregate, events[i])
                done = end
                if end not in states:  # (the final state may be built already)
                    states[end] = self._folded(aggregate, ons[end - 1])
        except BaseException:
            self._aggregate, self._applied = None, ()
            raise
        self._aggregate, self._applied = aggregate, range(done)
        for k in known:
            if k not in self._lists:
                self._lists[k] = self._in_order(k)

    def known(self, moment: str | None) -> int:
        """How many events the fold takes as known at ``moment`` (None: all): those up to the first
        recorded after it (recorded times never go backwards within a record)."""
        if moment is None:
            return len(self.events)
        if self.in_time_order:
            return bisect_right(self.stamps, moment)
        return next((i for i, s in enumerate(self.stamps) if s > moment), len(self.events))

    def key(self, known: int, as_of: date) -> Any:
        """Which events make the state as of ``as_of`` of the first ``known`` (None: none yet)."""
        if known == 0 or as_of < self.ons[0]:
            return None  # the first event, the earliest by the rules, is not yet effective
        if self.in_date_order:
            return min(known, bisect_right(self.ons, as_of))
        return tuple(i for i in range(known) if self.ons[i] <= as_of)

    def keys_at(self, probes: Iterable[tuple[date, str]]) -> list[Any]:
        """:meth:`key` of the events known at each ``(as_of, moment)`` (what :meth:`row_at` folds)."""
        if self.in_date_order and self.in_time_order:
            # Both bisects at once; 0 (no event known, or the first not yet effective: the dates
            # rise, so none is) is None, as :meth:`key` has it.
            stamps, ons = self.stamps, self.ons
            return [min(bisect_right(stamps, moment), bisect_right(ons, as_of)) or None for as_of, moment in probes]
        return [self.key(self.known(moment), as_of) for as_of, moment in probes]

    def state(self, key: Any) -> Folded:
        """The state made by these events (a prefix length, or the indexes), built once.

        The running aggregate goes on from the last state built when that one's events are the first
        of these (always so when the states are asked for in the order :meth:`prepare` asks)."""
        found = self._states.get(key)
        if found is not None:
            return found
        included: Any = range(key) if type(key) is int else key  # a prefix length, or the indexes
        applied = self._applied
        if self._aggregate is not None and len(applied) <= len(included) and \
                (applied == included[:len(applied)] if type(applied) is type(included)
                 else tuple(applied) == tuple(included[:len(applied)])):
            fresh = included[len(applied):]
        else:
            self._aggregate, fresh = None, included
        try:
            for i in fresh:
                self._aggregate = step(self._aggregate, self.events[i])
        except BaseException:
            self._aggregate, self._applied = None, ()
            raise
        self._applied = included
        start = self.ons[key - 1] if type(key) is int and self.in_date_order else max(self.ons[i] for i in included)
        found = self._states[key] = self._folded(self._aggregate, start)
        return found

    @staticmethod
    def _folded(aggregate: Any, start: date) -> Folded:
        """The state of ``aggregate`` (folded up to now), effective from ``start``."""
        try:
            kind = kind_of(aggregate)
        except TypeError:  # not a record the view holds
            kind = None
        if kind is None:
            return Folded(None, None, start, ())
        row = kind.row(aggregate, start)
        cols = kind.index(aggregate, row)
        return Folded(kind, row, start, (
            kind.name, aggregate.number, cols["campaign"], cols["status"], cols["village"],
            cols["department"], cols["level"], kind.encode(row)))

    def at(self, moment: str | None) -> list[Interval]:
        """The date intervals the view must answer as known at ``moment``, adjacent equal states joined."""
        known = self.known(moment)
        found = self._lists.get(known)
        if found is not None:
            return found
        if self.in_date_order:
            found = self._lists[known] = self._in_order(known)
            return found
        dates = sorted(set(self.ons[:known]))
        intervals = []
        for index, day in enumerate(dates):
            key = self.key(known, day)
            if key is None:
                continue
            folded = self.state(key)
            if folded.kind is None:
                continue
            intervals.append((day.isoformat(), dates[index + 1].isoformat() if index + 1 < len(dates) else None,
                              folded.value))
        found = self._lists[known] = join(intervals)
        return found

    def _in_order(self, known: int) -> list[Interval]:
        """:meth:`at` when the dates follow the versions: the state from each distinct date on is
        the prefix of the events up to the last one of that date."""
        ons, isos, intervals = self.ons, self._isos, []
        j = 0
        while j < known:
            end = bisect_right(ons, ons[j], j, known)
            folded = self._states.get(end) or self.state(end)
            j, start = end, isos[j]
            if folded.kind is None:
                continue
            to = isos[end] if end < known else None
            if intervals and intervals[-1][1] == start and intervals[-1][2] == folded.value:
                intervals[-1] = (intervals[-1][0], to, folded.value)
            else:
                intervals.append((start, to, folded.value))
        return intervals

    def row_at(self, as_of: date, moment: str | None) -> Folded | None:
        """The state as of ``as_of`` as known at ``moment`` (None when the record does not exist yet)."""
        key = self.key(self.known(moment), as_of)
        return None if key is None else self.state(key)

    def final(self) -> Folded:
        """The state with every event (as of every date)."""
        return self.state(self.key(len(self.events), date.max))


def same(view: list[Interval], fold: list[Interval]) -> bool:
    """Whether the view's intervals are the fold's: the same bounds and stored values — a stored state
    that differs only in how it is spelt (JSON written by an older qingdan) counts as the same when it
    reads back as the fold's row."""
    if view == fold:
        return True
    if len(view) != len(fold):
        return False
    for (vf, vt, mine), (ff, ft, theirs) in zip(view, fold, strict=True):
        if vf != ff or vt != ft or mine[:-1] != theirs[:-1]:
            return False
        if mine[-1] != theirs[-1] and not _reads_as(mine[0], mine[-1], theirs[-1]):
            return False
    return True


def _reads_as(kind: str, state: str, expected: str) -> bool:
    decode = BY_NAME[kind].decode if kind in BY_NAME else None
    if decode is None:
        return False
    try:
        return bool(decode(state) == decode(expected))
    except Exception:
        return False


def differs_at(fold: RecordFold | None, rows: ViewRows | None) -> str | None | bool:
    """Where the view's rows of a record first differ from its fold: False when nowhere; else the
    recorded time (view text) from which they differ, None meaning only the current rows differ."""
    if rows is not None and rows.malformed:
        return ""
    moments = sorted(set(fold.stamps if fold is not None else ()) | (rows.bounds() if rows is not None else set()))
    last = moments[-1] if moments else None
    for moment in moments:
        mine = rows.at(moment) if rows is not None else []
        theirs = fold.at(moment) if fold is not None else []
        if not same(mine, theirs):
            return None if moment == last else moment
    return False
