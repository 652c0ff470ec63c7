"""附件: photos and documents attached to hazards and measures, stored inside the ledger database by
sha256 in the same transaction as their events, listed on rows as of any date, checked by verify."""

from __future__ import annotations

from datetime import date

import pytest

import qingdan
from qingdan.core.files import Limits, clean_name
from tests.conftest import event_count
from tests.evidence import HOSTILE, PDF, jpeg, office, png, png_header_only


def blob_count(ledger) -> int:
    return ledger._view.store.query("SELECT COUNT(*) FROM qd_blobs")[0][0]


@pytest.fixture
def hazard(ledger, clock):
    clock.set("2020-09-01 10:00")
    return ledger.report_hazard(campaign="fire", unit="南阳饭店", description="燃气管道老化",
                                found_on=date(2020, 9, 1))


def test_rows_list_attachments_as_of_any_date_and_as_known_at_any_time(ledger, clock, hazard):
    before = jpeg("red")
    clock.set("2020-09-03 10:00")
    sha = ledger.attach(hazard, data=before, name="现场.jpg", kind="整改前", on=date(2020, 9, 2),
                        note="厨房燃气管")
    known_before_second = clock.mark()
    clock.set("2020-09-20 10:00")
    after = ledger.attach(hazard, data=jpeg("green"), name="整改后.jpg", kind="整改后", on=date(2020, 9, 20))

    assert ledger.hazard(hazard, as_of=date(2020, 9, 1)).attachments == ()
    [first] = ledger.hazard(hazard, as_of=date(2020, 9, 2)).attachments
    assert (first.sha256, first.kind, first.name, first.media_type, first.size, first.on, first.note) == (
        sha, "整改前", "现场.jpg", "image/jpeg", len(before), date(2020, 9, 2), "厨房燃气管")
    assert (first.width, first.height, first.actor) == (64, 48, "安监办张三")
    assert [a.sha256 for a in ledger.hazard(hazard).attachments] == [sha, after]
    assert [a.sha256 for a in ledger.hazard(hazard, known_at=known_before_second).attachments] == [sha]
    assert ledger.attachment(sha) == before
    assert ledger.two_lists().hazards[0].attachments == ledger.hazard(hazard).attachments
    assert [e.type for e in ledger.history(hazard)][-1] == "Attached"
    assert ledger.verify_integrity().ok


def test_a_measure_takes_its_issued_document(ledger, clock):
    clock.set("2020-09-01 10:00")
    measure = ledger.add_measure(campaign="fire", title="消防值班制度", department="镇安监局")
    ledger.issue_measure(measure, doc_no="南安委〔2020〕5号")
    sha = ledger.attach(measure, data=PDF, name="南安委〔2020〕5号.pdf", kind="文书")
    [doc] = ledger.measure(measure).attachments
    assert (doc.sha256, doc.media_type, doc.kind) == (sha, "application/pdf", "文书")
    assert ledger.attachment(sha) == PDF
    assert ledger.verify_integrity().ok


def test_the_same_content_is_stored_once_whoever_refers_to_it(ledger, clock, hazard):
    other = ledger.report_hazard(campaign="fire", unit="东港超市", description="疏散通道堵塞")
    photo = jpeg("blue")
    assert ledger.attach(hazard, data=photo, name="a.jpg") == ledger.attach(other, data=photo, name="b.jpg")
    assert blob_count(ledger) == 1
    assert [a.name for a in ledger.hazard(other).attachments] == ["b.jpg"]
    written = event_count(ledger)
    with pytest.raises(qingdan.InvalidCommand, match="附上同一文件"):
        ledger.attach(hazard, data=photo, name="again.jpg", kind="整改后")
    assert event_count(ledger) == written


def test_a_photo_s_exif_time_and_position_are_read_and_an_earlier_photo_is_warned_about(ledger, hazard):
    ledger.attach(hazard, data=jpeg("red", taken="2020:08:15 09:30:00", gps=(32.05, 118.79)),
                  name="旧照片.jpg", kind="整改前")
    ledger.attach(hazard, data=jpeg("green", taken="2020:09:01 16:00:00"), name="当天.jpg", kind="整改前")
    old, same_day = ledger.hazard(hazard).attachments
    assert old.taken_at.isoformat() == "2020-08-15T09:30:00"
    assert old.gps == pytest.approx((32.05, 118.79), abs=1e-4)
    assert "早于排查日期 2020-09-01" in old.warning
    assert same_day.warning is None and same_day.gps is None


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_content_is_refused_whatever_its_name_and_nothing_is_written(ledger, hazard, name):
    written = event_count(ledger)
    with pytest.raises(qingdan.InvalidCommand, match="不能作为附件"):
        ledger.attach(hazard, data=HOSTILE[name], name="整改照片.jpg")
    assert event_count(ledger) == written and blob_count(ledger) == 0


def test_a_broken_photo_is_refused(ledger, hazard):
    photo = jpeg("red", size=(640, 480))
    with pytest.raises(qingdan.InvalidCommand, match="已损坏"):
        ledger.attach(hazard, data=photo[:len(photo) // 2], name="断了.jpg")
    with pytest.raises(qingdan.InvalidCommand, match="已损坏"):
        ledger.attach(hazard, data=png()[:40], name="断了.png")
    assert ledger.hazard(hazard).attachments == ()


def test_documents_of_each_allowed_kind_are_accepted(ledger, hazard):
    types = [ledger.attach(hazard, data=data, name=name) and ledger.hazard(hazard).attachments[-1].media_type
             for data, name in ((png(), "a.png"), (PDF, "b.pdf"), (office("docx"), "c.docx"),
                                (office("xlsx"), "d.xlsx"))]
    assert types == ["image/png", "application/pdf",
                     "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]


def test_the_size_and_pixel_limits_refuse_and_write_nothing(ledger, hazard, tmp_path):
    ledger.attachment_limits = Limits(max_bytes=2000, max_pixels=1000)
    written = event_count(ledger)
    with pytest.raises(qingdan.InvalidCommand, match="超过上限"):
        ledger.attach(hazard, data=PDF + b"%" * 3000, name="大.pdf")
    big = tmp_path / "大.pdf"
    big.write_bytes(PDF + b"%" * 3000)
    with pytest.raises(qingdan.InvalidCommand, match="超过上限"):
        ledger.attach(hazard, path=big)
    with pytest.raises(qingdan.InvalidCommand, match=r"64×48 像素.*超过上限"):
        ledger.attach(hazard, data=jpeg(), name="照片.jpg")
    ledger.attachment_limits = None
    with pytest.raises(qingdan.InvalidCommand, match="像素"):  # a decompression bomb's header
        ledger.attach(hazard, data=png_header_only(100_000, 100_000), name="bomb.png")
    with pytest.raises(qingdan.InvalidCommand, match="空文件"):
        ledger.attach(hazard, data=b"", name="空.jpg")
    assert event_count(ledger) == written and blob_count(ledger) == 0


def test_the_size_limit_comes_from_the_environment(ledger, hazard, monkeypatch):
    monkeypatch.setenv("QINGDAN_ATTACHMENT_MAX_MB", "0.0005")
    with pytest.raises(qingdan.InvalidCommand, match="QINGDAN_ATTACHMENT_MAX_MB"):
        ledger.attach(hazard, data=jpeg(), name="照片.jpg")


def test_names_are_cut_to_a_plain_file_name_that_fits_the_content(ledger, hazard, tmp_path):
    ledger.attach(hazard, data=jpeg(), name="..\\..\\windows/system32/整改\u202e前\x07照片.exe")
    assert ledger.hazard(hazard).attachments[0].name == "整改前照片.exe.jpg"
    assert clean_name("  ..隐藏 ", "application/pdf") == "隐藏.pdf"
    assert clean_name("a<b>:c?.pdf", "application/pdf") == "a_b__c_.pdf"
    assert clean_name("", "image/png") == "附件.png"
    assert clean_name("x" * 300 + ".jpg", "image/jpeg") == "x" * 116 + ".jpg"
    photo = tmp_path / "现场照片.JPG"
    photo.write_bytes(jpeg("green"))
    ledger.attach(hazard, path=photo)
    assert ledger.hazard(hazard).attachments[1].name == "现场照片.JPG"


def test_bad_requests_are_clerks_errors(ledger, hazard, tmp_path):
    with pytest.raises(qingdan.InvalidCommand, match="路径.*内容|path.*data"):
        ledger.attach(hazard)
    with pytest.raises(qingdan.InvalidCommand, match="找不到文件"):
        ledger.attach(hazard, path=tmp_path / "nope.jpg")
    with pytest.raises(qingdan.InvalidCommand, match="整改前"):
        ledger.attach(hazard, data=jpeg(), kind="自拍")
    with pytest.raises(qingdan.NotFound):
        ledger.attach("H-fire-2020-0999", data=jpeg())
    with pytest.raises(qingdan.NotFound):
        ledger.attachment("0" * 64)
    ledger.withdraw(hazard, reason="重复登记")
    with pytest.raises(qingdan.InvalidCommand, match="撤销"):
        ledger.attach(hazard, data=jpeg())


def test_a_batch_stores_its_attachments_with_its_events_or_not_at_all(ledger, hazard):
    with pytest.raises(RuntimeError), ledger.batch():
        ledger.attach(hazard, data=jpeg("red"), name="a.jpg")
        raise RuntimeError("the clerk cancelled")
    assert blob_count(ledger) == 0 and ledger.hazard(hazard).attachments == ()
    with ledger.batch():
        ledger.attach(hazard, data=jpeg("red"), name="a.jpg")
        ledger.attach(hazard, data=jpeg("green"), name="b.jpg")
    assert blob_count(ledger) == 2 and len(ledger.hazard(hazard).attachments) == 2


def test_the_blob_is_written_in_the_event_s_transaction(ledger, hazard, monkeypatch):
    """If the database refuses the events after the blob was inserted, neither is stored."""
    from eventsourcing.postgres import PostgresAggregateRecorder
    from eventsourcing.sqlite import SQLiteApplicationRecorder

    def refuse(self, cursor, *args, **kwargs):
        cursor.execute("INSERT INTO no_such_table VALUES (1)")

    if ledger.backend == "sqlite":
        monkeypatch.setattr(SQLiteApplicationRecorder, "_insert_events", refuse)
    else:
        # the library's insert itself (the ledger's recorder locks the table before, not through it)
        monkeypatch.setattr(PostgresAggregateRecorder, "_insert_stored_events", refuse)
    with pytest.raises(Exception, match="no_such_table"):
        ledger.attach(hazard, data=jpeg(), name="a.jpg")
    monkeypatch.undo()
    assert blob_count(ledger) == 0
    assert ledger.attach(hazard, data=jpeg(), name="a.jpg") and blob_count(ledger) == 1


def test_verify_names_the_hazard_of_an_altered_or_removed_blob(ledger, hazard):
    other = ledger.report_hazard(campaign="fire", unit="东港超市", description="疏散通道堵塞")
    altered = ledger.attach(hazard, data=jpeg("red"), name="a.jpg", kind="整改后")
    removed = ledger.attach(other, data=PDF, name="通知书.pdf", kind="文书")
    assert ledger.verify_integrity().ok
    store = ledger._view.store
    store.execute("UPDATE qd_blobs SET data = ? WHERE sha256 = ?", (jpeg("green"), altered))
    store.execute("DELETE FROM qd_blobs WHERE sha256 = ?", (removed,))
    result = ledger.verify_integrity()
    assert not result.ok
    found = {(p.kind, p.number) for p in result.problems}
    assert found == {("attachment", hazard), ("attachment", other)}
    messages = " ".join(p.message for p in result.problems)
    assert f"附件 {altered[:12]}…（{hazard}）的内容与其 SHA-256 不符" in messages
    assert f"附件 {removed[:12]}…（{other}）在数据库中不见了" in messages
    with pytest.raises(qingdan.QingdanError, match="被改动"):
        ledger.attachment(altered)
    with pytest.raises(qingdan.NotFound):
        ledger.attachment(removed)
