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
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from .errors import QingdanError

if TYPE_CHECKING:
    from .ledger import Ledger

GENESIS = "0" * 64
PAGE = 1000


class TamperDetected(QingdanError):
    """Raised when the stored event log no longer matches its hash chain (an event row was edited,
    deleted or inserted outside qingdan)."""


def event_hash(previous: str, notification: Any) -> str:
    head = (f"{previous}\x1f{notification.id}\x1f{notification.originator_id}\x1f"
            f"{notification.originator_version}\x1f{notification.topic}\x1f").encode()
    return hashlib.sha256(head + bytes(notification.state)).hexdigest()


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


def _number_of(ledger: Ledger, originator_id: Any) -> str | None:
    rows = ledger.view.store.query("SELECT number FROM qd_versions WHERE aggregate_id = ? LIMIT 1",
                                   (str(originator_id),))
    return rows[0][0] if rows else None


def check_chain(ledger: Ledger) -> tuple[int, list[Problem]]:
    """Recompute the hash chain from the stored events and compare it with ``qd_chain``."""
    store = ledger.view.store
    recorder = ledger.app.recorder
    problems: list[Problem] = []
    previous = GENESIS
    checked = 0
    position = 0
    chained_up_to = store.query("SELECT MAX(position) FROM qd_chain")[0][0] or 0
    while True:
        notifications = recorder.select_notifications(start=position + 1, limit=PAGE)
        upper = notifications[-1].id if notifications else chained_up_to
        chain = dict(store.query("SELECT position, hash FROM qd_chain WHERE position > ? AND position <= ?",
                                 (position, max(upper, position))))
        events = {n.id: n for n in notifications}
        checked += len(notifications)
        for pos in sorted(events.keys() | chain.keys()):
            notification = events.get(pos)
            recorded = chain.get(pos)
            if notification is None:
                problems.append(Problem(kind="missing", position=pos,
                                        message=f"事件 #{pos} 已在哈希链中，但事件记录不见了：被删除"))
                previous = recorded
                continue
            number = None
            if recorded is None:
                number = _number_of(ledger, notification.originator_id)
                if pos > chained_up_to:
                    problems.append(Problem(
                        kind="unchained", position=pos, number=number,
                        message=f"事件 #{pos} 尚未纳入哈希链（写入后视图未更新，或在 qingdan 之外追加）"))
                    previous = event_hash(previous, notification)
                else:
                    problems.append(Problem(
                        kind="inserted", position=pos, number=number,
                        message=f"事件 #{pos}（{number or notification.originator_id}）不在哈希链中："
                                "在 qingdan 之外插入"))
                continue
            if event_hash(previous, notification) != recorded:
                number = _number_of(ledger, notification.originator_id)
                problems.append(Problem(
                    kind="tampered", position=pos, number=number,
                    message=f"事件 #{pos}（{number or notification.originator_id} 第 "
                            f"{notification.originator_version} 个事件）内容与哈希链不符：记录被改动"))
            previous = recorded  # judge each later event on its own, against the chained hash
        if not notifications:
            break
        position = notifications[-1].id
    return checked, problems


def verify(ledger: Ledger, *, dates: list[date] | None = None) -> VerifyReport:
    """Check the hash chain, every submitted report's digest, and the view against the reference fold."""
    from .queries import rows_digest
    from .reference import fold_streams, load_streams

    checked, problems = check_chain(ledger)
    head = chain_head(ledger.view.store)
    for report in ledger.snapshot(as_of=date.max).reports():
        at = ledger.view.store.query("SELECT hash FROM qd_chain WHERE position = ?", (report.position,))
        if report.position and (not at or at[0][0] != report.chain):
            problems.append(Problem(
                kind="report", number=report.number, position=report.position,
                message=f"{report.number} 报送时记录的哈希链头与现在的哈希链（#{report.position}）不一致"))
    if any(p.kind in ("tampered", "missing", "inserted") for p in problems):
        # Reconstructions from a log that was tampered with prove nothing; stop here.
        return VerifyReport(events_checked=checked, chain_head=head, reports_checked=0,
                            dates_checked=(), problems=tuple(problems))
    ledger.view.catch_up()
    reports = list(ledger.snapshot(as_of=date.max).reports())
    for report in reports:
        lists = ledger.two_lists(as_of=report.as_of, known_at=report.known_at, campaign=report.campaign)
        if rows_digest(lists) != report.digest:
            problems.append(Problem(
                kind="report", number=report.number,
                message=f"{report.number}（{report.period}）报送时的清单摘要与现在按同一时点重建的不一致"))
    streams = load_streams(ledger.app)
    probe_dates = sorted(set(dates or []) | {ledger.today()} | {r.as_of for r in reports})
    probes = [(d, None) for d in probe_dates] + [(r.as_of, r.known_at) for r in reports]
    for as_of, known_at in probes:
        expected = fold_streams(streams, as_of, known_at)
        snap = ledger.snapshot(as_of=as_of, known_at=known_at)
        for kind, actual in (("hazards", list(snap.hazards())), ("measures", list(snap.measures())),
                             ("units", list(snap.all_units()))):
            if actual != expected[kind]:
                wrong = sorted({r.number for r in actual} ^ {r.number for r in expected[kind]}
                               | {a.number for a, b in zip(actual, expected[kind], strict=False) if a != b})
                problems.append(Problem(
                    kind="view", number=wrong[0] if wrong else None,
                    message=f"视图与事件重放不一致（{kind}，截至 {as_of}"
                            f"{'，按 ' + str(known_at) + ' 时的登记' if known_at else ''}）：{'、'.join(wrong[:10])}"
                            "；请运行 `qingdan rebuild`"))
    return VerifyReport(events_checked=checked, chain_head=head, reports_checked=len(reports),
                        dates_checked=tuple(probe_dates), problems=tuple(problems))
