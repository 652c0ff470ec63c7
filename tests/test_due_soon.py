"""What falls due: ``Ledger.due_soon`` on both backends, the notices a 安委办 sends, ``qingdan remind``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

import qingdan
from qingdan.calendar import supported_years
from qingdan.core.reading import reminder_notices

D = date


def _setup(ledger, clock) -> dict[str, str]:
    """As of Monday 12 October 2020 (the Saturday before, 10 October, was worked)."""
    clock.set("2020-09-01 09:00")
    n: dict[str, str] = {}

    def hazard(key: str, deadline: date | None, unit: str = "镇消防救援站", **fields) -> str:
        n[key] = ledger.report_hazard(campaign="fire", unit=f"{key}单位", description=f"{key}隐患",
                                      found_on=D(2020, 9, 1), **fields)
        if deadline is not None:
            ledger.plan_rectification(n[key], responsible_unit=unit, deadline=deadline, on=D(2020, 9, 2))
        return n[key]

    clock.set("2020-09-02 09:00")
    hazard("soon", D(2020, 10, 14), level="重大")
    hazard("late", D(2020, 10, 9))
    hazard("far", D(2020, 11, 30))
    hazard("today", D(2020, 10, 12), unit="农贸市场")
    hazard("nobody", None)
    ledger.plan_rectification(n["nobody"], deadline=D(2020, 10, 13), on=D(2020, 9, 2))
    hazard("no_deadline", None)
    for key in ("done", "withdrawn"):
        hazard(key, D(2020, 10, 13))
    clock.set("2020-09-20 09:00")
    ledger.complete_rectification(n["done"], on=D(2020, 9, 20))
    ledger.withdraw(n["withdrawn"], reason="重复登记", on=D(2020, 9, 20))
    n["measure"] = ledger.add_measure(campaign="fire", title="消防值班制度", department="镇消防救援站",
                                      due=D(2020, 10, 15), on=D(2020, 9, 20))
    issued = ledger.add_measure(campaign="fire", title="已印发的制度", department="镇消防救援站",
                                due=D(2020, 10, 13), on=D(2020, 9, 20))
    ledger.issue_measure(issued, doc_no="南消〔2020〕1号", on=D(2020, 9, 20))
    ledger.add_measure(campaign="fire", title="无时限的制度", department="镇消防救援站", on=D(2020, 9, 20))
    clock.set("2020-10-12 09:00")
    return n


def test_due_soon_lists_open_deadlines_and_planned_due_dates_by_date(ledger, clock):
    n = _setup(ledger, clock)
    items = ledger.due_soon(as_of=D(2020, 10, 12))
    assert [(i.kind, i.number) for i in items] == [
        ("hazard", n["late"]), ("hazard", n["today"]), ("hazard", n["nobody"]), ("hazard", n["soon"]),
        ("measure", n["measure"])]
    late, today, nobody, soon, measure = items
    # overdue: 9 October; the working days since are Saturday 10 and Monday 12 October
    assert (late.due, late.days_left, late.working_days_left, late.overdue) == (D(2020, 10, 9), -3, -2, True)
    assert (today.days_left, today.working_days_left, today.department) == (0, 0, "农贸市场")
    assert (soon.days_left, soon.working_days_left, soon.level) == (2, 2, "重大")
    assert soon.title == "soon单位：soon隐患" and soon.department == "镇消防救援站" and soon.campaign == "fire"
    assert nobody.department is None and nobody.status == "rectifying"
    assert (measure.title, measure.department, measure.days_left, measure.status) == (
        "消防值班制度", "镇消防救援站", 3, "planned")
    # the window: 0 days is today and what is overdue; a longer one reaches the far deadline
    assert [i.number for i in ledger.due_soon(within_days=0, as_of=D(2020, 10, 12))] == [n["late"], n["today"]]
    assert n["far"] in [i.number for i in ledger.due_soon(within_days=60, as_of=D(2020, 10, 12))]


def test_due_soon_is_bitemporal(ledger, clock):
    n = _setup(ledger, clock)
    known = clock.mark()
    clock.set("2020-10-13 09:00")
    ledger.complete_rectification(n["soon"], on=D(2020, 10, 12))
    assert n["soon"] not in [i.number for i in ledger.due_soon(as_of=D(2020, 10, 12))]
    assert n["soon"] in [i.number for i in ledger.due_soon(as_of=D(2020, 10, 12), known_at=known)]
    assert n["soon"] in [i.number for i in ledger.due_soon(as_of=D(2020, 10, 11))]
    assert ledger.due_soon(as_of=D(2020, 9, 1)) == []  # nothing planned yet that day


def test_tasks_fall_due_too(ledger, clock):
    clock.set("2022-12-20 09:00")
    [task] = ledger.due_soon(as_of=D(2022, 12, 26))
    assert (task.kind, task.number, task.department, task.due, task.status) == (
        "task", "fire-1", "镇消防救援站", D(2022, 12, 31), "not_started")
    ledger.complete_task("fire-1", on=D(2022, 12, 20))
    assert ledger.due_soon(as_of=D(2022, 12, 26)) == []


def test_a_window_is_whole_days(ledger):
    for bad in (-1, True, 1.5):
        with pytest.raises(qingdan.InvalidCommand, match="提前天数"):
            ledger.due_soon(within_days=bad)


def test_working_days_left_is_none_where_the_calendar_does_not_know(ledger, clock):
    last = supported_years()[1]
    clock.set(f"{last}-12-01 09:00")
    number = ledger.report_hazard(campaign="fire", unit="甲", description="乙")
    ledger.plan_rectification(number, deadline=D(last + 1, 1, 5))
    [item] = [i for i in ledger.due_soon(within_days=40, as_of=D(last, 12, 1)) if i.kind == "hazard"]
    assert item.days_left == (D(last + 1, 1, 5) - D(last, 12, 1)).days and item.working_days_left is None


def test_the_notices_group_by_department_overdue_first(ledger, clock):
    n = _setup(ledger, clock)
    notices = reminder_notices(ledger.due_soon(as_of=D(2020, 10, 12)), as_of=D(2020, 10, 12), within_days=7,
                               sender="南阳镇安委会办公室")
    assert [x.department for x in notices] == sorted(["农贸市场", "未明确责任单位", "镇消防救援站"])
    fire = next(x for x in notices if x.department == "镇消防救援站")
    assert [i.number for i in fire.overdue_items] == [n["late"]]
    assert [i.number for i in fire.due_items] == [n["soon"], n["measure"]]
    lines = fire.text.splitlines()
    assert lines[2] == "镇消防救援站：" and lines[-2:] == ["南阳镇安委会办公室", "2020-10-12"]
    assert "一、已逾期（1 项）" in lines and "二、即将到期（2 项）" in lines
    assert f"1. 【问题隐患】{n['late']} late单位：late隐患 — 整改期限 2020-10-09，已逾期3天（2个工作日）" in lines
    assert f"1. 【问题隐患·重大】{n['soon']} soon单位：soon隐患 — 整改期限 2020-10-14，还有2天（2个工作日）" in lines
    market = next(x for x in notices if x.department == "农贸市场")
    assert "一、即将到期（1 项）" in market.text and "今天到期" in market.text


# -- qingdan remind ----------------------------------------------------------------------------------

runner = CliRunner()


def qd(db: str, *args: str, code: int = 0, env: dict[str, str] | None = None):
    result = runner.invoke(app(), ["--db", db, "--actor", "安监办张三", *args], env=env)
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def app():
    from qingdan.cli import app as cli

    return cli


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "remind.db")
    number = qd(path, "hazard", "report", "-c", "fire", "-u", "南阳镇农贸市场", "-d", "疏散通道堆放杂物",
                "--found-on", "2020-09-24", "--level", "重大").stdout.strip()
    qd(path, "hazard", "plan", number, "--responsible-unit", "农贸市场", "--deadline", "15个工作日",
       "--on", "2020-09-24")
    other = qd(path, "hazard", "report", "-c", "fire", "-u", "东港村仓库", "-d", "消防器材过期",
               "--found-on", "2020-09-24").stdout.strip()
    qd(path, "hazard", "plan", other, "--responsible-unit", "东港村委会", "--deadline", "2020-10-16",
       "--on", "2020-09-24")
    qd(path, "measure", "add", "-c", "fire", "--title", "农贸市场消防巡查制度", "--department", "农贸市场",
       "--due", "2020-10-23", "--on", "2020-09-24")
    return path


def test_remind_prints_per_department_what_is_overdue_and_due_soon(db):
    out = qd(db, "remind", "--as-of", "2020-10-19", "--format", "json")
    notices = json.loads(out.stdout)
    market = next(x for x in notices if x["department"] == "农贸市场")
    assert [(i["kind"], i["due"], i["days_left"], i["working_days_left"]) for i in market["due_items"]] == [
        ("hazard", "2020-10-21", 2, 2), ("measure", "2020-10-23", 4, 4)]
    village = next(x for x in notices if x["department"] == "东港村委会")
    assert [i["due"] for i in village["overdue_items"]] == ["2020-10-16"] and village["due_items"] == []
    assert "截至 2020-10-19" in out.stderr and "已逾期" in out.stderr
    assert village["text"].endswith("南阳镇安委会办公室\n2020-10-19\n")
    table = qd(db, "remind", "--as-of", "2020-10-19", "--department", "农贸市场")
    assert "致 农贸市场" in table.stdout and "东港村委会" not in table.stdout
    assert "还有2天" in table.stdout


def test_remind_as_markdown_and_as_a_workbook(db, tmp_path):
    md = qd(db, "remind", "--as-of", "2020-10-19", "--within", "3", "-f", "md").stdout
    assert md.startswith("# 南阳镇到期事项提醒（截至2020年10月19日，3日内到期及已逾期）")
    assert "## 农贸市场（已逾期 0 项，即将到期 1 项）" in md and "消防巡查制度" not in md
    assert "## 东港村委会（已逾期 1 项，即将到期 0 项）" in md
    book = tmp_path / "remind.xlsx"
    qd(db, "remind", "--as-of", "2020-10-19", "-f", "xlsx", "--output", str(book))
    sheet = load_workbook(book)["到期提醒"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert any(row[2] == "M-fire-2020-0001" and row[4] == "农贸市场" for row in values)
    assert "xlsx" in qd(db, "remind", "-f", "xlsx", code=2).stderr


def test_remind_sends_nothing_unless_a_plugin_is_configured(db, tmp_path, monkeypatch):
    monkeypatch.delenv("QINGDAN_REMINDER_DIR", raising=False)
    out = qd(db, "remind", "--as-of", "2020-10-19", "--send", "--department", "农贸市场")
    assert "没有插件发送提醒" in out.stderr
    folder = tmp_path / "outbox"
    monkeypatch.setenv("QINGDAN_REMINDER_DIR", str(folder))
    qd(db, "remind", "--as-of", "2020-10-19")  # without --send nothing leaves
    assert not folder.exists()
    out = qd(db, "remind", "--as-of", "2020-10-19", "--send", "--department", "农贸市场")
    assert "general：已将 1 份提醒通知写入" in out.stderr
    text = (folder / "2020-10-19-农贸市场.txt").read_text(encoding="utf-8")
    assert text.startswith("关于抓紧办理到期事项的提醒") and "15个工作日" not in text
    assert "整改期限 2020-10-21，还有2天（2个工作日）" in text
    [notice] = json.loads((folder / "2020-10-19-reminders.json").read_text(encoding="utf-8"))
    assert notice["department"] == "农贸市场"


def test_remind_has_help():
    result = runner.invoke(app(), ["remind", "--help"])
    assert result.exit_code == 0 and "--within" in result.stdout and "--send" in result.stdout
