"""Wall time, CPU time and peak memory of the workflow itself, beside the targets of issue 12.

    .venv/bin/python benchmarks/bench_pipeline.py            # bundled sheet cold and no-op, 10,000 rows
    .venv/bin/python benchmarks/bench_pipeline.py --rows 100000   # also a 100,000-row sheet

Each run is a fresh Snakemake process in a temporary folder (``--cores 2``). A large sheet is the
bundled (simulated) sheet repeated with renamed studies. CPU time and peak memory are those of
Snakemake and all its jobs (``getrusage(RUSAGE_CHILDREN)``; peak memory is the largest single
process). No test asserts a time: this is a measurement for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SHEET = REPO / "data" / "simulated_treadmill_neuropathic_pain.csv"
TARGETS = {"cold, bundled sheet": "<= 10 s wall, <= 20 CPU-s", "no-op rerun": "<= 1.5 s wall",
           "10,000 rows": "<= 120 s wall"}


def snakemake(work: Path, sheet: Path) -> dict:
    """One workflow run: wall seconds, CPU seconds and peak resident memory (MB) of the run's processes."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(work),
                    "--configfile", str(REPO / "config" / "config.yaml"), "--cores", "2", "--quiet",
                    "--config", f"data={sheet}"], check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "peak_mb": round(after.ru_maxrss / 1024)}


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
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        work = tmp / "bundled"
        results["cold, bundled sheet"] = snakemake(work, SHEET)
        results["no-op rerun"] = snakemake(work, SHEET)
        for n in args.rows:
            results[f"{n:,} rows"] = snakemake(tmp / f"rows{n}", repeated(n, tmp))
    print(f"{'run':<22} {'wall s':>8} {'CPU s':>8} {'peak MB':>8}  target")
    for name, r in results.items():
        print(f"{name:<22} {r['wall_s']:>8} {r['cpu_s']:>8} {r['peak_mb']:>8}  {TARGETS.get(name, '')}")


if __name__ == "__main__":
    main()
