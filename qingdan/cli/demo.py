"""``qingdan demo``: build the 南阳镇 demo ledger (2020-07..2022-12) and show what it holds."""

from __future__ import annotations

import time
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

import qingdan
from qingdan.cli.output import message
from qingdan.cli.views import names
from qingdan.core.rows import HAZARD_STATUS_LABELS

if TYPE_CHECKING:  # the demo and rich's tables load when the demo runs, not with every command
    from rich.console import Console

    from qingdan.demo import DemoTarget
    from qingdan.io.writer import Sheet

SHOW_DATES = (date(2020, 12, 25), date(2021, 12, 25), date(2022, 12, 31))
LOOK_BACK = "2020-12"


class Scale(StrEnum):
    full = "full"
    small = "small"


def demo(
    db: Annotated[str, typer.Option(
        "--db", metavar="PATH",
        help="演示台账文件（SQLite）或 postgresql://…；只会重建以前建立的演示台账，其他已有文件一概不动"
             " — only a previous demo ledger is ever replaced")] = "demo.db",
    seed: Annotated[int, typer.Option("--seed", help="随机种子：相同种子得到相同台账 — same seed, same ledger")] = 2020,
    scale: Annotated[Scale, typer.Option("--scale", help="full（约1400条隐患）或 small（约十分之一）— size")] = Scale.full,
    show: Annotated[bool, typer.Option("--show/--no-show", help="建好后展示 — show the ledger afterwards")] = True,
) -> None:
    """建立南阳镇演示台账（2020-07至2022-12）并展示 — build a realistic demo ledger and show it.

    已存在的文件若不是演示台账（正式台账、其他数据库、其他文件），演示拒绝运行，不作任何改动。
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from qingdan.demo import build_demo, inspect_target

    before = inspect_target(db)  # refuses (exit 1, nothing touched) anything but a previous demo
    err = Console(stderr=True)
    started = time.monotonic()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True) as bar:
        task = bar.add_task("登记演示台账", total=None)

        def update(done: int, total: int, month: str) -> None:
            bar.update(task, completed=done, total=total, description=f"登记演示台账 {month}")

        result = build_demo(db, seed=seed, scale=scale.value, progress=update)
    message(f"已建立 {db}：{result.units} 个监管对象、{result.hazards} 条问题隐患、{result.measures} 项制度措施、"
            f"{result.events} 次登记、报送 {len(result.reports)} 期两个清单，用时 {time.monotonic() - started:.1f} 秒")
    for problem in result.rejected[:10]:
        message(f"演示数据被拒绝：{problem}", style="yellow")
    if show:
        workbook = _workbook_path(db, before)
        show_demo(db, Console(), workbook=workbook)
        if workbook is None:
            message(f"未写入 {_default_workbook(db)}：该文件已存在且不是以前的演示留下的，未覆盖")


def _default_workbook(db: str) -> Path:
    if _is_url(db):
        return Path("demo.xlsx")
    return Path(db.removeprefix("sqlite:///").removeprefix("sqlite://")).with_suffix(".xlsx")


def _is_url(db: str) -> bool:
    return db.startswith(("postgresql://", "postgres://"))


def _workbook_path(db: str, before: DemoTarget) -> Path | None:
    """The demo's workbook beside the ledger; None when a file is there that a demo did not leave."""
    workbook = _default_workbook(db)
    if workbook.exists() and before.state != "demo":
        return None
    return workbook


def show_demo(url: str, out: Console, workbook: Path | None = None) -> None:
    """Print the two lists as of a few dates, stats, targets, findings, a 回头看 diff; write the xlsx.

    Tables go through the commands' own renderer (:func:`qingdan.cli.output.emit`): the same
    labels, ids never broken, widths by content and by the terminal."""
    from qingdan.cli.lists import TARGET_COLUMNS, target_records
    from qingdan.cli.output import OutputFormat, columns, emit, records_sheet
    from qingdan.cli.report import DIFF_COLUMNS, diff_records
    from qingdan.io.writer import two_lists_sheets, write_workbook

    def table(sheet: Sheet, keys: tuple[str, ...] | None = None, summary: str | None = None) -> None:
        out.file.flush()
        emit(OutputFormat.table, None, [sheet], None, brief={sheet.name: keys} if keys else None,
             summary={sheet.name: summary} if summary else None)

    with qingdan.open_ledger(url) as ledger:
        campaign_names = names(ledger)
        for day in SHOW_DATES:
            lists = ledger.two_lists(as_of=day)
            counts: dict[str, int] = {}
            for h in lists.hazards:
                counts[h.status] = counts.get(h.status, 0) + 1
            summary = "、".join(f"{HAZARD_STATUS_LABELS[k]} {v}" for k, v in sorted(counts.items()))
            out.rule(f"两个清单（截至 {day}）")
            out.print(f"问题隐患 {len(lists.hazards)} 条（{summary}；逾期 {sum(h.overdue for h in lists.hazards)}）；"
                      f"制度措施 {len(lists.measures)} 项", markup=False)
            still_open = tuple(h for h in lists.hazards if h.status != "closed")
            page = lists.model_copy(update={"hazards": still_open[:8]})
            sheet = two_lists_sheets(page, campaign_names)[0]
            sheet.title = "未销号隐患"
            table(sheet, DEMO_BRIEF, f"显示 {len(page.hazards)} 条，共 {len(still_open)} 条未销号")
        last = SHOW_DATES[-1]
        s = ledger.stats(as_of=last)
        out.rule(f"统计（截至 {last}）")
        rate = f"{s.rectification_rate:.1%}" if s.rectification_rate is not None else "—"
        out.print(f"排查发现 {s.hazards_found} 条，撤销 {s.hazards_withdrawn} 条，已销号 {s.hazards_closed} 条，"
                  f"整改率 {rate}；重大隐患未销号 {s.major_open} 条，逾期未整改 {s.overdue} 条", markup=False)
        out.rule(f"整治目标（截至 {last}）")
        every = ledger.targets(as_of=last)
        records = target_records([t for t in every if t.state != "met"])
        for record in records:
            record["campaign"] = campaign_names.get(record["campaign"], record["campaign"])
        table(records_sheet("targets", None, TARGET_COLUMNS, records),
              ("campaign", "title", "value", "goal", "unit", "state"),
              f"显示未达标的 {len(records)} 项，共 {len(every)} 项（qingdan targets 看全部）")
        out.rule(f"检查发现（截至 {last}）")
        findings = ledger.findings(as_of=last)
        by_check: dict[str, int] = {}
        for f in findings:
            by_check[f.check] = by_check.get(f.check, 0) + 1
        checks = ledger.catalogue.checks
        table(records_sheet("checks", None, columns("check:检查规则:40", "count:发现:6"),
                            [{"check": checks[k].title if k in checks else k, "count": n}
                             for k, n in sorted(by_check.items(), key=lambda kv: -kv[1])]),
              summary=f"{len(by_check)} 条规则共发现 {len(findings)} 个问题（qingdan check 看明细）")
        for f in [f for f in findings if f.check.startswith("general.monthly")][:5]:
            out.print(f"  【{f.severity}】{f.message}", markup=False)
        out.rule(f"回头看：{LOOK_BACK} 报送的两个清单")
        diff = ledger.report_diff(LOOK_BACK)
        r = diff.report
        out.print(f"{LOOK_BACK} 于 {r.submitted_on} 报送（截至 {r.as_of}，{r.hazard_count} 条隐患）；"
                  f"重算与报送摘要{'一致' if diff.digest_matches else '不一致'}；此后对当日情况的更改 {len(diff.differences)} 处",
                  markup=False)
        records = diff_records(diff)
        table(records_sheet("diff", None, DIFF_COLUMNS, records[:10]),
              ("number", "change", "field", "before", "after", "events"),
              f"显示 {min(10, len(records))} 行，共 {len(records)} 行（qingdan report diff --period {LOOK_BACK} 看全部）")
        if workbook is not None:
            final = ledger.two_lists(as_of=last)
            write_workbook(workbook, two_lists_sheets(final, campaign_names, profile=ledger.profile(as_of=last)))
            message(f"两个清单（截至 {last}）已写入 {workbook}")


#: The hazard columns the demo shows (fewer than ``lists``: the dates tell the story).
DEMO_BRIEF = ("number", "unit", "village", "description", "level", "deadline", "status", "overdue")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
