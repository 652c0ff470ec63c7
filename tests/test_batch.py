"""The batch path: many commands, one transaction, all or nothing."""

from __future__ import annotations

from datetime import date

import pytest

from qingdan import InvalidCommand
from tests.conftest import event_count


def test_a_batch_sees_its_own_commands_and_stores_them_together(ledger, clock):
    clock.set("2020-09-10 10:00")
    with ledger.batch():
        a = ledger.report_hazard(campaign="fire", unit="甲", description="x", found_on=date(2020, 9, 1))
        b = ledger.report_hazard(campaign="fire", unit="乙", description="y", found_on=date(2020, 9, 2))
        ledger.plan_rectification(a, deadline=date(2020, 9, 30))
        ledger.complete_rectification(a)
        with pytest.raises(InvalidCommand, match="整改完成后才能验收"):
            ledger.verify(b, passed=True, inspector="王五")
        assert event_count(ledger) == 0  # nothing stored until the block ends
    assert (a, b) == ("H-fire-2020-0001", "H-fire-2020-0002")
    assert event_count(ledger) == 4
    assert ledger.two_lists(as_of=date(2020, 9, 10)).hazards[0].status == "awaiting_verification"


def test_a_failing_batch_writes_nothing_and_frees_its_numbers(ledger, clock):
    clock.set("2020-09-10 10:00")
    with pytest.raises(InvalidCommand), ledger.batch():
        ledger.report_hazard(campaign="fire", unit="甲", description="x")
        ledger.report_hazard(campaign="fire", unit="乙", description="y", level="特大")
    assert event_count(ledger) == 0
    assert ledger.report_hazard(campaign="fire", unit="丙", description="z") == "H-fire-2020-0001"


def test_reports_cannot_be_submitted_inside_a_batch(ledger, clock):
    clock.set("2020-09-25 10:00")
    with pytest.raises(InvalidCommand, match="批量登记完成之后"), ledger.batch():
        ledger.submit_report(period="2020-09")


def test_a_number_kept_earlier_in_the_batch_is_never_overwritten(ledger, clock):
    clock.set("2020-09-10 10:00")
    with ledger.batch():
        first = ledger.report_hazard(campaign="fire", unit="新", description="自动编号",
                                     found_on=date(2020, 9, 1))
        kept = ledger.report_hazard(campaign="fire", unit="导入", description="保留编号",
                                    found_on=date(2020, 9, 1), number="H-fire-2020-0002")
        fresh = ledger.report_hazard(campaign="fire", unit="新", description="自动编号",
                                     found_on=date(2020, 9, 1))
    assert (first, kept, fresh) == ("H-fire-2020-0001", "H-fire-2020-0002", "H-fire-2020-0003")
    assert ledger.hazard(kept).description == "保留编号"
