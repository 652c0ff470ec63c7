"""The columns of the 两个清单 as a township 台账: export headers and the header variants import reads.

Each column has the header we write (the field's label from :mod:`qingdan.core.labels`), the other headers clerks use for the same thing (import
recognises all of them, ignoring spaces, line breaks and full-/half-width brackets), a width and a
kind (``text``, ``date``, ``number``). Columns marked ``export_only`` are derived and never imported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qingdan.core.labels import HAZARD_FIELD_LABELS as H
from qingdan.core.labels import MEASURE_FIELD_LABELS as M


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    variants: tuple[str, ...] = ()
    width: int = 12
    kind: str = "text"  # text | date | number
    export_only: bool = False


HAZARD_COLUMNS: tuple[Column, ...] = (
    Column("index", "序号", ("序", "No", "NO."), 6, export_only=True),
    Column("number", H["number"], ("编号", "隐患序号编号", "台账编号"), 20),
    Column("unit", H["unit"], ("企业名称", "被检查单位", "单位", "企业（单位）名称", "生产经营单位名称",
                              "检查对象", "被检查单位名称", "场所名称"), 24),
    Column("village", H["village"], ("村居", "所在村", "所在村（居）", "村（社区）", "所属村", "村"), 10),
    Column("location", H["location"], ("部位", "隐患位置", "具体部位", "位置"), 14),
    Column("description", H["description"], ("存在问题", "问题隐患", "隐患内容", "问题描述", "隐患情况", "存在的问题",
                                   "问题隐患描述", "隐患问题", "主要问题", "隐患名称", "存在的安全隐患",
                                   "安全隐患", "问题及隐患"), 40),
    Column("level", H["level"], ("等级", "隐患级别", "级别"), 8),
    Column("source", H["source"], ("来源", "发现方式"), 10),
    Column("found_on", H["found_on"], ("检查日期", "发现日期", "排查时间", "检查时间", "发现时间",
                                                 "隐患排查日期"), 12, "date"),
    Column("responsible_unit", H["responsible_unit"], ("责任单位", "整改单位", "责任主体"), 18),
    Column("responsible_person", H["responsible_person"], ("整改责任人",), 10),
    Column("measures", H["measures"], ("措施", "整改方案", "整改措施及要求"), 30),
    Column("funds", H["funds"], ("整改资金", "资金（万元）", "资金", "整改经费（万元）", "整改经费"), 10,
           "number"),
    Column("deadline", H["deadline"], ("整改时限", "完成时限", "整改完成时限", "期限", "整改完成期限"), 12, "date"),
    Column("contingency", H["contingency"], ("预案",), 18),
    Column("escalated", H["escalated"], ("是否挂牌督办", "督办"), 8),
    Column("status", H["status"], ("状态", "整改情况", "整改进度", "整改完成情况"), 10),
    Column("completed_on", H["completed_on"], ("整改完成日期", "完成时间", "整改完成时间"), 12, "date"),
    Column("verified_on", H["verified_on"], ("复查日期", "验收时间", "复查时间"), 12, "date"),
    Column("closed_on", H["closed_on"], ("销号时间",), 12, "date"),
    Column("note", H["note"], ("说明",), 20),
    Column("campaign", H["campaign"], ("专项整治", "所属专项", "专项名称", "专项整治名称"), 22),
    Column("category", H["category"], ("类别", "隐患类型", "问题类别"), 16),
    Column("inspectors", H["inspectors"], ("检查人", "排查人员", "排查人"), 16),
    Column("escalation_level", H["escalation_level"], (), 8),
    Column("supervisor", H["supervisor"], ("督办部门",), 16),
    Column("escalation_doc_no", H["escalation_doc_no"], (), 18),
    Column("cost", H["cost"], ("实际费用（万元）", "实际整改费用"), 10, "number"),
    Column("withdrawn_on", H["withdrawn_on"], ("撤销时间",), 12, "date"),
    Column("rechecked_on", H["rechecked_on"], ("复查日期（回头看）",), 12, "date", export_only=True),
    Column("overdue", H["overdue"], ("超期",), 8, export_only=True),
    Column("missing_parts", H["missing_parts"], (), 14, export_only=True),
    Column("attachments", H["attachments"], ("附件情况",), 16, export_only=True),
)

MEASURE_COLUMNS: tuple[Column, ...] = (
    Column("index", "序号", ("序",), 6, export_only=True),
    Column("number", M["number"], ("措施编号", "制度措施编号"), 20),
    Column("title", M["title"], ("制度措施", "制度名称", "措施名称", "名称", "制度（措施）名称"), 40),
    Column("kind", M["kind"], ("制度类型", "措施类型"), 8),
    Column("department", M["department"], ("牵头部门", "责任单位", "制定部门"), 18),
    Column("due", M["due"], ("完成期限", "时限", "计划完成时间"), 12, "date"),
    Column("status", M["status"], ("完成情况", "进展情况"), 10),
    Column("doc_no", M["doc_no"], ("印发文号", "发文字号"), 20),
    Column("issued_on", M["issued_on"], ("印发时间", "发文日期"), 12, "date"),
    Column("implemented_on", M["implemented_on"], ("落实时间",), 12, "date"),
    Column("repealed_on", M["repealed_on"], (), 12, "date"),
    Column("added_on", M["added_on"], ("建立日期",), 12, "date"),
    Column("campaign", M["campaign"], ("专项整治", "所属专项", "专项名称"), 22),
    Column("overdue", M["overdue"], ("超期",), 8, export_only=True),
    Column("attachments", M["attachments"], ("附件情况",), 16, export_only=True),
)

#: Headers that only a measure list has: a sheet with one of them is read as the 制度措施清单.
MEASURE_MARKERS = ("制度措施名称", "制度措施", "制度名称", "措施名称", "制度（措施）名称")

_SPACES = re.compile(r"\s+")


def normalise_header(text: object) -> str:
    """Compare headers ignoring spaces, line breaks, bracket widths and case."""
    if text is None:
        return ""
    value = _SPACES.sub("", str(text)).replace("(", "（").replace(")", "）").lower()
    return value.rstrip("*＊:：")


def header_index(columns: tuple[Column, ...]) -> dict[str, Column]:
    index: dict[str, Column] = {}
    for column in columns:
        for name in (column.header, *column.variants):
            index.setdefault(normalise_header(name), column)
    return index


#: Columns import reads that no export writes: who verified a rectification (验收人) is recorded on the
#: verification event, not a field of the list.
HAZARD_IMPORT_ONLY: tuple[Column, ...] = (
    Column("verifier", "验收人", ("验收人员", "复查人", "复查人员", "验收责任人"), 10),
)
HAZARD_HEADERS = header_index(HAZARD_COLUMNS + HAZARD_IMPORT_ONLY)
MEASURE_HEADERS = header_index(MEASURE_COLUMNS)


# -- the printed forms -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Form:
    """How a list prints as a government form (报送表): its columns in order, the group cells over
    them (a second header row), and how many of them print (the rest follow, for re-import)."""

    keys: tuple[str, ...]
    groups: tuple[tuple[str, tuple[str, ...]], ...]  # (group label, the keys under it)
    printed: int


#: Widths (Excel character units) of columns as printed: wrapped text, A4 landscape.
PRINT_WIDTHS = {
    "index": 5, "campaign": 9, "number": 30, "unit": 14, "village": 7, "location": 9, "description": 24,
    "level": 5, "source": 6, "found_on": 11, "responsible_unit": 12, "responsible_person": 7,
    "measures": 18, "funds": 6.5, "deadline": 11, "contingency": 11, "escalated": 5, "status": 7.5,
    "completed_on": 11, "verified_on": 11, "closed_on": 11, "note": 11, "title": 26, "kind": 5.5,
    "department": 13, "due": 11, "doc_no": 16, "issued_on": 11, "implemented_on": 11,
    "repealed_on": 11, "added_on": 11, "overdue": 5,
}

HAZARD_FORM = Form(
    keys=("index", "campaign", "number", "unit", "village", "description", "level", "found_on",
          "responsible_unit", "responsible_person", "measures", "funds", "deadline", "contingency",
          "escalated", "status", "completed_on", "verified_on", "closed_on", "note",
          # not printed: kept for re-import and for whoever reads the workbook on screen
          "location", "source", "category", "inspectors", "escalation_level", "supervisor",
          "escalation_doc_no", "cost", "withdrawn_on", "overdue", "missing_parts", "attachments"),
    groups=(("基本情况", ("unit", "village")), ("隐患情况", ("description", "level", "found_on")),
            ("整改落实情况（五到位）", ("responsible_unit", "responsible_person", "measures", "funds",
                                "deadline", "contingency", "escalated")),
            ("整改进展", ("status", "completed_on", "verified_on", "closed_on")),
            ("其他信息（不打印）", ("location", "source", "category", "inspectors", "escalation_level",
                             "supervisor", "escalation_doc_no", "cost", "withdrawn_on", "overdue",
                             "missing_parts", "attachments"))),
    printed=20,
)

MEASURE_FORM = Form(
    keys=("index", "campaign", "number", "title", "kind", "department", "due", "status", "doc_no",
          "issued_on", "implemented_on", "repealed_on", "overdue", "added_on", "attachments"),
    groups=(("制度措施", ("title", "kind", "department", "due")),
            ("落实情况", ("status", "doc_no", "issued_on", "implemented_on", "repealed_on", "overdue"))),
    printed=13,
)
