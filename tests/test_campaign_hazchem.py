"""附件3 危险化学品: computed targets, checks and the 红橙黄蓝 projection."""

from __future__ import annotations

from datetime import date

import pytest

import qingdan.plugins.hazchem as hazchem
from qingdan.core.targets import build_projection, evaluate_target
from qingdan.testing import StaticSnapshot, make_hazard, make_unit

TARGETS = {t.id: t for t in hazchem.qingdan_targets()}
CHECKS = {c.id: c for c in hazchem.qingdan_checks()}
BEFORE, AFTER = date(2020, 12, 31), date(2021, 1, 1)


def run(check_id: str, as_of: date, *units):
    return list(CHECKS[check_id].run(StaticSnapshot(as_of, units=units)))


def test_automation_rate_counts_only_two_key_one_major_enterprises():
    units = [
        make_unit("化工生产企业", 两重点一重大=True, 自动化控制系统投用=True),
        make_unit("危险化学品生产企业", 两重点一重大=True, 自动化控制系统投用=False),
        make_unit("危险化学品经营企业", 两重点一重大=False, 自动化控制系统投用=False),
    ]
    status = evaluate_target(TARGETS["hazchem.automation_rate"], StaticSnapshot(BEFORE, units=units))
    assert (status.value, status.due, status.state) == (50.0, date(2020, 12, 31), "at_risk")
    assert evaluate_target(TARGETS["hazchem.automation_rate"], StaticSnapshot(AFTER, units=units)).state == "missed"
    assert evaluate_target(TARGETS["hazchem.automation_rate"], StaticSnapshot(BEFORE)).state == "no_data"


def test_quantitative_targets_of_the_annex_are_all_declared():
    expected = {
        "hazchem.automation_rate": (100, ">=", "%", date(2020, 12, 31)),
        "hazchem.enforcement_team_size": (10, ">=", "人", date(2021, 6, 30)),
        "hazchem.prevention_system_rate": (100, ">=", "%", date(2022, 12, 31)),
        "hazchem.professional_officer_share": (75, ">=", "%", date(2022, 12, 31)),
        "hazchem.manager_assessment_rate": (100, ">=", "%", date(2022, 12, 31)),
        "hazchem.skill_upgrade_share": (10, ">=", "%", date(2021, 12, 31)),
        "hazchem.certified_worker_share": (30, ">=", "%", date(2022, 12, 31)),
    }
    for target_id, (goal, comparator, unit, due) in expected.items():
        t = TARGETS[target_id]
        assert (t.goal, t.comparator, t.unit, t.due) == (goal, comparator, unit, due), target_id


def test_enforcement_team_is_read_from_indicator_readings():
    t = TARGETS["hazchem.enforcement_team_size"]
    assert t.measure is None
    campaign = hazchem.qingdan_campaign()
    may = date(2021, 5, 1)  # 304 of 364 days from the campaign start: the line stands at 8.35 人
    assert evaluate_target(t, StaticSnapshot(may, indicators={t.id: 9}), campaign).state == "on_track"
    assert evaluate_target(t, StaticSnapshot(may, indicators={t.id: 8}), campaign).state == "at_risk"
    assert evaluate_target(t, StaticSnapshot(date(2021, 7, 1), indicators={t.id: 8})).state == "missed"
    assert evaluate_target(t, StaticSnapshot(date(2021, 7, 1), indicators={t.id: 10})).state == "met"


def test_license_review_rate_counts_red_and_orange_enterprises_with_a_review_date():
    units = [
        make_unit("危险化学品生产企业", 风险等级="红", 许可回头看核查日期=date(2020, 10, 1)),
        make_unit("危险化学品生产企业", 风险等级="橙"),
        make_unit("危险化学品生产企业", 风险等级="黄"),
    ]
    assert TARGETS["hazchem.license_review_rate"].measure(StaticSnapshot(BEFORE, units=units)) == 50.0


def test_red_orange_license_review_is_only_judged_after_2020():
    red = make_unit("危险化学品生产企业", "U-00001", 风险等级="红")
    late = make_unit("危险化学品储存企业", "U-00002", 风险等级="橙", 许可回头看核查日期=date(2021, 3, 1))
    done = make_unit("危险化学品储存企业", "U-00003", 风险等级="橙", 许可回头看核查日期=date(2020, 11, 1))
    yellow = make_unit("危险化学品储存企业", "U-00004", 风险等级="黄")
    assert run("hazchem.license_review_red_orange", BEFORE, red, late, done, yellow) == []
    findings = run("hazchem.license_review_red_orange", date(2021, 4, 1), red, late, done, yellow)
    assert [(f.subject, f.severity) for f in findings] == [("U-00001", "严重"), ("U-00002", "提示")]
    assert all(f.campaign == "hazchem" for f in findings)


def test_automation_not_in_use_means_shutdown_after_2020():
    unit = make_unit("化工生产企业", "U-00010", 两重点一重大=True, 自动化控制系统投用=False)
    fine = make_unit("化工生产企业", "U-00011", 两重点一重大=True, 自动化控制系统投用=True)
    assert run("hazchem.automation_not_in_use", BEFORE, unit, fine) == []
    [finding] = run("hazchem.automation_not_in_use", AFTER, unit, fine)
    assert finding.subject == "U-00010" and "停产整改" in finding.message


@pytest.mark.parametrize(("staff", "required"), [(0, 0), (1, 1), (6, 1), (7, 2), (20, 3), (40, 6)])
def test_registered_engineers_required(staff, required):
    assert hazchem.required_registered_engineers(staff) == required


def test_registered_engineers_short():
    short = make_unit("危险化学品生产企业", "U-00020", 专职安全管理人员数=20, 注册安全工程师人数=2)
    enough = make_unit("危险化学品生产企业", "U-00021", 专职安全管理人员数=20, 注册安全工程师人数=3)
    small = make_unit("危险化学品经营企业", "U-00022", 专职安全管理人员数=3)
    unknown = make_unit("危险化学品经营企业", "U-00023")
    findings = run("hazchem.registered_engineers_short", BEFORE, short, enough, small, unknown)
    assert [f.subject for f in findings] == ["U-00020", "U-00022"]
    assert "不少于 3 名" in findings[0].message


def test_external_distance_deadline_depends_on_rectification_route():
    in_place = make_unit("危险化学品生产企业", "U-00030", 两重点一重大=True, 外部安全防护距离达标=False,
                         外部安全防护距离整改方式="就地整改")
    moving = make_unit("危险化学品生产企业", "U-00031", 两重点一重大=True, 外部安全防护距离达标=False,
                       外部安全防护距离整改方式="搬迁")
    assert run("hazchem.external_distance_overdue", BEFORE, in_place, moving) == []
    assert [f.subject for f in run("hazchem.external_distance_overdue", AFTER, in_place, moving)] == ["U-00030"]
    assert len(run("hazchem.external_distance_overdue", date(2023, 1, 1), in_place, moving)) == 2


def test_packaging_crew_limit_is_nine():
    assert run("hazchem.packaging_crew_over_nine", BEFORE, make_unit("化工生产企业", 包装厂房当班操作人数=9)) == []
    assert len(run("hazchem.packaging_crew_over_nine", BEFORE, make_unit("化工生产企业", 包装厂房当班操作人数=10))) == 1


def test_reaction_assessment_missing_after_2021():
    unit = make_unit("精细化工企业", 精细化工=True, 涉及硝化氯化重氮化过氧化工艺=True)
    assert run("hazchem.reaction_assessment_missing", date(2021, 12, 31), unit) == []
    assert len(run("hazchem.reaction_assessment_missing", date(2022, 1, 1), unit)) == 1


def test_risk_distribution_counts_units_and_open_hazards_of_this_campaign_only():
    units = [
        make_unit("危险化学品生产企业", "U-00041", 风险等级="红", 两重点一重大=True, 重大危险源=True),
        make_unit("危险化学品生产企业", "U-00042", 风险等级="红"),
        make_unit("化工生产企业", "U-00043", 风险等级="蓝"),
        make_unit("危险化学品经营企业", "U-00044"),
        make_unit("高层建筑", "U-00045", 风险等级="红"),  # not a hazchem kind
    ]
    hazards = [
        make_hazard("hazchem", "H-hazchem-2020-0001", unit_number="U-00041"),
        make_hazard("hazchem", "H-hazchem-2020-0002", unit_number="U-00041", status="closed"),
        make_hazard("fire", "H-fire-2020-0001", unit_number="U-00041"),
    ]
    [projection] = hazchem.qingdan_projections()
    rows = {row["风险等级"]: row for row in build_projection(projection, StaticSnapshot(BEFORE, units=units, hazards=hazards))}
    assert list(rows) == ["红", "橙", "黄", "蓝", "未评定"]
    assert rows["红"] == {"风险等级": "红", "企业数": 2, "两重点一重大": 1, "重大危险源": 1, "未销号隐患": 1}
    assert rows["蓝"]["企业数"] == 1 and rows["未评定"]["企业数"] == 1 and rows["橙"]["企业数"] == 0


def test_dated_tasks_carry_the_seed_deadlines():
    tasks = {t.id: t for t in hazchem.qingdan_campaign().tasks}
    assert tasks["hazchem.3.1"].due == date(2020, 7, 31)
    assert tasks["hazchem.6.4"].due == date(2020, 7, 31)  # 2020年8月前
    assert tasks["hazchem.7.1"].due == date(2021, 12, 31)
    assert tasks["hazchem.15"].due == date(2021, 6, 30)
    assert tasks["hazchem.2"].lead_departments == ("经济发展局", "生态环境办公室", "安全生产监督管理局")
    assert {str(n) for n in range(1, 19)} <= {t.id.split(".")[1] for t in tasks.values()}


def test_seed_facts_of_annex_3():
    """附件3 and 总体方案 二(三): leads, phases, the 18 tasks with their dates and departments, every target."""
    campaign = hazchem.qingdan_campaign()
    safety = "安全生产监督管理局"
    assert (campaign.lead_departments, campaign.departments) == (
        (safety,), ("经济发展局", "派出所", "财政局", "市场监管局"))
    assert [(p.name, p.start, p.end) for p in campaign.phases] == [
        ("集中攻坚", date(2020, 7, 1), date(2020, 12, 31)),
        ("持续整治", date(2021, 1, 1), date(2021, 12, 31)),
        ("巩固提升", date(2022, 1, 1), date(2022, 12, 31)),
    ]
    tasks = {t.id.removeprefix("hazchem."): t for t in campaign.tasks}
    assert {str(n) for n in range(1, 19)} <= set(tasks)
    y2020, y2021, y2022 = date(2020, 12, 31), date(2021, 12, 31), date(2022, 12, 31)
    assert {n: t.due for n, t in tasks.items() if t.due is not None and not n.startswith("r")} == {
        "g1": y2020, "g2": y2020, "g3": y2020, "g4": y2022,
        "2": y2020, "3": y2022, "3.1": date(2020, 7, 31), "3.2": y2020, "3.3": y2022,
        "4": y2022, "4.1": y2022, "5": y2022, "5.1": y2020, "5.2": y2022,
        "6": y2022, "6.1": y2020, "6.2": y2022, "6.3": y2020, "6.4": date(2020, 7, 31),  # “2020年8月前”
        "7": y2022, "7.1": y2021, "7.2": y2022, "10": y2022, "10.1": y2021, "10.2": y2022, "11": y2022,
        "15": date(2021, 6, 30), "16": y2020, "16.1": y2020, "16.2": y2020,
    }
    assert {n: t.due for n, t in tasks.items() if n.startswith("r")} == {
        "r2020": date(2020, 12, 10), "r2021h": date(2021, 6, 15), "r2021": date(2021, 12, 10),
        "r2022h": date(2022, 6, 15), "r2022": date(2022, 12, 10), "r3y": y2022,
    }
    leads = {n: t.lead_departments for n, t in tasks.items()}
    assert leads["1"] == leads["8"] == ("安委会成员单位",)
    assert leads["2"] == ("经济发展局", "生态环境办公室", safety)
    assert leads["3"] == (safety, "经济发展局")
    assert leads["4.1"] == ("农业农村和社会事业局", safety), "the vehicle sentence falls under the next parenthetical"
    assert leads["5.1"] == leads["5.2"] == ("交管所", safety)
    assert leads["6"] == leads["7"] == leads["11"] == leads["12"] == leads["15"] == leads["16"] == (safety,)
    assert leads["9"] == (safety, "市场监管局")
    assert leads["10.1"] == ("党群工作局", safety)
    assert leads["13"] == ("经济发展局", "党群工作局", safety, "市场监管局")
    assert leads["17"] == (safety, "建设局") and leads["18"] == (safety, "安委会成员单位")
    y = {2020: y2020, 2021: y2021, 2022: y2022}
    assert {t.id.removeprefix("hazchem."): (t.goal, t.comparator, t.unit, t.due) for t in TARGETS.values()} == {
        "automation_rate": (100, ">=", "%", y[2020]),
        "self_inspection_rate": (100, ">=", "%", date(2020, 7, 31)),
        "license_review_rate": (100, ">=", "%", y[2020]),
        "chemical_info_system_rate": (100, ">=", "%", y[2020]),
        "enforcement_team_size": (10, ">=", "人", date(2021, 6, 30)),
        "reaction_assessment_rate": (100, ">=", "%", y[2021]),
        "skill_upgrade_share": (10, ">=", "%", y[2021]),
        "prevention_system_rate": (100, ">=", "%", y[2022]),
        "high_risk_process_automation_rate": (100, ">=", "%", y[2022]),
        "transport_monitoring_rate": (100, ">=", "%", y[2022]),
        "manager_assessment_rate": (100, ">=", "%", y[2022]),
        "professional_officer_share": (75, ">=", "%", y[2022]),
        "certified_worker_share": (30, ">=", "%", y[2022]),
    }
    assert TARGETS["hazchem.automation_rate"].source == "附件3 一、整治目标；二(二)6"
    assert TARGETS["hazchem.enforcement_team_size"].source == "附件3 二(五)15"
