"""The qingdan benchmark: synthetic ledgers at township, county and city scale, with baselines.

    .venv/bin/python bench/run.py [--scales township,county,city] [--backends sqlite,postgres]
                                  [--repeat 3] [--out bench/results/latest.json] [--quick]

For every backend and scale it builds a ledger from the deterministic workload (:mod:`workload`)
and runs each step in its own process (:mod:`steps`), one at a time, so every step's peak memory is
its own and no two measurements compete for the CPU. Baselines run in the same invocation, on the same
data: (a) eventsourcing's own save of the same events in the same batches, without the view;
(b) naive replay (``reference.fold_all``) for the same as-of questions; (c) raw ``sqlite3`` insert and
scan of the same stored rows. Every figure is printed with its ratio to its baseline and against the
targets of issue 6; medians, not best runs. See ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
POSTGRES_SCALES = ("quick", "township", "county")  # the city slice runs on SQLite only
STEP_ORDER = ("idle", "ingest", "baseline_a", "baseline_c", "queries", "baseline_b", "export",
              "rebuild", "single", "append", "verify", "import_read", "import", "startup")
#: rows of the 台账 the import steps read and import (once per backend: at these scales only)
IMPORT_ROWS = {"quick": 500, "township": 50_000}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- environment -----------------------------------------------------------------------------------


def machine(postgres_url: str | None) -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpus": os.cpu_count(), "python": platform.python_version(),
        "platform": platform.platform(), "sqlite": sqlite3.sqlite_version,
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["ram_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        from importlib.metadata import version

        info["eventsourcing"] = version("eventsourcing")
        info["pydantic"] = version("pydantic")
    except Exception:
        pass
    if postgres_url:
        try:
            import psycopg

            with psycopg.connect(postgres_url, connect_timeout=3) as conn:
                info["postgres"] = conn.execute("SHOW server_version").fetchone()[0]
        except Exception as error:
            info["postgres"] = f"unreachable: {error}"
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "qingdan"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        info["git"] = commit + ("+uncommitted changes in qingdan/" if dirty else "")
    except Exception:
        pass
    return info


def code_digest() -> str:
    """A digest of the library's source, to tell whether the code changed while the benchmark ran."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted((ROOT / "qingdan").rglob("*.py")):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def postgres_reachable(url: str) -> bool:
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3):
            return True
    except Exception:
        return False


def postgres_schema(url: str, schema: str, *, create: bool) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        if create:
            conn.execute(f'CREATE SCHEMA "{schema}"')


# -- one backend × scale ---------------------------------------------------------------------------


def run_step(name: str, config: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, str(HERE / "steps.py"), name, json.dumps(config)],
                          capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONHASHSEED": "0"})
    if proc.returncode != 0:
        raise RuntimeError(f"step {name} failed:\n{proc.stderr[-4000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["step_wall_seconds"] = time.perf_counter() - started
    return result


def sizes(scale: str, repeat: int) -> dict[str, Any]:
    """How much of each measurement to run at a scale (the naive replay is slow by design)."""
    if scale == "quick":
        return {"query_dates": 3, "target_dates": 1, "replay_dates": 1, "replay_repeat": 1,
                "single_limit": 60, "repeat": 1, "startup_repeat": 2}
    return {"query_dates": 12, "target_dates": 4, "replay_repeat": 1 if scale == "city" else repeat,
            "replay_dates": 1 if scale == "city" else 3,
            "single_limit": 1500 if scale != "city" else 300, "repeat": repeat}


def run_scale(backend: str, scale: str, args: argparse.Namespace, steps: tuple[str, ...]) -> dict[str, Any]:
    tag = f"{scale}_{os.getpid()}"
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {"scale": scale, "seed": args.seed, **sizes(scale, args.repeat),
                              "batches": str(work / f"{backend}-{tag}.batches.json"),
                              "export_path": str(work / f"{backend}-{tag}.jsonl"),
                              "state_path": str(work / f"{backend}-{tag}.verify-state"),
                              "raw_path": str(work / f"raw-{tag}.db"),
                              "import_rows": IMPORT_ROWS.get(scale, 0),
                              "import_csv": str(work / f"taizhang-{IMPORT_ROWS.get(scale, 0)}-{args.seed}.csv")}
    schemas: list[str] = []
    files: list[Path] = []
    if backend == "sqlite":
        for name, key in (("ledger", "url"), ("bare", "bare_url"), ("single", "single_url"),
                          ("import", "import_url")):
            path = work / f"{scale}-{name}-{os.getpid()}.db"
            config[key] = str(path)
            files.append(path)
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
    else:
        for name, key in (("ledger", "url"), ("bare", "bare_url"), ("single", "single_url"),
                          ("import", "import_url")):
            schema = f"qdbench_{name}_{tag}"
            postgres_schema(args.postgres_url, schema, create=True)
            schemas.append(schema)
            config[key] = f"{args.postgres_url}?schema={schema}"
    results: dict[str, Any] = {"config": {k: v for k, v in config.items() if not k.endswith("_path")}}
    try:
        for name in steps:
            if name == "baseline_c" and backend != "sqlite":
                continue
            if name == "single" and scale not in ("quick", "township"):
                continue  # single commands on a fresh sample: the same at every scale
            if name in ("import_read", "import") and not config["import_rows"]:
                continue  # one 台账 file per backend, into an empty ledger: not a figure of the scale
            log(f"  [{backend} {scale}] {name} …")
            results[name] = run_step(name, config)
            log(f"  [{backend} {scale}] {name}: {brief(name, results[name])}")
    finally:
        if not args.keep:
            for schema in schemas:
                postgres_schema(args.postgres_url, schema, create=False)
            for path in files:
                for suffix in ("", "-wal", "-shm"):
                    Path(str(path) + suffix).unlink(missing_ok=True)
            Path(config["batches"]).unlink(missing_ok=True)
            shutil.rmtree(config["state_path"], ignore_errors=True)
    return results


def brief(name: str, result: dict[str, Any]) -> str:
    if "events_per_s" in result:
        return f"{result['events_per_s']:,.0f} ev/s, {result.get('peak_rss_mb', 0):.0f} MB"
    if name == "queries":
        return (f"two_lists fire {result['two_lists_one_campaign']['median_ms']:.1f} ms, "
                f"all {result['two_lists_all_campaigns']['median_ms']:.1f} ms, "
                f"targets+findings {result['targets_findings']['median_ms']:.0f} ms")
    if name == "verify":
        return (f"full {result['full']['median_ms']:.0f} ms = "
                f"{result['full']['median_ms'] / result['log_read']['median_ms']:.1f}× one read of the log; "
                f"incremental after {result['commands_per_check']} commands "
                f"{result['incremental_after_commands']['median_ms']:.0f} ms")
    if name == "baseline_b":
        return f"fold_all {result['fold_all']['median_ms']:.0f} ms, agrees={result['view_agrees']}"
    if name == "startup":
        s = result["seconds"]
        return (f"hazard show {1000 * s['qingdan hazard show']:.0f} ms vs BaseModel+Application "
                f"{1000 * s['pydantic BaseModel + eventsourcing Application']:.0f} ms")
    if name == "baseline_c":
        return f"insert {result['insert_rows_per_s']:,.0f} rows/s, scan {result['scan_rows_per_s']:,.0f} rows/s"
    return f"{result.get('peak_rss_mb', 0):.0f} MB"


# -- figures, ratios, targets ----------------------------------------------------------------------


def figures(runs: dict[str, dict[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Rows of (metric, backend, scale, value, unit, baseline, ratio) from the raw step results."""
    rows: list[dict[str, Any]] = []

    def add(metric: str, backend: str, scale: str, value: float | None, unit: str,
            baseline: str | None = None, base_value: float | None = None, higher_better: bool = True) -> None:
        ratio = None
        if value is not None and base_value:
            ratio = value / base_value if higher_better else base_value / value
        rows.append({"metric": metric, "backend": backend, "scale": scale, "value": value, "unit": unit,
                     "baseline": baseline, "baseline_value": base_value, "ratio": ratio})

    for backend, scales in runs.items():
        for scale, r in scales.items():
            ingest, bare = r.get("ingest"), r.get("baseline_a")
            raw = r.get("baseline_c")
            if ingest:
                add("events", backend, scale, ingest["events_total"], "events")
                add("ingest, batch path incl. view", backend, scale, ingest["events_per_s"], "ev/s",
                    "(a) bare eventsourcing save", bare and bare["events_per_s"])
                if raw:
                    add("ingest, batch path incl. view", backend, scale, ingest["events_per_s"], "ev/s",
                        "(c) raw sqlite3 insert", raw["insert_rows_per_s"])
                split = ingest["split_seconds"]
                for part, seconds in split.items():
                    add(f"ingest time share: {part}", backend, scale, 100 * seconds / ingest["seconds"], "%")
                if ingest.get("submit_report"):
                    add("submit_report (fire) median", backend, scale,
                        ingest["submit_report"]["median_ms"], "ms")
            if bare:
                add("(a) bare eventsourcing save", backend, scale, bare["events_per_s"], "ev/s",
                    "(c) raw sqlite3 insert", raw and raw["insert_rows_per_s"])
                if bare.get("single_save"):
                    add("(a) bare save of one event, median", backend, scale,
                        bare["single_save"]["median_ms"], "ms")
            if raw:
                add("(c) raw sqlite3 insert", backend, scale, raw["insert_rows_per_s"], "rows/s")
                add("(c) raw sqlite3 scan", backend, scale, raw["scan_rows_per_s"], "rows/s")
            if r.get("single"):
                s = r["single"]
                add("ingest, single commands incl. view", backend, scale, s["events_per_s"], "ev/s",
                    "batch path", ingest and ingest["events_per_s"])
                add("single command latency median", backend, scale, s["latency"]["median_ms"], "ms",
                    "(a) bare save of one event", bare and bare.get("single_save", {}).get("median_ms"),
                    higher_better=False)
            if r.get("append"):
                s = r["append"]
                add("single commands on the full ledger", backend, scale, s["events_per_s"], "ev/s",
                    "batch path", ingest and ingest["events_per_s"])
                add("single command latency on full ledger, median", backend, scale,
                    s["latency"]["median_ms"], "ms")
                add("single command latency on full ledger, p95", backend, scale, s["latency"]["p95_ms"], "ms")
            q, b = r.get("queries"), r.get("baseline_b")
            replay = b and b["fold_all"]["median_ms"]
            if q:
                for key, label in (("two_lists_one_campaign_page", "two_lists one campaign, page of 100"),
                                   ("two_lists_one_campaign_page_known_at",
                                    "two_lists one campaign, page of 100, known_at"),
                                   ("two_lists_all_campaigns_page", "two_lists all campaigns, page of 100"),
                                   ("two_lists_all_campaigns_page_known_at",
                                    "two_lists all campaigns, page of 100, known_at"),
                                   ("two_lists_one_campaign_page_last", "two_lists one campaign, last page by offset"),
                                   ("two_lists_one_campaign_page_last_known_at",
                                    "two_lists one campaign, last page by offset, known_at"),
                                   ("two_lists_all_campaigns_page_last", "two_lists all campaigns, last page by offset"),
                                   ("two_lists_all_campaigns_page_last_known_at",
                                    "two_lists all campaigns, last page by offset, known_at"),
                                   ("two_lists_one_campaign_page_after", "two_lists one campaign, page after a number"),
                                   ("two_lists_one_campaign_page_after_known_at",
                                    "two_lists one campaign, page after a number, known_at"),
                                   ("two_lists_all_campaigns_page_after", "two_lists all campaigns, page after a number"),
                                   ("two_lists_all_campaigns_page_after_known_at",
                                    "two_lists all campaigns, page after a number, known_at"),
                                   ("two_lists_one_campaign", "two_lists one campaign (fire), whole list"),
                                   ("two_lists_one_campaign_known_at", "two_lists one campaign, whole, known_at"),
                                   ("two_lists_all_campaigns", "two_lists all campaigns, whole list"),
                                   ("two_lists_all_campaigns_known_at", "two_lists all campaigns, whole, known_at")):
                    if key not in q:
                        continue
                    add(f"{label} median", backend, scale, q[key]["median_ms"], "ms",
                        "(b) naive replay fold_all", replay, higher_better=False)
                    add(f"{label} p95", backend, scale, q[key]["p95_ms"], "ms")
                    add(f"{label} rows (median)", backend, scale, q[key]["rows_median"], "rows")
                add("targets()+findings() median", backend, scale, q["targets_findings"]["median_ms"], "ms")
                add("targets() median", backend, scale, q["targets"]["median_ms"], "ms")
                add("findings() median", backend, scale, q["findings"]["median_ms"], "ms")
            if b:
                add("(b) naive replay fold_all median", backend, scale, replay, "ms")
            if r.get("rebuild"):
                add("rebuild", backend, scale, r["rebuild"]["events_per_s"], "ev/s",
                    "batch path", ingest and ingest["events_per_s"])
            v = r.get("verify")
            if v:
                read = v["log_read"]["median_ms"]
                add("one read of the log (every event read and decoded) median", backend, scale, read, "ms")
                add("verify, complete, median", backend, scale, v["full"]["median_ms"], "ms",
                    "one read of the log", read, higher_better=False)
                add("one scan of the log (read, hash, decode: LogScan) median", backend, scale,
                    v["log_scan"]["median_ms"], "ms")
                add("verify, complete, median", backend, scale, v["full"]["median_ms"], "ms",
                    "one scan of the log (LogScan)", v["log_scan"]["median_ms"], higher_better=False)
                if r.get("export"):
                    add("verify, complete, median", backend, scale, v["full"]["median_ms"], "ms",
                        "export (jsonl, streamed)", 1000 * r["export"]["seconds"], higher_better=False)
                add("verify, incremental, nothing new, median", backend, scale,
                    v["incremental_nothing_new"]["median_ms"], "ms", "verify, complete",
                    v["full"]["median_ms"], higher_better=False)
                add(f"verify, incremental after {v['commands_per_check']} commands, median", backend, scale,
                    v["incremental_after_commands"]["median_ms"], "ms", "verify, complete",
                    v["full"]["median_ms"], higher_better=False)
                add("verify state file", backend, scale, v["state_bytes"] / 1024, "KiB")
                if v.get("processes"):
                    add("verify, complete: processes", backend, scale, v["processes"], "")
                if v.get("full_one_process"):
                    add("verify, complete, in one process, median", backend, scale,
                        v["full_one_process"]["median_ms"], "ms", "one read of the log", read, higher_better=False)
                    add("verify, complete, median", backend, scale, v["full"]["median_ms"], "ms",
                        "verify, complete, in one process", v["full_one_process"]["median_ms"], higher_better=False)
                if v.get("child_peak_rss_mb"):
                    add("peak memory: verify's second process", backend, scale, v["child_peak_rss_mb"], "MB")
            if r.get("export"):
                add("export (jsonl, streamed)", backend, scale, r["export"]["events_per_s"], "ev/s",
                    "(c) raw sqlite3 scan", raw and raw["scan_rows_per_s"])
            if r.get("startup"):
                s = r["startup"]["seconds"]
                for name in ("qingdan hazard show", "qingdan hazard show (names not cached)",
                             "qingdan lists (page of 20)", "qingdan --help"):
                    if name not in s:  # a run from before the names were cached
                        continue
                    for base in ("pydantic BaseModel + eventsourcing Application", "import pydantic, eventsourcing"):
                        add(f"whole process: {name}", backend, scale, 1000 * s[name], "ms",
                            f"process: {base}", 1000 * s[base], higher_better=False)
            if r.get("import"):
                imp, read = r["import"], r.get("import_read")
                add(f"import of a {imp['rows']:,}-row 台账 csv", backend, scale, imp["events_per_s"], "ev/s")
                add(f"peak memory: import of {imp['rows']:,} rows", backend, scale, imp["peak_rss_mb"], "MB",
                    "reading the file only", read and read["peak_rss_mb"], higher_better=False)
            for step in STEP_ORDER:
                if step in r and "peak_rss_mb" in r[step] and step != "import":
                    add(f"peak memory: {step}", backend, scale, r[step]["peak_rss_mb"], "MB")
    return rows


def check_targets(runs: dict[str, dict[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The targets of issue 6, each met / not met / not measured, with the figures behind it."""
    out: list[dict[str, Any]] = []

    def verdict(name: str, met: bool | None, evidence: str) -> None:
        out.append({"target": name, "met": met, "evidence": evidence})

    for backend, scales in runs.items():
        for scale, r in scales.items():
            ingest, bare = r.get("ingest"), r.get("baseline_a")
            if ingest and bare:
                ratio = ingest["events_per_s"] / bare["events_per_s"]
                verdict(f"batch ingest ≥ 0.5 × bare save [{backend} {scale}]", ratio >= 0.5,
                        f"{ingest['events_per_s']:,.0f} vs {bare['events_per_s']:,.0f} ev/s = {ratio:.2f}×")
            if ingest:
                verdict(f"batch ingest ≥ 10k ev/s [{backend} {scale}]", ingest["events_per_s"] >= 10_000,
                        f"{ingest['events_per_s']:,.0f} ev/s")
            single = r.get("single")
            if single and bare and bare.get("single_save"):
                times = single["latency"]["median_ms"] / bare["single_save"]["median_ms"]
                verdict(f"single command ≤ 2 × a bare save of one event [{backend} {scale}]", times <= 2,
                        f"{single['latency']['median_ms']:.2f} vs {bare['single_save']['median_ms']:.2f} ms "
                        f"median = {times:.1f}×")
    for backend, scales in runs.items():
        for scale, r in scales.items():
            if r.get("startup"):
                s = r["startup"]["seconds"]
                show = s["qingdan hazard show"]
                libs, bare = s["pydantic BaseModel + eventsourcing Application"], s["import pydantic, eventsourcing"]
                field = s.get("pydantic BaseModel, Field + eventsourcing Application")
                verdict(f"CLI start-up: hazard show within about 2 × importing the libraries [{backend} {scale}]",
                        show <= 2 * libs * 1.1,
                        f"{1000 * show:.0f} ms = {show / libs:.1f}× BaseModel + Application "
                        f"({1000 * libs:.0f} ms), {show / bare:.1f}× `import pydantic, eventsourcing` "
                        f"({1000 * bare:.0f} ms)" + (f", {show / field:.1f}× BaseModel, Field + Application "
                                                     f"({1000 * field:.0f} ms)" if field else ""))
            imp, read = r.get("import"), r.get("import_read")
            if imp and imp["rows"] >= 50_000:
                verdict(f"50,000-row import under 250 MB peak [{backend}]", imp["peak_rss_mb"] < 250,
                        f"{imp['rows']:,} rows, {imp['events']:,} events: {imp['peak_rss_mb']:.0f} MB peak; "
                        f"reading the file alone {read['peak_rss_mb'] if read else float('nan'):.0f} MB")
    city = runs.get("sqlite", {}).get("city", {}).get("queries")
    page = city and city.get("two_lists_one_campaign_page")
    verdict("two_lists one campaign page at 1M events ≤ 100 ms median (SQLite)",
            None if not page else page["median_ms"] <= 100,
            "not measured (no city run)" if not page else
            f"page of 100: {page['median_ms']:.1f} ms median (p95 {page['p95_ms']:.1f}); whole list of "
            f"{city['two_lists_one_campaign']['rows_median']:,.0f} rows: "
            f"{city['two_lists_one_campaign']['median_ms']:.0f} ms "
            f"({runs['sqlite']['city']['ingest']['events_total']:,} events)")
    if city:
        pages = {key: city[key] for key in sorted(city) if key.startswith("two_lists_") and "_page" in key}
        worst = max(pages, key=lambda key: pages[key]["p95_ms"])
        by_number = {key: v for key, v in pages.items() if "_page_last" not in key}
        verdict("every list page at 1M events ≤ 100 ms p95, with or without known_at, one campaign or all (SQLite)",
                all(v["p95_ms"] <= 100 for v in pages.values()),
                "; ".join(f"{key.removeprefix('two_lists_')} {v['p95_ms']:.0f}" for key, v in pages.items())
                + f" ms p95 (worst: {worst.removeprefix('two_lists_')}); first, middle and by-number pages only: "
                f"{'all' if all(v['p95_ms'] <= 100 for v in by_number.values()) else 'not all'} ≤ 100 ms")
    for backend, scales in runs.items():
        county = scales.get("county", {})
        q, b = county.get("queries"), county.get("baseline_b")
        if q and b and "two_lists_one_campaign_page" in q:
            replay = b["fold_all"]["median_ms"]
            speedup = replay / q["two_lists_one_campaign_page"]["median_ms"]
            verdict(f"two_lists ≥ 100× faster than naive replay at 100k [{backend}]", speedup >= 100,
                    f"one campaign, page of 100: {speedup:.0f}×; all campaigns, page: "
                    f"{replay / q['two_lists_all_campaigns_page']['median_ms']:.0f}×; whole lists: one "
                    f"campaign {replay / q['two_lists_one_campaign']['median_ms']:.0f}×, all "
                    f"{replay / q['two_lists_all_campaigns']['median_ms']:.0f}× (fold_all {replay:.0f} ms)")
        if q:
            tf = q["targets_findings"]["median_ms"]
            verdict(f"targets()+findings() all campaigns at 100k ≤ 1 s [{backend}]", tf <= 1000,
                    f"{tf:.0f} ms median")
    for backend, scales in runs.items():
        for scale, r in scales.items():
            v = r.get("verify")
            if not v:
                continue
            times = v["full"]["median_ms"] / v["log_read"]["median_ms"]
            verdict(f"a complete verify ≤ 5 × one read of the log [{backend} {scale}]", times <= 5,
                    f"{v['full']['median_ms']:.0f} vs {v['log_read']['median_ms']:.0f} ms median = {times:.1f}×")
            share = v["incremental_after_commands"]["median_ms"] / v["full"]["median_ms"]
            verdict(f"verify after a few commands incremental, ≤ 0.5 × a complete one [{backend} {scale}]",
                    share <= 0.5, f"{v['incremental_after_commands']['median_ms']:.0f} vs "
                    f"{v['full']['median_ms']:.0f} ms median = {share:.2f}× "
                    f"({v['commands_per_check']} commands before each check, {v['events_added']} events added in all)")
    for backend, scales in runs.items():
        ordered = [s for s in ("quick", "township", "county", "city") if s in scales]
        for step in ("export", "rebuild"):
            have = [(s, scales[s][step]["peak_rss_mb"], scales[s].get("idle", {}).get("peak_rss_mb", 0),
                     scales[s][step]["events"]) for s in ordered if step in scales[s]]
            if len(have) < 2:
                continue
            (s1, m1, i1, e1), (s2, m2, i2, e2) = have[-2], have[-1]
            grown1, grown2 = max(m1 - i1, 1.0), max(m2 - i2, 1.0)
            # Flat: ten times the events may cost at most half as much again above the floor (+20 MB).
            flat = grown2 <= 1.5 * grown1 + 20
            verdict(f"{step} memory flat in events [{backend}]", flat,
                    f"{s1} {e1:,} ev: {m1:.0f} MB; {s2} {e2:,} ev: {m2:.0f} MB "
                    f"(process floor {i2:.0f} MB)")
    return out


def fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and unit in ("ms", "%", "MB"):
        return f"{value:,.1f}"
    if isinstance(value, (int, float)):
        return f"{value:,.0f}"
    return str(value)


def table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'metric':<52} {'backend':<8} {'scale':<9} {'value':>12} {'unit':<6} {'ratio':>9}  baseline"]
    for r in rows:
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.2f}×"
        base = "" if r["baseline"] is None else f"{r['baseline']} = {fmt(r['baseline_value'], r['unit'])}"
        lines.append(f"{r['metric']:<52} {r['backend']:<8} {r['scale']:<9} {fmt(r['value'], r['unit']):>12} "
                     f"{r['unit']:<6} {ratio:>9}  {base}")
    return "\n".join(lines)


def markdown(results: dict[str, Any]) -> str:
    """The figures and target verdicts of a results file as Markdown tables (for docs/performance.md)."""
    columns: list[tuple[str, str]] = []
    cells: dict[tuple[str, str | None, str], dict[tuple[str, str], str]] = {}
    for r in results["figures"]:
        column = (r["backend"], r["scale"])
        if column not in columns:
            columns.append(column)
        text = fmt(r["value"], r["unit"])
        if r["ratio"] is not None:
            text += f" ({r['ratio']:.2f}× {r['baseline'].split(' ')[0]})"
        cells.setdefault((r["metric"], r["baseline"], r["unit"]), {})[column] = text
    lines = ["| metric | unit | " + " | ".join(f"{b} {s}" for b, s in columns) + " |",
             "|---|---|" + "---:|" * len(columns)]
    for (metric, baseline, unit), row in cells.items():
        label = metric + (f" vs {baseline}" if baseline else "")
        lines.append(f"| {label} | {unit} | " + " | ".join(row.get(c, "") for c in columns) + " |")
    lines += ["", "| target | verdict | evidence |", "|---|---|---|"]
    for v in results["targets"]:
        mark = {True: "**met**", False: "**not met**", None: "n/a"}[v["met"]]
        lines.append(f"| {v['target']} | {mark} | {v['evidence']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", default="township,county,city",
                        help="comma-separated: township (~10k events), county (~100k), city (~1M, SQLite only)")
    parser.add_argument("--backends", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--quick", action="store_true", help="a tiny ledger (~1,000 events) to prove the harness works")
    parser.add_argument("--repeat", type=int, default=3, help="samples per query and as-of date")
    parser.add_argument("--out", default=str(HERE / "results" / "latest.json"), help="results JSON file")
    parser.add_argument("--workdir", default="/tmp/qingdan-bench", help="where the SQLite files go")
    parser.add_argument("--postgres-url", default=os.environ.get("QINGDAN_TEST_POSTGRES", DEFAULT_POSTGRES),
                        help="PostgreSQL server for the postgres backend (a schema per ledger)")
    parser.add_argument("--steps", default=",".join(STEP_ORDER), help="comma-separated subset of steps")
    parser.add_argument("--seed", type=int, default=20200701, help="workload seed")
    parser.add_argument("--keep", action="store_true", help="keep the databases (for profiling)")
    parser.add_argument("--markdown", metavar="RESULTS", help="print a results file as Markdown and exit")
    parser.add_argument("--merge", nargs="+", metavar="RESULTS",
                        help="combine results files (later ones win per backend and scale) into --out")
    args = parser.parse_args(argv)
    if args.merge:
        merged: dict[str, Any] = {"merged_from": {}, "runs": {}, "skipped": []}
        for name in args.merge:
            part = json.loads(Path(name).read_text())
            merged["machine"] = part["machine"]
            merged["skipped"] += part.get("skipped", [])
            for backend, scales in part["runs"].items():
                for scale, result in scales.items():
                    merged["runs"].setdefault(backend, {})[scale] = result
                    merged["merged_from"][f"{backend} {scale}"] = {
                        "file": Path(name).name, "code": part["machine"].get("git"),
                        "code_digest": part["machine"].get("code_digest")}
        merged["figures"] = figures(merged["runs"])
        merged["targets"] = check_targets(merged["runs"])
        Path(args.out).write_text(json.dumps(merged, indent=2, ensure_ascii=False, default=str))
        print(table(merged["figures"]))
        return 0
    if args.markdown:
        print(markdown(json.loads(Path(args.markdown).read_text())))
        return 0

    scales = ["quick"] if args.quick else [s.strip() for s in args.scales.split(",") if s.strip()]
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    steps = tuple(s for s in STEP_ORDER if s in args.steps.split(","))
    skipped: list[str] = []
    if "postgres" in backends and not postgres_reachable(args.postgres_url):
        skipped.append(f"postgres: server unreachable at {args.postgres_url}")
        backends.remove("postgres")
    info = machine(args.postgres_url if "postgres" in backends else None)
    log(f"qingdan bench — {info.get('cpu', '?')} ×{info['cpus']}, Python {info['python']}, "
        f"SQLite {info['sqlite']}" + (f", PostgreSQL {info['postgres']}" if "postgres" in info else ""))
    runs: dict[str, dict[str, dict[str, Any]]] = {}
    started = time.perf_counter()
    digest = code_digest()
    for backend in backends:
        for scale in scales:
            if backend == "postgres" and scale not in POSTGRES_SCALES:
                skipped.append(f"postgres {scale}: the city slice runs on SQLite only")
                continue
            log(f"[{backend} {scale}]")
            runs.setdefault(backend, {})[scale] = run_scale(backend, scale, args, steps)
    rows = figures(runs)
    verdicts = check_targets(runs)
    info["code_digest"] = digest
    if code_digest() != digest:
        info["code_digest"] += " (qingdan/ changed while the benchmark ran: figures mix versions)"
        skipped.append("warning: qingdan/ source changed during the run")
    results = {"started": datetime.now(UTC).isoformat(), "seconds": time.perf_counter() - started,
               "machine": info, "args": vars(args), "skipped": skipped, "runs": runs,
               "figures": rows, "targets": verdicts}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    print(table(rows))
    print()
    for v in verdicts:
        mark = {True: "MET    ", False: "NOT MET", None: "n/a    "}[v["met"]]
        print(f"{mark}  {v['target']}: {v['evidence']}")
    for s in skipped:
        print(f"skipped  {s}")
    print(f"\nresults: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
