"""What every command shares: the global options, opening the ledger, option types for dates."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

import qingdan
from qingdan.cli.output import OutputFormat
from qingdan.io.dates import FORMATS_HELP, parse_date, parse_datetime

DEFAULT_DB = "qingdan.db"


@dataclass
class Settings:
    """The root options (``--db``, ``--actor``), kept on the typer context."""

    db: str | None = None
    actor: str | None = None
    township: str = "南阳镇"


def settings(ctx: typer.Context) -> Settings:
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        root.obj = Settings()
    return root.obj


@contextmanager
def open_ledger(ctx: typer.Context, **kwargs: Any) -> Iterator[qingdan.Ledger]:
    """The ledger of ``--db`` (or $QINGDAN_DB, or ./qingdan.db), closed afterwards."""
    s = settings(ctx)
    url = s.db or os.environ.get("QINGDAN_DB") or DEFAULT_DB
    with qingdan.open_ledger(url, actor=s.actor, **kwargs) as ledger:
        yield ledger


def clerk_date(value: Any) -> date | None:
    """Option parser: a date as clerks type it; a usage error (exit 2) otherwise."""
    if value is None or isinstance(value, date):
        return value
    try:
        return parse_date(value)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


def clerk_datetime(value: Any) -> date | datetime | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return parse_datetime(value)
    except ValueError as error:
        raise typer.BadParameter(f"{error}；时间可写作 2020-12-25T18:00 或 2020-12-25") from None


DATE_HELP = f"可写作 {FORMATS_HELP}"

AsOf = Annotated[date | None, typer.Option(
    "--as-of", parser=clerk_date, metavar="DATE",
    help=f"截至日期，默认今天 — the world as of the end of this day ({DATE_HELP})")]
KnownAt = Annotated[datetime | None, typer.Option(
    "--known-at", parser=clerk_datetime, metavar="DATETIME",
    help="只看此时已登记的内容（回头看）— only what had been recorded by then (a date = end of that day)")]
On = Annotated[date | None, typer.Option(
    "--on", parser=clerk_date, metavar="DATE",
    help=f"业务日期，默认今天 — effective date ({DATE_HELP})")]
Note = Annotated[str | None, typer.Option("--note", help="备注 — a note kept with the event")]
Campaign = Annotated[str | None, typer.Option(
    "--campaign", "-c", help="专项 id（见 qingdan campaigns）— campaign id, e.g. fire")]
Format = Annotated[OutputFormat, typer.Option(
    "--format", "-f", case_sensitive=False,
    help="输出格式 — output format: table (表格) | json | csv | xlsx | md")]
Output = Annotated[Path | None, typer.Option(
    "--output", "-o", help="写入文件而不是屏幕 — write to FILE instead of stdout (required for xlsx)")]
Number = Annotated[str, typer.Argument(help="编号，如 H-fire-2020-0007 — the record's number", metavar="NUMBER")]


def done(number: str, message: str) -> None:
    """A command's result: the number on stdout (for scripts), the sentence on stderr (for people)."""
    typer.echo(number)
    typer.echo(message, err=True)
