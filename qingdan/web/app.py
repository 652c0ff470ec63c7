"""The ASGI app: routes generated from the ledger's own command models and row models.

Every command of :class:`~qingdan.core.ledger.Ledger` is a POST whose JSON body is its command model
(so the OpenAPI document shows the same fields, with their Chinese labels, that ``help()`` shows);
every query a GET taking ``as_of`` and ``known_at`` exactly like the library. The service holds a
small pool of ledgers (a :class:`Ledger` keeps connections and caches that one thread at a time may
use), so concurrent requests behave like concurrent processes on one database.
"""


import inspect
import os
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Path, Query
from pydantic import BaseModel, Field

import qingdan
from qingdan.core import rows
from qingdan.core.audit import VerifyReport
from qingdan.core.errors import InvalidCommand
from qingdan.core.ledger import Ledger
from qingdan.core.policy import Authenticated, Authoriser, Policy, load_policy
from qingdan.core.queries import ReportDiff, Stats, Trend
from qingdan.core.spec import Campaign, Finding
from qingdan.web.attachments import install_attachment_routes, is_upload, upload_limit
from qingdan.web.errors import ERROR_RESPONSES, install_error_handlers
from qingdan.web.identity import Identity, reader, writer
from qingdan.web.limits import BodyLimit


class EventsPage(BaseModel):
    """A page of the event feed: follow it by passing ``last`` as the next ``after``."""

    events: list[rows.LoggedEvent] = Field(description="事件，按位置顺序")
    last: int = Field(description="本页最后一个事件的位置（没有新事件时即 after）：下次请求的 after")


POOL = 4  # ledgers (each with its own connections) serving requests at once
MAX_BODY = 1_000_000  # bytes; a command is a few hundred
FEED_LIMIT = 1000


class LedgerPool:
    """A few ledgers on one database, lent to one request at a time."""

    def __init__(self, url: str | None, policy: Authoriser | str | os.PathLike[str] | None, size: int = POOL,
                 catalogue: Any = None, create: Any = True) -> None:
        self.url, self.policy, self.size, self.catalogue = url, policy, size, catalogue
        self.create = create
        self._idle: queue.LifoQueue[Ledger] = queue.LifoQueue()
        self._all: list[Ledger] = []
        self._idle.put(self._open())  # open one now: a database that cannot be opened fails at start
        self._lookup = self._open(pooled=False)  # the ledger's own policy, for every request's identity
        self._lookup_lock = threading.Lock()

    def _open(self, pooled: bool = True) -> Ledger:
        # The service authenticates callers itself (tokens): the actors it names are taken as given,
        # and the ledger's own policy (or, without one, the service's) decides what they may do.
        ledger = qingdan.open_ledger(self.url, policy=self.policy, catalogue=self.catalogue,
                                     authoriser=Authenticated(), create=self.create)
        self.create = True  # the first open made (or found) it
        if pooled:
            self._all.append(ledger)
        return ledger

    def stored_policy(self) -> Policy | None:
        with self._lookup_lock:
            return self._lookup.access_policy()

    def profile(self) -> Any:
        """The ledger's township profile (None until set), read on the look-up ledger: a page that
        already holds a lent ledger never waits for a second one."""
        with self._lookup_lock:
            return self._lookup.profile()

    @contextmanager
    def lend(self) -> Iterator[Ledger]:
        try:
            ledger = self._idle.get_nowait()
        except queue.Empty:
            ledger = self._open() if len(self._all) < self.size else self._idle.get(timeout=60)
        try:
            yield ledger
        finally:
            self._idle.put(ledger)

    def close(self) -> None:
        for ledger in [*self._all, self._lookup]:
            ledger.disconnect()
        self._all.clear()


def known_at_param(value: str | None) -> date | datetime | None:
    """``known_at`` as the library takes it: a bare date is the end of that day."""
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
    except ValueError:
        raise InvalidCommand(f"known_at（按此时登记）应为日期或日期时间（如 2020-09-25 或 "
                             f"2020-09-25T16:00:00+08:00），收到“{qingdan.core.errors.show(value)}”") from None


def as_of_param(value: str | None) -> date | None:
    """``as_of`` as a calendar day written YYYY-MM-DD (not a number of seconds)."""
    if value is None or value == "":
        return None
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise InvalidCommand(f"as_of（截至日期）应为 YYYY-MM-DD（如 2020-09-25），收到“{qingdan.core.errors.show(value)}”")


def _as_of(as_of: Annotated[str | None, Query(description="截至日期 YYYY-MM-DD（该日结束时的情况），默认今天")] = None
           ) -> date | None:
    return as_of_param(as_of)


AsOf = Annotated[date | None, Depends(_as_of)]
KnownAt = Annotated[str | None, Query(description="按此时登记：只看此时之前登记的事实；只写日期表示该日结束；默认现在")]
CampaignQ = Annotated[str | None, Query(description="专项编号（如 fire）")]

#: (path, ledger method, path parameter) of every command; the body is the method's command model.
COMMANDS: list[tuple[str, str, str | None]] = [
    ("/api/hazards", "report_hazard", None),
    *((f"/api/hazards/{{number}}/{name.replace('_', '-')}", name, "number") for name in (
        "plan_rectification", "escalate", "request_extension", "decide_extension", "report_progress",
        "complete_rectification", "verify", "close", "reopen", "correct", "withdraw")),
    ("/api/hazards/{number}/recheck", "recheck", "number"),
    ("/api/measures", "add_measure", None),
    ("/api/measures/{number}/issue", "issue_measure", "number"),
    ("/api/measures/{number}/implement", "implement_measure", "number"),
    ("/api/measures/{number}/revise", "revise_measure", "number"),
    ("/api/measures/{number}/repeal", "repeal_measure", "number"),
    ("/api/tasks/{task_id}/report-progress", "report_task_progress", "task_id"),
    ("/api/tasks/{task_id}/complete", "complete_task", "task_id"),
    ("/api/units", "register_unit", None),
    ("/api/units/{number}/set-attributes", "set_unit_attributes", "number"),
    ("/api/units/{number}/close", "close_unit", "number"),
    ("/api/indicators/{target_id}", "record_indicator", "target_id"),
    ("/api/reports", "submit_report", None),
    ("/api/profile", "set_profile", None),
]
TAGS = {"hazards": "问题隐患", "measures": "制度措施", "tasks": "重点任务", "units": "监管对象",
        "indicators": "指标", "reports": "报送", "profile": "乡镇信息"}


def create_app(url: str | None = None, *, policy: Authoriser | str | os.PathLike[str] | None = None,
               pool: int = POOL, max_body: int = MAX_BODY, catalogue: Any = None,
               township: str | None = None, pages: bool = True, create: Any = True) -> FastAPI:
    """An ASGI app serving the ledger at ``url`` (default ``$QINGDAN_DB`` or ``./qingdan.db``).

    ``policy``: who may do what (a TOML file, an authoriser object; default ``$QINGDAN_POLICY``).
    With a policy, identity comes from ``Authorization: Bearer TOKEN`` (``token_sha256`` in the
    policy); without one, writes name their actor in ``X-Qingdan-Actor``. ``catalogue``: the
    campaigns to use instead of the installed plugins (as for :func:`qingdan.open_ledger`).
    ``pages``: also serve the web pages for clerks (``/``, ``/lists``, ``/hazards/…``; see
    docs/web.md), with ``township`` in their header (default ``$QINGDAN_TOWNSHIP``). ``create``: as
    for :func:`qingdan.open_ledger` (``qingdan serve`` passes ``False``: it serves an existing ledger
    unless told ``--init``, so a mistyped ``--db`` is an error, not a new empty ledger).
    """
    from fastapi_offline import FastAPIOffline  # Swagger UI served from the package, no CDN

    source = policy if policy is not None else os.environ.get("QINGDAN_POLICY") or None
    authoriser = load_policy(source)
    ledgers = LedgerPool(url, authoriser if source is not None else None, pool, catalogue, create)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        yield
        ledgers.close()

    app = FastAPIOffline(
        title="qingdan 两个清单台账 API", version=qingdan.__version__ if hasattr(qingdan, "__version__") else "0",
        description="问题隐患清单与制度措施清单：每个命令一个 POST，每个查询一个 GET（as_of / known_at 同 Python 库）。"
                    "错误统一为 {\"error\": {\"type\", \"message\"}}。",
        openapi_url="/api/openapi.json", docs_url="/api/docs", redoc_url=None,
        static_url="/api/docs-static", lifespan=lifespan, dependencies=[Depends(reader)],
        responses=ERROR_RESPONSES)
    app.state.ledgers = ledgers
    app.state.identity = Identity(authoriser, ledgers.stored_policy)
    app.add_middleware(BodyLimit, limit=max_body, upload_limit=upload_limit(), is_upload=is_upload)
    install_error_handlers(app)

    def use() -> Iterator[Ledger]:
        with ledgers.lend() as ledger:
            yield ledger

    LedgerDep = Annotated[Ledger, Depends(use)]

    for path, name, subject in COMMANDS:
        _add_command(app, path, name, subject, LedgerDep)
    _add_queries(app, LedgerDep)
    install_attachment_routes(app, LedgerDep)
    _document_identity(app)
    if pages:
        from qingdan.web.pages import install_pages

        install_pages(app, township=township)
    return app


def _document_identity(app: FastAPI) -> None:
    """The OpenAPI document says how callers identify themselves (the app checks it itself)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schema.setdefault("components", {})["securitySchemes"] = {
                "token": {"type": "http", "scheme": "bearer",
                          "description": "权限配置中的操作人令牌（qingdan token create）"},
                "actor": {"type": "apiKey", "in": "header", "name": "X-Qingdan-Actor",
                          "description": "未配置权限时（仅本机）：操作人姓名，UTF-8 百分号编码"},
            }
            schema["security"] = [{"token": []}, {"actor": []}, {}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _add_command(app: FastAPI, path: str, name: str, subject: str | None, ledger_dep: Any) -> None:
    method = getattr(Ledger, name)
    model = method.command_model
    optional_body = not any(f.is_required() for f in model.model_fields.values())

    def endpoint(**kwargs: Any) -> dict[str, str]:
        ledger: Ledger = kwargs.pop("ledger")
        actor: str = kwargs.pop("actor")
        body = kwargs.pop("body")
        data = body.model_dump(exclude_unset=True) if body is not None else {}
        if data.get("actor") not in (None, actor):
            raise qingdan.PermissionDenied(f"不能以他人名义操作：已登录为“{actor}”，请求中写的操作人是“{data['actor']}”")
        data["actor"] = actor
        args = (kwargs[subject],) if subject else ()
        return {"number": getattr(ledger, name)(*args, **data)}

    parameters = []
    if subject:
        parameters.append(inspect.Parameter(subject, inspect.Parameter.KEYWORD_ONLY,
                                            annotation=Annotated[str, Path(description="编号")]))
    body = Body()
    parameters += [
        inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY,
                          annotation=Annotated[model | None if optional_body else model, body],
                          default=None if optional_body else inspect.Parameter.empty),
        inspect.Parameter("ledger", inspect.Parameter.KEYWORD_ONLY, annotation=ledger_dep),
        inspect.Parameter("actor", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[str, Depends(writer)]),
    ]
    endpoint.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    endpoint.__name__ = name
    endpoint.command_model = model  # type: ignore[attr-defined]  # names its fields in error messages
    endpoint.__doc__ = (inspect.getdoc(method) or "").split("\n")[0]
    tag = path.split("/")[2]
    app.post(path, status_code=201 if subject is None else 200, tags=[TAGS.get(tag, tag)],
             summary=endpoint.__doc__, operation_id=name, response_model=dict[str, str])(endpoint)


def _add_queries(app: FastAPI, ledger_dep: Any) -> None:
    L = ledger_dep
    get = app.get

    @get("/api/two-lists", response_model=rows.TwoLists, tags=["两个清单"], summary="两个清单（截至某日，按某时登记）")
    def two_lists(ledger: L, as_of: AsOf, known_at: KnownAt = None, campaign: CampaignQ = None,
                  department: str | None = None, village: str | None = None,
                  limit: Annotated[int | None, Query(ge=0, le=10_000)] = None,
                  offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
                  after: Annotated[str | None, Query(min_length=1, max_length=80, description=(
                      "上一页最后一行的编号：只返回编号排在它之后的行（逐页读取时，最后一页与第一页一样快；"
                      "offset 要走过它前面的每一行）"))] = None) -> rows.TwoLists:
        return ledger.two_lists(as_of=as_of, known_at=known_at_param(known_at), campaign=campaign,
                                department=department, village=village, limit=limit, offset=offset,
                                after=after)

    def record_routes(noun: str, tag: str, fetch: Callable[..., Any], row: Any) -> None:
        @get(f"/api/{noun}/{{number}}", response_model=row, tags=[tag], summary=f"{tag}（截至某日）",
             operation_id=f"get_{noun}")
        def one(number: str, ledger: L, as_of: AsOf, known_at: KnownAt = None) -> Any:
            return fetch(ledger)(number, as_of=as_of, known_at=known_at_param(known_at))

        @get(f"/api/{noun}/{{number}}/history", response_model=list[rows.HistoryEntry], tags=[tag],
             summary=f"{tag}的全部事件", operation_id=f"history_{noun}")
        def history(number: str, ledger: L) -> list[rows.HistoryEntry]:
            return ledger.history(number)

    record_routes("hazards", "问题隐患", lambda led: led.hazard, rows.HazardRow)
    record_routes("measures", "制度措施", lambda led: led.measure, rows.MeasureRow)
    record_routes("units", "监管对象", lambda led: led.unit, rows.UnitRow)

    @get("/api/tasks/{task_id}/history", response_model=list[rows.HistoryEntry], tags=["重点任务"], summary="任务的全部事件")
    def task_history(task_id: str, ledger: L) -> list[rows.HistoryEntry]:
        return ledger.history(task_id)

    @get("/api/units", response_model=list[rows.UnitRow], tags=["监管对象"], summary="监管对象（截至某日）")
    def units(ledger: L, as_of: AsOf, known_at: KnownAt = None, kind: str | None = None,
              include_closed: bool = False) -> list[rows.UnitRow]:
        return ledger.units(as_of=as_of, known_at=known_at_param(known_at), kind=kind,
                            include_closed=include_closed)

    @get("/api/tasks", response_model=list[rows.TaskRow], tags=["重点任务"], summary="重点任务及进展")
    def tasks(ledger: L, as_of: AsOf, known_at: KnownAt = None, campaign: CampaignQ = None) -> list[rows.TaskRow]:
        return ledger.tasks(as_of=as_of, known_at=known_at_param(known_at), campaign=campaign)

    @get("/api/indicators/{target_id}", response_model=rows.IndicatorReading | None, tags=["指标"], summary="指标的最近填报")
    def indicator(target_id: str, ledger: L, as_of: AsOf, known_at: KnownAt = None) -> Any:
        return ledger.indicator(target_id, as_of=as_of, known_at=known_at_param(known_at))

    @get("/api/overdue", response_model=list[rows.HazardRow], tags=["两个清单"], summary="超期未整改的问题隐患")
    def overdue(ledger: L, as_of: AsOf, known_at: KnownAt = None, campaign: CampaignQ = None) -> Any:
        return ledger.overdue(as_of=as_of, known_at=known_at_param(known_at), campaign=campaign)

    @get("/api/due-soon", response_model=list[rows.DueItem], tags=["两个清单"],
         summary="即将到期与已超期：问题隐患、重点任务、制度措施（含工作日）")
    def due_soon(ledger: L, as_of: AsOf, within_days: Annotated[int, Query(ge=0, le=366)] = 7,
                 known_at: KnownAt = None) -> Any:
        return ledger.due_soon(within_days=within_days, as_of=as_of, known_at=known_at_param(known_at))

    @get("/api/stats", response_model=Stats, tags=["两个清单"], summary="统计：整改率、重大隐患、各状态数量")
    def stats(ledger: L, as_of: AsOf, known_at: KnownAt = None, campaign: CampaignQ = None) -> Any:
        return ledger.stats(as_of=as_of, known_at=known_at_param(known_at), campaign=campaign)

    @get("/api/trend", response_model=list[Trend], tags=["两个清单"],
         summary="多个日期的问题隐患各状态数量与超期数（如各月末，一次读取）")
    def trend(ledger: L, days: Annotated[list[date], Query(min_length=1, max_length=400,
                                                           description="日期，可重复：days=2020-09-30&days=2020-10-31")],
              known_at: KnownAt = None, campaign: CampaignQ = None) -> Any:
        return ledger.trend(days, known_at=known_at_param(known_at), campaign=campaign)

    @get("/api/targets", response_model=list[rows.TargetStatus], tags=["整治目标"], summary="整治目标及进度")
    def targets(ledger: L, as_of: AsOf, known_at: KnownAt = None, campaign: CampaignQ = None) -> Any:
        return ledger.targets(as_of=as_of, known_at=known_at_param(known_at), campaign=campaign)

    @get("/api/findings", response_model=list[Finding], tags=["整治目标"], summary="各专项检查发现的问题")
    def findings(ledger: L, as_of: AsOf, known_at: KnownAt = None, campaign: CampaignQ = None) -> Any:
        return ledger.findings(as_of=as_of, known_at=known_at_param(known_at), campaign=campaign)

    @get("/api/projections/{projection_id}", response_model=list[dict[str, Any]], tags=["整治目标"],
         summary="专项自有的统计表")
    def projection(projection_id: str, ledger: L, as_of: AsOf, known_at: KnownAt = None) -> Any:
        return ledger.projection(projection_id, as_of=as_of, known_at=known_at_param(known_at))

    @get("/api/campaigns", response_model=list[Campaign], tags=["专项"], summary="已加载的专项（插件）")
    def campaigns(ledger: L) -> Any:
        return list(ledger.catalogue.campaigns.values())

    @get("/api/reports", response_model=list[rows.ReportRow], tags=["报送"], summary="每一次报送")
    def reports(ledger: L, period: str | None = None, campaign: CampaignQ = None) -> Any:
        return ledger.reports(period=period, campaign=campaign)

    @get("/api/reports/{period}/diff", response_model=ReportDiff, tags=["报送"], summary="回头看：报送后又知道了什么")
    def report_diff(period: str, ledger: L, campaign: CampaignQ = None,
                    submission: Annotated[int | None, Query(ge=1, description="第几次报送，默认最近一次")] = None) -> Any:
        return ledger.report_diff(period, campaign=campaign, submission=submission)

    @get("/api/profile", response_model=rows.TownshipProfile | None, tags=["乡镇信息"],
         summary="乡镇信息（报表标题、填报单位、签名栏），未设定时为 null")
    def profile(ledger: L, as_of: AsOf, known_at: KnownAt = None) -> Any:
        return ledger.profile(as_of=as_of, known_at=known_at_param(known_at))

    @get("/api/verify", response_model=VerifyReport, tags=["核验"], summary="核验：哈希链、报送记录与视图")
    def verify(ledger: L, full: Annotated[bool, Query(
            description="完整核验（默认增量：服务所在机器记下上次核验的状态，只重放其后改动的记录）")] = False) -> Any:
        return ledger.verify_integrity(full=full)

    @get("/api/events", response_model=EventsPage, tags=["事件"], summary="事件流：按位置顺序，从 after 之后开始")
    def events(ledger: L, after: Annotated[int, Query(ge=0, le=2**62, description="上次读到的位置")] = 0,
               limit: Annotated[int, Query(ge=1, le=FEED_LIMIT)] = 100) -> Any:
        items: list[rows.LoggedEvent] = list(ledger.events(after=after, limit=limit))
        return EventsPage(events=items, last=items[-1].position if items else after)

    _ = (two_lists, due_soon, units, tasks, task_history, indicator, overdue, stats, targets, findings, projection,
         campaigns, reports, report_diff, profile, verify, events)
