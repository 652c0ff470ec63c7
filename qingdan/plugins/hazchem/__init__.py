"""附件3 危险化学品安全专项整治三年行动实施方案 (总体方案 二(三)).

How the departments are read: the annex closes a run of sentences with a parenthetical
（X、Y按职责分工负责 / X负责 / X牵头负责）that covers the text since the previous one, and names no
co-operating department; every department a task's parentheticals name is one of its leads. 二(一)4's
vehicle sentence (远程提醒监控系统, 2022年底前) has no parenthetical of its own and falls under the next
one, （农业农村和社会事业局、安全生产监督管理局按职责分工负责）. The 一、整治目标 items (ids ``g…``) name
no department and carry the main plan's lead and co-operating departments (总体方案 二(三)). The annual
and half-yearly reports (三、时间安排) start with the 2020 annual report: 2020-06-15 precedes the campaign.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import date

from qingdan import AttributeSpec, Campaign, Check, Projection, Snapshot, Target, hookimpl
from qingdan.core import authoring as author
from qingdan.core import targets as rules
from qingdan.core.authoring import ACTION_END, ACTION_START, END_2020, END_2021, END_2022

ID = "hazchem"
ANNEX = "附件3"

SAFETY = "安全生产监督管理局"
PARTNERS = ("经济发展局", "派出所", "财政局", "市场监管局")  # 总体方案 二(三)

# Unit kinds this annex supervises.
PRODUCER, STORAGE, TRADER, CHEMICAL, FINE, USER, VEHICLE = (
    "危险化学品生产企业",
    "危险化学品储存企业",
    "危险化学品经营企业",
    "化工生产企业",
    "精细化工企业",
    "危险化学品使用单位",
    "危险货物运输车辆",
)
ENTERPRISES = (PRODUCER, STORAGE, TRADER, CHEMICAL, FINE, USER)
RISK_LEVELS = ("红", "橙", "黄", "蓝")
HIGH_RISK_PROCESS = "涉及硝化氯化重氮化过氧化工艺"

TASK_COLUMNS = "number title lead responsible due clause"  # 总体方案 二(三)“…等按职责分工”: responsible
TASKS = (
    ("g1", "明晰负有危险化学品安全监管职能部门安全生产职责，建立危险化学品安全监管部门联动机制",
     (SAFETY,), PARTNERS, END_2020, "一、整治目标；总体方案 二(三)"),
    ("g2", "关闭退出不符合安全生产条件的危险化学品企业，减少重大危险源企业、高危工艺企业和生产装置，大幅压减硝化企业数量",
     (SAFETY,), PARTNERS, END_2020, "一、整治目标；总体方案 二(三)"),
    ("g3", "完成化工企业安全生产信息化管理平台建设", (SAFETY,), PARTNERS, END_2020, "一、整治目标；总体方案 二(三)"),
    ("g4", "全面建成化工企业安全生产信息化管理平台", (SAFETY,), PARTNERS, END_2022, "一、整治目标；总体方案 二(三)"),
    ("1", "严格高风险化工项目准入条件", ("安委会成员单位",), (), None, "二(一)1"),
    ("2", "提升监测点安全风险管控水平：重新认定化工重点监测点",
     ("经济发展局", "生态环境办公室", SAFETY), (), END_2020, "二(一)2"),
    ("3", "深入开展企业安全风险隐患排查治理", (SAFETY, "经济发展局"), (), END_2022, "二(一)3"),
    ("3.1", "危险化学品企业全面完成安全风险隐患自查并制定“一企一策”整改方案",
     (SAFETY, "经济发展局"), (), date(2020, 7, 31), "二(一)3"),
    ("3.2", "危险化学品安全生产许可“回头看”：对安全风险评估等级为“红、橙”的企业逐一再次核查",
     (SAFETY, "经济发展局"), (), END_2020, "二(一)3"),
    ("3.3", "涉及重大危险源的危险化学品企业全面完成安全预防控制体系建设",
     (SAFETY, "经济发展局"), (), END_2022, "二(一)3"),
    ("4", "强化危险化学品运输、使用和废弃处置安全管理",
     ("市交通运输局", "市公安局", "交通运输局", "农业农村和社会事业局", SAFETY, "生态环境办公室"),
     (), END_2022, "二(一)4"),
    ("4.1", "危险货物运输车辆全部强制安装远程提醒监控系统，实行运输过程实时定位及路径记录",
     ("农业农村和社会事业局", SAFETY), (), END_2022, "二(一)4"),
    ("5", "全面排查管控危险化学品生产储存企业外部安全防护距离",
     ("市交通运输局", "应急管理局", "交管所", SAFETY, "经济发展局"), (), END_2022, "二(二)5"),
    ("5.1", "不符合外部安全防护距离要求、具备就地整改条件的“两重点一重大”装置设施完成整改",
     ("交管所", SAFETY), (), END_2020, "二(二)5"),
    ("5.2", "需要搬迁的“两重点一重大”装置设施完成搬迁", ("交管所", SAFETY), (), END_2022, "二(二)5"),
    ("6", "进一步提升危险化学品企业自动化控制水平", (SAFETY,), (), END_2022, "二(二)6"),
    ("6.1", "涉及“两重点一重大”的生产装置、储存设施的自动化控制系统装备投用率达到100%",
     (SAFETY,), (), END_2020, "二(二)6"),
    ("6.2", "涉及硝化、氯化、重氮化、过氧化工艺装置的上下游配套装置实现自动化控制",
     (SAFETY,), (), END_2022, "二(二)6"),
    ("6.3", "处于爆炸区域范围内的控制室进行抗爆加固", (SAFETY,), (), END_2020, "二(二)6"),
    ("6.4", "拆除甲乙类火灾危险性、粉尘爆炸危险性、中毒危险性厂房和仓库内的办公室、休息室、外操室、巡检室、控制室",
     (SAFETY,), (), date(2020, 7, 31), "二(二)6"),
    ("7", "深化精细化工企业反应安全风险评估", (SAFETY,), (), END_2022, "二(二)7"),
    ("7.1", "涉及硝化、氯化、重氮化、过氧化工艺的精细化工生产装置完成全流程反应安全风险评估",
     (SAFETY,), (), END_2021, "二(二)7"),
    ("7.2", "精细化工生产装置落实反应安全风险评估建议，未落实的一律停产整顿",
     (SAFETY,), (), END_2022, "二(二)7"),
    ("8", "推动技术创新", ("安委会成员单位",), (), None, "二(二)8"),
    ("9", "严格执行危险化学品安全生产标准", (SAFETY, "市场监管局"), (), None, "二(二)9"),
    ("10", "强化从业人员教育培训", ("交管所", SAFETY, "党群工作局"), (), END_2022, "二(三)10"),
    ("10.1", "安排10%以上的重点岗位职工完成职业技能晋级培训",
     ("党群工作局", SAFETY), (), END_2021, "二(三)10"),
    ("10.2", "从业人员中取得职业资格证书或职业技能等级证书的比例达到30%以上",
     ("党群工作局", SAFETY), (), END_2022, "二(三)10"),
    ("11", "提高从业人员准入门槛：不符合学历、职称要求的现有人员达到相应水平",
     (SAFETY,), (), END_2022, "二(三)11"),
    ("12", "严格精准监管执法", (SAFETY,), (), None, "二(四)12"),
    ("13", "全面推进安全生产标准化建设",
     ("经济发展局", "党群工作局", SAFETY, "市场监管局"), (), None, "二(四)13"),
    ("14", "集中开展危险化学品领域“打非治违”", (SAFETY, "市场监管局"), (), None, "二(四)14"),
    ("15", "提升危险化学品安全监管队伍监管能力：建立不少于10人的危险化学品安全监管执法队伍",
     (SAFETY,), (), date(2021, 6, 30), "二(五)15"),
    ("16", "运用“互联网+监管”提高危险化学品安全监管水平", (SAFETY,), (), END_2020, "二(五)16"),
    ("16.1", "完成危险化学品安全生产风险监测预警系统建设投用", (SAFETY,), (), END_2020, "二(五)16"),
    ("16.2", "所有化工生产企业建成集重大危险源监控、可燃有毒气体检测报警、安全风险分区、人员在岗在位、生产全流程管理信息于一体的信息管理系统",
     (SAFETY,), (), END_2020, "二(五)16"),
    ("17", "强化社会化技术服务能力", (SAFETY, "建设局"), (), None, "二(五)17"),
    ("18", "加强应急救援能力建设", (SAFETY, "安委会成员单位"), (), None, "二(五)18"),
    ("r2020", "形成2020年度报告", (SAFETY,), (), date(2020, 12, 10), "三、时间安排"),
    ("r2021h", "形成2021年半年度报告", (SAFETY,), (), date(2021, 6, 15), "三、时间安排"),
    ("r2021", "形成2021年度报告", (SAFETY,), (), date(2021, 12, 10), "三、时间安排"),
    ("r2022h", "形成2022年半年度报告", (SAFETY,), (), date(2022, 6, 15), "三、时间安排"),
    ("r2022", "形成2022年度报告", (SAFETY,), (), date(2022, 12, 10), "三、时间安排"),
    ("r3y", "2022年形成三年行动报告并及时报市安委会办公室", (SAFETY,), (), END_2022, "三、时间安排"),
)

#: Clauses whose parentheticals name departments “负责” / “按职责分工负责” and none 牵头 (二(一)4、5 and
#: 二(三)10, 二(五)16、17 mix 牵头负责 and 负责 sentences and keep their leads as written).
RESPONSIBLE_ONLY = ("1", "2", "3", "3.1", "3.2", "3.3", "6", "6.1", "6.2", "6.3", "6.4", "7", "7.1", "7.2", "8",
                    "9", "11", "13", "15", "16.1", "16.2", "18")

#: The yearly duties of 二(三)10 and 二(五)15, with the departments of their parentheticals (负责).
RECURRING_COLUMNS = "number title lead responsible recurrence due_in_period inferred clause"
_LEAD_INFERRED = "方案只说“每年”，未定日期：按每年年底；括注只写“按职责分工负责”，牵头部门按本专项牵头部门"
RECURRING = (
    ("10.y1", "配合上级部门对一二级重大危险源的危险化学品企业主要负责人集中开展警示教育（每年至少一次）",
     (SAFETY,), ("交管所", SAFETY), "yearly", "12-31", _LEAD_INFERRED, "二(三)10"),
    ("10.y2", "对企业主要负责人开展安全生产管理知识考核（每年至少一次；考核和补考均不合格的不得担任主要负责人）",
     (SAFETY,), ("交管所", SAFETY), "yearly", "12-31", _LEAD_INFERRED, "二(三)10"),
    ("15.y", "危险化学品安全监管在职人员复训（每年不少于2周）",
     (SAFETY,), (SAFETY,), "yearly", "12-31", "方案只说“每年”，未定日期：按每年年底；括注为“安全生产监督管理局负责”",
     "二(五)15"),
)

UNIT_ATTRIBUTES = (
    AttributeSpec(name="两重点一重大", type="bool", unit_kinds=ENTERPRISES,
                  description="涉及重点监管危险化工工艺、重点监管危险化学品和重大危险源", source=f"{ANNEX} 一、整治目标"),
    AttributeSpec(name="重大危险源", type="bool", unit_kinds=ENTERPRISES, source=f"{ANNEX} 一、整治目标"),
    AttributeSpec(name="风险等级", type="choice", choices=RISK_LEVELS, unit_kinds=ENTERPRISES,
                  description="安全风险评估等级（红橙黄蓝）", source=f"{ANNEX} 二(一)3"),
    AttributeSpec(name="自动化控制系统投用", type="bool", unit_kinds=ENTERPRISES,
                  description="“两重点一重大”生产装置、储存设施的自动化控制系统已装备并投用", source=f"{ANNEX} 二(二)6"),
    AttributeSpec(name="安全风险隐患自查完成", type="bool", unit_kinds=ENTERPRISES,
                  description="已完成安全风险隐患自查并制定“一企一策”整改方案", source=f"{ANNEX} 二(一)3"),
    AttributeSpec(name="许可回头看核查日期", type="date", unit_kinds=ENTERPRISES,
                  description="对照安全生产许可证发证条件再次核查的日期", source=f"{ANNEX} 二(一)3"),
    AttributeSpec(name="安全预防控制体系建成", type="bool", unit_kinds=ENTERPRISES,
                  description="以双重预防机制为重点的安全预防控制体系建成", source=f"{ANNEX} 二(一)3"),
    AttributeSpec(name=HIGH_RISK_PROCESS, type="bool", unit_kinds=(CHEMICAL, FINE, PRODUCER), source=f"{ANNEX} 二(二)6"),
    AttributeSpec(name="上下游配套装置自动化控制", type="bool", unit_kinds=(CHEMICAL, FINE, PRODUCER), source=f"{ANNEX} 二(二)6"),
    AttributeSpec(name="精细化工", type="bool", unit_kinds=(CHEMICAL, FINE), source=f"{ANNEX} 二(二)7"),
    AttributeSpec(name="反应安全风险评估完成", type="bool", unit_kinds=(CHEMICAL, FINE), source=f"{ANNEX} 二(二)7"),
    AttributeSpec(name="外部安全防护距离达标", type="bool", unit_kinds=(PRODUCER, STORAGE, CHEMICAL, FINE), source=f"{ANNEX} 二(二)5"),
    AttributeSpec(name="外部安全防护距离整改方式", type="choice", choices=("就地整改", "搬迁"),
                  unit_kinds=(PRODUCER, STORAGE, CHEMICAL, FINE), source=f"{ANNEX} 二(二)5"),
    AttributeSpec(name="包装厂房当班操作人数", type="int", unit_kinds=(PRODUCER, CHEMICAL, FINE),
                  description="可燃、有毒或爆炸性粉尘包装独栋厂房当班操作人员数", source=f"{ANNEX} 二(二)8"),
    AttributeSpec(name="专职安全管理人员数", type="int", unit_kinds=(PRODUCER, STORAGE, TRADER), source=f"{ANNEX} 二(三)11"),
    AttributeSpec(name="注册安全工程师人数", type="int", unit_kinds=(PRODUCER, STORAGE, TRADER), source=f"{ANNEX} 二(三)11"),
    AttributeSpec(name="信息管理系统建成", type="bool", unit_kinds=(CHEMICAL,), source=f"{ANNEX} 二(五)16"),
    AttributeSpec(name="远程提醒监控系统", type="bool", unit_kinds=(VEHICLE,), source=f"{ANNEX} 二(一)4"),
)

HAZARD_CATEGORIES = (
    "重大危险源管控",
    "自动化控制",
    "外部安全防护距离",
    "精细化工反应安全风险",
    "控制室和人员聚集场所",
    "特殊作业（动火、受限空间）",
    "危险货物运输",
    "危险化学品使用",
    "废弃危险化学品",
    "从业人员资质和培训",
    "安全生产标准化",
    "非法违法生产经营",
)


@hookimpl
def qingdan_campaign() -> Campaign:
    return Campaign(
        id=ID, name="危险化学品安全专项整治", kind="专项", lead_departments=(SAFETY,), departments=PARTNERS,
        start=ACTION_START, end=ACTION_END,
        phases=author.standard_phases(ID, ANNEX, author.CONTINUED_PHASES),
        tasks=(*author.responsible_only(author.task_table(ID, TASK_COLUMNS, TASKS, cite=ANNEX), *RESPONSIBLE_ONLY),
               *author.task_table(ID, RECURRING_COLUMNS, RECURRING, cite=ANNEX)),
        hazard_categories=HAZARD_CATEGORIES, unit_attributes=UNIT_ATTRIBUTES, source=f"{ANNEX}；总体方案 二(三)",
    )


enterprise = rules.of_kind(*ENTERPRISES)


@hookimpl
def qingdan_targets() -> list[Target]:
    return [
        author.share_target(
            ID, "automation_rate", "“两重点一重大”生产装置、储存设施自动化控制系统装备投用率", END_2020,
            f"{ANNEX} 一、整治目标；二(二)6", rules.all_of(enterprise, rules.has("两重点一重大")), "自动化控制系统投用"),
        author.share_target(
            ID, "self_inspection_rate", "危险化学品企业安全风险隐患自查完成率", date(2020, 7, 31), f"{ANNEX} 二(一)3",
            enterprise, "安全风险隐患自查完成"),
        author.share_target(
            ID, "license_review_rate", "风险等级“红、橙”企业安全生产许可“回头看”核查率", END_2020, f"{ANNEX} 二(一)3",
            rules.all_of(enterprise, rules.has("风险等级", "红", "橙")),
            lambda unit: rules.attribute(unit, "许可回头看核查日期") is not None),
        author.share_target(
            ID, "chemical_info_system_rate", "化工生产企业一体化信息管理系统建成率", END_2020, f"{ANNEX} 二(五)16",
            rules.of_kind(CHEMICAL), "信息管理系统建成"),
        author.share_target(
            ID, "reaction_assessment_rate", "涉及硝化、氯化、重氮化、过氧化工艺的精细化工装置反应安全风险评估完成率",
            END_2021, f"{ANNEX} 二(二)7", rules.all_of(rules.has("精细化工"), rules.has(HIGH_RISK_PROCESS)),
            "反应安全风险评估完成"),
        author.target(ID, "enforcement_team_size", "危险化学品安全监管执法队伍人数", date(2021, 6, 30),
                      f"{ANNEX} 二(五)15", goal=10, unit="人"),
        author.target(ID, "skill_upgrade_share", "重点岗位职工完成职业技能晋级培训比例", END_2021, f"{ANNEX} 二(三)10",
                      goal=10),
        author.share_target(
            ID, "prevention_system_rate", "涉及重大危险源企业安全预防控制体系建设率", END_2022,
            f"{ANNEX} 一、整治目标；二(一)3", rules.all_of(enterprise, rules.has("重大危险源")), "安全预防控制体系建成"),
        author.share_target(
            ID, "high_risk_process_automation_rate", "硝化、氯化、重氮化、过氧化工艺装置上下游配套装置自动化控制率",
            END_2022, f"{ANNEX} 二(二)6", rules.has(HIGH_RISK_PROCESS), "上下游配套装置自动化控制"),
        author.share_target(
            ID, "transport_monitoring_rate", "危险货物运输车辆远程提醒监控系统安装率", END_2022, f"{ANNEX} 二(一)4",
            rules.of_kind(VEHICLE), "远程提醒监控系统"),
        author.target(ID, "manager_assessment_rate", "化工企业主要负责人和安全管理人员等考核达标率", END_2022,
                      f"{ANNEX} 一、整治目标"),
        author.target(ID, "professional_officer_share", "具有化工安全生产相关专业学历和实践经验的监管执法人员占在职人员比例",
                      END_2022, f"{ANNEX} 一、整治目标", goal=75),
        author.target(ID, "certified_worker_share", "从业人员取得职业资格证书或职业技能等级证书的比例", END_2022,
                      f"{ANNEX} 二(三)10", goal=30),
    ]


@author.unit_rule(ID, "license_review_red_orange", "红、橙企业未在2020年底前完成安全生产许可“回头看”", "严重",
                  f"{ANNEX} 二(一)3", after=END_2020)
def license_review(unit, snapshot: Snapshot) -> tuple[str, str] | None:
    level = rules.attribute(unit, "风险等级")
    if not (enterprise(unit) and level in ("红", "橙")):
        return None
    reviewed = rules.as_date(rules.attribute(unit, "许可回头看核查日期"))
    if reviewed is None:
        return f"风险等级为“{level}”，2020年底前应完成安全生产许可“回头看”核查，至今未核查", "严重"
    if reviewed > END_2020:
        return f"风险等级为“{level}”，安全生产许可“回头看”于 {reviewed} 才完成，超过2020年底期限", "提示"
    return None


def required_registered_engineers(safety_staff: int) -> int:
    """注册安全工程师 a 危险化学品 enterprise must employ: 15 % of its safety staff, at least one under 7."""
    if safety_staff <= 0:
        return 0
    if safety_staff < 7:
        return 1
    return math.ceil(safety_staff * 0.15 - 1e-9)


@author.unit_rule(ID, "registered_engineers_short", "注册安全工程师配备不足（不少于安全管理人员15%，7人以下至少1名）",
                  "警告", f"{ANNEX} 二(三)11", kinds=(PRODUCER, STORAGE, TRADER))
def engineers_short(unit, snapshot: Snapshot) -> str | None:
    staff = rules.attribute(unit, "专职安全管理人员数")
    if staff is None:
        return None
    engineers = rules.attribute(unit, "注册安全工程师人数", 0)
    required = required_registered_engineers(int(staff))
    if engineers < required:
        return f"专职安全管理人员 {staff} 人，应配备注册安全工程师不少于 {required} 名，现有 {engineers} 名"
    return None


@author.unit_rule(ID, "external_distance_overdue", "外部安全防护距离不符合要求且逾期未整改或搬迁", "严重",
                  f"{ANNEX} 二(二)5")
def external_distance(unit, snapshot: Snapshot) -> str | None:
    if rules.attribute(unit, "外部安全防护距离达标") is not False or not rules.attribute(unit, "两重点一重大"):
        return None
    relocating = rules.attribute(unit, "外部安全防护距离整改方式") == "搬迁"
    due = END_2022 if relocating else END_2020
    if snapshot.as_of <= due:
        return None
    what = "搬迁" if relocating else "就地整改"
    return f"外部安全防护距离不符合要求，应于 {due} 前完成{what}，未完成整改的一律停止使用"


@hookimpl
def qingdan_checks() -> list[Check]:
    return [
        license_review,
        author.unit_check(
            ID, "automation_not_in_use", "“两重点一重大”装置自动化控制系统未投用（2020年底后）", "严重", f"{ANNEX} 二(二)6",
            rules.all_of(enterprise, rules.has("两重点一重大"),
                         lambda unit: rules.attribute(unit, "自动化控制系统投用") is not True),
            lambda unit: "涉及“两重点一重大”的装置设施自动化控制系统未实现或未投用，按要求应一律停产整改",
            after=END_2020),
        external_distance,
        author.unit_check(
            ID, "reaction_assessment_missing", "精细化工装置逾期未完成反应安全风险评估", "严重", f"{ANNEX} 二(二)7",
            rules.all_of(rules.has("精细化工"), rules.has(HIGH_RISK_PROCESS),
                         lambda unit: rules.attribute(unit, "反应安全风险评估完成") is not True),
            lambda unit: "涉及硝化、氯化、重氮化、过氧化工艺的精细化工装置2021年底前未完成反应安全风险评估，一律不得生产",
            after=END_2021),
        engineers_short,
        author.unit_check(
            ID, "packaging_crew_over_nine", "包装独栋厂房当班操作人员超过9人", "警告", f"{ANNEX} 二(二)8",
            lambda unit: rules.attribute(unit, "包装厂房当班操作人数", 0) > 9,
            lambda unit: f"包装独栋厂房当班操作人员 {rules.attribute(unit, '包装厂房当班操作人数')} 人，应控制在9人以下"),
    ]


@author.projection(ID, "risk_distribution", "危险化学品企业红橙黄蓝安全风险分布",
                   ("风险等级", "企业数", "两重点一重大", "重大危险源", "未销号隐患"))
def risk_distribution(snapshot: Snapshot) -> list[dict]:
    units = [unit for unit in snapshot.units() if enterprise(unit)]
    open_by_unit = Counter(
        hazard.unit_number
        for hazard in rules.live_hazards(snapshot, ID)
        if hazard.status != "closed" and hazard.unit_number
    )
    rows = []
    for level in (*RISK_LEVELS, "未评定"):
        group = [u for u in units if (rules.attribute(u, "风险等级") or "未评定") == level]
        rows.append({
            "风险等级": level,
            "企业数": len(group),
            "两重点一重大": sum(1 for u in group if rules.attribute(u, "两重点一重大") is True),
            "重大危险源": sum(1 for u in group if rules.attribute(u, "重大危险源") is True),
            "未销号隐患": sum(open_by_unit[u.number] for u in group),
        })
    return rows


@hookimpl
def qingdan_projections() -> list[Projection]:
    return [risk_distribution]
