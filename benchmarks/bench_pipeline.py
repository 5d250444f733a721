"""Wall time, CPU time and peak memory of the workflow itself, beside the targets of issue 12.

    .venv/bin/python benchmarks/bench_pipeline.py                      # bundled cold and no-op, 10,000 rows
    .venv/bin/python benchmarks/bench_pipeline.py --rows 10000 100000  # and a 100,000-row sheet
    .venv/bin/python benchmarks/bench_pipeline.py --before 27ba993     # also that commit, same run

Each run is a fresh Snakemake process in a temporary folder (``--cores 2``). "cold, bundled sheet"
runs the config's default analyses (eight since issue 23); "issue 12's analyses" the six that were
the default when issue 12 set its targets, each of which has grown since (issue 21's publication-bias
methods in ``small_study``, issue 22's figures in ``risk_of_bias``). "all analyses, cold"
is the bundled sheet with every analysis of config ``analyses`` switched on (``gosh`` and
``multiverse`` too: GOSH fits a million random subsets of each of the three groups of more than
19 comparisons), in a fresh folder. A large sheet is the
bundled (simulated) sheet repeated with renamed studies. CPU time and peak memory are those of
Snakemake and all its jobs (``os.wait4`` on each run; peak memory is the largest single
process). ``--before REV`` checks that commit out in a temporary git worktree and times its
workflow and library (first on ``PYTHONPATH``) in the same environment, for the bundled sheet:
before and after on the same machine in the same run. No test asserts a time: this is a
measurement for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
SHEET = REPO / "data" / "simulated_treadmill_neuropathic_pain.csv"
#: every analysis the config offers (workflow/schemas/config.schema.yaml, ``analyses``)
ALL_ANALYSES = "analyses=[{}]".format(",".join(yaml.safe_load(
    (REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())["properties"]["analyses"]["items"]["enum"]))
#: the default analyses when issue 12 set its targets (27ba993; next_experiment and sex came with issue 23)
ISSUE_12_ANALYSES = "analyses=[dependence,moderators,risk_of_bias,time_course,small_study,sensitivity]"
TARGETS = {"cold, bundled sheet, issue 12's analyses": "<= 10 s wall, <= 20 CPU-s (issue 12)",
           "no-op rerun": "<= 1.5 s wall",
           "all analyses, cold": "<= 30 s wall",
           "10,000 rows": "<= 120 s wall", "100,000 rows": "linear in rows (time and memory)"}


def snakemake(work: Path, sheet: Path, repo: Path = REPO, config: tuple[str, ...] = ()) -> dict:
    """One workflow run of ``repo`` (``config``: more ``--config`` settings): wall seconds, CPU seconds,
    peak resident memory (MB), jobs run."""
    env = dict(os.environ, PYTHONPATH=str(repo / "src"))
    env.pop("PREMETA_RUN_DIR", None)
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-m", "snakemake", "-s", str(repo / "Snakefile"), "--directory",
                                 str(work), "--configfile", str(repo / "config" / "config.yaml"), "--cores", "2",
                                 "--config", f"data={sheet}", *config], stdout=subprocess.DEVNULL, stderr=err, env=env)
        # the rusage of this run alone: its CPU time and largest process, Snakemake's jobs included
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        log = err.read()
    if proc.returncode:
        sys.exit(f"snakemake failed in {work}:\n{log[-3000:]}")
    jobs = log.count("Finished jobid") - 1  # the target rule `all` does nothing
    return {"wall_s": round(wall, 1), "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
            "peak_mb": round(usage.ru_maxrss / 1024), "jobs": max(jobs, 0)}


def repeated(rows: int, folder: Path) -> Path:
    """The bundled sheet repeated to ``rows`` rows, each copy's studies renamed."""
    base = pd.read_csv(SHEET)
    copies = -(-rows // len(base))
    big = pd.concat([base.assign(study=base.study + f" copy {i}") for i in range(copies)], ignore_index=True)
    path = folder / f"simulated_repeated_{rows}.csv"
    big.iloc[:rows].to_csv(path, index=False)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="*", default=[10_000], help="sizes of the large sheets")
    parser.add_argument("--before", metavar="REV", help="also time this commit's workflow on the bundled sheet")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.before:
            old = tmp / "before"
            subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "--quiet", str(old), args.before],
                           check=True)
            try:
                results[f"cold, bundled sheet ({args.before})"] = snakemake(tmp / "old", SHEET, old)
                results[f"no-op rerun ({args.before})"] = snakemake(tmp / "old", SHEET, old)
                results[f"all analyses, cold ({args.before})"] = snakemake(tmp / "old_all", SHEET, old,
                                                                           (ALL_ANALYSES,))
            finally:
                subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(old)], check=True)
        work = tmp / "bundled"
        results["cold, bundled sheet"] = snakemake(work, SHEET)
        results["no-op rerun"] = snakemake(work, SHEET)
        results["cold, bundled sheet, issue 12's analyses"] = snakemake(tmp / "issue12", SHEET,
                                                                        config=(ISSUE_12_ANALYSES,))
        results["all analyses, cold"] = snakemake(tmp / "all", SHEET, config=(ALL_ANALYSES,))
        for n in args.rows:
            results[f"{n:,} rows"] = snakemake(tmp / f"rows{n}", repeated(n, tmp))
    print(f"{'run':<40} {'jobs':>5} {'wall s':>8} {'CPU s':>8} {'peak MB':>8}  target")
    for name, r in results.items():
        print(f"{name:<40} {r['jobs']:>5} {r['wall_s']:>8} {r['cpu_s']:>8} {r['peak_mb']:>8}  {TARGETS.get(name, '')}")


if __name__ == "__main__":
    main()
