"""报送 and 回头看 that an auditor can believe: recorded time follows the log whatever the clerks'
clocks say, a submission digests exactly what the ledger held when it was recorded, a resubmission
never hides the original."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qingdan
from qingdan import InvalidCommand, NotFound
from qingdan.core.domain import CST
from tests.conftest import Clock, event_count, make_catalogue


def log_times(ledger) -> list[tuple[int, datetime]]:
    """(position, recorded time) of every stored event, in log order (the event feed)."""
    return [(e.position, e.recorded_at) for e in ledger.events()]


def assert_time_follows_the_log(ledger) -> None:
    times = [t for _, t in log_times(ledger)]
    assert times == sorted(times), "a later event in the log was recorded earlier"


def test_a_clerk_with_a_slow_clock_cannot_slip_an_event_into_a_submitted_list(ledger_url, catalogue):
    """A second clerk's PC is 5 s slow: what she registers after a submission is after it."""
    office = Clock(datetime(2020, 9, 25, 16, 0, tzinfo=CST))
    slow = Clock(datetime(2020, 9, 25, 16, 0, tzinfo=CST))
    with qingdan.open_ledger(ledger_url, actor="安委办", clock=office, catalogue=catalogue) as a, \
            qingdan.open_ledger(ledger_url, actor="村安全员", clock=slow, catalogue=catalogue) as b:
        a.report_hazard(campaign="fire", unit="农贸市场", description="通道堵塞", found_on=date(2020, 9, 1))
        office.set("2020-09-25 16:00:10")
        a.submit_report(period="2020-09")
        slow.set("2020-09-25 16:00:05")  # 5 s behind the office, but really after the submission
        late = b.report_hazard(campaign="fire", unit="东港小学", description="电线老化",
                               found_on=date(2020, 9, 20))
        report = a.report("2020-09")
        assert b.history(late)[0].recorded_at > report.known_at
        diff = a.report_diff("2020-09")
        assert diff.digest_matches
        assert [(d.number, d.change) for d in diff.differences] == [(late, "added")]
        result = a.verify_integrity()
        assert result.ok, result.problems
        assert_time_follows_the_log(a)


def test_the_submitted_lists_are_exactly_what_was_recorded_before_the_submission(ledger, clock):
    clock.set("2020-09-10 10:00")
    ledger.report_hazard(campaign="fire", unit="甲", description="一", found_on=date(2020, 9, 1))
    clock.set("2020-09-25 10:00")
    seen = []
    ledger.submit_report(period="2020-09", prepare=seen.append)
    report = ledger.report("2020-09")
    assert [h.number for h in seen[0].hazards] == [h.number for h in
                                                    ledger.two_lists(as_of=report.as_of).hazards]
    hazard_recorded = ledger.history(seen[0].hazards[0].number)[0].recorded_at
    assert report.known_at == hazard_recorded  # the last fact the lists include
    assert report.submitted_at == ledger.history("R-2020-09")[0].recorded_at > report.known_at


def test_a_first_submission_of_an_empty_ledger_is_known_at_its_own_time(ledger, clock):
    clock.set("2020-09-25 10:00")
    ledger.submit_report(period="2020-09")
    report = ledger.report("2020-09")
    assert report.known_at == report.submitted_at
    assert report.hazard_count == 0 and ledger.report_diff("2020-09").digest_matches


def test_a_failing_prepare_records_nothing(ledger, clock):
    clock.set("2020-09-10 10:00")
    ledger.report_hazard(campaign="fire", unit="甲", description="一", found_on=date(2020, 9, 1))
    clock.set("2020-09-25 10:00")
    before = event_count(ledger)

    def broken(lists):
        raise OSError("磁盘已满")

    with pytest.raises(OSError):
        ledger.submit_report(period="2020-09", prepare=broken)
    assert event_count(ledger) == before
    assert ledger.reports() == []


def test_a_second_submission_needs_a_reason_and_keeps_the_original_comparable(ledger, clock):
    found = date(2020, 9, 1)
    clock.set("2020-09-10 10:00")
    first = ledger.report_hazard(campaign="fire", unit="甲", description="一", found_on=found)
    clock.set("2020-09-25 16:00")
    ledger.submit_report(period="2020-09")
    clock.set("2020-10-10 09:00")
    late = [ledger.report_hazard(campaign="fire", unit=f"补{i}", description="补报",
                                 found_on=date(2020, 9, 10 + i)) for i in range(3)]
    before = event_count(ledger)
    with pytest.raises(InvalidCommand, match="已报送 1 次"):
        ledger.submit_report(period="2020-09", as_of=date(2020, 9, 25))  # e.g. a mistyped period
    assert event_count(ledger) == before  # rejected: nothing written
    ledger.submit_report(period="2020-09", as_of=date(2020, 9, 25), resubmit_reason="补报三条隐患")

    rows = ledger.reports(period="2020-09")
    assert [(r.submission, r.hazard_count, r.resubmit_reason) for r in rows] == [
        (1, 1, None), (2, 4, "补报三条隐患")]
    assert ledger.report_diff("2020-09").differences == ()  # the latest: nothing since
    original = ledger.report_diff("2020-09", submission=1)
    assert original.report.submission == 1
    assert original.digest_matches
    assert sorted(d.number for d in original.differences) == sorted(late)
    assert first not in {d.number for d in original.differences}
    with pytest.raises(NotFound, match="没有第 3 次"):
        ledger.report_diff("2020-09", submission=3)
    with pytest.raises(InvalidCommand, match="首次报送无需填写"):
        ledger.submit_report(period="2020-10", resubmit_reason="无")
    assert ledger.verify_integrity().ok


# -- concurrency with skewed clocks -------------------------------------------------------------

WRITERS = 8
ROUNDS = 6


def _skewed_writer(url: str, writer: int, queue) -> None:
    """A clerk whose PC clock is off by up to ±5 s: registers, plans and submits her own period."""
    try:
        offset = timedelta(seconds=(writer % 5) - 2.5) * 2

        def clock() -> datetime:
            return datetime.now(UTC) + offset

        period = f"2020-{writer + 1:02d}"
        with qingdan.open_ledger(url, actor=f"clerk{writer}", clock=clock,
                                 catalogue=make_catalogue()) as ledger:
            for i in range(ROUNDS):
                number = ledger.report_hazard(campaign="fire", unit=f"单位{writer}", description=str(i),
                                              found_on=date(2020, 1, 1) + timedelta(days=writer * 30 + i))
                ledger.plan_rectification(number, responsible_unit="镇安监局")
                ledger.submit_report(period=period, as_of=date(2020, writer + 1, 28),
                                     resubmit_reason=None if i == 0 else f"第 {i + 1} 次")
        queue.put(("ok", []))
    except Exception as error:  # reported to the parent, which fails the test
        queue.put(("error", repr(error)))


def test_concurrent_submitters_with_skewed_clocks_pass_verify(ledger_url):
    with qingdan.open_ledger(ledger_url, catalogue=make_catalogue()):
        pass
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_skewed_writer, args=(ledger_url, w, queue)) for w in range(WRITERS)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=240) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert [r for r in results if r[0] != "ok"] == []
    with qingdan.open_ledger(ledger_url, catalogue=make_catalogue()) as ledger:
        assert len(ledger.reports()) == WRITERS * ROUNDS
        assert_time_follows_the_log(ledger)
        for report in ledger.reports():
            assert ledger.report_diff(report.period, submission=report.submission).digest_matches
        result = ledger.verify_integrity()
        assert result.ok, result.problems


# -- property: whatever the clocks do, known_at and the log agree ------------------------------

steps = st.lists(st.tuples(st.integers(0, 2), st.integers(-30, 30), st.sampled_from(
    ["report", "plan", "submit", "correct"])), min_size=3, max_size=14)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps)
def test_any_clock_skew_keeps_recorded_time_in_log_order(tmp_path_factory, steps):
    url = str(tmp_path_factory.mktemp("skew") / "ledger.db")
    base = datetime(2020, 9, 25, 12, 0, tzinfo=CST)
    clocks = [Clock(base) for _ in range(3)]
    ledgers = [qingdan.open_ledger(url, actor=f"clerk{i}", clock=c, catalogue=make_catalogue())
               for i, c in enumerate(clocks)]
    try:
        numbers: list[str] = []
        submitted = 0
        for step, (who, seconds, action) in enumerate(steps):
            clocks[who].set(base + timedelta(seconds=5 * step + seconds))  # often behind the last
            ledger = ledgers[who]
            if action == "report" or not numbers:
                numbers.append(ledger.report_hazard(campaign="fire", unit=f"u{step}", description="d",
                                                    found_on=date(2020, 9, 1 + step % 20)))
            elif action == "plan":
                ledger.plan_rectification(numbers[-1], measures=f"措施{step}")
            elif action == "correct":
                ledger.correct(numbers[0], field="description", value=f"更正{step}", reason="笔误")
            else:
                ledger.submit_report(period="2020-09", as_of=date(2020, 9, 25),
                                     resubmit_reason=f"第{submitted + 1}次" if submitted else None)
                submitted += 1
        auditor = ledgers[0]
        assert_time_follows_the_log(auditor)
        reports = auditor.reports()
        assert len(reports) == submitted
        for report in reports:
            assert auditor.report_diff("2020-09", submission=report.submission).digest_matches
        assert auditor.verify_integrity().ok
    finally:
        for ledger in ledgers:
            ledger.disconnect()
