"""Row models as sheets: Chinese headers for people, the rows' own field names in JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qingdan.cli.output import OutputFormat, columns, emit, records_sheet
from qingdan.core.labels import (
    COMMAND_FIELD_LABELS,
    EXTRA_FIELD_LABELS,
    FIVE_PART_LABELS,
    HAZARD_FIELD_LABELS,
    HAZARD_STATUS_LABELS,
    MEASURE_FIELD_LABELS,
    MEASURE_STATUS_LABELS,
    TASK_STATUS_LABELS,
    TOWNSHIP_FIELD_LABELS,
    UNIT_FIELD_LABELS,
    attachments_label,
    deadline_rule_label,
    event_label,
)

if TYPE_CHECKING:
    from qingdan.core.rows import HistoryEntry
    from qingdan.io.writer import Sheet

FIELD_LABELS = HAZARD_FIELD_LABELS | MEASURE_FIELD_LABELS | UNIT_FIELD_LABELS | {
    "closed_on": "销号/注销日期",
}

#: An event's data keys, as the history shows them (the fields' own labels first).
DATA_LABELS = EXTRA_FIELD_LABELS | COMMAND_FIELD_LABELS | FIELD_LABELS | {
    "closed_on": "销号日期", "inspectors": "检查人员", "deadline_rule": "期限计算", "level": "等级",
    "passed": "验收结论", "approved": "审批结果", "attributes": "属性", "reopened": "反销号",
}
#: What a status word is, whichever record it belongs to.
STATUS_LABELS = HAZARD_STATUS_LABELS | MEASURE_STATUS_LABELS | TASK_STATUS_LABELS


def plain(value: Any) -> str:
    """A value as a clerk reads it: 是/否, dates ISO, lists with 、, attributes ``名称：值``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple | set | frozenset):
        return "、".join(plain(v) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{k}：{plain(v)}" for k, v in value.items())
    return str(value)

HAZARD_BRIEF = ("index", "number", "unit", "village", "description", "level", "status", "deadline",
                "overdue", "missing_parts")
MEASURE_BRIEF = ("index", "number", "title", "kind", "department", "due", "status", "doc_no")


def label_value(key: str, value: Any, campaigns: Mapping[str, str] | None = None) -> Any:
    """A field's value in words: statuses, 五到位 parts, campaign names, 是/否, attributes."""
    if key == "status":
        return STATUS_LABELS.get(value, value)
    if key == "missing_parts":
        return "、".join(FIVE_PART_LABELS.get(p, p) for p in value)
    if key == "attachments":
        return attachments_label(value)
    if key == "campaign" and campaigns and value in campaigns:
        return campaigns[value]
    if key == "deadline_rule" and isinstance(value, dict):
        return deadline_rule_label(value, _date(value.get("deadline"))) or plain(value)
    if isinstance(value, bool | dict):
        return plain(value)
    return value


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def record_sheet(title: str, row: Any, campaigns: Mapping[str, str] | None = None) -> Sheet:
    """One record as a two-column sheet (字段, 值)."""
    data = row.model_dump()
    records = [{"field": FIELD_LABELS.get(k, k), "value": label_value(k, v, campaigns)}
               for k, v in data.items()]
    return records_sheet("record", title, columns("field:字段:16", "value:值:60"), records)


#: Where one event's key means something narrower than the field of the same name.
EVENT_DATA_LABELS = {
    "Escalated": {"level": "督办级别", "doc_no": "督办文号"},
    "Reported": {"level": "隐患等级"},
    "Corrected": {"value": "更正为"},
}


def event_text(data: Mapping[str, Any], campaigns: Mapping[str, str] | None = None,
               kind: str = "") -> str:
    """An event's data, one ``字段：值`` per line (empty values left out), in the clerk's words."""
    labels = DATA_LABELS | EVENT_DATA_LABELS.get(kind.rsplit(".", 1)[-1], {})
    lines = []
    for key, value in data.items():
        if value in (None, [], (), "", {}) or key == "number":
            continue
        if key == "profile" and isinstance(value, dict):  # 乡镇信息: one line per field set
            lines += [f"{TOWNSHIP_FIELD_LABELS.get(k, k)}：{plain(v)}" for k, v in value.items()
                      if v not in (None, [], (), "")]
            continue
        if key == "deadline_rule" and isinstance(value, dict) and "working_days" in value:
            shown: Any = deadline_rule_label(value, _date(data.get("deadline"))) or plain(value)
        elif key == "field" and isinstance(value, str):
            shown = DATA_LABELS.get(value, value)
        else:
            shown = label_value(key, value, campaigns)
        lines.append(f"{labels.get(key, key)}：{plain(shown)}")
    return "\n".join(lines)


HISTORY_COLUMNS = columns("version:#:4", "type:事件:20", "on:业务日期", "recorded_at:登记时间:16",
                          "actor:操作人", "data:内容:60", "note:备注:20")


def history_sheet(number: str, entries: Sequence[HistoryEntry],
                  campaigns: Mapping[str, str] | None = None) -> Sheet:
    records = []
    for e in entries:
        records.append({"version": e.version, "type": event_label(e.type), "on": e.on,
                        "recorded_at": e.recorded_at.strftime("%Y-%m-%d %H:%M"), "actor": e.actor,
                        "data": event_text(e.data, campaigns, e.type), "note": e.note})
    return records_sheet("history", f"{number} 的全部记录（业务日期 / 登记时间 / 操作人）", HISTORY_COLUMNS, records)


def names(ledger: Any) -> Mapping[str, str]:
    """Each campaign id's name (without loading the plugins when their names are cached)."""
    return ledger.campaign_names()


def campaign_names(ledger: Any, fmt: OutputFormat) -> Mapping[str, str] | None:
    """The campaigns' names for people; JSON keeps the ids, so nothing is looked up for it."""
    return None if fmt is OutputFormat.json else names(ledger)


def emit_record(fmt: OutputFormat, output: Path | None, title: str, row: Any,
                campaigns: Mapping[str, str] | None = None) -> None:
    """Write one record (a hazard, measure or unit row) in the chosen format (JSON: the codes)."""
    emit(fmt, output, [record_sheet(title, row, campaigns)], row.model_dump(mode="json"))


def emit_history(fmt: OutputFormat, output: Path | None, number: str,
                 entries: Sequence[HistoryEntry], campaigns: Mapping[str, str] | None = None) -> None:
    """Write a record's every event in the chosen format (JSON: the event types and field names)."""
    emit(fmt, output, [history_sheet(number, entries, campaigns)],
         [e.model_dump(mode="json") for e in entries])
