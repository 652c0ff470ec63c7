"""``verify``: is the ledger what qingdan wrote, and does every view and report agree with it?

Everything it checks is derived from the event log alone. It reads and decodes the log once
(:mod:`qingdan.core.logscan`): the same decoded events serve the chain check, the submitted reports
(their chain heads and digests come from their events, never from the view) and the reference fold
that the whole view — every record, every date interval, current and superseded rows, every column —
is compared with (:mod:`qingdan.core.viewaudit`). Everything it reads comes from the collaborators in
:class:`Sources`, never from the :class:`~qingdan.core.ledger.Ledger` facade.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, computed_field

from . import blobs, reference, viewaudit
from .base import AttachedEvent
from .chain import chain_head
from .clock import CST
from .eventlog import EventLog
from .folds import Folds, Lists, Submitted, fold_records, gather_records, submissions
from .logscan import BROKEN, LogScan, Problem, brief
from .verifystate import Seen
from .view import View
from .viewaudit import RecordFold, ViewRows, differs_at, read_view
from .writes import collector_paused


@dataclass(frozen=True)
class Sources:
    """What ``verify`` reads: the event log, the view (its tables only) and the catalogue."""

    log: EventLog
    view: View
    catalogue: Any
    today: Callable[[], date]


class VerifyReport(BaseModel):
    """What ``verify`` checked and every problem it found (``ok`` when there is none)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    events_checked: int
    chain_head: str
    reports_checked: int
    #: the effective dates at which some record changes (the view is compared on every date: its
    #: answer can change only at these), and any dates asked for
    dates_checked: tuple[date, ...]
    problems: tuple[Problem, ...]
    #: records and view rows compared with the reference fold (an incremental check: every record's
    #: rows, those of records folded again and the rest with the digest remembered)
    records_checked: int = 0
    view_rows_checked: int = 0
    #: a complete check (False: incremental, from the event after position ``since``, verified before)
    full: bool = True
    since: int | None = None
    #: when the prefix up to ``since`` was verified (as the state remembered it)
    verified_before: str | None = None
    #: events decoded and records folded again (a complete check: all of them)
    events_decoded: int = 0
    records_folded: int = 0
    #: attachments whose content was hashed (an incremental check: those new since; the others'
    #: presence and size are compared with what was remembered)
    attachments_hashed: int = 0
    attachments_checked: int = 0
    #: what the reader should know about how it was checked (why complete, the state not saved …)
    notes: tuple[str, ...] = ()
    #: where this machine remembers what it verified of this ledger (None: nothing remembered)
    state_file: str | None = None
    #: how many processes checked it (two on a machine with a second core, for a log of some size: a
    #: complete check, :mod:`qingdan.core.halves`; an incremental one's read of the whole view)
    processes: int = 1

    @computed_field  # type: ignore[prop-decorator]  # shown in JSON too
    @property
    def ok(self) -> bool:
        """Nothing wrong was found."""
        return not self.problems


# -- verify ---------------------------------------------------------------------------------------


def _what(report: Any) -> str:
    """A submission, for a message: its number, period, and which submission when not the first."""
    submission = getattr(report, "submission", 1)
    return f"{report.number}（{report.period}{'，第 ' + str(submission) + ' 次报送' if submission > 1 else ''}）"


def attachment_references(scan: LogScan, after: int = 0) -> dict[str, list[str]]:
    """sha256 → the records (numbers) whose events the scan decoded after ``after`` name it."""
    references: dict[str, list[str]] = {}
    for stream in scan.streams.values():
        for position, event in stream:
            if position > after and isinstance(event, AttachedEvent):
                number = scan.number(event.originator_id) or str(event.originator_id)
                references.setdefault(event.sha256, []).append(number)
    return references


def attachment_problems(scan: LogScan, store: Any, sound: dict[str, int] | None = None) -> list[Problem]:
    """Every stored attachment against its sha256, and every attachment an event names present
    (:func:`qingdan.core.blobs.check`), each problem naming the records that refer to it
    (``sound``: filled with the size of every blob that matched)."""
    return blob_problems(attachment_references(scan), store, sound)


def blob_problems(references: dict[str, list[str]], store: Any, sound: dict[str, int] | None = None) -> list[Problem]:
    """:func:`attachment_problems` of the attachments these records' events name."""
    try:
        _, found = blobs.check(store.query, references, sound=sound)
    except Exception as error:  # the table itself altered (dropped, a column changed)
        return [Problem(kind="attachment", message=f"附件表无法读取（{brief(error)}）")]
    return [Problem(kind="attachment", number=(references.get(sha) or [None])[0], message=message)
            for sha, message in found]


def chain_problems(store: Any, reports: list[Any]) -> list[Problem]:
    """A problem for each submission whose recorded chain head is not the chain's hash at its position."""
    problems = []
    for report in reports:
        at = store.query("SELECT hash FROM qd_chain WHERE position = ?", (report.position,))
        if report.position and (not at or at[0][0] != report.chain):
            problems.append(Problem(
                kind="report", number=report.number, position=report.position,
                message=f"{_what(report)}报送时记录的哈希链头与现在的哈希链（#{report.position}）不一致"))
    return problems


# -- the view against the fold ----------------------------------------------------------------------


def _moment_text(moment: str) -> str:
    try:
        when = datetime.strptime(moment, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC).astimezone(CST)
    except ValueError:
        return moment
    return when.strftime("%Y-%m-%d %H:%M:%S.%f")


def view_problems(folds: Folds, view: Iterable[tuple[str, ViewRows]],
                  visit: Callable[[str, RecordFold], None] | None = None,
                  unlisted: dict[str, Any] | None = None) -> tuple[list[Problem], int]:
    """One problem per list (and per current / as known then) naming the records whose view rows are
    not the fold's, anywhere in effective date or recorded time; and how many rows were compared
    (:func:`wrong_records`, then :func:`named`)."""
    wrong, count = wrong_records(folds, view, visit, unlisted)
    return named(wrong), count


Wrong = dict[tuple[str, str | None], list[str]]


def wrong_records(folds: Folds, view: Iterable[tuple[str, ViewRows]],
                  visit: Callable[[str, RecordFold], None] | None = None,
                  unlisted: dict[str, Any] | None = None) -> tuple[Wrong, int]:
    """The records whose view rows are not the fold's, by list and by where they first differ (a
    recorded time; None: only the current rows; "runs": only the runs a page by offset counts), and
    how many rows were compared. The view is read record by record; each record's fold is let go once
    compared (``visit``: given each record's fold first). ``unlisted``: the records whose runs are not
    their rows' (by record, its kind and number: :func:`~qingdan.core.viewaudit.checking_listed`,
    filled as the view is read), named unless their rows are wrong (a rebuild writes the runs of the
    rows it writes)."""
    wrong: Wrong = {}
    unseen = folds.records  # emptied as the view is read
    count = 0

    def pairs() -> Iterator[tuple[str, RecordFold | None, ViewRows | None]]:
        nonlocal count
        for key, rows in view:
            count += len(rows.rows)
            yield key, unseen.pop(key, None), rows
        for key, fold in list(unseen.items()):
            yield key, fold, None

    for key, fold, rows in pairs():
        if visit is not None and fold is not None and key not in folds.failed:
            visit(key, fold)  # (which may find that the record cannot be folded)
        if key in folds.failed:
            continue
        where = differs_at(fold, rows)
        if where is False:
            continue
        if unlisted is not None:
            unlisted.pop(key, None)
        if fold is not None and fold.final().kind is not None:
            kind, number = fold.final().kind.name, folds.numbers[key]
        else:
            first = rows.rows[0][4] if rows is not None and rows.rows else (None, key)
            kind, number = first[0], first[1]
        wrong.setdefault((reference.LISTS.get(kind, str(kind)), where), []).append(number)
    for kind, number in (unlisted or {}).values():
        wrong.setdefault((reference.LISTS.get(kind, str(kind)), "runs"), []).append(str(number))
    return wrong, count


def named(wrong: Wrong) -> list[Problem]:
    """:func:`wrong_records` as problems, one per list and where."""
    problems = []
    for (name, where), numbers in sorted(wrong.items(), key=lambda item: (item[0][0], item[0][1] or "")):
        numbers.sort()
        more = f" 等 {len(numbers)} 条" if len(numbers) > 10 else ""
        if where == "runs":  # the view's rows are the fold's, the runs a page by offset counts are not
            problems.append(Problem(kind="view", number=numbers[0], message=(
                f"视图的翻页索引与视图行不一致（{name}）：{'、'.join(numbers[:10])}{more}；请运行 `qingdan rebuild`")))
            continue
        when = ("现在的清单" if where is None else "行无法读取" if where == ""
                else f"按 {_moment_text(where)} 时的登记")
        problems.append(Problem(
            kind="view", number=numbers[0],
            message=f"视图与事件重放不一致（{name}，{when}）：{'、'.join(numbers[:10])}{more}；请运行 `qingdan rebuild`"))
    return problems


@dataclass
class Passed:
    """One pass of the view against the fold over some of the records (:func:`compare_pass`)."""

    wrong: Wrong
    count: int
    digests: dict[str, str]  # each record's view rows' digest, for the next incremental check
    taken: tuple[Any, ...]  # what the pass placed in the submissions (Submitted.taken)
    problems: list[Problem]  # the records that cannot be folded (one each)


def compare_pass(folds: Folds, store: Any, submitted: Submitted, lo: str | None = None,
                 hi: str | None = None) -> Passed:
    """The view's records from ``lo`` and before ``hi`` (``folds``: theirs) against the fold: each
    record folded once, its rows compared, its runs too, its rows digested, its rows placed in every
    submission it is in."""

    def visit(key: str, fold: RecordFold) -> None:
        try:
            fold.prepare()  # every state it can be asked for, in order
        except Exception:
            pass  # built (and failing) one by one, as asked for
        if folds.folded(key, fold):
            submitted.add(key, fold)

    unlisted: dict[str, Any] = {}
    digests: dict[str, str] = {}
    read = viewaudit.digesting(read_view(store, lo=lo, hi=hi), digests)
    wrong, count = wrong_records(folds, viewaudit.checking_listed(read, store, unlisted, lo=lo, hi=hi),
                                 visit, unlisted)
    return Passed(wrong, count, digests, submitted.taken(), folds.problems)


def verify(src: Sources, *, dates: list[date] | None = None, seen: Seen | None = None,
           watch: Iterable[int] = ()) -> VerifyReport:
    """Check the hash chain, every submitted report's chain head and digest, and the whole view
    against the reference fold — all derived from the event log alone.

    Never raises on a database altered outside qingdan: whatever is wrong is a :class:`Problem`.
    The log is read and decoded once (:class:`LogScan`); the submissions are its report records'
    (not the view's): each one's chain head is compared with the chain at its position, and, when
    the log is what qingdan wrote, its digest with the digest of the lists folded from the log as of
    its ``(as_of, known_at)``. Then every view row is compared with the fold
    (:mod:`qingdan.core.viewaudit`): every record, every date interval, current and superseded rows,
    every column. ``dates`` is kept for callers: every date is compared.

    ``seen`` is filled with what an incremental check needs next time (:mod:`qingdan.core.incremental`);
    the scan notes the chain's hashes at the positions in ``watch``.
    """

    # Paused: a check builds the decoded log and its folds (millions of long-lived objects, none in
    # a reference cycle), and each full collection the growing heap triggers would walk them all
    # again — 10–20 % of a complete check, for nothing.
    with collector_paused():
        return _verify(src, dates, seen if seen is not None else Seen(), watch)


def _verify(src: Sources, dates: list[date] | None, seen: Seen, watch: Iterable[int]) -> VerifyReport:
    store = src.view.store
    scan = seen.scan = LogScan(src.log, store)
    scan.watch = set(watch)
    scan.run()
    problems = list(scan.problems) + attachment_problems(scan, store, seen.blobs)
    trusted = not any(p.kind in BROKEN for p in problems)
    if trusted:
        try:
            src.view.catch_up()
        except Exception as error:
            problems.append(Problem(kind="view", message=f"视图无法按事件日志更新（{brief(error)}）"))
            trusted = False
    if not trusted:
        # Reconstructions from a log that was tampered with prove nothing: only the chain heads the
        # decodable submissions recorded are compared.
        folds = fold_records(scan, None)
        problems += chain_problems(store, submissions(folds))
        return VerifyReport(events_checked=scan.checked, chain_head=chain_head(store), reports_checked=0,
                            dates_checked=(), problems=tuple(problems))

    with store.read_snapshot():
        position = store.position()
        return _compare(src, scan, problems, position, dates, seen)


def _same_digest(submitted: Submitted, digest: str | None, report: Any) -> bool:
    """Whether the digest assembled for the first submission is ``rows_digest`` of its lists."""
    from .queries import rows_digest

    try:
        return digest == rows_digest(submitted.first_lists(), report.digest_fields)
    except Exception:
        return False


def _digests_slow(src: Sources, position: int, reports: list[Any]) -> list[str | None]:
    """Every submission's digest the slow way: ``rows_digest`` of :class:`Lists`, from the log read
    and folded again (inside the same read snapshot)."""
    from .queries import rows_digest

    scan = LogScan(src.log, src.view.store)
    scan.run()
    lists = Lists(fold_records(scan, position), src.view.store)
    digests: list[str | None] = []
    for report in reports:
        try:
            digests.append(rows_digest(lists(report), report.digest_fields))
        except Exception:
            digests.append(None)
    return digests


def dates_seen(scan: LogScan, position: int, dates: list[date] | None) -> tuple[set[date], datetime | None]:
    """The effective dates of the events the scan decoded up to ``position`` (and ``dates``), and
    the latest time one of them was recorded."""
    days = set(dates or ())
    last = None
    for stream in scan.streams.values():
        for at, event in stream:
            if at <= position:
                days.add(event.on)
                if last is None or event.timestamp > last:
                    last = event.timestamp
    return days, last


def digest_problems(src: Sources, position: int, reports: list[Any], submitted: Submitted) -> list[Problem]:
    """A problem for each submission whose digest is not the digest of its lists folded again."""
    digested = [submitted.digest(index) for index in range(len(reports))]
    # The assembled digest is rows_digest's (checked on the first submission); else, and when the
    # first submission's lists could not be made, every list is made again the slow way.
    if reports and (submitted.misplaced or 0 in submitted.failed
                    or not _same_digest(submitted, digested[0], reports[0])):
        digested = _digests_slow(src, position, reports)
    return [Problem(kind="report", number=report.number,
                    message=f"{_what(report)}报送时的清单摘要与现在按同一时点从事件日志重建的不一致")
            for report, digest in zip(reports, digested, strict=True) if digest != report.digest]


def _compare(src: Sources, scan: LogScan, problems: list[Problem], position: int,
             dates: list[date] | None, seen: Seen) -> VerifyReport:
    """Inside the view's read snapshot at ``position``: the reports from the log, their heads and
    digests, and the whole view against the fold."""
    store = src.view.store
    if position > scan.position:  # the view has events the scan has not seen (written meanwhile)
        before = len(scan.problems)
        scan.run()
        problems += scan.problems[before:]
        if any(p.kind in BROKEN for p in scan.problems[before:]):
            return VerifyReport(events_checked=scan.checked, chain_head=chain_head(store), reports_checked=0,
                                dates_checked=(), problems=tuple(problems))
    end = src.log.max_position()
    if position > end:  # the view claims events the log does not hold: the next ones would be skipped
        problems.append(Problem(kind="view", position=position,
                                message=f"视图记录的位置 #{position} 超过事件日志的末尾 #{end}；请运行 `qingdan rebuild`"))
    head = chain_head(store, position)
    seen.position = position
    days, seen.last_recorded = dates_seen(scan, position, dates)
    folds = gather_records(scan, position)  # each record folded in the pass below, once
    reports = submissions(folds)
    problems += chain_problems(store, reports)

    records = len(folds.records)
    scan.streams = {}  # the folds hold each record's events, and let them go once compared
    submitted = Submitted(folds, store, reports)
    passed = compare_pass(folds.half(list(folds.records)), store, submitted)
    seen.records.update(passed.digests)
    found, rows = named(passed.wrong), passed.count
    problems += folds.problems + passed.problems
    records -= len(folds.problems) + len(passed.problems)
    problems += digest_problems(src, position, reports, submitted)
    return VerifyReport(events_checked=scan.checked, chain_head=head, reports_checked=len(reports),
                        dates_checked=tuple(sorted(days)), problems=tuple(problems + found),
                        records_checked=records, view_rows_checked=rows, events_decoded=scan.decoded,
                        records_folded=records, attachments_hashed=len(seen.blobs),
                        attachments_checked=len(seen.blobs))
