"""A complete ``verify`` in two processes finds exactly what it finds in one (issue 18, goal 3b).

The check is split by record id from its first read: this process decodes, folds and compares the
records before the split, a forked child (its own connection, its own read snapshot) those from it on
(:mod:`qingdan.core.halves`, :mod:`qingdan.core.forked`). Whatever the child cannot do, and any log
that is not sound, is checked again in one process, and the answer is the same; the split never loses
or doubles a record, a row, a run or a submission. The incremental check's read of the whole view is
split the same way.
"""

from __future__ import annotations

import os
import random
import threading
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import qingdan
from qingdan.core import audit, forked
from qingdan.core.domain import CST
from tests.conftest import Clock, make_catalogue
from tests.test_verify_altered import EDITS, _statement, alter, audited  # noqa: F401  (a fixture)
from tests.test_view_properties import _state, run_history, step

pytestmark = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="a second core is needed for a second process")



@pytest.fixture(autouse=True)
def _threads_left_by_other_tests(monkeypatch):
    """Threads another test module left idle in this process (an ASGI test client's portal) are not
    this module's to judge: only threads started here count."""
    before = frozenset(threading.enumerate()) - {threading.current_thread()}
    alone = forked._alone
    monkeypatch.setattr(forked, "_alone", lambda: alone(before))


#: how a view row or run is doctored: SQL on one record's rows (``?``: its record id)
DOCTORED = [
    "UPDATE qd_versions SET status = 'withdrawn' WHERE aggregate_id = ?",
    "DELETE FROM qd_versions WHERE id = (SELECT MAX(id) FROM qd_versions WHERE aggregate_id = ?)",
    "UPDATE qd_versions SET valid_from = '2099-01-01' WHERE aggregate_id = ? AND recorded_to IS NULL",
    "UPDATE qd_versions SET recorded_from = '9999-12-31' WHERE aggregate_id = ?",
    "UPDATE qd_versions SET state = '{\"broken' WHERE aggregate_id = ?",
    "DELETE FROM qd_listed WHERE aggregate_id = ?",
    "UPDATE qd_listed SET withdrawn = 1 - withdrawn WHERE aggregate_id = ?",
]


def _check(ledger, processes: str, monkeypatch) -> audit.VerifyReport:
    monkeypatch.setenv(forked.ENV, processes)
    return ledger.verify_integrity(full=True, remember=False)


def _same(one: audit.VerifyReport, two: audit.VerifyReport) -> None:
    assert one.processes == 1 and two.processes == 2
    assert two.model_copy(update={"processes": 1}) == one


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=10, max_size=40), doctored=st.lists(
    st.tuples(st.sampled_from(DOCTORED), st.integers(0, 10_000)), max_size=3), submit=st.booleans())
def test_two_processes_find_what_one_finds(tmp_path_factory, monkeypatch, steps, doctored, submit):
    """On random histories, with some records' view rows or runs doctored (on either side of the
    split), both checks give the same report: the same problems, naming the same records, the same
    counts of records, rows and submissions."""
    clock = Clock(datetime(2020, 7, 1, 9, 0, tzinfo=CST))
    url = str(tmp_path_factory.mktemp("processes") / "ledger.db")
    with qingdan.open_ledger(url, clock=clock, catalogue=make_catalogue()) as ledger:
        _state.clear()
        run_history(ledger, clock, steps)
        if submit:
            clock.current += timedelta(hours=5)
            today = clock.current.astimezone(CST).date()
            ledger.submit_report(period=f"{today:%Y-%m}", as_of=today)
            run_history(ledger, clock, steps[:5])
        keys = sorted({r[0] for r in ledger._view.store.query("SELECT aggregate_id FROM qd_versions")})
        if len(keys) < 2:  # (nothing to split)
            return
        for statement, which in doctored:
            alter(ledger, statement, (keys[which % len(keys)],))
        one = _check(ledger, "1", monkeypatch)
        event(f"problems: {'some' if one.problems else 'none'}")
        _same(one, _check(ledger, "2", monkeypatch))


def test_an_untouched_ledger_is_ok_in_two_processes(ledger, audited, monkeypatch):  # noqa: F811
    one, two = _check(ledger, "1", monkeypatch), _check(ledger, "2", monkeypatch)
    _same(one, two)
    assert two.ok and two.records_checked == 4 and two.reports_checked == 1


def test_a_record_doctored_on_the_childs_side_is_named(ledger, audited, monkeypatch):  # noqa: F811
    """The last record id (always the child's) and the first (always this process's)."""
    keys = ledger._view.store.collate(sorted({r[0] for r in ledger._view.store.query(
        "SELECT aggregate_id FROM qd_versions")}))
    numbers = dict(ledger._view.store.query("SELECT aggregate_id, MIN(number) FROM qd_versions GROUP BY aggregate_id"))
    for key in (keys[-1], keys[0]):
        alter(ledger, "UPDATE qd_versions SET status = 'doctored' WHERE aggregate_id = ?", (key,))
    one, two = _check(ledger, "1", monkeypatch), _check(ledger, "2", monkeypatch)
    _same(one, two)
    assert {p.number for p in two.problems if p.kind == "view"} == {numbers[keys[-1]], numbers[keys[0]]}


def _not_in_the_child(monkeypatch, how):
    """Make the child fail (``how``: "moved", it reads the view at another position, as when a writer
    commits in between; "raises", its work raises)."""
    from qingdan.core.viewstore import ViewStore

    parent = os.getpid()
    if how == "moved":
        position = ViewStore.position
        monkeypatch.setattr(ViewStore, "position", lambda self, *args: position(self, *args) + (os.getpid() != parent))
        return
    compare = audit.compare_pass

    def failing(*args, **kwargs):
        if os.getpid() != parent:
            raise RuntimeError("child")
        return compare(*args, **kwargs)

    monkeypatch.setattr(audit, "compare_pass", failing)


@pytest.mark.parametrize("how", ["moved", "raises"])
def test_whatever_the_child_cannot_do_this_process_does(ledger, audited, monkeypatch, how):  # noqa: F811
    """A child that sees the view at another position (a writer committed in between) or fails
    answers nothing; this process compares its half, and the report is the one-process report."""
    a, b, _ = audited
    alter(ledger, "UPDATE qd_versions SET status = 'doctored' WHERE number IN (?, ?)", (a, b))
    one = _check(ledger, "1", monkeypatch)
    _not_in_the_child(monkeypatch, how)
    again = _check(ledger, "2", monkeypatch)
    assert again == one and {p.number for p in again.problems} == {a, b}


def test_a_check_after_a_two_process_one_remembers_every_records_digest(ledger, audited, monkeypatch, tmp_path):  # noqa: F811
    """The digests each process took of its records' rows are all remembered: a row doctored after
    it on either side is found by the incremental check that follows."""
    monkeypatch.setenv(forked.ENV, "2")
    state = tmp_path / "state"
    assert ledger.verify_integrity(full=True, state_dir=state).processes == 2
    keys = ledger._view.store.collate(sorted({r[0] for r in ledger._view.store.query(
        "SELECT aggregate_id FROM qd_versions")}))
    for key in random.Random(5).sample(keys, 2):
        again = ledger.verify_integrity(state_dir=state)
        assert again.ok and not again.full
        alter(ledger, "UPDATE qd_versions SET level = 'doctored' WHERE aggregate_id = ? "
                      "AND recorded_to IS NULL", (key,))
        found = ledger.verify_integrity(state_dir=state)
        assert [p.kind for p in found.problems] == ["view"]
        alter(ledger, "UPDATE qd_versions SET level = NULL WHERE aggregate_id = ? AND level = 'doctored'", (key,))
        ledger.rebuild()
        assert ledger.verify_integrity(full=True, state_dir=state).ok


def test_one_process_while_another_thread_runs(ledger, audited, monkeypatch):  # noqa: F811
    """A fork copies only the thread that calls it: with another thread running (a web server's),
    the check stays in one process."""
    monkeypatch.setenv(forked.ENV, "2")
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        assert ledger.verify_integrity(full=True, remember=False).processes == 1
    finally:
        stop.set()
        other.join()
    assert ledger.verify_integrity(full=True, remember=False).processes == 2


def test_how_many_processes(monkeypatch):
    monkeypatch.delenv(forked.ENV, raising=False)
    assert forked.processes(10, 5000) == 1
    assert forked.processes(5000, 5000) == 2
    monkeypatch.setenv(forked.ENV, "1")
    assert forked.processes(10**6, 5000) == 1
    monkeypatch.setenv(forked.ENV, "2")
    assert forked.processes(10, 5000) == 2
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert forked.processes(10**6, 5000) == 1


@pytest.mark.parametrize(("name", "shareable"), [
    (":memory:", False), ("file:x?mode=memory&cache=shared", False), ("/tmp/x/ledger.db", True)])
def test_an_in_memory_database_stays_in_one_process(name, shareable):
    store = type("Store", (), {"backend": "sqlite", "env": {"SQLITE_DBNAME": name}})()
    assert forked.shareable(store) is shareable


@pytest.mark.parametrize("child", ["answers", "fails"])
def test_an_incremental_check_reads_the_view_in_two_processes_as_in_one(
        ledger, audited, monkeypatch, tmp_path, child):  # noqa: F811
    """The incremental check's floor, reading and digesting every view row, is split the same way:
    its report is the one-process report, whether the child answers or this process reads its half."""
    from qingdan.core import incremental

    a, _, _ = audited
    reports = {}
    for processes in ("1", "2"):
        state = tmp_path / processes
        monkeypatch.setenv(forked.ENV, processes)
        assert ledger.verify_integrity(full=True, state_dir=state).ok
    ledger.report_progress(a, text="进展")
    if child == "fails":
        parent, read = os.getpid(), incremental._read_view

        def failing(*args, **kwargs):
            if os.getpid() != parent:
                raise RuntimeError("child")
            return read(*args, **kwargs)

        monkeypatch.setattr(incremental, "_read_view", failing)
    for processes in ("1", "2"):
        monkeypatch.setenv(forked.ENV, processes)
        reports[processes] = ledger.verify_integrity(state_dir=tmp_path / processes)
    one, two = reports["1"], reports["2"]
    assert not one.full and one.ok and one.records_folded == 1
    # (each remembered its own full check: where, and when to the second)
    assert one.processes == 1 and two.processes == (2 if child == "answers" else 1)
    assert two.model_copy(update={"state_file": one.state_file, "verified_before": one.verified_before,
                                  "processes": 1}) == one


@pytest.mark.parametrize("position", [1, 4])
@pytest.mark.parametrize(("case", "sqlite", "postgres"), EDITS, ids=[e[0] for e in EDITS])
def test_a_log_that_is_not_sound_is_checked_in_one_process(
        ledger, audited, monkeypatch, case, sqlite, postgres, position):  # noqa: F811
    """An event row altered (a record's first event, read by both processes, or a later one, read by
    its record's process only) is named exactly as one process names it: the check is made again in
    one process, from the start."""
    statement = _statement(ledger, sqlite, postgres).replace("POSITION = 1", f"POSITION = {position}")
    alter(ledger, statement)
    one, two = _check(ledger, "1", monkeypatch), _check(ledger, "2", monkeypatch)
    assert two == one and not one.ok and one.processes == 1


def test_the_http_api_checks_in_one_process(ledger, audited, monkeypatch):  # noqa: F811
    """The server runs ``/api/verify`` in a worker thread: with its threads running, it never forks,
    and reports what the one-process check reports."""
    from tests.test_api import serve

    one = _check(ledger, "1", monkeypatch)
    monkeypatch.setenv(forked.ENV, "2")
    url = ledger._view.store.env.get("SQLITE_DBNAME") if ledger.backend == "sqlite" else None
    if url is None:
        pytest.skip("the served ledger is opened by its file")
    ledger.disconnect()
    with serve(url) as client:
        found = client.get("/api/verify?full=true").json()
    assert found["processes"] == 1 and found["ok"] and found["records_checked"] == one.records_checked


def test_a_fault_in_the_split_check_leaves_it_to_one_process(ledger, audited, monkeypatch):  # noqa: F811
    """Whatever goes wrong in the two-process check (here: its own code raising in this process), the
    one-process check answers, as it would have alone."""
    from qingdan.core import halves

    one = _check(ledger, "1", monkeypatch)

    def broken(*args, **kwargs):
        raise RuntimeError("a fault in the split")

    monkeypatch.setattr(halves, "_half", broken)
    again = _check(ledger, "2", monkeypatch)
    assert again == one and again.processes == 1
    monkeypatch.setenv("QINGDAN_DEBUG", "1")
    with pytest.raises(RuntimeError, match="a fault in the split"):
        ledger.verify_integrity(full=True, remember=False)
