"""What an attached file is, judged from its bytes and never from its name.

A file a clerk attaches (a photo from a phone, a scanned 整改通知书, a Word document) may be anything:
so its type is sniffed from its content (JPEG, PNG, GIF, WebP images; PDF; Word and Excel documents,
old and new, without macros), an image's pixel count is read from its header before anything is
decoded (a small file that would decode into gigabytes is refused), the size is limited, the name is
cut down to a plain file name, and a photo's EXIF time and GPS position are read when present.

Limits: ``QINGDAN_ATTACHMENT_MAX_MB`` (default 20) and ``QINGDAN_ATTACHMENT_MAX_PIXELS`` (default
40 000 000, about an 8000×5000 photo), or :class:`Limits` given to the ledger.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import unicodedata
import warnings
import zipfile
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from .errors import InvalidCommand
from .errors import show as _show
from .labels import MEDIA_TYPE_LABELS, size_label

MAX_MB_ENV = "QINGDAN_ATTACHMENT_MAX_MB"
MAX_PIXELS_ENV = "QINGDAN_ATTACHMENT_MAX_PIXELS"
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_PIXELS = 40_000_000
MAX_NAME = 120

IMAGES = ("image/jpeg", "image/png", "image/gif", "image/webp")
EXTENSIONS = {
    "image/jpeg": (".jpg", ".jpeg"), "image/png": (".png",), "image/gif": (".gif",),
    "image/webp": (".webp",), "application/pdf": (".pdf",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (".xlsx",),
    "application/msword": (".doc",), "application/vnd.ms-excel": (".xls",),
}
ALLOWED = "JPEG、PNG、GIF、WebP 图片，PDF，Word（doc、docx）或 Excel（xls、xlsx）文档"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: beginnings of programs and scripts, named in the refusal so the clerk knows why
_PROGRAMS = ((b"MZ", "Windows 可执行程序"), (b"\x7fELF", "Linux 可执行程序"), (b"#!", "脚本"),
             (b"\xcf\xfa\xed\xfe", "macOS 可执行程序"), (b"\xca\xfe\xba\xbe", "可执行程序"),
             (b"<script", "网页脚本"), (b"<?php", "PHP 脚本"), (b"<!doctype html", "网页"),
             (b"<html", "网页"), (b"<svg", "SVG 图形（可含脚本）"), (b"<?xml", "XML 文件"))


@dataclass(frozen=True)
class Limits:
    max_bytes: int = DEFAULT_MAX_BYTES
    max_pixels: int = DEFAULT_MAX_PIXELS

    @classmethod
    def from_env(cls) -> Limits:
        def number(name: str, default: float) -> float:
            text = os.environ.get(name)
            try:
                return float(text) if text else default
            except ValueError:
                raise InvalidCommand(f"环境变量 {name} 应为数字，现为 {_show(text)}") from None

        return cls(max_bytes=int(number(MAX_MB_ENV, DEFAULT_MAX_BYTES / 1024 / 1024) * 1024 * 1024),
                   max_pixels=int(number(MAX_PIXELS_ENV, DEFAULT_MAX_PIXELS)))


@dataclass(frozen=True)
class Inspected:
    """An acceptable file: what the ``Attached`` event records about it."""

    sha256: str
    size: int
    media_type: str
    name: str
    taken_at: str | None = None  # EXIF DateTimeOriginal, ISO, the camera's local time
    gps: list[float] | None = None  # [latitude, longitude], degrees
    width: int | None = None
    height: int | None = None

    def fields(self) -> dict[str, Any]:
        return asdict(self)


def check_size(size: int, name: str, limits: Limits) -> None:
    if size > limits.max_bytes:
        raise InvalidCommand(f"附件“{name}”大小为 {size_label(size)}，超过上限 {size_label(limits.max_bytes)}"
                             f"（可用环境变量 {MAX_MB_ENV} 调整，单位 MB）")
    if size == 0:
        raise InvalidCommand(f"附件“{name}”是空文件")


def inspect(data: bytes, name: str | None, limits: Limits) -> Inspected:
    """The file checked and described, or :class:`InvalidCommand` saying why it is refused."""
    shown = clean_name(name or "", None) or "附件"
    check_size(len(data), shown, limits)
    media_type = sniff(data)
    if media_type is None:
        raise InvalidCommand(f"附件“{shown}”的内容{_what_else(data)}，不能作为附件。只能附 {ALLOWED}")
    described: dict[str, Any] = {}
    if media_type in IMAGES:
        described = _image(data, shown, limits)
    return Inspected(sha256=hashlib.sha256(data).hexdigest(), size=len(data), media_type=media_type,
                     name=clean_name(name or "", media_type), **described)


def sniff(data: bytes) -> str | None:
    """The media type of the content, if it is one that may be attached (None otherwise)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(_OLE):
        return _old_office(data)
    if data.startswith(b"PK\x03\x04"):
        return _new_office(data)
    return None


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-le")


def _old_office(data: bytes) -> str | None:
    """A Word 97–2003 or Excel 97–2003 file (an OLE container); one with macros is refused."""
    if _utf16("_VBA_PROJECT") in data or _utf16("Macros") in data:
        return None
    if _utf16("WordDocument") in data:
        return "application/msword"
    if _utf16("Workbook") in data or _utf16("Book") in data:
        return "application/vnd.ms-excel"
    return None


def _new_office(data: bytes) -> str | None:
    """A .docx or .xlsx (a zip holding the document's parts); macro-enabled ones are refused."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if "[Content_Types].xml" not in names or any(n.lower().endswith("vbaproject.bin") for n in names):
        return None
    if "word/document.xml" in names:
        return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    if "xl/workbook.xml" in names:
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return None


def _what_else(data: bytes) -> str:
    head = data[:64].lstrip().lower()
    for magic, what in _PROGRAMS:
        if head.startswith(magic.lower()):
            return f"是{what}"
    if data.startswith(_OLE) or data.startswith(b"PK\x03\x04"):
        return "是压缩包、含宏的 Office 文档或无法识别的 Office 文件"
    return "无法识别为允许的文件类型"


def _image(data: bytes, name: str, limits: Limits) -> dict[str, Any]:
    """Dimensions (from the header: nothing is decoded), EXIF time and GPS; a bomb is refused."""
    from PIL import Image, UnidentifiedImageError

    try:
        with _opened(data) as image:
            width, height = image.size
            image.verify()  # chunks and checksums, without decoding the pixels
        with _opened(data) as image:
            frames = getattr(image, "n_frames", 1)
            exif = image.getexif()
            if image.format == "JPEG" and width * height <= limits.max_pixels:
                image.draft("RGB", (max(width // 8, 1), max(height // 8, 1)))
                image.load()  # the whole stream, decoded at 1/8 scale: a truncated photo is refused
    except (Image.DecompressionBombError, UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError,
            struct.error) as error:
        if isinstance(error, Image.DecompressionBombError):
            raise InvalidCommand(f"图片“{name}”像素过多，超过上限 {limits.max_pixels:,} 像素") from None
        raise InvalidCommand(f"图片“{name}”已损坏或无法读取（{type(error).__name__}）") from None
    if width * height * max(frames, 1) > limits.max_pixels:
        raise InvalidCommand(
            f"图片“{name}”为 {width}×{height} 像素{f'、{frames} 帧' if frames > 1 else ''}，"
            f"超过上限 {limits.max_pixels:,} 像素（可用环境变量 {MAX_PIXELS_ENV} 调整）")
    return {"width": width, "height": height, **_exif(exif)}


def _opened(data: bytes) -> Any:
    """The image, its header read (Pillow refuses a decompression bomb's header itself)."""
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limit is lower
        return Image.open(io.BytesIO(data))


def _exif(exif: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    try:
        sub = exif.get_ifd(0x8769)  # the Exif IFD
        stamp = sub.get(0x9003) or exif.get(0x0132)  # DateTimeOriginal, else DateTime
        if isinstance(stamp, bytes):
            stamp = stamp.decode("ascii", "replace")
        if isinstance(stamp, str):
            found["taken_at"] = datetime.strptime(stamp.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S").isoformat()
    except (ValueError, TypeError, KeyError, AttributeError):
        pass
    try:
        gps = exif.get_ifd(0x8825)
        if 2 in gps and 4 in gps:
            lat, lon = _degrees(gps[2]), _degrees(gps[4])
            if str(gps.get(1, "N")).upper().startswith("S"):
                lat = -lat
            if str(gps.get(3, "E")).upper().startswith("W"):
                lon = -lon
            if -90 <= lat <= 90 and -180 <= lon <= 180:
                found["gps"] = [round(lat, 6), round(lon, 6)]
    except (ValueError, TypeError, KeyError, AttributeError, ZeroDivisionError):
        pass
    return found


def _degrees(value: Any) -> float:
    d, m, s = (float(v) for v in value)
    return d + m / 60 + s / 3600


def clean_name(name: str, media_type: str | None) -> str:
    """A plain file name: no folders, no control, format or separator characters, nothing Windows
    refuses, at most 120 characters; its extension made to fit the content (``报告.exe`` holding a
    JPEG becomes ``报告.exe.jpg``). Empty when nothing is left and the type is unknown."""
    name = unicodedata.normalize("NFC", str(name))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join("_" if ch in '<>:"|?*' else ch for ch in name
                   if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))
    name = " ".join(name.split()).strip(" .")
    if media_type is None:
        return name[:MAX_NAME]
    extensions = EXTENSIONS[media_type]
    stem, dot, ext = name.rpartition(".")
    if not (dot and "." + ext.lower() in extensions):
        stem, ext = name, extensions[0][1:]
    stem = stem[:MAX_NAME - len(ext) - 1] or "附件"
    return f"{stem}.{ext}"


def thumbnail(data: bytes, size: int = 240) -> bytes:
    """A small JPEG of an image attachment (already checked by :func:`inspect`), turned upright."""
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as image:
        if image.format == "JPEG":
            image.draft("RGB", (size * 2, size * 2))  # decode at a fraction of the size: far faster
        image = ImageOps.exif_transpose(image)
        image.thumbnail((size, size))
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=80)
        return out.getvalue()


def media_label(media_type: str) -> str:
    return MEDIA_TYPE_LABELS.get(media_type, media_type)
