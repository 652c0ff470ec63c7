"""附件5 道路运输: targets, checks and the 隐患路段 ledger."""

from __future__ import annotations

from datetime import date

import qingdan.plugins.road as road
from qingdan.core.targets import build_projection, evaluate_target
from qingdan.testing import StaticSnapshot, make_hazard, make_unit

TARGETS = {t.id: t for t in road.qingdan_targets()}
CHECKS = {c.id: c for c in road.qingdan_checks()}
AS_OF = date(2021, 3, 1)


def run(check_id: str, as_of: date, *units):
    return list(CHECKS[check_id].run(StaticSnapshot(as_of, units=units)))


def test_non_standard_school_buses_must_reach_zero():
    t = TARGETS["road.non_standard_school_buses"]
    buses = [make_unit("校车", 专用校车=False), make_unit("校车", 专用校车=True)]
    status = evaluate_target(t, StaticSnapshot(AS_OF, units=buses))
    assert (status.value, status.comparator, status.state) == (1.0, "<=", "at_risk")
    assert evaluate_target(t, StaticSnapshot(AS_OF, units=buses[1:])).state == "met"


def test_life_protection_project_rate_and_overdue_check():
    done = make_unit("道路路段", "U-00001", 生命防护工程任务=True, 生命防护工程完成=True)
    pending = make_unit("道路路段", "U-00002", 生命防护工程任务=True)
    not_listed = make_unit("道路路段", "U-00003")
    assert TARGETS["road.life_protection_rate"].measure(StaticSnapshot(AS_OF, units=[done, pending, not_listed])) == 50.0
    assert run("road.life_protection_overdue", date(2020, 12, 31), done, pending) == []
    assert [f.subject for f in run("road.life_protection_overdue", AS_OF, done, pending, not_listed)] == ["U-00002"]


def test_dangerous_sections_on_school_bus_routes_are_serious():
    bus_route = make_unit("桥梁", "U-00010", 隐患路段类型="危桥", 校车公交途经=True)
    plain = make_unit("道路路段", "U-00011", 隐患路段类型="急弯陡坡")
    fixed = make_unit("道路路段", "U-00012", 隐患路段类型="临水临崖", 改造完成=True)
    findings = run("road.dangerous_section_unremedied", AS_OF, bus_route, plain, fixed)
    assert [(f.subject, f.severity) for f in findings] == [("U-00010", "严重"), ("U-00011", "警告")]
    assert "优先改造" in findings[0].message


def test_school_bus_and_tractor_checks():
    assert [f.subject for f in run("road.non_standard_school_bus", AS_OF, make_unit("校车", "U-00020", 专用校车=False),
                                   make_unit("校车", "U-00021", 专用校车=True))] == ["U-00020"]
    assert len(run("road.converted_tractor", AS_OF, make_unit("变型拖拉机"))) == 1
    assert run("road.converted_tractor", AS_OF, make_unit("变型拖拉机", closed_on=date(2021, 1, 1))) == []


def test_section_ledger_lists_sections_and_bridges_with_open_hazards():
    units = [make_unit("道路路段", "U-00030", 隐患路段类型="急弯陡坡"), make_unit("桥梁", "U-00031", 改造完成=True),
             make_unit("校车", "U-00032")]
    hazards = [make_hazard("road", "H-road-2020-0001", unit_number="U-00030"),
               make_hazard("fire", "H-fire-2020-0001", unit_number="U-00030")]
    [projection] = road.qingdan_projections()
    rows = build_projection(projection, StaticSnapshot(AS_OF, units=units, hazards=hazards))
    assert [(r["编号"], r["改造完成"], r["未销号隐患"]) for r in rows] == [("U-00030", "否", 1), ("U-00031", "是", 0)]


def test_seed_facts_of_annex_5():
    """附件5 and 总体方案 二(五): leads, phases, the 6 tasks and their departments, the targets."""
    campaign = road.qingdan_campaign()
    assert (campaign.lead_departments, campaign.departments) == (
        ("建设局",), ("经济发展局", "农业农村和社会事业局", "安全生产监督管理局", "市场监管局"))
    assert [(p.name, p.start, p.end) for p in campaign.phases] == [
        ("集中攻坚", date(2020, 7, 1), date(2020, 12, 31)),
        ("持续整治", date(2021, 1, 1), date(2021, 12, 31)),
        ("巩固提升", date(2022, 1, 1), date(2022, 12, 31)),
    ]
    tasks = {t.id.removeprefix("road."): t for t in campaign.tasks}
    joint = ("建设局", "派出所", "行政综合执法局", "经济发展局", "农业农村与社会事务局", "市场监管分局")
    assert {n: t.lead_departments for n, t in tasks.items() if n.isdigit()} == {
        "1": ("建设局",),
        "2": joint,
        "3": joint,
        "4": ("建设局", "派出所", "行政综合执法局", "教育管理办公室", "市场监管分局"),
        "5": ("建设局", "交警中队", "行政综合执法局", "经济发展局", "农业农村与社会事务局", "市场监管分局"),
        "6": ("建设局", "交警中队", "行政综合执法局"),
    }
    assert tasks["6"].source == "附件5 二(三)6"
    assert {n: t.due for n, t in tasks.items() if t.due is not None} == {"m1": date(2020, 12, 31)}
    assert {t.id: (t.goal, t.comparator, t.unit, t.due) for t in TARGETS.values()} == {
        "road.life_protection_rate": (100, ">=", "%", date(2020, 12, 31)),
        "road.non_standard_school_buses": (0, "<=", "辆", date(2022, 12, 31)),
        "road.major_accidents": (0, "<=", "起", date(2022, 12, 31)),
    }
    assert TARGETS["road.life_protection_rate"].source == "总体方案 二(五)"
    for derived in ("road.non_standard_school_buses", "road.major_accidents"):
        assert "三年行动期末" in TARGETS[derived].title, "the annex dates neither; the title says so"
