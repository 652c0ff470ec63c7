"""附件8 危险废物等: targets, the one-year storage rule and the storage-age ledger."""

from __future__ import annotations

from datetime import date

import qingdan.plugins.waste as waste
from qingdan.core.targets import build_projection, evaluate_target
from qingdan.testing import StaticSnapshot, make_unit

TARGETS = {t.id: t for t in waste.qingdan_targets()}
CHECKS = {c.id: c for c in waste.qingdan_checks()}
AS_OF = date(2021, 8, 1)


def run(check_id: str, as_of: date, *units):
    return list(CHECKS[check_id].run(StaticSnapshot(as_of, units=units)))


def test_annex_targets_are_100_percent_by_end_of_2022():
    for target_id in ("waste.unknown_waste_identification_rate", "waste.facility_assessment_rate"):
        assert (TARGETS[target_id].goal, TARGETS[target_id].due) == (100, date(2022, 12, 31))


def test_identification_rate_counts_units_with_unknown_solid_waste():
    units = [make_unit("危险废物产生单位", 属性不明固体废物=True, 固体废物鉴别完成=True),
             make_unit("危险废物产生单位", 属性不明固体废物=True),
             make_unit("危险废物产生单位", 属性不明固体废物=False)]
    target, campaign = TARGETS["waste.unknown_waste_identification_rate"], waste.qingdan_campaign()
    status = evaluate_target(target, StaticSnapshot(AS_OF, units=units), campaign)
    assert (status.value, status.state) == (50.0, "on_track"), "43 % of the way from 2020-07 to 2022-12"
    assert evaluate_target(target, StaticSnapshot(date(2022, 6, 1), units=units), campaign).state == "at_risk"


def test_storage_over_one_year_is_judged_against_as_of():
    unit = make_unit("危险废物产生单位", "U-00001", 贮存起始日期=date(2020, 8, 1))
    assert run("waste.storage_over_one_year", date(2021, 8, 1), unit) == [], "exactly 365 days is allowed"
    [finding] = run("waste.storage_over_one_year", date(2021, 8, 2), unit)
    assert (finding.subject, finding.severity, finding.campaign) == ("U-00001", "严重", "waste")
    assert "366 天" in finding.message
    assert run("waste.storage_over_one_year", AS_OF, make_unit("危险废物产生单位")) == []


def test_storage_date_stored_as_text_is_read_too():
    unit = make_unit("医疗卫生机构", "U-00002", 贮存起始日期="2020-01-01")
    assert len(run("waste.storage_over_one_year", AS_OF, unit)) == 1


def test_illegal_muck_site_and_unplanned_producers():
    assert [f.subject for f in run("waste.illegal_muck_site", AS_OF, make_unit("渣土场", "U-00010", 合法=False),
                                   make_unit("渣土场", "U-00011", 合法=True))] == ["U-00010"]
    assert [f.subject for f in run("waste.no_management_plan", AS_OF,
                                   make_unit("危险废物产生单位", "U-00012", 危险废物管理计划申报=False),
                                   make_unit("危险废物产生单位", "U-00013"))] == ["U-00012"]


def test_storage_age_ledger_sorted_oldest_first():
    units = [make_unit("危险废物产生单位", "U-00020", 贮存起始日期=date(2021, 6, 1), 危险废物类别="HW08"),
             make_unit("危险废物产生单位", "U-00021", 贮存起始日期=date(2020, 3, 1)),
             make_unit("危险废物产生单位", "U-00022")]
    [projection] = waste.qingdan_projections()
    rows = build_projection(projection, StaticSnapshot(AS_OF, units=units))
    assert [(r["编号"], r["贮存天数"], r["超过一年"]) for r in rows] == [("U-00021", 518, "是"), ("U-00020", 61, "否")]
    assert rows[1]["危险废物类别"] == "HW08" and rows[0]["贮存起始日期"] == "2020-03-01"


def test_report_deadlines_from_the_time_schedule():
    tasks = {t.id: t.due for t in waste.qingdan_campaign().tasks}
    assert tasks["waste.r2020"] == date(2020, 11, 30)
    assert tasks["waste.r2021"] == date(2021, 11, 15)
    assert tasks["waste.r2022"] == date(2022, 11, 30)


def test_seed_facts_of_annex_8():
    """附件8 and 总体方案 二(八): leads, phases, the 5 tasks with 一、整治目标's 2022 date, the two 100% targets."""
    campaign = waste.qingdan_campaign()
    partners = ("安全生产监督管理局", "经济发展局", "农业农村和社会事业局", "派出所", "自然资源所", "建设局",
                "综合行政执法管理办公室", "市场监管局")
    joint = ("经济发展局", "派出所", "生态环境办公室", "建设局", "安全生产监督管理局", "综合行政执法管理办公室",
             "农业农村和社会事业局", "市场监管局")
    assert (campaign.lead_departments, campaign.departments) == (("生态环境办公室",), partners)
    assert [(p.name, p.start, p.end) for p in campaign.phases] == [
        ("集中攻坚", date(2020, 7, 1), date(2020, 12, 31)),
        ("持续整治", date(2021, 1, 1), date(2021, 12, 31)),
        ("巩固提升", date(2022, 1, 1), date(2022, 12, 31)),
    ]
    tasks = {t.id.removeprefix("waste."): t for t in campaign.tasks}
    for n in ("1", "2", "3"):
        assert (tasks[n].lead_departments, tasks[n].responsible_departments, tasks[n].due) == (
            ("生态环境办公室",), partners, date(2022, 12, 31)), n
    for n in ("4", "5", "m1", "m2"):
        assert (tasks[n].lead_departments, tasks[n].responsible_departments, tasks[n].departments) == (
            joint, joint, ()), n
    assert tasks["4"].due == tasks["5"].due == date(2022, 12, 31)
    assert tasks["4"].source.startswith("附件8 二(二)2(4)")
    assert {t.id: (t.goal, t.comparator, t.unit, t.due, t.source) for t in TARGETS.values()} == {
        "waste.unknown_waste_identification_rate": (100, ">=", "%", date(2022, 12, 31), "附件8 一、整治目标"),
        "waste.facility_assessment_rate": (100, ">=", "%", date(2022, 12, 31), "附件8 一、整治目标"),
    }
