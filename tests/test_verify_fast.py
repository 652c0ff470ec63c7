"""The complete check's fast paths find exactly what the slow ones find (issue 18, goal 3b).

- SQLite rows are read plainly first and typed (``typeof``/``CAST`` per column) only when the plain read
  fails: on every alteration, the plain read returns what the typed one returns, or falls back to it.
- :class:`~qingdan.core.logscan.LogScan` decodes a row of the form qingdan writes without the checks
  that name what is wrong with one that is not: on every alteration, it names the same problems, at
  the same positions, with the same words, and keeps the same events as when every row goes the slow way.
- :class:`~qingdan.core.viewaudit.RecordFold` goes on from the state it built last: each state is
  the same whatever order the states are asked for in.
- :func:`~qingdan.core.viewaudit.fast_stamp` is :func:`~qingdan.core.view.stamp`.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qingdan
from qingdan.core import audit
from qingdan.core.domain import CST
from qingdan.core.logscan import LogScan
from qingdan.core.reference import load_streams
from qingdan.core.view import stamp
from qingdan.core.viewaudit import RecordFold, fast_stamp
from tests.conftest import Clock, make_catalogue
from tests.test_verify_altered import EDITS, _statement, alter, audited  # noqa: F401  (a fixture)
from tests.test_view_properties import _state, run_history, step

ID_EDITS = [
    ("record id not a UUID", "UPDATE EVENTS SET originator_id = 'not-a-uuid' WHERE POSITION = 2", None),
    ("record id in capitals", "UPDATE EVENTS SET originator_id = upper(originator_id) WHERE POSITION = 2", None),
    ("record id with dashes", "UPDATE EVENTS SET originator_id = substr(originator_id, 1, 8) || '-' || "
     "substr(originator_id, 9, 4) || '-' || substr(originator_id, 13, 4) || '-' || substr(originator_id, 17, 4) "
     "|| '-' || substr(originator_id, 21) WHERE POSITION = 2", None),
    ("record id a number", "UPDATE EVENTS SET originator_id = 7 WHERE POSITION = 2", None),
    ("record id another record's", "UPDATE EVENTS SET originator_id = (SELECT originator_id FROM EVENTS "
     "WHERE POSITION = 2) WHERE POSITION = 4", "same"),
    ("topic text that is not UTF-8", "UPDATE EVENTS SET topic = CAST(x'ff41' AS TEXT) WHERE POSITION = 3", None),
    ("event deleted", "DELETE FROM EVENTS WHERE POSITION = 2", "same"),
]
ALL = EDITS + ID_EDITS


def _scan(ledger, slow: bool, monkeypatch) -> LogScan:
    scan = LogScan(ledger._log, ledger._view.store)
    scan.watch = {1, 2, 3, 4, 5}
    with monkeypatch.context() as patch:
        if slow:  # every row the way that names what is wrong with it
            patch.setattr(LogScan, "_ready", lambda self, row: None)
        scan.run()
    return scan


def _seen(scan: LogScan):
    return (scan.problems, scan.checked, scan.decoded, scan.watched, scan.checkpoints, scan.position,
            {originator_id: [(position, type(event), event.__dict__) for position, event in stream]
             for originator_id, stream in scan.streams.items()})


@pytest.mark.parametrize(("case", "sqlite", "postgres"), ALL, ids=[e[0] for e in ALL])
def test_the_scan_names_what_the_slow_scan_names(ledger, audited, monkeypatch, case, sqlite, postgres):  # noqa: F811
    assert _seen(_scan(ledger, False, monkeypatch)) == _seen(_scan(ledger, True, monkeypatch))
    alter(ledger, _statement(ledger, sqlite, postgres))
    fast, slow = _scan(ledger, False, monkeypatch), _scan(ledger, True, monkeypatch)
    assert _seen(fast) == _seen(slow)
    assert fast.problems, case
    # trusted (an incremental check): hashed only, where the hash is the chain's
    trusted = LogScan(ledger._log, ledger._view.store)
    trusted.trusted_upto = 5
    trusted.run()
    assert trusted.problems == slow.problems


@pytest.mark.parametrize(("case", "sqlite", "postgres"), ALL, ids=[e[0] for e in ALL])
def test_the_plain_read_is_the_typed_read(ledger, audited, case, sqlite, postgres):  # noqa: F811
    if ledger.backend != "sqlite":
        pytest.skip("PostgreSQL's rows are read one way")
    alter(ledger, _statement(ledger, sqlite, postgres))
    log = ledger._log
    typed = log._stored("{position} > ?", (0,), 100, typed=True)
    assert log.stored_rows(after=0, limit=100) == typed
    assert log.stored_rows_of([], upto=100) == []


def test_the_plain_read_falls_back_on_text_that_is_not_utf8(ledger, audited, monkeypatch):  # noqa: F811
    if ledger.backend != "sqlite":
        pytest.skip("SQLite only")
    alter(ledger, "UPDATE EVENTS SET state = CAST(x'ff7b' AS TEXT) WHERE POSITION = 1")
    [row] = ledger._log.stored_rows(after=0, limit=1)
    assert row.state == "\ufffd{"
    result = ledger.verify_integrity()
    assert [(p.kind, p.position) for p in result.problems] == [("tampered", 1)]


@settings(max_examples=200, deadline=None)
@given(moment=st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                           timezones=st.sampled_from([UTC, CST, timezone(timedelta(hours=-11, minutes=-30))])))
def test_fast_stamp_is_stamp(moment):
    assert fast_stamp(moment) == stamp(moment)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=5, max_size=25), seed=st.integers(0, 2**16))
def test_a_record_fold_is_the_same_whatever_order_its_states_are_built_in(tmp_path_factory, steps, seed):
    clock = Clock(datetime(2020, 7, 1, 9, 0, tzinfo=CST))
    url = str(tmp_path_factory.mktemp("fold") / "ledger.db")
    with qingdan.open_ledger(url, clock=clock, catalogue=make_catalogue()) as ledger:
        _state.clear()
        run_history(ledger, clock, steps)
        streams = load_streams(ledger._log)
    shuffle = random.Random(seed)
    for events in streams.values():
        prepared = RecordFold(events)
        prepared.prepare()
        keys = list(prepared._states)
        shuffle.shuffle(keys)
        other = RecordFold(events)
        for key in keys:
            mine, theirs = other.state(key), prepared._states[key]
            assert (mine.value, mine.start, mine.row) == (theirs.value, theirs.start, theirs.row)
        fresh = RecordFold(events)
        assert fresh.final().value == prepared.final().value
        assert [fresh.at(m) for m in sorted(set(fresh.stamps))] == [prepared.at(m) for m in sorted(set(prepared.stamps))]


def test_the_collector_is_paused_only_while_checking(ledger, audited, monkeypatch):  # noqa: F811
    import gc

    seen = []
    original = audit.LogScan.run

    def run(self):
        seen.append(gc.isenabled())
        original(self)

    with monkeypatch.context() as patch:
        patch.setattr(audit.LogScan, "run", run)
        assert ledger.verify_integrity(full=True).ok
        assert ledger.verify_integrity().ok  # incremental
    assert len(seen) == 2 and not any(seen) and gc.isenabled()
    gc.disable()
    try:
        assert ledger.verify_integrity(full=True).ok
        assert not gc.isenabled()  # left as it was
    finally:
        gc.enable()


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=8, max_size=30),
       submissions=st.lists(st.tuples(st.sampled_from([None, "fire", "hazchem"]), st.integers(0, 20),
                                      st.integers(0, 30), st.integers(0, 4)), min_size=1, max_size=5))
def test_the_digests_assembled_record_by_record_are_the_lists_digests(tmp_path_factory, steps, submissions):
    """:class:`audit.Submitted` (each record's rows in every submission, as the view is compared) gives
    every submission the digest ``rows_digest`` gives the lists :class:`audit.Lists` folds."""
    from qingdan.core.queries import rows_digest

    clock = Clock(datetime(2020, 7, 1, 9, 0, tzinfo=CST))
    url = str(tmp_path_factory.mktemp("digests") / "ledger.db")
    with qingdan.open_ledger(url, clock=clock, catalogue=make_catalogue()) as ledger:
        _state.clear()
        run_history(ledger, clock, steps)
        periods: dict[tuple, int] = {}
        for campaign, back, hours, later in submissions:
            clock.current += timedelta(hours=hours)
            today = clock.current.astimezone(CST).date()
            as_of = today - timedelta(days=back)
            period = f"{as_of:%Y-%m}"
            again = periods.get((campaign, period), 0)
            periods[(campaign, period)] = again + 1
            ledger.submit_report(period=period, campaign=campaign, as_of=as_of,
                                 resubmit_reason="重新报送" if again else None)
            for more in range(later):  # more history after the submission: records changed since too
                run_history(ledger, clock, [steps[(len(periods) * 7 + more) % len(steps)]])
        assert ledger.verify_integrity(full=True, remember=False).ok
        store = ledger._view.store
        scan = LogScan(ledger._log, store)
        scan.run()
        with store.read_snapshot():
            position = store.position()
            reports = audit.submissions(audit.fold_records(scan, position))
            assert len(reports) == len(submissions)
            lists = audit.Lists(audit.fold_records(scan, position), store)
            slow = [rows_digest(lists(report), report.digest_fields) for report in reports]
            # placed by what each record's first event says, folded only as it is added (as verify does)
            folds = audit.gather_records(scan, position)
            assert audit.submissions(folds) == reports
            submitted = audit.Submitted(folds, store, reports)
            keys = list(folds.records)
            random.Random(len(keys)).shuffle(keys)  # whatever order the view gives the records in
            for key in keys:
                fold = folds.records[key]
                if len(keys) % 2:
                    fold.prepare()
                assert folds.folded(key, fold)
                submitted.add(key, fold)
        assert not submitted.misplaced and not folds.problems
        assert [submitted.digest(i) for i in range(len(reports))] == slow == [r.digest for r in reports]
        first = submitted.first_lists()
        assert first == lists(reports[0])


def test_the_slow_digests_are_the_fallback(ledger, audited, monkeypatch):  # noqa: F811
    """When the assembled digest of the first submission is not ``rows_digest``'s, every submission's
    lists are made again the slow way, and those digests are the ones compared."""
    assert ledger.verify_integrity(full=True).ok
    calls = []
    slow = audit._digests_slow
    monkeypatch.setattr(audit, "_same_digest", lambda *args: False)
    monkeypatch.setattr(audit, "_digests_slow", lambda *args: calls.append(args) or slow(*args))
    again = ledger.verify_integrity(full=True)
    assert calls and again.ok and again.reports_checked == 1
    monkeypatch.setattr(audit, "_digests_slow", lambda src, position, reports: [None] * len(reports))
    wrong = ledger.verify_integrity(full=True)
    assert [p.kind for p in wrong.problems] == ["report"]


_value = st.one_of(st.none(), st.text(), st.integers(), st.floats(allow_nan=False), st.booleans(), st.binary(),
                   st.decimals(allow_nan=False, places=2))
_row = st.tuples(_value, _value, _value, _value, st.tuples(*[_value] * 8))


@settings(max_examples=300, deadline=None)
@given(first=st.lists(_row, max_size=4), second=st.lists(_row, max_size=4), seed=st.integers(0, 2**16))
def test_the_view_rows_digest_tells_apart_exactly_what_the_repr_one_did(first, second, seed):
    """:func:`qingdan.core.verifystate.rows_digest` (format 2, :mod:`marshal`) finds two records' rows
    the same exactly when format 1 (their ``repr``, sorted) did: whatever order they are in, and
    values of every type a column can be read as (text, a number, bytes, NULL; a ``Decimal`` marshal
    cannot write)."""
    from qingdan.core.verifystate import rows_digest

    def digest_1(rows):
        return sorted(repr(row) for row in rows)

    shuffled = list(first)
    random.Random(seed).shuffle(shuffled)
    assert rows_digest(shuffled) == rows_digest(first)
    assert (rows_digest(first) == rows_digest(second)) == (digest_1(first) == digest_1(second))
    for rows in (first, second):  # one value changed (its type, or itself) changes the digest
        for index in range(len(rows)):
            changed = list(rows)
            vf, vt, rf, rt, value = changed[index]
            for other in (f"{vf}x" if isinstance(vf, str) else str(vf), None if vf is not None else "", (vf,)):
                changed[index] = (other, vt, rf, rt, value)
                assert rows_digest(changed) != rows_digest(rows)
            changed[index] = (vf, vt, rf, rt, (*value[:-1], f"{value[-1]}x"))
            assert rows_digest(changed) != rows_digest(rows)


def test_a_record_that_cannot_be_folded_is_named_where_it_fails(ledger, audited, monkeypatch):  # noqa: F811
    """A record whose events no longer fold (here: code that cannot apply one of them) on a log whose
    chain is sound is named at the event that fails — found as the view is compared, since each
    record is folded only then — and the other records are still compared."""
    a, b, _ = audited
    assert ledger.verify_integrity(full=True, remember=False).ok
    events = ledger._log.record(a)
    failing = events[1]  # the plan (position 4)
    event_class, original = type(failing), type(failing).apply

    def apply(self, record):
        if (self.originator_id, self.originator_version) == (failing.originator_id, failing.originator_version):
            raise ValueError("无法应用")
        return original(self, record)

    monkeypatch.setattr(event_class, "apply", apply)
    result = ledger.verify_integrity(full=True, remember=False)
    tampered = [(p.kind, p.position, p.number) for p in result.problems if p.kind == "tampered"]
    assert tampered == [("tampered", 4, a)]
    assert "无法重放" in next(p.message for p in result.problems if p.kind == "tampered")
    # the report's lists held the record: its digest is no longer the fold's; no view row is blamed on it
    assert {p.kind for p in result.problems} == {"tampered", "report"}
    assert result.records_checked == 3  # b, the unit and the report


def test_a_record_placed_by_its_first_event_but_folded_otherwise_falls_back_to_the_slow_digests(
        ledger, audited, monkeypatch):  # noqa: F811
    """The submissions' rows are placed by each record's kind, campaign and number as its first event
    created it; a record whose final state says otherwise (which qingdan never writes) sends every
    digest the slow way, so nothing is compared on a wrong place."""
    from qingdan.core import folds

    calls = []
    slow = audit._digests_slow
    monkeypatch.setattr(audit, "_digests_slow", lambda *args: calls.append(args) or slow(*args))
    assert ledger.verify_integrity(full=True, remember=False).ok and not calls
    real = folds.gather_records

    def misread(scan, upto):
        found = real(scan, upto)
        key = next(k for k, (kind, _, _) in found.identities.items() if kind == "hazard")
        kind, _, number = found.identities[key]
        found.identities[key] = (kind, "hazchem", number)
        return found

    monkeypatch.setattr(audit, "gather_records", misread)
    result = ledger.verify_integrity(full=True, remember=False)
    assert len(calls) == 1 and result.ok and result.reports_checked == 1
