"""The ledger: an eventsourcing application behind the public API of DESIGN §5."""

from __future__ import annotations

import copy
import getpass
import os
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote, urlparse

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import (
    IntegrityError,
    Notification,
    Recording,
    Transcoder,
    Transcoding,
)

from . import commands as cmd
from .commands import _show
from .domain import (
    CST,
    HAZARD_CORRECTABLE,
    Hazard,
    Indicator,
    Measure,
    Record,
    Report,
    Task,
    Unit,
    _system_now,
    aggregate_id,
    current_clock,
)
from .errors import Conflict, InvalidCommand, NotFound, PermissionDenied, QingdanError
from .integrity import VerifyReport, chain_head
from .integrity import verify as verify_ledger
from .policy import AccessRequest, Authoriser, load_policy
from .queries import (
    LedgerSnapshot,
    ReportDiff,
    RowDifference,
    Stats,
    compare_lists,
    rows_digest,
    stats,
    two_lists,
)
from .reference import fold, hazard_row, indicator_reading, measure_row, unit_row
from .rows import (
    HazardRow,
    HistoryEntry,
    IndicatorReading,
    MeasureRow,
    ReportRow,
    TargetStatus,
    TaskRow,
    TwoLists,
    UnitRow,
)
from .spec import Finding
from .store import RECORDER_TOPICS, restamp
from .targets import EvaluationError, build_projection, evaluate_targets, run_checks
from .view import View, ViewStore

A = TypeVar("A", bound=Record)
RETRIES = 20
RECENT = 5000  # records kept in memory after being stored
COMMON_FIELDS = {"originator_id", "originator_version", "timestamp", "originator_topic", "on",
                 "actor", "note"}


class DateAsISO(Transcoding):
    """Effective dates are stored as ISO strings (``2020-09-01``)."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class TupleAsList(Transcoding):
    type = tuple
    name = "tuple_list"

    def encode(self, obj: tuple[Any, ...]) -> list[Any]:
        return list(obj)

    def decode(self, data: list[Any]) -> tuple[Any, ...]:
        return tuple(data)


class LedgerApplication(Application[Any]):
    """The event store of one ledger (tables ``qingdan_events`` …)."""

    name = "qingdan"

    def register_transcodings(self, transcoder: Transcoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        transcoder.register(TupleAsList())


def persistence_env(url: str | None) -> tuple[dict[str, str], str]:
    """Translate a ledger URL into eventsourcing's environment; returns (env, kind)."""
    if url is None:
        url = os.environ.get("QINGDAN_DB") or "qingdan.db"
    if url.startswith(("postgresql://", "postgres://")):
        parts = urlparse(url)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": (parts.path or "/").lstrip("/") or "postgres",
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_CONNECT_TIMEOUT": "5",
            "POSTGRES_POOL_SIZE": "2",
            "POSTGRES_MAX_OVERFLOW": "4",
            "APPLICATION_RECORDER_TOPIC": RECORDER_TOPICS["postgres"],
        }
        schema = parse_qs(parts.query).get("schema")
        if schema:
            env["POSTGRES_SCHEMA"] = schema[0]
        return env, "postgres"
    path = url.removeprefix("sqlite:///").removeprefix("sqlite://")
    if path in ("", ":memory:"):
        path = "file::memory:?mode=memory&cache=shared"
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": "30", "APPLICATION_RECORDER_TOPIC": RECORDER_TOPICS["sqlite"]}, "sqlite"


def end_of_day(d: date) -> datetime:
    """A bare date as ``known_at`` means the end of that day in China Standard Time."""
    return datetime.combine(d, time(23, 59, 59, 999999), tzinfo=CST)


def as_known_at(value: date | datetime | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=CST)
        return value
    return end_of_day(value)


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
            with _creation_lock(env, self.backend):
                self.app = LedgerApplication(env=env)
        except Exception as error:  # a server that is down or a path that cannot be opened
            raise QingdanError(f"无法打开台账数据库 {url or env.get('SQLITE_DBNAME')}：{error}") from error
        self.actor = actor or os.environ.get("QINGDAN_ACTOR") or _default_actor()
        self.clock = clock or _system_now
        self._catalogue = catalogue
        self._attributes: dict[str, Any] | None = None
        self.policy = load_policy(policy if policy is not None else os.environ.get("QINGDAN_POLICY") or None)
        self._next_seq: dict[str, int] = {}
        self._recent: OrderedDict[Any, Record] = OrderedDict()
        self._snapshots: dict[Any, tuple[int, LedgerSnapshot]] = {}
        self.view = View(self.app, ViewStore(env, self.backend))
        self._batch: dict[Any, Record] | None = None
        self._batch_stamp: datetime | None = None
        self.evaluation_errors: list[EvaluationError] = []

    # -- plumbing ----------------------------------------------------------------------------

    def disconnect(self) -> None:
        """Release the database connections (the ledger object is unusable afterwards)."""
        self.view.store.close()
        self.app.close()

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

    def now(self) -> datetime:
        stamp = self.clock()
        if stamp.tzinfo is None:
            raise ValueError("the ledger clock must return an aware datetime")
        return stamp

    def today(self) -> date:
        return self.now().astimezone(CST).date()

    @contextmanager
    def _clocked(self) -> Iterator[None]:
        stamp = self._batch_stamp
        token = current_clock.set(self.now if stamp is None else (lambda: stamp))
        try:
            yield
        finally:
            current_clock.reset(token)

    def _common(self, c: cmd.Command) -> dict[str, Any]:
        return {"on": c.on or self.today(), "actor": c.actor or self.actor, "note": c.note}

    @contextmanager
    def batch(self) -> Iterator[Ledger]:
        """Run many commands and store them together, in one transaction, or not at all.

        Inside the block each command is checked against the effects of the earlier ones (a
        rejected command still raises and changes nothing); the events are written when the block
        ends, and the view is caught up once. A batch is recorded at one moment: every event in it
        carries the recorded time the clock gave when the block began. If the block raises, nothing
        is written. If another
        writer took a number or changed a record meanwhile, :class:`Conflict` is raised and nothing
        is written: run the whole batch again. Queries inside the block see only what is stored.
        """
        if self._batch is not None:
            yield self  # already batching: the outer block commits
            return
        self._batch = {}
        self._batch_stamp = self.now()
        allocated = dict(self._next_seq)
        try:
            yield self
            pending = list(self._batch.values())
        except BaseException:
            self._next_seq = allocated
            raise
        finally:
            self._batch = None
            self._batch_stamp = None
        if not pending:
            return
        try:
            recordings = self._store(pending)
        except IntegrityError:
            self._next_seq = allocated
            raise Conflict("批量登记期间其他人也登记了相同编号或修改了相同记录，本批未写入，请重试") from None
        self.view.catch_up(recordings=recordings)

    @property
    def batching(self) -> bool:
        return self._batch is not None

    def _get(self, cls: type[A], number: str, key: str | None = None) -> A:
        _check_number(number)
        if self._batch is not None and aggregate_id(key or number) in self._batch:
            aggregate = self._batch[aggregate_id(key or number)]
            if not isinstance(aggregate, cls):
                raise NotFound(f"{_show(number)} 不是{_KIND_LABELS.get(cls, cls.__name__)}")
            return aggregate
        try:
            aggregate = self._load(aggregate_id(key or number))
        except AggregateNotFoundError:
            raise NotFound(f"台账中没有 {_show(number)}") from None
        if not isinstance(aggregate, cls):
            raise NotFound(f"{_show(number)} 不是{_KIND_LABELS.get(cls, cls.__name__)}")
        return aggregate

    def _save(self, *aggregates: Record) -> None:
        if self._batch is not None:
            for aggregate in aggregates:
                self._batch[aggregate.id] = aggregate
            return
        recordings = self._store(aggregates)
        self.view.catch_up(recordings=recordings)  # the view is current after every write…

    def _store(self, aggregates: Sequence[Record], *, at_position: int | None = None,
               stamp_known_at: bool = False) -> list[Any]:
        """Put the aggregates' new events in the event store, in one transaction.

        What ``Application.save`` does for us (we use neither its snapshots nor its notifications),
        minus its per-object runtime-protocol checks, which cost more than the insert — plus one
        rule: under the log's write lock, each event's recorded time is raised, if need be, to just
        after the last event already in the log (:func:`restamp`), so recorded time and log order
        agree whatever the writers' clocks say. ``at_position``: the log must end exactly there (a
        submission computed from the log up to that position), else :class:`_LogMoved`;
        ``stamp_known_at``: a submission's ``known_at`` is its final recorded time.
        """
        pending = [(aggregate, aggregate.collect_events()) for aggregate in aggregates]
        events = [event for _, batch in pending for event in batch]
        mapper = self.app.mapper
        stored = [mapper.to_stored_event(event) for event in events]

        def restamp_under_lock(last: Any) -> list[Any]:
            if at_position is not None and (last.id if last is not None else 0) != at_position:
                raise _LogMoved
            changed = set(restamp(events, self._recorded_time(last)))
            if stamp_known_at:
                Report.stamp_known_at(events)
                changed.update(range(len(events)))
            for index in changed:
                stored[index] = mapper.to_stored_event(events[index])
            return stored

        try:
            ids = self.app.recorder.insert_events(list(stored), restamp=restamp_under_lock)
        except IntegrityError:
            for aggregate in aggregates:
                self._recent.pop(aggregate.id, None)
            raise
        for aggregate, batch in pending:
            if batch:
                aggregate._modified_on = batch[-1].timestamp
            self._recent[aggregate.id] = aggregate
            self._recent.move_to_end(aggregate.id)
        while len(self._recent) > RECENT:
            self._recent.popitem(last=False)
        return [Recording(event, Notification(
                    id=position, originator_id=s.originator_id, originator_version=s.originator_version,
                    topic=s.topic, state=s.state))
                for event, s, position in zip(events, stored, ids or (), strict=True)]

    def _recorded_time(self, notification: Any) -> datetime | None:
        """The recorded time of a stored event (None for none, or one that cannot be read)."""
        if notification is None:
            return None
        try:
            return self.app.mapper.to_domain_event(notification).timestamp
        except Exception:  # an event altered outside qingdan: `verify` names it; writing goes on
            return None

    def _load(self, key: Any) -> Record:
        """A record's current state: as this process last stored it, else folded from the store.

        The cached state may be behind if another process wrote to the record since; then the
        save that follows fails on the version number (nothing is written), the record is
        dropped from the cache, and the command is checked again on fresh state (:meth:`_act`)
        or the batch reports :class:`Conflict`. Always a fresh copy, so a command that is rejected
        or loses a race leaves nothing half-changed behind.
        """
        cached = self._recent.get(key)
        if cached is None:
            return self.app.repository.get(key)
        aggregate = copy.copy(cached)  # states hold immutable values; events replace, never mutate
        aggregate._pending_events = []
        return aggregate

    def _act(self, cls: type[A], number: str, action: str, command: cmd.Command, /, *,
             key: str | None = None, **kwargs: Any) -> str:
        """Load, run a command method, save; on a concurrent write, reload and try again."""
        common = self._common(command)
        for _ in range(RETRIES):
            aggregate = self._get(cls, number, key)
            try:
                self._authorise(cls, action, common["actor"], number, aggregate)
                with self._clocked():
                    getattr(aggregate, action)(**common, **kwargs)
            except (InvalidCommand, PermissionDenied):
                if self._recent.pop(aggregate.id, None) is not None and not (
                        self._batch and aggregate.id in self._batch):
                    continue  # judged on the cached state, which may be stale: judge again on fresh
                raise
            try:
                self._save(aggregate)
            except IntegrityError:
                continue  # another writer got there first: re-check the rules on fresh state
            return number
        raise Conflict(f"{number} 正被其他人同时修改，已重试 {RETRIES} 次仍未成功，请稍后再试")

    def _authorise(self, cls: type[Record], action: str, actor: str, number: str | None,
                   record: Any = None, departments: tuple[str, ...] | None = None) -> None:
        if departments is None:
            departments = self._departments_of(cls, record)
        self.policy.authorise(AccessRequest(actor=actor, kind=cls.__name__, command=action,
                                            number=number, record=record, departments=departments))

    def _departments_of(self, cls: type[Record], record: Any) -> tuple[str, ...]:
        if record is None:
            return ()
        if cls is Hazard:
            return tuple(d for d in (record.responsible_unit,) if d)
        if cls is Measure:
            return (record.department,)
        if cls is Task:
            spec = self.catalogue.tasks.get(record.number)
            return tuple(spec.lead_departments) + tuple(spec.departments) if spec else ()
        return ()

    def _exists(self, number: str) -> bool:
        if self._batch is not None and aggregate_id(number) in self._batch:
            return True
        return bool(self.app.recorder.select_events(aggregate_id(number), limit=1))

    def _create(self, prefix: str, width: int, make: Callable[[str], Record],
                given: str | None = None) -> str:
        """Allocate the next free number under ``prefix`` and create the record under it.

        The aggregate id is derived from the number, so two writers that pick the same number
        clash in the database; the loser moves on to the next number. Never a second record.
        ``given``: a number chosen by the caller (an import of an exported 台账 keeps its numbers);
        it must have the form of this prefix and be unused.
        """
        if given is not None:
            if not given.startswith(prefix + "-") or not given[len(prefix) + 1:].isdigit() \
                    or len(given) - len(prefix) - 1 < width:
                raise InvalidCommand(f"编号“{given}”格式不对，应为 {prefix}-{'0' * (width - 1)}1 这样的形式")
            if self._exists(given):
                raise Conflict(f"编号 {given} 已存在，不能重复登记")
            with self._clocked():
                aggregate = make(given)
            try:
                self._save(aggregate)
            except IntegrityError:
                raise Conflict(f"编号 {given} 已被其他人同时登记") from None
            return given
        seq = self._next_seq.get(prefix) or self._first_free(prefix, width)
        for _ in range(RETRIES):
            number = f"{prefix}-{seq:0{width}d}"
            if self._batch is not None and aggregate_id(number) in self._batch:
                # Pending in this batch (e.g. an imported row kept its number): saving would
                # replace it, so move on instead of waiting for the database to object.
                seq = self._first_free(prefix, width, start=seq + 1)
                continue
            with self._clocked():
                aggregate = make(number)
            try:
                self._save(aggregate)
            except IntegrityError:
                # Taken by another writer (perhaps many since our cached guess): look again.
                seq = self._first_free(prefix, width, start=seq + 1)
                continue
            self._next_seq[prefix] = seq + 1
            return number
        raise Conflict(f"无法分配编号 {prefix}-…：冲突过多，请稍后再试")

    def _first_free(self, prefix: str, width: int, start: int = 1) -> int:
        """Galloping then binary search for the first unused number from ``start``.

        Numbers are allocated densely, so this takes O(log n) lookups; it is only a guess (the
        database's uniqueness of aggregate ids is what keeps numbers unique).
        """
        def used(n: int) -> bool:
            return self._exists(f"{prefix}-{n:0{width}d}")

        if not used(start):
            return start
        low, step = start, 1
        high = start + step
        while used(high):
            low, step = high, step * 2
            high = low + step
        while high - low > 1:
            mid = (low + high) // 2
            if used(mid):
                low = mid
            else:
                high = mid
        return high

    # -- catalogue lookups -------------------------------------------------------------------

    def _campaign(self, campaign_id: str) -> Any:
        campaigns = self.catalogue.campaigns
        if campaign_id not in campaigns:
            known = "、".join(f"{c.id}（{c.name}）" for c in campaigns.values()) or "（未加载任何专项插件）"
            raise InvalidCommand(f"未知的专项“{campaign_id}”。可用的专项：{known}")
        return campaigns[campaign_id]

    def _check_category(self, campaign: Any, category: str | None) -> None:
        if category is not None and campaign.hazard_categories and category not in campaign.hazard_categories:
            raise InvalidCommand(
                f"专项“{campaign.name}”没有隐患类别“{category}”。可用类别："
                + "、".join(campaign.hazard_categories)
            )

    def _attribute_specs(self) -> dict[str, Any]:
        if self._attributes is None:
            self._attributes = self.catalogue.unit_attributes()
        return self._attributes

    def _check_attributes(self, attributes: dict[str, Any], *, allow_none: bool) -> dict[str, Any]:
        specs = self._attribute_specs()
        checked: dict[str, Any] = {}
        for name, value in attributes.items():
            spec = specs.get(name)
            if spec is None:
                known = "、".join(sorted(specs)) or "（无）"
                raise InvalidCommand(f"未知的单位属性“{name}”。各专项声明的属性：{known}")
            if value is None:
                if not allow_none:
                    continue
                checked[name] = None
                continue
            try:
                checked[name] = spec.validate_value(value)
            except ValueError as error:
                raise InvalidCommand(str(error)) from None
        return checked

    # -- hazards -----------------------------------------------------------------------------

    def report_hazard(self, **kwargs: Any) -> str:
        """Register a 问题隐患; returns its number (``H-fire-2020-0007``)."""
        c = cmd.validate(cmd.ReportHazard, **kwargs)
        campaign = self._campaign(c.campaign)
        self._check_category(campaign, c.category)
        common = self._common(c)
        found_on = c.found_on or common["on"]
        today = self.today()
        if found_on > today:
            raise InvalidCommand(f"排查日期 {found_on} 晚于今天 {today}，不能登记未来的事实")
        if c.on is not None and c.on != found_on:
            raise InvalidCommand(f"隐患登记的业务日期即排查日期：on={c.on} 与 found_on={found_on} 不一致")
        if c.unit_number is not None:
            self._get(Unit, c.unit_number)
        self._authorise(Hazard, "report", common["actor"], c.number)
        fields = c.model_dump(exclude={"on", "actor", "note", "found_on", "number"})
        fields["inspectors"] = list(c.inspectors)
        common["on"] = found_on
        prefix = f"H-{c.campaign}-{found_on.year}"
        return self._create(
            prefix, 4,
            lambda number: Hazard.report(number=number, found_on=found_on, **common, **fields),
            given=c.number,
        )

    def plan_rectification(self, number: str, /, **kwargs: Any) -> str:
        """Record any subset of the 五到位 (responsibility, measures, funds, deadline, contingency)."""
        c = cmd.validate(cmd.PlanRectification, **kwargs)
        parts = c.model_dump(exclude={"on", "actor", "note"})
        return self._act(Hazard, number, "plan", c, **parts)

    def escalate(self, number: str, /, **kwargs: Any) -> str:
        """Record 挂牌督办 by a supervising body."""
        c = cmd.validate(cmd.Escalate, **kwargs)
        return self._act(Hazard, number, "escalate", c, supervisor=c.supervisor, level=c.level,
                         doc_no=c.doc_no)

    def request_extension(self, number: str, /, **kwargs: Any) -> str:
        """Ask for a later deadline (延期申请)."""
        c = cmd.validate(cmd.RequestExtension, **kwargs)
        return self._act(Hazard, number, "request_extension", c, deadline=c.deadline,
                         reason=c.reason)

    def decide_extension(self, number: str, /, **kwargs: Any) -> str:
        """Approve or refuse the pending extension request."""
        c = cmd.validate(cmd.DecideExtension, **kwargs)
        return self._act(Hazard, number, "decide_extension", c, approved=c.approved)

    def report_progress(self, number: str, /, **kwargs: Any) -> str:
        """Note progress of the rectification (整改进展)."""
        c = cmd.validate(cmd.ReportProgress, **kwargs)
        return self._act(Hazard, number, "report_progress", c, text=c.text)

    def complete_rectification(self, number: str, /, **kwargs: Any) -> str:
        """Record that the rectification is done (整改完成) and awaits verification."""
        c = cmd.validate(cmd.CompleteRectification, **kwargs)
        return self._act(Hazard, number, "complete", c, cost=c.cost)

    def verify(self, number: str, /, **kwargs: Any) -> str:
        """Record a verification (验收); a failed one returns the hazard to 整改中."""
        c = cmd.validate(cmd.Verify, **kwargs)
        return self._act(Hazard, number, "verify", c, passed=c.passed, inspector=c.inspector,
                         method=c.method)

    def close(self, number: str, /, **kwargs: Any) -> str:
        """Close (销号) a hazard whose rectification passed verification."""
        c = cmd.validate(cmd.Close, **kwargs)
        return self._act(Hazard, number, "close", c)

    def reopen(self, number: str, /, **kwargs: Any) -> str:
        """Reopen (反销号) a closed hazard found not fixed, e.g. at 回头看."""
        c = cmd.validate(cmd.Reopen, **kwargs)
        return self._act(Hazard, number, "reopen", c, reason=c.reason)

    def correct(self, number: str, /, **kwargs: Any) -> str:
        """Correct a wrongly recorded field; ``on`` defaults to the hazard's found date."""
        c = cmd.validate(cmd.Correct, **kwargs)
        if c.field == "found_on":
            raise InvalidCommand(f"{number}：排查日期不能更正；如登记有误，请撤销后按正确日期重新登记")
        if c.field not in HAZARD_CORRECTABLE:
            raise InvalidCommand(
                f"不能更正字段“{c.field}”。可更正：" + "、".join(f"{k}（{v}）" for k, v in HAZARD_CORRECTABLE.items())
            )
        hazard = self._get(Hazard, number)
        value = self._correction_value(hazard, c.field, c.value)
        on = c.on or hazard.found_on
        command = c.model_copy(update={"on": on})
        return self._act(Hazard, number, "correct", command, field=c.field, value=value,
                         reason=c.reason)

    def _correction_value(self, hazard: Hazard, field: str, value: Any) -> Any:
        probe = {"unit": "x", "description": "x", "campaign": hazard.campaign}
        if field in ("unit", "description"):
            probe[field] = value
            return cmd.validate(cmd.ReportHazard, **probe).model_dump()[field]
        if field in ("level", "source", "category", "village", "location", "unit_number", "inspectors"):
            checked = cmd.validate(cmd.ReportHazard, **probe, **{field: value}).model_dump()[field]
            if field == "category":
                self._check_category(self._campaign(hazard.campaign), checked)
            if field == "unit_number" and checked is not None:
                self._get(Unit, checked)
            return list(checked) if field == "inspectors" else checked
        plan = cmd.validate(cmd.PlanRectification, **{field: value}).model_dump()
        return plan[field]

    def withdraw(self, number: str, /, **kwargs: Any) -> str:
        """Withdraw (撤销) a duplicate or erroneous entry; it stays in the history."""
        c = cmd.validate(cmd.Withdraw, **kwargs)
        return self._act(Hazard, number, "withdraw", c, reason=c.reason)

    # -- measures ----------------------------------------------------------------------------

    def add_measure(self, **kwargs: Any) -> str:
        """Plan a 制度措施; returns its number (``M-fire-2020-0001``)."""
        c = cmd.validate(cmd.AddMeasure, **kwargs)
        self._campaign(c.campaign)
        common = self._common(c)
        self._check_future(common["on"])
        self._authorise(Measure, "add", common["actor"], c.number, departments=(c.department,))
        fields = c.model_dump(include={"campaign", "title", "kind", "department", "due"})
        if c.due is not None and c.due < common["on"]:
            raise InvalidCommand(f"完成时限 {c.due} 早于登记日期 {common['on']}")
        return self._create(
            f"M-{c.campaign}-{common['on'].year}", 4,
            lambda number: Measure.add(number=number, **common, **fields),
            given=c.number,
        )

    def issue_measure(self, number: str, /, **kwargs: Any) -> str:
        """Record that the measure was issued (印发) with its document number (文号)."""
        c = cmd.validate(cmd.IssueMeasure, **kwargs)
        return self._act(Measure, number, "issue", c, doc_no=c.doc_no)

    def implement_measure(self, number: str, /, **kwargs: Any) -> str:
        """Record that the measure is in force and carried out (已落实)."""
        c = cmd.validate(cmd.ImplementMeasure, **kwargs)
        return self._act(Measure, number, "implement", c)

    def revise_measure(self, number: str, /, **kwargs: Any) -> str:
        """Revise a measure's title or 文号; the number stays, the change is recorded."""
        c = cmd.validate(cmd.ReviseMeasure, **kwargs)
        return self._act(Measure, number, "revise", c, reason=c.reason, title=c.title,
                         doc_no=c.doc_no)

    def repeal_measure(self, number: str, /, **kwargs: Any) -> str:
        """Repeal (废止) a measure."""
        c = cmd.validate(cmd.RepealMeasure, **kwargs)
        return self._act(Measure, number, "repeal", c, reason=c.reason)

    # -- tasks -------------------------------------------------------------------------------

    def _task_spec(self, task_id: str) -> Any:
        task = self.catalogue.tasks.get(task_id)
        if task is not None:
            return self.catalogue.campaigns[task.campaign], task
        raise NotFound(f"没有任务“{_show(task_id)}”。用 `qingdan task list` 查看各专项的重点任务")

    def _tracked(self, cls: type[A], key: str, number: str, campaign: Any) -> None:
        if not self._exists(key):
            with self._clocked():
                record = cls.track(number=number, campaign=campaign.id, start=campaign.start,
                                   actor=self.actor)
            try:
                self._save(record)
            except IntegrityError:
                pass  # another writer started tracking it first: same record

    def report_task_progress(self, task_id: str, /, **kwargs: Any) -> str:
        """Report progress on a 重点任务 (optionally with a percentage)."""
        c = cmd.validate(cmd.ReportTaskProgress, **kwargs)
        campaign, spec = self._task_spec(task_id)
        self._check_future(self._common(c)["on"])
        self._authorise(Task, "report_progress", self._common(c)["actor"], task_id,
                        departments=spec.lead_departments + spec.departments)
        self._tracked(Task, "task:" + task_id, task_id, campaign)
        return self._act(Task, task_id, "report_progress", c, key="task:" + task_id,
                         text=c.text, percent=c.percent)

    def complete_task(self, task_id: str, /, **kwargs: Any) -> str:
        """Record that a 重点任务 is done."""
        c = cmd.validate(cmd.CompleteTask, **kwargs)
        campaign, spec = self._task_spec(task_id)
        self._check_future(self._common(c)["on"])
        self._authorise(Task, "complete", self._common(c)["actor"], task_id,
                        departments=spec.lead_departments + spec.departments)
        self._tracked(Task, "task:" + task_id, task_id, campaign)
        return self._act(Task, task_id, "complete", c, key="task:" + task_id)

    # -- units -------------------------------------------------------------------------------

    def register_unit(self, **kwargs: Any) -> str:
        """Register a 监管对象; returns its number (``U-00001``)."""
        c = cmd.validate(cmd.RegisterUnit, **kwargs)
        common = self._common(c)
        self._check_future(common["on"])
        attributes = self._check_attributes(c.attributes or {}, allow_none=False)
        self._authorise(Unit, "register", common["actor"], c.number)
        fields = {"name": c.name, "kind": c.kind, "village": c.village,
                  "credit_code": c.credit_code, "attributes": attributes}
        return self._create("U", 5, lambda number: Unit.register(number=number, **common, **fields),
                            given=c.number)

    def set_unit_attributes(self, number: str, /, **kwargs: Any) -> str:
        """Change a unit's attributes as of a date (None removes one)."""
        c = cmd.validate(cmd.SetUnitAttributes, **kwargs)
        attributes = self._check_attributes(c.attributes, allow_none=True)
        return self._act(Unit, number, "set_attributes", c, attributes=attributes)

    def close_unit(self, number: str, /, **kwargs: Any) -> str:
        """Close (注销) a unit: it no longer counts in targets and checks after that date."""
        c = cmd.validate(cmd.CloseUnit, **kwargs)
        return self._act(Unit, number, "close", c, reason=c.reason)

    # -- indicators --------------------------------------------------------------------------

    def _target(self, target_id: str) -> Any:
        target = self.catalogue.targets.get(target_id)
        if target is None:
            raise NotFound(f"没有目标“{_show(target_id)}”。用 `qingdan targets` 查看各专项的整治目标")
        return target

    def record_indicator(self, target_id: str, /, **kwargs: Any) -> str:
        """Record a reported value of a target (e.g. the number of enforcement officers)."""
        c = cmd.validate(cmd.RecordIndicator, **kwargs)
        target = self._target(target_id)
        if target.measure is not None:
            raise InvalidCommand(f"目标“{target.title}”由台账数据计算得出，不需要填报指标")
        campaign = self._campaign(target.campaign)
        self._check_future(self._common(c)["on"])
        self._authorise(Indicator, "record", self._common(c)["actor"], target_id)
        self._tracked(Indicator, "indicator:" + target_id, target_id, campaign)
        return self._act(Indicator, target_id, "record", c, key="indicator:" + target_id,
                         value=c.value)

    def _check_future(self, on: date) -> None:
        today = self.today()
        if on > today:
            raise InvalidCommand(f"业务日期 {on} 晚于今天 {today}，不能登记未来的事实")

    # -- queries (reference fold; the materialised view replaces these for lists) -------------

    def _events(self, key: str) -> list[Record.Event]:
        _check_number(key)
        return list(self.app.events.get(aggregate_id(key)))

    def _fold(self, cls: type[A], number: str, as_of: date | None,
              known_at: date | datetime | None, key: str | None = None) -> A:
        events = self._events(key or number)
        if not events:
            raise NotFound(f"台账中没有 {_show(number)}")
        as_of = as_of or self.today()
        aggregate = fold(events, as_of, as_known_at(known_at))
        if aggregate is None:
            raise NotFound(f"截至 {as_of}{_known_label(known_at)}，台账中还没有 {_show(number)}")
        if not isinstance(aggregate, cls):
            raise NotFound(f"{_show(number)} 不是{_KIND_LABELS.get(cls, cls.__name__)}")
        return aggregate

    def hazard(self, number: str, /, *, as_of: date | None = None,
               known_at: date | datetime | None = None) -> HazardRow:
        """The hazard as it stood at the end of ``as_of``, as recorded by ``known_at``."""
        as_of = as_of or self.today()
        return hazard_row(self._fold(Hazard, number, as_of, known_at), as_of)

    def measure(self, number: str, /, *, as_of: date | None = None,
                known_at: date | datetime | None = None) -> MeasureRow:
        """The measure as it stood at the end of ``as_of``, as recorded by ``known_at``."""
        as_of = as_of or self.today()
        return measure_row(self._fold(Measure, number, as_of, known_at), as_of)

    def unit(self, number: str, /, *, as_of: date | None = None,
             known_at: date | datetime | None = None) -> UnitRow:
        """The unit with its attributes as of ``as_of``."""
        return unit_row(self._fold(Unit, number, as_of, known_at))

    def indicator(self, target_id: str, /, *, as_of: date | None = None,
                  known_at: date | datetime | None = None) -> IndicatorReading | None:
        """The latest reading of a target dated on or before ``as_of``."""
        self._target(target_id)
        events = self._events("indicator:" + target_id)
        if not events:
            return None
        return indicator_reading(fold(events, as_of or self.today(), as_known_at(known_at)))

    def history(self, number: str, /) -> list[HistoryEntry]:
        """Every event of a record, in recording order, with effective date, recorded time, actor."""
        events: list[Record.Event] = []
        for key in (number, "task:" + number, "indicator:" + number):
            events = self._events(key)
            if events:
                break
        if not events:
            raise NotFound(f"台账中没有 {_show(number)}")
        entries = []
        for event in events:
            data = {k: v for k, v in vars(event).items() if k not in COMMON_FIELDS}
            entries.append(HistoryEntry(
                number=number, version=event.originator_version, type=type(event).__name__,
                on=event.on, recorded_at=event.timestamp.astimezone(CST), actor=event.actor,
                note=event.note, data=data,
            ))
        return entries


    # -- the materialised view -----------------------------------------------------------------

    def snapshot(self, *, as_of: date | None = None,
                 known_at: date | datetime | None = None) -> LedgerSnapshot:
        """The read-only state as of ``as_of`` (default today) as known at ``known_at`` (default now)."""
        self.view.catch_up()  # …and before every read, so other processes' writes are seen too
        key = (as_of or self.today(), as_known_at(known_at))
        position = self.view.store.position()
        cached = self._snapshots.get(key)
        if cached is not None and cached[0] == position:
            return cached[1]  # nothing recorded since: the same answers, already decoded
        snapshot = LedgerSnapshot(self.view, self.catalogue, *key)
        self._snapshots[key] = (position, snapshot)
        while len(self._snapshots) > 4:
            self._snapshots.pop(next(iter(self._snapshots)))
        return snapshot

    def forget_snapshots(self) -> None:
        """Drop the decoded snapshots kept for repeated reads (benchmarks measure cold reads)."""
        self._snapshots.clear()

    def catch_up(self) -> int:
        """Apply to the view any events it has not seen yet; returns how many."""
        return self.view.catch_up()

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Replay the view from the event log beside the live one and swap it in (readers never
        see a half-built view); ``progress(done, total)`` is called per batch."""
        applied = self.view.rebuild(progress)
        self.forget_snapshots()
        return applied

    def two_lists(self, *, as_of: date | None = None, known_at: date | datetime | None = None,
                  campaign: str | None = None, department: str | None = None,
                  village: str | None = None, include_withdrawn: bool = False,
                  limit: int | None = None, offset: int = 0) -> TwoLists:
        """The 问题隐患清单 and 制度措施清单 as they stood at ``as_of``, as known at ``known_at``.

        Rows are ordered by number; ``limit``/``offset`` page through each list.
        """
        if campaign is not None:
            self._campaign(campaign)
        if limit is not None and (limit < 0 or offset < 0):
            raise InvalidCommand("分页参数不能为负数")
        return two_lists(self.snapshot(as_of=as_of, known_at=known_at), campaign=campaign,
                         department=department, village=village, include_withdrawn=include_withdrawn,
                         limit=limit, offset=offset)

    def overdue(self, *, as_of: date | None = None, known_at: date | datetime | None = None,
                campaign: str | None = None) -> list[HazardRow]:
        """Hazards not completed whose deadline passed before ``as_of``."""
        lists = self.two_lists(as_of=as_of, known_at=known_at, campaign=campaign)
        return [h for h in lists.hazards if h.overdue]

    def stats(self, *, as_of: date | None = None, known_at: date | datetime | None = None,
              campaign: str | None = None) -> Stats:
        """Counts by campaign, level and status; 整改率; 重大隐患 open and overdue; measures by status."""
        return stats(self.snapshot(as_of=as_of, known_at=known_at), campaign)

    def tasks(self, *, as_of: date | None = None, known_at: date | datetime | None = None,
              campaign: str | None = None) -> list[TaskRow]:
        """The 重点任务 of the loaded campaigns with their progress as of the date."""
        return list(self.snapshot(as_of=as_of, known_at=known_at).tasks(campaign))

    def units(self, *, as_of: date | None = None, known_at: date | datetime | None = None,
              kind: str | None = None, include_closed: bool = False, **attributes: Any) -> list[UnitRow]:
        """Units with their attributes as of the date (closed ones only with ``include_closed``).

        Each attribute filter is coerced to the attribute's declared type (``贮存起始日期="2020-08-01"``
        matches the date; ``None`` matches units without it); an undeclared name or a value of the
        wrong type raises :class:`InvalidCommand`.
        """
        wanted = self._check_attributes(attributes, allow_none=True)
        snap = self.snapshot(as_of=as_of, known_at=known_at)
        return [u for u in (snap.all_units() if include_closed else snap.units(kind))
                if (kind is None or u.kind == kind)
                and all(u.attributes.get(name) == value for name, value in wanted.items())]

    def targets(self, *, as_of: date | None = None, known_at: date | datetime | None = None,
                campaign: str | None = None) -> list[TargetStatus]:
        """Every 整治目标 with its value and state; plugin failures go to ``evaluation_errors``."""
        snap = self.snapshot(as_of=as_of, known_at=known_at)
        statuses, self.evaluation_errors = evaluate_targets(
            self.catalogue.targets_of(campaign), snap, self.catalogue.campaigns)
        return statuses

    def findings(self, *, as_of: date | None = None, known_at: date | datetime | None = None,
                 campaign: str | None = None) -> list[Finding]:
        """What every check finds (about ``campaign``, if given); plugin failures go to ``evaluation_errors``.

        Every check runs even when filtering, because the plan-wide checks find things about
        every campaign's hazards and tasks.
        """
        snap = self.snapshot(as_of=as_of, known_at=known_at)
        found, self.evaluation_errors = run_checks(self.catalogue.checks_of(), snap)
        return [f for f in found if campaign is None or f.campaign == campaign]

    def projection(self, projection_id: str, /, *, as_of: date | None = None,
                   known_at: date | datetime | None = None) -> list[dict[str, Any]]:
        """A campaign's own table (e.g. 红橙黄蓝 distribution of units) as of the date."""
        projection = self.catalogue.projection(projection_id)
        return build_projection(projection, self.snapshot(as_of=as_of, known_at=known_at))

    def verify_integrity(self, *, dates: list[date] | None = None) -> VerifyReport:
        """What ``qingdan verify`` runs (``verify`` itself is the 验收 command). Recompute the hash chain, check every submitted report's digest against a fresh
        reconstruction, and check the view against the reference fold (today, each report's date,
        and ``dates``). ``.ok`` is False and ``.problems`` names each problem when anything is wrong."""
        self.forget_snapshots()  # read the view afresh: the point is to catch it being wrong
        return verify_ledger(self, dates=dates)

    # -- reports -------------------------------------------------------------------------------

    @staticmethod
    def report_number(period: str, campaign: str | None = None) -> str:
        return f"R-{period}" + (f"-{campaign}" if campaign else "")

    def submit_report(self, *, prepare: Callable[[TwoLists], None] | None = None, **kwargs: Any) -> str:
        """Record the submission of the 两个清单 for ``period`` (as of ``as_of``, default the day).

        Keywords: ``period``, ``campaign``, ``as_of``, ``resubmit_reason``, ``on``, ``actor``, ``note``.
        The lists, the log position and the hash-chain head are read together, from one snapshot,
        and the submission is recorded only if nothing was written after that position meanwhile
        (else all is read again): what is digested is exactly what the ledger held when it was
        recorded. A second submission of the same period (and campaign) needs ``resubmit_reason``.
        ``prepare(lists)`` is called with the lists about to be recorded, before anything is
        written (e.g. to write the workbook handed in); if it raises, nothing is recorded. It may be
        called again when the lists had to be read again.
        """
        c = cmd.validate(cmd.SubmitReport, **kwargs)
        if self._batch is not None:
            raise InvalidCommand("报送两个清单须在批量登记完成之后进行（报送的是已登记的数据）")
        if c.campaign is not None:
            self._campaign(c.campaign)
        common = self._common(c)
        self._check_future(common["on"])
        as_of = c.as_of or common["on"]
        if as_of > common["on"]:
            raise InvalidCommand(f"截至日期 {as_of} 晚于报送日期 {common['on']}")
        number = self.report_number(c.period, c.campaign)
        label = f"{c.period}{'（' + c.campaign + '）' if c.campaign else ''} 的两个清单"
        for _ in range(RETRIES):
            existing: Report | None = None
            if self._exists(number):
                existing = self._get(Report, number)
                self._authorise(Report, "resubmit", common["actor"], number, existing)
                if c.resubmit_reason is None:
                    raise InvalidCommand(
                        f"{label}已报送 {len(existing.submissions)} 次（最近一次 "
                        f"{existing.submissions[-1]['on']}）。如需重新报送，请说明原因（resubmit_reason，"
                        "命令行 --resubmit --reason …）；原报送记录保留，可用 report diff 对比")
            else:
                self._authorise(Report, "submit", common["actor"], number)
                if c.resubmit_reason is not None:
                    raise InvalidCommand(f"{label}尚未报送过，首次报送无需填写重新报送原因")
            position, chain, lists, known_at = self._read_for_submission(as_of, c.campaign)
            if prepare is not None:
                prepare(lists)
            fields = {"as_of": as_of, "known_at": known_at or self.now(), "position": position,
                      "chain": chain, "digest": rows_digest(lists), "hazard_count": len(lists.hazards),
                      "measure_count": len(lists.measures)}
            with self._clocked():
                if existing is None:
                    report = Report.submit(number=number, period=c.period, campaign=c.campaign,
                                           **common, **fields)
                else:
                    report = existing
                    report.resubmit(**common, reason=c.resubmit_reason, **fields)
            try:
                # An empty log has no recorded time to stand for "as known then": then the
                # submission must be the log's first event, known at its own recorded time.
                recordings = self._store([report], at_position=0 if known_at is None else None,
                                         stamp_known_at=known_at is None)
            except (_LogMoved, IntegrityError):
                self._recent.pop(report.id, None)
                continue  # another writer got in between: read the lists again
            self.view.catch_up(recordings=recordings)
            return number
        raise Conflict(f"报送 {label}时其他人一直在登记，已重试 {RETRIES} 次仍未成功，请稍后再试")

    def _read_for_submission(self, as_of: date, campaign: str | None
                             ) -> tuple[int, str, TwoLists, datetime | None]:
        """What a submission hands in: the lists as of ``as_of`` of the log up to a position, that
        position, the chain head there and the recorded time of its event, read from one snapshot.

        That recorded time is the submission's ``known_at``: every event after the position was
        recorded later (:func:`restamp`), so the lists as known then are exactly these, whatever
        is written meanwhile. None for an empty log.
        """
        for _ in range(RETRIES):
            self.view.catch_up()
            with self.view.store.read_snapshot():
                position = self.view.store.position()
                chain = chain_head(self.view.store, position)
                lists = two_lists(LedgerSnapshot(self.view, self.catalogue, as_of, None), campaign=campaign)
            if position == 0:
                return position, chain, lists, None
            last, *following = self.app.recorder.select_notifications(start=position, limit=2)
            known_at = self._recorded_time(last)
            if known_at is None:
                raise QingdanError(f"台账第 {position} 个事件无法读取（可能在 qingdan 之外被改动），"
                                   "请先运行 `qingdan verify`")
            if following and (self._recorded_time(following[0]) or known_at) <= known_at:
                continue  # the view stopped inside one write: catch up with the rest of it
            return position, chain, lists, known_at
        raise Conflict("台账视图未能跟上事件记录，请稍后再试")

    def reports(self, *, period: str | None = None, campaign: str | None = None) -> list[ReportRow]:
        """Every submission recorded (of ``period``, of ``campaign``), by period then submission."""
        rows = self.snapshot(as_of=date.max).reports()
        return sorted((r for r in rows if (period is None or r.period == period)
                       and (campaign is None or r.campaign == campaign)),
                      key=lambda r: (r.period, r.campaign or "", r.submission))

    def report(self, period: str, /, *, campaign: str | None = None,
               submission: int | None = None) -> ReportRow:
        """One submission for a period: ``submission`` 1 is the original, None the latest."""
        number = self.report_number(period, campaign)
        rows = [r for r in self.snapshot(as_of=date.max).reports() if r.number == number]
        if not rows:
            raise NotFound(f"{_show(period)} 的两个清单尚未报送（{_show(number)}）")
        if submission is None:
            return rows[-1]
        for row in rows:
            if row.submission == submission:
                return row
        raise NotFound(f"{_show(period)} 的两个清单只报送过 {len(rows)} 次，没有第 {_show(submission)} 次")

    def report_diff(self, period: str, /, *, campaign: str | None = None,
                    submission: int | None = None) -> ReportDiff:
        """回头看: every difference between a submission (default the latest) and what is now known
        for its date. ``.report`` is the submission compared with."""
        report = self.report(period, campaign=campaign, submission=submission)
        then = self.two_lists(as_of=report.as_of, known_at=report.known_at, campaign=campaign)
        now = self.two_lists(as_of=report.as_of, campaign=campaign)
        differences = []
        for name, number, change, fields in compare_lists(then, now):
            causes = [
                {"type": e.type, "on": e.on, "recorded_at": e.recorded_at, "actor": e.actor,
                 "note": e.note, "data": e.data}
                for e in self.history(number)
                if e.recorded_at > report.known_at and e.on <= report.as_of
            ]
            differences.append(RowDifference(list=name, number=number, change=change,
                                             fields=tuple(fields), events=tuple(causes)))
        return ReportDiff(report=report, digest_matches=rows_digest(then) == report.digest,
                          differences=tuple(differences))

class _LogMoved(Exception):
    """Another writer added to the log after a submission's lists were read: read them again."""


_KIND_LABELS = {Hazard: "问题隐患", Measure: "制度措施", Unit: "监管对象", Task: "重点任务",
                Indicator: "指标", Report: "报送记录"}


def _check_number(number: object) -> None:
    if not isinstance(number, str) or not 0 < len(number) <= 120:
        raise NotFound(f"编号应为文字（如 H-fire-2020-0007），收到 {_show(number)}")


def _known_label(known_at: date | datetime | None) -> str:
    return f"（按 {known_at} 时的登记）" if known_at is not None else ""


@contextmanager
def _creation_lock(env: dict[str, str], backend: str) -> Iterator[None]:
    """Serialise eventsourcing's table creation between processes opening one PostgreSQL database.

    Its ``CREATE … IF NOT EXISTS`` statements race in the system catalogues ("tuple concurrently
    updated") when several processes start at once; an advisory lock makes them take turns.
    """
    if backend != "postgres":
        yield
        return
    import psycopg

    with psycopg.connect(dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"],
                         port=env["POSTGRES_PORT"], user=env["POSTGRES_USER"],
                         password=env.get("POSTGRES_PASSWORD") or None, autocommit=True,
                         connect_timeout=int(env.get("POSTGRES_CONNECT_TIMEOUT", 5))) as conn:
        conn.execute("SELECT pg_advisory_lock(7420370)")
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(7420370)")


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


