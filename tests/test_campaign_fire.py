"""附件4 消防: computed targets, checks and the hazards-by-category projection."""

from __future__ import annotations

from datetime import date

import qingdan.plugins.fire as fire
from qingdan.core.targets import build_projection, evaluate_target
from qingdan.testing import StaticSnapshot, make_hazard, make_unit

TARGETS = {t.id: t for t in fire.qingdan_targets()}
CHECKS = {c.id: c for c in fire.qingdan_checks()}
AS_OF = date(2021, 6, 30)


def run(check_id: str, as_of: date, *units):
    return list(CHECKS[check_id].run(StaticSnapshot(as_of, units=units)))


def test_complex_compliance_target_is_100_percent_in_2022():
    t = TARGETS["fire.complex_compliance_rate"]
    assert (t.goal, t.due) == (100, date(2022, 12, 31))
    units = [make_unit("大型商业综合体", 消防安全管理达标=True), make_unit("大型商业综合体", 消防安全管理达标=False),
             make_unit("高层建筑", 消防安全管理达标=False)]
    assert t.measure(StaticSnapshot(AS_OF, units=units)) == 50.0
    units[1] = units[1].model_copy(update={"attributes": {"消防安全管理达标": True}})
    assert evaluate_target(t, StaticSnapshot(AS_OF, units=units)).state == "met"


def test_station_coverage_counts_villages_with_a_fire_station():
    t = TARGETS["fire.station_coverage_rate"]
    villages = [make_unit("村（居）", 消防队站=True), make_unit("村（居）"), make_unit("村（居）", 消防队站=True),
                make_unit("村（居）", 消防队站=False)]
    assert t.measure(StaticSnapshot(AS_OF, units=villages)) == 50.0
    assert evaluate_target(t, StaticSnapshot(date(2023, 1, 1), units=villages)).state == "missed"


def test_lane_marking_is_due_by_end_of_2020():
    t = TARGETS["fire.lane_marking_rate"]
    assert t.due == date(2020, 12, 31)
    units = [make_unit("公共建筑", 消防车通道标识化=True), make_unit("住宅小区", 消防车通道标识化=True),
             make_unit("老旧小区", 消防车通道标识化=False)]
    assert t.measure(StaticSnapshot(AS_OF, units=units)) == 100.0


def test_high_rise_without_micro_station():
    with_station = make_unit("高层建筑", "U-00001", 微型消防站=True)
    without = make_unit("高层建筑", "U-00002", 微型消防站=False)
    unknown = make_unit("高层建筑", "U-00003")
    other = make_unit("大型商业综合体", "U-00004", 微型消防站=False)
    findings = run("fire.high_rise_without_micro_station", AS_OF, with_station, without, unknown, other)
    assert [f.subject for f in findings] == ["U-00002", "U-00003"]
    assert all(f.campaign == "fire" for f in findings)


def test_complex_inspection_is_quarterly():
    recent = make_unit("大型商业综合体", "U-00010", 最近消防安全检查评估日期=date(2021, 4, 1))
    stale = make_unit("大型商业综合体", "U-00011", 最近消防安全检查评估日期=date(2021, 3, 1))
    never = make_unit("大型商业综合体", "U-00012")
    findings = run("fire.complex_quarterly_inspection", AS_OF, recent, stale, never)
    assert [f.subject for f in findings] == ["U-00011", "U-00012"]
    assert "2021-03-01" in findings[0].message and "未记录" in findings[1].message


def test_drills_are_half_yearly_for_complexes_and_underground_spaces():
    ok = make_unit("人员密集地下空间", "U-00020", 最近消防演练日期=date(2021, 1, 15))
    late = make_unit("人员密集地下空间", "U-00021", 最近消防演练日期=date(2020, 12, 1))
    high_rise = make_unit("高层建筑", "U-00022", 最近消防演练日期=date(2019, 1, 1))
    assert [f.subject for f in run("fire.half_yearly_drill", AS_OF, ok, late, high_rise)] == ["U-00021"]


def test_shared_rental_problems():
    panel = make_unit("群租房", "U-00030", 泡沫夹芯彩钢板搭建=True, 住宿人员超员=True)
    crowded = make_unit("群租房", "U-00031", 住宿人员超员=True)
    clean = make_unit("群租房", "U-00032", 泡沫夹芯彩钢板搭建=False)
    findings = run("fire.shared_rental_problems", AS_OF, panel, crowded, clean)
    assert [(f.subject, f.severity) for f in findings] == [("U-00030", "严重"), ("U-00031", "警告")]
    assert "彩钢板" in findings[0].message and "超员" in findings[0].message


def test_hazards_by_category_counts_only_fire_hazards_and_flags_five_places():
    hazards = [
        make_hazard("fire", "H-fire-2020-0001", category="高层建筑", level="重大", overdue=True),
        make_hazard("fire", "H-fire-2020-0002", category="高层建筑", status="closed"),
        make_hazard("fire", "H-fire-2020-0003", category="电动自行车", status="withdrawn"),
        make_hazard("fire", "H-fire-2020-0004"),
        make_hazard("road", "H-road-2020-0001", category="高层建筑"),
    ]
    [projection] = fire.qingdan_projections()
    rows = {r["类别"]: r for r in build_projection(projection, StaticSnapshot(AS_OF, hazards=hazards))}
    assert rows["高层建筑"] == {"类别": "高层建筑", "五类场所": "是", "隐患数": 2, "重大隐患": 1, "未销号": 1,
                              "逾期": 1, "已销号": 1}
    assert rows["电动自行车"]["隐患数"] == 0 and rows["电动自行车"]["五类场所"] == "否"
    assert rows["未分类"]["隐患数"] == 1


def test_tasks_keep_the_seed_numbering_and_departments():
    tasks = {t.id: t for t in fire.qingdan_campaign().tasks}
    assert "fire.6" not in tasks and "fire.27" in tasks
    assert tasks["fire.2"].due == date(2020, 12, 31)
    assert tasks["fire.9"].lead_departments == ("派出所", "建设局", "市场监管局", "电管站")
    categories = fire.qingdan_campaign().hazard_categories
    for category in ("高层建筑", "人员密集地下空间", "大型商业综合体", "群租房", "电动自行车", "彩钢板建筑"):
        assert category in categories


def test_seed_facts_of_annex_4():
    """附件4 and 总体方案 二(四): leads, phases, the 23 numbered tasks with dates and departments, every target."""
    campaign = fire.qingdan_campaign()
    assert (campaign.lead_departments, campaign.departments) == (
        ("派出所",), ("消防中队", "自然资源所", "建设局", "农业农村和社会事业局", "党群工作局", "财政局", "市场监管局"))
    assert [(p.name, p.start, p.end) for p in campaign.phases] == [
        ("集中攻坚", date(2020, 7, 1), date(2020, 12, 31)),
        ("持续整治", date(2021, 1, 1), date(2021, 12, 31)),
        ("巩固提升", date(2022, 1, 1), date(2022, 12, 31)),
    ]
    tasks = {t.id.removeprefix("fire."): t for t in campaign.tasks}
    numbered = {n for n in tasks if "." not in n and not n.startswith("g")}
    assert numbered == {str(n) for n in (*range(1, 6), *range(7, 24), 27)}, "the seed skips 6 and 24–26"
    y2020, y2021, y2022 = date(2020, 12, 31), date(2021, 12, 31), date(2022, 12, 31)
    assert {n: t.due for n, t in tasks.items() if t.due is not None} == {
        "2": y2020, "3": y2022, "3.1": y2020, "5": y2020, "7": y2022, "7.1": y2020, "7.2": y2021,
        "8": y2022, "8.1": y2020, "8.2": y2021, "9": y2022, "11": y2022, "12": y2022, "14": y2022,
        "17": y2022, "17.1": y2020, "18": y2022, "19": y2022, "23": y2022,
        "g1": y2022, "g2": y2022,  # 一、整治目标: dated aims without figures, as dated tasks
    }
    assert tasks["g3.y"].recurrence == "yearly" and "连年下降" in tasks["g3.y"].title
    assert all("派出所牵头" in tasks[n].inferred for n in ("g1", "g2", "g3.y"))
    leads = {n: t.lead_departments for n, t in tasks.items()}
    assert leads["1"] == ("党群局", "政法和社会管理局", "派出所")
    assert leads["5"] == ("综合执法局", "建设局", "国土所", "派出所")
    assert leads["8"] == ("派出所", "建设局", "市管局")
    assert leads["11"] == ("建设局", "政法和社会管理局", "安监所", "派出所")
    assert leads["14"] == ("政法和社会管理局", "安监所", "派出所")
    assert leads["15"] == ("政法和社会管理局", "安监所", "公安局")
    assert leads["17"] == ("派出所", "教管办", "民政", "建设局", "经发局", "文化", "卫健委", "财政局", "统战", "邮政公司")
    assert leads["20"] == ("党政办", "派出所") and leads["21"] == ("党群局", "司法所", "教管办")
    assert leads["16"] == leads["19"] == leads["22"] == leads["23"] == leads["27"] == ("镇消委会成员单位",)
    assert tasks["9"].source == "附件4 二(二)9"
    assert {t.id.removeprefix("fire."): (t.goal, t.comparator, t.unit, t.due) for t in TARGETS.values()} == {
        "lane_marking_rate": (100, ">=", "%", y2020),
        "old_estate_plan_rate": (100, ">=", "%", y2020),
        "underground_assessment_rate": (100, ">=", "%", y2020),
        "complex_compliance_rate": (100, ">=", "%", y2022),
        "ebike_management_rate": (100, ">=", "%", y2022),
        "station_coverage_rate": (100, ">=", "%", y2022),
        "key_group_training_rate": (100, ">=", "%", y2022),
        "major_fires": (0, "<=", "起", y2022),  # 一、整治目标 “杜绝重特大和群死群伤等有影响的火灾事故”
    }
