"""The command line as a township clerk meets it: Chinese throughout, one vocabulary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qingdan.cli import app

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "clerk.db")


def qd(db: str, *args: str, code: int | None = 0):
    result = runner.invoke(app, ["--db", db, "--actor", "安监办张三", *args])
    if code is not None:
        assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def report(db: str, *extra: str) -> str:
    return qd(db, "hazard", "report", "-c", "fire", "-u", "南阳镇农贸市场", "-d", "疏散通道堆放杂物",
              "--found-on", "2020-09-01", "--village", "南阳村", *extra).stdout.strip()


# -- 1. usage errors in Chinese ---------------------------------------------------------------------

def usage_error(db: str, *args: str) -> str:
    result = qd(db, *args, code=2)
    assert result.stdout == ""
    err = result.stderr
    for english in ("Usage:", "Try ", "Error", "Missing", "No such", "Invalid value", "Input should"):
        assert english not in err, err
    assert "╭" not in err  # one plain message, no rich panel
    return err


def test_missing_option_names_it_in_chinese(db):
    err = usage_error(db, "hazard", "verify", "H-fire-2020-0001", "--passed")
    assert "用法：qingdan hazard verify [选项] NUMBER" in err
    assert "用法错误：缺少选项 --inspector（验收人）" in err
    assert "查看帮助：qingdan hazard verify --help" in err


def test_missing_argument(db):
    assert "用法错误：缺少参数 NUMBER（编号）" in usage_error(db, "hazard", "show")


def test_no_such_option_suggests_the_right_one(db):
    err = usage_error(db, "hazard", "verify", "H-fire-2020-0001", "--passed", "--inspectr", "李强")
    assert "用法错误：没有选项 --inspectr；是不是 --inspector？" in err


def test_invalid_number(db):
    err = usage_error(db, "hazard", "plan", "H-fire-2020-0001", "--funds", "abc")
    assert "--funds（整改资金（万元））的值无效：“abc”不对，应填数字" in err


def test_invalid_integer(db):
    err = usage_error(db, "remind", "--within", "七")
    assert "的值无效：“七”不对，应填整数" in err


def test_invalid_choice_lists_the_choices(db):
    err = usage_error(db, "hazard", "show", "H-fire-2020-0001", "-f", "xml")
    assert "“xml”不在可选值中，应为 table、json、csv、xlsx、md 之一" in err


def test_option_without_its_value(db):
    assert "选项 --funds 后面要写一个值" in usage_error(db, "hazard", "plan", "H-fire-2020-0001", "--funds")


def test_unknown_command_and_extra_argument(db):
    assert "没有命令 shw；是不是 show？" in usage_error(db, "hazard", "shw")
    assert "多余的参数：b" in usage_error(db, "hazard", "show", "a", "b")


def test_bad_date_is_a_usage_error_in_chinese(db):
    err = usage_error(db, "hazard", "report", "-c", "fire", "-u", "x", "-d", "y", "--found-on", "2020-13-45")
    assert "--found-on（排查日期）的值无效：日期不存在：“2020-13-45”" in err


def test_help_is_chinese_first(db):
    out = qd(db, "hazard", "verify", "--help").stdout
    assert "用法：" in out and "Usage:" not in out
    assert "显示本帮助并退出" in out and "Show this message" not in out
    assert "选项" in out and "[必填]" in out and "[默认：政府验收]" in out
    assert "用法：" in qd(db, "hazard", code=2).stdout  # no arguments: the help (exit 2, as click has it)


def test_rejected_command_is_one_line_exit_1(db):
    result = qd(db, "hazard", "show", "H-fire-2020-0009", code=1)
    assert result.stderr.strip() == "错误：台账中没有 H-fire-2020-0009"


# -- 2. no English in Chinese output ----------------------------------------------------------------

def test_plan_names_the_missing_parts_in_chinese(db):
    number = report(db)
    err = qd(db, "hazard", "plan", number, "--responsible-unit", "农贸市场", "--responsible-person", "张建国",
             "--deadline", "2020-09-30", "--on", "2020-09-02").stderr
    assert "五到位尚缺：措施、资金、预案" in err
    assert "measures" not in err and "funds" not in err


def test_history_reads_in_chinese(db):
    number = report(db, "--level", "重大")
    qd(db, "hazard", "plan", number, "--deadline", "2020-09-30", "--on", "2020-09-02")
    qd(db, "hazard", "escalate", number, "--supervisor", "镇安委会", "--on", "2020-09-03")
    qd(db, "hazard", "correct", number, "--field", "village", "--value", "东港村", "--reason", "登记错误")
    out = runner.invoke(app, ["--db", db, "hazard", "history", number], env={"COLUMNS": "160"}).stdout
    for english in ("Reported", "RectificationPlanned", "Escalated", "Corrected", "=", "campaign", "：fire"):
        assert english not in out, english
    for chinese in ("登记", "整改方案", "挂牌督办", "更正", "专项：消防安全专项整治", "隐患等级：重大",
                    "督办级别：镇", "更正字段：村（居）", "更正为：东港村", "整改期限：2020-09-30"):
        assert chinese in out, chinese
    entries = json.loads(qd(db, "hazard", "history", number, "-f", "json").stdout)
    assert entries[0]["type"] == "Reported" and entries[0]["data"]["campaign"] == "fire"  # JSON keeps the codes


def test_show_names_the_campaign_and_says_yes_or_no(db):
    number = report(db)
    out = runner.invoke(app, ["--db", db, "hazard", "show", number], env={"COLUMNS": "120"}).stdout
    assert "消防安全专项整治" in out and "False" not in out and "True" not in out
    assert json.loads(qd(db, "hazard", "show", number, "-f", "json").stdout)["campaign"] == "fire"


def test_unit_attributes_say_yes_or_no(db):
    qd(db, "unit", "add", "-n", "恒达化工有限公司", "-k", "危险化学品生产企业", "-a", "风险等级=红",
       "-a", "重大危险源=是", "--on", "2020-01-01")
    out = runner.invoke(app, ["--db", db, "unit", "list"], env={"COLUMNS": "160"}).stdout
    assert "重大危险源：是" in out and "True" not in out
    out = runner.invoke(app, ["--db", db, "unit", "show", "U-00001"], env={"COLUMNS": "160"}).stdout
    assert "重大危险源：是" in out and "True" not in out
