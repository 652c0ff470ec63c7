"""``qingdan token create``: a bearer token for the HTTP API, and the policy line that accepts it.

The token is printed once on stdout and kept nowhere: the policy file holds only its sha256
(``token_sha256``), so whoever reads the policy cannot sign in with it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path
from typing import Annotated

import typer

from qingdan.cli.common import settings

app = typer.Typer(no_args_is_help=True)


@app.command("create")
def create(
    ctx: typer.Context,
    actor: Annotated[str | None, typer.Option(
        "--actor", help="令牌属于哪个操作人（须与权限配置中的名字完全一致）— the policy actor the token signs in as")] = None,
    policy: Annotated[Path | None, typer.Option(
        "--policy", envvar="QINGDAN_POLICY", show_envvar=True, metavar="FILE",
        help="核对该操作人已在此权限配置中登记 — check the actor is in this policy file")] = None,
) -> None:
    r"""生成 HTTP API 令牌：令牌只显示这一次，权限配置中只保存它的 sha256 — create a bearer token.

    标准输出：令牌本身（交给持有人，任何地方都不保存）。标准错误：应写入权限配置 \[actors."姓名"] 段落的 token_sha256 一行；改好后重启 qingdan serve。
    """
    name = (actor or settings(ctx).actor or "").strip()
    if not name:
        typer.echo("错误：请用 --actor 写明令牌属于哪个操作人（如 --actor \"镇安委办 王明\"）", err=True)
        raise typer.Exit(2)
    existing = None
    if policy is not None:
        from qingdan.core.policy import Policy

        grants = Policy.from_file(policy).grants
        if name not in grants:
            known = "、".join(grants) or "（无）"
            typer.echo(f"错误：权限配置 {policy} 中没有操作人“{name}”，请先在其中加上 [actors.{_toml(name)}] "
                       f"并写明 role；已登记的操作人：{known}", err=True)
            raise typer.Exit(1)
        existing = grants[name]

    token = secrets.token_urlsafe(32)
    digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
    typer.echo(token)
    where = f"权限配置 {policy} " if policy is not None else "权限配置文件（qingdan serve --policy 所用的文件）"
    lines = [
        f"已为“{name}”生成令牌（上面一行）：只显示这一次，不会保存在任何地方，请立即交给本人妥善保管。",
        f"请把下面的 token_sha256 一行写入{where}中该操作人的段落，然后运行 qingdan policy set 该文件"
        "（台账中的权限配置，立即生效）或重启 qingdan serve --policy：",
        "(The token is shown once and stored nowhere. Put this line under the actor in the policy file,",
        " then run qingdan policy set FILE, or restart qingdan serve --policy.)",
        "",
        f"[actors.{_toml(name)}]",
        f'token_sha256 = "{digest}"',
        "",
    ]
    if existing is not None and existing.token_sha256:
        lines.append("注意：该操作人已有 token_sha256，替换后原令牌即失效 — this replaces the actor's old token.")
    lines.append("调用时在请求头中写 — callers send:  Authorization: Bearer <令牌>")
    for line in lines:
        typer.echo(line, err=True)


def _toml(name: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(name, ensure_ascii=False)
