"""Sanity with a way through: a registration that is legal but probably a slip is refused, saying
why, unless --force; a withdrawal is effective from the 排查日期 by default."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import qingdan
from qingdan.cli import app
from qingdan.core.domain import CST
from tests.conftest import Clock, event_count

runner = CliRunner()


@pytest.fixture
def db(tmp_path) -> str:
    return str(tmp_path / "cli.db")


def qd(db: str, *args: str, code: int = 0):
    result = runner.invoke(app, ["--db", db, "--actor", "安监办", *args])
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def positions(db: str) -> int:
    with qingdan.open_ledger(db) as led:
        return event_count(led)


def hazard(db: str, *extra: str, code: int = 0, unit: str = "南阳饭店", found_on: str = "2020-09-01"):
    return qd(db, "hazard", "report", "-c", "fire", "-u", unit, "-d", "灭火器过期", "--found-on", found_on,
              *extra, code=code)


def test_a_hazard_found_outside_its_campaigns_period_needs_force(db):
    refused = hazard(db, found_on="1999-05-01", code=1)
    assert "排查日期 1999-05-01 不在专项“消防安全专项整治”的期间（2020-07-01 至 2022-12-31）内" in refused.stderr
    assert "未登记" in refused.stderr and "--force" in refused.stderr and refused.stdout == ""
    assert positions(db) == 0
    forced = hazard(db, "--force", found_on="1999-05-01")
    assert forced.stdout.strip() == "H-fire-1999-0001" and "提醒：排查日期 1999-05-01" in forced.stderr


def test_a_likely_duplicate_hazard_needs_force_even_written_differently(db):
    first = hazard(db, unit="KFC南阳店").stdout.strip()
    before = positions(db)
    # full-width letters, other case, a trailing space: the same unit to a clerk
    again = hazard(db, unit="ｋｆｃ南阳店 ", code=1)
    assert f"疑似重复登记：{first}" in again.stderr and positions(db) == before
    assert hazard(db, unit="KFC南阳店（分店）").exit_code == 0  # another unit is no duplicate
    assert hazard(db, "--force", unit="KFC南阳店").stdout.strip().startswith("H-fire-2020-")
    qd(db, "hazard", "withdraw", first, "--reason", "重复登记")
    assert hazard(db, unit="KFC南阳店", found_on="2020-09-02", code=1).exit_code == 1  # the forced copy is still there


def test_a_likely_duplicate_unit_or_measure_needs_force(db):
    qd(db, "unit", "add", "-n", "南阳饭店", "-k", "餐饮场所", "--village", "南阳村", "--on", "2020-09-01")
    refused = qd(db, "unit", "add", "-n", "南阳饭店 ", "-k", "餐饮场所", "--village", "南阳村", code=1)
    assert "疑似重复登记：U-00001（南阳饭店）" in refused.stderr
    assert qd(db, "unit", "add", "-n", "南阳饭店", "-k", "餐饮场所", "--village", "东港村").exit_code == 0
    qd(db, "measure", "add", "-c", "消防", "-t", "消防网格化管理制度", "--department", "镇消防救援站", "--on", "2020-09-01")
    refused = qd(db, "measure", "add", "-c", "fire", "-t", "消防网格化管理制度", "--department", "镇安监局", code=1)
    assert "疑似重复登记：M-fire-2020-0001" in refused.stderr
    assert qd(db, "measure", "add", "-c", "fire", "-t", "消防网格化管理制度", "--department", "镇安监局",
              "--force").exit_code == 0


def test_a_withdrawal_defaults_to_the_found_date_so_as_known_now_it_never_stood(db):
    number = hazard(db).stdout.strip()
    qd(db, "hazard", "plan", number, "--deadline", "2020-09-30", "--on", "2020-09-05")
    with qingdan.open_ledger(db) as led:
        before_withdrawal = led.now()
    qd(db, "hazard", "withdraw", number, "--reason", "误登记：该店已于 8 月停业")
    row = json.loads(qd(db, "hazard", "show", number, "-f", "json").stdout)
    assert row["status"] == "withdrawn" and row["withdrawn_on"] == "2020-09-01"
    for day in ("2020-09-01", "2020-09-10", "2021-01-01"):
        lists = json.loads(qd(db, "lists", "--as-of", day, "-f", "json").stdout)
        assert lists["hazards"] == []  # as known now: never in any day's list
        then = json.loads(qd(db, "lists", "--as-of", day, "--known-at", before_withdrawal.isoformat(),
                             "-f", "json").stdout)
        assert [h["number"] for h in then["hazards"]] == [number]  # as known then: it was


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(found=st.integers(0, 60), steps=st.lists(st.integers(1, 40), max_size=3), probe=st.integers(-5, 120))
def test_property_a_default_withdrawal_removes_the_entry_from_every_list_as_known_now(tmp_path_factory, found,
                                                                                    steps, probe):
    url = str(tmp_path_factory.mktemp("withdraw") / "w.db")
    clock = Clock(datetime(2021, 3, 1, 9, tzinfo=CST))
    start = date(2020, 9, 1)
    found_on = date.fromordinal(start.toordinal() + found)
    with qingdan.open_ledger(url, actor="安监办", clock=clock) as led:
        number = led.report_hazard(campaign="fire", unit="南阳饭店", description="灭火器过期", found_on=found_on)
        day = found_on
        for step in sorted(steps):
            day = date.fromordinal(found_on.toordinal() + step)
            led.report_progress(number, text=f"第{step}天", on=day)
        known_then = led.now()
        led.withdraw(number, reason="误登记")
        as_of = date.fromordinal(found_on.toordinal() + probe)
        assert not led.two_lists(as_of=as_of).hazards
        stood = led.two_lists(as_of=as_of, known_at=known_then).hazards
        assert [h.number for h in stood] == ([number] if as_of >= found_on else [])
        assert led.verify_integrity().ok


def test_lists_with_a_limit_count_what_exists_not_what_is_shown(db):
    for i in range(5):
        hazard(db, "--force", unit=f"第{i}家饭店")
    result = qd(db, "lists", "--as-of", "2020-12-31", "--limit", "2")
    assert "问题隐患 5 条" in result.stderr
    assert "显示 2 条，共 5 条" in result.stdout
    assert "显示 5 条" not in result.stdout and "共 2 条" not in result.stdout
    full = qd(db, "lists", "--as-of", "2020-12-31")
    assert "共 5 条" in full.stdout and "显示" not in full.stdout
    with qingdan.open_ledger(db, actor="安监办") as led:  # counted with the list's own filters
        first = led.two_lists(as_of=date(2020, 12, 31)).hazards[0].number
        led.withdraw(first, reason="误登记")
    assert "显示 2 条，共 4 条" in qd(db, "lists", "--as-of", "2020-12-31", "--limit", "2").stdout
    assert "显示 2 条，共 5 条" in qd(db, "lists", "--as-of", "2020-12-31", "--limit", "2", "--include-withdrawn").stdout
    assert "共" not in qd(db, "lists", "--as-of", "2020-12-31", "--limit", "2", "-c", "hazchem").stdout


def test_hazard_list_finds_a_unit_however_it_is_written(db):
    number = hazard(db, unit="KFC南阳店").stdout.strip()
    for written in ("kfc", "ＫＦＣ南阳", "KFC 南阳店"):
        found = json.loads(qd(db, "hazard", "list", "-u", written, "-f", "json").stdout)
        assert [h["number"] for h in found] == [number], written
    assert json.loads(qd(db, "hazard", "list", "-t", "灭火器", "-f", "json").stdout)[0]["number"] == number
    assert json.loads(qd(db, "hazard", "list", "-u", "肯德基", "-f", "json").stdout) == []
