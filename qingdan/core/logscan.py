"""One pass over the stored event log for ``verify``: the hash chain re-computed and compared with
``qd_chain``, and every event decoded — or named as a problem when it cannot be.

The rows are read as stored (:meth:`qingdan.core.eventlog.EventLog.stored_rows`), not through
eventsourcing's recorder, so that a row edited into something the recorder cannot even return — text
instead of bytes, NULL, a version that is not a number, a record id that is not a UUID — is named as
a problem like any other edit, never an error.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from .chain import GENESIS, event_hash
from .eventlog import EventLog, StoredRow

SCAN_PAGE = 5000
BROKEN = ("tampered", "missing", "inserted")  # the log itself is not what qingdan wrote
#: every how many events the scan notes the chain's hash, for ``verify`` to remember (and to say,
#: next time, between which two of them history was rewritten)
CHECKPOINT = 1024


class Problem(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    kind: str  # tampered | missing | inserted | unchained | rewritten | report | view | attachment
    message: str
    position: int | None = None
    number: str | None = None


def brief(error: BaseException, width: int = 160) -> str:
    """An error in a line, by its cause when it wraps one (eventsourcing's mapper wraps the decoder's)."""
    error = error.__cause__ or error
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= width else text[:width - 1] + "…"


class LogScan:
    """One pass over the stored event log: the hash chain re-computed and compared with ``qd_chain``,
    and every event decoded, or named as a problem when it cannot be (``streams``: each record's
    decoded events with their positions).

    An incremental ``verify`` sets ``trusted_upto``: an event at or before it whose hash is the
    chain's is only hashed, not decoded (its bytes are the ones verified before); any other is
    decoded and named as usual. ``watch``: positions whose hash to note in ``watched`` (the hash
    computed from the stored row, and the chain's), to compare with hashes remembered outside the
    database. ``checkpoints``: the chain's hash every :data:`CHECKPOINT` events that agree with it."""

    def __init__(self, log: EventLog, store: Any) -> None:
        self.log = log
        self.store = store
        self.position = 0  # everything up to here has been checked
        self.previous = GENESIS
        self.checked = 0
        self.decoded = 0
        self.problems: list[Problem] = []
        self.streams: dict[Any, list[tuple[int, Any]]] = {}
        self.trusted_upto = 0
        self.watch: set[int] = set()
        self.watched: dict[int, tuple[str | None, str | None]] = {}
        self.checkpoints: dict[int, str] = {}
        self.visited = 0  # positions judged (events or chained positions)
        #: which rows of the form qingdan writes to decode (None: all); the others are hashed and
        #: judged against the chain only
        self.decodes: Any = None
        self._numbers: dict[str, str] | None = None
        self._convert: Any = None
        self._event_class: Any = None
        self._uuids: dict[str, UUID] = {}

    def run(self) -> None:
        """Check the log from where the last run stopped to its end."""
        self._numbers = None  # the view may know more records than at the last run
        chained_up_to = self.store.query("SELECT MAX(position) FROM qd_chain")[0][0] or 0
        while True:
            rows = self.log.stored_rows(after=self.position, limit=SCAN_PAGE)
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

    def _passed(self, position: int, digest: str | None, recorded: str | None) -> None:
        """Note a judged position: its hashes when watched, a checkpoint when it agrees with the chain."""
        self.visited += 1
        if position in self.watch:
            self.watched[position] = (digest, recorded)
        if recorded is not None and digest == recorded and self.visited % CHECKPOINT == 0:
            self.checkpoints[position] = recorded

    def _ready(self, row: StoredRow) -> _Stored | None:
        """The row as the recorder returns it (its record id a UUID: what the chain hashed and the
        mapper decodes); None when any of its values is not of the form qingdan writes (then
        :meth:`_decode` reads it, to name what is wrong)."""
        originator_id, version, state = row.originator_id, row.originator_version, row.state
        if type(version) is not int or type(row.topic) is not str:
            return None
        if type(state) is not bytes:
            if not isinstance(state, bytearray | memoryview):
                return None
            state = bytes(state)
        if type(originator_id) is str:
            converted = self._uuids.get(originator_id)
            if converted is None:
                if self._convert is None:
                    self._convert = getattr(self.log.recorder, "convert_originator_id", UUID)
                try:
                    converted = self._convert(originator_id)
                except (ValueError, TypeError):
                    return None
                if not isinstance(converted, UUID) or converted.hex != originator_id:
                    return None
                self._uuids[originator_id] = converted  # each record's id converted once
            originator_id = converted
        elif not isinstance(originator_id, UUID):
            return None
        return _Stored(row.id, originator_id, version, row.topic, state)

    def _check(self, position: int, row: StoredRow | None, recorded: str | None, chained_up_to: int) -> None:
        if row is None:
            self._passed(position, None, recorded)
            self.problems.append(Problem(kind="missing", position=position,
                                         message=f"事件 #{position} 已在哈希链中，但事件记录不见了：被删除"))
            self.previous = recorded
            return
        ready = self._ready(row)
        digest = None
        if ready is not None and position <= self.trusted_upto and recorded is not None:
            digest = event_hash(self.previous, ready)
            if digest == recorded:  # the bytes verified before: hashed, not decoded again
                self._passed(position, digest, recorded)
                self.previous = recorded
                return
        if ready is not None:  # of the form qingdan writes: decoded as the recorder would return it
            originator_id = ready.originator_id
            if self.decodes is None or self.decodes(ready):
                event, unreadable = self._event(ready)
                self.decoded += 1
            else:  # another process decodes it (qingdan.core.halves)
                event, unreadable = None, None
            if digest is None:
                digest = event_hash(self.previous, ready)
        else:
            event, unreadable, originator_id = self._decode(row)
            self.decoded += 1
            # Hashed as the recorder returns it (SQLite stores a UUID as its hex; the chain hashes the UUID).
            digest = event_hash(self.previous, row if originator_id is row.originator_id
                                else replace(row, originator_id=originator_id))
        self._passed(position, digest, recorded)
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
        wrong = []
        originator_id = row.originator_id
        if isinstance(originator_id, str):
            convert = getattr(self.log.recorder, "convert_originator_id", UUID)
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
        event, unreadable = self._event(_Stored(row.id, originator_id, version, row.topic, bytes(state)))
        return event, unreadable, originator_id

    def _event(self, stored: _Stored) -> tuple[Any, str | None]:
        """The domain event of a row whose values are of the form qingdan writes, or None and what
        makes it unreadable."""
        if self._event_class is None:
            from .base import Record

            self._event_class = Record.Event
        try:
            event = self.log.decode(stored)
        except Exception as error:
            return None, f"无法解码（{brief(error)}）"
        if not isinstance(event, self._event_class):
            return None, f"事件类型 {stored.topic} 不是台账的事件"
        on, stamp = getattr(event, "on", None), getattr(event, "timestamp", None)
        if not isinstance(on, date) or not isinstance(stamp, datetime) or stamp.tzinfo is None:
            return None, "缺少有效的日期或登记时间"
        return event, None


class _Stored:
    """A stored event as the recorder returns it (what the mapper decodes and the chain hashes),
    without the cost of eventsourcing's frozen ``Notification``."""

    __slots__ = ("id", "originator_id", "originator_version", "state", "topic")

    def __init__(self, id: int, originator_id: Any, originator_version: int, topic: str, state: bytes) -> None:
        self.id = id
        self.originator_id = originator_id
        self.originator_version = originator_version
        self.topic = topic
        self.state = state


def check_chain(log: EventLog, store: Any) -> tuple[int, list[Problem]]:
    """Recompute the hash chain from the stored events and compare it with ``qd_chain``."""
    scan = LogScan(log, store)
    scan.run()
    return scan.checked, scan.problems
