"""附件5 道路运输安全专项整治三年行动实施方案 (总体方案 二(五)).

The annex dates nothing; the one dated target is the main plan's (公路安全生命防护工程, 2020年). The two
zero targets are the annex's words (彻底淘汰, 坚决杜绝) measured at the campaign's end, and say so in their
titles. The annex writes “农业农村与社会事务局” and “市场监管分局” where the main plan writes
“农业农村和社会事业局” and “市场监管局”; each is kept as written where it appears.
"""

from __future__ import annotations

from collections import Counter

from qingdan import AttributeSpec, Campaign, Check, Projection, Snapshot, Target, hookimpl
from qingdan.core import authoring as author
from qingdan.core import targets as rules
from qingdan.core.authoring import ACTION_END, ACTION_START, END_2020, END_2022

ID = "road"
ANNEX = "附件5"

JOINT = ("建设局", "派出所", "行政综合执法局", "经济发展局", "农业农村与社会事务局", "市场监管分局")

# The lead column holds the departments the clause names, jointly responsible.
TASK_COLUMNS = "number title lead due source"
TASKS = (
    ("1", "督促落实企业主责", ("建设局",), None, f"{ANNEX} 二(一)1"),
    ("2", "构建共建共治体系：建立举报奖励制度，推行“两客一危一货”重点运输企业保险安全审计评估制度",
     JOINT, None, f"{ANNEX} 二(一)2"),
    ("3", "深化货车超限超载治理：源头治超信息监管系统、出口称重设施联网、农村公路限高限宽门架",
     JOINT, None, f"{ANNEX} 二(二)3"),
    ("4", "落实校车交通安全管理，彻底淘汰在用的非专用校车",
     ("建设局", "派出所", "行政综合执法局", "教育管理办公室", "市场监管分局"), None, f"{ANNEX} 二(二)4"),
    ("5", "加强农村交通安全监管，清理整治农村地区变型拖拉机",
     ("建设局", "交警中队", "行政综合执法局", "经济发展局", "农业农村与社会事务局", "市场监管分局"),
     None, f"{ANNEX} 二(二)5"),
    ("6", "全面排查道路安全风险：农村公路安全生命防护工程、临水临崖、连续长陡下坡、急转弯陡坡等重点路段和危桥改造整治",
     ("建设局", "交警中队", "行政综合执法局"), None, f"{ANNEX} 二(三)6"),
    ("m1", "深入实施公路安全生命防护工程，完成建设任务", ("建设局",), END_2020, "总体方案 二(五)"),
    ("m2", "深化农村公路平交路口“千灯万带”示范工程", ("建设局",), None, "总体方案 二(五)"),
    ("m3", "加大集镇路段执法管控力度", ("建设局",), None, "总体方案 二(五)"),
)

SECTION, BRIDGE, SCHOOL_BUS, SOURCE_SITE, TRACTOR, CARRIER = (
    "道路路段", "桥梁", "校车", "货运源头单位", "变型拖拉机", "道路运输企业",
)
SECTION_RISKS = ("临水临崖", "连续长陡下坡", "急弯陡坡", "危桥", "平交路口")

HAZARD_CATEGORIES = (
    "临水临崖路段",
    "连续长陡下坡",
    "急弯陡坡",
    "危桥",
    "平交路口",
    "国省道违规开口",
    "限载标志缺失",
    "桥墩防撞",
    "货车超限超载",
    "校车安全",
    "农村客运",
    "变型拖拉机",
    "“两客一危一货”",
    "企业主体责任",
)

UNIT_ATTRIBUTES = (
    AttributeSpec(name="隐患路段类型", type="choice", choices=SECTION_RISKS, unit_kinds=(SECTION, BRIDGE),
                  source=f"{ANNEX} 二(三)6"),
    AttributeSpec(name="改造完成", type="bool", unit_kinds=(SECTION, BRIDGE), source=f"{ANNEX} 二(三)6"),
    AttributeSpec(name="校车公交途经", type="bool", unit_kinds=(SECTION, BRIDGE),
                  description="公交车辆、校车、城乡客运、镇村公交途经（优先改造）", source=f"{ANNEX} 二(三)6"),
    AttributeSpec(name="生命防护工程任务", type="bool", unit_kinds=(SECTION,),
                  description="列入公路安全生命防护工程建设任务", source="总体方案 二(五)"),
    AttributeSpec(name="生命防护工程完成", type="bool", unit_kinds=(SECTION,), source="总体方案 二(五)"),
    AttributeSpec(name="专用校车", type="bool", unit_kinds=(SCHOOL_BUS,),
                  description="符合国家校车标准的专用校车", source=f"{ANNEX} 二(二)4"),
    AttributeSpec(name="出口称重设施联网", type="bool", unit_kinds=(SOURCE_SITE,),
                  description="港口码头、大型物流、农业园区、厂区、搅拌站出口称重设施已安装并联网运行",
                  source=f"{ANNEX} 二(二)3"),
)


@hookimpl
def qingdan_campaign() -> Campaign:
    return Campaign(
        id=ID, name="道路运输安全专项整治", kind="专项", lead_departments=("建设局",),
        departments=("经济发展局", "农业农村和社会事业局", "安全生产监督管理局", "市场监管局"),
        start=ACTION_START, end=ACTION_END,
        phases=author.standard_phases(ID, ANNEX, author.CONTINUED_PHASES),
        tasks=author.responsible_only(author.task_table(ID, TASK_COLUMNS, TASKS), "1", "2", "3", "4", "5", "6"),
        hazard_categories=HAZARD_CATEGORIES, unit_attributes=UNIT_ATTRIBUTES, source=f"{ANNEX}；总体方案 二(五)",
    )


#: Why the dates of some targets are inferred (the clause states none).
TARGETS_INFERRED = {
    "major_accidents": "“坚决杜绝”未定期限：按三年行动期末（2022年底）",
}


@hookimpl
def qingdan_targets() -> list[Target]:
    return author.inferred([
        author.share_target(
            ID, "life_protection_rate", "公路安全生命防护工程建设任务完成率", END_2020, "总体方案 二(五)",
            rules.all_of(rules.of_kind(SECTION), rules.has("生命防护工程任务")), "生命防护工程完成"),
        author.target(
            ID, "non_standard_school_buses", "在用非专用校车数量（彻底淘汰；方案未定期限，按三年行动期末）", END_2022,
            f"{ANNEX} 二(二)4",
            rules.count_measure(lambda unit: unit.kind == SCHOOL_BUS and rules.attribute(unit, "专用校车") is False,
                                population=rules.of_kind(SCHOOL_BUS)),
            goal=0, comparator="<=", unit="辆", inferred="方案未定期限，按三年行动期末（2022年底）"),
        author.target(ID, "major_accidents", "重特大道路运输事故起数（坚决杜绝；三年行动期末）", END_2022,
                      f"{ANNEX} 一、整治目标", goal=0, comparator="<=", unit="起"),
    ], **TARGETS_INFERRED)


@author.unit_rule(ID, "dangerous_section_unremedied", "隐患路段和危桥未改造整治", "警告", f"{ANNEX} 二(三)6",
                  kinds=(SECTION, BRIDGE))
def dangerous_section(unit, snapshot: Snapshot) -> tuple[str, str] | None:
    risk = rules.attribute(unit, "隐患路段类型")
    if risk is None or rules.attribute(unit, "改造完成") is True:
        return None
    if rules.attribute(unit, "校车公交途经") is True:
        return f"{risk}隐患尚未改造整治，该路段为公交车辆、校车途经路线，应优先改造", "严重"
    return f"{risk}隐患尚未改造整治", "警告"


@hookimpl
def qingdan_checks() -> list[Check]:
    return [
        author.unit_check(
            ID, "non_standard_school_bus", "仍在使用非专用校车", "严重", f"{ANNEX} 二(二)4",
            lambda unit: unit.kind == SCHOOL_BUS and rules.attribute(unit, "专用校车") is False,
            lambda unit: "不符合国家校车标准但仍作为校车使用，应明确退出期限、彻底淘汰"),
        dangerous_section,
        author.unit_check(
            ID, "life_protection_overdue", "公路安全生命防护工程逾期未完成（2020年）", "警告", "总体方案 二(五)",
            rules.all_of(rules.of_kind(SECTION), rules.has("生命防护工程任务"),
                         lambda unit: rules.attribute(unit, "生命防护工程完成") is not True),
            lambda unit: "公路安全生命防护工程应于2020年完成建设任务，至今未完成", after=END_2020),
        author.unit_check(
            ID, "weighing_not_networked", "货运源头单位出口称重设施未安装联网", "提示", f"{ANNEX} 二(二)3",
            lambda unit: unit.kind == SOURCE_SITE and rules.attribute(unit, "出口称重设施联网") is not True,
            lambda unit: "出口称重设施未安装或未联网运行，难以防止超限超载车辆出站出场"),
        author.unit_check(
            ID, "converted_tractor", "农村地区变型拖拉机待清理整治", "提示", f"{ANNEX} 二(二)5",
            rules.of_kind(TRACTOR), lambda unit: "变型拖拉机仍在登记使用，应清理整治、加强日常监管"),
    ]


@author.projection(ID, "section_ledger", "隐患路段和危桥台账",
                   ("编号", "名称", "村居", "类型", "隐患路段类型", "校车公交途经", "改造完成", "生命防护工程", "未销号隐患"))
def section_ledger(snapshot: Snapshot) -> list[dict]:
    open_hazards = Counter(
        h.unit_number for h in rules.live_hazards(snapshot, ID) if h.status != "closed" and h.unit_number
    )
    rows = [
        {
            "编号": unit.number,
            "名称": unit.name,
            "村居": unit.village or "",
            "类型": unit.kind,
            "隐患路段类型": rules.attribute(unit, "隐患路段类型") or "",
            "校车公交途经": "是" if rules.attribute(unit, "校车公交途经") is True else "否",
            "改造完成": "是" if rules.attribute(unit, "改造完成") is True else "否",
            "生命防护工程": ("已完成" if rules.attribute(unit, "生命防护工程完成") is True else "未完成")
            if rules.attribute(unit, "生命防护工程任务") is True else "",
            "未销号隐患": open_hazards[unit.number],
        }
        for unit in snapshot.units()
        if unit.kind in (SECTION, BRIDGE)
    ]
    return rules.sort_rows(rows, "改造完成", "编号")


@hookimpl
def qingdan_projections() -> list[Projection]:
    return [section_ledger]
