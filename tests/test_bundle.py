"""``export --format zip``: the event log, every attachment and a manifest of sha256s; checked
offline against the manifest, and restored into an empty ledger with its attachments and the same
hash chain (on each backend, and from one backend into the other)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

import qingdan
from qingdan.cli import app
from qingdan.io.bundle import check_bundle, restore_bundle, write_bundle
from tests.evidence import PDF, jpeg

ROOT = Path(__file__).resolve().parents[1]


def filled(ledger, clock) -> dict[str, str]:
    clock.set("2020-09-01 10:00")
    hazard = ledger.report_hazard(campaign="fire", unit="南阳饭店", description="燃气管道老化")
    before = ledger.attach(hazard, data=jpeg("red"), name="整改前.jpg", kind="整改前")
    measure = ledger.add_measure(campaign="fire", title="消防值班制度", department="镇安监局")
    document = ledger.attach(measure, data=PDF, name="通知.pdf", kind="文书")
    clock.set("2020-09-25 10:00")
    ledger.submit_report(period="2020-09")
    clock.set("2020-09-26 10:00")
    after = ledger.attach(hazard, data=jpeg("green"), name="整改后.jpg", kind="整改后")
    return {"hazard": hazard, "measure": measure, "before": before, "after": after, "document": document}


def offline_check(bundle: Path) -> list[str]:
    """The check docs/reliability.md gives, run as a separate script with only the standard library."""
    script = (ROOT / "docs" / "check_bundle.py").read_text(encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", script, str(bundle)], capture_output=True, text=True)
    return [done.returncode, done.stdout]


def test_the_bundle_holds_the_log_and_every_attachment_as_its_manifest_says(ledger, clock, tmp_path):
    made = filled(ledger, clock)
    bundle = tmp_path / "台账包.zip"
    summary = write_bundle(ledger, bundle)
    assert (summary.events, summary.attachments) == (ledger.last_position(), 3)
    with zipfile.ZipFile(bundle) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        for entry in manifest["files"]:
            assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"]
        assert archive.read(f"attachments/{made['document']}") == PDF
        events = [json.loads(line) for line in archive.read("events.jsonl").decode().splitlines()]
    assert {a["sha256"]: a["number"] for a in manifest["attachments"]} == {
        made["before"]: made["hazard"], made["after"]: made["hazard"], made["document"]: made["measure"]}
    assert [e["type"] for e in events].count("Hazard.Attached") == 2
    assert manifest["chain_head"] == ledger.verify_integrity().chain_head
    assert check_bundle(bundle)[1] == []
    assert offline_check(bundle) == [0, "ok: 5 files match manifest.json\n"]


def test_an_altered_or_added_member_fails_the_check(ledger, clock, tmp_path):
    made = filled(ledger, clock)
    bundle, altered = tmp_path / "a.zip", tmp_path / "b.zip"
    write_bundle(ledger, bundle)
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(altered, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == f"attachments/{made['before']}":
                data = jpeg("black")
            target.writestr(item.filename, data)
        target.writestr("run.exe", b"MZ")
    problems = check_bundle(altered)[1]
    assert problems == [f"attachments/{made['before']}：SHA-256 与清单不符（被改动）", "run.exe：不在清单中"]
    code, out = offline_check(altered)
    assert code == 1 and f"attachments/{made['before']}" in out and "run.exe" in out
    with qingdan.open_ledger(str(tmp_path / "empty.db")) as empty:
        with pytest.raises(qingdan.InvalidCommand, match="未通过校验"):
            restore_bundle(empty, altered)
        assert empty.last_position() == 0


def test_a_round_trip_keeps_attachments_reports_and_the_hash_chain(ledger, clock, catalogue, tmp_path, url_factory):
    made = filled(ledger, clock)
    bundle = tmp_path / "b.zip"
    write_bundle(ledger, bundle)
    head = ledger.verify_integrity().chain_head
    for url in (str(tmp_path / "restored.db"), url_factory()):  # into SQLite and into this test's backend
        with qingdan.open_ledger(url, clock=clock, catalogue=catalogue) as copy:
            summary = restore_bundle(copy, bundle)
            assert summary.chain_head == head
            result = copy.verify_integrity()
            assert result.ok and result.reports_checked == 1, result.problems
            assert copy.hazard(made["hazard"]) == ledger.hazard(made["hazard"])
            assert copy.hazard(made["hazard"], as_of=date(2020, 9, 25)).attachments == \
                ledger.hazard(made["hazard"], as_of=date(2020, 9, 25)).attachments
            assert copy.attachment(made["after"]) == jpeg("green")
            assert copy.measure(made["measure"]).attachments[0].sha256 == made["document"]
            assert copy.report("2020-09") == ledger.report("2020-09")
            next_one = copy.report_hazard(campaign="fire", unit="东港超市", description="疏散通道堵塞")
            assert copy.hazard(next_one).number == "H-fire-2020-0002" and copy.verify_integrity().ok
            with pytest.raises(qingdan.Conflict, match="空台账"):
                restore_bundle(copy, bundle)


def test_a_restore_refuses_a_log_naming_an_attachment_it_does_not_carry(ledger, clock, tmp_path):
    filled(ledger, clock)
    rows = list(ledger.raw_log())
    with qingdan.open_ledger(str(tmp_path / "empty.db")) as empty:
        with pytest.raises(qingdan.InvalidCommand, match="缺少事件引用的附件"):
            empty.restore(rows, {})
        with pytest.raises(qingdan.InvalidCommand, match="不符"):
            empty.restore(rows, {"0" * 64: b"x"})
        assert empty.last_position() == 0


runner = CliRunner()


def qd(db: str, *args: str, code: int = 0):
    result = runner.invoke(app, ["--db", db, "--actor", "安监办张三", *args])
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def test_the_command_line_attaches_lists_gets_exports_and_restores(tmp_path):
    db, copy = str(tmp_path / "a.db"), str(tmp_path / "b.db")
    photo = tmp_path / "现场.jpg"
    photo.write_bytes(jpeg("red", taken="2020:08:20 09:00:00", gps=(32.05, 118.79)))
    number = qd(db, "hazard", "report", "-c", "fire", "-u", "南阳饭店", "-d", "燃气管道老化",
                "--found-on", "2020-09-01").stdout.strip()
    attached = qd(db, "hazard", "attach", number, str(photo), "--kind", "整改前")
    sha = attached.stdout.strip()
    assert sha == hashlib.sha256(photo.read_bytes()).hexdigest()
    assert "已为" in attached.stderr and "早于排查日期 2020-09-01" in attached.stderr
    listed = json.loads(qd(db, "hazard", "attachments", number, "-f", "json").stdout)
    assert [(a["sha256"], a["kind"], a["name"]) for a in listed] == [(sha, "整改前", "现场.jpg")]
    assert "32.05000, 118.79000" in qd(db, "hazard", "attachments", number).stdout
    assert json.loads(qd(db, "hazard", "attachments", number, "--as-of", "2020-09-01", "-f", "json").stdout) == []
    qd(db, "attachment", "get", sha, "-o", str(tmp_path / "out.jpg"))
    assert (tmp_path / "out.jpg").read_bytes() == photo.read_bytes()
    refused = qd(db, "hazard", "attach", number, str(tmp_path / "out.jpg"), "--kind", "自拍", code=2)
    assert "整改前" in refused.stderr
    script = tmp_path / "整改照片.jpg"
    script.write_bytes(b"#!/bin/sh\necho\n")
    refused = qd(db, "hazard", "attach", number, str(script), code=1)
    assert "脚本" in refused.stderr and "Traceback" not in refused.stderr
    assert "没有" in qd(db, "attachment", "get", "f" * 64, "-o", str(tmp_path / "x"), code=1).stderr
    measure = qd(db, "measure", "add", "-c", "fire", "-t", "值班制度", "--department", "镇安监局").stdout.strip()
    document = tmp_path / "通知.pdf"
    document.write_bytes(PDF)
    qd(db, "measure", "attach", measure, str(document))
    assert json.loads(qd(db, "measure", "attachments", measure, "-f", "json").stdout)[0]["kind"] == "文书"

    workbook = tmp_path / "台账.xlsx"
    qd(db, "export", "--format", "xlsx", "-o", str(workbook))
    sheet = load_workbook(workbook)["问题隐患清单"]
    header = next(r for r in sheet.iter_rows(values_only=True) if "附件" in r)
    rows = [r for r in sheet.iter_rows(values_only=True) if number in r]
    assert rows[0][header.index("附件")] == "1（整改前1）"
    qd(db, "import", str(workbook))  # the 附件 column is export-only: the 台账 still re-imports

    bundle = tmp_path / "台账包.zip"
    assert "2 个附件" in qd(db, "export", "--format", "zip", "-o", str(bundle)).stderr
    restored = qd(copy, "import", str(bundle))
    assert "与台账包一致" in restored.stderr
    assert qd(copy, "attachment", "get", sha, "-o", "-").stdout_bytes == photo.read_bytes()
    assert "台账完整" in qd(copy, "verify").stderr + qd(copy, "verify").stdout
    assert "空台账" in qd(copy, "import", str(bundle), code=1).stderr
