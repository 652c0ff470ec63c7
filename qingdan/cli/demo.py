"""``qingdan demo``: build a small 南阳镇 ledger and show what it holds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from qingdan.demo import build_demo


def demo(
    db: Annotated[Path, typer.Option("--db", help="演示台账文件 (SQLite); 已存在则重建 — rebuilt if it exists")] = Path("demo.db"),
) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    err = Console(stderr=True)
    out = Console()
    ledger, number = build_demo(str(db), progress=lambda text: err.print(f"[dim]{text}[/dim]"))
    with ledger:
        row = ledger.hazard(number)
        out.print(f"[bold]{row.number}[/bold] {row.unit} · {row.description} · 状态：{row.status_label}")
        table = Table(title=f"{number} 的全部记录（业务日期 / 登记时间 / 操作人）")
        for column in ("#", "事件", "业务日期", "登记时间", "操作人", "内容"):
            table.add_column(column)
        for entry in ledger.history(number):
            data = "；".join(f"{k}={v}" for k, v in entry.data.items() if v not in (None, [], ""))
            table.add_row(str(entry.version), entry.type, entry.on.isoformat(),
                          entry.recorded_at.strftime("%Y-%m-%d %H:%M"), entry.actor or "", data)
        out.print(table)
