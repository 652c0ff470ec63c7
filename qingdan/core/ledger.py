"""The ledger: the public API (docs/architecture.md, "The public API"), a thin facade over the layers of :mod:`qingdan.core`.

Commands take keyword arguments, validated at the boundary into the command models of
:mod:`qingdan.core.commands` (their fields are each method's parameters, as ``help()`` shows), and go
to a handler (:mod:`qingdan.core.handlers`) and the write path (:mod:`qingdan.core.writes`). Queries go
to :mod:`qingdan.core.reading`. ``verify_integrity`` is the audit (:mod:`qingdan.core.integrity`).
"""

from __future__ import annotations

import dataclasses
import functools
import getpass
import inspect
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

from . import commands as cmd
from . import rows
from .base import AttachedEvent
from .blobs import digest as _digest
from .blobs import fetch as _fetch_blob
from .clock import as_known_at, end_of_day, system_now  # noqa: F401  (their old home)
from .errors import Conflict, InvalidCommand, NotFound, QingdanError
from .errors import show as _show
from .eventlog import EventLog, StoredRow
from .facade import LedgerReads
from .files import Limits
from .handlers import (
    AttachmentCommands,
    HazardCommands,
    MeasureCommands,
    ReportCommands,
    TaskCommands,
    TownshipCommands,
    UnitCommands,
)
from .kinds import kind_of_class
from .policy import Authoriser, load_policy
from .queries import ReportDiff
from .reading import COMMON_FIELDS, Queries  # noqa: F401  (COMMON_FIELDS: its old home)
from .records import report_number
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


class Evidence:
    """The facade's attachment methods (a part of :class:`Ledger`, kept apart to keep it readable)."""

    _view: View
    _attachments: AttachmentCommands
    _log: EventLog
    _app: LedgerApplication

    @command(cmd.Attach)
    def attach(self, number: str, c: cmd.Attach) -> str:
        """Attach a photo or document to a hazard or a measure (``kind``: 整改前, 整改后, 验收, 文书,
        其他; for a measure, its issued document is 文书); returns the content's sha256.

        ``path`` (a file the ledger reads) or ``data`` (its bytes) and ``name``. The content is
        checked first (type sniffed from the bytes, size and pixel limits, see
        :mod:`qingdan.core.files`) and stored once inside the ledger database, in the same
        transaction as the event that records it; the event carries its sha256, size, type, name,
        kind and a photo's EXIF time and position, so the hash chain covers it."""
        self._view.store.connect()  # the blob table exists before the recorder writes to it
        return self._attachments.attach(number, c)

    def attachment(self, sha256: str, /) -> bytes:
        """The bytes of an attachment, checked against its sha256; :class:`NotFound` if none."""
        key = str(sha256).strip().lower()
        data = _fetch_blob(self._view.store.query, key) if len(key) == 64 else None
        if data is None:
            raise NotFound(f"台账中没有 SHA-256 为 {_show(key[:64])} 的附件")
        if _digest(data) != key:
            raise QingdanError(f"附件 {key[:12]}… 的内容与其 SHA-256 不符：附件被改动，请运行 `qingdan verify`")
        return data

    def raw_log(self, *, after: int = 0) -> Iterator[StoredRow]:
        """Every stored event row after position ``after`` exactly as stored (its position, record
        id, version, topic and state bytes): what a bundle keeps to restore the ledger exactly."""
        while rows := self._log.stored_rows(after=after, limit=1000):
            for row in rows:
                if isinstance(row.originator_id, str):  # SQLite stores the UUID as its hex
                    try:
                        row = dataclasses.replace(row, originator_id=UUID(row.originator_id))
                    except ValueError:
                        pass  # altered outside qingdan: `verify` names it, a restore refuses it
                yield row
            after = rows[-1].id

    def restore(self, events: Iterable[StoredRow], attachments: Mapping[str, bytes]) -> int:
        """Into an empty ledger: the stored events of another (``raw_log``), at their positions,
        and the attachments they name, in one transaction; then the view and the hash chain are
        built from them — the same chain, so every report's recorded head still matches. Each
        attachment is checked against its sha256 and every one the events name must be given;
        otherwise :class:`InvalidCommand` and nothing is written. Returns the number of events."""
        rows = list(events)
        referenced: dict[str, int] = {}
        for row in rows:
            try:
                event = self._log.decode(Notification(
                    id=row.id, originator_id=row.originator_id, originator_version=row.originator_version,
                    topic=row.topic, state=row.state))
            except Exception as error:
                raise InvalidCommand(f"事件 #{row.id} 无法读取（{type(error).__name__}），未恢复任何数据") from None
            if isinstance(event, AttachedEvent):
                referenced.setdefault(event.sha256, row.id)
        for sha, data in attachments.items():
            if _digest(data) != sha:
                raise InvalidCommand(f"附件 {_show(sha)[:16]}… 的内容与其 SHA-256 不符，未恢复任何数据")
        missing = [f"{sha[:12]}…（事件 #{position}）" for sha, position in referenced.items()
                   if sha not in attachments]
        if missing:
            raise InvalidCommand("缺少事件引用的附件：" + "、".join(missing[:5]) + "，未恢复任何数据")
        self._view.store.connect()
        if self._view.position() or self._log.max_position():
            raise Conflict("只能恢复到空台账：这个台账已有记录")
        try:
            self._app.recorder.restore(rows, [(sha, attachments[sha]) for sha in referenced])
        except LogNotEmpty:
            raise Conflict("只能恢复到空台账：恢复期间已有人写入记录") from None
        self._view.catch_up()
        return len(rows)

    @property
    def attachment_limits(self) -> Limits:
        """The size and pixel limits attachments are checked against (settable; default from
        ``QINGDAN_ATTACHMENT_MAX_MB`` and ``QINGDAN_ATTACHMENT_MAX_PIXELS``)."""
        return self._attachments.limits or Limits.from_env()

    @attachment_limits.setter
    def attachment_limits(self, limits: Limits | None) -> None:
        self._attachments.limits = limits


class Ledger(Evidence, LedgerReads):
    """A ledger of the 两个清单: commands write events, queries read state as of any date.

    Use :func:`qingdan.open_ledger` to get one. ``clock`` is a callable returning an aware datetime:
    the recorded time of the next event (default: now).
    """

    def __init__(self, url: str | None = None, *, actor: str | None = None,
                 clock: Callable[[], datetime] | None = None, catalogue: Any = None,
                 policy: Authoriser | str | Path | None = None, create: Create = True) -> None:
        try:
            self.actor = check_actor(actor or os.environ.get("QINGDAN_ACTOR") or _default_actor())
        except ValueError as error:
            raise InvalidCommand(f"操作人（--actor）无效：{error}") from None
        env, self.backend = persistence_env(url)
        self.url = url
        self._app = open_event_store(env, self.backend, create)
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
        self._township = TownshipCommands(*handlers)
        self._attachments = AttachmentCommands(*handlers)

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
    def batch(self) -> Iterator[Ledger]:
        """Run many commands and store them together, in one transaction, or not at all.

        Inside the block each command is checked against the effects of the earlier ones (a
        rejected command still raises and changes nothing); the events are written when the block
        ends, and the view is caught up once. A batch is recorded at one moment: every event in it
        carries the recorded time the clock gave when the block began. If the block raises, nothing
        is written. If another writer took a number or changed a record meanwhile,
        :class:`Conflict` is raised and nothing is written: run the whole batch again. Queries
        inside the block see only what is stored.
        """
        with self._uow.batch():
            yield self

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

    # -- the township --------------------------------------------------------------------------

    @command(cmd.SetProfile, subject=None)
    def set_profile(self, c: cmd.SetProfile) -> str:
        """Set the township profile the forms print (name, 填报单位, 审核人, 填表人, 联系电话, departments);
        a later call replaces it from its ``on`` date. An admin's command under a policy."""
        return self._township.set_profile(c)

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


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user database in some containers
        return "unknown"


def open_ledger(url: str | None = None, *, actor: str | None = None,
                clock: Callable[[], datetime] | None = None, catalogue: Any = None,
                policy: Authoriser | str | Path | None = None, create: Create = True) -> Ledger:
    """Open a ledger (creating it if needed, unless ``create`` says otherwise).

    ``url``: a path or ``sqlite:///path`` (default ``$QINGDAN_DB`` or ``./qingdan.db``), or
    ``postgresql://user@host:port/db`` (``?schema=name`` to use a schema). ``clock``: returns the
    recorded time of the next event (an aware datetime; default now). ``catalogue``: the campaign
    catalogue to use instead of the installed plugins (for hosts and tests). ``policy``: who may
    do what — a TOML file path, or any object with ``authorise(AccessRequest)`` (default
    ``$QINGDAN_POLICY``, else everyone may do everything); see :mod:`qingdan.core.policy`.

    ``create``: ``True`` (default) — create the ledger where there is no database yet or an empty
    one; ``"new"`` — only where there is none yet (a SQLite file that does not exist, a PostgreSQL
    schema without tables); ``False`` — the ledger must already exist (raises
    :class:`~qingdan.core.errors.NoLedger` naming the location, creating nothing). Whatever
    ``create`` says, a database that holds other tables but no ledger is refused
    (:class:`~qingdan.core.errors.InvalidCommand`) and left untouched. ``actor`` is checked like
    every other text (at most 100 characters, no control or format characters).
    """
    return Ledger(url, actor=actor, clock=clock, catalogue=catalogue, policy=policy, create=create)
