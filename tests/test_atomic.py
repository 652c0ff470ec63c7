"""Every file qingdan writes is written whole or not at all (temporary file beside it, then a rename)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

import qingdan
from qingdan.cli import app
from qingdan.io.atomic import OutputPathError, atomic_write, check_output_path
from qingdan.io.layout import Column
from qingdan.io.writer import Sheet, write_workbook


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_failing_writer_leaves_no_temporary_file_and_no_target(tmp_path):
    target = tmp_path / "清单.csv"
    with pytest.raises(RuntimeError), atomic_write(target, "w") as stream:
        stream.write("序号,编号\n" * 1000)
        raise RuntimeError("写到一半出错")
    assert _names(tmp_path) == []


def test_an_existing_target_survives_a_failed_write(tmp_path):
    target = tmp_path / "清单.xlsx"
    target.write_bytes(b"the old workbook")
    os.chmod(target, 0o640)
    with pytest.raises(ZeroDivisionError), atomic_write(target, "wb") as stream:
        stream.write(b"half of a new one")
        1 / 0  # noqa: B018
    assert target.read_bytes() == b"the old workbook" and _names(tmp_path) == ["清单.xlsx"]
    with atomic_write(target, "wb") as stream:
        stream.write(b"the new workbook")
        assert target.read_bytes() == b"the old workbook"  # nothing shows until the rename
    assert target.read_bytes() == b"the new workbook" and _names(tmp_path) == ["清单.xlsx"]
    assert target.stat().st_mode & 0o777 == 0o640  # the replaced file's permissions are kept


def test_a_workbook_that_fails_half_way_leaves_the_old_one(tmp_path):
    target = tmp_path / "台账.xlsx"
    write_workbook(target, [Sheet("清单", "标题", (Column("a", "甲", ()),), [["旧"]])])
    old = target.read_bytes()

    def rows():
        yield ["新"]
        raise OSError(28, "No space left on device")

    class Failing(Sheet):
        pass

    sheet = Failing("清单", "标题", (Column("a", "甲", ()),), [])
    sheet.rows = _Rows(rows)
    with pytest.raises(OutputPathError) as error:
        write_workbook(target, [sheet])
    assert "原有文件" in str(error.value) and "未改动" in str(error.value)
    assert target.read_bytes() == old and _names(tmp_path) == ["台账.xlsx"]
    assert load_workbook(target).active["A3"].value == "旧"


class _Rows:
    """Rows that fail while being written (as a full disk would)."""

    def __init__(self, make):
        self.make = make

    def __iter__(self):
        return self.make()

    def __len__(self):
        return 1

    def __bool__(self):
        return True


def test_bad_paths_are_explained_in_chinese(tmp_path):
    with pytest.raises(OutputPathError, match="文件夹 .*不存在"):
        check_output_path(tmp_path / "没有" / "清单.xlsx")
    with pytest.raises(OutputPathError, match="这是一个文件夹"):
        check_output_path(tmp_path)
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(OutputPathError, match="不是文件夹"):
        check_output_path(tmp_path / "a.txt" / "清单.xlsx")
    assert _names(tmp_path) == ["a.txt"]


@pytest.fixture
def db(tmp_path) -> str:
    path = str(tmp_path / "ledger.db")
    with qingdan.open_ledger(path) as ledger:
        ledger.register_unit(name="恒达五金厂", kind="企业", village="南阳村", on=date(2020, 9, 1))
    return path


@pytest.mark.parametrize("args", [
    ["lists", "-f", "xlsx"], ["lists", "-f", "csv"], ["lists", "-f", "json"], ["lists", "-f", "md"],
    ["lists"], ["stats", "-f", "csv"], ["export"], ["export", "-f", "xlsx"], ["export", "-f", "csv"],
    ["unit", "list", "-f", "xlsx"],
])
def test_commands_refuse_a_missing_folder_or_a_folder_clearly(args, db, tmp_path):
    runner = CliRunner()
    for output, words in ((tmp_path / "没有的文件夹" / "out.x", "不存在"), (tmp_path, "这是一个文件夹")):
        result = runner.invoke(app, ["--db", db, *args, "-o", str(output)])
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith("错误：") and words in result.stderr and str(output) in result.stderr
        assert "Traceback" not in result.stderr and "Usage" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("ledger.db")) == []


@pytest.mark.parametrize("args", [
    ["lists", "-f", "xlsx"], ["lists", "-f", "csv"], ["lists", "-f", "json"], ["lists"],
    ["export"], ["export", "-f", "xlsx"], ["export", "-f", "csv"],
])
def test_commands_write_their_files_atomically(args, db, tmp_path, monkeypatch):
    target = tmp_path / "out.file"
    target.write_bytes(b"old")
    runner = CliRunner()

    def full_disk(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)  # every atomic write fails at its last step
    result = runner.invoke(app, ["--db", db, *args, "-o", str(target)])
    assert result.exit_code == 1 and "写入" in result.stderr and "未改动" in result.stderr, result.output
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.db", "out.file"]
    monkeypatch.undo()
    result = runner.invoke(app, ["--db", db, *args, "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes() != b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.db", "out.file"]
