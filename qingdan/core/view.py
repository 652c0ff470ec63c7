"""The materialised bitemporal view: interval rows by effective date and by recorded time.

Each row holds one record's state (as the public row model, JSON) for effective dates
``[valid_from, valid_to)`` as known for recorded times ``[recorded_from, recorded_to)``. A query for
``(as_of D, known_at T)`` selects the rows whose two intervals contain D and T: no event is folded at
query time.

The view is maintained by a synchronous catch-up: read the notifications after the view's tracking
position, apply them, and move the position, all in one transaction, under the database's write lock
(``BEGIN IMMEDIATE`` on SQLite, ``SELECT … FOR UPDATE`` on PostgreSQL), so every event is applied
exactly once even with several processes sharing the database.

Applying an event of record X effective on day d recorded at t: the state of X changes only for
effective dates on or after d. The current rows of X that reach past d are closed at t (a row that
straddles d keeps its part before d as a new row), and new rows from d on are computed with the
reference fold at each distinct effective date of X's events — so the view agrees with
:func:`qingdan.core.reference.fold` by construction, and the property tests check that it does.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from . import listed
from .chain import GENESIS, chain_batch
from .eventlog import EventLog
from .kinds import (  # noqa: F401  (REPORT_ROWS, encode_typed, decode_typed: their old home)
    REPORT_ROWS,
    decode_typed,
    encode_typed,
    report_rows,
    serialise,
)
from .reference import fold
from .viewstore import (  # noqa: F401  (VIEW_NAME, ViewStore: their old home)
    COLUMNS,
    LISTED,
    LIVE,
    SHADOW,
    SHADOW_LISTED,
    SHADOW_TRACKING,
    VIEW_NAME,
    ViewStore,
)

if TYPE_CHECKING:
    from .base import Record

BATCH = 500
REBUILD_BATCH = 2000  # fewer, larger transactions when replaying the whole log
STATISTICS_FROM = 10_000
EVENT_CACHE = 4_000
#: rows of finished records written as soon as this many wait (a large batch's memory stays bounded)
FLUSH_ROWS = 2_000
#: the id of a row this process wrote without reading its id back (closed by record and start)
WRITTEN = -1
#: a write of at most this many runs of records keeps their current rows in memory (View._rows)
ROWS_KEPT_FROM = 20

def stamp(moment: datetime) -> str:
    """Recorded times as fixed-width UTC text, so text order is time order on every backend."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _runs(events: list[Record.Event]) -> Iterator[list[Record.Event]]:
    """Consecutive events of one record with one recorded time (how a command or batch saves them)."""
    run: list[Record.Event] = []
    for event in events:
        if run and (event.originator_id != run[0].originator_id or event.timestamp != run[0].timestamp):
            yield run
            run = []
        run.append(event)
    if run:
        yield run


def fold_at(events: list[Record.Event], breaks: list[date]) -> Iterator[tuple[date, Record | None]]:
    """``(b, fold(events, b))`` for each date in ascending ``breaks``, yielded before moving on.

    Equivalent to calling :func:`fold` per date, but when the events that become effective at the
    next date were all recorded after those already folded (the usual case), it applies them to the
    running state instead of folding from scratch.
    """
    aggregate: Any = None
    done = -1  # highest version folded into ``aggregate``
    previous: date | None = None
    for start in breaks:
        newly = [e for e in events if e.on <= start and (previous is None or e.on > previous)]
        if aggregate is None or not newly or min(e.originator_version for e in newly) <= done:
            aggregate = fold(events, start)
            done = max((e.originator_version for e in events if e.on <= start), default=-1)
        else:
            for event in sorted(newly, key=lambda e: e.originator_version):
                event.apply(aggregate)
            done = max(done, *(e.originator_version for e in newly))
        previous = start
        yield start, aggregate


@dataclass(slots=True)
class Version:
    """One row of the view: a record's state for effective dates ``[valid_from, valid_to)`` as known
    for recorded times ``[recorded_from, recorded_to)``; ``id`` None until it is written."""

    id: int | None
    aggregate_id: str
    kind: str
    number: str
    campaign: str | None
    status: str | None
    village: str | None
    department: str | None
    level: str | None
    valid_from: str
    valid_to: str | None
    recorded_from: str
    state: str
    recorded_to: str | None = None

    def values(self) -> tuple[Any, ...]:
        """The columns of ``COLUMNS``, in order."""
        return (self.aggregate_id, self.kind, self.number, self.campaign, self.status, self.village,
                self.department, self.level, self.valid_from, self.valid_to, self.recorded_from,
                self.state, self.recorded_to)

    def span(self) -> listed.Span:
        return (self.kind, self.number, self.campaign, self.status, self.valid_from, self.valid_to)


def _selecting(select: str, kind: str, as_of: date, known_at: datetime | None, *,
               campaign: str | None = None, number: str | None = None,
               filters: dict[str, str] | None = None, exclude_status: str | None = None,
               after: str | None = None, numbers: Sequence[str] | None = None,
               statuses: Sequence[str] | None = None) -> tuple[list[str], list[Any]]:
    """The statement (as parts) and parameters selecting the rows of the lists as of ``as_of`` as
    known at ``known_at`` with these filters (the two time axes: :func:`_at`)."""
    sql = [select, "FROM qd_versions WHERE kind = ?"]
    params: list[Any] = [kind]
    if campaign is not None:
        sql.append("AND campaign = ?")
        params.append(campaign)
    if number is not None:
        sql.append("AND number = ?")
        params.append(number)
    if after is not None:
        sql.append("AND number > ?")
        params.append(after)
    if numbers is not None:
        _one_of(sql, params, "number", numbers)
    for column, value in (filters or {}).items():
        sql.append(f"AND {column} = ?")  # column names come from code, never from input
        params.append(value)
    _at(sql, params, as_of, known_at)
    if exclude_status is not None:
        sql.append("AND (status IS NULL OR status <> ?)")
        params.append(exclude_status)
    if statuses is not None:
        _one_of(sql, params, "status", statuses)
    return sql, params


def _at(sql: list[str], params: list[Any], as_of: date, known_at: datetime | None) -> None:
    """Rows (of ``qd_versions`` or ``qd_listed``) in effect on ``as_of`` as known at ``known_at``: the
    one place the two time axes become SQL."""
    day = as_of.isoformat()
    sql.append("AND valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)")
    params += [day, day]
    _known(sql, params, known_at)


def in_effect(valid_from: str, valid_to: str | None, days: Sequence[str]) -> range:
    """The indexes of the ascending ISO ``days`` a row ``[valid_from, valid_to)`` is in effect on, as
    :func:`_at` selects it (for a row read once and counted on many days)."""
    return range(bisect_left(days, valid_from), len(days) if valid_to is None else bisect_left(days, valid_to))


def _known(sql: list[str], params: list[Any], known_at: datetime | None) -> None:
    if known_at is None:
        sql.append("AND recorded_to IS NULL")
    else:
        moment = stamp(known_at)
        sql.append("AND recorded_from <= ? AND (recorded_to IS NULL OR recorded_to > ?)")
        params += [moment, moment]


def _selecting_runs(kind: str, as_of: date, known_at: datetime | None, campaign: str | None,
                    listed_only: bool) -> tuple[list[str], list[Any]]:
    """The numbers of the records on the lists as of ``as_of`` as known at ``known_at`` (withdrawn
    ones left out when ``listed_only``), from their runs (:mod:`qingdan.core.listed`): the same
    records, one row each, as :func:`_selecting` selects from the rows without further filters."""
    sql = [f"SELECT number AS listed FROM {LISTED} WHERE kind = ?"]
    params: list[Any] = [kind]
    if campaign is not None:
        sql.append("AND campaign = ?")
        params.append(campaign)
    _at(sql, params, as_of, known_at)
    if listed_only:
        sql.append("AND withdrawn = 0")
    return sql, params


def _paging_runs(rows: tuple[list[str], list[Any]], kind: str, as_of: date, known_at: datetime | None,
                 campaign: str | None, listed_only: bool, limit: int, offset: int) -> tuple[str, list[Any]]:
    """A page further down the list: its numbers from the records' runs (one index entry a record,
    where the rows are one a state), then each number's row (``rows``: the statement selecting the
    list's rows) looked up by number — a subquery per number, so that no planner walks the rows
    for each number (PostgreSQL did, for a join or an ``IN``, on tables not yet analysed)."""
    runs, params = _selecting_runs(kind, as_of, known_at, campaign, listed_only)
    return (f"SELECT ({' '.join(rows[0])} AND number = page.listed LIMIT 1) FROM ({' '.join(runs)} "
            "ORDER BY number LIMIT ? OFFSET ?) AS page ORDER BY page.listed", [*rows[1], *params, int(limit), int(offset)])


def spans(view: View, kind: str, known_at: datetime | None, campaign: str | None = None,
          states_of: Sequence[str] = ()) -> list[tuple[Any, ...]]:
    """Every row of ``kind`` in the view as known at ``known_at``, at any date: ``(status,
    valid_from, valid_to, state)``, the state only of rows in one of the statuses ``states_of``."""
    sql = ["SELECT status, valid_from, valid_to, CASE WHEN status IN "
           f"({', '.join('?' * len(states_of)) or 'NULL'}) THEN state END FROM {view.table} WHERE kind = ?"]
    params: list[Any] = [*states_of, kind]
    if campaign is not None:
        sql.append("AND campaign = ?")
        params.append(campaign)
    _known(sql, params, known_at)
    return view.store.query(" ".join(sql), params)


def _one_of(sql: list[str], params: list[Any], column: str, values: Sequence[Any]) -> None:
    """``column`` is one of ``values`` (none: no row)."""
    sql.append(f"AND {column} IN ({', '.join('?' * len(values))})" if values else "AND 1 = 0")
    params += list(values)


class View:
    """Keeps the view caught up with the event log and answers as-of queries from it."""

    def __init__(self, log: EventLog, store: ViewStore, *, table: str = LIVE,
                 tracking: str = VIEW_NAME) -> None:
        self.log = log
        self.store = store
        self.table = table
        self.listed = LISTED if table == LIVE else SHADOW_LISTED
        self.tracking = tracking
        self._events: OrderedDict[UUID, list[Record.Event]] = OrderedDict()
        self._pinned = False
        #: the end of the log, the view and the chain — (position, chain hash) — as this process's
        #: last write left them (:meth:`committed`), and as the write being stored will
        #: where this process's last write (:meth:`committed`) ended the log, and the write being
        #: stored will
        self._end: int | None = None
        self._next_end: int | None = None
        #: the current rows of records this process wrote, as its last write left them (valid while
        #: the log ends at ``_end``: nobody has written since), and as the write being stored will
        self._rows: OrderedDict[str, list[Version]] = OrderedDict()
        self._next_rows: dict[str, list[Version]] | None = {}  # None: the write keeps none
        self._reset()

    # -- maintenance -------------------------------------------------------------------------

    def max_position(self) -> int:
        return self.log.max_position()

    def position(self) -> int:
        return self.store.position(self.tracking)

    def catch_up(self, progress: Callable[[int, int], None] | None = None,
                 recordings: Sequence[Any] = (), batch: int = BATCH) -> int:
        """Apply every event recorded since the view's position; returns how many were applied.

        ``recordings``: what this process has just saved (eventsourcing's ``Recording`` objects).
        When they are exactly the next events of the log, they are applied as they are instead of
        being read back and decoded; otherwise the log is read as usual.
        """
        applied = 0
        began = self.position()
        while True:
            if not recordings and self.position() >= self.max_position():
                self._refresh_statistics(began, self.position())
                return applied
            with self.store.write_lock():
                count, last = self._apply_next(recordings, batch)
            recordings = ()
            if not count:
                self._refresh_statistics(began, last)
                return applied
            applied += count
            if progress is not None:
                progress(last, self.max_position())

    def _apply_next(self, recordings: Sequence[Any], batch: int) -> tuple[int, int]:
        """Inside the write lock: apply the next events after the position; (how many, position)."""
        position = self.position()  # re-read under the lock: another process may have moved it
        if recordings and [r.notification.id for r in recordings] == list(
                range(position + 1, position + 1 + len(recordings))):
            notifications = [r.notification for r in recordings]
            events = [r.domain_event for r in recordings]
        else:
            notifications = self.log.page(after=position, limit=batch)
            events = [self.log.decode(n) for n in notifications]
        if not notifications:
            return 0, position
        return self._apply_events(notifications, events), notifications[-1].id

    def _apply_events(self, notifications: Sequence[Any], events: list[Record.Event],
                      head: tuple[int, str] | None = None,
                      rows: OrderedDict[str, list[Version]] | None = None) -> int:
        """Within a transaction: chain, apply and move the position past these events (``head``:
        the chain's end, when known: see :func:`chain_batch`; ``rows``: current rows known, by
        record, see :meth:`_prefetch`)."""
        try:
            chain_batch(self.store, list(notifications), head)
            self._next_end = notifications[-1].id
            groups = list(_runs(events))
            self._prefetch(groups, rows)
            last = {str(g[0].originator_id): i for i, g in enumerate(groups)}
            for i, group in enumerate(groups):
                self._apply(group)
                if len(self._added) >= FLUSH_ROWS:
                    self._flush_finished(lambda key, i=i: last[key] <= i)
            if len(groups) <= ROWS_KEPT_FROM:
                # what the records' current rows are once this commits, to be closed later by record
                # and start, not by id: rows written now get no id back, and a rebuild (by another
                # process too, writing no event) writes the same rows under other ids
                self._next_rows = {key: [replace(row, id=WRITTEN) for row in kept]
                                   for key, kept in self._open.items()}
            else:  # a larger write keeps none: what is kept of its records is no longer their rows
                self._next_rows = None
            self._flush()
        except BaseException:
            self.forget()  # the transaction is rolled back
            raise
        last = notifications[-1].id
        self.store.execute("UPDATE qd_tracking SET position = ? WHERE name = ?", (last, self.tracking))
        return len(notifications)

    def apply_within(self, conn: Any, recordings: Sequence[Any], previous: int) -> bool:
        """Inside the event store's transaction, on its connection: apply the events it has just
        inserted, so events and view commit together or not at all. Only when the view stands at
        ``previous``, the log's last event before them; otherwise (the view is behind, e.g. after a
        failure) nothing is done and False returned: the catch-up after the commit does it."""
        # The view's position and the chain's end come with taking the view's lock, one statement
        # (the chain's end is the database's, never remembered: a chain row planted after it, or a
        # chain rewritten outside qingdan, is met as the catch-up meets it). When this process's
        # last write ended the log at ``previous`` (the log's last event under this write's lock),
        # nobody has written since, and the current rows of the records it wrote are as it left them
        # (a rebuild writes the same rows under other ids: rows known here are closed by record and
        # start, not by id).
        rows = self._rows if self._end is not None and self._end == previous else None
        if rows is None:
            self._rows.clear()
        self._end, self._next_rows = None, {}  # until this write commits
        with self.store.borrowed(conn) as locked:
            if locked.position != previous:
                return False
            chained = locked.chain
            head = (chained[0], chained[1] or GENESIS) if chained is not None and chained[0] == previous else None
            self._pinned = True  # every history prepared for this write stays at hand
            try:
                self._apply_events([r.notification for r in recordings], [r.domain_event for r in recordings],
                                   head, rows)
                # the planner's statistics as the log doubles, as a catch-up refreshes them
                self._refresh_statistics(previous, recordings[-1].notification.id if recordings else previous)
            finally:
                self._pinned = False
                self._trim()
        return True

    def prepare(self, events: Sequence[Record.Event],
                histories: dict[UUID, list[Record.Event]] | None = None) -> None:
        """Before a write's transaction: read the earlier events of each record it changes, so that
        applying it inside the transaction (:meth:`apply_within`) reads nothing from the log.
        ``histories``: those earlier events as :meth:`histories` read them before (a batch's chunk
        set aside), taken as they are."""
        for key, version in self._first_versions(events).items():
            cached = self._events.get(key)
            if cached is not None and cached[-1].originator_version == version - 1:
                self._events.move_to_end(key)
            elif histories is not None and key in histories:
                self._events[key] = list(histories[key])
            else:
                self._events[key] = self.log.record_by_id(key, upto=version - 1)

    def histories(self, events: Sequence[Record.Event]) -> dict[UUID, list[Record.Event]]:
        """The earlier stored events of each record ``events`` change (what :meth:`prepare` reads),
        for a write that applies them later."""
        found: dict[UUID, list[Record.Event]] = {}
        for key, version in self._first_versions(events).items():
            cached = self._events.get(key)
            if cached is not None and cached[-1].originator_version == version - 1:
                found[key] = list(cached)
            else:
                found[key] = self.log.record_by_id(key, upto=version - 1)
        return found

    @staticmethod
    def _first_versions(events: Sequence[Record.Event]) -> dict[UUID, int]:
        """The first version of each record among ``events``, for records that existed before them."""
        first: dict[UUID, int] = {}
        for event in events:
            first.setdefault(event.originator_id, event.originator_version)
        return {key: version for key, version in first.items() if version > 1}

    def committed(self) -> None:
        """The write whose events :meth:`apply_within` applied has committed: the log, the view and
        the chain end where it left them."""
        self._end, self._next_end = self._next_end, None
        if self._next_rows is None:
            self._rows.clear()
        for key, kept in (self._next_rows or {}).items():
            self._rows[key] = kept
            self._rows.move_to_end(key)
        self._next_rows = {}
        while len(self._rows) > EVENT_CACHE:
            self._rows.popitem(last=False)

    def forget(self) -> None:
        """Drop what this process holds in memory about the view (after a rolled-back transaction)."""
        self._reset()
        self._events.clear()
        self._end = self._next_end = None
        self._rows.clear()
        self._next_rows = {}

    def _refresh_statistics(self, before: int, after: int) -> None:
        """Let the query planner know the view's shape as it grows (at 10k, 20k, 40k … events).

        Without statistics SQLite may walk the wrong index for the lists; ANALYZE takes about a
        second per million rows, so it runs only when the log has doubled since the last time.
        """
        threshold = STATISTICS_FROM
        while threshold <= after:
            if before < threshold:
                self.store.execute(f"ANALYZE {self.table}")
                self.store.execute(f"ANALYZE {self.listed}")  # PostgreSQL walks the runs by them too
                return
            threshold *= 2

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Replay the whole log into a new view and swap it in; returns the number of events applied.

        The replay fills a table beside the live view, in many short transactions, while readers
        go on reading the live view and writers go on extending it; the last events and the swap
        happen in one transaction. A reader never sees a half-built view. The hash chain is kept
        and re-checked on the way: a log edited outside qingdan is refused.
        """
        self.store.start_shadow()
        shadow = View(self.log, self.store, table=SHADOW, tracking=SHADOW_TRACKING)
        applied = shadow.catch_up(progress, batch=REBUILD_BATCH)
        with self.store.write_lock():
            while count := shadow._apply_next((), REBUILD_BATCH)[0]:
                applied += count
            self.store.swap_in_shadow()
        self._events.clear()
        self._rows.clear()
        self.store.execute(f"ANALYZE {LIVE}")
        self.store.execute(f"ANALYZE {LISTED}")
        return applied

    def _history(self, group: list[Record.Event]) -> list[Record.Event]:
        """The record's events up to and including ``group`` (cached while catching up)."""
        first = group[0]
        key = first.originator_id
        cached = self._events.get(key)
        if first.originator_version == 1:
            cached = list(group)
            self._events[key] = cached
        elif cached is not None and cached[-1].originator_version == first.originator_version - 1:
            cached.extend(group)
            self._events.move_to_end(key)
        else:  # the group itself may not be committed yet (applied inside its own transaction)
            cached = [*self.log.record_by_id(key, upto=first.originator_version - 1), *group]
            self._events[key] = cached
        if not self._pinned:
            self._trim()
        return cached

    def _trim(self) -> None:
        while len(self._events) > EVENT_CACHE:
            self._events.popitem(last=False)

    def _prefetch(self, groups: list[list[Record.Event]], known: dict[str, list[Version]] | None = None) -> None:
        """Read, in a few statements, the current rows of every record this catch-up touches
        (``known``: those of some records, as this process left them; copied, not read)."""
        self._open = {str(g[0].originator_id): [] for g in groups}
        keys = sorted({str(g[0].originator_id) for g in groups if g[0].originator_version > 1})
        if known:
            for key in [k for k in keys if k in known]:
                self._open[key] = [replace(row) for row in known[key]]
            keys = [k for k in keys if k not in known]
        for i in range(0, len(keys), 400):
            chunk = keys[i:i + 400]
            rows = self.store.query(
                f"SELECT id, {COLUMNS} FROM {self.table} "
                f"WHERE recorded_to IS NULL AND aggregate_id IN ({', '.join('?' * len(chunk))})", chunk)
            for row in rows:
                self._open[row[1]].append(Version(*row))

    def _flush_closed(self) -> None:
        if self._closed:  # a new record closes nothing (a statement saved on every registration)
            self.store.executemany(f"UPDATE {self.table} SET recorded_to = ? WHERE id = ?", self._closed)
            self._closed = []
        if self._closed_at:  # before any row is added: an added row may start on the same day
            self.store.executemany(f"UPDATE {self.table} SET recorded_to = ? WHERE aggregate_id = ? "
                                   "AND valid_from = ? AND recorded_to IS NULL", self._closed_at)
            self._closed_at = []
        self._relisting.close(self.store)

    def _flush(self) -> None:
        """Write what :meth:`_apply` decided: rows closed, rows added (one statement each)."""
        self._flush_closed()
        self.store.executemany(
            f"INSERT INTO {self.table} ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [row.values() for row in self._added])
        self._relisting.write(self.store)
        self._reset()

    def _flush_finished(self, finished: Callable[[str], bool]) -> None:
        """Within the transaction: write the added rows of the records no later run of this catch-up
        touches (nothing changes them any more), and let go of them; the rest stay in memory."""
        done = [row for row in self._added if finished(row.aggregate_id)]
        if not done:
            return
        self._flush_closed()
        self.store.executemany(
            f"INSERT INTO {self.table} ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [row.values() for row in done])
        self._added = [row for row in self._added if not finished(row.aggregate_id)]
        self._relisting.write(self.store, finished)
        for key in {row.aggregate_id for row in done}:
            self._open.pop(key, None)

    def _reset(self) -> None:
        self._open: dict[str, list[Version]] = {}  # current rows by record
        self._closed: list[tuple[str, int]] = []
        #: rows to close known by record and start (a record's current rows never share a start)
        self._closed_at: list[tuple[str, str, str]] = []
        self._added: list[Version] = []
        self._relisting = listed.Relisting(self.listed)

    def _apply(self, group: list[Record.Event]) -> None:
        """Apply a run of one record's events that share a recorded time (one command or batch).

        Works on the record's current rows held in memory (read by :meth:`_prefetch`, updated here
        as the catch-up goes), so several runs of one record in one catch-up see each other.
        """
        events = self._history(group)
        earliest = min(e.on for e in group)
        day = earliest.isoformat()
        recorded = stamp(group[-1].timestamp)
        key = str(group[0].originator_id)
        before = listed.runs(row.span() for row in self._open[key])
        kept: list[Version] = []
        for row in self._open[key]:
            if row.valid_to is not None and row.valid_to <= day:
                kept.append(row)  # ends before the earliest new date: unchanged
                continue
            if row.id is None:
                row.recorded_to = recorded  # added earlier in this catch-up: close it before writing
            elif row.id == WRITTEN:
                self._closed_at.append((recorded, key, row.valid_from))
            else:
                self._closed.append((recorded, row.id))
            if row.valid_from < day:  # the part before the earliest new date is unchanged
                kept.append(self._add(replace(row, id=None, valid_to=day, recorded_from=recorded,
                                              recorded_to=None)))
        breaks = sorted({e.on for e in events if e.on >= earliest})
        previous: Version | None = None
        for index, (start, aggregate) in enumerate(fold_at(events, breaks)):
            if aggregate is None:
                continue
            kind, cols, state = serialise(aggregate, start)
            end = breaks[index + 1].isoformat() if index + 1 < len(breaks) else None
            if previous is not None and previous.state == state and previous.valid_to == start.isoformat():
                previous.valid_to = end  # same state as the interval before: extend it
                continue
            previous = self._add(Version(None, key, kind, aggregate.number, **cols,
                                         valid_from=start.isoformat(), valid_to=end,
                                         recorded_from=recorded, state=state))
            kept.append(previous)
        self._open[key] = kept
        after = listed.runs(row.span() for row in kept)
        if after != before:
            self._relisting.change(key, recorded, after, stored=group[0].originator_version > 1)

    def _add(self, row: Version) -> Version:
        self._added.append(row)
        return row

    # -- queries -----------------------------------------------------------------------------

    def kinds_of(self, number: str) -> set[str]:
        """The kinds of record the view holds under ``number`` at any date (to say why none is there)."""
        return {r[0] for r in self.store.query("SELECT DISTINCT kind FROM qd_versions WHERE number = ?", [number])}

    def states(self, kind: str, as_of: date, known_at: datetime | None, *,
               campaign: str | None = None, number: str | None = None,
               filters: dict[str, str] | None = None, exclude_status: str | None = None,
               limit: int | None = None, offset: int = 0, after: str | None = None,
               numbers: Sequence[str] | None = None, count: bool = False,
               statuses: Sequence[str] | None = None) -> list[Any]:
        """The JSON states of every record of ``kind`` as of ``as_of`` as known at ``known_at``
        (``after``: only numbers after this one, for reading page by page; ``numbers``: only these;
        ``statuses``: only rows in one of these; ``count``: how many there are, as a one-item list)."""
        sql, params = _selecting("SELECT COUNT(*)" if count else "SELECT state", kind, as_of, known_at,
                                 campaign=campaign, number=number, filters=filters,
                                 exclude_status=exclude_status, after=after, numbers=numbers,
                                 statuses=statuses)
        if count:
            return [int(self.store.query(" ".join(sql), params)[0][0])]
        if (limit is not None and offset > 0 and number is None and not filters and after is None
                and numbers is None and statuses is None and exclude_status in (None, listed.WITHDRAWN)):
            paged, more = _paging_runs((sql, params), kind, as_of, known_at, campaign,
                                       exclude_status is not None, limit, offset)
            return [r[0] for r in self.store.query(paged, more) if r[0] is not None]
        sql.append("ORDER BY number" if limit is None else "ORDER BY number LIMIT ? OFFSET ?")
        params += [] if limit is None else [int(limit), int(offset)]
        return [r[0] for r in self.store.query(" ".join(sql), params)]

    def counts(self, kind: str, as_of: date, known_at: datetime | None, columns: Sequence[str], *,
               campaign: str | None = None) -> list[tuple[Any, ...]]:
        """How many records of ``kind`` the lists hold as of ``as_of`` as known at ``known_at``, for
        each combination of the index ``columns`` (each row: the columns' values, then the count) —
        counted in the view, nothing decoded."""
        wanted = [c for c in columns if c in ("campaign", "status", "village", "department", "level")]
        if len(wanted) != len(columns) or not wanted:
            raise ValueError(f"not index columns: {columns}")  # column names come from code, never from input
        grouped = ", ".join(wanted)
        sql, params = _selecting(f"SELECT {grouped}, COUNT(*)", kind, as_of, known_at, campaign=campaign)
        sql.append(f"GROUP BY {grouped}")
        return [tuple(r) for r in self.store.query(" ".join(sql), params)]
