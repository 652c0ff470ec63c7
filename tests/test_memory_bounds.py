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


def test_a_part_of_a_list_kept_whole_is_the_view_s_own_answer_and_costs_no_rows(ledger):
    for i in range(9):
        number = ledger.report_hazard(campaign="fire" if i % 3 else "hazchem", unit=f"单位{i}", description="隐患",
                                      found_on=date(2020, 6, 1), village="东港村" if i < 4 else "南阳村")
        if i % 2:
            ledger.plan_rectification(number, responsible_unit="东港村委会" if i < 5 else "南阳村委会",
                                      responsible_person="李四", measures="整改", funds=1, deadline=date(2020, 6, 20),
                                      contingency="预案", on=date(2020, 6, 2))
        if i == 7:
            ledger.withdraw(number, reason="重复登记")
    ledger.add_measure(campaign="fire", title="巡查制度", department="镇安监局", on=date(2020, 6, 1))
    queries_to_ask = [dict(campaign=c, village=v, department=d, include_withdrawn=w)
                      for c in (None, "fire", "hazchem") for v in (None, "东港村", "") for d in (None, "南阳村委会")
                      for w in (True, False)]
    fresh = ledger.snapshot(as_of=date(2020, 8, 1))
    expected = [fresh.hazards(**q) for q in queries_to_ask]  # each read from the view
    ledger.forget_snapshots()
    snap = ledger.snapshot(as_of=date(2020, 8, 1))
    whole = snap.hazards()
    kept = snap._cached_rows
    assert [snap.hazards(**q) for q in queries_to_ask] == expected
    assert any(h.overdue for h in snap.hazards(campaign="fire"))  # as of the snapshot's date
    assert snap._cached_rows == kept == len(whole) == 9
    assert snap.measures(campaign="fire", department="镇安监局") == fresh.measures(campaign="fire", department="镇安监局")


def test_older_snapshots_are_dropped_once_the_kept_rows_pass_the_budget(ledger, monkeypatch):
    monkeypatch.setattr(queries, "CACHE_ROWS", 5)
    for i in range(3):
        ledger.report_hazard(campaign="fire", unit=f"单位{i}", description="隐患", found_on=date(2020, 6, 1))
    first = ledger.snapshot(as_of=date(2020, 6, 10))
    first.hazards()  # 3 rows kept
    second = ledger.snapshot(as_of=date(2020, 6, 11))
    assert ledger.snapshot(as_of=date(2020, 6, 10)) is first  # 3 rows in all: both kept
    second.hazards()  # 6 rows in all now
    ledger.snapshot(as_of=date(2020, 6, 12))
    assert ledger.snapshot(as_of=date(2020, 6, 11)) is second
    assert ledger.snapshot(as_of=date(2020, 6, 10)) is not first  # the oldest went past the budget
