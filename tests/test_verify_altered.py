"""`verify` on a database altered behind qingdan's back: every alteration is a named problem, never a crash.

Event rows are edited the way someone bypassing qingdan would: ``sqlite3`` on the file, ``psycopg`` on
the schema. Each problem names the event's position and the record's number; verify carries on with the
rest of the log and skips the reconstructions that need a trustworthy one. The view is doctored too, to
show that the fast comparison of the view with the fold still sees what the snapshot would show.
"""

from __future__ import annotations

import copy
import sqlite3
from contextlib import closing
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qingdan
from qingdan.core import folds, integrity
from qingdan.core.domain import CST
from qingdan.core.eventlog import StoredRow
from qingdan.core.reference import fold, fold_probes
from tests.conftest import Clock, make_catalogue
from tests.test_view_properties import START, _state, run_history, step

# -- fixtures and helpers ---------------------------------------------------------------------------


@pytest.fixture
def audited(ledger, clock):
    """Five events: two hazards (1, 2), a unit with a date attribute (3), a plan (4), a report (5)."""
    clock.set("2020-09-01 10:00")
    a = ledger.report_hazard(campaign="fire", unit="南阳饭店", description="燃气管道老化")
    b = ledger.report_hazard(campaign="fire", unit="东港超市", description="疏散指示损坏")
    u = ledger.register_unit(name="南阳化工", kind="企业", attributes={"贮存起始日期": date(2020, 8, 1)})
    ledger.plan_rectification(a, responsible_unit="南阳饭店", deadline=date(2020, 9, 20))
    clock.set("2020-09-25 10:00")
    ledger.submit_report(period="2020-09")
    return a, b, u


def events_table(ledger) -> str:
    return ledger._app.recorder.events_table_name


def alter(ledger, statement: str, params=()) -> list:
    """Run SQL on the database as an outsider would, on a connection of its own (``EVENTS`` is the
    event table, ``POSITION`` its log position column, ``?`` the placeholder)."""
    statement = statement.replace("EVENTS", events_table(ledger))
    env = ledger._view.store.env
    if ledger.backend == "sqlite":
        with closing(sqlite3.connect(env["SQLITE_DBNAME"])) as conn:
            cursor = conn.execute(statement.replace("POSITION", "rowid"), params)
            rows = cursor.fetchall()
            conn.commit()
            return rows
    import psycopg

    with psycopg.connect(dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"],
                         user=env["POSTGRES_USER"], password=env.get("POSTGRES_PASSWORD") or None,
                         autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{env["POSTGRES_SCHEMA"]}"')
        cursor = conn.execute(statement.replace("POSITION", "notification_id").replace("?", "%s"), params)
        return cursor.fetchall() if cursor.description else []


def verify_quietly(ledger) -> integrity.VerifyReport:
    result = ledger.verify_integrity()  # must not raise, whatever was done to the database
    assert not result.ok
    return result


def at(result, position: int) -> list[integrity.Problem]:
    return [p for p in result.problems if p.position == position]


# -- event rows edited ------------------------------------------------------------------------------

# (case, SQLite statement, PostgreSQL statement or None when PostgreSQL's types forbid the edit), all on
# event #1 (hazard a, version 1). Where PostgreSQL cannot store the value, the nearest edit it can.
EDITS = [
    ("state rewritten as text", "UPDATE EVENTS SET state = replace(state, 'a', 'b') WHERE POSITION = 1",
     "UPDATE EVENTS SET state = convert_to(replace(convert_from(state, 'UTF8'), 'a', 'b'), 'UTF8') "
     "WHERE POSITION = 1"),
    ("state cast to text, same characters", "UPDATE EVENTS SET state = CAST(state AS TEXT) WHERE POSITION = 1",
     None),
    ("state text that is not UTF-8", "UPDATE EVENTS SET state = CAST(x'ff7b' AS TEXT) WHERE POSITION = 1", None),
    ("state NULL", "UPDATE EVENTS SET state = NULL WHERE POSITION = 1", "same"),
    ("state a number", "UPDATE EVENTS SET state = 42 WHERE POSITION = 1", None),
    ("state truncated", "UPDATE EVENTS SET state = substr(state, 1, 25) WHERE POSITION = 1",
     "UPDATE EVENTS SET state = substring(state from 1 for 25) WHERE POSITION = 1"),
    ("state invalid JSON", "UPDATE EVENTS SET state = x'7b226f6e223a' WHERE POSITION = 1", "same-bytes"),
    ("state JSON but not an object", "UPDATE EVENTS SET state = x'5b312c325d' WHERE POSITION = 1", "same-bytes"),
    ("state an empty object", "UPDATE EVENTS SET state = x'7b7d' WHERE POSITION = 1", "same-bytes"),
    ("topic NULL", "UPDATE EVENTS SET topic = NULL WHERE POSITION = 1", "same"),
    ("topic unknown", "UPDATE EVENTS SET topic = 'qingdan.core.domain:Hazard.Vanished' WHERE POSITION = 1", "same"),
    ("topic not a module", "UPDATE EVENTS SET topic = 'no.such.module:Thing' WHERE POSITION = 1", "same"),
    ("topic a foreign class", "UPDATE EVENTS SET topic = 'builtins:dict' WHERE POSITION = 1", "same"),
    ("topic another event type", "UPDATE EVENTS SET topic = 'qingdan.core.domain:Hazard.Closed' WHERE POSITION = 1",
     "same"),
    ("version not an integer", "UPDATE EVENTS SET originator_version = 'one' WHERE POSITION = 1",
     "UPDATE EVENTS SET originator_version = originator_version + 100 WHERE POSITION = 1"),
    ("version a fraction", "UPDATE EVENTS SET originator_version = 1.5 WHERE POSITION = 1", None),
    ("version NULL", "UPDATE EVENTS SET originator_version = NULL WHERE POSITION = 1", None),
]


def _statement(ledger, sqlite: str, postgres: str | None) -> str:
    if ledger.backend == "sqlite":
        return sqlite
    if postgres is None:
        pytest.skip("PostgreSQL's column types cannot hold this value")
    if postgres == "same":
        return sqlite
    if postgres == "same-bytes":  # x'..' is SQLite's blob literal; PostgreSQL's is '\x..'::bytea
        literal = sqlite.split("x'")[1].split("'")[0]
        return sqlite.replace(f"x'{literal}'", f"'\\x{literal}'::bytea")
    return postgres


@pytest.mark.parametrize(("case", "sqlite", "postgres"), EDITS, ids=[e[0] for e in EDITS])
def test_an_altered_event_row_is_named_never_raised(ledger, audited, case, sqlite, postgres):
    a, _, _ = audited
    alter(ledger, _statement(ledger, sqlite, postgres))
    result = verify_quietly(ledger)
    [problem] = at(result, 1)
    assert (problem.kind, problem.number) == ("tampered", a), result.problems
    assert "#1" in problem.message and a in problem.message
    # the rest of the log is still checked: nothing else is wrong
    assert [p.position for p in result.problems] == [1]
    assert result.events_checked == 5
    # a log that was tampered with proves nothing: no reconstruction is compared
    assert (result.reports_checked, result.dates_checked) == (0, ())


def test_an_undecodable_state_is_named_even_if_the_chain_was_rewritten_to_match(ledger, audited):
    a, _, _ = audited
    alter(ledger, "UPDATE EVENTS SET state = ? WHERE POSITION = 1", (b"not json",))
    # the outsider recomputes the whole chain over the edited log, so that every hash matches
    scan = integrity.LogScan(ledger._log, ledger._view.store)
    previous = integrity.GENESIS
    for row in ledger._log.stored_rows(after=0, limit=100):
        _, _, originator_id = scan._decode(row)
        previous = integrity.event_hash(previous, StoredRow(
            row.id, originator_id, row.originator_version, row.topic, row.state))
        alter(ledger, "UPDATE qd_chain SET hash = ? WHERE position = ?", (previous, row.id))
    result = verify_quietly(ledger)
    [problem] = at(result, 1)
    assert (problem.kind, problem.number) == ("tampered", a)
    assert "无法读取" in problem.message and "与哈希链不符" not in problem.message
    # the chain head the report recorded no longer matches the rewritten chain
    assert {p.kind for p in result.problems} == {"tampered", "report"}


def test_a_record_id_that_is_not_a_uuid_is_named_by_the_id(ledger, audited):
    if ledger.backend == "sqlite":
        alter(ledger, "UPDATE EVENTS SET originator_id = 'not-a-uuid' WHERE POSITION = 2")
        expected = "not-a-uuid"
    else:  # a uuid column: the nearest edit is another record's id
        alter(ledger, "UPDATE EVENTS SET originator_id = '00000000-0000-0000-0000-000000000001' WHERE POSITION = 2")
        expected = "00000000-0000-0000-0000-000000000001"
    result = verify_quietly(ledger)
    [problem] = at(result, 2)
    assert (problem.kind, problem.number) == ("tampered", expected)


def test_a_record_id_rewritten_in_another_spelling_is_named(ledger, audited):
    if ledger.backend != "sqlite":
        pytest.skip("PostgreSQL stores a uuid, not its spelling")
    _, b, _ = audited
    alter(ledger, "UPDATE EVENTS SET originator_id = upper(originator_id) WHERE POSITION = 2")
    [problem] = at(verify_quietly(ledger), 2)
    assert (problem.kind, problem.number) == ("tampered", b)


def test_every_row_rewritten_as_text_names_every_event(ledger, audited):
    """The issue's own example: ``update stored_events set state=replace(state,'a','b')``."""
    a, b, u = audited
    if ledger.backend == "sqlite":
        alter(ledger, "UPDATE EVENTS SET state = replace(state, 'a', 'b')")
    else:
        alter(ledger, "UPDATE EVENTS SET state = convert_to(replace(convert_from(state, 'UTF8'), 'a', 'b'), 'UTF8')")
    result = verify_quietly(ledger)
    named = {(p.kind, p.position, p.number) for p in result.problems}
    assert named == {("tampered", 1, a), ("tampered", 2, b), ("tampered", 3, u), ("tampered", 4, a),
                     ("tampered", 5, "R-2020-09")}


def test_several_alterations_are_each_named_and_the_rest_still_checked(ledger, audited):
    a, b, u = audited
    alter(ledger, "UPDATE EVENTS SET state = NULL WHERE POSITION = 1")
    alter(ledger, "DELETE FROM EVENTS WHERE POSITION = 2")
    alter(ledger, "UPDATE EVENTS SET topic = 'qingdan.core.domain:Nothing' WHERE POSITION = 4")
    result = verify_quietly(ledger)
    assert [(p.kind, p.position, p.number) for p in result.problems] == [
        ("tampered", 1, a), ("missing", 2, None), ("tampered", 4, a)]
    assert result.events_checked == 4


def test_an_undecodable_event_appended_outside_qingdan_is_named_and_not_applied(ledger, audited):
    a, _, _ = audited
    (originator_id, version, topic) = alter(
        ledger, "SELECT originator_id, originator_version, topic FROM EVENTS WHERE POSITION = 4")[0]
    alter(ledger, "INSERT INTO EVENTS (originator_id, originator_version, topic, state) VALUES (?, ?, ?, NULL)",
          (originator_id, version + 1, topic))
    result = verify_quietly(ledger)
    [problem] = result.problems
    assert (problem.kind, problem.position, problem.number) == ("tampered", 6, a)
    assert "不在哈希链中" in problem.message
    assert ledger._view.store.position() == 5  # the view was not made to apply it


def test_an_event_appended_outside_qingdan_that_reads_is_unchained_and_checked(ledger, audited):
    """A well-formed event appended outside qingdan is reported as not chained, applied, and the
    view is still compared with the fold (which includes it)."""
    row = alter(ledger, "SELECT originator_id, originator_version, topic, state FROM EVENTS WHERE POSITION = 4")[0]
    alter(ledger, "INSERT INTO EVENTS (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)",
          (row[0], row[1] + 1, row[2], row[3]))
    result = ledger.verify_integrity()
    assert [(p.kind, p.position) for p in result.problems] == [("unchained", 6)]
    assert result.reports_checked == 1 and result.dates_checked


# -- the view doctored ------------------------------------------------------------------------------


def test_an_untouched_ledger_is_ok(ledger, audited):
    result = ledger.verify_integrity(dates=[date(2020, 9, 1), date(2020, 9, 21)])
    assert result.ok, result.problems
    assert result.events_checked == 5 and result.reports_checked == 1
    assert date(2020, 9, 21) in result.dates_checked


def test_a_unit_attribute_read_back_with_another_type_is_a_view_problem(ledger, audited):
    """The view giving text where the fold gives a date is a mismatch, as the snapshot would show it."""
    _, _, u = audited
    state = ledger._view.store.query("SELECT state FROM qd_versions WHERE number = ?", (u,))[0][0]
    assert '["date","2020-08-01"]' in state
    alter(ledger, "UPDATE qd_versions SET state = replace(state, '[\"date\",', '[\"str\",') WHERE number = ?", (u,))
    assert ledger.units(include_closed=True)[0].attributes["贮存起始日期"] == "2020-08-01"
    result = verify_quietly(ledger)
    assert {p.kind for p in result.problems} == {"view"}
    assert all(p.number == u and "units" in p.message for p in result.problems)


def test_a_view_row_that_cannot_be_read_is_a_view_problem(ledger, audited):
    a, _, _ = audited
    alter(ledger, "UPDATE qd_versions SET state = '{\"broken' WHERE number = ? AND recorded_to IS NULL", (a,))
    result = verify_quietly(ledger)
    # the report's digest is recomputed from the log, so only the view is wrong
    assert {p.kind for p in result.problems} == {"view"}
    assert {p.number for p in result.problems if p.kind == "view"} == {a}


def test_a_doctored_index_column_is_a_view_problem(ledger, audited):
    """two_lists leaves withdrawn hazards out by the status column: every column is compared."""
    _, b, _ = audited
    alter(ledger, "UPDATE qd_versions SET status = 'withdrawn' WHERE number = ?", (b,))
    assert [h.number for h in ledger.two_lists(as_of=date(2020, 9, 30)).hazards] != [audited[0], b]
    result = verify_quietly(ledger)
    assert [(p.kind, p.number) for p in result.problems] == [("view", b)]


def test_a_view_row_moved_in_time_is_a_view_problem(ledger, audited):
    _, b, _ = audited
    alter(ledger, "UPDATE qd_versions SET valid_from = '2099-01-01' WHERE number = ? AND recorded_to IS NULL", (b,))
    result = verify_quietly(ledger)
    assert {p.number for p in result.problems if p.kind == "view"} == {b}


def test_a_view_row_recorded_later_than_it_was_is_a_view_problem_as_known_then(ledger, audited):
    _, b, _ = audited
    alter(ledger, "UPDATE qd_versions SET recorded_from = '9999-12-31' WHERE number = ?", (b,))
    result = verify_quietly(ledger)  # still current, but not known at the report's time
    view = [p for p in result.problems if p.kind == "view"]
    assert view and all(p.number == b and "时的登记" in p.message for p in view)


# -- the records' runs (qd_listed: what a page read by offset counts) ---------------------------------


def paged(ledger, size=1) -> list[str]:
    """The 问题隐患清单 on 2020-09-30 read page by page by offset (so the runs pick each page)."""
    ledger.forget_snapshots()
    return [h.number for first in range(0, 4) for h in ledger.two_lists(
        as_of=date(2020, 9, 30), limit=size, offset=first).hazards]


def test_a_run_deleted_is_a_view_problem_naming_the_record(ledger, audited):
    a, b, _ = audited
    assert paged(ledger) == [a, b]
    alter(ledger, "DELETE FROM qd_listed WHERE number = ?", (a,))
    assert paged(ledger) == [a]  # the second page by offset counts the runs: b is lost from it
    result = verify_quietly(ledger)
    assert [(p.kind, p.number) for p in result.problems] == [("view", a)]
    assert "翻页索引" in result.problems[0].message and "qingdan rebuild" in result.problems[0].message
    ledger.rebuild()
    assert paged(ledger) == [a, b] and ledger.verify_integrity().ok


@pytest.mark.parametrize("edit", [
    "UPDATE qd_listed SET valid_from = '2020-10-01' WHERE number = ?",
    "UPDATE qd_listed SET withdrawn = 1 WHERE number = ?",
    "UPDATE qd_listed SET recorded_to = recorded_from WHERE number = ?",
    "UPDATE qd_listed SET campaign = 'road' WHERE number = ?",
    "UPDATE qd_listed SET valid_from = 20200901 WHERE number = ?",
    "INSERT INTO qd_listed (aggregate_id, kind, number, campaign, withdrawn, valid_from, valid_to, recorded_from, "
    "recorded_to) SELECT aggregate_id, kind, number, campaign, withdrawn, '2019-01-01', valid_from, recorded_from, "
    "recorded_to FROM qd_listed WHERE number = ?",
], ids=["moved", "withdrawn", "emptied", "another campaign", "not text", "one run more"])
def test_a_run_altered_is_a_view_problem(ledger, audited, edit):
    _, b, _ = audited
    alter(ledger, edit, (b,))
    result = verify_quietly(ledger)
    assert [(p.kind, p.number) for p in result.problems] == [("view", b)]


def test_a_run_of_no_record_is_a_view_problem(ledger, audited):
    alter(ledger, "INSERT INTO qd_listed (aggregate_id, kind, number, campaign, withdrawn, valid_from, "
                  "recorded_from) VALUES ('00000000-0000-5000-8000-000000000099', 'hazard', 'H-fire-2020-0099', "
                  "'fire', 0, '2020-09-01', '2020-09-01T00:00:00.000000')")
    result = verify_quietly(ledger)
    assert [(p.kind, p.number) for p in result.problems] == [("view", "H-fire-2020-0099")]


# -- verify reads the view's tables, never its answers -------------------------------------------------


def test_verify_never_asks_the_view_a_question(ledger, audited, clock, monkeypatch):
    """The view is read as stored, record by record, and compared with the fold; the lists the
    snapshot would answer are not consulted, so they cannot vouch for themselves."""
    for month in range(10, 13):
        clock.set(f"2020-{month}-05 10:00")
        ledger.report_hazard(campaign="fire", unit=f"单位{month}", description="隐患")
        ledger.submit_report(period=f"2020-{month}")

    def refuse(self, *args, **kwargs):
        raise AssertionError("verify asked the view")

    monkeypatch.setattr(type(ledger._view), "states", refuse)
    result = ledger.verify_integrity()
    assert result.ok and result.reports_checked == 4
    assert result.view_rows_checked == ledger._view.store.query("SELECT COUNT(*) FROM qd_versions")[0][0]


def test_the_assembled_digest_is_rows_digest(ledger, audited):
    from qingdan.core.queries import rows_digest

    lists = ledger.two_lists(as_of=date(2020, 9, 30))
    assert len(lists.hazards) == 2
    assert folds.Digests()(lists) == rows_digest(lists)


# -- the incremental fold is the fold -------------------------------------------------------------------


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=15, max_size=50),
       probes=st.lists(st.tuples(st.integers(0, 200), st.integers(0, 100), st.booleans()), min_size=3, max_size=12))
def test_fold_probes_gives_the_fold_at_every_probe(tmp_path_factory, steps, probes):
    clock = Clock(datetime(2020, 7, 1, 9, 0, tzinfo=CST))
    url = str(tmp_path_factory.mktemp("fold") / "ledger.db")
    with qingdan.open_ledger(url, clock=clock, catalogue=make_catalogue()) as ledger:
        began = clock.current
        _state.clear()
        run_history(ledger, clock, steps)
        span = max(1, int((clock.current - began).total_seconds()))
        questions = [(START + timedelta(days=d), began + timedelta(seconds=span * k // 100) if known else None)
                     for d, k, known in probes]
        scan = integrity.LogScan(ledger._log, ledger._view.store)
        scan.run()
        assert not scan.problems
        for items in scan.streams.values():
            events = [e for _, e in sorted(items, key=lambda item: item[1].originator_version)]
            got: dict[int, dict] = {}
            for aggregate, indexes in fold_probes(events, questions):
                state = copy.deepcopy(vars(aggregate))
                for index in indexes:
                    assert index not in got
                    got[index] = state
            for index, (as_of, known_at) in enumerate(questions):
                folded = fold(events, as_of, known_at)
                assert got.get(index) == (None if folded is None else vars(folded))
        assert ledger.verify_integrity(dates=[q[0] for q in questions]).ok
