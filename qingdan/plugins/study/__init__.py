"""附件1 学习宣传贯彻习近平总书记关于安全生产重要论述专题实施方案 (总体方案 二(一)).

Task 9's lead is written “安委生产监督管理局” in the seed; it is kept as written. Task 12 names only
“安委会相关成员单位按职责分工负责” (no 牵头), so those units are its lead. The annex dates neither target:
the two “全覆盖”/“安排一次” goals are due at the end of 四(二) 组织实施 (2020年7月至12月), and their titles say so.
The annex names no hazard categories; problems are filed under the seven task groups of 三、重点任务.
The closing report task names no department; it carries the main plan's lead (总体方案 二(一)).
"""

from __future__ import annotations

from datetime import date

from qingdan import AttributeSpec, Campaign, Check, Projection, Snapshot, Target, hookimpl
from qingdan.core import authoring as author
from qingdan.core import targets as rules
from qingdan.core.authoring import ACTION_END, ACTION_START, END_2020

ID = "study"
ANNEX = "附件1"

SAFETY, PARTY = "安全生产监督管理局", "党群工作局"
MEMBERS, TOWN_MEMBERS = ("安委会成员单位",), ("镇安委会成员单位",)

SECTIONS = {
    "一": "全面开展学习教育",
    "二": "全覆盖推进专题宣讲",
    "三": "全方位组织宣传贯彻",
    "四": "落实安全生产责任制",
    "五": "防范化解重大安全风险",
    "六": "加强安全监管干部队伍建设",
    "七": "健全完善体制机制",
}

TASK_COLUMNS = "number clause title lead responsible"  # 括注“…牵头，…按职责分工负责”
TASKS = (
    ("1", "三(一)1", "强化理论武装：组织观看《生命重于泰山》专题片，召开理论学习中心组安全生产专题学习交流会", (PARTY, SAFETY), ()),
    ("2", "三(一)2", "抓好教育培训：纳入干部在线学习和日常教育培训，每年组织开展安全监管干部轮训", (PARTY, SAFETY), TOWN_MEMBERS),
    ("3", "三(二)3", "领导干部带头宣讲：镇党政领导班子成员安排一次安全生产专题宣讲", (PARTY, SAFETY), ()),
    ("4", "三(二)4", "深入企业一线宣讲：开展“百团进百万企业”宣讲活动，实现宣传教育两个“全覆盖”", (SAFETY,), TOWN_MEMBERS),
    ("5", "三(三)5", "组织开展主题宣传：“从根本上消除事故隐患”大讨论和“书记和镇长说安全”活动", (PARTY, SAFETY), ()),
    ("6", "三(三)6", "发挥媒体平台作用：开设“安全生产专项整治在行动”专栏，办好“曝光台”栏目", ("镇宣传办", "镇安全生产监督管理局"), ()),
    ("7", "三(三)7", "开展群众性宣教活动：安全宣传进企业、进农村、进社区、进学校、进家庭", (SAFETY,), ("农业农村和社会事业局", PARTY)),
    ("8", "三(四)8", "落实党委政府领导责任：领导班子成员年度安全生产重点工作清单和述职报告", (PARTY, SAFETY), ()),
    ("9", "三(四)9", "落实部门监管责任：严格执行安全生产工作职责清单，优化安委办实体化运行机制", ("安委生产监督管理局",), MEMBERS),
    ("10", "三(四)10", "落实企业主体责任：20项重点事项清单和80项主体责任清单，“一图、两单、三卡、八必须”，“四个清、五个化”", (SAFETY,), MEMBERS),
    ("11", "三(四)11", "严格安全责任追究：安全生产巡查、约谈，“一案双查”", (SAFETY,), MEMBERS),
    ("12", "三(五)12", "加强源头治理：重大安全风险“一票否决”，严格落实“三同时”制度", ("安委会相关成员单位",), ()),
    ("13", "三(五)13", "强化重点整治：危险化学品、建筑施工、道路交通、消防等重点行业领域专项整治，推进安全发展示范镇创建", (SAFETY,), MEMBERS),
    ("14", "三(五)14", "创新监管方式：运行安全生产问题处置监管平台，推广应用移动执法终端系统", (SAFETY,), MEMBERS),
    ("15", "三(六)15", "加强安全监管力量建设：确保在职在编人数，充实监管执法人员", (PARTY, SAFETY), ()),
    ("16", "三(六)16", "加强安全监管人才培养：鼓励参加注册安全工程师职业资格考试", ("农业农村和社会事业局", SAFETY), ()),
    ("17", "三(六)17", "开展表彰奖励", (PARTY, SAFETY), ()),
    ("18", "三(七)18", "完善执法监督机制：人大常委会听取专项工作报告、检查法律法规实施情况和专题询问", ("党政办公室", PARTY), ()),
    ("19", "三(七)19", "强化社会共治：建立安全生产人民监督员制度，健全有奖举报制度", (SAFETY,), ()),
)
#: 四 “总结形成本专题…三年行动报告”, dated by the main plan.
DATED_COLUMNS = "number clause title lead due inferred"
DATED = (
    ("report", "四；总体方案 三(二)", "总结形成本专题三年行动报告，报市安委会办公室", (SAFETY,), date(2022, 11, 10),
     "总体方案 三(二)：专项整治三年行动总结报告“于2022年11月10日前”报镇安委会办公室；专题未另定日期"),
)

#: 三(一)2 “每年组织开展安全监管干部轮训”（党群工作局、安全生产监督管理局牵头，镇安委会成员单位按职责分工负责）
#: and 四 “要总结形成本专题年度工作报告”: duties of every year of the action.
RECURRING_COLUMNS = "number clause title lead responsible recurrence due_in_period inferred"
RECURRING = (
    ("2.y", "三(一)2", "每年组织开展安全监管干部轮训", (PARTY, SAFETY), TOWN_MEMBERS, "yearly", "12-31",
     "方案只说“每年”，未定日期：按每年年底"),
    ("8.y", "三(四)8", "镇党委政府领导班子成员年度安全生产重点工作清单和年度安全生产述职报告", (PARTY, SAFETY), (),
     "yearly", "12-31", "方案只说“年度”，未定日期：按每年年底"),
    ("report.y", "四；总体方案 三(二)", "总结形成本专题年度工作报告，报市安委会办公室", (SAFETY,), (), "yearly", "12-31",
     "总体方案 三(二)：年度安全生产专项整治工作情况报告“于年底前”报镇安委会办公室；专题未另定日期"),
)

ABOVE, BELOW = "规模以上工业企业", "规模以下工业企业"


@hookimpl
def qingdan_campaign() -> Campaign:
    return Campaign(
        id=ID, name="学习宣传贯彻习近平总书记关于安全生产重要论述专题", kind="专题", lead_departments=(SAFETY,),
        departments=(PARTY, "安委会有关成员单位"), start=ACTION_START, end=ACTION_END,
        phases=author.standard_phases(ID, ANNEX, ("动员部署", "组织实施", "重点推动", "完善提升"), clauses="四",
                                      second_from=ACTION_START),
        tasks=(*author.responsible_only(author.task_table(ID, TASK_COLUMNS, TASKS, cite=ANNEX), "12"),
               *author.task_table(ID, DATED_COLUMNS, DATED, cite=ANNEX),
               *author.task_table(ID, RECURRING_COLUMNS, RECURRING, cite=ANNEX)),
        hazard_categories=tuple(SECTIONS.values()),
        unit_attributes=(
            AttributeSpec(name="宣传教育全覆盖", type="bool", unit_kinds=(ABOVE, BELOW),
                          description="规模以上：主要负责人、安全管理人员、关键岗位人员；规模以下：主要负责人、实际控制人均已接受宣传教育",
                          source=f"{ANNEX} 三(二)4"),
        ),
        source=f"{ANNEX}；总体方案 二(一)",
    )


enterprises = rules.of_kind(ABOVE, BELOW)


#: Why the dates of some targets are inferred (the clause states none).
TARGETS_INFERRED = {
    "enterprise_coverage_rate": "方案未定期限：按四(二) 组织实施阶段末（2020年底）",
    "leader_lecture_rate": "方案未定期限：按四(二) 组织实施阶段末（2020年底）",
}


@hookimpl
def qingdan_targets() -> list[Target]:
    return author.inferred([
        author.share_target(
            ID, "enterprise_coverage_rate", "工业企业宣传教育两个“全覆盖”完成率（期限按组织实施阶段末推定）", END_2020,
            f"{ANNEX} 三(二)4；四(二)", enterprises, "宣传教育全覆盖"),
        author.target(
            ID, "leader_lecture_rate", "镇党政领导班子成员安全生产专题宣讲完成率（各安排一次；期限按组织实施阶段末推定）",
            END_2020, f"{ANNEX} 三(二)3；四(二)"),
    ], **TARGETS_INFERRED)


@author.task_rule(ID, "task_not_started", "组织实施阶段结束后重点任务仍未开展", "提示", f"{ANNEX} 四(二)",
                  after=END_2020)
def task_not_started(task, snapshot: Snapshot) -> str | None:
    if task.status == "not_started":
        return f"组织实施阶段已结束仍未开展（牵头：{'、'.join(task.lead_departments)}）"
    return None


@hookimpl
def qingdan_checks() -> list[Check]:
    return [
        author.unit_check(
            ID, "enterprise_not_covered", "工业企业宣传教育未“全覆盖”（2020年底后）", "警告", f"{ANNEX} 三(二)4",
            lambda unit: enterprises(unit) and rules.attribute(unit, "宣传教育全覆盖") is not True,
            lambda unit: f"{unit.kind}相关人员尚未全部接受习近平总书记重要论述和安全生产法律法规宣传教育",
            after=END_2020),
        task_not_started,
        author.monthly_two_lists_check(ID, "本专题两个清单每月25日前报送"),
    ]


@author.projection(ID, "task_progress", "学习宣传贯彻专题重点任务推进情况", ("任务组", "任务数", "已完成", "推进中", "未开始"))
def task_progress(snapshot: Snapshot) -> list[dict]:
    tasks = snapshot.tasks(ID)
    clause_of = {f"{ID}.{number}": clause for number, clause, *_ in TASKS}
    rows = []
    for section, name in SECTIONS.items():
        group = [t for t in tasks if clause_of.get(t.id, "").startswith(f"三({section})")]
        rows.append({
            "任务组": f"({section}){name}",
            "任务数": len(group),
            "已完成": sum(1 for t in group if t.status == "done"),
            "推进中": sum(1 for t in group if t.status == "in_progress"),
            "未开始": sum(1 for t in group if t.status == "not_started"),
        })
    return rows


@hookimpl
def qingdan_projections() -> list[Projection]:
    return [task_progress]
