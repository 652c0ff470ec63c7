"""``qingdan remind``: the 到期提醒 a 安委办 sends out — for each responsible department, what is overdue
and what falls due within N days (open hazards' 整改期限, unfinished 重点任务, planned 制度措施) — on
screen, in a file, or handed to the plugins to send (``--send``, the ``qingdan_reminders`` hook)."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from qingdan.cli.common import AsOf, KnownAt, Output, open_ledger, settings
from qingdan.cli.output import OutputFormat, columns, emit, message
from qingdan.core.labels import DUE_KIND_LABELS, days_label
from qingdan.core.text import terminal_safe
from qingdan.io.atomic import atomic_write, check_output_path
from qingdan.io.writer import Sheet, chinese_date

if TYPE_CHECKING:
    from qingdan.core.rows import DueItem, ReminderNotice


class RemindFormat(StrEnum):
    table = "table"
    xlsx = "xlsx"
    md = "md"
    json = "json"


ITEM_COLUMNS = columns("state:状态:8", "kind:类别:10", "number:编号:22", "title:事项:44",
                       "department:责任单位:18", "due:期限:12", "left:剩余:18")
BRIEF = ("state", "kind", "number", "title", "due", "left")


def _departments(item: DueItem) -> list[str]:
    return (item.department or "").split("、")


def _cells(item: DueItem) -> list[object]:
    kind = DUE_KIND_LABELS[item.kind] + ("·重大" if item.level == "重大" else "")
    return ["已逾期" if item.days_left < 0 else "即将到期", kind, item.number, item.title,
            item.department, item.due, days_label(item.days_left, item.working_days_left)]


def _summary(notice: ReminderNotice) -> str:
    return f"已逾期 {len(notice.overdue_items)} 项，即将到期 {len(notice.due_items)} 项"


def _markdown(notices: list[ReminderNotice], title: str) -> str:
    """The notices as one markdown document: a section per department, its text as written."""
    parts = [f"# {title}\n"]
    for notice in notices:
        body = notice.text.rstrip("\n").split("\n")[1:]  # the title is the section's heading
        while body and not body[0]:
            body.pop(0)
        lines = []
        for line in body:
            if re.match(r"^[一二]、", line):
                lines += [f"### {line}", ""]
            elif not line or re.match(r"^\d+\. ", line):
                lines.append(line)
            else:
                lines.append(line + "  ")  # a hard line break: the greeting, the sender, the date
        parts.append(f"## {notice.department}（{_summary(notice)}）\n\n" + "\n".join(lines) + "\n")
    if not notices:
        parts.append("（无到期或逾期事项）\n")
    return "\n".join(parts)


def remind(
    ctx: typer.Context,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    within: Annotated[int, typer.Option(
        "--within", min=0, max=3660, help="提前几天提醒（日历日），默认 7 — days ahead to include")] = 7,
    department: Annotated[str | None, typer.Option(
        "--department", help="只看一个责任单位 — only this responsible department")] = None,
    fmt: Annotated[RemindFormat, typer.Option(
        "--format", "-f", case_sensitive=False,
        help="输出格式 — output format: table (表格) | xlsx | md (通知正文) | json")] = RemindFormat.table,
    output: Output = None,
    send: Annotated[bool, typer.Option(
        "--send", help="交给插件发送（短信、企业微信、邮件等，见 qingdan_reminders 钩子；默认不发送）"
                       " — hand the notices to the plugins that send them")] = False,
) -> None:
    """到期提醒：按责任单位列出已逾期和即将到期的事项 — what is overdue and what falls due soon, per department."""
    if output is not None:
        check_output_path(output)
    township = settings(ctx).township
    with open_ledger(ctx) as ledger:
        day = as_of or ledger.today()
        items = ledger.due_soon(within_days=within, as_of=day, known_at=known_at)
        if department is not None:
            items = [i for i in items if department in _departments(i)]
        from qingdan.core.reading import reminder_notices

        notices = reminder_notices(items, as_of=day, within_days=within, sender=f"{township}安委会办公室")
        sent, problems = ledger.catalogue.send_reminders(notices) if send else ([], [])
    title = f"{township}到期事项提醒（截至{chinese_date(day)}，{within}日内到期及已逾期）"
    overdue = sum(len(n.overdue_items) for n in notices)
    message(f"截至 {day}：{len(notices)} 个责任单位，已逾期 {overdue} 项，{within} 日内到期 "
            f"{len(items) - overdue} 项")
    _emit(fmt, output, notices, title)
    if send:
        for plugin, line in sent:
            message(f"{plugin}：{line}")
        for problem in problems:
            message(f"错误：{problem}")
        if not sent and not problems:
            message("没有插件发送提醒（未安装或未配置发送插件；内置插件在设置 QINGDAN_REMINDER_DIR 时写入该文件夹）")
        if problems:
            raise typer.Exit(1)


def _emit(fmt: RemindFormat, output: Path | None, notices: list[ReminderNotice], title: str) -> None:
    data = [n.model_dump(mode="json") for n in notices]
    if fmt is RemindFormat.md:
        text = _markdown(notices, title)
        if output is None:
            typer.echo(terminal_safe(text), nl=False)
        else:
            with atomic_write(output, "w", encoding="utf-8") as stream:
                stream.write(text)
            message(f"已写入 {output}")
        return
    if fmt is RemindFormat.xlsx:
        rows = [_cells(i) for n in notices for i in (*n.overdue_items, *n.due_items)]
        emit(OutputFormat.xlsx, output, [Sheet("到期提醒", title, ITEM_COLUMNS, rows)], data)
        return
    sheets = [Sheet(n.department[:31], f"致 {n.department}（{_summary(n)}）", ITEM_COLUMNS,
                    [_cells(i) for i in (*n.overdue_items, *n.due_items)]) for n in notices]
    if not sheets:
        sheets = [Sheet("到期提醒", title, ITEM_COLUMNS, [])]
    emit(OutputFormat(fmt.value), output, sheets, data,
         brief={s.name: BRIEF for s in sheets})


def register(app: typer.Typer) -> None:
    app.command("remind")(remind)
