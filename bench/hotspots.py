"""Profile the hot paths with cProfile and print where the time goes.

    .venv/bin/python bench/hotspots.py ingest   [--scale township]          (fresh ledger, batch path)
    .venv/bin/python bench/hotspots.py single   [--url NEW.db] [--commands 1500]  (fresh ledger, one write each)
    .venv/bin/python bench/hotspots.py verify   --url LEDGER.db             (a complete check in one process)
    .venv/bin/python bench/hotspots.py rebuild  --url LEDGER.db
    .venv/bin/python bench/hotspots.py two_lists --url LEDGER.db [--campaign fire]
    .venv/bin/python bench/hotspots.py targets  --url LEDGER.db             (targets() + findings())

``--url`` is a ledger built by ``bench/run.py --keep`` (its files stay in the work directory). The
report lists the top functions by own time and by cumulative time, and the time grouped by layer
(eventsourcing, pydantic, sqlite3/psycopg, qingdan view, qingdan domain, plugins …), which is what
``docs/performance.md`` quotes.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from collections import defaultdict
from datetime import date, datetime
from datetime import time as dtime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from steps import BenchClock, Executor  # noqa: E402
from workload import SCALES, Workload, month_end  # noqa: E402

import qingdan  # noqa: E402
from qingdan.core import forked  # noqa: E402
from qingdan.core.domain import CST  # noqa: E402

LAYERS = (
    ("eventsourcing", "eventsourcing/"),
    ("pydantic", "pydantic"),
    ("psycopg", "psycopg"),
    ("qingdan view (view.py)", "qingdan/core/view.py"),
    ("qingdan reference fold + rows (reference.py)", "qingdan/core/reference.py"),
    ("qingdan domain (domain.py)", "qingdan/core/domain.py"),
    ("qingdan ledger/commands", "qingdan/core/ledger.py"),
    ("qingdan commands", "qingdan/core/commands.py"),
    ("qingdan queries", "qingdan/core/queries.py"),
    ("qingdan targets", "qingdan/core/targets.py"),
    ("qingdan integrity (hash chain)", "qingdan/core/integrity.py"),
    ("qingdan hash chain (chain.py)", "qingdan/core/chain.py"),
    ("qingdan writes (writes.py)", "qingdan/core/writes.py"),
    ("qingdan store (store.py)", "qingdan/core/store.py"),
    ("qingdan view store (viewstore.py)", "qingdan/core/viewstore.py"),
    ("qingdan runs (listed.py)", "qingdan/core/listed.py"),
    ("qingdan record kinds, rows (kinds.py)", "qingdan/core/kinds.py"),
    ("qingdan audit (logscan, folds, viewaudit, audit)", "qingdan/core/logscan.py"),
    ("qingdan audit (logscan, folds, viewaudit, audit)", "qingdan/core/folds.py"),
    ("qingdan audit (logscan, folds, viewaudit, audit)", "qingdan/core/viewaudit.py"),
    ("qingdan audit (logscan, folds, viewaudit, audit)", "qingdan/core/audit.py"),
    ("campaign plugins", "qingdan/plugins/"),
    ("json", "/json/"),
    ("uuid", "uuid.py"),
    ("datetime/stdlib", "_strptime"),
)


def layer_of(filename: str, function: str) -> str:
    if filename == "~":
        if "sqlite3" in function:
            return "sqlite3 (C)"
        if "pydantic_core" in function or "validate_json" in function or "model_dump" in function:
            return "pydantic"
        return f"builtins: {function.split(' of ')[0].strip('<>')}"
    for name, marker in LAYERS:
        if marker in filename:
            return name
    return "other: " + filename.rsplit("/", 2)[-2] if "/" in filename else "other"


def report(profile: cProfile.Profile, title: str, wall: float, top: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    total = stats.total_tt  # type: ignore[attr-defined]
    out.write(f"## {title}\n\nwall {wall:.2f} s, profiled {total:.2f} s (cProfile adds overhead)\n\n")
    layers: dict[str, float] = defaultdict(float)
    for (filename, _line, function), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        layers[layer_of(filename, function)] += tt
    out.write("own time by layer:\n")
    for name, seconds in sorted(layers.items(), key=lambda p: -p[1])[:15]:
        out.write(f"  {100 * seconds / total:5.1f}%  {seconds:7.2f} s  {name}\n")
    out.write("\n")
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def fresh(url: str) -> str:
    """``url``, a SQLite file, with nothing left of an earlier profile's ledger."""
    for suffix in ("", "-wal", "-shm"):
        Path(url + suffix).unlink(missing_ok=True)
    return url


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=("ingest", "single", "rebuild", "two_lists", "targets", "verify"))
    parser.add_argument("--url", help="a ledger built by bench/run.py --keep")
    parser.add_argument("--scale", default="township")
    parser.add_argument("--campaign", default=None)
    parser.add_argument("--commands", type=int, default=1500, help="single: how many commands")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--out", help="also write the report to this file")
    args = parser.parse_args()
    profile = cProfile.Profile()
    if args.what == "ingest":
        url = fresh(args.url or f"/tmp/qingdan-bench/profile-ingest-{args.scale}.db")
        clock = BenchClock()
        ledger = qingdan.open_ledger(url, actor="bench", clock=clock)
        workload = Workload(ledger.catalogue, SCALES[args.scale], seed=20200701)
        run = Executor(ledger, clock)
        months = list(workload.months())
        t0 = time.perf_counter()
        profile.enable()
        for month, steps in months:
            clock.day(min(month_end(month), SCALES[args.scale].end))
            with ledger.batch():
                for step in steps:
                    run(step)
        profile.disable()
        title = f"batch ingest, {args.scale} ({ledger.last_position():,} events)"
    elif args.what == "single":
        # the bench's `single` step: the first commands of a township on a fresh ledger, each its own
        # write (events and view in one transaction), profiled one by one
        url = fresh(args.url or "/tmp/qingdan-bench/profile-single.db")
        clock = BenchClock()
        ledger = qingdan.open_ledger(url, actor="bench", clock=clock)
        workload = Workload(ledger.catalogue, SCALES["township"], seed=20200701)
        run = Executor(ledger, clock)
        steps = [step for _, month in workload.months() for step in month][: args.commands]
        t0 = time.perf_counter()
        profile.enable()
        for step in steps:
            run(step)
        profile.disable()
        title = f"single commands, township: the first {len(steps):,} ({ledger.last_position():,} events)"
    elif args.what == "verify":
        os.environ[forked.ENV] = "1"  # cProfile sees one process
        ledger = qingdan.open_ledger(args.url, actor="bench",
                                     clock=lambda: datetime(2023, 3, 1, 8, tzinfo=CST))
        ledger.catch_up()
        events = ledger.last_position()
        ledger.verify_integrity(full=True, remember=False)  # warm-up: the page cache, the modules
        t0 = time.perf_counter()
        profile.enable()
        checked = ledger.verify_integrity(full=True, remember=False)
        profile.disable()
        assert checked.ok, checked.problems
        title = f"verify --full in one process ({events:,} events)"
    else:
        ledger = qingdan.open_ledger(args.url, actor="bench",
                                     clock=lambda: datetime(2023, 1, 1, 8, tzinfo=CST))
        ledger.catch_up()
        events = ledger.last_position()
        if args.what == "rebuild":
            t0 = time.perf_counter()
            profile.enable()
            ledger.rebuild()
            profile.disable()
            title = f"rebuild ({events:,} events)"
        else:
            ledger.two_lists(as_of=date(2022, 12, 31), campaign="fire")  # warm-up
            dates = [date(2020, 10, 15), date(2021, 6, 15), date(2022, 3, 15), date(2022, 12, 15)]
            t0 = time.perf_counter()
            profile.enable()
            for d in dates:
                if args.what == "two_lists":
                    ledger.two_lists(as_of=d, campaign=args.campaign)
                    ledger.two_lists(as_of=d, campaign=args.campaign,
                                     known_at=datetime.combine(d, dtime(23, 59), tzinfo=CST))
                else:
                    ledger.targets(as_of=d)
                    ledger.findings(as_of=d)
            profile.disable()
            what = "two_lists " + (args.campaign or "all campaigns") if args.what == "two_lists" \
                else "targets()+findings()"
            title = f"{what} at 4 dates (×2 with known_at for two_lists), {events:,} events"
    wall = time.perf_counter() - t0
    text = report(profile, title, wall, args.top)
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
