"""What every command shares: the global options, opening the ledger, option types for dates."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

import qingdan
from qingdan.cli.output import OutputFormat
from qingdan.core import vocabulary
from qingdan.core.clock import EARLIEST, EARLIEST_KNOWN, LATEST, LATEST_KNOWN
from qingdan.core.errors import NoLedger
from qingdan.core.labels import MEASURE_KINDS
from qingdan.core.text import bad_characters
from qingdan.core.text import show as show_text
from qingdan.io.dates import CST, FORMATS_HELP, parse_date, parse_datetime

DEFAULT_DB = "qingdan.db"


@dataclass
class Settings:
    """The root options (``--db``, ``--actor``), kept on the typer context."""

    db: str | None = None
    actor: str | None = None
    township: str = "南阳镇"
    init: bool = False


def settings(ctx: typer.Context) -> Settings:
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        root.obj = Settings()
    return root.obj


@contextmanager
def open_ledger(ctx: typer.Context, *, write: bool = False, or_empty: bool = False,
                **kwargs: Any) -> Iterator[qingdan.Ledger]:
    """The ledger of ``--db`` (or $QINGDAN_DB, or ./qingdan.db), closed afterwards.

    A read (``write`` false) needs a ledger there and creates nothing; a write creates one only
    where nothing exists yet (a new file, a PostgreSQL schema without tables), or with ``--init``
    also in an empty database. A database holding other tables is refused either way.
    ``or_empty``: a read where there is no ledger gets an empty one in a temporary folder, removed
    afterwards (``import --dry-run`` before the first import).
    """
    s = settings(ctx)
    url = s.db or os.environ.get("QINGDAN_DB") or DEFAULT_DB
    create: Any = True if s.init else ("new" if write else False)
    try:
        ledger = qingdan.open_ledger(url, actor=s.actor, create=create, **kwargs)
    except NoLedger as error:
        if or_empty and not write:
            with tempfile.TemporaryDirectory(prefix="qingdan-") as folder, qingdan.open_ledger(
                    str(Path(folder) / "empty.db"), actor=s.actor, **kwargs) as empty:
                yield empty
            return
        hint = "；新建台账：登记等写入命令会在新路径上建立台账，或加 --init" if not write and not s.init else ""
        raise NoLedger(f"{error}{hint}") from None
    with ledger:
        yield ledger


#: Day words beyond the importer's 今天/昨天 (qingdan.io.dates), counted from today in China.
DAY_WORDS = {"前天": -2, "明天": 1, "明日": 1, "后天": 2}


def clerk_date(value: Any) -> date | None:
    """Option parser: a date as clerks type it (every form the importer reads, and 今天、昨天、前天、
    明天、后天); a usage error (exit 2) otherwise."""
    if value is None or isinstance(value, date):
        return value
    word = str(value).strip()
    if not word:
        raise typer.BadParameter("日期不能为空（不写这个选项即为默认值）")
    if word in DAY_WORDS:
        return datetime.now(CST).date() + timedelta(days=DAY_WORDS[word])
    try:
        day = parse_date(value)
    except ValueError as error:
        raise typer.BadParameter(show_text(str(error), 120)) from None
    if day is not None and not EARLIEST <= day <= LATEST:
        raise typer.BadParameter(f"日期 {day} 不合理（应在 {EARLIEST.year} 年至 {LATEST.year} 年之间）")
    return day


def _word(value: Any, words: Mapping[str, str], what: str) -> str | None:
    """``value`` in the vocabulary ``words`` (synonym → the word the ledger takes), or a usage error."""
    if value is None:
        return None
    text = str(value).strip()
    found = words.get(text) or words.get("".join(text.split()).lower())
    if found is None:
        choices = "、".join(dict.fromkeys(k for k in words if not k.isascii()))
        raise typer.BadParameter(f"无法识别的{what}“{show_text(text)}”，可填：{choices}")
    return found


def clerk_level(value: Any) -> str | None:
    """``--level``: 一般/重大 and the importer's synonyms (重大隐患、一般事故隐患 …)."""
    return _word(value, vocabulary.LEVEL_WORDS, "隐患等级")


def clerk_source(value: Any) -> str | None:
    """``--source``: 自查/检查/督查/督导组移交/举报/其他 and the importer's synonyms (执法检查 …)."""
    return _word(value, vocabulary.SOURCE_WORDS, "隐患来源")


def clerk_escalation_level(value: Any) -> str | None:
    """``escalate --level``: 镇/市/省 or 镇级/市级/省级 (the importer's words)."""
    return _word(value, vocabulary.ESCALATION_WORDS, "督办级别")


def clerk_method(value: Any) -> str | None:
    return _word(value, vocabulary.VERIFY_METHOD_WORDS, "验收方式")


def clerk_measure_kind(value: Any) -> str | None:
    """``--kind`` of a measure: 制度/机制/方案/标准/其他 (也可写 管理制度、工作机制、实施方案 …)."""
    if value is None:
        return None
    text = str(value).strip()
    words = vocabulary.MEASURE_KIND_WORDS
    if text not in words:
        ends = [k for k in MEASURE_KINDS if k != "其他" and text.endswith(k)]
        if len(ends) == 1:
            return ends[0]
    return _word(text, words, "类型")


def clerk_campaign(value: Any) -> str | None:
    """``--campaign``: an id (``fire``) or a name (``消防安全专项整治``, or a part of it: ``消防``)."""
    if value is None:
        return None
    from qingdan.core.plugins import get_catalogue

    text = str(value).strip()
    campaigns = get_catalogue().campaigns
    if text in campaigns:
        return text
    for cid, c in campaigns.items():
        if text == c.name:
            return cid
    found = [cid for cid, c in campaigns.items() if text and (text in c.name or c.name in text)]
    if len(found) == 1:
        return found[0]
    known = "、".join(f"{c.name}（{cid}）" for cid, c in campaigns.items())
    if found:
        raise typer.BadParameter(f"“{show_text(text)}”可指多个专项：" + "、".join(
            f"{campaigns[cid].name}（{cid}）" for cid in found) + "，请写全称或 id")
    raise typer.BadParameter(f"未知的专项“{show_text(text)}”；可用：{known}")


def clerk_datetime(value: Any) -> date | datetime | None:
    """``--known-at``: a moment or a date, between 1990 and 2199 (what a ledger can hold)."""
    if value is None or isinstance(value, date):
        return value
    if not str(value).strip():
        raise typer.BadParameter("时间不能为空（不写这个选项即为全部已登记的内容）")
    try:
        moment = parse_datetime(value)
    except (ValueError, OverflowError) as error:
        raise typer.BadParameter(f"{show_text(str(error), 120)}；时间可写作 2020-12-25T18:00 或 2020-12-25") from None
    if moment is not None and not EARLIEST_KNOWN.year <= moment.year < LATEST_KNOWN.year:
        raise typer.BadParameter(f"时间 {moment.isoformat()} 超出可用范围"
                                 f"（{EARLIEST_KNOWN.year} 年至 {LATEST_KNOWN.year - 1} 年）")
    return moment


#: The longest ``--township``.
TOWNSHIP_MAX = 50


def township_name(value: str) -> str:
    """``--township``: a name (it titles the lists and names the report files); a usage error for
    control or format characters, folder separators or more than :data:`TOWNSHIP_MAX` characters."""
    text = value.strip()
    problem = None
    if not text:
        problem = "不能为空"
    elif len(text) > TOWNSHIP_MAX:
        problem = f"太长（共 {len(text)} 字，最多 {TOWNSHIP_MAX} 字）"
    elif bad_characters(text):
        problem = f"含有不可见的控制字符或格式字符（{'、'.join(bad_characters(text)[:5])}）"
    elif any(ch in text for ch in '/\\:*?"<>|') or ".." in text:
        problem = "不能含有 / \\ : * ? \" < > | 或 ..（它也用作报送文件的文件名）"
    if problem:
        raise typer.BadParameter(f"乡镇名称“{show_text(text)}”{problem}", param_hint="--township")
    return text


DATE_HELP = f"可写作 {FORMATS_HELP}、今天、昨天、前天"

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
    "--campaign", "-c", parser=clerk_campaign, metavar="专项",
    help="专项：id 或名称，如 fire 或 消防（见 qingdan campaigns）— campaign id or name")]
Format = Annotated[OutputFormat, typer.Option(
    "--format", "-f", case_sensitive=False,
    help="输出格式 — output format: table (表格) | json | csv | xlsx | md")]
Output = Annotated[Path | None, typer.Option(
    "--output", "-o", help="写入文件而不是屏幕 — write to FILE instead of stdout (required for xlsx)")]
def clerk_columns(value: Any) -> list[str] | None:
    """``--columns 编号,单位名称,整改期限`` (or 、 ， ; separated): the column keys or headers to show."""
    if value is None:
        return None
    items = value if isinstance(value, list | tuple) else [value]
    return [part for item in items for part in re.split(r"[,，、;；\s]+", str(item)) if part]


ShownColumns = Annotated[str | None, typer.Option(
    "--columns", metavar="列,列…",
    help="只显示这些列（列名或英文名，逗号或顿号分隔；全部 = 所有列）— the columns to show, e.g. 编号,单位名称,整改期限")]
Number = Annotated[str, typer.Argument(help="编号，如 H-fire-2020-0007 — the record's number", metavar="NUMBER")]


def done(number: str, message: str) -> None:
    """A command's result: the number on stdout (for scripts), the sentence on stderr (for people)."""
    from qingdan.cli.output import terminal_text

    typer.echo(terminal_text(number))
    typer.echo(terminal_text(message), err=True)


#: Rows a table shows in a terminal when no ``--limit`` is given (a clerk reads a screenful; the
#: files and pipes get everything).
SCREEN_ROWS = 100


def screen_limit(limit: int | None, fmt: Any) -> int:
    """``--limit`` as given (0: every row), else ``SCREEN_ROWS`` for a table on a terminal."""
    import sys

    if limit is not None:
        return limit
    return SCREEN_ROWS if getattr(fmt, "value", fmt) == "table" and sys.stdout.isatty() else 0
