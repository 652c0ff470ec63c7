"""回头看 re-inspection of closed hazards (Ledger.recheck) and the 总体方案's checks on it."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import event_count

from qingdan import InvalidCommand
from qingdan.core.rows import HazardRow, UnitRow
from qingdan.plugins import general


def _closed(ledger, clock, *, source="督导组移交"):
    clock.set("2020-09-01 10:00")
    n = ledger.report_hazard(campaign="fire", unit="南阳化工有限公司", level="一般", source=source,
                             description="消防车通道被货物堵塞")
    ledger.plan_rectification(n, responsible_unit="南阳化工有限公司", measures="清理", funds=1,
                              deadline=date(2020, 9, 30), contingency="预案")
    clock.set("2020-09-10 10:00")
    ledger.complete_rectification(n)
    ledger.verify(n, passed=True, inspector="王五")
    ledger.close(n)
    return n


def test_a_passed_recheck_is_recorded(ledger, clock):
    n = _closed(ledger, clock)
    clock.set("2020-11-02 10:00")
    assert ledger.recheck(n, passed=True, inspector="赵六") == n
    h = ledger.hazard(n)
    assert (h.status, h.rechecked_on, h.reopened) == ("closed", date(2020, 11, 2), 0)
    assert ledger.hazard(n, as_of=date(2020, 11, 1)).rechecked_on is None
    assert any("Rechecked" in e.type for e in ledger.history(n))


def test_a_failed_recheck_reopens_the_hazard(ledger, clock):
    n = _closed(ledger, clock)
    clock.set("2020-11-02 10:00")
    ledger.recheck(n, passed=False, inspector="赵六", method="暗查暗访", note="通道再次堵塞")
    h = ledger.hazard(n)
    assert (h.status, h.reopened, h.closed_on, h.rechecked_on) == ("rectifying", 1, None, None)
    assert ledger.hazard(n, as_of=date(2020, 11, 1)).status == "closed"


def test_recheck_only_of_a_closed_hazard_and_not_before_its_closure(ledger, clock):
    n = _closed(ledger, clock)
    before = event_count(ledger)
    with pytest.raises(InvalidCommand, match="早于上一状态变更日期"):
        ledger.recheck(n, passed=True, inspector="赵六", on=date(2020, 9, 5))
    with pytest.raises(InvalidCommand):
        ledger.recheck(n, passed=True, inspector="赵六", method="随便看看")
    clock.set("2020-09-11 10:00")
    open_one = ledger.report_hazard(campaign="fire", unit="某厂", description="灭火器过期")
    with pytest.raises(InvalidCommand, match="只有已销号的隐患"):
        ledger.recheck(open_one, passed=True, inspector="赵六")
    assert event_count(ledger) == before + 1  # only the new report


# -- the checks, judged on rows -------------------------------------------------------------------


class _Snap:
    def __init__(self, as_of, hazards, units=()):
        self.as_of, self._hazards, self._units = as_of, hazards, list(units)

    def hazards(self, campaign=None):
        return self._hazards

    def all_units(self):
        return self._units


def _row(**fields):
    base = dict(number="H-fire-2020-0001", campaign="fire", unit="某厂", level="一般", source="督导组移交",
                found_on=date(2020, 9, 1), description="d")
    return HazardRow(**{**base, **fields})


def test_not_rechecked_within_the_period_the_seed_implies():
    check = general.not_rechecked
    closed = _row(status="closed", closed_on=date(2020, 10, 1))
    assert list(check.run(_Snap(date(2020, 12, 31), [closed]))) == []
    [finding] = check.run(_Snap(date(2021, 1, 1), [closed]))
    assert "2020-12-31" in finding.message and "推定" in check.title
    assert list(check.run(_Snap(date(2021, 1, 1), [closed.model_copy(update={"rechecked_on": date(2020, 12, 1)})]))) == []
    later = _row(status="closed", closed_on=date(2021, 3, 1), source="检查", escalated=True)
    assert list(check.run(_Snap(date(2021, 12, 31), [later]))) == []
    assert len(list(check.run(_Snap(date(2022, 1, 1), [later])))) == 1
    plain = _row(status="closed", closed_on=date(2020, 10, 1), source="检查")
    assert list(check.run(_Snap(date(2022, 1, 1), [plain]))) == []


def test_xiaozao_items_of_2020_not_closed_by_its_end():
    check = general.xiaozao_2020_open
    open_2020 = _row(status="rectifying", source="检查")
    assert list(check.run(_Snap(date(2020, 12, 31), [open_2020]))) == []
    assert len(list(check.run(_Snap(date(2021, 1, 1), [open_2020])))) == 1
    in_time = _row(status="closed", closed_on=date(2020, 12, 31))
    late = _row(status="closed", closed_on=date(2021, 1, 5))
    found_2021 = _row(status="rectifying", found_on=date(2021, 1, 2))
    [finding] = check.run(_Snap(date(2021, 2, 1), [in_time, late, found_2021]))
    assert "2021-01-05" in finding.message


def test_major_hazards_that_cannot_be_rectified_must_be_closed_or_shut_down():
    check = general.major_not_shut_down
    stuck = _row(level="重大", status="rectifying", deadline=date(2020, 10, 1), overdue=True, unit_number="U-00001")
    assert len(list(check.run(_Snap(date(2020, 11, 1), [stuck])))) == 1
    shut = UnitRow(number="U-00001", name="某厂", kind="企业", registered_on=date(2020, 7, 1),
                   closed_on=date(2020, 10, 20), closed_reason="依法关停")
    assert list(check.run(_Snap(date(2020, 11, 1), [stuck], [shut]))) == []
    moved = shut.model_copy(update={"closed_reason": "迁出本镇"})
    assert len(list(check.run(_Snap(date(2020, 11, 1), [stuck], [moved])))) == 1
    assert list(check.run(_Snap(date(2020, 11, 1), [stuck.model_copy(update={"overdue": False})]))) == []


def test_recheck_over_http(ledger_url, monkeypatch, clock):
    from conftest import make_catalogue
    from test_api import send, serve

    catalogue = make_catalogue()
    monkeypatch.setattr("qingdan.core.plugins.get_catalogue", lambda: catalogue)
    with serve(ledger_url) as client:
        created = send(client, "report_hazard", None, {"campaign": "fire", "unit": "某厂", "description": "通道堵塞",
                                                       "source": "督导组移交", "found_on": "2020-09-01",
                                                       "on": "2020-09-01"})
        number = created.json()["number"]
        for command, body in (("plan_rectification", {"deadline": "2020-09-30", "on": "2020-09-01"}),
                              ("complete_rectification", {"on": "2020-09-10"}),
                              ("verify", {"passed": True, "inspector": "王五", "on": "2020-09-10"}),
                              ("close", {"on": "2020-09-10"})):
            assert send(client, command, number, body).status_code == 200, command
        answer = send(client, "recheck", number, {"passed": False, "inspector": "赵六", "on": "2020-11-02"})
        assert answer.status_code == 200 and answer.json()["number"] == number
        refused = send(client, "recheck", number, {"passed": True, "inspector": "赵六", "on": "2020-11-03"})
        assert refused.status_code == 422 and "已销号" in refused.text
        assert send(client, "recheck", number, {"passed": True, "inspector": "赵六", "method": "随便"}).status_code == 422


def test_the_checks_say_what_they_infer():
    checks = {c.id: c for c in general.qingdan_checks()}
    assert "2020年底" in checks["general.not_rechecked"].inferred
    assert "重大" in checks["general.major_not_shut_down"].inferred
    assert "一年小灶" in checks["general.xiaozao_2020_open"].inferred
    from qingdan.core.plugins import get_catalogue

    assert get_catalogue().checks["general.major_five_in_place_within"].inferred  # a DeadlineRule's days


def test_the_exported_list_shows_the_recheck(ledger, clock):
    from qingdan.io.writer import two_lists_sheets

    n = _closed(ledger, clock)
    clock.set("2020-11-02 10:00")
    ledger.recheck(n, passed=True, inspector="赵六")
    sheet = two_lists_sheets(ledger.two_lists(), {})[0]
    keys = [c.key for c in sheet.columns]
    row = next(r for r in sheet.rows if n in r)
    assert row[keys.index("rechecked_on")] == date(2020, 11, 2)
