"""``qingdan demo`` replaces only a demo ledger it made; everything else at the path is refused, untouched."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

import qingdan
from qingdan.cli import app
from qingdan.demo import DEMO_TABLE, NotADemoLedger, build_demo, inspect_target
from tests.conftest import make_catalogue


def _demo(db: Path, *extra: str):
    return CliRunner().invoke(app, ["demo", "--db", str(db), "--scale", "small", "--no-show", *extra])


def _fingerprint(folder: Path) -> dict[str, str]:
    """Every file in the folder with a hash of its bytes (so 'untouched' can be checked)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            out[str(p.relative_to(folder))] = hashlib.sha256(p.read_bytes()).hexdigest()
        else:
            out[str(p.relative_to(folder))] = "<dir>"
    return out


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    """One small demo ledger, built once; tests copy it."""
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    result = _demo(db)
    assert result.exit_code == 0, result.stderr
    return db


def _copy(db: Path, to: Path) -> Path:
    to.write_bytes(db.read_bytes())
    return to


def _real_ledger(path: Path) -> Path:
    with qingdan.open_ledger(str(path)) as ledger:
        ledger.register_unit(name="恒达五金厂", kind="企业", village="南阳村", on=date(2020, 9, 1))
    return path


def _other_sqlite(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL)")
    conn.execute("INSERT INTO invoices (amount) VALUES (12.5)")
    conn.commit()
    conn.close()
    return path


def _fresh_ledger(path: Path) -> Path:
    with qingdan.open_ledger(str(path)) as ledger:
        ledger.two_lists()
    return path


def _with_marker_forged(path: Path) -> Path:
    """A real ledger into which someone copied a marker table by hand (a wrong seal)."""
    _real_ledger(path)
    conn = sqlite3.connect(path)
    conn.execute(f"CREATE TABLE {DEMO_TABLE} (mark TEXT, position BIGINT, chain TEXT)")
    conn.execute(f"INSERT INTO {DEMO_TABLE} VALUES ('0000', 1, 'x')")
    conn.commit()
    conn.close()
    return path


def _demo_then_used(demo: Path, path: Path) -> Path:
    _copy(demo, path)
    with qingdan.open_ledger(str(path)) as ledger:
        ledger.register_unit(name="恒达五金厂", kind="企业", village="南阳村", on=date(2022, 9, 1))
    return path


def _demo_marker_moved(demo: Path, path: Path) -> Path:
    """A demo whose marker names an earlier position (e.g. copied from another demo)."""
    _copy(demo, path)
    conn = sqlite3.connect(path)
    conn.execute(f"UPDATE {DEMO_TABLE} SET position = position - 1")
    conn.commit()
    conn.close()
    return path


CASES = {
    "text file": (lambda demo, p: (p.write_text("台账备忘\n", encoding="utf-8"), p)[1], "不是 SQLite 数据库文件"),
    "empty file": (lambda demo, p: (p.write_bytes(b""), p)[1], "空文件"),
    "xlsx file": (lambda demo, p: (p.write_bytes(b"PK\x03\x04" + b"\0" * 60), p)[1], "不是 SQLite 数据库文件"),
    "another program's SQLite": (lambda demo, p: _other_sqlite(p), "不是 qingdan 台账"),
    "a real ledger with events": (lambda demo, p: _real_ledger(p), "已登记 1 个事件"),
    "a ledger without events": (lambda demo, p: _fresh_ledger(p), "还没有登记任何事件"),
    "a real ledger with a hand-made marker": (lambda demo, p: _with_marker_forged(p), "标记已损坏"),
    "a demo used afterwards": (_demo_then_used, "建成后又登记了 1 个事件"),
    "a demo whose marker does not fit": (_demo_marker_moved, "标记已损坏"),
    "a folder": (lambda demo, p: (p.mkdir(), p)[1], "文件夹"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_anything_but_its_own_demo_is_refused_and_left_untouched(case, demo_db, tmp_path):
    make, words = CASES[case]
    target = make(demo_db, tmp_path / "台账.db")
    before = _fingerprint(tmp_path)
    result = _demo(target)
    assert result.exit_code == 1, result.output
    text = result.stderr
    assert text.startswith("错误：") and str(target) in text and words in text
    assert "演示没有改动它" in text and "另选" in text and "Traceback" not in text
    assert _fingerprint(tmp_path) == before  # nothing deleted, nothing left behind
    with pytest.raises(NotADemoLedger):
        build_demo(str(target), scale="small")
    assert _fingerprint(tmp_path) == before


def test_a_stray_journal_without_its_database_is_refused(tmp_path):
    (tmp_path / "demo.db-wal").write_bytes(b"\x37\x7f\x06\x82" + b"\0" * 28)
    before = _fingerprint(tmp_path)
    result = _demo(tmp_path / "demo.db")
    assert result.exit_code == 1 and "demo.db-wal" in result.stderr
    assert _fingerprint(tmp_path) == before


def test_a_missing_path_is_built_and_its_own_demo_is_replaced(demo_db, tmp_path):
    assert inspect_target(str(tmp_path / "new.db")).state == "absent"
    db = _copy(demo_db, tmp_path / "demo.db")
    assert inspect_target(str(db)).state == "demo"
    with qingdan.open_ledger(str(db)) as ledger:  # reading a demo (and rebuilding its view) keeps it a demo
        ledger.rebuild()
        hazards = len(ledger.two_lists(as_of=date(2022, 12, 31), include_withdrawn=True).hazards)
    result = _demo(db)
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.db"]  # no temporary files left
    with qingdan.open_ledger(str(db)) as ledger:  # replaced, not added to
        assert len(ledger.two_lists(as_of=date(2022, 12, 31), include_withdrawn=True).hazards) == hazards
    assert inspect_target(str(db)).state == "demo"


def test_a_failed_build_leaves_the_previous_demo_as_it_was(demo_db, tmp_path, monkeypatch):
    db = _copy(demo_db, tmp_path / "demo.db")
    before = _fingerprint(tmp_path)

    def broken(self):
        raise RuntimeError("演示故事出错")

    monkeypatch.setattr("qingdan.demo.Story.plan_reports", broken)
    result = _demo(db)
    assert result.exit_code == 1 and "演示故事出错" in result.stderr
    assert _fingerprint(tmp_path) == before
    assert inspect_target(str(db)).state == "demo"


def test_the_demo_workbook_does_not_overwrite_a_file_it_did_not_leave(tmp_path):
    mine = tmp_path / "demo.xlsx"
    mine.write_bytes(b"my own workbook")
    result = CliRunner().invoke(app, ["demo", "--db", str(tmp_path / "demo.db"), "--scale", "small"])
    assert result.exit_code == 0, result.stderr
    assert mine.read_bytes() == b"my own workbook" and "未覆盖" in result.stderr


def test_postgres_a_real_ledger_is_refused_and_a_demo_replaced(pg_schema):
    catalogue = make_catalogue()
    first = build_demo(pg_schema, scale="small", catalogue=catalogue)
    assert first.rejected == []
    assert inspect_target(pg_schema).state == "demo"
    again = build_demo(pg_schema, scale="small", catalogue=catalogue)
    with qingdan.open_ledger(pg_schema, catalogue=catalogue) as ledger:
        hazards = ledger.two_lists(as_of=date(2022, 12, 31), include_withdrawn=True).hazards
        assert len(hazards) == again.hazards  # replaced, not doubled
        ledger.register_unit(name="恒达五金厂", kind="企业", village="南阳村", on=date(2022, 9, 1))
        events = ledger.last_position()
    with pytest.raises(NotADemoLedger) as refused:
        build_demo(pg_schema, scale="small", catalogue=catalogue)
    assert "建成后又登记了 1 个事件" in str(refused.value) and "schema" in str(refused.value)
    with qingdan.open_ledger(pg_schema, catalogue=catalogue) as ledger:
        assert ledger.last_position() == events


def test_postgres_a_ledger_that_is_not_a_demo_is_refused(pg_schema):
    catalogue = make_catalogue()
    with qingdan.open_ledger(pg_schema, catalogue=catalogue) as ledger:
        ledger.register_unit(name="恒达五金厂", kind="企业", village="南阳村", on=date(2020, 9, 1))
    with pytest.raises(NotADemoLedger) as refused:
        build_demo(pg_schema, scale="small", catalogue=catalogue)
    assert "已登记 1 个事件" in str(refused.value) and "password" not in str(refused.value)
    with qingdan.open_ledger(pg_schema, catalogue=catalogue) as ledger:
        assert len(ledger._app.recorder.select_notifications(start=1, limit=10)) == 1
