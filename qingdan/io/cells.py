"""One 台账 row read into what it says: the cells by column, checked, as the ledger's values.

:class:`Cells` reads a row's cells under the sheet's own headers and collects every problem as a
:class:`RowError` (sheet, row, column, reason); :func:`hazard_wanted` and :func:`measure_wanted`
turn a row into a :class:`Wanted` — the record's fields and how far its lifecycle has gone — that
:mod:`qingdan.io.plan` makes into ledger commands, for a new record or one already in the ledger.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from qingdan.core.errors import show as _show
from qingdan.core.text import name_key
from qingdan.core.vocabulary import (
    ESCALATION_WORDS,
    HAZARD_STATUS_WORDS,
    LEVEL_WORDS,
    MEASURE_KIND_WORDS,
    MEASURE_STATUS_WORDS,
    NO_WORDS,
    SOURCE_WORDS,
    YES_WORDS,
    choices,
    word_key,
)
from qingdan.io.dates import parse_date
from qingdan.io.layout import HAZARD_COLUMNS, HAZARD_IMPORT_ONLY, MEASURE_COLUMNS
from qingdan.io.table import Table

HAZARD_NUMBER = re.compile(r"^H-([a-z][a-z0-9_]*)-(\d{4})-(\d{4,})$")
MEASURE_NUMBER = re.compile(r"^M-([a-z][a-z0-9_]*)-(\d{4})-(\d{4,})$")
_LABELS = {c.header: c.key for c in HAZARD_COLUMNS + HAZARD_IMPORT_ONLY + MEASURE_COLUMNS}
PLAN_FIELDS = ("responsible_unit", "responsible_person", "measures", "funds", "deadline", "contingency")
#: How far a hazard has gone, in order (``open``: reported or rectifying).
STAGES = {"open": 0, "rectifying": 1, "completed": 2, "verified": 3, "closed": 4}


@dataclass(frozen=True)
class RowError:
    """One problem in the file: where it is and why."""

    sheet: str
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        where = f"工作表“{_safe(self.sheet)}”第 {self.row} 行" if self.row else f"工作表“{_safe(self.sheet)}”"
        reason = _QUOTED.sub(lambda m: f"“{_show(m.group(1))}”", self.reason)
        reason = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in reason)
        return f"{where}【{_safe(self.column)}】：{reason}" if self.column else f"{where}：{reason}"


def record_key(kind: str, campaign: str | None, fields: Any) -> tuple[Any, ...]:
    """The key under which a hazard (unit, description, 排查日期) or a measure (专项, name, 责任部门)
    is found again — from a row's fields or a ledger row (anything with ``.get`` or attributes)."""
    get = fields.get if hasattr(fields, "get") else (lambda name: getattr(fields, name, None))
    if kind == "hazards":
        return (name_key(get("unit")), name_key(get("description")), get("found_on"))
    return (campaign, name_key(get("title")), name_key(get("department")))


_QUOTED = re.compile(r"“([^”]*)”", re.DOTALL)


def _safe(text: str) -> str:
    """A sheet or column name as written in the file, shown safely (control characters, length)."""
    return _show(text, limit=30)


def cell_text(value: Any) -> str | None:
    """A cell as text: numbers without ``.0``, stripped, the export's formula apostrophe undone."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if text.startswith("'") and text[1:2] and text[1] in "=+-@":
        text = text[1:]  # undo the export's formula neutralisation
    return text or None


class Cells:
    """The cells of one row by column key, with error collection under the sheet's own headers."""

    def __init__(self, table: Table, row: int, values: tuple[Any, ...], errors: list[RowError]) -> None:
        self.table, self.row, self.errors = table, row, errors
        self.cells = {c.key: values[p] for p, c in table.columns.items() if p < len(values)}
        if table.shared is None:  # the header maps, made once per table and shared by its rows
            by_key = {c.key: table.headers.get(p, c.header) for p, c in table.columns.items()}
            table.shared = (by_key, {c.header: by_key[c.key] for c in table.columns.values()})
        self.headers, self._own = table.shared
        self.ok = True

    def has(self, key: str) -> bool:
        """Whether the sheet has this column at all (a missing column says nothing about the field)."""
        return key in self.headers

    def own_headers(self) -> dict[str, str]:
        return self._own

    def error(self, key: str, reason: str) -> None:
        self.ok = False
        self.errors.append(RowError(self.table.name, self.row, self.headers.get(key, key), reason))

    def text(self, key: str) -> str | None:
        return cell_text(self.cells.get(key))

    def required(self, key: str, label: str) -> str | None:
        value = self.text(key)
        if value is None:
            self.error(key, "必须填写" if key in self.headers else f"表中没有“{label}”列")
        return value

    def date(self, key: str) -> date | None:
        try:
            return parse_date(self.cells.get(key), today=None)
        except ValueError as error:
            self.error(key, str(error))
            return None

    def number(self, key: str) -> float | None:
        value = self.cells.get(key)
        if value is None or isinstance(value, int | float) and not isinstance(value, bool):
            return None if value is None else float(value)
        text = str(value).strip().replace("万元", "").replace("万", "").replace(",", "").replace("，", "")
        if not text or word_key(text) in NO_WORDS:
            return None
        try:
            return float(text)
        except ValueError:
            self.error(key, f"应为数值（万元），收到“{value}”")
            return None

    def word(self, key: str, table: dict[str, str]) -> str | None:
        text = self.text(key)
        if text is None:
            return None
        found = table.get(word_key(text))
        if found is None:
            self.error(key, f"无法识别“{text}”，可填：{choices(table)}")
        return found


def split_people(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    return tuple(p for p in re.split(r"[、,，;；/\s]+", text) if p)


@dataclass
class Wanted:
    """What a row says a record is: its fields (only those the row gives) and its lifecycle."""

    kind: str  # hazards | measures
    sheet: str
    row: int
    number: str | None  # a number in our format, from the row
    campaign: str | None
    campaign_given: bool  # from the row's 专项 cell (not --campaign or the number)
    fields: dict[str, Any]  # the record's own fields, as the ledger keeps them
    stage: str | None = None  # how far it has gone (STAGES, or withdrawn / a measure status); None: not said
    dates: dict[str, date] = field(default_factory=dict)  # completed_on, verified_on, closed_on …
    escalation: dict[str, Any] | None = None  # {"level", "supervisor", "doc_no"} if it is 挂牌督办
    not_escalated: bool = False  # the row says 否
    cost: float | None = None
    note: str | None = None
    headers: dict[str, str] = field(default_factory=dict)  # our header -> the sheet's own header
    status_word: str = ""
    columns: dict[str, str] = field(default_factory=dict)  # column key -> the sheet's own header
    verifier: str | None = None  # 验收人: who verified the rectification (default: the first 检查人员)

    def column(self, key: str) -> str:
        """The sheet's own header of a column (for a message), or our label when the sheet has none."""
        return self.columns.get(key) or next((c for c, k in _LABELS.items() if k == key), key)

    @property
    def key(self) -> tuple[Any, ...]:
        """What makes two rows the same record (names compared by :func:`qingdan.core.text.name_key`:
        ``ＡＢＣ饭店`` and ``ABC饭店`` are one unit)."""
        return record_key(self.kind, self.campaign, self.fields)

    @property
    def label(self) -> str:
        return self.fields.get("unit") or self.fields.get("title") or ""


def campaign_of(cells: Cells, campaigns: dict[str, Any], default: str | None,
                number: str | None) -> tuple[str | None, bool]:
    """(campaign id, whether the row's 专项 cell gave it) from the cell, --campaign, or the number."""
    text = cells.text("campaign")
    if text:
        if text in campaigns:
            return text, True
        for cid, c in campaigns.items():
            if text == c.name or text in c.name or c.name in text:
                return cid, True
        known = "、".join(f"{c.name}（{cid}）" for cid, c in campaigns.items())
        cells.error("campaign", f"未知的专项“{text}”；可用：{known}")
        return None, True
    if default:
        return default, False
    match = number and (HAZARD_NUMBER.match(number) or MEASURE_NUMBER.match(number))
    if match:
        return match.group(1), False
    cells.error("campaign", "未指定专项：请用 --campaign 指定，或在表中加“专项”列")
    return None, False


def hazard_wanted(cells: Cells, campaigns: dict[str, Any], default: str | None) -> Wanted | None:
    raw = cells.text("number")
    number = raw if raw and HAZARD_NUMBER.match(raw) else None
    campaign, given = campaign_of(cells, campaigns, default, number)
    unit = cells.required("unit", "单位名称")
    description = cells.required("description", "隐患描述")
    found_on = cells.date("found_on") if cells.required("found_on", "排查日期") is not None else None
    fields: dict[str, Any] = {"unit": unit, "description": description, "found_on": found_on}
    for key in ("village", "location", "category", "responsible_unit", "responsible_person", "measures",
                "contingency"):
        if cells.text(key) is not None:
            fields[key] = cells.text(key)
    for key, table in (("level", LEVEL_WORDS), ("source", SOURCE_WORDS)):
        word = cells.word(key, table)
        if word is not None:
            fields[key] = word
    if cells.text("inspectors"):
        fields["inspectors"] = split_people(cells.text("inspectors"))
    verifier = cells.text("verifier")
    funds, deadline = cells.number("funds"), cells.date("deadline")
    if funds is not None:
        fields["funds"] = funds
    if deadline is not None:
        fields["deadline"] = deadline
    dates = {k: d for k in ("completed_on", "verified_on", "closed_on", "withdrawn_on")
             if (d := cells.date(k)) is not None}
    wanted = Wanted("hazards", cells.table.name, cells.row, number, campaign, given, fields, dates=dates,
                    cost=cells.number("cost"), note=cells.text("note"), headers=cells.own_headers(),
                    status_word=cells.text("status") or "", columns=cells.headers, verifier=verifier)
    _escalation(cells, wanted)
    wanted.stage = _hazard_stage(cells, wanted, cells.word("status", HAZARD_STATUS_WORDS))
    return wanted if cells.ok and found_on is not None else None


def _escalation(cells: Cells, wanted: Wanted) -> None:
    supervisor, doc_no = cells.text("supervisor"), cells.text("escalation_doc_no")
    level = cells.word("escalation_level", ESCALATION_WORDS)
    text = cells.text("escalated")
    escalate = False
    if text:
        word = word_key(text)
        if word in ESCALATION_WORDS:
            escalate, level = True, level or ESCALATION_WORDS[word]
        elif word in YES_WORDS or word.startswith(("是", "已挂牌")):
            escalate = True
        elif word in NO_WORDS:
            wanted.not_escalated = True
        else:
            cells.error("escalated", f"无法识别“{text}”，可填：是、否、镇级、市级、省级")
    if escalate or supervisor:
        wanted.escalation = {"level": level, "supervisor": supervisor, "doc_no": doc_no}
        wanted.not_escalated = False


def _hazard_stage(cells: Cells, wanted: Wanted, word: str | None) -> str | None:
    """How far the row's rectification has gone, from its 整改状态 and dates; row-internal checks."""
    dates = wanted.dates
    label = wanted.status_word
    if word is None:
        if "closed_on" in dates:
            return "closed"
        if "verified_on" in dates:
            return "verified"
        if "completed_on" in dates:
            return "completed"
        return None if not cells.has("status") or "withdrawn_on" not in dates else "withdrawn"
    if word in ("open", "rectifying"):
        for key in ("completed_on", "verified_on", "closed_on"):
            if key in dates:
                cells.error(key, f"整改状态为“{label}”，却填写了{cells.headers.get(key, key)}")
    elif word == "completed":
        if "closed_on" in dates:
            cells.error("closed_on", f"整改状态为“{label}”，却填写了销号日期")
        if "verified_on" in dates:
            return "verified"
    return word


def measure_wanted(cells: Cells, campaigns: dict[str, Any], default: str | None) -> Wanted | None:
    raw = cells.text("number")
    number = raw if raw and MEASURE_NUMBER.match(raw) else None
    campaign, given = campaign_of(cells, campaigns, default, number)
    fields: dict[str, Any] = {"title": cells.required("title", "制度措施名称"),
                              "department": cells.required("department", "责任部门")}
    kind = cells.word("kind", MEASURE_KIND_WORDS)
    if kind is not None:
        fields["kind"] = kind
    if (due := cells.date("due")) is not None:
        fields["due"] = due
    if cells.text("doc_no"):
        fields["doc_no"] = cells.text("doc_no")
    dates = {k: d for k in ("issued_on", "implemented_on", "repealed_on", "added_on")
             if (d := cells.date(k)) is not None}
    stage = cells.word("status", MEASURE_STATUS_WORDS)
    if stage is None and not cells.text("status"):
        stage = ("repealed" if "repealed_on" in dates else "implemented" if "implemented_on" in dates else
                 "issued" if "issued_on" in dates or "doc_no" in fields else None)
    wanted = Wanted("measures", cells.table.name, cells.row, number, campaign, given, fields, stage=stage,
                    dates=dates, headers=cells.own_headers(), status_word=cells.text("status") or "",
                    columns=cells.headers)
    return wanted if cells.ok else None
