"""Hostile values through every command and its output (issue 20, deliverable 6).

Each example feeds one value — rich markup, ESC sequences, Unicode format characters, huge text,
dates at the ends of the calendar — into one option of one command (CliRunner over the typer app)
on a copy of a small ledger, then reads the lists, a hazard's page and its history back. Asserted:
no traceback and no "内部错误", no raw ESC (nor any other refused character) in anything written to
the terminal, an exit status of 0, 1 or 2, and a rejected command writes nothing (the event count
and the folder's files are unchanged). Small on purpose: it runs in seconds.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import qingdan
from qingdan.cli import app
from qingdan.core.text import REFUSED_CATEGORIES, bad_characters

runner = CliRunner()
NUMBER = "H-fire-2024-0001"

#: Fragments an attacker (or a careless copy and paste) puts into a text.
HOSTILE = ["[/bold]", "[conceal]", "[bold red]", "[link=file:///etc/passwd]x[/link]", "\x1b[2J", "\x1b[31m",
           "\x1b]8;;http://x\x07", "\x9b31m", "\u202e", "\u2066", "\u2069", "\u200b", "\u200d", "\ufeff",
           "\U000e0041", "\u2028", "\r", "\x00", "\x7f", "南阳饭店", "ＡＢＣ", "=HYPERLINK(\"x\")", "../", "%s",
           "{0}", "'", "\"", "\\", "\n", "\t"]
EXTREME = ["", " ", "0001-01-01T00:00", "9999-12-31T23:59-05:00", "2021-03-01T25:00", "2021-02-30",
           "0000-01", "9999-12", "0000-H1", "9999", "风险等级=bad", "=", "-1", "1e309", "nan", "inf",
           "99999999999999999999", "a" * 200_001, "南" * 1_000_000]
VALUES = st.one_of(
    st.sampled_from(EXTREME),
    st.lists(st.sampled_from(HOSTILE), min_size=1, max_size=6).map("".join),
    st.text(alphabet="[]/=\x1b\x9b\u202e\u2066\u200b\U000e0041\x00\r\n南x-:T0123456789", max_size=12),
)

#: Options left out of the slots: the output's format and file (tested on their own below), and the
#: commands that start a server, build a demo or write a policy file.
SKIPPED_PARAMS = {"fmt", "output", "db", "policy", "profile_file", "layout", "help"}
SKIPPED_COMMANDS = {"serve", "demo", "token create", "policy set"}  # a policy would lock the fuzz out
#: A valid value for each required parameter, by name (per noun where it differs).
REQUIRED = {"campaign": "fire", "unit": "南阳饭店", "description": "灭火器过期", "supervisor": "县安委办",
            "deadline": "2024-05-01", "reason": "笔误", "text": "进展", "inspector": "王明", "field": "单位名称",
            "value": "1", "title": "消防制度", "department": "消防站", "doc_no": "南政〔2024〕1号",
            "name": "南阳饭店", "kind": "饭店", "period": "2024-03", "task_id": "fire.1",
            "target_id": "fire.lane_marking_rate", "projection_id": "fire.summary", "file": "台账.csv",
            "sha256": "0" * 64}
NUMBERS = {"hazard": NUMBER, "measure": "M-fire-2024-0001", "unit": "U-00001"}
FLAGS = {"approved": "--approve", "passed": "--passed"}


def _leaves(command, path):
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _leaves(sub, [*path, name])
    else:
        yield path, command


def _slots() -> dict[str, list[list[str]]]:
    """For every command and every option or argument that takes a value, one command line with
    that value left as ``V`` and the other required ones valid; by command."""
    import typer.main

    slots: dict[str, list[list[str]]] = {}
    for path, command in _leaves(typer.main.get_command(app), []):
        if " ".join(path) in SKIPPED_COMMANDS:
            continue
        params = [p for p in command.params if p.name not in SKIPPED_PARAMS]
        for hole in params:
            if getattr(hole, "is_flag", False):
                continue
            args = list(path)
            for p in params:
                if p is not hole and not p.required:
                    continue
                if getattr(p, "is_flag", False):
                    args.append(FLAGS[p.name])
                    continue
                value = "V" if p is hole else (NUMBERS[path[0]] if p.name == "number" else REQUIRED[p.name])
                args += [value] if p.param_type_name == "argument" else [max(p.opts, key=len), value]
            slots.setdefault(" ".join(path), []).append(args)
    return slots


BY_COMMAND = _slots()
#: The root options' slots.
BY_COMMAND["--actor"] = [["--actor", "V", "hazard", "progress", NUMBER, "--text", "进展"]]
BY_COMMAND["--township"] = [["--township", "V", "lists"]]
SLOTS = [slot for slots in BY_COMMAND.values() for slot in slots]
READ_BACK = [["lists"], ["hazard", "show", NUMBER], ["hazard", "history", NUMBER], ["unit", "list"],
             ["lists", "-f", "md"], ["lists", "-f", "csv"]]


@pytest.fixture(scope="module")
def ledger_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fuzz") / "base.db"
    with qingdan.open_ledger(str(path), actor="安监办张三") as ledger:
        number = ledger.report_hazard(campaign="fire", unit="南阳饭店", description="灭火器过期",
                                      found_on="2024-03-01", on="2024-03-01")
        assert number == NUMBER
        ledger.register_unit(name="南阳饭店", kind="饭店", on="2024-03-01")
        ledger.add_measure(campaign="fire", title="消防制度", department="消防站", on="2024-03-01")
    path.with_name("台账.csv").write_text("单位名称,隐患描述,排查日期,专项\n瑞丰宾馆,消防通道堵塞,2024-03-02,消防\n",
                                        encoding="utf-8")
    return path


@contextmanager
def inside(folder: Path):
    old = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(old)


def files(folder: Path) -> list[str]:
    """The folder's files but SQLite's own journal files of the ledger."""
    return sorted(n for n in os.listdir(folder) if not n.endswith(("-wal", "-shm")))


def events(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0]


def check_output(result, what: object) -> None:
    shown = result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), (what, repr(result.exception))
    assert "内部错误" not in shown and "Traceback" not in shown, (what, shown[-500:])
    assert result.exit_code in (0, 1, 2), (what, result.exit_code, shown[-500:])
    assert not bad_characters(shown.replace("\r", "")), (what, bad_characters(shown)[:5])
    assert len(shown) < 200_000, (what, len(shown))  # an echoed value is cut, never repeated whole


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(command=st.sampled_from(SLOTS), value=VALUES)
def test_hostile_values_never_crash_nor_reach_the_terminal(ledger_file: Path, tmp_path: Path, command, value):
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    db = folder / "t.db"
    shutil.copy(ledger_file, db)
    shutil.copy(ledger_file.with_name("台账.csv"), folder)
    before_files, before_events = files(folder), events(db)
    args = ["--db", str(db), *(value if part == "V" else part for part in command)]
    with inside(folder):
        result = runner.invoke(app, args)
        check_output(result, (command, value[:80]))
        if result.exit_code != 0:
            assert events(db) == before_events, (command, value[:80], result.stderr[-300:])
            assert files(folder) == before_files
            return
        for read in READ_BACK:
            check_output(runner.invoke(app, ["--db", str(db), *read]), (command, value[:80], read))


def test_the_slots_cover_every_command():
    import typer.main

    leaves = {" ".join(path) for path, _ in _leaves(typer.main.get_command(app), [])} - SKIPPED_COMMANDS
    assert leaves - {"rebuild", "campaigns", "plugins", "policy show"} == set(BY_COMMAND) - {"--actor", "--township"}
    assert len(SLOTS) > 150  # every value of every command (these four take none)


HOSTILE_ONE = "[/bold][conceal]\x1b[2J\u202e\u200b南阳" + "饭" * 3000


def test_every_command_once_with_a_hostile_value(ledger_file: Path, tmp_path: Path):
    """Each command once, hostile in its first slot (each slot once would take too long; the fuzz
    above samples them all)."""
    db = tmp_path / "t.db"
    shutil.copy(ledger_file, db)
    shutil.copy(ledger_file.with_name("台账.csv"), tmp_path)
    with inside(tmp_path):
        for slots in BY_COMMAND.values():
            before = events(db)
            result = runner.invoke(app, ["--db", str(db), *(HOSTILE_ONE if a == "V" else a for a in slots[0])])
            check_output(result, slots[0])
            if result.exit_code != 0:
                assert events(db) == before, slots[0]


@pytest.mark.parametrize("args", [
    ["lists", "--known-at", "0001-01-01T00:00"],
    ["lists", "--known-at", "9999-12-31T23:59-05:00"],
    ["lists", "--known-at", "2021-03-01T25:00"],
    ["report", "list", "--period", "0000-01"],
    ["report", "list", "--period", "9999-12"],
    ["lists", "--as-of", "9999-12-31"],
    ["hazard", "report", "-c", "fire", "-u", "x", "-d", "y", "--found-on", ""],
    ["--township", "../../etc", "lists"],
    ["--township", "南阳\u202e镇", "lists"],
])
def test_out_of_range_option_is_a_usage_error_in_chinese(ledger_file: Path, tmp_path: Path, args):
    db = tmp_path / "t.db"
    shutil.copy(ledger_file, db)
    result = runner.invoke(app, ["--db", str(db), *args])
    assert result.exit_code == 2, result.stderr
    assert "用法错误" in result.stderr and "内部错误" not in result.stderr
    assert events(db) == 3  # the fixture's hazard, unit and measure; nothing added


def test_unit_list_with_a_bad_attribute_value_is_a_clear_error(ledger_file: Path, tmp_path: Path):
    db = tmp_path / "t.db"
    shutil.copy(ledger_file, db)
    result = runner.invoke(app, ["--db", str(db), "unit", "list", "-a", "风险等级=bad"])
    assert result.exit_code == 1 and "风险等级" in result.stderr and "内部错误" not in result.stderr


def test_markup_in_stored_text_is_shown_as_typed(ledger_file: Path, tmp_path: Path):
    db = tmp_path / "t.db"
    shutil.copy(ledger_file, db)
    name = "南阳[/bold]饭店[conceal]秘密"
    result = runner.invoke(app, ["--db", str(db), "hazard", "report", "-c", "fire", "-u", name, "-d", "x",
                                 "--found-on", "2021-03-01"])
    assert result.exit_code == 0, result.stderr
    number = result.stdout.strip()
    for args in (["lists"], ["hazard", "show", number], ["hazard", "history", number]):
        shown = runner.invoke(app, ["--db", str(db), *args])
        assert shown.exit_code == 0, shown.stderr
        assert "[/bold]" in shown.stdout and "秘密" in shown.stdout  # neither eaten nor hidden


def test_escape_sequences_in_an_old_actor_are_shown_escaped(tmp_path: Path):
    """An actor stored before actors were checked (written here under the old rule) is shown escaped."""
    db = tmp_path / "old.db"
    with qingdan.open_ledger(str(db), actor="王明") as ledger:
        ledger.report_hazard(campaign="fire", unit="南阳饭店", description="x", found_on="2024-03-01",
                             actor=None)
    with sqlite3.connect(db) as conn:  # what an old version stored: the actor text unchecked
        (state,) = conn.execute("SELECT state FROM stored_events").fetchone()
        conn.execute("UPDATE stored_events SET state = ?", (bytes(state).replace(
            "王明".encode(), "\\u001b[31m王\\u001b[0m".encode()),))
    result = runner.invoke(app, ["--db", str(db), "hazard", "history", NUMBER])
    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stdout and "\\x1b[31m王" in result.stdout


@pytest.mark.parametrize("actor", ["\x1b[31m王\x1b[0m", "王\u202e明", "王" * 101, "  "])
def test_actor_is_checked_like_every_text(tmp_path: Path, actor: str):
    db = tmp_path / "a.db"
    qingdan.open_ledger(str(db)).disconnect()
    result = runner.invoke(app, ["--db", str(db), "--actor", actor, "hazard", "report", "-c", "fire",
                                 "-u", "x", "-d", "y"])
    assert result.exit_code == 1 and "操作人" in result.stderr, result.stderr
    assert "\x1b" not in result.stderr
    assert events(db) == 0
    with pytest.raises(qingdan.QingdanError, match="操作人"):
        qingdan.open_ledger(str(db), actor=actor)


def test_output_through_a_symlink_is_refused(ledger_file: Path, tmp_path: Path):
    db = tmp_path / "t.db"
    shutil.copy(ledger_file, db)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (tmp_path / "list.md").symlink_to(victim)
    result = runner.invoke(app, ["--db", str(db), "lists", "-f", "md", "-o", str(tmp_path / "list.md")])
    assert result.exit_code == 1 and "符号链接" in result.stderr
    assert victim.read_text() == "keep me"
    result = runner.invoke(app, ["--db", str(db), "lists", "-f", "md", "-o", str(tmp_path)])
    assert result.exit_code == 1 and "文件夹" in result.stderr
    for name in ("饭" * 3000, f"missing/{'饭' * 3000}"):  # OSError "File name too long" before
        result = runner.invoke(app, ["--db", str(db), "lists", "-f", "md", "-o", str(tmp_path / name)])
        assert result.exit_code == 1 and "无法写入" in result.stderr and "内部错误" not in result.stderr
        assert len(result.stderr) < 1000


def test_township_never_leaves_the_folder_of_the_default_file_name(ledger_file: Path, tmp_path: Path):
    from qingdan.io.safe import safe_file_name

    assert "/" not in safe_file_name("../../etc/passwd") and not safe_file_name("..").startswith(".")
    assert safe_file_name("CON") == "_CON" and safe_file_name("南阳\x1b镇") == "南阳_镇"
    db = tmp_path / "t.db"
    shutil.copy(ledger_file, db)
    with inside(tmp_path):
        result = runner.invoke(app, ["--db", str(db), "--township", "南阳镇", "export", "-f", "xlsx"])
    assert result.exit_code == 0, result.stderr
    assert [p.name for p in tmp_path.glob("*.xlsx")] and all(p.parent == tmp_path for p in tmp_path.glob("*.xlsx"))


def test_refused_categories_cover_the_look_alike_tricks():
    for ch in "\u202e\u2066\u2067\u2068\u2069\u200b\u200c\u200d\u2060\ufeff\U000e0001\U000e0041\x1b\x9b":
        assert bad_characters(f"南阳{ch}饭店"), hex(ord(ch))
    assert not bad_characters("南阳饭店\n第二行\t（ＡＢＣ）")
    assert {"Cc", "Cf"} <= REFUSED_CATEGORIES


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="南阳饭店a\u202e\u2066\u200b\ufeff\U000e0041\x1b\n\"\\", max_size=20))
def test_json_output_hides_nothing_and_reads_back_the_same(text):
    import json

    from qingdan.cli.output import to_json
    from qingdan.core.text import bad_characters

    written = to_json({"unit": text, "list": [text]})
    assert json.loads(written) == {"unit": text, "list": [text]}  # the same data to a JSON reader
    assert not bad_characters(written.replace("\n", ""))  # and no raw invisible or direction character
