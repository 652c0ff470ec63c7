"""Writing the 两个清单 (and any listing) as xlsx workbooks and csv files.

The 台账 layout: a title row (``南阳镇问题隐患清单（截至2020年12月25日）``), a header row beginning
序号, one row per record, frozen header, sensible widths, real date cells. Text that a spreadsheet
would run as a formula is neutralised (:func:`qingdan.io.safe.neutralise`).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from qingdan.core.rows import (
    FIVE_PART_LABELS,
    HAZARD_STATUS_LABELS,
    MEASURE_STATUS_LABELS,
    HazardRow,
    MeasureRow,
    TwoLists,
)
from qingdan.io.layout import HAZARD_COLUMNS, MEASURE_COLUMNS, Column
from qingdan.io.safe import neutralise

DEFAULT_TOWNSHIP = "南阳镇"
HAZARD_SHEET = "问题隐患清单"
MEASURE_SHEET = "制度措施清单"


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
        "overdue": _yes(row.overdue),
        "missing_parts": "、".join(FIVE_PART_LABELS[p] for p in row.missing_parts) or None,
    }


def measure_record(row: MeasureRow, index: int, campaign_names: Mapping[str, str]) -> dict[str, Any]:
    return {
        "index": index, "number": row.number, "title": row.title, "kind": row.kind,
        "department": row.department, "due": row.due,
        "status": MEASURE_STATUS_LABELS.get(row.status, row.status), "doc_no": row.doc_no,
        "issued_on": row.issued_on, "implemented_on": row.implemented_on,
        "repealed_on": row.repealed_on, "added_on": row.added_on,
        "campaign": campaign_names.get(row.campaign, row.campaign), "overdue": _yes(row.overdue),
    }


def two_lists_sheets(lists: TwoLists, campaign_names: Mapping[str, str], township: str = DEFAULT_TOWNSHIP,
                     known_at: datetime | None = None) -> list[Sheet]:
    """The two 台账 sheets of a :class:`TwoLists`."""
    hazards = [hazard_record(h, i, campaign_names) for i, h in enumerate(lists.hazards, 1)]
    measures = [measure_record(m, i, campaign_names) for i, m in enumerate(lists.measures, 1)]
    return [
        Sheet(HAZARD_SHEET, list_title(township, HAZARD_SHEET, lists.as_of, known_at),
              HAZARD_COLUMNS, [[r[c.key] for c in HAZARD_COLUMNS] for r in hazards]),
        Sheet(MEASURE_SHEET, list_title(township, MEASURE_SHEET, lists.as_of, known_at),
              MEASURE_COLUMNS, [[r[c.key] for c in MEASURE_COLUMNS] for r in measures]),
    ]


class Sheet:
    """A titled table: what one worksheet (or one csv file) holds."""

    def __init__(self, name: str, title: str | None, columns: Sequence[Column],
                 rows: Sequence[Sequence[Any]]) -> None:
        self.name, self.title, self.columns, self.rows = name, title, columns, rows


def write_workbook(path: str | Path | IO[bytes], sheets: Iterable[Sheet],
                   progress: Callable[[int], None] | None = None) -> None:
    """Write sheets in the 台账 layout: title row, header row, frozen header, real date cells.

    A path is written atomically (:func:`qingdan.io.atomic.atomic_write`): the whole workbook or,
    on any failure, nothing (an existing file stays as it was).
    """
    if isinstance(path, str | os.PathLike):
        from qingdan.io.atomic import atomic_write

        with atomic_write(path, "wb") as stream:
            write_workbook(stream, sheets, progress)
        return
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    header_font = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    title_font = Font(bold=True, size=14)
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    wrap = Alignment(vertical="top", wrap_text=True)

    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet in sheets:
        ws = workbook.create_sheet(sheet.name[:31])
        width = len(sheet.columns)
        first = 1
        if sheet.title:
            ws.cell(row=1, column=1, value=neutralise(sheet.title)).font = title_font
            ws.cell(row=1, column=1).alignment = centre
            if width > 1:
                ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
            ws.row_dimensions[1].height = 28
            first = 2
        for col, column in enumerate(sheet.columns, 1):
            cell = ws.cell(row=first, column=col, value=column.header)
            cell.font, cell.fill, cell.alignment, cell.border = header_font, header_fill, centre, border
            ws.column_dimensions[get_column_letter(col)].width = column.width
        for r, values in enumerate(sheet.rows, first + 1):
            for col, (column, value) in enumerate(zip(sheet.columns, values, strict=True), 1):
                cell = ws.cell(row=r, column=col, value=_cell_value(value))
                if isinstance(value, date):
                    cell.number_format = "yyyy-mm-dd"
                elif column.kind == "number" and value is not None:
                    cell.number_format = "0.00"
                elif column.width >= 24:
                    cell.alignment = wrap
            if progress is not None:
                progress(1)
        ws.freeze_panes = ws.cell(row=first + 1, column=3 if width > 3 else 1)
        if sheet.rows:
            ws.auto_filter.ref = f"A{first}:{get_column_letter(width)}{first + len(sheet.rows)}"
    if not workbook.sheetnames:
        workbook.create_sheet("Sheet1")
    workbook.save(path)


def _cell_value(value: Any) -> Any:
    if isinstance(value, bool):
        return _yes(value)
    if isinstance(value, list | tuple):
        return neutralise("、".join(str(v) for v in value))
    if isinstance(value, dict):
        return neutralise("；".join(f"{k}={v}" for k, v in value.items()))
    return neutralise(value)


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
