"""Hostile 台账 files: a clear error listing the problems, nothing written, never a traceback.

Hypothesis builds csv and xlsx files with missing and duplicated columns, absurd and impossible
dates, enormous strings, control characters, formula text, GBK, UTF-16 and broken encodings, and
imports each into a ledger that already holds records.
"""

from __future__ import annotations

import os
from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

import qingdan
from qingdan.core.domain import CST
from qingdan.io.importer import ImportRejected, import_file
from tests.conftest import Clock, event_count, make_catalogue
from tests.test_cli import qd

EXAMPLES = int(os.environ.get("QINGDAN_FUZZ_EXAMPLES", "60"))

HEADERS = ["序号", "隐患编号", "单位名称", "企业名称", "村（居）", "隐患部位", "隐患描述", "存在问题", "隐患等级",
           "隐患来源", "排查日期", "检查日期", "整改责任单位", "责任人", "整改措施", "整改资金（万元）", "整改期限",
           "应急预案", "挂牌督办", "整改状态", "完成日期", "验收日期", "销号日期", "备注", "专项", "隐患类别",
           "不认识的列", ""]
cell = st.one_of(
    st.none(), st.text(max_size=12), st.integers(-10**6, 10**12), st.floats(allow_nan=True),
    st.sampled_from(["fire", "hazchem", "gas", "一般", "重大", "特大", "已销号", "整改中", "是", "否",
                     "2020-09-01", "2020/9/1", "2020.9.1", "2020年9月1日", "20200901", "2020-02-30",
                     "0001-01-01", "9999-12-31", "明天", "44075", "=cmd|' /C calc'!A0", "+1", "-1", "@A1",
                     "\x00", "\x1b[31m", "\u202e", "H-fire-2020-0001", "H-fire-2020-9999", "M-fire-2020-0001",
                     "x" * 3000]),
)
sheet = st.tuples(
    st.lists(st.sampled_from(HEADERS), min_size=1, max_size=14),
    st.lists(st.lists(cell, max_size=16), max_size=6),
    st.integers(0, 2),  # title rows above the header
)
encoding = st.sampled_from(["utf-8", "utf-8-sig", "gbk", "utf-16", "broken"])


def write_csv(path, headers, rows, titles, enc) -> None:
    lines = [["南阳镇问题隐患清单"]] * titles + [headers] + rows
    text = "\n".join(",".join("" if v is None else str(v).replace(",", "，") for v in row) for row in lines)
    if enc == "broken":
        data = text.encode("utf-8", "replace")[:-1] + b"\xff\xfe\xc3"
    else:
        data = text.encode(enc, "replace")
    path.write_bytes(data)


def write_xlsx(path, headers, rows, titles) -> None:
    book = Workbook()
    ws = book.active
    for _ in range(titles):
        ws.append(["南阳镇问题隐患清单（截至2020年12月25日）"])
    ws.append(headers)
    for row in rows:
        safe = []
        for v in row:
            if isinstance(v, str):
                v = "".join(ch for ch in v if ch.isprintable())  # openpyxl cannot store the rest
            safe.append(v)
        ws.append(safe)
    book.save(path)


@pytest.fixture(scope="module")
def import_ledger(tmp_path_factory):
    clock = Clock(datetime(2021, 1, 10, 9, tzinfo=CST))
    url = str(tmp_path_factory.mktemp("imp") / "ledger.db")
    ledger = qingdan.open_ledger(url, clock=clock, catalogue=make_catalogue())
    ledger.report_hazard(campaign="fire", unit="已有单位", description="已有隐患", found_on=date(2020, 9, 1))
    yield ledger
    ledger.disconnect()


@settings(max_examples=EXAMPLES * 3, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=sheet, enc=encoding, xlsx=st.booleans())
def test_hostile_files_are_rejected_whole_with_readable_errors(import_ledger, tmp_path_factory, data, enc, xlsx):
    headers, rows, titles = data
    path = tmp_path_factory.mktemp("f") / ("台账.xlsx" if xlsx else "台账.csv")
    if xlsx:
        write_xlsx(path, headers, rows, titles)
    else:
        write_csv(path, headers, rows, titles, enc)
    before = event_count(import_ledger)
    try:
        result = import_file(import_ledger, path, campaign="fire")
    except ImportRejected as rejected:
        event("rejected with row errors")
        assert event_count(import_ledger) == before
        assert rejected.errors
        for error in rejected.errors:
            text = str(error)
            assert all(ch.isprintable() or ch == " " for ch in text), repr(text[:100])
            assert len(text) < 400, text[:200]
    except qingdan.QingdanError as error:
        event("refused as a whole")
        assert event_count(import_ledger) == before
        assert "Traceback" not in str(error)
    else:
        event("imported" if result.events else "nothing to import")
        assert event_count(import_ledger) == before + result.events


def test_a_duplicated_column_is_an_error_not_a_guess(import_ledger, tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("单位名称,隐患描述,排查日期,检查日期\n某厂,通道堵塞,2020-09-01,2020-09-02\n", encoding="utf-8")
    before = event_count(import_ledger)
    with pytest.raises(ImportRejected, match="【检查日期】：与“排查日期”是同一列"):
        import_file(import_ledger, path, campaign="fire")
    assert event_count(import_ledger) == before


def test_broken_files_fail_cleanly_from_the_command_line(tmp_path):
    db = str(tmp_path / "cli.db")
    garbage = tmp_path / "坏文件.xlsx"
    garbage.write_bytes(b"PK\x03\x04 not really a workbook")
    result = qd(db, "import", str(garbage), "-c", "fire", code=1)
    assert "无法读取 xlsx 文件" in result.stderr and "Traceback" not in result.stderr
    undecodable = tmp_path / "乱码.csv"
    undecodable.write_bytes(bytes(range(128, 256)) * 20)
    result = qd(db, "import", str(undecodable), "-c", "fire", code=1)
    assert "Traceback" not in result.stdout + result.stderr
