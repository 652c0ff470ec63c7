"""Importing a 台账 (xlsx or csv) into the ledger: every row checked, then all written or none.

The rule, as a clerk reads it:

1. Each sheet's header row is found under any title rows; the usual variants of each column name are
   recognised (:mod:`qingdan.io.layout`). A sheet with 制度措施名称 is the 制度措施清单, any other the
   问题隐患清单.
2. Every row is read and checked first; a row's lifecycle becomes the ledger's commands with the dates
   given: 登记 on 排查日期; the 五到位 columns as a plan (same day); 挂牌督办 if it says so; 整改完成
   on 完成日期, 验收通过 on 验收日期, 销号 on 销号日期.
3. The file is written in one transaction. If any row is wrong, nothing is written and every error is
   listed by sheet, row, column and reason.
4. Importing the same file again creates nothing: a row whose 隐患编号/编号 is in our format
   (``H-fire-2020-0007``, ``M-fire-2020-0001``) keeps that number and is skipped if it already
   exists; a row without one is skipped if a hazard with the same 专项, 单位名称, 排查日期 and 隐患描述
   (a measure: 专项, 制度措施名称, 责任部门) is already in the ledger or earlier in the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from qingdan.core.commands import _show
from qingdan.core.errors import InvalidCommand, QingdanError
from qingdan.io.dates import parse_date
from qingdan.io.reader import TableSheet, find_table, read_raw

HAZARD_NUMBER = re.compile(r"^H-([a-z][a-z0-9_]*)-(\d{4})-(\d{4,})$")
MEASURE_NUMBER = re.compile(r"^M-([a-z][a-z0-9_]*)-(\d{4})-(\d{4,})$")

LEVELS = {"一般": "一般", "一般隐患": "一般", "一般事故隐患": "一般", "一般问题": "一般",
          "重大": "重大", "重大隐患": "重大", "重大事故隐患": "重大", "重大问题": "重大"}
SOURCES = {"自查": "自查", "企业自查": "自查", "自检自查": "自查", "检查": "检查", "执法检查": "检查",
           "日常检查": "检查", "排查": "检查", "专项检查": "检查", "督查": "督查", "督导": "督查",
           "督导组移交": "督导组移交", "移交": "督导组移交", "上级移交": "督导组移交", "举报": "举报",
           "投诉举报": "举报", "群众举报": "举报", "其他": "其他"}
# What a status word means: how far the row's rectification has gone.
HAZARD_STATUSES = {
    "未整改": "open", "待整改": "open", "未开始": "open", "reported": "open",
    "整改中": "rectifying", "正在整改": "rectifying", "整改未完成": "rectifying", "rectifying": "rectifying",
    "已整改": "completed", "整改完成": "completed", "已完成": "completed", "完成": "completed",
    "待验收": "completed", "awaiting_verification": "completed",
    "已验收": "verified", "验收通过": "verified", "已复查": "verified",
    "已销号": "closed", "销号": "closed", "已闭环": "closed", "closed": "closed",
    "已撤销": "withdrawn", "撤销": "withdrawn", "withdrawn": "withdrawn",
}
MEASURE_STATUSES = {"拟制定": "planned", "待制定": "planned", "未制定": "planned", "制定中": "planned",
                    "planned": "planned", "已印发": "issued", "已出台": "issued", "已制定": "issued",
                    "印发": "issued", "issued": "issued", "已落实": "implemented", "落实": "implemented",
                    "已完成": "implemented", "implemented": "implemented", "已废止": "repealed",
                    "废止": "repealed", "repealed": "repealed"}
MEASURE_KINDS = ("制度", "机制", "方案", "标准", "其他")
YES = {"是", "有", "√", "✓", "y", "yes", "true", "1", "已挂牌", "挂牌", "已督办", "督办"}
NO = {"否", "无", "×", "n", "no", "false", "0", "未挂牌", "-", "—", "/"}
ESCALATION_WORDS = {"镇": "镇", "镇级": "镇", "市": "市", "市级": "市", "省": "省", "省级": "省"}
DEFAULT_SUPERVISOR = "镇安委会"
DEFAULT_INSPECTOR = "台账导入"

# Which column a failing command is about, when its message does not name one.
STEP_COLUMNS = {"report_hazard": "", "plan_rectification": "整改措施", "escalate": "挂牌督办",
                "complete_rectification": "完成日期", "verify": "验收日期", "close": "销号日期",
                "withdraw": "整改状态", "add_measure": "", "issue_measure": "印发日期",
                "implement_measure": "落实日期", "repeal_measure": "废止日期"}


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


_QUOTED = re.compile(r"“([^”]*)”", re.DOTALL)


def _safe(text: str) -> str:
    """A sheet or column name as written in the file, shown safely (control characters, length)."""
    return _show(text, limit=30)


class ImportRejected(InvalidCommand):
    """Raised when a 台账 has errors: nothing was written; ``errors`` lists every one."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        lines = "\n".join(f"  {i}. {e}" for i, e in enumerate(errors, 1))
        super().__init__(f"导入未执行，文件中有 {len(errors)} 处错误，未写入任何数据：\n{lines}")


@dataclass
class Step:
    method: str
    kwargs: dict[str, Any]
    column: str = ""


@dataclass
class Planned:
    """One row to create: the command that creates it and the lifecycle steps after it."""

    kind: str  # hazards | measures
    sheet: str
    row: int
    number: str | None
    key: tuple[Any, ...]
    create: dict[str, Any]
    steps: list[Step] = field(default_factory=list)
    status: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # our header -> the sheet's own header

    @property
    def label(self) -> str:
        return self.create.get("unit") or self.create.get("title") or ""


@dataclass
class ImportResult:
    """What an import created (or, in a dry run, would create) and what it skipped."""

    file: str
    dry_run: bool
    created: list[Planned] = field(default_factory=list)
    skipped: list[tuple[str, int, str, str]] = field(default_factory=list)  # sheet, row, number, why
    events: int = 0


class _DryRun(Exception):
    """Raised at the end of a dry run to abandon the batch."""


class _Context:
    def __init__(self, ledger: Any, campaign: str | None) -> None:
        self.ledger = ledger
        self.campaigns = ledger.catalogue.campaigns
        self.default_campaign = campaign
        self.today = ledger.today()

    def campaign(self, value: Any, number: str | None) -> tuple[str | None, str | None]:
        """(campaign id, error) from the 专项 cell, --campaign, or the number."""
        text = _text(value)
        if text:
            if text in self.campaigns:
                return text, None
            for cid, c in self.campaigns.items():
                if text == c.name or text in c.name or c.name in text:
                    return cid, None
            known = "、".join(f"{c.name}（{cid}）" for cid, c in self.campaigns.items())
            return None, f"未知的专项“{text}”；可用：{known}"
        if self.default_campaign:
            return self.default_campaign, None
        match = number and (HAZARD_NUMBER.match(number) or MEASURE_NUMBER.match(number))
        if match:
            return match.group(1), None
        return None, "未指定专项：请用 --campaign 指定，或在表中加“专项”列"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if text.startswith("'") and text[1:2] and text[1] in "=+-@":
        text = text[1:]  # undo the export's formula neutralisation
    return text or None


class _Row:
    """The cells of one row by column key, with error collection under the sheet's own headers."""

    def __init__(self, table: TableSheet, row: int, values: tuple[Any, ...], errors: list[RowError]) -> None:
        self.table, self.row, self.errors = table, row, errors
        self.cells = {c.key: values[p] for p, c in table.columns.items() if p < len(values)}
        self.headers = {c.key: table.headers.get(p, c.header) for p, c in table.columns.items()}
        self.ok = True

    def own_headers(self) -> dict[str, str]:
        return {c.header: self.headers[c.key] for c in self.table.columns.values()}

    def error(self, key: str, reason: str) -> None:
        self.ok = False
        self.errors.append(RowError(self.table.name, self.row, self.headers.get(key, key), reason))

    def text(self, key: str) -> str | None:
        return _text(self.cells.get(key))

    def required(self, key: str, label: str) -> str | None:
        value = self.text(key)
        if value is None:
            if key in self.headers:
                self.error(key, "必须填写")
            else:
                self.error(key, f"表中没有“{label}”列")
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
        text = str(value).strip().replace("万元", "").replace("万", "").replace(",", "")
        if not text or text in NO:
            return None
        try:
            return float(text)
        except ValueError:
            self.error(key, f"应为数值（万元），收到“{value}”")
            return None

    def word(self, key: str, mapping: dict[str, str], default: str | None = None) -> str | None:
        text = self.text(key)
        if text is None:
            return default
        found = mapping.get(text) or mapping.get(text.lower())
        if found is None:
            choices = "、".join(dict.fromkeys(k for k in mapping if not k.isascii()))
            self.error(key, f"无法识别“{text}”，可填：{choices}")
        return found


def _split_people(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    return tuple(p for p in re.split(r"[、,，;；/\s]+", text) if p)


def _hazard(row: _Row, ctx: _Context) -> Planned | None:
    raw_number = row.text("number")
    number = raw_number if raw_number and HAZARD_NUMBER.match(raw_number) else None
    campaign, problem = ctx.campaign(row.cells.get("campaign"), number)
    if problem:
        row.error("campaign", problem)
    unit = row.required("unit", "单位名称")
    description = row.required("description", "隐患描述")
    found_on = None
    if row.required("found_on", "排查日期") is not None:
        found_on = row.date("found_on")
    level = row.word("level", LEVELS, "一般")
    source = row.word("source", SOURCES, None)
    parts = {
        "responsible_unit": row.text("responsible_unit"), "responsible_person": row.text("responsible_person"),
        "measures": row.text("measures"), "funds": row.number("funds"), "deadline": row.date("deadline"),
        "contingency": row.text("contingency"),
    }
    parts = {k: v for k, v in parts.items() if v is not None}
    completed_on, verified_on, closed_on = row.date("completed_on"), row.date("verified_on"), row.date("closed_on")
    cost = row.number("cost")
    status = row.word("status", HAZARD_STATUSES)
    escalation = row.text("escalated")
    supervisor, doc_no = row.text("supervisor"), row.text("escalation_doc_no")
    escalation_level = ESCALATION_WORDS.get(row.text("escalation_level") or "")
    if row.text("escalation_level") and escalation_level is None:
        row.error("escalation_level", f"应为 镇、市、省 之一，收到“{row.text('escalation_level')}”")
    escalate = False
    if escalation:
        word = escalation.lower()
        if word in ESCALATION_WORDS:
            escalate, escalation_level = True, escalation_level or ESCALATION_WORDS[word]
        elif word in YES or word.startswith(("是", "已挂牌")):
            escalate = True
        elif word not in NO:
            row.error("escalated", f"无法识别“{escalation}”，可填：是、否、镇级、市级、省级")
    escalate = escalate or bool(supervisor)
    if not row.ok or found_on is None:
        return None
    create = {"campaign": campaign, "unit": unit, "description": description, "level": level,
              "found_on": found_on, "category": row.text("category"), "village": row.text("village"),
              "location": row.text("location"), "inspectors": _split_people(row.text("inspectors")),
              "note": row.text("note")}
    if source:
        create["source"] = source
    if number:
        create["number"] = number
    planned = Planned("hazards", row.table.name, row.row, number,
                      (campaign, unit, found_on, description), create, headers=row.own_headers())
    steps = planned.steps
    if parts:
        steps.append(Step("plan_rectification", {**parts, "on": found_on}, "整改措施"))
    if escalate:
        steps.append(Step("escalate", {"supervisor": supervisor or DEFAULT_SUPERVISOR,
                                       "level": escalation_level or "镇", "doc_no": doc_no,
                                       "on": found_on}, "挂牌督办"))
    if status is None:
        status = ("closed" if closed_on else "verified" if verified_on else
                  "completed" if completed_on else "open")
    inspector = (create["inspectors"] or (DEFAULT_INSPECTOR,))[0]

    def complete(on: date) -> None:
        steps.append(Step("complete_rectification", {"cost": cost, "on": on}, "完成日期"))

    def verify(on: date) -> None:
        steps.append(Step("verify", {"passed": True, "inspector": inspector, "on": on}, "验收日期"))

    label = row.text("status") or ""
    if status in ("open", "rectifying"):
        for key, value in (("completed_on", completed_on), ("verified_on", verified_on), ("closed_on", closed_on)):
            if value is not None:
                row.error(key, f"整改状态为“{label}”，却填写了{row.headers.get(key, key)}")
        if status == "rectifying" and not parts:
            row.error("status", "整改状态为整改中，但整改责任单位、责任人、整改措施、资金、期限、预案都未填写")
    elif status == "completed":
        if completed_on is None:
            row.error("completed_on", f"整改状态为“{label}”，请填写完成日期")
        else:
            complete(completed_on)
            if verified_on is not None:
                verify(verified_on)
        if closed_on is not None:
            row.error("closed_on", f"整改状态为“{label}”，却填写了销号日期")
    elif status == "verified":
        on = verified_on or completed_on
        if on is None:
            row.error("verified_on", "整改状态为已验收，请填写验收日期")
        else:
            complete(completed_on or on)
            verify(on)
    elif status == "closed":
        close_on = closed_on or verified_on or completed_on
        if close_on is None:
            row.error("closed_on", "整改状态为已销号，请填写销号日期")
        else:
            verify_on = verified_on or close_on
            complete(completed_on or verify_on)
            verify(verify_on)
            steps.append(Step("close", {"on": close_on}, "销号日期"))
    elif status == "withdrawn":
        on = max(d for d in (found_on, completed_on, verified_on, closed_on) if d is not None)
        steps.append(Step("withdraw", {"reason": row.text("note") or "台账标注为已撤销", "on": on},
                          "整改状态"))
    planned.status = status
    return planned if row.ok else None


def _measure(row: _Row, ctx: _Context) -> Planned | None:
    raw_number = row.text("number")
    number = raw_number if raw_number and MEASURE_NUMBER.match(raw_number) else None
    campaign, problem = ctx.campaign(row.cells.get("campaign"), number)
    if problem:
        row.error("campaign", problem)
    title = row.required("title", "制度措施名称")
    department = row.required("department", "责任部门")
    kind = row.text("kind") or "制度"
    if kind not in MEASURE_KINDS:
        kind = kind.removesuffix("类")
        if kind not in MEASURE_KINDS:
            row.error("kind", f"应为 {'、'.join(MEASURE_KINDS)} 之一，收到“{row.text('kind')}”")
    due, issued_on = row.date("due"), row.date("issued_on")
    implemented_on, repealed_on, added_on = row.date("implemented_on"), row.date("repealed_on"), row.date("added_on")
    doc_no = row.text("doc_no")
    status = row.word("status", MEASURE_STATUSES)
    if not row.ok:
        return None
    if status is None:
        status = ("repealed" if repealed_on else "implemented" if implemented_on else
                  "issued" if issued_on or doc_no else "planned")
    dated = [d for d in (issued_on, implemented_on, repealed_on) if d is not None]
    on = added_on or (min(dated) if dated else None) or (min(due, ctx.today) if due else ctx.today)
    create = {"campaign": campaign, "title": title, "department": department, "kind": kind,
              "due": due, "on": on}
    if number:
        create["number"] = number
    planned = Planned("measures", row.table.name, row.row, number, (campaign, title, department), create,
                      status=status, headers=row.own_headers())
    label = row.text("status") or ""
    if doc_no and status != "planned" or status == "issued":
        if not doc_no:
            row.error("doc_no", f"状态为“{label}”，请填写文号")
        else:
            planned.steps.append(Step("issue_measure", {"doc_no": doc_no, "on": issued_on or on}, "印发日期"))
    if status == "implemented" or implemented_on:
        if implemented_on is None:
            row.error("implemented_on", f"状态为“{label}”，请填写落实日期")
        else:
            planned.steps.append(Step("implement_measure", {"on": implemented_on}, "落实日期"))
    if status == "repealed":
        if repealed_on is None:
            row.error("repealed_on", f"状态为“{label}”，请填写废止日期")
        else:
            planned.steps.append(Step("repeal_measure", {"reason": "台账标注为已废止", "on": repealed_on},
                                      "废止日期"))
    return planned if row.ok else None


def plan_import(ledger: Any, path: str | Path, *, campaign: str | None = None,
                ) -> tuple[list[Planned], list[tuple[str, int, str, str]], list[RowError]]:
    """Read and check every row; returns (rows to create, rows skipped, errors)."""
    path = Path(path)
    if not path.exists():
        raise InvalidCommand(f"找不到文件：{path}")
    ctx = _Context(ledger, campaign)
    if campaign is not None and campaign not in ctx.campaigns:
        ledger.two_lists(campaign=campaign)  # raises the clerk's message listing the campaigns
    errors: list[RowError] = []
    planned: list[Planned] = []
    tables = []
    raws = read_raw(path)
    for raw in raws:
        table = find_table(raw)
        if table is not None:
            tables.append(table)
        elif len(raws) == 1:  # in a workbook, sheets without a 台账 (notes, charts) are left alone
            errors.append(RowError(raw.name, 0, "", "找不到表头行（应有 单位名称、隐患描述、排查日期 等列）"))
    if not tables and not errors:
        errors.append(RowError(path.name, 0, "", "文件中没有可导入的表格"))
    for table in tables:
        for header, earlier in table.duplicates:
            errors.append(RowError(table.name, table.header_row, header,
                                   f"与“{earlier}”是同一列，表中出现两次；请删去其中一列，以免取错数据"))
        parse = _measure if table.kind == "measures" else _hazard
        for number, values in table.rows:
            record = parse(_Row(table, number, values, errors), ctx)
            if record is not None:
                planned.append(record)
    lists = ledger.two_lists(include_withdrawn=True)
    existing = {h.number for h in lists.hazards} | {m.number for m in lists.measures}
    keys = {("hazards", (h.campaign, h.unit, h.found_on, h.description)) for h in lists.hazards}
    keys |= {("measures", (m.campaign, m.title, m.department)) for m in lists.measures}
    todo: list[Planned] = []
    skipped: list[tuple[str, int, str, str]] = []
    seen_numbers: dict[str, Planned] = {}
    for record in planned:
        if record.number and record.number in existing:
            skipped.append((record.sheet, record.row, record.number, "编号已在台账中"))
            continue
        if record.number and record.number in seen_numbers:
            first = seen_numbers[record.number]
            errors.append(RowError(record.sheet, record.row, "隐患编号" if record.kind == "hazards" else "编号",
                                   f"编号 {record.number} 与第 {first.row} 行重复"))
            continue
        if not record.number and (record.kind, record.key) in keys:
            skipped.append((record.sheet, record.row, "", "台账中已有相同的记录（专项、单位/名称、日期、描述相同）"))
            continue
        keys.add((record.kind, record.key))
        if record.number:
            seen_numbers[record.number] = record
        todo.append(record)
    _allocate_numbers(todo, existing)
    return todo, skipped, errors


def _allocate_numbers(records: list[Planned], existing: set[str]) -> None:
    """Give rows without a number the next free one, after every number in the ledger or the file.

    Numbers are chosen here rather than by the ledger so that numbers kept from the file and
    numbers allocated in the same batch can never collide.
    """
    highest: dict[str, int] = {}
    for number in existing | {r.number for r in records if r.number}:
        prefix, _, seq = number.rpartition("-")
        if seq.isdigit():
            highest[prefix] = max(highest.get(prefix, 0), int(seq))
    for record in records:
        if record.number:
            continue
        if record.kind == "hazards":
            prefix = f"H-{record.create['campaign']}-{record.create['found_on'].year}"
        else:
            prefix = f"M-{record.create['campaign']}-{record.create['on'].year}"
        highest[prefix] = highest.get(prefix, 0) + 1
        record.number = f"{prefix}-{highest[prefix]:04d}"
        record.create["number"] = record.number


def import_file(ledger: Any, path: str | Path, *, campaign: str | None = None, dry_run: bool = False,
                progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Import a 台账 all or nothing; raises :class:`ImportRejected` listing every error.

    With ``dry_run`` every command is still run (so the ledger's rules are checked) and then
    abandoned: nothing is written.
    """
    todo, skipped, errors = plan_import(ledger, path, campaign=campaign)
    result = ImportResult(file=str(path), dry_run=dry_run, created=todo, skipped=skipped)
    # Rows that read well are still run (and abandoned), so the ledger's own rules report on them
    # too: the clerk gets every error of the file at once.
    try:
        with ledger.batch():
            for done, record in enumerate(todo, 1):
                result.events += _run(ledger, record, errors)
                if progress is not None:
                    progress(done, len(todo))
            if errors:
                order = {name: i for i, name in enumerate(dict.fromkeys(e.sheet for e in errors))}
                raise ImportRejected(sorted(errors, key=lambda e: (order[e.sheet], e.row)))
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return result


def _run(ledger: Any, record: Planned, errors: list[RowError]) -> int:
    creator = "report_hazard" if record.kind == "hazards" else "add_measure"
    headers = _headers(record)

    def column(message: str, default: str) -> str:
        found = _column_for(message, headers, default)
        return record.headers.get(found, found)
    try:
        getattr(ledger, creator)(**{k: v for k, v in record.create.items() if v not in (None, ())})
    except QingdanError as error:
        errors.append(RowError(record.sheet, record.row, column(str(error), ""), str(error)))
        return 0
    events = 1
    for step in record.steps:
        try:
            getattr(ledger, step.method)(record.number, **step.kwargs)
        except QingdanError as error:
            errors.append(RowError(record.sheet, record.row, column(str(error), step.column), str(error)))
            return events
        events += 1
    return events


def _headers(record: Planned) -> tuple[str, ...]:
    from qingdan.io.layout import HAZARD_COLUMNS, MEASURE_COLUMNS

    columns = HAZARD_COLUMNS if record.kind == "hazards" else MEASURE_COLUMNS
    return tuple(c.header for c in columns if not c.export_only)


def _column_for(message: str, headers: tuple[str, ...], default: str) -> str:
    """The column a ledger message is about: the first column name it mentions, else the step's."""
    found = [(message.find(h), -len(h), h) for h in headers if h in message]
    return min(found)[2] if found else default
