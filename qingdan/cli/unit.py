"""``qingdan unit …``: 监管对象 (enterprises, places, vessels, road sections …) and their attributes."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from qingdan.cli.common import (
    AsOf,
    Format,
    KnownAt,
    Note,
    Number,
    On,
    Output,
    ShownColumns,
    done,
    open_ledger,
)
from qingdan.cli.output import OutputFormat, columns, emit, records_sheet
from qingdan.cli.sanity import Force, check_unit
from qingdan.cli.views import emit_record, plain

app = typer.Typer(no_args_is_help=True)

Attr = Annotated[list[str] | None, typer.Option(
    "--attr", "-a", metavar="名称=值",
    help="属性，如 风险等级=红、微型消防站=是；可多次给出；“名称=”清除 — attribute NAME=VALUE (repeatable)")]
UNIT_COLUMNS = columns("number:编号:8", "name:名称:24", "kind:类型:14", "village:村（居）:8",
                       "credit_code:统一社会信用代码:20", "attributes:属性:50", "registered_on:登记日期",
                       "closed_on:注销日期")


def parse_attributes(items: list[str] | None) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    for item in items or ():
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"属性应写作 名称=值，收到“{item}”", param_hint="--attr")
        attributes[name.strip()] = value.strip() or None
    return attributes


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", "-n", help="名称 — name")],
    kind: Annotated[str, typer.Option("--kind", "-k", help="类型，如 危险化学品生产企业、高层建筑 — kind")],
    village: Annotated[str | None, typer.Option("--village", help="村（居）— village")] = None,
    credit_code: Annotated[str | None, typer.Option("--credit-code", help="统一社会信用代码 — credit code")] = None,
    attr: Attr = None,
    on: On = None,
    note: Note = None,
    force: Force = False,
) -> None:
    """登记监管对象 — register a unit; prints its number (U-00001).

    与已登记的单位同名（同一村）时不登记并说明；确属另一单位的加 --force。
    """
    attributes = {k: v for k, v in parse_attributes(attr).items() if v is not None}
    with open_ledger(ctx, write=True) as ledger:
        check_unit(ledger, name=name, village=village, force=force)
        number = ledger.register_unit(name=name, kind=kind, village=village, credit_code=credit_code,
                                      attributes=attributes or None, on=on, note=note)
    done(number, f"已登记监管对象 {number}（{name}）")


@app.command("set")
def set_attributes(ctx: typer.Context, number: Number, attr: Attr = None, on: On = None,
                   note: Note = None) -> None:
    """变更属性（自某日起）— change attributes as of a date."""
    attributes = parse_attributes(attr)
    if not attributes:
        raise typer.BadParameter("至少给出一个 --attr 名称=值", param_hint="--attr")
    with open_ledger(ctx, write=True) as ledger:
        ledger.set_unit_attributes(number, attributes=attributes, on=on, note=note)
    done(number, f"已变更 {number} 的属性")


@app.command("close")
def close(
    ctx: typer.Context,
    number: Number,
    reason: Annotated[str, typer.Option("--reason", help="注销理由（关停、搬迁）— reason")],
    on: On = None,
    note: Note = None,
) -> None:
    """注销监管对象 — close a unit."""
    with open_ledger(ctx, write=True) as ledger:
        ledger.close_unit(number, reason=reason, on=on, note=note)
    done(number, f"{number} 已注销")


@app.command("list")
def list_units(
    ctx: typer.Context,
    kind: Annotated[str | None, typer.Option("--kind", "-k", help="只看此类型 — only this kind")] = None,
    attr: Attr = None,
    include_closed: Annotated[bool, typer.Option("--include-closed", help="含已注销 — include closed units")] = False,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    shown: ShownColumns = None,
    fmt: Format = OutputFormat.table,
    output: Output = None,
) -> None:
    """监管对象清单 — the units with their attributes as of a date."""
    with open_ledger(ctx) as ledger:
        # the ledger coerces each value to the attribute's type (a bad one: 错误：…, exit 1)
        rows = ledger.units(as_of=as_of, known_at=known_at, kind=kind, include_closed=include_closed,
                            **parse_attributes(attr))
        total = len(ledger.units(as_of=as_of, known_at=known_at, include_closed=include_closed))
    records = [r.model_dump() | {"attributes": plain(r.attributes)} for r in rows]  # 重大危险源：是
    emit(fmt, output, [records_sheet("units", f"监管对象（截至 {as_of or '今天'}）", UNIT_COLUMNS, records)],
         [r.model_dump(mode="json") for r in rows], shown=shown,
         summary={"units": f"显示 {len(rows)} 个，共 {total} 个"})


@app.command("show")
def show(ctx: typer.Context, number: Number, as_of: AsOf = None, known_at: KnownAt = None,
         fmt: Format = OutputFormat.table, output: Output = None) -> None:
    """查看监管对象 — show a unit as of a date."""
    with open_ledger(ctx) as ledger:
        row = ledger.unit(number, as_of=as_of, known_at=known_at)
    emit_record(fmt, output, f"{number} {row.name}", row)
