"""One benchmark step per process, so each step's peak memory (ru_maxrss) is its own.

Run as ``python bench/steps.py STEP '<json config>'``; the last line of stdout is the step's result
as JSON. :mod:`bench.run` starts these one after another (never two at once: the figures would
disturb each other) and collects the results.
"""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from uuid import uuid4

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workload import SCALES, Ref, Scale, Step, Workload, month_end  # noqa: E402

import qingdan  # noqa: E402
from qingdan.core.domain import CST  # noqa: E402
from qingdan.core.ledger import LedgerApplication, persistence_env  # noqa: E402
from qingdan.core.reference import fold_all  # noqa: E402

PAGE = 1000


class BenchClock:
    """Recorded times that follow the workload's days, one millisecond per reading."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2020, 7, 1, 8, 0, tzinfo=CST)

    def __call__(self) -> datetime:
        self.current += timedelta(milliseconds=1)
        return self.current

    def day(self, d: date) -> None:
        start = datetime(d.year, d.month, d.day, 8, 0, tzinfo=CST)
        if start > self.current:
            self.current = start


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(seconds: list[float]) -> dict[str, Any]:
    ms = [s * 1000 for s in seconds]
    return {"median_ms": statistics.median(ms), "p95_ms": quantile(ms, 0.95),
            "min_ms": min(ms), "max_ms": max(ms), "samples": len(ms)}


class Executor:
    """Runs workload steps against a ledger, resolving handles to the numbers the ledger returned."""

    def __init__(self, ledger: qingdan.Ledger, clock: BenchClock) -> None:
        self.ledger = ledger
        self.clock = clock
        self.numbers: dict[int, str] = {}

    def _resolve(self, value: Any) -> Any:
        return self.numbers[value.key] if isinstance(value, Ref) else value

    def __call__(self, step: Step) -> None:
        self.clock.day(step.day)
        args = [self._resolve(a) for a in step.args]
        kwargs = {k: self._resolve(v) for k, v in step.kwargs.items()}
        result = getattr(self.ledger, step.method)(*args, **kwargs)
        if step.creates is not None:
            self.numbers[step.creates.key] = result


class Timed:
    """Wraps a bound method on an instance and adds up the time spent in it."""

    def __init__(self, owner: Any, name: str) -> None:
        self.inner = getattr(owner, name)
        self.seconds = 0.0
        self.calls = 0
        setattr(owner, name, self)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return self.inner(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start
            self.calls += 1


class WriteTimers:
    """Where a write's time goes: the store step (the events' transaction, which since the view is
    written within it includes the view's work there), the view's part of it, and the catch-ups
    after it. ``events`` is the store step less the view's part: eventsourcing's transcoding, the
    insert, the commit."""

    def __init__(self, ledger: qingdan.Ledger) -> None:
        uow = getattr(ledger, "_uow", None)
        self.store = Timed(uow, "store") if uow is not None else Timed(ledger._app, "save")
        self.within = Timed(ledger._view, "apply_within") if hasattr(ledger._view, "apply_within") else None
        self.catch_up = Timed(ledger._view, "catch_up")

    @property
    def view(self) -> float:
        return self.catch_up.seconds + (self.within.seconds if self.within else 0.0)

    @property
    def events(self) -> float:
        return self.store.seconds - (self.within.seconds if self.within else 0.0)

    def split(self, total: float) -> dict[str, float]:
        return {"commands": total - self.events - self.view, "eventsourcing_save": self.events,
                "view_catch_up": self.view}


def scale_of(config: dict[str, Any]) -> Scale:
    return SCALES[config["scale"]]


def open_ledger(config: dict[str, Any], clock: Callable[[], datetime] | None = None,
                url: str | None = None) -> qingdan.Ledger:
    return qingdan.open_ledger(url or config["url"], actor="bench", clock=clock)


def event_count(ledger: qingdan.Ledger) -> int:
    return ledger.last_position()


# -- raw database access (topic mix; baseline c) -------------------------------------------------


def raw_connect(url: str) -> tuple[Any, str]:
    env, backend = persistence_env(url)
    if backend == "sqlite":
        return sqlite3.connect(env["SQLITE_DBNAME"]), backend
    import psycopg

    conn = psycopg.connect(dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"],
                           port=env["POSTGRES_PORT"], user=env["POSTGRES_USER"], autocommit=True)
    if env.get("POSTGRES_SCHEMA"):
        conn.execute(f'SET search_path TO "{env["POSTGRES_SCHEMA"]}"')
    return conn, backend


def events_table(url: str) -> str:
    ledger = qingdan.open_ledger(url)
    name = ledger._app.recorder.events_table_name
    ledger.disconnect()
    return name


def topic_mix(url: str) -> dict[str, int]:
    table = events_table(url)
    conn, _ = raw_connect(url)
    rows = conn.execute(f"SELECT topic, COUNT(*) FROM {table} GROUP BY topic").fetchall()
    conn.close()
    return {topic.rsplit(":", 1)[-1]: n for topic, n in sorted(rows, key=lambda r: -r[1])}


# -- steps ---------------------------------------------------------------------------------------


def step_idle(config: dict[str, Any]) -> dict[str, Any]:
    """The memory of a process that opened a ledger and loaded the plugins (the floor of every step)."""
    ledger = open_ledger(config)
    _ = ledger.catalogue.campaigns
    ledger.disconnect()
    return {"peak_rss_mb": peak_rss_mb()}


def step_ingest(config: dict[str, Any]) -> dict[str, Any]:
    """Build the ledger through the batch path (one batch per month, as a monthly 台账 import).

    After each month the fire campaign's 两个清单 is submitted (timed apart: it is a query, not ingest).
    The batches' notification ranges are written to ``config["batches"]`` for baseline (a).
    """
    clock = BenchClock()
    ledger = open_ledger(config, clock)
    workload = Workload(ledger.catalogue, scale_of(config), seed=config["seed"])
    run = Executor(ledger, clock)
    timers = WriteTimers(ledger)
    ingest_seconds, generate_seconds, commands = 0.0, 0.0, 0
    batches: list[tuple[int, int]] = []
    batch_rates: list[float] = []
    submit: list[float] = []
    started = time.perf_counter()
    months = workload.months()
    while True:
        t0 = time.perf_counter()
        try:
            month, steps = next(months)
        except StopIteration:
            break
        generate_seconds += time.perf_counter() - t0
        before = event_count(ledger)
        # A batch is recorded at one moment, so the month is imported at its end (as a monthly 台账).
        last = min(month_end(month), scale_of(config).end)
        clock.day(last)
        t0 = time.perf_counter()
        with ledger.batch():
            for step in steps:
                run(step)
        elapsed = time.perf_counter() - t0
        ingest_seconds += elapsed
        commands += len(steps)
        after = event_count(ledger)
        batches.append((before, after))
        if after > before:
            batch_rates.append((after - before) / elapsed)
        if "fire" in ledger.catalogue.campaigns:
            t0 = time.perf_counter()
            ledger.submit_report(period=month.strftime("%Y-%m"), campaign="fire",
                                 as_of=min(month.replace(day=25), last), on=last)
            submit.append(time.perf_counter() - t0)
    total = time.perf_counter() - started
    events = sum(b - a for a, b in batches)
    Path(config["batches"]).write_text(json.dumps(batches))
    ledger.disconnect()
    return {
        "events": events, "events_total": event_count(open_ledger(config)), "commands": commands,
        "batches": len(batches), "seconds": ingest_seconds, "events_per_s": events / ingest_seconds,
        "batch_rate_median": statistics.median(batch_rates) if batch_rates else None,
        "split_seconds": timers.split(ingest_seconds),
        "generate_seconds": generate_seconds, "wall_seconds": total,
        "submit_report": summary(submit) if submit else None,
        "topics": topic_mix(config["url"]),
        "peak_rss_mb": peak_rss_mb(),
    }


def step_single(config: dict[str, Any]) -> dict[str, Any]:
    """Single commands (each saved and the view caught up), the first ``limit`` of the workload."""
    clock = BenchClock()
    ledger = open_ledger(config, clock, url=config["single_url"])
    workload = Workload(ledger.catalogue, SCALES["township"], seed=config["seed"])
    run = Executor(ledger, clock)
    timers = WriteTimers(ledger)
    latencies: list[float] = []
    for _, steps in workload.months():
        for step in steps:
            t0 = time.perf_counter()
            run(step)
            latencies.append(time.perf_counter() - t0)
            if len(latencies) >= config["single_limit"]:
                break
        if len(latencies) >= config["single_limit"]:
            break
    events = event_count(ledger)
    seconds = sum(latencies)
    ledger.disconnect()
    return {"events": events, "commands": len(latencies), "seconds": seconds,
            "events_per_s": events / seconds, "latency": summary(latencies),
            "split_seconds": timers.split(seconds),
            "peak_rss_mb": peak_rss_mb()}


def step_append(config: dict[str, Any]) -> dict[str, Any]:
    """Single commands on the full ledger: a further month (2023-01) of three new townships."""
    clock = BenchClock(datetime(2023, 1, 1, 8, 0, tzinfo=CST))
    ledger = open_ledger(config, clock)
    scale = Scale("append", 3, start=date(2023, 1, 1), end=date(2023, 1, 31))
    workload = Workload(ledger.catalogue, scale, seed=config["seed"] + 1, township_offset=900,
                        tasks=False)
    run = Executor(ledger, clock)
    before = event_count(ledger)
    latencies: list[float] = []
    for _, steps in workload.months():
        for step in steps[: config["single_limit"]]:
            t0 = time.perf_counter()
            run(step)
            latencies.append(time.perf_counter() - t0)
    events = event_count(ledger) - before
    seconds = sum(latencies)
    ledger.disconnect()
    return {"events": events, "commands": len(latencies), "seconds": seconds,
            "events_per_s": events / seconds, "latency": summary(latencies),
            "peak_rss_mb": peak_rss_mb()}


def batch_events(app: Any, batches: list[tuple[int, int]]) -> Iterator[list[Any]]:
    for low, high in batches:
        if high <= low:
            continue
        notifications = app.recorder.select_notifications(start=low + 1, limit=high - low)
        yield [app.mapper.to_domain_event(n) for n in notifications]


SINGLE_BARE = 1500  # events saved one at a time for the single-save baseline


def step_baseline_a(config: dict[str, Any]) -> dict[str, Any]:
    """(a) eventsourcing's own save of the same events, in the same batches, with no projection."""
    source = open_ledger(config)._app
    env, _ = persistence_env(config["bare_url"])
    bare = LedgerApplication(env=env)
    batches = [tuple(b) for b in json.loads(Path(config["batches"]).read_text())]
    seconds, events = 0.0, 0
    for domain_events in batch_events(source, batches):
        t0 = time.perf_counter()
        bare.save(*domain_events)
        seconds += time.perf_counter() - t0
        events += len(domain_events)
    # One bare save of one event (what a single command costs eventsourcing): the log's first
    # events again, each under a new record id, saved one at a time into the same store.
    renamed: dict[Any, Any] = {}
    latencies: list[float] = []
    for notification in source.recorder.select_notifications(start=1, limit=SINGLE_BARE):
        event = source.mapper.to_domain_event(notification)
        new_id = renamed.setdefault(event.originator_id, uuid4())
        copy = dataclasses.replace(event, originator_id=new_id)
        t0 = time.perf_counter()
        bare.save(copy)
        latencies.append(time.perf_counter() - t0)
    bare.close()
    return {"events": events, "seconds": seconds, "events_per_s": events / seconds,
            "single_save": summary(latencies), "peak_rss_mb": peak_rss_mb()}


def step_baseline_c(config: dict[str, Any]) -> dict[str, Any]:
    """(c) raw sqlite3 from Python: insert the same stored rows in the same batches, then scan them."""
    table = events_table(config["url"])
    source, _ = raw_connect(config["url"])
    path = config["raw_path"]
    for suffix in ("", "-wal", "-shm"):
        Path(path + suffix).unlink(missing_ok=True)
    target = sqlite3.connect(path, isolation_level=None)
    target.execute("PRAGMA journal_mode=WAL")
    target.execute("PRAGMA synchronous=NORMAL")
    target.execute("CREATE TABLE events (originator_id TEXT, originator_version INTEGER, topic TEXT, "
                   "state BLOB, PRIMARY KEY (originator_id, originator_version))")
    batches = [tuple(b) for b in json.loads(Path(config["batches"]).read_text())]
    insert_seconds, rows, size = 0.0, 0, 0
    for low, high in batches:
        if high <= low:
            continue
        page = source.execute(f"SELECT originator_id, originator_version, topic, state FROM {table} "
                              "WHERE rowid > ? AND rowid <= ? ORDER BY rowid", (low, high)).fetchall()
        t0 = time.perf_counter()
        target.execute("BEGIN")
        target.executemany("INSERT INTO events VALUES (?, ?, ?, ?)", page)
        target.execute("COMMIT")
        insert_seconds += time.perf_counter() - t0
        rows += len(page)
        size += sum(len(r[3]) for r in page)
    t0 = time.perf_counter()
    scanned = 0
    for _ in target.execute("SELECT rowid, originator_id, originator_version, topic, state FROM events "
                            "ORDER BY rowid"):
        scanned += 1
    scan_seconds = time.perf_counter() - t0
    target.close()
    source.close()
    for suffix in ("", "-wal", "-shm"):
        Path(path + suffix).unlink(missing_ok=True)
    return {"rows": rows, "mean_state_bytes": size / max(rows, 1),
            "insert_rows_per_s": rows / insert_seconds, "scan_rows_per_s": scanned / scan_seconds,
            "peak_rss_mb": peak_rss_mb()}


def query_dates(count: int, end: date) -> list[date]:
    first = date(2020, 8, 15)
    span = (end - first).days
    return [first + timedelta(days=span * k // max(count - 1, 1)) for k in range(count)]


def end_of_day(d: date) -> datetime:
    return datetime.combine(d, dtime(23, 59, 59), tzinfo=CST)


PAGE = 100


def step_queries(config: dict[str, Any]) -> dict[str, Any]:
    """two_lists for one campaign and for all, with and without known_at; targets()+findings()."""
    scale = scale_of(config)
    ledger = open_ledger(config, BenchClock(datetime.combine(scale.end + timedelta(days=1), dtime(8),
                                                              tzinfo=CST)))
    ledger.catch_up()
    ledger.two_lists(as_of=scale.end, campaign="fire")  # warm-up: load the plugins, prepare statements
    repeat = config["repeat"]
    dates = query_dates(config["query_dates"], scale.end)
    out: dict[str, Any] = {}
    variants = {"one_campaign": "fire", "all_campaigns": None}
    sizes: dict[tuple[str | None, date, bool], int] = {}
    for name, campaign in variants.items():
        for known in (False, True):
            samples, rows = [], []
            for d in dates:
                for _ in range(repeat):
                    ledger.forget_snapshots()  # measure a cold read, not the repeat cache
                    t0 = time.perf_counter()
                    lists = ledger.two_lists(as_of=d, campaign=campaign,
                                             known_at=end_of_day(d) if known else None)
                    samples.append(time.perf_counter() - t0)
                rows.append(len(lists.hazards) + len(lists.measures))
                sizes[(campaign, d, known)] = len(lists.hazards)
            out[f"two_lists_{name}{'_known_at' if known else ''}"] = {
                **summary(samples), "rows_median": statistics.median(rows), "rows_max": max(rows)}
    # A page of the list, as a clerk or a host system reads it: the first page and one from the
    # middle of the list, PAGE rows each, by offset (``_page``); the last page by offset
    # (``_page_last``: an offset walks every row before its page); the middle and the last page by
    # the number of the row before them (``_page_after``: an index seek, as a reader going page by
    # page does).
    for name, campaign in variants.items():
        for known in (False, True):
            taken: dict[str, tuple[list[float], list[int]]] = {k: ([], []) for k in ("page", "page_last", "page_after")}
            for d in dates:
                known_at = end_of_day(d) if known else None
                size = sizes[(campaign, d, known)]
                numbers = [h.number for h in ledger.two_lists(as_of=d, campaign=campaign, known_at=known_at).hazards]
                for kind, page in (("page", {"offset": 0}), ("page", {"offset": size // 2}),
                                   ("page_last", {"offset": max(0, size - PAGE)}),
                                   ("page_after", {"after": numbers[size // 2 - 1] if size > 1 else None}),
                                   ("page_after", {"after": numbers[size - PAGE - 1] if size > PAGE else None})):
                    samples, rows = taken[kind]
                    for _ in range(repeat):
                        ledger.forget_snapshots()
                        t0 = time.perf_counter()
                        lists = ledger.two_lists(as_of=d, campaign=campaign, limit=PAGE, known_at=known_at, **page)
                        samples.append(time.perf_counter() - t0)
                    rows.append(len(lists.hazards) + len(lists.measures))
            for kind, (samples, rows) in taken.items():
                out[f"two_lists_{name}_{kind}{'_known_at' if known else ''}"] = {
                    **summary(samples), "rows_median": statistics.median(rows), "rows_max": max(rows)}
    samples, t_samples, f_samples = [], [], []
    for d in dates[:: max(1, len(dates) // config["target_dates"])][: config["target_dates"]]:
        for _ in range(max(1, repeat)):
            ledger.forget_snapshots()  # targets() then findings() share one snapshot, as in use
            t0 = time.perf_counter()
            ledger.targets(as_of=d)
            t1 = time.perf_counter()
            ledger.findings(as_of=d)
            t2 = time.perf_counter()
            samples.append(t2 - t0)
            t_samples.append(t1 - t0)
            f_samples.append(t2 - t1)
    out["targets_findings"] = summary(samples)
    out["targets"] = summary(t_samples)
    out["findings"] = summary(f_samples)
    out["peak_rss_mb"] = peak_rss_mb()
    ledger.disconnect()
    return out


def step_baseline_b(config: dict[str, Any]) -> dict[str, Any]:
    """(b) naive replay: fold_all reads the whole log and folds every record for the same question.

    Also checks that the view and the replay agree on the hazards (number, status) at each date.
    """
    scale = scale_of(config)
    ledger = open_ledger(config, BenchClock(datetime.combine(scale.end + timedelta(days=1), dtime(8),
                                                              tzinfo=CST)))
    ledger.catch_up()
    dates = query_dates(config["query_dates"], scale.end)
    dates = dates[:: max(1, len(dates) // config["replay_dates"])][: config["replay_dates"]]
    samples: list[float] = []
    agree = True
    for d in dates:
        for known in (None, end_of_day(d)):
            for _ in range(config["replay_repeat"]):
                t0 = time.perf_counter()
                folded = fold_all(ledger._app, d, known)
                samples.append(time.perf_counter() - t0)
            view = ledger.two_lists(as_of=d, known_at=known, include_withdrawn=True)
            agree &= [(h.number, h.status) for h in folded["hazards"]] == \
                [(h.number, h.status) for h in view.hazards]
            agree &= [(m.number, m.status) for m in folded["measures"]] == \
                [(m.number, m.status) for m in view.measures]
            del folded
    ledger.disconnect()
    return {"fold_all": summary(samples), "dates": [d.isoformat() for d in dates],
            "view_agrees": agree, "peak_rss_mb": peak_rss_mb()}


def step_export(config: dict[str, Any]) -> dict[str, Any]:
    """Stream the event log to JSON lines, a page of notifications at a time."""
    ledger = open_ledger(config)
    recorder = ledger._app.recorder
    path = Path(config["export_path"])
    t0 = time.perf_counter()
    count, position = 0, 0
    with path.open("w", encoding="utf-8") as out:
        while True:
            page = recorder.select_notifications(start=position + 1, limit=PAGE)
            if not page:
                break
            for n in page:
                out.write(json.dumps({"id": n.id, "originator_id": str(n.originator_id),
                                      "originator_version": n.originator_version, "topic": n.topic,
                                      "state": json.loads(n.state)}, ensure_ascii=False))
                out.write("\n")
            count += len(page)
            position = page[-1].id
    seconds = time.perf_counter() - t0
    size = path.stat().st_size
    path.unlink()
    ledger.disconnect()
    return {"events": count, "seconds": seconds, "events_per_s": count / seconds,
            "bytes": size, "peak_rss_mb": peak_rss_mb()}


def step_rebuild(config: dict[str, Any]) -> dict[str, Any]:
    """Drop the view and replay it from the log."""
    ledger = open_ledger(config)
    t0 = time.perf_counter()
    events = ledger.rebuild()
    seconds = time.perf_counter() - t0
    conn, _ = raw_connect(config["url"])
    rows = conn.execute("SELECT COUNT(*) FROM qd_versions").fetchone()[0]
    conn.close()
    ledger.disconnect()
    return {"events": events, "seconds": seconds, "events_per_s": events / seconds,
            "view_rows": rows, "peak_rss_mb": peak_rss_mb()}


#: Whole processes timed by :func:`step_startup`: the baselines first, then the command line.
STARTUP_BASELINES = {
    "python": ["-c", "pass"],
    "import pydantic, eventsourcing": ["-c", "import pydantic, eventsourcing"],
    "pydantic BaseModel + eventsourcing Application": [
        "-c", "from pydantic import BaseModel; import eventsourcing.application"],
    # what a module of models also imports from pydantic: Field (pydantic.fields, types, annotated_types)
    "pydantic BaseModel, Field + eventsourcing Application": [
        "-c", "from pydantic import BaseModel, Field; import eventsourcing.application"],
}


def step_startup(config: dict[str, Any]) -> dict[str, Any]:
    """Whole processes on the ingested ledger: ``qingdan hazard show`` (the plain command of the CLI
    issue), a page of ``lists`` and ``--help``, against Python itself and importing the libraries,
    the fastest of ``startup_repeat`` runs of each, taken in turn (so load on the machine hits all
    alike). Bytecode is compiled first, as an installed wheel has it. The campaigns' names come from
    a cache of their own (written by the first run); one more run of ``hazard show`` keeps none and
    loads the plugins for them."""
    import compileall
    import tempfile

    compileall.compile_dir(str(Path(qingdan.__file__).parent), quiet=1)
    ledger = open_ledger(config)
    number = ledger.two_lists(as_of=date(2022, 12, 31), limit=1).hazards[0].number
    ledger.disconnect()
    python = sys.executable
    cli = str(Path(python).with_name("qingdan"))
    runs = {name: [python, *argv] for name, argv in STARTUP_BASELINES.items()}
    runs.update({
        "qingdan hazard show": [cli, "--db", config["url"], "hazard", "show", number],
        "qingdan lists (page of 20)": [cli, "--db", config["url"], "lists", "--limit", "20"],
        "qingdan --help": [cli, "--help"],
    })
    runs["qingdan hazard show (names not cached)"] = runs["qingdan hazard show"]
    cache = tempfile.mkdtemp(prefix="qingdan-bench-cache-")
    env = {**os.environ, "COLUMNS": "120", "QINGDAN_ACTOR": "bench", "QINGDAN_CACHE_DIR": cache}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    envs = {name: {**env, "QINGDAN_CACHE_DIR": "off"} if "not cached" in name else env for name in runs}
    subprocess.run(runs["qingdan hazard show"], stdout=subprocess.DEVNULL, env=env, check=True)  # the cache
    best = {name: float("inf") for name in runs}
    for _ in range(config.get("startup_repeat", 7)):
        for name, argv in runs.items():
            t0 = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=envs[name], check=True)
            best[name] = min(best[name], time.perf_counter() - t0)
    return {"seconds": best, "peak_rss_mb": peak_rss_mb()}


def step_verify(config: dict[str, Any]) -> dict[str, Any]:
    """``verify``: complete; incremental with nothing new; incremental after a few single commands
    (a further month, 2023-02, of one new township) — each against one read of the log measured in
    the same process (every stored event read and decoded once, as export and rebuild read it)."""
    clock = BenchClock(datetime(2023, 2, 1, 8, 0, tzinfo=CST))
    ledger = open_ledger(config, clock)
    state = Path(config["state_path"])
    repeat, commands = config["repeat"], config.get("verify_commands", 5)
    workload = Workload(ledger.catalogue, Scale("verify", 1, start=date(2023, 2, 1), end=date(2023, 2, 28)),
                        seed=config["seed"] + 2, township_offset=950, tasks=False)
    steps = (step for _, month in workload.months() for step in month)
    run = Executor(ledger, clock)
    read: list[float] = []
    full: list[float] = []
    nothing: list[float] = []
    after: list[float] = []
    import qingdan.core.incremental  # noqa: F401  (the audit's modules: imported, not timed)
    from qingdan.core import forked
    from qingdan.core.logscan import LogScan

    scanned: list[float] = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        events = sum(1 for _ in ledger._log.events(limit=PAGE))
        read.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        LogScan(ledger._log, ledger._view.store).run()
        scanned.append(time.perf_counter() - t0)
    for _ in range(repeat):
        t0 = time.perf_counter()
        complete = ledger.verify_integrity(full=True, state_dir=state)
        full.append(time.perf_counter() - t0)
        assert complete.ok and complete.full, complete.problems
    single: list[float] = []  # the same check kept in one process (qingdan.core.forked.ENV)
    os.environ[forked.ENV] = "1"
    try:
        for _ in range(repeat):
            t0 = time.perf_counter()
            alone = ledger.verify_integrity(full=True, remember=False)
            single.append(time.perf_counter() - t0)
            assert alone.ok and alone.processes == 1, alone.problems
    finally:
        del os.environ[forked.ENV]
    for _ in range(repeat):
        t0 = time.perf_counter()
        same = ledger.verify_integrity(state_dir=state)
        nothing.append(time.perf_counter() - t0)
        assert same.ok and not same.full, same.problems
    before = event_count(ledger)
    for _ in range(repeat):
        for _ in range(commands):
            run(next(steps))
        t0 = time.perf_counter()
        incremental = ledger.verify_integrity(state_dir=state)
        after.append(time.perf_counter() - t0)
        assert incremental.ok and not incremental.full, incremental.problems
    size = sum(f.stat().st_size for f in state.rglob("*.json"))
    added = event_count(ledger) - before
    ledger.disconnect()
    return {"events": events, "log_read": summary(read), "log_scan": summary(scanned), "full": summary(full),
            "incremental_nothing_new": summary(nothing), "incremental_after_commands": summary(after),
            "commands_per_check": commands, "events_added": added,
            "last_check": {"events_decoded": incremental.events_decoded,
                           "records_folded": incremental.records_folded,
                           "records_checked": incremental.records_checked},
            "processes": complete.processes, "full_one_process": summary(single),
            "state_bytes": size, "peak_rss_mb": peak_rss_mb(),
            # the forked half's process (qingdan.core.halves), the largest of them
            "child_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def import_file_of(config: dict[str, Any]) -> Path:
    from taizhang import write_csv

    path = Path(config["import_csv"])
    if not path.exists():
        write_csv(path, config["import_rows"], seed=config["seed"])
    return path


def step_import_read(config: dict[str, Any]) -> dict[str, Any]:
    """The baseline of the import's memory: a process that opens a ledger and reads every row of the
    same 台账 file (the reader streams), doing nothing with them."""
    from qingdan.io.reader import open_source

    path = import_file_of(config)
    ledger = qingdan.open_ledger(config["import_url"], actor="bench")
    _ = ledger.catalogue.campaigns
    t0 = time.perf_counter()
    rows = 0
    with open_source(path) as source:
        for sheet in source.sheets:
            for _ in sheet.rows:
                rows += 1
    seconds = time.perf_counter() - t0
    ledger.disconnect()
    return {"rows": rows, "seconds": seconds, "peak_rss_mb": peak_rss_mb()}


def step_import(config: dict[str, Any]) -> dict[str, Any]:
    """``qingdan import`` of a generated 台账 csv (50,000 rows at township scale) into an empty ledger:
    one transaction, the rows streamed (docs/performance.md, "Memory")."""
    from qingdan.io.importer import import_file

    path = import_file_of(config)
    ledger = qingdan.open_ledger(config["import_url"], actor="bench")
    t0 = time.perf_counter()
    result = import_file(ledger, path)
    seconds = time.perf_counter() - t0
    ledger.disconnect()
    return {"rows": result.counts["new"], "events": result.events, "seconds": seconds,
            "events_per_s": result.events / seconds, "peak_rss_mb": peak_rss_mb()}


STEPS = {
    "import_read": step_import_read, "import": step_import,
    "idle": step_idle, "ingest": step_ingest, "single": step_single, "append": step_append,
    "baseline_a": step_baseline_a, "baseline_c": step_baseline_c, "queries": step_queries,
    "baseline_b": step_baseline_b, "export": step_export, "rebuild": step_rebuild, "verify": step_verify,
    "startup": step_startup,
}


def main() -> None:
    name, config = sys.argv[1], json.loads(sys.argv[2])
    result = STEPS[name](config)
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
