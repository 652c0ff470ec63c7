"""Web pages for the township office: the 两个清单, a hazard's life, the forms, 回头看 — in Chinese.

:func:`install_pages` adds HTML routes to an app made by :func:`qingdan.web.create_app`. They read
through ``app.state.ledgers.lend()`` exactly as the JSON API does and write through the same
ledger commands: forms post to page routes (POST-redirect-GET); a rejected command is shown again
with the library's Chinese message beside the field it names. Nothing comes from outside: the
templates (``templates/``), the style sheet and one small optional script (``static/``) are served
by qingdan itself, the charts are inline SVG drawn here, and the fonts are the system's.

Identity follows :mod:`qingdan.web.identity`. Without a token policy the clerk types an actor name
(kept in a cookie). With a :class:`~qingdan.core.policy.Policy` that has tokens, ``/login`` keeps
the token in an HttpOnly cookie and the actor comes from it as from ``Authorization: Bearer``;
what the actor's role may not do is not offered (the policy itself is asked), and the ledger checks
every command again. Posts from another site are refused (``Origin``/``Referer``; cookies are
``SameSite=Lax``).
"""

from __future__ import annotations

import io
import math
import os
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace, UnionType
from typing import Any, Literal, Union, get_args, get_origin
from urllib.parse import quote, unquote, urlencode, urlsplit

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

from qingdan.core.clock import CST, as_known_at
from qingdan.core.commands import Command
from qingdan.core.errors import InvalidCommand, NotFound, PermissionDenied, QingdanError
from qingdan.core.labels import (
    ATTACHMENT_KINDS,
    COMMAND_FIELD_LABELS,
    DUE_KIND_LABELS,
    FIVE_PART_LABELS,
    FIVE_PARTS,
    HAZARD_CORRECTABLE,
    HAZARD_FIELD_LABELS,
    HAZARD_STATUS_LABELS,
    KIND_LABELS,
    LEVELS,
    MEASURE_FIELD_LABELS,
    MEASURE_STATUS_LABELS,
    MEDIA_TYPE_LABELS,
    TARGET_STATE_LABELS,
    TASK_STATUS_LABELS,
    attachments_label,
    days_label,
    event_label,
    field_label,
    size_label,
    status_label,
)
from qingdan.core.ledger import Ledger
from qingdan.core.policy import COMMAND_LABELS, ROLE_LABELS, AccessRequest, Policy
from qingdan.core.rows import HazardRow, HistoryEntry, TwoLists
from qingdan.core.rules import MEASURE_OPEN_STATUSES, OPEN_STATUSES
from qingdan.io.dates import parse_date, parse_datetime
from qingdan.io.writer import (
    HAZARD_SHEET,
    MEASURE_SHEET,
    list_title,
    two_lists_sheets,
    write_csv,
    write_workbook,
)
from qingdan.web.attachments import gallery, page_upload

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

PAGE_SIZE = 50
DUE_SOON_DAYS = 7
CHART_MONTHS = 36
ACTOR_COOKIE = "qingdan_actor"
TOKEN_COOKIE = "qingdan_token"
FLASH_COOKIE = "qingdan_flash"
DEFAULT_TITLE = "qingdan 两个清单台账"
SECURITY_HEADERS = {
    # everything the pages use is served from here: no CDN, no inline script, no remote font
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "script-src 'self'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

#: Which command each stored event records (the page styles its timeline entry by it).
EVENT_COMMANDS = {
    "Reported": "report", "RectificationPlanned": "plan", "Escalated": "escalate",
    "ExtensionRequested": "request_extension", "ExtensionDecided": "decide_extension",
    "ProgressReported": "report_progress", "RectificationCompleted": "complete", "Verified": "verify",
    "Closed": "close", "Reopened": "reopen", "Rechecked": "recheck", "Corrected": "correct",
    "Withdrawn": "withdraw",
    "Added": "add", "Issued": "issue", "Implemented": "implement", "Revised": "revise",
    "Repealed": "repeal", "Completed": "complete", "Registered": "register",
    "AttributesSet": "set_attributes", "UnitClosed": "close", "Recorded": "record",
    "Submitted": "submit", "Resubmitted": "resubmit",
}
#: The hazard fields each part of the 五到位 is made of.
PART_FIELDS = {"responsibility": ("responsible_unit", "responsible_person"), "measures": ("measures",),
               "funds": ("funds",), "deadline": ("deadline",), "contingency": ("contingency",)}
#: How the hazard page groups the fields of a row (any field not named here goes in the last group).
HAZARD_SECTIONS = (
    ("基本情况", ("number", "campaign", "unit", "unit_number", "village", "location", "category",
                  "level", "source", "found_on", "inspectors", "description")),
    ("整改方案（五到位）", ("responsible_unit", "responsible_person", "measures", "funds", "deadline",
                         "deadline_rule", "contingency", "five_in_place", "missing_parts")),
    ("挂牌督办与延期", ("escalated", "escalated_on", "escalation_level", "supervisor", "escalation_doc_no",
                       "extension_pending")),
    ("整改进度", ("status", "overdue", "last_progress_on", "completed_on", "cost", "verified_on",
                  "closed_on", "withdrawn_on", "reopened", "note")),
)
HAZARD_COLUMNS = ("number", "unit", "village", "description", "level", "status", "deadline",
                  "missing_parts")
MEASURE_COLUMNS = ("number", "title", "kind", "department", "due", "status", "doc_no")


# -- values as a clerk reads them --------------------------------------------------------------


def show(name: str, value: Any, names: dict[str, str] | None = None) -> str:
    """A field's value as text: labels for codes, 是/否, dates ISO, 登记时间 in Beijing time."""
    if value is None or value == "" or value == () or value == []:
        return "—"
    if name == "status" and isinstance(value, str):
        return status_label(value)
    if name == "missing_parts":
        return "、".join(FIVE_PART_LABELS.get(p, p) for p in value)
    if name == "attachments":
        return attachments_label(value)
    if name == "campaign" and names:
        return names.get(value, value)
    if name == "field" and isinstance(value, str):
        return HAZARD_FIELD_LABELS.get(value, value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return moment(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def number(value: float | None) -> str:
    """A figure as people write it: at most two decimals, no trailing zeros."""
    return "—" if value is None else f"{round(value, 2):g}"


COMPARATORS = {">=": "≥", "<=": "≤", "==": "="}


def moment(value: datetime) -> str:
    return value.astimezone(CST).strftime("%Y-%m-%d %H:%M")


def event_title(entry: Any) -> str:
    kind = entry["type"] if isinstance(entry, dict) else entry.type
    data = entry["data"] if isinstance(entry, dict) else entry.data
    title = event_label(kind)
    if kind == "Verified":
        title += "（通过）" if data.get("passed") else "（不通过）"
    elif kind == "Attached" and data.get("kind"):
        title += f"（{data['kind']}）"
    elif kind == "ExtensionDecided":
        title += "（批准）" if data.get("approved") else "（不批准）"
    return title


def event_details(entry: Any, names: dict[str, str]) -> list[tuple[str, str]]:
    """(label, text) for what an event carries (a correction and a reason are shown apart)."""
    kind = entry["type"] if isinstance(entry, dict) else entry.type
    data = entry["data"] if isinstance(entry, dict) else entry.data
    if kind == "Corrected":
        return []
    if kind == "Attached":  # the file in a line; the panel above shows the rest
        return [("文件", f"{data.get('name')}（{MEDIA_TYPE_LABELS.get(data.get('media_type'), data.get('media_type'))}，"
                         f"{size_label(int(data.get('size') or 0))}）"),
                ("SHA-256", f"{str(data.get('sha256'))[:16]}…")]
    out = []
    for key, value in data.items():
        if value in (None, "", [], (), {}) or key in ("number", "passed", "approved", "reason"):
            continue
        label = (HAZARD_FIELD_LABELS["escalation_level"] if kind == "Escalated" and key == "level"
                 else field_label(key) or key)
        out.append((label, show(key, value, names)))
    return out


def correction(entry: Any, names: dict[str, str]) -> dict[str, str] | None:
    """A correction as field, old value → new value."""
    kind = entry["type"] if isinstance(entry, dict) else entry.type
    if kind != "Corrected":
        return None
    data = entry["data"] if isinstance(entry, dict) else entry.data
    name = data.get("field", "")
    return {"field": HAZARD_FIELD_LABELS.get(name, name), "old": show(name, data.get("previous"), names),
            "new": show(name, data.get("value"), names)}


def campaign_names(ledger: Ledger) -> dict[str, str]:
    return dict(ledger.campaign_names())


# -- dates of a page: as_of and known_at --------------------------------------------------------


@dataclass
class When:
    """The two time axes of a page, from its query (``as_of``, ``known_at`` or the ``then`` switch)."""

    as_of: date
    known_at: date | datetime | None = None
    then: bool = False  # the 按当时登记 switch: known_at = the end of the as_of day
    explicit: str = ""  # a known_at given in the address (a moment, e.g. a report's)
    errors: list[str] = field(default_factory=list)

    @property
    def describe(self) -> str:
        if self.known_at is None:
            return "按现在所知（含之后的补登与更正）"
        known = as_known_at(self.known_at)
        assert known is not None
        if not isinstance(self.known_at, datetime):
            return f"按 {self.known_at.isoformat()} 日终时的登记"
        return f"按 {moment(known)} 时的登记"

    @property
    def title_known_at(self) -> datetime | None:
        return as_known_at(self.known_at)

    @property
    def params(self) -> dict[str, str]:
        """The dates as query parameters, for links that keep them."""
        params = {"as_of": self.as_of.isoformat()}
        if self.explicit:
            params["known_at"] = self.explicit
        elif self.then:
            params["then"] = "1"
        return params

    @property
    def query(self) -> str:
        return urlencode(self.params)


def read_when(request: Request, today: date) -> When:
    q = request.query_params
    when = When(as_of=today)
    raw = q.get("as_of", "").strip()
    if raw:
        try:
            when.as_of = parse_date(raw, today=today) or today
        except ValueError as error:
            when.errors.append(f"截至日期：{error}")
    if when.as_of > today:
        when.errors.append(f"截至日期：{when.as_of} 晚于今天，已按今天 {today} 显示")
        when.as_of = today
    known = q.get("known_at", "").strip()
    when.then = q.get("then", "") in ("1", "on", "true")
    if known:
        try:
            when.known_at = parse_datetime(known)
            when.explicit = known
        except ValueError as error:
            when.errors.append(f"按此时登记：{error}")
    if when.known_at is None and when.then:
        when.known_at = when.as_of
    return when


def url_with(request: Request, path: str | None = None, **changes: Any) -> str:
    """This page's address (or ``path``) with query parameters changed; None or "" removes one."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    query = urlencode(params)
    return (path or request.url.path) + (f"?{query}" if query else "")


# -- who is at the keyboard ---------------------------------------------------------------------


@dataclass
class Viewer:
    actor: str | None
    role: str | None = None
    department: str | None = None
    tokens: bool = False  # a token policy: log in to write
    policy: Policy | None = None
    token_problem: str | None = None

    @property
    def named(self) -> bool:
        """No token policy: the clerk names the actor in each form (kept in a cookie)."""
        return not self.tokens

    @property
    def can_write(self) -> bool:
        if not self.tokens:
            return True
        return self.actor is not None and self.role not in (None, "viewer")

    @property
    def role_label(self) -> str | None:
        return ROLE_LABELS.get(self.role) if self.role else None

    def may(self, kind: str, command: str, *, number: str | None = None, record: Any = None,
            departments: tuple[str, ...] | None = None) -> bool:
        """Whether to offer a command: asked of the policy itself (the ledger asks it again)."""
        if not self.can_write:
            return False
        if self.policy is None or self.actor is None:
            return True
        if departments is None:  # a creation: as for the actor's own department
            departments = (self.department,) if self.department else ()
        try:
            self.policy.authorise(AccessRequest(actor=self.actor, kind=kind, command=command,
                                                number=number, record=record, departments=departments))
        except PermissionDenied:
            return False
        return True


def who(request: Request) -> Viewer:
    identity = request.app.state.identity
    authoriser = identity.authoriser
    policy = authoriser if isinstance(authoriser, Policy) else None
    viewer = Viewer(actor=None, tokens=identity.tokens, policy=policy)
    if request.headers.get("authorization") is not None:
        viewer.actor = identity.actor(request)  # a wrong header is refused as by the API
    elif identity.tokens:
        token = request.cookies.get(TOKEN_COOKIE)
        if token:
            viewer.actor = authoriser.actor_for_token(token)
            if viewer.actor is None:
                viewer.token_problem = "令牌已失效：权限配置中没有与之对应的操作人，请重新登录"
    else:
        named = unquote(request.cookies.get(ACTOR_COOKIE, "")).strip()
        viewer.actor = named or None
    if policy is not None and viewer.actor is not None:
        grant = policy.grants.get(viewer.actor)
        if grant is not None:
            viewer.role, viewer.department = grant.role, grant.department
    return viewer


def foreign_post(request: Request) -> bool:
    """A form posted from another site (its Origin or Referer names another host)."""
    host = request.headers.get("host", "")
    for header in ("origin", "referer"):
        value = request.headers.get(header)
        if value:
            return value == "null" or urlsplit(value).netloc != host
    return False


# -- forms, built from the command models ------------------------------------------------------


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    widget: str  # text | textarea | date | number | select | bool | list
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()
    default: str = ""
    hint: str = ""
    datalist: str | None = None


@dataclass(frozen=True)
class Step:
    slug: str
    method: str  # the Ledger method
    kind: str  # the policy's record kind
    command: str  # the policy's command name
    offered: Callable[[Any], bool] = lambda record: True
    danger: bool = False
    skip: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return COMMAND_LABELS.get(self.command, self.command)

    @property
    def model(self) -> type[Command]:
        return getattr(Ledger, self.method).command_model


HAZARD_STEPS = (
    Step("plan", "plan_rectification", "Hazard", "plan",
         lambda h: h.status in (*OPEN_STATUSES, "awaiting_verification")),
    Step("escalate", "escalate", "Hazard", "escalate", lambda h: h.status not in ("closed", "withdrawn")),
    Step("request-extension", "request_extension", "Hazard", "request_extension",
         lambda h: h.status in OPEN_STATUSES and h.deadline is not None and h.extension_pending is None),
    Step("decide-extension", "decide_extension", "Hazard", "decide_extension",
         lambda h: h.status != "withdrawn" and h.extension_pending is not None),
    Step("progress", "report_progress", "Hazard", "report_progress",
         lambda h: h.status in (*OPEN_STATUSES, "awaiting_verification")),
    Step("complete", "complete_rectification", "Hazard", "complete", lambda h: h.status in OPEN_STATUSES),
    Step("verify", "verify", "Hazard", "verify", lambda h: h.status == "awaiting_verification"),
    Step("close", "close", "Hazard", "close",
         lambda h: h.status == "awaiting_verification" and h.verified_on is not None),
    Step("reopen", "reopen", "Hazard", "reopen", lambda h: h.status == "closed"),
    Step("correct", "correct", "Hazard", "correct", lambda h: h.status != "withdrawn"),
    Step("withdraw", "withdraw", "Hazard", "withdraw", lambda h: h.status != "withdrawn", danger=True),
)
MEASURE_STEPS = (
    Step("issue", "issue_measure", "Measure", "issue", lambda m: m.status == "planned"),
    Step("implement", "implement_measure", "Measure", "implement",
         lambda m: m.status in ("planned", "issued")),
    Step("revise", "revise_measure", "Measure", "revise", lambda m: m.status != "repealed"),
    Step("repeal", "repeal_measure", "Measure", "repeal", lambda m: m.status != "repealed", danger=True),
)
TASK_STEPS = (
    Step("progress", "report_task_progress", "Task", "report_progress", lambda t: t.status != "done"),
    Step("complete", "complete_task", "Task", "complete", lambda t: t.status != "done"),
)
REPORT_HAZARD = Step("new", "report_hazard", "Hazard", "report", skip=("on", "number"))
ADD_MEASURE = Step("new", "add_measure", "Measure", "add", skip=("number",))
BOOL_WORDS = {"passed": (("true", "通过"), ("false", "不通过")),
              "approved": (("true", "批准"), ("false", "不批准"))}
HINTS = {"inspectors": "多人用“、”分隔", "unit_number": "如 U-00001（可不填）", "percent": "0–100",
         "value": "日期写作 2020-09-30；多名检查人员用“、”分隔", "on": "默认今天"}
ACTOR_FIELD = FormField("actor", COMMAND_FIELD_LABELS["actor"], "text", required=True,
                        hint="写明单位和姓名，如“镇安监局 王明”；本机会记住")


def _types(annotation: Any) -> list[Any]:
    if get_origin(annotation) in (Union, UnionType):
        return [a for a in get_args(annotation) if a is not type(None)]
    return [annotation]


def _max_length(info: Any) -> int:
    return next((m.max_length for m in info.metadata if getattr(m, "max_length", None)), 0)


def form_fields(step: Step, ledger: Ledger, viewer: Viewer, today: date) -> list[FormField]:
    """The inputs of a command's form, from its command model (labels from core.labels)."""
    model = step.model
    names = [n for n in model.model_fields if n not in Command.model_fields] + ["on", "note"]
    out = []
    for name in names:
        if name in step.skip:
            continue
        info = model.model_fields[name]
        label = info.description or COMMAND_FIELD_LABELS.get(name, name)
        kind = _types(info.annotation)[0]
        required = info.is_required()
        default = "" if required else info.get_default(call_default_factory=True)
        default = "" if default in (None, ()) else str(default)
        choices: tuple[tuple[str, str], ...] = ()
        datalist = None
        if name == "campaign":
            widget = "select"
            choices = tuple((cid, c.name) for cid, c in ledger.catalogue.campaigns.items())
        elif name == "field" and step.command == "correct":
            widget, choices = "select", tuple(HAZARD_CORRECTABLE.items())
        elif get_origin(kind) is Literal:
            widget, choices = "select", tuple((str(c), str(c)) for c in get_args(kind))
        elif kind is bool:
            widget, choices = "bool", BOOL_WORDS.get(name, (("true", "是"), ("false", "否")))
        elif kind is date:
            widget = "date"
        elif kind in (float, int):
            widget = "number"
        elif get_origin(kind) is tuple:
            widget = "list"
        elif kind is str and _max_length(info) > 300:
            widget = "textarea"
        else:
            widget = "text"
        if name in ("on", "found_on"):
            default = today.isoformat()
        if name == "category":
            datalist = "categories"
        if name == "department" and step.kind == "Measure":
            datalist = "departments"
            default = viewer.department or ""
        out.append(FormField(name, label, widget, required, choices, default, HINTS.get(name, ""), datalist))
    if viewer.named:
        out.append(ACTOR_FIELD)
    return out


SPLIT = re.compile(r"[、,，;；\n]+")


def likely_slips(ledger: Ledger, step: Step, arguments: dict[str, Any]) -> list[str]:
    """What :mod:`qingdan.core.slips` says of a new hazard or measure — only of one the command
    would take (a form the command refuses shows the command's own messages first)."""
    from qingdan.core import commands, slips

    method = getattr(Ledger, step.method)
    try:
        command = commands.validate(method.command_model, **arguments)
        if step is REPORT_HAZARD:
            return slips.hazard_slips(ledger, campaign=command.campaign, unit=command.unit,
                                      description=command.description, found_on=command.found_on)
        if step is ADD_MEASURE:
            return slips.measure_slips(ledger, campaign=command.campaign, title=command.title)
    except QingdanError:
        return []
    return []


def form_arguments(fields: Sequence[FormField], form: dict[str, str]) -> dict[str, Any]:
    """The command's keyword arguments from what was typed: blanks left out, words to values."""
    out: dict[str, Any] = {}
    for f in fields:
        if f.name == "actor":
            continue
        raw = (form.get(f.name) or "").strip()
        if not raw:
            continue
        if f.widget == "bool":
            out[f.name] = raw == "true" if raw in ("true", "false") else raw
        elif f.widget == "list":
            out[f.name] = tuple(part.strip() for part in SPLIT.split(raw) if part.strip())
        else:
            out[f.name] = raw
    if out.get("field") == "inspectors" and isinstance(out.get("value"), str):
        out["value"] = [part.strip() for part in SPLIT.split(out["value"]) if part.strip()]
    return out


def place_errors(message: str, fields: Sequence[FormField]) -> tuple[dict[str, list[str]], list[str]]:
    """Each part of a rejection beside the field it names (else above the form)."""
    by_label = sorted(((f.label, f.name) for f in fields), key=lambda pair: -len(pair[0]))
    names = {f.name for f in fields}
    placed: dict[str, list[str]] = {}
    general: list[str] = []
    for part in (p.strip() for p in message.split("；")):
        if not part:
            continue
        target = next((n for label, n in by_label if part.startswith(label + "：")), None)
        if target is None:
            target = next((n for label, n in by_label if label in part), None)
        if target is None and "日期" in part:  # "…日期 2020-06-01 早于排查日期 …" is about 业务日期
            target = next((n for n in ("found_on", "on") if n in names), None)
        if target is None:
            general.append(part)
        else:
            placed.setdefault(target, []).append(part)
    return placed, general


@dataclass
class FormState:
    """A form as shown: its fields, what was typed, and the messages of a rejection."""

    step: Step
    fields: list[FormField]
    action: str
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)
    #: likely slips (:mod:`qingdan.core.slips`): the form asks for a confirmation before saving
    warnings: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.errors or self.general)

    def value(self, f: FormField) -> str:
        return self.values.get(f.name, f.default)


# -- charts: inline SVG, drawn here ------------------------------------------------------------


def _nice_step(peak: float, ticks: int = 4) -> float:
    raw = max(peak, 1) / ticks
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * power:
            return m * power
    return 10 * power


def bar_chart(months: Sequence[date], series: Sequence[tuple[str, str, Sequence[float]]], *,
              stacked: bool = True, line: tuple[str, str, Sequence[float]] | None = None,
              label: str = "", width: int = 720, css: str = "chart") -> Markup:
    """Monthly bars (stacked or side by side), optionally a line over them, as an SVG element.

    ``width``: of the drawing (its text keeps its size when a narrow one is shown on a phone)."""
    height, left, right, top, bottom = 250, 40, 10, 14, 40
    n = max(len(months), 1)
    if stacked:
        peaks = [sum(s[2][i] for s in series) for i in range(len(months))]
    else:
        peaks = [max((s[2][i] for s in series), default=0) for i in range(len(months))]
    if line:
        peaks += list(line[2])
    step = _nice_step(max(peaks, default=0))
    top_value = step * max(1, math.ceil(max(peaks, default=0) / step))
    plot_w, plot_h = width - left - right, height - top - bottom
    slot = plot_w / n

    def y(v: float) -> float:
        return top + plot_h - plot_h * v / top_value

    parts = [f'<svg class="{css}" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">']
    value = 0.0
    while value <= top_value + 1e-9:
        parts.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y(value):.1f}" y2="{y(value):.1f}"/>'
                     f'<text class="tick" x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{value:g}</text>')
        value += step
    every = max(1, math.ceil(n / 12))
    for i, month in enumerate(months):
        x0 = left + i * slot
        centre = x0 + slot / 2
        if i % every == 0:
            parts.append(f'<text class="tick" x="{centre:.1f}" y="{height - bottom + 16}" '
                         f'text-anchor="middle">{month.month}月</text>')
        if month.month == 1 or i == 0:
            parts.append(f'<text class="tick year" x="{centre:.1f}" y="{height - bottom + 32}" '
                         f'text-anchor="middle">{month.year}</text>')
        base = 0.0
        inner = slot * 0.72
        for k, (name, css, values) in enumerate(series):
            v = values[i]
            if stacked:
                x, w, y0, y1 = centre - inner / 2, inner, y(base + v), y(base)
                base += v
            else:
                w = inner / len(series)
                x, y0, y1 = centre - inner / 2 + k * w, y(v), y(0)
            if v:
                parts.append(f'<rect class="s-{css}" x="{x:.1f}" y="{y0:.1f}" width="{max(w - 1, 1):.1f}" '
                             f'height="{max(y1 - y0, 0):.1f}"><title>{month:%Y-%m} {escape(name)}：{v:g}'
                             f'</title></rect>')
    if line:
        name, css, values = line
        points = " ".join(f"{left + (i + 0.5) * slot:.1f},{y(v):.1f}" for i, v in enumerate(values))
        parts.append(f'<polyline class="line-{css}" points="{points}"/>')
        for i, v in enumerate(values):
            parts.append(f'<circle class="dot-{css}" cx="{left + (i + 0.5) * slot:.1f}" cy="{y(v):.1f}" r="3">'
                         f'<title>{months[i]:%Y-%m} {escape(name)}：{v:g}</title></circle>')
    parts.append(f'<line class="axis" x1="{left}" x2="{width - right}" y1="{y(0):.1f}" y2="{y(0):.1f}"/></svg>')
    return Markup("".join(parts))


def bullet(value: float | None, goal: float, comparator: str, state: str) -> Markup:
    """One target: its value as a bar, its goal as a mark."""
    width, height = 300, 22
    high = max(goal, value or 0, 1e-9) * 1.08
    if goal == 0 and not value:
        high = 1.0

    def x(v: float) -> float:
        return 2 + (width - 4) * v / high

    parts = [f'<svg class="bullet" viewBox="0 0 {width} {height}" preserveAspectRatio="none" role="img" '
             f'aria-label="当前值 {show("", value)}，目标 {comparator}{goal:g}">',
             f'<rect class="track" x="2" y="5" width="{width - 4}" height="12" rx="3"/>']
    if value is not None and value > 0:
        parts.append(f'<rect class="state-{state}" x="2" y="5" width="{max(x(value) - 2, 2):.1f}" height="12" rx="3"/>')
    parts.append(f'<line class="goal" x1="{x(goal):.1f}" x2="{x(goal):.1f}" y1="1" y2="{height - 1}"/></svg>')
    return Markup("".join(parts))


def state_bar(counts: Counter[str]) -> Markup:
    """How many targets are in each state, as one stacked bar."""
    total = sum(counts.values()) or 1
    width, height, x = 1000, 10, 0.0
    parts = [f'<svg class="stack" viewBox="0 0 {width} {height}" preserveAspectRatio="none" role="img" '
             'aria-label="' + "、".join(f"{TARGET_STATE_LABELS[s]} {counts[s]}" for s in TARGET_STATE_LABELS
                                        if counts[s]) + '">']
    for state, label in TARGET_STATE_LABELS.items():
        n = counts.get(state, 0)
        if not n:
            continue
        w = width * n / total
        parts.append(f'<rect class="state-{state}" x="{x:.1f}" y="0" width="{w:.1f}" height="{height}">'
                     f'<title>{label} {n}</title></rect>')
        x += w
    parts.append("</svg>")
    return Markup("".join(parts))


def month_ends(first: date, last: date, limit: int = CHART_MONTHS) -> list[date]:
    """The last day of each month from ``first``'s to ``last``'s (``last`` itself for its month)."""
    out = []
    year, month = last.year, last.month
    while len(out) < limit and (year, month) >= (first.year, first.month):
        following = date(year + (month == 12), month % 12 + 1, 1)
        out.append(min(following - timedelta(days=1), last))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out[::-1]


# -- the pages --------------------------------------------------------------------------------


def install_pages(app: FastAPI, *, township: str | None = None) -> None:
    """Add the web pages (and ``/static``) to an app made by :func:`qingdan.web.create_app`.

    ``township``: the name in the header and the workbook titles (default ``$QINGDAN_TOWNSHIP``;
    without one the header says “qingdan 两个清单台账”).
    """
    township = township or os.environ.get("QINGDAN_TOWNSHIP") or None
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(
        show=show, moment=moment, days_label=days_label, DUE_KIND_LABELS=DUE_KIND_LABELS, number=number, comparators=COMPARATORS, status_label=status_label, event_title=event_title,
        HAZARD_FIELD_LABELS=HAZARD_FIELD_LABELS, MEASURE_FIELD_LABELS=MEASURE_FIELD_LABELS,
        HAZARD_STATUS_LABELS=HAZARD_STATUS_LABELS, MEASURE_STATUS_LABELS=MEASURE_STATUS_LABELS,
        TASK_STATUS_LABELS=TASK_STATUS_LABELS, TARGET_STATE_LABELS=TARGET_STATE_LABELS,
        FIVE_PART_LABELS=FIVE_PART_LABELS, KIND_LABELS=KIND_LABELS, LEVELS=LEVELS,
        COMMAND_LABELS=COMMAND_LABELS, label=field_label,
    )
    pages = Pages(env, township)
    app.state.pages = pages
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(pages.router())
    _html_errors(app, pages)


def _html_errors(app: FastAPI, pages: Pages) -> None:
    """A browser asking for a page that is not there gets a page; the API keeps its JSON."""
    original = app.exception_handlers.get(StarletteHTTPException)

    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if pages.is_page_request(request) and exc.status_code in (404, 405):
            message = "没有这个页面" if exc.status_code == 404 else "这个页面不接受该请求"
            return pages.render(request, "error.html", status=exc.status_code, title=message,
                                message=message, viewer=None)
        assert original is not None
        return await original(request, exc)

    if original is not None:
        app.add_exception_handler(StarletteHTTPException, http_error)

    from qingdan.web.errors import STATUS

    original_error = app.exception_handlers.get(QingdanError)

    async def qingdan_error(request: Request, exc: QingdanError) -> Response:
        if pages.is_page_request(request):
            status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
            return pages.render(request, "error.html", status=status, title="无法显示", message=str(exc),
                                viewer=None)
        assert original_error is not None
        return await original_error(request, exc)

    if original_error is not None:
        app.add_exception_handler(QingdanError, qingdan_error)


class Pages:
    def __init__(self, env: Environment, township: str | None) -> None:
        self.env = env
        self.configured = township  # ``township=`` / $QINGDAN_TOWNSHIP: names the township whatever the ledger says

    def profile(self, request: Request, ledger: Any = None) -> tuple[Any, bool]:
        """The township profile the header and the forms show: the ledger's own (``qingdan profile
        set``), named by the configured township when there is one; and whether there is one."""
        from qingdan.io.profile import load_profile

        stored = request.app.state.ledgers.profile() if ledger is None else ledger.profile()
        return load_profile(None, township=self.configured, stored=stored), stored is not None

    # -- plumbing ---------------------------------------------------------------------------

    @staticmethod
    def is_page_request(request: Request) -> bool:
        return (not request.url.path.startswith("/api")
                and "text/html" in request.headers.get("accept", ""))

    def render(self, request: Request, template: str, *, status: int = 200, viewer: Viewer | None = None,
               **context: Any) -> HTMLResponse:
        flash = unquote(request.cookies.get(FLASH_COOKIE, "")) or None
        if "township" not in context:
            try:
                profile, known = self.profile(request)
                context["township"] = profile.name if known or self.configured else None
            except QingdanError:  # the ledger cannot be read: the page says so, the header goes without
                context["township"] = self.configured
        context.setdefault("brand", f"{context['township']} 两个清单台账" if context["township"] else DEFAULT_TITLE)
        html = self.env.get_template(template).render(
            request=request, viewer=viewer, flash=flash, path=request.url.path,
            url_with=lambda path=None, **changes: url_with(request, path, **changes), **context)
        response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
        if flash:
            response.delete_cookie(FLASH_COOKIE, path="/")
        if viewer is not None and viewer.token_problem:
            response.delete_cookie(TOKEN_COOKIE, path="/")
        return response

    def error(self, request: Request, viewer: Viewer | None, status: int, message: str,
              title: str = "无法显示") -> HTMLResponse:
        return self.render(request, "error.html", status=status, viewer=viewer, title=title, message=message)

    @staticmethod
    def redirect(target: str, flash: str | None = None, actor: str | None = None) -> RedirectResponse:
        response = RedirectResponse(target, status_code=303)
        if flash:
            response.set_cookie(FLASH_COOKIE, quote(flash), max_age=120, httponly=True, samesite="lax", path="/")
        if actor:
            response.set_cookie(ACTOR_COOKIE, quote(actor), max_age=3600 * 24 * 365, httponly=True,
                                samesite="lax", path="/")
        return response

    @staticmethod
    def lend(request: Request) -> Any:
        return request.app.state.ledgers.lend()

    def refuse_write(self, request: Request, viewer: Viewer) -> Response | None:
        """Why a post is not taken (another site, not logged in, a read-only role), or None."""
        if foreign_post(request):
            return self.error(request, viewer, 403, "拒绝来自其他网站的提交（Origin/Referer 与本站不符）",
                              "不能提交")
        if viewer.tokens and viewer.actor is None:
            return self.redirect("/login?" + urlencode({"next": request.headers.get("referer") and
                                                        urlsplit(request.headers["referer"]).path or "/"}))
        if not viewer.can_write:
            return self.error(request, viewer, 403, f"{viewer.actor}（{viewer.role_label}）只能查看，不能录入",
                              "只读账号")
        return None

    @staticmethod
    async def form(request: Request) -> dict[str, str]:
        data = await request.form()
        return {key: value for key, value in data.multi_items() if isinstance(value, str)}

    def run_step(self, ledger: Ledger, state: FormState, subject: tuple[str, ...], viewer: Viewer) -> str | None:
        """Run the command of a form; on a rejection fill ``state`` with its messages."""
        actor = viewer.actor
        if viewer.named:  # the name typed in the form (a post without the field: the remembered one)
            typed = state.values.get("actor")
            actor = viewer.actor if typed is None else typed.strip() or None
            if actor is None:
                state.errors["actor"] = [f"{ACTOR_FIELD.label}：必须填写"]
                return None
        arguments = form_arguments(state.fields, state.values)
        try:
            return getattr(ledger, state.step.method)(*subject, actor=actor, **arguments)
        except InvalidCommand as error:
            state.errors, state.general = place_errors(str(error), state.fields)
        except QingdanError as error:
            state.general = [str(error)]
        return None

    # -- routes -----------------------------------------------------------------------------

    def router(self) -> APIRouter:
        r = APIRouter(include_in_schema=False)
        r.add_api_route("/", self.overview, methods=["GET"], response_class=HTMLResponse)
        r.add_api_route("/lists", self.lists, methods=["GET"], response_class=HTMLResponse)
        r.add_api_route("/lists.xlsx", self.download_xlsx, methods=["GET"])
        r.add_api_route("/lists.csv", self.download_csv, methods=["GET"])
        r.add_api_route("/lists.pdf", self.download_pdf, methods=["GET"])
        r.add_api_route("/hazards/new", self.new_hazard, methods=["GET"], response_class=HTMLResponse)
        r.add_api_route("/hazards/new", self.post_new_hazard, methods=["POST"])
        r.add_api_route("/hazards/{number}", self.hazard, methods=["GET"], response_class=HTMLResponse)
        r.add_api_route("/hazards/{number}/{slug}", self.post_hazard_step, methods=["POST"])
        r.add_api_route("/measures/new", self.new_measure, methods=["GET"], response_class=HTMLResponse)
        r.add_api_route("/measures/new", self.post_new_measure, methods=["POST"])
        r.add_api_route("/measures/{number}", self.measure, methods=["GET"], response_class=HTMLResponse)
        r.add_api_route("/measures/{number}/{slug}", self.post_measure_step, methods=["POST"])
        r.add_api_route("/tasks", self.tasks, methods=["GET"], response_class=HTMLResponse)
        r.add_api_route("/tasks/{task_id}/{slug}", self.post_task_step, methods=["POST"])
        r.add_api_route("/targets", self.targets, methods=["GET"], response_class=HTMLResponse)
        r.add_api_route("/reports", self.reports, methods=["GET"], response_class=HTMLResponse)
        r.add_api_route("/reports/{period}", self.report, methods=["GET"], response_class=HTMLResponse)
        r.add_api_route("/login", self.login, methods=["GET"], response_class=HTMLResponse)
        r.add_api_route("/login", self.post_login, methods=["POST"])
        r.add_api_route("/logout", self.post_logout, methods=["POST"])
        return r

    # -- 总览 -------------------------------------------------------------------------------

    def overview(self, request: Request) -> HTMLResponse:
        viewer = who(request)
        with self.lend(request) as ledger:
            when = read_when(request, ledger.today())
            names = campaign_names(ledger)
            lists = ledger.two_lists(as_of=when.as_of, known_at=when.known_at, include_withdrawn=True)
            stats = ledger.stats(as_of=when.as_of, known_at=when.known_at)
            targets = ledger.targets(as_of=when.as_of, known_at=when.known_at)
            due = ledger.due_soon(within_days=DUE_SOON_DAYS, as_of=when.as_of, known_at=when.known_at)
            hazards = list(lists.hazards)
            live = [h for h in hazards if h.status != "withdrawn"]
            ends = month_ends(min(h.found_on for h in hazards), when.as_of) if hazards else []
            monthly = ledger.trend(ends, known_at=when.known_at)
        statuses = list(HAZARD_STATUS_LABELS)
        by_campaign: dict[str, Counter[str]] = {}
        for h in hazards:
            by_campaign.setdefault(h.campaign, Counter())[h.status] += 1
            if h.overdue:
                by_campaign[h.campaign]["overdue"] += 1
        table = [(cid, names.get(cid, cid), by_campaign[cid]) for cid in names if cid in by_campaign]
        totals: Counter[str] = sum((c for _, _, c in table), Counter())
        overdue = sorted((h for h in live if h.overdue), key=lambda h: (h.deadline or date.max, h.number))
        due_soon = [i for i in due if i.days_left >= 0 and i.kind == "hazard"]
        due_others = Counter(i.kind for i in due if i.days_left >= 0 and i.kind != "hazard")
        month_start = when.as_of.replace(day=1)
        new = [h for h in live if month_start <= h.found_on <= when.as_of]
        closed = [h for h in live if h.closed_on is not None and month_start <= h.closed_on <= when.as_of]
        at_risk = [t for t in targets if t.state in ("at_risk", "missed")]
        charts: dict[str, Markup] = {}
        found = Counter((h.found_on.year, h.found_on.month) for h in live)
        done = Counter((h.closed_on.year, h.closed_on.month) for h in live if h.closed_on)
        for size, months, width in (("", len(ends), 720), ("_small", 12, 400)):  # a phone shows a year
            css = "chart chart-small" if size else "chart chart-wide"
            shown, stats_shown = ends[-months:], monthly[-months:]
            if not shown:
                continue
            firsts = [end.replace(day=1) for end in shown]
            charts["open" + size] = bar_chart(
                shown, [(HAZARD_STATUS_LABELS[s], s, [m.by_status.get(s, 0) for m in stats_shown])
                        for s in ("reported", "rectifying", "awaiting_verification")],
                line=("超期未整改", "overdue", [m.overdue for m in stats_shown]), label="各月末未销号的问题隐患",
                width=width, css=css)
            charts["flow" + size] = bar_chart(
                firsts, [("新增", "new", [found[(m.year, m.month)] for m in firsts]),
                         ("销号", "closed", [done[(m.year, m.month)] for m in firsts])],
                stacked=False, label="每月新增与销号的问题隐患", width=width, css=css)
        return self.render(request, "overview.html", viewer=viewer, when=when, names=names, stats=stats,
                           statuses=statuses, table=table, totals=totals, overdue=overdue,
                           due_soon=due_soon, due_others=due_others, new=new, closed=closed, at_risk=at_risk, charts=charts,
                           month_start=month_start, soon_days=DUE_SOON_DAYS, nav="overview")

    # -- 两个清单 -----------------------------------------------------------------------------

    def _list_filters(self, request: Request, ledger: Ledger) -> tuple[dict[str, str], dict[str, str], list[str]]:
        """The lists page's filters as given (an unknown campaign dropped, and said), and the names."""
        q = request.query_params
        f = {k: q.get(k, "").strip() for k in ("campaign", "department", "village", "status", "level", "overdue")}
        errors: list[str] = []
        names = campaign_names(ledger)
        if f["campaign"] and f["campaign"] not in names:
            errors.append(f"专项：没有“{f['campaign']}”")
            f["campaign"] = ""
        return f, names, errors

    @staticmethod
    def _selection(f: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """The filters as the snapshot's arguments for each list — the one place they are read:
        withdrawn entries only when asked for by status; a hazard status filters the hazards and a
        measure status the measures; a village or a level concerns the hazards (measures have no
        village: none are listed with one); overdue ones can only be in the statuses the overdue
        rule allows, tested after (``None``: the measures list is empty)."""
        status, overdue = f["status"], bool(f["overdue"])
        hazard_statuses = [status] if status in HAZARD_STATUS_LABELS else None
        if overdue:
            hazard_statuses = [s for s in (hazard_statuses or OPEN_STATUSES) if s in OPEN_STATUSES]
        measure_statuses = [status] if status in MEASURE_STATUS_LABELS else None
        if overdue:
            measure_statuses = [s for s in (measure_statuses or MEASURE_OPEN_STATUSES) if s in MEASURE_OPEN_STATUSES]
        hazards = {"campaign": f["campaign"] or None, "village": f["village"] or None,
                   "department": f["department"] or None, "level": f["level"] or None,
                   "include_withdrawn": status == "withdrawn", "statuses": hazard_statuses}
        measures = None if f["village"] else {"campaign": f["campaign"] or None, "department": f["department"] or None,
                                              "statuses": measure_statuses}
        return hazards, measures

    def _filtered_lists(self, request: Request, ledger: Ledger, when: When) -> tuple[Any, dict[str, Any], list[str]]:
        """The two lists as of the page's dates with its filters, whole (for the downloads)."""
        f, names, errors = self._list_filters(request, ledger)
        snap = ledger.snapshot(as_of=when.as_of, known_at=when.known_at)
        hazard_args, measure_args = self._selection(f)
        hazards = [h for h in snap.hazards(**hazard_args) if h.overdue or not f["overdue"]]
        measures = [] if measure_args is None else [
            m for m in snap.measures(**measure_args) if m.overdue or not f["overdue"]]
        lists = TwoLists(as_of=snap.as_of, known_at=snap.known_at, hazards=tuple(hazards), measures=tuple(measures))
        return lists, {"filters": f, "names": names}, errors

    def lists(self, request: Request) -> HTMLResponse:
        """A page of one list: counted in the view, only the page's rows read (unless overdue ones
        are asked for: then the rows that can be overdue are read and tested)."""
        viewer = who(request)
        which = "measures" if request.query_params.get("list") == "measures" else "hazards"
        with self.lend(request) as ledger:
            when = read_when(request, ledger.today())
            try:
                f, names, errors = self._list_filters(request, ledger)
                snap = ledger.snapshot(as_of=when.as_of, known_at=when.known_at)
                hazard_args, measure_args = self._selection(f)
                campaign = hazard_args["campaign"]
                found = snap.counts("hazard", ("village", "department", "status"), campaign)
                listed = {k: n for k, n in found.items() if k[2] != "withdrawn" or hazard_args["include_withdrawn"]}
                measure_departments = snap.counts("measure", ("department",), campaign)
                options = {"villages": sorted({v for v, _, _ in listed if v}),
                           "departments": sorted({d for _, d, _ in listed if d} | {d for (d,) in measure_departments if d})}
                each = {"hazards": ("hazard", snap.hazards, hazard_args),
                        "measures": ("measure", snap.measures, measure_args)}
                totals: dict[str, int] = {}
                overdue: dict[str, list[Any]] = {}  # the overdue rule is applied to the rows, not in SQL
                for name, (kind, read, args) in each.items():
                    if args is None:
                        totals[name] = 0
                    elif f["overdue"]:
                        overdue[name] = [r for r in read(**args) if r.overdue]
                        totals[name] = len(overdue[name])
                    else:
                        totals[name] = self._count(snap, kind, args)
                pages = max(1, math.ceil(totals[which] / PAGE_SIZE))
                try:
                    page = min(max(int(request.query_params.get("page", "1")), 1), pages)
                except ValueError:
                    page = 1
                first = (page - 1) * PAGE_SIZE
                _, read, args = each[which]
                rows: Sequence[Any] = ()
                if which in overdue:
                    rows = overdue[which][first: first + PAGE_SIZE]
                elif args is not None:
                    rows = read(**args, limit=PAGE_SIZE, offset=first)
            except QingdanError as error:
                return self.error(request, viewer, 400, str(error))
            profile, known = self.profile(request, ledger)
        township = profile.name if known or self.configured else None
        title_name = MEASURE_SHEET if which == "measures" else HAZARD_SHEET
        title = list_title(township or "", title_name, when.as_of, when.title_known_at)
        return self.render(request, "lists.html", viewer=viewer, when=when, totals=totals, which=which,
                           rows=rows, page=page, pages=pages, first=first, title=title,
                           errors=when.errors + errors, nav="lists", hazard_columns=HAZARD_COLUMNS,
                           measure_columns=MEASURE_COLUMNS, filters=f, names=names, township=township, **options)

    @staticmethod
    def _count(snap: Any, kind: str, args: dict[str, Any]) -> int:
        """How many rows the arguments of :meth:`_selection` select, counted in the view."""
        filters = {k: v for k, v in args.items() if k in ("village", "department", "level")}
        exclude = None if kind == "measure" or args.get("include_withdrawn") else "withdrawn"
        return snap.count(kind, args["campaign"], exclude_status=exclude, statuses=args["statuses"], **filters)

    def _download(self, request: Request) -> tuple[Any, dict[str, str], When, Any, bool]:
        with self.lend(request) as ledger:
            when = read_when(request, ledger.today())
            lists, context, _ = self._filtered_lists(request, ledger, when)
            profile, known = self.profile(request, ledger)
        return lists, context["names"], when, profile, known

    def download_xlsx(self, request: Request) -> Response:
        lists, names, when, profile, known = self._download(request)
        sheets = two_lists_sheets(lists, names, profile.name, known_at=when.title_known_at,
                                  profile=profile if known else None)
        stream = io.BytesIO()
        write_workbook(stream, sheets)
        return self._file(stream.getvalue(), f"{profile.name}两个清单_{when.as_of.isoformat()}.xlsx",
                          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    def download_pdf(self, request: Request) -> Response:
        """The printable 报送表 of both lists, as ``qingdan lists --format pdf`` writes it."""
        from qingdan.io.pdf import write_pdf

        lists, names, when, profile, _ = self._download(request)
        sheets = two_lists_sheets(lists, names, profile.name, known_at=when.title_known_at, layout="报送表",
                                  profile=profile)
        stream = io.BytesIO()
        write_pdf(stream, sheets)
        return self._file(stream.getvalue(), f"{profile.name}两个清单_{when.as_of.isoformat()}.pdf",
                          "application/pdf")

    def download_csv(self, request: Request) -> Response:
        lists, names, when, profile, _ = self._download(request)
        which = 1 if request.query_params.get("list") == "measures" else 0
        sheet = two_lists_sheets(lists, names, profile.name, known_at=when.title_known_at)[which]
        text = io.StringIO()
        write_csv(text, sheet)
        return self._file(("\ufeff" + text.getvalue()).encode("utf-8"),  # BOM: Excel reads it
                          f"{profile.name}{sheet.name}_{when.as_of.isoformat()}.csv", "text/csv; charset=utf-8")

    @staticmethod
    def _file(body: bytes, filename: str, media_type: str) -> Response:
        fallback = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
        disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
        return Response(body, media_type=media_type, headers={"Content-Disposition": disposition})

    # -- 登记隐患 / 制定措施 -----------------------------------------------------------------------

    def _new_form(self, ledger: Ledger, step: Step, viewer: Viewer, values: dict[str, str] | None = None,
                  action: str = "") -> FormState:
        fields = form_fields(step, ledger, viewer, ledger.today())
        state = FormState(step, fields, action, dict(values or {}))
        if viewer.named and viewer.actor and "actor" not in state.values:
            state.values["actor"] = viewer.actor
        return state

    def _creation_page(self, request: Request, ledger: Ledger, viewer: Viewer, step: Step, state: FormState,
                       status: int = 200) -> HTMLResponse:
        catalogue = ledger.catalogue
        categories = {cid: c.hazard_categories for cid, c in catalogue.campaigns.items()}
        departments = sorted({d for c in catalogue.campaigns.values()
                              for d in (*c.lead_departments, *c.departments)})
        kind = "hazard" if step.kind == "Hazard" else "measure"
        allowed = viewer.may(step.kind, step.command)
        return self.render(request, "new.html", status=status, viewer=viewer, form=state, allowed=allowed,
                           heading=f"{step.title}{KIND_LABELS[kind]}", categories=categories,
                           all_categories=sorted({c for cs in categories.values() for c in cs}),
                           departments=departments, nav=f"new-{kind}")

    def new_hazard(self, request: Request) -> HTMLResponse:
        viewer = who(request)
        with self.lend(request) as ledger:
            state = self._new_form(ledger, REPORT_HAZARD, viewer, action="/hazards/new")
            if request.query_params.get("campaign"):
                state.values["campaign"] = request.query_params["campaign"]
            return self._creation_page(request, ledger, viewer, REPORT_HAZARD, state)

    def new_measure(self, request: Request) -> HTMLResponse:
        viewer = who(request)
        with self.lend(request) as ledger:
            state = self._new_form(ledger, ADD_MEASURE, viewer, action="/measures/new")
            return self._creation_page(request, ledger, viewer, ADD_MEASURE, state)

    async def post_new_hazard(self, request: Request) -> Response:
        return await self._post_new(request, REPORT_HAZARD, "/hazards/new", "/hazards/{}")

    async def post_new_measure(self, request: Request) -> Response:
        return await self._post_new(request, ADD_MEASURE, "/measures/new", "/measures/{}")

    async def _post_new(self, request: Request, step: Step, action: str, target: str) -> Response:
        values = await self.form(request)
        return await run_in_threadpool(self._do_new, request, step, action, target, values)

    def _do_new(self, request: Request, step: Step, action: str, target: str, values: dict[str, str]) -> Response:
        viewer = who(request)
        refusal = self.refuse_write(request, viewer)
        if refusal is not None:
            return refusal
        with self.lend(request) as ledger:
            state = self._new_form(ledger, step, viewer, values, action)
            typed = values.get("actor")
            named = not viewer.named or bool(viewer.actor if typed is None else typed.strip())
            if values.get("force") != "1" and named:
                state.warnings = likely_slips(ledger, step, form_arguments(state.fields, values))
                if state.warnings:  # said, not saved: the clerk confirms (or corrects) and sends again
                    return self._creation_page(request, ledger, viewer, step, state, status=409)
            number = self.run_step(ledger, state, (), viewer)
            if number is None:
                return self._creation_page(request, ledger, viewer, step, state, status=422)
        kind = "hazard" if step.kind == "Hazard" else "measure"
        return self.redirect(target.format(quote(number)), f"已{step.title}{KIND_LABELS[kind]} {number}",
                             actor=values.get("actor") if viewer.named else None)

    # -- 一条问题隐患 ---------------------------------------------------------------------------

    def hazard(self, request: Request, number: str) -> HTMLResponse:
        viewer = who(request)
        with self.lend(request) as ledger:
            return self._hazard_page(request, ledger, viewer, number)

    def _hazard_page(self, request: Request, ledger: Ledger, viewer: Viewer, number: str,
                     failed: FormState | None = None) -> HTMLResponse:
        when = read_when(request, ledger.today())
        try:
            history = ledger.history(number)
            current = ledger.hazard(number)
        except NotFound as error:
            return self.error(request, viewer, 404, str(error), "没有这条问题隐患")
        if history[0].type != "Reported":
            return self.error(request, viewer, 404, f"{number} 不是问题隐患", "没有这条问题隐患")
        names = campaign_names(ledger)
        row, missing = None, None
        try:
            row = ledger.hazard(number, as_of=when.as_of, known_at=when.known_at)
        except NotFound as error:
            missing = str(error)
        sections = []
        if row is not None:
            data = row.model_dump()
            listed = {n for _, names_ in HAZARD_SECTIONS for n in names_}
            for i, (heading, keys) in enumerate(HAZARD_SECTIONS):
                keys = (*keys, *(k for k in data if k not in listed)) if i == len(HAZARD_SECTIONS) - 1 else keys
                sections.append((heading, [(k, HAZARD_FIELD_LABELS.get(k, k), show(k, data[k], names))
                                           for k in keys if k in data]))
        parts = five_parts(row, history, when)
        completed_by = next((e.actor for e in reversed(history) if e.type == "RectificationCompleted"), None)
        forms = self.offered_forms(ledger, viewer, HAZARD_STEPS,
                                   SimpleNamespace(completed_by=completed_by, reported_by=history[0].actor,
                                                   **current.model_dump()), number,
                                   tuple(d for d in (current.responsible_unit,) if d),
                                   f"/hazards/{quote(number)}", failed)
        timeline = self._timeline(history, when, names)
        return self.render(request, "hazard.html", status=422 if failed else 200, viewer=viewer, when=when,
                           number=number, row=row, current=current, missing=missing, sections=sections,
                           parts=parts, timeline=timeline, forms=forms, names=names, nav="lists",
                           errors=when.errors, **self._evidence(ledger, viewer, "Hazard", number, row, current,
                                                                 current.responsible_unit))

    @staticmethod
    def _evidence(ledger: Ledger, viewer: Viewer, kind: str, number: str, row: Any, current: Any,
                  department: str | None) -> dict[str, Any]:
        """The page's 附件 panel: the attachments as of the chosen date, and whether to offer the
        upload form (the record may take one and the viewer may add it)."""
        open_ = current.status not in ("withdrawn", "repealed")
        allowed = open_ and viewer.may(kind, "attach", number=number, record=current,
                                       departments=tuple(d for d in (department,) if d))
        return {"gallery": gallery(row), "attach_kinds": ATTACHMENT_KINDS, "can_attach": allowed,
                "upload_limit": size_label(ledger.attachment_limits.max_bytes)}

    @staticmethod
    def offered_forms(ledger: Ledger, viewer: Viewer, steps: Sequence[Step], record: Any, number: str,
                      departments: tuple[str, ...], base: str, failed: FormState | None) -> list[FormState]:
        """The forms of the steps the record's state allows and the policy grants (a rejected one
        as it was filled in)."""
        forms = []
        for step in steps:
            if not step.offered(record) or not viewer.may(step.kind, step.command, number=number, record=record,
                                                          departments=departments):
                continue
            if failed is not None and failed.step.slug == step.slug:
                forms.append(failed)
                continue
            state = FormState(step, form_fields(step, ledger, viewer, ledger.today()), f"{base}/{step.slug}")
            if viewer.named and viewer.actor:
                state.values["actor"] = viewer.actor
            forms.append(state)
        return forms

    async def post_step(self, request: Request, steps: Sequence[Step], subject: str, slug: str,
                        page: Callable[..., HTMLResponse], base: str, done: str) -> Response:
        """A lifecycle form posted: run it and redirect (POST-redirect-GET), or show the page again
        with the messages beside the fields."""
        values = await self.form(request)

        def work() -> Response:
            viewer = who(request)
            refusal = self.refuse_write(request, viewer)
            if refusal is not None:
                return refusal
            step = next((s for s in steps if s.slug == slug), None)
            if step is None:
                return self.error(request, viewer, 404, f"没有这个操作：{slug}")
            with self.lend(request) as ledger:
                state = FormState(step, form_fields(step, ledger, viewer, ledger.today()), f"{base}/{slug}", values)
                if self.run_step(ledger, state, (subject,), viewer) is None:
                    return page(request, ledger, viewer, subject, failed=state)
            return self.redirect(done, f"已记录：{step.title}（{subject}）",
                                 actor=values.get("actor") if viewer.named else None)

        return await run_in_threadpool(work)

    @staticmethod
    def _timeline(history: list[HistoryEntry], when: When, names: dict[str, str]) -> list[dict[str, Any]]:
        known = as_known_at(when.known_at)
        out = []
        for e in history:
            late = (e.recorded_at.astimezone(CST).date() - e.on).days
            out.append({
                "entry": e, "title": event_title(e), "command": EVENT_COMMANDS.get(e.type, "other"),
                "details": event_details(e, names), "reason": e.data.get("reason"),
                "change": correction(e, names),
                "late": late if late > 0 else 0,
                "after": e.on > when.as_of, "unknown": known is not None and e.recorded_at > known,
                "correction": e.type == "Corrected",
            })
        return out

    async def post_hazard_step(self, request: Request, number: str, slug: str) -> Response:
        if slug == "attach":
            return await page_upload(self, request, number, "hazards")
        base = f"/hazards/{quote(number)}"
        return await self.post_step(request, HAZARD_STEPS, number, slug, self._hazard_page, base, f"{base}#timeline")

    # -- 一项制度措施 ---------------------------------------------------------------------------

    def measure(self, request: Request, number: str) -> HTMLResponse:
        viewer = who(request)
        with self.lend(request) as ledger:
            return self._measure_page(request, ledger, viewer, number)

    def _measure_page(self, request: Request, ledger: Ledger, viewer: Viewer, number: str,
                      failed: FormState | None = None) -> HTMLResponse:
        when = read_when(request, ledger.today())
        try:
            history = ledger.history(number)
            current = ledger.measure(number)
        except NotFound as error:
            return self.error(request, viewer, 404, str(error), "没有这项制度措施")
        names = campaign_names(ledger)
        row, missing = None, None
        try:
            row = ledger.measure(number, as_of=when.as_of, known_at=when.known_at)
        except NotFound as error:
            missing = str(error)
        fields = []
        if row is not None:
            fields = [(k, MEASURE_FIELD_LABELS.get(k, k), show(k, v, names)) for k, v in row.model_dump().items()]
        forms = self.offered_forms(ledger, viewer, MEASURE_STEPS, current, number, (current.department,),
                                   f"/measures/{quote(number)}", failed)
        return self.render(request, "measure.html", status=422 if failed else 200, viewer=viewer, when=when,
                           number=number, row=row, current=current, missing=missing, fields=fields,
                           timeline=self._timeline(history, when, names), forms=forms, nav="lists",
                           errors=when.errors, **self._evidence(ledger, viewer, "Measure", number, row, current,
                                                                 current.department))

    async def post_measure_step(self, request: Request, number: str, slug: str) -> Response:
        if slug == "attach":
            return await page_upload(self, request, number, "measures")
        base = f"/measures/{quote(number)}"
        return await self.post_step(request, MEASURE_STEPS, number, slug, self._measure_page, base, f"{base}#timeline")

    # -- 重点任务 -----------------------------------------------------------------------------

    def tasks(self, request: Request) -> HTMLResponse:
        viewer = who(request)
        with self.lend(request) as ledger:
            return self._tasks_page(request, ledger, viewer)

    def _tasks_page(self, request: Request, ledger: Ledger, viewer: Viewer, task_id: str | None = None,
                    failed: FormState | None = None) -> HTMLResponse:
        when = read_when(request, ledger.today())
        names = campaign_names(ledger)
        campaign = request.query_params.get("campaign", "").strip() or None
        if campaign not in (None, *names):
            campaign = None
        only_overdue = bool(request.query_params.get("overdue"))
        rows = ledger.tasks(as_of=when.as_of, known_at=when.known_at, campaign=campaign)
        counts = Counter(t.status for t in rows)
        overdue = [t for t in rows if t.overdue]
        shown = overdue if only_overdue else rows
        groups: dict[str, list[Any]] = {}
        for t in shown:
            groups.setdefault(t.campaign, []).append(t)
        selected = task_id or request.query_params.get("task")
        forms: list[FormState] = []
        task = next((t for t in rows if t.id == selected), None)
        if selected and task is None:
            task = next((t for t in ledger.tasks() if t.id == selected), None)
        if task is not None:
            forms = self.offered_forms(ledger, viewer, TASK_STEPS, task, task.id,
                                       (*task.lead_departments, *task.departments), f"/tasks/{quote(task.id)}", failed)
        may_report = {t.id for t in shown if t.status != "done" and viewer.may(
            "Task", "report_progress", number=t.id, record=t, departments=(*t.lead_departments, *t.departments))}
        return self.render(request, "tasks.html", status=422 if failed else 200, viewer=viewer, when=when,
                           names=names, groups=groups, counts=counts, overdue=overdue, total=len(rows),
                           campaign=campaign, only_overdue=only_overdue, task=task, forms=forms,
                           may_report=may_report, errors=when.errors, nav="tasks")

    async def post_task_step(self, request: Request, task_id: str, slug: str) -> Response:
        return await self.post_step(request, TASK_STEPS, task_id, slug, self._tasks_page, f"/tasks/{quote(task_id)}",
                                    f"/tasks?task={quote(task_id)}#task-{quote(task_id)}")

    # -- 整治目标 -----------------------------------------------------------------------------

    def targets(self, request: Request) -> HTMLResponse:
        viewer = who(request)
        with self.lend(request) as ledger:
            when = read_when(request, ledger.today())
            names = campaign_names(ledger)
            rows = ledger.targets(as_of=when.as_of, known_at=when.known_at)
            problems = [str(p) for p in ledger.evaluation_errors]
        groups: dict[str, list[Any]] = {}
        for t in rows:
            groups.setdefault(t.campaign, []).append(t)
        charts = {cid: [(t, bullet(t.value, t.goal, t.comparator, t.state)) for t in ts]
                  for cid, ts in groups.items()}
        counts = {cid: Counter(t.state for t in ts) for cid, ts in groups.items()}
        states = {cid: state_bar(c) for cid, c in counts.items()}
        order = [cid for cid in names if cid in groups]
        return self.render(request, "targets.html", viewer=viewer, when=when, names=names, order=order,
                           charts=charts, states=states, counts=counts, problems=problems, errors=when.errors, nav="targets",
                           state_counts=Counter(t.state for t in rows), total=len(rows))

    # -- 报送与回头看 -------------------------------------------------------------------------

    def reports(self, request: Request) -> HTMLResponse:
        viewer = who(request)
        with self.lend(request) as ledger:
            names = campaign_names(ledger)
            rows = sorted(ledger.reports(), key=lambda r: (r.period, r.campaign is None, r.campaign or "",
                                                           r.submission), reverse=True)
        periods: dict[str, list[Any]] = {}
        for r in rows:
            periods.setdefault(r.period, []).append(r)
        return self.render(request, "reports.html", viewer=viewer, names=names, periods=periods,
                           total=len(rows), nav="reports")

    def report(self, request: Request, period: str) -> HTMLResponse:
        viewer = who(request)
        q = request.query_params
        campaign = q.get("campaign", "").strip() or None
        try:
            submission = int(q["submission"]) if q.get("submission") else None
        except ValueError:
            return self.error(request, viewer, 400, f"第几次报送：应为数字，收到“{q['submission']}”")
        with self.lend(request) as ledger:
            names = campaign_names(ledger)
            try:
                diff = ledger.report_diff(period, campaign=campaign, submission=submission)
            except QingdanError as error:
                return self.error(request, viewer, 404, str(error), "没有这次报送")
            siblings = [r for r in ledger.reports(period=period) if r.campaign == campaign]
        groups = {change: [d for d in diff.differences if d.change == change]
                  for change in ("added", "changed", "removed")}
        return self.render(request, "report.html", viewer=viewer, names=names, diff=diff, report=diff.report,
                           groups=groups, siblings=siblings, campaign=campaign, nav="reports",
                           field_label=lambda list_, name: (HAZARD_FIELD_LABELS if list_ == "hazards"
                                                            else MEASURE_FIELD_LABELS).get(name, name),
                           event_details=lambda e: event_details(e, names),
                           correction=lambda e: correction(e, names))

    # -- 登录 ---------------------------------------------------------------------------------

    def login(self, request: Request) -> HTMLResponse:
        viewer = who(request)
        return self.render(request, "login.html", viewer=viewer, error=None, next=_local(request.query_params.get("next")),
                           has_tokens=bool(viewer.policy and viewer.policy.has_tokens), nav="login")

    async def post_login(self, request: Request) -> Response:
        values = await self.form(request)
        viewer = who(request)
        target = _local(values.get("next"))
        if foreign_post(request):
            return self.error(request, viewer, 403, "拒绝来自其他网站的提交（Origin/Referer 与本站不符）", "不能提交")
        if not viewer.tokens:
            return self.redirect(target)
        token = (values.get("token") or "").strip()
        actor = request.app.state.identity.authoriser.actor_for_token(token) if token else None
        if actor is None:
            message = "令牌：必须填写" if not token else "令牌：无效，权限配置中没有与之对应的操作人"
            return self.render(request, "login.html", status=401, viewer=viewer, error=message, next=target,
                               has_tokens=bool(viewer.policy and viewer.policy.has_tokens), nav="login")
        response = self.redirect(target, f"已登录：{actor}")
        response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="lax", path="/",
                            secure=request.url.scheme == "https", max_age=3600 * 12)
        return response

    async def post_logout(self, request: Request) -> Response:
        if foreign_post(request):
            return self.error(request, who(request), 403, "拒绝来自其他网站的提交", "不能提交")
        response = self.redirect("/", "已退出登录")
        response.delete_cookie(TOKEN_COOKIE, path="/")
        response.delete_cookie(ACTOR_COOKIE, path="/")
        return response


def _local(target: str | None) -> str:
    """A page of this site to go back to (never another site's address)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def five_parts(row: HazardRow | None, history: list[HistoryEntry], when: When) -> list[dict[str, Any]]:
    """Each part of the 五到位 as of the page's dates: in place or not, its value, and the events
    (业务日期, 登记时间, actor) that put it in place or changed it."""
    known = as_known_at(when.known_at)
    parts = []
    for part in FIVE_PARTS:
        names = PART_FIELDS[part]
        value = None
        if row is not None:
            values = [getattr(row, n) for n in names if getattr(row, n) not in (None, "")]
            value = " / ".join(show(n, getattr(row, n)) for n in names if getattr(row, n) not in (None, "")) \
                if values else None
            if part == "funds" and value is not None:
                value += " 万元"
        steps = []
        for e in history:
            if e.on > when.as_of or (known is not None and e.recorded_at > known):
                continue
            touched = (e.type == "RectificationPlanned" and any(e.data.get(n) is not None for n in names)) \
                or (e.type == "Corrected" and e.data.get("field") in names) \
                or (part == "deadline" and e.type == "ExtensionDecided" and e.data.get("approved"))
            if touched:
                steps.append({"on": e.on, "recorded_at": e.recorded_at, "actor": e.actor, "title": event_title(e)})
        steps.sort(key=lambda s: (s["on"], s["recorded_at"]))
        in_place = row is not None and part not in row.missing_parts
        parts.append({"part": part, "label": FIVE_PART_LABELS[part], "in_place": in_place, "value": value,
                      "since": steps[0] if steps and in_place else None, "steps": steps})
    return parts
