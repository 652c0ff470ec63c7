"""`qingdan verify` as an auditor runs it: exit 0 on a sound ledger, 1 naming what was tampered with."""

from __future__ import annotations

import json
import sqlite3

from tests.test_cli import db, qd, report  # noqa: F401  (db is a fixture)


def test_verify_passes_then_names_an_edited_event(db):  # noqa: F811
    number = report(db)
    qd(db, "hazard", "plan", number, "--deadline", "2020-09-30", "--on", "2020-09-02")
    ok = qd(db, "verify", "-f", "json")
    data = json.loads(ok.stdout)
    assert data["ok"] is True and data["problems"] == [] and data["events_checked"] == 2
    assert len(data["chain_head"]) == 64 and data["chain_head"] in ok.stderr

    with sqlite3.connect(db) as conn:  # someone edits the stored event behind qingdan's back
        state = conn.execute("SELECT state FROM stored_events WHERE rowid = 1").fetchone()[0]
        conn.execute("UPDATE stored_events SET state = ? WHERE rowid = 1",
                     (state.replace("疏散通道".encode(), "一切正常".encode()),))
    bad = qd(db, "verify", "-f", "json", code=1)
    problem = json.loads(bad.stdout)["problems"][0]
    assert (problem["kind"], problem["position"], problem["number"]) == ("tampered", 1, number)
    table = qd(db, "verify", code=1)
    assert "事件被改动" in table.stdout and "发现 1 处问题" in table.stderr
    assert "Traceback" not in table.stdout + table.stderr


def test_verify_names_every_event_rewritten_as_text_and_never_crashes(db):  # noqa: F811
    """``sqlite3 x.db "update stored_events set state=replace(state,'a','b')"`` stores text where the
    events were bytes: every event is named (position and record number), nothing crashes."""
    number = report(db)
    qd(db, "hazard", "plan", number, "--deadline", "2020-09-30", "--on", "2020-09-02")
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE stored_events SET state = replace(state, 'a', 'b')")
        assert conn.execute("SELECT DISTINCT typeof(state) FROM stored_events").fetchall() == [("text",)]
    bad = qd(db, "verify", "-f", "json", code=1)
    problems = json.loads(bad.stdout)["problems"]
    assert [(p["kind"], p["position"], p["number"]) for p in problems] == [
        ("tampered", 1, number), ("tampered", 2, number)]
    assert all("以文本而非字节存储" in p["message"] for p in problems)
    table = qd(db, "verify", code=1)
    assert "事件被改动" in table.stdout and "发现 2 处问题" in table.stderr
    assert "内部错误" not in table.stderr and "Traceback" not in table.stdout + table.stderr


def test_verify_names_an_event_whose_state_was_emptied(db):  # noqa: F811
    number = report(db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE stored_events SET state = NULL, topic = NULL WHERE rowid = 1")
    bad = qd(db, "verify", "-f", "json", code=1)
    [problem] = json.loads(bad.stdout)["problems"]
    assert (problem["kind"], problem["position"], problem["number"]) == ("tampered", 1, number)
    assert "内容为空" in problem["message"] and "事件类型为空" in problem["message"]


def test_verify_says_whether_it_was_incremental_and_full_checks_everything(db, tmp_path):  # noqa: F811
    number = report(db)
    first = qd(db, "verify", "-f", "json")
    assert json.loads(first.stdout)["mode"] == "full" and "完整核验" in first.stderr
    assert "本机首次核验" in first.stderr
    qd(db, "hazard", "plan", number, "--deadline", "2020-09-30", "--on", "2020-09-02")
    second = qd(db, "verify")
    assert "增量核验：自第 2 个事件起（第 1 个事件及以前已于" in second.stderr
    assert "1 条记录重放比对" in second.stderr and "✓ 台账完整" in second.stderr
    data = json.loads(qd(db, "verify", "-f", "json").stdout)
    assert (data["mode"], data["since"], data["events_checked"], data["events_decoded"]) == ("incremental", 2, 2, 0)
    assert data["state_file"] and not data["state_file"].startswith(str(tmp_path / "cli.db"))
    full = qd(db, "verify", "--full")
    assert full.stderr.startswith("完整核验：已核验 2 个事件")
    # an event edited behind qingdan's back after the check: the incremental check names it, exit 1
    with sqlite3.connect(db) as conn:
        state = conn.execute("SELECT state FROM stored_events WHERE rowid = 1").fetchone()[0]
        conn.execute("UPDATE stored_events SET state = ? WHERE rowid = 1",
                     (state.replace("疏散通道".encode(), "一切正常".encode()),))
    bad = qd(db, "verify", code=1)
    assert "事件被改动" in bad.stdout and "改为完整核验" in bad.stderr and "Traceback" not in bad.stderr
    other = tmp_path / "elsewhere"
    assert "本机首次核验" in qd(db, "verify", "--state-dir", str(other), code=1).stderr
