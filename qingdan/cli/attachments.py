"""附件 on the command line: ``hazard attach`` / ``measure attach``, ``hazard attachments`` /
``measure attachments``, and ``attachment get SHA -o FILE``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from qingdan.cli.common import AsOf, Format, KnownAt, Note, Number, On, Output, done, open_ledger
from qingdan.cli.output import OutputFormat, columns, emit, message, records_sheet
from qingdan.core.labels import ATTACHMENT_KINDS, MEDIA_TYPE_LABELS, size_label

app = typer.Typer(no_args_is_help=True)

ATTACHMENT_COLUMNS = columns("index:序号:4", "kind:类型:6", "name:文件名:24", "media_type:文件类型:12",
                             "size:大小:9", "on:业务日期", "taken_at:拍摄时间:16", "gps:拍摄位置:18",
                             "sha256:SHA-256:64", "warning:提示:30")
#: Words a clerk may type for a kind, beyond the kinds themselves.
KIND_WORDS = {"整改前照片": "整改前", "整改后照片": "整改后", "验收材料": "验收", "文件": "文书",
              "文书材料": "文书", "before": "整改前", "after": "整改后", "acceptance": "验收",
              "document": "文书", "other": "其他"}


def clerk_kind(value: Any) -> str:
    text = str(value).strip()
    if text in ATTACHMENT_KINDS:
        return text
    if text in KIND_WORDS:
        return KIND_WORDS[text]
    raise typer.BadParameter(f"附件类型应为 {'、'.join(ATTACHMENT_KINDS)} 之一，收到“{text}”")


FileArgument = Annotated[Path, typer.Argument(
    help="要附上的文件：照片（JPEG、PNG、GIF、WebP）、PDF 或 Word/Excel 文档 — the file", metavar="FILE")]
Name = Annotated[str | None, typer.Option("--name", help="文件名（默认用文件本身的名字）— name shown")]


def kind_option(default: str) -> Any:
    return Annotated[str, typer.Option(
        "--kind", "-k", parser=clerk_kind, metavar="类型",
        help=f"附件类型：{' | '.join(ATTACHMENT_KINDS)}（默认 {default}）— kind")]


def attach_file(ctx: typer.Context, number: str, file: Path, kind: str, name: str | None,
                on: Any, note: str | None) -> None:
    with open_ledger(ctx) as ledger:
        sha = ledger.attach(number, path=file, name=name, kind=kind, on=on, note=note)
        row = ledger.hazard(number) if number.startswith("H-") else ledger.measure(number)
    item = next(a for a in reversed(row.attachments) if a.sha256 == sha)
    done(sha, f"已为 {number} 添加附件“{item.name}”（{kind}，{_described(item)}）")
    if item.warning:
        message(f"注意：{item.warning}", style="yellow")


def _described(item: Any) -> str:
    parts = [MEDIA_TYPE_LABELS.get(item.media_type, item.media_type), size_label(item.size)]
    if item.width:
        parts.append(f"{item.width}×{item.height}")
    if item.taken_at:
        parts.append(f"拍摄于 {item.taken_at:%Y-%m-%d %H:%M}")
    if item.gps:
        parts.append(f"位置 {item.gps[0]:.5f}, {item.gps[1]:.5f}")
    return "，".join(parts)


def list_attachments(ctx: typer.Context, number: str, as_of: Any, known_at: Any, fmt: OutputFormat,
                     output: Path | None) -> None:
    with open_ledger(ctx) as ledger:
        row = (ledger.hazard if number.startswith("H-") else ledger.measure)(
            number, as_of=as_of, known_at=known_at)
    records = [{"index": i, "kind": a.kind, "name": a.name,
                "media_type": MEDIA_TYPE_LABELS.get(a.media_type, a.media_type), "size": size_label(a.size),
                "on": a.on, "taken_at": a.taken_at.strftime("%Y-%m-%d %H:%M") if a.taken_at else "",
                "gps": f"{a.gps[0]:.5f}, {a.gps[1]:.5f}" if a.gps else "", "sha256": a.sha256,
                "warning": a.warning or ""} for i, a in enumerate(row.attachments, 1)]
    title = f"{number} 的附件（截至 {as_of or '今天'}，共 {len(records)} 个）"
    emit(fmt, output, [records_sheet("attachments", title, ATTACHMENT_COLUMNS, records)],
         [a.model_dump(mode="json") for a in row.attachments])


HazardKind = kind_option("其他")
MeasureKind = kind_option("文书")


def hazard_attach(ctx: typer.Context, number: Number, file: FileArgument, kind: HazardKind = "其他",
                  name: Name = None, on: On = None, note: Note = None) -> None:
    """为隐患添加附件：整改前/整改后照片、验收材料、文书，存入台账数据库；打印其 SHA-256 — attach a file."""
    attach_file(ctx, number, file, kind, name, on, note)


def measure_attach(ctx: typer.Context, number: Number, file: FileArgument, kind: MeasureKind = "文书",
                   name: Name = None, on: On = None, note: Note = None) -> None:
    """为制度措施添加附件（印发的文件等），存入台账数据库；打印其 SHA-256 — attach the issued document."""
    attach_file(ctx, number, file, kind, name, on, note)


def attachments(ctx: typer.Context, number: Number, as_of: AsOf = None, known_at: KnownAt = None,
                fmt: Format = OutputFormat.table, output: Output = None) -> None:
    """列出附件（截至某日）：类型、文件名、大小、拍摄时间与位置、SHA-256 — list the attachments."""
    list_attachments(ctx, number, as_of, known_at, fmt, output)


def register_on(hazard_app: typer.Typer, measure_app: typer.Typer) -> None:
    """``attach`` and ``attachments`` on ``qingdan hazard`` and ``qingdan measure``."""
    hazard_app.command("attach")(hazard_attach)
    measure_app.command("attach")(measure_attach)
    hazard_app.command("attachments")(attachments)
    measure_app.command("attachments")(attachments)


@app.command("get")
def get(
    ctx: typer.Context,
    sha256: Annotated[str, typer.Argument(help="附件的 SHA-256（hazard attachments 中列出）", metavar="SHA")],
    output: Annotated[Path, typer.Option("--output", "-o", help="写入文件（- 为标准输出）— write to FILE")],
) -> None:
    """取出附件：按 SHA-256 把附件内容写入文件 — write an attachment's bytes to FILE."""
    from qingdan.io.atomic import atomic_write_bytes, check_output_path

    if str(output) != "-":
        check_output_path(output)
    with open_ledger(ctx) as ledger:
        data = ledger.attachment(sha256)
    if str(output) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    atomic_write_bytes(output, data)
    message(f"已写入 {output}（{size_label(len(data))}）")
