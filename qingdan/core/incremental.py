"""``verify`` incremental where it can be: what was verified before is remembered outside the database
(:mod:`qingdan.core.verifystate`), and only what changed since is folded again.

An incremental check, from the state the last sound ``verify`` on this machine left:

1. **The chain, all of it, hashed.** Every stored event up to the remembered position is hashed
   again and compared with ``qd_chain`` (not decoded: its bytes are those verified), every later
   one decoded and checked as a complete check does. The chain's hash at the remembered head (and
   every :data:`~qingdan.core.logscan.CHECKPOINT` events before it) must still be the remembered
   one: an earlier event edited, deleted or inserted with the chain recomputed after it changes it
   (``rewritten``), and so does a log cut short.
2. **The view, every row read; only what changed folded.** Each record's view rows are digested and
   compared with the digest remembered for it; the records the new events touch, and any whose rows
   are not the remembered ones (a forged, changed or deleted row, a record the state does not know),
   are folded from all their events and compared with the fold as the complete check does
   (:mod:`qingdan.core.viewaudit`).
3. **The new submissions.** Those of the report records the new events touch: the chain head each
   recorded against the chain, and its digest against the lists read from the view as of its date and
   as known then — the view having just been shown, row for row, to be the fold of the log.
4. **The new attachments.** Every blob not hashed before is hashed; the others must still be there
   with the same size (``--full`` hashes them all again).

Anything found wrong, or anything the remembered state cannot vouch for (a new event recorded
before the last verified one, a view behind the remembered position), makes it a complete check, so
what is reported is always what a complete check reports — with, from the remembered hashes, any
rewritten history besides. Only a check that found nothing wrong is remembered.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from . import audit, blobs, forked, halves
from .chain import chain_head
from .clock import CST
from .folds import fold_records, submissions
from .logscan import LogScan, Problem, brief
from .queries import LedgerSnapshot, rows_digest, two_lists
from .verifystate import Remembered, Seen, StateFile, default_directory, locator
from .verifystate import rows_digest as view_rows_digest
from .viewaudit import ViewRows, checking_listed, read_view


def state_file(src: audit.Sources, directory: str | Path | None = None) -> StateFile:
    """Where this machine remembers what it verified of the ledger ``src`` reads."""
    store = src.view.store
    return StateFile(Path(directory) if directory is not None else default_directory(),
                     locator(store.env, store.backend))


def verify(src: audit.Sources, *, dates: list[date] | None = None, full: bool = False,
           state: StateFile | None = None, forget: bool = False) -> audit.VerifyReport:
    """``verify``, incremental from what ``state`` remembers (complete when it remembers nothing of
    this ledger, when ``full``, or when the incremental check finds anything wrong); what it verified
    is remembered when it found nothing wrong. ``forget``: drop what was remembered first (a complete
    check that compares nothing with it). ``state`` None: nothing is remembered or read."""
    with audit.collector_paused():  # see audit.verify
        return _verify(src, dates, full, state, forget)


def _verify(src: audit.Sources, dates: list[date] | None, full: bool, state: StateFile | None,
            forget: bool) -> audit.VerifyReport:
    notes: list[str] = []
    remembered: Remembered | None = None
    if state is not None and forget:
        state.forget()
        notes.append("已忘记本机记下的核验状态，重新完整核验")
    elif state is not None:
        remembered, why = state.load()
        if why:
            notes.append(why)
        elif remembered is None:
            notes.append("本机首次核验这本台账：完整核验")
    report: audit.VerifyReport | None = None
    seen = Seen()
    if remembered is not None and not full:
        report, why = _incremental(src, remembered, seen)
        if report is None:
            notes.append(f"{why}：改为完整核验")
            seen = Seen()
    if report is None:
        watch = remembered.checkpoints if remembered is not None else ()
        report = halves.verify(src, dates, seen, watch) or audit.verify(src, dates=dates, seen=seen, watch=watch)
        rewritten = rewritten_problems(seen.scan, remembered, state) if remembered is not None else []
        report = report.model_copy(update={"problems": (*rewritten, *report.problems)})
    if state is not None and report.ok:
        why = state.save(_remember(src, state.ledger, seen, remembered if not report.full else None))
        if why:
            notes.append(why)
    return report.model_copy(update={"notes": tuple(notes),
                                     "state_file": str(state.path) if state is not None else None})


# -- what was remembered, against the chain now --------------------------------------------------------


def _when(text: str) -> str:
    try:
        return datetime.fromisoformat(text).astimezone(CST).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return text


def rewritten_problems(scan: LogScan, remembered: Remembered, state: StateFile | None) -> list[Problem]:
    """The remembered chain hashes the log no longer has: history rewritten with the chain recomputed
    over it (the first such position, after the last one still the same), or the log cut short."""
    where = f"（或此处已换成另一本台账：若确是如此，用 `qingdan verify --forget` 重新记下{'' if state is None else '，状态文件 ' + str(state.path)}）"
    when = _when(remembered.verified_at)
    good = 0
    for position in sorted(remembered.checkpoints):
        digest, recorded = scan.watched.get(position, (None, None))
        if position not in scan.watched:
            if position > scan.position:
                return [Problem(kind="rewritten", position=position, message=(
                    f"上次核验（{when}）时台账已有至 #{remembered.head_position} 的事件，现在事件日志"
                    f"只到 #{scan.position}：其后的事件连同哈希链被删除{where}"))]
            return [Problem(kind="rewritten", position=position, message=(
                f"上次核验（{when}）时的事件 #{position} 连同其哈希链已不在台账中：#{good + 1}–#{position} "
                f"之间的历史被改写{where}"))]
        if digest is None or digest != recorded:
            return []  # named already: an event that is not what the chain says
        if recorded != remembered.checkpoints[position]:
            return [Problem(kind="rewritten", position=position, message=(
                f"上次核验（{when}）时事件 #{position} 处的哈希链为 {remembered.checkpoints[position][:16]}…，"
                f"现在为 {recorded[:16]}…：#{good + 1}–#{position} 之间的事件被改写，且其后的哈希链被重新计算"
                f"{where}"))]
        good = position
    return []


def _remember(src: audit.Sources, ledger: str, seen: Seen, before: Remembered | None) -> Remembered:
    """What a sound check leaves for the next: its position, the chain there, the digests it saw."""
    store = src.view.store
    position = seen.position
    chained = store.query("SELECT position, hash FROM qd_chain WHERE position <= ? ORDER BY position DESC LIMIT 1",
                          (position,))
    head_position, head = (int(chained[0][0]), chained[0][1]) if chained else (0, chain_head(store, 0))
    checkpoints = {p: h for p, h in seen.scan.checkpoints.items() if p < head_position}
    if head_position:
        checkpoints[head_position] = head
    last = seen.last_recorded
    if before is not None and before.last_recorded:
        earlier = datetime.fromisoformat(before.last_recorded)
        last = earlier if last is None or earlier > last else last
    return Remembered(ledger=ledger, verified_at=datetime.now(UTC).isoformat(timespec="seconds"),
                      position=position, head_position=head_position, head=head, checkpoints=checkpoints,
                      last_recorded=last.astimezone(UTC).isoformat() if last is not None else None,
                      records=seen.records, blobs=seen.blobs)


# -- the incremental check -------------------------------------------------------------------------------


def _incremental(src: audit.Sources, remembered: Remembered, seen: Seen) -> tuple[audit.VerifyReport | None, str]:
    """The check from ``remembered`` on; None and why when it must be a complete one."""
    store = src.view.store
    scan = seen.scan = LogScan(src.log, store)
    scan.trusted_upto = remembered.position
    scan.watch = set(remembered.checkpoints)
    scan.run()
    if scan.problems or rewritten_problems(scan, remembered, None):
        return None, f"增量核验发现事件日志或哈希链有问题（自第 {remembered.position} 个事件起增量核验时）"
    if remembered.last_recorded is not None:
        last = datetime.fromisoformat(remembered.last_recorded)
        if any(event.timestamp < last for stream in scan.streams.values() for _, event in stream):
            return None, "有新事件的登记时间早于上次核验过的事件"
    try:
        src.view.catch_up()
    except Exception as error:
        return None, f"视图无法按事件日志更新（{brief(error)}）"
    with store.read_snapshot():
        position = store.position()
        if position > scan.position:  # written meanwhile
            scan.run()
            if scan.problems:
                return None, "增量核验发现事件日志或哈希链有问题"
        if position < remembered.position:
            return None, f"视图的位置 #{position} 在上次核验的位置 #{remembered.position} 之前"
        if position > src.log.max_position():
            return None, "视图记录的位置超过事件日志的末尾"
        return _compare(src, scan, remembered, seen, position)


def _compare(src: audit.Sources, scan: LogScan, remembered: Remembered, seen: Seen,
             position: int) -> tuple[audit.VerifyReport | None, str]:
    """Inside the view's read snapshot at ``position``: the view, the new submissions, the new
    attachments."""
    store = src.view.store
    touched = {str(originator_id) for originator_id in scan.streams}
    (count, digests, kept, unlisted), processes = _read_in_halves(store, position, scan.checked, touched,
                                                                  remembered.records)
    seen.records.update(digests)
    if unlisted:
        return None, "增量核验发现视图的翻页索引与视图行不一致"
    again = (kept.keys() | touched | (remembered.records.keys() - seen.records.keys()))
    _load_events(scan, again, remembered.position)
    if scan.problems:
        return None, "增量核验时有事件无法读取"
    seen.position = position
    seen.last_recorded = max((event.timestamp for stream in scan.streams.values() for at, event in stream
                              if at <= position), default=None)
    folds = fold_records(scan, position)
    if folds.problems:
        return None, "增量核验发现有记录的事件无法重放"
    folded = len(folds.records)
    reports = submissions(folds)
    days = {day for fold in folds.records.values() for day in fold.ons}
    found, _ = audit.view_problems(folds, kept.items())
    if found:
        return None, "增量核验发现视图与事件重放不一致"
    if audit.chain_problems(store, reports):
        return None, "增量核验发现报送记录的哈希链头不符"
    for report in reports:
        lists = two_lists(LedgerSnapshot(src.view, src.catalogue, report.as_of, report.known_at),
                          campaign=report.campaign)
        if rows_digest(lists, report.digest_fields) != report.digest:
            return None, "增量核验发现报送记录的清单摘要不符"
    hashed = _attachments(scan, store, remembered, seen)
    if hashed is None:
        return None, "增量核验发现附件有问题"
    records = len(seen.records.keys() | remembered.records.keys())
    return audit.VerifyReport(
        events_checked=scan.checked, chain_head=chain_head(store, position), reports_checked=len(reports),
        dates_checked=tuple(sorted(days)), problems=(), records_checked=records, view_rows_checked=count,
        full=False, since=remembered.position, verified_before=remembered.verified_at,
        events_decoded=sum(len(stream) for stream in scan.streams.values()), records_folded=folded,
        attachments_hashed=hashed, attachments_checked=len(seen.blobs), processes=processes), ""


View = tuple[int, dict[str, str], dict[str, ViewRows], dict[str, Any]]


def _read_view(store: Any, touched: set[str], remembered: dict[str, str], lo: str | None = None,
               hi: str | None = None) -> View:
    """Every view row of the records from ``lo`` and before ``hi`` read and digested, each record's
    runs compared with its rows: how many rows, each record's digest, the rows of the records to
    fold again (touched since, or not the digest remembered), the records whose runs are wrong."""
    count, digests, kept, unlisted = 0, {}, {}, {}
    for key, rows in checking_listed(read_view(store, lo=lo, hi=hi), store, unlisted, lo=lo, hi=hi):
        count += len(rows.rows)
        digest = digests[key] = view_rows_digest(rows.rows)
        if key in touched or remembered.get(key) != digest:
            kept[key] = rows
    return count, digests, kept, unlisted


def _read_in_halves(store: Any, position: int, events: int, touched: set[str],
                    remembered: dict[str, str]) -> tuple[View, int]:
    """:func:`_read_view` of every record — its floor, reading the whole view — in two processes
    when it can be (:mod:`qingdan.core.forked`), split where half the records remembered are on
    either side; and how many processes read it."""
    keys = store.collate(list(remembered)) if len(remembered) > 1 else []
    if len(keys) < 2 or forked.processes(events) < 2 or not forked.shareable(store):
        return _read_view(store, touched, remembered), 1
    split = keys[len(keys) // 2]
    child = forked.Half(store, position, _read_view, touched, remembered, lo=split)
    mine = _read_view(store, touched, remembered, hi=split)
    theirs, processes = child.result(), 2
    if theirs is None:  # the child could not: this process reads its half too
        theirs, processes = _read_view(store, touched, remembered, lo=split), 1
    return (mine[0] + theirs[0], mine[1] | theirs[1], mine[2] | theirs[2], mine[3] | theirs[3]), processes


def _load_events(scan: LogScan, keys: set[str], upto: int) -> None:
    """Add to the scan's streams the events up to ``upto`` of these records (by the view's record
    ids), hashed as verified before and decoded now, so that each record can be folded whole."""
    from uuid import UUID

    ids = []
    for key in keys:
        try:
            ids.append(UUID(key))
        except ValueError:
            continue  # not a record id qingdan writes: a view row no event vouches for
    known: dict[Any, list[tuple[int, Any]]] = {}
    for row in scan.log.stored_rows_of(ids, upto=upto):
        event, unreadable, _ = scan._decode(row)
        if event is not None:
            known.setdefault(event.originator_id, []).append((row.id, event))
        else:  # hashed as sound a moment ago: changed meanwhile
            scan.problems.append(Problem(kind="tampered", position=row.id, message=f"事件 #{row.id} 无法读取：{unreadable}"))
    for originator_id, items in known.items():
        scan.streams[originator_id] = items + [item for item in scan.streams.get(originator_id, [])
                                               if item[0] > upto]


def _attachments(scan: LogScan, store: Any, remembered: Remembered, seen: Seen) -> int | None:
    """The blobs stored since (hashed), those remembered (still there, same size), those the new
    events name (there); how many were hashed, or None when any is wrong."""
    try:
        stored = blobs.sizes(store.query, store.backend)
    except Exception:
        return None
    if any(stored.get(sha) != size for sha, size in remembered.blobs.items()):
        return None
    references = audit.attachment_references(scan, remembered.position)
    fresh = (stored.keys() - remembered.blobs.keys()) | (references.keys() & stored.keys())
    sound: dict[str, int] = {}
    try:
        _, found = blobs.check(store.query, references, only=set(fresh), sound=sound)
    except Exception:
        return None
    if found:
        return None
    seen.blobs = {sha: size for sha, size in remembered.blobs.items() if sha in stored} | sound
    return len(sound)
