"""The township profile (乡镇信息) lives in the ledger: events with a history, dated, covered by the
audit, an admin's command under a policy, and what every form prints."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

import qingdan
from qingdan.cli import app
from qingdan.core.domain import CST
from qingdan.core.policy import Grant, Policy
from tests.conftest import Clock, event_count

runner = CliRunner()

PROFILE = """\
name = "东港镇"
unit = "东港镇安全生产委员会办公室"
reviewer = "李强"
preparer = "王明"
phone = "0571-12345678"
departments = ["镇安监局", "镇消防救援站"]
"""


def test_the_profile_is_dated_known_at_a_time_and_in_the_audit(ledger, clock):
    assert ledger.profile() is None
    ledger.set_profile(name="东港镇", reviewer="李强", departments=["镇安监局", " ", "镇安监局"],
                       on=date(2020, 7, 1))
    first = ledger.profile()
    assert (first.name, first.reviewer, first.departments, first.set_on) == \
        ("东港镇", "李强", ("镇安监局",), date(2020, 7, 1))
    assert first.filing_unit == "东港镇安全生产委员会办公室"
    clock.set("2020-09-10 10:00")
    known_then = clock.current
    clock.set("2020-10-10 10:00")
    ledger.set_profile(name="东港镇", reviewer="赵六", on=date(2020, 10, 1), note="审核人调整")
    assert ledger.profile().reviewer == "赵六"
    assert ledger.profile(as_of=date(2020, 9, 30)).reviewer == "李强"  # before the change took effect
    assert ledger.profile(known_at=known_then).reviewer == "李强"  # before it was recorded
    assert ledger.profile(as_of=date(2020, 6, 30)) is None
    assert [e.type for e in ledger.history("township")] == ["Described", "Redescribed"]
    assert ledger.verify_integrity().ok


def test_a_bad_or_unchanged_profile_writes_nothing(ledger):
    with pytest.raises(qingdan.InvalidCommand, match="乡镇名称：不能为空"):
        ledger.set_profile(name=" ")
    with pytest.raises(qingdan.InvalidCommand, match="联系电话：过长"):
        ledger.set_profile(name="东港镇", phone="1" * 51)
    assert event_count(ledger) == 0
    ledger.set_profile(name="东港镇")
    before = event_count(ledger)
    with pytest.raises(qingdan.InvalidCommand, match="没有需要修改"):
        ledger.set_profile(name="东港镇")
    assert event_count(ledger) == before


def test_under_a_policy_only_an_admin_sets_the_profile(tmp_path):
    policy = Policy({"安委办": Grant(role="admin"), "消防站": Grant(role="department", department="镇消防救援站")})
    clock = Clock(datetime(2021, 1, 5, 9, tzinfo=CST))
    with qingdan.open_ledger(str(tmp_path / "p.db"), actor="消防站", clock=clock, policy=policy) as led:
        with pytest.raises(qingdan.PermissionDenied):
            led.set_profile(name="东港镇")
        assert event_count(led) == 0
        led.set_profile(name="东港镇", actor="安委办")
        with pytest.raises(qingdan.PermissionDenied):
            led.set_profile(name="西港镇")
        assert led.profile().name == "东港镇"


def qd(db: str, *args: str, code: int = 0):
    result = runner.invoke(app, ["--db", db, "--actor", "安监办", *args])
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def test_the_cli_sets_shows_and_every_form_prints_the_ledgers_profile(tmp_path, monkeypatch):
    monkeypatch.delenv("QINGDAN_PROFILE", raising=False)
    monkeypatch.chdir(tmp_path)
    db = str(tmp_path / "cli.db")
    assert "首次设定须写明乡镇名称" in qd(db, "profile", "set", "--reviewer", "李强", code=2).stderr
    missing = qd(db, "profile", "show", code=1)
    assert "还没有乡镇信息" in missing.stderr
    (tmp_path / "p.toml").write_text(PROFILE, encoding="utf-8")
    qd(db, "profile", "set", "p.toml", "--on", "2020-07-01")
    qd(db, "profile", "set", "--phone", "0571-87654321")  # the rest is kept
    shown = qd(db, "profile", "show").stdout
    assert "东港镇" in shown and "0571-87654321" in shown and "镇消防救援站" in shown
    qd(db, "hazard", "report", "-c", "fire", "--unit", "南阳饭店", "--description", "疏散通道堆放杂物",
       "--found-on", "2020-09-01")
    # the submission's form: title, 填报单位 and signatures from the ledger, not the --township default
    qd(db, "report", "submit", "--period", "2020-09", "--on", "2020-09-25")
    workbook = tmp_path / "东港镇两个清单_2020-09.xlsx"
    cells = [str(c.value) for row in load_workbook(workbook)["问题隐患清单"].iter_rows() for c in row if c.value]
    assert cells[0].startswith("东港镇问题隐患清单")
    assert "填报单位（盖章）：东港镇安全生产委员会办公室" in cells
    assert {"审核人：李强", "填表人：王明", "联系电话：0571-87654321"} <= set(cells)
    assert workbook.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
    # the register layout prints it too once the ledger has one; --township still names the township
    qd(db, "--township", "西港镇", "export", "-f", "xlsx", "-o", "x.xlsx")
    first = next(load_workbook(tmp_path / "x.xlsx")["问题隐患清单"].iter_rows(values_only=True))
    assert str(first[0]).startswith("西港镇问题隐患清单")
    history = qd(db, "hazard", "history", "township").stdout
    assert "设定乡镇信息" in history and "修改乡镇信息" in history and "联系电话：0571-87654321" in history


def test_the_demo_sets_nanyangs_profile(tmp_path):
    from qingdan.demo import build_demo

    url = str(tmp_path / "demo.db")
    build_demo(url, scale="small")
    with qingdan.open_ledger(url) as led:
        profile = led.profile()
    assert profile.name == "南阳镇" and profile.filing_unit == "南阳镇安全生产委员会办公室"
    assert profile.departments and not any(d.startswith("各") for d in profile.departments)
    assert Path(url).exists()


def test_over_http_a_host_sets_and_reads_the_profile(tmp_path):
    from fastapi.testclient import TestClient

    from qingdan.web import create_app

    db = str(tmp_path / "web.db")
    with TestClient(create_app(db, pages=False)) as c:
        assert c.get("/api/profile").json() is None
        made = c.post("/api/profile", json={"name": "东港镇", "reviewer": "李强", "on": "2020-07-01"},
                      headers={"X-Qingdan-Actor": quote("安委办")})
        assert made.status_code == 201 and made.json() == {"number": "township"}
        bad = c.post("/api/profile", json={"name": "东港镇", "seal": "x"}, headers={"X-Qingdan-Actor": quote("安委办")})
        assert bad.status_code == 422 and "不是这个命令的参数" in bad.json()["error"]["message"]
        got = c.get("/api/profile").json()
        assert got["name"] == "东港镇" and got["reviewer"] == "李强" and got["actor"] == "安委办"
        assert c.get("/api/profile", params={"as_of": "2020-06-30"}).json() is None
