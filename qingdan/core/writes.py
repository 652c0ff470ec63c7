"""The write path: load a record, run a command method on it, store its events, catch the view up.

One :class:`UnitOfWork` per ledger holds what every command needs: the clock of the write, the batch
in progress, the records this process stored recently, number allocation, the retries on a
concurrent write and the policy checkpoint. Command handlers (:mod:`qingdan.core.handlers`) call it;
nothing here knows what a hazard or a measure means.
"""

from __future__ import annotations

import copy
import gc
import random
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence, Set
from contextlib import contextmanager
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError, Notification, Recording

from .batching import SPILL_CHUNK, NumberAllocation, Spill, apply_renumbering, first_free, renumber
from .clock import CST, current_clock
from .errors import (
    Conflict,
    InvalidCommand,
    NotFound,
    PermissionDenied,
    QingdanError,
    ViewBehind,
    WriteFailed,
)
from .errors import show as _show
from .kinds import kind_label, kind_of_class
from .policy import AccessRequest, Authoriser
from .rules import POLICY_KEY, aggregate_id, no_future
from .store import TICK, restamp

if TYPE_CHECKING:
    from .base import Record
    from .commands import Command

A = TypeVar("A", bound="Record")
#: ``refresh(newer)`` → the records reloaded and changed again, or None when nobody wrote since (see
#: ``store``); ``newer(record_id, version)`` asks the write's own transaction
Refresh = Callable[[Callable[[Any, int], bool]], "Sequence[Record] | None"]
RETRIES = 20
RECENT = 5000  # records kept in memory after being stored
WATCH = 20  # a write of at most this many records reads their versions with the log's last event
POLICY_ID = aggregate_id(POLICY_KEY)  # the record of the ledger's policy
class LogMoved(Exception):
    """Another writer added to the log after a submission's lists were read: read them again."""


class PolicyMoved(Exception):
    """Under the write lock: the ledger's policy is no longer the one the command was judged
    against (another writer changed it): judge the command again on the policy as it is now."""


def failure_reason(error: BaseException) -> str:
    """What went wrong, as a clerk can pass it on: the database's own words, in Chinese where known."""
    text = str(error.__cause__ or error) or type(error).__name__
    lowered = text.lower()
    if "disk is full" in lowered or "no space left" in lowered or "could not extend file" in lowered:
        return f"磁盘已满：{text}"
    if "too many clients" in lowered or "too many connections" in lowered or "connection limit" in lowered:
        return f"数据库连接数已满：{text}"
    return text


def backoff(attempt: int) -> None:
    """After losing a race: wait a little, at random, longer each time. A write holds the log's lock
    for its events *and* its view rows, so a loser that reloaded at once would mostly read while the
    next winner holds the lock, and lose again; stepping aside lets it read a settled state."""
    time.sleep(random.uniform(0, 0.002 * min(attempt + 1, 10)))


def recorded_time(mapper: Any, notification: Any) -> datetime | None:
    """The recorded time of a stored event (None for none, or one that cannot be read)."""
    if notification is None:
        return None
    try:
        return mapper.to_domain_event(notification).timestamp
    except Exception:  # an event altered outside qingdan: `verify` names it; writing goes on
        return None


def check_number(number: object) -> None:
    if not isinstance(number, str) or not 0 < len(number) <= 120:
        raise NotFound(f"编号应为文字（如 H-fire-2020-0007），收到 {_show(number)}")


class WriteClock:
    """The time of a write: the ledger's injectable clock, or the one moment of the open batch."""

    clock: Callable[[], datetime]
    _batch_stamp: datetime | None = None

    def now(self) -> datetime:
        stamp = self.clock()
        if stamp.tzinfo is None:
            raise ValueError("the ledger clock must return an aware datetime")
        return stamp

    def today(self) -> date:
        return self.now().astimezone(CST).date()

    @contextmanager
    def clocked(self) -> Iterator[None]:
        """Events created inside take their recorded time from this ledger's clock (or the batch's)."""
        stamp = self._batch_stamp
        token = current_clock.set(self.now if stamp is None else (lambda: stamp))
        try:
            yield
        finally:
            current_clock.reset(token)

    def check_future(self, on: date) -> None:
        no_future(on, self.today())


class CommandRun:
    """The unit of work's facade commands and their judgement against the ledger's policy (a part
    of :class:`UnitOfWork`, which holds the state)."""

    policy: Authoriser
    _departments: Callable[[type[Record], Any], tuple[str, ...]]
    batch_memo: dict[str, Any]
    _commands: int  # facade commands running (nested: a command calling another)
    #: the version of the ledger's policy (0: none) the running single command was judged against,
    #: when it was taken from memory rather than read: every write of the command checks it under
    #: the write lock (:class:`PolicyMoved`); None when the command read the policy
    _judged_on: int | None
    #: ``policy_current()`` → whether the policy held in memory is still the stored one (reads the
    #: log); ``policy_stale()``: it must be read again (both set by the policy's handler)
    policy_current: Callable[[], bool]
    policy_stale: Callable[[], None]
    batching: bool

    @contextmanager
    def command(self) -> Iterator[None]:
        """One facade command: what it reads of the stored policy it reads once, as a batch does
        (the policy was looked up twice a command, for its actor and for its authorisation: a
        fifth of a single command's time), so it is judged against the policy as it began."""
        if not self._commands and not self.batching:
            self.batch_memo.clear()
        self._commands += 1
        try:
            yield
        finally:
            self._commands -= 1
            if not self._commands and not self.batching:
                self.batch_memo.clear()

    def run_command(self, body: Callable[[], str]) -> str:
        """Run one facade command (:meth:`command`). A single command is judged against the policy
        held in memory, without reading it (a read of the log per command: 0.08 of 0.9 ms in round
        2's profile); its writes check under the write lock that the policy is still that one. If
        another writer has changed the policy since, the command is judged and run again on the
        policy as it is now — before it writes (:class:`PolicyMoved`), or when the policy it was
        judged on refused it."""
        for _ in range(RETRIES):
            outermost = not self._commands and not self.batching
            try:
                with self.command():
                    return body()
            except PolicyMoved:
                if not outermost:
                    raise
                self.policy_stale()
            except (PermissionDenied, InvalidCommand):
                if not outermost or self._judged_on is None or self.policy_current():
                    raise
                self.policy_stale()  # refused on a policy another writer has changed since: again
            finally:
                if outermost:
                    self._judged_on = None
        raise Conflict(f"权限配置正被其他人频繁修改，已重试 {RETRIES} 次仍未成功，请稍后再试")

    def judged_on_memory(self, version: int) -> None:
        """The running single command is judged against the policy of ``version`` held in memory."""
        self._judged_on = version

    @property
    def memoising(self) -> bool:
        return self.batching or self._commands > 0

    @property
    def single_command(self) -> bool:
        """A facade command runs, not in a batch."""
        return self._commands > 0 and not self.batching

    def authorise(self, cls: type[Record], action: str, actor: str, number: str | None,
                  record: Any = None, departments: tuple[str, ...] | None = None,
                  details: dict[str, Any] | None = None) -> None:
        if departments is None:
            departments = self._departments(cls, record) if record is not None else ()
        self.policy.authorise(AccessRequest(actor=actor, kind=cls.__name__, command=action,
                                            number=number, record=record, departments=departments,
                                            details=dict(details or {})))


class UnitOfWork(WriteClock, NumberAllocation, CommandRun):
    """Stores records' new events in one transaction each (or one per batch), then catches the view up."""

    def __init__(self, app: Any, view: Any, *, actor: str, clock: Callable[[], datetime],
                 policy: Authoriser, departments: Callable[[type[Record], Any], tuple[str, ...]]) -> None:
        self.app = app
        self.view = view
        self.actor = actor
        self.clock = clock
        self.policy = policy
        self._departments = departments
        self._next_seq: dict[str, int] = {}
        self._recent: OrderedDict[Any, Record] = OrderedDict()
        self._batch: dict[Any, Record] | None = None
        self._batch_stamp: datetime | None = None
        self._spill: Spill | None = None  # the open batch's records set aside
        #: attachment contents to store with the next write (sha256 → bytes), in its transaction
        self._blobs: dict[str, bytes] = {}
        self._movable: set[str] = set()  # numbers of this batch that may be renumbered when stored
        self._numbered: dict[str, str] = {}  # the last store's renumbering
        self.batch_memo: dict[str, Any] = {}  # what holds for the open batch or command (the policy's reads)
        self._commands = 0
        self._judged_on: int | None = None
        self.policy_current: Callable[[], bool] = lambda: True
        self.policy_stale: Callable[[], None] = lambda: None
        #: the last event this process stored — (position, record id, version) — and its recorded
        #: time: when it is still the log's last under the next write's lock, its time is known
        #: without decoding it again
        self._last_stored: tuple[tuple[int, Any, int], datetime] | None = None

    def common(self, c: Command) -> dict[str, Any]:
        """The effective date, actor and note every event carries."""
        resolve = getattr(self.policy, "actor", None)
        actor = resolve(c.actor) if callable(resolve) else (c.actor or self.actor)
        return {"on": c.on or self.today(), "actor": actor, "note": c.note}

    # -- batches -------------------------------------------------------------------------------

    @contextmanager
    def batch(self, provisional: Iterable[str] = ()) -> Iterator[None]:
        """Commands inside are stored together, in one transaction, or not at all (see ``Ledger.batch``).

        ``provisional``: numbers the caller chose for records it creates in the batch; one that
        another writer registers first is replaced, when the batch is stored, by the next free
        number (:meth:`numbered` gives the final ones)."""
        if self._batch is not None:
            self._movable.update(provisional)
            yield  # already batching: the outer block commits
            return
        self._batch = {}
        self._probed = set()  # prefixes whose next free number this batch looked up
        self.batch_memo.clear()
        self._batch_stamp = self.now()
        self._movable = set(provisional)
        self._numbered = {}
        spill = self._spill = Spill()
        allocated = dict(self._next_seq)
        try:
            try:
                yield
                pending = list(self._batch.values())
            except BaseException:
                self._next_seq = allocated
                self._blobs.clear()
                self._movable = set()
                raise
            finally:
                self._batch = None
                self._batch_stamp = None
                self._spill = None
            movable, self._movable = self._movable, set()
            if not pending and not spill:
                self._blobs.clear()
                return
            try:
                self.store(pending, movable=movable, spill=spill)
            except IntegrityError:
                self._next_seq = allocated
                raise Conflict("批量登记期间其他人也登记了相同编号或修改了相同记录，本批未写入，请重试") from None
            except WriteFailed:
                self._next_seq = allocated
                raise
            finally:
                self._blobs.clear()
        finally:
            spill.close()

    def set_aside(self, key: str) -> None:
        """In a batch: the record ``key`` is finished (no later command of the batch touches it); its
        events wait in the batch's temporary file instead of in memory until the batch is stored.
        Outside a batch, or for a record the batch has not changed, nothing happens."""
        if self._batch is None or self._spill is None:
            return
        ident = aggregate_id(key)
        aggregate = self._batch.pop(ident, None)
        if aggregate is None:
            return
        events = aggregate.collect_events()
        self._spill.add(ident, events, self.view.histories(events), self._movable)

    @property
    def batching(self) -> bool:
        return self._batch is not None

    @contextmanager
    def staged(self, sha256: str, data: bytes) -> Iterator[None]:
        """The content of an attachment, stored by the write inside (or, in a batch, by the batch's)
        in the same transaction as its event; dropped if nothing is written."""
        self._blobs[sha256] = data
        try:
            yield
        finally:
            if self._batch is None:
                self._blobs.pop(sha256, None)

    # -- records -------------------------------------------------------------------------------

    def pending(self, key: str) -> bool:
        """Created or changed by the open batch and not stored yet (held, or set aside)."""
        ident = aggregate_id(key)
        return (self._batch is not None and ident in self._batch) or (
            self._spill is not None and ident in self._spill.ids)

    def exists(self, key: str) -> bool:
        return self.pending(key) or bool(self.app.recorder.select_events(aggregate_id(key), limit=1))

    def get(self, cls: type[A], number: str, key: str | None = None) -> A:
        """The record's current state (as changed so far in this batch), or :class:`NotFound`."""
        check_number(number)
        ident = aggregate_id(key or number)
        if self._batch is not None and ident in self._batch:
            aggregate: Any = self._batch[ident]
        elif self._spill is not None and ident in self._spill.ids:
            raise RuntimeError(f"{number} was set aside in this batch and cannot be changed again in it")
        else:
            try:
                aggregate = self._load(ident)
            except AggregateNotFoundError:
                raise NotFound(f"台账中没有 {_show(number)}") from None
        if not isinstance(aggregate, cls):
            raise NotFound(f"{_show(number)} 不是{kind_label(cls)}")
        return aggregate

    def _load(self, key: Any) -> Record:
        """A record's current state: as this process last stored it, else folded from the store.

        The cached state may be behind if another process wrote to the record since; then the
        save that follows fails on the version number (nothing is written), the record is
        dropped from the cache, and the command is checked again on fresh state (:meth:`act`)
        or the batch reports :class:`Conflict`. Always a fresh copy, so a command that is rejected
        or loses a race leaves nothing half-changed behind.
        """
        cached = self._recent.get(key)
        if cached is None:
            return self.app.repository.get(key)
        aggregate = copy.copy(cached)  # states hold immutable values; events replace, never mutate
        aggregate._pending_events = []
        return aggregate

    def forget(self, aggregate: Record) -> None:
        self._recent.pop(aggregate.id, None)

    def numbered(self, number: str) -> str:
        """The number a record created under ``number`` was stored under (renumbered at write time
        when another writer had taken it)."""
        return self._numbered.get(number, number)

    def save(self, *aggregates: Record, refresh: Refresh | None = None,
             movable: frozenset[str] = frozenset()) -> None:
        if self._batch is not None:
            for aggregate in aggregates:
                self._batch[aggregate.id] = aggregate
            return
        # the events and the view, in one transaction (or the view just after)
        self.store(aggregates, refresh=refresh if self._reads_under_lock else None, movable=movable)

    @property
    def _reads_under_lock(self) -> bool:
        """Whether another connection may read while a write transaction is open (not so for an
        in-memory SQLite ledger, whose connections take turns)."""
        pool = getattr(self.app.recorder.datastore, "pool", None)
        return not getattr(pool, "is_sqlite_memory_mode", False)

    def store(self, aggregates: Sequence[Record], *, at_position: int | None = None,
              stamp_known_at: Callable[[Sequence[Any]], None] | None = None,
              refresh: Refresh | None = None, movable: Set[str] = frozenset(),
              spill: Spill | None = None) -> list[Any]:
        """Put the aggregates' new events in the event store, in one transaction.

        What ``Application.save`` does for us (we use neither its snapshots nor its notifications),
        minus its per-object runtime-protocol checks, which cost more than the insert — plus one
        rule: under the log's write lock, each event's recorded time is raised, if need be, to just
        after the last event already in the log (:func:`restamp`), so recorded time and log order
        agree whatever the writers' clocks say. ``at_position``: the log must end exactly there (a
        submission computed from the log up to that position), else :class:`LogMoved`;
        ``stamp_known_at(events)``: called once the recorded times are final. ``refresh(newer)``: called
        under the lock first; if another writer changed the records since they were loaded it returns
        them reloaded with the command run again (or raises the command's error), else None.
        ``movable``: numbers of
        records created here that were chosen before the lock was held; under the lock, one that the
        log already holds is replaced by the next free number in every event, before any is
        serialised for good (:func:`renumber`) — so the chain, computed later from the stored
        bytes, covers the final numbers and no event is changed after it is stored. ``spill``: the
        batch's records set aside; their events are inserted after ``aggregates``' in the same
        transaction, a chunk at a time (restamped, renumbered, serialised and applied to the view
        chunk by chunk), so the store holds at most :data:`SPILL_CHUNK` of them at once.
        """
        mapper = self.app.mapper
        pending: list[tuple[Record, list[Any]]] = []
        events: list[Any] = []
        stored: list[Any] = []

        def take(records: Sequence[Record]) -> None:
            pending[:] = [(aggregate, aggregate.collect_events()) for aggregate in records]
            events[:] = [event for _, batch in pending for event in batch]
            stored[:] = [mapper.to_stored_event(event) for event in events]

        take(aggregates)
        self._numbered = {}
        movable = set(movable)  # renumber adds the numbers it gives, should the insert be retried
        before: list[int] = []
        applied: list[bool] = []
        spilled = spill is not None and bool(spill)
        # the chunk being inserted (its events and stored events), the log's position before it,
        # the renumbering of this attempt and the recorded time the next chunk follows
        current: list[Any] = [events, stored]
        position: list[int] = []
        renumbered: dict[str, str] = {}
        after: list[datetime | None] = [None]

        def restamp_under_lock(last: Any, reads: Any = None) -> list[Any]:
            if judged_on is not None and reads is not None and (reads.versions.get(POLICY_ID) or 0) != judged_on:
                raise PolicyMoved
            if refresh is not None and reads is not None:
                # Under the lock nobody else can write: a reload now is the state we write after.
                replaced = refresh(reads.newer)
                if replaced is not None:
                    take(replaced)
            before.append(last.id if last is not None else 0)
            if at_position is not None and before[-1] != at_position:
                raise LogMoved
            lookup = reads.lookup if reads is not None else (lambda ids: set())
            mapping, changed = renumber(events, movable, lookup, self._next_seq,
                                        created=spill.created if spilled else None,
                                        pending=spill.ids if spilled else ())
            renumbered.clear()
            renumbered.update(mapping)
            if mapping:  # composed with an earlier attempt's (eventsourcing retries a lost connection)
                earlier = {old: mapping.get(new, new) for old, new in self._numbered.items()}
                self._numbered = {**{k: v for k, v in mapping.items() if k not in self._numbered.values()},
                                  **earlier}
            changed.update(restamp(events, self.recorded_time(last)))
            if stamp_known_at is not None:
                stamp_known_at(events)
                changed.update(range(len(events)))
            for index in changed:
                stored[index] = mapper.to_stored_event(events[index])
            current[:] = [events, stored]
            position[:] = [before[-1]]
            after[0] = events[-1].timestamp - TICK if events else self.recorded_time(last)
            return stored

        def more() -> Iterator[list[Any]]:
            """Under the lock, after the first insert: the records set aside, a chunk at a time."""
            assert spill is not None
            for chunk, histories in spill.read():
                if renumbered:
                    apply_renumbering(chunk, renumbered)
                restamp(chunk, after[0])  # a batch's events share one recorded time, chunk after chunk
                after[0] = chunk[-1].timestamp - TICK
                chunk_stored = [mapper.to_stored_event(event) for event in chunk]
                self.view.prepare(chunk, histories)
                current[:] = [chunk, chunk_stored]
                yield chunk_stored

        def recordings_of(ids: Sequence[int], events: Sequence[Any], stored: Sequence[Any]) -> list[Any]:
            return [Recording(event, Notification(
                        id=position, originator_id=s.originator_id, originator_version=s.originator_version,
                        topic=s.topic, state=s.state))
                    for event, s, position in zip(events, stored, ids or (), strict=True)]

        def view_within(ids: Sequence[int], conn: Any) -> None:
            # Same transaction as the events: both commit, or neither (disk full, a lost connection).
            applied.append(self.view.apply_within(conn, recordings_of(ids, *current), position[-1]))
            position.append(ids[-1])

        # A single command's records: their last versions are read with the log's last event, in
        # one statement under the lock (``refresh`` and the renumbering ask about these ids) — and
        # the policy's, when the command was judged on the policy held in memory.
        watch = [aggregate.id for aggregate, _ in pending] if len(pending) <= WATCH else []
        judged_on = self._judged_on if self.single_command else None
        if judged_on is not None:
            watch.append(POLICY_ID)
        try:
            self.view.prepare(events)
            ids = self.app.recorder.insert_events(list(stored), restamp=restamp_under_lock, within=view_within,
                                                  blobs=list(self._blobs.items()), watch=watch,
                                                  **({"more": more} if spilled else {}))
        except (IntegrityError, LogMoved, PolicyMoved, QingdanError):
            self._forget_all([aggregate for aggregate, _ in pending] + list(aggregates))
            raise
        except Exception as error:
            self._forget_all([aggregate for aggregate, _ in pending] + list(aggregates))
            raise WriteFailed(f"未能写入台账（{failure_reason(error)}），本次操作没有记下任何内容，台账保持原样；"
                              "请排除问题后重试") from error
        if ids and not spilled and events:
            self._last_stored = ((ids[-1], events[-1].originator_id, events[-1].originator_version),
                                 events[-1].timestamp)
        if applied and all(applied) and not spilled:
            self.view.committed()
        for aggregate, batch in pending:
            if self._numbered:
                continue  # renumbered: the aggregates hold the numbers they were created with
            if batch:
                aggregate._modified_on = batch[-1].timestamp
            self._recent[aggregate.id] = aggregate
            self._recent.move_to_end(aggregate.id)
        while len(self._recent) > RECENT:
            self._recent.popitem(last=False)
        # a batch that set records aside is not held whole: a view left behind reads them from the log
        recordings = [] if spilled else recordings_of(ids or (), events, stored)
        if not (applied and all(applied)):
            self.settle(recordings)
        return recordings

    def _forget_all(self, aggregates: Sequence[Record]) -> None:
        for aggregate in aggregates:
            self.forget(aggregate)
        self.view.forget()

    def settle(self, recordings: Sequence[Any] = ()) -> None:
        """After a commit whose view could not be updated in the same transaction (the view was
        behind): catch it up now; if that fails, say that the facts are recorded all the same."""
        try:
            self.view.catch_up(recordings=recordings)
        except Exception as error:
            self.view.forget()
            count = len(recordings)
            raise ViewBehind(
                f"已记下{f' {count} 个' if count else ''}事件（数据已保存，请不要重复登记），但清单视图未能随之更新"
                f"（{failure_reason(error)}）；排除问题后，下一次查询或操作会自动补上，也可运行 qingdan rebuild") from error

    def recorded_time(self, notification: Any) -> datetime | None:
        """The recorded time of a stored event (None for none, or one that cannot be read)."""
        known = self._last_stored
        if notification is not None and known is not None and known[0] == (
                notification.id, notification.originator_id, notification.originator_version):
            return known[1]  # this process's own last event, still the log's last: no decoding
        return recorded_time(self.app.mapper, notification)

    # -- commands on a record -----------------------------------------------------------------

    def act(self, cls: type[A], number: str, action: str, command: Command, /, *,
            key: str | None = None, **kwargs: Any) -> str:
        """Load, run a command method, save; on a concurrent write, reload and try again."""
        common = self.common(command)
        for attempt in range(RETRIES):
            aggregate = self.get(cls, number, key)
            try:
                self.authorise(cls, action, common["actor"], number, aggregate, details=kwargs)
                with self.clocked():
                    getattr(aggregate, action)(**common, **kwargs)
            except (InvalidCommand, PermissionDenied):
                if self._recent.pop(aggregate.id, None) is not None and not (
                        self._batch and aggregate.id in self._batch):
                    continue  # judged on the cached state, which may be stale: judge again on fresh
                raise
            try:
                self.save(aggregate, refresh=self._redo(aggregate, cls, action, common, number, kwargs))
            except IntegrityError:
                backoff(attempt)  # another writer got there first: re-check the rules on fresh state
                continue
            return number
        raise Conflict(f"{number} 正被其他人同时修改，已重试 {RETRIES} 次仍未成功，请稍后再试")

    def _redo(self, aggregate: Record, cls: type[Record], action: str, common: dict[str, Any], number: str,
              kwargs: dict[str, Any]) -> Refresh:
        """Under the write lock: if the record has changed since it was loaded, load it again and
        judge and run the command again on that state (so a busy record's writers take turns
        instead of losing the race to whoever holds the lock while they reload)."""
        loaded = aggregate.version - len(aggregate._pending_events)

        def refresh(newer: Callable[[Any, int], bool]) -> list[Record] | None:
            if not newer(aggregate.id, loaded):
                return None
            fresh = self.app.repository.get(aggregate.id)
            self.authorise(cls, action, common["actor"], number, fresh, details=kwargs)
            with self.clocked():
                getattr(fresh, action)(**common, **kwargs)
            return [fresh]

        return refresh

@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a batch builds and stores its records.

    A batch holds several objects per event until it is stored (all or nothing), and every
    automatic collection walks all live objects: at county scale collections took a fifth of the
    batch ingest (5.7 s of 27 s). Reference counting frees memory as usual meanwhile; cycles left
    behind are collected by the next collection after the batch."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


__all__ = ["RETRIES", "SPILL_CHUNK", "LogMoved", "NumberAllocation", "Spill", "UnitOfWork", "apply_renumbering", "check_number",
           "first_free", "kind_of_class", "renumber"]
