"""``qingdan indicator record``: a reported value of a 整治目标 (e.g. 执法人员数)."""

from __future__ import annotations

from typing import Annotated

import typer

from qingdan.cli.common import Note, On, done, open_ledger

app = typer.Typer(no_args_is_help=True)


@app.command("record")
def record(
    ctx: typer.Context,
    target_id: Annotated[str, typer.Argument(help="目标编号（见 qingdan targets）— target id", metavar="TARGET_ID")],
    value: Annotated[float, typer.Argument(help="填报值 — the value", metavar="VALUE")],
    on: On = None,
    note: Note = None,
) -> None:
    """填报指标值 — record the value of a target that is reported rather than computed."""
    with open_ledger(ctx, write=True) as ledger:
        ledger.record_indicator(target_id, value=value, on=on, note=note)
    done(target_id, f"已填报 {target_id} = {value:g}")


@app.callback()
def _indicator() -> None:
    """指标填报 — reported target values."""
