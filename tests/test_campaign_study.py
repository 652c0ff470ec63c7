"""附件1 学习宣传贯彻专题: tasks, the 两个“全覆盖” target and checks."""

from __future__ import annotations

from datetime import date

import qingdan.plugins.study as study
from qingdan.core.targets import build_projection
from qingdan.testing import StaticSnapshot, make_task, make_unit

CHECKS = {c.id: c for c in study.qingdan_checks()}
TARGETS = {t.id: t for t in study.qingdan_targets()}


def test_nineteen_numbered_tasks_with_the_seeds_leads():
    tasks = {t.id: t for t in study.qingdan_campaign().tasks}
    assert {f"study.{n}" for n in range(1, 20)} <= set(tasks)
    assert tasks["study.6"].lead_departments == ("镇宣传办", "镇安全生产监督管理局")
    assert tasks["study.7"].responsible_departments == ("农业农村和社会事业局", "党群工作局")  # 按职责分工负责
    assert tasks["study.18"].source == "附件1 三(七)18"


def test_enterprise_coverage():
    units = [make_unit("规模以上工业企业", "U-00001", 宣传教育全覆盖=True), make_unit("规模以下工业企业", "U-00002"),
             make_unit("高层建筑", "U-00003")]
    assert TARGETS["study.enterprise_coverage_rate"].measure(StaticSnapshot(date(2020, 10, 1), units=units)) == 50.0
    assert list(CHECKS["study.enterprise_not_covered"].run(StaticSnapshot(date(2020, 12, 31), units=units))) == []
    findings = list(CHECKS["study.enterprise_not_covered"].run(StaticSnapshot(date(2021, 1, 1), units=units)))
    assert [f.subject for f in findings] == ["U-00002"]


def test_tasks_not_started_after_the_implementation_phase():
    tasks = [make_task("study.1", "study", status="not_started"), make_task("study.2", "study", status="in_progress"),
             make_task("fire.1", "fire", status="not_started")]
    assert list(CHECKS["study.task_not_started"].run(StaticSnapshot(date(2020, 12, 1), tasks=tasks))) == []
    findings = list(CHECKS["study.task_not_started"].run(StaticSnapshot(date(2021, 2, 1), tasks=tasks)))
    assert [f.subject for f in findings] == ["study.1"]


def test_task_progress_projection_groups_by_section():
    tasks = [make_task("study.1", "study", status="done"), make_task("study.2", "study", status="in_progress"),
             make_task("study.19", "study")]
    [projection] = study.qingdan_projections()
    rows = build_projection(projection, StaticSnapshot(date(2021, 2, 1), tasks=tasks))
    assert rows[0] == {"任务组": "(一)全面开展学习教育", "任务数": 2, "已完成": 1, "推进中": 1, "未开始": 0}
    assert rows[-1]["未开始"] == 1 and len(rows) == 7


def test_seed_facts_of_annex_1():
    """附件1 and 总体方案 二(一) as the seed states them: leads, phases, the 19 tasks and their leads."""
    campaign = study.qingdan_campaign()
    safety, party, members = "安全生产监督管理局", "党群工作局", ("安委会成员单位",)
    assert (campaign.kind, campaign.lead_departments, campaign.departments) == (
        "专题", (safety,), (party, "安委会有关成员单位"))
    assert [(p.name, p.start, p.end) for p in campaign.phases] == [
        ("动员部署", date(2020, 7, 1), date(2020, 7, 31)),
        ("组织实施", date(2020, 7, 1), date(2020, 12, 31)),
        ("重点推动", date(2021, 1, 1), date(2021, 12, 31)),
        ("完善提升", date(2022, 1, 1), date(2022, 12, 31)),
    ]
    tasks = {t.id: t for t in campaign.tasks}
    numbered = {n: tasks[f"study.{n}"] for n in range(1, 20)}
    assert len(tasks) == 23, "19 numbered tasks, the closing report and three yearly duties"
    both = (party, safety)
    expected = {
        1: (both, ()), 2: (both, ("镇安委会成员单位",)), 3: (both, ()), 4: ((safety,), ("镇安委会成员单位",)),
        5: (both, ()), 6: (("镇宣传办", "镇安全生产监督管理局"), ()), 7: ((safety,), ("农业农村和社会事业局", party)),
        8: (both, ()), 9: (("安委生产监督管理局",), members), 10: ((safety,), members), 11: ((safety,), members),
        12: (("安委会相关成员单位",), ()), 13: ((safety,), members), 14: ((safety,), members), 15: (both, ()),
        16: (("农业农村和社会事业局", safety), ()), 17: (both, ()), 18: (("党政办公室", party), ()),
        19: ((safety,), ()),
    }
    assert {n: (t.lead_departments, t.responsible_departments) for n, t in numbered.items()} == {
        **expected, 12: (("安委会相关成员单位",), ("安委会相关成员单位",))}  # 只写“按职责分工负责”
    assert all(t.departments == () for t in numbered.values()), "the annex names no 配合 department"
    assert numbered[12].inferred and "牵头" in numbered[12].inferred
    assert all(t.due is None for t in numbered.values()), "the annex dates none of its tasks"
    assert [t.source for t in numbered.values()][::6] == ["附件1 三(一)1", "附件1 三(三)7", "附件1 三(五)13",
                                                         "附件1 三(七)19"]
    assert {t.id: (t.goal, t.comparator, t.unit, t.due) for t in TARGETS.values()} == {
        "study.enterprise_coverage_rate": (100, ">=", "%", date(2020, 12, 31)),
        "study.leader_lecture_rate": (100, ">=", "%", date(2020, 12, 31)),
    }
    assert all("推定" in t.title for t in TARGETS.values()), "the annex dates neither target"
