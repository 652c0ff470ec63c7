"""Working days by China's holiday arrangements, deadlines recorded with their rule, the calendar's
limit, and the 时限规则 that plugins declare."""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import date, timedelta

import chinese_calendar
import pytest
from typer.testing import CliRunner

import qingdan
import qingdan.plugins.general as general
from qingdan.calendar import (
    CALENDAR_VERSION,
    CalendarUnknown,
    add_working_days,
    is_working_day,
    supported_years,
    working_days_between,
)
from qingdan.core import calendar as core_calendar
from qingdan.core.plugins import Catalogue, create_plugin_manager
from qingdan.core.spec import DeadlineRule
from qingdan.testing import StaticSnapshot, make_hazard
from tests.conftest import event_count

D = date


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


# -- the calendar ---------------------------------------------------------------------------------


def test_the_2020_national_day_week_and_its_working_weekend_days():
    """国庆节、中秋节 2020: 10月1日至8日放假，9月27日（星期日）、10月10日（星期六）上班."""
    assert is_working_day(D(2020, 9, 27)) and D(2020, 9, 27).weekday() == 6
    assert is_working_day(D(2020, 10, 10)) and D(2020, 10, 10).weekday() == 5
    assert [d for d in days(D(2020, 9, 26), D(2020, 10, 11)) if is_working_day(d)] == [
        D(2020, 9, 27), D(2020, 9, 28), D(2020, 9, 29), D(2020, 9, 30), D(2020, 10, 9), D(2020, 10, 10)]
    # 15 working days from Thursday 24 September: 25, 27 (Sun), 28, 29, 30, 9 Oct, 10 (Sat), 12 … 21.
    assert add_working_days(D(2020, 9, 24), 15) == D(2020, 10, 21)
    assert add_working_days(D(2020, 9, 30), 1) == D(2020, 10, 9)
    assert add_working_days(D(2020, 9, 26), 1) == D(2020, 9, 27)  # a Saturday off, the Sunday worked
    assert working_days_between(D(2020, 9, 24), D(2020, 10, 21)) == 15
    assert working_days_between(D(2020, 9, 30), D(2020, 10, 8)) == 0
    assert add_working_days(D(2020, 10, 21), 0) == D(2020, 10, 21)


def test_the_2021_spring_festival_week_and_its_working_weekend_days():
    """春节 2021: 2月11日至17日放假，2月7日（星期日）、2月20日（星期六）上班."""
    assert is_working_day(D(2021, 2, 7)) and D(2021, 2, 7).weekday() == 6
    assert is_working_day(D(2021, 2, 20)) and D(2021, 2, 20).weekday() == 5
    assert not any(is_working_day(d) for d in days(D(2021, 2, 11), D(2021, 2, 17)))
    assert add_working_days(D(2021, 2, 5), 1) == D(2021, 2, 7)
    assert add_working_days(D(2021, 2, 10), 1) == D(2021, 2, 18)
    assert add_working_days(D(2021, 2, 19), 1) == D(2021, 2, 20)
    assert add_working_days(D(2021, 2, 5), 5) == D(2021, 2, 18)  # 7, 8, 9, 10, (holiday), 18
    assert working_days_between(D(2021, 2, 20), D(2021, 2, 5)) == -7  # 7, 8, 9, 10, 18, 19, 20


def test_a_deadline_across_the_year_boundary():
    # 31 December 2020 is worked, 1–3 January 2021 are the New Year holiday.
    assert add_working_days(D(2020, 12, 30), 3) == D(2021, 1, 5)
    assert working_days_between(D(2020, 12, 30), D(2021, 1, 5)) == 3
    assert working_days_between(D(2020, 12, 1), D(2022, 1, 10)) == len(
        chinese_calendar.get_workdays(D(2020, 12, 2), D(2022, 1, 10)))


def test_counting_agrees_with_the_package_day_by_day():
    rng = random.Random(20201001)
    for _ in range(300):
        start = D(2019, 12, 1) + timedelta(days=rng.randrange(1200))
        n = rng.randrange(1, 60)
        due = add_working_days(start, n)
        assert is_working_day(due) and chinese_calendar.is_workday(due)
        assert sum(chinese_calendar.is_workday(d) for d in days(start + timedelta(days=1), due)) == n
        assert working_days_between(start, due) == n


def test_a_year_beyond_the_calendar_is_calendar_unknown_never_a_guess():
    first, last = supported_years()
    assert (first, last) == (min(chinese_calendar.constants.holidays).year,
                             max(chinese_calendar.constants.holidays).year)
    for unknown in (D(last + 1, 6, 1), D(first - 1, 6, 2), D(2099, 3, 2)):
        with pytest.raises(CalendarUnknown, match="不在已知的节假日安排之内") as caught:
            is_working_day(unknown)
        assert isinstance(caught.value, qingdan.QingdanError)
        assert CALENDAR_VERSION in str(caught.value) and "升级" in str(caught.value)
    with pytest.raises(CalendarUnknown, match=f"延伸到 {last + 1}-01-01"):
        add_working_days(D(last, 12, 20), 15)
    with pytest.raises(CalendarUnknown):
        working_days_between(D(last, 12, 1), D(last + 1, 1, 10))
    with pytest.raises(qingdan.InvalidCommand):
        add_working_days(D(2020, 9, 1), -1)


def test_the_calendar_version_is_the_installed_package():
    import importlib.metadata

    assert CALENDAR_VERSION == importlib.metadata.version("chinesecalendar")
    assert tuple(int(p) for p in CALENDAR_VERSION.split(".")[:2]) >= (1, 11)


# -- deadlines recorded with their rule ---------------------------------------------------------------


def _hazard(ledger, clock, found: date | None = None) -> str:
    found = found or D(2020, 9, 24)
    clock.set(f"{found} 09:00")
    return ledger.report_hazard(campaign="fire", unit="南阳镇农贸市场", description="疏散通道堵塞",
                                found_on=found)


def test_a_deadline_in_working_days_is_recorded_with_its_rule(ledger, clock):
    number = _hazard(ledger, clock)
    clock.set("2020-09-25 10:00")
    ledger.plan_rectification(number, responsible_unit="农贸市场", deadline_working_days=15, on=D(2020, 9, 24))
    row = ledger.hazard(number)
    assert row.deadline == D(2020, 10, 21)
    assert row.deadline_rule == "15个工作日（至2020-10-21）"
    planned = ledger.history(number)[1]
    assert planned.data["deadline"] == D(2020, 10, 21)
    assert planned.data["deadline_rule"] == {"working_days": 15, "from": "2020-09-24", "calendar": CALENDAR_VERSION}
    # a later plan with a date replaces the rule: the date is a date
    ledger.plan_rectification(number, deadline=D(2020, 10, 23))
    assert ledger.hazard(number).deadline_rule is None
    assert ledger.hazard(number, as_of=D(2020, 9, 24)).deadline_rule == "15个工作日（至2020-10-21）"


def test_working_days_are_counted_from_the_plans_effective_date(ledger, clock):
    number = _hazard(ledger, clock, D(2020, 9, 21))
    clock.set("2020-09-30 10:00")
    ledger.plan_rectification(number, deadline_working_days=1)  # on = today, 30 September
    assert ledger.hazard(number).deadline == D(2020, 10, 9)


def test_both_forms_of_deadline_at_once_or_none_for_an_extension_are_rejected(ledger, clock):
    number = _hazard(ledger, clock)
    clock.set("2020-09-25 10:00")
    before = event_count(ledger)
    with pytest.raises(qingdan.InvalidCommand, match="只能填写日期或工作日数中的一项"):
        ledger.plan_rectification(number, deadline=D(2020, 10, 9), deadline_working_days=5)
    with pytest.raises(qingdan.InvalidCommand, match="整改期限（工作日数）：不能小于 1"):
        ledger.plan_rectification(number, deadline_working_days=0)
    with pytest.raises(qingdan.InvalidCommand, match="工作日数"):
        ledger.plan_rectification(number, deadline_working_days=True)
    ledger.plan_rectification(number, deadline_working_days=5, on=D(2020, 9, 24))
    with pytest.raises(qingdan.InvalidCommand, match="延至的日期或延期的工作日数"):
        ledger.request_extension(number, reason="材料未到")
    with pytest.raises(qingdan.InvalidCommand, match="只能填写日期或工作日数中的一项"):
        ledger.request_extension(number, reason="材料未到", deadline=D(2020, 11, 1), deadline_working_days=3)
    assert event_count(ledger) == before + 1


def test_an_extension_in_working_days_runs_from_the_deadline_in_force(ledger, clock):
    number = _hazard(ledger, clock)
    clock.set("2020-09-25 10:00")
    ledger.plan_rectification(number, deadline_working_days=15, on=D(2020, 9, 24))
    clock.set("2020-10-19 10:00")
    ledger.request_extension(number, deadline_working_days=5, reason="设备采购")
    row = ledger.hazard(number)
    assert row.extension_pending == D(2020, 10, 28) and row.deadline == D(2020, 10, 21)
    assert ledger.history(number)[-1].data["deadline_rule"]["from"] == "2020-10-21"
    ledger.decide_extension(number, approved=True)
    row = ledger.hazard(number)
    assert (row.deadline, row.deadline_rule) == (D(2020, 10, 28), "5个工作日（至2020-10-28）")
    # a refused one leaves the deadline and its rule as they were
    ledger.request_extension(number, deadline=D(2020, 11, 30), reason="再延")
    ledger.decide_extension(number, approved=False)
    assert ledger.hazard(number).deadline_rule == "5个工作日（至2020-10-28）"
    # a corrected deadline is a date, no longer the rule's
    ledger.correct(number, field="deadline", value=D(2020, 10, 30), reason="登记错误")
    assert ledger.hazard(number).deadline_rule is None
    assert ledger.verify_integrity().ok


def test_the_recorded_deadline_survives_a_calendar_change(ledger, clock, monkeypatch):
    """A later chinesecalendar (here: one that knows no holidays at all) never moves a deadline
    already recorded — not on reading, not after rebuilding the view, not under verify."""
    number = _hazard(ledger, clock)
    clock.set("2020-09-25 10:00")
    ledger.plan_rectification(number, deadline_working_days=15, on=D(2020, 9, 24))
    monkeypatch.setattr(chinese_calendar, "is_workday", lambda d: d.weekday() < 5)
    monkeypatch.setattr(core_calendar, "calendar_version", lambda: "99.0")  # a newer release
    assert core_calendar.add_working_days(D(2020, 9, 24), 15) == D(2020, 10, 15), "the new calendar is in force"
    assert ledger.hazard(number).deadline == D(2020, 10, 21)
    assert ledger.hazard(number).deadline_rule == "15个工作日（至2020-10-21）"
    ledger.rebuild()
    assert ledger.hazard(number).deadline == D(2020, 10, 21)
    assert ledger.two_lists(as_of=D(2020, 10, 20)).hazards[0].deadline == D(2020, 10, 21)
    assert ledger.history(number)[1].data["deadline_rule"]["calendar"] == CALENDAR_VERSION
    assert ledger.verify_integrity().ok
    # new deadlines are counted, and recorded, by the new calendar
    other = _hazard(ledger, clock)
    clock.set("2020-09-25 11:00")
    ledger.plan_rectification(other, deadline_working_days=15, on=D(2020, 9, 24))
    assert ledger.hazard(other).deadline == D(2020, 10, 15)
    assert ledger.history(other)[1].data["deadline_rule"]["calendar"] == "99.0"


def test_a_deadline_the_calendar_cannot_count_is_refused_and_nothing_is_written(ledger, clock):
    last = supported_years()[1]
    clock.set(f"{last}-12-21 09:00")
    number = ledger.report_hazard(campaign="fire", unit="甲", description="乙")
    before = event_count(ledger)
    with pytest.raises(CalendarUnknown, match="请升级 chinesecalendar"):
        ledger.plan_rectification(number, deadline_working_days=15)
    assert event_count(ledger) == before
    ledger.plan_rectification(number, deadline=D(last + 1, 1, 15))  # a date is always accepted


def _rewrite_state(path: str, topic_like: str, change) -> int:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT rowid, state FROM stored_events WHERE topic LIKE ?", (topic_like,)).fetchall()
        for rowid, state in rows:
            data = json.loads(state)
            change(data)
            conn.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (json.dumps(data).encode(), rowid))
    return len(rows)


def test_plans_and_extensions_stored_before_the_rule_are_upcast(tmp_path, clock, catalogue):
    path = str(tmp_path / "old.db")
    with qingdan.open_ledger(path, clock=clock, catalogue=catalogue) as ledger:
        number = _hazard(ledger, clock)
        clock.set("2020-09-25 10:00")
        ledger.plan_rectification(number, deadline=D(2020, 10, 9))
        ledger.request_extension(number, deadline=D(2020, 10, 30), reason="设备采购")

    def to_v1(data):
        data.pop("deadline_rule")
        data.pop("class_version", None)

    assert _rewrite_state(path, "%Hazard.RectificationPlanned", to_v1) == 1
    assert _rewrite_state(path, "%Hazard.ExtensionRequested", to_v1) == 1
    with qingdan.open_ledger(path, clock=clock, catalogue=catalogue) as ledger:
        history = ledger.history(number)
        assert [e.data["deadline_rule"] for e in history[1:]] == [None, None]
        row = ledger.hazard(number)  # folded from the stored (upcast) events
        assert (row.deadline, row.deadline_rule, row.extension_pending) == (D(2020, 10, 9), None, D(2020, 10, 30))


def test_the_cli_takes_a_deadline_in_working_days(tmp_path):
    from qingdan.cli import app

    runner = CliRunner()
    db = str(tmp_path / "cli.db")

    def qd(*args, code=0):
        result = runner.invoke(app, ["--db", db, "--actor", "安监办张三", *args])
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result

    number = qd("hazard", "report", "-c", "fire", "-u", "农贸市场", "-d", "通道堵塞", "--found-on",
                "2020-09-24").stdout.strip()
    planned = qd("hazard", "plan", number, "--deadline", "15个工作日", "--on", "2020-09-24")
    assert "15个工作日（至2020-10-21）" in planned.stderr
    row = json.loads(qd("hazard", "show", number, "-f", "json").stdout)
    assert row["deadline"] == "2020-10-21" and row["deadline_rule"] == "15个工作日（至2020-10-21）"
    extended = qd("hazard", "extend", number, "--deadline", "5工作日", "--reason", "设备采购", "--on", "2020-10-19")
    assert "5个工作日，至 2020-10-28" in extended.stderr
    qd("hazard", "decide-extension", number, "--approve", "--on", "2020-10-20")
    qd("hazard", "plan", number, "--deadline", "2020年11月2日", "--on", "2020-10-21")
    row = json.loads(qd("hazard", "show", number, "-f", "json").stdout)
    assert row["deadline"] == "2020-11-02" and row["deadline_rule"] is None
    assert "--deadline" in qd("hazard", "plan", number, "--deadline", "15个星期", code=2).stderr


# -- 时限规则 ----------------------------------------------------------------------------------------

RULES = {r.id: r for r in general.qingdan_deadline_rules()}


def run(rule_id: str, as_of: date, *hazards):
    return list(RULES[rule_id].check().run(StaticSnapshot(as_of, hazards=hazards)))


def test_a_major_hazard_must_have_its_five_parts_within_15_working_days_of_being_found():
    rule = RULES["general.major_five_in_place_within"]
    assert rule.inferred and "推定" in rule.title and rule.source.startswith("总体方案 四(三)")
    found = make_hazard("fire", "H-fire-2020-0001", level="重大", found_on=D(2020, 9, 24),
                        missing_parts=("funds", "contingency"))
    assert rule.due(found) == D(2020, 10, 21)
    assert run(rule.id, D(2020, 10, 21), found) == []  # the last day is still in time
    [finding] = run(rule.id, D(2020, 10, 22), found)
    assert (finding.subject, finding.campaign, finding.severity) == ("H-fire-2020-0001", "fire", "严重")
    assert "至 2020-10-21" in finding.message and "资金、预案" in finding.message
    in_place = found.model_copy(update={"five_in_place": True, "missing_parts": ()})
    ordinary = found.model_copy(update={"level": "一般", "number": "H-fire-2020-0002"})
    closed = found.model_copy(update={"status": "closed", "number": "H-fire-2020-0003"})
    assert run(rule.id, D(2020, 12, 1), in_place, ordinary, closed) == []


def test_an_escalated_hazard_reports_progress_every_20_working_days():
    rule = RULES["general.escalated_progress_every"]
    escalated = make_hazard("road", "H-road-2020-0001", level="重大", status="rectifying", escalated=True,
                            escalated_on=D(2020, 9, 24))
    # 25, 27 (Sun), 28, 29, 30 September, 9, 10 (Sat) October … the 20th working day is 28 October
    assert rule.due(escalated) == D(2020, 10, 28)
    assert run(rule.id, D(2020, 10, 28), escalated) == []
    [finding] = run(rule.id, D(2020, 10, 29), escalated)
    assert finding.campaign == "road" and "尚未报告进展" in finding.message and "2020-10-28 前" in finding.message
    reported = escalated.model_copy(update={"last_progress_on": D(2020, 10, 27)})
    assert run(rule.id, D(2020, 10, 29), reported) == []
    assert rule.due(reported) == add_working_days(D(2020, 10, 27), 20) == D(2020, 11, 24)
    done = escalated.model_copy(update={"status": "awaiting_verification"})
    not_escalated = make_hazard("road", "H-road-2020-0002", status="rectifying")
    assert run(rule.id, D(2021, 3, 1), done, not_escalated) == []


def test_a_rule_beyond_the_calendar_says_so_once_instead_of_guessing():
    last = supported_years()[1]
    rule = RULES["general.major_five_in_place_within"]
    hazards = [make_hazard("fire", f"H-fire-{last}-000{i}", level="重大", found_on=D(last, 12, 1)) for i in (1, 2)]
    [finding] = run(rule.id, D(last + 1, 2, 1), *hazards)
    assert finding.subject == rule.id and finding.severity == "提示" and "2 条隐患" in finding.message
    # judged all the same while the days up to as_of are known, though the due date is not
    late = make_hazard("fire", "H-fire-x", level="重大", found_on=D(last, 12, 10))
    assert run(rule.id, D(last, 12, 31), late) == []


def test_the_catalogue_collects_deadline_rules_and_makes_them_checks():
    catalogue = Catalogue.from_plugin_manager(create_plugin_manager(load=["general"]))
    assert set(catalogue.deadline_rules) == set(RULES)
    for rule_id in RULES:
        assert catalogue.checks[rule_id].title == RULES[rule_id].title
        assert catalogue.owner("deadline_rule", rule_id) == "general"


def test_a_deadline_rule_id_that_clashes_with_a_check_names_both_plugins():
    from qingdan.core.errors import PluginError
    from qingdan.core.hookspecs import hookimpl

    class Clash:
        @hookimpl
        def qingdan_deadline_rules(self):
            return [DeadlineRule(id="general.major_not_escalated", campaign="general", title="重复",
                                 source="测试", applies_to=lambda h: True, working_days=5,
                                 from_field="found_on", what="five_in_place")]

    with pytest.raises(PluginError, match="重复"):
        Catalogue.from_plugin_manager(create_plugin_manager(load=["general"], extra=[Clash()]))


def test_a_rule_must_count_from_a_date_field():
    with pytest.raises(ValueError, match="not a date field"):
        DeadlineRule(id="x.y", campaign="x", title="t", source="s", applies_to=lambda h: True,
                     working_days=5, from_field="unit", what="progress")


def test_the_rules_run_in_a_ledger(ledger, clock):
    catalogue = ledger.catalogue
    for rule in RULES.values():
        catalogue.checks[rule.id] = rule.check()
    number = _hazard(ledger, clock)
    clock.set("2020-09-24 10:00")
    ledger.correct(number, field="level", value="重大", reason="定级")
    clock.set("2020-09-25 10:00")
    ledger.escalate(number, supervisor="镇安委会", on=D(2020, 9, 25))
    found = {f.check: f for f in ledger.findings(as_of=D(2020, 11, 2))}
    assert "general.major_five_in_place_within" in found
    clock.set("2020-10-30 10:00")
    before = clock.mark()
    ledger.report_progress(number, text="已清理", on=D(2020, 10, 30))
    assert ledger.hazard(number).last_progress_on == D(2020, 10, 30)
    assert ledger.hazard(number).escalated_on == D(2020, 9, 25)
    # escalated 25 September: the 20th working day after it is 29 October
    assert "general.escalated_progress_every" not in {f.check for f in ledger.findings(as_of=D(2020, 10, 29))}
    assert "general.escalated_progress_every" not in {f.check for f in ledger.findings(as_of=D(2020, 10, 30))}
    late = ledger.findings(as_of=D(2020, 10, 30), known_at=before)  # before the report was recorded
    assert "general.escalated_progress_every" in {f.check for f in late}
