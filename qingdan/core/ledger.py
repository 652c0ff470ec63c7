"""The ledger: the public API (docs/architecture.md, "The public API"), a thin facade over the layers of :mod:`qingdan.core`.

Commands take keyword arguments, validated at the boundary into the command models of
:mod:`qingdan.core.commands` (their fields are each method's parameters, as ``help()`` shows), and go
to a handler (:mod:`qingdan.core.handlers`) and the write path (:mod:`qingdan.core.writes`). Queries go
to :mod:`qingdan.core.reading`. ``verify_integrity`` is the audit (:mod:`qingdan.core.integrity`).
"""

from __future__ import annotations

import functools
import getpass
import inspect
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from . import audit, rows
from . import commands as cmd
from .audit import VerifyReport
from .chain import chain_head
from .clock import as_known_at, end_of_day, system_now  # noqa: F401  (their old home)
from .errors import QingdanError
from .eventlog import EventLog
from .handlers import HazardCommands, MeasureCommands, ReportCommands, TaskCommands, UnitCommands
from .kinds import kind_of_class
from .policy import Authoriser, load_policy
from .queries import LedgerSnapshot, ReportDiff, Stats
from .reading import COMMON_FIELDS, Queries  # noqa: F401  (COMMON_FIELDS: its old home)
from .records import report_number
from .spec import Finding
from .store import (  # noqa: F401  (LedgerApplication, persistence_env: their old home)
    LedgerApplication,
    creation_lock,
    persistence_env,
)
from .targets import EvaluationError
from .view import View, ViewStore
from .writes import UnitOfWork

_P = inspect.Parameter


def command(model: type[cmd.Command], *, subject: str | None = "number",
            extra: tuple[_P, ...] = ()) -> Callable[[Callable[..., str]], Callable[..., str]]:
    """A facade method whose keyword arguments are ``model``'s fields, validated into it.

    The method is written ``def escalate(self, number, c)``; the facade's ``escalate(number, *,
    supervisor, level="镇", doc_no=None, on=None, actor=None, note=None)`` validates the keywords
    into ``c`` (a rejected one raises :class:`~qingdan.InvalidCommand` and writes nothing). Its
    signature is built from the model, so ``help()`` shows the real parameters and there is no
    second hand-written copy of them. ``extra``: keyword parameters that are not command data.
    """
    own = [n for n in model.model_fields if n not in cmd.Command.model_fields]
    parameters = [_P("self", _P.POSITIONAL_ONLY)]
    if subject is not None:
        parameters.append(_P(subject, _P.POSITIONAL_ONLY, annotation=str))
    for name in [*own, *cmd.Command.model_fields]:
        field = model.model_fields[name]
        default = _P.empty if field.is_required() else field.get_default(call_default_factory=True)
        parameters.append(_P(name, _P.KEYWORD_ONLY, default=default, annotation=field.annotation))
    parameters += extra
    extras = {p.name: p.default for p in extra}

    def decorate(function: Callable[..., str]) -> Callable[..., str]:
        @functools.wraps(function)
        def method(self: Ledger, *args: Any, **kwargs: Any) -> str:
            options = {name: kwargs.pop(name, default) for name, default in extras.items()}
            return function(self, *args, cmd.validate(model, **kwargs), **options)

        method.__signature__ = inspect.Signature(parameters, return_annotation=str)  # type: ignore[attr-defined]
        method.command_model = model  # type: ignore[attr-defined]
        return method

    return decorate


class Ledger:
    """A ledger of the 两个清单: commands write events, queries read state as of any date.

    Use :func:`qingdan.open_ledger` to get one. ``clock`` is a callable returning an aware datetime:
    the recorded time of the next event (default: now).
    """

    def __init__(self, url: str | None = None, *, actor: str | None = None,
                 clock: Callable[[], datetime] | None = None, catalogue: Any = None,
                 policy: Authoriser | str | Path | None = None) -> None:
        env, self.backend = persistence_env(url)
        self.url = url
        try:
            with creation_lock(env, self.backend):
                self._app = LedgerApplication(env=env)
        except Exception as error:  # a server that is down or a path that cannot be opened
            raise QingdanError(f"无法打开台账数据库 {url or env.get('SQLITE_DBNAME')}：{error}") from error
        self.actor = actor or os.environ.get("QINGDAN_ACTOR") or _default_actor()
        self.policy = load_policy(policy if policy is not None else os.environ.get("QINGDAN_POLICY") or None)
        self._catalogue = catalogue
        store = ViewStore.for_backend(env, self.backend)
        self._log = EventLog(self._app, query=store.query, backend=self.backend)
        self._view = View(self._log, store)
        self._uow = UnitOfWork(self._app, self._view, actor=self.actor, clock=clock or system_now,
                               policy=self.policy, departments=self._departments_of)
        self._queries = Queries(self._log, self._view, lambda: self.catalogue, self.today)
        handlers = (self._uow, lambda: self.catalogue)
        self._hazards = HazardCommands(*handlers)
        self._measures = MeasureCommands(*handlers)
        self._tasks = TaskCommands(*handlers)
        self._units = UnitCommands(*handlers)
        self._reports = ReportCommands(*handlers)

    # -- plumbing ----------------------------------------------------------------------------

    def disconnect(self) -> None:
        """Release the database connections (the ledger object is unusable afterwards)."""
        self._view.store.close()
        self._app.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.disconnect()

    @property
    def catalogue(self) -> Any:
        """The campaigns, tasks, targets, checks and projections of the loaded plugins."""
        if self._catalogue is None:
            from .plugins import get_catalogue

            self._catalogue = get_catalogue()
        return self._catalogue

    @property
    def clock(self) -> Callable[[], datetime]:
        return self._uow.clock

    def now(self) -> datetime:
        """The recorded time the next event would get from this ledger's clock."""
        return self._uow.now()

    def today(self) -> date:
        """Today in China Standard Time, by this ledger's clock."""
        return self._uow.today()

    def _departments_of(self, cls: type, record: Any) -> tuple[str, ...]:
        return kind_of_class(cls).departments(record, self.catalogue)

    @contextmanager
    def batch(self, *, provisional: Iterable[str] = ()) -> Iterator[Ledger]:
        """Run many commands and store them together, in one transaction, or not at all.

        Inside the block each command is checked against the effects of the earlier ones (a
        rejected command still raises and changes nothing); the events are written when the block
        ends, and the view is caught up once. A batch is recorded at one moment: every event in it
        carries the recorded time the clock gave when the block began. If the block raises, nothing
        is written. If another writer took a number or changed a record meanwhile,
        :class:`Conflict` is raised and nothing is written: run the whole batch again. Queries
        inside the block see only what is stored.

        ``provisional``: numbers the caller chose for records it creates in the block; one another
        writer registers first gets the next free number under the write lock (see :meth:`numbered`).
        """
        with self._uow.batch(provisional):
            yield self

    def numbered(self, number: str) -> str:
        """The number a record created under (provisional) ``number`` in the last write was stored under."""
        return self._uow.numbered(number)

    @property
    def batching(self) -> bool:
        return self._uow.batching

    @property
    def evaluation_errors(self) -> list[EvaluationError]:
        """The plugin failures of the last ``targets()`` or ``findings()``."""
        return self._queries.evaluation_errors

    def last_position(self) -> int:
        """The log position of the last event (0 for an empty ledger). Positions increase along the
        log; on PostgreSQL they may have gaps, so this is not a count of events."""
        return self._log.max_position()

    def events(self, *, after: int = 0, limit: int | None = None) -> Iterator[rows.LoggedEvent]:
        """Every stored event after position ``after`` in log order — the feed a host system follows
        (remember the last ``position`` seen and pass it as ``after`` to resume)."""
        return self._queries.events(after, limit)

    # -- hazards -------------------------------------------------------------------------------

    @command(cmd.ReportHazard, subject=None)
    def report_hazard(self, c: cmd.ReportHazard) -> str:
        """Register a 问题隐患; returns its number (``H-fire-2020-0007``)."""
        return self._hazards.report(c)

    @command(cmd.PlanRectification)
    def plan_rectification(self, number: str, c: cmd.PlanRectification) -> str:
        """Record any subset of the 五到位 (responsibility, measures, funds, deadline, contingency)."""
        return self._hazards.plan(number, c)

    @command(cmd.Escalate)
    def escalate(self, number: str, c: cmd.Escalate) -> str:
        """Record 挂牌督办 by a supervising body."""
        return self._hazards.escalate(number, c)

    @command(cmd.RequestExtension)
    def request_extension(self, number: str, c: cmd.RequestExtension) -> str:
        """Ask for a later deadline (延期申请)."""
        return self._hazards.request_extension(number, c)

    @command(cmd.DecideExtension)
    def decide_extension(self, number: str, c: cmd.DecideExtension) -> str:
        """Approve or refuse the pending extension request."""
        return self._hazards.decide_extension(number, c)

    @command(cmd.ReportProgress)
    def report_progress(self, number: str, c: cmd.ReportProgress) -> str:
        """Note progress of the rectification (整改进展)."""
        return self._hazards.report_progress(number, c)

    @command(cmd.CompleteRectification)
    def complete_rectification(self, number: str, c: cmd.CompleteRectification) -> str:
        """Record that the rectification is done (整改完成) and awaits verification."""
        return self._hazards.complete(number, c)

    @command(cmd.Verify)
    def verify(self, number: str, c: cmd.Verify) -> str:
        """Record a verification (验收); a failed one returns the hazard to 整改中."""
        return self._hazards.verify(number, c)

    @command(cmd.Close)
    def close(self, number: str, c: cmd.Close) -> str:
        """Close (销号) a hazard whose rectification passed verification."""
        return self._hazards.close(number, c)

    @command(cmd.Reopen)
    def reopen(self, number: str, c: cmd.Reopen) -> str:
        """Reopen (反销号) a closed hazard found not fixed, e.g. at 回头看."""
        return self._hazards.reopen(number, c)

    @command(cmd.Recheck)
    def recheck(self, number: str, c: cmd.Recheck) -> str:
        """Record a 回头看 re-inspection of a closed hazard: passed, ``rechecked_on`` is set; failed,
        the hazard is reopened (counted in ``reopened``)."""
        return self._hazards.recheck(number, c)

    @command(cmd.Correct)
    def correct(self, number: str, c: cmd.Correct) -> str:
        """Correct a wrongly recorded field; ``on`` defaults to the hazard's found date."""
        return self._hazards.correct(number, c)

    @command(cmd.Withdraw)
    def withdraw(self, number: str, c: cmd.Withdraw) -> str:
        """Withdraw (撤销) a duplicate or erroneous entry; it stays in the history."""
        return self._hazards.withdraw(number, c)

    # -- measures ------------------------------------------------------------------------------

    @command(cmd.AddMeasure, subject=None)
    def add_measure(self, c: cmd.AddMeasure) -> str:
        """Plan a 制度措施; returns its number (``M-fire-2020-0001``)."""
        return self._measures.add(c)

    @command(cmd.IssueMeasure)
    def issue_measure(self, number: str, c: cmd.IssueMeasure) -> str:
        """Record that the measure was issued (印发) with its document number (文号)."""
        return self._measures.issue(number, c)

    @command(cmd.ImplementMeasure)
    def implement_measure(self, number: str, c: cmd.ImplementMeasure) -> str:
        """Record that the measure is in force and carried out (已落实)."""
        return self._measures.implement(number, c)

    @command(cmd.ReviseMeasure)
    def revise_measure(self, number: str, c: cmd.ReviseMeasure) -> str:
        """Revise a measure's title or 文号; the number stays, the change is recorded."""
        return self._measures.revise(number, c)

    @command(cmd.RepealMeasure)
    def repeal_measure(self, number: str, c: cmd.RepealMeasure) -> str:
        """Repeal (废止) a measure."""
        return self._measures.repeal(number, c)

    # -- tasks, units, indicators ---------------------------------------------------------------

    @command(cmd.ReportTaskProgress, subject="task_id")
    def report_task_progress(self, task_id: str, c: cmd.ReportTaskProgress) -> str:
        """Report progress on a 重点任务 (optionally with a percentage); ``period`` (``2021``,
        ``2021-H1``, ``2021-Q3``, ``2021-05``) is required for a recurring task and refused for a
        one-off. Returns the task's record number (``fire.9`` or ``fire.9@2021``)."""
        return self._tasks.report_progress(task_id, c)

    @command(cmd.CompleteTask, subject="task_id")
    def complete_task(self, task_id: str, c: cmd.CompleteTask) -> str:
        """Record that a 重点任务 is done (a recurring one: in ``period``, as for
        :meth:`report_task_progress`)."""
        return self._tasks.complete(task_id, c)

    @command(cmd.RegisterUnit, subject=None)
    def register_unit(self, c: cmd.RegisterUnit) -> str:
        """Register a 监管对象; returns its number (``U-00001``)."""
        return self._units.register(c)

    @command(cmd.SetUnitAttributes)
    def set_unit_attributes(self, number: str, c: cmd.SetUnitAttributes) -> str:
        """Change a unit's attributes as of a date (None removes one)."""
        return self._units.set_attributes(number, c)

    @command(cmd.CloseUnit)
    def close_unit(self, number: str, c: cmd.CloseUnit) -> str:
        """Close (注销) a unit: it no longer counts in targets and checks after that date."""
        return self._units.close(number, c)

    @command(cmd.RecordIndicator, subject="target_id")
    def record_indicator(self, target_id: str, c: cmd.RecordIndicator) -> str:
        """Record a reported value of a target (e.g. the number of enforcement officers)."""
        return self._tasks.record_indicator(target_id, c)

    # -- reports -------------------------------------------------------------------------------

    report_number = staticmethod(report_number)

    @command(cmd.SubmitReport, subject=None,
             extra=(_P("prepare", _P.KEYWORD_ONLY, default=None,
                       annotation=Callable[[rows.TwoLists], None] | None),))
    def submit_report(self, c: cmd.SubmitReport, prepare: Callable[[rows.TwoLists], None] | None = None) -> str:
        """Record the submission of the 两个清单 for ``period`` (as of ``as_of``, default the day).

        The lists, the log position and the hash-chain head are read together, from one snapshot;
        what is digested is exactly what the ledger held at that position, whatever is written
        meanwhile. A second submission of the same period (and campaign) needs
        ``resubmit_reason``. ``prepare(lists)`` is called with the lists about to be recorded,
        before anything is written (e.g. to write the workbook handed in); if it raises, nothing
        is recorded. It may be called again when the lists had to be read again.
        """
        return self._reports.submit(c, prepare)

    def reports(self, *, period: str | None = None, campaign: str | None = None) -> list[rows.ReportRow]:
        """Every submission recorded (of ``period``, of ``campaign``), by period then submission."""
        return self._queries.reports(period, campaign)

    def report(self, period: str, /, *, campaign: str | None = None,
               submission: int | None = None) -> rows.ReportRow:
        """One submission for a period: ``submission`` 1 is the original, None the latest."""
        return self._queries.report(period, campaign, submission)

    def report_diff(self, period: str, /, *, campaign: str | None = None,
                    submission: int | None = None) -> ReportDiff:
        """回头看: every difference between a submission (default the latest) and what is now known
        for its date. ``.report`` is the submission compared with."""
        return self._queries.report_diff(period, campaign, submission)

    # -- queries -------------------------------------------------------------------------------

    def hazard(self, number: str, /, *, as_of: date | None = None,
               known_at: date | datetime | None = None) -> rows.HazardRow:
        """The hazard as it stood at the end of ``as_of``, as recorded by ``known_at``."""
        return self._queries.hazard(number, as_of, known_at)

    def measure(self, number: str, /, *, as_of: date | None = None,
                known_at: date | datetime | None = None) -> rows.MeasureRow:
        """The measure as it stood at the end of ``as_of``, as recorded by ``known_at``."""
        return self._queries.measure(number, as_of, known_at)

    def unit(self, number: str, /, *, as_of: date | None = None,
             known_at: date | datetime | None = None) -> rows.UnitRow:
        """The unit with its attributes as of ``as_of``."""
        return self._queries.unit(number, as_of, known_at)

    def indicator(self, target_id: str, /, *, as_of: date | None = None,
                  known_at: date | datetime | None = None) -> rows.IndicatorReading | None:
        """The latest reading of a target dated on or before ``as_of``."""
        return self._queries.indicator(target_id, as_of, known_at)

    def history(self, number: str, /) -> list[rows.HistoryEntry]:
        """Every event of a record, in recording order, with effective date, recorded time, actor."""
        return self._queries.history(number)

    def snapshot(self, *, as_of: date | None = None,
                 known_at: date | datetime | None = None) -> LedgerSnapshot:
        """The read-only state as of ``as_of`` (default today) as known at ``known_at`` (default now)."""
        return self._queries.snapshot(as_of=as_of, known_at=known_at)

    def forget_snapshots(self) -> None:
        """Drop the decoded snapshots kept for repeated reads (benchmarks measure cold reads)."""
        self._queries.forget_snapshots()

    def two_lists(self, *, as_of: date | None = None, known_at: date | datetime | None = None,
                  campaign: str | None = None, department: str | None = None,
                  village: str | None = None, include_withdrawn: bool = False,
                  limit: int | None = None, offset: int = 0) -> rows.TwoLists:
        """The 问题隐患清单 and 制度措施清单 as they stood at ``as_of``, as known at ``known_at``.

        Rows are ordered by number; ``limit``/``offset`` page through each list.
        """
        return self._queries.two_lists(as_of=as_of, known_at=known_at, campaign=campaign,
                                       department=department, village=village,
                                       include_withdrawn=include_withdrawn, limit=limit, offset=offset)

    def overdue(self, *, as_of: date | None = None, known_at: date | datetime | None = None,
                campaign: str | None = None) -> list[rows.HazardRow]:
        """Hazards not completed whose deadline passed before ``as_of``."""
        lists = self.two_lists(as_of=as_of, known_at=known_at, campaign=campaign)
        return [h for h in lists.hazards if h.overdue]

    def due_soon(self, *, within_days: int = 7, as_of: date | None = None,
                 known_at: date | datetime | None = None) -> list[rows.DueItem]:
        """Open hazards' deadlines, unfinished 重点任务 and planned 制度措施 falling due within
        ``within_days`` after ``as_of`` — and those already overdue (negative ``days_left``) — by date."""
        return self._queries.due_soon(within_days, as_of, known_at)

    def stats(self, *, as_of: date | None = None, known_at: date | datetime | None = None,
              campaign: str | None = None) -> Stats:
        """Counts by campaign, level and status; 整改率; 重大隐患 open and overdue; measures by status."""
        return self._queries.stats(as_of, known_at, campaign)

    def tasks(self, *, as_of: date | None = None, known_at: date | datetime | None = None,
              campaign: str | None = None) -> list[rows.TaskRow]:
        """The 重点任务 of the loaded campaigns with their progress as of the date."""
        return self._queries.tasks(as_of, known_at, campaign)

    def units(self, *, as_of: date | None = None, known_at: date | datetime | None = None,
              kind: str | None = None, include_closed: bool = False, **attributes: Any) -> list[rows.UnitRow]:
        """Units with their attributes as of the date (closed ones only with ``include_closed``).

        Each attribute filter is coerced to the attribute's declared type (``贮存起始日期="2020-08-01"``
        matches the date; ``None`` matches units without it); an undeclared name or a value of the
        wrong type raises :class:`InvalidCommand`.
        """
        return self._queries.units(as_of, known_at, kind, include_closed, attributes)

    def targets(self, *, as_of: date | None = None, known_at: date | datetime | None = None,
                campaign: str | None = None) -> list[rows.TargetStatus]:
        """Every 整治目标 with its value and state; plugin failures go to ``evaluation_errors``."""
        return self._queries.targets(as_of, known_at, campaign)

    def findings(self, *, as_of: date | None = None, known_at: date | datetime | None = None,
                 campaign: str | None = None) -> list[Finding]:
        """What every check finds (about ``campaign``, if given); plugin failures go to ``evaluation_errors``.

        Every check runs even when filtering, because the plan-wide checks find things about
        every campaign's hazards and tasks.
        """
        return self._queries.findings(as_of, known_at, campaign)

    def projection(self, projection_id: str, /, *, as_of: date | None = None,
                   known_at: date | datetime | None = None) -> list[dict[str, Any]]:
        """A campaign's own table (e.g. 红橙黄蓝 distribution of units) as of the date."""
        return self._queries.projection(projection_id, as_of, known_at)

    # -- the view and the audit -----------------------------------------------------------------

    def catch_up(self) -> int:
        """Apply to the view any events it has not seen yet; returns how many."""
        return self._view.catch_up()

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Replay the view from the event log beside the live one and swap it in (readers never
        see a half-built view); ``progress(done, total)`` is called per batch."""
        applied = self._view.rebuild(progress)
        self.forget_snapshots()
        return applied

    def head(self) -> tuple[int, str]:
        """The position of the last event and the hash chain's head there (after catching up)."""
        self._view.catch_up()
        position = self._view.position()
        return position, chain_head(self._view.store, position)

    def verify_integrity(self, *, dates: list[date] | None = None) -> VerifyReport:
        """What ``qingdan verify`` runs (``verify`` itself is the 验收 command). From the event log
        alone: recompute the hash chain, check every submission's chain head and digest, and compare
        the whole view (every date, current and superseded rows) with the reference fold. ``.ok`` is
        False and ``.problems`` names each problem when anything is wrong (``dates``: kept, unused)."""
        self.forget_snapshots()  # read the view afresh: the point is to catch it being wrong
        return audit.verify(audit.Sources(log=self._log, view=self._view, catalogue=self.catalogue,
                                          today=self.today), dates=dates)


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user database in some containers
        return "unknown"


def open_ledger(url: str | None = None, *, actor: str | None = None,
                clock: Callable[[], datetime] | None = None, catalogue: Any = None,
                policy: Authoriser | str | Path | None = None) -> Ledger:
    """Open (creating if needed) a ledger.

    ``url``: a path or ``sqlite:///path`` (default ``$QINGDAN_DB`` or ``./qingdan.db``), or
    ``postgresql://user@host:port/db`` (``?schema=name`` to use a schema). ``clock``: returns the
    recorded time of the next event (an aware datetime; default now). ``catalogue``: the campaign
    catalogue to use instead of the installed plugins (for hosts and tests). ``policy``: who may
    do what — a TOML file path, or any object with ``authorise(AccessRequest)`` (default
    ``$QINGDAN_POLICY``, else everyone may do everything); see :mod:`qingdan.core.policy`.
    """
    return Ledger(url, actor=actor, clock=clock, catalogue=catalogue, policy=policy)
