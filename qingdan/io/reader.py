"""Reading 台账 files row by row: xlsx, xls, csv and tab-separated text in any usual encoding.

Every reader streams: a sheet is a generator of ``(row number, values)`` and nothing holds a whole
sheet in memory. What kind of file it is comes from its first bytes, not its name (a ``.xls`` that
is really an xlsx, a web page or tab-separated text is common), and every limit of
:mod:`qingdan.io.limits` is checked as the file is read, naming the sheet, row and column.

- xlsx/xlsm: openpyxl's read-only parser, cell by cell (a declared dimension such as ``A1:XFD20000``
  is refused before any row is read; the shared-string table is read with a bound on each string);
- xls: xlrd 2 (the file is at most ``Limits.file_bytes``, so reading it whole is bounded);
- text: the encoding found by its byte-order mark, else by charset-normalizer (UTF-8, GB18030/GBK,
  Big5, UTF-16 with or without BOM — Excel's "Unicode 文本" …); comma- or tab-separated.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qingdan.core.errors import InvalidCommand
from qingdan.io.limits import DEFAULT_LIMITS, FileTooLarge, Limits, megabytes

Rows = Iterator[tuple[int, tuple[Any, ...]]]

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an old .xls (BIFF in an OLE2 container)
ZIP = b"PK\x03\x04"
SAMPLE_BYTES = 1024 * 1024  # what the encoding and the separator are guessed from
MAX_TEXT_FIELDS = 16_384  # Excel's widest row: a text line with more fields is refused before it is kept


@dataclass
class SheetStream:
    """One sheet of a file: its name and its rows, read as they are iterated (once)."""

    name: str
    rows: Rows
    encoding: str | None = None  # text files: the encoding the file was read in


@dataclass
class Source:
    """An open 台账 file: what kind it was read as, and its sheets."""

    name: str
    kind: str  # xlsx | xls | csv | tsv
    sheets: list[SheetStream]


@contextmanager
def open_source(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> Iterator[Source]:
    """Open a 台账 for reading; the file is closed when the block ends."""
    path = Path(path)
    if not path.exists():
        raise InvalidCommand(f"找不到文件：{path}")
    if not path.is_file():
        raise InvalidCommand(f"{path} 不是文件")
    size = path.stat().st_size
    if size > limits.file_bytes:
        raise FileTooLarge(f"{path.name} 有 {megabytes(size)}，超过 {megabytes(limits.file_bytes)} 的上限；"
                           "请按专项或年度拆分成几个文件分别导入")
    with path.open("rb") as probe:
        head = probe.read(8)
    if head.startswith(ZIP):
        with _xlsx(path, limits) as source:
            yield source
    elif head.startswith(OLE2):
        yield _xls(path, limits)
    elif path.suffix.lower() in (".xlsx", ".xlsm") and head:
        raise InvalidCommand(f"{path.name}：无法读取 xlsx 文件（不是 xlsx 格式，可能已损坏或只是改了扩展名）")
    elif _looks_like_html(path):
        raise InvalidCommand(f"{path.name} 是网页（HTML）格式而不是表格文件；请在 Excel/WPS 中打开后另存为 .xlsx 再导入")
    else:
        with _text(path, limits) as source:
            yield source


def read_raw(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """Every sheet's rows, in memory (for small files and tests): ``[(name, [values, …]), …]``."""
    with open_source(path, limits) as source:
        return [(s.name, [values for _, values in s.rows]) for s in source.sheets]


def _looks_like_html(path: Path) -> bool:
    with path.open("rb") as f:
        start = f.read(512).lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return start.startswith((b"<html", b"<!doctype html", b"<table", b"<?xml"))


# -- xlsx ------------------------------------------------------------------------------------------


class _Oversized:
    """A shared string over the limit, kept as its length: the cell that uses it is refused."""

    def __init__(self, length: int) -> None:
        self.length = length


def _bounded_strings(source: Any, limits: Limits) -> list[Any]:
    """openpyxl's shared-string table, with a bound on each string and on them all."""
    from openpyxl.cell.text import Text
    from openpyxl.xml.constants import SHEET_MAIN_NS
    from openpyxl.xml.functions import iterparse

    tag = f"{{{SHEET_MAIN_NS}}}si"
    strings: list[Any] = []
    total = 0
    for _, node in iterparse(source):
        if node.tag != tag:
            continue
        text = Text.from_tree(node).content.replace("x005F_", "")
        node.clear()
        total += len(text)
        if total > limits.shared_strings_chars:
            raise FileTooLarge(f"文件中的文字共超过 {limits.shared_strings_chars:,} 字，超出上限；请拆分后再导入")
        strings.append(_Oversized(len(text)) if len(text) > limits.shared_string_chars else text)
    return strings


@contextmanager
def _xlsx(path: Path, limits: Limits) -> Iterator[Source]:
    from openpyxl.reader.excel import ExcelReader

    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise InvalidCommand(f"{path.name}：无法读取 xlsx 文件（{type(error).__name__}: {error}）") from None
    if unpacked > limits.unpacked_bytes:
        raise FileTooLarge(f"{path.name} 解压后有 {megabytes(unpacked)}，超过 {megabytes(limits.unpacked_bytes)} 的上限"
                           "（文件可能已损坏，或含有大量图片、格式）；请只保留台账表格后再导入")

    class Reader(ExcelReader):
        def read_strings(self) -> None:
            from openpyxl.xml.constants import SHARED_STRINGS

            ct = self.package.find(SHARED_STRINGS)
            if ct is not None:
                with self.archive.open(ct.PartName[1:]) as src:
                    self.shared_strings = _bounded_strings(src, limits)

    reader = Reader(str(path), read_only=True, keep_vba=False, data_only=True, keep_links=False)
    try:
        reader.read()
    except FileTooLarge:
        reader.archive.close()
        raise
    except Exception as error:  # not a workbook, damaged XML …
        reader.archive.close()
        raise InvalidCommand(f"{path.name}：无法读取 xlsx 文件（{type(error).__name__}: {str(error)[:200]}）") from None
    workbook = reader.wb
    try:
        sheets = []
        for ws in workbook.worksheets:
            if ws.max_column is not None and ws.max_column > limits.columns:
                from openpyxl.utils import get_column_letter

                dimension = f"{get_column_letter(ws.min_column)}{ws.min_row}:{get_column_letter(ws.max_column)}{ws.max_row}"
                raise FileTooLarge(
                    f"工作表范围为 {dimension}（{ws.max_column} 列），超过 {limits.columns} 列的上限；请删除表格右侧"
                    "多余的列（选中后右键“删除”）再保存", sheet=ws.title, column=ws.max_column)
            sheets.append(SheetStream(ws.title, _xlsx_rows(ws, limits)))
        yield Source(path.name, "xlsx", sheets)
    finally:
        workbook.close()


def _xlsx_rows(ws: Any, limits: Limits) -> Rows:
    from openpyxl.worksheet._reader import WorkSheetParser

    with ws._get_source() as src:
        parser = WorkSheetParser(src, ws._shared_strings, data_only=True, epoch=ws.parent.epoch,
                                 date_formats=ws.parent._date_formats,
                                 timedelta_formats=ws.parent._timedelta_formats)
        try:
            for number, cells in parser.parse():
                values: dict[int, Any] = {}
                for cell in cells:
                    value = cell["value"]
                    if value is None or value == "":
                        continue
                    column = cell["column"]
                    _check(value, ws.title, number, column, limits)
                    values[column] = value
                if values:
                    width = max(values)
                    yield number, tuple(values.get(c) for c in range(1, width + 1))
        except FileTooLarge:
            raise
        except (ValueError, KeyError, IndexError, SyntaxError) as error:
            raise InvalidCommand(f"工作表“{ws.title[:30]}”无法读取（{type(error).__name__}: {str(error)[:200]}）") from None


def _check(value: Any, sheet: str, row: int, column: int, limits: Limits) -> None:
    if column > limits.columns:
        raise FileTooLarge(f"超过 {limits.columns} 列的上限（表格右侧很远处有内容）；请删除多余的列后再导入",
                           sheet=sheet, row=row, column=column)
    if isinstance(value, _Oversized):
        raise FileTooLarge(f"单元格有 {value.length:,} 字，超过共享字符串 {limits.shared_string_chars:,} 字的上限",
                           sheet=sheet, row=row, column=column)
    if isinstance(value, str) and len(value) > limits.cell_chars:
        raise FileTooLarge(f"单元格有 {len(value):,} 字，超过 {limits.cell_chars:,} 字的上限", sheet=sheet, row=row,
                           column=column)


# -- xls -------------------------------------------------------------------------------------------


def _xls(path: Path, limits: Limits) -> Source:
    import xlrd

    try:
        book = xlrd.open_workbook(str(path), on_demand=True, formatting_info=False)
    except Exception as error:  # xlrd raises its own errors, AssertionError … on damaged files
        raise InvalidCommand(f"{path.name}：无法读取 xls 文件（{type(error).__name__}: {str(error)[:200]}）") from None
    sheets = []
    for index in range(book.nsheets):
        try:
            sheet = book.sheet_by_index(index)
        except Exception as error:
            raise InvalidCommand(f"{path.name}：无法读取第 {index + 1} 个工作表（{type(error).__name__}: {error}）") from None
        if sheet.ncols > limits.columns:
            raise FileTooLarge(f"有 {sheet.ncols} 列，超过 {limits.columns} 列的上限；请删除多余的列后再导入",
                               sheet=sheet.name, column=sheet.ncols)
        sheets.append(SheetStream(sheet.name, _xls_rows(book, sheet, limits)))
    return Source(path.name, "xls", sheets)


def _xls_rows(book: Any, sheet: Any, limits: Limits) -> Rows:
    import xlrd

    for r in range(sheet.nrows):
        values: list[Any] = []
        for c, (kind, value) in enumerate(zip(sheet.row_types(r), sheet.row_values(r), strict=True), 1):
            if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK) or value == "":
                value = None
            elif kind == xlrd.XL_CELL_DATE:
                try:
                    value = xlrd.xldate.xldate_as_datetime(value, book.datemode)
                except (ValueError, OverflowError, xlrd.xldate.XLDateError):
                    pass  # the serial number itself: the importer says why it is not a date
            elif kind == xlrd.XL_CELL_BOOLEAN:
                value = bool(value)
            elif kind == xlrd.XL_CELL_ERROR:
                value = xlrd.error_text_from_code.get(value, "#错误")
            if value is not None:
                _check(value, sheet.name, r + 1, c, limits)
            values.append(value)
        while values and values[-1] is None:
            values.pop()
        if values:
            yield r + 1, tuple(values)


# -- text ------------------------------------------------------------------------------------------

BOMS = ((codecs.BOM_UTF8, "utf-8-sig", "UTF-8（带 BOM）"), (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
        (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"))
#: charset-normalizer's names → the codec read with (GB18030 reads GBK and GB2312 too).
CODECS = {"gb2312": "gb18030", "gbk": "gb18030", "gb18030": "gb18030", "hz": "gb18030", "utf_8": "utf-8",
          "ascii": "utf-8", "utf_16_le": "utf-16-le", "utf_16_be": "utf-16-be", "big5": "big5hkscs",
          "big5hkscs": "big5hkscs", "cp950": "big5hkscs"}
NAMES = {"utf-8": "UTF-8", "gb18030": "GBK/GB18030", "utf-16-le": "UTF-16（无 BOM）", "utf-16-be": "UTF-16（无 BOM）",
         "big5hkscs": "Big5（繁体）"}


def detect_encoding(sample: bytes) -> tuple[str, str]:
    """(codec, what to call it) of a text file, from its first bytes."""
    for bom, codec, name in BOMS:
        if sample.startswith(bom):
            return codec, name
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8", NAMES["utf-8"]
    except UnicodeDecodeError:
        pass
    import charset_normalizer

    best = charset_normalizer.from_bytes(sample).best()
    if best is None:
        raise InvalidCommand("无法识别文件编码，请在 Excel/WPS 中另存为 .xlsx，或另存为 UTF-8 或 GBK 编码的 csv")
    codec = CODECS.get(best.encoding, best.encoding)
    return codec, NAMES.get(codec, best.encoding.upper())


def _separator(text: str, suffix: str) -> str:
    lines = [line for line in text.splitlines()[:30] if line.strip()]
    tabs = sum(line.count("\t") for line in lines)
    commas = sum(line.count(",") for line in lines)
    if tabs > commas or (suffix in (".tsv", ".tab") and tabs):
        return "\t"
    return ","


@contextmanager
def _text(path: Path, limits: Limits) -> Iterator[Source]:
    with path.open("rb") as raw:
        sample = raw.read(SAMPLE_BYTES)
        codec, name = detect_encoding(sample)
        head = sample[:64 * 1024]
        try:
            shown = codecs.getincrementaldecoder(codec)(errors="replace").decode(head, final=False)
        except LookupError:
            raise InvalidCommand(f"{path.name}：不支持的文件编码 {name}") from None
        separator = _separator(shown, path.suffix.lower())
        raw.seek(0)
        stream = io.TextIOWrapper(raw, encoding=codec, errors="strict", newline="")
        kind = "tsv" if separator == "\t" else "csv"
        sheet = SheetStream(path.stem, _text_rows(stream, separator, path.stem, name, limits), name)
        try:
            yield Source(path.name, kind, [sheet])
        finally:
            stream.detach()


def _text_rows(stream: Any, separator: str, sheet: str, encoding: str, limits: Limits) -> Rows:
    reader = csv.reader(stream, delimiter=separator)
    number = 0
    while True:
        try:
            values = next(reader)
            if len(values) > MAX_TEXT_FIELDS:
                raise FileTooLarge(f"有 {len(values):,} 列，超过 {limits.columns} 列的上限", sheet=sheet, row=number + 1)
        except StopIteration:
            return
        except UnicodeDecodeError:
            raise InvalidCommand(f"工作表“{sheet[:30]}”第 {number + 1} 行附近的文字不是 {encoding} 编码（文件中混有"
                                 "其他编码或已损坏）；请在 Excel/WPS 中另存为 .xlsx 后再导入") from None
        except csv.Error as error:
            if "field larger" in str(error):
                raise FileTooLarge(f"单元格超过 {limits.cell_chars:,} 字的上限（或引号不成对）", sheet=sheet,
                                   row=number + 1) from None
            raise InvalidCommand(f"工作表“{sheet[:30]}”第 {number + 1} 行无法读取：{error}") from None
        number += 1
        cleaned = []
        for column, value in enumerate(values, 1):
            text = value.strip()
            if text:
                _check(text, sheet, number, column, limits)
            cleaned.append(text or None)
        while cleaned and cleaned[-1] is None:
            cleaned.pop()
        if cleaned:
            yield number, tuple(cleaned)
