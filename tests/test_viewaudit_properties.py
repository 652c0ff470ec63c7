"""``verify``'s whole-view comparison is exact: on random histories, after one random edit of one view row,
it reports the view exactly when the view's answer differs from the reference fold's at some
``(as_of, known_at)`` — found here the slow way, by asking both at every bound of every row and event.
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, date, datetime

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import qingdan
from qingdan.core.domain import CST
from qingdan.core.kinds import serialise
from qingdan.core.reference import fold, load_streams
from qingdan.core.view import stamp
from qingdan.core.viewaudit import VIEW_COLUMNS
from tests.conftest import Clock, make_catalogue
from tests.test_view_properties import _state, run_history, step

EDITS = ["valid_from", "valid_to", "recorded_from", "recorded_to", "state", "status", "delete", "duplicate"]


def _answers(rows, day: str, moment: str) -> Counter:
    return Counter((r[0], *r[1:8], r[12]) for r in rows
                   if r[8] <= day and (r[9] is None or r[9] > day) and r[10] <= moment
                   and (r[11] is None or r[11] > moment))


def _folded(streams, day: str, moment: str) -> Counter:
    as_of = date.fromisoformat(day)
    known_at = datetime.strptime(moment, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)
    out: Counter = Counter()
    for originator_id, events in streams.items():
        known = []
        for e in events:
            if e.timestamp > known_at:
                break
            known.append(e)
        effective = [e for e in known if e.on <= as_of]
        if not effective or fold(known, as_of) is None:
            continue
        start = max(e.on for e in effective)  # the view stores the state as of the date it took effect
        kind, cols, state = serialise(fold(known, start), start)
        out[(str(originator_id), kind, fold(known, start).number, cols["campaign"], cols["status"],
             cols["village"], cols["department"], cols["level"], state)] += 1
    return out


def view_differs(ledger) -> bool:
    """Whether the view answers differently from the fold anywhere (every bound of every row and event)."""
    rows = ledger._view.store.query(f"SELECT {VIEW_COLUMNS} FROM qd_versions")
    streams = load_streams(ledger._log)
    days = {r[8] for r in rows} | {r[9] for r in rows if r[9]} | {
        e.on.isoformat() for events in streams.values() for e in events}
    moments = {r[10] for r in rows} | {r[11] for r in rows if r[11]} | {
        stamp(e.timestamp) for events in streams.values() for e in events}
    return any(_answers(rows, day, moment) != _folded(streams, day, moment)
               for day in sorted(days) for moment in sorted(moments))


@settings(max_examples=int(os.environ.get("QINGDAN_PROPERTY_EXAMPLES", "30")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=8, max_size=30), edit=st.sampled_from(EDITS),
       which=st.integers(0, 10_000), other=st.integers(0, 10_000))
def test_verify_sees_the_view_differ_exactly_when_it_does(tmp_path_factory, steps, edit, which, other):
    clock = Clock(datetime(2020, 7, 1, 9, 0, tzinfo=CST))
    url = str(tmp_path_factory.mktemp("audit") / "ledger.db")
    with qingdan.open_ledger(url, clock=clock, catalogue=make_catalogue()) as ledger:
        _state.clear()
        run_history(ledger, clock, steps)
        report = ledger.verify_integrity()
        assert report.ok, report.problems
        store = ledger._view.store
        ids = [r[0] for r in store.query("SELECT id FROM qd_versions ORDER BY id")]
        if not ids:
            return
        row = ids[which % len(ids)]
        source = ids[other % len(ids)]
        if edit == "delete":
            store.execute("DELETE FROM qd_versions WHERE id = ?", (row,))
        elif edit == "duplicate":
            store.execute(f"INSERT INTO qd_versions ({VIEW_COLUMNS}) SELECT {VIEW_COLUMNS} FROM qd_versions "
                          "WHERE id = ?", (row,))
        elif edit == "status":
            store.execute("UPDATE qd_versions SET status = CASE WHEN status = 'withdrawn' THEN NULL "
                          "ELSE 'withdrawn' END WHERE id = ?", (row,))
        else:  # a value of this column taken from another row (NULL allowed where the column allows it)
            value = store.query(f"SELECT {edit} FROM qd_versions WHERE id = ?", (source,))[0][0]
            if value is None and edit in ("valid_from", "recorded_from", "state"):
                return
            store.execute(f"UPDATE qd_versions SET {edit} = ? WHERE id = ?", (value, row))
        differs = view_differs(ledger)
        event(f"{edit}: {'differs' if differs else 'same'}")
        result = ledger.verify_integrity()
        assert {p.kind for p in result.problems} <= {"view"}, result.problems
        assert (not result.ok) == differs, (edit, result.problems)
