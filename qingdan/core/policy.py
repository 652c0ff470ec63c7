"""Who may do what: roles bound to actors, checked before any command writes.

Four roles: ``admin`` (安委办, everything), ``department`` (部门: only on hazards assigned to it — its
name is the hazard's 整改责任单位 — and on its own measures and tasks), ``inspector`` (检查人员: report,
verify, correct, keep units), ``viewer`` (查看: nothing that writes). Whoever verifies a rectification
must not be whoever recorded its completion.

A township binds actors to roles with a policy file (TOML)::

    [actors."镇安委办 王明"]
    role = "admin"

    [actors."市场监管分局 李四"]
    role = "department"
    department = "镇市场监管分局"

        os_users = ["lisi"]          # the operating-system accounts that act as this actor

The policy normally lives **in the ledger** (``qingdan policy set FILE``, an admin's command, stored
as events of the record ``policy:ledger``): once a ledger has one, every write obeys it whatever the
environment says, and :class:`Access` takes the actor of a command-line write from the
operating-system account (``os_users``), so ``--actor`` may only name an actor that account maps
to. A host system that establishes identity itself passes an object with an ``authorise(request)``
method (see :class:`AccessRequest`) as ``open_ledger(url, authoriser=…)``: the actors it names are
trusted, it is asked too, and the ledger's own policy still applies. A ledger without a policy of its
own obeys ``open_ledger(policy=FILE)`` / ``$QINGDAN_POLICY`` as before, or lets everyone do everything
(a single-clerk township); every event still records its actor.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import InvalidCommand, PermissionDenied
from .labels import KIND_LABELS

Role = Literal["admin", "department", "inspector", "viewer"]
ROLE_LABELS = {"admin": "安委办管理员", "department": "部门", "inspector": "检查人员", "viewer": "查看人员"}

# (record kind, command) -> roles allowed; "department" is always limited to the department's own records.
RULES: dict[tuple[str, str], frozenset[str]] = {
    ("Hazard", "report"): frozenset({"admin", "inspector", "department"}),
    ("Hazard", "plan"): frozenset({"admin", "inspector", "department"}),
    ("Hazard", "escalate"): frozenset({"admin"}),
    ("Hazard", "request_extension"): frozenset({"admin", "department"}),
    ("Hazard", "decide_extension"): frozenset({"admin"}),
    ("Hazard", "report_progress"): frozenset({"admin", "inspector", "department"}),
    ("Hazard", "complete"): frozenset({"admin", "department"}),
    ("Hazard", "verify"): frozenset({"admin", "inspector"}),
    ("Hazard", "close"): frozenset({"admin"}),
    ("Hazard", "reopen"): frozenset({"admin", "inspector"}),
    ("Hazard", "recheck"): frozenset({"admin", "inspector"}),
    ("Hazard", "correct"): frozenset({"admin", "inspector", "department"}),
    ("Hazard", "withdraw"): frozenset({"admin"}),
    ("Hazard", "attach"): frozenset({"admin", "inspector", "department"}),
    ("Measure", "add"): frozenset({"admin", "department"}),
    ("Measure", "issue"): frozenset({"admin", "department"}),
    ("Measure", "implement"): frozenset({"admin", "department"}),
    ("Measure", "revise"): frozenset({"admin", "department"}),
    ("Measure", "repeal"): frozenset({"admin", "department"}),
    ("Measure", "attach"): frozenset({"admin", "department"}),
    ("Task", "report_progress"): frozenset({"admin", "department"}),
    ("Task", "complete"): frozenset({"admin", "department"}),
    ("Unit", "register"): frozenset({"admin", "inspector"}),
    ("Unit", "set_attributes"): frozenset({"admin", "inspector"}),
    ("Unit", "close"): frozenset({"admin", "inspector"}),
    ("Indicator", "record"): frozenset({"admin", "department"}),
    ("Report", "submit"): frozenset({"admin"}),
    ("Report", "resubmit"): frozenset({"admin"}),
    ("AccessPolicy", "set"): frozenset({"admin"}),
    ("Ledger", "rebuild"): frozenset({"admin"}),
    ("Ledger", "repair"): frozenset({"admin"}),
}
COMMAND_LABELS = {
    "report": "登记", "plan": "制定整改方案", "escalate": "挂牌督办", "request_extension": "申请延期",
    "decide_extension": "审批延期", "report_progress": "报告进展", "complete": "登记完成",
    "verify": "验收", "close": "销号", "reopen": "反销号", "recheck": "回头看复查", "correct": "更正", "withdraw": "撤销",
    "attach": "添加附件",
    "add": "制定", "issue": "印发", "implement": "落实", "revise": "修订", "repeal": "废止",
    "register": "登记", "set_attributes": "变更属性", "record": "填报", "submit": "报送",
    "resubmit": "重新报送", "set": "修改", "rebuild": "重建视图", "repair": "修复视图",
}
_KIND_WORDS = {**KIND_LABELS, "accesspolicy": "权限配置", "ledger": ""}


@dataclass(frozen=True)
class AccessRequest:
    """What a policy is asked: may ``actor`` run ``command`` on a ``kind`` record?

    ``record`` is the record's current state (None when creating); ``departments`` are the
    departments the record belongs to (a hazard's 整改责任单位, a measure's 责任部门, a task's
    lead and co-operating departments; for a creation, the ones named in it).
    """

    actor: str
    kind: str
    command: str
    number: str | None = None
    record: Any = None
    departments: tuple[str, ...] = field(default_factory=tuple)
    #: the command's own arguments (e.g. a verification's ``inspector``, a plan's ``responsible_unit``)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        what = f"{_KIND_WORDS.get(self.kind.lower(), self.kind)}{' ' + self.number if self.number else ''}"
        return f"{COMMAND_LABELS.get(self.command, self.command)}{what}"


class Authoriser(Protocol):
    def authorise(self, request: AccessRequest) -> None:
        """Return if allowed; raise :class:`PermissionDenied` with the reason if not."""


class Grant(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    role: Role
    department: str | None = None
    #: sha256 (hex) of the bearer token this actor signs in with over HTTP (``qingdan token create``)
    token_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    #: the operating-system accounts (login names, or numeric uids) that act as this actor on the
    #: command line of a ledger whose policy is stored in it
    os_users: tuple[Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")], ...] = ()


MAX_POLICY = 1_000_000  # bytes of TOML; a township's is a few kilobytes
_ACTOR_NAME = re.compile(r"^[^\x00-\x1f\x7f-\x9f]{1,100}$")


class Policy:
    """Roles by actor name, with the rules of this module."""

    def __init__(self, grants: dict[str, Grant]) -> None:
        for actor, grant in grants.items():
            if not _ACTOR_NAME.match(actor) or actor != actor.strip():
                raise InvalidCommand(f"权限配置：操作人名称“{actor[:100]!r}”无效（1 到 100 个字符，不含控制字符，"
                                     "首尾不能有空格）")
            if grant.role == "department" and not grant.department:
                raise InvalidCommand(f"权限配置：部门角色“{actor}”须写明 department（部门名称）")
        self.grants = grants

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Policy:
        """Read a TOML policy file (``[actors."name"] role = "…" department = "…"``)."""
        try:
            with Path(path).open("rb") as stream:
                raw = stream.read(MAX_POLICY + 1)
            if len(raw) > MAX_POLICY:
                raise InvalidCommand(f"权限配置 {path} 超过 {MAX_POLICY // 1000} KB，不像权限配置文件")
            text = raw.decode("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise InvalidCommand(f"无法读取权限配置 {path}：{error}") from None
        return cls.from_text(text, str(path))

    @classmethod
    def from_text(cls, text: str, source: str = "") -> Policy:
        """The policy a TOML text states (``source`` names it in messages)."""
        path = source or "（文本）"
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise InvalidCommand(f"无法读取权限配置 {path}：{error}") from None
        actors = data.get("actors")
        if not isinstance(actors, dict):
            raise InvalidCommand(f"权限配置 {path} 中没有 [actors.\"姓名\"] 段落")
        grants = {}
        for actor, entry in actors.items():
            try:
                grants[actor] = Grant.model_validate(entry)
            except ValidationError as error:
                problems = "；".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
                raise InvalidCommand(f"权限配置 {path} 中“{actor}”有误：{problems}"
                                     "（role 应为 admin、department、inspector、viewer 之一；"
                                     "token_sha256 为 64 位十六进制；os_users 为操作系统账户名的列表）") from None
        return cls(grants)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Policy:
        """The policy stored in a ledger's event (:meth:`data`)."""
        return cls({actor: Grant.model_validate(entry) for actor, entry in data.items()})

    def data(self) -> dict[str, Any]:
        """The grants as plain data, as a ledger's event stores them."""
        return {actor: {k: (list(v) if isinstance(v, tuple) else v)
                        for k, v in grant.model_dump(exclude_defaults=True).items()}
                for actor, grant in self.grants.items()}

    def to_toml(self) -> str:
        """The policy as a TOML file that :meth:`from_text` reads back."""
        import json

        lines = []
        for actor, grant in self.grants.items():
            lines.append(f"[actors.{json.dumps(actor, ensure_ascii=False)}]")
            for key, value in grant.model_dump(exclude_defaults=True).items():
                shown = json.dumps(list(value) if isinstance(value, tuple) else value, ensure_ascii=False)
                lines.append(f"{key} = {shown}")
            lines.append("")
        return "\n".join(lines)

    def admins(self) -> list[str]:
        return [actor for actor, grant in self.grants.items() if grant.role == "admin"]

    def actors_of(self, account: tuple[str, ...]) -> list[str]:
        """The actors an operating-system account (its names, see :func:`os_account`) acts as."""
        return [actor for actor, grant in self.grants.items() if set(grant.os_users) & set(account)]

    def actor_for_token(self, token: str) -> str | None:
        """The actor whose ``token_sha256`` is this token's sha256 (None when none is)."""
        digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
        found = None
        for actor, grant in self.grants.items():  # compare every entry, in constant time each
            if grant.token_sha256 is not None and hmac.compare_digest(grant.token_sha256, digest):
                found = actor
        return found

    @property
    def has_tokens(self) -> bool:
        return any(g.token_sha256 for g in self.grants.values())

    def authorise(self, request: AccessRequest) -> None:
        grant = self.grants.get(request.actor)
        if grant is None:
            raise PermissionDenied(f"操作人“{request.actor}”未在权限配置中登记，不能{request.label}")
        allowed = RULES.get((request.kind, request.command), frozenset({"admin"}))
        role = ROLE_LABELS[grant.role]
        if grant.role not in allowed:
            who = "、".join(ROLE_LABELS[r] for r in ("admin", "department", "inspector") if r in allowed)
            raise PermissionDenied(f"{request.actor}（{role}）不能{request.label}：只有{who}可以")
        scoped = request.kind in ("Hazard", "Measure", "Task") and (request.kind, request.command) != (
            "Hazard", "report")  # any department may report a hazard it finds
        if grant.role == "department" and scoped and grant.department not in request.departments \
                and not self._plans_own_report(grant, request):
            owner = "、".join(request.departments) or "（尚未指定责任单位）"
            raise PermissionDenied(
                f"{request.actor}（{grant.department}）不能{request.label}：该记录由 {owner} 负责")
        if request.kind == "Hazard" and request.command == "verify" and request.record is not None:
            check_verifier(request)

    def _plans_own_report(self, grant: Grant, request: AccessRequest) -> bool:
        """A department plans a hazard that one of its own people reported and nobody has been made
        responsible for yet; if the plan names a 整改责任单位, it is the department itself."""
        if (request.kind, request.command) != ("Hazard", "plan") or request.departments:
            return False
        reporter = self.grants.get(getattr(request.record, "reported_by", None) or "")
        named = request.details.get("responsible_unit")
        return (reporter is not None and reporter.role == "department"
                and reporter.department == grant.department and named in (None, grant.department))


def people(text: str | None) -> set[str]:
    """The names a person text stands for: ``安委办 王明`` is also ``王明``; ``王明、李四`` is both."""
    names: set[str] = set()
    for part in re.split(r"[、,，;；/]+", text or ""):
        part = part.strip()
        if part:
            names.update({part, part.split()[-1]})
    return names


def check_verifier(request: AccessRequest) -> None:
    """Whoever the verification names as 验收人 must not be whoever recorded the completion (its
    actor): compared by the names recorded on the two events, not by who types the command."""
    rectifier = getattr(request.record, "completed_by", None)
    inspector = request.details.get("inspector")
    if rectifier is None or inspector is None:
        return
    same = people(str(inspector)) & people(rectifier)
    if same:
        raise PermissionDenied(
            f"验收人“{'、'.join(sorted(same))}”登记了 {request.number} 的整改完成（{rectifier}），"
            "不能再验收自己的整改（验收人须另行指定）")


class Authenticated:
    """``open_ledger(url, authoriser=Authenticated())``: the host (e.g. the HTTP service, which checks
    bearer tokens) has authenticated the actor it names; only the policy decides what they may do."""

    def authorise(self, request: AccessRequest) -> None:
        return None


class OpenPolicy:
    """No roles configured: everyone may do everything (the actor is still recorded)."""

    def authorise(self, request: AccessRequest) -> None:
        return None


def load_policy(policy: Authoriser | str | os.PathLike[str] | None) -> Authoriser:
    if policy is None:
        return OpenPolicy()
    if isinstance(policy, str | os.PathLike):
        return Policy.from_file(policy)
    return policy


def os_account() -> tuple[str, ...]:
    """The operating-system account running this process: its login name (and, on POSIX, its uid).

    Taken from the process's own user id (``pwd``) or, on Windows, ``GetUserNameW`` — not from
    environment variables such as ``USER`` or ``LOGNAME``, which anyone can set.
    """
    getuid = getattr(os, "geteuid", None)
    if getuid is not None:
        uid = getuid()
        try:
            import pwd

            return (pwd.getpwuid(uid).pw_name, str(uid))
        except (ImportError, KeyError):
            return (str(uid),)
    try:
        return (os.getlogin(),)
    except OSError:
        return ()


#: ``load()`` → the policy stored in the ledger now, or None (called before every write).
PolicyLoader = Callable[[], "Policy | None"]


class Access:
    """Who is acting and whether they may: the ledger's own policy first, whatever the environment.

    - The ledger has a policy (``load()`` returns it): every request obeys it. Without a host
      ``authoriser`` the actor of a write must be one that this process's operating-system account
      maps to (``os_users``); named by nobody, it is the one actor the account maps to. With one,
      the host has established identity: the actor it names is taken as given, and it is asked too.
    - The ledger has none: the ``fallback`` (a policy file, ``$QINGDAN_POLICY``) and the host
      authoriser decide, if given, else everyone may do everything; the actor is whoever is named.
    """

    def __init__(self, load: PolicyLoader, *, fallback: Authoriser | None = None,
                 host: Authoriser | None = None, actor: str | None = None, default_actor: str = "unknown",
                 account: Callable[[], tuple[str, ...]] | None = None) -> None:
        self.load = load
        self.fallback = fallback
        self.host = host
        self.explicit_actor = actor
        self.default_actor = default_actor
        self.account = account or (lambda: os_account())  # looked up when asked (tests replace it)

    def stored(self) -> Policy | None:
        return self.load()

    def governing(self) -> Authoriser | None:
        """The policy deciding roles now: the ledger's, else the fallback (None: open)."""
        stored = self.stored()
        return stored if stored is not None else self.fallback

    def actor(self, requested: str | None = None, *, policy: Policy | None = None) -> str:
        """The actor of a write asking to act as ``requested`` (or as the ledger's ``actor``);
        :class:`PermissionDenied` if this account may not act as it. ``policy``: check against this
        one instead of the stored one (setting the first policy)."""
        stored = policy if policy is not None else self.stored()
        wanted = requested or self.explicit_actor
        if stored is None or self.host is not None:
            return wanted or self.default_actor
        account = self.account()
        mine = stored.actors_of(account)
        name = account[0] if account else "（未知）"
        if wanted is None:
            if len(mine) == 1:
                return mine[0]
            if not mine:
                raise PermissionDenied(
                    f"本台账已启用权限配置，操作系统账户“{name}”未对应任何操作人：请安委办管理员在权限配置中"
                    "该操作人的 os_users 里登记这个账户（qingdan policy set）")
            raise PermissionDenied(f"操作系统账户“{name}”对应多个操作人（{'、'.join(mine)}），请用 --actor 指明其中之一")
        if wanted not in mine:
            shown = "、".join(mine) or "（无）"
            raise PermissionDenied(
                f"操作系统账户“{name}”不能以“{wanted}”的名义操作：权限配置中该账户对应的操作人为 {shown}")
        return wanted

    def authorise(self, request: AccessRequest) -> None:
        governing = self.governing()
        if governing is not None:
            governing.authorise(request)
        if self.host is not None:
            self.host.authorise(request)

    def check_new_policy(self, new: Policy, setter: str) -> None:
        """A policy must name an admin, and keep the one setting it an admin (mapped to this account
        on the command line): nobody locks the ledger against themselves."""
        if not new.admins():
            raise InvalidCommand("权限配置中至少要有一个安委办管理员（role = \"admin\"）")
        grant = new.grants.get(setter)
        if grant is None or grant.role != "admin":
            raise InvalidCommand(f"新的权限配置须保留设定它的“{setter}”为管理员（role = \"admin\"），以免无人能再修改权限")
        if self.host is None:
            account = self.account()
            if not set(grant.os_users) & set(account):
                name = account[0] if account else "（未知）"
                raise InvalidCommand(f"新的权限配置中管理员“{setter}”的 os_users 须包含当前操作系统账户“{name}”，"
                                     "否则设定后无人能以管理员身份操作")
