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

A host system with its own identity plugs in any object with an ``authorise(request)`` method (see
:class:`AccessRequest`), e.g. a subclass of :class:`Policy` that looks roles up in its user directory:
``qingdan.open_ledger(url, policy=MyPolicy())``. Without a policy everyone may do everything (a
single-clerk township); every event still records its actor.
"""

from __future__ import annotations

import hashlib
import hmac
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

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
}
COMMAND_LABELS = {
    "report": "登记", "plan": "制定整改方案", "escalate": "挂牌督办", "request_extension": "申请延期",
    "decide_extension": "审批延期", "report_progress": "报告进展", "complete": "登记完成",
    "verify": "验收", "close": "销号", "reopen": "反销号", "recheck": "回头看复查", "correct": "更正", "withdraw": "撤销",
    "attach": "添加附件",
    "add": "制定", "issue": "印发", "implement": "落实", "revise": "修订", "repeal": "废止",
    "register": "登记", "set_attributes": "变更属性", "record": "填报", "submit": "报送",
    "resubmit": "重新报送",
}


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

    @property
    def label(self) -> str:
        what = f"{KIND_LABELS.get(self.kind.lower(), self.kind)}{' ' + self.number if self.number else ''}"
        return f"{COMMAND_LABELS.get(self.command, self.command)}{what}"


class Authoriser(Protocol):
    def authorise(self, request: AccessRequest) -> None:
        """Return if allowed; raise :class:`PermissionDenied` with the reason if not."""


class Grant(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Role
    department: str | None = None
    #: sha256 (hex) of the bearer token this actor signs in with over HTTP (``qingdan token create``)
    token_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


class Policy:
    """Roles by actor name, with the rules of this module."""

    def __init__(self, grants: dict[str, Grant]) -> None:
        for actor, grant in grants.items():
            if grant.role == "department" and not grant.department:
                raise InvalidCommand(f"权限配置：部门角色“{actor}”须写明 department（部门名称）")
        self.grants = grants

    @classmethod
    def from_file(cls, path: str | Path) -> Policy:
        """Read a TOML policy file (``[actors."name"] role = "…" department = "…"``)."""
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
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
                                     "token_sha256 为 64 位十六进制）") from None
        return cls(grants)

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
        if grant.role == "department" and scoped and grant.department not in request.departments:
            owner = "、".join(request.departments) or "（尚未指定责任单位）"
            raise PermissionDenied(
                f"{request.actor}（{grant.department}）不能{request.label}：该记录由 {owner} 负责")
        if request.kind == "Hazard" and request.command == "verify" and request.record is not None:
            rectifier = getattr(request.record, "completed_by", None)
            if rectifier == request.actor:
                raise PermissionDenied(
                    f"{request.actor} 登记了 {request.number} 的整改完成，不能再验收自己的整改（验收人须另行指定）")


class OpenPolicy:
    """No roles configured: everyone may do everything (the actor is still recorded)."""

    def authorise(self, request: AccessRequest) -> None:
        return None


def load_policy(policy: Authoriser | str | Path | None) -> Authoriser:
    if policy is None:
        return OpenPolicy()
    if isinstance(policy, str | Path):
        return Policy.from_file(policy)
    return policy
