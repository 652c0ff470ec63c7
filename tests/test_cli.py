"""The command line as a clerk uses it: every noun, every format, exit codes, data only on stdout."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

import qingdan
from qingdan.cli import app

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "cli.db")
    qingdan.open_ledger(path).disconnect()  # reads need a ledger (they never create one)
    return path


def qd(db: str, *args: str, code: int | None = 0):
    result = runner.invoke(app, ["--db", db, "--actor", "安监办张三", *args])
    if code is not None:
        assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def report(db: str, **extra: str) -> str:
    args = ["hazard", "report", "-c", "fire", "-u", extra.get("unit", "南阳镇农贸市场"),
            "-d", extra.get("description", "疏散通道堆放杂物"), "--found-on", extra.get("found_on", "2020/9/1"),
            "--village", "南阳村", "--level", extra.get("level", "一般")]
    return qd(db, *args).stdout.strip()


def test_root_and_every_noun_have_help(db):
    assert "两个清单" in qd(db, "--help").stdout
    for noun in ("hazard", "measure", "task", "unit", "indicator", "report"):
        out = qd(db, noun, "--help").stdout
        assert "用法：" in out and "Usage" not in out
    for command in ("lists", "overdue", "stats", "targets", "check", "import", "export", "rebuild",
                    "verify", "campaigns", "plugins", "demo", "projection"):
        assert "--" in qd(db, command, "--help").stdout


def test_hazard_lifecycle_from_report_to_closure(db):
    number = report(db)
    assert number == "H-fire-2020-0001"
    qd(db, "hazard", "plan", number, "--responsible-unit", "农贸市场", "--responsible-person", "张建国",
       "--measures", "清理杂物", "--funds", "1.5", "--deadline", "2020年9月30日", "--contingency", "疏散预案",
       "--on", "2020.9.2")
    qd(db, "hazard", "escalate", number, "--supervisor", "南阳镇安委会", "--on", "2020-09-03")
    qd(db, "hazard", "progress", number, "--text", "已清理一半", "--on", "2020-09-10")
    qd(db, "hazard", "complete", number, "--on", "20200920", "--cost", "1.2")
    qd(db, "hazard", "verify", number, "--passed", "--inspector", "李强", "--on", "2020-09-21")
    qd(db, "hazard", "close", number, "--on", "2020-09-22")
    row = json.loads(qd(db, "hazard", "show", number, "-f", "json").stdout)
    assert row["status"] == "closed" and row["closed_on"] == "2020-09-22"
    assert row["deadline"] == "2020-09-30" and row["five_in_place"] is True
    before = json.loads(qd(db, "hazard", "show", number, "--as-of", "2020-09-15", "-f", "json").stdout)
    assert before["status"] == "rectifying"
    history = json.loads(qd(db, "hazard", "history", number, "-f", "json").stdout)
    assert [e["type"] for e in history][0] == "Reported" and len(history) == 7
    assert all(e["actor"] == "安监办张三" for e in history)


def test_extension_reopen_correct_withdraw(db):
    number = report(db)
    qd(db, "hazard", "plan", number, "--deadline", "2020-09-30", "--on", "2020-09-02")
    qd(db, "hazard", "extend", number, "--deadline", "2020-10-30", "--reason", "设备采购", "--on", "2020-09-25")
    qd(db, "hazard", "decide-extension", number, "--approve", "--on", "2020-09-26")
    qd(db, "hazard", "correct", number, "--field", "village", "--value", "东港村", "--reason", "登记错误")
    row = json.loads(qd(db, "hazard", "show", number, "-f", "json").stdout)
    assert row["deadline"] == "2020-10-30" and row["village"] == "东港村"
    other = report(db, description="重复登记的隐患")
    qd(db, "hazard", "withdraw", other, "--reason", "重复登记", "--on", "2020-09-03")
    listed = json.loads(qd(db, "lists", "--list", "hazards", "-f", "json").stdout)
    assert [h["number"] for h in listed] == [number]


def test_rejected_command_exits_1_with_one_clerk_line_and_no_traceback(db):
    number = report(db)
    result = qd(db, "hazard", "close", number, code=1)
    assert result.stdout == ""
    assert result.stderr.startswith("错误：") and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    missing = qd(db, "hazard", "show", "H-fire-2020-9999", code=1)
    assert "错误：" in missing.stderr and "Traceback" not in missing.stderr + missing.stdout


def test_usage_errors_exit_2(db):
    assert qd(db, "hazard", "report", "-c", "fire", "-u", "x", "-d", "y", "--found-on", "2020-13-45",
              code=2).exit_code == 2
    assert qd(db, "no-such-command", code=2).exit_code == 2
    assert qd(db, "lists", "--format", "pdf", code=2).exit_code == 2
    assert qd(db, "report", "diff", "--period", "2020-9x", code=2).exit_code == 2
    assert "--output" in qd(db, "lists", "-f", "xlsx", code=2).stderr


def test_empty_json_listing_is_an_empty_array(db):
    assert json.loads(qd(db, "lists", "--list", "hazards", "-f", "json").stdout) == []
    assert json.loads(qd(db, "overdue", "-f", "json").stdout) == []
    assert json.loads(qd(db, "unit", "list", "-f", "json").stdout) == []


def test_json_output_is_data_only_on_stdout(db):
    report(db)
    for args in (("lists",), ("stats",), ("targets",), ("check",), ("overdue",), ("task", "list"),
                 ("campaigns",), ("plugins",), ("unit", "list"), ("projection",)):
        result = qd(db, *args, "-f", "json")
        json.loads(result.stdout)  # nothing but JSON on stdout


def test_lists_csv_md_and_xlsx_in_the_taizhang_layout(db, tmp_path):
    number = report(db)
    qd(db, "hazard", "plan", number, "--measures", "=HYPERLINK(\"http://x\")", "--deadline", "2020-09-30",
       "--on", "2020-09-02")
    text = qd(db, "lists", "--as-of", "2020-12-25", "-f", "csv").stdout
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["序号", "隐患编号", "单位名称", "村（居）"]
    assert rows[1][1] == number and rows[1][rows[0].index("整改措施")].startswith("'=")
    md = qd(db, "lists", "-f", "md").stdout
    assert "| 序号 | 隐患编号 |" in md and "南阳镇问题隐患清单" in md
    out = tmp_path / "lists.xlsx"
    qd(db, "lists", "--as-of", "2020-12-25", "-f", "xlsx", "-o", str(out))
    wb = load_workbook(out)
    ws = wb["问题隐患清单"]
    assert ws["A1"].value == "南阳镇问题隐患清单（截至2020年12月25日）"
    headers = [c.value for c in ws[2]]
    assert headers[:21] == ["序号", "隐患编号", "单位名称", "村（居）", "隐患部位", "隐患描述", "隐患等级",
                            "隐患来源", "排查日期", "整改责任单位", "责任人", "整改措施", "整改资金（万元）",
                            "整改期限", "应急预案", "挂牌督办", "整改状态", "完成日期", "验收日期", "销号日期", "备注"]
    assert ws.freeze_panes == "C3"
    found = ws.cell(row=3, column=headers.index("排查日期") + 1).value
    assert found.year == 2020 and found.month == 9 and found.day == 1  # a real date cell
    assert ws.cell(row=3, column=headers.index("整改措施") + 1).value.startswith("'=")
    assert "制度措施清单" in wb.sheetnames


def test_measures_tasks_units_indicators(db):
    m = qd(db, "measure", "add", "-c", "fire", "-t", "消防安全网格化管理制度", "--department", "镇消防救援站",
           "--due", "2020-12-31", "--on", "2020-08-01").stdout.strip()
    qd(db, "measure", "issue", m, "--doc-no", "南消〔2020〕3号", "--on", "2020-09-01")
    qd(db, "measure", "implement", m, "--on", "2020-10-01")
    assert json.loads(qd(db, "measure", "show", m, "-f", "json").stdout)["status"] == "implemented"
    tasks = json.loads(qd(db, "task", "list", "-c", "fire", "-f", "json").stdout)
    task_id = tasks[0]["id"]
    qd(db, "task", "progress", task_id, "--text", "已部署", "--percent", "30", "--on", "2020-08-01")
    qd(db, "task", "complete", task_id, "--on", "2020-11-01")
    done = [t for t in json.loads(qd(db, "task", "list", "-c", "fire", "-f", "json").stdout) if t["id"] == task_id]
    assert done[0]["status"] == "done"
    u = qd(db, "unit", "add", "-n", "恒达化工有限公司", "-k", "危险化学品生产企业", "--village", "东港村",
           "--attr", "风险等级=红", "--on", "2020-07-05").stdout.strip()
    qd(db, "unit", "set", u, "--attr", "风险等级=橙", "--on", "2020-10-01")
    units = json.loads(qd(db, "unit", "list", "--attr", "风险等级=橙", "-f", "json").stdout)
    assert [x["number"] for x in units] == [u]
    early = json.loads(qd(db, "unit", "show", u, "--as-of", "2020-08-01", "-f", "json").stdout)
    assert early["attributes"]["风险等级"] == "红"
    qd(db, "indicator", "record", "hazchem.enforcement_team_size", "8", "--on", "2020-12-31")
    targets = json.loads(qd(db, "targets", "-c", "hazchem", "--as-of", "2021-01-05", "-f", "json").stdout)
    assert [t["value"] for t in targets if t["id"] == "hazchem.enforcement_team_size"] == [8.0]
    qd(db, "unit", "close", u, "--reason", "关停", "--on", "2021-01-01")


def test_report_submit_writes_workbook_and_diff_shows_later_changes(db, tmp_path):
    number = report(db, found_on="2020-09-01")
    out = tmp_path / "sub.xlsx"
    result = qd(db, "report", "submit", "--period", "2020-09", "--output", str(out))
    assert result.stdout.strip() == "R-2020-09"
    wb = load_workbook(out)
    assert wb["问题隐患清单"]["A1"].value == "南阳镇问题隐患清单（截至2020年9月25日）"
    assert number in [c.value for c in wb["问题隐患清单"]["B"]] or number in [c.value for c in wb["问题隐患清单"]["C"]]
    assert out.with_suffix(".pdf").read_bytes().startswith(b"%PDF")  # the printable form beside it
    qd(db, "hazard", "correct", number, "--field", "location", "--value", "东侧通道", "--reason", "核实")
    diff = json.loads(qd(db, "report", "diff", "--period", "2020-09", "-f", "json").stdout)
    assert diff["digest_matches"] is True
    [change] = diff["differences"]
    assert change["number"] == number and change["fields"][0]["after"] == "东侧通道"
    assert change["events"][0]["type"] == "Corrected"
    table = qd(db, "report", "diff", "--period", "2020-09")
    assert "回头看" in table.stdout and "东侧通道" in table.stdout
    assert json.loads(qd(db, "report", "list", "-f", "json").stdout)[0]["period"] == "2020-09"


def test_export_jsonl_streams_every_event_then_rebuild_and_verify(db, tmp_path):
    number = report(db)
    qd(db, "hazard", "plan", number, "--deadline", "2020-09-30", "--on", "2020-09-02")
    lines = qd(db, "export", "--format", "jsonl").stdout.splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["position"] for e in events] == sorted(e["position"] for e in events)
    assert {e["number"] for e in events} == {number}
    assert events[1]["type"] == "Hazard.RectificationPlanned" and events[1]["on"] == "2020-09-02"
    assert qd(db, "rebuild").exit_code == 0
    assert "✓" in qd(db, "verify").stderr
    out = tmp_path / "lists.xlsx"
    qd(db, "export", "--format", "xlsx", "-o", str(out), "--as-of", "2020-12-31")
    assert load_workbook(out)["问题隐患清单"]["B3"].value == number


def test_campaigns_and_plugins_list_the_installed_catalogue(db):
    campaigns = json.loads(qd(db, "campaigns", "-f", "json").stdout)
    fire = next(c for c in campaigns if c["id"] == "fire")
    assert fire["kind"] == "专项" and fire["tasks"] > 0 and fire["targets"] > 0 and fire["checks"] >= 2
    plugins = json.loads(qd(db, "plugins", "-f", "json").stdout)
    builtin = next(p for p in plugins if p["campaign"] == "fire")
    assert builtin["version"] and "qingdan_campaign" in builtin["hooks"]


def test_stats_overdue_and_check(db):
    number = report(db, level="重大")
    qd(db, "hazard", "plan", number, "--deadline", "2020-09-10", "--on", "2020-09-02")
    stats = json.loads(qd(db, "stats", "--as-of", "2020-12-31", "-f", "json").stdout)
    assert stats["hazards_found"] == 1 and stats["major_open"] == 1 and stats["overdue"] == 1
    overdue = json.loads(qd(db, "overdue", "--as-of", "2020-12-31", "-f", "json").stdout)
    assert [h["number"] for h in overdue] == [number]
    findings = json.loads(qd(db, "check", "--as-of", "2020-12-31", "-f", "json").stdout)
    assert any(f["subject"] == number and "督办" in f["message"] for f in findings)


def test_cli_on_postgresql(pg_schema):
    number = report(pg_schema)
    qd(pg_schema, "hazard", "plan", number, "--deadline", "2020-09-30", "--on", "2020-09-02")
    rows = json.loads(qd(pg_schema, "lists", "--list", "hazards", "-f", "json").stdout)
    assert rows[0]["status"] == "rectifying"


def test_installed_qingdan_command_on_a_fresh_database(tmp_path):
    script = Path(sys.executable).with_name("qingdan")
    env = dict(os.environ, QINGDAN_DB=str(tmp_path / "fresh.db"), QINGDAN_ACTOR="镇安监局")
    env.pop("QINGDAN_DEBUG", None)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(script), *args], capture_output=True, text=True, env=env, timeout=60)

    reported = run("hazard", "report", "-c", "fire", "-u", "东港村卫生室", "-d", "灭火器过期", "--found-on", "2020-09-01")
    assert reported.returncode == 0, reported.stderr
    assert reported.stdout.strip() == "H-fire-2020-0001"
    listed = run("lists", "--list", "hazards", "-f", "json")
    assert json.loads(listed.stdout)[0]["unit"] == "东港村卫生室"
    refused = run("hazard", "close", "H-fire-2020-0001")
    assert refused.returncode == 1 and refused.stderr.startswith("错误：") and "Traceback" not in refused.stderr
    assert run("lists", "--as-of", "not-a-date").returncode == 2
