"""Every command rule rejects the command with a message a clerk can act on, writing nothing."""

from __future__ import annotations

from datetime import date

import pytest

from qingdan import InvalidCommand, NotFound
from tests.conftest import event_count


@pytest.fixture
def hazard(ledger, clock):
    clock.set("2020-09-01 10:00")
    number = ledger.report_hazard(campaign="fire", unit="南阳商场", description="疏散通道堵塞",
                                  level="重大")
    clock.set("2020-09-10 10:00")
    return number


def rejected(ledger, call, match):
    """Run ``call``; it must raise InvalidCommand matching ``match`` and store no event."""
    before = event_count(ledger)
    with pytest.raises(InvalidCommand, match=match):
        call()
    assert event_count(ledger) == before


def test_deadline_before_found_date_is_rejected(ledger, hazard):
    rejected(ledger, lambda: ledger.plan_rectification(hazard, deadline=date(2020, 8, 1)),
             "整改期限 2020-08-01 早于排查日期 2020-09-01")


def test_future_effective_date_is_rejected(ledger, hazard):
    rejected(ledger, lambda: ledger.report_progress(hazard, text="x", on=date(2020, 9, 11)),
             "晚于今天 2020-09-10")
    rejected(ledger, lambda: ledger.report_hazard(campaign="fire", unit="x", description="y",
                                                  found_on=date(2021, 1, 1)), "晚于今天")


def test_effective_date_before_the_hazard_was_found_is_rejected(ledger, hazard):
    rejected(ledger, lambda: ledger.escalate(hazard, supervisor="镇安委会", on=date(2020, 8, 30)),
             "早于排查日期 2020-09-01")


def test_major_hazard_cannot_close_without_all_five_parts(ledger, hazard):
    ledger.plan_rectification(hazard, responsible_unit="商场", deadline=date(2020, 9, 30))
    ledger.escalate(hazard, supervisor="镇安委会")
    ledger.complete_rectification(hazard)
    ledger.verify(hazard, passed=True, inspector="王五")
    rejected(ledger, lambda: ledger.close(hazard), "五到位尚缺：措施、资金、预案")


def test_major_hazard_cannot_close_without_escalation(ledger, hazard):
    ledger.plan_rectification(hazard, responsible_unit="商场", measures="清理", funds=1,
                              deadline=date(2020, 9, 30), contingency="预案")
    ledger.complete_rectification(hazard)
    ledger.verify(hazard, passed=True, inspector="王五")
    rejected(ledger, lambda: ledger.close(hazard), "须先挂牌督办")


def test_closure_needs_a_passed_verification_after_the_latest_completion(ledger, clock):
    clock.set("2020-09-01 10:00")
    n = ledger.report_hazard(campaign="fire", unit="x", description="y")
    rejected(ledger, lambda: ledger.close(n), "验收通过")
    ledger.complete_rectification(n)
    rejected(ledger, lambda: ledger.close(n), "验收通过")
    ledger.verify(n, passed=False, inspector="王五")
    rejected(ledger, lambda: ledger.close(n), "验收通过")
    ledger.complete_rectification(n)
    rejected(ledger, lambda: ledger.close(n), "验收通过")
    ledger.verify(n, passed=True, inspector="王五")
    ledger.close(n)
    assert ledger.hazard(n).status == "closed"


def test_status_step_dated_before_the_previous_one_is_rejected(ledger, hazard):
    ledger.complete_rectification(hazard, on=date(2020, 9, 8))
    rejected(ledger, lambda: ledger.verify(hazard, passed=True, inspector="王五",
                                           on=date(2020, 9, 7)),
             "验收日期 2020-09-07 早于上一状态变更日期 2020-09-08")


def test_annotations_may_be_back_dated_within_bounds(ledger, hazard):
    ledger.complete_rectification(hazard, on=date(2020, 9, 8))
    ledger.escalate(hazard, supervisor="镇安委会", on=date(2020, 9, 2))  # before completion: fine
    assert ledger.hazard(hazard, as_of=date(2020, 9, 2)).escalated


def test_unknown_campaign_is_rejected_with_the_known_ones(ledger, clock):
    clock.set("2020-09-01 10:00")
    rejected(ledger, lambda: ledger.report_hazard(campaign="gas", unit="x", description="y"),
             "未知的专项“gas”.*fire（消防安全专项整治）")


def test_unknown_level_source_and_category_are_rejected(ledger, clock):
    clock.set("2020-09-01 10:00")
    rejected(ledger, lambda: ledger.report_hazard(campaign="fire", unit="x", description="y",
                                                  level="特别重大"), "隐患等级：应为 一般、重大 之一")
    rejected(ledger, lambda: ledger.report_hazard(campaign="fire", unit="x", description="y",
                                                  source="路过"), "隐患来源")
    rejected(ledger, lambda: ledger.report_hazard(campaign="fire", unit="x", description="y",
                                                  category="化粪池"), "没有隐患类别“化粪池”")


def test_unexpected_and_missing_arguments_are_named(ledger, clock):
    clock.set("2020-09-01 10:00")
    rejected(ledger, lambda: ledger.report_hazard(campaign="fire", unit="x", description="y",
                                                  colour="red"), "colour：不是这个命令的参数")
    rejected(ledger, lambda: ledger.report_hazard(campaign="fire", unit="  ", description="y"),
             "单位名称：不能为空")
    rejected(ledger, lambda: ledger.report_hazard(campaign="fire", description="y"),
             "单位名称：必须填写")


def test_extension_rules(ledger, hazard):
    rejected(ledger, lambda: ledger.request_extension(hazard, deadline=date(2020, 10, 1),
                                                      reason="x"), "尚未确定整改期限")
    ledger.plan_rectification(hazard, deadline=date(2020, 9, 30))
    rejected(ledger, lambda: ledger.request_extension(hazard, deadline=date(2020, 9, 20),
                                                      reason="x"), "应晚于现有整改期限 2020-09-30")
    rejected(ledger, lambda: ledger.decide_extension(hazard, approved=True), "没有待审批的延期申请")
    ledger.request_extension(hazard, deadline=date(2020, 10, 30), reason="x")
    rejected(ledger, lambda: ledger.request_extension(hazard, deadline=date(2020, 11, 30),
                                                      reason="x"), "已有待审批的延期申请")


def test_reopen_only_a_closed_hazard_and_never_a_withdrawn_one(ledger, hazard):
    rejected(ledger, lambda: ledger.reopen(hazard, reason="回头看"), "只有已销号的隐患可以反销号")
    ledger.withdraw(hazard, reason="重复")
    rejected(ledger, lambda: ledger.reopen(hazard, reason="回头看"), "已于 2020-09-01 撤销")  # its 排查日期


def test_corrections_are_checked_like_the_original_fields(ledger, hazard):
    rejected(ledger, lambda: ledger.correct(hazard, field="found_on", value="2020-08-01",
                                            reason="x"), "排查日期不能更正")
    rejected(ledger, lambda: ledger.correct(hazard, field="status", value="closed", reason="x"),
             "不能更正字段“status”")
    rejected(ledger, lambda: ledger.correct(hazard, field="level", value="较大", reason="x"),
             "隐患等级")
    rejected(ledger, lambda: ledger.correct(hazard, field="level", value="重大", reason="x"),
             "无需更正")
    rejected(ledger, lambda: ledger.correct(hazard, field="deadline", value="2020-08-01",
                                            reason="x"), "早于排查日期")
    rejected(ledger, lambda: ledger.correct(hazard, field="unit", value="新名", reason=""),
             "理由：不能为空")


def test_acting_on_an_unknown_number_is_not_found(ledger, hazard):
    before = event_count(ledger)
    with pytest.raises(NotFound, match="台账中没有 H-fire-2020-0099"):
        ledger.close("H-fire-2020-0099")
    with pytest.raises(NotFound, match="不是问题隐患"):
        ledger.close(ledger.add_measure(campaign="fire", title="制度", department="镇消防救援站"))
    assert event_count(ledger) == before + 1  # only the measure


def test_negative_funds_and_bad_numbers_are_rejected(ledger, hazard):
    rejected(ledger, lambda: ledger.plan_rectification(hazard, funds=-1), "整改资金（万元）：不能小于 0")
    rejected(ledger, lambda: ledger.plan_rectification(hazard, funds="三万"), "整改资金（万元）：应为数值")
    rejected(ledger, lambda: ledger.plan_rectification(hazard), "至少要填写五到位中的一项")
