"""``report submit | diff | list``: one submission per period unless resubmitted with a reason; the
workbook exists exactly when the submission is recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

import qingdan
import qingdan.cli.report
from qingdan.cli import app
from qingdan.core.writes import UnitOfWork

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "cli.db")


def qd(db: str, *args: str, code: int | None = 0):
    result = runner.invoke(app, ["--db", db, "--actor", "安监办张三", *args])
    if code is not None:
        assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def hazard(db: str, description: str = "疏散通道堆放杂物", found_on: str = "2020-09-01") -> str:
    return qd(db, "hazard", "report", "-c", "fire", "-u", "南阳镇农贸市场", "-d", description,
              "--found-on", found_on, "--village", "南阳村").stdout.strip()


def reports(db: str) -> list:
    with qingdan.open_ledger(db) as ledger:
        return ledger.reports()


def hazards_in(workbook: Path) -> list[str]:
    """The hazard numbers of a workbook's 问题隐患清单, whatever its layout (form or register)."""
    rows = list(load_workbook(workbook, read_only=True)["问题隐患清单"].iter_rows(values_only=True))
    top = next(r for r, row in enumerate(rows) if "隐患编号" in row)
    column = rows[top].index("隐患编号")
    return [row[column] for row in rows[top + 1:] if str(row[column] or "").startswith("H-")]


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("cli.db"))


def test_a_second_submission_is_refused_without_resubmit(db, tmp_path):
    first = hazard(db)
    out = tmp_path / "九月.xlsx"
    qd(db, "report", "submit", "-p", "2020-09", "--on", "2020-09-25", "-o", str(out))
    original = out.read_bytes()
    hazard(db, "灭火器过期", "2020-09-10")
    refused = qd(db, "report", "submit", "-p", "2020-09", "--on", "2020-09-26", "-o", str(out), code=1)
    text = refused.stderr
    assert text.startswith("错误：") and "已报送 1 次" in text and "--resubmit --reason" in text
    assert "Usage" not in text and "Traceback" not in text
    assert out.read_bytes() == original and hazards_in(out) == [first]
    assert len(reports(db)) == 1
    # --resubmit needs a reason, --reason needs --resubmit; neither records anything
    no_reason = qd(db, "report", "submit", "-p", "2020-09", "--resubmit", code=1).stderr
    assert "须说明原因" in no_reason and "--reason" in no_reason
    assert "--resubmit" in qd(db, "report", "submit", "-p", "2020-09", "--reason", "补报", code=1).stderr
    assert "尚未报送过" in qd(db, "report", "submit", "-p", "2020-10", "--resubmit", "--reason", "x", code=1).stderr
    assert len(reports(db)) == 1 and files(tmp_path) == ["九月.pdf", "九月.xlsx"]


def test_a_resubmission_with_a_reason_is_recorded_listed_and_compared(db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = hazard(db)
    qd(db, "report", "submit", "-p", "2020-09", "--on", "2020-09-25")
    second = hazard(db, "灭火器过期", "2020-09-10")  # entered late: the 回头看 finds it
    done = qd(db, "report", "submit", "-p", "2020-09", "--on", "2020-09-28", "--resubmit",
              "--reason", "补报漏登的隐患")
    assert done.stdout.strip() == "R-2020-09"
    assert "已重新报送" in done.stderr and "第 2 次" in done.stderr and "补报漏登的隐患" in done.stderr
    # the original workbook is kept; the resubmission gets its own, of exactly what it recorded
    assert files(tmp_path) == ["南阳镇两个清单_2020-09.pdf", "南阳镇两个清单_2020-09.xlsx",
                               "南阳镇两个清单_2020-09_第2次报送.pdf", "南阳镇两个清单_2020-09_第2次报送.xlsx"]
    assert hazards_in(tmp_path / "南阳镇两个清单_2020-09.xlsx") == [first]
    assert hazards_in(tmp_path / "南阳镇两个清单_2020-09_第2次报送.xlsx") == [first, second]

    listed = json.loads(qd(db, "report", "list", "-f", "json").stdout)
    assert [(r["submission"], r["resubmit_reason"], r["hazard_count"]) for r in listed] == \
        [(1, None, 1), (2, "补报漏登的隐患", 2)]
    assert listed[1]["submitted_on"] == "2020-09-28" and listed[1]["actor"] == "安监办张三"
    table = qd(db, "report", "list", "-p", "2020-09")
    assert "两个清单报送记录（2020-09 期）" in table.stdout and "共 2 次报送，其中重新报送 1 次" in table.stderr
    assert "2020-09,全镇,2,2020-09-28" in qd(db, "report", "list", "-f", "csv").stdout
    assert json.loads(qd(db, "report", "list", "-p", "2020-10", "-f", "json").stdout) == []

    latest = json.loads(qd(db, "report", "diff", "-p", "2020-09", "-f", "json").stdout)
    original = json.loads(qd(db, "report", "diff", "-p", "2020-09", "--submission", "1", "-f", "json").stdout)
    assert latest["report"]["submission"] == 2 and latest["differences"] == []
    assert original["report"]["submission"] == 1
    assert [(d["number"], d["change"]) for d in original["differences"]] == [(second, "added")]
    shown = qd(db, "report", "diff", "-p", "2020-09", "--submission", "1")
    assert "对比第 1 次报送（2020-09-25）" in shown.stdout and "共报送 2 次" in shown.stderr
    shown = qd(db, "report", "diff", "-p", "2020-09", "-f", "md")
    assert shown.stdout.startswith("## 2020-09 两个清单回头看：对比第 2 次报送（2020-09-28，原因：补报漏登的隐患）")
    out = tmp_path / "回头看.xlsx"
    qd(db, "report", "diff", "-p", "2020-09", "-n", "1", "-f", "xlsx", "-o", str(out))
    assert "对比第 1 次报送（2020-09-25）" in load_workbook(out).active["A1"].value
    missing = qd(db, "report", "diff", "-p", "2020-09", "--submission", "3", code=1).stderr
    assert "只报送过 2 次" in missing


@pytest.mark.parametrize("where", ["missing/dir.xlsx", "."])
def test_a_bad_output_path_records_nothing(db, tmp_path, where, monkeypatch):
    monkeypatch.chdir(tmp_path)
    hazard(db)
    result = qd(db, "report", "submit", "-p", "2020-09", "--on", "2020-09-25", "-o", where, code=1)
    assert result.stderr.startswith("错误：无法写入") and ("不存在" in result.stderr or "文件夹" in result.stderr)
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert reports(db) == [] and files(tmp_path) == []


def test_a_failing_workbook_records_nothing_and_leaves_no_file(db, tmp_path, monkeypatch):
    hazard(db)
    out = tmp_path / "九月.xlsx"

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("qingdan.cli.report.write_workbook", broken)
    result = qd(db, "report", "submit", "-p", "2020-09", "--on", "2020-09-25", "-o", str(out), code=1)
    assert "写入" in result.stderr and "失败" in result.stderr
    assert reports(db) == [] and files(tmp_path) == []


def test_a_submission_that_fails_after_the_workbook_was_written_leaves_no_workbook(db, tmp_path, monkeypatch):
    hazard(db)
    out = tmp_path / "九月.xlsx"
    out.write_bytes(b"an older file the clerk kept")

    def failing_store(self, *args, **kwargs):
        raise RuntimeError("数据库写入失败")

    monkeypatch.setattr(UnitOfWork, "store", failing_store)
    result = qd(db, "report", "submit", "-p", "2020-09", "--on", "2020-09-25", "-o", str(out), code=1)
    assert "数据库写入失败" in result.stderr
    monkeypatch.undo()
    assert reports(db) == []
    assert out.read_bytes() == b"an older file the clerk kept" and files(tmp_path) == ["九月.xlsx"]


def test_when_the_lists_are_read_again_the_workbook_is_of_the_lists_recorded(db, tmp_path, monkeypatch):
    """Another writer gets in before the submission is stored: the ledger reads the lists again and
    calls ``prepare`` again; the workbook left is the second one, and only it."""
    from qingdan.core import writes
    from qingdan.core.domain import Report

    first = hazard(db)
    out = tmp_path / "九月.xlsx"
    original = UnitOfWork.store
    racing: list[str] = []
    prepared: list[int] = []
    write = qingdan.cli.report.write_workbook

    def counting_write(stream, sheets, *args, **kwargs):
        prepared.append(len(sheets[0].rows))
        return write(stream, sheets, *args, **kwargs)

    def store(self, aggregates, **kwargs):
        if not racing and any(isinstance(a, Report) for a in aggregates):
            racing.append("")
            with qingdan.open_ledger(db) as other:  # another clerk registers a hazard meanwhile
                racing[0] = other.report_hazard(campaign="fire", unit="东港村卫生室", description="灭火器过期",
                                                found_on="2020-09-05", village="东港村")
            raise writes.LogMoved
        return original(self, aggregates, **kwargs)

    monkeypatch.setattr(UnitOfWork, "store", store)
    monkeypatch.setattr("qingdan.cli.report.write_workbook", counting_write)
    qd(db, "report", "submit", "-p", "2020-09", "--on", "2020-09-25", "-o", str(out))
    monkeypatch.undo()
    assert prepared == [1, 2]  # written twice, the second time over the first
    [row] = reports(db)
    assert row.hazard_count == 2 and hazards_in(out) == [first, racing[0]]
    assert files(tmp_path) == ["九月.pdf", "九月.xlsx"]


def test_the_workbook_is_exactly_the_lists_recorded(db, tmp_path):
    hazard(db)
    out = tmp_path / "九月.xlsx"
    qd(db, "report", "submit", "-p", "2020-09", "--on", "2020-09-25", "-o", str(out))
    hazard(db, "灭火器过期", "2020-09-10")
    with qingdan.open_ledger(db) as ledger:
        [row] = ledger.reports()
        then = ledger.two_lists(as_of=row.as_of, known_at=row.known_at)
    assert hazards_in(out) == [h.number for h in then.hazards] and row.hazard_count == len(then.hazards)
