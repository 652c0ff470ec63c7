"""总体方案: phases, the monthly 两个清单, 重大隐患 escalation, overdue rectification and the summary report."""

from __future__ import annotations

from datetime import date

import qingdan.plugins.general as general
from qingdan.core.targets import build_projection
from qingdan.testing import StaticReport, StaticSnapshot, make_hazard, make_task, make_unit

CHECKS = {c.id: c for c in general.qingdan_checks()}
TARGETS = {t.id: t for t in general.qingdan_targets()}


def run(check_id: str, as_of: date, **rows):
    return list(CHECKS[check_id].run(StaticSnapshot(as_of, **rows)))


def test_phases_follow_the_time_schedule():
    phases = [(p.name, p.start, p.end) for p in general.qingdan_campaign().phases]
    assert phases == [
        ("动员部署", date(2020, 7, 1), date(2020, 7, 31)),
        ("排查整治", date(2020, 8, 1), date(2020, 12, 31)),
        ("集中攻坚", date(2021, 1, 1), date(2021, 12, 31)),
        ("巩固提升", date(2022, 1, 1), date(2022, 12, 31)),
    ]


def test_monthly_lists_missing_or_late_each_month_from_august_2020():
    reports = [
        StaticReport("2020-08", date(2020, 8, 25)),  # on the 25th: on time
        StaticReport("2020-09", date(2020, 9, 26)),  # late
        StaticReport("2020-10", date(2020, 10, 20), campaign="fire"),  # a 专项's own list does not count
        StaticReport("2020-11", date(2020, 11, 30), campaign="general"),
        StaticReport("2020-11", date(2020, 11, 24)),  # the earliest submission counts
    ]
    findings = run("general.monthly_two_lists", date(2020, 12, 20), reports=reports)
    assert [(f.subject, f.severity) for f in findings] == [("报送 2020-09", "警告"), ("报送 2020-10", "严重")]
    assert all(f.campaign == "general" for f in findings)
    # after the 25th of December the December list is due too
    assert [f.subject for f in run("general.monthly_two_lists", date(2020, 12, 26), reports=reports)][-1] == "报送 2020-12"


def test_monthly_lists_are_not_due_before_the_first_period():
    assert run("general.monthly_two_lists", date(2020, 8, 25)) == []
    assert len(run("general.monthly_two_lists", date(2023, 3, 1))) == 29, "2020-08 .. 2022-12 only"


def test_major_hazards_not_escalated_are_found_in_every_campaign():
    hazards = [
        make_hazard("fire", "H-fire-2020-0001", level="重大"),
        make_hazard("hazchem", "H-hazchem-2020-0001", level="重大", escalated=True),
        make_hazard("road", "H-road-2020-0001", level="重大", status="closed"),
        make_hazard("road", "H-road-2020-0002", level="重大", status="withdrawn"),
        make_hazard("waste", "H-waste-2020-0001", level="一般"),
    ]
    findings = run("general.major_not_escalated", date(2020, 9, 1), hazards=hazards)
    assert [(f.subject, f.campaign, f.severity) for f in findings] == [("H-fire-2020-0001", "fire", "严重")]


def test_overdue_rectification():
    hazards = [
        make_hazard("fire", "H-fire-2020-0001", overdue=True, deadline=date(2020, 8, 31), status="rectifying"),
        make_hazard("fire", "H-fire-2020-0002", overdue=False, status="rectifying"),
        make_hazard("road", "H-road-2020-0001", overdue=True, level="重大", status="rectifying"),
    ]
    findings = run("general.rectification_overdue", date(2020, 9, 10), hazards=hazards)
    assert [(f.subject, f.severity) for f in findings] == [("H-fire-2020-0001", "警告"), ("H-road-2020-0001", "严重")]
    assert "2020-08-31" in findings[0].message


def test_summary_report_due_10_november_2022():
    pending = [make_task("general.5", "general", status="in_progress")]
    assert run("general.summary_report", date(2022, 11, 10), tasks=pending) == []
    [finding] = run("general.summary_report", date(2022, 11, 11), tasks=pending)
    assert finding.subject == "general.5" and finding.severity == "严重"
    on_time = [make_task("general.5", "general", status="done", completed_on=date(2022, 11, 8))]
    assert run("general.summary_report", date(2022, 12, 1), tasks=on_time) == []
    late = [make_task("general.5", "general", status="done", completed_on=date(2022, 11, 20))]
    assert "晚于" in run("general.summary_report", date(2022, 12, 1), tasks=late)[0].message
    assert {t.id: t.due for t in general.qingdan_campaign().tasks}["general.5"] == date(2022, 11, 10)


def test_task_overdue_reports_the_tasks_own_campaign():
    tasks = [make_task("fire.2", "fire", due=date(2020, 12, 31), lead_departments=("派出所",)),
             make_task("fire.3", "fire", due=date(2022, 12, 31)),
             make_task("road.m1", "road", due=date(2020, 12, 31), status="done")]
    [finding] = run("general.task_overdue", date(2021, 1, 5), tasks=tasks)
    assert (finding.subject, finding.campaign) == ("fire.2", "fire") and "派出所" in finding.message


def test_five_in_place_rate_over_all_campaigns():
    hazards = [make_hazard("fire", "H-fire-2020-0001", five_in_place=True),
               make_hazard("road", "H-road-2020-0001"),
               make_hazard("road", "H-road-2020-0002", status="withdrawn")]
    assert TARGETS["general.five_in_place_rate"].measure(StaticSnapshot(date(2020, 9, 1), hazards=hazards)) == 50.0


def test_two_lists_by_campaign_projection():
    hazards = [make_hazard("fire", "H-fire-2020-0001", level="重大", status="closed"),
               make_hazard("fire", "H-fire-2020-0002", overdue=True),
               make_hazard("road", "H-road-2020-0001", status="withdrawn")]
    projection = {p.id: p for p in general.qingdan_projections()}["general.two_lists_by_campaign"]
    rows = build_projection(projection, StaticSnapshot(date(2020, 9, 1), hazards=hazards))
    assert rows == [{"专项": "fire", "隐患总数": 2, "重大隐患": 1, "已销号": 1, "未销号": 1, "逾期": 1,
                     "制度措施": 0, "已印发或落实": 0}]


def test_monthly_report_register():
    projection = {p.id: p for p in general.qingdan_projections()}["general.monthly_report_register"]
    rows = build_projection(projection, StaticSnapshot(date(2020, 10, 20), reports=[StaticReport("2020-08", date(2020, 8, 26))]))
    assert [(r["期次"], r["状态"]) for r in rows] == [("2020-08", "逾期"), ("2020-09", "未报送"), ("2020-10", "未到期")]


def test_seed_facts_of_the_main_plan():
    """总体方案 三(二) report dates, 四 leads, and the two targets the plan implies but does not date."""
    campaign = general.qingdan_campaign()
    assert (campaign.kind, campaign.lead_departments) == ("总体", ("镇安委会办公室",))
    tasks = {t.id.removeprefix("general."): t for t in campaign.tasks}
    assert {n: t.due for n, t in tasks.items() if t.due is not None} == {
        "1": date(2020, 7, 31),    # 实施方案 7月底前
        "2": date(2020, 12, 31), "3": date(2021, 12, 31), "4": date(2022, 12, 31),  # 年度报告 年底前
        "5": date(2022, 11, 10),   # 三年行动总结报告
    }
    assert tasks["7"].lead_departments == ("安全生产监督管理局",)
    assert all(tasks[n].lead_departments == ("各相关部门",) for n in ("8", "9", "10", "11"))
    assert {t.id: (t.goal, t.comparator, t.unit, t.due) for t in TARGETS.values()} == {
        "general.five_in_place_rate": (100, ">=", "%", date(2022, 12, 31)),
        "general.inspection_transfer_closure_rate": (100, ">=", "%", date(2020, 12, 31)),
    }
    assert "三年行动期末" in TARGETS["general.five_in_place_rate"].title
    assert "集中攻坚阶段末" in TARGETS["general.inspection_transfer_closure_rate"].title


# -- no target is met without data (an empty denominator or no readings is no_data) -----------------


def test_no_target_of_any_campaign_is_met_without_data():
    from qingdan.core.plugins import get_catalogue
    from qingdan.core.targets import evaluate_target

    catalogue = get_catalogue()
    unrelated = make_unit("无关单位", "U-00001")
    for snapshot in (StaticSnapshot(date(2021, 6, 1)), StaticSnapshot(date(2023, 1, 1), units=[unrelated])):
        for target in catalogue.targets.values():
            status = evaluate_target(target, snapshot, catalogue.campaigns[target.campaign])
            assert status.state == "no_data", (target.id, status.value)


def test_each_kind_of_target_is_no_data_without_its_population():
    from qingdan.core import targets as rules
    from qingdan.core.authoring import share_target, target
    from qingdan.core.targets import evaluate_target

    day = date(2021, 6, 1)
    other = make_unit("其他", "U-00002")
    school_bus = make_unit("校车", "U-00003", 专用校车=True)
    # a share of units
    share = share_target("t", "share", "率", date(2022, 12, 31), "s", rules.of_kind("校车"), "专用校车")
    assert evaluate_target(share, StaticSnapshot(day, units=[other])).state == "no_data"
    assert evaluate_target(share, StaticSnapshot(day, units=[school_bus])).state == "met"
    # a count of units with a goal of 0: nothing registered is not 0 met
    count = target("t", "count", "数", date(2022, 12, 31), "s",
                   rules.count_measure(rules.has("专用校车", False), population=rules.of_kind("校车")),
                   goal=0, comparator="<=", unit="辆")
    assert evaluate_target(count, StaticSnapshot(day, units=[other])).state == "no_data"
    assert evaluate_target(count, StaticSnapshot(day, units=[school_bus])).state == "met"
    bare = target("t", "bare", "数", date(2022, 12, 31), "s", rules.count_measure(rules.of_kind("校车")),
                  goal=0, comparator="<=", unit="辆")
    assert evaluate_target(bare, StaticSnapshot(day)).state == "no_data"
    # a closure rate of hazards
    closure = target("t", "closure", "销号率", date(2022, 12, 31), "s", rules.hazard_closure_measure("fire"))
    assert evaluate_target(closure, StaticSnapshot(day, hazards=[make_hazard("hazchem", "H-hazchem-2020-0001")])
                           ).state == "no_data"
    # a reported indicator with no reading, or only a later one
    reported = target("t", "reported", "起数", date(2022, 12, 31), "s", goal=0, comparator="<=", unit="起")
    assert evaluate_target(reported, StaticSnapshot(day)).state == "no_data"
    assert evaluate_target(reported, StaticSnapshot(day, indicators={"t.reported": 0})).state == "met"
    # the general plan's own rates
    assert evaluate_target(TARGETS["general.five_in_place_rate"], StaticSnapshot(day)).state == "no_data"
    assert evaluate_target(TARGETS["general.inspection_transfer_closure_rate"],
                           StaticSnapshot(day, hazards=[make_hazard("fire", "H-fire-2020-0001", source="检查")])
                           ).state == "no_data"
