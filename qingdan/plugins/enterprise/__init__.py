"""附件2 落实企业安全生产主体责任三年行动专题实施方案 (总体方案 二(二)).

The annex's twenty tasks are duties of enterprises and name no department; they carry the lead the
main plan gives the 专题 (安委办, with the member units that carry supervision duties). An
enterprise here is any unit whose kind ends in “企业” (工业企业, 危险化学品生产企业, 道路运输企业 …),
whichever campaign registered it. 四、保障措施 dates three deliverables too: 四(三)'s names no
department and carries the 专题's lead; 四(五)'s two name “各地应急管理部门”.
"""

from __future__ import annotations

from datetime import date, timedelta

from qingdan import AttributeSpec, Campaign, Check, Projection, Snapshot, Target, hookimpl
from qingdan.core import authoring as author
from qingdan.core import targets as rules
from qingdan.core.authoring import ACTION_END, ACTION_START, END_2020, END_2021, END_2022

ID = "enterprise"
ANNEX = "附件2"

LEAD = ("安委办",)
PARTNERS = ("负有安全生产监管职责的安委会有关成员单位",)

# The twenty duties of 二、主要任务, all led by the 专题's lead.
TASK_COLUMNS = "number clause title due"
TASKS = (
    ("1", "二(一)1", "落实企业法定代表人和实际控制人的第一责任，制定出台包括所有重点行业领域的安全生产承诺制度并推动企业落实", END_2020),
    ("2", "二(一)2", "坚持依法生产经营", None),
    ("3", "二(一)3", "加强安全管理机构和人员配备，各重点行业领域企业全部建立安全生产技术和管理团队", END_2021),
    ("4", "二(一)4", "加大安全生产投入，高危行业企业投保安全生产责任险", None),
    ("5", "二(一)5", "持续推进企业安全生产标准化建设，高危行业及规模以上企业均完成自评工作", END_2022),
    ("6", "二(二)6", "建立健全全员安全生产责任制", None),
    ("7", "二(二)7", "开展安全生产教育培训，省属以上重点行业领域企业建设职业院校（技工院校）", END_2022),
    ("8", "二(二)8", "严格责任制考核奖惩", None),
    ("9", "二(三)9", "健全完善企业安全风险防控机制，各类企业建立起完善的安全风险管控制度", END_2021),
    ("10", "二(三)10", "健全完善企业安全隐患排查治理机制，隐患排查治理全面走向制度化、规范化轨道", END_2022),
    ("10.1", "二(三)10", "企业建立起完善的隐患排查治理制度", END_2020),
    ("10.2", "二(三)10", "建立完善隐患排查治理“一张网”信息化管理系统", END_2021),
    ("11", "二(三)11", "加强各类危险源安全管理，完成重大危险源的排查建档工作并建立管理制度、落实管控措施", END_2020),
    ("12", "二(三)12", "加强危险作业安全管理，完成危险作业事项的排查和管理制度、措施的制定", END_2020),
    ("13", "二(四)13", "认真执行安全生产“三同时”制度", None),
    ("14", "二(四)14", "加强职工安全防护管理", None),
    ("15", "二(四)15", "加强外包等业务安全管理", None),
    ("16", "二(四)16", "加强复工复产安全管理", None),
    ("17", "二(四)17", "提升智能制造水平", None),
    ("18", "二(五)18", "强化应急救援能力建设", None),
    ("19", "二(五)19", "严格事故报告和应急处置", None),
    ("20", "二(五)20", "强化举一反三整改落实", None),
)
#: 二(二)8 “每年组织全员安全生产责任制落实情况考核” (企业的义务，专题牵头部门督促), and 三、时间安排
#: “要总结形成本专题年度工作报告和三年行动报告” (the sibling 专题 附件1 has the same deliverables).
RECURRING_COLUMNS = "number clause title recurrence due_in_period inferred"
RECURRING = (
    ("8.y", "二(二)8", "企业每年组织全员安全生产责任制落实情况考核", "yearly", "12-31",
     "方案只说“每年”，未定日期：按每年年底；考核由企业组织，专题牵头部门督促"),
    ("s3.y", "四(三)", "将企业安全生产责任制、安全管理制度和风险管控与隐患排查治理情况纳入年度监督检查计划", "yearly",
     "12-31", "“纳入年度监督检查计划”未定日期：按每年年底（计划应在年内执行）"),
    ("report.y", "三、时间安排；总体方案 三(二)", "总结形成本专题年度工作报告，报市安委会办公室", "yearly", "12-31",
     "总体方案 三(二)：年度安全生产专项整治工作情况报告“于年底前”报镇安委会办公室；专题未另定日期"),
)
DATED_COLUMNS = "number clause title due inferred"
DATED = (
    ("report", "三、时间安排；总体方案 三(二)", "总结形成本专题三年行动报告，报市安委会办公室", date(2022, 11, 10),
     "总体方案 三(二)：专项整治三年行动总结报告“于2022年11月10日前”报镇安委会办公室；专题未另定日期"),
)
# 四、保障措施 sets dated deliverables too.
SUPPORT_COLUMNS = "number title lead due clause"
SUPPORT_TASKS = (
    ("s3", "修订完成加强企业诚信体系建设制度", LEAD, END_2020, "四(三)"),
    ("s5.1", "应急管理部门全部建立安责险管理平台", ("应急管理部门",), END_2021, "四(五)"),
    ("s5.2", "所有承保保险机构安全预防服务实现在线监测，制定出台第三方评估公示制度", ("应急管理部门",), END_2022, "四(五)"),
)

ATTRIBUTES = (
    ("重点行业领域", "属于金属冶炼、建筑施工、道路运输、危险化学品、涉氨制冷等重点行业领域", "二(一)3"),
    ("高危行业", "", "二(一)4"),
    ("规模以上", "", "二(一)5"),
    ("安全承诺公开", "主要负责人已向社会和全体员工公开安全承诺", "二(一)1"),
    ("安全技术和管理团队", "", "二(一)3"),
    ("安责险投保", "", "二(一)4"),
    ("标准化自评完成", "", "二(一)5"),
    ("安全风险管控制度", "", "二(三)9"),
    ("隐患排查治理制度", "", "二(三)10"),
    ("一张网接入", "隐患排查治理“一张网”信息化管理系统", "二(三)10"),
    ("重大危险源", "", "二(三)11"),
    ("重大危险源建档", "重大危险源已排查建档并建立管理制度", "二(三)11"),
    ("危险作业管理制度", "危险作业事项已排查并制定管理制度、措施", "二(三)12"),
)


@hookimpl
def qingdan_campaign() -> Campaign:
    return Campaign(
        id=ID, name="落实企业安全生产主体责任专题", kind="专题", lead_departments=LEAD, departments=PARTNERS,
        start=ACTION_START, end=ACTION_END,
        phases=author.standard_phases(ID, ANNEX),
        tasks=(*author.task_table(ID, TASK_COLUMNS, TASKS, cite=ANNEX, lead=LEAD, responsible=PARTNERS),
               *author.task_table(ID, SUPPORT_COLUMNS, SUPPORT_TASKS, cite=ANNEX),
               *author.task_table(ID, DATED_COLUMNS, DATED, cite=ANNEX, lead=LEAD),
               *author.task_table(ID, RECURRING_COLUMNS, RECURRING, cite=ANNEX, lead=LEAD, responsible=PARTNERS)),
        hazard_categories=(
            "第一责任人责任",
            "安全管理机构和人员配备",
            "安全生产投入",
            "安全生产标准化",
            "全员安全生产责任制",
            "教育培训",
            "安全风险防控",
            "隐患排查治理",
            "危险源管理",
            "危险作业",
            "“三同时”",
            "职工安全防护",
            "外包业务",
            "复工复产",
            "应急救援和事故报告",
        ),
        unit_attributes=(
            *(
                AttributeSpec(name=name, type="bool", description=description, source=f"{ANNEX} {clause}")
                for name, description, clause in ATTRIBUTES
            ),
            AttributeSpec(name="最近向职代会报告日期", type="date",
                          description="最近一次向职工大会或职代会、股东会报告安全生产情况的日期",
                          source=f"{ANNEX} 二(一)1"),
        ),
        source=f"{ANNEX}；总体方案 二(二)",
    )


def is_enterprise(unit) -> bool:
    return unit.kind.endswith("企业")


@hookimpl
def qingdan_targets() -> list[Target]:
    key = rules.all_of(is_enterprise, rules.has("重点行业领域"))
    return [
        author.share_target(
            ID, "hazard_system_rate", "企业建立完善的隐患排查治理制度比例", END_2020, f"{ANNEX} 二(三)10",
            is_enterprise, "隐患排查治理制度"),
        author.share_target(
            ID, "major_hazard_filing_rate", "重大危险源排查建档并建立管理制度比例", END_2020, f"{ANNEX} 二(三)11",
            rules.all_of(is_enterprise, rules.has("重大危险源")), "重大危险源建档"),
        author.share_target(
            ID, "dangerous_work_rate", "企业完成危险作业事项排查和管理制度制定比例", END_2020, f"{ANNEX} 二(三)12",
            is_enterprise, "危险作业管理制度"),
        author.share_target(
            ID, "safety_team_rate", "重点行业领域企业建立安全生产技术和管理团队比例", END_2021,
            f"{ANNEX} 二(一)3；总体方案 二(二)", key, "安全技术和管理团队"),
        author.share_target(
            ID, "risk_control_rate", "企业建立完善的安全风险管控制度比例", END_2021, f"{ANNEX} 二(三)9；总体方案 二(二)",
            is_enterprise, "安全风险管控制度"),
        author.share_target(
            ID, "one_network_rate", "企业接入隐患排查治理“一张网”信息化管理系统比例", END_2021,
            f"{ANNEX} 二(三)10；总体方案 二(二)", is_enterprise, "一张网接入"),
        author.share_target(
            ID, "standardization_self_assessment_rate", "高危行业及规模以上企业安全生产标准化自评完成率", END_2022,
            f"{ANNEX} 二(一)5", rules.all_of(is_enterprise, rules.any_of(rules.has("高危行业"), rules.has("规模以上"))),
            "标准化自评完成"),
    ]


@author.unit_rule(ID, "annual_report_to_workers", "企业每年至少向职代会报告一次安全生产情况", "提示",
                  f"{ANNEX} 二(一)1")
def annual_report_to_workers(unit, snapshot: Snapshot) -> str | None:
    if not is_enterprise(unit):
        return None
    days = rules.days_since(snapshot, rules.attribute(unit, "最近向职代会报告日期"))
    if days is None and snapshot.as_of > ACTION_START + timedelta(days=365):
        return "三年行动开展一年以上，未记录向职工大会或职代会报告安全生产情况"
    if days is not None and days > 365:
        return f"已 {days} 天未向职工大会或职代会报告安全生产情况（每年至少一次）"
    return None


@hookimpl
def qingdan_checks() -> list[Check]:
    return [
        author.unit_check(
            ID, "no_liability_insurance", "高危行业企业未投保安全生产责任险", "警告", f"{ANNEX} 二(一)4",
            lambda unit: is_enterprise(unit) and rules.attribute(unit, "高危行业") is True
            and rules.attribute(unit, "安责险投保") is not True,
            lambda unit: "高危行业企业应按规定投保安全生产责任险，未投保"),
        author.unit_check(
            ID, "safety_team_missing", "重点行业领域企业逾期未建立安全生产技术和管理团队", "警告", f"{ANNEX} 二(一)3",
            lambda unit: is_enterprise(unit) and rules.attribute(unit, "重点行业领域") is True
            and rules.attribute(unit, "安全技术和管理团队") is not True,
            lambda unit: "重点行业领域企业2021年底前应建立安全生产技术和管理团队，至今未建立", after=END_2021),
        annual_report_to_workers,
        author.monthly_two_lists_check(ID, "本专题两个清单每月25日前报送"),
    ]


MATRIX = ("安全承诺公开", "安全技术和管理团队", "安全风险管控制度", "隐患排查治理制度", "一张网接入",
          "危险作业管理制度", "标准化自评完成")


@author.projection(ID, "responsibility_matrix", "企业主体责任落实情况（按企业类型）", ("企业类型", "企业数", *MATRIX))
def responsibility_matrix(snapshot: Snapshot) -> list[dict]:
    units = [u for u in snapshot.units() if is_enterprise(u)]
    rows = []
    for kind in sorted({u.kind for u in units}):
        group = [u for u in units if u.kind == kind]
        row = {"企业类型": kind, "企业数": len(group)}
        row.update({name: sum(1 for u in group if rules.attribute(u, name) is True) for name in MATRIX})
        rows.append(row)
    return rows


@hookimpl
def qingdan_projections() -> list[Projection]:
    return [responsibility_matrix]
