"""The installed ``qingdan`` in a real (pseudo-)terminal 80 and 120 columns wide, as a clerk sees it:
every record number whole, no line wider than the terminal, no line of a cell starting with a
closing punctuation mark; and plain full-width text when stdout is not a terminal."""

from __future__ import annotations

import fcntl
import json
import os
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qingdan.cli import app
from qingdan.cli.output import NO_LINE_START, cell_width, wrap_cell

QINGDAN = Path(sys.executable).with_name("qingdan")
NUMBER = re.compile(r"\b[HM]-[a-z][a-z0-9_]*-\d{4}-\d{4,}\b")
ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]|\x1b\][^\x07]*\x07")

UNITS = ("南阳镇农贸市场（东区）经营管理有限公司", "东港村卫生室", "恒达化工有限公司", "南阳小学",
         "顺发物流运输有限责任公司（南阳分公司）")
TEXTS = ("疏散通道堆放杂物，安全出口被锁闭；消防器材（灭火器、消火栓）过期未检验，应急照明损坏。",
         "储罐区未设置可燃气体报警装置，“两重点一重大”未落实。", "灭火器过期", "电动车在楼道内充电（飞线充电），存在火灾隐患！",
         "脚手架未设置剪刀撑、连墙件，作业人员未系安全带。")


@pytest.fixture(scope="module")
def ledger_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("terminal") / "terminal.db")
    runner = CliRunner()
    campaigns = ("fire", "hazchem", "construction", "transport", "fire")
    for i in range(15):
        result = runner.invoke(app, [
            "--db", db, "hazard", "report", "-c", campaigns[i % 5], "-u", UNITS[i % 5],
            "-d", TEXTS[(i * 3) % 5] * (1 + i % 2), "--found-on", f"2020-09-{i + 1:02d}",
            "--village", "南阳村", "--level", "重大" if i % 4 == 0 else "一般", "--force"])
        assert result.exit_code == 0, result.stderr
    runner.invoke(app, ["--db", db, "hazard", "plan", "H-fire-2020-0001", "--deadline", "2020-09-30",
                        "--responsible-unit", "农贸市场", "--on", "2020-09-02"])
    result = runner.invoke(app, ["--db", db, "measure", "add", "-c", "消防", "-t", "消防安全网格化管理制度（试行）",
                                 "--department", "镇消防救援站", "--due", "2020-12-31", "--on", "2020-09-01"])
    assert result.exit_code == 0, result.stderr
    return db


def in_terminal(columns: int, *args: str) -> str:
    """Run the installed qingdan with its stdout on a pseudo-terminal ``columns`` wide."""
    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 60, columns, 0, 0))
    env = dict(os.environ, COLUMNS=str(columns), LINES="60", TERM="xterm-256color")
    env.pop("NO_COLOR", None)
    process = subprocess.Popen([str(QINGDAN), *args], stdin=follower, stdout=follower,
                               stderr=subprocess.PIPE, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child has gone and closed its side
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=60) == 0, process.stderr.read().decode() if process.stderr else ""
    return ANSI.sub("", b"".join(chunks).decode()).replace("\r", "")


def cells(line: str) -> list[str]:
    return [c.strip() for c in re.split(r"[│┃]", line)[1:-1]]


@pytest.mark.parametrize("columns", [80, 120])
def test_lists_in_a_terminal_keep_every_number_whole(ledger_db, columns):
    screen = in_terminal(columns, "--db", ledger_db, "lists", "--as-of", "2020-12-31")
    data = json.loads(subprocess.run([str(QINGDAN), "--db", ledger_db, "lists", "--as-of", "2020-12-31",
                                      "-f", "json"], capture_output=True, text=True, check=True).stdout)
    numbers = {h["number"] for h in data["hazards"]} | {m["number"] for m in data["measures"]}
    assert len(numbers) == 16
    assert set(NUMBER.findall(screen)) == numbers, screen
    for line in screen.splitlines():
        assert cell_width(line) <= columns, line
        for cell in cells(line):
            assert not cell or cell[0] not in NO_LINE_START, (line, screen)
    assert "显示 15 条，共 15 条" in screen or "共 15 条" in screen


@pytest.mark.parametrize("columns", [80, 120])
def test_history_and_show_fit_the_terminal(ledger_db, columns):
    for args in (("hazard", "history", "H-fire-2020-0001"), ("hazard", "show", "H-construction-2020-0001")):
        screen = in_terminal(columns, "--db", ledger_db, *args)
        assert args[2] in screen
        assert all(cell_width(line) <= columns for line in screen.splitlines()), screen
        assert re.search(r"\d{4}-\d{2}-\d{2}\s*\n", screen) or "2020-09" in screen


def test_not_a_terminal_plain_and_full_width(ledger_db):
    out = subprocess.run([str(QINGDAN), "--db", ledger_db, "lists", "--as-of", "2020-12-31", "--list", "hazards"],
                         capture_output=True, text=True, check=True, env=dict(os.environ, COLUMNS="80")).stdout
    assert "\x1b[" not in out  # no colours, no styles
    rows = [line for line in out.splitlines() if NUMBER.search(line)]
    assert len(rows) == 15  # one line per hazard: nothing wrapped
    assert any(TEXTS[0] in line for line in rows)


def test_wrap_cell_never_starts_a_line_with_closing_punctuation():
    text = "疏散通道堆放杂物，安全出口被锁闭；消防器材（灭火器、消火栓）过期未检验。H-fire-2020-0001 须于 2020-09-30 前整改"
    for width in range(4, 40):
        lines = wrap_cell(text, width)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")
        for line in lines:
            assert cell_width(line) <= width, (width, line)
            assert not line or line[0] not in NO_LINE_START, (width, lines)
            assert not line or line[-1] not in "（《「“", (width, lines)
        if width >= 16:
            assert any("H-fire-2020-0001" in line for line in lines), (width, lines)
        if width >= 10:
            assert any("2020-09-30" in line for line in lines), (width, lines)
