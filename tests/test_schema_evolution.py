"""Old events keep loading: topics of moved classes still resolve, changed events are upcast."""

from __future__ import annotations

import sqlite3
from datetime import date

import qingdan


def test_events_stored_under_the_first_topics_still_load(tmp_path, clock, catalogue):
    """Measures, tasks, units, indicators and reports moved from ``qingdan.core.domain`` to
    ``qingdan.core.records``; a ledger written before the move names them by the old topic."""
    path = str(tmp_path / "old.db")
    clock.set("2020-09-01 10:00")
    with qingdan.open_ledger(path, clock=clock, catalogue=catalogue) as ledger:
        number = ledger.add_measure(campaign="fire", title="值班制度", department="镇消防救援站")
        unit = ledger.register_unit(name="南阳化工", kind="企业")
    with sqlite3.connect(path) as conn:
        changed = conn.execute("UPDATE stored_events SET topic = replace(topic, 'qingdan.core.records:', "
                               "'qingdan.core.domain:')").rowcount
    assert changed == 2
    with qingdan.open_ledger(path, clock=clock, catalogue=catalogue) as ledger:
        assert ledger.measure(number, as_of=date(2020, 9, 1)).title == "值班制度"
        assert ledger.unit(unit, as_of=date(2020, 9, 1)).name == "南阳化工"
        assert [e.type for e in ledger.history(number)] == ["Added"]
