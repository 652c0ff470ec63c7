"""The parts of the ledger's facade: the read side (queries as of any date, the view, the audit),
the evidence (attachments, the bundle), the ledger's own policy, and the ``command`` decorator
every command method is written with.

:class:`~qingdan.core.ledger.Ledger` is these plus the commands; every part only delegates — the
queries to :mod:`qingdan.core.reading`, the audit to :mod:`qingdan.core.audit`, the commands to
:mod:`qingdan.core.handlers` — so each stays a list of the public names with their signatures and
documentation.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import Notification

from . import rows
from .blobs import digest as _digest
from .blobs import fetch as _fetch_blob
from .chain import chain_head
from .errors import Conflict, InvalidCommand, NotFound, QingdanError
from .errors import show as _show
from .eventlog import EventLog, StoredRow
from .files import Limits
from .policy import Access, AccessRequest, Policy
from .queries import LedgerSnapshot, Stats, Trend
from .reading import Queries
from .spec import Finding
from .store import LedgerApplication, LogNotEmpty
from .view import View

if TYPE_CHECKING:
    from . import commands as cmd
    from .audit import VerifyReport
    from .handlers import AttachmentCommands, PolicyCommands

_P = inspect.Parameter


def command(model: str, *, subject: str | None = "number",
            extra: tuple[_P, ...] = ()) -> Callable[[Callable[..., str]], Any]:
    """A facade method whose keyword arguments are the fields of the command model named ``model``
    (in :mod:`qingdan.core.commands`), validated into it.

    The method is written ``def escalate(self, number, c)``; the facade's ``escalate(number, *,
    supervisor, level="镇", doc_no=None, on=None, actor=None, note=None)`` validates the keywords
    into ``c`` (a rejected one raises :class:`~qingdan.InvalidCommand` and writes nothing). Its
    signature is built from the model, so ``help()`` shows the real parameters and there is no
    second hand-written copy of them. ``extra``: keyword parameters that are not command data.

    The method is built on first use (:class:`_Command`): a process that only reads never imports
    the command models.
    """
    def decorate(function: Callable[..., str]) -> Any:
        return _Command(function, model, subject, extra)

    return decorate


class _Command:
    """A command method not built yet: on first access (a call, ``help()``, ``inspect``) it imports
    the command models, builds the method and puts it on the class in its own place, so later
    accesses are plain method look-ups.

    The 45 pydantic models of :mod:`qingdan.core.commands` cost a read-only command such as
    ``qingdan hazard show`` a tenth of its start-up (129 of 1,294 million instructions); a read never
    needs them."""

    def __init__(self, function: Callable[..., str], model: str, subject: str | None,
                 extra: tuple[_P, ...]) -> None:
        self.function, self.model, self.subject, self.extra = function, model, subject, extra
        self.__doc__ = function.__doc__
        self.__name__ = self.name = function.__name__
        self.owner: type | None = None

    def __set_name__(self, owner: type, name: str) -> None:
        self.owner, self.name = owner, name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        method = self.build()
        if self.owner is not None:
            setattr(self.owner, self.name, method)
        return method if obj is None else method.__get__(obj, owner)

    def build(self) -> Callable[..., str]:
        from . import commands as cmd

        model: type[cmd.Command] = getattr(cmd, self.model)
        function, extra = self.function, self.extra
        own = [n for n in model.model_fields if n not in cmd.Command.model_fields]
        parameters = [_P("self", _P.POSITIONAL_ONLY)]
        if self.subject is not None:
            parameters.append(_P(self.subject, _P.POSITIONAL_ONLY, annotation=str))
        for name in [*own, *cmd.Command.model_fields]:
            field = model.model_fields[name]
            default = _P.empty if field.is_required() else field.get_default(call_default_factory=True)
            parameters.append(_P(name, _P.KEYWORD_ONLY, default=default, annotation=field.annotation))
        parameters += extra
        extras = {p.name: p.default for p in extra}

        @functools.wraps(function)
        def method(self: Any, *args: Any, **kwargs: Any) -> str:
            options = {name: kwargs.pop(name, default) for name, default in extras.items()}
            c = cmd.validate(model, **kwargs)
            return self._uow.run_command(lambda: function(self, *args, c, **options))  # type: ignore[no-any-return]

        method.__signature__ = inspect.Signature(parameters, return_annotation=str)  # type: ignore[attr-defined]
        method.command_model = model  # type: ignore[attr-defined]
        return method


class Evidence:
    """The facade's attachment methods (a part of :class:`Ledger`, kept apart to keep it readable)."""

    _view: View
    _attachments: AttachmentCommands
    _log: EventLog
    _app: LedgerApplication

    @command("Attach")
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
        from .base import AttachedEvent

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


class Governed:
    """The ledger's own policy (a part of the facade)."""

    _policies: PolicyCommands
    _queries: Queries

    def access_policy(self) -> Policy | None:
        """The policy stored in this ledger (``qingdan policy show``), or None."""
        return self._policies.stored()

    def set_policy(self, policy: Policy | str, *, actor: str | None = None, note: str | None = None) -> int:
        """Store ``policy`` (a :class:`Policy` or its TOML text) as this ledger's policy; returns its
        version (1 for the first). Needs the admin role under the policy in force; the first policy of
        a ledger may be set by anyone who can write to it. Either way the new policy must keep the one
        setting it an admin (on the command line: mapped to this operating-system account)."""
        return self._policies.set(policy, actor, note)

    def policy_history(self) -> list[rows.HistoryEntry]:
        """Every change of this ledger's policy (empty if it has none)."""
        return self._policies.history(self._queries)


class LedgerReads:
    """What every ledger answers; the state it reads is set up by :class:`~qingdan.core.ledger.Ledger`."""

    _queries: Queries
    _view: View
    _log: EventLog
    _access: Access
    catalogue: Any
    today: Callable[[], date]  # the ledger's own clock

    def profile(self, *, as_of: date | None = None,
                known_at: date | datetime | None = None) -> rows.TownshipProfile | None:
        """The township profile as of a date (None until one is set)."""
        return self._queries.profile(as_of, known_at)

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

    def each(self, kind: str = "hazards", *, numbers: Iterable[str] | None = None,
             as_of: date | None = None) -> Iterator[rows.HazardRow | rows.MeasureRow]:
        """Every hazard (``kind="hazards"``) or measure (``"measures"``) as of ``as_of``, withdrawn ones
        too, in number order, read a page at a time (a scan of the whole ledger holds one page), or
        only those ``numbers``."""
        if kind not in ("hazards", "measures"):
            raise InvalidCommand(f"kind 应为 hazards 或 measures，收到 {kind!r}")
        snapshot = self._queries.snapshot(as_of=as_of)
        return snapshot.each(kind[:-1], None if numbers is None else list(numbers))

    def forget_snapshots(self) -> None:
        """Drop the decoded snapshots kept for repeated reads (benchmarks measure cold reads)."""
        self._queries.forget_snapshots()

    def two_lists(self, *, as_of: date | None = None, known_at: date | datetime | None = None,
                  campaign: str | None = None, department: str | None = None,
                  village: str | None = None, include_withdrawn: bool = False,
                  limit: int | None = None, offset: int = 0, after: str | None = None) -> rows.TwoLists:
        """The 问题隐患清单 and 制度措施清单 as they stood at ``as_of``, as known at ``known_at``.

        Rows are ordered by number; ``limit``/``offset`` page through each list. ``after`` (a number:
        the last row of the page before) keeps only the rows numbered after it, so reading a list page
        by page costs the same for the last page as for the first; an offset counts the records
        before its page (one index entry a record; with a department or village, every row of
        theirs). Hazard numbers (``H-…``) sort before measure numbers (``M-…``): paging the 问题隐患清单
        by a hazard's number leaves the 制度措施清单 from its start, and a measure's number pages the
        制度措施清单 alone.
        """
        return self._queries.two_lists(as_of=as_of, known_at=known_at, campaign=campaign,
                                       department=department, village=village,
                                       include_withdrawn=include_withdrawn, limit=limit, offset=offset,
                                       after=after)

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

    def trend(self, days: Sequence[date], *, known_at: date | datetime | None = None,
              campaign: str | None = None) -> list[Trend]:
        """For each of ``days`` (a chart's month ends, say): the hazards by status and how many are
        overdue, as :meth:`stats` counts them as of that day, from one read of the view."""
        return self._queries.trend(days, known_at, campaign)

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

    def rebuild(self, progress: Callable[[int, int], None] | None = None, *, actor: str | None = None) -> int:
        """Replay the view from the event log beside the live one and swap it in (readers never
        see a half-built view); ``progress(done, total)`` is called per batch. Under a policy it
        needs the admin role."""
        self._access.authorise(AccessRequest(actor=self._access.actor(actor), kind="Ledger", command="rebuild"))
        applied = self._view.rebuild(progress)
        self.forget_snapshots()
        return applied

    def head(self) -> tuple[int, str]:
        """The position of the last event and the hash chain's head there (after catching up)."""
        self._view.catch_up()
        position = self._view.position()
        return position, chain_head(self._view.store, position)

    def verify_integrity(self, *, dates: list[date] | None = None, full: bool = False, forget: bool = False,
                         remember: bool = True, state_dir: str | os.PathLike[str] | None = None) -> VerifyReport:
        """What ``qingdan verify`` runs (``verify`` itself is the 验收 command). From the event log
        alone: recompute the hash chain, check every submission's chain head and digest, check every
        attachment against its sha256, and compare the whole view (every date, current and
        superseded rows) with the reference fold. ``.ok`` is False and ``.problems`` names each
        problem when anything is wrong (``dates``: kept, unused).

        Incremental where it can be (:mod:`qingdan.core.incremental`): after a sound check this
        machine remembers what it verified, in ``state_dir`` (default: ``QINGDAN_STATE_DIR``, else
        the user's state directory), outside the database; the next check hashes the whole chain and
        reads the whole view again but folds only the records changed since, and sees history
        rewritten with a recomputed chain. ``full``: everything from scratch (still compared with
        the remembered chain hashes); ``forget``: drop what was remembered, then a complete check;
        ``remember=False``: neither read nor write any state (a complete check)."""
        # here: the audit's modules are not loaded by every command
        from . import audit, incremental

        self.forget_snapshots()  # read the view afresh: the point is to catch it being wrong
        src = audit.Sources(log=self._log, view=self._view, catalogue=self.catalogue, today=self.today)
        state = incremental.state_file(src, state_dir) if remember else None
        return incremental.verify(src, dates=dates, full=full or not remember, state=state, forget=forget)
