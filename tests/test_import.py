"""Importing a clerk's 台账: header variants, dates as typed, encodings, all or nothing, idempotent."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

import qingdan
from qingdan.cli import app
from qingdan.io.dates import parse_date
from qingdan.io.importer import ImportRejected, import_file

runner = CliRunner()


def write_xlsx(path: Path, rows: list[list], title: str | None = "南阳镇问题隐患清单（截至2020年12月25日）",
               sheet: str = "隐患台账") -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    if title:
        ws.append([title])
        ws.append([])
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def write_csv(path: Path, rows: list[list], encoding: str = "utf-8") -> Path:
    text = "\n".join(",".join("" if v is None else str(v) for v in row) for row in rows) + "\n"
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def ledger(tmp_path):
    with qingdan.open_ledger(str(tmp_path / "imp.db"), actor="安监办") as led:
        yield led


@pytest.mark.parametrize("text, expected", [
    ("2020-09-01", date(2020, 9, 1)), ("2020/9/1", date(2020, 9, 1)), ("2020.9.1", date(2020, 9, 1)),
    ("2020年9月1日", date(2020, 9, 1)), ("20200901", date(2020, 9, 1)), ("44075", date(2020, 9, 1)),
    (44075, date(2020, 9, 1)), (datetime(2020, 9, 1, 0, 0), date(2020, 9, 1)),
    ("2020-09-01 00:00:00", date(2020, 9, 1)), ("", None),
])
def test_dates_as_clerks_type_them(text, expected):
    assert parse_date(text) == expected


def test_bad_dates_are_explained():
    with pytest.raises(ValueError, match="日期不存在"):
        parse_date("2020-02-30")
    with pytest.raises(ValueError, match="不是有效日期"):
        parse_date("九月一日")


def test_header_variants_under_title_rows_with_lifecycles(ledger, tmp_path):
    path = write_xlsx(tmp_path / "t.xlsx", [
        ["序号", "企业名称", "所在村", "存在问题", "等级", "检查日期", "责任单位", "整改责任人", "整改措施",
         "整改时限", "预案", "资金", "是否挂牌督办", "状态", "完成时间", "复查日期", "销号时间", "专项"],
        [1, "恒达五金厂", "东港村", "配电箱未接地", "一般隐患", "2020/9/1", "恒达五金厂", "王伟", "重新接地",
         "2020.9.30", None, None, "否", "已销号", "2020-09-20", "2020-09-22", "2020年9月23日", "消防"],
        [2, "宏远超市", "南阳村", "安全出口上锁", "重大隐患", datetime(2020, 9, 2), "宏远超市", "李敏", "拆除门锁",
         44104, "超市疏散预案", 0.5, "市级", "整改中", None, None, None, "fire"],
        [3, "鑫盛饭店", "西湖村", "燃气报警器失效", "一般", "20200903", None, None, None, None, None, None, None,
         "未整改", None, None, None, "fire"],
    ])
    result = import_file(ledger, path)
    assert [r.number for r in result.created] == ["H-fire-2020-0001", "H-fire-2020-0002", "H-fire-2020-0003"]
    rows = {h.number: h for h in ledger.two_lists(as_of=date(2020, 12, 31)).hazards}
    closed = rows["H-fire-2020-0001"]
    assert closed.status == "closed" and closed.closed_on == date(2020, 9, 23)
    assert closed.completed_on == date(2020, 9, 20) and closed.village == "东港村"
    major = rows["H-fire-2020-0002"]
    assert major.level == "重大" and major.escalated and major.escalation_level == "市"
    assert major.deadline == date(2020, 9, 30) and major.funds == 0.5 and major.status == "rectifying"
    assert rows["H-fire-2020-0003"].status == "reported"
    assert ledger.hazard("H-fire-2020-0001", as_of=date(2020, 9, 21)).status == "awaiting_verification"


def test_gbk_csv_with_campaign_option(ledger, tmp_path):
    path = write_csv(tmp_path / "gbk.csv", [
        ["被检查单位", "村居", "问题隐患", "发现日期", "整改期限", "整改状态", "完成日期"],
        ["永兴纺织厂", "北塘村", "车间通道堵塞", "2020-10-08", "2020-10-30", "已整改", "2020-10-20"],
    ], encoding="gbk")
    import_file(ledger, path, campaign="fire")
    [row] = ledger.two_lists(as_of=date(2020, 12, 31)).hazards
    assert row.unit == "永兴纺织厂" and row.status == "awaiting_verification"


def test_utf8_bom_csv(ledger, tmp_path):
    path = write_csv(tmp_path / "bom.csv", [
        ["单位名称", "隐患描述", "排查日期", "专项"], ["东方宾馆", "应急照明损坏", "2020年11月2日", "fire"]],
        encoding="utf-8-sig")
    import_file(ledger, path)
    assert ledger.two_lists(as_of=date(2020, 12, 31)).hazards[0].unit == "东方宾馆"


def test_a_bad_file_is_rejected_whole_with_every_error_listed(ledger, tmp_path):
    path = write_xlsx(tmp_path / "bad.xlsx", [
        ["序号", "单位名称", "隐患描述", "排查日期", "隐患等级", "整改期限", "整改状态"],
        [1, "好单位", "好隐患", "2020-09-01", "一般", "2020-09-30", "未整改"],
        [2, None, "没有单位", "2020-09-01", "一般", None, None],
        [3, "坏日期", "日期写错", "2020-13-01", "一般", None, None],
        [4, "坏等级", "等级写错", "2020-09-01", "特大", None, None],
        [5, "期限早", "期限早于排查", "2020-09-10", "一般", "2020-09-01", "整改中"],
        [6, "未来", "未来的隐患", "2099-01-01", "一般", None, None],
    ])
    with pytest.raises(ImportRejected) as caught:
        import_file(ledger, path, campaign="fire")
    errors = caught.value.errors
    by_row = {e.row: e for e in errors}
    assert set(by_row) == {5, 6, 7, 8, 9}  # spreadsheet rows (title, blank, header come first)
    assert by_row[5].column == "单位名称" and "必须填写" in by_row[5].reason
    assert by_row[6].column == "排查日期"
    assert by_row[7].column == "隐患等级" and "特大" in by_row[7].reason
    assert by_row[8].column == "整改期限"
    assert "未来" in by_row[9].reason or "晚于今天" in by_row[9].reason
    assert all(e.sheet == "隐患台账" for e in errors)
    assert ledger.two_lists().hazards == ()  # nothing written, not even the good row
    assert ledger.last_position() in (None, 0)


def test_cli_import_dry_run_then_import_then_again_creates_nothing(tmp_path):
    db = str(tmp_path / "cli.db")
    path = write_xlsx(tmp_path / "t.xlsx", [
        ["序号", "单位名称", "隐患描述", "排查日期", "整改期限", "整改措施", "专项"],
        [1, "华泰物流公司", "叉车无证驾驶", "2020-09-05", "2020-09-20", "培训取证", "fire"],
        [2, "瑞丰宾馆", "消防通道堵塞", "2020-09-06", None, None, "fire"],
    ])
    dry = runner.invoke(app, ["--db", db, "import", str(path), "--dry-run", "-f", "json"])
    assert dry.exit_code == 0, dry.stderr
    planned = json.loads(dry.stdout)
    assert [p["number"] for p in planned] == ["H-fire-2020-0001", "H-fire-2020-0002"]
    assert "未写入" in dry.stderr
    assert not Path(db).exists()  # a dry run creates no ledger either
    first = runner.invoke(app, ["--db", db, "import", str(path)])
    assert first.exit_code == 0 and "已登记问题隐患 2 条" in first.stderr
    again = runner.invoke(app, ["--db", db, "import", str(path)])
    assert again.exit_code == 0 and "已登记问题隐患 0 条" in again.stderr and "跳过已有的 2 行" in again.stderr
    listed = json.loads(runner.invoke(app, ["--db", db, "lists", "--list", "hazards", "-f", "json"]).stdout)
    assert len(listed) == 2


def test_cli_import_errors_exit_1_listing_sheet_row_column(tmp_path):
    db = str(tmp_path / "cli.db")
    path = write_csv(tmp_path / "bad.csv", [
        ["单位名称", "隐患描述", "排查日期"], ["甲厂", "问题一", "2020-09-01"], ["乙厂", "", "昨天的昨天"]])
    result = runner.invoke(app, ["--db", db, "import", str(path), "--campaign", "fire"])
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert "第 3 行【隐患描述】：必须填写" in result.stderr
    assert "第 3 行【排查日期】" in result.stderr


def build_varied_ledger(url: str) -> qingdan.Ledger:
    led = qingdan.open_ledger(url, actor="安监办")
    closed = led.report_hazard(campaign="fire", unit="恒达大厦", description="=消防栓无水", found_on=date(2020, 8, 3),
                               village="南阳村", location="地下车库", category="高层建筑", source="检查",
                               inspectors=("王明", "李强"), note="复查时拍照")
    led.plan_rectification(closed, responsible_unit="恒达物业", responsible_person="张三", measures="修复管网",
                            funds=2.5, deadline=date(2020, 9, 1), contingency="火灾预案", on=date(2020, 8, 4))
    led.complete_rectification(closed, cost=2.0, on=date(2020, 8, 20))
    led.verify(closed, passed=True, inspector="王明", on=date(2020, 8, 22))
    led.close(closed, on=date(2020, 8, 23))
    major = led.report_hazard(campaign="hazchem", unit="鑫盛化工有限公司", description="储罐区无自动化控制",
                              level="重大", found_on=date(2020, 9, 1), village="东港村")
    led.plan_rectification(major, responsible_unit="鑫盛化工", measures="加装DCS", funds=30, deadline=date(2020, 12, 1),
                           on=date(2020, 9, 3))
    led.escalate(major, supervisor="市安委办", level="市", doc_no="市安委督〔2020〕9号", on=date(2020, 9, 4))
    waiting = led.report_hazard(campaign="fire", unit="瑞丰宾馆", description="应急照明损坏", found_on=date(2020, 9, 5))
    led.plan_rectification(waiting, measures="更换灯具", on=date(2020, 9, 5))
    led.complete_rectification(waiting, on=date(2020, 9, 8))
    led.verify(waiting, passed=True, inspector="李强", on=date(2020, 9, 9))
    led.report_hazard(campaign="fire", unit="东方饭店", description="燃气管老化", found_on=date(2020, 10, 1))
    m = led.add_measure(campaign="fire", title="消防安全网格化管理制度", department="镇消防救援站",
                        due=date(2020, 12, 31), on=date(2020, 8, 1))
    led.issue_measure(m, doc_no="南消〔2020〕3号", on=date(2020, 9, 1))
    led.implement_measure(m, on=date(2020, 10, 1))
    led.add_measure(campaign="hazchem", title="危化品联合执法机制", department="安全生产监督管理局", kind="机制",
                    due=date(2021, 3, 31), on=date(2020, 9, 1))
    return led


COMPARED = ("number", "campaign", "unit", "village", "location", "category", "level", "source", "found_on",
            "inspectors", "description", "responsible_unit", "responsible_person", "measures", "funds",
            "deadline", "contingency", "escalated", "escalation_level", "supervisor", "escalation_doc_no",
            "status", "overdue", "five_in_place", "missing_parts", "completed_on", "cost", "verified_on",
            "closed_on", "note")


@pytest.mark.parametrize("suffix", ["xlsx", "csv"])
def test_export_then_import_into_an_empty_ledger_gives_the_same_lists(tmp_path, suffix):
    source = build_varied_ledger(str(tmp_path / "a.db"))
    day = date(2020, 12, 31)
    out = tmp_path / f"export.{suffix}"
    with source:
        result = runner.invoke(app, ["--db", str(tmp_path / "a.db"), "export", "--format", suffix, "-o", str(out),
                                     "--as-of", day.isoformat()])
        assert result.exit_code == 0, result.stderr
        before = source.two_lists(as_of=day)
    with qingdan.open_ledger(str(tmp_path / "b.db")) as target:
        import_file(target, out)
        after = target.two_lists(as_of=day)
        again = import_file(target, out)
    assert again.created == []
    assert [h.model_dump(include=set(COMPARED)) for h in after.hazards] == \
        [h.model_dump(include=set(COMPARED)) for h in before.hazards]
    if suffix == "xlsx":  # the workbook carries the 制度措施清单 too
        fields = {"number", "campaign", "title", "kind", "department", "due", "added_on", "status", "doc_no",
                  "issued_on", "implemented_on", "overdue"}
        assert [m.model_dump(include=fields) for m in after.measures] == \
            [m.model_dump(include=fields) for m in before.measures]


def test_rows_without_numbers_match_existing_records_on_import(ledger, tmp_path):
    ledger.report_hazard(campaign="fire", unit="甲厂", description="问题一", found_on=date(2020, 9, 1))
    path = write_csv(tmp_path / "t.csv", [["单位名称", "隐患描述", "排查日期"], ["甲厂", "问题一", "2020/9/1"],
                                           ["乙厂", "问题二", "2020/9/2"]])
    result = import_file(ledger, path, campaign="fire")
    assert [r.number for r in result.created] == ["H-fire-2020-0002"]
    assert len(result.skipped) == 1


def test_full_width_look_alike_is_the_same_record(ledger, tmp_path):
    """Names are compared after NFKC (qingdan.core.text.name_key): ＡＢＣ饭店 is the 台账's ABC饭店, and a
    zero-width space hidden in a name is refused, naming row and column (no second copy either way)."""
    number = ledger.report_hazard(campaign="fire", unit="ＡＢＣ饭店", description="灭火器过期 ",
                                  found_on="2020-09-01", on="2020-09-01")
    header = ["单位名称", "隐患描述", "排查日期", "专项"]
    same = write_xlsx(tmp_path / "same.xlsx", [header, ["ABC饭店", "灭火器过期", "2020-09-01", "消防"]])
    result = import_file(ledger, same)
    assert not result.created and [p.number for p in result.updated] == [number]
    hidden = write_xlsx(tmp_path / "hidden.xlsx", [header, ["南阳\u200b饭店", "灭火器过期", "2020-09-01", "消防"]])
    with pytest.raises(ImportRejected, match="第 4 行【单位名称】.*U\\+200B"):
        import_file(ledger, hidden)
    assert [h.number for h in ledger.two_lists().hazards] == [number]
