"""A command either fully happens or visibly did not — on a disk that fills up while it writes.

The ledger lives on a small tmpfs (``mount -t tmpfs``: needs root, as CI has; skipped elsewhere with
the reason). The disk is filled to within a few bytes to a few pages of full, and for each margin a
command and an import are run: either everything is recorded (events, view and chain agree) or the
clerk is told nothing was recorded and nothing was — never "内部错误" with the events committed.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

import qingdan
from qingdan.cli import app
from qingdan.core.errors import WriteFailed

MARGINS = (0, 4096, 12_288, 32_768, 65_536, 131_072)


@pytest.fixture
def small_disk(tmp_path: Path):
    where = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    where.mkdir()
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(where)],
                              capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as error:
        pytest.skip(f"cannot mount a tmpfs here ({error}); CI runs this as root")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode}); CI runs this as root")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=10)


def fill(disk: Path, margin: int) -> Path:
    """Fill the disk, then free ``margin`` bytes; returns the filler (delete it to make room)."""
    filler = disk / "filler"
    chunk = b"\0" * 65_536
    with filler.open("wb") as stream:
        try:
            while True:
                stream.write(chunk)
                stream.flush()
        except OSError as error:
            assert error.errno == errno.ENOSPC
    size = filler.stat().st_size
    os.truncate(filler, max(0, size - margin))
    return filler


def squeeze(db: Path) -> None:
    """Empty the write-ahead log, so the next write needs new space on the disk."""
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def counts(db: Path) -> tuple[int, int, int]:
    """(events, chained events, view position) as stored."""
    with sqlite3.connect(db) as conn:
        return (conn.execute("SELECT count(*) FROM stored_events").fetchone()[0],
                conn.execute("SELECT count(*) FROM qd_chain").fetchone()[0],
                conn.execute("SELECT position FROM qd_tracking WHERE name = 'two_lists'").fetchone()[0])


@pytest.mark.parametrize("margin", MARGINS)
def test_a_command_on_a_full_disk_is_recorded_whole_or_says_nothing_was(small_disk, catalogue, margin):
    db = small_disk / "ledger.db"
    with qingdan.open_ledger(str(db), actor="安监办", catalogue=catalogue) as ledger:
        first = ledger.report_hazard(campaign="fire", unit="超市", description="通道堵塞")
        ledger.report_progress(first, text="已督促")
        squeeze(db)
        before = counts(db)
        filler = fill(small_disk, margin)
        try:
            ledger.report_hazard(campaign="fire", unit="农贸市场", description="灭火器过期" * 200,
                                 note="备注" * 500)
        except WriteFailed as error:
            assert "没有记下任何内容" in str(error) and "磁盘已满" in str(error)
            assert counts(db) == before, "told nothing was recorded, but something was"
            failed = True
        else:
            assert counts(db) == (before[0] + 1, before[1] + 1, before[2] + 1)
            failed = False
        filler.unlink()
        # The ledger goes on: the next command works and the whole ledger verifies.
        ledger.report_progress(first, text="再次督促")
        assert ledger.verify_integrity().ok
        assert len(ledger.two_lists().hazards) == (1 if failed else 2)
    assert counts(db)[0] == counts(db)[2]


@pytest.mark.parametrize("margin", MARGINS[:4])
def test_an_import_on_a_full_disk_is_recorded_whole_or_says_nothing_was(small_disk, margin, monkeypatch):
    monkeypatch.setenv("QINGDAN_ACTOR", "安监办")
    monkeypatch.delenv("QINGDAN_POLICY", raising=False)
    db = small_disk / "ledger.db"
    rows = ["单位名称,村（居）,排查日期,隐患描述,整改状态,完成日期"]
    rows += [f"单位{i},东港村,2020-09-01,隐患描述{i}{'x' * 200},已整改,2020-09-20" for i in range(120)]
    source = small_disk.parent / "台账.csv"
    source.write_text("\n".join(rows), encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(app, ["--db", str(db), "hazard", "report", "-c", "general", "--unit", "超市",
                               "--description", "通道", "--found-on", "2021-03-01"]).exit_code == 0
    squeeze(db)
    before = counts(db)
    filler = fill(small_disk, margin)
    result = runner.invoke(app, ["--db", str(db), "import", str(source), "-c", "general"])
    assert "内部错误" not in result.output
    if result.exit_code == 0:
        assert counts(db) == (before[0] + 240, before[1] + 240, before[2] + 240)
    else:
        assert "没有记下任何内容" in result.stderr and "磁盘已满" in result.stderr, result.output
        assert counts(db) == before
    filler.unlink()
    with qingdan.open_ledger(str(db)) as ledger:
        assert ledger.verify_integrity().ok


def test_a_view_that_cannot_follow_the_commit_says_the_facts_are_recorded(ledger, monkeypatch):
    """Where the view cannot be updated in the write's own transaction (it was behind), and then
    cannot be caught up either: the error says the facts are recorded and the view will catch up."""
    from qingdan.core.errors import ViewBehind
    from qingdan.core.view import View

    n = ledger.report_hazard(campaign="fire", unit="超市", description="通道堵塞")
    real = View.catch_up

    def broken(self, *args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(View, "apply_within", lambda self, conn, recordings, previous: False)
    monkeypatch.setattr(View, "catch_up", broken)
    before = ledger.last_position()
    with pytest.raises(ViewBehind, match=r"已记下 1 个事件（数据已保存，请不要重复登记）.*磁盘已满.*会自动补上"):
        ledger.report_progress(n, text="已督促")
    assert ledger.last_position() == before + 1
    monkeypatch.setattr(View, "catch_up", real)
    assert ledger.two_lists().hazards[0].last_progress_on is not None  # the next read caught the view up
    assert ledger.verify_integrity().ok
