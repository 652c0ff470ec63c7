"""附件8 危险废物等安全专项整治三年行动实施方案 (总体方案 二(八)).

The annex's tasks name no department; they carry the main plan's two parentheticals: 生态环境办公室牵头
for 废弃危险化学品等危险废物, and eight departments jointly (按职责分工负责, no 牵头) for 重点环保设施和项目、
“煤改气”、渣土、污水处理、粉尘企业. The dates of 一、整治目标 (到2022年底) are carried by the task each aim
belongs to. 三、时间安排 reads “于2020年11月和2021年11月15日前分别形成…年度报告”: the 2020 report is
taken as due by the end of November 2020 (the day is given for 2021 only).
"""

from __future__ import annotations

from datetime import date

from qingdan import AttributeSpec, Campaign, Check, Projection, Snapshot, Target, hookimpl
from qingdan.core import authoring as author
from qingdan.core import targets as rules
from qingdan.core.authoring import ACTION_END, ACTION_START, END_2022

ID = "waste"
ANNEX = "附件8"

ECO = "生态环境办公室"
WASTE_PARTNERS = ("安全生产监督管理局", "经济发展局", "农业农村和社会事业局", "派出所", "自然资源所", "建设局",
                  "综合行政执法管理办公室", "市场监管局")
FACILITY_JOINT = ("经济发展局", "派出所", ECO, "建设局", "安全生产监督管理局", "综合行政执法管理办公室",
                  "农业农村和社会事业局", "市场监管局")

TASK_COLUMNS = "number title lead responsible due source"  # 括注“…按职责分工负责”
TASKS = (
    ("1", "全面开展危险废物排查：建立规范化清单台账、分类分区贮存、设置识别标志，鉴别属性不明的固体废物；危险废物贮存不得超过一年",
     (ECO,), WASTE_PARTNERS, END_2022, f"{ANNEX} 二(一)2(1)；一、整治目标；总体方案 二(八)"),
    ("2", "完善危险废物管理机制：申报登记、转移联单、部门联动和重大案件会商督办，形成覆盖危险废物产生、收集、贮存、"
     "转移、运输、利用、处置等全过程的监管体系",
     (ECO,), WASTE_PARTNERS, END_2022, f"{ANNEX} 二(一)2(2)；一、整治目标；总体方案 二(八)"),
    ("3", "加快危险废物处置能力建设，消除处置能力瓶颈，危险废物处置企业规划布局规范合理", (ECO,), WASTE_PARTNERS,
     END_2022, f"{ANNEX} 二(一)2(3)；一、整治目标；总体方案 二(八)"),
    ("4", "开展重点环保设施和项目安全风险评估论证：全面摸排建立台账、督促企业开展安全评估、监督检查评估和治理结果",
     FACILITY_JOINT, (), END_2022, f"{ANNEX} 二(二)2(4)；一、整治目标；总体方案 二(八)"),
    ("5", "开展渣土和污水处理过程中安全风险排查治理：取缔非法渣土场，排查污水罐等环保设施安全隐患",
     FACILITY_JOINT, (), END_2022, f"{ANNEX} 二(二)2(5)；一、整治目标；总体方案 二(八)"),
    ("m1", "开展“煤改气”过程中安全风险排查治理", FACILITY_JOINT, (), None, "总体方案 二(八)"),
    ("m2", "加强粉尘企业安全风险管控：粉尘涉爆企业除尘环保项目源头把关，严格安全评估和审核验收",
     FACILITY_JOINT, (), None, "总体方案 二(八)"),
    ("r2020", "形成2020年专项整治行动年度报告", (ECO,), (), date(2020, 11, 30), f"{ANNEX} 三、时间安排"),
    ("r2021", "形成2021年专项整治行动年度报告", (ECO,), (), date(2021, 11, 15), f"{ANNEX} 三、时间安排"),
    ("r2022", "形成专项整治三年行动工作报告，送市安委办并抄送启东生态环境局", (ECO,), (), date(2022, 11, 30),
     f"{ANNEX} 三、时间安排"),
)

PRODUCER_KINDS = ("危险废物产生单位", "化工和危险化学品单位", "危险废物经营单位", "医疗卫生机构", "汽车维修单位",
                  "报废汽车拆解单位", "实验室机构", "生活垃圾处理场")
FACILITY, MUCK_SITE, SEWAGE_TANK, DUST = "重点环保设施和项目", "渣土场", "污水罐", "粉尘涉爆企业"
STORAGE_LIMIT_DAYS = 365

HAZARD_CATEGORIES = (
    "危险废物贮存超期",
    "违规堆存、随意倾倒、私自填埋",
    "属性不明固体废物",
    "危险废物识别标志",
    "危险废物申报和管理计划",
    "转移联单",
    "危险废物运输",
    "危险废物处置能力",
    "重点环保设施和项目",
    "“煤改气”",
    "渣土场",
    "污水罐等污水处理设施",
    "粉尘涉爆",
)

UNIT_ATTRIBUTES = (
    AttributeSpec(name="贮存起始日期", type="date", unit_kinds=PRODUCER_KINDS,
                  description="现存危险废物开始贮存的日期（贮存不得超过一年）", source=f"{ANNEX} 二(一)2(1)"),
    AttributeSpec(name="危险废物类别", type="str", unit_kinds=PRODUCER_KINDS, source=f"{ANNEX} 二(一)2(1)"),
    AttributeSpec(name="危险废物管理计划申报", type="bool", unit_kinds=PRODUCER_KINDS,
                  description="已制定危险废物管理计划并向生态环境部门申报", source=f"{ANNEX} 二(一)2(1)"),
    AttributeSpec(name="属性不明固体废物", type="bool", unit_kinds=PRODUCER_KINDS, source=f"{ANNEX} 一、整治目标"),
    AttributeSpec(name="固体废物鉴别完成", type="bool", unit_kinds=PRODUCER_KINDS,
                  description="已按GB 34330-2017进行鉴别鉴定", source=f"{ANNEX} 二(一)2(1)"),
    AttributeSpec(name="安全风险评估论证完成", type="bool", unit_kinds=(FACILITY,), source=f"{ANNEX} 二(二)2(4)"),
    AttributeSpec(name="合法", type="bool", unit_kinds=(MUCK_SITE,), description="依法设立的渣土场",
                  source=f"{ANNEX} 二(二)2(5)"),
    AttributeSpec(name="坍塌风险评估完成", type="bool", unit_kinds=(SEWAGE_TANK,), source=f"{ANNEX} 二(二)2(5)"),
    AttributeSpec(name="除尘系统安全评估验收", type="bool", unit_kinds=(DUST,), source="总体方案 二(八)"),
)


@hookimpl
def qingdan_campaign() -> Campaign:
    return Campaign(
        id=ID, name="危险废物等安全专项整治", kind="专项", lead_departments=(ECO,), departments=WASTE_PARTNERS,
        start=ACTION_START, end=ACTION_END,
        phases=author.standard_phases(ID, ANNEX, author.CONTINUED_PHASES),
        tasks=author.responsible_only(author.task_table(ID, TASK_COLUMNS, TASKS), "4", "5", "m1", "m2"),
        hazard_categories=HAZARD_CATEGORIES, unit_attributes=UNIT_ATTRIBUTES, source=f"{ANNEX}；总体方案 二(八)",
    )


@hookimpl
def qingdan_targets() -> list[Target]:
    return [
        author.share_target(ID, "unknown_waste_identification_rate", "企业产生的属性不明固体废物鉴别鉴定率", END_2022,
                            f"{ANNEX} 一、整治目标", rules.has("属性不明固体废物"), "固体废物鉴别完成"),
        author.share_target(ID, "facility_assessment_rate", "重点环保设施和项目安全风险评估论证率", END_2022,
                            f"{ANNEX} 一、整治目标", rules.of_kind(FACILITY), "安全风险评估论证完成"),
    ]


def storage_days(snapshot: Snapshot, unit) -> int | None:
    """Days the unit's hazardous waste has been in storage as of the snapshot, ``None`` if none stored."""
    return rules.days_since(snapshot, rules.attribute(unit, "贮存起始日期"))


@author.unit_rule(ID, "storage_over_one_year", "危险废物贮存超过一年", "严重", f"{ANNEX} 二(一)2(1)")
def storage_over_one_year(unit, snapshot: Snapshot) -> str | None:
    days = storage_days(snapshot, unit)
    if days is None or days <= STORAGE_LIMIT_DAYS:
        return None
    since = rules.as_date(rules.attribute(unit, "贮存起始日期"))
    return f"危险废物自 {since} 起贮存已 {days} 天，超过一年期限"


@hookimpl
def qingdan_checks() -> list[Check]:
    return [
        storage_over_one_year,
        author.unit_check(
            ID, "no_management_plan", "产生危险废物的单位未制定管理计划并申报", "警告", f"{ANNEX} 二(一)2(1)",
            lambda unit: unit.kind in PRODUCER_KINDS and rules.attribute(unit, "危险废物管理计划申报") is False,
            lambda unit: "未制定危险废物管理计划或未向生态环境部门申报种类、产生量、流向等信息"),
        author.unit_check(
            ID, "unidentified_solid_waste", "属性不明固体废物未鉴别", "提示", f"{ANNEX} 二(一)2(1)",
            lambda unit: rules.attribute(unit, "属性不明固体废物") is True
            and rules.attribute(unit, "固体废物鉴别完成") is not True,
            lambda unit: "存在属性不明的固体废物，尚未按《固体废物鉴别标准通则》鉴别"),
        author.unit_check(
            ID, "illegal_muck_site", "非法渣土场未取缔", "严重", f"{ANNEX} 二(二)2(5)",
            lambda unit: unit.kind == MUCK_SITE and rules.attribute(unit, "合法") is False,
            lambda unit: "非法渣土场仍在使用，应依法取缔"),
        author.unit_check(
            ID, "sewage_tank_unassessed", "污水罐等环保设施未评估坍塌风险", "警告", f"{ANNEX} 二(二)2(5)",
            lambda unit: unit.kind == SEWAGE_TANK and rules.attribute(unit, "坍塌风险评估完成") is not True,
            lambda unit: "未评估污水罐坍塌等安全风险及影响范围"),
        author.unit_check(
            ID, "dust_collector_unassessed", "粉尘涉爆企业除尘项目未经安全评估和审核验收", "警告", "总体方案 二(八)",
            lambda unit: unit.kind == DUST and rules.attribute(unit, "除尘系统安全评估验收") is not True,
            lambda unit: "除尘环保项目未经安全评估和审核验收"),
    ]


@author.projection(ID, "storage_age_ledger", "危险废物贮存期限台账",
                   ("编号", "单位名称", "村居", "危险废物类别", "贮存起始日期", "贮存天数", "超过一年"))
def storage_age_ledger(snapshot: Snapshot) -> list[dict]:
    rows = []
    for unit in snapshot.units():
        days = storage_days(snapshot, unit)
        if days is None:
            continue
        rows.append({
            "编号": unit.number,
            "单位名称": unit.name,
            "村居": unit.village or "",
            "危险废物类别": rules.attribute(unit, "危险废物类别") or "",
            "贮存起始日期": rules.as_date(rules.attribute(unit, "贮存起始日期")).isoformat(),
            "贮存天数": days,
            "超过一年": "是" if days > STORAGE_LIMIT_DAYS else "否",
        })
    return sorted(rows, key=lambda row: (-row["贮存天数"], row["编号"]))


@hookimpl
def qingdan_projections() -> list[Projection]:
    return [storage_age_ledger]
