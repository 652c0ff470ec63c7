"""Importing a 台账 (xlsx, xls, csv or tab-separated text) into the ledger: every row checked, then
all written or none.

The rule, as a clerk reads it:

1. Each sheet's table is found under any title rows, with a header of one row or two (group cells
   over sub-columns); the usual variants of each column name are recognised
   (:mod:`qingdan.io.layout`). A sheet with 制度措施名称 is the 制度措施清单, any other the 问题隐患清单.
   Rows that are not data — 合计/小计, 审核人/填表人/联系电话, 填报单位/填报日期, 注/说明, a repeated
   header, blank rows — are ignored, and the result says which and why (:mod:`qingdan.io.table`).
2. A row is matched with the ledger: by its 隐患编号/编号 when it has one in our format
   (``H-fire-2020-0007``), else by 单位名称 + 隐患描述 + 排查日期 (a measure: 专项 + 名称 + 责任部门).
   A new row becomes the commands that register it and its lifecycle; a row that matches a record
   and differs from it becomes the events that take the record to where the row says it is; a row
   that matches and says nothing new is unchanged (:mod:`qingdan.io.plan`).
3. The file is written in one transaction (``ledger.batch()``). If any row is wrong, nothing is
   written and every error is listed by sheet, row, column and reason. Importing the same file again
   changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import chain
from pathlib import Path
from typing import Any

from qingdan.core.errors import InvalidCommand, QingdanError
from qingdan.core.errors import show as _show
from qingdan.io.cells import Cells, RowError, Wanted, hazard_wanted, measure_wanted, record_key
from qingdan.io.layout import HAZARD_COLUMNS, HAZARD_IMPORT_ONLY, MEASURE_COLUMNS
from qingdan.io.limits import DEFAULT_LIMITS, FileTooLarge, Limits
from qingdan.io.plan import (
    Planned,
    Problems,
    Step,
    new_hazard,
    new_measure,
    update_hazard,
    update_measure,
)
from qingdan.io.reader import open_source
from qingdan.io.table import HEADER_SEARCH_ROWS, Ignored, Table, classify, find_table, ignored_runs

__all__ = ["ImportRejected", "ImportResult", "Planned", "RowError", "Step", "import_file", "plan_import"]

#: ``progress(phase, done, total)``: phase 读取 (rows read; total unknown), 检查 (rows run), 写入.
Progress = Callable[[str, int, int | None], None]


class ImportRejected(InvalidCommand):
    """Raised when a 台账 has errors: nothing was written; ``errors`` lists every one."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        lines = "\n".join(f"  {i}. {e}" for i, e in enumerate(errors, 1))
        super().__init__(f"导入未执行，文件中有 {len(errors)} 处错误，未写入任何数据：\n{lines}")


@dataclass
class ImportResult:
    """What an import did (or, in a dry run, would do) with every row of the file."""

    file: str
    dry_run: bool
    rows: list[Planned] = field(default_factory=list)
    ignored: list[Ignored] = field(default_factory=list)
    events: int = 0
    source: str = ""  # xlsx | xls | csv | tsv
    encoding: str | None = None
    tables: list[Table] = field(default_factory=list)
    sheets_without_table: list[str] = field(default_factory=list)

    def of(self, action: str) -> list[Planned]:
        return [r for r in self.rows if r.action == action]

    created = property(lambda self: self.of("new"))
    updated = property(lambda self: self.of("updated"))
    unchanged = property(lambda self: self.of("unchanged"))

    @property
    def skipped(self) -> list[tuple[str, int, str, str]]:
        """Rows already in the ledger as they are (sheet, row, number, why)."""
        return [(r.sheet, r.row, r.number or "", "台账中已有，内容相同") for r in self.unchanged]


@dataclass
class Plan:
    rows: list[Planned]
    errors: list[RowError]
    result: ImportResult


class _DryRun(Exception):
    """Raised at the end of a dry run to abandon the batch."""


def _read(path: Path, result: ImportResult, errors: list[RowError], campaigns: dict[str, Any],
          default: str | None, limits: Limits, progress: Progress | None) -> list[Wanted]:
    """Stream every sheet: find its table, classify its rows, read the data rows into ``Wanted``."""
    wanted: list[Wanted] = []
    data_rows = 0
    with open_source(path, limits) as source:
        result.source = source.kind
        result.encoding = source.sheets[0].encoding if source.sheets else None
        for sheet in source.sheets:
            head: list[tuple[int, tuple[Any, ...]]] = []
            for item in sheet.rows:
                head.append(item)
                if len(head) >= HEADER_SEARCH_ROWS:
                    break
            table = find_table(sheet.name, head)
            if table is None:
                result.sheets_without_table.append(sheet.name)
                continue
            result.tables.append(table)
            for header, earlier in table.duplicates:
                errors.append(RowError(table.name, table.header_row, header,
                                       f"与“{earlier}”是同一列，表中出现两次；请删去其中一列，以免取错数据"))
            ignored: list[tuple[int, str]] = []
            previous = table.header_row
            rest = chain((item for item in head if item[0] > table.header_row), sheet.rows)
            for number, values in rest:
                ignored += [(n, "空行") for n in range(previous + 1, number)]
                previous = number
                reason = classify(table, number, values)
                if reason is not None:
                    ignored.append((number, reason))
                    continue
                data_rows += 1
                if data_rows > limits.rows:
                    raise FileTooLarge(f"数据超过 {limits.rows:,} 行的上限；请按专项或年度拆分成几个文件分别导入",
                                       sheet=sheet.name, row=number)
                cells = Cells(table, number, values, errors)
                read = measure_wanted if table.kind == "measures" else hazard_wanted
                row = read(cells, campaigns, default)
                if row is not None:
                    wanted.append(row)
                if progress is not None and data_rows % 200 == 0:
                    progress("读取", data_rows, None)
            result.ignored += ignored_runs(table.name, iter(ignored))
    if progress is not None:
        progress("读取", data_rows, data_rows)
    if not result.tables:
        if len(result.sheets_without_table) <= 1:
            name = result.sheets_without_table[0] if result.sheets_without_table else path.name
            errors.append(RowError(name, 0, "", "找不到表头行（应有 单位名称、隐患描述、排查日期 等列）"))
        else:
            errors.append(RowError(path.name, 0, "", "文件中没有可导入的表格（各工作表都找不到表头行）"))
    return wanted


class _Matcher:
    """The ledger's records by number and by key, and what the file has matched so far."""

    def __init__(self, ledger: Any) -> None:
        lists = ledger.two_lists(include_withdrawn=True)
        self.numbers: set[str] = set()
        self.by_number: dict[str, Any] = {}
        self.by_key: dict[tuple[str, tuple[Any, ...]], list[Any]] = {}
        for h in lists.hazards:
            self._add("hazards", h.number, h, record_key("hazards", h.campaign, h))
        for m in lists.measures:
            self._add("measures", m.number, m, record_key("measures", m.campaign, m))
        self.seen_numbers: dict[str, Wanted] = {}
        self.seen_keys: dict[tuple[str, tuple[Any, ...]], Wanted] = {}
        self.matched: dict[str, Wanted] = {}

    def _add(self, kind: str, number: str, row: Any, key: tuple[Any, ...]) -> None:
        self.numbers.add(number)
        self.by_number[number] = row
        self.by_key.setdefault((kind, key), []).append(row)

    def match(self, w: Wanted, problems: Problems) -> tuple[Any | None, str | None]:
        """(the ledger's record, None) or (None, why the row is ignored as a repeat) or (None, None)."""
        key = (w.kind, w.key)
        if w.number:
            if w.number in self.seen_numbers:
                problems("number", f"编号 {w.number} 与第 {self.seen_numbers[w.number].row} 行重复")
                return None, None
            self.seen_numbers[w.number] = w
            existing = self.by_number.get(w.number)
        else:
            earlier = self.seen_keys.get(key)
            if earlier is not None:
                return None, f"与第 {earlier.row} 行是同一条记录（{'单位、描述、排查日期' if w.kind == 'hazards' else '专项、名称、责任部门'}相同）"
            candidates = self.by_key.get(key, [])
            if len(candidates) > 1 and w.campaign:
                candidates = [c for c in candidates if c.campaign == w.campaign] or candidates
            if len(candidates) > 1:
                numbers = "、".join(c.number for c in candidates[:5])
                problems("number", f"台账中有 {len(candidates)} 条相同的记录（{numbers}），请填写编号以区分")
                return None, None
            existing = candidates[0] if candidates else None
        self.seen_keys.setdefault(key, w)
        if existing is not None:
            if existing.number in self.matched:
                problems("number", f"与第 {self.matched[existing.number].row} 行是台账中的同一条 {existing.number}")
                return None, None
            self.matched[existing.number] = w
        return existing, None


def plan_import(ledger: Any, path: str | Path, *, campaign: str | None = None, on: date | None = None,
                limits: Limits = DEFAULT_LIMITS, progress: Progress | None = None, dry_run: bool = False) -> Plan:
    """Read and check every row against the ledger: what each row would do, and every error."""
    path = Path(path)
    try:
        found = path.is_file()
    except OSError as error:  # a name too long, a path through a file …
        raise InvalidCommand(f"无法读取文件 {_show(str(path), 80)}：{error.strerror or error}") from None
    if not found:
        raise InvalidCommand(f"找不到文件：{_show(str(path), 200)}" if not path.is_dir()
                             else f"{_show(str(path), 200)} 是一个文件夹，请写出台账文件名")
    campaigns = ledger.catalogue.campaigns
    if campaign is not None and campaign not in campaigns:
        ledger.two_lists(campaign=campaign)  # raises the clerk's message listing the campaigns
    names = {cid: c.name for cid, c in campaigns.items()}
    today = ledger.today()
    on = on or today
    errors: list[RowError] = []
    result = ImportResult(file=str(path), dry_run=dry_run)
    wanted = _read(path, result, errors, campaigns, campaign, limits, progress)
    matcher = _Matcher(ledger)
    planned: list[Planned] = []
    for w in wanted:
        problems = Problems(w)
        existing, repeat = matcher.match(w, problems)
        if repeat is not None:
            result.ignored.append(Ignored(w.sheet, w.row, w.row, repeat))
            continue
        reason = f"依据台账 {path.name} 工作表“{w.sheet}”第 {w.row} 行"
        if w.kind == "hazards":
            plan = (update_hazard(w, existing, on=on, reason=reason, campaign_names=names, problems=problems)
                    if existing is not None else new_hazard(w, problems))
        else:
            plan = (update_measure(w, existing, on=on, reason=reason, campaign_names=names, problems=problems)
                    if existing is not None else new_measure(w, today, problems))
        if problems:
            errors += [RowError(w.sheet, w.row, column, why) for column, why in problems.found]
            continue
        planned.append(plan)
    _allocate_numbers([p for p in planned if p.action == "new"], matcher.numbers)
    result.rows = planned
    result.ignored.sort(key=lambda i: ([t.name for t in result.tables].index(i.sheet)
                                       if i.sheet in [t.name for t in result.tables] else 0, i.first))
    return Plan(planned, errors, result)


def _allocate_numbers(records: list[Planned], existing: set[str]) -> None:
    """Give new rows without a number the next free one, after every number in the ledger or the file.

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
        assert record.create is not None
        year = (record.create["found_on"] if record.kind == "hazards" else record.create["on"]).year
        prefix = f"{'H' if record.kind == 'hazards' else 'M'}-{record.create['campaign']}-{year}"
        highest[prefix] = highest.get(prefix, 0) + 1
        record.number = f"{prefix}-{highest[prefix]:04d}"
        record.create["number"] = record.number


def import_file(ledger: Any, path: str | Path, *, campaign: str | None = None, dry_run: bool = False,
                on: date | None = None, limits: Limits = DEFAULT_LIMITS,
                progress: Progress | None = None) -> ImportResult:
    """Import a 台账 all or nothing; raises :class:`ImportRejected` listing every error.

    ``on``: the date of the changes a row gives no date for (corrections, plans, escalations of
    records already in the ledger); default today. With ``dry_run`` every command is still run (so
    the ledger's rules are checked) and then abandoned: nothing is written.
    """
    plan = plan_import(ledger, path, campaign=campaign, on=on, limits=limits, progress=progress,
                       dry_run=dry_run)
    result, errors = plan.result, plan.errors
    todo = [p for p in plan.rows if p.action != "unchanged"]
    # Rows that read well are still run (and abandoned), so the ledger's own rules report on them
    # too: the clerk gets every error of the file at once.
    # Numbers the file did not give were chosen when the file was planned; another clerk may register
    # one of them before the import is stored: then the ledger gives that row the next free number,
    # under the log's write lock, instead of failing the import.
    provisional = {p.number for p in todo if p.action == "new" and not p.wanted.number and p.number}
    try:
        with ledger.batch(provisional=provisional):
            for done, record in enumerate(todo, 1):
                result.events += _run(ledger, record, errors)
                if record.number:
                    ledger.set_aside(record.number)  # no later row touches it: its events wait on disk
                if progress is not None and (done % 100 == 0 or done == len(todo)):
                    progress("检查", done, len(todo))
            if errors:
                order = {name: i for i, name in enumerate(dict.fromkeys(e.sheet for e in errors))}
                raise ImportRejected(sorted(errors, key=lambda e: (order[e.sheet], e.row)))
            if dry_run:
                raise _DryRun
            if progress is not None and todo:
                progress("写入", 0, None)
    except _DryRun:
        pass
    else:
        for record in todo:
            if record.action == "new" and not record.wanted.number and record.number:
                record.number = ledger.numbered(record.number)
    if progress is not None and todo and not dry_run:
        progress("写入", 1, 1)
    return result


def _run(ledger: Any, record: Planned, errors: list[RowError]) -> int:
    headers = _headers(record)

    def column(message: str, default: str) -> str:
        found = _column_for(message, headers, default)
        return record.headers.get(found, found)

    events = 0
    if record.action == "new":
        creator = "report_hazard" if record.kind == "hazards" else "add_measure"
        assert record.create is not None
        try:
            record.number = getattr(ledger, creator)(**{k: v for k, v in record.create.items() if v not in (None, ())})
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
    columns = HAZARD_COLUMNS + HAZARD_IMPORT_ONLY if record.kind == "hazards" else MEASURE_COLUMNS
    return tuple(c.header for c in columns if not c.export_only)


def _column_for(message: str, headers: tuple[str, ...], default: str) -> str:
    """The column a ledger message is about: the first column name it mentions, else the step's."""
    found = [(message.find(h), -len(h), h) for h in headers if h in message]
    return min(found)[2] if found else default


def rows_of(result: ImportResult) -> Iterator[dict[str, Any]]:
    """Every row of the file in order, as the dry run shows it: new / updated / unchanged / ignored."""
    from qingdan.core.labels import MEASURE_STATUS_LABELS
    from qingdan.io.plan import STAGE_LABELS

    items: list[tuple[int, int, dict[str, Any]]] = []
    order = {t.name: i for i, t in enumerate(result.tables)}
    words = {"new": "新增", "updated": "更新", "unchanged": "未变"}
    for r in result.rows:
        status = (STAGE_LABELS.get(r.status) if r.kind == "hazards" else MEASURE_STATUS_LABELS.get(r.status))
        items.append((order.get(r.sheet, 0), r.row, {
            "sheet": r.sheet, "row": str(r.row), "action": words[r.action], "number": r.number,
            "label": r.label, "status": status or r.status,
            "changes": "；".join(r.changes + r.warnings) or None,
            "events": (1 if r.action == "new" else 0) + len(r.steps), "kind": r.kind}))
    for i in result.ignored:
        items.append((order.get(i.sheet, 0), i.first, {
            "sheet": i.sheet, "row": i.rows, "action": "忽略", "number": None, "label": None, "status": None,
            "changes": i.reason, "events": 0, "kind": None}))
    for _, _, item in sorted(items, key=lambda t: (t[0], t[1])):
        yield item
