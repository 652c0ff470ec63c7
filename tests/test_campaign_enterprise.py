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
