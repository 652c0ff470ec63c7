"""城镇燃气安全专项整治 (2023): an example external qingdan campaign plugin.

The clauses cited (``燃气方案 二(一)`` …) are of a hypothetical township work plan for 2023; the
campaign is not in the 2020 seed. Everything here uses only the public plugin API.
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

ID = "gas"
PLAN = "燃气方案"
START, END = date(2023, 5, 1), date(2023, 12, 31)

RESTAURANT, STATION, USER, PIPE = "餐饮场所", "液化石油气充装站", "燃气用户", "燃气管网"
SOURCES = ("管道天然气", "瓶装液化石油气", "其他")


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
        phases=(
            Phase(id=f"{ID}.p1", name="排查摸底", start=START, end=date(2023, 6, 30), source=f"{PLAN} 三(一)"),
            Phase(id=f"{ID}.p2", name="集中整治", start=date(2023, 7, 1), end=date(2023, 10, 31),
                  source=f"{PLAN} 三(二)"),
            Phase(id=f"{ID}.p3", name="巩固提升", start=date(2023, 11, 1), end=END, source=f"{PLAN} 三(三)"),
        ),
        tasks=(
            TaskSpec(id=f"{ID}.1", campaign=ID, title="全面排查餐饮场所燃气使用安全", lead_departments=("市场监管局",),
                     departments=("建设局",), due=date(2023, 6, 30), source=f"{PLAN} 二(一)"),
            TaskSpec(id=f"{ID}.2", campaign=ID, title="整治液化石油气充装站非法充装、倒装", lead_departments=("建设局",),
                     due=date(2023, 10, 31), source=f"{PLAN} 二(二)"),
            TaskSpec(id=f"{ID}.3", campaign=ID, title="推进老旧燃气管网更新改造", lead_departments=("建设局",),
                     due=END, source=f"{PLAN} 二(三)"),
        ),
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
        Target(id=f"{ID}.alarm_rate", campaign=ID, title="餐饮场所燃气泄漏报警装置安装率", goal=100, unit="%",
               due=date(2023, 9, 30), source=f"{PLAN} 一、目标",
               measure=rules.share_measure(rules.of_kind(RESTAURANT), rules.has("燃气泄漏报警装置"))),
        Target(id=f"{ID}.pipe_renewal_rate", campaign=ID, title="老旧燃气管网改造完成率", goal=100, unit="%", due=END,
               source=f"{PLAN} 一、目标",
               measure=rules.share_measure(rules.all_of(rules.of_kind(PIPE), rules.has("老旧管网")),
                                           rules.has("改造完成"))),
        Target(id=f"{ID}.inspection_staff", campaign=ID, title="燃气安全检查人员", goal=6, unit="人",
               due=date(2023, 6, 30), source=f"{PLAN} 四(二)"),
    ]


def _bottled_gas_without_alarm(snapshot: Snapshot) -> Iterable[Finding]:
    return [
        Finding(check=f"{ID}.bottled_gas_without_alarm", campaign=ID, subject=unit.number,
                message=f"{rules.unit_label(unit)}：使用瓶装液化石油气，未安装燃气泄漏报警装置", severity="严重")
        for unit in snapshot.units(kind=RESTAURANT)
        if rules.attribute(unit, "气源") == "瓶装液化石油气"
        and rules.attribute(unit, "燃气泄漏报警装置") is not True
    ]


@hookimpl
def qingdan_checks() -> list[Check]:
    return [
        Check(id=f"{ID}.bottled_gas_without_alarm", campaign=ID, title="使用瓶装液化石油气的餐饮场所未装报警装置",
              severity="严重", source=f"{PLAN} 二(一)", run=_bottled_gas_without_alarm),
        Check(id=f"{ID}.unlicensed_station", campaign=ID, title="液化石油气充装站无证经营", severity="严重",
              source=f"{PLAN} 二(二)",
              run=rules.unit_findings(f"{ID}.unlicensed_station", ID, "严重",
                                      lambda u: u.kind == STATION and rules.attribute(u, "燃气经营许可证") is False,
                                      lambda u: "无燃气经营许可证，应依法取缔")),
    ]


def _users_by_source(snapshot: Snapshot) -> list[dict]:
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
    return [
        Projection(id=f"{ID}.users_by_source", campaign=ID, title="燃气用户按气源分布",
                   columns=("气源", "餐饮场所", "燃气用户"), build=_users_by_source)
    ]
