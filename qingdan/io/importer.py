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
   written and every error is listed by sheet, row, column and reason (the first
   :data:`MAX_ERRORS`, and how many more). Importing the same file again changes nothing.

Memory does not grow with the file: rows are read, matched and planned :data:`PLAN_CHUNK` at a time
(the ledger's rows they match fetched together), each row's plan waits in a temporary file, and each
record's events, once its row has run, wait in the batch's temporary file
(:meth:`qingdan.Ledger.set_aside`) until the one transaction stores them a chunk at a time. What is
kept for the whole file is compact: a digest of each row's key and the numbers seen (for repeats
within the file and matches with the ledger), the highest number per prefix, and the result's first
:data:`DETAIL_ROWS` rows (the others are counted).
"""

from __future__ import annotations

import hashlib
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator
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

#: rows of a result described one by one (``ImportResult.rows``); the others are only counted
DETAIL_ROWS = 2_000
#: errors listed (``ImportRejected.errors``); the others are only counted
MAX_ERRORS = 1_000
#: rows matched with the ledger and planned together (one read of the ledger's rows they match)
PLAN_CHUNK = 500


class Errors(list[RowError]):
    """The errors of a file: the first :data:`MAX_ERRORS` kept, every one counted."""

    total = 0

    def append(self, error: RowError) -> None:
        self.total += 1
        if len(self) < MAX_ERRORS:
            super().append(error)

    def extend(self, errors: Iterable[RowError]) -> None:
        for error in errors:
            self.append(error)

    def __iadd__(self, errors: Iterable[RowError]) -> Errors:  # type: ignore[override,misc]
        self.extend(errors)
        return self


class ImportRejected(InvalidCommand):
    """Raised when a 台账 has errors: nothing was written; ``errors`` lists them (the first
    :data:`MAX_ERRORS`), ``total`` says how many there are."""

    def __init__(self, errors: list[RowError], total: int | None = None) -> None:
        self.errors = errors
        self.total = max(total or 0, len(errors))
        lines = "\n".join(f"  {i}. {e}" for i, e in enumerate(errors, 1))
        more = f"\n  ……另有 {self.total - len(errors)} 处错误未列出（只列出前 {len(errors)} 处）" \
            if self.total > len(errors) else ""
        super().__init__(f"导入未执行，文件中有 {self.total} 处错误，未写入任何数据：\n{lines}{more}")


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
    #: rows by what they do (``new``, ``updated``, ``unchanged``) and new records by kind
    #: (``new hazards``, ``new measures``): every row, also those beyond ``rows``
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("new", "updated", "unchanged", "new hazards", "new measures"), 0))

    @property
    def described(self) -> bool:
        """Whether ``rows`` describes every row (a file of more than :data:`DETAIL_ROWS` rows is counted
        in ``counts`` and described by its first rows)."""
        return len(self.rows) == self.counts["new"] + self.counts["updated"] + self.counts["unchanged"]

    def count(self, planned: Planned) -> None:
        self.counts[planned.action] += 1
        if planned.action == "new":
            self.counts[f"new {planned.kind}"] += 1
        if len(self.rows) < DETAIL_ROWS:
            self.rows.append(planned)

    def of(self, action: str) -> list[Planned]:
        return [r for r in self.rows if r.action == action]

    created = property(lambda self: self.of("new"))
    updated = property(lambda self: self.of("updated"))
    unchanged = property(lambda self: self.of("unchanged"))

    @property
    def skipped(self) -> list[tuple[str, int, str, str]]:
        """Rows already in the ledger as they are (sheet, row, number, why)."""
        return [(r.sheet, r.row, r.number or "", "台账中已有，内容相同") for r in self.unchanged]


class PlanFile:
    """The planned rows of a file, in order, waiting in a temporary file (each written as it is
    planned, read back once per pass): the plan of a large file is never held whole."""

    def __init__(self) -> None:
        self.file: Any = tempfile.TemporaryFile(prefix="qingdan-import-")
        self.count = 0
        self._headers: dict[str, tuple[dict[str, str], dict[str, str]]] = {}

    def add(self, planned: Planned) -> None:
        w = planned.wanted
        self._headers.setdefault(w.sheet, (w.headers, w.columns))  # one table's, shared by its rows
        w.headers, w.columns = {}, {}
        pickle.dump(planned, self.file, protocol=pickle.HIGHEST_PROTOCOL)
        w.headers, w.columns = self._headers[w.sheet]
        self.count += 1

    def __iter__(self) -> Iterator[Planned]:
        self.file.flush()
        self.file.seek(0)
        for _ in range(self.count):
            planned: Planned = pickle.load(self.file)
            planned.wanted.headers, planned.wanted.columns = self._headers[planned.wanted.sheet]
            yield planned

    def __len__(self) -> int:
        return self.count

    def close(self) -> None:
        self.file.close()


@dataclass
class Plan:
    rows: PlanFile
    errors: Errors
    result: ImportResult
    #: the highest sequence number per number prefix in the ledger and in the file's own numbers
    highest: dict[str, int] = field(default_factory=dict)

    def numbered(self) -> Iterator[Planned]:
        """The planned rows, each new row without a number of its own given the next free one after
        every number in the ledger or the file (so numbers kept from the file and numbers allocated in
        the same batch never collide)."""
        highest = dict(self.highest)
        for record in self.rows:
            if record.action == "new" and not record.number:
                assert record.create is not None
                year = (record.create["found_on"] if record.kind == "hazards" else record.create["on"]).year
                prefix = f"{'H' if record.kind == 'hazards' else 'M'}-{record.create['campaign']}-{year}"
                highest[prefix] = highest.get(prefix, 0) + 1
                record.number = f"{prefix}-{highest[prefix]:04d}"
                record.create["number"] = record.number
            yield record


class _DryRun(Exception):
    """Raised at the end of a dry run to abandon the batch."""


def _read(path: Path, result: ImportResult, errors: list[RowError], campaigns: dict[str, Any],
          default: str | None, limits: Limits, progress: Progress | None) -> Iterator[Wanted]:
    """Stream every sheet: find its table, classify its rows, read the data rows into ``Wanted``."""
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
                    yield row
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


def _digest(kind: str, key: tuple[Any, ...]) -> bytes:
    """A record's key (:func:`record_key`) as 16 bytes: what the matcher keeps per record and row."""
    return hashlib.blake2b(repr((kind, key)).encode(), digest_size=16).digest()


class _Matcher:
    """The ledger's records by number and by key, and what the file has matched so far — as numbers,
    row numbers and key digests, never rows: the ledger's rows a row matches are read when it is
    planned (:meth:`fetch`), a chunk of rows at a time."""

    def __init__(self, ledger: Any) -> None:
        self.ledger = ledger
        self.numbers: set[str] = set()
        self.highest: dict[str, int] = {}
        #: key digest -> ((number, campaign), …) of the ledger's records with that key
        self.by_key: dict[bytes, tuple[tuple[str, str | None], ...]] = {}
        for kind in ("hazards", "measures"):
            for row in ledger.each(kind):
                self._add(kind, row.number, row.campaign, record_key(kind, row.campaign, row))
        self.seen_numbers: dict[str, int] = {}  # number -> the row that gave it
        self.seen_keys: dict[bytes, int] = {}  # key digest -> the first row with that key
        self.matched: dict[str, int] = {}  # ledger number -> the row matched with it

    def _add(self, kind: str, number: str, campaign: str | None, key: tuple[Any, ...]) -> None:
        self.numbers.add(number)
        prefix, _, seq = number.rpartition("-")
        if seq.isdigit():
            self.highest[prefix] = max(self.highest.get(prefix, 0), int(seq))
        digest = _digest(kind, key)
        self.by_key[digest] = (*self.by_key.get(digest, ()), (number, campaign))

    def match(self, w: Wanted, problems: Problems) -> tuple[str | None, str | None]:
        """(the ledger's record number, None) or (None, why the row is ignored as a repeat) or (None, None)."""
        key = _digest(w.kind, w.key)
        if w.number:
            if w.number in self.seen_numbers:
                problems("number", f"编号 {w.number} 与第 {self.seen_numbers[w.number]} 行重复")
                return None, None
            self.seen_numbers[w.number] = w.row
            existing = w.number if w.number in self.numbers else None
        else:
            earlier = self.seen_keys.get(key)
            if earlier is not None:
                return None, f"与第 {earlier} 行是同一条记录（{'单位、描述、排查日期' if w.kind == 'hazards' else '专项、名称、责任部门'}相同）"
            candidates = self.by_key.get(key, ())
            if len(candidates) > 1 and w.campaign:
                candidates = tuple(c for c in candidates if c[1] == w.campaign) or candidates
            if len(candidates) > 1:
                numbers = "、".join(c[0] for c in candidates[:5])
                problems("number", f"台账中有 {len(candidates)} 条相同的记录（{numbers}），请填写编号以区分")
                return None, None
            existing = candidates[0][0] if candidates else None
        self.seen_keys.setdefault(key, w.row)
        if existing is not None:
            if existing in self.matched:
                problems("number", f"与第 {self.matched[existing]} 行是台账中的同一条 {existing}")
                return None, None
            self.matched[existing] = w.row
        return existing, None

    def fetch(self, kind: str, numbers: Iterable[str]) -> dict[str, Any]:
        """The ledger's rows of these numbers, by number."""
        return {row.number: row for row in self.ledger.each(kind, numbers=numbers)}


def _chunks(items: Iterator[Wanted], size: int) -> Iterator[list[Wanted]]:
    chunk: list[Wanted] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


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
    errors = Errors()
    result = ImportResult(file=str(path), dry_run=dry_run)
    wanted = _read(path, result, errors, campaigns, campaign, limits, progress)
    matcher = _Matcher(ledger)
    planned = PlanFile()
    try:
        for rows in _chunks(wanted, PLAN_CHUNK):
            found = [(w, Problems(w)) for w in rows]
            matches = [matcher.match(w, problems) for w, problems in found]
            existing = {kind: matcher.fetch(kind, [n for (w, _), (n, _) in zip(found, matches, strict=True)
                                                   if n is not None and w.kind == kind])
                        for kind in ("hazards", "measures")}
            for (w, problems), (number, repeat) in zip(found, matches, strict=True):
                if repeat is not None:
                    result.ignored.append(Ignored(w.sheet, w.row, w.row, repeat))
                    continue
                row = existing[w.kind].get(number) if number is not None else None
                if number is not None and row is None:  # a number that is not a record of this kind
                    row = _other_kind(ledger, w, number, existing)
                reason = f"依据台账 {path.name} 工作表“{w.sheet}”第 {w.row} 行"
                if w.kind == "hazards":
                    plan = (update_hazard(w, row, on=on, reason=reason, campaign_names=names, problems=problems)
                            if row is not None else new_hazard(w, problems))
                else:
                    plan = (update_measure(w, row, on=on, reason=reason, campaign_names=names, problems=problems)
                            if row is not None else new_measure(w, today, problems))
                if problems:
                    errors += [RowError(w.sheet, w.row, column, why) for column, why in problems.found]
                    continue
                if plan.action == "new" and plan.number:
                    _raise(matcher.highest, plan.number)
                planned.add(plan)
    except BaseException:
        planned.close()
        raise
    result.ignored.sort(key=lambda i: ([t.name for t in result.tables].index(i.sheet)
                                       if i.sheet in [t.name for t in result.tables] else 0, i.first))
    return Plan(planned, errors, result, matcher.highest)


def _raise(highest: dict[str, int], number: str) -> None:
    prefix, _, seq = number.rpartition("-")
    if seq.isdigit():
        highest[prefix] = max(highest.get(prefix, 0), int(seq))


def _other_kind(ledger: Any, w: Wanted, number: str, existing: dict[str, dict[str, Any]]) -> Any:
    """A row's number held by a record of the other kind (a measure's number on the hazard sheet):
    that record, as the row is then planned against it (and refused by the plan's rules)."""
    other = "measures" if w.kind == "hazards" else "hazards"
    return existing[other].get(number) or next(iter(ledger.each(other, numbers=[number])), None)


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
    try:
        _write(ledger, plan, result, errors, dry_run, progress)
    finally:
        plan.rows.close()
    return result


def _write(ledger: Any, plan: Plan, result: ImportResult, errors: Errors, dry_run: bool,
           progress: Progress | None) -> None:
    total = len(plan.rows)
    # Rows that read well are still run (and abandoned), so the ledger's own rules report on them
    # too: the clerk gets every error of the file at once.
    # Numbers the file did not give were chosen when the file was planned; another clerk may register
    # one of them before the import is stored: then the ledger gives that row the next free number,
    # under the log's write lock, instead of failing the import (each is declared provisional to the
    # batch as its row runs).
    todo = 0
    try:
        with ledger.batch():
            for done, record in enumerate(plan.numbered(), 1):
                result.count(record)
                if record.action != "unchanged":
                    todo += 1
                    if record.action == "new" and not record.wanted.number and record.number:
                        with ledger.batch(provisional=(record.number,)):
                            result.events += _run(ledger, record, errors)
                    else:
                        result.events += _run(ledger, record, errors)
                    if record.number:
                        ledger.set_aside(record.number)  # no later row touches it: its events wait on disk
                if progress is not None and (done % 100 == 0 or done == total):
                    progress("检查", done, total)
            if errors.total:
                order = {name: i for i, name in enumerate(dict.fromkeys(e.sheet for e in errors))}
                raise ImportRejected(sorted(errors, key=lambda e: (order[e.sheet], e.row)), errors.total)
            if dry_run:
                raise _DryRun
            if progress is not None and todo:
                progress("写入", 0, None)
    except _DryRun:
        pass
    else:
        for record in result.rows:
            if record.action == "new" and not record.wanted.number and record.number:
                record.number = ledger.numbered(record.number)
    if progress is not None and todo and not dry_run:
        progress("写入", 1, 1)


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
