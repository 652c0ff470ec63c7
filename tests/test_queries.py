"""Queries from the materialised view: the two lists, statistics, reports and the 回头看 diff."""

from __future__ import annotations

from datetime import date

import pytest

import qingdan
from qingdan import InvalidCommand, NotFound


@pytest.fixture
def township(ledger, clock):
    """Three hazards and a measure across two campaigns and two villages, September 2020."""
    clock.set("2020-09-01 10:00")
    a = ledger.report_hazard(campaign="fire", unit="农贸市场", village="南阳村", description="通道堵塞",
                             level="重大")
    b = ledger.report_hazard(campaign="fire", unit="幸福超市", village="东港村", description="灭火器过期")
    c = ledger.report_hazard(campaign="hazchem", unit="南阳化工", village="南阳村", description="储罐泄漏")
    ledger.plan_rectification(a, responsible_unit="镇市场监管分局", deadline=date(2020, 9, 10))
    ledger.plan_rectification(b, responsible_unit="幸福超市", deadline=date(2020, 9, 30))
    m = ledger.add_measure(campaign="fire", title="农贸市场消防管理制度", department="镇市场监管分局",
                           due=date(2020, 9, 20))
    clock.set("2020-09-15 10:00")
    ledger.complete_rectification(b)
    ledger.verify(b, passed=True, inspector="王五")
    ledger.close(b)
    return a, b, c, m


def test_two_lists_as_of_a_date_with_filters(ledger, township):
    a, b, c, m = township
    lists = ledger.two_lists(as_of=date(2020, 9, 20))
    assert [h.number for h in lists.hazards] == sorted([a, b, c])
    assert [x.number for x in lists.measures] == [m]
    by_number = {h.number: h for h in lists.hazards}
    assert by_number[a].overdue and not by_number[b].overdue
    assert by_number[b].status == "closed"
    assert [h.number for h in ledger.two_lists(campaign="hazchem").hazards] == [c]
    assert [h.number for h in ledger.two_lists(village="南阳村").hazards] == sorted([a, c])
    dept = ledger.two_lists(department="镇市场监管分局")
    assert [h.number for h in dept.hazards] == [a] and [x.number for x in dept.measures] == [m]
    with pytest.raises(InvalidCommand, match="未知的专项"):
        ledger.two_lists(campaign="nope")


def test_overdue_is_derived_from_the_as_of_date(ledger, township):
    a, *_ = township
    assert ledger.overdue(as_of=date(2020, 9, 10)) == []
    assert [h.number for h in ledger.overdue(as_of=date(2020, 9, 11))] == [a]


def test_stats_rectification_rate_excludes_withdrawn(ledger, clock, township):
    a, b, c, m = township
    clock.set("2020-09-16 10:00")
    ledger.withdraw(c, reason="重复登记")
    s = ledger.stats(as_of=date(2020, 9, 20))
    assert (s.hazards_found, s.hazards_withdrawn, s.hazards_closed) == (3, 1, 1)
    assert s.rectification_rate == pytest.approx(0.5)
    assert (s.major_open, s.major_overdue) == (1, 1)
    assert s.by_campaign == {"fire": 2}
    assert s.by_status == {"closed": 1, "rectifying": 1, "withdrawn": 1}
    assert s.measures_by_status == {"planned": 1}
    earlier = ledger.stats(as_of=date(2020, 9, 20), known_at=date(2020, 9, 15))
    assert (earlier.hazards_withdrawn, earlier.rectification_rate) == (0, pytest.approx(1 / 3))


def test_report_submission_and_lookback_diff(ledger, clock, township):
    a, b, c, m = township
    clock.set("2020-09-25 16:00")
    number = ledger.submit_report(period="2020-09")
    assert number == "R-2020-09"
    report = ledger.report("2020-09")
    assert (report.as_of, report.hazard_count, report.measure_count) == (date(2020, 9, 25), 3, 1)
    assert ledger.report_diff("2020-09").differences == ()
    assert ledger.report_diff("2020-09").digest_matches

    # Later we learn things about 2020-09-25: a back-dated hazard, a correction, a withdrawal.
    clock.set("2020-11-02 10:00")
    late = ledger.report_hazard(campaign="fire", unit="东港小学", description="电线老化",
                                found_on=date(2020, 9, 20))
    ledger.correct(a, field="unit", value="南阳农贸市场", reason="单位名称登记有误")
    ledger.withdraw(c, reason="与危化专项重复", on=date(2020, 9, 24))
    ledger.issue_measure(m, doc_no="南市监〔2020〕8号")  # after the date: no difference

    diff = ledger.report_diff("2020-09")
    assert diff.digest_matches  # what was handed in is still reconstructed exactly
    changes = {(d.number, d.change) for d in diff.differences}
    assert changes == {(late, "added"), (a, "changed"), (c, "removed")}
    changed = next(d for d in diff.differences if d.number == a)
    assert [(f.field, f.before, f.after) for f in changed.fields] == [("unit", "农贸市场", "南阳农贸市场")]
    assert [e["type"] for e in changed.events] == ["Corrected"]
    assert changed.events[0]["data"]["reason"] == "单位名称登记有误"
    added = next(d for d in diff.differences if d.number == late)
    assert [e["type"] for e in added.events] == ["Reported"]


def test_resubmission_is_a_new_event_not_an_edit(ledger, clock, township):
    clock.set("2020-09-25 16:00")
    ledger.submit_report(period="2020-09")
    clock.set("2020-09-26 09:00")
    ledger.report_hazard(campaign="fire", unit="补报单位", description="补报", found_on=date(2020, 9, 24))
    ledger.submit_report(period="2020-09", as_of=date(2020, 9, 25), resubmit_reason="补报一条隐患")
    report = ledger.report("2020-09")
    assert (report.submission, report.hazard_count, report.submitted_on) == (2, 4, date(2020, 9, 26))
    assert report.resubmit_reason == "补报一条隐患"
    original = ledger.report("2020-09", submission=1)
    assert (original.hazard_count, original.submitted_on, original.resubmit_reason) == (
        3, date(2020, 9, 25), None)
    assert [e.type for e in ledger.history("R-2020-09")] == ["Submitted", "Resubmitted"]
    with pytest.raises(NotFound, match="2020-10 的两个清单尚未报送"):
        ledger.report("2020-10")


def test_rebuild_gives_the_same_view_as_incremental_maintenance(ledger, clock, township):
    clock.set("2020-10-01 10:00")
    ledger.correct(township[0], field="level", value="一般", reason="复核")
    probes = [(date(2020, 9, d), k) for d in (1, 10, 15, 30) for k in (None, date(2020, 9, 12))]

    def everything():
        return [(ledger.two_lists(as_of=a, known_at=k, include_withdrawn=True),
                 ledger.stats(as_of=a, known_at=k)) for a, k in probes]

    before = everything()
    rows_before = ledger._view.store.query("SELECT COUNT(*) FROM qd_versions")[0][0]
    seen = []
    applied = ledger.rebuild(progress=lambda done, total: seen.append((done, total)))
    assert applied == ledger._view.max_position() and seen[-1][0] == seen[-1][1]
    assert everything() == before
    assert ledger._view.store.query("SELECT COUNT(*) FROM qd_versions")[0][0] == rows_before


def test_two_ledger_objects_on_one_database_see_each_others_writes(ledger_url, clock, catalogue):
    clock.set("2020-09-01 10:00")
    with qingdan.open_ledger(ledger_url, clock=clock, catalogue=catalogue) as one, \
            qingdan.open_ledger(ledger_url, clock=clock, catalogue=catalogue) as two:
        n = one.report_hazard(campaign="fire", unit="甲", description="x")
        assert [h.number for h in two.two_lists().hazards] == [n]
        two.plan_rectification(n, deadline=date(2020, 9, 30))
        assert one.two_lists().hazards[0].deadline == date(2020, 9, 30)


def test_tasks_units_and_indicators_as_of_a_date(ledger, clock):
    clock.set("2020-08-01 09:00")
    u = ledger.register_unit(name="南阳化工", kind="企业", attributes={"风险等级": "红"})
    clock.set("2020-10-01 09:00")
    ledger.set_unit_attributes(u, attributes={"风险等级": "黄"}, on=date(2020, 9, 15))
    ledger.report_task_progress("fire-1", text="摸底", percent=40, on=date(2020, 9, 1))
    ledger.record_indicator("fire-officers", value=7, on=date(2020, 9, 30))
    assert [x.attributes["风险等级"] for x in ledger.units(as_of=date(2020, 9, 14))] == ["红"]
    assert [x.number for x in ledger.units(风险等级="黄")] == [u]
    assert ledger.units(kind="船舶") == []
    task = ledger.tasks(as_of=date(2020, 9, 1))[0]
    assert (task.id, task.status, task.percent) == ("fire-1", "in_progress", 40)
    assert ledger.tasks(as_of=date(2020, 8, 31))[0].status == "not_started"
    assert ledger.snapshot(as_of=date(2020, 9, 30)).indicator("fire-officers").value == 7
    assert ledger.snapshot(as_of=date(2020, 9, 29)).indicator("fire-officers") is None

    def officers(on):
        return next(t for t in ledger.targets(as_of=on) if t.id == "fire-officers")

    # Goal 10 by 2021-06-30 from the campaign start 2020-07-01: 7 is ahead of the line in 2020,
    # behind it in May 2021, and missed after the due date.
    assert (officers(date(2020, 9, 30)).value, officers(date(2020, 9, 30)).state) == (7, "on_track")
    assert officers(date(2020, 9, 29)).state == "no_data"
    clock.set("2021-07-05 09:00")
    assert officers(date(2021, 5, 1)).state == "at_risk"
    assert officers(date(2021, 7, 1)).state == "missed"
    ledger.record_indicator("fire-officers", value=10, on=date(2021, 7, 2))
    assert officers(date(2021, 7, 2)).state == "met"


def test_two_lists_pages_through_the_rows_in_number_order(ledger, clock):
    clock.set("2020-09-10 10:00")
    with ledger.batch():
        numbers = [ledger.report_hazard(campaign="fire", unit=f"单位{i}", description="x",
                                        found_on=date(2020, 9, 1)) for i in range(7)]
    ledger.withdraw(numbers[1], reason="重复")
    live = [n for n in numbers if n != numbers[1]]
    pages = [ledger.two_lists(limit=3, offset=o).hazards for o in (0, 3, 6)]
    assert [[h.number for h in page] for page in pages] == [live[0:3], live[3:6], []]
    assert [h.number for h in ledger.two_lists(limit=2, include_withdrawn=True).hazards] == numbers[:2]
    by_number = [ledger.two_lists(limit=3, after=a).hazards for a in (None, live[2], live[5])]
    assert [[h.number for h in page] for page in by_number] == [live[0:3], live[3:6], []]
    assert [h.number for h in ledger.two_lists(after=numbers[0], include_withdrawn=True).hazards] == numbers[1:]
    with pytest.raises(InvalidCommand, match="分页参数"):
        ledger.two_lists(limit=-1)
    with pytest.raises(InvalidCommand, match="after 应为一个编号"):
        ledger.two_lists(after=" ")
