"""Sanity with a way through: what is legal but probably a slip (:mod:`qingdan.core.slips`) is
refused unless ``--force``; with ``--force`` the command says the same as a warning and records the
entry. Nothing is written when it refuses.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from qingdan.cli.output import message
from qingdan.core import slips
from qingdan.core.errors import InvalidCommand

Force = Annotated[bool, typer.Option(
    "--force", help="确认无误，仍然登记（日期不在专项期间内、疑似重复时）— record it anyway")]


def _verdict(problems: list[str], force: bool) -> None:
    if not problems:
        return
    text = "；".join(problems)
    if not force:
        raise InvalidCommand(f"{text}。未登记；如确属实，请加 --force 再登记")
    message(f"提醒：{text}（已按 --force 登记）")


def check_hazard(ledger: Any, *, campaign: str, unit: str, description: str, found_on: date | None,
                 force: bool) -> None:
    _verdict(slips.hazard_slips(ledger, campaign=campaign, unit=unit, description=description,
                                found_on=found_on), force)


def check_unit(ledger: Any, *, name: str, village: str | None, force: bool) -> None:
    _verdict(slips.unit_slips(ledger, name=name, village=village), force)


def check_measure(ledger: Any, *, campaign: str, title: str, force: bool) -> None:
    _verdict(slips.measure_slips(ledger, campaign=campaign, title=title), force)
