"""附件5 道路运输安全专项整治三年行动实施方案 (总体方案 二(五)).

The annex dates nothing; the one dated target is the main plan's (公路安全生命防护工程, 2020年). The two
zero targets are the annex's words (彻底淘汰, 坚决杜绝) measured at the campaign's end, and say so in their
titles. The annex writes “农业农村与社会事务局” and “市场监管分局” where the main plan writes
“农业农村和社会事业局” and “市场监管局”; each is kept as written where it appears.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date

from qingdan.core import targets as rules
from qingdan.core.hookspecs import hookimpl
from qingdan.core.spec import (
    AttributeSpec,
    Campaign,
    Check,
    Finding,
    Phase,
    Projection,
    Snapshot,
    Target,
    TaskSpec,
)

ID = "road"
ANNEX = "附件5"
START, END = date(2020, 7, 1), date(2022, 12, 31)
END_2020, END_2021, END_2022 = date(2020, 12, 31), date(2021, 12, 31), date(2022, 12, 31)

JOINT = ("建设局", "派出所", "行政综合执法局", "经济发展局", "农业农村与社会事务局", "市场监管分局")

# (number, title, departments named in the clause — jointly responsible, due, source)
TASKS: tuple[tuple[str, str, tuple[str, ...], date | None, str], ...] = (
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
        id=ID,
        name="道路运输安全专项整治",
        kind="专项",
        lead_departments=("建设局",),
        departments=("经济发展局", "农业农村和社会事业局", "安全生产监督管理局", "市场监管局"),
        start=START,
        end=END,
        phases=(
            Phase(id=f"{ID}.p1", name="集中攻坚", start=START, end=END_2020, source=f"{ANNEX} 三(一)"),
            Phase(id=f"{ID}.p2", name="持续整治", start=date(2021, 1, 1), end=END_2021, source=f"{ANNEX} 三(二)"),
            Phase(id=f"{ID}.p3", name="巩固提升", start=date(2022, 1, 1), end=END_2022, source=f"{ANNEX} 三(三)"),
        ),
        tasks=tuple(
            TaskSpec(id=f"{ID}.{number}", campaign=ID, title=title, lead_departments=lead, due=due, source=source)
            for number, title, lead, due, source in TASKS
        ),
        hazard_categories=HAZARD_CATEGORIES,
        unit_attributes=UNIT_ATTRIBUTES,
        source=f"{ANNEX}；总体方案 二(五)",
    )


@hookimpl
def qingdan_targets() -> list[Target]:
    return [
        Target(id=f"{ID}.life_protection_rate", campaign=ID, title="公路安全生命防护工程建设任务完成率",
               goal=100, unit="%", due=END_2020, source="总体方案 二(五)",
               measure=rules.share_measure(rules.all_of(rules.of_kind(SECTION), rules.has("生命防护工程任务")),
                                           rules.has("生命防护工程完成"))),
        Target(id=f"{ID}.non_standard_school_buses", campaign=ID, title="在用非专用校车数量（彻底淘汰；方案未定期限，按三年行动期末）",
               goal=0, comparator="<=", unit="辆", due=END_2022, source=f"{ANNEX} 二(二)4",
               measure=rules.count_measure(
                   lambda unit: unit.kind == SCHOOL_BUS and rules.attribute(unit, "专用校车") is False)),
        Target(id=f"{ID}.major_accidents", campaign=ID, title="重特大道路运输事故起数（坚决杜绝；三年行动期末）",
               goal=0, comparator="<=", unit="起", due=END_2022, source=f"{ANNEX} 一、整治目标"),
    ]


def _dangerous_sections(snapshot: Snapshot) -> Iterable[Finding]:
    findings = []
    for unit in snapshot.units():
        risk = rules.attribute(unit, "隐患路段类型")
        if unit.kind not in (SECTION, BRIDGE) or risk is None or rules.attribute(unit, "改造完成") is True:
            continue
        priority = rules.attribute(unit, "校车公交途经") is True
        findings.append(Finding(
            check=f"{ID}.dangerous_section_unremedied", campaign=ID, subject=unit.number,
            message=f"{rules.unit_label(unit)}：{risk}隐患尚未改造整治"
                    + ("，该路段为公交车辆、校车途经路线，应优先改造" if priority else ""),
            severity="严重" if priority else "警告"))
    return findings


def _life_protection_overdue(snapshot: Snapshot) -> Iterable[Finding]:
    if snapshot.as_of <= END_2020:
        return []
    return rules.unit_findings(
        f"{ID}.life_protection_overdue", ID, "警告",
        rules.all_of(rules.of_kind(SECTION), rules.has("生命防护工程任务"),
                     lambda unit: rules.attribute(unit, "生命防护工程完成") is not True),
        lambda unit: "公路安全生命防护工程应于2020年完成建设任务，至今未完成",
    )(snapshot)


@hookimpl
def qingdan_checks() -> list[Check]:
    return [
        Check(id=f"{ID}.non_standard_school_bus", campaign=ID, title="仍在使用非专用校车", severity="严重",
              source=f"{ANNEX} 二(二)4",
              run=rules.unit_findings(
                  f"{ID}.non_standard_school_bus", ID, "严重",
                  lambda unit: unit.kind == SCHOOL_BUS and rules.attribute(unit, "专用校车") is False,
                  lambda unit: "不符合国家校车标准但仍作为校车使用，应明确退出期限、彻底淘汰")),
        Check(id=f"{ID}.dangerous_section_unremedied", campaign=ID, title="隐患路段和危桥未改造整治",
              severity="警告", source=f"{ANNEX} 二(三)6", run=_dangerous_sections),
        Check(id=f"{ID}.life_protection_overdue", campaign=ID, title="公路安全生命防护工程逾期未完成（2020年）",
              severity="警告", source="总体方案 二(五)", run=_life_protection_overdue),
        Check(id=f"{ID}.weighing_not_networked", campaign=ID, title="货运源头单位出口称重设施未安装联网",
              severity="提示", source=f"{ANNEX} 二(二)3",
              run=rules.unit_findings(
                  f"{ID}.weighing_not_networked", ID, "提示",
                  lambda unit: unit.kind == SOURCE_SITE and rules.attribute(unit, "出口称重设施联网") is not True,
                  lambda unit: "出口称重设施未安装或未联网运行，难以防止超限超载车辆出站出场")),
        Check(id=f"{ID}.converted_tractor", campaign=ID, title="农村地区变型拖拉机待清理整治",
              severity="提示", source=f"{ANNEX} 二(二)5",
              run=rules.unit_findings(
                  f"{ID}.converted_tractor", ID, "提示", rules.of_kind(TRACTOR),
                  lambda unit: "变型拖拉机仍在登记使用，应清理整治、加强日常监管")),
    ]


def _section_ledger(snapshot: Snapshot) -> list[dict]:
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
    return [
        Projection(id=f"{ID}.section_ledger", campaign=ID, title="隐患路段和危桥台账",
                   columns=("编号", "名称", "村居", "类型", "隐患路段类型", "校车公交途经", "改造完成",
                            "生命防护工程", "未销号隐患"),
                   build=_section_ledger)
    ]
