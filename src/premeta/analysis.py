"""The stratified analysis a preclinical reviewer reads: pooled effects per group and overall.

This composes the effect sizes (:mod:`premeta.effects`) and the models (:mod:`premeta.models`)
into the tables the workflow writes; a notebook user calls the same function.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from premeta import rob
from premeta.bias import egger, trimfill
from premeta.models import COLUMNS, adjust_p, fit, subgroup_tests


def slug(label: object) -> str:
    """File-name form of a group label: lower case, runs of other characters as one '-'."""
    return re.sub(r"[^a-z0-9]+", "-", str(label).lower()).strip("-") or "group"


def animals(effects: pd.DataFrame) -> int:
    """Animals in a set of comparisons, each group counted once.

    An exercise group is identified by (study, cohort) or, without ``cohort``, by (study,
    comparison) or the row; a control group by (study, control_group) or else like its
    exercise group. Each counts with its largest n over the rows it appears in (the same
    animals measured at several time points or on several outcomes).
    """
    pre = effects.get("precomputed", pd.Series(False, index=effects.index)).astype(bool)
    e = effects[~pre]
    if e.empty:
        return 0
    row_id = pd.Series(e.index.astype(str), index=e.index)
    study = e["study"].astype(str)

    def key(col: str, fallback: pd.Series) -> pd.Series:
        own = e[col].astype("string") if col in e else pd.Series(pd.NA, index=e.index, dtype="string")
        return study + "\x00" + own.fillna(fallback)

    trt = key("cohort", e["comparison"].astype("string").fillna(row_id) if "comparison" in e else row_id)
    ctl = key("control_group", "ctl:" + trt)
    n_t = pd.to_numeric(e["trt_n"]).groupby(trt).max().sum()
    n_c = pd.to_numeric(e["ctl_n"]).groupby(ctl).max().sum()
    return int(n_t + n_c)


def stratified(effects: pd.DataFrame, by: str = "mechanism", method: str = "REML",
               test: str = "knha", level: float = 95) -> dict[str, pd.DataFrame]:
    """Random-effects model in every stratum of ``by`` and over all rows.

    Parameters
    ----------
    effects : DataFrame
        Output of :func:`premeta.escalc` (needs ``yi``, ``vi``, ``study`` and the ``by`` column).
    by, method, test, level
        Grouping column and the model settings of :func:`premeta.models.fit`.

    Returns
    -------
    dict
        ``pooled``: one row per group then ``overall``, the columns of :func:`premeta.rma`
        plus ``studies``, ``animals``, ``p_holm`` and ``p_bonferroni`` (adjusted across the
        groups, not the overall row); ``subgroup_tests``: Q-between and QM
        (:func:`premeta.models.subgroup_tests`); ``weights``: every row's weight in percent
        within its group (``weight_group``) and in the overall model (``weight_overall``).
    """
    if by not in effects:
        raise ValueError(f"grouping column {by!r} is not in the sheet")
    groups = effects[by].astype("string")
    missing = groups.isna()
    if missing.any():
        raise ValueError(f"column {by!r} is empty in rows {', '.join(map(str, effects.index[missing]))}")
    yi, vi = effects["yi"].to_numpy(float), effects["vi"].to_numpy(float)
    per = fit(yi, vi, groups.to_numpy(object), method=method, test=test, level=level)
    overall = fit(yi, vi, method=method, test=test, level=level)
    pooled = pd.concat([per.table(), overall.table()], ignore_index=True)
    labels = list(per.groups) + ["overall"]
    subsets = [effects[groups == g] for g in per.groups] + [effects]
    pooled.insert(2, "studies", [s["study"].nunique() for s in subsets])
    pooled.insert(3, "animals", [animals(s) for s in subsets])
    pooled["p_holm"] = np.r_[adjust_p(pooled["p"][:-1], "holm"), np.nan]
    pooled["p_bonferroni"] = np.r_[adjust_p(pooled["p"][:-1], "bonferroni"), np.nan]
    pooled["group"] = labels
    if len(per.groups) > 1:
        tests = subgroup_tests(yi, vi, groups.to_numpy(object), method, test, level, separate=per)
    else:
        tests = pd.DataFrame(columns=["test", "method", "stat", "df1", "df2", "p", "tau2", "groups"])
    weights = pd.DataFrame({"row": effects.index, by: groups.to_numpy(object),
                            "weight_group": per.weights, "weight_overall": overall.weights})
    return {"pooled": pooled[["group", "k", "studies", "animals"] + COLUMNS[2:] + ["p_holm", "p_bonferroni"]],
            "subgroup_tests": tests, "weights": weights}


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


def time_course(effects: pd.DataFrame, by: str = "mechanism", time: str = "time", method: str = "REML",
                test: str = "knha", level: float = 95) -> pd.DataFrame:
    """Pooled effect at each time point within each group: every (group, time) stratum in one fit."""
    e = effects[pd.to_numeric(effects[time], errors="coerce").notna()]
    t = pd.to_numeric(e[time]).to_numpy(float)
    keys = list(zip(e[by].astype(str), t))
    table = fit(e["yi"].to_numpy(float), e["vi"].to_numpy(float), keys, method=method, test=test,
                level=level).table()
    table.insert(0, "time", [k[1] for k in table.pop("group")])
    table.insert(0, "group", [k[0] for k in sorted(set(keys))])
    studies = e.assign(_t=t).groupby([by, "_t"])["study"].nunique()
    table.insert(3, "studies", [studies[(g, tt)] for g, tt in zip(table.group, table.time)])
    return table


def small_study(effects: pd.DataFrame, by: str = "mechanism", method: str = "REML", test: str = "knha",
                min_k: int = 10) -> pd.DataFrame:
    """:func:`small_study_tests` over all comparisons and within every group of ``by`` with at
    least ``min_k`` comparisons (fewer make these tests meaningless; Sterne et al. 2011, BMJ 343:d4002)."""
    parts = [small_study_tests(effects, method, test).assign(group="overall")]
    for g, sub in effects.groupby(by, sort=True):
        if len(sub) >= min_k:
            parts.append(small_study_tests(sub, method, test).assign(group=str(g)))
    out = pd.concat(parts, ignore_index=True)
    return out[["group"] + [c for c in out if c != "group"]]


def small_study_tests(effects: pd.DataFrame, method: str = "REML", test: str = "knha") -> pd.DataFrame:
    """Egger's regression test against the SE and against 1/sqrt(n), both as a meta-regression
    (metafor ``regtest``) and as the classical weighted regression; trim-and-fill (R0, L0).

    n is the total number of animals of a comparison (``trt_n + ctl_n``, real group sizes);
    rows without group summaries are left out of the tests against 1/sqrt(n).
    """
    yi, vi = effects["yi"].to_numpy(float), effects["vi"].to_numpy(float)
    ni = (pd.to_numeric(effects.get("trt_n")) + pd.to_numeric(effects.get("ctl_n"))).to_numpy(float) \
        if {"trt_n", "ctl_n"} <= set(effects) else np.full(len(yi), np.nan)
    rows = []
    for predictor in ("sei", "sqrtninv"):
        ok = np.isfinite(ni) if predictor == "sqrtninv" else np.ones(len(yi), bool)
        for model in ("rma", "lm"):
            if ok.sum() < 3:
                continue
            r = egger(yi[ok], vi[ok], predictor, ni[ok], model, method, test)
            rows.append({"analysis": f"Egger regression ({'meta-regression' if model == 'rma' else 'weighted OLS'})",
                         "precision": "SE" if predictor == "sei" else "1/sqrt(n)", "k": int(ok.sum()),
                         "stat": r["zval"], "df": r["ddf"], "p": r["pval"], "slope": r["slope"],
                         "estimate": r["est"], "ci_low": r["ci_lb"], "ci_high": r["ci_ub"]})
    for estimator in ("R0", "L0"):
        t = trimfill(yi, vi, estimator, method=method)
        rows.append({"analysis": f"trim-and-fill ({estimator})", "precision": "SE", "k": len(yi),
                     "k0": t["k0"], "side": t["side"], "stat": t["zval"], "p": t["pval"],
                     "estimate": t["estimate"], "ci_low": t["ci_lb"], "ci_high": t["ci_ub"]})
    return pd.DataFrame(rows)


def rob_strata(effects: pd.DataFrame, studies: pd.DataFrame, by: str = "mechanism", method: str = "REML",
               test: str = "knha", level: float = 95) -> pd.DataFrame:
    """Sensitivity to risk of bias: the overall effect stratified by each SYRCLE item (with its
    Q-between and QM tests), and every group re-fitted on the studies at low risk on the key items
    (:data:`premeta.rob.KEY_ITEMS`)."""
    parts = []
    for item in studies:
        e = effects[effects[item].notna()]
        if e[item].nunique() < 2:
            continue
        out = stratified(e, item, method, test, level)
        pooled = out["pooled"][out["pooled"].group != "overall"]
        tests = out["subgroup_tests"].set_index("test")["p"]
        parts.append(pooled.assign(analysis=f"by {rob.ITEMS[item]}", q_between_p=tests.iloc[0],
                                   qm_p=tests.iloc[1]))
    low = rob.low_risk(effects, studies)
    if len(low):
        label = "low risk on " + " and ".join(rob.ITEMS[c] for c in rob.KEY_ITEMS)
        parts.append(stratified(low, by, method, test, level)["pooled"].assign(analysis=label))
    if not parts:
        return pd.DataFrame(columns=["analysis", "group", "k", "studies", "estimate", "ci_low", "ci_high", "p"])
    cols = ["analysis", "group", "k", "studies", "estimate", "ci_low", "ci_high", "p", "tau2", "i2",
            "q_between_p", "qm_p"]
    return pd.concat(parts, ignore_index=True).reindex(columns=cols)
