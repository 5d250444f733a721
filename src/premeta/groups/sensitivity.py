"""Sensitivity per group: leave-one-out, influence and GOSH (:mod:`premeta.sensitivity`).
"""

from __future__ import annotations


import numpy as np
import pandas as pd

from premeta.deprecation import renamed_arguments
from premeta.models import fit
from premeta.sensitivity import gosh, influence, leave1out
from premeta.vocabulary import group_labels, label_order
from premeta.groups.common import attempt
from premeta.groups.rows import labels

#: Leave-one-out and influence fit k models of k - 1 comparisons: above this k a group gets a note instead.
SENSITIVITY_MAX_K = 1000


@renamed_arguments(by="group_by")
def sensitivity(effects: pd.DataFrame, group_by: str = "mechanism", method: str = "REML", test: str = "z",
                level: float = 95) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Leave-one-out estimates and influence diagnostics of every comparison, within each group.

    Each group of ``group_by`` with at least 2 comparisons is refitted without each comparison in turn
    (:func:`premeta.sensitivity.leave1out`, metafor ``leave1out``) and diagnosed with
    :func:`premeta.sensitivity.influence` (metafor ``influence``: studentized residuals, DFFITS,
    Cook's distance, covariance ratio, hat values, DFBETAS; ``influential`` by metafor's rule).
    Comparisons are left out one at a time (metafor's unit), named by their spreadsheet row
    and :func:`labels`.

    A group with one comparison, of more than :data:`SENSITIVITY_MAX_K` (whose cost grows as k²),
    or whose diagnostics cannot be computed, keeps its rows with NaN and the reason in ``note``.

    Returns
    -------
    (leave1out, influence)
        Long tables with ``group``, ``row`` and ``label`` first and ``note`` last.
    """
    loo, inf = [], []
    names = labels(effects)
    groups = group_labels(effects, group_by)
    for g in label_order(groups.unique()):
        sub = effects[(groups == g).to_numpy()]
        yi, vi = sub["yi"].to_numpy(float), sub["vi"].to_numpy(float)
        key = {"group": g, "row": sub.index.to_numpy(), "label": names[sub.index].to_numpy()}
        if len(sub) < 2 or len(sub) > SENSITIVITY_MAX_K:
            note = ("k = 1: no comparison to leave out" if len(sub) < 2 else
                    f"k = {len(sub)}: leave-one-out is not run above {SENSITIVITY_MAX_K} comparisons (it fits k models "
                    f"of k - 1 each; one comparison's weight is about 1/k); premeta.sensitivity.leave1out runs it")
            loo.append(pd.DataFrame(key | {"note": note}))
            inf.append(pd.DataFrame(key | {"note": note}))
            continue
        for parts, fn, args in ((loo, leave1out, (method, test, level)), (inf, influence, (method, test))):
            t, why = attempt(fn, yi, vi, *args)
            if t is None:
                parts.append(pd.DataFrame(key | {"note": why}))
                continue
            t = t.reset_index(drop=True)
            unfitted = t.iloc[:, 0].isna().to_numpy(copy=True)  # estimate, rstudent: NaN where not fitted
            if unfitted.any():  # the group's own model says why (e.g. values too extreme), if it cannot be fitted
                whole = fit(yi, vi, method=method, test=test).table().iloc[0]
                unfitted &= np.isnan(whole.estimate)
                why = f"not computed: {whole.note}"
            parts.append(t.assign(**key, note=np.where(unfitted, why, "")))
    out = []
    for parts in (loo, inf):
        t = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["group", "row", "label", "note"])
        out.append(t[["group", "row", "label"] + [c for c in t if c not in ("group", "row", "label", "note")]
                     + ["note"]])
    inf = out[1].rename(columns={"inf": "influential"})
    return out[0], inf.assign(influential=inf.get("influential", pd.Series(index=inf.index, dtype=object)).eq("*"))
#: Columns of ``results/gosh.csv`` (:func:`gosh_groups`): the spread of the GOSH estimates of each group.
GOSH_COLUMNS = ["group", "k", "method", "sampling", "fitted", "estimate", "i2", "share_positive", "estimate_min",
                "estimate_q05", "estimate_q25", "estimate_median", "estimate_q75", "estimate_q95", "estimate_max",
                "i2_median", "figure", "note"]


@renamed_arguments(by="group_by")
def gosh_groups(effects: pd.DataFrame, group_by: str = "mechanism", method: str = "REML", subsets: int = 10**6,
                seed: int | None = None):
    """GOSH (:func:`premeta.gosh`) within each group of ``group_by``, one group at a time.

    Yields ``(row, fits, names)`` per group in sorted order: ``row`` the group's line of
    ``results/gosh.csv`` (:data:`GOSH_COLUMNS`, ``figure`` left to the caller; ``sampling`` is
    ``all`` or ``random``, ``fitted`` the number of subsets; ``estimate`` and ``i2`` the fit to
    all comparisons; the share of subsets with an estimate above 0, their range and quantiles;
    ``i2_median`` the median I2 of the subsets), ``fits`` the :class:`premeta.Gosh` (None
    when it cannot be computed: a group of one comparison keeps its row with NaN and the reason
    in ``note``) and ``names`` the comparisons' labels (:func:`labels`).
    """
    names = labels(effects)
    groups = group_labels(effects, group_by)
    for g in label_order(groups.unique()):
        sub = effects[(groups == g).to_numpy()]
        yi, vi = sub["yi"].to_numpy(float), sub["vi"].to_numpy(float)
        row = dict.fromkeys(GOSH_COLUMNS, np.nan) | {"group": g, "k": len(sub), "method": method, "sampling": "",
                                                      "note": ""}
        fits, why = attempt(gosh, yi, vi, method=method, subsets=subsets, seed=seed) if len(sub) > 1 else (
            None, "k = 1: GOSH needs at least 2 comparisons")
        if fits is not None:
            full = gosh(yi, vi, method=method, incl=np.ones((1, len(yi)), dtype=bool)).res.iloc[0]
            est = fits.res["estimate"].dropna().to_numpy()
            q = np.quantile(est, [0, 0.05, 0.25, 0.5, 0.75, 0.95, 1])
            row |= {"sampling": fits.sampling, "fitted": len(fits.res), "estimate": full["estimate"], "i2": full["i2"],
                    "share_positive": float(np.mean(est > 0)), "i2_median": float(fits.res["i2"].median()),
                    **dict(zip(GOSH_COLUMNS[8:15], q))}
            if len(est) < len(fits.res):
                why = f"{len(fits.res) - len(est)} subsets could not be fitted"
        row["note"] = why
        yield row, fits, names[sub.index].to_list()
