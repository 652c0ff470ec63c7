"""附件6 交通运输（铁路、邮政、水上交通）和渔业船舶安全专项整治三年行动实施方案 (总体方案 二(六)).

Tasks 7–14 name no departments in the annex; they carry the lead and co-operating departments the
main plan gives the whole 专项 (总体方案 二(六)). The 整治目标 set their figures “通过专项整治三年行动”, so
they are due at the campaign's end; 重大隐患清零 and 既有铁路安全保护区划定 carry no date in the annex and
say so in their titles. The seed writes “涉渔三无浮子阀” (二(五)12), evidently for 涉渔“三无”船舶, which is
what the unit kind and hazard category are called.
"""

from __future__ import annotations

from qingdan import AttributeSpec, Campaign, Check, Projection, Snapshot, Target, hookimpl
from qingdan.core import authoring as author
from qingdan.core import targets as rules
from qingdan.core.authoring import ACTION_END, ACTION_START, END_2022

ID = "transport"
ANNEX = "附件6"

LEAD = ("农业农村和社会事业局", "建设局")
DEPARTMENTS = ("经济发展局", "派出所", "安全生产监督管理局", "市场监管局")
JOINT = ("建设局", "派出所", "行政综合执法局", "经济发展局", "农业农村与社会事务局", "市场监管分局")

TASK_COLUMNS = "number title lead responsible due source"  # 括注“…按职责分工负责”
TASKS = (
    ("1", "健全落实安全生产责任制", JOINT, (), None, f"{ANNEX} 二(一)1"),
    ("2", "强化安全生产主体责任落实", JOINT, (), None, f"{ANNEX} 二(一)2"),
    ("3", "加快推进安全生产信用管理", JOINT, (), None, f"{ANNEX} 二(一)3"),
    ("4", "建立重大风险防控机制", JOINT, (), None, f"{ANNEX} 二(二)4"),
    ("5", "健全完善重大隐患排查治理机制，强力开展重大隐患清零行动", JOINT, (), None, f"{ANNEX} 二(二)5"),
    ("6", "深入开展典型事故教训汲取", JOINT, (), None, f"{ANNEX} 二(二)6"),
    ("7", "开展铁路沿线环境安全专项治理：轻飘物及危树、安全保护区内违法行为、划定安全保护区并设置标桩、沿线易燃易爆危险化学品",
     LEAD, DEPARTMENTS, None, f"{ANNEX} 二(三)7；总体方案 二(六)"),
    ("8", "开展公铁水并行交汇地段安全专项治理：防护设施不良、机动车违法驾驶", LEAD, DEPARTMENTS, None,
     f"{ANNEX} 二(三)8；总体方案 二(六)"),
    ("9", "加强船舶碰撞桥梁隐患治理", LEAD, DEPARTMENTS, None, f"{ANNEX} 二(四)9；总体方案 二(六)"),
    ("10", "强化砂石运输行为治理", LEAD, DEPARTMENTS, None, f"{ANNEX} 二(四)10；总体方案 二(六)"),
    ("11", "开展商渔船防碰撞专项整治", LEAD, DEPARTMENTS, None, f"{ANNEX} 二(四)11；总体方案 二(六)"),
    ("12", "开展海洋渔业生产专项治理：高危渔船、“碰撞、自沉、风灾、火灾”四类事故、涉渔三无专项整治",
     LEAD, DEPARTMENTS, None, f"{ANNEX} 二(五)12；总体方案 二(六)"),
    ("13", "强化安全监管能力建设", LEAD, DEPARTMENTS, None, f"{ANNEX} 二(六)13"),
    ("14", "加强安全生产宣传与警示教育", LEAD, DEPARTMENTS, None, f"{ANNEX} 二(六)14"),
    ("m1", "加强铁路营业线工程施工安全整治", LEAD, DEPARTMENTS, None, "总体方案 二(六)"),
    ("m2", "督促危险货物货主（码头）落实高质量选船机制，严把企业经营资质准入关", LEAD, DEPARTMENTS, None,
     "总体方案 二(六)"),
    ("m3", "健全渔业安全管理制度，完善渔业风险保障体系，推进实施渔港“港长制”", LEAD, DEPARTMENTS, None,
     "总体方案 二(六)"),
)

RAILWAY_LINE, RAILWAY_SITE, BRIDGE, PORT, FISHING, MERCHANT, THREE_NO, POSTAL = (
    "铁路线路", "铁路沿线场所", "桥梁", "港口码头", "渔船", "商船", "涉渔“三无”船舶", "邮政快递网点",
)

DOMAINS: dict[str, tuple[str, ...]] = {
    "铁路": ("铁路沿线轻飘物及危树", "铁路线路安全保护区违法行为", "铁路安全保护区划定和标桩",
             "铁路沿线易燃易爆危险化学品", "铁路营业线施工"),
    "公铁水并行交汇": ("公铁水并行交汇地段防护设施", "公铁并行交汇地段机动车违法驾驶"),
    "水上交通": ("船舶碰撞桥梁", "砂石运输", "商渔船碰撞", "危险货物码头"),
    "渔业船舶": ("渔船不适航", "船员不适任", "渔港水域安全", "渔船消防安全", "渔船超员超载超风级超航区",
                 "涉渔“三无”船舶"),
    "邮政": ("邮政寄递安全",),
    "综合": ("企业主体责任",),
}
HAZARD_CATEGORIES = tuple(category for group in DOMAINS.values() for category in group)
RAILWAY_CATEGORIES = DOMAINS["铁路"]

UNIT_ATTRIBUTES = (
    AttributeSpec(name="距铁路距离米", type="float", unit_kinds=(RAILWAY_SITE,),
                  description="距铁路线路的距离（米）", source=f"{ANNEX} 二(三)7"),
    AttributeSpec(name="轻体漂浮物", type="bool", unit_kinds=(RAILWAY_SITE,),
                  description="存在彩钢板、防尘网、塑料薄膜、广告幕布等轻体漂浮物", source=f"{ANNEX} 二(三)7"),
    AttributeSpec(name="易燃易爆危险品场所", type="bool", unit_kinds=(RAILWAY_SITE,), source=f"{ANNEX} 二(三)7"),
    AttributeSpec(name="铁路安全防护距离达标", type="bool", unit_kinds=(RAILWAY_SITE,), source=f"{ANNEX} 二(三)7"),
    AttributeSpec(name="安全保护区已划定", type="bool", unit_kinds=(RAILWAY_LINE,), source=f"{ANNEX} 二(三)7"),
    AttributeSpec(name="标桩已设置", type="bool", unit_kinds=(RAILWAY_LINE,), source=f"{ANNEX} 二(三)7"),
    AttributeSpec(name="跨通航水域", type="bool", unit_kinds=(BRIDGE,), source=f"{ANNEX} 二(四)9"),
    AttributeSpec(name="防撞设施达标", type="bool", unit_kinds=(BRIDGE,), source=f"{ANNEX} 二(四)9"),
    AttributeSpec(name="重大危险源", type="bool", unit_kinds=(PORT,), source=f"{ANNEX} 一、整治目标"),
    AttributeSpec(name="在线监测监控", type="bool", unit_kinds=(PORT,), source=f"{ANNEX} 一、整治目标"),
    AttributeSpec(name="适航", type="bool", unit_kinds=(FISHING,), source=f"{ANNEX} 二(五)12"),
    AttributeSpec(name="船员适任", type="bool", unit_kinds=(FISHING,), source=f"{ANNEX} 二(五)12"),
    AttributeSpec(name="高危渔船类型", type="choice", choices=("帆张网", "笼壶类", "特种养殖船"),
                  unit_kinds=(FISHING,), source=f"{ANNEX} 二(五)12"),
    AttributeSpec(name="自动识别系统开启", type="bool", unit_kinds=(FISHING, MERCHANT), source=f"{ANNEX} 二(四)11"),
)


@hookimpl
def qingdan_campaign() -> Campaign:
    return Campaign(
        id=ID, name="交通运输（铁路、邮政、水上交通）和渔业船舶安全专项整治", kind="专项",
        lead_departments=LEAD, departments=DEPARTMENTS, start=ACTION_START, end=ACTION_END,
        phases=author.standard_phases(ID, ANNEX, ("集中攻坚", "排查整治", "巩固提升")),
        tasks=author.responsible_only(author.task_table(ID, TASK_COLUMNS, TASKS), "1", "2", "3", "4", "5", "6"),
        hazard_categories=HAZARD_CATEGORIES, unit_attributes=UNIT_ATTRIBUTES, source=f"{ANNEX}；总体方案 二(六)",
    )


#: Why the dates of some targets are inferred (the clause states none).
TARGETS_INFERRED = {
    "major_hazard_clearance_rate": "“清零”未定期限：按三年行动期末（2022年底）",
    "protection_zone_rate": "“全面完成划定”未定期限：按三年行动期末（2022年底）",
}


@hookimpl
def qingdan_targets() -> list[Target]:
    return author.inferred([
        author.share_target(
            ID, "port_hazard_monitoring_rate", "港口重大危险源在线监测监控率", END_2022, f"{ANNEX} 一、整治目标",
            rules.all_of(rules.of_kind(PORT), rules.has("重大危险源")), "在线监测监控"),
        author.target(
            ID, "railway_hazard_clearance_rate", "铁路沿线环境排查出的主要隐患清零（整改销号率）", END_2022,
            f"{ANNEX} 一、整治目标；二(三)7",
            rules.hazard_closure_measure(ID, lambda h: h.category in RAILWAY_CATEGORIES)),
        author.target(
            ID, "major_hazard_clearance_rate", "重大隐患清零行动（重大隐患整改销号率；三年行动期末）", END_2022,
            f"{ANNEX} 二(二)5", rules.hazard_closure_measure(ID, lambda h: h.level == "重大")),
        author.share_target(
            ID, "protection_zone_rate", "既有铁路线路安全保护区划定率（全面完成划定；方案未定期限，按三年行动期末）",
            END_2022, f"{ANNEX} 二(三)7", rules.of_kind(RAILWAY_LINE), "安全保护区已划定"),
    ], **TARGETS_INFERRED)


RAILWAY_BAND_METRES = 500.0


@author.unit_rule(ID, "railway_light_objects", "铁路两侧500米范围内存在轻体漂浮物", "警告", f"{ANNEX} 二(三)7")
def light_objects(unit, snapshot: Snapshot) -> str | None:
    distance = rules.attribute(unit, "距铁路距离米")
    if distance is None or float(distance) > RAILWAY_BAND_METRES or rules.attribute(unit, "轻体漂浮物") is not True:
        return None
    return f"距铁路 {float(distance):g} 米，存在彩钢板、防尘网等轻体漂浮物，大风天气可能侵入铁路限界"


@author.unit_rule(ID, "fishing_vessel_unfit", "渔船不适航、船员不适任", "严重", f"{ANNEX} 二(五)12", kinds=(FISHING,))
def fishing_vessel_unfit(unit, snapshot: Snapshot) -> str | None:
    problems = [label for name, label in (("适航", "渔船不适航"), ("船员适任", "船员不适任"))
                if rules.attribute(unit, name) is False]
    return f"{'、'.join(problems)}，应责令船东立即整改" if problems else None


@hookimpl
def qingdan_checks() -> list[Check]:
    return [
        light_objects,
        author.unit_check(
            ID, "railway_dangerous_goods_distance", "铁路沿线易燃易爆危险品场所安全防护距离不符合标准", "严重",
            f"{ANNEX} 二(三)7",
            lambda unit: rules.attribute(unit, "易燃易爆危险品场所") is True
            and rules.attribute(unit, "铁路安全防护距离达标") is False,
            lambda unit: "铁路沿线易燃易爆危险品场所不符合安全防护距离要求"),
        author.unit_check(
            ID, "bridge_anti_collision", "跨通航水域桥梁未按规定设置防撞设施或标准偏低", "警告", f"{ANNEX} 二(四)9",
            lambda unit: unit.kind == BRIDGE and rules.attribute(unit, "跨通航水域") is True
            and rules.attribute(unit, "防撞设施达标") is not True,
            lambda unit: "未按规定设置防撞设施或防撞标准偏低，应书面通知桥梁单位限期整改"),
        fishing_vessel_unfit,
        author.unit_check(
            ID, "three_no_vessels", "涉渔“三无”船舶未取缔", "严重", f"{ANNEX} 二(五)12",
            rules.of_kind(THREE_NO), lambda unit: "涉渔“三无”船舶仍在登记，应依法取缔"),
        author.unit_check(
            ID, "ais_not_on", "商渔船未按规定开启船舶自动识别系统", "警告", f"{ANNEX} 二(四)11",
            lambda unit: unit.kind in (FISHING, MERCHANT) and rules.attribute(unit, "自动识别系统开启") is False,
            lambda unit: "未按规定开启和使用船舶自动识别系统，存在商渔船碰撞风险"),
    ]


@author.projection(ID, "hazards_by_domain", "交通运输和渔业船舶隐患分领域统计", ("领域", "隐患数", "重大隐患", "未销号", "逾期"))
def hazards_by_domain(snapshot: Snapshot) -> list[dict]:
    hazards = rules.live_hazards(snapshot, ID)
    domain_of = {category: domain for domain, group in DOMAINS.items() for category in group}
    rows = []
    for domain in (*DOMAINS, "未分类"):
        group = [h for h in hazards if domain_of.get(h.category or "", "未分类") == domain]
        rows.append({
            "领域": domain,
            "隐患数": len(group),
            "重大隐患": sum(1 for h in group if h.level == "重大"),
            "未销号": sum(1 for h in group if h.status != "closed"),
            "逾期": sum(1 for h in group if h.overdue),
        })
    return rows


@hookimpl
def qingdan_projections() -> list[Projection]:
    return [hazards_by_domain]
