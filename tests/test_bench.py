"""The benchmark harness runs end to end at a tiny size and reports every figure (no timing checks)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("bench")
    out = work / "results.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--backends", "sqlite",
         "--workdir", str(work), "--out", str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(out.read_text())
    data["_stdout"] = proc.stdout
    return data


def test_every_step_reports_its_figures_and_peak_memory(results: dict) -> None:
    run = results["runs"]["sqlite"]["quick"]
    for step in ("idle", "ingest", "baseline_a", "baseline_c", "queries", "baseline_b", "export",
                 "rebuild", "single", "append", "import_read", "import", "startup"):
        assert run[step]["peak_rss_mb"] > 0, step
    assert run["import"]["rows"] == run["import_read"]["rows"] - 1 == 500  # the header is a row read
    for step in ("ingest", "baseline_a", "export", "rebuild", "single", "append"):
        assert run[step]["events_per_s"] > 0, step
    assert run["ingest"]["events"] > 100
    assert set(run["ingest"]["split_seconds"]) == {"commands", "eventsourcing_save", "view_catch_up"}
    assert run["baseline_a"]["events"] == run["ingest"]["events"]  # the same events, saved bare
    assert run["baseline_c"]["rows"] == run["ingest"]["events"]
    for key in ("two_lists_one_campaign", "two_lists_one_campaign_known_at", "two_lists_all_campaigns",
                "two_lists_all_campaigns_known_at", "targets_findings"):
        assert {"median_ms", "p95_ms", "samples"} <= set(run["queries"][key]), key


def test_the_workload_exercises_the_whole_hazard_life(results: dict) -> None:
    topics = results["runs"]["sqlite"]["quick"]["ingest"]["topics"]
    for kind in ("Hazard.Reported", "Hazard.RectificationPlanned", "Hazard.Verified", "Hazard.Closed",
                 "Hazard.Corrected", "Unit.Registered", "Unit.AttributesSet", "Measure.Added",
                 "Task.ProgressReported", "Report.Submitted"):
        assert topics.get(kind, 0) > 0, kind


def test_the_view_agrees_with_the_naive_replay(results: dict) -> None:
    assert results["runs"]["sqlite"]["quick"]["baseline_b"]["view_agrees"] is True


def test_figures_carry_ratios_to_their_baselines_and_targets_are_judged(results: dict) -> None:
    rows = {(r["metric"], r["baseline"]): r for r in results["figures"]}
    ingest = rows[("ingest, batch path incl. view", "(a) bare eventsourcing save")]
    assert ingest["ratio"] > 0
    replay = rows[("two_lists one campaign, page of 100 median", "(b) naive replay fold_all")]
    assert replay["ratio"] > 0
    assert rows[("two_lists one campaign (fire), whole list median", "(b) naive replay fold_all")]["ratio"] > 0
    assert rows[("ingest, batch path incl. view", "(c) raw sqlite3 insert")]["ratio"] > 0
    names = [t["target"] for t in results["targets"]]
    assert any(n.startswith("batch ingest ≥ 0.5 × bare save") for n in names)
    assert any(n.startswith("two_lists one campaign page at 1M") for n in names)
    assert any(n.startswith("CLI start-up: hazard show") for n in names)
    show = rows[("whole process: qingdan hazard show", "process: pydantic BaseModel + eventsourcing Application")]
    assert 0 < show["ratio"] < 1 and show["value"] > show["baseline_value"]  # a whole process, slower than its imports
    assert {"cpus", "python", "sqlite"} <= set(results["machine"])
    assert "MET" in results["_stdout"] and "×" in results["_stdout"]  # verdicts and ratios are printed


def test_the_verify_step_measures_complete_and_incremental_checks_against_one_read_of_the_log(results: dict) -> None:
    v = results["runs"]["sqlite"]["quick"]["verify"]
    for key in ("log_read", "log_scan", "full", "incremental_nothing_new", "incremental_after_commands"):
        assert v[key]["median_ms"] > 0, key
    assert v["events_added"] > 0 and 0 < v["last_check"]["records_folded"] < v["last_check"]["records_checked"]
    rows = {(r["metric"], r["baseline"]): r for r in results["figures"]}
    assert rows[("verify, complete, median", "one read of the log")]["ratio"] > 0
    assert any(t["target"].startswith("a complete verify ≤ 5 × one read of the log") for t in results["targets"])
