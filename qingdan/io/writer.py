"""Writing the 两个清单 (and any listing) as print-ready xlsx workbooks and as csv files.

Every worksheet prints on A4 landscape, one page wide, with its title and header rows repeated on
every page, thin borders, wrapped cells with row heights to match, 宋体 headings and 仿宋 text and
"第 &P 页 共 &N 页" in the footer; sheets have Chinese names (统计, 整治目标, 回头看 …).

Two layouts of the 两个清单:

- ``台账`` — the register: a title row, one header row (序号, 隐患编号, 单位名称 …), a row per record,
  every field (the columns that print come first);
- ``报送表`` — the form handed in: the title, 填报单位 and 填报日期 under it, a two-row header with
  group cells (基本情况 / 隐患情况 / 整改落实情况 …), 专项 near the front, 审核人 / 填表人 / 联系电话 at
  the foot; the fields that are not part of the form follow outside the print area.

Both import again as they are (:mod:`qingdan.io.importer`). Text that a spreadsheet would run as
a formula is neutralised (:func:`qingdan.io.safe.neutralise`).
"""

from __future__ import annotations

import csv
import math
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from qingdan.core.clock import today
from qingdan.core.labels import attachments_label
from qingdan.core.rows import (
    FIVE_PART_LABELS,
    HAZARD_STATUS_LABELS,
    MEASURE_STATUS_LABELS,
    HazardRow,
    MeasureRow,
    TwoLists,
)
from qingdan.io.layout import (
    HAZARD_COLUMNS,
    HAZARD_FORM,
    MEASURE_COLUMNS,
    MEASURE_FORM,
    PRINT_WIDTHS,
    Column,
    Form,
)
from qingdan.io.profile import DEFAULT_TOWNSHIP, Profile
from qingdan.io.safe import neutralise

HAZARD_SHEET = "问题隐患清单"
MEASURE_SHEET = "制度措施清单"
LAYOUTS = ("台账", "报送表")
DEFAULT_LAYOUT = "台账"

#: The worksheet names of the command line's listings.
SHEET_NAMES = {
    "targets": "整治目标", "findings": "检查发现", "stats": "统计", "diff": "回头看", "reports": "报送记录",
    "import": "导入结果", "projections": "专题表目录", "projection": "专题表", "tasks": "重点任务",
    "units": "监管对象", "history": "历史记录", "record": "记录", "campaigns": "专项", "plugins": "插件",
    "problems": "核验问题",
}

TITLE_FONT = ("宋体", 16)
HEADER_FONT = ("宋体", 10)
BODY_FONT = ("仿宋", 10)
FOOTER = "第 &P 页 共 &N 页"
LINE_HEIGHT = 13.5  # points per line of 10-point text
PRINTABLE_UNITS = 150  # what fits across A4 landscape at 100 % with these margins (character units)


def chinese_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def list_title(township: str, list_name: str, as_of: date, known_at: datetime | None = None) -> str:
    """``南阳镇问题隐患清单（截至2020年12月25日）``."""
    title = f"{township}{list_name}（截至{chinese_date(as_of)}）"
    if known_at is not None:
        title += f"（按{known_at.strftime('%Y-%m-%d %H:%M')}时的登记）"
    return title


def _yes(value: bool) -> str:
    return "是" if value else "否"


def hazard_record(row: HazardRow, index: int, campaign_names: Mapping[str, str]) -> dict[str, Any]:
    """A hazard row as 台账 cells, keyed by column key (dates stay dates)."""
    return {
        "index": index, "number": row.number, "unit": row.unit, "village": row.village,
        "location": row.location, "description": row.description, "level": row.level,
        "source": row.source, "found_on": row.found_on, "responsible_unit": row.responsible_unit,
        "responsible_person": row.responsible_person, "measures": row.measures, "funds": row.funds,
        "deadline": row.deadline, "contingency": row.contingency, "escalated": _yes(row.escalated),
        "status": HAZARD_STATUS_LABELS.get(row.status, row.status),
        "completed_on": row.completed_on, "verified_on": row.verified_on,
        "closed_on": row.closed_on, "note": row.note,
        "campaign": campaign_names.get(row.campaign, row.campaign), "category": row.category,
        "inspectors": "、".join(row.inspectors) or None,
        "escalation_level": row.escalation_level, "supervisor": row.supervisor,
        "escalation_doc_no": row.escalation_doc_no, "cost": row.cost, "withdrawn_on": row.withdrawn_on,
        "rechecked_on": row.rechecked_on,
        "overdue": _yes(row.overdue),
        "missing_parts": "、".join(FIVE_PART_LABELS[p] for p in row.missing_parts) or None,
        "attachments": attachments_label(row.attachments) or None,
    }


def measure_record(row: MeasureRow, index: int, campaign_names: Mapping[str, str]) -> dict[str, Any]:
    return {
        "index": index, "number": row.number, "title": row.title, "kind": row.kind,
        "department": row.department, "due": row.due,
        "status": MEASURE_STATUS_LABELS.get(row.status, row.status), "doc_no": row.doc_no,
        "issued_on": row.issued_on, "implemented_on": row.implemented_on,
        "repealed_on": row.repealed_on, "added_on": row.added_on,
        "campaign": campaign_names.get(row.campaign, row.campaign), "overdue": _yes(row.overdue),
        "attachments": attachments_label(row.attachments) or None,
    }


class Sheet:
    """A titled table: what one worksheet (or one csv file, or one PDF section) holds.

    ``profile``: who the form is from (填报单位 under the title and the signatures at the foot are
    printed only when there is one); ``form``: the 报送表 layout of a list; ``filled_on``: the
    填报日期 (default today); ``printed``: how many of the first columns print (default all).
    """

    def __init__(self, name: str, title: str | None, columns: Sequence[Column],
                 rows: Sequence[Sequence[Any]], *, profile: Profile | None = None, form: Form | None = None,
                 filled_on: date | None = None, printed: int | None = None) -> None:
        self.name, self.title, self.columns, self.rows = name, title, columns, rows
        self.profile, self.form, self.filled_on, self.printed = profile, form, filled_on, printed


def two_lists_sheets(lists: TwoLists, campaign_names: Mapping[str, str], township: str = DEFAULT_TOWNSHIP,
                     known_at: datetime | None = None, *, profile: Profile | None = None,
                     layout: str = DEFAULT_LAYOUT, filled_on: date | None = None) -> list[Sheet]:
    """The two sheets of a :class:`TwoLists`, in the ``台账`` or the ``报送表`` layout."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, not {layout!r}")
    if profile is not None:
        township = profile.name
    hazards = [hazard_record(h, i, campaign_names) for i, h in enumerate(lists.hazards, 1)]
    measures = [measure_record(m, i, campaign_names) for i, m in enumerate(lists.measures, 1)]
    sheets = []
    for name, columns, form, records in ((HAZARD_SHEET, HAZARD_COLUMNS, HAZARD_FORM, hazards),
                                         (MEASURE_SHEET, MEASURE_COLUMNS, MEASURE_FORM, measures)):
        title = list_title(township, name, lists.as_of, known_at)
        if layout == "报送表":
            by_key = {c.key: c for c in columns}
            ordered = [by_key[k] for k in form.keys]
            sheets.append(Sheet(name, title, ordered, [[r[c.key] for c in ordered] for r in records],
                                profile=profile or Profile(name=township), form=form, filled_on=filled_on,
                                printed=form.printed))
        else:
            printed = 22 if name == HAZARD_SHEET else 13  # through 专项: the fields a printed 台账 needs
            sheets.append(Sheet(name, title, columns, [[r[c.key] for c in columns] for r in records],
                                profile=profile, filled_on=filled_on, printed=printed))
    return sheets


# -- xlsx ------------------------------------------------------------------------------------------


def write_workbook(path: str | Path | IO[bytes], sheets: Iterable[Sheet],
                   progress: Callable[[int], None] | None = None) -> None:
    """Write sheets as print-ready worksheets (see the module's docstring).

    A path is written atomically (:func:`qingdan.io.atomic.atomic_write`): the whole workbook or,
    on any failure, nothing (an existing file stays as it was).
    """
    if isinstance(path, str | os.PathLike):
        from qingdan.io.atomic import atomic_write

        with atomic_write(path, "wb") as stream:
            write_workbook(stream, sheets, progress)
        return
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    used: set[str] = set()
    for sheet in sheets:
        _Writer(workbook.create_sheet(_sheet_name(sheet.name, used)), sheet).write(progress)
    if not workbook.sheetnames:
        workbook.create_sheet("Sheet1")
    workbook.save(path)


def _sheet_name(name: str, used: set[str]) -> str:
    """A worksheet name Excel accepts: Chinese for the listings, at most 31 characters, unique."""
    base = re.sub(r"[\[\]:*?/\\]", "_", SHEET_NAMES.get(name, name)).strip("'")[:31] or "Sheet"
    candidate, n = base, 1
    while candidate in used:
        n += 1
        candidate = f"{base[:27]}（{n}）"
    used.add(candidate)
    return candidate


def print_width(column: Column) -> float | None:
    """The printed width of a column of the two lists (None for any other listing's column)."""
    if column in HAZARD_COLUMNS or column in MEASURE_COLUMNS:
        return PRINT_WIDTHS.get(column.key)
    return None


def display_width(text: str) -> float:
    """How wide text prints, in Excel character units: a CJK character is two, ASCII about one."""
    return sum(2.0 if unicodedata.east_asian_width(ch) in "WF" else 1.1 for ch in text)


def lines_needed(text: str, width: float) -> int:
    usable = max(width - 1.2, 1.0)
    return sum(max(1, math.ceil(display_width(part) / usable)) for part in text.split("\n"))


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    return str(_cell_value(value))


class _Writer:
    """One worksheet in the print-ready layout."""

    def __init__(self, ws: Any, sheet: Sheet) -> None:
        from openpyxl.styles import Alignment, Border, Font, Side

        self.ws, self.sheet = ws, sheet
        self.columns = list(sheet.columns)
        self.width = len(self.columns)
        self.printed = min(sheet.printed or self.width, self.width) or 1
        thin = Side(style="thin", color="000000")
        self.border = Border(left=thin, right=thin, top=thin, bottom=thin)
        self.title_font = Font(name=TITLE_FONT[0], size=TITLE_FONT[1], bold=True)
        self.header_font = Font(name=HEADER_FONT[0], size=HEADER_FONT[1], bold=True)
        self.body_font = Font(name=BODY_FONT[0], size=BODY_FONT[1])
        self.plain_font = Font(name=HEADER_FONT[0], size=HEADER_FONT[1])
        self.centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
        self.left = Alignment(horizontal="left", vertical="center", wrap_text=True)
        self.right = Alignment(horizontal="right", vertical="center")
        self.widths = [self._width(c) for c in self.columns]

    def _width(self, column: Column) -> float:
        width = print_width(column)
        if width is None:
            width = min(max(column.width * 0.8, display_width(column.header) / 2 + 2), 30)
        return max(width, 4.5)

    def write(self, progress: Callable[[int], None] | None) -> None:
        from openpyxl.utils import get_column_letter

        ws, sheet = self.ws, self.sheet
        for col, width in enumerate(self.widths, 1):
            ws.column_dimensions[get_column_letter(col)].width = width
        row = 1
        if sheet.title:
            self._merged(row, 1, self.printed, sheet.title, self.title_font, self.centre)
            ws.row_dimensions[row].height = 30
            row += 1
        if sheet.profile is not None:
            row = self._filed_by(row)
        row = self._header(row)
        header_last = row - 1
        first_data = row
        for values in sheet.rows:
            self._data_row(row, values)
            row += 1
            if progress is not None:
                progress(1)
        last = row - 1
        if sheet.profile is not None:
            row = self._signatures(row + 1)
        self._print_setup(header_last, max(last, header_last), row - 1)
        frozen = (3 if sheet.form is None else 4) if self.width > 3 else 1
        ws.freeze_panes = ws.cell(row=first_data, column=frozen)
        if sheet.rows and sheet.form is None:
            ws.auto_filter.ref = f"A{header_last}:{get_column_letter(self.width)}{last}"

    def _merged(self, row: int, first: int, last: int, value: Any, font: Any, alignment: Any) -> Any:
        cell = self.ws.cell(row=row, column=first, value=neutralise(value))
        cell.font, cell.alignment = font, alignment
        if last > first:
            self.ws.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)
        return cell

    def _filed_by(self, row: int) -> int:
        profile = self.sheet.profile
        assert profile is not None
        filled = self.sheet.filled_on or today()
        half = max(self.printed // 2, 1)
        self._merged(row, 1, half, f"填报单位（盖章）：{profile.filing_unit}", self.plain_font, self.left)
        if self.printed > half:
            self._merged(row, half + 1, self.printed, f"填报日期：{chinese_date(filled)}", self.plain_font,
                         self.right)
        self.ws.row_dimensions[row].height = 20
        return row + 1

    def _header(self, row: int) -> int:
        form = self.sheet.form
        groups = {}
        if form is not None:
            for label, keys in form.groups:
                positions = [i for i, c in enumerate(self.columns) if c.key in keys]
                if positions:
                    groups[positions[0]] = (label, positions[-1])
        if not groups:
            for col, column in enumerate(self.columns, 1):
                self._header_cell(row, col, column.header)
            self.ws.row_dimensions[row].height = self._height([c.header for c in self.columns], minimum=2)
            return row + 1
        covered: set[int] = set()
        for first, (label, last) in groups.items():
            for col in range(first, last + 1):
                covered.add(col)
                self._header_cell(row, col + 1, label if col == first else None)
                self._header_cell(row + 1, col + 1, self.columns[col].header)
            if last > first:
                self.ws.merge_cells(start_row=row, start_column=first + 1, end_row=row, end_column=last + 1)
        for col, column in enumerate(self.columns):
            if col not in covered:  # a column of its own: one header cell over both rows
                self._header_cell(row, col + 1, column.header)
                self._header_cell(row + 1, col + 1, None)
                self.ws.merge_cells(start_row=row, start_column=col + 1, end_row=row + 1, end_column=col + 1)
        self.ws.row_dimensions[row].height = 20
        self.ws.row_dimensions[row + 1].height = self._height([c.header for c in self.columns], minimum=2)
        return row + 2

    def _header_cell(self, row: int, col: int, value: Any) -> None:
        cell = self.ws.cell(row=row, column=col, value=value)
        cell.font, cell.alignment, cell.border = self.header_font, self.centre, self.border

    def _data_row(self, row: int, values: Sequence[Any]) -> None:
        texts = []
        for col, (column, value) in enumerate(zip(self.columns, values, strict=True), 1):
            cell = self.ws.cell(row=row, column=col, value=_cell_value(value))
            cell.font, cell.border = self.body_font, self.border
            if isinstance(value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            elif column.kind == "number" and value is not None:
                cell.number_format = "0.00"
            long = display_width(cell_text(value)) > self.widths[col - 1] - 1.2
            cell.alignment = self.left if long else self.centre
            texts.append(cell_text(value))
        self.ws.row_dimensions[row].height = self._height(texts)

    def _height(self, texts: Sequence[str], minimum: int = 1) -> float:
        lines = max([minimum, *(lines_needed(t, w) for t, w in zip(texts, self.widths, strict=False) if t)])
        return min(round(lines * LINE_HEIGHT + 4, 1), 409)

    def _signatures(self, row: int) -> int:
        profile = self.sheet.profile
        assert profile is not None
        parts = [f"审核人：{profile.reviewer or ''}", f"填表人：{profile.preparer or ''}",
                 f"联系电话：{profile.phone or ''}"]
        third = max(self.printed // 3, 1)
        starts = [1, third + 1, 2 * third + 1]
        for i, (start, text) in enumerate(zip(starts, parts, strict=True)):
            end = starts[i + 1] - 1 if i < 2 else self.printed
            if start > self.printed:
                break
            self._merged(row, start, max(end, start), text, self.plain_font, self.left)
        self.ws.row_dimensions[row].height = 24
        return row + 1

    def _print_setup(self, header_last: int, last_data: int, last_row: int) -> None:
        from openpyxl.utils import get_column_letter
        from openpyxl.worksheet.page import PageMargins

        ws = self.ws
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_margins = PageMargins(left=0.5, right=0.5, top=0.6, bottom=0.7, header=0.3, footer=0.35)
        ws.print_options.horizontalCentered = True
        ws.print_title_rows = f"1:{header_last}"
        ws.print_area = f"A1:{get_column_letter(self.printed)}{last_row}"
        ws.oddFooter.center.text = FOOTER
        ws.oddFooter.center.font = "宋体,常规"
        ws.oddFooter.center.size = 9
        ws.evenFooter.center.text = FOOTER


def _cell_value(value: Any) -> Any:
    if isinstance(value, bool):
        return _yes(value)
    if isinstance(value, list | tuple):
        return neutralise("、".join(str(v) for v in value))
    if isinstance(value, dict):
        return neutralise("；".join(f"{k}={v}" for k, v in value.items()))
    return neutralise(value)


# -- csv -------------------------------------------------------------------------------------------


def csv_text(value: Any) -> str:
    """A value as csv text: dates ISO, booleans 是/否, sequences joined with 、, formulas neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _yes(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        value = "、".join(str(v) for v in value)
    elif isinstance(value, dict):
        value = "；".join(f"{k}={v}" for k, v in value.items())
    return str(neutralise(str(value)))


def write_csv(stream: IO[str], sheet: Sheet, *, title: bool = False) -> None:
    """One sheet as csv (header row, then rows); with ``title`` the title goes first, as in a 台账."""
    writer = csv.writer(stream, lineterminator="\n")
    if title and sheet.title:
        writer.writerow([csv_text(sheet.title)])
    writer.writerow([c.header for c in sheet.columns])
    for values in sheet.rows:
        writer.writerow([csv_text(v) for v in values])
