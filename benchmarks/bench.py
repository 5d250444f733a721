"""Time premeta beside PyMARE, statsmodels and (when Rscript is installed) metafor, in one run.

    python benchmarks/bench.py            # or: make bench

Every tool gets the same simulated data (seeded) and is asked for the same quantities as far as
it offers them; what a peer cannot do is printed as such. Times are medians of repeated runs
in this process (metafor: timed inside R, start-up excluded). Nothing here is asserted: the
machines are shared and noisy, so the table is a measurement, not a test.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from pymare import Dataset
from pymare.estimators import VarianceBasedLikelihoodEstimator
from statsmodels.stats.meta_analysis import combine_effects

import premeta

warnings.filterwarnings("ignore")
R_SCRIPT = Path(__file__).with_name("bench_metafor.R")


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def strata(G: int, k: int, seed: int):
    rng = np.random.default_rng(seed)
    vi = rng.uniform(0.05, 0.3, (G, k))
    yi = rng.normal(0.5, 0.4, (G, 1)) + rng.normal(0, np.sqrt(vi + 0.1))
    return yi, vi


def pymare_reml(yi, vi):
    """PyMARE's REML fit of every stratum at once (datasets in columns), Knapp-Hartung SEs."""
    est = VarianceBasedLikelihoodEstimator(method="REML")
    est.fit(y=yi.T, v=vi.T, X=np.ones((yi.shape[1], 1)))
    return est.summary().get_fe_stats()


def pymare_qp(yi, vi):
    """PyMARE's Q-profile tau2 CI needs a Dataset, one stratum at a time."""
    for y, v in zip(yi, vi):
        est = VarianceBasedLikelihoodEstimator(method="REML").fit_dataset(Dataset(y=y, v=v))
        est.summary().get_re_stats(method="QP")


def statsmodels_loop(yi, vi):
    """statsmodels has no REML: Paule-Mandel (its iterated estimator) with HKSJ, per stratum."""
    for y, v in zip(yi, vi):
        combine_effects(y, v, method_re="iterated", use_t=True).summary_frame()


def metafor_times(cases: dict) -> dict:
    if shutil.which("Rscript") is None:
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for name, (yi, vi) in cases.items():
            f = Path(tmp) / f"{name}.csv"
            pd.DataFrame({"g": np.repeat(np.arange(yi.shape[0]), yi.shape[1]),
                          "yi": yi.ravel(), "vi": vi.ravel()}).to_csv(f, index=False)
            files[name] = str(f)
        out = subprocess.run(["Rscript", str(R_SCRIPT), json.dumps(files)], capture_output=True,
                             text=True, check=False)
        if out.returncode != 0:
            print(out.stderr, file=sys.stderr)
            return {}
        return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    rows = []
    big_y, big_v = strata(1, 100_000, 1)
    many_y, many_v = strata(10_000, 8, 2)
    qp_y, qp_v = strata(1_000, 8, 3)
    g_many = np.repeat(np.arange(10_000), 8)
    g_qp = np.repeat(np.arange(1_000), 8)

    def premeta_big(confint=False):
        return premeta.fit(big_y[0], big_v[0], method="REML", confint=confint).table()

    tracemalloc.start()
    premeta_big()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()

    task = "1 model, k = 100,000, REML"
    rows += [
        (task, "premeta", median_time(premeta_big, 7), f"all of rma's table but the tau2 CI; peak {peak:.0f} MiB"),
        (task, "premeta +CI", median_time(lambda: premeta_big(True), 5), "with Q-profile CIs"),
        (task, "PyMARE", median_time(lambda: pymare_reml(big_y, big_v), 5), "no tau2 CI, no PI"),
        (task, "statsmodels", median_time(
            lambda: combine_effects(big_y[0], big_v[0], method_re="iterated").summary_frame(), 3),
         "PM (no REML), no tau2 CI"),
    ]
    task = "10,000 strata x k = 8, REML + Knapp-Hartung + PI"
    rows += [
        (task, "premeta", median_time(lambda: premeta.fit(
            many_y.ravel(), many_v.ravel(), g_many, method="REML", test="knha",
            confint=False).table(), 7), "one call"),
        (task, "premeta +CI", median_time(lambda: premeta.fit(
            many_y.ravel(), many_v.ravel(), g_many, method="REML", test="knha").table(), 5),
         "one call, with Q-profile CIs"),
        (task, "PyMARE", median_time(lambda: pymare_reml(many_y, many_v), 5), "one call; no PI"),
        (task, "statsmodels", median_time(lambda: statsmodels_loop(many_y, many_v), 1),
         "loop; PM (no REML)"),
    ]
    task = "Q-profile tau2 CI, 1,000 strata x k = 8"
    rows += [
        (task, "premeta", median_time(lambda: premeta.fit(
            qp_y.ravel(), qp_v.ravel(), g_qp, method="REML").table(), 5), "one call"),
        (task, "PyMARE", median_time(lambda: pymare_qp(qp_y, qp_v), 1), "loop (needs a Dataset)"),
    ]
    mf = metafor_times({"many": (many_y, many_v), "qp": (qp_y, qp_v)})
    if mf:
        rows += [
            ("1 model, k = 100,000, REML", "metafor", np.nan,
             "not run: rma() allocates k x k matrices (74.5 GB)"),
            ("10,000 strata x k = 8, REML + Knapp-Hartung + PI", "metafor", mf["many"],
             f"loop of rma() + predict(); {mf['many_failed']} strata failed to converge"),
            ("Q-profile tau2 CI, 1,000 strata x k = 8", "metafor", mf["qp"],
             "loop of rma() + confint()"),
        ]
    table = pd.DataFrame(rows, columns=["task", "tool", "median_s", "note"])
    base = table[table.tool == "premeta"].set_index("task").median_s
    table["premeta_speedup"] = table.median_s / table.task.map(base)
    order = {"premeta": 0, "premeta +CI": 1, "PyMARE": 2, "statsmodels": 3, "metafor": 4}
    table = table.sort_values(["task", "tool"], key=lambda s: s.map(order) if s.name == "tool" else s)
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(table.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    print(f"\npremeta {premeta.__version__}, numpy {np.__version__}, Python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
