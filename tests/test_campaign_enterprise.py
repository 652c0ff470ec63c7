"""附件2 落实企业主体责任专题: dated targets and checks on enterprises of any campaign."""

from __future__ import annotations

from datetime import date

import qingdan.plugins.enterprise as enterprise
from qingdan.core.targets import build_projection, evaluate_target
from qingdan.testing import StaticSnapshot, make_unit

CHECKS = {c.id: c for c in enterprise.qingdan_checks()}
TARGETS = {t.id: t for t in enterprise.qingdan_targets()}


def test_dated_targets_of_the_annex():
    dues = {t.id: t.due for t in TARGETS.values()}
    assert dues["enterprise.hazard_system_rate"] == date(2020, 12, 31)
    assert dues["enterprise.safety_team_rate"] == date(2021, 12, 31)
    assert dues["enterprise.one_network_rate"] == date(2021, 12, 31)
    assert dues["enterprise.standardization_self_assessment_rate"] == date(2022, 12, 31)


def test_enterprises_of_other_campaigns_count():
    units = [make_unit("危险化学品生产企业", 重点行业领域=True, 安全技术和管理团队=True),
             make_unit("道路运输企业", 重点行业领域=True),
             make_unit("规模以上工业企业", 重点行业领域=False),
             make_unit("高层建筑", 重点行业领域=True)]
    status = evaluate_target(TARGETS["enterprise.safety_team_rate"], StaticSnapshot(date(2022, 1, 1), units=units))
    assert (status.value, status.state) == (50.0, "missed")


def test_standardization_counts_high_risk_or_above_scale():
    units = [make_unit("工业企业", 高危行业=True, 标准化自评完成=True), make_unit("工业企业", 规模以上=True),
             make_unit("工业企业")]
    measure = TARGETS["enterprise.standardization_self_assessment_rate"].measure
    assert measure(StaticSnapshot(date(2022, 1, 1), units=units)) == 50.0


def test_high_risk_enterprise_without_liability_insurance():
    findings = list(CHECKS["enterprise.no_liability_insurance"].run(StaticSnapshot(date(2021, 1, 1), units=[
        make_unit("工业企业", "U-00001", 高危行业=True), make_unit("工业企业", "U-00002", 高危行业=True, 安责险投保=True),
        make_unit("工业企业", "U-00003", 高危行业=False)])))
    assert [f.subject for f in findings] == ["U-00001"]


def test_annual_report_to_workers():
    recent = make_unit("工业企业", "U-00010", 最近向职代会报告日期=date(2021, 3, 1))
    stale = make_unit("工业企业", "U-00011", 最近向职代会报告日期=date(2020, 1, 1))
    never = make_unit("工业企业", "U-00012")
    check = CHECKS["enterprise.annual_report_to_workers"]
    assert [f.subject for f in check.run(StaticSnapshot(date(2021, 6, 1), units=[recent, stale, never]))] == ["U-00011"]
    later = check.run(StaticSnapshot(date(2021, 7, 2), units=[recent, stale, never]))
    assert [f.subject for f in later] == ["U-00011", "U-00012"]


def test_responsibility_matrix():
    units = [make_unit("工业企业", 安全承诺公开=True, 一张网接入=True), make_unit("工业企业", 一张网接入=True),
             make_unit("校车")]
    [projection] = enterprise.qingdan_projections()
    [row] = build_projection(projection, StaticSnapshot(date(2021, 6, 1), units=units))
    assert (row["企业类型"], row["企业数"], row["安全承诺公开"], row["一张网接入"]) == ("工业企业", 2, 1, 2)


def test_seed_facts_of_annex_2():
    """附件2 and 总体方案 二(二): leads, phases, the 20 tasks, every dated deliverable and the targets."""
    campaign = enterprise.qingdan_campaign()
    assert (campaign.kind, campaign.lead_departments, campaign.departments) == (
        "专题", ("安委办",), ("负有安全生产监管职责的安委会有关成员单位",))
    assert [(p.name, p.start, p.end) for p in campaign.phases] == [
        ("动员部署", date(2020, 7, 1), date(2020, 7, 31)),
        ("排查整治", date(2020, 8, 1), date(2020, 12, 31)),
        ("集中攻坚", date(2021, 1, 1), date(2021, 12, 31)),
        ("巩固提升", date(2022, 1, 1), date(2022, 12, 31)),
    ]
    tasks = {t.id: t for t in campaign.tasks}
    assert {f"enterprise.{n}" for n in range(1, 21)} <= set(tasks)
    assert tasks["enterprise.17"].source == "附件2 二(四)17"
    y2020, y2021, y2022 = date(2020, 12, 31), date(2021, 12, 31), date(2022, 12, 31)
    assert {t.id: t.due for t in tasks.values() if t.due is not None} == {
        "enterprise.1": y2020,     # 安全生产承诺制度
        "enterprise.3": y2021,     # 安全生产技术和管理团队
        "enterprise.5": y2022,     # 标准化自评
        "enterprise.7": y2022,     # 职业院校（技工院校）
        "enterprise.9": y2021,     # 安全风险管控制度
        "enterprise.10": y2022,    # 隐患排查治理制度化、规范化
        "enterprise.10.1": y2020,  # 隐患排查治理制度
        "enterprise.10.2": y2021,  # “一张网”
        "enterprise.11": y2020,    # 重大危险源排查建档
        "enterprise.12": y2020,    # 危险作业
        "enterprise.s3": y2020,    # 企业诚信体系建设制度
        "enterprise.s5.1": y2021,  # 安责险管理平台
        "enterprise.s5.2": y2022,  # 承保保险机构在线监测
        "enterprise.report": date(2022, 11, 10),  # 三年行动报告（日期按总体方案 二(一)）
    }
    assert {t.id: (t.goal, t.comparator, t.unit, t.due) for t in TARGETS.values()} == {
        "enterprise.hazard_system_rate": (100, ">=", "%", y2020),
        "enterprise.major_hazard_filing_rate": (100, ">=", "%", y2020),
        "enterprise.dangerous_work_rate": (100, ">=", "%", y2020),
        "enterprise.safety_team_rate": (100, ">=", "%", y2021),
        "enterprise.risk_control_rate": (100, ">=", "%", y2021),
        "enterprise.one_network_rate": (100, ">=", "%", y2021),
        "enterprise.standardization_self_assessment_rate": (100, ">=", "%", y2022),
    }
