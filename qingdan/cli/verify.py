"""``qingdan verify``: is the ledger sound? Hash chain, submitted reports, view vs event log.

Incremental by default (after the first check on this machine): it says which it was.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from qingdan.cli.common import Format, Output, open_ledger
from qingdan.cli.output import OutputFormat, columns, emit, message, records_sheet

if TYPE_CHECKING:
    from qingdan.core.audit import VerifyReport

KIND_LABELS = {
    "tampered": "事件被改动", "missing": "事件被删除", "inserted": "事件被插入",
    "unchained": "事件未入链", "rewritten": "历史被改写", "report": "报送记录不符", "view": "视图不一致",
    "attachment": "附件不符",
}


def _when(text: str | None) -> str:
    if not text:
        return "?"
    try:
        from qingdan.core.clock import CST

        return datetime.fromisoformat(text).astimezone(CST).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return text


def _summary(r: VerifyReport) -> str:
    """What was checked, saying whether incrementally (from which event) or completely."""
    both = "（两个进程分担）" if r.processes > 1 else ""
    if r.full:
        return (f"完整核验{both}：已核验 {r.events_checked} 个事件、{r.reports_checked} 次报送、"
                f"视图 {r.view_rows_checked} 行（{r.records_checked} 条记录的全部日期与登记时间）、"
                f"附件 {r.attachments_hashed} 个；哈希链头 {r.chain_head}")
    return (f"增量核验：自第 {(r.since or 0) + 1} 个事件起（第 {r.since} 个事件及以前已于 {_when(r.verified_before)} "
            f"核验；完整核验请加 --full）\n"
            f"全部 {r.events_checked} 个事件重新计算了哈希链，新解码 {r.events_decoded} 个；"
            f"视图 {r.view_rows_checked} 行全部读取{both}，{r.records_folded} 条记录重放比对，其余 "
            f"{r.records_checked - r.records_folded} 条与上次核验记下的摘要比对；新报送 {r.reports_checked} 次；"
            f"新增附件 {r.attachments_hashed} 个已核验哈希（其余 {r.attachments_checked - r.attachments_hashed} 个核对存在与大小）；"
            f"哈希链头 {r.chain_head}")


def verify(
    ctx: typer.Context,
    fmt: Format = OutputFormat.table,
    output: Output = None,
    limit: Annotated[int, typer.Option("--limit", help="表格中最多列出几个问题 — list at most N problems on screen")] = 50,
    full: Annotated[bool, typer.Option(
        "--full", help="完整核验：从头重放全部事件、比对全部视图与附件，不依赖本机记下的核验状态 — "
                       "check everything from scratch")] = False,
    forget: Annotated[bool, typer.Option(
        "--forget", help="先忘记本机记下的这本台账的核验状态（台账确实被替换时），再完整核验 — "
                         "drop what this machine remembers of the ledger, then a full check")] = False,
    state_dir: Annotated[Path | None, typer.Option(
        "--state-dir", envvar="QINGDAN_STATE_DIR", show_envvar=True, metavar="DIR",
        help="本机记下核验状态的目录（在台账数据库之外；默认 ~/.local/state/qingdan）— "
             "where verified state is remembered")] = None,
) -> None:
    """核验台账：哈希链、报送记录、视图与事件日志 — verify the hash chain, every submitted report and the view.

    Incremental after the first check on this machine: what a sound check verified is remembered
    outside the database, and the next one hashes the whole chain, reads the whole view and folds
    only the records changed since (--full: everything from scratch). Exit 0 when everything checks
    out, 1 when anything is wrong (each problem is named: position, record number, what broke).
    """
    with open_ledger(ctx) as ledger:
        result = ledger.verify_integrity(full=full, forget=forget, state_dir=state_dir)
    problems = [
        {"kind": p.kind, "label": KIND_LABELS.get(p.kind, p.kind), "position": p.position,
         "number": p.number, "message": p.message}
        for p in result.problems
    ]
    data = {"ok": result.ok, "events_checked": result.events_checked, "chain_head": result.chain_head,
            "reports_checked": result.reports_checked,
            "dates_checked": [d.isoformat() for d in result.dates_checked],
            "records_checked": result.records_checked, "view_rows_checked": result.view_rows_checked,
            "mode": "full" if result.full else "incremental", "since": result.since,
            "verified_before": result.verified_before, "events_decoded": result.events_decoded,
            "records_folded": result.records_folded, "attachments_hashed": result.attachments_hashed,
            "notes": list(result.notes), "state_file": result.state_file, "processes": result.processes,
            "problems": problems}
    for note in result.notes:
        message(note, style="yellow")
    message(_summary(result))
    if fmt is OutputFormat.json or output is not None or problems:
        shown = problems if fmt is not OutputFormat.table else problems[:limit]
        sheet = records_sheet("problems", "核验发现的问题", columns(
            "label:问题:12", "position:事件序号:10", "number:编号:20", "message:说明:80"), shown)
        emit(fmt, output, [sheet], data)
    if result.ok:
        message("✓ 台账完整：哈希链、报送记录与视图均一致", style="green")
    else:
        message(f"✗ 发现 {len(problems)} 处问题", style="red")
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("verify")(verify)
