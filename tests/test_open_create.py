"""Reads never create or alter a database; another application's database is refused (issue 20, 3).

On both backends: ``open_ledger(create=False)`` on a location without a ledger raises ``NoLedger``
naming it and leaves nothing behind; ``create="new"`` creates only where nothing exists yet; a
database holding other tables but no ledger is refused for every ``create`` and left as it was. The
command line: reads use ``create=False``, writes ``"new"``, ``--init`` ``True``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

import qingdan
from qingdan.cli import app
from qingdan.core.errors import InvalidCommand, NoLedger

runner = CliRunner()


def _pg_tables(url: str) -> list[str]:
    import psycopg

    base, schema = url.split("?schema=")
    with psycopg.connect(base, autocommit=True) as conn:
        return [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename", (schema,))]


def _pg_execute(url: str, statement: str) -> None:
    import psycopg

    base, schema = url.split("?schema=")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        conn.execute(statement)


def _tables(url: str) -> list[str] | None:
    """The tables at ``url`` (None: no SQLite file there)."""
    if url.startswith("postgresql://"):
        return _pg_tables(url)
    if not Path(url).exists():
        return None
    with sqlite3.connect(url) as conn:
        return sorted(r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))


def test_a_read_of_a_missing_ledger_names_it_and_creates_nothing(ledger_url: str):
    with pytest.raises(NoLedger, match="没有台账") as caught:
        qingdan.open_ledger(ledger_url, create=False)
    assert ("模式" if ledger_url.startswith("postgresql") else ledger_url) in str(caught.value)
    assert _tables(ledger_url) in (None, [])


def test_a_write_creates_where_nothing_is_then_reads_find_it(ledger_url: str):
    with qingdan.open_ledger(ledger_url, create="new") as ledger:
        ledger.report_hazard(campaign="fire", unit="南阳饭店", description="x", found_on="2024-03-01")
    with qingdan.open_ledger(ledger_url, create=False) as ledger:
        assert len(ledger.two_lists().hazards) == 1
    with qingdan.open_ledger(ledger_url, create="new") as ledger:  # "new" also opens an existing ledger
        assert len(ledger.two_lists().hazards) == 1


@pytest.mark.parametrize("create", [False, "new", True])
def test_another_applications_database_is_refused_and_left_alone(ledger_url: str, create):
    if ledger_url.startswith("postgresql"):
        _pg_execute(ledger_url, "CREATE TABLE customers (id INTEGER)")
    else:
        with sqlite3.connect(ledger_url) as conn:
            conn.execute("CREATE TABLE customers (id INTEGER)")
    with pytest.raises(InvalidCommand, match="customers.*没有台账"):
        qingdan.open_ledger(ledger_url, create=create)
    assert _tables(ledger_url) == ["customers"]


def test_another_eventsourcing_application_is_not_a_ledger(tmp_path: Path):
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE stored_events (topic TEXT)")
        conn.execute("INSERT INTO stored_events VALUES ('shop.domain:Order.Created')")
    with pytest.raises(InvalidCommand, match="stored_events"):
        qingdan.open_ledger(str(path))
    assert _tables(str(path)) == ["stored_events"]


def test_an_empty_sqlite_file_needs_init(tmp_path: Path):
    path = tmp_path / "empty.db"
    path.touch()
    for create in (False, "new"):
        with pytest.raises(NoLedger, match="空数据库.*--init"):
            qingdan.open_ledger(str(path), create=create)
    assert path.stat().st_size == 0
    qingdan.open_ledger(str(path), create=True).disconnect()
    qingdan.open_ledger(str(path), create=False).disconnect()


def test_a_folder_or_a_file_that_is_no_database_is_refused(tmp_path: Path):
    text = tmp_path / "notes.txt"
    text.write_text("not a database " * 100)
    for where in (tmp_path, text):
        with pytest.raises(InvalidCommand, match="不是台账数据库"):
            qingdan.open_ledger(str(where))
    assert text.read_text() == "not a database " * 100


def test_postgres_schema_that_does_not_exist_is_named(pg_schema: str):
    missing = pg_schema.rsplit("=", 1)[0] + "=qd_no_such_schema"
    with pytest.raises(NoLedger, match="qd_no_such_schema"):
        qingdan.open_ledger(missing)


# -- the command line ---------------------------------------------------------------------------


def qd(url: str, *args: str):
    return runner.invoke(app, ["--db", url, "--actor", "安监办张三", *args])


@pytest.mark.parametrize("read", [["lists"], ["hazard", "show", "H-fire-2024-0001"], ["unit", "list"],
                                  ["verify"], ["rebuild"], ["report", "list"], ["export", "-f", "jsonl"]])
def test_cli_reads_of_a_mistyped_path_fail_and_create_nothing(tmp_path: Path, read):
    url = str(tmp_path / "mistyped.db")
    result = qd(url, *read)
    assert result.exit_code == 1, result.stderr
    assert "没有台账" in result.stderr and url in result.stderr and "内部错误" not in result.stderr
    assert not list(tmp_path.iterdir())


def test_cli_import_dry_run_without_a_ledger_checks_against_an_empty_one(tmp_path: Path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["单位名称", "隐患描述", "排查日期", "专项"])
    book.active.append(["南阳饭店", "灭火器过期", "2024-03-01", "消防"])
    book.save(tmp_path / "t.xlsx")
    url = str(tmp_path / "new.db")
    result = qd(url, "import", "--dry-run", str(tmp_path / "t.xlsx"))
    assert result.exit_code == 0 and "未写入" in result.stderr, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.xlsx"]


def test_cli_writes_create_only_at_a_new_path_or_with_init(ledger_url: str, tmp_path: Path):
    report = ["hazard", "report", "-c", "fire", "-u", "南阳饭店", "-d", "x", "--found-on", "2021-03-01"]
    assert qd(ledger_url, "lists").exit_code == 1
    result = qd(ledger_url, *report)
    assert result.exit_code == 0, result.stderr
    assert qd(ledger_url, "lists").exit_code == 0
    empty = tmp_path / "empty.db"
    empty.touch()
    result = qd(str(empty), *report)
    assert result.exit_code == 1 and "--init" in result.stderr
    assert empty.stat().st_size == 0
    assert runner.invoke(app, ["--db", str(empty), "--init", *report]).exit_code == 0
    assert qd(str(empty), "lists").exit_code == 0


def test_cli_refuses_another_applications_database_for_reads_and_writes(ledger_url: str):
    if ledger_url.startswith("postgresql"):
        _pg_execute(ledger_url, "CREATE TABLE customers (id INTEGER)")
    else:
        with sqlite3.connect(ledger_url) as conn:
            conn.execute("CREATE TABLE customers (id INTEGER)")
    for args in (["lists"], ["hazard", "report", "-c", "fire", "-u", "x", "-d", "y"],
                 ["--init", "unit", "add", "-n", "x", "-k", "饭店"]):
        result = qd(ledger_url, *args)
        assert result.exit_code == 1 and "customers" in result.stderr, (args, result.stderr)
    assert _tables(ledger_url) == ["customers"]
