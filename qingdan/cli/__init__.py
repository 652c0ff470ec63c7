"""The ``qingdan`` command line: one typer app, one module per noun."""

from __future__ import annotations

import os
import sys

import typer

from qingdan.core.errors import QingdanError

from . import demo as demo_module

app = typer.Typer(
    name="qingdan",
    help="两个清单台账：问题隐患清单与制度措施清单 — ledger of the 安全生产专项整治 campaigns.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("demo", help="建立南阳镇演示台账并展示 — build a demo ledger and show it.")(demo_module.demo)


@app.callback()
def _root() -> None:
    """两个清单台账 qingdan."""


def main() -> None:
    """Entry point: known errors become one line on stderr and exit 1; tracebacks only when debugging.

    Usage errors (exit 2) and ``--help`` are handled by typer in standalone mode.
    """
    try:
        app()
    except QingdanError as error:
        if os.environ.get("QINGDAN_DEBUG") == "1":
            raise
        typer.echo(f"错误：{error}", err=True)
        sys.exit(1)
    except Exception as error:
        if os.environ.get("QINGDAN_DEBUG") == "1":
            raise
        typer.echo(f"内部错误：{type(error).__name__}: {error}（设置 QINGDAN_DEBUG=1 查看详情）", err=True)
        sys.exit(1)
