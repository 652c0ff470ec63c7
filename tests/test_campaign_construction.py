"""附件7 城市建设: targets, checks and the house-grade projection."""

from __future__ import annotations

from datetime import date

import qingdan.plugins.construction as construction
from qingdan.core.targets import build_projection
from qingdan.testing import StaticReport, StaticSnapshot, make_unit

TARGETS = {t.id: t for t in construction.qingdan_targets()}
CHECKS = {c.id: c for c in construction.qingdan_checks()}
AS_OF = date(2021, 5, 1)


def run(check_id: str, *units, **kwargs):
    return list(CHECKS[check_id].run(StaticSnapshot(kwargs.pop("as_of", AS_OF), units=units, **kwargs)))


def test_dangerous_house_rate_counts_c_and_d_grades():
    houses = [make_unit("房屋", 房屋安全鉴定等级="C", 整治完成=True), make_unit("房屋", 房屋安全鉴定等级="D"),
              make_unit("房屋", 房屋安全鉴定等级="B")]
    assert TARGETS["construction.dangerous_house_rate"].measure(StaticSnapshot(AS_OF, units=houses)) == 50.0


def test_dangerous_houses_used_as_crowded_places_are_serious():
    crowded = make_unit("房屋", "U-00001", 房屋安全鉴定等级="C", 人员聚集场所=True)
    c_grade = make_unit("房屋", "U-00002", 房屋安全鉴定等级="C")
    fixed = make_unit("房屋", "U-00003", 房屋安全鉴定等级="D", 整治完成=True)
    safe = make_unit("房屋", "U-00004", 房屋安全鉴定等级="A", 人员聚集场所=True)
    findings = run("construction.dangerous_house_unremedied", crowded, c_grade, fixed, safe)
    assert [(f.subject, f.severity) for f in findings] == [("U-00001", "严重"), ("U-00002", "警告")]


def test_unlicensed_gas_station():
    assert [f.subject for f in run("construction.unlicensed_gas_station",
                                   make_unit("燃气场站", "U-00010", 燃气经营许可证=False),
                                   make_unit("燃气场站", "U-00011", 燃气经营许可证=True))] == ["U-00010"]


def test_major_works_need_a_reviewed_plan():
    findings = run("construction.major_works_without_review",
                   make_unit("建筑工地", "U-00020", 危大工程="深基坑"),
                   make_unit("建筑工地", "U-00021", 危大工程="高支模", 专项方案论证=True),
                   make_unit("建筑工地", "U-00022"))
    assert [f.subject for f in findings] == ["U-00020"] and "深基坑" in findings[0].message


def test_monthly_lists_of_this_campaign():
    reports = [StaticReport("2020-08", date(2020, 8, 20), campaign="construction"),
               StaticReport("2020-09", date(2020, 9, 28), campaign="construction"),
               StaticReport("2020-10", date(2020, 10, 10), campaign="fire")]
    findings = run("construction.monthly_two_lists", as_of=date(2020, 10, 31), reports=reports)
    assert [(f.subject, f.severity) for f in findings] == [("报送 2020-09", "警告"), ("报送 2020-10", "严重")]


def test_house_grades_projection():
    houses = [make_unit("房屋", 房屋安全鉴定等级="D", 人员聚集场所=True), make_unit("房屋"),
              make_unit("农房", 房屋安全鉴定等级="D")]
    [projection] = construction.qingdan_projections()
    rows = {r["鉴定等级"]: r for r in build_projection(projection, StaticSnapshot(AS_OF, units=houses))}
    assert rows["D"] == {"鉴定等级": "D", "房屋数": 1, "人员聚集场所": 1, "已整治": 0, "未整治": 1}
    assert rows["未鉴定"]["房屋数"] == 1


def test_seed_facts_of_annex_7():
    """附件7 and 总体方案 二(七): no 牵头 is named, so the nine departments are jointly responsible."""
    campaign = construction.qingdan_campaign()
    nine = ("建设局", "经济发展局", "农业农村和社会事业局", "派出所", "安全生产监督管理局", "市场监管局", "自然资源所",
            "综合行政执法管理办公室", "消防中队")
    assert (campaign.lead_departments, campaign.departments) == (nine, ())
    assert [(p.name, p.start, p.end) for p in campaign.phases] == [
        ("动员部署", date(2020, 7, 1), date(2020, 7, 25)),
        ("排查整治", date(2020, 7, 1), date(2020, 12, 31)),
        ("集中攻坚", date(2021, 1, 1), date(2021, 12, 31)),
        ("巩固提升", date(2022, 1, 1), date(2022, 12, 31)),
    ]
    tasks = {t.id.removeprefix("construction."): t for t in campaign.tasks}
    assert {"1", "2", "3", "4", "5.1", "5.2"} <= set(tasks), "二(一)–(五), (五) in two items"
    assert {"m3", "m4", "m5", "m6"} <= set(tasks), "总体方案 二(七)三–六"
    assert tasks["4.1"].lead_departments == ("经发局", "安监所"), "“配合经发局及安监所”"
    assert tasks["0"].lead_departments == ("各村", "镇相关单位")
    assert all(t.lead_departments == nine for n, t in tasks.items() if n not in ("0", "4.1"))
    assert {n: t.due for n, t in tasks.items() if t.due is not None} == {"0": date(2020, 7, 25)}
    assert {t.id: (t.goal, t.due) for t in TARGETS.values()} == {
        "construction.dangerous_house_rate": (100, date(2022, 12, 31)),
        "construction.rural_dangerous_house_rate": (100, date(2022, 12, 31)),
    }
    assert all("三年行动期末" in t.title for t in TARGETS.values()), "the annex sets no target; titles say so"
