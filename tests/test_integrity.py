"""Tamper evidence: an event row edited, deleted or inserted outside qingdan is detected and named."""

from __future__ import annotations

from datetime import date

import pytest

from qingdan.core.integrity import GENESIS, TamperDetected


@pytest.fixture
def audited(ledger, clock):
    clock.set("2020-09-01 10:00")
    a = ledger.report_hazard(campaign="fire", unit="南阳饭店", description="燃气管道老化")
    b = ledger.report_hazard(campaign="fire", unit="东港超市", description="疏散指示损坏")
    ledger.plan_rectification(a, responsible_unit="南阳饭店", deadline=date(2020, 9, 20))
    clock.set("2020-09-25 10:00")
    ledger.submit_report(period="2020-09")
    return a, b


def events_table(ledger) -> str:
    if ledger.backend == "sqlite":
        return "stored_events"
    rows = ledger._view.store.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
        "AND right(table_name, 6) = 'events'")
    return rows[0][0]


def position_column(ledger) -> str:
    return "rowid" if ledger.backend == "sqlite" else "notification_id"


def raw(ledger, statement: str, params=()) -> list:
    """Run SQL directly on the database, as someone bypassing qingdan would."""
    statement = statement.replace("EVENTS", events_table(ledger)).replace("POSITION", position_column(ledger))
    cursor = ledger._view.store.execute(statement, params)
    return cursor.fetchall() if statement.lstrip().startswith("SELECT") else []


def raw_state(ledger, position: int) -> bytes:
    return bytes(raw(ledger, "SELECT state FROM EVENTS WHERE POSITION = ?", (position,))[0][0])


def test_an_untouched_ledger_verifies_and_reports_record_the_chain_head(ledger, audited):
    result = ledger.verify_integrity()
    assert result.ok, result.problems
    assert result.events_checked == ledger._view.max_position() == 4
    assert result.reports_checked == 1
    report = ledger.report("2020-09")
    assert report.chain != GENESIS and len(report.chain) == 64
    chained = ledger._view.store.query("SELECT hash FROM qd_chain WHERE position = ?", (report.position,))
    assert chained[0][0] == report.chain  # the head when the lists were computed
    assert result.chain_head != report.chain  # the submission itself was chained after


def test_an_edited_event_row_is_detected_and_named(ledger, audited):
    a, _ = audited
    state = raw_state(ledger, 1)
    assert "燃气管道老化".encode() in state
    raw(ledger, "UPDATE EVENTS SET state = ? WHERE POSITION = 1",
        (state.replace("燃气管道老化".encode(), "一切正常".encode()),))
    result = ledger.verify_integrity()
    assert not result.ok
    [problem] = result.problems
    assert (problem.kind, problem.position, problem.number) == ("tampered", 1, a)
    assert "记录被改动" in problem.message
    with pytest.raises(TamperDetected, match="事件 #1"):
        ledger.rebuild()


def test_a_chain_row_planted_past_the_log_s_end_stops_the_next_write(ledger, audited):
    """The write after this process's own does not read the chain's end again (it knows it), but a
    row put in after it outside qingdan is still refused, naming it, and nothing is written."""
    a, b = audited
    before = ledger._view.max_position()
    raw(ledger, "INSERT INTO qd_chain (position, hash) VALUES (?, ?)", (before + 1, "f" * 64))
    with pytest.raises(TamperDetected, match="哈希链"):
        ledger.plan_rectification(b, responsible_unit="东港超市", deadline=date(2020, 10, 20))
    assert ledger._view.max_position() == before
    assert ledger.hazard(b).responsible_unit is None


def test_a_deleted_event_row_is_detected(ledger, audited):
    raw(ledger, "DELETE FROM EVENTS WHERE POSITION = 3")
    result = ledger.verify_integrity()
    assert [(p.kind, p.position) for p in result.problems] == [("missing", 3)]


def test_an_event_appended_outside_qingdan_is_reported_as_unchained(ledger, audited):
    row = raw(ledger, "SELECT originator_id, originator_version, topic, state FROM EVENTS WHERE POSITION = 3")[0]
    raw(ledger, "INSERT INTO EVENTS (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)",
        (row[0], row[1] + 1, row[2], row[3]))
    result = ledger.verify_integrity()
    assert [p.kind for p in result.problems] == ["unchained"]
    assert result.problems[0].position == 5


def test_a_doctored_view_fails_the_reference_check_and_not_the_report(ledger, audited):
    """The report's digest is recomputed from the log, so it still matches; the view does not."""
    a, _ = audited
    ledger._view.store.execute(
        "UPDATE qd_versions SET state = REPLACE(state, '南阳饭店', '某饭店') WHERE number = ?", (a,))
    result = ledger.verify_integrity()
    kinds = {p.kind for p in result.problems}
    assert kinds == {"view"}
    assert any(p.number == a for p in result.problems if p.kind == "view")
    ledger.rebuild()  # the log is intact, so the view can be rebuilt from it
    assert ledger.verify_integrity().ok


def test_a_rewritten_chain_contradicts_the_head_recorded_in_a_report(ledger, audited):
    ledger._view.store.execute("UPDATE qd_chain SET hash = ? WHERE position = 3", ("f" * 64,))
    result = ledger.verify_integrity()
    assert ("tampered", 3) in [(p.kind, p.position) for p in result.problems]
    assert any(p.kind == "report" and "哈希链" in p.message for p in result.problems)
