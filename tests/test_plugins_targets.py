"""Target states, isolation of plugin code, and the in-memory StaticSnapshot."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from qingdan.core.errors import PluginError
from qingdan.core.rows import IndicatorReading
from qingdan.core.spec import Campaign, Check, Finding, Projection, Target
from qingdan.core.targets import (
    build_projection,
    build_projections,
    evaluate_target,
    evaluate_targets,
    run_checks,
    share_of_units,
)
from qingdan.testing import StaticReport, StaticSnapshot, make_hazard, make_unit

START, DUE = date(2020, 7, 1), date(2021, 7, 1)
HALFWAY = date(2020, 12, 30)  # 182 of 365 days: the line stands at 49.9 % of the goal


def target(goal: float = 100, comparator: str = ">=", measure=None, **fields) -> Target:
    return Target(id="t.x", campaign="t", title="测试目标", goal=goal, comparator=comparator,
                  due=fields.pop("due", DUE), source="附件3", measure=measure,
                  start=fields.pop("start", START), **fields)


def constant(value):
    return lambda snapshot: value


def state(t: Target, as_of: date) -> str:
    return evaluate_target(t, StaticSnapshot(as_of)).state


def test_measure_returning_none_is_no_data():
    assert state(target(measure=constant(None)), HALFWAY) == "no_data"


def test_indicator_target_without_reading_is_no_data():
    assert evaluate_target(target(), StaticSnapshot(HALFWAY)).state == "no_data"


def test_indicator_reading_dated_after_as_of_is_not_seen():
    snapshot = StaticSnapshot(HALFWAY, indicators={"t.x": [IndicatorReading(
        target_id="t.x", value=100, on=date(2021, 1, 5), recorded_at=datetime(2021, 1, 5, tzinfo=UTC))]})
    assert evaluate_target(target(), snapshot).state == "no_data"


def test_indicator_value_is_the_latest_reading_on_or_before_as_of():
    readings = [
        IndicatorReading(target_id="t.x", value=v, on=d, recorded_at=datetime(2020, 1, 1, tzinfo=UTC))
        for v, d in ((30, date(2020, 9, 1)), (70, date(2020, 12, 1)), (100, date(2021, 3, 1)))
    ]
    status = evaluate_target(target(), StaticSnapshot(HALFWAY, indicators={"t.x": readings}))
    assert (status.value, status.state) == (70, "on_track")


def test_value_satisfying_the_goal_is_met_even_after_due():
    assert state(target(measure=constant(100)), date(2022, 1, 1)) == "met"
    assert state(target(goal=10, comparator="<=", measure=constant(8)), HALFWAY) == "met"
    assert state(target(goal=3, comparator="==", measure=constant(3.0)), HALFWAY) == "met"


def test_unmet_after_due_is_missed():
    assert state(target(measure=constant(99.9)), date(2021, 7, 2)) == "missed"


def test_unmet_on_the_due_day_is_still_judged_on_the_line():
    assert state(target(measure=constant(99.9)), DUE) == "at_risk"


@pytest.mark.parametrize(("value", "expected"), [(50, "on_track"), (49.8, "at_risk"), (0, "at_risk")])
def test_on_track_means_at_or_above_the_straight_line(value, expected):
    assert state(target(measure=constant(value)), HALFWAY) == expected


def test_before_start_anything_not_met_is_on_track():
    assert state(target(measure=constant(0), start=date(2021, 1, 1)), HALFWAY) == "on_track"


@pytest.mark.parametrize(("value", "expected"), [(14.9, "on_track"), (15.1, "at_risk")])
def test_at_most_goals_follow_the_mirror_line(value, expected):
    # goal 10: the line runs from 20 at the start down to 10 at the due date; halfway it is ~15.
    assert state(target(goal=10, comparator="<=", measure=constant(value)), date(2020, 12, 31)) == expected


def test_at_most_zero_goal_not_met_is_at_risk():
    assert state(target(goal=0, comparator="<=", measure=constant(1)), HALFWAY) == "at_risk"


def test_campaign_start_anchors_the_line_when_the_target_has_none():
    t = target(measure=constant(50), start=None)
    campaign = Campaign(id="t", name="测试", kind="专项", lead_departments=("甲",), start=START,
                        end=date(2022, 12, 31), source="附件3")
    assert evaluate_target(t, StaticSnapshot(HALFWAY), campaign).state == "on_track"
    later = campaign.model_copy(update={"start": date(2020, 12, 1)})
    assert evaluate_target(t, StaticSnapshot(date(2021, 6, 1)), later).state == "at_risk"
    assert evaluate_target(t, StaticSnapshot(HALFWAY)).state == "at_risk", "no start known: no line"


def test_status_carries_the_target_fields():
    status = evaluate_target(target(measure=constant(42.0), unit="%"), StaticSnapshot(HALFWAY))
    assert (status.id, status.campaign, status.goal, status.comparator, status.due, status.value) == (
        "t.x", "t", 100, ">=", DUE, 42.0)
    assert status.source == "附件3"


def test_evaluate_targets_isolates_a_raising_measure():
    def boom(snapshot):
        raise ZeroDivisionError("分母为零")

    good = target(measure=constant(100))
    bad = target(measure=boom).model_copy(update={"id": "t.bad"})
    statuses, errors = evaluate_targets([bad, good], StaticSnapshot(HALFWAY))
    assert [(s.id, s.state) for s in statuses] == [("t.bad", "no_data"), ("t.x", "met")]
    assert [(e.kind, e.id) for e in errors] == [("target", "t.bad")]
    assert "分母为零" in errors[0].message
    with pytest.raises(ZeroDivisionError):
        evaluate_target(bad, StaticSnapshot(HALFWAY))


def finding(check_id: str = "c.ok") -> Finding:
    return Finding(check=check_id, campaign="c", subject="U-00001", message="问题")


def test_run_checks_isolates_a_raising_check_and_a_bad_return():
    def boom(snapshot):
        raise KeyError("风险等级")

    checks = [
        Check(id="c.boom", campaign="c", title="甲", source="附件", run=boom),
        Check(id="c.ok", campaign="c", title="乙", source="附件", run=lambda s: [finding()]),
        Check(id="c.bad", campaign="c", title="丙", source="附件", run=lambda s: ["not a finding", finding("c.bad")]),
    ]
    findings, errors = run_checks(checks, StaticSnapshot(HALFWAY))
    assert [f.check for f in findings] == ["c.ok", "c.bad"]
    assert [e.id for e in errors] == ["c.boom", "c.bad"]


def test_projection_rows_must_have_exactly_the_declared_columns():
    good = Projection(id="p.good", campaign="p", title="表", columns=("乙", "甲"),
                      build=lambda s: [{"甲": 1, "乙": 2}])
    bad = Projection(id="p.bad", campaign="p", title="表", columns=("甲",), build=lambda s: [{"甲": 1, "丙": 2}])
    assert build_projection(good, StaticSnapshot(HALFWAY)) == [{"乙": 2, "甲": 1}]
    with pytest.raises(PluginError, match="p.bad"):
        build_projection(bad, StaticSnapshot(HALFWAY))
    tables, errors = build_projections([bad, good], StaticSnapshot(HALFWAY))
    assert list(tables) == ["p.good"] and [e.id for e in errors] == ["p.bad"]


def test_share_of_units_is_none_without_a_denominator_and_ignores_closed_units():
    units = [
        make_unit("化工生产企业", "U-00001", 两重点一重大=True, 自动化控制系统投用=True),
        make_unit("化工生产企业", "U-00002", 两重点一重大=True, 自动化控制系统投用=False),
        make_unit("化工生产企业", "U-00003", 两重点一重大=True, closed_on=date(2020, 10, 1)),
    ]
    def among(u):
        return u.attributes.get("两重点一重大") is True

    def done(u):
        return u.attributes.get("自动化控制系统投用") is True

    assert share_of_units(StaticSnapshot(HALFWAY, units=units), among, done) == 50.0
    assert share_of_units(StaticSnapshot(date(2020, 9, 1), units=units), among, done) == pytest.approx(100 / 3)
    assert share_of_units(StaticSnapshot(HALFWAY), among, done) is None


def test_static_snapshot_filters_units_by_kind_attributes_and_dates():
    units = [
        make_unit("高层建筑", "U-00001", 微型消防站=True),
        make_unit("高层建筑", "U-00002", 微型消防站=False),
        make_unit("群租房", "U-00003", 微型消防站=True),
        make_unit("高层建筑", "U-00004", 微型消防站=True, closed_on=HALFWAY),
        make_unit("高层建筑", "U-00005", 微型消防站=True, registered_on=date(2021, 1, 1)),
    ]
    snapshot = StaticSnapshot(HALFWAY, units=units)
    assert [u.number for u in snapshot.units(kind="高层建筑", 微型消防站=True)] == ["U-00001"]
    assert [u.number for u in snapshot.units(微型消防站=True)] == ["U-00001", "U-00003"]
    assert len(snapshot.units()) == 3


def test_static_snapshot_hazards_reports_and_known_at():
    hazards = [make_hazard("fire", "H-fire-2020-0001"), make_hazard("fire", "H-fire-2021-0001",
                                                                    found_on=date(2021, 2, 1)),
               make_hazard("road", "H-road-2020-0001")]
    reports = [StaticReport("2020-11", date(2020, 11, 20)), StaticReport("2021-01", date(2021, 1, 20))]
    reading = IndicatorReading(target_id="t.x", value=9, on=date(2020, 9, 1),
                               recorded_at=datetime(2021, 3, 1, tzinfo=UTC))
    snapshot = StaticSnapshot(HALFWAY, hazards=hazards, reports=reports, indicators={"t.x": reading},
                              known_at=datetime(2021, 1, 1, tzinfo=UTC))
    assert [h.number for h in snapshot.hazards("fire")] == ["H-fire-2020-0001"]
    assert len(snapshot.hazards()) == 2
    assert [r.period for r in snapshot.reports()] == ["2020-11"]
    assert snapshot.indicator("t.x") is None, "recorded after known_at"
    assert StaticSnapshot(HALFWAY, indicators={"t.x": reading}).indicator("t.x").value == 9
    assert StaticSnapshot(HALFWAY, indicators={"t.x": 5}).indicator("t.x").on == HALFWAY
