"""Pooled effects stratified by risk of bias (:mod:`premeta.rob`).
"""

from __future__ import annotations


import pandas as pd

from premeta.deprecation import renamed_arguments
from premeta import rob
from premeta.groups.common import attempt, with_notes
from premeta.groups.pooling import stratified

@renamed_arguments(by="group_by")
def rob_strata(effects: pd.DataFrame, studies: pd.DataFrame, group_by: str = "mechanism", method: str = "REML",
               test: str = "z", level: float = 95) -> pd.DataFrame:
    """Sensitivity to risk of bias: the overall effect stratified by each SYRCLE item (with its
    Q-between and QM tests), and every group re-fitted on the studies at low risk on the key items
    (:data:`premeta.rob.KEY_ITEMS`). An item on which every study has the same judgement, or no
    study at low risk, keeps its row with the reason in ``note``."""
    parts = []
    for item in studies:
        e = effects[effects[item].notna()]
        analysis = f"by {rob.ITEMS[item]}"
        if e[item].nunique() < 2:
            why = (f"every rated study is at {e[item].iloc[0]!r} risk on this item: nothing to compare" if len(e)
                   else "no study is rated on this item")
            parts.append(pd.DataFrame({"analysis": [analysis], "k": len(e), "note": why}))
            continue
        out, why = attempt(stratified, e, item, method, test, level)
        if out is None:
            parts.append(pd.DataFrame({"analysis": [analysis], "k": len(e), "note": why}))
            continue
        pooled = out["pooled"].iloc[:-1]
        tests = out["subgroup_tests"]["p"]
        parts.append(pooled.assign(analysis=analysis, q_between_p=tests.iloc[0], qm_p=tests.iloc[1]))
    low = rob.low_risk(effects, studies)
    label = "low risk on " + " and ".join(rob.ITEMS[c] for c in rob.KEY_ITEMS)
    if not len(low):
        parts.append(pd.DataFrame({"analysis": [label], "k": 0, "note": "no study is at low risk on these items"}))
    else:
        out, why = attempt(stratified, low, group_by, method, test, level)
        parts.append(out["pooled"].assign(analysis=label) if out is not None
                     else pd.DataFrame({"analysis": [label], "k": len(low), "note": why}))
    cols = ["analysis", "group", "k", "studies", "estimate", "ci_low", "ci_high", "p", "tau2", "i2",
            "q_between_p", "qm_p", "note"]
    return with_notes(pd.concat(parts, ignore_index=True).reindex(columns=cols))
