"""Time premeta.selmodel on 200 strata: one stacked call, a per-stratum loop, and metafor's selmodel().

    python benchmarks/bench_selmodel.py            # metafor too, when Rscript is on the PATH
    python benchmarks/bench_selmodel.py --no-r     # premeta only

200 strata of k = 15 simulated studies (seeded; mu = 0.3, tau2 = 0.05, vi uniform on [0.02, 0.3],
non-significant results published with probability 0.5). premeta fits all strata in one call
(``groups=``), then in a loop of one call per stratum; metafor loops over
``selmodel(rma(yi, vi, method = "ML"), ...)``, timed inside R (start-up excluded). One stratum has no
p-value below 0.025: the step function refuses it (premeta's note, metafor's error, caught). The step
function (``steps = 0.025``) is timed on all 200 strata; the beta model on all 200 for premeta and
on the first 20 for metafor (its time times 10 is printed, marked as extrapolated), as its numerical
integration takes seconds per stratum. Times are medians of 3 runs (metafor: 1). Nothing is asserted.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

import premeta
from premeta.errors import NotComputable

STRATA, K = 200, 15
R_CODE = r"""
suppressMessages({library(metafor); library(jsonlite)})
a <- commandArgs(TRUE); d <- fromJSON(a[1]); n <- as.integer(a[3])
g <- unique(d$groups)[seq_len(n)]
t0 <- proc.time()[["elapsed"]]
for (s in g) { i <- d$groups == s
  r <- rma(d$yi[i], d$vi[i], method = "ML")
  try(if (a[2] == "stepfun") selmodel(r, type = "stepfun", steps = 0.025) else selmodel(r, type = a[2]),
      silent = TRUE) }
cat(proc.time()[["elapsed"]] - t0)
"""


def data(seed: int = 2024) -> dict:
    rng = np.random.default_rng(seed)
    yi, vi, groups = [], [], []
    for s in range(STRATA):
        n = 0
        while n < K:
            v = rng.uniform(0.02, 0.3)
            y = rng.normal(rng.normal(0.3, np.sqrt(0.05)), np.sqrt(v))
            if y / np.sqrt(v) > 1.96 or rng.random() < 0.5:
                yi.append(y), vi.append(v), groups.append(f"s{s:03d}")
                n += 1
    return {"yi": yi, "vi": vi, "groups": groups}


def one(y, v, type, kwargs):
    """One stratum alone; None where it cannot be analysed (an interval of steps without p-values)."""
    try:
        return premeta.selmodel(y, v, type=type, **kwargs)
    except NotComputable:
        return None


def median_time(f, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def metafor_time(d: dict, type: str, n: int) -> float | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(d, f)
        f.flush()
        out = subprocess.run(["Rscript", "-e", R_CODE, f.name, type, str(n)], capture_output=True, text=True)
    return float(out.stdout) if out.returncode == 0 else None


def main(with_r: bool = True) -> None:
    d = data()
    y, v, g = np.array(d["yi"]), np.array(d["vi"]), np.array(d["groups"])
    print(f"{STRATA} strata x k = {K}")
    print(f"{'type':>8} {'premeta stacked s':>18} {'premeta loop s':>15} {'loop/stacked':>13} "
          f"{'metafor s':>12} {'metafor/stacked':>16}")
    for type, kwargs, r_strata in (("stepfun", {"steps": 0.025}, STRATA), ("beta", {}, 20)):
        stacked = median_time(lambda: premeta.selmodel(y, v, type=type, groups=g, **kwargs))
        loop = median_time(lambda: [one(y[g == s], v[g == s], type, kwargs) for s in np.unique(g)], runs=1)
        r = metafor_time(d, type, r_strata) if with_r else None
        r_all = None if r is None else r * STRATA / r_strata
        mark = "" if r_strata == STRATA else " (x10)"
        r_text = "—" if r_all is None else f"{r_all:.3g}{mark}"
        ratio = "—" if r_all is None else f"{r_all / stacked:.3g}"
        print(f"{type:>8} {stacked:>18.3g} {loop:>15.3g} {loop / stacked:>13.3g} {r_text:>12} {ratio:>16}")


if __name__ == "__main__":
    main(with_r="--no-r" not in sys.argv)
