"""Forgeries of the view and of the chain that `verify` must see: it derives the submitted reports, their
chain heads and digests from the event log alone, and compares the whole view — every date interval,
current and superseded rows, every column — with the reference fold.

Each forgery is done the way someone with write access to the database would do it, on SQLite and on
PostgreSQL, and each is shown to change what the ledger answers before ``verify`` is asked.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from qingdan.core import integrity
from qingdan.core.domain import CST
from qingdan.core.eventlog import StoredRow
from qingdan.core.queries import rows_digest
from tests.test_verify_altered import alter

COLUMNS = ("aggregate_id, kind, number, campaign, status, village, department, level, valid_from, valid_to, "
           "recorded_from, recorded_to, state")


@pytest.fixture
def history(ledger, clock):
    """Hazard a reported on 09-01 and planned on 09-03 (so it has a superseded row), hazard b reported
    on 09-01, the September report submitted on 09-25."""
    clock.set("2020-09-01 10:00")
    a = ledger.report_hazard(campaign="fire", unit="南阳饭店", description="燃气管道老化")
    b = ledger.report_hazard(campaign="fire", unit="东港超市", description="疏散指示损坏")
    clock.set("2020-09-03 10:00")
    ledger.plan_rectification(a, responsible_unit="南阳饭店", deadline=date(2020, 9, 20))
    clock.set("2020-09-25 10:00")
    report = ledger.submit_report(period="2020-09")
    assert ledger.verify_integrity().ok
    return a, b, report


def problems(result) -> set[tuple[str, str | None]]:
    return {(p.kind, p.number) for p in result.problems}


def test_deleting_a_reports_view_rows_is_seen(ledger, history):
    _, _, report = history
    alter(ledger, "DELETE FROM qd_versions WHERE kind = 'report'")
    ledger.forget_snapshots()
    assert ledger.reports() == []  # the ledger no longer shows the submission
    result = ledger.verify_integrity()
    assert not result.ok
    assert ("view", report) in problems(result)
    assert result.reports_checked == 1  # the submission is known from the log


def _rewrite_chain(ledger) -> None:
    """Recompute the whole hash chain over the log as stored, as someone hiding an edit would."""
    scan = integrity.LogScan(ledger._log, ledger._view.store)
    previous = integrity.GENESIS
    for row in ledger._log.stored_rows(after=0, limit=1000):
        _, _, originator_id = scan._decode(row)
        previous = integrity.event_hash(previous, StoredRow(
            row.id, originator_id, row.originator_version, row.topic, row.state))
        alter(ledger, "UPDATE qd_chain SET hash = ? WHERE position = ?", (previous, row.id))


def test_an_edited_event_with_a_recomputed_chain_and_a_patched_report_row_is_seen(ledger, history):
    a, _, report = history
    # 1. the event that reported hazard a now says something else (a well-formed event)
    [(position, state)] = alter(ledger, "SELECT POSITION, state FROM EVENTS WHERE POSITION = 1")
    data = json.loads(bytes(state))
    assert data["description"] == "燃气管道老化"
    data["description"] = "无隐患"
    alter(ledger, "UPDATE EVENTS SET state = ? WHERE POSITION = 1",
          (json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode(),))
    # 2. the chain recomputed over the edited log, the view rebuilt from it (rebuild accepts it now)
    _rewrite_chain(ledger)
    ledger.rebuild()
    [submitted] = ledger.reports()
    assert ledger.hazard(a).description == "无隐患"
    # 3. the report's view row patched to the new chain head and the new lists' digest
    head = ledger._view.store.query("SELECT hash FROM qd_chain WHERE position = ?", (submitted.position,))[0][0]
    digest = rows_digest(ledger.two_lists(as_of=submitted.as_of, known_at=submitted.known_at),
                         submitted.digest_fields)
    assert (head, digest) != (submitted.chain, submitted.digest)
    [(state,)] = alter(ledger, "SELECT state FROM qd_versions WHERE kind = 'report'")
    alter(ledger, "UPDATE qd_versions SET state = ? WHERE kind = 'report'",
          (state.replace(submitted.chain, head).replace(submitted.digest, digest),))
    ledger.forget_snapshots()
    assert (ledger.reports()[0].chain, ledger.reports()[0].digest) == (head, digest)
    result = ledger.verify_integrity()
    assert not result.ok
    kinds = problems(result)
    # the head and the digest the submission's own event recorded contradict the rewritten log
    assert ("report", report) in kinds
    assert any(p.kind == "report" and "哈希链" in p.message for p in result.problems)
    assert any(p.kind == "report" and "摘要" in p.message for p in result.problems)
    assert ("view", report) in kinds  # and the patched row is not what the log says


def test_forged_rows_of_a_date_interval_nobody_probes_are_seen(ledger, history):
    _, b, _ = history
    # b's one current row is split into [09-01, 09-10) as it was, a forged [09-10, 09-12), and the rest
    alter(ledger, f"INSERT INTO qd_versions ({COLUMNS}) SELECT aggregate_id, kind, number, campaign, status, "
                  "village, department, level, CAST(? AS TEXT), CAST(? AS TEXT), recorded_from, recorded_to, "
                  "REPLACE(state, ?, ?) FROM qd_versions WHERE number = ? AND recorded_to IS NULL",
          ("2020-09-10", "2020-09-12", "疏散指示损坏", "已全部整改", b))
    alter(ledger, f"INSERT INTO qd_versions ({COLUMNS}) SELECT aggregate_id, kind, number, campaign, status, "
                  "village, department, level, CAST(? AS TEXT), valid_to, recorded_from, recorded_to, state "
                  "FROM qd_versions WHERE number = ? AND recorded_to IS NULL AND valid_to IS NULL",
          ("2020-09-12", b))
    alter(ledger, "UPDATE qd_versions SET valid_to = ? WHERE number = ? AND recorded_to IS NULL "
                  "AND valid_from = ? AND valid_to IS NULL", ("2020-09-10", b, "2020-09-01"))
    shown = {h.number: h.description for h in ledger.two_lists(as_of=date(2020, 9, 11)).hazards}
    assert shown[b] == "已全部整改"
    assert {h.number: h.description for h in ledger.two_lists(as_of=date(2020, 9, 25)).hazards}[b] == "疏散指示损坏"
    result = ledger.verify_integrity()
    assert not result.ok
    assert problems(result) == {("view", b)}
    assert "现在的清单" in result.problems[0].message


def test_forged_superseded_rows_are_seen(ledger, history):
    """The row of a as known before its plan (superseded on 09-03) is rewritten: only a question
    ``--known-at`` before 09-03 shows it."""
    a, _, _ = history
    alter(ledger, "UPDATE qd_versions SET state = REPLACE(state, ?, ?) WHERE number = ? AND recorded_to IS NOT NULL",
          ("燃气管道老化", "无隐患", a))
    then = datetime(2020, 9, 2, 12, 0, tzinfo=CST)
    def shown(**when):
        return {h.number: h.description for h in ledger.two_lists(**when).hazards}[a]

    assert shown(as_of=date(2020, 9, 2), known_at=then) == "无隐患"
    assert shown(as_of=date(2020, 9, 2)) == shown(as_of=date(2020, 9, 25)) == "燃气管道老化"
    result = ledger.verify_integrity()
    assert not result.ok
    assert problems(result) == {("view", a)}
    assert "时的登记" in result.problems[0].message


def test_a_forged_record_known_only_in_the_past_is_seen(ledger, history):
    """A hazard the log never held, inserted as a superseded row (shown only ``--known-at`` then)."""
    a, _, _ = history
    alter(ledger, f"INSERT INTO qd_versions ({COLUMNS}) SELECT ?, kind, ?, campaign, status, village, department, "
                  "level, valid_from, valid_to, recorded_from, recorded_to, REPLACE(state, ?, ?) FROM qd_versions "
                  "WHERE number = ? AND recorded_to IS NOT NULL",
          ("00000000-0000-0000-0000-00000000abcd", "H-fire-2020-0099", a, "H-fire-2020-0099", a))
    then = datetime(2020, 9, 2, 12, 0, tzinfo=CST)
    assert "H-fire-2020-0099" in [h.number for h in ledger.two_lists(as_of=date(2020, 9, 2), known_at=then).hazards]
    result = ledger.verify_integrity()
    assert problems(result) == {("view", "H-fire-2020-0099")}


def test_a_view_position_moved_past_the_log_is_seen(ledger, history):
    """The view told it has applied events the log does not hold yet would skip the next ones."""
    alter(ledger, "UPDATE qd_tracking SET position = position + 5")
    result = ledger.verify_integrity()
    assert [p.kind for p in result.problems] == ["view"] and "超过事件日志的末尾" in result.problems[0].message


@pytest.mark.parametrize("page", [1, 2, 3, 5000])
def test_the_view_is_read_record_by_record_whatever_the_page(ledger, history, page):
    from qingdan.core.viewaudit import read_view

    store = ledger._view.store
    with store.read_snapshot():
        records = [(key, len(rows.rows)) for key, rows in read_view(store, page=page)]
    expected = store.query("SELECT aggregate_id, COUNT(*) FROM qd_versions GROUP BY aggregate_id ORDER BY aggregate_id")
    assert records == [tuple(r) for r in expected] and len(records) >= 3  # each record once, with all its rows
