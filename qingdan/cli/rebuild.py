"""``qingdan rebuild``: drop the materialised view and replay it from the event log."""

from __future__ import annotations

import typer

from qingdan.cli.common import open_ledger
from qingdan.cli.output import message
from qingdan.cli.progress import progress_bar


def rebuild(ctx: typer.Context) -> None:
    """重建视图（从事件日志重放）— rebuild the view from the event log."""
    with open_ledger(ctx) as ledger, progress_bar("重建视图") as update:
        count = ledger.rebuild(progress=update)
    message(f"已重放 {count} 个事件，视图已重建")


def register(app: typer.Typer) -> None:
    app.command("rebuild")(rebuild)
