"""A hazard's whole life, read as a specification (runs on SQLite and on PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest

from qingdan import InvalidCommand, NotFound
from qingdan.core.ledger import end_of_day


def test_full_life_from_report_to_closure_with_lookback(ledger, clock):
    # 2020-09-01 安监办检查发现某化工厂消防通道堵塞，定为重大隐患。
    clock.set("2020-09-01 10:00")
    n = ledger.report_hazard(campaign="fire", unit="南阳化工有限公司", village="南阳村",
                             location="东侧消防通道", category="生命通道", level="重大",
                             source="检查", inspectors=("王五", "赵六"),
                             description="消防车通道被货物堵塞")
    assert n == "H-fire-2020-0001"
    h = ledger.hazard(n, as_of=date(2020, 9, 1))
    assert (h.status, h.five_in_place, h.escalated) == ("reported", False, False)
    assert h.missing_parts == ("responsibility", "measures", "funds", "deadline", "contingency")

    # 五到位 recorded part by part, each with its own date.
    clock.set("2020-09-03 09:00")
    ledger.plan_rectification(n, responsible_unit="南阳化工有限公司", responsible_person="钱七",
                              deadline=date(2020, 9, 30))
    clock.set("2020-09-05 09:00")
    ledger.plan_rectification(n, measures="清理货物，划设禁停标线", funds=2.5)
    ledger.escalate(n, supervisor="镇安委会", level="镇", doc_no="南安委督〔2020〕3号")
    h = ledger.hazard(n, as_of=date(2020, 9, 4))
    assert h.status == "rectifying"
    assert h.missing_parts == ("measures", "funds", "contingency")
    assert not h.escalated

    # A refused and then an approved extension.
    clock.set("2020-09-25 09:00")
    ledger.request_extension(n, deadline=date(2020, 10, 31), reason="货物需协调仓储")
    assert ledger.hazard(n).extension_pending == date(2020, 10, 31)
    ledger.decide_extension(n, approved=False)
    assert ledger.hazard(n).deadline == date(2020, 9, 30)
    ledger.request_extension(n, deadline=date(2020, 10, 15), reason="缩短延期")
    ledger.decide_extension(n, approved=True)
    assert ledger.hazard(n).deadline == date(2020, 10, 15)
    ledger.plan_rectification(n, contingency="通道堵塞应急处置预案")

    # Completion, a failed verification, then completion and a passed one.
    clock.set("2020-10-10 09:00")
    ledger.report_progress(n, text="货物已清理一半")
    ledger.complete_rectification(n, cost=2.1)
    assert ledger.hazard(n).status == "awaiting_verification"
    ledger.verify(n, passed=False, inspector="王五", method="政府验收")
    h = ledger.hazard(n)
    assert (h.status, h.completed_on) == ("rectifying", None)
    with pytest.raises(InvalidCommand, match="验收通过"):
        ledger.close(n)
    clock.set("2020-10-14 09:00")
    ledger.complete_rectification(n)
    ledger.verify(n, passed=True, inspector="王五")
    ledger.close(n)
    h = ledger.hazard(n)
    assert (h.status, h.closed_on, h.five_in_place) == ("closed", date(2020, 10, 14), True)
    closed_at = clock.mark()

    # 回头看 in 2021 finds it blocked again: 反销号, rectify, close again.
    clock.set("2021-03-02 09:00")
    ledger.reopen(n, reason="回头看发现通道再次堵塞")
    h = ledger.hazard(n)
    assert (h.status, h.reopened, h.closed_on) == ("rectifying", 1, None)
    ledger.complete_rectification(n)
    ledger.verify(n, passed=True, inspector="赵六", method="专家")
    ledger.close(n)
    assert ledger.hazard(n).reopened == 1

    # The past stays answerable: as of 2020-12-31 it was closed, both as known then and now.
    assert ledger.hazard(n, as_of=date(2020, 12, 31)).status == "closed"
    assert ledger.hazard(n, as_of=date(2020, 12, 31), known_at=closed_at).status == "closed"
    assert ledger.hazard(n, as_of=date(2021, 3, 2), known_at=closed_at).reopened == 0
    assert ledger.hazard(n, as_of=date(2020, 10, 1)).overdue is False  # deadline 10-15 then

    history = ledger.history(n)
    assert [e.type for e in history] == [
        "Reported", "RectificationPlanned", "RectificationPlanned", "Escalated",
        "ExtensionRequested", "ExtensionDecided", "ExtensionRequested", "ExtensionDecided",
        "RectificationPlanned", "ProgressReported", "RectificationCompleted", "Verified",
        "RectificationCompleted", "Verified", "Closed", "Reopened", "RectificationCompleted",
        "Verified", "Closed",
    ]
    assert [e.version for e in history] == list(range(1, len(history) + 1))
    assert all(e.actor == "安监办张三" for e in history)
    assert history[0].on == date(2020, 9, 1) and history[-1].on == date(2021, 3, 2)
    assert history[0].recorded_at < history[-1].recorded_at
    assert history[0].recorded_at.utcoffset().total_seconds() == 8 * 3600
    assert history[-4].data == {"reason": "回头看发现通道再次堵塞"}


def test_back_dated_correction_changes_the_past_as_known_now_but_not_as_known_then(ledger, clock):
    clock.set("2020-09-01 10:00")
    n = ledger.report_hazard(campaign="fire", unit="某商场", description="疏散指示灯损坏",
                             category="高层建筑")
    submitted = clock.mark()
    clock.set("2020-11-20 10:00")
    ledger.correct(n, field="level", value="重大", reason="复核认定为重大隐患")
    # What the 2020-09 list said, as it was handed in:
    assert ledger.hazard(n, as_of=date(2020, 9, 25), known_at=submitted).level == "一般"
    # What we now know was true on 2020-09-25 (the correction dates back to the found date):
    assert ledger.hazard(n, as_of=date(2020, 9, 25)).level == "重大"
    last = ledger.history(n)[-1]
    assert last.type == "Corrected" and last.on == date(2020, 9, 1)
    assert last.data == {"field": "level", "value": "重大", "previous": "一般",
                         "reason": "复核认定为重大隐患"}


def test_back_dated_status_step_is_effective_from_its_date(ledger, clock):
    clock.set("2020-09-01 10:00")
    n = ledger.report_hazard(campaign="fire", unit="某厂", description="灭火器过期")
    clock.set("2020-09-20 10:00")
    ledger.complete_rectification(n, on=date(2020, 9, 5))  # recorded late, done on 09-05
    assert ledger.hazard(n, as_of=date(2020, 9, 4)).status == "reported"
    assert ledger.hazard(n, as_of=date(2020, 9, 5)).status == "awaiting_verification"
    assert ledger.hazard(n, as_of=date(2020, 9, 5), known_at=end_of_day(date(2020, 9, 10))
                         ).status == "reported"


def test_withdrawal_keeps_the_hazard_in_history_and_ends_its_life(ledger, clock):
    clock.set("2020-09-01 10:00")
    n = ledger.report_hazard(campaign="fire", unit="某厂", description="重复登记")
    clock.set("2020-09-02 10:00")
    ledger.withdraw(n, reason="与 H-fire-2020-0001 重复", on=date(2020, 9, 2))  # default: its 排查日期
    h = ledger.hazard(n)
    assert (h.status, h.withdrawn_on) == ("withdrawn", date(2020, 9, 2))
    assert ledger.hazard(n, as_of=date(2020, 9, 1)).status == "reported"
    with pytest.raises(InvalidCommand, match="已于 2020-09-02 撤销"):
        ledger.plan_rectification(n, deadline=date(2020, 9, 30))
    assert [e.type for e in ledger.history(n)] == ["Reported", "Withdrawn"]


def test_a_hazard_does_not_exist_before_it_was_found_or_recorded(ledger, clock):
    clock.set("2020-09-10 10:00")
    n = ledger.report_hazard(campaign="fire", unit="某厂", description="x",
                             found_on=date(2020, 9, 1))
    with pytest.raises(NotFound, match="截至 2020-08-31"):
        ledger.hazard(n, as_of=date(2020, 8, 31))
    with pytest.raises(NotFound):
        ledger.hazard(n, as_of=date(2020, 9, 5), known_at=end_of_day(date(2020, 9, 9)))
    assert ledger.hazard(n, as_of=date(2020, 9, 5)).found_on == date(2020, 9, 1)


def test_numbers_run_per_campaign_and_year_and_are_never_reused(ledger, clock):
    clock.set("2021-01-05 10:00")
    a = ledger.report_hazard(campaign="fire", unit="甲", description="x", found_on=date(2020, 12, 30))
    b = ledger.report_hazard(campaign="fire", unit="乙", description="x")
    c = ledger.report_hazard(campaign="hazchem", unit="丙", description="x")
    ledger.withdraw(a, reason="错误登记")
    d = ledger.report_hazard(campaign="fire", unit="丁", description="x", found_on=date(2020, 12, 31))
    assert (a, b, c, d) == ("H-fire-2020-0001", "H-fire-2021-0001", "H-hazchem-2021-0001",
                            "H-fire-2020-0002")


def test_a_fresh_ledger_object_continues_numbering_after_existing_records(ledger_url, clock, catalogue):
    import qingdan

    clock.set("2020-09-01 10:00")
    with qingdan.open_ledger(ledger_url, clock=clock, catalogue=catalogue) as first:
        numbers = [first.report_hazard(campaign="fire", unit=f"单位{i}", description="x")
                   for i in range(11)]
    with qingdan.open_ledger(ledger_url, clock=clock, catalogue=catalogue) as second:
        assert second.report_hazard(campaign="fire", unit="新单位", description="x") == "H-fire-2020-0012"
    assert numbers[-1] == "H-fire-2020-0011"


def test_an_import_may_keep_existing_numbers_but_never_duplicate_one(ledger, clock):
    from qingdan import Conflict

    clock.set("2020-09-10 10:00")
    kept = ledger.report_hazard(campaign="fire", unit="甲", description="x", number="H-fire-2020-0042",
                                found_on=date(2020, 9, 1))
    assert kept == "H-fire-2020-0042"
    with pytest.raises(Conflict, match="H-fire-2020-0042 已存在"):
        ledger.report_hazard(campaign="fire", unit="乙", description="y", number="H-fire-2020-0042",
                             found_on=date(2020, 9, 1))
    with pytest.raises(InvalidCommand, match="格式不对"):
        ledger.report_hazard(campaign="fire", unit="乙", description="y", number="XF-001")
    with pytest.raises(InvalidCommand, match="格式不对"):  # the year comes from the found date
        ledger.report_hazard(campaign="fire", unit="乙", description="y", number="H-fire-2019-0001",
                             found_on=date(2020, 9, 1))
    assert ledger.report_hazard(campaign="fire", unit="丙", description="z",
                                found_on=date(2020, 9, 2)) == "H-fire-2020-0001"
