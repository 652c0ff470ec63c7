"""附件1 学习宣传贯彻习近平总书记关于安全生产重要论述专题实施方案 (总体方案 二(一)).

Task 9's lead is written “安委生产监督管理局” in the seed; it is kept as written. Task 12 names only
“安委会相关成员单位按职责分工负责” (no 牵头), so those units are its lead. The annex dates neither target:
the two “全覆盖”/“安排一次” goals are due at the end of 四(二) 组织实施 (2020年7月至12月), and their titles say so.
The annex names no hazard categories; problems are filed under the seven task groups of 三、重点任务.
The closing report task names no department; it carries the main plan's lead (总体方案 二(一)).
"""

from __future__ import annotations

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

ID = "study"
ANNEX = "附件1"
START, END = date(2020, 7, 1), date(2022, 12, 31)
END_2020 = date(2020, 12, 31)

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

# (number, section, title, lead, co-operating)
TASKS: tuple[tuple[int, str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    (1, "一", "强化理论武装：组织观看《生命重于泰山》专题片，召开理论学习中心组安全生产专题学习交流会", (PARTY, SAFETY), ()),
    (2, "一", "抓好教育培训：纳入干部在线学习和日常教育培训，每年组织开展安全监管干部轮训", (PARTY, SAFETY), TOWN_MEMBERS),
    (3, "二", "领导干部带头宣讲：镇党政领导班子成员安排一次安全生产专题宣讲", (PARTY, SAFETY), ()),
    (4, "二", "深入企业一线宣讲：开展“百团进百万企业”宣讲活动，实现宣传教育两个“全覆盖”", (SAFETY,), TOWN_MEMBERS),
    (5, "三", "组织开展主题宣传：“从根本上消除事故隐患”大讨论和“书记和镇长说安全”活动", (PARTY, SAFETY), ()),
    (6, "三", "发挥媒体平台作用：开设“安全生产专项整治在行动”专栏，办好“曝光台”栏目", ("镇宣传办", "镇安全生产监督管理局"), ()),
    (7, "三", "开展群众性宣教活动：安全宣传进企业、进农村、进社区、进学校、进家庭", (SAFETY,), ("农业农村和社会事业局", PARTY)),
    (8, "四", "落实党委政府领导责任：领导班子成员年度安全生产重点工作清单和述职报告", (PARTY, SAFETY), ()),
    (9, "四", "落实部门监管责任：严格执行安全生产工作职责清单，优化安委办实体化运行机制", ("安委生产监督管理局",), MEMBERS),
    (10, "四", "落实企业主体责任：20项重点事项清单和80项主体责任清单，“一图、两单、三卡、八必须”，“四个清、五个化”", (SAFETY,), MEMBERS),
    (11, "四", "严格安全责任追究：安全生产巡查、约谈，“一案双查”", (SAFETY,), MEMBERS),
    (12, "五", "加强源头治理：重大安全风险“一票否决”，严格落实“三同时”制度", ("安委会相关成员单位",), ()),
    (13, "五", "强化重点整治：危险化学品、建筑施工、道路交通、消防等重点行业领域专项整治，推进安全发展示范镇创建", (SAFETY,), MEMBERS),
    (14, "五", "创新监管方式：运行安全生产问题处置监管平台，推广应用移动执法终端系统", (SAFETY,), MEMBERS),
    (15, "六", "加强安全监管力量建设：确保在职在编人数，充实监管执法人员", (PARTY, SAFETY), ()),
    (16, "六", "加强安全监管人才培养：鼓励参加注册安全工程师职业资格考试", ("农业农村和社会事业局", SAFETY), ()),
    (17, "六", "开展表彰奖励", (PARTY, SAFETY), ()),
    (18, "七", "完善执法监督机制：人大常委会听取专项工作报告、检查法律法规实施情况和专题询问", ("党政办公室", PARTY), ()),
    (19, "七", "强化社会共治：建立安全生产人民监督员制度，健全有奖举报制度", (SAFETY,), ()),
)

ABOVE, BELOW = "规模以上工业企业", "规模以下工业企业"


@hookimpl
def qingdan_campaign() -> Campaign:
    return Campaign(
        id=ID,
        name="学习宣传贯彻习近平总书记关于安全生产重要论述专题",
        kind="专题",
        lead_departments=(SAFETY,),
        departments=(PARTY, "安委会有关成员单位"),
        start=START,
        end=END,
        phases=(
            Phase(id=f"{ID}.p1", name="动员部署", start=START, end=date(2020, 7, 31), source=f"{ANNEX} 四(一)"),
            Phase(id=f"{ID}.p2", name="组织实施", start=START, end=END_2020, source=f"{ANNEX} 四(二)"),
            Phase(id=f"{ID}.p3", name="重点推动", start=date(2021, 1, 1), end=date(2021, 12, 31), source=f"{ANNEX} 四(三)"),
            Phase(id=f"{ID}.p4", name="完善提升", start=date(2022, 1, 1), end=END, source=f"{ANNEX} 四(四)"),
        ),
        tasks=(
            *(
                TaskSpec(id=f"{ID}.{number}", campaign=ID, title=title, lead_departments=lead,
                         departments=departments, source=f"{ANNEX} 三({section}){number}")
                for number, section, title, lead, departments in TASKS
            ),
            TaskSpec(id=f"{ID}.report", campaign=ID, title="总结形成本专题年度工作报告和三年行动报告，报市安委会办公室",
                     lead_departments=(SAFETY,), source=f"{ANNEX} 四；总体方案 二(一)"),
        ),
        hazard_categories=tuple(SECTIONS.values()),
        unit_attributes=(
            AttributeSpec(name="宣传教育全覆盖", type="bool", unit_kinds=(ABOVE, BELOW),
                          description="规模以上：主要负责人、安全管理人员、关键岗位人员；规模以下：主要负责人、实际控制人均已接受宣传教育",
                          source=f"{ANNEX} 三(二)4"),
        ),
        source=f"{ANNEX}；总体方案 二(一)",
    )


enterprises = rules.of_kind(ABOVE, BELOW)


@hookimpl
def qingdan_targets() -> list[Target]:
    return [
        Target(id=f"{ID}.enterprise_coverage_rate", campaign=ID,
               title="工业企业宣传教育两个“全覆盖”完成率（期限按组织实施阶段末推定）", goal=100, unit="%", due=END_2020,
               source=f"{ANNEX} 三(二)4；四(二)",
               measure=rules.share_measure(enterprises, rules.has("宣传教育全覆盖"))),
        Target(id=f"{ID}.leader_lecture_rate", campaign=ID,
               title="镇党政领导班子成员安全生产专题宣讲完成率（各安排一次；期限按组织实施阶段末推定）",
               goal=100, unit="%", due=END_2020, source=f"{ANNEX} 三(二)3；四(二)"),
    ]


def _uncovered(snapshot: Snapshot) -> Iterable[Finding]:
    if snapshot.as_of <= END_2020:
        return []
    return rules.unit_findings(
        f"{ID}.enterprise_not_covered", ID, "警告",
        lambda unit: enterprises(unit) and rules.attribute(unit, "宣传教育全覆盖") is not True,
        lambda unit: f"{unit.kind}相关人员尚未全部接受习近平总书记重要论述和安全生产法律法规宣传教育",
    )(snapshot)


def _not_started(snapshot: Snapshot) -> Iterable[Finding]:
    if snapshot.as_of <= END_2020:
        return []
    return [
        Finding(check=f"{ID}.task_not_started", campaign=ID, subject=t.id,
                message=f"重点任务 {t.id}“{t.title}”组织实施阶段已结束仍未开展（牵头：{'、'.join(t.lead_departments)}）",
                severity="提示")
        for t in snapshot.tasks(ID)
        if t.status == "not_started"
    ]


@hookimpl
def qingdan_checks() -> list[Check]:
    return [
        Check(id=f"{ID}.enterprise_not_covered", campaign=ID, title="工业企业宣传教育未“全覆盖”（2020年底后）",
              severity="警告", source=f"{ANNEX} 三(二)4", run=_uncovered),
        Check(id=f"{ID}.task_not_started", campaign=ID, title="组织实施阶段结束后重点任务仍未开展",
              severity="提示", source=f"{ANNEX} 四(二)", run=_not_started),
        Check(id=f"{ID}.monthly_two_lists", campaign=ID, title="本专题两个清单每月25日前报送",
              severity="严重", source="总体方案 三(一)2",
              run=rules.monthly_report_run(f"{ID}.monthly_two_lists", ID, first=date(2020, 8, 1), last=END,
                                           covers=lambda report: getattr(report, "campaign", None) == ID)),
    ]


def _progress(snapshot: Snapshot) -> list[dict]:
    tasks = snapshot.tasks(ID)
    section_of = {f"{ID}.{number}": section for number, section, *_ in TASKS}
    rows = []
    for section, name in SECTIONS.items():
        group = [t for t in tasks if section_of.get(t.id) == section]
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
    return [
        Projection(id=f"{ID}.task_progress", campaign=ID, title="学习宣传贯彻专题重点任务推进情况",
                   columns=("任务组", "任务数", "已完成", "推进中", "未开始"), build=_progress)
    ]
