"""The demo ledger: deterministic, realistic, accepted by the ledger's rules, quick."""

from __future__ import annotations

import time
from datetime import date

from openpyxl import load_workbook
from typer.testing import CliRunner

import qingdan
from qingdan.cli import app
from qingdan.demo import build_demo


def test_same_seed_gives_the_same_ledger_and_every_command_is_accepted(tmp_path):
    first = build_demo(str(tmp_path / "a.db"), seed=7, scale="small")
    second = build_demo(str(tmp_path / "b.db"), seed=7, scale="small")
    assert first.rejected == [] and second.rejected == []
    assert first.hazards > 100 and first.reports
    with qingdan.open_ledger(str(tmp_path / "a.db")) as a, qingdan.open_ledger(str(tmp_path / "b.db")) as b:
        for day in (date(2020, 12, 25), date(2022, 12, 31)):
            assert a.two_lists(as_of=day, include_withdrawn=True) == b.two_lists(as_of=day, include_withdrawn=True)
        lists = a.two_lists(as_of=date(2022, 12, 31), include_withdrawn=True)
        statuses = {h.status for h in lists.hazards}
        assert {"closed", "rectifying"} <= statuses
        assert any(h.escalated for h in lists.hazards)
        assert a.report("2020-12").hazard_count > 0
        # a few closed 重大 hazards carry their evidence, the same bytes in both builds
        shown = [h for h in lists.hazards if h.attachments]
        assert shown and all({x.kind for x in h.attachments} == {"整改前", "整改后"} for h in shown)
        first_photo = shown[0].attachments[0].sha256
        assert a.attachment(first_photo) == b.attachment(first_photo)


def test_full_demo_from_the_command_line(tmp_path):
    db = tmp_path / "demo.db"
    started = time.monotonic()
    result = CliRunner().invoke(app, ["demo", "--db", str(db)])
    elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.stderr
    assert elapsed < 60
    assert "回头看" in result.stdout and "整治目标" in result.stdout
    assert "演示数据被拒绝" not in result.stderr
    with qingdan.open_ledger(str(db)) as ledger:
        lists = ledger.two_lists(as_of=date(2022, 12, 31), include_withdrawn=True)
        assert 1000 <= len(lists.hazards) <= 2000
        statuses = {h.status for h in lists.hazards}
        assert statuses >= {"closed", "rectifying", "awaiting_verification", "withdrawn"}
        assert any(h.reopened for h in lists.hazards)
        assert any(h.overdue for h in lists.hazards)
        diff = ledger.report_diff("2020-12")
        assert diff.digest_matches and diff.differences  # later corrections and late entries show
        monthly = [f for f in ledger.findings(as_of=date(2022, 12, 31)) if f.check == "general.monthly_two_lists"]
        assert any("未报送" in f.message for f in monthly) and any("晚于" in f.message for f in monthly)
        assert {m.status for m in lists.measures} >= {"planned", "issued", "implemented"}
    workbook = load_workbook(tmp_path / "demo.xlsx", read_only=True)
    assert workbook.sheetnames == ["问题隐患清单", "制度措施清单"]


def test_verify_passes_on_the_demo_ledger_make_demo_builds(tmp_path):
    """The ledger `make demo` builds (default seed and scale) is sound by `verify`: no false alarm
    (unit dates, reports submitted by the story, resubmissions) on an untouched ledger."""
    result = build_demo(str(tmp_path / "demo.db"))
    assert result.rejected == []
    with qingdan.open_ledger(str(tmp_path / "demo.db")) as ledger:
        report = ledger.verify_integrity()
        assert report.ok, report.problems[:5]
        assert report.reports_checked == len(ledger.reports()) > 100
        assert report.events_checked == ledger.last_position() > 5000
