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
import premeta.regression
import premeta.multilevel
import premeta.sensitivity

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


def three_level(S: int, n: int, seed: int):
    """S studies of n effects; in the even-numbered studies effects 0 and 1 share an inner cluster
    (n - 1 inner clusters), in the others each effect is its own inner cluster (n)."""
    rng = np.random.default_rng(seed)
    study = np.repeat(np.arange(S), n)
    pos = np.tile(np.arange(n), S)
    cluster2 = np.where((study % 2 == 0) & (pos == 1), 0, pos)
    vi = rng.uniform(0.05, 0.3, S * n)
    yi = (0.4 + rng.normal(0, np.sqrt(0.1), S)[study]
          + rng.normal(0, np.sqrt(0.05), (S, n))[study, cluster2] + rng.normal(0, np.sqrt(vi)))
    return yi, vi, study, cluster2


def leave_out_columns(y, v):
    """The k leave-one-out datasets as the columns of two (k - 1, k) arrays."""
    k = len(y)
    i, j = np.divmod(np.arange(k * (k - 1)), k - 1)
    j += j >= i
    return y[j].reshape(k, k - 1).T, v[j].reshape(k, k - 1).T


def pymare_leave1out(y, v):
    """PyMARE's REML fits of all k leave-one-out datasets in one call (datasets in columns),
    Wald SEs as premeta's test="z", with Q, I2 and H (which need a Dataset)."""
    Y, V = leave_out_columns(y, v)
    est = VarianceBasedLikelihoodEstimator(method="REML", small_sample_correction="wald")
    s = est.fit_dataset(Dataset(y=Y, v=V)).summary()
    return s.get_fe_stats(), s.get_heterogeneity_stats()


def statsmodels_leave1out(y, v):
    """statsmodels: a loop of k combine_effects fits (Paule-Mandel, its iterated estimator)."""
    Y, V = leave_out_columns(y, v)
    for yc, vc in zip(Y.T, V.T):
        combine_effects(yc, vc, method_re="iterated").summary_frame()


def meta_regression(k: int, seed: int):
    """k studies, two continuous moderators, one of them with an effect."""
    rng = np.random.default_rng(seed)
    mods = pd.DataFrame(rng.normal(size=(k, 2)), columns=["x1", "x2"])
    vi = rng.uniform(0.05, 0.3, k)
    yi = 0.3 + 0.2 * mods.x1.to_numpy() + rng.normal(0, np.sqrt(vi + 0.1))
    return yi, vi, mods


def pymare_permutest(yi, vi, mods, iter: int):
    """PyMARE's permutation test: REML, Knapp-Hartung, (y, v) permuted against X, as metafor."""
    np.random.seed(2024)
    est = VarianceBasedLikelihoodEstimator(method="REML").fit_dataset(
        Dataset(y=yi, v=vi, X=mods.to_numpy(), X_names=list(mods.columns)))
    return est.summary().permutation_test(iter)


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


def metafor_times(frames: dict) -> dict:
    if shutil.which("Rscript") is None:
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for name, frame in frames.items():
            files[name] = str(Path(tmp) / f"{name}.csv")
            frame.to_csv(files[name], index=False)
        out = subprocess.run(["Rscript", str(R_SCRIPT), json.dumps(files)], capture_output=True,
                             text=True, check=False)
        if out.returncode != 0:
            print(out.stderr, file=sys.stderr)
            return {}
        return json.loads(out.stdout.strip().splitlines()[-1])


def strata_frame(yi, vi) -> pd.DataFrame:
    return pd.DataFrame({"g": np.repeat(np.arange(yi.shape[0]), yi.shape[1]),
                         "yi": yi.ravel(), "vi": vi.ravel()})


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

    ml_y, ml_v, ml_study, ml_cl = three_level(2_000, 5, 5)

    def premeta_ml(cr2=False):
        fit = premeta.multilevel.rma_mv(ml_y, ml_v, ml_study, ml_cl)
        return premeta.multilevel.robust(fit) if cr2 else fit

    tracemalloc.start()
    premeta_ml(True)
    ml_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    ml_fit = "three-level, 2,000 studies x 5 effects: REML fit"
    ml_cr2 = "three-level, 2,000 studies x 5 effects: fit + CR2"
    rows += [
        (ml_fit, "premeta", median_time(premeta_ml, 7), "rma_mv"),
        (ml_cr2, "premeta", median_time(lambda: premeta_ml(True), 7),
         f"rma_mv + robust; peak {ml_peak:.0f} MiB"),
    ]
    rows += [(task, "PyMARE", np.nan, "no three-level model (g= fits two levels + robust SEs)")
             for task in (ml_fit, ml_cr2)]
    rows += [(task, "statsmodels", np.nan, "no such model (MixedLM cannot fix known variances)")
             for task in (ml_fit, ml_cr2)]

    tasks_l1o = {}
    for k, seed in ((1_000, 4), (200, 6)):
        y, v = (a[0] for a in strata(1, k, seed))
        l1o, inf = f"leave-one-out, k = {k:,}, REML", f"influence diagnostics, k = {k:,}, REML"
        tasks_l1o[k] = (y, v, l1o, inf)
        rows += [
            (l1o, "premeta", median_time(lambda: premeta.sensitivity.leave1out(y, v, method="REML"), 5),
             f"one call ({k * (k - 1):,} stacked rows)"),
            (l1o, "PyMARE", median_time(lambda: pymare_leave1out(y, v), 5),
             f"one call, {k:,} datasets as columns; Wald SEs, Q, I2, H"),
            (l1o, "statsmodels", median_time(lambda: statsmodels_leave1out(y, v), 3),
             f"loop of {k:,} fits; PM (no REML)"),
            (inf, "premeta", median_time(lambda: premeta.sensitivity.influence(y, v, method="REML"), 5),
             "one call (full fit + leave-outs)"),
            (inf, "PyMARE", np.nan, "no influence diagnostics"),
            (inf, "statsmodels", np.nan, "no influence diagnostics for meta-analysis"),
        ]

    perm_y, perm_v, perm_mods = meta_regression(50, 7)
    perm = "permutation test, 1,000 permutations, k = 50, 2 moderators"
    rows += [
        (perm, "premeta", median_time(lambda: premeta.permutest(
            perm_y, perm_v, perm_mods, method="REML", test="knha", permutations=1000, seed=2024), 5),
         "one call (1,000 stacked fits); per-coefficient and QM p"),
        (perm, "PyMARE", median_time(lambda: pymare_permutest(perm_y, perm_v, perm_mods, 1000), 5),
         "per-coefficient (and tau2) p, no QM"),
        (perm, "statsmodels", np.nan, "no permutation test"),
    ]

    mf = metafor_times({
        "many": strata_frame(many_y, many_v), "qp": strata_frame(qp_y, qp_v),
        "ml": pd.DataFrame({"study": ml_study, "cluster2": ml_cl, "yi": ml_y, "vi": ml_v}),
        "l1o": pd.DataFrame({"yi": tasks_l1o[200][0], "vi": tasks_l1o[200][1]}),
        "perm": perm_mods.assign(yi=perm_y, vi=perm_v),
    })
    if mf:
        rows += [
            ("1 model, k = 100,000, REML", "metafor", np.nan,
             "not run: rma() allocates k x k matrices (74.5 GB)"),
            ("10,000 strata x k = 8, REML + Knapp-Hartung + PI", "metafor", mf["many"],
             f"loop of rma() + predict(); {mf['many_failed']} strata failed to converge"),
            ("Q-profile tau2 CI, 1,000 strata x k = 8", "metafor", mf["qp"],
             "loop of rma() + confint()"),
            (ml_fit, "metafor", mf["ml"], "rma.mv(sparse = TRUE), 1 run"),
            (ml_cr2, "metafor", mf["ml"] + mf["cr2"],
             f"+ robust(clubSandwich = TRUE) {mf['cr2']:.3g} s, 1 run each"),
            (tasks_l1o[1_000][2], "metafor", np.nan,
             "not run (~35 min): 1,000 rma() fits on dense 999 x 999 matrices"),
            (tasks_l1o[1_000][3], "metafor", np.nan, "not run (as long as leave1out)"),
            (tasks_l1o[200][2], "metafor", mf["l1o"], "rma() + leave1out(), 1 run"),
            (tasks_l1o[200][3], "metafor", mf["inf"], "rma() + influence(), 1 run"),
            (perm, "metafor", mf["perm"], "permutest(rma(mods = ~ x1 + x2)), 1 run"),
        ]
    table = pd.DataFrame(rows, columns=["task", "tool", "median_s", "note"])
    base = table[table.tool == "premeta"].set_index("task").median_s
    table["premeta_speedup"] = table.median_s / table.task.map(base)
    order = {"premeta": 0, "premeta +CI": 1, "PyMARE": 2, "statsmodels": 3, "metafor": 4}
    first = {task: i for i, task in enumerate(dict.fromkeys(table.task))}
    table = table.sort_values(["task", "tool"], key=lambda s: s.map(order if s.name == "tool" else first))
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(table.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    print(f"\npremeta {premeta.__version__}, numpy {np.__version__}, Python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
