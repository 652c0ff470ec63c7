"""Row models as sheets: Chinese headers for people, the rows' own field names in JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from qingdan.cli.output import OutputFormat, columns, emit, records_sheet
from qingdan.core.labels import HAZARD_FIELD_LABELS, MEASURE_FIELD_LABELS, UNIT_FIELD_LABELS
from qingdan.core.rows import (
    FIVE_PART_LABELS,
    HAZARD_STATUS_LABELS,
    MEASURE_STATUS_LABELS,
    TASK_STATUS_LABELS,
    HistoryEntry,
)
from qingdan.io.writer import Sheet

FIELD_LABELS = HAZARD_FIELD_LABELS | MEASURE_FIELD_LABELS | UNIT_FIELD_LABELS | {
    "closed_on": "销号/注销日期",
}

HAZARD_BRIEF = ("index", "number", "unit", "village", "description", "level", "status", "deadline",
                "overdue", "missing_parts")
MEASURE_BRIEF = ("index", "number", "title", "kind", "department", "due", "status", "doc_no")


def label_value(key: str, value: Any) -> Any:
    if key == "status":
        return (HAZARD_STATUS_LABELS | MEASURE_STATUS_LABELS | TASK_STATUS_LABELS).get(value, value)
    if key == "missing_parts":
        return "、".join(FIVE_PART_LABELS.get(p, p) for p in value)
    return value


def record_sheet(title: str, row: Any) -> Sheet:
    """One record as a two-column sheet (字段, 值)."""
    data = row.model_dump()
    records = [{"field": FIELD_LABELS.get(k, k), "value": label_value(k, v)} for k, v in data.items()]
    return records_sheet("record", title, columns("field:字段:16", "value:值:60"), records)


HISTORY_COLUMNS = columns("version:#:4", "type:事件:20", "on:业务日期", "recorded_at:登记时间:16",
                          "actor:操作人", "data:内容:60", "note:备注:20")


def history_sheet(number: str, entries: Sequence[HistoryEntry]) -> Sheet:
    records = []
    for e in entries:
        data = {k: v for k, v in e.data.items() if v not in (None, [], (), "", {})}
        records.append({"version": e.version, "type": e.type, "on": e.on,
                        "recorded_at": e.recorded_at.strftime("%Y-%m-%d %H:%M"), "actor": e.actor,
                        "data": data, "note": e.note})
    return records_sheet("history", f"{number} 的全部记录（业务日期 / 登记时间 / 操作人）", HISTORY_COLUMNS, records)


def names(catalogue: Any) -> Mapping[str, str]:
    return {cid: c.name for cid, c in catalogue.campaigns.items()}


def emit_record(fmt: OutputFormat, output: Path | None, title: str, row: Any) -> None:
    """Write one record (a hazard, measure or unit row) in the chosen format."""
    emit(fmt, output, [record_sheet(title, row)], row.model_dump(mode="json"))


def emit_history(fmt: OutputFormat, output: Path | None, number: str,
                 entries: Sequence[HistoryEntry]) -> None:
    """Write a record's every event in the chosen format."""
    emit(fmt, output, [history_sheet(number, entries)], [e.model_dump(mode="json") for e in entries])
