"""A complete ``verify`` in two processes from its first read: each one decodes, folds and compares
half of the records (issue 18, goal 3b).

:func:`qingdan.core.audit.verify` reads and decodes the whole log in one process before anything can
be split. Here the split is made first, by record id — the records whose id's first hex digit is
below 8 (:data:`SPLIT`) are this process's, the rest a forked child's (:mod:`qingdan.core.forked`) —
and each process runs the whole check on its half: it reads every stored event and checks the whole
hash chain (cheap: hashing), but decodes only its own records' events, and of the others only what
every process needs to place its records in the submitted lists (each record's first event: its
kind, campaign and number; every event of the report records: the submissions). Then each compares
its records with their view rows, as :func:`~qingdan.core.audit.compare_pass` does, and the child
sends back what it found.

Only a sound log is checked this way. Whenever either process finds anything wrong with the log
itself (an event edited, missing or undecodable: the cases where :mod:`qingdan.core.audit` reports
only what a tampered log can prove), when the view is not where the log ends, or when the child
cannot answer, :func:`verify` gives None and the check is made again in one process, from the start.
So on a sound ledger the answer is the one-process answer, reached sooner; on any other, it is the
one-process answer.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from eventsourcing.utils import get_topic

from . import audit, forked
from .chain import chain_head
from .eventlog import EventLog
from .folds import Submitted, gather_records, submissions
from .logscan import LogScan
from .records import Report
from .verifystate import Seen

#: the first record id (as text) of the child's half: ids are uuid5 of the numbers, so about half
#: the records, and of the events, are on either side
SPLIT = "8"
_REPORT = get_topic(Report) + "."


def _decodes(upper: bool) -> Any:
    """Which events a process decodes: its own records' (by id), every record's first, every report's."""
    def decodes(row: Any) -> bool:
        return ((row.originator_id.int >> 127) == upper or row.originator_version == 1
                or row.topic.startswith(_REPORT))
    return decodes


@dataclass
class Half:
    """What one process found of its half of the records."""

    position: int
    passed: audit.Passed
    records: int
    references: dict[str, list[str]]
    days: set[date]
    last: datetime | None


def _orders_ids(store: Any) -> bool:
    """Whether the database orders record ids as text the way :data:`SPLIT` divides them."""
    probe = ["0", "7f", SPLIT, "80", "9", "a", "f0"]
    return store.collate(list(probe)) == probe


def verify(src: audit.Sources, dates: list[date] | None, seen: Seen, watch: Any) -> audit.VerifyReport | None:
    """The complete check of :func:`qingdan.core.audit.verify` in two processes; None when it must be
    made in one (see the module's docstring). ``seen`` is filled only when it gives the answer."""
    store = src.view.store
    log = src.log
    if (getattr(log.query, "__self__", None) is not store  # (the child reads the log as it reads the view)
            or forked.processes(log.max_position()) < 2 or not forked.shareable(store)
            or not _orders_ids(store)):
        return None
    child = forked.Half(store, None, _theirs, log._app, log.backend)
    mine = Seen()
    try:
        report = _mine(src, dates, mine, watch, child)
    except Exception:  # whatever it is, the check in one process is the reference: it answers instead
        if os.environ.get("QINGDAN_DEBUG") == "1":
            raise
        report = None
    finally:
        child.cancel()
    if report is not None:
        seen.__dict__.update(mine.__dict__)
    return report


def _half(scan: LogScan, store: Any, position: int, upper: bool) -> tuple[Half, list[Any], Submitted] | None:
    """One process's half, once its scan found the log sound: its records folded and compared."""
    references = audit.attachment_references(scan)
    days, last = audit.dates_seen(scan, position, None)
    folds = gather_records(scan, position)
    if folds.problems:  # a report that cannot be folded: named by the one-process check
        return None
    reports = submissions(folds)
    scan.streams = {}
    submitted = Submitted(folds, store, reports)
    own = [key for key in folds.records if (key >= SPLIT) == upper]
    mine = folds.half(own)
    folds.records.clear()  # the other half's records (their first events): placed, no longer needed
    passed = audit.compare_pass(mine, store, submitted, **({"lo": SPLIT} if upper else {"hi": SPLIT}))
    return Half(position, passed, len(own) - len(passed.problems), references, days, last), reports, submitted


def _theirs(store: Any, app: Any, backend: str) -> Half | None:
    """The child's half, on its own connection and in its own read snapshot (log and view alike)."""
    scan = LogScan(EventLog(app, query=store.query, backend=backend), store)
    scan.decodes = _decodes(True)
    scan.run()
    position = store.position()
    if scan.problems or position > scan.position:
        return None
    found = _half(scan, store, position, True)
    return None if found is None else found[0]


def _mine(src: audit.Sources, dates: list[date] | None, seen: Seen, watch: Any,
          child: forked.Half) -> audit.VerifyReport | None:
    store = src.view.store
    scan = seen.scan = LogScan(src.log, store)
    scan.watch = set(watch)
    scan.decodes = _decodes(False)
    scan.run()
    if scan.problems:
        return None
    try:
        src.view.catch_up()
    except Exception:
        return None
    with store.read_snapshot():
        position = store.position()
        if position > scan.position or position > src.log.max_position():
            return None
        found = _half(scan, store, position, False)
        if found is None:
            return None
        mine, reports, submitted = found
        theirs = child.result()
        if theirs is None or theirs.position != position or theirs.passed.problems or mine.passed.problems:
            return None  # (a record that cannot be folded: named by the one-process check)
        submitted.merge(theirs.passed.taken)
        references = mine.references
        for sha, numbers in theirs.references.items():
            references.setdefault(sha, []).extend(numbers)
        problems = audit.blob_problems(references, store, seen.blobs)
        problems += audit.chain_problems(store, reports)
        wrong = mine.passed.wrong
        for where, numbers in theirs.passed.wrong.items():
            wrong.setdefault(where, []).extend(numbers)
        problems += audit.digest_problems(src, position, reports, submitted)
        seen.position = position
        seen.records = mine.passed.digests | theirs.passed.digests
        lasts = [last for last in (mine.last, theirs.last) if last is not None]
        seen.last_recorded = max(lasts, default=None)
        records = mine.records + theirs.records
        return audit.VerifyReport(
            events_checked=scan.checked, chain_head=chain_head(store, position), reports_checked=len(reports),
            dates_checked=tuple(sorted(mine.days | theirs.days | set(dates or ()))),
            problems=tuple(problems + audit.named(wrong)), records_checked=records,
            view_rows_checked=mine.passed.count + theirs.passed.count, events_decoded=scan.checked,
            records_folded=records, attachments_hashed=len(seen.blobs), attachments_checked=len(seen.blobs),
            processes=2)
