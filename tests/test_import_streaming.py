"""A large import in bounded memory: each row's record is set aside once its row has run, its events
wait in the batch's temporary file, and the one transaction stores them a chunk at a time — still all
or nothing, still restamped and renumbered under the write lock, the view and the chain the same as
for a batch held whole. (The memory figure itself is a bench step: ``bench/steps.py import_50k``.)"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

import qingdan
from qingdan.core import batching
from qingdan.core.clock import CST
from qingdan.core.errors import WriteFailed
from qingdan.core.view import View
from qingdan.io import importer
from qingdan.io.importer import ImportRejected, import_file

ROWS = 3_000


def write_file(path: Path, rows: int = ROWS, *, bad_row: int | None = None, tag: str = "导入") -> Path:
    """``rows`` hazards, every third closed (five events), the others planned (two); ``bad_row``
    (a file row, the header being row 1) has a completion date before it was found."""
    lines = ["单位名称,隐患描述,排查日期,整改责任单位,整改责任人,整改措施,整改期限,整改状态,整改完成日期,验收日期,销号日期,专项"]
    for i in range(rows):
        found = date(2020, 9, 1) + timedelta(days=i % 60)
        done = found + timedelta(days=5)
        if i + 2 == bad_row:
            done = found - timedelta(days=3)
        if i % 3 == 0:
            lines.append(f"{tag}单位{i},隐患{i},{found},{tag}单位{i},王伟,整改,{found + timedelta(days=30)},已销号,"
                         f"{done},{done},{done},fire")
        else:
            lines.append(f"{tag}单位{i},隐患{i},{found},{tag}单位{i},王伟,整改,{found + timedelta(days=30)},整改中,,,,fire")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 50 events: a few thousand rows are stored in a couple of hundred chunks."""
    monkeypatch.setattr(batching, "SPILL_CHUNK", 50)


def test_a_streamed_import_stores_every_row_and_verifies(ledger_url, small_chunks, tmp_path):
    with qingdan.open_ledger(ledger_url, actor="安监办") as ledger:
        result = import_file(ledger, write_file(tmp_path / "t.csv"))
        assert result.counts["new"] == ROWS and result.events == ROWS // 3 * 5 + (ROWS - ROWS // 3) * 2
        assert ledger.last_position() == result.events
        hazards = ledger.two_lists(as_of=date(2020, 12, 31), include_withdrawn=True).hazards
        assert len(hazards) == ROWS
        assert sum(h.status == "closed" for h in hazards) == ROWS // 3
        # one batch, one recorded time, whatever the chunks
        times = {e.recorded_at for e in ledger.events(after=0, limit=None)}
        assert len(times) == 1
        report = ledger.verify_integrity()
        assert report.ok, report.problems
        assert import_file(ledger, tmp_path / "t.csv").events == 0  # again: nothing new


def test_a_rule_broken_near_the_end_writes_nothing_and_names_row_and_column(ledger_url, small_chunks, tmp_path):
    with qingdan.open_ledger(ledger_url, actor="安监办") as ledger:
        ledger.report_hazard(campaign="fire", unit="先到", description="已有", found_on=date(2020, 9, 1))
        before = ledger.last_position()
        bad = ROWS - 9 + 2  # the file row of hazard 2,991 (a closed one)
        with pytest.raises(ImportRejected) as caught:
            import_file(ledger, write_file(tmp_path / "t.csv", bad_row=bad))
        assert [(e.row, e.column) for e in caught.value.errors] == [(bad, "整改完成日期")]
        assert f"第 {bad} 行" in str(caught.value)
        assert ledger.last_position() == before
        assert [h.unit for h in ledger.two_lists(as_of=date(2020, 12, 31)).hazards] == ["先到"]


def test_a_write_that_fails_after_some_chunks_are_in_writes_nothing(ledger_url, small_chunks, tmp_path,
                                                                   monkeypatch):
    """The database refuses the view's rows of a later chunk (disk full, say): the events and view rows
    of the chunks already inserted in the transaction go with it."""
    real = View.apply_within
    calls = []

    def fails_on_the_fifth(self, conn, recordings, previous):
        calls.append(len(recordings))
        if len(calls) == 5:
            raise OSError("disk I/O error")
        return real(self, conn, recordings, previous)

    monkeypatch.setattr(View, "apply_within", fails_on_the_fifth)
    with qingdan.open_ledger(ledger_url, actor="安监办") as ledger:
        with pytest.raises(WriteFailed, match="没有记下任何内容"):
            import_file(ledger, write_file(tmp_path / "t.csv"))
        assert len(calls) == 5 and all(calls)  # four chunks were in the transaction
        assert ledger.last_position() == 0 and not ledger.two_lists(as_of=date(2020, 12, 31)).hazards
        monkeypatch.setattr(View, "apply_within", real)
        assert import_file(ledger, tmp_path / "t.csv").counts["new"] == ROWS
        assert ledger.verify_integrity().ok


def test_chunks_are_restamped_after_the_log_and_keep_one_recorded_time(ledger_url, small_chunks, tmp_path):
    """The importing clerk's clock is an hour behind the one who wrote last: every chunk is raised to
    just after the log's last event, and all of them to the same moment."""
    ahead = datetime(2021, 1, 10, 10, tzinfo=CST)
    with qingdan.open_ledger(ledger_url, actor="甲", clock=lambda: ahead) as first:
        first.report_hazard(campaign="fire", unit="先到", description="已有", found_on=date(2020, 9, 1))
        last = next(iter(first.events(after=0, limit=None))).recorded_at
    with qingdan.open_ledger(ledger_url, actor="乙", clock=lambda: ahead - timedelta(hours=1)) as ledger:
        import_file(ledger, write_file(tmp_path / "t.csv", rows=300))
        times = {e.recorded_at for e in ledger.events(after=1, limit=None)}
        assert len(times) == 1 and min(times) > last
        assert ledger.verify_integrity().ok


def test_numbers_taken_meanwhile_are_replaced_in_every_chunk(ledger_url, small_chunks, tmp_path):
    """Another clerk registers hazards under numbers the import had planned (rows spread over many
    chunks): the import's records get the next free numbers, in every chunk, nothing twice."""
    with qingdan.open_ledger(ledger_url, actor="安监办") as ledger, \
            qingdan.open_ledger(ledger_url, actor="另一位办事员") as other:
        taken: list[str] = []

        def meanwhile(stage, done, total):
            if stage == "检查" and not taken:
                taken.extend(other.report_hazard(campaign="fire", unit=f"同时{i}", description="同时登记",
                                                 found_on=date(2020, 9, 2)) for i in range(40))

        result = import_file(ledger, write_file(tmp_path / "t.csv", rows=400), progress=meanwhile)
        numbers = [h.number for h in ledger.two_lists(as_of=date(2020, 12, 31)).hazards]
        assert len(numbers) == len(set(numbers)) == 440
        imported = [r.number for r in result.rows]
        assert len(imported) == 400 and not set(imported) & set(taken)
        units = {h.number: h.unit for h in ledger.two_lists(as_of=date(2020, 12, 31)).hazards}
        assert [units[n] for n in imported] == [f"导入单位{i}" for i in range(400)]
        report = ledger.verify_integrity()
        assert report.ok, report.problems


def test_updates_of_existing_records_are_streamed_too(ledger_url, small_chunks, tmp_path):
    """A second file moves every open hazard on: the view's earlier rows of each record travel with its
    chunk, and the result is what folding the log says."""
    with qingdan.open_ledger(ledger_url, actor="安监办") as ledger:
        import_file(ledger, write_file(tmp_path / "t.csv", rows=300))
        text = (tmp_path / "t.csv").read_text(encoding="utf-8")
        moved = text.replace(",整改中,,,,fire", ",已整改,2020-12-01,,,fire")
        (tmp_path / "u.csv").write_text(moved, encoding="utf-8")
        result = import_file(ledger, tmp_path / "u.csv", on=date(2020, 12, 1))
        assert result.counts["updated"] == 200 and result.counts["unchanged"] == 100
        hazards = ledger.two_lists(as_of=date(2020, 12, 31)).hazards
        assert sum(h.completed_on == date(2020, 12, 1) for h in hazards) == 200
        assert ledger.verify_integrity().ok


def test_a_record_set_aside_is_counted_as_taken_and_not_changed_again(ledger):
    with ledger.batch():
        first = ledger.report_hazard(campaign="fire", unit="甲", description="一", found_on=date(2020, 7, 1))
        ledger.set_aside(first)
        second = ledger.report_hazard(campaign="fire", unit="乙", description="二", found_on=date(2020, 7, 1))
        assert second != first  # the number allocation sees the record set aside
        with pytest.raises(RuntimeError, match="set aside"):
            ledger.escalate(first, supervisor="县安委办", level="县")
        ledger.set_aside(second)
    assert [h.number for h in ledger.two_lists(as_of=date(2020, 12, 31)).hazards] == [first, second]


def test_the_result_describes_the_first_rows_and_counts_all(ledger_url, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "DETAIL_ROWS", 10)
    with qingdan.open_ledger(ledger_url, actor="安监办") as ledger:
        result = import_file(ledger, write_file(tmp_path / "t.csv", rows=30), dry_run=True)
        assert [r.row for r in result.rows] == list(range(2, 12))
        assert result.counts["new"] == 30 and result.events == 10 * 5 + 20 * 2 and not result.described
        assert ledger.last_position() == 0
        assert import_file(ledger, tmp_path / "t.csv").described is False
        assert len(ledger.two_lists(as_of=date(2020, 12, 31)).hazards) == 30


def test_errors_are_listed_up_to_the_limit_and_all_counted(ledger, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "MAX_ERRORS", 20)
    lines = ["单位名称,隐患描述,排查日期,专项"] + [f"单位{i},隐患{i},2020-02-30,fire" for i in range(50)]
    (tmp_path / "bad.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as caught:
        import_file(ledger, tmp_path / "bad.csv")
    assert len(caught.value.errors) == 20 and caught.value.total == 50
    assert "文件中有 50 处错误" in str(caught.value) and "另有 30 处错误未列出" in str(caught.value)
