"""The ledger: the public API (docs/architecture.md, "The public API"), a thin facade over the layers of :mod:`qingdan.core`.

Commands take keyword arguments, validated at the boundary into the command models of
:mod:`qingdan.core.commands` (their fields are each method's parameters, as ``help()`` shows), and go
to a handler (:mod:`qingdan.core.handlers`) and the write path (:mod:`qingdan.core.writes`). Queries go
to :mod:`qingdan.core.reading`. ``verify_integrity`` is the audit (:mod:`qingdan.core.integrity`).
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import rows
from .clock import as_known_at, end_of_day, system_now  # noqa: F401  (their old home)
from .errors import InvalidCommand, QingdanError
from .eventlog import EventLog
from .facade import _P, Evidence, Governed, LedgerReads, command
from .handlers.access import PolicyCommands
from .kinds import kind_of_class
from .policy import Access, Authoriser, Policy, load_policy
from .queries import ReportDiff
from .reading import COMMON_FIELDS, Queries  # noqa: F401  (COMMON_FIELDS: its old home)
from .rules import report_number
from .store import (  # noqa: F401  (LedgerApplication, persistence_env: their old home)
    Create,
    LedgerApplication,
    LogNotEmpty,
    creation_lock,
    open_event_store,
    persistence_env,
)
from .targets import EvaluationError
from .text import check_actor
from .view import View, ViewStore
from .writes import UnitOfWork, collector_paused, failure_reason

if TYPE_CHECKING:
    from . import commands as cmd


class Ledger(Evidence, Governed, LedgerReads):
    """A ledger of the 两个清单: commands write events, queries read state as of any date.

    Use :func:`qingdan.open_ledger` to get one. ``clock`` is a callable returning an aware datetime:
    the recorded time of the next event (default: now).
    """

    def __init__(self, url: str | None = None, *, actor: str | None = None,
                 clock: Callable[[], datetime] | None = None, catalogue: Any = None,
                 policy: Authoriser | str | Path | None = None, authoriser: Authoriser | None = None,
                 create: Create = True) -> None:
        if actor is not None or os.environ.get("QINGDAN_ACTOR"):
            try:
                check_actor(actor or os.environ.get("QINGDAN_ACTOR") or "")
            except ValueError as error:
                raise InvalidCommand(f"操作人（--actor）无效：{error}") from None
        env, self.backend = persistence_env(url)
        self.url = url
        self._app = open_event_store(env, self.backend, create)
        self._policies = PolicyCommands(self._app)
        self._access = _access(self._policies.stored, actor, policy, authoriser)
        self.actor: str = self._access.default_actor
        self.policy: Authoriser = self._access
        self._catalogue = catalogue
        store = _connected(ViewStore.for_backend(env, self.backend), self._app, url or env.get("SQLITE_DBNAME"))
        self._log = EventLog(self._app, query=store.query, backend=self.backend)
        self._view = View(self._log, store)
        self._uow = UnitOfWork(self._app, self._view, actor=self.actor, clock=clock or system_now,
                               policy=self._access, departments=self._departments_of)
        self._queries = Queries(self._log, self._view, lambda: self.catalogue, self.today)
        self._policies.bind(self._uow, self._access)

    #: The command handlers by attribute, each made on its first command (:meth:`__getattr__`).
    _HANDLERS = {"_hazards": "HazardCommands", "_measures": "MeasureCommands", "_tasks": "TaskCommands",
                 "_units": "UnitCommands", "_reports": "ReportCommands", "_township": "TownshipCommands",
                 "_attachments": "AttachmentCommands"}

    def __getattr__(self, name: str) -> Any:
        """A command handler, made (and its module imported) on first use: a ledger that only
        reads never imports the aggregates, their event classes and the handlers."""
        handler_class = self._HANDLERS.get(name)
        if handler_class is None or "_uow" not in vars(self):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        from . import handlers

        handler = getattr(handlers, handler_class)(self._uow, lambda: self.catalogue)
        setattr(self, name, handler)
        return handler

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

    def campaign_names(self) -> Mapping[str, str]:
        """Each campaign id's name, for people to read: from this ledger's catalogue when it has one,
        else without loading the plugins when their names are cached (:mod:`qingdan.core.names`)."""
        from .names import campaign_names

        return campaign_names(self._catalogue)

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
        with collector_paused(), self._uow.batch(provisional):  # see collector_paused
            yield self

    def set_aside(self, number: str) -> None:
        """In a batch: no later command of the batch touches record ``number`` (a hazard or measure);
        its events wait in a temporary file until the batch is stored, instead of in memory (a large
        import holds only the rows it is working on). Changing it again in the batch is an error.
        Outside a batch, or for a record the batch has not changed, nothing happens."""
        self._uow.set_aside(number)

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

    @command("ReportHazard", subject=None)
    def report_hazard(self, c: cmd.ReportHazard) -> str:
        """Register a 问题隐患; returns its number (``H-fire-2020-0007``)."""
        return self._hazards.report(c)

    @command("PlanRectification")
    def plan_rectification(self, number: str, c: cmd.PlanRectification) -> str:
        """Record any subset of the 五到位 (responsibility, measures, funds, deadline, contingency)."""
        return self._hazards.plan(number, c)

    @command("Escalate")
    def escalate(self, number: str, c: cmd.Escalate) -> str:
        """Record 挂牌督办 by a supervising body."""
        return self._hazards.escalate(number, c)

    @command("RequestExtension")
    def request_extension(self, number: str, c: cmd.RequestExtension) -> str:
        """Ask for a later deadline (延期申请)."""
        return self._hazards.request_extension(number, c)

    @command("DecideExtension")
    def decide_extension(self, number: str, c: cmd.DecideExtension) -> str:
        """Approve or refuse the pending extension request."""
        return self._hazards.decide_extension(number, c)

    @command("ReportProgress")
    def report_progress(self, number: str, c: cmd.ReportProgress) -> str:
        """Note progress of the rectification (整改进展)."""
        return self._hazards.report_progress(number, c)

    @command("CompleteRectification")
    def complete_rectification(self, number: str, c: cmd.CompleteRectification) -> str:
        """Record that the rectification is done (整改完成) and awaits verification."""
        return self._hazards.complete(number, c)

    @command("Verify")
    def verify(self, number: str, c: cmd.Verify) -> str:
        """Record a verification (验收); a failed one returns the hazard to 整改中."""
        return self._hazards.verify(number, c)

    @command("Close")
    def close(self, number: str, c: cmd.Close) -> str:
        """Close (销号) a hazard whose rectification passed verification."""
        return self._hazards.close(number, c)

    @command("Reopen")
    def reopen(self, number: str, c: cmd.Reopen) -> str:
        """Reopen (反销号) a closed hazard found not fixed, e.g. at 回头看."""
        return self._hazards.reopen(number, c)

    @command("Recheck")
    def recheck(self, number: str, c: cmd.Recheck) -> str:
        """Record a 回头看 re-inspection of a closed hazard: passed, ``rechecked_on`` is set; failed,
        the hazard is reopened (counted in ``reopened``)."""
        return self._hazards.recheck(number, c)

    @command("Correct")
    def correct(self, number: str, c: cmd.Correct) -> str:
        """Correct a wrongly recorded field; ``on`` defaults to the hazard's found date."""
        return self._hazards.correct(number, c)

    @command("Withdraw")
    def withdraw(self, number: str, c: cmd.Withdraw) -> str:
        """Withdraw (撤销) a duplicate or erroneous entry; it stays in the history."""
        return self._hazards.withdraw(number, c)

    # -- measures ------------------------------------------------------------------------------

    @command("AddMeasure", subject=None)
    def add_measure(self, c: cmd.AddMeasure) -> str:
        """Plan a 制度措施; returns its number (``M-fire-2020-0001``)."""
        return self._measures.add(c)

    @command("IssueMeasure")
    def issue_measure(self, number: str, c: cmd.IssueMeasure) -> str:
        """Record that the measure was issued (印发) with its document number (文号)."""
        return self._measures.issue(number, c)

    @command("ImplementMeasure")
    def implement_measure(self, number: str, c: cmd.ImplementMeasure) -> str:
        """Record that the measure is in force and carried out (已落实)."""
        return self._measures.implement(number, c)

    @command("ReviseMeasure")
    def revise_measure(self, number: str, c: cmd.ReviseMeasure) -> str:
        """Revise a measure's title or 文号; the number stays, the change is recorded."""
        return self._measures.revise(number, c)

    @command("RepealMeasure")
    def repeal_measure(self, number: str, c: cmd.RepealMeasure) -> str:
        """Repeal (废止) a measure."""
        return self._measures.repeal(number, c)

    # -- tasks, units, indicators ---------------------------------------------------------------

    @command("ReportTaskProgress", subject="task_id")
    def report_task_progress(self, task_id: str, c: cmd.ReportTaskProgress) -> str:
        """Report progress on a 重点任务 (optionally with a percentage); ``period`` (``2021``,
        ``2021-H1``, ``2021-Q3``, ``2021-05``) is required for a recurring task and refused for a
        one-off. Returns the task's record number (``fire.9`` or ``fire.9@2021``)."""
        return self._tasks.report_progress(task_id, c)

    @command("CompleteTask", subject="task_id")
    def complete_task(self, task_id: str, c: cmd.CompleteTask) -> str:
        """Record that a 重点任务 is done (a recurring one: in ``period``, as for
        :meth:`report_task_progress`)."""
        return self._tasks.complete(task_id, c)

    @command("RegisterUnit", subject=None)
    def register_unit(self, c: cmd.RegisterUnit) -> str:
        """Register a 监管对象; returns its number (``U-00001``)."""
        return self._units.register(c)

    @command("SetUnitAttributes")
    def set_unit_attributes(self, number: str, c: cmd.SetUnitAttributes) -> str:
        """Change a unit's attributes as of a date (None removes one)."""
        return self._units.set_attributes(number, c)

    @command("CloseUnit")
    def close_unit(self, number: str, c: cmd.CloseUnit) -> str:
        """Close (注销) a unit: it no longer counts in targets and checks after that date."""
        return self._units.close(number, c)

    @command("RecordIndicator", subject="target_id")
    def record_indicator(self, target_id: str, c: cmd.RecordIndicator) -> str:
        """Record a reported value of a target (e.g. the number of enforcement officers)."""
        return self._tasks.record_indicator(target_id, c)

    # -- reports -------------------------------------------------------------------------------

    report_number = staticmethod(report_number)

    # -- the township --------------------------------------------------------------------------

    @command("SetProfile", subject=None)
    def set_profile(self, c: cmd.SetProfile) -> str:
        """Set the township profile the forms print (name, 填报单位, 审核人, 填表人, 联系电话, departments);
        a later call replaces it from its ``on`` date. An admin's command under a policy."""
        return self._township.set_profile(c)

    @command("SubmitReport", subject=None,
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


def _access(load: Callable[[], Policy | None], actor: str | None, policy: Authoriser | str | Path | None,
            authoriser: Authoriser | None) -> Access:
    """Who acts and who decides (:class:`qingdan.core.policy.Access`) from ``open_ledger``'s arguments
    and the environment: a policy file counts only while the ledger has no policy of its own."""
    explicit = actor or os.environ.get("QINGDAN_ACTOR") or None
    source = policy if policy is not None else os.environ.get("QINGDAN_POLICY") or None
    file_like = source is None or isinstance(source, str | os.PathLike) or type(source) is Policy
    fallback = load_policy(source) if file_like and source is not None else None
    host = authoriser if file_like else _Both(authoriser, source)
    return Access(load, fallback=fallback, host=host, actor=explicit, default_actor=explicit or _default_actor())


def _connected(store: ViewStore, app: Any, where: str | None) -> ViewStore:
    """The view's connection, opened now: every connection a write needs exists before anything is
    written, so a server out of connections refuses the command instead of half-doing it."""
    try:
        store.connect()
    except Exception as error:
        app.close()
        raise QingdanError(f"无法打开台账数据库 {where}：{failure_reason(error)}（未写入任何内容）") from error
    return store


class _Both:
    """A host's authoriser and an authoriser object passed as ``policy=``: both are asked."""

    def __init__(self, *authorisers: Authoriser | None) -> None:
        self.authorisers = [a for a in authorisers if a is not None]

    def authorise(self, request: Any) -> None:
        for authoriser in self.authorisers:
            authoriser.authorise(request)


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user database in some containers
        return "unknown"


def open_ledger(url: str | None = None, *, actor: str | None = None,
                clock: Callable[[], datetime] | None = None, catalogue: Any = None,
                policy: Authoriser | str | Path | None = None, authoriser: Authoriser | None = None,
                create: Create = True) -> Ledger:
    """Open a ledger (creating it if needed, unless ``create`` says otherwise).

    ``url``: a path or ``sqlite:///path`` (default ``$QINGDAN_DB`` or ``./qingdan.db``), or
    ``postgresql://user@host:port/db`` (``?schema=name`` to use a schema). ``clock``: returns the
    recorded time of the next event (an aware datetime; default now). ``catalogue``: the campaign
    catalogue to use instead of the installed plugins (for hosts and tests). ``policy``: who may
    do what — a TOML file path, or any object with ``authorise(AccessRequest)`` (default
    ``$QINGDAN_POLICY``, else everyone may do everything) for a ledger without a policy of its own;
    once a ledger has one (:meth:`Ledger.set_policy`, ``qingdan policy set``) that one governs every
    write and these are ignored. ``authoriser``: a host system that establishes identity itself —
    the actors it names are trusted (not mapped from the operating-system account) and it is asked
    about every write too; see :mod:`qingdan.core.policy`.

    ``create``: ``True`` (default) — create the ledger where there is no database yet or an empty
    one; ``"new"`` — only where there is none yet (a SQLite file that does not exist, a PostgreSQL
    schema without tables); ``False`` — the ledger must already exist (raises
    :class:`~qingdan.core.errors.NoLedger` naming the location, creating nothing). Whatever
    ``create`` says, a database that holds other tables but no ledger is refused
    (:class:`~qingdan.core.errors.InvalidCommand`) and left untouched. ``actor`` is checked like
    every other text (at most 100 characters, no control or format characters).
    """
    return Ledger(url, actor=actor, clock=clock, catalogue=catalogue, policy=policy, authoriser=authoriser,
                  create=create)
