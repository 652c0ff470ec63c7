"""The same forms as PDF (reportlab, its built-in CID font STSong-Light: nothing to install).

Each :class:`~qingdan.io.writer.Sheet` is a section on A4 landscape: the title, 填报单位 and
填报日期, the table (only the columns that print; the header, with its group cells, repeated on
every page; scaled to the page's width, text wrapped), 审核人 / 填表人 / 联系电话 at the foot, and
"第 X 页 共 Y 页" at the bottom of every page.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape

from qingdan.core.clock import today
from qingdan.io.writer import Sheet, cell_text, chinese_date, print_width

FONT = "STSong-Light"
PAGE_FOOTER = "第 {page} 页 共 {pages} 页"
UNIT_POINTS = 5.6  # one Excel character unit, in points, at 10-point text
MAX_FONT, MIN_FONT = 10.0, 5.5


def _register() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def write_pdf(path: str | Path | IO[bytes], sheets: Iterable[Sheet], *, title: str | None = None) -> None:
    """Write the sheets as one PDF; a path is written atomically (whole or not at all)."""
    if isinstance(path, str | os.PathLike):
        from qingdan.io.atomic import atomic_write

        with atomic_write(path, "wb") as stream:
            write_pdf(stream, sheets, title=title)
        return
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, SimpleDocTemplate

    _register()
    sheets = list(sheets)
    doc = SimpleDocTemplate(path, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm,
                            topMargin=12 * mm, bottomMargin=14 * mm,
                            title=title or (sheets[0].title if sheets and sheets[0].title else "两个清单"),
                            author="qingdan", creator="qingdan")
    story: list[Any] = []
    for i, sheet in enumerate(sheets):
        if i:
            story.append(PageBreak())
        story += _section(sheet, doc.width)
    if not story:
        from reportlab.platypus import Paragraph

        story.append(Paragraph("（无内容）", _style(10)))
    doc.build(story, canvasmaker=_NumberedCanvas)


def _style(size: float, *, align: int = 0, bold: bool = False) -> Any:
    from reportlab.lib.styles import ParagraphStyle

    return ParagraphStyle("cell", fontName=FONT, fontSize=size, leading=size * 1.25, alignment=align,
                          wordWrap="CJK", textColor="#000000")


def _para(text: str, size: float, align: int = 1) -> Any:
    from reportlab.platypus import Paragraph

    return Paragraph(escape(text).replace("\n", "<br/>"), _style(size, align=align))


def _section(sheet: Sheet, width: float) -> list[Any]:
    from reportlab.lib import colors
    from reportlab.platypus import Spacer, Table, TableStyle

    columns = list(sheet.columns)[:sheet.printed or len(sheet.columns)]
    units = [print_width(c) or min(max(c.width * 0.8, 4.5), 30) for c in columns]
    natural = sum(units) * UNIT_POINTS
    scale = min(1.0, width / natural) if natural else 1.0
    size = max(MIN_FONT, min(MAX_FONT, MAX_FONT * scale))
    widths = [u * width / sum(units) for u in units] if natural > width else [u * UNIT_POINTS for u in units]
    story: list[Any] = []
    if sheet.title:
        story.append(_para(sheet.title, 16))
        story.append(Spacer(1, 4))
    profile = sheet.profile
    if profile is not None:
        filed = Table([[_para(f"填报单位（盖章）：{profile.filing_unit}", 10, 0),
                        _para(f"填报日期：{chinese_date(sheet.filled_on or today())}", 10, 2)]],
                      colWidths=[width / 2] * 2)
        filed.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
        story.append(filed)
        story.append(Spacer(1, 3))
    header, spans = _header(sheet, columns, size)
    body = [[_para(cell_text(v), size, 0 if len(cell_text(v)) * size > w * 0.9 else 1)
             for v, w in zip(list(values)[:len(columns)], widths, strict=False)] for values in sheet.rows]
    if not body:
        body = [[_para("（无记录）", size)] + [""] * (len(columns) - 1)]
        spans.append(("SPAN", (0, len(header)), (-1, len(header))))
    table = Table(header + body, colWidths=widths, repeatRows=len(header))
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("BACKGROUND", (0, 0), (-1, len(header) - 1), colors.HexColor("#F2F2F2")),
        *spans,
    ]))
    story.append(table)
    if profile is not None:
        story.append(Spacer(1, 10))
        signs = Table([[_para(f"审核人：{profile.reviewer or ''}", 10, 0), _para(f"填表人：{profile.preparer or ''}", 10, 0),
                        _para(f"联系电话：{profile.phone or ''}", 10, 0)]], colWidths=[width / 3] * 3)
        signs.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0)]))
        story.append(signs)
    return story


def _header(sheet: Sheet, columns: list[Any], size: float) -> tuple[list[list[Any]], list[Any]]:
    """The header rows (one, or two under group cells) and their SPAN commands."""
    form = sheet.form
    groups: dict[int, tuple[str, int]] = {}
    if form is not None:
        for label, keys in form.groups:
            positions = [i for i, c in enumerate(columns) if c.key in keys]
            if positions:
                groups[positions[0]] = (label, positions[-1])
    if not groups:
        return [[_para(c.header, size) for c in columns]], []
    top: list[Any] = [""] * len(columns)
    sub: list[Any] = [""] * len(columns)
    spans: list[Any] = []
    covered: set[int] = set()
    for first, (label, last) in groups.items():
        top[first] = _para(label, size)
        for i in range(first, last + 1):
            covered.add(i)
            sub[i] = _para(columns[i].header, size)
        if last > first:
            spans.append(("SPAN", (first, 0), (last, 0)))
    for i, column in enumerate(columns):
        if i not in covered:
            top[i] = _para(column.header, size)
            spans.append(("SPAN", (i, 0), (i, 1)))
    return [top, sub], spans


def _numbered_canvas() -> type:
    from reportlab.pdfgen.canvas import Canvas

    class NumberedCanvas(Canvas):
        """Holds the pages until the end, so each can say how many there are."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 (reportlab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont(FONT, 9)
                width = self._pagesize[0]
                self.drawCentredString(width / 2, 18, PAGE_FOOTER.format(page=self._pageNumber, pages=total))
                super().showPage()
            super().save()

    return NumberedCanvas


class _Lazy:
    """The canvas class, made when first used (reportlab is imported only to write a PDF)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _numbered_canvas()(*args, **kwargs)


_NumberedCanvas = _Lazy()
