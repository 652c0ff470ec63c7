"""Recurring 重点任务 (TaskSpec.recurrence): one row per period begun, each with its own progress."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import event_count

import qingdan
from qingdan.core.plugins import get_catalogue
from qingdan.core.spec import TaskSpec, period_bounds, period_label


@pytest.fixture
def catalogue(catalogue):
    yearly = TaskSpec(id="fire-y", campaign="fire", title="每年组织开展轮训", lead_departments=("镇消防救援站",),
                      responsible_departments=("镇安委会成员单位",), recurrence="yearly", due_in_period="12-31",
                      inferred="方案只说每年", source="测试")
    quarterly = TaskSpec(id="fire-q", campaign="fire", title="每季度会商", lead_departments=("镇消防救援站",),
                         recurrence="quarterly", due_in_period="3-25", source="测试")
    campaign = catalogue.campaigns["fire"]
    catalogue.campaigns["fire"] = campaign.model_copy(update={"tasks": (*campaign.tasks, yearly, quarterly)})
    catalogue.tasks.update({yearly.id: yearly, quarterly.id: quarterly})
    return catalogue


def test_periods_and_due_days():
    assert period_label("half-yearly", date(2021, 7, 1)) == "2021-H2"
    assert period_label("monthly", date(2021, 5, 9)) == "2021-05"
    assert period_bounds("quarterly", "2021-Q3") == (date(2021, 7, 1), date(2021, 9, 30))
    task = TaskSpec(id="x.1", campaign="x", title="t", lead_departments=("a",), source="s",
                    recurrence="half-yearly", due_in_period="6-15")
    assert task.period_due("2021-H1") == date(2021, 6, 15)
    assert task.period_due("2021-H2") == date(2021, 12, 15)
    monthly = TaskSpec(id="x.2", campaign="x", title="t", lead_departments=("a",), source="s",
                       recurrence="monthly", due_in_period="31")
    assert monthly.period_due("2021-02") == date(2021, 2, 28)
    with pytest.raises(ValueError):
        TaskSpec(id="x.3", campaign="x", title="t", lead_departments=("a",), source="s", recurrence="yearly",
                 due=date(2021, 1, 1))
    with pytest.raises(ValueError):
        TaskSpec(id="x.4", campaign="x", title="t", lead_departments=("a",), source="s", recurrence="yearly",
                 due_in_period="13-01")


def test_one_row_per_period_begun_each_with_its_status(ledger, clock):
    rows = [t for t in ledger.tasks(as_of=date(2021, 3, 1)) if t.id == "fire-y"]
    assert [(t.period, t.due) for t in rows] == [("2020", date(2020, 12, 31)), ("2021", date(2021, 12, 31))]
    assert rows[0].overdue and not rows[1].overdue
    assert rows[0].responsible_departments == ("镇安委会成员单位",) and rows[0].inferred == "方案只说每年"
    clock.set("2021-03-02 09:00")
    assert ledger.report_task_progress("fire-y", text="已培训一批", percent=50, period="2021",
                                       on=date(2021, 3, 2)) == "fire-y@2021"
    assert ledger.complete_task("fire-y", period="2020", on=date(2021, 3, 2)) == "fire-y@2020"
    rows = {t.period: t for t in ledger.tasks(as_of=date(2021, 3, 2)) if t.id == "fire-y"}
    assert rows["2020"].status == "done" and rows["2020"].completed_on == date(2021, 3, 2)
    assert not rows["2020"].overdue
    assert rows["2021"].status == "in_progress" and rows["2021"].percent == 50
    quarters = [t.period for t in ledger.tasks(as_of=date(2021, 3, 2)) if t.id == "fire-q"]
    assert quarters == ["2020-Q3", "2020-Q4", "2021-Q1"]
    # the one-off task keeps its old key
    assert ledger.complete_task("fire-1", on=date(2021, 3, 2)) == "fire-1"


def test_period_required_for_a_recurring_task_and_refused_for_a_one_off(ledger, clock):
    clock.set("2021-03-02 09:00")
    before = event_count(ledger)
    with pytest.raises(qingdan.InvalidCommand, match="周期"):
        ledger.complete_task("fire-y", on=date(2021, 3, 2))
    with pytest.raises(qingdan.InvalidCommand, match="不是周期性任务"):
        ledger.complete_task("fire-1", period="2021", on=date(2021, 3, 2))
    with pytest.raises(qingdan.InvalidCommand, match="格式不符"):
        ledger.complete_task("fire-y", period="2021-Q1", on=date(2021, 3, 2))
    with pytest.raises(qingdan.InvalidCommand, match="尚未开始"):
        ledger.complete_task("fire-y", period="2022", on=date(2021, 3, 2))
    with pytest.raises(qingdan.InvalidCommand, match="周期应为"):
        ledger.complete_task("fire-y", period="2019", on=date(2021, 3, 2))
    with pytest.raises(qingdan.InvalidCommand):
        ledger.complete_task("fire-y", period="21", on=date(2021, 3, 2))
    assert event_count(ledger) == before


# -- the seed's recurring duties, each citing its clause ---------------------------------------------------

SEED_RECURRING = {
    "study.2.y": ("yearly", date(2021, 12, 31), "附件1 三(一)2"),         # 每年组织开展安全监管干部轮训
    "study.report.y": ("yearly", date(2021, 12, 31), "附件1 四；总体方案 三(二)"),  # 本专题年度工作报告
    "study.8.y": ("yearly", date(2021, 12, 31), "附件1 三(四)8"),         # 年度重点工作清单和年度述职报告
    "enterprise.s3.y": ("yearly", date(2021, 12, 31), "附件2 四(三)"),     # 纳入年度监督检查计划
    "enterprise.8.y": ("yearly", date(2021, 12, 31), "附件2 二(二)8"),     # 每年组织全员安全生产责任制考核
    "enterprise.report.y": ("yearly", date(2021, 12, 31), "附件2 三、时间安排；总体方案 三(二)"),
    "hazchem.10.y1": ("yearly", date(2021, 12, 31), "附件3 二(三)10"),     # 每年至少一次警示教育
    "hazchem.10.y2": ("yearly", date(2021, 12, 31), "附件3 二(三)10"),     # 每年至少一次考核
    "hazchem.15.y": ("yearly", date(2021, 12, 31), "附件3 二(五)15"),      # 每年复训时间不少于2周
    "fire.11.y1": ("yearly", date(2021, 12, 31), "附件4 二(三)11"),        # 每年列入实事工程申报内容
    "fire.11.y2": ("yearly", date(2021, 12, 31), "附件4 二(三)11"),        # 每年督办整改一批
    "fire.12.y": ("yearly", date(2021, 12, 31), "附件4 二(三)12"),         # 每年依法组织整改一批、拆除一批
}


def test_the_seed_recurring_duties_are_encoded_with_their_clauses():
    tasks = get_catalogue().tasks
    for task_id, (recurrence, due_2021, source) in SEED_RECURRING.items():
        task = tasks[task_id]
        assert (task.recurrence, task.period_due("2021"), task.source) == (recurrence, due_2021, source), task_id
        assert task.inferred, f"{task_id}: the seed gives no day, so the due day is inferred"
    assert tasks["hazchem.10.y1"].responsible_departments == ("交管所", "安全生产监督管理局")
    assert tasks["hazchem.15.y"].responsible_departments == ("安全生产监督管理局",)
    assert tasks["study.2.y"].lead_departments == ("党群工作局", "安全生产监督管理局")
    assert tasks["study.2.y"].responsible_departments == ("镇安委会成员单位",)
    assert "复训" in tasks["hazchem.15.y"].title and "2周" in tasks["hazchem.15.y"].title


def test_missing_deliverables_are_dated_tasks():
    tasks = get_catalogue().tasks
    # 附件1 and 附件2 both ask for the 专题's annual and three-year reports; dated by 总体方案 二(一)
    for campaign in ("study", "enterprise"):
        assert tasks[f"{campaign}.report"].due == date(2022, 11, 10)
        assert "2022年11月10日" in tasks[f"{campaign}.report"].inferred
        assert tasks[f"{campaign}.report.y"].recurrence == "yearly"


def test_responsible_departments_as_each_parenthetical_says():
    tasks = get_catalogue().tasks
    # “（A牵头，B按职责分工负责）”: A leads, B is responsible, nobody is merely 配合
    assert (tasks["study.4"].lead_departments, tasks["study.4"].responsible_departments) == (
        ("安全生产监督管理局",), ("镇安委会成员单位",))
    assert tasks["enterprise.1"].responsible_departments == ("负有安全生产监管职责的安委会有关成员单位",)
    assert tasks["transport.7"].responsible_departments == ("经济发展局", "派出所", "安全生产监督管理局", "市场监管局")
    assert tasks["hazchem.g3"].responsible_departments == ("经济发展局", "派出所", "财政局", "市场监管局")
    assert tasks["hazchem.g3"].departments == ()
    # “（A、B按职责分工负责）” / “（A负责）”, no 牵头: responsible, and the lead is said to be inferred
    for task_id in ("hazchem.2", "hazchem.15", "fire.9", "road.1", "general.8", "waste.4", "transport.1"):
        task = tasks[task_id]
        assert task.responsible_departments == task.lead_departments, task_id
        assert "未写牵头部门" in (task.inferred or ""), task_id
    assert tasks["hazchem.15"].responsible_departments == ("安全生产监督管理局",)  # “（安全生产监督管理局负责）”
    # “（安全生产监督管理局牵头负责）”: a lead, not inferred
    assert tasks["hazchem.12"].responsible_departments == () and tasks["hazchem.12"].inferred is None
    # the task rows and the department index carry them
    assert set(tasks["study.2.y"].all_departments) == {"党群工作局", "安全生产监督管理局", "镇安委会成员单位"}


def test_inferred_dates_of_targets_are_said():
    targets = get_catalogue().targets
    for target_id in ("road.non_standard_school_buses", "road.major_accidents", "general.inspection_transfer_closure_rate",
                      "transport.protection_zone_rate", "study.leader_lecture_rate", "construction.dangerous_house_rate"):
        assert targets[target_id].inferred, target_id
    assert "2020年" in targets["general.inspection_transfer_closure_rate"].inferred
    assert targets["hazchem.enforcement_team_size"].inferred is None  # “2021年6月底前…不少于10人” is stated


def test_the_cli_lists_periods_and_both_kinds_of_department_and_completes_a_period(tmp_path):
    import json

    from typer.testing import CliRunner

    from qingdan.cli import app

    db = str(tmp_path / "cli.db")
    runner = CliRunner()

    def qd(*args, code=0):
        result = runner.invoke(app, ["--db", db, "--actor", "安监办张三", *args])
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result

    done = qd("task", "complete", "hazchem.15.y", "--period", "2021", "--on", "2021-03-01")
    assert "hazchem.15.y@2021" in done.stdout + done.stderr
    qd("task", "complete", "hazchem.15.y", "--on", "2021-03-01", code=1)  # a recurring task needs its period
    rows = json.loads(qd("task", "list", "--campaign", "hazchem", "--as-of", "2021-03-01", "--format", "json").stdout)
    rows = rows if isinstance(rows, list) else rows["tasks"]
    training = {r["period"]: r for r in rows if r["id"] == "hazchem.15.y"}
    assert set(training) == {"2020", "2021"}
    assert training["2021"]["status"] == "done" and training["2020"]["status"] == "not_started"
    assert training["2021"]["responsible_departments"] == ["安全生产监督管理局"]
    assert training["2021"]["inferred"]
    table = qd("task", "list", "--campaign", "study", "--as-of", "2021-03-01").stdout
    assert "负责部门" in table and "牵头部门" in table and "周期" in table
