"""Numbers and batches: the unit of work's creation of records under the next free number
(:class:`NumberAllocation`), setting a batch's finished records aside on disk (:class:`Spill`) and,
under the write lock, giving records created under a number another writer took the next free one
(:func:`renumber`)."""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Callable, Iterator, Sequence, Set
from typing import TYPE_CHECKING, Any, TypeVar

from eventsourcing.persistence import IntegrityError

from .errors import Conflict, InvalidCommand
from .rules import aggregate_id

if TYPE_CHECKING:
    from .base import Record

A = TypeVar("A", bound="Record")

#: events of records set aside (:meth:`UnitOfWork.set_aside`) per chunk of the batch's spill file; also
#: the most events, and so view rows, the store of a large batch holds in memory at once
SPILL_CHUNK = 2_000


class Spill:
    """The events of a batch's finished records, set aside in a temporary file until the batch is
    stored (then read back a chunk at a time, inside the one transaction), so a batch of any size
    holds in memory only the records it still works on.

    A chunk holds whole records (every pending event of each) and the earlier stored events of the
    records it changes that the view needs (:meth:`View.histories`): the store reads nothing from
    the log inside its transaction. What stays in memory is compact: the ids of the records set
    aside and the provisional numbers they were created under.
    """

    def __init__(self) -> None:
        self.file: Any = None
        self.chunks = 0
        self.events = 0
        self.ids: set[Any] = set()
        self.created: dict[str, Any] = {}  # provisional number -> record id, for records created here
        self._events: list[Any] = []
        self._histories: dict[Any, list[Any]] = {}

    def add(self, ident: Any, events: list[Any], histories: dict[Any, list[Any]], movable: Set[str]) -> None:
        self.ids.add(ident)
        for event in events:
            if event.originator_version == 1 and isinstance(getattr(event, "number", None), str) \
                    and event.number in movable:
                self.created[event.number] = event.originator_id
        self._events += events
        self._histories.update(histories)
        self.events += len(events)
        if len(self._events) >= SPILL_CHUNK:
            self._write()

    def _write(self) -> None:
        if not self._events:
            return
        if self.file is None:
            self.file = tempfile.TemporaryFile(prefix="qingdan-batch-")
        pickle.dump((self._events, self._histories), self.file, protocol=pickle.HIGHEST_PROTOCOL)
        self.chunks += 1
        self._events, self._histories = [], {}

    def read(self) -> Iterator[tuple[list[Any], dict[Any, list[Any]]]]:
        """Every chunk, in the order the records were set aside."""
        self._write()
        if self.file is None:
            return
        self.file.flush()
        self.file.seek(0)
        for _ in range(self.chunks):
            yield pickle.load(self.file)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None
        self._events, self._histories = [], {}

    def __bool__(self) -> bool:
        return bool(self.ids)


def first_free(used: Callable[[int], bool], start: int = 1) -> int:
    """Galloping then binary search for an unused number from ``start`` (the first, when the used
    ones from ``start`` on are dense, as allocated numbers are): O(log n) lookups."""
    if not used(start):
        return start
    low, step = start, 1
    high = start + step
    while used(high):
        low, step = high, step * 2
        high = low + step
    while high - low > 1:
        mid = (low + high) // 2
        if used(mid):
            low = mid
        else:
            high = mid
    return high


def renumber(events: list[Any], movable: set[str], lookup: Callable[[Sequence[Any]], set[Any]],
             next_seq: dict[str, int], *, created: dict[str, Any] | None = None,
             pending: Set[Any] = ()) -> tuple[dict[str, str], set[int]]:
    """Under the log's write lock: give every record created in ``events`` under a ``movable`` number
    that the log already holds the next free number, in every event (its record id, and each field
    whose whole value is the number; the new number joins ``movable``). Returns ``{old: new}`` and the
    indexes of the events changed.

    The events are not yet stored, and nothing else holds them: setting their fields here is the
    same as having created them with the new number. ``created`` and ``pending``: the numbers and
    record ids of a batch's records set aside (:class:`Spill`), whose events are renumbered as they
    are read back (:func:`apply_renumbering`).
    """
    created = {**(created or {}), **{
        e.number: e.originator_id for e in events
        if e.originator_version == 1 and isinstance(getattr(e, "number", None), str) and e.number in movable}}
    if not created:
        return {}, set()
    taken = lookup(list(created.values()))
    if not taken:
        return {}, set()
    pending = {e.originator_id for e in events} | set(pending)
    mapping: dict[str, str] = {}
    for number, ident in created.items():
        if ident not in taken:
            continue
        prefix, _, seq = number.rpartition("-")
        width = len(seq)

        def used(n: int, prefix: str = prefix, width: int = width) -> bool:
            ident = aggregate_id(f"{prefix}-{n:0{width}d}")
            return ident in pending or bool(lookup([ident]))

        free = f"{prefix}-{first_free(used, max(int(seq) + 1, next_seq.get(prefix, 1))):0{width}d}"
        mapping[number] = free
        movable.add(free)
        pending.add(aggregate_id(free))
    return mapping, apply_renumbering(events, mapping)


def apply_renumbering(events: list[Any], mapping: dict[str, str]) -> set[int]:
    """Give the events the new numbers of ``mapping`` (``{old: new}``, from :func:`renumber`): record
    ids and whole fields; returns the indexes of the events changed."""
    ids = {aggregate_id(old): aggregate_id(new) for old, new in mapping.items()}
    changed = set()
    for index, event in enumerate(events):
        touched = False
        if event.originator_id in ids:
            object.__setattr__(event, "originator_id", ids[event.originator_id])
            touched = True
        for name, value in list(vars(event).items()):
            swapped = _swap(value, mapping)
            if swapped is not value:
                object.__setattr__(event, name, swapped)
                touched = True
        if touched:
            changed.add(index)
    return changed


def _swap(value: Any, mapping: dict[str, str]) -> Any:
    """``value`` with every string equal to a key of ``mapping`` replaced (the same object if none is)."""
    if isinstance(value, str):
        return mapping.get(value, value)
    if isinstance(value, tuple | list):
        items = [_swap(v, mapping) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else type(value)(items)
    if isinstance(value, dict):
        swapped = {k: _swap(v, mapping) for k, v in value.items()}
        return value if all(swapped[k] is v for k, v in value.items()) else swapped
    return value



class NumberAllocation:
    """The unit of work's creation of records: number allocation, tracking (a part of
    :class:`UnitOfWork`, which holds the state)."""

    _next_seq: dict[str, int]
    _movable: set[str]
    _batch: dict[Any, Record] | None
    _probed: set[str]
    exists: Callable[[str], bool]
    pending: Callable[[str], bool]
    clocked: Callable[[], Any]
    save: Callable[..., None]
    numbered: Callable[[str], str]

    def track(self, cls: type[A], key: str, number: str, campaign: Any, actor: str) -> None:
        """Start the ledger's record of a plugin-defined task or target (once; idempotent), in the
        name of whoever's command needs it."""
        if not self.exists(key):
            with self.clocked():
                record = cls.track(number=number, campaign=campaign.id, start=campaign.start,
                                   actor=actor)
            try:
                self.save(record)
            except IntegrityError:
                pass  # another writer started tracking it first: same record

    def create(self, prefix: str, width: int, make: Callable[[str], Record],
               given: str | None = None) -> str:
        """Allocate the next free number under ``prefix`` and create the record under it.

        The aggregate id is derived from the number. The number is chosen before the write (the
        next free one as this process sees it) and checked under the log's write lock when the
        record is stored: if another writer took it meanwhile, the record is given the next free
        number there (:meth:`store`), so a command never fails on a number. In a batch the number
        returned is final unless the batch made it provisional (``batch(provisional=…)``), and a
        clash otherwise fails the batch (:class:`Conflict`). ``given``: a number chosen by the
        caller (an import of an exported 台账 keeps its numbers); it must have the form of this
        prefix and be unused — unless it is one of the batch's provisional numbers, which moves on to
        the next free one when the batch is stored if another writer took it.
        """
        if given is not None:
            if not given.startswith(prefix + "-") or not given[len(prefix) + 1:].isdigit() \
                    or len(given) - len(prefix) - 1 < width:
                raise InvalidCommand(f"编号“{given}”格式不对，应为 {prefix}-{'0' * (width - 1)}1 这样的形式")
            if given in self._movable:
                pass  # provisional: if another writer has it by the time the batch is stored, it moves on
            elif self.exists(given):
                raise Conflict(f"编号 {given} 已存在，不能重复登记")
            with self.clocked():
                aggregate = make(given)
            try:
                self.save(aggregate)
            except IntegrityError:
                raise Conflict(f"编号 {given} 已被其他人同时登记") from None
            return given
        number = self._allocate(prefix, width, self._next_seq.get(prefix) or 1)
        with self.clocked():
            aggregate = make(number)
        try:
            self.save(aggregate, movable=frozenset({number}))
        except IntegrityError:
            raise Conflict(f"编号 {number} 已被其他人同时登记，请重试") from None
        if self._batch is None:
            number = self.numbered(number)
        seq = int(number.rpartition("-")[2])
        self._next_seq[prefix] = max(self._next_seq.get(prefix, 0), seq + 1)
        return number

    def _allocate(self, prefix: str, width: int, start: int) -> str:
        """The first number from ``start`` that is neither stored nor pending in this batch (a guess,
        checked again under the write lock). In a batch the log is asked once per prefix: after that
        the batch's own sequence is as good a guess (a number another writer takes meanwhile is
        caught when the batch is stored, as it would be between one look-up and the store), and a
        look-up per new record was a tenth of a 台账 import."""
        if self._batch is not None and prefix in self._probed:
            return f"{prefix}-{first_free(lambda n: self.pending(f'{prefix}-{n:0{width}d}'), start):0{width}d}"
        if self._batch is None and prefix in self._next_seq:
            # A single command after this process's first number under the prefix: the next of its
            # own sequence is as good a guess, for the same reason (the store gives the next free
            # one if another writer took it); the look-up cost a registration 0.08 of 0.9 ms (round 2).
            return f"{prefix}-{start:0{width}d}"
        if self._batch is not None:
            self._probed.add(prefix)
        return f"{prefix}-{first_free(lambda n: self.exists(f'{prefix}-{n:0{width}d}'), start):0{width}d}"


__all__ = ["SPILL_CHUNK", "NumberAllocation", "Spill", "apply_renumbering", "first_free", "renumber"]
