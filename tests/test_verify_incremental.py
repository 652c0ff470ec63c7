"""`verify` incremental where it can be: after a sound check this machine remembers, outside the ledger,
what it verified; the next check folds only what changed since — and must still catch whatever an
attacker with write access to the database did after the last check, on SQLite and on PostgreSQL.

Each attack below is done after a sound, remembered verify, the way someone bypassing qingdan would
(:func:`tests.test_verify_altered.alter`), and the next (incremental) verify must name it.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qingdan
from qingdan.core import logscan
from qingdan.core.domain import CST
from tests.conftest import Clock, make_catalogue
from tests.evidence import jpeg
from tests.test_verify_altered import alter
from tests.test_verify_forgery import COLUMNS, _rewrite_chain, problems
from tests.test_view_properties import _state, run_history, step


@pytest.fixture
def verified(ledger, clock):
    """Hazard a (reported, planned) and hazard b, no submission; verified once (complete) and remembered."""
    clock.set("2020-09-01 10:00")
    a = ledger.report_hazard(campaign="fire", unit="南阳饭店", description="燃气管道老化")
    b = ledger.report_hazard(campaign="fire", unit="东港超市", description="疏散指示损坏")
    clock.set("2020-09-03 10:00")
    ledger.plan_rectification(a, responsible_unit="南阳饭店", deadline=date(2020, 9, 20))
    first = ledger.verify_integrity()
    assert first.ok and first.full and first.since is None
    assert any("首次核验" in note for note in first.notes)
    return a, b


def state_of(result) -> dict:
    with open(result.state_file, encoding="utf-8") as f:
        return json.load(f)


def test_after_a_check_the_next_one_folds_only_what_changed(ledger, clock, verified):
    a, b = verified
    position = ledger.last_position()
    clock.set("2020-09-05 10:00")
    ledger.report_progress(a, text="已更换管道")
    result = ledger.verify_integrity()
    assert result.ok and not result.full and result.since == position
    assert result.events_checked == position + 1  # the whole chain hashed again
    assert result.events_decoded == 3  # a's three events, not b's
    assert (result.records_folded, result.records_checked) == (1, 2)
    again = ledger.verify_integrity()  # nothing new: nothing folded, still every view row read
    assert again.ok and not again.full and again.since == position + 1
    assert (again.records_folded, again.events_decoded) == (0, 0)
    assert again.view_rows_checked == result.view_rows_checked > 0
    assert state_of(again)["position"] == position + 1


def test_full_rederives_everything(ledger, clock, verified):
    clock.set("2020-09-05 10:00")
    ledger.report_progress(verified[0], text="已更换管道")
    result = ledger.verify_integrity(full=True)
    assert result.ok and result.full and result.since is None
    assert result.events_decoded == result.events_checked == ledger.last_position()
    assert result.records_folded == result.records_checked == 2


def test_a_problem_in_the_new_part_is_found(ledger, clock, verified):
    a, b = verified
    clock.set("2020-09-05 10:00")
    c = ledger.report_hazard(campaign="fire", unit="南阳化工", description="储罐无围堰")
    position = ledger.last_position()
    [(state,)] = alter(ledger, "SELECT state FROM EVENTS WHERE POSITION = ?", (position,))
    alter(ledger, "UPDATE EVENTS SET state = ? WHERE POSITION = ?",
          (bytes(state).replace("储罐无围堰".encode(), "一切正常".encode()), position))
    result = ledger.verify_integrity()
    assert not result.ok and result.full  # turned complete, to name everything
    assert ("tampered", c) in problems(result)
    assert any("改为完整核验" in note for note in result.notes)


def test_an_old_event_edited_without_the_chain_is_found(ledger, verified):
    a, _ = verified
    [(state,)] = alter(ledger, "SELECT state FROM EVENTS WHERE POSITION = 1")
    alter(ledger, "UPDATE EVENTS SET state = ? WHERE POSITION = 1",
          (bytes(state).replace("燃气管道老化".encode(), "无隐患".encode()),))
    result = ledger.verify_integrity()
    assert not result.ok
    assert [(p.kind, p.position, p.number) for p in result.problems] == [("tampered", 1, a)]


def _edit_first_event_and_rewrite_the_chain(ledger) -> None:
    [(state,)] = alter(ledger, "SELECT state FROM EVENTS WHERE POSITION = 1")
    data = json.loads(bytes(state))
    data["description"] = "无隐患"
    alter(ledger, "UPDATE EVENTS SET state = ? WHERE POSITION = 1",
          (json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode(),))
    _rewrite_chain(ledger)
    ledger.rebuild()


def test_an_old_event_edited_with_the_chain_recomputed_is_found_only_against_what_was_remembered(
        ledger, clock, verified):
    a, _ = verified
    _edit_first_event_and_rewrite_the_chain(ledger)
    assert ledger.hazard(a).description == "无隐患"
    clock.set("2020-09-05 10:00")
    ledger.report_progress(a, text="已更换管道")  # and the ledger goes on being used
    # nothing inside the database shows it: the chain, the view and the log agree
    assert ledger.verify_integrity(remember=False).ok
    result = ledger.verify_integrity()
    assert not result.ok
    [problem] = result.problems
    assert (problem.kind, problem.position) == ("rewritten", 3)
    assert "#1–#3 之间的事件被改写" in problem.message and "--forget" in problem.message
    # a complete check compares the remembered hashes too; only --forget drops them
    assert [p.kind for p in ledger.verify_integrity(full=True).problems] == ["rewritten"]
    assert not ledger.verify_integrity().ok  # a check that found a problem is not remembered
    forgot = ledger.verify_integrity(forget=True)
    assert forgot.ok and forgot.full and any("已忘记" in note for note in forgot.notes)
    assert ledger.verify_integrity().ok


def test_the_checkpoints_say_where_history_was_rewritten(ledger, clock, monkeypatch):
    monkeypatch.setattr(logscan, "CHECKPOINT", 2)
    clock.set("2020-09-01 10:00")
    numbers = [ledger.report_hazard(campaign="fire", unit=f"单位{i}", description=f"隐患{i}") for i in range(6)]
    assert ledger.verify_integrity().ok
    [(state,)] = alter(ledger, "SELECT state FROM EVENTS WHERE POSITION = 5")
    alter(ledger, "UPDATE EVENTS SET state = ? WHERE POSITION = 5",
          (bytes(state).replace("隐患4".encode(), "无".encode()),))
    _rewrite_chain(ledger)
    ledger.rebuild()
    [problem] = ledger.verify_integrity().problems
    assert problem.kind == "rewritten" and "#5–#6" in problem.message, problem.message
    assert ledger.hazard(numbers[4]).description == "无"


def test_a_log_cut_short_after_a_check_is_found(ledger, clock, verified):
    a, _ = verified
    end = ledger.last_position()
    alter(ledger, "DELETE FROM EVENTS WHERE POSITION = ?", (end,))
    alter(ledger, "DELETE FROM qd_chain WHERE position = ?", (end,))
    ledger.rebuild()
    assert ledger.verify_integrity(remember=False).ok  # the database alone cannot tell
    [problem] = ledger.verify_integrity().problems
    assert problem.kind == "rewritten" and f"至 #{end} 的事件" in problem.message


def test_forged_view_rows_of_an_untouched_record_are_found(ledger, clock, verified):
    a, b = verified
    clock.set("2020-09-05 10:00")
    ledger.report_progress(a, text="已更换管道")  # a is touched, b is not
    alter(ledger, "UPDATE qd_versions SET state = REPLACE(state, ?, ?) WHERE number = ?",
          ("疏散指示损坏", "已全部整改", b))
    ledger.forget_snapshots()
    assert {h.number: h.description for h in ledger.two_lists().hazards}[b] == "已全部整改"
    result = ledger.verify_integrity()
    assert not result.ok and problems(result) == {("view", b)}
    assert any("增量核验发现视图与事件重放不一致" in note for note in result.notes)


def test_deleted_view_rows_of_an_untouched_record_are_found(ledger, verified):
    _, b = verified
    alter(ledger, "DELETE FROM qd_versions WHERE number = ?", (b,))
    result = ledger.verify_integrity()
    assert not result.ok and problems(result) == {("view", b)}


def test_a_deleted_run_of_an_untouched_record_is_found(ledger, clock, verified):
    a, b = verified
    clock.set("2020-09-05 10:00")
    ledger.report_progress(a, text="已更换管道")  # a is touched, b is not
    alter(ledger, "DELETE FROM qd_listed WHERE number = ?", (b,))
    result = ledger.verify_integrity()
    assert not result.ok and problems(result) == {("view", b)}
    assert any("增量核验发现视图的翻页索引与视图行不一致" in note for note in result.notes)


def test_an_invented_view_record_is_found(ledger, verified):
    a, _ = verified
    invented = "H-fire-2020-0099"
    alter(ledger, f"INSERT INTO qd_versions ({COLUMNS}) SELECT ?, kind, ?, campaign, status, village, department, "
                  "level, valid_from, valid_to, recorded_from, recorded_to, REPLACE(state, ?, ?) FROM qd_versions "
                  "WHERE number = ?", ("00000000-0000-5000-8000-000000000099", invented, a, invented, a))
    result = ledger.verify_integrity()
    assert not result.ok and problems(result) == {("view", invented)}


def test_a_new_submission_is_checked(ledger, clock, verified):
    clock.set("2020-09-25 10:00")
    ledger.submit_report(period="2020-09")
    result = ledger.verify_integrity()
    assert result.ok and not result.full and result.reports_checked == 1


def test_an_edit_after_the_remembered_position_with_the_chain_recomputed_is_found(ledger, clock, verified):
    clock.set("2020-09-05 10:00")
    c = ledger.report_hazard(campaign="fire", unit="南阳化工", description="储罐无围堰")
    clock.set("2020-09-25 10:00")
    report = ledger.submit_report(period="2020-09")
    # the new hazard's event edited, the chain recomputed over it and the view rebuilt: all after the
    # remembered position, so it is the submission's own event that shows it
    [(position,)] = alter(ledger, "SELECT MAX(POSITION) FROM EVENTS WHERE POSITION < (SELECT MAX(POSITION) FROM EVENTS)")
    [(state,)] = alter(ledger, "SELECT state FROM EVENTS WHERE POSITION = ?", (position,))
    assert "储罐无围堰".encode() in bytes(state)
    alter(ledger, "UPDATE EVENTS SET state = ? WHERE POSITION = ?",
          (bytes(state).replace("储罐无围堰".encode(), "无隐患无".encode()), position))
    _rewrite_chain(ledger)
    ledger.rebuild()
    assert ledger.hazard(c).description == "无隐患无"
    result = ledger.verify_integrity()
    assert not result.ok and ("report", report) in problems(result)
    assert "rewritten" not in {p.kind for p in result.problems}  # the remembered prefix is intact


def test_new_attachments_are_hashed_and_old_ones_must_still_be_there(ledger, clock, verified):
    a, _ = verified
    old = ledger.attach(a, data=jpeg("red"), name="整改前.jpg", kind="整改前")
    assert ledger.verify_integrity().ok
    new = ledger.attach(a, data=jpeg("green"), name="整改后.jpg", kind="整改后")
    result = ledger.verify_integrity()
    assert result.ok and not result.full and (result.attachments_hashed, result.attachments_checked) == (1, 2)
    alter(ledger, "UPDATE qd_blobs SET data = ? WHERE sha256 = ?", (b"short", old))
    result = ledger.verify_integrity()
    assert not result.ok and {p.kind for p in result.problems} == {"attachment"}
    assert old[:12] in result.problems[0].message
    assert new


def test_an_old_attachment_rewritten_to_the_same_size_is_left_to_the_full_check(ledger, verified):
    """The documented limit: an incremental check compares the remembered attachments' presence and
    size, not their content; ``--full`` hashes every one again."""
    a, _ = verified
    photo = jpeg("red")
    sha = ledger.attach(a, data=photo, name="整改前.jpg")
    assert ledger.verify_integrity().ok
    alter(ledger, "UPDATE qd_blobs SET data = ? WHERE sha256 = ?", (bytes(reversed(photo)), sha))
    assert ledger.verify_integrity().ok
    result = ledger.verify_integrity(full=True)
    assert not result.ok and [p.kind for p in result.problems] == ["attachment"]


def test_a_state_file_from_another_ledger_is_not_used(ledger, clock, verified, tmp_path, catalogue):
    first = ledger.verify_integrity()
    with qingdan.open_ledger(str(tmp_path / "other.db"), actor="安监办张三", clock=clock,
                             catalogue=catalogue) as other:
        other.report_hazard(campaign="fire", unit="南阳饭店", description="燃气管道老化")
        fresh = other.verify_integrity()
        assert fresh.ok and fresh.full and fresh.state_file != first.state_file
        # the other ledger's state copied over this one's: named, not used
        shutil.copyfile(first.state_file, fresh.state_file)
        result = other.verify_integrity()
        assert result.ok and result.full
        assert any("属于另一本台账" in note for note in result.notes)
        assert not other.verify_integrity().full  # its own state written in its place


def test_what_was_remembered_is_trusted_only_as_far_as_its_file_is(ledger, verified):
    """Whoever can write the state file can hide a forged view row from an incremental check (why it
    belongs in the auditor's own account); ``full`` does not trust it."""
    a, b = verified
    alter(ledger, "UPDATE qd_versions SET state = REPLACE(state, ?, ?) WHERE number = ?",
          ("疏散指示损坏", "已全部整改", b))
    remembered = ledger.verify_integrity(full=True)
    assert problems(remembered) == {("view", b)}
    from qingdan.core.verifystate import rows_digest
    from qingdan.core.viewaudit import read_view

    forged = {key: rows_digest(rows.rows) for key, rows in read_view(ledger._view.store)}
    data = state_of(remembered)
    data["records"] = forged
    with open(remembered.state_file, "w", encoding="utf-8") as f:
        json.dump(data, f)
    assert ledger.verify_integrity().ok  # the forged file vouches for the forged row
    assert problems(ledger.verify_integrity(full=True)) == {("view", b)}


def _as_format_1(ledger, result) -> None:
    """Rewrite the state file ``result`` left as the earlier format wrote it: version 1, each record's
    view rows (the view's now) digested with ``repr``."""
    import hashlib

    from qingdan.core.viewaudit import read_view

    def digest_1(rows):
        return hashlib.sha256("\n".join(sorted(repr(row) for row in rows)).encode("utf-8", "surrogatepass")).hexdigest()

    data = state_of(result)
    data["version"] = 1
    data["records"] = {key: digest_1(view.rows) for key, view in read_view(ledger._view.store)}
    with open(result.state_file, "w", encoding="utf-8") as f:
        json.dump(data, f)


def test_a_state_file_of_the_earlier_format_is_used_for_its_chain_hashes_not_its_digests(ledger, clock, verified):
    """Format 1 digested the view rows with ``repr``: its digests are never compared with format 2's
    (every record is folded again), but what it remembers of the chain still shows history rewritten."""
    a, b = verified
    _as_format_1(ledger, ledger.verify_integrity())
    upgraded = ledger.verify_integrity()
    assert upgraded.ok and not upgraded.full
    assert upgraded.records_folded == upgraded.records_checked == 2  # none vouched for by a digest
    assert any("上一版本的格式" in note for note in upgraded.notes)
    assert state_of(upgraded)["version"] == 2
    again = ledger.verify_integrity()
    assert again.ok and not again.full and again.records_folded == 0 and not again.notes
    # a forged view row its format-1 digests vouch for is still found
    alter(ledger, "UPDATE qd_versions SET state = REPLACE(state, ?, ?) WHERE number = ?",
          ("疏散指示损坏", "已全部整改", b))
    _as_format_1(ledger, again)
    assert problems(ledger.verify_integrity()) == {("view", b)}
    ledger.rebuild()
    assert ledger.verify_integrity(full=True).ok
    # history rewritten with the chain recomputed, after a check that left format 1
    _as_format_1(ledger, ledger.verify_integrity())
    _edit_first_event_and_rewrite_the_chain(ledger)
    assert ledger.verify_integrity(remember=False).ok  # nothing inside the database shows it
    assert [p.kind for p in ledger.verify_integrity().problems] == ["rewritten"]


def test_an_unwritable_state_directory_is_said_and_nothing_else_changes(ledger, clock, verified, tmp_path):
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("x")
    result = ledger.verify_integrity(state_dir=blocked)
    assert result.ok and result.full and any("无法写入" in note for note in result.notes)
    assert not ledger.verify_integrity().full  # the default directory's state is untouched


def test_remember_false_reads_and_writes_no_state(ledger, verified, verify_state_dir):
    import pathlib

    before = sorted(pathlib.Path(verify_state_dir).rglob("*.json"))
    result = ledger.verify_integrity(remember=False)
    assert result.ok and result.full and result.state_file is None
    assert sorted(pathlib.Path(verify_state_dir).rglob("*.json")) == before


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(before=st.lists(step, min_size=5, max_size=20), after=st.lists(step, min_size=1, max_size=12),
       which=st.integers(0, 10_000), forge=st.booleans())
def test_incremental_and_complete_checks_agree(tmp_path_factory, before, after, which, forge):
    """On random histories verified part-way: the incremental check after the rest says what a complete
    one says, with or without one view row then forged, and remembers the same digests."""
    clock = Clock(datetime(2020, 7, 1, 9, 0, tzinfo=CST))
    url = str(tmp_path_factory.mktemp("incremental") / "ledger.db")
    state = tmp_path_factory.mktemp("state")
    with qingdan.open_ledger(url, clock=clock, catalogue=make_catalogue()) as ledger:
        _state.clear()
        run_history(ledger, clock, before)
        assert ledger.verify_integrity(state_dir=state).ok
        run_history(ledger, clock, after)
        store = ledger._view.store
        ids = [r[0] for r in store.query("SELECT id FROM qd_versions ORDER BY id")]
        if forge and ids:
            store.execute("UPDATE qd_versions SET state = REPLACE(state, '\"status\":', '\"status\": ') "
                          "WHERE id = ?", (ids[which % len(ids)],))
            store.execute("UPDATE qd_versions SET valid_from = '2020-06-30' WHERE id = ?", (ids[which % len(ids)],))
        complete = ledger.verify_integrity(remember=False)
        incremental = ledger.verify_integrity(state_dir=state)
        assert incremental.ok == complete.ok
        assert problems(incremental) == problems(complete)
        if complete.ok:
            assert not incremental.full
            remembered = state_of(incremental)["records"]
            assert remembered == state_of(ledger.verify_integrity(state_dir=state, full=True))["records"]
