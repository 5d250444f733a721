"""The rows of the forest plots: one per comparison with its weight and label, or one per study.
"""

from __future__ import annotations


import numpy as np
import pandas as pd

from premeta.deprecation import renamed_arguments
from premeta.multilevel import aggregate
from premeta.vocabulary import group_labels
from premeta.groups.common import animals

#: A group with more comparisons gets a study-level forest plot (:func:`study_rows`) beside the full one.
STUDY_LEVEL_K = 60


def labels(effects: pd.DataFrame) -> pd.Series:
    """Forest-plot row labels: study, comparison (when a study has several), time, outcome."""
    parts = [effects["study"].astype(str)]
    if "comparison" in effects:
        several = effects.groupby("study")["comparison"].transform("nunique") > 1
        parts.append(effects["comparison"].astype("string").where(several).fillna(""))
    if "time" in effects:
        t = pd.to_numeric(effects["time"], errors="coerce")
        parts.append(t.map(lambda x: "" if pd.isna(x) else f"d{x:g}"))
    parts.append(effects["outcome"].astype(str))
    return pd.concat(parts, axis=1).apply(lambda r: " · ".join(x for x in r if x), axis=1)


@renamed_arguments(by="group_by")
def forest_rows(effects: pd.DataFrame, weights: pd.DataFrame, group_by: str = "mechanism") -> pd.DataFrame:
    """The rows of a comparison-level forest plot: ``label``, ``group``, ``yi``, ``vi``, ``weight``
    (percent within the group, from :func:`stratified`) and the animals of each arm, ``n_trt`` and
    ``n_ctl`` (the control's n after a shared control is split, as it entered the effect size;
    empty for precomputed effects)."""
    n = {c: pd.to_numeric(effects[c], errors="coerce") if c in effects else np.nan for c in ("trt_n", "ctl_n_eff")}
    return pd.DataFrame({"label": labels(effects), "group": group_labels(effects, group_by), "yi": effects["yi"],
                         "vi": effects["vi"], "weight": weights["weight_group"].reindex(effects.index),
                         "n_trt": n["trt_n"], "n_ctl": n["ctl_n_eff"]}, index=effects.index)


@renamed_arguments(by="group_by")
def study_rows(effects: pd.DataFrame, weights: pd.DataFrame, group_by: str = "mechanism",
               rho: float = 0.5) -> pd.DataFrame:
    """The rows of a study-level forest plot: the comparisons of each study within each group combined.

    Each study's comparisons are combined into one effect assuming their sampling errors correlate
    with ``rho`` (:func:`premeta.multilevel.aggregate`, metafor ``aggregate(..., rho = rho)``); its
    ``weight`` is the sum of its comparisons' weights in the group's model, so the squares show what
    each study contributes to the pooled estimate. Columns as :func:`forest_rows`, with
    ``comparisons`` and ``animals`` (each group of animals counted once, :func:`animals`) instead of
    the per-arm n.
    """
    groups = group_labels(effects, group_by)
    parts = []
    for g in pd.unique(groups):
        sub = effects[groups == g]
        agg = aggregate(sub["yi"], sub["vi"], sub["study"].astype(str), rho)
        w = weights["weight_group"].reindex(sub.index).groupby(sub["study"].astype(str).to_numpy()).sum()
        parts.append(pd.DataFrame({
            "label": agg["cluster"], "group": g, "yi": agg["yi"], "vi": agg["vi"],
            "weight": w.reindex(agg["cluster"]).to_numpy(), "comparisons": agg["ki"],
            "animals": [animals(sub[sub["study"].astype(str) == s]) or np.nan for s in agg["cluster"]]}))
    return pd.concat(parts, ignore_index=True)
