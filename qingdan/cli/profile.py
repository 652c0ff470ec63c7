"""``qingdan profile …``: the township profile every form prints (乡镇信息), kept in the ledger.

``profile set FILE`` records it from a TOML file (the format of :mod:`qingdan.io.profile`), or from
options; ``profile show`` prints it as of a date. Under a policy only an admin may set it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from qingdan.cli.common import AsOf, Format, KnownAt, Note, On, Output, done, open_ledger
from qingdan.cli.output import OutputFormat, columns, emit, message, records_sheet

app = typer.Typer(no_args_is_help=True)

PROFILE_COLUMNS = columns("field:项目:10", "value:内容:50")


def _option(flag: str, label: str, english: str) -> Any:
    return typer.Option(flag, help=f"{label}（覆盖文件中的设置）— {english}")


@app.command("set")
def set_profile(
    ctx: typer.Context,
    file: Annotated[Path | None, typer.Argument(
        help="乡镇信息文件（TOML：name、unit、reviewer、preparer、phone、departments）— the profile file",
        metavar="FILE")] = None,
    name: Annotated[str | None, _option("--name", "乡镇名称", "the township's name")] = None,
    unit: Annotated[str | None, _option("--unit", "填报单位", "the filing unit")] = None,
    reviewer: Annotated[str | None, _option("--reviewer", "审核人", "who reviews the forms")] = None,
    preparer: Annotated[str | None, _option("--preparer", "填表人", "who fills them in")] = None,
    phone: Annotated[str | None, _option("--phone", "联系电话", "the phone number")] = None,
    department: Annotated[list[str] | None, typer.Option(
        "--department", help="部门，可多次给出（给出则替换文件中的部门）— a department (repeatable)")] = None,
    on: On = None,
    note: Note = None,
) -> None:
    """设定乡镇信息（报表标题、填报单位、审核人、填表人、联系电话、部门）— set the township profile.

    再次设定时替换整份乡镇信息；没有给出的项目沿用台账中现有的设置。
    """
    from qingdan.io.profile import read_profile_file

    given: dict[str, Any] = read_profile_file(file) if file is not None else {}
    options = {"name": name, "unit": unit, "reviewer": reviewer, "preparer": preparer, "phone": phone}
    given.update({k: v for k, v in options.items() if v is not None})
    if department is not None:
        given["departments"] = tuple(department)
    if not given:
        raise typer.BadParameter("请给出乡镇信息文件，或用 --name、--unit 等选项写明要设定的项目",
                                 param_hint="FILE")
    with open_ledger(ctx, write=True) as ledger:
        current = ledger.profile()
        kept = current.model_dump(exclude={"set_on", "actor"}) if current is not None else {}
        fields = {**kept, **given}
        if "name" not in fields:
            raise typer.BadParameter("首次设定须写明乡镇名称（文件中的 name，或 --name）", param_hint="--name")
        ledger.set_profile(**fields, on=on, note=note)
        profile = ledger.profile()
    assert profile is not None
    done("township", f"已{'修改' if current is not None else '设定'}乡镇信息：{profile.name}（填报单位 {profile.filing_unit}）")


@app.command("show")
def show(ctx: typer.Context, as_of: AsOf = None, known_at: KnownAt = None,
         fmt: Format = OutputFormat.table, output: Output = None) -> None:
    """查看乡镇信息 — the township profile (as of a date)."""
    from qingdan.core.labels import TOWNSHIP_FIELD_LABELS

    with open_ledger(ctx) as ledger:
        profile = ledger.profile(as_of=as_of, known_at=known_at)
    if profile is None:
        message("台账中还没有乡镇信息：用 qingdan profile set 文件.toml（或 --name 南阳镇 …）设定，"
                "报表的标题和签名栏会用到它")
        raise typer.Exit(1)
    values = {**profile.model_dump(), "unit": profile.filing_unit}
    items = [{"field": label, "value": "、".join(values[key]) if key == "departments" else values[key]}
             for key, label in TOWNSHIP_FIELD_LABELS.items()]
    items.append({"field": "设定日期", "value": f"{profile.set_on}（{profile.actor or ''}）"})
    emit(fmt, output, [records_sheet("profile", "乡镇信息", PROFILE_COLUMNS, items)], profile.model_dump(mode="json"))
