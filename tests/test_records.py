"""Measures, tasks, units and indicator readings: their lives and their rules."""

from __future__ import annotations

from datetime import date

import pytest

from qingdan import InvalidCommand, NotFound
from tests.conftest import event_count


def test_measure_from_plan_to_repeal(ledger, clock):
    clock.set("2020-08-10 09:00")
    m = ledger.add_measure(campaign="fire", title="高层建筑消防安全管理制度", department="镇消防救援站",
                           kind="制度", due=date(2020, 10, 31))
    assert m == "M-fire-2020-0001"
    clock.set("2020-11-05 09:00")
    assert ledger.measure(m).overdue is True
    ledger.issue_measure(m, doc_no="南消〔2020〕12号", on=date(2020, 11, 2))
    ledger.implement_measure(m)
    ledger.revise_measure(m, reason="按上级文件修订", title="高层建筑消防安全管理规定")
    row = ledger.measure(m)
    assert (row.status, row.doc_no, row.title, row.revisions) == (
        "implemented", "南消〔2020〕12号", "高层建筑消防安全管理规定", 1)
    assert ledger.measure(m, as_of=date(2020, 11, 1)).status == "planned"
    assert ledger.measure(m, as_of=date(2020, 11, 2)).issued_on == date(2020, 11, 2)
    clock.set("2022-01-05 09:00")
    ledger.repeal_measure(m, reason="已被新制度替代")
    assert ledger.measure(m).status == "repealed"
    with pytest.raises(InvalidCommand, match="已于 2022-01-05 废止"):
        ledger.implement_measure(m)


def test_measure_rules(ledger, clock):
    clock.set("2020-08-10 09:00")
    before = event_count(ledger)
    with pytest.raises(InvalidCommand, match="类型"):
        ledger.add_measure(campaign="fire", title="x", department="y", kind="口号")
    with pytest.raises(InvalidCommand, match="完成时限 2020-08-01 早于登记日期"):
        ledger.add_measure(campaign="fire", title="x", department="y", due=date(2020, 8, 1))
    assert event_count(ledger) == before
    m = ledger.add_measure(campaign="fire", title="x", department="y")
    with pytest.raises(InvalidCommand, match="须给出新的标题或文号"):
        ledger.revise_measure(m, reason="无")


def test_task_progress_and_completion(ledger, clock):
    clock.set("2020-10-01 09:00")
    ledger.report_task_progress("fire-1", text="完成摸底", percent=30, on=date(2020, 9, 15))
    clock.set("2021-05-01 09:00")
    ledger.complete_task("fire-1")
    history = ledger.history("fire-1")
    assert [e.type for e in history] == ["Tracked", "ProgressReported", "Completed"]
    assert history[0].on == date(2020, 7, 1)  # tracking starts with the campaign
    with pytest.raises(InvalidCommand, match="已于 2021-05-01 完成"):
        ledger.report_task_progress("fire-1", text="x")
    with pytest.raises(NotFound, match="没有任务“fire-99”"):
        ledger.complete_task("fire-99")


def test_unit_attributes_are_dated(ledger, clock):
    clock.set("2020-08-01 09:00")
    u = ledger.register_unit(name="南阳化工有限公司", kind="企业", village="南阳村",
                             credit_code="91320681MA1XXXXX0X".replace("X", "1"),
                             attributes={"风险等级": "橙", "微型消防站": "否"})
    assert u == "U-00001"
    clock.set("2021-03-01 09:00")
    ledger.set_unit_attributes(u, attributes={"风险等级": "黄", "微型消防站": True},
                               on=date(2021, 2, 1))
    assert ledger.unit(u, as_of=date(2021, 1, 31)).attributes == {"风险等级": "橙", "微型消防站": False}
    assert ledger.unit(u).attributes == {"风险等级": "黄", "微型消防站": True}
    ledger.set_unit_attributes(u, attributes={"微型消防站": None})
    assert ledger.unit(u).attributes == {"风险等级": "黄"}
    ledger.close_unit(u, reason="企业关停")
    assert ledger.unit(u).closed_on == date(2021, 3, 1)
    with pytest.raises(InvalidCommand, match="已于 2021-03-01 注销"):
        ledger.set_unit_attributes(u, attributes={"风险等级": "蓝"})


def test_unit_attribute_values_are_checked_against_campaign_declarations(ledger, clock):
    clock.set("2020-08-01 09:00")
    before = event_count(ledger)
    with pytest.raises(InvalidCommand, match="应为 红、橙、黄、蓝 之一"):
        ledger.register_unit(name="x", kind="企业", attributes={"风险等级": "紫"})
    with pytest.raises(InvalidCommand, match="未知的单位属性“颜色”"):
        ledger.register_unit(name="x", kind="企业", attributes={"颜色": "红"})
    with pytest.raises(InvalidCommand, match="应为日期"):
        ledger.register_unit(name="x", kind="企业", attributes={"贮存起始日期": "去年"})
    with pytest.raises(InvalidCommand, match="统一社会信用代码：格式不对"):
        ledger.register_unit(name="x", kind="企业", credit_code="123")
    assert event_count(ledger) == before
    u = ledger.register_unit(name="x", kind="企业", attributes={"贮存起始日期": "2020-01-15"})
    assert ledger.unit(u).attributes == {"贮存起始日期": date(2020, 1, 15)}


def test_hazard_may_name_a_registered_unit_only(ledger, clock):
    clock.set("2020-08-01 09:00")
    with pytest.raises(NotFound, match="U-00009"):
        ledger.report_hazard(campaign="fire", unit="x", description="y", unit_number="U-00009")
    u = ledger.register_unit(name="x", kind="企业")
    n = ledger.report_hazard(campaign="fire", unit="x", description="y", unit_number=u)
    assert ledger.hazard(n).unit_number == u


def test_indicator_readings_latest_on_or_before_the_date(ledger, clock):
    clock.set("2021-01-10 09:00")
    ledger.record_indicator("fire-officers", value=6, on=date(2020, 12, 31))
    clock.set("2021-07-01 09:00")
    ledger.record_indicator("fire-officers", value=10, on=date(2021, 6, 30))
    ledger.record_indicator("fire-officers", value=11, on=date(2021, 6, 30))  # same day, later
    assert ledger.indicator("fire-officers", as_of=date(2020, 12, 30)) is None
    assert ledger.indicator("fire-officers", as_of=date(2021, 3, 1)).value == 6
    assert ledger.indicator("fire-officers").value == 11
    with pytest.raises(InvalidCommand, match="由台账数据计算得出"):
        ledger.record_indicator("fire-computed", value=1)
    with pytest.raises(NotFound, match="没有目标“nope”"):
        ledger.record_indicator("nope", value=1)
