"""``qingdan export``: the raw event log as JSON lines (streamed), or the 两个清单 as a 台账 (xlsx or
csv) or a printable form (pdf); and the options every form-writing command shares (``--layout``,
``--profile``)."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from qingdan.cli.common import AsOf, Campaign, KnownAt, open_ledger, settings
from qingdan.cli.output import message
from qingdan.cli.views import names
from qingdan.core.clock import today
from qingdan.io.atomic import atomic_write, check_output_path
from qingdan.io.bundle import write_bundle, write_jsonl
from qingdan.io.profile import PROFILE_ENV, Profile, load_profile
from qingdan.io.safe import safe_file_name
from qingdan.io.writer import DEFAULT_LAYOUT, two_lists_sheets, write_csv, write_workbook


class ExportFormat(StrEnum):
    jsonl = "jsonl"
    zip = "zip"
    xlsx = "xlsx"
    csv = "csv"
    pdf = "pdf"


class Layout(StrEnum):
    """台账: the register (one header row, every field); 报送表: the form handed in."""

    register = "台账"
    form = "报送表"


LayoutOption = Annotated[Layout, typer.Option(
    "--layout", help="xlsx 版式：台账（每个字段一列，可再导入）| 报送表（填报单位、分组表头、签名栏，也可再导入）"
                     " — the register or the form handed in")]
PdfLayoutOption = Annotated[Layout, typer.Option(
    "--layout", help="版式：报送表（默认）| 台账 — the form handed in, or the register")]
ProfileOption = Annotated[Path | None, typer.Option(
    "--profile", envvar=PROFILE_ENV, metavar="FILE",
    help="乡镇信息（TOML：name、unit 填报单位、reviewer 审核人、preparer 填表人、phone 联系电话）"
         " — the township profile printed on the forms")]
DEFAULT_CLI_LAYOUT = Layout(DEFAULT_LAYOUT)


def profile_of(ctx: typer.Context, path: Path | None, ledger: Any = None) -> tuple[Profile, bool]:
    """The township profile a form prints, and whether there is one beyond a name.

    From ``--profile FILE`` (or $QINGDAN_PROFILE) when given, else the ledger's own (``qingdan
    profile set``; read from ``ledger``, or from the ledger opened again), else just ``--township``'s
    name. An explicit ``--township`` names the township whatever the file or the ledger says."""
    from typer._click.core import ParameterSource

    township = settings(ctx).township
    explicit = ctx.find_root().get_parameter_source("township") not in (None, ParameterSource.DEFAULT)
    stored = None
    if path is None and not os.environ.get(PROFILE_ENV):
        if ledger is None:
            with open_ledger(ctx) as opened:
                stored = opened.profile()
        else:
            stored = ledger.profile()
    known = path is not None or stored is not None or bool(os.environ.get(PROFILE_ENV))
    profile = load_profile(path, township=township if explicit or not known else None, stored=stored)
    return profile, known


def export(
    ctx: typer.Context,
    fmt: Annotated[ExportFormat, typer.Option(
        "--format", "-f", case_sensitive=False,
        help="jsonl：原始事件日志（每行一个事件）；zip：台账包（事件日志、全部附件及其 SHA-256 清单，可用"
             " import 恢复）；xlsx/csv：两个清单台账；pdf：打印用报送表 — jsonl event log, zip bundle, or the lists")
    ] = ExportFormat.jsonl,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="写入文件 — write to FILE")] = None,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    campaign: Campaign = None,
    layout: Annotated[Layout | None, typer.Option(
        "--layout", help="版式：台账（xlsx 默认）| 报送表（pdf 默认）— the register or the form handed in")] = None,
    profile_file: ProfileOption = None,
) -> None:
    """导出：事件日志、台账包、两个清单台账或报送表 — export the event log (jsonl), a bundle with the
    attachments (zip) or the 两个清单 (xlsx/csv/pdf).

    Files are written whole or not at all (a temporary file beside, then renamed onto, the target).
    """
    if fmt in (ExportFormat.xlsx, ExportFormat.pdf) and output is None:
        name = safe_file_name(f"{settings(ctx).township}两个清单_{(as_of or today()).isoformat()}")
        output = Path(f"{name}.{fmt.value}")
    if fmt is ExportFormat.zip and output is None:
        output = Path(safe_file_name(f"{settings(ctx).township}台账包_{today().isoformat()}") + ".zip")
    if output is not None:
        check_output_path(output)  # before reading anything: a bad path is the clerk's to fix first
    with open_ledger(ctx) as ledger:
        if fmt is ExportFormat.zip:
            assert output is not None
            summary = write_bundle(ledger, output)
            message(f"已导出台账包 {output}：{summary.events} 个事件、{summary.attachments} 个附件；"
                    f"哈希链头 {summary.chain_head}")
            return
        if fmt is ExportFormat.jsonl:
            if output is None:
                count = write_jsonl(ledger, sys.stdout)
            else:
                with atomic_write(output, "w", encoding="utf-8") as stream:
                    count = write_jsonl(ledger, stream)
            message(f"已导出 {count} 个事件" + (f"到 {output}" if output else ""))
            return
        lists = ledger.two_lists(as_of=as_of, known_at=known_at, campaign=campaign)
        campaign_names = names(ledger)
        profile, known = profile_of(ctx, profile_file, ledger)
    chosen = layout or (Layout.form if fmt is ExportFormat.pdf else DEFAULT_CLI_LAYOUT)
    sheets = two_lists_sheets(lists, campaign_names, profile.name,
                              known_at=lists.known_at if known_at is not None else None,
                              profile=profile if chosen is Layout.form or known else None,
                              layout=chosen.value)
    if output is None:  # csv on stdout (xlsx always has a file, chosen above)
        write_csv(sys.stdout, sheets[0], title=True)
    elif fmt is ExportFormat.xlsx:
        write_workbook(output, sheets)
    elif fmt is ExportFormat.pdf:
        from qingdan.io.pdf import write_pdf

        write_pdf(output, sheets)
    else:
        with atomic_write(output, "w", encoding="utf-8-sig", newline="") as stream:
            write_csv(stream, sheets[0], title=True)
    message(f"已导出问题隐患 {len(lists.hazards)} 条、制度措施 {len(lists.measures)} 项"
            + (f"到 {output}" if output else "") + ("（csv 只含问题隐患清单）" if fmt is ExportFormat.csv else ""))


def register(app: typer.Typer) -> None:
    app.command("export")(export)
