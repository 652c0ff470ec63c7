"""台账 as clerks keep them: real layouts in (titles, two-row headers, 合计 and signature rows,
xls, UTF-16 and GBK text), monthly updates applied to the records already in the ledger, and files
over the limits refused with where.

Every fixture file is made here (openpyxl, bytes in a given encoding, LibreOffice for the .xls).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

import qingdan
from qingdan.cli import app
from qingdan.core.domain import CST
from qingdan.io.importer import ImportRejected, import_file
from qingdan.io.limits import FileTooLarge, Limits
from tests.conftest import Clock

runner = CliRunner()

GROUPS = ["序号", "基本情况", None, None, "隐患情况", None, None, "整改落实情况", None, None, None, None, "备注"]
SUBS = [None, "单位名称", "村（居）", "排查日期", "隐患描述", "隐患等级", "隐患来源", "整改责任单位", "整改措施",
        "整改期限", "整改状态", "完成日期", None]
ROWS = [
    [1, "恒达五金厂", "东港村", "2020-09-01", "配电箱未接地", "一般隐患", "执法检查", "恒达五金厂", "重新接地",
     "2020-09-30", "已整改", "2020-09-20", None],
    [2, "宏远超市", "南阳村", "2020/9/2", "安全出口上锁", "一般", "企业自查", "宏远超市", "拆除门锁", "2020-10-15",
     "整改中", None, "已约谈"],
    [3, "鑫盛饭店", "西湖村", "2020年9月3日", "燃气报警器失效", "一般", "检查", None, None, None, "未整改", None, None],
]


@pytest.fixture
def ledger(tmp_path):
    clock = Clock(datetime(2021, 1, 10, 9, tzinfo=CST))
    with qingdan.open_ledger(str(tmp_path / "t.db"), actor="安监办", clock=clock) as led:
        yield led


def clerks_workbook(path: Path, rows=ROWS, *, merged: bool = True) -> Path:
    """The layout of a township's monthly 台账: title, 填报单位 line, two header rows with merged
    groups, a row of column numbers, the data, a blank row, 合计, a note and the signatures."""
    wb = Workbook()
    ws = wb.active
    ws.title = "消防隐患"
    ws.append(["南阳镇消防安全专项整治问题隐患清单"])
    ws.append(["填报单位：南阳镇安委办（盖章）", None, None, None, None, None, None, None, "填报日期：2020年12月25日"])
    ws.append(GROUPS)
    ws.append(SUBS)
    ws.append(list(range(1, len(SUBS) + 1)))
    for row in rows:
        ws.append(row)
    ws.append([])
    ws.append(["合计", None, None, None, f"{len(rows)}条"])
    ws.append(["注：整改状态填写未整改、整改中、已整改。"])
    ws.append(["审核人：李强", None, None, None, "填表人：王明", None, None, None, "联系电话：0571-12345678"])
    if merged:
        ws.merge_cells("A1:M1")
        ws.merge_cells("A3:A4")
        ws.merge_cells("B3:D3")
        ws.merge_cells("E3:G3")
        ws.merge_cells("H3:L3")
        ws.merge_cells("M3:M4")
    wb.save(path)
    return path


def test_a_clerks_layout_two_row_header_and_foot_rows_ignored_with_reasons(ledger, tmp_path):
    path = clerks_workbook(tmp_path / "十二月台账.xlsx")
    result = import_file(ledger, path, campaign="fire")
    [table] = result.tables
    assert table.header_rows == (3, 4)
    assert [r.row for r in result.created] == [6, 7, 8]
    assert {(i.rows, i.reason) for i in result.ignored} == {
        ("5", "列序号行"), ("9", "空行"), ("10", "合计行"), ("11", "说明"), ("12", "签名栏")}
    rows = {h.unit: h for h in ledger.two_lists(as_of=date(2020, 12, 31)).hazards}
    assert rows["恒达五金厂"].status == "awaiting_verification" and rows["恒达五金厂"].source == "检查"
    assert rows["宏远超市"].deadline == date(2020, 10, 15) and rows["宏远超市"].source == "自查"
    assert rows["宏远超市"].note == "已约谈" and rows["鑫盛饭店"].status == "reported"


def test_dry_run_lists_every_row_new_updated_unchanged_ignored(tmp_path):
    db = str(tmp_path / "cli.db")
    path = clerks_workbook(tmp_path / "台账.xlsx")
    assert runner.invoke(app, ["--db", db, "import", str(path), "-c", "fire"]).exit_code == 0
    changed = [list(r) for r in ROWS]
    changed[1][10:12] = ["已整改", "2020-10-10"]  # 宏远超市 finished
    changed[2][7:10] = ["鑫盛饭店", "更换报警器", "2020-10-31"]  # 鑫盛饭店 planned
    later = clerks_workbook(tmp_path / "台账（一月）.xlsx", changed + [
        [4, "东方宾馆", "南阳村", "2020-12-01", "应急照明损坏", "一般", "检查", None, None, None, "未整改", None, None]])
    dry = runner.invoke(app, ["--db", db, "import", str(later), "-c", "fire", "--dry-run", "-f", "json"])
    assert dry.exit_code == 0, dry.stderr
    rows = {r["row"]: r for r in json.loads(dry.stdout)}
    assert rows["6"]["action"] == "未变"
    assert rows["7"]["action"] == "更新" and "整改状态：整改中 → 待验收" in rows["7"]["changes"]
    assert rows["8"]["action"] == "更新" and "整改措施：（空） → 更换报警器" in rows["8"]["changes"]
    assert rows["9"]["action"] == "新增"
    assert rows["10"]["action"] == "忽略" and rows["10"]["changes"] == "空行"
    assert rows["13"]["changes"] == "签名栏"
    assert "试运行" in dry.stderr and "将更新 2 条" in dry.stderr
    listed = json.loads(runner.invoke(app, ["--db", db, "lists", "--list", "hazards", "-f", "json"]).stdout)
    assert len(listed) == 3 and {h["status"] for h in listed} == {"awaiting_verification", "rectifying", "reported"}


def test_monthly_update_becomes_lifecycle_events_and_corrections_naming_the_file(ledger, tmp_path):
    import_file(ledger, clerks_workbook(tmp_path / "九月.xlsx"), campaign="fire")
    before = {h.unit: h for h in ledger.two_lists().hazards}
    rows = [list(r) for r in ROWS]
    rows[0][10:12] = ["已销号", "2020-09-20"]  # closed (verified and closed on the completion day)
    rows[1][9] = "2020-11-15"  # deadline moved
    rows[1][7] = "宏远超市有限公司"  # responsible unit renamed
    rows[2][10] = "已撤销"
    result = import_file(ledger, clerks_workbook(tmp_path / "十月.xlsx", rows), campaign="fire",
                         on=date(2020, 11, 1))
    assert [r.action for r in result.rows] == ["updated", "updated", "updated"]
    now = {h.unit: h for h in ledger.two_lists(include_withdrawn=True).hazards}
    closed = now["恒达五金厂"]
    assert closed.status == "closed" and closed.closed_on == date(2020, 9, 20)
    moved = now["宏远超市"]
    assert moved.deadline == date(2020, 11, 15) and moved.responsible_unit == "宏远超市有限公司"
    assert now["鑫盛饭店"].status == "withdrawn"
    history = ledger.history(before["宏远超市"].number)
    corrections = [e for e in history if e.type.endswith("Corrected")]
    assert len(corrections) == 2 and all("十月.xlsx" in e.data["reason"] and "第 7 行" in e.data["reason"]
                                         for e in corrections)
    assert all(e.on == date(2020, 11, 1) for e in corrections)
    assert ledger.hazard(closed.number, as_of=date(2020, 9, 19)).status == "rectifying"
    again = import_file(ledger, clerks_workbook(tmp_path / "十月.xlsx", rows), campaign="fire")
    assert [r.action for r in again.rows] == ["unchanged"] * 3 and again.events == 0


def test_a_row_that_contradicts_the_ledger_is_an_error_for_that_row(ledger, tmp_path):
    import_file(ledger, clerks_workbook(tmp_path / "九月.xlsx"), campaign="fire")
    rows = [list(r) for r in ROWS]
    rows[0][10:12] = ["已整改", "2020-09-21"]  # another completion date
    rows[0][3] = "2020-09-01"
    rows[1][10] = "未整改"  # fine: still open
    events = ledger.last_position()
    with pytest.raises(ImportRejected) as caught:
        import_file(ledger, clerks_workbook(tmp_path / "错.xlsx", rows), campaign="fire")
    [error] = caught.value.errors
    assert error.row == 6 and error.column == "完成日期" and "2020-09-20" in error.reason
    assert ledger.last_position() == events
    number = ledger.two_lists().hazards[0].number
    rows = [list(r) for r in ROWS]
    rows[0][10:12] = ["整改中", None]  # backwards after completion
    with pytest.raises(ImportRejected, match="整改完成后不能退回"):
        import_file(ledger, clerks_workbook(tmp_path / "退回.xlsx", rows), campaign="fire")
    assert ledger.hazard(number).status == "awaiting_verification"


def test_a_closed_hazard_shown_open_again_is_reopened(ledger, tmp_path):
    rows = [list(r) for r in ROWS]
    rows[0][10:12] = ["已销号", "2020-09-20"]
    import_file(ledger, clerks_workbook(tmp_path / "九月.xlsx", rows[:1]), campaign="fire")
    rows[0][10:12] = ["整改中", None]
    result = import_file(ledger, clerks_workbook(tmp_path / "回头看.xlsx", rows[:1]), campaign="fire",
                         on=date(2020, 12, 1))
    [row] = result.updated
    assert "反销号" in row.changes[0]
    h = ledger.two_lists().hazards[0]
    assert h.status == "rectifying" and h.reopened == 1


def test_measures_are_updated_by_number(ledger, tmp_path):
    number = ledger.add_measure(campaign="fire", title="消防安全网格化管理制度", department="镇消防救援站",
                                due=date(2020, 12, 31), on=date(2020, 8, 1))
    wb = Workbook()
    ws = wb.active
    ws.append(["编号", "制度措施名称", "责任部门", "完成时限", "状态", "文号", "印发日期", "落实日期", "专项"])
    ws.append([number, "消防安全网格化管理制度（试行）", "镇消防救援站", "2020-12-31", "已落实", "南消〔2020〕3号",
               "2020-09-01", "2020-10-01", "fire"])
    wb.save(tmp_path / "m.xlsx")
    [row] = import_file(ledger, tmp_path / "m.xlsx").updated
    m = ledger.measure(number)
    assert m.status == "implemented" and m.title.endswith("（试行）") and m.doc_no == "南消〔2020〕3号"
    assert any("状态：拟制定 → 已落实" in c for c in row.changes)


def tsv(rows: list[list]) -> str:
    return "\r\n".join("\t".join("" if v is None else str(v) for v in row) for row in rows) + "\r\n"


TEXT_ROWS = [["南阳镇问题隐患清单"], ["单位名称", "隐患描述", "排查日期", "整改状态"],
             ["永兴纺织厂", "车间通道堵塞", "2020-10-08", "整改中"], ["合计", "1"]]


@pytest.mark.parametrize("encoding, bom", [
    ("utf-16-le", b"\xff\xfe"),  # Excel's "Unicode 文本"
    ("utf-16-le", b""), ("utf-16-be", b""), ("gbk", b""), ("utf-8", b"\xef\xbb\xbf")])
def test_tab_separated_text_in_the_usual_encodings(ledger, tmp_path, encoding, bom):
    rows = [list(r) for r in TEXT_ROWS]
    rows[2][3] = "未整改"
    path = tmp_path / "台账.txt"
    path.write_bytes(bom + tsv(rows).encode(encoding))
    result = import_file(ledger, path, campaign="fire")
    assert result.source == "tsv" and [r.row for r in result.created] == [3]
    assert [(i.rows, i.reason) for i in result.ignored] == [("4", "合计行")]
    assert ledger.two_lists().hazards[0].unit == "永兴纺织厂"


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) makes the .xls")
def test_an_old_xls_workbook(ledger, tmp_path):
    source = clerks_workbook(tmp_path / "台账.xlsx")
    subprocess.run(["soffice", "--headless", "--convert-to", "xls", "--outdir", str(tmp_path), str(source)],
                   check=True, capture_output=True, timeout=120)
    result = import_file(ledger, tmp_path / "台账.xls", campaign="fire")
    assert result.source == "xls" and len(result.created) == 3
    assert {i.reason for i in result.ignored} >= {"合计行", "签名栏", "说明"}
    rows = {h.unit: h for h in ledger.two_lists().hazards}
    assert rows["宏远超市"].found_on == date(2020, 9, 2)


def shared_strings_xlsx(path: Path, rows: list[list[str]]) -> Path:
    """A workbook as Excel writes it, text in the shared-string table (openpyxl writes inline text and
    cuts a cell at 32,767 characters, so it cannot make the files these limits are for)."""
    import zipfile
    from xml.sax.saxutils import escape

    from openpyxl.utils import get_column_letter

    strings: list[str] = []
    cells = []
    for r, row in enumerate(rows, 1):
        xml = []
        for c, value in enumerate(row, 1):
            ref = f"{get_column_letter(c)}{r}"
            if value.isdigit():
                xml.append(f'<c r="{ref}"><v>{value}</v></c>')
            else:
                strings.append(value)
                xml.append(f'<c r="{ref}" t="s"><v>{len(strings) - 1}</v></c>')
        cells.append(f'<row r="{r}">{"".join(xml)}</row>')
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    parts = {
        "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        '</Types>',
        "_rels/.rels": f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
        '<sheet name="台账" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{main}"><sheetData>{"".join(cells)}</sheetData></worksheet>',
        "xl/sharedStrings.xml": f'<sst xmlns="{main}" count="{len(strings)}" uniqueCount="{len(strings)}">'
        + "".join(f"<si><t>{escape(s)}</t></si>" for s in strings) + "</sst>",
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return path


def test_cells_sheets_and_files_over_the_limits_are_refused_saying_where(ledger, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "台账"
    ws.append(["单位名称", "隐患描述", "排查日期"])
    ws.append(["甲厂", "x" * 3_000, "2020-09-01"])  # openpyxl itself cuts a cell at Excel's 32,767
    wb.save(tmp_path / "long.xlsx")
    with pytest.raises(FileTooLarge, match="工作表“台账”第 2 行第 B 列：单元格有 3,000 字，超过 1,000 字"):
        import_file(ledger, tmp_path / "long.xlsx", campaign="fire", limits=Limits(cell_chars=1000))
    shared_strings_xlsx(tmp_path / "shared.xlsx", [["单位名称", "隐患描述", "排查日期"], ["甲厂", "x" * 40_000, "44075"]])
    with pytest.raises(FileTooLarge, match="第 2 行第 B 列：单元格有 40,000 字，超过 32,767 字"):
        import_file(ledger, tmp_path / "shared.xlsx", campaign="fire")
    shared_strings_xlsx(tmp_path / "huge.xlsx", [["单位名称", "隐患描述", "排查日期"], ["甲厂", "y" * 1_100_000, "1"]])
    with pytest.raises(FileTooLarge, match="第 2 行第 B 列：单元格有 1,100,000 字，超过共享字符串 1,000,000 字"):
        import_file(ledger, tmp_path / "huge.xlsx", campaign="fire")
    ws.cell(row=20_000, column=16_384, value="formatted to the last column")
    wb.save(tmp_path / "wide.xlsx")
    with pytest.raises(FileTooLarge, match=r"A1:XFD20000（16384 列），超过 200 列"):
        import_file(ledger, tmp_path / "wide.xlsx", campaign="fire")
    (tmp_path / "long.csv").write_text("单位名称,隐患描述,排查日期\n甲厂," + "y" * 40_000 + ",2020-09-01\n",
                                       encoding="utf-8")
    with pytest.raises(FileTooLarge, match="第 2 行第 B 列"):
        import_file(ledger, tmp_path / "long.csv", campaign="fire")
    with pytest.raises(FileTooLarge, match="超过 1 KB 的上限"):
        import_file(ledger, tmp_path / "long.csv", campaign="fire", limits=Limits(file_bytes=1024))
    (tmp_path / "many.csv").write_text("单位名称,隐患描述,排查日期\n" + "".join(
        f"厂{i},问题{i},2020-09-01\n" for i in range(30)), encoding="utf-8")
    with pytest.raises(FileTooLarge, match="第 22 行：数据超过 20 行"):
        import_file(ledger, tmp_path / "many.csv", campaign="fire", limits=Limits(rows=20))
    assert ledger.last_position() == 0


def test_an_html_page_saved_as_xls_is_named_for_what_it_is(ledger, tmp_path):
    (tmp_path / "台账.xls").write_text("<html><body><table><tr><td>单位名称</td></tr></table></body></html>")
    with pytest.raises(qingdan.InvalidCommand, match="网页"):
        import_file(ledger, tmp_path / "台账.xls", campaign="fire")


def test_on_postgresql_a_large_import_is_stored_in_chunks_within_one_transaction(pg_schema, tmp_path, monkeypatch):
    # 300 rows are 900 events; with 250 events per INSERT the batch takes four statements, each
    # fetched before the next (one huge statement hangs psycopg's pipeline mode, psycopg#685).
    from qingdan.core import pgstore as store

    monkeypatch.setattr(store, "INSERT_CHUNK", 250)
    clock = Clock(datetime(2021, 1, 10, 9, tzinfo=CST))
    rows = [[i, f"单位{i}", "南阳村", "2020-09-01", f"隐患{i}", "一般", "检查", f"单位{i}", "清理", "2020-09-30",
             "已整改", "2020-09-20", None] for i in range(1, 301)]
    with qingdan.open_ledger(pg_schema, actor="安监办", clock=clock) as led:
        led.register_unit(name="先到的单位", kind="商铺", on=date(2020, 9, 1))
        before = led.last_position()
        path = clerks_workbook(tmp_path / "台账.xlsx", rows)
        result = import_file(led, path, campaign="fire")
        assert len(result.created) == 300 and result.events == 900
        # Every event has its own position, in order, right after what was there before.
        assert [e.position for e in led.events(after=before, limit=1000)] == list(range(before + 1, before + 901))
        assert len(led.two_lists().hazards) == 300
        assert led.verify_integrity().ok
        assert import_file(led, path, campaign="fire").events == 0


def test_on_postgresql_an_import_that_fails_in_a_later_chunk_writes_nothing(pg_schema, tmp_path, monkeypatch):
    from qingdan.core import pgstore as store

    monkeypatch.setattr(store, "INSERT_CHUNK", 100)
    real = store.PostgresAggregateRecorder._insert_stored_events
    calls = []

    def third_chunk_clashes(self, curs, events, **kwargs):
        # The server refuses the third statement (an event stored twice): the transaction aborts.
        calls.append(len(events))
        return real(self, curs, list(events) + list(events[:1]) if len(calls) == 3 else events, **kwargs)

    monkeypatch.setattr(store.PostgresAggregateRecorder, "_insert_stored_events", third_chunk_clashes)
    rows = [[i, f"单位{i}", "南阳村", "2020-09-01", f"隐患{i}", "一般", "检查", f"单位{i}", "清理", "2020-09-30",
             "整改中", None, None] for i in range(1, 151)]
    with qingdan.open_ledger(pg_schema, actor="安监办", clock=Clock(datetime(2021, 1, 10, 9, tzinfo=CST))) as led:
        with pytest.raises(qingdan.Conflict):
            import_file(led, clerks_workbook(tmp_path / "台账.xlsx", rows), campaign="fire")
        assert calls[:3] == [100, 100, 100]
        assert led.last_position() == 0 and not led.two_lists().hazards
