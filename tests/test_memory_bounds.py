"""The caches a long-running process keeps are bounded by sizes in the code, not by the ledger's size
(docs/performance.md, "Memory"): a snapshot keeps at most ``CACHE_ROWS`` decoded rows, a scan reads a
page at a time."""

from __future__ import annotations

from datetime import date

from qingdan.core import queries


def test_a_snapshot_keeps_lists_up_to_its_row_budget_and_answers_the_rest_from_the_view(ledger, monkeypatch):
    monkeypatch.setattr(queries, "CACHE_ROWS", 5)
    for i in range(8):
        ledger.report_hazard(campaign="fire", unit=f"单位{i}", description="隐患", found_on=date(2020, 7, 1),
                             village="东港村" if i < 3 else "南阳村")
    snap = ledger.snapshot()
    east = snap.hazards(village="东港村")
    assert snap.hazards(village="东港村") is east  # 3 rows: kept
    everything = snap.hazards()
    assert len(everything) == 8 and snap.hazards() is not everything  # 8 more: over the budget, not kept
    assert [h.number for h in snap.hazards()] == [h.number for h in everything]
    assert snap._cached_rows == 3


def test_a_scan_reads_page_by_page_and_by_numbers(ledger, monkeypatch):
    monkeypatch.setattr(queries, "PAGE_ROWS", 3)
    numbers = [ledger.report_hazard(campaign="fire", unit=f"单位{i}", description="隐患", found_on=date(2020, 7, 1))
               for i in range(8)]
    ledger.withdraw(numbers[2], reason="重复登记")
    assert [h.number for h in ledger.each("hazards")] == sorted(numbers)  # withdrawn ones too
    assert [h.number for h in ledger.each("hazards", numbers=[numbers[5], numbers[1], "H-none"])] == \
        sorted([numbers[1], numbers[5]])
    assert list(ledger.each("measures")) == []
