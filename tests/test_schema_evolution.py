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


def _rewrite_state(path: str, number_like: str, change) -> None:
    """Rewrite a stored event's JSON as an older qingdan would have written it."""
    import json as _json

    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT rowid, state FROM stored_events WHERE topic LIKE ?", (number_like,)).fetchall()
        for rowid, state in rows:
            data = _json.loads(state)
            change(data)
            conn.execute("UPDATE stored_events SET state = ? WHERE rowid = ?",
                         (_json.dumps(data).encode(), rowid))


def test_a_submission_stored_before_digests_named_their_fields_is_upcast(tmp_path, clock, catalogue):
    """Report events of class version 1 have no ``digest_fields``: they load as having hashed the
    fields the rows had then (DIGEST_FIELDS_V1), and a resubmission of version 1 has no reason."""
    from qingdan.core.rows import DIGEST_FIELDS_V1

    path = str(tmp_path / "old.db")
    clock.set("2020-09-25 10:00")
    with qingdan.open_ledger(path, clock=clock, catalogue=catalogue) as ledger:
        ledger.report_hazard(campaign="fire", unit="甲", description="乙", found_on=date(2020, 9, 1))
        ledger.submit_report(period="2020-09")
        ledger.submit_report(period="2020-09", resubmit_reason="补报")

    def to_v1(data):
        data.pop("digest_fields", None)
        data.pop("reason", None)
        data.pop("class_version", None)

    _rewrite_state(path, "%Report.%", to_v1)
    with sqlite3.connect(path) as conn:
        assert all(b"digest_fields" not in bytes(s) for (s,) in conn.execute(
            "SELECT state FROM stored_events WHERE topic LIKE '%Report.%'"))
    with qingdan.open_ledger(path, clock=clock, catalogue=catalogue) as ledger:
        history = ledger.history("R-2020-09")
        assert [e.type for e in history] == ["Submitted", "Resubmitted"]
        assert all({k: tuple(v) for k, v in e.data["digest_fields"].items()} == DIGEST_FIELDS_V1
                   for e in history)
        assert history[1].data["reason"] is None


def test_a_field_added_to_the_rows_never_makes_a_past_submission_look_altered(ledger, clock):
    """A later release adds a field to the hazard rows (say a photo count). The submission recorded
    which fields it hashed, so its digest is recomputed over those and still matches."""
    from qingdan.core.queries import rows_digest
    from qingdan.core.rows import HazardRow, TwoLists

    clock.set("2020-09-25 10:00")
    ledger.report_hazard(campaign="fire", unit="甲", description="乙", found_on=date(2020, 9, 1))
    ledger.submit_report(period="2020-09")
    report = ledger.report("2020-09")

    class NewHazardRow(HazardRow):
        photos: int = 0

    then = ledger.two_lists(as_of=report.as_of, known_at=report.known_at)
    later = TwoLists(as_of=then.as_of, known_at=then.known_at, measures=then.measures,
                     hazards=tuple(NewHazardRow(**h.model_dump(), photos=2) for h in then.hazards))
    assert rows_digest(later, report.digest_fields) == report.digest
    assert rows_digest(later, {"hazards": (*report.digest_fields["hazards"], "photos"),
                               "measures": report.digest_fields["measures"]}) != report.digest
    assert report.digest_fields["hazards"] == tuple(HazardRow.model_fields)


def test_a_view_written_before_the_runs_table_has_it_filled_in_when_opened(tmp_path, clock, catalogue):
    """qd_listed (each record's runs on the lists, what a page read by offset counts) came after
    ledgers were written: opening one fills it in from the view's rows, the same runs the view writes
    command by command — withdrawn, corrected and back-dated records too."""
    path = str(tmp_path / "old.db")
    clock.set("2020-09-01 10:00")
    with qingdan.open_ledger(path, clock=clock, catalogue=catalogue) as ledger:
        numbers = [ledger.report_hazard(campaign="fire", unit=f"单位{i}", description="隐患") for i in range(6)]
        clock.set("2020-09-10 10:00")
        ledger.plan_rectification(numbers[0], responsible_unit="单位0", deadline=date(2020, 9, 20))
        ledger.withdraw(numbers[1], reason="重复登记", on=date(2020, 9, 5))
        ledger.correct(numbers[2], field="description", value="隐患（更正）", reason="更正")
        ledger.report_hazard(campaign="fire", unit="单位9", description="补录", on=date(2020, 8, 20))
        clock.set("2020-09-12 10:00")
        ledger.add_measure(campaign="fire", title="值班制度", department="镇消防救援站")
        ledger.submit_report(period="2020-09")
        written = runs(path)
        pages = [[h.number for h in ledger.two_lists(as_of=day, limit=2, offset=first, include_withdrawn=every).hazards]
                 for day in (date(2020, 8, 25), date(2020, 9, 30)) for first in (0, 2, 4) for every in (False, True)]
    assert any(row[3] == 1 for row in written)  # the withdrawn run
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE qd_listed")
        conn.execute("DELETE FROM qd_tracking WHERE name = 'qd_listed_filled'")
    with qingdan.open_ledger(path, clock=clock, catalogue=catalogue) as ledger:
        assert runs(path) == written
        assert [[h.number for h in ledger.two_lists(as_of=day, limit=2, offset=first, include_withdrawn=every).hazards]
                for day in (date(2020, 8, 25), date(2020, 9, 30)) for first in (0, 2, 4)
                for every in (False, True)] == pages
        assert ledger.verify_integrity(full=True).ok


def runs(path: str) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT aggregate_id, kind, number, withdrawn, campaign, valid_from, valid_to, "
                            "recorded_from, recorded_to FROM qd_listed ORDER BY aggregate_id, recorded_from, "
                            "valid_from").fetchall()
