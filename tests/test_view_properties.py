"""The materialised view agrees with the reference fold on random histories (both backends).

Hypothesis generates command histories with back-dated effective dates, corrections, reopenings,
withdrawals, extensions, unit attribute changes, indicator readings and attachments, recorded over a
moving clock.
For random ``(as_of, known_at)`` pairs every query must equal what the reference fold
gives over all records. Rejected commands are part of the game: they must write nothing.
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import date, datetime, timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import qingdan
from qingdan.core.domain import CST
from qingdan.core.ledger import end_of_day
from qingdan.core.reference import fold_all
from tests.conftest import Clock, event_count, make_catalogue

START = date(2020, 7, 1)
EXAMPLES = int(os.environ.get("QINGDAN_PROPERTY_EXAMPLES", "25"))

OPS = ["report", "report", "plan", "plan", "escalate", "complete", "verify_ok", "verify_fail",
       "close", "reopen", "correct", "withdraw", "extend", "decide", "measure", "issue",
       "implement", "revise", "repeal", "unit", "unit_set", "unit_close", "indicator", "task", "attach"]

step = st.tuples(
    st.integers(0, 96),             # hours the clock moves before this command
    st.sampled_from(OPS),
    st.integers(0, 50),             # which record (modulo how many exist)
    st.sampled_from([0, 0, 0, 1, 2, 3, 7, 20, 60]),  # days back from today for the effective date
    st.integers(0, 3),              # a small choice (level, attribute value, approval …)
)


def run_history(ledger, clock: Clock, steps, batches=()) -> None:
    """Run the steps; ``batches`` marks steps that open a batch (one transaction, one recorded time)
    holding the following ``size`` steps."""
    opening = dict(batches)
    index = 0
    while index < len(steps):
        size = opening.get(index, 0)
        if size:
            with ledger.batch():
                _run_steps(ledger, clock, steps[index:index + size])
            index += size
        else:
            _run_steps(ledger, clock, steps[index:index + 1])
            index += 1


_state: dict = {}


def _run_steps(ledger, clock: Clock, steps) -> None:
    state = _state.setdefault(id(ledger), {"hazards": [], "measures": [], "units": [], "began": {}})
    hazards: list[str] = state["hazards"]
    measures: list[str] = state["measures"]
    units: list[str] = state["units"]
    began: dict[str | None, date] = state["began"]  # each record's first effective date
    for hours, op, which, back, choice in steps:
        clock.current += timedelta(hours=hours)
        today = clock.current.astimezone(CST).date()

        def pick(items, which=which):
            return items[which % len(items)] if items else None

        h, m, u = pick(hazards), pick(measures), pick(units)
        subject = {"plan": h, "escalate": h, "complete": h, "verify_ok": h, "verify_fail": h,
                   "close": h, "reopen": h, "correct": h, "withdraw": h, "extend": h, "decide": h,
                   "issue": m, "implement": m, "revise": m, "repeal": m, "unit_set": u,
                   "unit_close": u, "attach": h if choice % 2 == 0 else m}.get(op)
        on = max(began.get(subject, START), today - timedelta(days=back))
        before = event_count(ledger)
        try:
            if op == "report":
                hazards.append(created := ledger.report_hazard(
                    campaign=("fire", "hazchem")[choice % 2], unit=f"单位{which}",
                    description="隐患", level=("一般", "重大")[choice % 2], found_on=on,
                    village=("南阳村", "东港村")[which % 2]))
                began[created] = on
            elif op == "plan" and h:
                parts = [{"responsible_unit": "责任单位", "deadline": on + timedelta(days=10 + which)},
                         {"measures": "措施", "funds": float(which)},
                         {"contingency": "预案"},
                         {"deadline": on + timedelta(days=which)}][choice]
                ledger.plan_rectification(h, on=on, **parts)
            elif op == "escalate" and h:
                ledger.escalate(h, supervisor="镇安委会", on=on)
            elif op == "complete" and h:
                ledger.complete_rectification(h, on=on)
            elif op in ("verify_ok", "verify_fail") and h:
                ledger.verify(h, passed=op == "verify_ok", inspector="王五", on=on)
            elif op == "close" and h:
                ledger.close(h, on=on)
            elif op == "reopen" and h:
                ledger.reopen(h, reason="回头看", on=on)
            elif op == "correct" and h:
                field, value = [("level", "重大"), ("level", "一般"), ("unit", f"更正{which}"),
                                ("village", "西港村")][choice]
                ledger.correct(h, field=field, value=value, reason="更正")
            elif op == "withdraw" and h:
                ledger.withdraw(h, reason="重复", on=on)
            elif op == "extend" and h:
                ledger.request_extension(h, deadline=on + timedelta(days=60 + which), reason="延期", on=on)
            elif op == "decide" and h:
                ledger.decide_extension(h, approved=choice % 2 == 0, on=on)
            elif op == "measure":
                measures.append(created := ledger.add_measure(
                    campaign="fire", title=f"制度{which}", department="镇消防救援站",
                    due=on + timedelta(days=which), on=on))
                began[created] = on
            elif op == "issue" and m:
                ledger.issue_measure(m, doc_no=f"南发〔2020〕{which}号", on=on)
            elif op == "implement" and m:
                ledger.implement_measure(m, on=on)
            elif op == "revise" and m:
                ledger.revise_measure(m, reason="修订", title=f"修订{which}", on=on)
            elif op == "repeal" and m:
                ledger.repeal_measure(m, reason="废止", on=on)
            elif op == "unit":
                units.append(created := ledger.register_unit(
                    name=f"企业{which}", kind="企业", on=on, attributes={"风险等级": "红橙黄蓝"[choice]}))
                began[created] = on
            elif op == "unit_set" and u:
                ledger.set_unit_attributes(u, attributes={"风险等级": "红橙黄蓝"[choice],
                                                          "微型消防站": choice % 2 == 0}, on=on)
            elif op == "unit_close" and u:
                ledger.close_unit(u, reason="关停", on=on)
            elif op == "indicator":
                ledger.record_indicator("fire-officers", value=float(which), on=on)
            elif op == "attach" and subject:  # a document (the same one twice on a record is refused)
                ledger.attach(subject, data=b"%PDF-1.4\n" + f"{which % 7}".encode(), name=f"{which}.pdf",
                              kind=("整改前", "文书", "整改后", "验收")[choice], on=on)
            elif op == "task":
                if choice == 3:
                    ledger.complete_task("fire-1", on=on)
                else:
                    ledger.report_task_progress("fire-1", text=f"进展{which}", percent=choice * 30, on=on)
        except qingdan.InvalidCommand:
            assert event_count(ledger) == before, f"rejected {op} wrote events"


def assert_view_matches_reference(ledger, as_of: date, known_at: datetime | None) -> None:
    expected = fold_all(ledger._app, as_of, known_at)
    snap = ledger.snapshot(as_of=as_of, known_at=known_at)
    assert list(snap.hazards()) == expected["hazards"]
    assert list(snap.measures()) == expected["measures"]
    assert list(snap.all_units()) == expected["units"]
    for row in expected["hazards"]:  # one record as of a date is read from the view too
        assert ledger.hazard(row.number, as_of=as_of, known_at=known_at) == row
    for row in expected["measures"]:
        assert ledger.measure(row.number, as_of=as_of, known_at=known_at) == row
    tasks = {t.id: t for t in snap.tasks()}
    for task_id, state in expected["tasks"]:
        assert {k: getattr(tasks[task_id], k) for k in state} == state
    assert snap.indicator("fire-officers") == (expected["indicators"][0] if expected["indicators"] else None)
    lists = ledger.two_lists(as_of=as_of, known_at=known_at)
    assert list(lists.hazards) == [h for h in expected["hazards"] if h.status != "withdrawn"]
    assert ledger.overdue(as_of=as_of, known_at=known_at) == [
        h for h in expected["hazards"] if h.overdue and h.status != "withdrawn"]
    live = [h for h in expected["hazards"] if h.status != "withdrawn"]
    for size in (1, 3):  # page by page: after the last number of the page before, or by an offset
        for kind, whole in (("hazards", live), ("measures", expected["measures"])):
            pages, after = [], None
            while True:
                page = getattr(ledger.two_lists(as_of=as_of, known_at=known_at, limit=size, after=after), kind)
                pages += page
                if len(page) < size:
                    break
                after = page[-1].number
            assert pages == whole, (kind, size)
            assert [row for first in range(0, len(whole) + size, size) for row in getattr(
                ledger.two_lists(as_of=as_of, known_at=known_at, limit=size, offset=first), kind)] == whole
        # by an offset with the withdrawn ones, and within one campaign (offsets count runs, not rows)
        every = expected["hazards"]
        assert [row for first in range(0, len(every) + size, size) for row in ledger.two_lists(
            as_of=as_of, known_at=known_at, limit=size, offset=first, include_withdrawn=True).hazards] == every
        fire = [h for h in live if h.campaign == "fire"]
        assert [row for first in range(0, len(fire) + size, size) for row in ledger.two_lists(
            as_of=as_of, known_at=known_at, limit=size, offset=first, campaign="fire").hazards] == fire
    # The figures, from the whole lists this snapshot now holds and counted in the view afresh.
    hazards = expected["hazards"]
    major_open = [h for h in live if h.level == "重大" and h.status != "closed"]
    closed, withdrawn = sum(h.status == "closed" for h in hazards), len(hazards) - len(live)
    figures = {
        "hazards_found": len(hazards), "hazards_withdrawn": withdrawn, "hazards_closed": closed,
        "rectification_rate": closed / len(live) if live else None,
        "major_open": len(major_open), "major_overdue": sum(h.overdue for h in major_open),
        "overdue": sum(h.overdue for h in live),
        "by_campaign": dict(sorted(Counter(h.campaign for h in live).items())),
        "by_level": dict(sorted(Counter(h.level for h in live).items())),
        "by_status": dict(sorted(Counter(h.status for h in hazards).items())),
        "measures_by_status": dict(sorted(Counter(m.status for m in expected["measures"]).items()))}
    for fresh in (False, True):
        if fresh:
            ledger.forget_snapshots()
        stats = ledger.stats(as_of=as_of, known_at=known_at)
        assert {k: getattr(stats, k) for k in figures} == figures, fresh
        fire = ledger.stats(as_of=as_of, known_at=known_at, campaign="fire")
        assert fire.hazards_found == sum(h.campaign == "fire" for h in hazards), fresh
        assert fire.overdue == sum(h.overdue for h in live if h.campaign == "fire"), fresh
    # The figures of a chart of several days from one read of the view: each day's are its stats'
    # (themselves checked against the fold above, on the days probed), the probed day's the fold's.
    days = [as_of, as_of - timedelta(days=1), as_of - timedelta(days=20), as_of + timedelta(days=9), START]
    for campaign in (None, "fire"):
        trend = ledger.trend(days, known_at=known_at, campaign=campaign)
        assert [t.as_of for t in trend] == days
        assert [(t.by_status, t.overdue) for t in trend] == [
            (s.by_status, s.overdue) for s in (ledger.stats(as_of=d, known_at=known_at, campaign=campaign) for d in days)]
    assert (trend_all := ledger.trend([as_of], known_at=known_at)[0]).by_status == figures["by_status"]
    assert trend_all.overdue == figures["overdue"]


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=15, max_size=60),
       batches=st.lists(st.tuples(st.integers(0, 59), st.integers(2, 12)), max_size=4),
       probes=st.lists(st.tuples(st.integers(0, 200), st.integers(0, 100), st.booleans()),
                       min_size=3, max_size=6))
def test_view_equals_reference_fold(url_factory, steps, batches, probes):
    url = url_factory()
    clock = Clock(datetime(2020, 7, 1, 9, 0, tzinfo=CST))
    with qingdan.open_ledger(url, clock=clock, catalogue=make_catalogue()) as ledger:
        began = clock.current
        _state.clear()
        run_history(ledger, clock, steps, batches)
        stored = event_count(ledger)
        event(f"events stored: {'<10' if stored < 10 else '10-29' if stored < 30 else '30+'}")
        kinds = {type(ledger._app.mapper.to_domain_event(n)).__name__
                 for n in ledger._app.recorder.select_notifications(start=1, limit=10_000)}
        for kind in ("Corrected", "Reopened", "Withdrawn", "ExtensionDecided", "AttributesSet"):
            if kind in kinds:
                event(f"has {kind}")
        ended = clock.current
        span = max(1, int((ended - began).total_seconds()))
        for day_offset, known_pct, use_known in probes:
            as_of = START + timedelta(days=day_offset)
            known_at = began + timedelta(seconds=span * known_pct // 100) if use_known else None
            assert_view_matches_reference(ledger, as_of, known_at)
        # A bare date as known_at means the end of that day.
        assert_view_matches_reference(ledger, ended.date(), end_of_day(ended.astimezone(CST).date()))
        # The records' runs the view wrote command by command are its rows' at every recorded time.
        assert not ledger.verify_integrity(full=True).problems
        # A rebuild replays the whole log in large catch-ups (many runs of one record at once)
        # and must give the same answers.
        ledger.rebuild()
        for day_offset, known_pct, use_known in probes:
            as_of = START + timedelta(days=day_offset)
            known_at = began + timedelta(seconds=span * known_pct // 100) if use_known else None
            assert_view_matches_reference(ledger, as_of, known_at)
        assert not ledger.verify_integrity(full=True).problems
