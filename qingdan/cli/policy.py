"""``qingdan policy``: the ledger's own policy (权限配置) — who may do what, and which operating-system
account acts as whom. Stored in the ledger as events: it has a history, ``verify`` covers it, and once
set it governs every write whatever ``$QINGDAN_POLICY`` says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from qingdan.cli.common import Note, open_ledger
from qingdan.core import policy as rules
from qingdan.core.policy import ROLE_LABELS, Policy

app = typer.Typer(no_args_is_help=True)


@app.command("set")
def set_policy(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(metavar="FILE", help="权限配置文件（TOML）— the policy file")],
    note: Note = None,
) -> None:
    r"""设定或修改台账的权限配置（安委办管理员）— set or change the ledger's policy (admin).

    文件格式见 docs/cli.md：每个操作人一段 \[actors."姓名"]，写明 role（admin/department/inspector/viewer）、
    部门的 department、可在本机以其身份操作的操作系统账户 os_users = ["账户名"]，以及 HTTP 令牌的 token_sha256。
    台账尚无权限配置时，任何能写入台账的人都可设定第一份，但其中须有一个管理员的 os_users 包含当前账户；
    此后只有管理员能修改，且不能把自己改得不再是管理员。
    """
    policy = Policy.from_file(path)
    with open_ledger(ctx, write=True) as ledger:
        first = ledger.access_policy() is None
        version = ledger.set_policy(policy, note=note)
    typer.echo(str(version))
    typer.echo(f"{'已启用' if first else '已修改'}台账的权限配置（第 {version} 版）：{len(policy.grants)} 个操作人，"
               f"其中管理员 {'、'.join(policy.admins())}。此后每次写入都按它核对身份与权限。", err=True)


@app.command("show")
def show(
    ctx: typer.Context,
    history: Annotated[bool, typer.Option("--history", help="同时列出每次修改 — also list every change")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出 — output JSON")] = False,
) -> None:
    """显示台账中现行的权限配置（TOML，可改后再 policy set）— show the ledger's policy."""
    account = rules.os_account()
    with open_ledger(ctx) as ledger:
        policy = ledger.access_policy()
        changes = ledger.policy_history() if history or as_json else []
    if policy is None:
        typer.echo("本台账尚未设定权限配置：任何人都可以任何操作人的名义写入（用 qingdan policy set FILE 设定）", err=True)
        if as_json:
            typer.echo(json.dumps({"policy": None, "history": []}, ensure_ascii=False))
        return
    mine = policy.actors_of(account)
    if as_json:
        typer.echo(json.dumps({
            "policy": policy.data(), "os_account": list(account), "acts_as": mine,
            "history": [{"version": e.version, "type": e.type, "recorded_at": e.recorded_at.isoformat(),
                         "actor": e.actor, "note": e.note} for e in changes]}, ensure_ascii=False, indent=2))
        return
    typer.echo(policy.to_toml(), nl=False)
    who = "、".join(f"{a}（{ROLE_LABELS[policy.grants[a].role]}）" for a in mine) or "（无：只能查询）"
    typer.echo(f"当前操作系统账户“{account[0] if account else '未知'}”对应的操作人：{who}", err=True)
    for e in changes:
        word = "启用" if e.type == "PolicyAdopted" else "修改"
        typer.echo(f"第 {e.version} 版：{e.recorded_at:%Y-%m-%d %H:%M} {e.actor} {word}"
                   + (f"（{e.note}）" if e.note else ""), err=True)
