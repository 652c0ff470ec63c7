"""The ``qingdan`` command line: one typer app, one module per noun.

Errors: a :class:`~qingdan.QingdanError` (a rejected command) becomes one line ``错误：…`` on stderr
and exit 1; any other failure one line and exit 1; usage errors exit 2 (typer). Tracebacks only with
``QINGDAN_DEBUG=1``.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from qingdan.core.errors import QingdanError

from . import (
    catalogue,
    demo,
    export,
    hazard,
    importer,
    indicator,
    lists,
    measure,
    rebuild,
    remind,
    report,
    serve,
    task,
    token,
    unit,
    verify,
)
from .common import Settings


def _debug() -> bool:
    return os.environ.get("QINGDAN_DEBUG") == "1"


class QingdanGroup(TyperGroup):
    """The root group: turns errors into one clerk-readable line and an exit status."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException, KeyboardInterrupt):
            raise
        except QingdanError as error:
            if _debug():
                raise
            typer.echo(f"错误：{error}", err=True)
            raise typer.Exit(1) from None
        except Exception as error:
            if _debug():
                raise
            typer.echo(f"内部错误：{type(error).__name__}: {error}（设置 QINGDAN_DEBUG=1 查看详情）", err=True)
            raise typer.Exit(1) from None


app = typer.Typer(
    name="qingdan",
    cls=QingdanGroup,
    help="两个清单台账：问题隐患清单与制度措施清单 — the ledger of the 安全生产专项整治 campaigns.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)


@app.callback()
def _root(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option(
        "--db", envvar="QINGDAN_DB", show_envvar=True,
        help="台账数据库：文件路径或 postgresql://… — ledger database (default ./qingdan.db)")] = None,
    actor: Annotated[str | None, typer.Option(
        "--actor", envvar="QINGDAN_ACTOR", show_envvar=True,
        help="操作人，记入每条记录 — who is acting (recorded with every event)")] = None,
    township: Annotated[str, typer.Option(
        "--township", envvar="QINGDAN_TOWNSHIP",
        help="乡镇名称，用于清单标题 — township name for list titles")] = "南阳镇",
) -> None:
    """两个清单台账 qingdan — 问题隐患清单 + 制度措施清单, as of any date."""
    ctx.obj = Settings(db=db, actor=actor, township=township)


app.add_typer(hazard.app, name="hazard", help="问题隐患：登记、整改、验收、销号 — hazards from report to closure.")
app.add_typer(measure.app, name="measure", help="制度措施：拟制定、印发、落实、废止 — measures.")
app.add_typer(task.app, name="task", help="重点任务：进展与完成 — the campaigns' key tasks.")
app.add_typer(unit.app, name="unit", help="监管对象：企业、场所、船舶、路段 — regulated units.")
app.add_typer(indicator.app, name="indicator", help="指标填报 — reported target values.")
app.add_typer(report.app, name="report", help="两个清单报送与回头看 — monthly submission and look-back.")
app.add_typer(token.app, name="token", help="HTTP API 令牌 — bearer tokens for the HTTP API (qingdan serve).")
lists.register(app)
remind.register(app)
importer.register(app)
export.register(app)
rebuild.register(app)
verify.register(app)
catalogue.register(app)
demo.register(app)
serve.register(app)


def main() -> None:
    """Entry point: known errors become one line on stderr and exit 1; tracebacks only when debugging.

    Usage errors (exit 2) and ``--help`` are handled by typer in standalone mode.
    """
    try:
        app()
    except QingdanError as error:
        if _debug():
            raise
        typer.echo(f"错误：{error}", err=True)
        sys.exit(1)
    except Exception as error:
        if _debug():
            raise
        typer.echo(f"内部错误：{type(error).__name__}: {error}（设置 QINGDAN_DEBUG=1 查看详情）", err=True)
        sys.exit(1)
