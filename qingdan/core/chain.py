"""Tamper evidence: a hash chain over the event log.

Every stored event, in log order, is hashed together with the hash of the event before it:
``h(n) = sha256(h(n-1) ‖ position ‖ record id ‖ version ‖ topic ‖ stored bytes)``. The chain is
written by the view's catch-up (so exactly once per event, in the same transaction as the view rows)
into ``qd_chain``. Editing a stored event row changes its hash; deleting one leaves a chained position
with no event; inserting one leaves an event with no chained position (or, at the end, is reported as
not yet chained). A rebuild re-checks the chain and refuses to replay a log that no longer matches.

The chain lives in the same database, so someone able to rewrite both the events and the chain could
hide an edit; for that, each report submission records the chain head at that moment, and
``qingdan verify`` prints the current head so it can be kept outside the database.
"""

from __future__ import annotations

import hashlib
from typing import Any

from .errors import QingdanError

GENESIS = "0" * 64


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


def chain_batch(store: Any, notifications: list[Any], head: tuple[int, str] | None = None) -> str:
    """Extend (or, for positions already chained, re-check) the chain over one batch, in order;
    returns the hash of its last event. ``head``: the chain's end, ``(position, hash)``, when the
    caller has just read it (a write reads it with the view's lock) and the batch follows it:
    nothing more is read."""
    first, last = notifications[0].id, notifications[-1].id
    if head is not None and head[0] == first - 1:
        new = []
        previous = head[1]
        for notification in notifications:
            previous = event_hash(previous, notification)
            new.append((notification.id, previous))
        store.executemany("INSERT INTO qd_chain (position, hash) VALUES (?, ?)", new)
        return previous
    # One statement: the chain's last position before the batch (its hash is the one to go on from)
    # and the positions of the batch already chained (re-checked), instead of one statement each:
    # a single command's transaction is mostly such small statements.
    rows = store.query("SELECT position, hash FROM qd_chain WHERE position <= ? AND position >= "
                       "COALESCE((SELECT MAX(position) FROM qd_chain WHERE position < ?), ?) ORDER BY position",
                       (last, first, first))
    previous = rows[0][1] if rows and rows[0][0] < first else GENESIS
    known = {position: digest for position, digest in rows if position >= first}
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
    return previous


def chain_head(store: Any, position: int | None = None) -> str:
    """The chain's hash at ``position`` (default: its last), GENESIS before any event."""
    if position is None:
        rows = store.query("SELECT hash FROM qd_chain ORDER BY position DESC LIMIT 1")
    else:
        rows = store.query("SELECT hash FROM qd_chain WHERE position <= ? ORDER BY position DESC LIMIT 1",
                           (position,))
    return rows[0][0] if rows else GENESIS
