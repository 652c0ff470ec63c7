"""附件4 南阳镇消防安全专项整治三年行动实施方案 (总体方案 二(四)).

The annex numbers its tasks 1–5, 7–23 and 27 (6 and 24–26 are absent in the seed); the ids keep the
seed's numbers so that a clerk can find each clause. The dated deliverables of 一、整治目标 and of
总体方案 二(四) are folded into the task they belong to (18: 单位消防安全标准化管理, 19: 消防大数据库和火灾风险
监测预警机制, all 2022年底前). The 整治目标's other dated aims state no figure, so they are dated tasks, not
targets: g1 镇村重大消防安全风险明显减少 and g2 全民消防安全意识明显提升 (2022年底前), and g3.y 火灾总量和亡人数量
连年下降 (2020年至2022年, a yearly review).
"""

from __future__ import annotations

from qingdan import AttributeSpec, Campaign, Check, Projection, Snapshot, Target, hookimpl
from qingdan.core import authoring as author
from qingdan.core import targets as rules
from qingdan.core.authoring import ACTION_END, ACTION_START, END_2020, END_2021, END_2022

ID = "fire"
ANNEX = "附件4"

COMMITTEE = ("镇消委会成员单位",)

# The lead column holds the departments the clause names, jointly responsible.
TASK_COLUMNS = "number title lead due clause"
TASKS = (
    ("1", "充分宣传发动：张贴打通“生命通道”集中治理行动通告", ("党群局", "政法和社会管理局", "派出所"), None, "二(一)1"),
    ("2", "单位和新建住宅小区按标准对消防车通道划线、标名、立牌", ("派出所",), END_2020, "二(一)2"),
    ("3", "老旧小区实行“一区一策”治理，分类分批督办整改", ("派出所",), END_2022, "二(一)3；总体方案 二(四)一"),
    ("3.1", "制定实施“一城一策、一区一策”消防车通道治理方案", ("派出所",), END_2020, "二(一)3"),
    ("4", "加强规划建设提供基础保障：公共停车设施、电动自行车智能集中充电点建设", ("建设局",), None, "二(一)4"),
    ("5", "加强综合管理和联合执法，建立联合执法管理机制", ("综合执法局", "建设局", "国土所", "派出所"), END_2020, "二(一)5"),
    ("7", "高层建筑消防安全综合整治", ("派出所", "建设局", "市场监管局"), END_2022, "二(二)7"),
    ("7.1", "高层建筑全面排查，建立问题隐患清单和整改责任清单，制定三年整治计划", ("派出所", "建设局", "市场监管局"), END_2020, "二(二)7"),
    ("7.2", "排查登记的高层建筑突出问题得到有效整改，建立完善消防管理机制", ("派出所", "建设局", "市场监管局"), END_2021, "二(二)7"),
    ("8", "设有人员密集场所的地下空间火灾防范能力提升，建成综合应急救援体系", ("派出所", "建设局", "市管局"), END_2022, "二(二)8"),
    ("8.1", "人员密集地下空间完成风险评估、计划制定以及综合演练测试", ("派出所", "建设局", "市管局"), END_2020, "二(二)8"),
    ("8.2", "全面加强改进人员密集地下空间安全疏散及应急救援能力", ("派出所", "建设局", "市管局"), END_2021, "二(二)8"),
    ("9", "大型商业综合体消防管理水平提升，消防安全管理达标率实现100%", ("派出所", "建设局", "市场监管局", "电管站"), END_2022, "二(二)9"),
    ("10", "群租房消防安全综合整治", ("派出所", "建设局", "国土所", "电管站"), None, "二(二)10"),
    ("11", "抓好老旧场所突出风险治理，基本落实火灾风险差异化防控措施", ("建设局", "政法和社会管理局", "安监所", "派出所"), END_2022, "二(三)11"),
    ("12", "抓好新材料新业态突出风险治理，居民住宅区全部落实电动自行车集中管理要求措施",
     ("派出所", "建设局", "国土所", "综合执法局", "市场监管局", "电管站"), END_2022, "二(三)12"),
    ("13", "加大镇村火灾隐患整治力度", ("综合执法局", "政法和社会管理局", "派出所"), None, "二(四)13"),
    ("14", "推进镇村公共消防基础建设，实现镇村消防队站建设“全覆盖”", ("政法和社会管理局", "安监所", "派出所"), END_2022, "二(四)14；总体方案 二(四)四"),
    ("15", "完善基层消防监管模式", ("政法和社会管理局", "安监所", "公安局"), None, "二(四)15"),
    ("16", "落实行业部门监管责任", COMMITTEE, None, "二(五)16"),
    ("17", "集中整治行业消防安全问题，一时难以整改的隐患三年内基本整改完毕",
     ("派出所", "教管办", "民政", "建设局", "经发局", "文化", "卫健委", "财政局", "统战", "邮政公司"), END_2022, "二(五)17"),
    ("17.1", "重点行业部门组织对学校、养老、施工工地、商场市场、医疗卫生机构等行业单位集中开展排查整治",
     ("派出所", "教管办", "民政", "建设局", "经发局", "文化", "卫健委", "财政局", "统战", "邮政公司"), END_2020, "二(五)17"),
    ("18", "推行单位消防安全标准化管理，有效落实单位消防安全标准化管理", ("各部门",), END_2022,
     "二(五)18；一、整治目标"),
    ("19", "推行消防大数据管理，实现对火灾高风险场所、高风险区域的动态监测和精准治理；分级建成消防大数据库，"
     "配合南通完善火灾风险监测预警机制", COMMITTEE, END_2022, "二(六)19；一、整治目标；总体方案 二(四)六"),
    ("20", "加强基层消防管理信息化共建共治", ("党政办", "派出所"), None, "二(六)20"),
    ("21", "加强消防安全素质教育", ("党群局", "司法所", "教管办"), None, "二(七)21"),
    ("22", "普及消防安全常识", COMMITTEE, None, "二(七)22"),
    ("23", "加强重点人群分级分类培训，实现全覆盖培训", COMMITTEE, END_2022, "二(七)23"),
    ("27", "提升综合应急救援能力：建立政府专职消防队，督促企业建立专职消防队或微型消防站", COMMITTEE, None, "二(七)27"),
)

#: 一、整治目标: dated aims with no figure, each a dated task of the 专项's lead (the aims name no department).
_AIM_LEAD = "整治目标未写部门：按本专项牵头部门（总体方案 二(四) 派出所牵头）"
AIM_COLUMNS = "number title lead due recurrence inferred clause"
AIMS = (
    ("g1", "镇村重大消防安全风险明显减少", ("派出所",), END_2022, None, _AIM_LEAD, "一、整治目标"),
    ("g2", "实现全民消防安全意识和自防自救能力明显提升", ("派出所",), END_2022, None, _AIM_LEAD, "一、整治目标"),
    ("g3.y", "火灾总量和亡人数量保持连年下降态势（每年对照上年）", ("派出所",), None, "yearly",
     _AIM_LEAD + "；“2020年至2022年…连年下降”未定日期：按每年年底", "一、整治目标"),
)

#: 二(一)5 and every clause after it end “（…等部门按职责分工负责）”: departments responsible, none 牵头.
RESPONSIBLE_ONLY = ("5", "7", "7.1", "7.2", "8", "8.1", "8.2", "9", "10", "11", "12", "13", "14", "15", "16", "17",
                    "17.1", "18", "19", "20", "21", "22", "23", "27", "11.y1", "11.y2", "12.y")

#: The yearly duties of 二(三)11 (“2020年起，每年…列入实事工程、民生工程申报内容，每年督办整改一批老旧场所火灾隐患问题”)
#: and 二(三)12 (彩钢板房“每年依法组织整改一批、拆除一批”), led by the departments each clause names.
RECURRING_COLUMNS = "number title lead recurrence due_in_period inferred clause"
_YEAR_END = "方案只说“每年”，未定日期：按每年年底"
RECURRING = (
    ("11.y1", "将老旧场所消防风险治理列入实事工程、民生工程申报内容（每年）",
     ("建设局", "政法和社会管理局", "安监所", "派出所"), "yearly", "12-31", _YEAR_END + "；部门按本条任务 11", "二(三)11"),
    ("11.y2", "督办整改一批老旧场所火灾隐患问题（每年）",
     ("建设局", "政法和社会管理局", "安监所", "派出所"), "yearly", "12-31", _YEAR_END + "；部门按本条任务 11", "二(三)11"),
    ("12.y", "对人员密集场所、施工现场违规搭建、违规采用易燃可燃材料的彩钢板房依法组织整改一批、拆除一批（每年）",
     ("派出所", "国土所", "建设局", "综合执法局"), "yearly", "12-31",
     _YEAR_END + "；条文写“公安、自然资源、建设、综合执法等有关部门”，按镇对应部门", "二(三)12"),
)

HIGH_RISE, UNDERGROUND, COMPLEX, SHARED_RENTAL = "高层建筑", "人员密集地下空间", "大型商业综合体", "群租房"
PUBLIC_BUILDING, ESTATE, OLD_ESTATE, VILLAGE, SOCIAL_UNIT = "公共建筑", "住宅小区", "老旧小区", "村（居）", "社会单位"

# The seed heads 二(二) “五类场所” but lists four; its 整治目标 names the fifth, 化工企业.
FIVE_PLACES = (HIGH_RISE, UNDERGROUND, COMPLEX, "化工企业", SHARED_RENTAL)

HAZARD_CATEGORIES = (
    "消防车通道（生命通道）",
    *FIVE_PLACES,
    "老旧小区",
    "老旧市场",
    "家庭生产加工作坊",
    "“三合一”场所",
    "城乡结合部",
    "电动自行车",
    "彩钢板建筑",
    "外墙保温材料",
    "新材料新业态",
    "物流仓储",
    "光伏产业",
    "镇村小单位小场所",
    "重点行业单位",
)

UNIT_ATTRIBUTES = (
    AttributeSpec(name="微型消防站", type="bool", unit_kinds=(HIGH_RISE, COMPLEX, SOCIAL_UNIT),
                  description="已建立微型消防站队伍", source=f"{ANNEX} 二(二)7"),
    AttributeSpec(name="消防车通道标识化", type="bool", unit_kinds=(PUBLIC_BUILDING, ESTATE),
                  description="消防车通道已划线、标名、立牌", source=f"{ANNEX} 二(一)2"),
    AttributeSpec(name="一区一策方案", type="bool", unit_kinds=(OLD_ESTATE,),
                  description="已制定实施“一区一策”消防车通道治理方案", source=f"{ANNEX} 二(一)3"),
    AttributeSpec(name="安全疏散能力评估完成", type="bool", unit_kinds=(UNDERGROUND,),
                  description="已完成安全疏散及应急救援能力评估", source=f"{ANNEX} 二(二)8"),
    AttributeSpec(name="消防安全管理达标", type="bool", unit_kinds=(COMPLEX,), source=f"{ANNEX} 二(二)9"),
    AttributeSpec(name="最近消防安全检查评估日期", type="date", unit_kinds=(COMPLEX,),
                  description="消防设施、餐饮场所、重点部位每季度检查评估", source=f"{ANNEX} 二(二)9"),
    AttributeSpec(name="最近消防演练日期", type="date", unit_kinds=(COMPLEX, UNDERGROUND),
                  description="每半年组织消防演练", source=f"{ANNEX} 二(二)8、9"),
    AttributeSpec(name="泡沫夹芯彩钢板搭建", type="bool", unit_kinds=(SHARED_RENTAL,), source=f"{ANNEX} 二(二)10"),
    AttributeSpec(name="住宿人员超员", type="bool", unit_kinds=(SHARED_RENTAL,), source=f"{ANNEX} 二(二)10"),
    AttributeSpec(name="违规设置金属栅栏", type="bool", unit_kinds=(SHARED_RENTAL,), source=f"{ANNEX} 二(二)10"),
    AttributeSpec(name="电动自行车集中充电停放", type="bool", unit_kinds=(ESTATE, OLD_ESTATE),
                  description="已设置电动自行车集中充电、停放场所", source=f"{ANNEX} 二(三)12"),
    AttributeSpec(name="消防队站", type="bool", unit_kinds=(VILLAGE,),
                  description="已建专职消防队、志愿消防队或微型消防站", source=f"{ANNEX} 二(四)14"),
)


@hookimpl
def qingdan_campaign() -> Campaign:
    return Campaign(
        id=ID, name="消防安全专项整治", kind="专项", lead_departments=("派出所",),
        departments=("消防中队", "自然资源所", "建设局", "农业农村和社会事业局", "党群工作局", "财政局", "市场监管局"),
        start=ACTION_START, end=ACTION_END,
        phases=author.standard_phases(ID, ANNEX, author.CONTINUED_PHASES),
        tasks=author.responsible_only(
            (*author.task_table(ID, TASK_COLUMNS, TASKS, cite=ANNEX),
             *author.task_table(ID, RECURRING_COLUMNS, RECURRING, cite=ANNEX)),
            *RESPONSIBLE_ONLY) + author.task_table(ID, AIM_COLUMNS, AIMS, cite=ANNEX),
        hazard_categories=HAZARD_CATEGORIES, unit_attributes=UNIT_ATTRIBUTES, source=f"{ANNEX}；总体方案 二(四)",
    )


@hookimpl
def qingdan_targets() -> list[Target]:
    return [
        author.share_target(
            ID, "lane_marking_rate", "公共建筑和新建住宅小区消防车通道划线标识化管理完成率", END_2020, f"{ANNEX} 二(一)2",
            rules.of_kind(PUBLIC_BUILDING, ESTATE), "消防车通道标识化"),
        author.share_target(
            ID, "old_estate_plan_rate", "老旧小区“一区一策”消防车通道治理方案制定率", END_2020, f"{ANNEX} 二(一)3",
            rules.of_kind(OLD_ESTATE), "一区一策方案"),
        author.share_target(
            ID, "underground_assessment_rate", "人员密集地下空间安全疏散及应急救援能力评估完成率", END_2020,
            f"{ANNEX} 二(二)8", rules.of_kind(UNDERGROUND), "安全疏散能力评估完成"),
        author.share_target(
            ID, "complex_compliance_rate", "大型商业综合体消防安全管理达标率", END_2022, f"{ANNEX} 二(二)9",
            rules.of_kind(COMPLEX), "消防安全管理达标"),
        author.share_target(
            ID, "ebike_management_rate", "居民住宅区电动自行车集中管理要求措施落实率", END_2022, f"{ANNEX} 二(三)12",
            rules.of_kind(ESTATE, OLD_ESTATE), "电动自行车集中充电停放"),
        author.share_target(
            ID, "station_coverage_rate", "镇村消防队站建设覆盖率（“全覆盖”）", END_2022,
            f"{ANNEX} 二(四)14；总体方案 二(四)四", rules.of_kind(VILLAGE), "消防队站"),
        author.target(ID, "key_group_training_rate", "重点人群消防教育培训覆盖率（“全覆盖”）", END_2022,
                      f"{ANNEX} 二(七)23"),
        author.target(ID, "major_fires", "重特大和群死群伤等有影响的火灾事故起数（杜绝；三年行动期末）", END_2022,
                      f"{ANNEX} 一、整治目标", goal=0, comparator="<=", unit="起",
                      inferred="“杜绝”未定期限：按三年行动期末（2022年底）；起数由填报得出"),
    ]


QUARTER_DAYS, HALF_YEAR_DAYS = 92, 183


def routine_check(
    slug: str, title: str, clause: str, kinds: tuple[str, ...], attribute: str, every_days: int, what: str
) -> Check:
    """A check that ``attribute``, the date of the last ``what``, is at most ``every_days`` old."""

    @author.unit_rule(ID, slug, title, "警告", f"{ANNEX} {clause}", kinds=kinds)
    def overdue(unit, snapshot: Snapshot) -> str | None:
        last = rules.as_date(rules.attribute(unit, attribute))
        if last is None:
            return f"未记录{what}"
        if (snapshot.as_of - last).days > every_days:
            return f"最近一次{what}在 {last}，已超过 {every_days} 天"
        return None

    return overdue


SHARED_RENTAL_PROBLEMS = {"泡沫夹芯彩钢板搭建": "采用泡沫夹芯彩钢板搭建", "住宿人员超员": "住宿人员超员",
                          "违规设置金属栅栏": "违规设置影响疏散逃生和灭火救援的金属栅栏"}


@author.unit_rule(ID, "shared_rental_problems", "群租房存在彩钢板搭建、超员、金属栅栏等重点整治问题", "严重",
                  f"{ANNEX} 二(二)10", kinds=(SHARED_RENTAL,))
def shared_rental_problems(unit, snapshot: Snapshot) -> tuple[str, str] | None:
    found = [label for name, label in SHARED_RENTAL_PROBLEMS.items() if rules.attribute(unit, name) is True]
    if not found:
        return None
    severity = "严重" if rules.attribute(unit, "泡沫夹芯彩钢板搭建") is True else "警告"
    return f"群租房存在{'、'.join(found)}问题", severity


@hookimpl
def qingdan_checks() -> list[Check]:
    return [
        author.unit_check(
            ID, "high_rise_without_micro_station", "高层建筑未建立微型消防站队伍", "警告", f"{ANNEX} 二(二)7",
            lambda unit: unit.kind == HIGH_RISE and rules.attribute(unit, "微型消防站") is not True,
            lambda unit: "高层建筑未依托网格长、保安、志愿者等力量建立微型消防站队伍"),
        routine_check("complex_quarterly_inspection", "大型商业综合体未按季度开展消防安全检查评估", "二(二)9",
                      (COMPLEX,), "最近消防安全检查评估日期", QUARTER_DAYS, "季度消防安全检查评估"),
        routine_check("half_yearly_drill", "大型商业综合体、人员密集地下空间未每半年组织消防演练", "二(二)8、9",
                      (COMPLEX, UNDERGROUND), "最近消防演练日期", HALF_YEAR_DAYS, "消防演练"),
        shared_rental_problems,
    ]


@author.projection(ID, "hazards_by_category", "消防隐患分类汇总（五类场所及突出风险）",
                   ("类别", "五类场所", "隐患数", "重大隐患", "未销号", "逾期", "已销号"))
def hazards_by_category(snapshot: Snapshot) -> list[dict]:
    hazards = rules.live_hazards(snapshot, ID)
    categories = list(HAZARD_CATEGORIES)
    categories += sorted({h.category or "未分类" for h in hazards} - set(categories))
    rows = []
    for category in categories:
        group = [h for h in hazards if (h.category or "未分类") == category]
        rows.append({
            "类别": category,
            "五类场所": "是" if category in FIVE_PLACES else "否",
            "隐患数": len(group),
            "重大隐患": sum(1 for h in group if h.level == "重大"),
            "未销号": sum(1 for h in group if h.status != "closed"),
            "逾期": sum(1 for h in group if h.overdue),
            "已销号": sum(1 for h in group if h.status == "closed"),
        })
    return rows


@hookimpl
def qingdan_projections() -> list[Projection]:
    return [hazards_by_category]
