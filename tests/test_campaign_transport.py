"""附件6 交通运输和渔业船舶: targets, checks and the by-domain projection."""

from __future__ import annotations

from datetime import date

import qingdan.plugins.transport as transport
from qingdan.core.targets import build_projection
from qingdan.testing import StaticSnapshot, make_hazard, make_unit

TARGETS = {t.id: t for t in transport.qingdan_targets()}
CHECKS = {c.id: c for c in transport.qingdan_checks()}
AS_OF = date(2021, 9, 1)


def run(check_id: str, *units):
    return list(CHECKS[check_id].run(StaticSnapshot(AS_OF, units=units)))


def test_port_major_hazard_monitoring_rate():
    t = TARGETS["transport.port_hazard_monitoring_rate"]
    assert (t.goal, t.unit) == (100, "%")
    ports = [make_unit("港口码头", 重大危险源=True, 在线监测监控=True), make_unit("港口码头", 重大危险源=True),
             make_unit("港口码头", 重大危险源=False), make_unit("危险化学品生产企业", 重大危险源=True)]
    assert t.measure(StaticSnapshot(AS_OF, units=ports)) == 50.0


def test_railway_hazard_clearance_counts_only_railway_categories_of_this_campaign():
    hazards = [
        make_hazard("transport", "H-transport-2020-0001", category="铁路沿线轻飘物及危树", status="closed"),
        make_hazard("transport", "H-transport-2020-0002", category="铁路线路安全保护区违法行为"),
        make_hazard("transport", "H-transport-2020-0003", category="铁路沿线易燃易爆危险化学品", status="withdrawn"),
        make_hazard("transport", "H-transport-2020-0004", category="砂石运输"),
        make_hazard("road", "H-road-2020-0001", category="铁路沿线轻飘物及危树"),
    ]
    measure = TARGETS["transport.railway_hazard_clearance_rate"].measure
    assert measure(StaticSnapshot(AS_OF, hazards=hazards)) == 50.0
    assert measure(StaticSnapshot(AS_OF)) is None


def test_light_objects_within_500_metres_of_the_railway():
    near = make_unit("铁路沿线场所", "U-00001", 距铁路距离米=120.0, 轻体漂浮物=True)
    edge = make_unit("铁路沿线场所", "U-00002", 距铁路距离米=500.0, 轻体漂浮物=True)
    far = make_unit("铁路沿线场所", "U-00003", 距铁路距离米=800.0, 轻体漂浮物=True)
    tidy = make_unit("铁路沿线场所", "U-00004", 距铁路距离米=50.0, 轻体漂浮物=False)
    assert [f.subject for f in run("transport.railway_light_objects", near, edge, far, tidy)] == ["U-00001", "U-00002"]


def test_fishing_vessels_unfit_and_three_no_vessels():
    unfit = make_unit("渔船", "U-00010", 适航=False, 船员适任=False)
    fit = make_unit("渔船", "U-00011", 适航=True, 船员适任=True)
    [finding] = run("transport.fishing_vessel_unfit", unfit, fit)
    assert finding.subject == "U-00010" and "不适航" in finding.message and "不适任" in finding.message
    assert len(run("transport.three_no_vessels", make_unit("涉渔“三无”船舶"))) == 1


def test_bridges_over_navigable_water_need_anti_collision():
    bad = make_unit("桥梁", "U-00020", 跨通航水域=True, 防撞设施达标=False)
    land = make_unit("桥梁", "U-00021", 跨通航水域=False)
    good = make_unit("桥梁", "U-00022", 跨通航水域=True, 防撞设施达标=True)
    assert [f.subject for f in run("transport.bridge_anti_collision", bad, land, good)] == ["U-00020"]


def test_hazards_by_domain():
    hazards = [make_hazard("transport", "H-transport-2020-0001", category="渔船不适航", level="重大"),
               make_hazard("transport", "H-transport-2020-0002", category="商渔船碰撞", status="closed"),
               make_hazard("fire", "H-fire-2020-0001", category="渔船不适航")]
    [projection] = transport.qingdan_projections()
    rows = {r["领域"]: r for r in build_projection(projection, StaticSnapshot(AS_OF, hazards=hazards))}
    assert rows["渔业船舶"] == {"领域": "渔业船舶", "隐患数": 1, "重大隐患": 1, "未销号": 1, "逾期": 0}
    assert rows["水上交通"]["未销号"] == 0 and rows["铁路"]["隐患数"] == 0


def test_seed_facts_of_annex_6():
    """附件6 and 总体方案 二(六): leads, phases, the 14 tasks and their departments, the targets."""
    campaign = transport.qingdan_campaign()
    lead, partners = ("农业农村和社会事业局", "建设局"), ("经济发展局", "派出所", "安全生产监督管理局", "市场监管局")
    assert (campaign.lead_departments, campaign.departments) == (lead, partners)
    assert [(p.name, p.start, p.end) for p in campaign.phases] == [
        ("集中攻坚", date(2020, 7, 1), date(2020, 12, 31)),
        ("排查整治", date(2021, 1, 1), date(2021, 12, 31)),
        ("巩固提升", date(2022, 1, 1), date(2022, 12, 31)),
    ]
    tasks = {t.id.removeprefix("transport."): t for t in campaign.tasks}
    numbered = {n: t for n, t in tasks.items() if n.isdigit()}
    assert set(numbered) == {str(n) for n in range(1, 15)}
    joint = ("建设局", "派出所", "行政综合执法局", "经济发展局", "农业农村与社会事务局", "市场监管分局")
    for n, task in numbered.items():  # 1–6 carry the annex's two parentheticals, 7–14 the main plan's
        expected = (joint, joint) if int(n) <= 6 else (lead, partners)  # 按职责分工负责, not 配合
        assert (task.lead_departments, task.responsible_departments, task.departments) == (*expected, ()), n
        assert bool(task.inferred) == (int(n) <= 6), n  # 1–6 name no 牵头
    assert all(t.due is None for t in tasks.values()), "the annex dates none of its tasks"
    y2022 = date(2022, 12, 31)
    assert {t.id: (t.goal, t.comparator, t.unit, t.due) for t in TARGETS.values()} == {
        "transport.port_hazard_monitoring_rate": (100, ">=", "%", y2022),
        "transport.railway_hazard_clearance_rate": (100, ">=", "%", y2022),
        "transport.major_hazard_clearance_rate": (100, ">=", "%", y2022),
        "transport.protection_zone_rate": (100, ">=", "%", y2022),
    }
    assert TARGETS["transport.port_hazard_monitoring_rate"].source == "附件6 一、整治目标"
    for derived in ("transport.major_hazard_clearance_rate", "transport.protection_zone_rate"):
        assert "三年行动期末" in TARGETS[derived].title
