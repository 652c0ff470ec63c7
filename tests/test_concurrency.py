"""Several writer processes on one database: numbers stay unique and dense, no update is lost."""

from __future__ import annotations

import multiprocessing
import os
from datetime import date

import pytest

import qingdan
from qingdan.core.reference import load_streams
from tests.conftest import make_catalogue

WRITERS = 4
EACH = 12


def _report_many(url: str, writer: int, queue) -> None:
    try:
        with qingdan.open_ledger(url, actor=f"writer{writer}", catalogue=make_catalogue()) as ledger:
            numbers = [ledger.report_hazard(campaign="fire", unit=f"单位{writer}-{i}",
                                            description="并发登记", found_on=date(2020, 9, 1))
                       for i in range(EACH)]
        queue.put(("ok", numbers))
    except Exception as error:  # reported to the parent, which fails the test
        queue.put(("error", repr(error)))


def _progress_many(url: str, number: str, writer: int, queue) -> None:
    try:
        with qingdan.open_ledger(url, actor=f"writer{writer}", catalogue=make_catalogue()) as ledger:
            for i in range(EACH):
                ledger.report_progress(number, text=f"writer{writer} step{i}")
        queue.put(("ok", []))
    except Exception as error:
        queue.put(("error", repr(error)))


def _run(target, args_list):
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args, queue)) for args in args_list]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    errors = [r[1] for r in results if r[0] != "ok"]
    assert not errors, errors
    return [n for _, numbers in results for n in numbers]


def test_concurrent_reports_get_unique_dense_numbers(ledger_url):
    with qingdan.open_ledger(ledger_url, catalogue=make_catalogue()):
        pass  # create the tables once, before the race
    numbers = _run(_report_many, [(ledger_url, w) for w in range(WRITERS)])
    assert len(numbers) == len(set(numbers)) == WRITERS * EACH
    assert sorted(numbers) == [f"H-fire-2020-{i:04d}" for i in range(1, WRITERS * EACH + 1)]
    with qingdan.open_ledger(ledger_url, catalogue=make_catalogue()) as ledger:
        for n in numbers:
            assert [e.type for e in ledger.history(n)] == ["Reported"]


def test_concurrent_commands_on_one_hazard_lose_nothing(ledger_url):
    with qingdan.open_ledger(ledger_url, catalogue=make_catalogue()) as ledger:
        number = ledger.report_hazard(campaign="fire", unit="x", description="y",
                                      found_on=date(2020, 9, 1))
    _run(_progress_many, [(ledger_url, number, w) for w in range(WRITERS)])
    with qingdan.open_ledger(ledger_url, catalogue=make_catalogue()) as ledger:
        history = ledger.history(number)
    texts = sorted(e.data["text"] for e in history if e.type == "ProgressReported")
    assert texts == sorted(f"writer{w} step{i}" for w in range(WRITERS) for i in range(EACH))
    assert [e.version for e in history] == list(range(1, WRITERS * EACH + 2))


COMMANDS = int(os.environ.get("QINGDAN_CONCURRENT_COMMANDS", "200"))


def event_total(ledger) -> int:
    return sum(len(events) for events in load_streams(ledger._app).values())


def _mixed(url: str, shared: str, writer: int, queue) -> None:
    """Half the commands on one shared hazard, half creating and planning hazards of its own."""
    try:
        conflicts = 0
        with qingdan.open_ledger(url, actor=f"writer{writer}", catalogue=make_catalogue()) as ledger:
            own = None
            for i in range(COMMANDS):
                try:
                    if i % 2 == 0:
                        ledger.report_progress(shared, text=f"w{writer}-{i}")
                    elif own is None or i % 4 == 1:
                        own = ledger.report_hazard(campaign="fire", unit=f"w{writer}", description=str(i),
                                                   found_on=date(2020, 9, 1))
                    else:
                        ledger.plan_rectification(own, deadline=date(2020, 12, 31))
                except qingdan.Conflict:
                    conflicts += 1
        queue.put(("ok", [conflicts]))
    except Exception as error:
        queue.put(("error", repr(error)))


def test_four_writers_two_hundred_commands_each_on_same_and_different_hazards(ledger_url):
    with qingdan.open_ledger(ledger_url, catalogue=make_catalogue()) as ledger:
        shared = ledger.report_hazard(campaign="fire", unit="共享", description="多人同时处理",
                                      found_on=date(2020, 9, 1))
    conflicts = _run(_mixed, [(ledger_url, shared, w) for w in range(WRITERS)])
    with qingdan.open_ledger(ledger_url, catalogue=make_catalogue()) as ledger:
        progress = [e for e in ledger.history(shared) if e.type == "ProgressReported"]
        # every command either landed or was reported as a Conflict to its writer: none vanished
        assert len(progress) + sum(conflicts) == WRITERS * (COMMANDS // 2)
        print(f"\n{ledger.backend}: {WRITERS}x{COMMANDS} commands, {len(progress)} on the shared hazard, "
              f"{sum(conflicts)} reported as Conflict, {event_total(ledger)} events stored")
        assert len({e.data["text"] for e in progress}) == len(progress)
        hazards = ledger.two_lists().hazards
        numbers = [h.number for h in hazards]
        assert len(numbers) == len(set(numbers))
        assert sorted(numbers) == [f"H-fire-2020-{i:04d}" for i in range(1, len(numbers) + 1)]
        assert len(numbers) == 1 + WRITERS * (COMMANDS // 4)
        assert event_total(ledger) == 1 + WRITERS * COMMANDS - sum(conflicts)
        result = ledger.verify_integrity()
        assert result.ok, result.problems


def test_a_long_running_process_never_rejects_on_stale_state(ledger_url):
    """Two host processes share one database; each keeps recently stored records in memory.
    A command rejected on what one of them remembers is judged again on the stored state."""
    with qingdan.open_ledger(ledger_url, catalogue=make_catalogue()) as first, \
            qingdan.open_ledger(ledger_url, catalogue=make_catalogue()) as second:
        number = first.report_hazard(campaign="fire", unit="x", description="y", found_on=date(2020, 9, 1))
        first.complete_rectification(number, on=date(2020, 9, 2))
        first.verify(number, passed=True, inspector="王五", on=date(2020, 9, 3))
        first.close(number, on=date(2020, 9, 4))           # `first` remembers: closed
        second.reopen(number, reason="回头看", on=date(2020, 9, 5))  # …then `second` reopens it
        first.complete_rectification(number, on=date(2020, 9, 6))  # valid on the stored state
        assert first.hazard(number).status == "awaiting_verification"
        with pytest.raises(qingdan.InvalidCommand, match="只有已销号的隐患可以反销号"):
            first.reopen(number, reason="again", on=date(2020, 9, 7))
