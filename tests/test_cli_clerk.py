"""The command line as a township clerk meets it: Chinese throughout, one vocabulary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import qingdan
from qingdan.cli import app

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "clerk.db")
    qingdan.open_ledger(path).disconnect()  # reads need a ledger (they never create one)
    return path


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


# -- 3. one vocabulary ------------------------------------------------------------------------------

def shown(db: str, number: str) -> dict:
    return json.loads(qd(db, "hazard", "show", number, "-f", "json").stdout)


def test_campaign_by_name_or_part_of_it(db):
    by_name = report(db)
    other = qd(db, "hazard", "report", "-c", "消防", "-u", "东港村卫生室", "-d", "灭火器过期",
               "--found-on", "2020-09-01").stdout.strip()
    full = qd(db, "hazard", "report", "-c", "消防安全专项整治", "-u", "东港村卫生室", "-d", "通道堵塞",
              "--found-on", "2020-09-01").stdout.strip()
    assert by_name.startswith("H-fire-") and other.startswith("H-fire-") and full.startswith("H-fire-")
    ambiguous = qd(db, "hazard", "report", "-c", "专项", "-u", "x", "-d", "y", code=2).stderr
    assert "可指多个专项" in ambiguous and "消防安全专项整治（fire）" in ambiguous
    assert "未知的专项“水务”" in qd(db, "hazard", "report", "-c", "水务", "-u", "x", "-d", "y", code=2).stderr
    assert "H-fire-" in qd(db, "lists", "-c", "消防", "-f", "csv").stdout


def test_level_source_and_escalation_words_as_the_importer_reads_them(db):
    number = report(db, "--level", "重大隐患", "--source", "执法检查")
    row = shown(db, number)
    assert (row["level"], row["source"]) == ("重大", "检查")
    qd(db, "hazard", "escalate", number, "--supervisor", "县安委办", "--level", "市级", "--on", "2020-09-02")
    assert shown(db, number)["escalation_level"] == "市"
    err = qd(db, "hazard", "report", "-c", "fire", "-u", "x", "-d", "y", "--level", "特大", code=2).stderr
    assert "无法识别的隐患等级“特大”，可填：一般" in err


def test_verify_method_and_measure_kind_words(db):
    number = report(db)
    qd(db, "hazard", "complete", number, "--on", "2020-09-05")
    qd(db, "hazard", "verify", number, "--passed", "--inspector", "李强", "--method", "专家验收",
       "--on", "2020-09-06")
    history = json.loads(qd(db, "hazard", "history", number, "-f", "json").stdout)
    assert history[-1]["data"]["method"] == "专家"
    measure = qd(db, "measure", "add", "-c", "消防", "-t", "网格化管理制度", "--department", "消防站",
                 "--kind", "管理制度", "--on", "2020-09-01").stdout.strip()
    assert json.loads(qd(db, "measure", "show", measure, "-f", "json").stdout)["kind"] == "制度"


def test_correct_takes_the_chinese_column_name(db):
    number = report(db)
    qd(db, "hazard", "correct", number, "--field", "单位名称", "--value", "南阳农贸市场", "--reason", "简称")
    qd(db, "hazard", "correct", number, "--field", "所在村", "--value", "东港村", "--reason", "登记错误")
    qd(db, "hazard", "correct", number, "--field", "隐患等级", "--value", "重大隐患", "--reason", "定级")
    row = shown(db, number)
    assert (row["unit"], row["village"], row["level"]) == ("南阳农贸市场", "东港村", "重大")
    err = qd(db, "hazard", "correct", number, "--field", "整改状态", "--value", "x", "--reason", "y", code=2).stderr
    assert "不能更正“整改状态”；可更正：单位名称" in err


@pytest.mark.parametrize("word, days", [("今天", 0), ("昨天", -1), ("前天", -2)])
def test_day_words(db, word, days):
    from datetime import datetime, timedelta

    from qingdan.io.dates import CST

    number = qd(db, "hazard", "report", "-c", "fire", "-u", "x", "-d", "y", "--found-on", word, "--force").stdout.strip()
    assert shown(db, number)["found_on"] == (datetime.now(CST).date() + timedelta(days=days)).isoformat()


@pytest.mark.parametrize("typed", ["2020-09-03", "2020/9/3", "2020.9.3", "2020年9月3日", "20200903", "44077"])
def test_every_date_form_the_importer_reads(db, typed):
    number = qd(db, "hazard", "report", "-c", "fire", "-u", "x", "-d", "y", "--found-on", typed).stdout.strip()
    assert shown(db, number)["found_on"] == "2020-09-03"


def test_tomorrow_is_a_deadline_not_a_found_date(db):
    from qingdan.cli.common import clerk_date

    assert clerk_date("明天") > clerk_date("今天") > clerk_date("昨天") > clerk_date("前天")
    assert qd(db, "hazard", "report", "-c", "fire", "-u", "x", "-d", "y", "--found-on", "明天",
              code=1).stderr.startswith("错误：")


# -- 5. hazard list: search, and counts of what exists ----------------------------------------------

@pytest.fixture
def ledger13(db: str) -> str:
    """13 hazards: 8 in fire (2 重大, one escalated and planned to a past deadline), 5 in hazchem."""
    for i in range(13):
        campaign = "fire" if i < 8 else "hazchem"
        qd(db, "hazard", "report", "-c", campaign, "-u", "恒达化工有限公司" if i % 3 == 0 else f"第{i}门店",
           "-d", "储罐区未设置报警" if i == 9 else f"通道堵塞第{i}处", "--found-on", f"2020-09-{i + 1:02d}",
           "--village", "东港村" if i % 2 else "南阳村", "--level", "重大" if i in (0, 4) else "一般")
    qd(db, "hazard", "plan", "H-fire-2020-0001", "--deadline", "2020-09-20", "--responsible-unit", "镇应急办",
       "--on", "2020-09-02")
    qd(db, "hazard", "escalate", "H-fire-2020-0001", "--supervisor", "镇安委会", "--on", "2020-09-03")
    qd(db, "hazard", "withdraw", "H-fire-2020-0008", "--reason", "重复登记", "--on", "2020-09-10")
    return db


def listed(db: str, *args: str) -> tuple[list[str], str]:
    result = qd(db, "hazard", "list", "--as-of", "2020-12-31", "-f", "json", *args)
    return [h["number"] for h in json.loads(result.stdout)], result.stderr


def test_hazard_list_searches(ledger13):
    db = ledger13
    assert len(listed(db)[0]) == 12  # the withdrawn one left out
    assert listed(db, "-c", "消防")[0] == [f"H-fire-2020-{i:04d}" for i in range(1, 8)]
    assert listed(db, "--level", "重大隐患")[0] == ["H-fire-2020-0001", "H-fire-2020-0005"]
    assert set(listed(db, "--village", "东港村")[0]) == {f"H-fire-2020-{i:04d}" for i in (2, 4, 6)} | {
        "H-hazchem-2020-0002", "H-hazchem-2020-0004"}
    assert listed(db, "--department", "镇应急办")[0] == ["H-fire-2020-0001"]
    assert len(listed(db, "--unit", "恒达")[0]) == 5
    assert listed(db, "--text", "储罐")[0] == ["H-hazchem-2020-0002"]
    assert listed(db, "--found-from", "2020-09-03", "--found-to", "2020年9月4日")[0] == [
        "H-fire-2020-0003", "H-fire-2020-0004"]
    assert listed(db, "--overdue")[0] == ["H-fire-2020-0001"]
    assert listed(db, "--escalated")[0] == ["H-fire-2020-0001"]
    assert len(listed(db, "--not-escalated")[0]) == 11
    assert listed(db, "--status", "整改中")[0] == ["H-fire-2020-0001"]
    assert listed(db, "--status", "已撤销")[0] == ["H-fire-2020-0008"]
    assert len(listed(db, "--status", "未销号")[0]) == 12
    assert "无法识别的整改状态“完工”" in qd(db, "hazard", "list", "--status", "完工", code=2).stderr


def test_hazard_list_counts_what_exists(ledger13):
    db = ledger13
    numbers, err = listed(db, "-c", "fire", "--limit", "3")
    assert len(numbers) == 3 and "显示 3 条（符合条件 7 条），共 12 条" in err
    out = runner.invoke(app, ["--db", db, "hazard", "list", "--as-of", "2020-12-31", "--level", "重大"]).stdout
    assert "显示 2 条，共 12 条" in out


def test_columns_picks_the_columns(ledger13):
    db = ledger13
    out = qd(db, "hazard", "list", "--as-of", "2020-12-31", "-c", "hazchem", "--columns", "编号,整改状态，village",
             "-f", "csv").stdout
    assert out.splitlines()[0] == "隐患编号,整改状态,村（居）"
    assert out.splitlines()[1] == "H-hazchem-2020-0001,待整改,南阳村"
    err = qd(db, "hazard", "list", "--columns", "编号,照片", code=2).stderr
    assert "没有这一列：照片" in err
    wide = runner.invoke(app, ["--db", db, "hazard", "list", "--as-of", "2020-12-31", "--columns", "全部"],
                         env={"COLUMNS": "300"}).stdout
    assert "督办文号" in wide


def test_unit_list_counts(db):
    for name in ("恒达化工有限公司", "南阳小学"):
        qd(db, "unit", "add", "-n", name, "-k", "危险化学品生产企业" if "化工" in name else "学校", "--on", "2020-01-01")
    out = runner.invoke(app, ["--db", db, "unit", "list", "-k", "学校"]).stdout
    assert "显示 1 个，共 2 个" in out


def test_every_missing_option_at_once(db):
    err = usage_error(db, "hazard", "report", "-c", "fire")
    assert "用法错误：缺少选项 --unit（单位名称）、--description（隐患描述）" in err
    err = usage_error(db, "hazard", "verify", "H-fire-2020-0001")
    assert "缺少选项 --passed/--failed（验收通过或不通过）、--inspector（验收人）" in err


def test_a_message_of_the_command_itself_is_chinese_too(db):
    report(db)
    err = usage_error(db, "lists", "-f", "xlsx")
    assert "用法错误：xlsx 格式须用 --output 指定文件" in err


def test_help_at_80_columns_is_whole(db):
    out = runner.invoke(app, ["hazard", "list", "--help"], env={"COLUMNS": "80"}).stdout
    assert max(len(line) for line in out.splitlines()) <= 80
    joined = "".join(part.strip() for line in out.splitlines() for part in line.split("│") if part.strip())
    assert "整改状态：待整改|整改中|待验收|已销号|已撤销，未销号=尚未销号的；可多次给出" in joined.replace(" ", "")
