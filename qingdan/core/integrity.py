"""Tamper evidence: a hash chain over the event log, and ``verify``.

Every stored event, in log order, is hashed together with the hash of the event before it:
``h(n) = sha256(h(n-1) ‖ position ‖ record id ‖ version ‖ topic ‖ stored bytes)``. The chain is
written by the view's catch-up (so exactly once per event, in the same transaction as the view rows)
into ``qd_chain``. Editing a stored event row changes its hash; deleting one leaves a chained position
with no event; inserting one leaves an event with no chained position (or, at the end, is reported as
not yet chained). A rebuild re-checks the chain and refuses to replay a log that no longer matches.

The chain lives in the same database, so someone able to rewrite both the events and the chain could
hide an edit; for that, each report submission records the chain head at that moment, and
``qingdan verify`` prints the current head so it can be kept outside the database.

``verify`` reads the stored rows itself (not through eventsourcing's recorder), so that a row edited
into something the recorder cannot even return — text instead of bytes, NULL, a version that is not a
number, a record id that is not a UUID — is named as a problem like any other edit, never an error.
It reads and decodes the log once: the same decoded events serve the chain check and the reference
fold the view is compared with.
"""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from .errors import QingdanError

if TYPE_CHECKING:
    from .ledger import Ledger

GENESIS = "0" * 64
PAGE = 1000
SCAN_PAGE = 5000
BROKEN = ("tampered", "missing", "inserted")  # the log itself is not what qingdan wrote


class TamperDetected(QingdanError):
    """Raised when the stored event log no longer matches its hash chain (an event row was edited,
    deleted or inserted outside qingdan)."""


def stored_bytes(state: Any) -> bytes:
    """The bytes an event's stored state is hashed as: bytes as they are; anything else (text
    written over the bytes, NULL, a number) as its UTF-8 text, so that it never hashes like the
    bytes that were chained unless it holds exactly them."""
    if isinstance(state, bytes):
        return state
    if isinstance(state, bytearray | memoryview):
        return bytes(state)
    return ("" if state is None else str(state)).encode("utf-8", "surrogatepass")


def event_hash(previous: str, notification: Any) -> str:
    head = (f"{previous}\x1f{notification.id}\x1f{notification.originator_id}\x1f"
            f"{notification.originator_version}\x1f{notification.topic}\x1f").encode("utf-8", "surrogatepass")
    return hashlib.sha256(head + stored_bytes(notification.state)).hexdigest()


def chain_batch(store: Any, notifications: list[Any]) -> None:
    """Extend (or, for positions already chained, re-check) the chain over one batch, in order."""
    first, last = notifications[0].id, notifications[-1].id
    before = store.query("SELECT hash FROM qd_chain WHERE position < ? ORDER BY position DESC LIMIT 1",
                         (first,))
    previous = before[0][0] if before else GENESIS
    known = dict(store.query("SELECT position, hash FROM qd_chain WHERE position BETWEEN ? AND ?",
                             (first, last)))
    new: list[tuple[int, str]] = []
    for notification in notifications:
        digest = event_hash(previous, notification)
        recorded = known.get(notification.id)
        if recorded is None:
            new.append((notification.id, digest))
        elif recorded != digest:
            raise TamperDetected(
                f"事件 #{notification.id}（记录 {notification.originator_id} 第 "
                f"{notification.originator_version} 个事件）与哈希链不符：事件记录在 qingdan 之外被改动。"
                "请运行 `qingdan verify` 查看详情")
        previous = digest
    store.executemany("INSERT INTO qd_chain (position, hash) VALUES (?, ?)", new)


def chain_head(store: Any, position: int | None = None) -> str:
    """The chain's hash at ``position`` (default: its last), GENESIS before any event."""
    if position is None:
        rows = store.query("SELECT hash FROM qd_chain ORDER BY position DESC LIMIT 1")
    else:
        rows = store.query("SELECT hash FROM qd_chain WHERE position <= ? ORDER BY position DESC LIMIT 1",
                           (position,))
    return rows[0][0] if rows else GENESIS


class Problem(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str  # tampered | missing | inserted | unchained | report | view
    message: str
    position: int | None = None
    number: str | None = None


class VerifyReport(BaseModel):
    """What ``verify`` checked and every problem it found (``ok`` when there is none)."""

    model_config = ConfigDict(frozen=True)

    events_checked: int
    chain_head: str
    reports_checked: int
    dates_checked: tuple[date, ...]
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _brief(error: BaseException, width: int = 160) -> str:
    """An error in a line, by its cause when it wraps one (eventsourcing's mapper wraps the decoder's)."""
    error = error.__cause__ or error
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= width else text[:width - 1] + "…"


# -- the log, read once -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredRow:
    """One row of the events table as stored, whatever its values' types (the recorder's names)."""

    id: int
    originator_id: Any
    originator_version: Any
    topic: Any
    state: Any


def _sqlite_value(kind: str, number: Any, raw: Any) -> Any:
    """A SQLite value from ``typeof(c)``, ``c`` if numeric and ``CAST(c AS BLOB)`` — read that way so
    that text which is not UTF-8 can be named instead of failing the read."""
    if kind == "null":
        return None
    if kind in ("integer", "real"):
        return number
    if kind == "text":
        return bytes(raw).decode("utf-8", "replace")
    return bytes(raw)


def read_stored_rows(ledger: Ledger, after: int, limit: int) -> list[StoredRow]:
    """The stored event rows after log position ``after``, in log order, values as stored."""
    recorder = ledger.app.recorder
    table = '"' + recorder.events_table_name.replace('"', '""') + '"'
    store = ledger.view.store
    if ledger.backend == "sqlite":
        columns = ", ".join(f"typeof({c}), CASE typeof({c}) WHEN 'integer' THEN {c} WHEN 'real' THEN {c} END, "
                            f"CAST({c} AS BLOB)"
                            for c in ("originator_id", "originator_version", "topic", "state"))
        rows = store.query(f"SELECT rowid, {columns} FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?",
                           (after, limit))
        return [StoredRow(r[0], *(_sqlite_value(*r[i:i + 3]) for i in range(1, 13, 3))) for r in rows]
    schema = '"' + recorder.datastore.schema.replace('"', '""') + '"'
    rows = store.query(
        f"SELECT notification_id, originator_id, originator_version, topic, state FROM {schema}.{table} "
        "WHERE notification_id > ? ORDER BY notification_id LIMIT ?", (after, limit))
    return [StoredRow(*r) for r in rows]


class LogScan:
    """One pass over the stored event log: the hash chain re-computed and compared with ``qd_chain``,
    and every event decoded, or named as a problem when it cannot be (``streams``: each record's
    decoded events with their positions)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.store = ledger.view.store
        self.position = 0  # everything up to here has been checked
        self.previous = GENESIS
        self.checked = 0
        self.problems: list[Problem] = []
        self.streams: dict[Any, list[tuple[int, Any]]] = {}
        self._numbers: dict[str, str] | None = None

    def run(self) -> None:
        """Check the log from where the last run stopped to its end."""
        self._numbers = None  # the view may know more records than at the last run
        chained_up_to = self.store.query("SELECT MAX(position) FROM qd_chain")[0][0] or 0
        while True:
            rows = read_stored_rows(self.ledger, self.position, SCAN_PAGE)
            upper = max(rows[-1].id if rows else chained_up_to, self.position)
            chain = dict(self.store.query("SELECT position, hash FROM qd_chain WHERE position > ? AND position <= ?",
                                          (self.position, upper)))
            events = {r.id: r for r in rows}
            self.checked += len(rows)
            for position in sorted(events.keys() | chain.keys()):
                self._check(position, events.get(position), chain.get(position), chained_up_to)
            self.position = upper
            if not rows:
                return

    def number(self, originator_id: Any) -> str | None:
        """The record number of a record id, as the view knows it (None when it does not)."""
        if self._numbers is None:
            self._numbers = dict(self.store.query(
                "SELECT aggregate_id, MIN(number) FROM qd_versions GROUP BY aggregate_id"))
        found = self._numbers.get(str(originator_id))
        if found is None:
            try:
                found = self._numbers.get(str(UUID(str(originator_id))))
            except ValueError:
                pass
        return found

    def _check(self, position: int, row: StoredRow | None, recorded: str | None, chained_up_to: int) -> None:
        if row is None:
            self.problems.append(Problem(kind="missing", position=position,
                                         message=f"事件 #{position} 已在哈希链中，但事件记录不见了：被删除"))
            self.previous = recorded
            return
        event, unreadable, originator_id = self._decode(row)
        # Hashed as the recorder returns it (SQLite stores a UUID as its hex; the chain hashes the UUID).
        digest = event_hash(self.previous, row if originator_id is row.originator_id
                            else replace(row, originator_id=originator_id))
        if event is not None:
            self.streams.setdefault(event.originator_id, []).append((position, event))
        if unreadable is not None or recorded != digest:
            number = self.number(row.originator_id)
            who = number or row.originator_id
            label = number or (None if row.originator_id is None else str(row.originator_id))
            if unreadable is not None:
                chained = ("，且不在哈希链中" if recorded is None
                           else "，且与哈希链不符" if digest != recorded else "")
                self.problems.append(Problem(
                    kind="tampered", position=position, number=label,
                    message=f"事件 #{position}（{who} 第 {row.originator_version} 个事件）无法读取：{unreadable}"
                            f"{chained}：记录被改动"))
            elif recorded is None and position > chained_up_to:
                self.problems.append(Problem(
                    kind="unchained", position=position, number=label,
                    message=f"事件 #{position} 尚未纳入哈希链（写入后视图未更新，或在 qingdan 之外追加）"))
            elif recorded is None:
                self.problems.append(Problem(
                    kind="inserted", position=position, number=label,
                    message=f"事件 #{position}（{who}）不在哈希链中：在 qingdan 之外插入"))
            else:
                self.problems.append(Problem(
                    kind="tampered", position=position, number=label,
                    message=f"事件 #{position}（{who} 第 {row.originator_version} 个事件）内容与哈希链不符：记录被改动"))
        if recorded is not None:
            self.previous = recorded  # judge each later event on its own, against the chained hash
        elif position > chained_up_to:
            self.previous = digest

    def _decode(self, row: StoredRow) -> tuple[Any, str | None, Any]:
        """The domain event a stored row holds, or None and what makes it unreadable; and its record
        id as the recorder reads it."""
        from eventsourcing.persistence import Notification

        from .domain import Record

        wrong = []
        originator_id = row.originator_id
        if isinstance(originator_id, str):
            convert = getattr(self.ledger.app.recorder, "convert_originator_id", UUID)
            try:
                originator_id = convert(originator_id)
            except (ValueError, TypeError):
                wrong.append(f"记录标识 {originator_id!r} 不是 UUID")
            else:
                if isinstance(originator_id, UUID) and originator_id.hex != row.originator_id:
                    wrong.append(f"记录标识 {row.originator_id!r} 不是 qingdan 写入的形式")
        elif not isinstance(originator_id, UUID):
            wrong.append(f"记录标识为 {originator_id!r}")
        version = row.originator_version
        if not isinstance(version, int) or isinstance(version, bool):
            wrong.append(f"版本号 {version!r} 不是整数")
        if not isinstance(row.topic, str):
            wrong.append("事件类型为空" if row.topic is None else f"事件类型 {row.topic!r} 不是文本")
        state = row.state
        if state is None:
            wrong.append("内容为空（NULL）")
        elif isinstance(state, str):
            wrong.append("内容以文本而非字节存储")
        elif not isinstance(state, bytes | bytearray | memoryview):
            wrong.append(f"内容为 {state!r}")
        if wrong:
            return None, "；".join(wrong), originator_id
        try:
            event = self.ledger.app.mapper.to_domain_event(Notification(
                id=row.id, originator_id=originator_id, originator_version=version, topic=row.topic,
                state=bytes(state)))
        except Exception as error:
            return None, f"无法解码（{_brief(error)}）", originator_id
        if not isinstance(event, Record.Event):
            return None, f"事件类型 {row.topic} 不是台账的事件", originator_id
        on, stamp = getattr(event, "on", None), getattr(event, "timestamp", None)
        if not isinstance(on, date) or not isinstance(stamp, datetime) or stamp.tzinfo is None:
            return None, "缺少有效的日期或登记时间", originator_id
        return event, None, originator_id


def check_chain(ledger: Ledger) -> tuple[int, list[Problem]]:
    """Recompute the hash chain from the stored events and compare it with ``qd_chain``."""
    scan = LogScan(ledger)
    scan.run()
    return scan.checked, scan.problems


# -- the reference fold at every probe ------------------------------------------------------------

# A probe is one ``(as_of, known_at)`` question put to both the view and the reference fold.
Probe = tuple[date, datetime | None]
LISTS = {"hazard": "hazards", "measure": "measures", "unit": "units"}  # view kind -> list compared
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
                message=f"记录 {number or originator_id} 的事件无法重放（{_brief(error)}）：自事件 #{position} "
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
        self.error = _brief(error)

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


def read_states(ledger: Ledger, kind: str, states: list[str]) -> list[Any]:
    """The rows the ledger's snapshot reads from these view states (as of no date: ``overdue`` is
    set per probe), an :class:`Unreadable` for each it cannot read."""
    from .queries import LedgerSnapshot

    method = {"hazard": "hazards", "measure": "measures", "unit": "all_units"}[kind]

    def convert(batch: list[str]) -> list[Any]:
        snapshot = LedgerSnapshot(_Given(batch), ledger.catalogue, date.min, None)  # type: ignore[arg-type]
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


def view_at_probes(ledger: Ledger, probes: list[Probe]) -> tuple[list[list[ViewRow]], int]:
    """The rows the view answers at every probe (hazards, measures, units), from one read of its
    table; and the log position the view was at.

    Per probe, the rows whose intervals contain ``(as_of, known_at)`` by the comparisons of
    :meth:`View.states` (on the ISO text of the date and the recorded time), in its order (by
    number); each distinct state read into its row once, by the snapshot's own reading."""
    from .view import stamp

    store = ledger.view.store
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
        for state, row in zip(states, read_states(ledger, kind, list(states)), strict=True):
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


def _snapshot_lists(ledger: Ledger, probe: Probe) -> dict[str, list[Any]]:
    snap = ledger.snapshot(as_of=probe[0], known_at=probe[1])
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
        self._texts: dict[int, tuple[Any, str]] = {}

    def _text(self, row: Any) -> str:
        found = self._texts.get(id(row))
        if found is None:
            found = self._texts[id(row)] = (row, json.dumps(row.model_dump(mode="json"), ensure_ascii=False,
                                                            sort_keys=True, separators=(",", ":")))
        return found[1]

    def __call__(self, lists: Any) -> str:
        text = (f'{{"hazards":[{",".join(map(self._text, lists.hazards))}],'
                f'"measures":[{",".join(map(self._text, lists.measures))}]}}')
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


def _reports(ledger: Ledger, *, caught_up: bool) -> tuple[list[Any], Problem | None]:
    """Every submission the view lists (read without catching up when the log is not to be trusted)."""
    from .queries import LedgerSnapshot

    try:
        snap = (ledger.snapshot(as_of=date.max) if caught_up
                else LedgerSnapshot(ledger.view, ledger.catalogue, date.max, None))
        return list(snap.reports()), None
    except Exception as error:
        return [], Problem(kind="view", message=f"视图中的报送记录无法读取（{_brief(error)}）；请运行 `qingdan rebuild`")


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


def _fast_path_agrees(ledger: Ledger, answers: list[list[ViewRow]], index_of: dict[Probe, int],
                      reports: list[Any], today: date) -> tuple[bool, bool]:
    """Whether the one read of the view answers as the ledger's snapshot does (today, and at the
    last report's probe, and that report's lists as :meth:`Ledger.two_lists` gives them); and
    whether :class:`Digests` digests them as :func:`rows_digest` does."""
    from .queries import rows_digest

    for probe in [(today, None)] + [(r.as_of, r.known_at) for r in reports[-1:]]:
        mine = _by_list(answers[index_of[probe]], probe[0])
        try:
            if _snapshot_lists(ledger, probe) != mine:
                return False, False
        except Exception:  # the snapshot cannot read the view: neither must the fast path
            if not any(isinstance(r, Unreadable) for rows in mine.values() for r in rows):
                return False, False
    if not reports:
        return True, True
    last = reports[-1]
    lists = _two_lists(answers[index_of[(last.as_of, last.known_at)]], last)
    try:
        real = ledger.two_lists(as_of=last.as_of, known_at=last.known_at, campaign=last.campaign)
    except Exception:
        return lists is None, lists is None
    if lists is None or rows_digest(lists) != rows_digest(real):
        return False, False
    return True, Digests()(lists) == rows_digest(lists)


def _what(report: Any) -> str:
    """A submission, for a message: its number, period, and which submission when not the first."""
    submission = getattr(report, "submission", 1)
    return f"{report.number}（{report.period}{'，第 ' + str(submission) + ' 次报送' if submission > 1 else ''}）"


def verify(ledger: Ledger, *, dates: list[date] | None = None) -> VerifyReport:
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

    store = ledger.view.store
    scan = LogScan(ledger)
    scan.run()
    problems = list(scan.problems)
    trusted = not any(p.kind in BROKEN for p in problems)
    if trusted:
        try:
            ledger.view.catch_up()
        except Exception as error:
            problems.append(Problem(kind="view", message=f"视图无法按事件日志更新（{_brief(error)}）"))
            trusted = False
    reports, unreadable = _reports(ledger, caught_up=trusted)
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

    today = ledger.today()
    probe_dates = sorted(set(dates or []) | {today} | {r.as_of for r in reports})
    probes: list[Probe] = list(dict.fromkeys([(d, None) for d in probe_dates]
                                             + [(r.as_of, r.known_at) for r in reports]))
    index_of = {probe: i for i, probe in enumerate(probes)}
    answers, position = view_at_probes(ledger, probes)
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
    fast_view, fast_digest = _fast_path_agrees(ledger, answers, index_of, reports, today)

    digests = Digests()
    for report in reports:
        try:
            if fast_view:
                lists = _two_lists(answers[index_of[(report.as_of, report.known_at)]], report)
            else:
                lists = ledger.two_lists(as_of=report.as_of, known_at=report.known_at, campaign=report.campaign)
            digest = None if lists is None else digests(lists) if fast_digest else rows_digest(lists)
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
                for name, rows in _snapshot_lists(ledger, probe).items():
                    for row in rows:
                        view.setdefault((name, row.number), []).append(row)
            except Exception as error:
                problems.append(Problem(kind="view", message=f"视图无法读取（截至 {probe[0]}）：{_brief(error)}"
                                                             "；请运行 `qingdan rebuild`"))
                continue
        problems += _view_problems(probe, view, expected[index], same, failed)
    return VerifyReport(events_checked=scan.checked, chain_head=head, reports_checked=len(reports),
                        dates_checked=tuple(probe_dates), problems=tuple(problems))
