"""Numbers allocated at write time: an import without numbers and single commands of the same campaign
and year proceed together. A number chosen before the write (when the import was planned, or by a
command) that another writer registers first is replaced, under the log's write lock and before the
events are serialised and chained, by the next free one — the import does not fail, nothing is
registered twice, and ``verify`` finds the ledger sound."""

from __future__ import annotations

import multiprocessing
from datetime import date
from pathlib import Path

import qingdan
from qingdan.io.importer import import_file

ROWS = 150


def write_file(path: Path, rows: int = ROWS, tag: str = "导入") -> Path:
    lines = ["单位名称,隐患描述,排查日期,专项"]
    lines += [f"{tag}单位{i},{tag}隐患{i},2020-09-01,fire" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def hazard_numbers(ledger) -> list[str]:
    return [h.number for h in ledger.two_lists(as_of=date(2020, 12, 31)).hazards]


def test_an_import_whose_numbers_were_taken_meanwhile_is_renumbered_under_the_lock(ledger_url, tmp_path):
    """Deterministic: while the import runs its rows (after it chose its numbers), another clerk's
    ledger registers hazards that take the first of them."""
    path = write_file(tmp_path / "t.csv")
    with qingdan.open_ledger(ledger_url, actor="安监办") as ledger, \
            qingdan.open_ledger(ledger_url, actor="另一位办事员") as other:
        other.report_hazard(campaign="fire", unit="先登记", description="已有", found_on=date(2020, 9, 1))
        taken = []

        def meanwhile(stage, done, total):
            if stage == "检查" and not taken:
                taken.extend(other.report_hazard(campaign="fire", unit=f"同时{i}", description="同时登记",
                                                 found_on=date(2020, 9, 2)) for i in range(5))

        result = import_file(ledger, path, progress=meanwhile)
        assert taken == [f"H-fire-2020-{i:04d}" for i in range(2, 7)]  # the import had planned 2 …
        imported = [r.number for r in result.rows]
        assert len(imported) == ROWS and not set(imported) & set(taken)
        numbers = hazard_numbers(ledger)
        assert len(numbers) == len(set(numbers)) == ROWS + 6
        assert sorted(numbers) == [f"H-fire-2020-{i:04d}" for i in range(1, ROWS + 7)]
        units = {h.number: h.unit for h in ledger.two_lists(as_of=date(2020, 12, 31)).hazards}
        assert {units[n] for n in taken} == {f"同时{i}" for i in range(5)}
        # each row's final number names that row's own hazard
        assert [units[r.number] for r in result.rows] == [f"导入单位{i}" for i in range(ROWS)]
        report = ledger.verify_integrity()
        assert report.ok, report.problems


def test_a_single_command_whose_number_was_taken_gets_the_next(ledger_url):
    """Two ledgers (two processes' caches): the second's guess is stale, and is replaced under the lock."""
    with qingdan.open_ledger(ledger_url, actor="甲") as one, qingdan.open_ledger(ledger_url, actor="乙") as two:
        assert one.report_hazard(campaign="fire", unit="甲1", description="x", found_on=date(2020, 9, 1)) \
            == "H-fire-2020-0001"
        assert two.report_hazard(campaign="fire", unit="乙1", description="x", found_on=date(2020, 9, 1)) \
            == "H-fire-2020-0002"
        # one's cache says 0002 is next; it is taken, so it gets 0003 without a retry or an error
        assert one.report_hazard(campaign="fire", unit="甲2", description="x", found_on=date(2020, 9, 1)) \
            == "H-fire-2020-0003"
        assert one.hazard("H-fire-2020-0003").unit == "甲2"
        assert [e.type for e in one.history("H-fire-2020-0003")] == ["Reported"]
        assert one.verify_integrity().ok


# -- processes ------------------------------------------------------------------------------------


def _import(url: str, path: str, queue) -> None:
    try:
        with qingdan.open_ledger(url, actor="导入") as ledger:
            result = import_file(ledger, path)
        queue.put(("import", [r.number for r in result.rows]))
    except Exception as error:  # reported to the parent, which fails the test
        queue.put(("error", repr(error)))


def _commands(url: str, writer: int, count: int, queue) -> None:
    try:
        with qingdan.open_ledger(url, actor=f"办事员{writer}") as ledger:
            numbers = [ledger.report_hazard(campaign="fire", unit=f"单位{writer}-{i}", description="单条登记",
                                            found_on=date(2020, 9, 1)) for i in range(count)]
        queue.put(("commands", numbers))
    except Exception as error:
        queue.put(("error", repr(error)))


def test_an_import_and_single_commands_in_other_processes_proceed_together(ledger_url, tmp_path):
    with qingdan.open_ledger(ledger_url, actor="安监办"):
        pass  # create the tables once, before the race
    files = [str(write_file(tmp_path / f"t{i}.csv", tag=f"导入{i}")) for i in range(3)]
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_commands, args=(ledger_url, w, 40, queue)) for w in range(2)]
    procs += [ctx.Process(target=_import, args=(ledger_url, f, queue)) for f in files]
    for p in procs:
        p.start()
    results = [queue.get(timeout=240) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    errors = [r[1] for r in results if r[0] == "error"]
    assert not errors, errors
    numbers = [n for _, found in results for n in found]
    assert len(numbers) == 2 * 40 + 3 * ROWS
    assert len(set(numbers)) == len(numbers)
    with qingdan.open_ledger(ledger_url, actor="安监办") as ledger:
        stored = hazard_numbers(ledger)
        assert sorted(stored) == sorted(numbers)
        units = {h.number: h.unit for h in ledger.two_lists(as_of=date(2020, 12, 31)).hazards}
        for kind, found in results:
            if kind == "import":  # each imported row's number is that row's hazard
                assert len({units[n].rstrip("0123456789") for n in found}) == 1
        report = ledger.verify_integrity()
        assert report.ok, report.problems


# -- renumber itself --------------------------------------------------------------------------------


def test_renumber_changes_the_record_id_and_whole_fields_only():
    from dataclasses import dataclass

    from qingdan.core.base import aggregate_id
    from qingdan.core.writes import renumber

    @dataclass(frozen=True)
    class Event:
        originator_id: object
        originator_version: int
        number: str
        note: str
        inspectors: tuple

    old, kept = "H-fire-2020-0002", "H-fire-2020-0003"
    events = [Event(aggregate_id(old), 1, old, f"见 {old}", ("张三", old)),
              Event(aggregate_id(old), 2, old, "", ()),
              Event(aggregate_id(kept), 1, kept, "", ())]
    stored = {aggregate_id(f"H-fire-2020-{n:04d}") for n in (1, 2, 4)}
    movable = {old, kept}
    mapping, changed = renumber(events, movable, lambda ids: stored & set(ids), {})
    # 0002 is taken; 0003 is this batch's own; 0004 is taken: the next free is 0005
    assert mapping == {old: "H-fire-2020-0005"} and changed == {0, 1}
    first = events[0]
    assert (first.originator_id, first.number) == (aggregate_id("H-fire-2020-0005"), "H-fire-2020-0005")
    assert first.note == f"见 {old}"  # a mention inside a text is not a reference
    assert first.inspectors == ("张三", "H-fire-2020-0005")
    assert events[1].originator_id == aggregate_id("H-fire-2020-0005")
    assert (events[2].number, events[2].originator_id) == (kept, aggregate_id(kept))
    # a retried insert finds 0005 taken too: it moves on again
    stored.add(aggregate_id("H-fire-2020-0005"))
    again, _ = renumber(events, movable, lambda ids: stored & set(ids), {})
    assert again == {"H-fire-2020-0005": "H-fire-2020-0006"} and events[0].number == "H-fire-2020-0006"
