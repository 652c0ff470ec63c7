"""Crash safety: kill -9 at random points during a batch import, a command sequence and a rebuild.

After each kill the log holds all or none of each batch, and once reopened the view catches up to
match the reference fold, as ``verify_integrity`` confirms. Trials per scenario: QINGDAN_CRASH_TRIALS
(default 20).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import qingdan
from tests.conftest import make_catalogue

TRIALS = int(os.environ.get("QINGDAN_CRASH_TRIALS", "20"))

CHILD = textwrap.dedent("""
    import sys
    from datetime import date
    import qingdan
    from tests.conftest import make_catalogue
    url, mode, trial = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ledger = qingdan.open_ledger(url, actor="crash", catalogue=make_catalogue())
    print("ready", flush=True)
    if mode == "import":
        for batch in range(1000):
            with ledger.batch():
                for i in range(50):
                    n = ledger.report_hazard(campaign="fire", unit=f"u{i}", description=f"b{trial}-{batch}",
                                             found_on=date(2020, 9, 1))
                    ledger.plan_rectification(n, deadline=date(2020, 12, 31), on=date(2020, 9, 2))
    elif mode == "commands":
        for i in range(100000):
            n = ledger.report_hazard(campaign="fire", unit=f"u{i}", description="c", found_on=date(2020, 9, 1))
            ledger.plan_rectification(n, deadline=date(2020, 12, 31), on=date(2020, 9, 2))
            ledger.complete_rectification(n, on=date(2020, 9, 3))
    else:
        while True:
            ledger.rebuild()
""")


def run_and_kill(url: str, mode: str, trial: int, rng: random.Random) -> None:
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    child = subprocess.Popen([sys.executable, "-c", CHILD, url, mode, str(trial)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()
        assert line.strip() == "ready", child.stderr.read()
        time.sleep(rng.uniform(0.05, 0.6))
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)


def check_after_restart(url: str) -> dict[str, int]:
    with qingdan.open_ledger(url, catalogue=make_catalogue()) as ledger:
        ledger.catch_up()
        result = ledger.verify_integrity()
        assert result.ok, result.problems
        batches: dict[str, int] = {}
        for h in ledger.two_lists(as_of=ledger.today()).hazards:
            batches[h.description] = batches.get(h.description, 0) + 1
        return batches


@pytest.mark.parametrize("mode", ["import", "commands", "rebuild"])
def test_kill_minus_nine_loses_nothing_half_written(mode, url_factory):
    rng = random.Random(f"{mode}-seed")
    url = url_factory()
    if mode == "rebuild":  # something to rebuild
        with qingdan.open_ledger(url, catalogue=make_catalogue()) as ledger, ledger.batch():
            for i in range(300):
                ledger.report_hazard(campaign="fire", unit=f"u{i}", description="seed",
                                     found_on=qingdan.core.ledger.date(2020, 9, 1))
    seen_events = []
    for trial in range(TRIALS):
        run_and_kill(url, mode, trial, rng)
        batches = check_after_restart(url)
        if mode == "import":
            # every batch wrote 50 hazards (with 2 events each) or nothing at all
            assert all(count == 50 for count in batches.values()), batches
        with qingdan.open_ledger(url, catalogue=make_catalogue()) as ledger:
            seen_events.append(ledger._view.max_position())
    if mode != "rebuild":
        assert seen_events[-1] > seen_events[0], "the children never got to write anything"
