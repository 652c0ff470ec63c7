"""Likely slips: what the ledger would take but a clerk seldom means — a hazard found outside its
campaign's period, a hazard, unit or measure that looks like one already registered.

The command line refuses them unless ``--force`` (:mod:`qingdan.cli.sanity`), the web form asks for a
confirmation; both ask here, so there is one copy of each rule. Each function returns the reasons,
in Chinese, or an empty list. Names are compared with :func:`~qingdan.core.text.name_key`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from .text import name_key


def hazard_slips(ledger: Any, *, campaign: str, unit: str, description: str, found_on: date | None) -> list[str]:
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
    return problems


def unit_slips(ledger: Any, *, name: str, village: str | None) -> list[str]:
    key = name_key(name)
    same = [u for u in ledger.units() if name_key(u.name) == key
            and (village is None or u.village is None or name_key(u.village) == name_key(village))]
    return [f"疑似重复登记：{same[0].number}（{same[0].name}）已登记"] if same else []


def measure_slips(ledger: Any, *, campaign: str, title: str) -> list[str]:
    key = name_key(title)
    for row in ledger.two_lists(campaign=campaign).measures:
        if name_key(row.title) == key:
            return [f"疑似重复登记：{row.number}（{row.title}）已是该专项的制度措施"]
    return []
