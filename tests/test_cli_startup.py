"""Start-up: a command builds only its own group, and nothing a clerk sees changes for it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from qingdan.cli import _app_for, app

QINGDAN = str(Path(sys.executable).with_name("qingdan"))


def test_a_command_builds_only_its_own_group():
    slim = _app_for(["--db", "x.db", "--actor", "王明", "hazard", "show", "H-fire-2020-0001"])
    assert [g.name for g in slim.registered_groups] == ["hazard"] and slim.registered_commands == []
    assert [c.name for c in slim.registered_groups[0].typer_instance.registered_commands] == ["show"]
    whole_group = _app_for(["hazard", "--help"]).registered_groups[0].typer_instance  # help lists them all
    assert len(whole_group.registered_commands) > 10 and "attach" in [c.name for c in whole_group.registered_commands]
    assert len(_app_for(["hazard", "shwo"]).registered_groups[0].typer_instance.registered_commands) > 10
    assert [c.callback.__name__ for c in _app_for(["--db=x.db", "lists", "--limit", "2"]).registered_commands] == ["lists"]
    assert len(app.registered_groups) > 5  # the whole app is left as it was
    for argv in ([], ["--help"], ["hazrd", "show"], ["-x", "hazard"], ["--db", "x.db"]):
        assert _app_for(argv) is app, argv  # help, typos and odd options see every command


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "100"}
    env.pop("QINGDAN_DB", None)
    return subprocess.run([QINGDAN, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=60)


def test_the_installed_command_still_speaks_chinese_everywhere(tmp_path):
    bare = run("hazard", cwd=tmp_path)
    assert "用法：qingdan hazard" in bare.stdout + bare.stderr and "Usage" not in bare.stdout + bare.stderr
    typo = run("hazrd", "show", cwd=tmp_path)
    assert typo.returncode == 2 and "是不是 hazard" in typo.stderr
    missing = run("--db", str(tmp_path / "none.db"), "hazard", "show", "H-fire-2020-0001", cwd=tmp_path)
    assert missing.returncode == 1 and "没有台账" in missing.stderr and not (tmp_path / "none.db").exists()
    made = run("--db", str(tmp_path / "l.db"), "hazard", "report", "-c", "消防", "-u", "南阳饭店", "-d", "灭火器过期",
               "--found-on", "2021-03-01", cwd=tmp_path)
    assert made.returncode == 0 and made.stdout.strip() == "H-fire-2021-0001", made.stderr
    shown = run("--db", str(tmp_path / "l.db"), "hazard", "show", "H-fire-2021-0001", cwd=tmp_path)
    assert shown.returncode == 0 and "南阳饭店" in shown.stdout and "消防安全专项整治" in shown.stdout


def test_a_big_table_on_a_terminal_shows_a_screenful_and_says_how_many_exist(tmp_path, monkeypatch):
    import io

    from qingdan.cli import common

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdout", Terminal())
    assert common.screen_limit(None, "table") == common.SCREEN_ROWS
    assert common.screen_limit(None, "csv") == 0 and common.screen_limit(0, "table") == 0
    assert common.screen_limit(7, "table") == 7
    monkeypatch.setattr(sys, "stdout", io.StringIO())  # a pipe or a file: every row
    assert common.screen_limit(None, "table") == 0


def test_a_read_loads_no_command_model_and_a_command_still_has_its_whole_signature(tmp_path):
    """A process that only reads never imports the command models, the handlers or the aggregates;
    the first command (or ``inspect``) builds its method from the model, once."""
    script = f"""
import inspect, sys
import qingdan
from qingdan.core.ledger import Ledger
heavy = ("qingdan.core.commands", "qingdan.core.handlers.hazards", "qingdan.core.domain", "qingdan.core.base")
ledger = qingdan.open_ledger({str(tmp_path / "l.db")!r}, actor="王明")
assert len(ledger.two_lists(as_of=None).hazards) == 0
assert not [m for m in heavy if m in sys.modules], [m for m in heavy if m in sys.modules]
number = ledger.report_hazard(campaign="fire", unit="南阳饭店", description="灭火器过期", found_on="2021-03-01")
assert "qingdan.core.commands" in sys.modules and ledger.hazard(number).unit == "南阳饭店"
assert inspect.isfunction(Ledger.__dict__["report_hazard"])  # built once, in its own place
params = inspect.signature(Ledger.escalate).parameters
assert list(params)[:3] == ["self", "number", "supervisor"] and params["level"].default == "镇", params
assert Ledger.escalate.command_model.__name__ == "Escalate" and "督办" in (Ledger.escalate.__doc__ or "")
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
