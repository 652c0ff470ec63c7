"""附件7 南阳镇城市建设安全专项整治工作方案 (总体方案 二(七)).

The main plan names no lead for this 专项: its parenthetical （建设局、经济发展局、…、消防中队等按职责分工
负责） makes the nine departments jointly responsible, and so they are all recorded as leads, in the
seed's order; the annex names no department for its tasks, which carry the same nine. The one exception
is 二(四)'s “配合经发局及安监所对街头巷尾的餐饮作坊进行专项检查整治”: there 经发局 and 安监所 lead
(task 4.1). The annex sets no quantitative target; the two targets here are the annex's 排查整治 tasks
measured at the campaign's end, and say so in their titles (the C/D grades are the national 房屋安全鉴定
grading, not the seed's).
"""

from __future__ import annotations

from datetime import date

from qingdan import AttributeSpec, Campaign, Check, Projection, Snapshot, Target, hookimpl
from qingdan.core import authoring as author
from qingdan.core import targets as rules
from qingdan.core.authoring import ACTION_END, ACTION_START, END_2022

ID = "construction"
ANNEX = "附件7"

# 总体方案 二(七): “…等按职责分工负责”, no 牵头.
LEAD = ("建设局", "经济发展局", "农业农村和社会事业局", "派出所", "安全生产监督管理局", "市场监管局", "自然资源所",
        "综合行政执法管理办公室", "消防中队")

TASK_COLUMNS = "number title lead departments due source"
TASKS = (
    ("0", "动员部署：各村、镇相关单位对标对表各级专项整治三年行动要求，落实整治措施及责任",
     ("各村", "镇相关单位"), (), date(2020, 7, 25), f"{ANNEX} 三(一)"),
    ("1", "将安全发展落实到城镇规划建设管理的各个方面和各个环节，做好与国家和地方城市安全平台体系的对接",
     LEAD, (), None, f"{ANNEX} 二(一)；总体方案 二(七)一"),
    ("2", "开展城市危险房屋和老楼危楼排查整治，排查改建改用为人员聚集场所的安全隐患，查处违法建设、违规改变建筑主体结构或使用功能",
     LEAD, (), None, f"{ANNEX} 二(二)；总体方案 二(七)二"),
    ("3", "加强对辖区内建筑工地安全生产的宣传教育，做好建设领域“百日行动”相关工作", LEAD, (), None, f"{ANNEX} 二(三)"),
    ("4", "健全燃气行业管理事故防范长效机制：燃气场站规范化管理，突出“四个问题”整治",
     LEAD, (), None, f"{ANNEX} 二(四)；总体方案 二(七)五"),
    ("4.1", "对街头巷尾的餐饮作坊进行专项检查整治", ("经发局", "安监所"), (), None, f"{ANNEX} 二(四)"),
    ("5.1", "指导加强农村危房改造质量安全监管", LEAD, (), None, f"{ANNEX} 二(五)1"),
    ("5.2", "指导加强农村个体建筑工匠技能培训，压实各村监管农村建房的主体责任", LEAD, (), None,
     f"{ANNEX} 二(五)2"),
    ("m3", "明确建筑物所有权人、房屋建筑和市政工程参建各方的主体责任以及相关部门的监管责任",
     LEAD, (), None, "总体方案 二(七)三"),
    ("m4", "开展摸底调查，加强城市地下空间利用和市政基础设施安全管理，推动地下基础设施信息及监测预警管理平台建设",
     LEAD, (), None, "总体方案 二(七)四"),
    ("m5", "建立渣土受纳场常态监测机制，推动市政排水管网地理信息系统建设", LEAD, (), None, "总体方案 二(七)五"),
    ("m6", "开展起重机械、高支模、深基坑工程专项治理，依法打击建筑市场违规行为，推进建筑施工安全生产许可证制度改革",
     LEAD, (), None, "总体方案 二(七)六"),
)

HOUSE, RURAL_HOUSE, SITE, GAS_STATION = "房屋", "农房", "建筑工地", "燃气场站"
GRADES = ("A", "B", "C", "D")

HAZARD_CATEGORIES = (
    "城市危险房屋和老楼危楼",
    "改建改用人员聚集场所",
    "违法建设",
    "违规改变建筑主体结构或使用功能",
    "建筑工地",
    "起重机械",
    "高支模",
    "深基坑",
    "燃气场站",
    "燃气无证经营和非法充装倒装",
    "餐饮作坊燃气",
    "农村危房",
    "城市地下空间和市政基础设施",
    "渣土受纳场",
    "排水管网",
)

UNIT_ATTRIBUTES = (
    AttributeSpec(name="房屋安全鉴定等级", type="choice", choices=GRADES, unit_kinds=(HOUSE, RURAL_HOUSE),
                  description="房屋安全鉴定等级（A/B/C/D，C、D级为危险房屋）", source=f"{ANNEX} 二(二)"),
    AttributeSpec(name="人员聚集场所", type="bool", unit_kinds=(HOUSE,),
                  description="利用原有建筑物改建改用为公共设施等人员聚集场所", source=f"{ANNEX} 二(二)"),
    AttributeSpec(name="违规改变主体结构或使用功能", type="bool", unit_kinds=(HOUSE,), source=f"{ANNEX} 二(二)"),
    AttributeSpec(name="整治完成", type="bool", unit_kinds=(HOUSE,), source=f"{ANNEX} 二(二)"),
    AttributeSpec(name="危房", type="bool", unit_kinds=(RURAL_HOUSE,), source=f"{ANNEX} 二(五)"),
    AttributeSpec(name="改造完成", type="bool", unit_kinds=(RURAL_HOUSE,), source=f"{ANNEX} 二(五)"),
    AttributeSpec(name="燃气经营许可证", type="bool", unit_kinds=(GAS_STATION,), source=f"{ANNEX} 二(四)"),
    AttributeSpec(name="危大工程", type="choice", choices=("起重机械", "高支模", "深基坑"), unit_kinds=(SITE,),
                  source="总体方案 二(七)六"),
    AttributeSpec(name="专项方案论证", type="bool", unit_kinds=(SITE,),
                  description="危大工程专项施工方案已论证", source="总体方案 二(七)六"),
)


@hookimpl
def qingdan_campaign() -> Campaign:
    return Campaign(
        id=ID, name="城市建设安全专项整治", kind="专项", lead_departments=LEAD, departments=(),
        start=ACTION_START, end=ACTION_END,
        phases=author.standard_phases(ID, ANNEX, mobilised_by=date(2020, 7, 25), second_from=ACTION_START),
        tasks=author.task_table(ID, TASK_COLUMNS, TASKS),
        hazard_categories=HAZARD_CATEGORIES, unit_attributes=UNIT_ATTRIBUTES, source=f"{ANNEX}；总体方案 二(七)",
    )


def _dangerous(unit) -> bool:
    return unit.kind == HOUSE and rules.attribute(unit, "房屋安全鉴定等级") in ("C", "D")


#: Why the dates of some targets are inferred (the clause states none).
TARGETS_INFERRED = {
    "dangerous_house_rate": "方案未定期限：按三年行动期末（2022年底）",
    "rural_dangerous_house_rate": "方案未定期限：按三年行动期末（2022年底）",
}


@hookimpl
def qingdan_targets() -> list[Target]:
    return author.inferred([
        author.share_target(
            ID, "dangerous_house_rate", "城市危险房屋（C、D级）和老楼危楼排查整治完成率（三年行动期末）", END_2022,
            f"{ANNEX} 二(二)", _dangerous, "整治完成"),
        author.share_target(
            ID, "rural_dangerous_house_rate", "农村危房改造完成率（三年行动期末）", END_2022, f"{ANNEX} 二(五)1",
            rules.all_of(rules.of_kind(RURAL_HOUSE), rules.has("危房")), "改造完成"),
    ], **TARGETS_INFERRED)


@author.unit_rule(ID, "dangerous_house_unremedied", "危险房屋（C、D级）未整治", "严重", f"{ANNEX} 二(二)",
                  kinds=(HOUSE,))
def dangerous_house(unit, snapshot: Snapshot) -> tuple[str, str] | None:
    if not _dangerous(unit) or rules.attribute(unit, "整治完成") is True:
        return None
    grade = rules.attribute(unit, "房屋安全鉴定等级")
    crowded = rules.attribute(unit, "人员聚集场所") is True
    return (f"房屋安全鉴定为{grade}级尚未整治" + ("，且作为人员聚集场所使用" if crowded else ""),
            "严重" if crowded or grade == "D" else "警告")


@hookimpl
def qingdan_checks() -> list[Check]:
    return [
        author.unit_check(
            ID, "unlicensed_gas_station", "燃气场站无证经营", "严重", f"{ANNEX} 二(四)",
            lambda unit: unit.kind == GAS_STATION and rules.attribute(unit, "燃气经营许可证") is False,
            lambda unit: "无燃气经营许可证，属“四个问题”中的无证经营，应严厉打击"),
        dangerous_house,
        author.unit_check(
            ID, "illegal_change_of_use", "违规改变建筑主体结构或使用功能", "警告", f"{ANNEX} 二(二)",
            lambda unit: unit.kind == HOUSE and rules.attribute(unit, "违规改变主体结构或使用功能") is True
            and rules.attribute(unit, "整治完成") is not True,
            lambda unit: "违规改变建筑主体结构或使用功能，应依法查处"),
        author.unit_check(
            ID, "major_works_without_review", "起重机械、高支模、深基坑工程专项方案未论证", "警告", "总体方案 二(七)六",
            lambda unit: unit.kind == SITE and rules.attribute(unit, "危大工程") is not None
            and rules.attribute(unit, "专项方案论证") is not True,
            lambda unit: f"涉及{rules.attribute(unit, '危大工程')}工程，专项施工方案未论证"),
        author.unit_check(
            ID, "rural_dangerous_house", "农村危房未改造", "警告", f"{ANNEX} 二(五)1",
            lambda unit: unit.kind == RURAL_HOUSE and rules.attribute(unit, "危房") is True
            and rules.attribute(unit, "改造完成") is not True,
            lambda unit: "农村危房尚未改造"),
        author.monthly_two_lists_check(ID, "本专项两个清单每月25日前报送"),
    ]


@author.projection(ID, "house_safety_grades", "房屋安全鉴定等级分布及整治情况",
                   ("鉴定等级", "房屋数", "人员聚集场所", "已整治", "未整治"))
def house_safety_grades(snapshot: Snapshot) -> list[dict]:
    houses = snapshot.units(kind=HOUSE)
    rows = []
    for grade in (*GRADES, "未鉴定"):
        group = [u for u in houses if (rules.attribute(u, "房屋安全鉴定等级") or "未鉴定") == grade]
        rows.append({
            "鉴定等级": grade,
            "房屋数": len(group),
            "人员聚集场所": sum(1 for u in group if rules.attribute(u, "人员聚集场所") is True),
            "已整治": sum(1 for u in group if rules.attribute(u, "整治完成") is True),
            "未整治": sum(1 for u in group if rules.attribute(u, "整治完成") is not True),
        })
    return rows


@hookimpl
def qingdan_projections() -> list[Projection]:
    return [house_safety_grades]
