"""Sanity with a way through: what is legal but probably a slip is refused unless ``--force``.

A hazard found before its campaign began or after it ended, a hazard that looks like one already
registered (same campaign, unit and description, after :func:`~qingdan.core.text.name_key`),
a unit or a measure registered twice: the ledger would take them, a clerk seldom means them. The
command says why and how to go on (``--force``); with ``--force`` it says the same as a warning and
records the entry. Nothing is written when it refuses.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from qingdan.cli.output import message
from qingdan.core.errors import InvalidCommand
from qingdan.core.text import name_key

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
    spec = ledger.catalogue.campaign(campaign)
    day = found_on or ledger.today()
    problems = []
    if not spec.start <= day <= spec.end:
        problems.append(f"排查日期 {day} 不在专项“{spec.name}”的期间（{spec.start} 至 {spec.end}）内")
    unit_key, text_key = name_key(unit), name_key(description)
    for row in ledger.two_lists(campaign=spec.id).hazards:
        if name_key(row.unit) == unit_key and name_key(row.description) == text_key:
            problems.append(f"疑似重复登记：{row.number}（{row.unit}，{row.found_on} 排查）已是同一单位的同一隐患")
            break
    _verdict(problems, force)


def check_unit(ledger: Any, *, name: str, village: str | None, force: bool) -> None:
    key = name_key(name)
    same = [u for u in ledger.units() if name_key(u.name) == key
            and (village is None or u.village is None or name_key(u.village) == name_key(village))]
    if same:
        _verdict([f"疑似重复登记：{same[0].number}（{same[0].name}）已登记"], force)


def check_measure(ledger: Any, *, campaign: str, title: str, force: bool) -> None:
    key = name_key(title)
    for row in ledger.two_lists(campaign=campaign).measures:
        if name_key(row.title) == key:
            _verdict([f"疑似重复登记：{row.number}（{row.title}）已是该专项的制度措施"], force)
            return
