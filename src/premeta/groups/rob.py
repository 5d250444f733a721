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
               test: str = "z", level: float = 95, tool: rob.Tool = rob.SYRCLE) -> pd.DataFrame:
    """Sensitivity to risk of bias: the overall effect stratified by each item of ``tool`` (SYRCLE's
    by default; :func:`premeta.rob.tool`) with its Q-between and QM tests, and every group re-fitted
    on the studies at low risk on SYRCLE's key items (:data:`premeta.rob.KEY_ITEMS`, random sequence
    generation and blinded outcome assessment), when the sheet has them. An item on which every
    study has the same judgement, no study at low risk, or a tool without those items, keeps its row
    with the reason in ``note``."""
    parts = []
    for item in (c for c in tool.columns if c in studies):
        e = effects[effects[item].notna()]
        analysis = f"by {tool.labels[item]}"
        if e[item].nunique() < 2:
            if not len(e):
                why = "no study is rated on this item"
            else:
                same = f"has {e[item].iloc[0]!r} on" if tool.checklist else f"is at {e[item].iloc[0]!r} risk on"
                why = f"every rated study {same} this item: nothing to compare"
            parts.append(pd.DataFrame({"analysis": [analysis], "k": len(e), "note": why}))
            continue
        out, why = attempt(stratified, e, item, method, test, level)
        if out is None:
            parts.append(pd.DataFrame({"analysis": [analysis], "k": len(e), "note": why}))
            continue
        pooled = out["pooled"].iloc[:-1]
        tests = out["subgroup_tests"]["p"]
        parts.append(pooled.assign(analysis=analysis, q_between_p=tests.iloc[0], qm_p=tests.iloc[1]))
    label = "low risk on " + " and ".join(rob.ITEMS[c] for c in rob.KEY_ITEMS)
    keys = [c for c in rob.KEY_ITEMS if c in studies]
    low = rob.low_risk(effects, studies) if keys else effects.iloc[:0]
    if not keys:
        parts.append(pd.DataFrame({"analysis": [label], "k": 0, "note": (
            f"{tool.label} has neither of SYRCLE's items {' and '.join(rob.KEY_ITEMS)} (random sequence generation, "
            "blinded outcome assessment) that this subset needs")}))
    elif not len(low):
        parts.append(pd.DataFrame({"analysis": [label], "k": 0, "note": "no study is at low risk on these items"}))
    else:
        out, why = attempt(stratified, low, group_by, method, test, level)
        parts.append(out["pooled"].assign(analysis=label) if out is not None
                     else pd.DataFrame({"analysis": [label], "k": len(low), "note": why}))
    cols = ["analysis", "group", "k", "studies", "estimate", "ci_low", "ci_high", "p", "tau2", "i2",
            "q_between_p", "qm_p", "note"]
    return with_notes(pd.concat(parts, ignore_index=True).reindex(columns=cols))
