"""台账 out as clerks print them, and back in: the 报送表 and 台账 layouts, PDF, the township profile,
and round trips (export → import into an empty ledger gives the same lists; export → edit statuses in
the workbook → import gives the updated lists)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

import qingdan
from qingdan.cli import app
from qingdan.core.domain import CST
from qingdan.io.importer import import_file
from qingdan.io.profile import Profile, load_profile
from qingdan.io.writer import two_lists_sheets, write_workbook
from tests.conftest import Clock
from tests.test_import import COMPARED, build_varied_ledger

runner = CliRunner()
DAY = date(2020, 12, 31)
MEASURE_FIELDS = {"number", "campaign", "title", "kind", "department", "due", "added_on", "status", "doc_no",
                  "issued_on", "implemented_on", "repealed_on", "overdue"}
PROFILE = """name = "南阳镇"
unit = "南阳镇人民政府安全生产委员会办公室"
reviewer = "李强"
preparer = "王明"
phone = "0571-12345678"
departments = ["镇安监局", "镇消防救援站"]
"""


def qd(*args: str, code: int = 0):
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def same_lists(after, before) -> None:
    assert [h.model_dump(include=set(COMPARED)) for h in after.hazards] == \
        [h.model_dump(include=set(COMPARED)) for h in before.hazards]
    assert [m.model_dump(include=MEASURE_FIELDS) for m in after.measures] == \
        [m.model_dump(include=MEASURE_FIELDS) for m in before.measures]


@pytest.fixture
def source(tmp_path):
    url = str(tmp_path / "a.db")
    led = build_varied_ledger(url)
    led.disconnect()
    return url


@pytest.mark.parametrize("layout", ["台账", "报送表"])
def test_export_then_import_into_an_empty_ledger_gives_the_same_lists(source, tmp_path, layout):
    out = tmp_path / f"{layout}.xlsx"
    (tmp_path / "乡镇.toml").write_text(PROFILE, encoding="utf-8")
    qd("--db", source, "export", "-f", "xlsx", "-o", str(out), "--as-of", DAY.isoformat(), "--layout", layout,
       "--profile", str(tmp_path / "乡镇.toml"))
    with qingdan.open_ledger(source) as led:
        before = led.two_lists(as_of=DAY)
    with qingdan.open_ledger(str(tmp_path / "b.db")) as target:
        result = import_file(target, out)
        same_lists(target.two_lists(as_of=DAY), before)
        assert import_file(target, out).events == 0
    reasons = {i.reason for i in result.ignored}
    assert reasons == {"空行", "签名栏"}  # the blank row above the signatures, and the signatures


def test_the_form_layout_title_filed_by_grouped_header_signatures_and_print_setup(source, tmp_path):
    (tmp_path / "乡镇.toml").write_text(PROFILE, encoding="utf-8")
    out = tmp_path / "报送表.xlsx"
    qd("--db", source, "lists", "--as-of", "2020-12-25", "-f", "xlsx", "-o", str(out), "--layout", "报送表",
       "--profile", str(tmp_path / "乡镇.toml"))
    ws = load_workbook(out)["问题隐患清单"]
    assert ws["A1"].value == "南阳镇问题隐患清单（截至2020年12月25日）"
    assert ws["A2"].value == "填报单位（盖章）：南阳镇人民政府安全生产委员会办公室"
    assert [c.value for c in ws[3]][:5] == ["序号", "专项", "隐患编号", "基本情况", None]
    assert [c.value for c in ws[4]][3:6] == ["单位名称", "村（居）", "隐患描述"]
    assert ws["B5"].value in ("消防安全专项整治", "危险化学品安全专项整治")
    last = ws.max_row
    assert ws.cell(row=last, column=1).value == "审核人：李强"
    assert any(str(c.value).startswith("联系电话：0571-12345678") for c in ws[last] if c.value)
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9  # A4
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$1:$4" and ws.oddFooter.center.text == "第 &P 页 共 &N 页"
    assert ws.print_area.startswith("'问题隐患清单'!$A$1:$T$")
    assert ws.column_dimensions["C"].width >= len("H-construction-2020-0040")
    assert ws["D5"].font.name == "仿宋" and ws["A1"].font.name == "宋体" and ws["D5"].border.left.style == "thin"


def test_listings_have_chinese_sheet_names(source, tmp_path):
    for command, name in (("stats", "统计"), ("targets", "整治目标"), ("check", "检查发现")):
        out = tmp_path / f"{command}.xlsx"
        qd("--db", source, command, "-f", "xlsx", "-o", str(out))
        assert load_workbook(out).sheetnames == [name]


def test_monthly_round_trip_edit_statuses_in_the_exported_workbook(source, tmp_path):
    out = tmp_path / "十二月.xlsx"
    qd("--db", source, "export", "-f", "xlsx", "-o", str(out), "--as-of", DAY.isoformat(), "--layout", "报送表")
    book = load_workbook(out)
    ws = book["问题隐患清单"]
    headers = {c.value: c.column for c in ws[4] if c.value} | {c.value: c.column for c in ws[3] if c.value}
    by_unit = {ws.cell(row=r, column=headers["单位名称"]).value: r for r in range(5, ws.max_row + 1)}
    waiting = by_unit["瑞丰宾馆"]  # verified: now closed
    ws.cell(row=waiting, column=headers["整改状态"], value="已销号")
    ws.cell(row=waiting, column=headers["销号日期"], value=datetime(2020, 9, 10))
    open_row = by_unit["东方饭店"]  # reported: now planned and completed
    ws.cell(row=open_row, column=headers["整改措施"], value="更换燃气管")
    ws.cell(row=open_row, column=headers["整改状态"], value="已整改")
    ws.cell(row=open_row, column=headers["完成日期"], value="2020/10/20")
    major = by_unit["鑫盛化工有限公司"]  # deadline extended
    ws.cell(row=major, column=headers["整改期限"], value=datetime(2021, 3, 1))
    book.save(out)
    with qingdan.open_ledger(source) as led:
        before = led.two_lists(as_of=DAY)
        result = import_file(led, out, on=DAY)
        after = {h.unit: h for h in led.two_lists(as_of=DAY).hazards}
        assert len(result.updated) == 3
        assert len([r for r in result.unchanged if r.kind == "hazards"]) == len(before.hazards) - 3
        assert after["瑞丰宾馆"].status == "closed" and after["瑞丰宾馆"].closed_on == date(2020, 9, 10)
        assert after["东方饭店"].status == "awaiting_verification" and after["东方饭店"].measures == "更换燃气管"
        assert after["鑫盛化工有限公司"].deadline == date(2021, 3, 1)
        [correction] = [e for e in led.history(after["鑫盛化工有限公司"].number) if e.type.endswith("Corrected")]
        assert "十二月.xlsx" in correction.data["reason"]
        untouched = {h.number for h in before.hazards} - {after[u].number for u in ("瑞丰宾馆", "东方饭店", "鑫盛化工有限公司")}
        assert {h.number: h for h in before.hazards if h.number in untouched} == \
            {h.number: h for h in led.two_lists(as_of=DAY).hazards if h.number in untouched}
        assert import_file(led, out, on=DAY).events == 0


def test_profile_from_toml_and_its_mistakes(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(PROFILE, encoding="utf-8")
    profile = load_profile(path)
    assert profile.reviewer == "李强" and profile.departments == ("镇安监局", "镇消防救援站")
    assert load_profile(path, township="东港镇").name == "东港镇"
    assert Profile(name="东港镇").filing_unit == "东港镇安全生产委员会办公室"
    path.write_text('name = "南阳镇"\nseal = "x"\n', encoding="utf-8")
    with pytest.raises(qingdan.InvalidCommand, match="不认识的设置 seal"):
        load_profile(path)
    path.write_text("name = \n", encoding="utf-8")
    with pytest.raises(qingdan.InvalidCommand, match="格式有误"):
        load_profile(path)


def pdf_pages(pdf: Path) -> int:
    """Pages of a PDF (reportlab's and LibreOffice's both write one /Type /Page per page)."""
    import re

    return len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))


def thirteen_hazards(url: str) -> None:
    clock = Clock(datetime(2021, 1, 5, 9, tzinfo=CST))
    with qingdan.open_ledger(url, actor="安监办", clock=clock) as led:
        for i in range(13):
            campaign = ("construction", "fire", "hazchem")[i % 3]
            n = led.report_hazard(campaign=campaign, unit=f"南阳镇第{i + 1}建筑工地", found_on=date(2020, 9, 1 + i),
                                  description="脚手架搭设不规范，未设置安全网，临边洞口防护缺失", village="南阳村")
            led.plan_rectification(n, responsible_unit="施工单位", responsible_person="张三", funds=1.5,
                                   measures="按规范重新搭设脚手架，设置安全网", deadline=date(2020, 10, 15),
                                   contingency="高处坠落应急预案", on=date(2020, 9, 1 + i))


def test_a_thirteen_row_submission_prints_on_one_or_two_pages_as_pdf(tmp_path):
    url = str(tmp_path / "13.db")
    thirteen_hazards(url)
    out = tmp_path / "报送表.pdf"
    qd("--db", url, "lists", "--as-of", "2020-12-25", "--list", "hazards", "-f", "pdf", "-o", str(out))
    assert out.read_bytes().startswith(b"%PDF") and pdf_pages(out) == 1
    sub = tmp_path / "九月.xlsx"
    qd("--db", url, "report", "submit", "-p", "2020-12", "--on", "2021-01-05", "-o", str(sub), "--pdf",
       "--layout", "报送表")
    assert sub.exists() and pdf_pages(sub.with_suffix(".pdf")) == 2  # 问题隐患清单, 制度措施清单


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice renders the workbook")
def test_a_thirteen_row_workbook_prints_on_one_or_two_landscape_pages(tmp_path):
    url = str(tmp_path / "13.db")
    thirteen_hazards(url)
    with qingdan.open_ledger(url) as led:
        lists = led.two_lists(as_of=date(2020, 12, 25))
        names = {cid: c.name for cid, c in led.catalogue.campaigns.items()}
    for layout in ("台账", "报送表"):
        book = tmp_path / f"{layout}.xlsx"
        write_workbook(book, two_lists_sheets(lists, names, layout=layout)[:1])
        subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(book)],
                       check=True, capture_output=True, timeout=180)
        assert 1 <= pdf_pages(book.with_suffix(".pdf")) <= 2, layout
