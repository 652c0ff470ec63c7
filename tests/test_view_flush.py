"""The view's write path at scale. A catch-up writes the rows of records it has finished with as it goes
(``FLUSH_ROWS``), so a large batch or rebuild holds few rows in memory: the view must come out exactly as
if written at the end. And the planner's statistics are refreshed as the log grows."""

from __future__ import annotations

from datetime import date

import qingdan
from qingdan.core import view as view_module
from qingdan.core.view import COLUMNS


def _rows(led: qingdan.Ledger) -> list[tuple]:
    return sorted(tuple("" if v is None else v for v in row)
                  for row in led._view.store.query(f"SELECT {COLUMNS} FROM qd_versions"))


def test_rows_written_early_are_those_of_finished_records(tmp_path, monkeypatch):
    with qingdan.open_ledger(str(tmp_path / "f.db"), actor="安监办") as led:
        _check(led, monkeypatch)


def _check(led: qingdan.Ledger, monkeypatch) -> None:
    numbers = [led.report_hazard(campaign="fire", unit=f"单位{i}", description=f"隐患{i}", found_on=date(2020, 8, 3))
               for i in range(4)]
    with led.batch():  # one catch-up: several records, each its own run
        for i, number in enumerate(numbers):
            led.plan_rectification(number, measures="整改", deadline=date(2020, 9, 1), on=date(2020, 8, 4 + i))
        led.report_hazard(campaign="fire", unit="单位9", description="隐患9", found_on=date(2020, 8, 5))
    for number in numbers[:2]:  # back-dated: earlier intervals are closed and re-cut
        led.complete_rectification(number, on=date(2020, 8, 20))
        led.correct(number, field="village", value="东港村", on=date(2020, 8, 3), reason="补录")
    expected = _rows(led)
    monkeypatch.setattr(view_module, "FLUSH_ROWS", 1)
    # a rebuild replays the whole log in one catch-up, where most records have several runs
    led.rebuild()
    assert _rows(led) == expected
    more = led.report_hazard(campaign="fire", unit="单位X", description="隐患X", found_on=date(2020, 8, 6))
    with led.batch():
        led.plan_rectification(more, measures="整改", on=date(2020, 8, 7))
        led.plan_rectification(numbers[3], responsible_person="李四", on=date(2020, 8, 8))
    assert led.verify_integrity().ok


def test_the_planner_statistics_are_refreshed_by_writes_as_the_log_doubles(tmp_path, monkeypatch):
    """The view is written inside the events' transaction: that path too must run ANALYZE as the
    log doubles (without statistics the lists' pages walk the wrong index and sort)."""
    monkeypatch.setattr(view_module, "STATISTICS_FROM", 4)
    with qingdan.open_ledger(str(tmp_path / "s.db"), actor="安监办") as led:
        with led.batch():
            for i in range(6):
                led.report_hazard(campaign="fire", unit=f"单位{i}", description=f"隐患{i}", found_on=date(2020, 8, 3))
        stats = led._view.store.query("SELECT tbl FROM sqlite_stat1 WHERE tbl = 'qd_versions'")
        assert stats
