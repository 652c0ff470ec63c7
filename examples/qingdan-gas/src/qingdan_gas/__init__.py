"""城镇燃气安全专项整治 (2023): an example external qingdan campaign plugin.

The clauses cited (``燃气方案 二(一)`` …) are of a hypothetical township work plan for 2023; the
campaign is not in the 2020 seed. Everything here uses only the public plugin API.
"""

from __future__ import annotations

from datetime import date

from qingdan import (
    AttributeSpec,
    Campaign,
    Check,
    Projection,
    Snapshot,
    Target,
    hookimpl,
    phases,
    projection,
    share_target,
    target,
    task_table,
    unit_check,
    unit_rule,
)
from qingdan.core import targets as rules

ID = "gas"
PLAN = "燃气方案"
START, END = date(2023, 5, 1), date(2023, 12, 31)

RESTAURANT, STATION, USER, PIPE = "餐饮场所", "液化石油气充装站", "燃气用户", "燃气管网"
SOURCES = ("管道天然气", "瓶装液化石油气", "其他")

# 二、主要任务, as the plan lists them.
TASKS = (
    ("1", "全面排查餐饮场所燃气使用安全", ("市场监管局",), ("建设局",), date(2023, 6, 30), "二(一)"),
    ("2", "整治液化石油气充装站非法充装、倒装", ("建设局",), (), date(2023, 10, 31), "二(二)"),
    ("3", "推进老旧燃气管网更新改造", ("建设局",), (), END, "二(三)"),
)


@hookimpl
def qingdan_campaign() -> Campaign:
    return Campaign(
        id=ID,
        name="城镇燃气安全专项整治（2023）",
        kind="专项",
        lead_departments=("建设局",),
        departments=("市场监管局", "安全生产监督管理局", "综合行政执法管理办公室", "派出所"),
        start=START,
        end=END,
        # 三、时间安排: 三(一) 排查摸底, 三(二) 集中整治, 三(三) 巩固提升.
        phases=phases(ID, PLAN, ("排查摸底", START, date(2023, 6, 30)),
                      ("集中整治", date(2023, 7, 1), date(2023, 10, 31)), ("巩固提升", date(2023, 11, 1), END)),
        tasks=task_table(ID, "number title lead departments due clause", TASKS, cite=PLAN),
        hazard_categories=("餐饮场所燃气", "瓶装液化石油气", "燃气管网", "充装站", "居民用气"),
        unit_attributes=(
            AttributeSpec(name="气源", type="choice", choices=SOURCES, unit_kinds=(RESTAURANT, USER),
                          source=f"{PLAN} 二(一)"),
            AttributeSpec(name="燃气泄漏报警装置", type="bool", unit_kinds=(RESTAURANT,), source=f"{PLAN} 二(一)"),
            AttributeSpec(name="入户安检日期", type="date", unit_kinds=(USER,), source=f"{PLAN} 二(四)"),
            AttributeSpec(name="燃气经营许可证", type="bool", unit_kinds=(STATION,), source=f"{PLAN} 二(二)"),
            AttributeSpec(name="老旧管网", type="bool", unit_kinds=(PIPE,), source=f"{PLAN} 二(三)"),
            AttributeSpec(name="改造完成", type="bool", unit_kinds=(PIPE,), source=f"{PLAN} 二(三)"),
        ),
        source=f"{PLAN}（2023年，示例）",
    )


@hookimpl
def qingdan_targets() -> list[Target]:
    return [
        share_target(ID, "alarm_rate", "餐饮场所燃气泄漏报警装置安装率", date(2023, 9, 30), f"{PLAN} 一、目标",
                     rules.of_kind(RESTAURANT), "燃气泄漏报警装置"),
        share_target(ID, "pipe_renewal_rate", "老旧燃气管网改造完成率", END, f"{PLAN} 一、目标",
                     rules.all_of(rules.of_kind(PIPE), rules.has("老旧管网")), "改造完成"),
        # No measure: the number is reported with record_indicator.
        target(ID, "inspection_staff", "燃气安全检查人员", date(2023, 6, 30), f"{PLAN} 四(二)", goal=6, unit="人"),
    ]


@unit_rule(ID, "bottled_gas_without_alarm", "使用瓶装液化石油气的餐饮场所未装报警装置", "严重", f"{PLAN} 二(一)",
           kinds=(RESTAURANT,))
def bottled_gas_without_alarm(unit, snapshot: Snapshot) -> str | None:
    if rules.attribute(unit, "气源") == "瓶装液化石油气" and rules.attribute(unit, "燃气泄漏报警装置") is not True:
        return "使用瓶装液化石油气，未安装燃气泄漏报警装置"
    return None


@hookimpl
def qingdan_checks() -> list[Check]:
    return [
        bottled_gas_without_alarm,
        unit_check(ID, "unlicensed_station", "液化石油气充装站无证经营", "严重", f"{PLAN} 二(二)",
                   lambda u: u.kind == STATION and rules.attribute(u, "燃气经营许可证") is False,
                   lambda u: "无燃气经营许可证，应依法取缔"),
    ]


@projection(ID, "users_by_source", "燃气用户按气源分布", ("气源", "餐饮场所", "燃气用户"))
def users_by_source(snapshot: Snapshot) -> list[dict]:
    units = [u for u in snapshot.units() if u.kind in (RESTAURANT, USER)]
    return [
        {
            "气源": source,
            "餐饮场所": sum(1 for u in units if u.kind == RESTAURANT and rules.attribute(u, "气源") == source),
            "燃气用户": sum(1 for u in units if u.kind == USER and rules.attribute(u, "气源") == source),
        }
        for source in SOURCES
    ]


@hookimpl
def qingdan_projections() -> list[Projection]:
    return [users_by_source]
