"""The plugin-authoring helpers (qingdan.core.authoring): what each builds, and a plugin written with them.

The external-style plugin below (a 特种设备 campaign of the same three-year action, citing its own
hypothetical 特种设备方案) imports only from ``qingdan`` and passes the contract every campaign passes.
"""

from __future__ import annotations

import inspect
import re
import types
from datetime import date
from pathlib import Path

import pytest

import qingdan
from qingdan import (
    AttributeSpec,
    Campaign,
    Check,
    Finding,
    Phase,
    Projection,
    Snapshot,
    Target,
    TaskSpec,
    check,
    hazard_rule,
    hookimpl,
    monthly_two_lists_check,
    phases,
    projection,
    share_target,
    standard_phases,
    target,
    task_rule,
    task_table,
    unit_check,
    unit_rule,
)
from qingdan.core import authoring
from qingdan.core import targets as rules
from qingdan.core.authoring import ACTION_END, ACTION_START, END_2020, END_2021, END_2022
from qingdan.core.plugins import Catalogue, create_plugin_manager
from qingdan.core.targets import build_projection
from qingdan.testing import (
    CampaignPluginContract,
    StaticReport,
    StaticSnapshot,
    make_hazard,
    make_task,
    make_unit,
)

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "plugin-guide.md"
HELPERS = [name for name in authoring.__all__ if inspect.isfunction(getattr(authoring, name))]


# -- the API ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", HELPERS)
def test_each_helper_is_exported_from_qingdan_as_the_same_object(name):
    assert name in qingdan.__all__
    assert getattr(qingdan, name) is getattr(authoring, name)


def walk_through() -> list[str]:
    """The python blocks of the guide's §2, the walk-through that writes examples/qingdan-gas."""
    guide = GUIDE.read_text(encoding="utf-8")
    section = guide[guide.index("## 2. "):guide.index("## 3. ")]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_the_guides_walk_through_is_the_example_plugin():
    gas = pytest.importorskip("qingdan_gas")
    blocks = walk_through()
    source = inspect.getsource(gas)
    for block in blocks[1:]:
        assert block.strip() in source, block[:80]
    module = types.ModuleType("walk_through")
    exec(compile("\n".join(blocks), "docs/plugin-guide.md", "exec"), module.__dict__)
    written, example = (Catalogue.from_plugin_manager(create_plugin_manager(load=(), extra=[plugin]))
                        for plugin in (module, gas))
    assert not written.errors and written.campaigns == example.campaigns
    for kind, function in (("targets", "measure"), ("checks", "run"), ("projections", "build")):
        mine, theirs = getattr(written, kind), getattr(example, kind)
        assert {k: v.model_dump(exclude={function}) for k, v in mine.items()} == {
            k: v.model_dump(exclude={function}) for k, v in theirs.items()}


@pytest.mark.parametrize("name", HELPERS)
def test_each_helper_is_shown_in_the_plugin_guide(name):
    shown = re.search(rf"(?<!\w){name}\(", GUIDE.read_text(encoding="utf-8"))
    assert shown, f"docs/plugin-guide.md does not show {name}(…)"


def test_the_calendar_of_the_three_year_action():
    assert (ACTION_START, ACTION_END) == (date(2020, 7, 1), date(2022, 12, 31))
    assert (END_2020, END_2021, END_2022) == (date(2020, 12, 31), date(2021, 12, 31), date(2022, 12, 31))


# -- phases -------------------------------------------------------------------------------------------


def test_phases_are_numbered_and_cited_by_section():
    built = phases("gas", "燃气方案", ("排查摸底", date(2023, 5, 1), date(2023, 6, 30)),
                   ("集中整治", date(2023, 7, 1), date(2023, 12, 31)))
    assert built == (
        Phase(id="gas.p1", name="排查摸底", start=date(2023, 5, 1), end=date(2023, 6, 30), source="燃气方案 三(一)"),
        Phase(id="gas.p2", name="集中整治", start=date(2023, 7, 1), end=date(2023, 12, 31), source="燃气方案 三(二)"),
    )


def test_phases_take_one_clause_each_or_another_section():
    stages = (("一", date(2023, 1, 1), date(2023, 1, 31)), ("二", date(2023, 2, 1), date(2023, 2, 28)))
    assert [p.source for p in phases("x", "方案", *stages, clauses="四")] == ["方案 四(一)", "方案 四(二)"]
    assert [p.source for p in phases("x", "方案", *stages, clauses=("三(一)1", "三(一)2"))] == [
        "方案 三(一)1", "方案 三(一)2"]
    with pytest.raises(ValueError, match="2 phases but 1 clauses"):
        phases("x", "方案", *stages, clauses=("三(一)1",))


def test_standard_phases_are_the_four_of_the_main_plan():
    assert authoring.STANDARD_PHASES == ("动员部署", "排查整治", "集中攻坚", "巩固提升")
    assert [(p.id, p.name, p.start, p.end, p.source) for p in standard_phases("x", "附件9")] == [
        ("x.p1", "动员部署", date(2020, 7, 1), date(2020, 7, 31), "附件9 三(一)"),
        ("x.p2", "排查整治", date(2020, 8, 1), date(2020, 12, 31), "附件9 三(二)"),
        ("x.p3", "集中攻坚", date(2021, 1, 1), date(2021, 12, 31), "附件9 三(三)"),
        ("x.p4", "巩固提升", date(2022, 1, 1), date(2022, 12, 31), "附件9 三(四)"),
    ]


def test_three_standard_phases_take_a_year_each():
    assert authoring.CONTINUED_PHASES == ("集中攻坚", "持续整治", "巩固提升")
    built = standard_phases("x", "附件9", authoring.CONTINUED_PHASES)
    assert [(p.name, p.start, p.end) for p in built] == [
        ("集中攻坚", date(2020, 7, 1), date(2020, 12, 31)),
        ("持续整治", date(2021, 1, 1), date(2021, 12, 31)),
        ("巩固提升", date(2022, 1, 1), date(2022, 12, 31)),
    ]


def test_standard_phases_with_a_shorter_mobilisation_overlapping_the_second_phase():
    built = standard_phases("x", "附件9", mobilised_by=date(2020, 7, 25), second_from=ACTION_START)
    assert [(p.start, p.end) for p in built[:2]] == [
        (date(2020, 7, 1), date(2020, 7, 25)), (date(2020, 7, 1), date(2020, 12, 31))]


def test_standard_phases_are_three_or_four():
    with pytest.raises(ValueError, match="three or four phases"):
        standard_phases("x", "附件9", ("一", "二"))


# -- tasks --------------------------------------------------------------------------------------------


def test_task_table_reads_the_columns_it_is_told():
    [task] = task_table("fire", "number title lead due clause",
                        [("2", "消防车通道划线", ("派出所",), END_2020, "二(一)2")], cite="附件4")
    assert task == TaskSpec(id="fire.2", campaign="fire", title="消防车通道划线", lead_departments=("派出所",),
                            departments=(), due=END_2020, source="附件4 二(一)2")


def test_task_table_defaults_and_verbatim_sources():
    tasks = task_table("x", "number source title", [(1, "总体方案 二(五)", "甲"), ("m2", "附件9 二(一)", "乙")],
                       lead=("建设局",), departments=("派出所",), due=END_2022)
    assert [(t.id, t.source, t.lead_departments, t.departments, t.due) for t in tasks] == [
        ("x.1", "总体方案 二(五)", ("建设局",), ("派出所",), END_2022),
        ("x.m2", "附件9 二(一)", ("建设局",), ("派出所",), END_2022),
    ]


@pytest.mark.parametrize("columns, rows, message", [
    ("number title lead clause owner", [], "unknown or repeated"),
    ("number title title clause", [], "unknown or repeated"),
    ("number lead clause", [], "need number, title"),
    ("number title lead", [], "one of clause or source"),
    ("number title clause source", [], "one of clause or source"),
    ("number title clause", [("1", "甲")], "task row 1 has 2 values"),
])
def test_task_table_rejects_a_malformed_table(columns, rows, message):
    with pytest.raises(ValueError, match=message):
        task_table("x", columns, rows, cite="附件9", lead=("建设局",))


# -- targets ------------------------------------------------------------------------------------------


def test_target_defaults_to_a_reported_percentage_of_100():
    assert target("x", "rate", "完成率", END_2021, "附件9 一") == Target(
        id="x.rate", campaign="x", title="完成率", goal=100, comparator=">=", unit="%", due=END_2021,
        source="附件9 一", measure=None)


def test_target_with_a_measure_and_another_goal():
    def count(snapshot):
        return 0.0

    made = target("x", "accidents", "事故起数", END_2022, "附件9 一", count, goal=0, comparator="<=", unit="起",
                  start=date(2021, 1, 1))
    assert (made.measure, made.goal, made.comparator, made.unit, made.start) == (count, 0, "<=", "起",
                                                                                 date(2021, 1, 1))


def test_share_target_measures_the_share_of_units_done():
    by_name = share_target("x", "alarm_rate", "报警装置安装率", END_2021, "附件9 一", rules.of_kind("餐饮场所"),
                           "燃气泄漏报警装置")
    by_rule = share_target("x", "alarm_rate", "报警装置安装率", END_2021, "附件9 一", rules.of_kind("餐饮场所"),
                           lambda unit: rules.attribute(unit, "燃气泄漏报警装置") is True, goal=90)
    units = [make_unit("餐饮场所", 燃气泄漏报警装置=True), make_unit("餐饮场所"), make_unit("燃气用户")]
    for made in (by_name, by_rule):
        assert (made.id, made.unit, made.comparator) == ("x.alarm_rate", "%", ">=")
        assert made.measure(StaticSnapshot(date(2021, 5, 1), units=units)) == 50.0
        assert made.measure(StaticSnapshot(date(2021, 5, 1))) is None
    assert (by_name.goal, by_rule.goal) == (100, 90)


# -- checks -------------------------------------------------------------------------------------------

SNAP = date(2021, 5, 1)


def test_check_builds_a_check_directly_or_as_a_decorator():
    def run(snapshot):
        return []

    direct = check("x", "rule", "规则", "提示", "附件9 一", run)
    assert direct == Check(id="x.rule", campaign="x", title="规则", severity="提示", source="附件9 一", run=run)

    @check("x", "rule", "规则", "提示", "附件9 一")
    def decorated(snapshot):
        return []

    assert isinstance(decorated, Check) and decorated.id == "x.rule" and list(decorated.run(None)) == []


def test_a_check_with_after_finds_nothing_until_that_day_has_passed():
    found = [Finding(check="x.late", campaign="x", subject="甲", message="逾期")]
    late = check("x", "late", "逾期", "警告", "附件9 一", lambda snapshot: found, after=END_2020)
    assert list(late.run(StaticSnapshot(END_2020))) == []
    assert list(late.run(StaticSnapshot(date(2021, 1, 1)))) == found


def test_unit_check_finds_each_matching_unit_with_its_label():
    made = unit_check("x", "unlicensed", "无证经营", "严重", "附件9 二(二)",
                      lambda unit: rules.attribute(unit, "许可证") is False, lambda unit: f"{unit.kind}无证经营")
    units = [make_unit("充装站", "U-00001", name="甲站", 许可证=False), make_unit("充装站", "U-00002", 许可证=True)]
    [finding] = made.run(StaticSnapshot(SNAP, units=units))
    assert (made.id, made.severity) == ("x.unlicensed", "严重")
    assert finding.model_dump() == {"check": "x.unlicensed", "campaign": "x", "subject": "U-00001",
                                    "message": "U-00001 甲站（东兴村）：充装站无证经营", "severity": "严重"}
    gated = unit_check("x", "unlicensed", "无证经营", "严重", "附件9 二(二)", rules.has("许可证", False),
                       lambda unit: "无证", after=SNAP)
    assert list(gated.run(StaticSnapshot(SNAP, units=units))) == []


def test_unit_rule_asks_the_judge_of_each_unit_of_its_kinds():
    @unit_rule("x", "crew", "当班人数超过9人", "警告", "附件9 二(二)8", kinds=("厂房",))
    def crew(unit, snapshot: Snapshot):
        people = rules.attribute(unit, "人数", 0)
        if people > 20:
            return f"当班 {people} 人", "严重"
        return f"当班 {people} 人" if people > 9 else None

    assert isinstance(crew, Check) and (crew.id, crew.severity, crew.source) == ("x.crew", "警告", "附件9 二(二)8")
    units = [make_unit("厂房", "U-00001", 人数=12), make_unit("厂房", "U-00002", 人数=25),
             make_unit("厂房", "U-00003", 人数=5), make_unit("仓库", "U-00004", 人数=30)]
    findings = crew.run(StaticSnapshot(SNAP, units=units))
    assert [(f.subject, f.severity, f.message.split("：")[1]) for f in findings] == [
        ("U-00001", "警告", "当班 12 人"), ("U-00002", "严重", "当班 25 人")]
    assert all(f.check == "x.crew" and f.campaign == "x" for f in findings)


def test_unit_rule_after_and_empty_verdicts():
    @unit_rule("x", "empty", "空", "提示", "附件9 一", after=END_2020)
    def empty(unit, snapshot):
        return "" if unit.number == "U-00001" else "有"

    units = [make_unit("厂房", "U-00001"), make_unit("厂房", "U-00002")]
    assert list(empty.run(StaticSnapshot(END_2020, units=units))) == []
    assert [f.subject for f in empty.run(StaticSnapshot(END_2021, units=units))] == ["U-00002"]


def test_hazard_rule_judges_the_campaigns_own_hazards_or_every_campaigns():
    hazards = [make_hazard("x", "H-1", unit="甲厂", level="重大"), make_hazard("fire", "H-2", unit="乙店", level="重大"),
               make_hazard("x", "H-3", unit="丙厂")]

    def major(hazard, snapshot):
        return "重大隐患" if hazard.level == "重大" else None

    own = hazard_rule("x", "major", "重大隐患", "严重", "附件9 一")(major)
    every = hazard_rule("x", "major", "重大隐患", "严重", "附件9 一", every_campaign=True)(major)
    snapshot = StaticSnapshot(SNAP, hazards=hazards)
    assert [(f.subject, f.campaign, f.message) for f in own.run(snapshot)] == [("H-1", "x", "H-1 甲厂：重大隐患")]
    assert [(f.subject, f.campaign) for f in every.run(snapshot)] == [("H-1", "x"), ("H-2", "fire")]


def test_task_rule_words_the_message_after_the_task():
    tasks = [make_task("x.1", "x", title="排查", status="not_started"), make_task("x.2", "x", status="done"),
             make_task("fire.1", "fire", title="通道", status="not_started")]

    def not_started(task, snapshot):
        return "仍未开展" if task.status == "not_started" else None

    own = task_rule("x", "not_started", "任务未开展", "提示", "附件9 四(二)")(not_started)
    every = task_rule("x", "not_started", "任务未开展", "提示", "附件9 四(二)", every_campaign=True)(not_started)
    snapshot = StaticSnapshot(SNAP, tasks=tasks)
    assert [(f.subject, f.campaign, f.message) for f in own.run(snapshot)] == [
        ("x.1", "x", "重点任务 x.1“排查”仍未开展")]
    assert [(f.subject, f.campaign) for f in every.run(snapshot)] == [("x.1", "x"), ("fire.1", "fire")]


def test_monthly_two_lists_check_counts_this_campaigns_submissions():
    made = monthly_two_lists_check("x", "本专项两个清单每月25日前报送")
    assert (made.id, made.severity, made.source) == ("x.monthly_two_lists", "严重", "总体方案 三(一)2")
    reports = [StaticReport("2020-08", date(2020, 8, 20), campaign="x"),
               StaticReport("2020-09", date(2020, 9, 20), campaign="fire")]
    findings = made.run(StaticSnapshot(date(2020, 9, 30), reports=reports))
    assert [(f.subject, f.severity) for f in findings] == [("报送 2020-09", "严重")]
    township = monthly_two_lists_check("x", "两个清单", first=date(2020, 9, 1), last=date(2020, 9, 30),
                                       covers=lambda report: True)
    assert list(township.run(StaticSnapshot(date(2020, 10, 31), reports=reports))) == []


# -- projections --------------------------------------------------------------------------------------


def test_projection_directly_or_as_a_decorator():
    def build(snapshot):
        return [{"类型": "厂房", "数量": len(snapshot.units("厂房"))}]

    direct = projection("x", "by_kind", "按类型", ["类型", "数量"], build)
    assert direct == Projection(id="x.by_kind", campaign="x", title="按类型", columns=("类型", "数量"), build=build)

    @projection("x", "by_kind", "按类型", ("类型", "数量"))
    def by_kind(snapshot):
        return build(snapshot)

    assert isinstance(by_kind, Projection) and by_kind.columns == ("类型", "数量")
    assert build_projection(by_kind, StaticSnapshot(SNAP, units=[make_unit("厂房")])) == [{"类型": "厂房", "数量": 1}]


# -- an external-style plugin written with the helpers ------------------------------------------------

ID, PLAN = "equipment", "特种设备方案"
BOILER, LIFT = "锅炉", "电梯"
TASKS = (
    ("1", "全面排查在用特种设备，建立台账", ("市场监管局",), (), END_2020, "二(一)"),
    ("2", "电梯按期维护保养", ("市场监管局",), ("建设局",), END_2021, "二(二)"),
    ("3", "形成三年行动总结报告", ("市场监管局",), (), END_2022, "三、时间安排"),
)


@unit_rule(ID, "lift_maintenance_overdue", "电梯超过15日未维护保养", "警告", f"{PLAN} 二(二)", kinds=(LIFT,))
def lift_maintenance_overdue(unit, snapshot: Snapshot):
    days = rules.days_since(snapshot, rules.attribute(unit, "最近维保日期"))
    if days is None:
        return "未记录维护保养", "严重"
    return f"已 {days} 天未维护保养" if days > 15 else None


@hazard_rule(ID, "major_not_escalated", "重大隐患未挂牌督办", "严重", f"{PLAN} 二(三)")
def major_not_escalated(hazard, snapshot: Snapshot):
    return "重大隐患尚未挂牌督办" if hazard.level == "重大" and not hazard.escalated else None


@task_rule(ID, "task_overdue", "重点任务逾期", "警告", f"{PLAN} 四", after=END_2020)
def task_overdue(task, snapshot: Snapshot):
    return "已逾期" if task.overdue else None


@projection(ID, "units_by_kind", "特种设备分类统计", ("类型", "台数", "已检验"))
def units_by_kind(snapshot: Snapshot):
    return [{"类型": kind, "台数": len(snapshot.units(kind)),
             "已检验": sum(1 for u in snapshot.units(kind) if rules.attribute(u, "定期检验") is True)}
            for kind in (BOILER, LIFT)]


class EquipmentPlugin:
    """A 特种设备 campaign of the three-year action, as an external package would write it."""

    @hookimpl
    def qingdan_campaign(self) -> Campaign:
        return Campaign(
            id=ID, name="特种设备安全专项整治", kind="专项", lead_departments=("市场监管局",),
            start=ACTION_START, end=ACTION_END, phases=standard_phases(ID, PLAN),
            tasks=task_table(ID, "number title lead departments due clause", TASKS, cite=PLAN),
            hazard_categories=("锅炉", "电梯", "压力容器"),
            unit_attributes=(
                AttributeSpec(name="定期检验", type="bool", unit_kinds=(BOILER, LIFT), source=f"{PLAN} 二(一)"),
                AttributeSpec(name="最近维保日期", type="date", unit_kinds=(LIFT,), source=f"{PLAN} 二(二)"),
            ),
            source=f"{PLAN}（示例）",
        )

    @hookimpl
    def qingdan_targets(self) -> list[Target]:
        return [
            share_target(ID, "inspection_rate", "特种设备定期检验率", END_2021, f"{PLAN} 一、目标",
                         rules.of_kind(BOILER, LIFT), "定期检验"),
            target(ID, "major_accidents", "特种设备重特大事故起数", END_2022, f"{PLAN} 一、目标", goal=0,
                   comparator="<=", unit="起"),
        ]

    @hookimpl
    def qingdan_checks(self) -> list[Check]:
        return [
            unit_check(ID, "boiler_uninspected", "锅炉未定期检验", "严重", f"{PLAN} 二(一)",
                       lambda unit: unit.kind == BOILER and rules.attribute(unit, "定期检验") is not True,
                       lambda unit: "锅炉未按期检验", after=END_2020),
            lift_maintenance_overdue,
            major_not_escalated,
            task_overdue,
            monthly_two_lists_check(ID, "本专项两个清单每月25日前报送"),
        ]

    @hookimpl
    def qingdan_projections(self) -> list[Projection]:
        return [units_by_kind]


class TestExternalStylePlugin(CampaignPluginContract):
    plugin = EquipmentPlugin()
    source_pattern = r"特种设备方案|总体方案"


def test_the_external_style_plugin_reads_as_its_plan():
    catalogue = TestExternalStylePlugin().catalogue()
    campaign = catalogue.campaign(ID)
    assert [p.name for p in campaign.phases] == ["动员部署", "排查整治", "集中攻坚", "巩固提升"]
    assert [(t.id, t.source) for t in campaign.tasks] == [
        ("equipment.1", "特种设备方案 二(一)"), ("equipment.2", "特种设备方案 二(二)"),
        ("equipment.3", "特种设备方案 三、时间安排")]
    assert sorted(catalogue.checks) == [
        "equipment.boiler_uninspected", "equipment.lift_maintenance_overdue", "equipment.major_not_escalated",
        "equipment.monthly_two_lists", "equipment.task_overdue"]
    units = [make_unit(LIFT, "U-00001", 最近维保日期=date(2021, 4, 1)), make_unit(LIFT, "U-00002"),
             make_unit(LIFT, "U-00003", 最近维保日期=date(2021, 4, 28)), make_unit(BOILER, "U-00004", 定期检验=True)]
    findings = catalogue.checks["equipment.lift_maintenance_overdue"].run(StaticSnapshot(SNAP, units=units))
    assert [(f.subject, f.severity) for f in findings] == [("U-00001", "警告"), ("U-00002", "严重")]
    assert catalogue.targets["equipment.inspection_rate"].measure(StaticSnapshot(SNAP, units=units)) == 25.0
