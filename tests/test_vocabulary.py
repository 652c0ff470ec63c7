"""One vocabulary for every way in: the importer's synonyms are the library's, the API's and the CLI's."""

from __future__ import annotations

from datetime import date

import pytest

import qingdan
from qingdan.core import vocabulary
from tests.conftest import event_count


@pytest.mark.parametrize("field,written,meant", [
    ("level", "重大隐患", "重大"), ("level", "一般事故隐患", "一般"), ("source", "执法检查", "检查"),
    ("source", "群众举报", "举报"), ("source", "其它", "其他"),
])
def test_the_library_takes_the_clerks_words_for_a_hazard(ledger, field, written, meant):
    number = ledger.report_hazard(campaign="fire", unit="南阳饭店", description="灭火器过期",
                                  found_on=date(2020, 7, 1), **{field: written})
    assert getattr(ledger.hazard(number), field) == meant


def test_escalation_and_verification_take_them_too(ledger):
    number = ledger.report_hazard(campaign="fire", unit="南阳饭店", description="灭火器过期", found_on=date(2020, 7, 1))
    ledger.escalate(number, supervisor="市安委办", level="市级")
    assert ledger.hazard(number).escalation_level == "市"
    ledger.complete_rectification(number)
    ledger.verify(number, passed=True, inspector="李强", method="专家评审")
    assert [e.data.get("method") for e in ledger.history(number) if e.type == "Verified"] == ["专家"]


def test_a_word_it_does_not_know_is_refused_naming_the_words_it_takes(ledger):
    with pytest.raises(qingdan.InvalidCommand, match="隐患等级：应为 一般、重大 之一，收到“特大”"):
        ledger.report_hazard(campaign="fire", unit="南阳饭店", description="灭火器过期", level="特大")
    assert event_count(ledger) == 0


def test_the_importer_and_the_commands_read_one_table():
    from qingdan.io import cells

    assert cells.LEVEL_WORDS is vocabulary.LEVEL_WORDS and cells.SOURCE_WORDS is vocabulary.SOURCE_WORDS
    assert vocabulary.canonical(vocabulary.LEVEL_WORDS, " 重大 隐患 ") == "重大"
    assert vocabulary.canonical(vocabulary.LEVEL_WORDS, "特大") == "特大"  # left for the model to refuse
