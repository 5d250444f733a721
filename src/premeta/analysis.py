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
from premeta.metareg import metareg, permutest
from premeta.multilevel import aggregate, rma_mv, robust_cr2
from premeta.sensitivity import influence, leave1out


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
        return study + "\x1f" + own.fillna(fallback)

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
    """Pooled effect at each time point within each group: every (group, time) stratum in one fit.

    ``time`` names the column of times (days after injury, or e.g. ``weeks`` of exercise); the
    table has a column of that name after ``group``.
    """
    e = effects[pd.to_numeric(effects[time], errors="coerce").notna()]
    t = pd.to_numeric(e[time]).to_numpy(float)
    keys = list(zip(e[by].astype(str), t))
    table = fit(e["yi"].to_numpy(float), e["vi"].to_numpy(float), keys, method=method, test=test,
                level=level).table()
    table.insert(0, time, [k[1] for k in table.pop("group")])
    table.insert(0, "group", [k[0] for k in sorted(set(keys))])
    studies = e.assign(_t=t).groupby([by, "_t"])["study"].nunique()
    table.insert(3, "studies", [studies[(g, tt)] for g, tt in zip(table["group"], table[time])])
    return table


def time_regression(effects: pd.DataFrame, by: str = "mechanism", method: str = "REML", test: str = "knha",
                    level: float = 95, times: tuple[str, ...] = ("time", "weeks")) -> pd.DataFrame:
    """Meta-regression of the effect on time after injury (and on weeks of exercise), in each group.

    One :func:`premeta.metareg.metareg` call per time column present: the slope (change in the
    effect per day, or per week) with its test and CI, and the model's tau², R² and QM p-value.
    """
    groups = effects[by].astype(str).to_numpy(object)
    parts = []
    for col in times:
        if col not in effects or effects[col].isna().all():
            continue
        x = effects[[col]].apply(pd.to_numeric)
        coefs, models = metareg(effects["yi"], effects["vi"], x, groups, method, test, level)
        slope = coefs[coefs["term"] == col].drop(columns="term")
        parts.append(slope.merge(models[["group", "k", "tau2", "R2", "QMp", "note"]], on="group")
                     .assign(per=col))
    if not parts:
        return pd.DataFrame(columns=["per", "group", "k", "estimate", "p"])
    out = pd.concat(parts, ignore_index=True)
    return out[["per", "group", "k"] + [c for c in out if c not in ("per", "group", "k")]]


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


DEPENDENCE = ("auto", "multilevel", "aggregate", "none")


def cohort_key(effects: pd.DataFrame) -> pd.Series:
    """The exercise cohort of each row: (study, cohort), else (study, comparison), else the row."""
    own = pd.Series(effects.index.astype(str), index=effects.index, dtype="string")
    for col in ("comparison", "cohort"):
        if col in effects:
            own = effects[col].astype("string").fillna(own)
    return effects["study"].astype(str) + "\x1f" + own


def dependence_mode(effects: pd.DataFrame, requested: str = "auto") -> tuple[str, str]:
    """The way dependent effects are handled, and why (the report's sentence).

    ``auto`` is ``multilevel`` when any study contributes more than one comparison, else ``none``.
    """
    if requested not in DEPENDENCE:
        raise ValueError(f"dependence must be one of {', '.join(DEPENDENCE)}, got {requested!r}")
    per_study = effects.groupby("study").size()
    several, n = int((per_study > 1).sum()), len(per_study)
    fact = (f"{several} of {n} studies contribute more than one comparison" if several
            else f"each of the {n} studies contributes one comparison")
    if requested == "auto":
        return ("multilevel" if several else "none"), f"chosen automatically: {fact}"
    if requested == "none" and several:
        return "none", f"set in the config, although {fact}: those comparisons are treated as independent"
    return requested, f"set in the config; {fact}"


DEPENDENCE_COLUMNS = ["group", "dependence", "k", "studies", "clusters", "estimate", "se", "stat", "df", "p",
                      "ci_low", "ci_high", "se_model", "tau2", "sigma2_study", "sigma2_within", "i2", "i2_study",
                      "i2_within", "converged", "note"]


def _three_level(e: pd.DataFrame, level: float) -> dict:
    """metafor ``rma.mv(yi, vi, random = ~ 1 | study/comparison)`` by REML, CR2 tests by study."""
    k, studies = len(e), e["study"].nunique()
    row = {"k": k, "studies": studies, "clusters": studies}
    if studies < 2:
        return row | {"note": "one study: the three-level model and cluster-robust tests need at least 2"}
    f = rma_mv(e["yi"], e["vi"], e["study"].astype(str), np.arange(k), level=level)
    r = robust_cr2(f)
    return row | {
        "estimate": f.beta[0], "se": r.se[0], "stat": r.tval[0], "df": r.df[0], "p": r.pval[0],
        "ci_low": r.ci_lb[0], "ci_high": r.ci_ub[0], "se_model": f.se[0], "sigma2_study": f.sigma2[0],
        "sigma2_within": f.sigma2[1], "i2": f.I2_total, "i2_study": f.I2[0], "i2_within": f.I2[1],
        "converged": f.converged, "note": "" if f.converged else "REML did not converge",
    }


def dependent(effects: pd.DataFrame, by: str = "mechanism", dependence: str = "auto", rho: float = 0.5,
              method: str = "REML", test: str = "knha", level: float = 95) -> tuple[pd.DataFrame, str, str]:
    """The pooled effect of every group and overall, with dependent comparisons accounted for.

    * ``multilevel``: three-level model, comparisons (rows) within studies, REML
      (:func:`premeta.multilevel.rma_mv`), with CR2 cluster-robust standard errors, t tests with
      Satterthwaite df and CIs, clustered by study (:func:`premeta.multilevel.robust_cr2`;
      Pustejovsky and Tipton 2018). ``se_model`` is the model-based SE; ``i2_study`` and
      ``i2_within`` split I² between the levels (Cheung 2014).
    * ``aggregate``: the comparisons of each exercise cohort (:func:`cohort_key`) within a group are
      combined into one effect assuming sampling errors correlated ``rho``
      (:func:`premeta.multilevel.aggregate`, metafor ``aggregate.escalc``), then pooled by
      :func:`premeta.models.fit` with ``method`` and ``test`` (CAMARADES nested comparisons).
    * ``none``: every row independent, as the main pooled table.

    A group that cannot be fitted keeps its row, with NaN statistics and a ``note``.

    Returns
    -------
    (table, mode, reason)
        The table (:data:`DEPENDENCE_COLUMNS`, groups sorted then ``overall``), the handling
        used and the sentence saying why (:func:`dependence_mode`).
    """
    mode, reason = dependence_mode(effects, dependence)
    subsets = {str(g): sub for g, sub in effects.groupby(effects[by].astype(str), sort=True)}
    subsets["overall"] = effects
    if mode == "multilevel":
        rows = []
        for g, sub in subsets.items():
            try:
                rows.append({"group": g} | _three_level(sub, level))
            except (ValueError, np.linalg.LinAlgError) as err:
                rows.append({"group": g, "k": len(sub), "studies": sub["study"].nunique(),
                             "note": f"not fitted: {err}"})
        table = pd.DataFrame(rows)
    else:
        if mode == "aggregate":
            parts = []
            for g, sub in subsets.items():
                a = aggregate(sub["yi"], sub["vi"], cohort_key(sub), rho)
                parts.append(a.assign(group=g, study=a["cluster"].str.split("\x1f").str[0]))
            e = pd.concat(parts, ignore_index=True)
        else:
            e = pd.concat([sub.assign(group=g) for g, sub in subsets.items()], ignore_index=True)
        f = fit(e["yi"].to_numpy(float), e["vi"].to_numpy(float), e["group"].to_numpy(object), method=method,
                test=test, level=level)
        t = f.table()
        t["clusters"] = t["k"]
        t["studies"] = e.groupby("group")["study"].nunique().reindex(t["group"]).to_numpy()
        t["k"] = [len(subsets[g]) for g in t["group"]]
        table = t
    table.insert(1, "dependence", mode)
    order = {g: i for i, g in enumerate(subsets)}
    table = table.reindex(columns=DEPENDENCE_COLUMNS).sort_values("group", key=lambda s: s.map(order))
    table["note"] = table["note"].fillna("")
    return table.reset_index(drop=True), mode, reason


def dependence_estimates(pooled: pd.DataFrame, dependence: pd.DataFrame) -> pd.DataFrame:
    """The pooled table (comparisons independent) beside the dependence analysis, in long form for
    :func:`premeta.plots.comparison_figure`: ``group, analysis, estimate, ci_low, ci_high``."""
    mode = dependence["dependence"].iloc[0]
    label = {"multilevel": "three-level model, CR2 CI by study", "aggregate": "aggregated by cohort",
             "none": "comparisons independent"}[mode]
    cols = ["group", "estimate", "ci_low", "ci_high"]
    parts = [pooled[cols].assign(analysis="comparisons independent")]
    if mode != "none":
        parts.append(dependence[cols].assign(analysis=label))
    return pd.concat(parts, ignore_index=True)


def sensitivity(effects: pd.DataFrame, by: str = "mechanism", method: str = "REML", test: str = "knha",
                level: float = 95) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Leave-one-out estimates and influence diagnostics of every comparison, within each group.

    Each group of ``by`` with at least 3 comparisons is refitted without each comparison in turn
    (:func:`premeta.sensitivity.leave1out`, metafor ``leave1out``) and diagnosed with
    :func:`premeta.sensitivity.influence` (metafor ``influence``: studentized residuals, DFFITS,
    Cook's distance, covariance ratio, hat values, DFBETAS; ``influential`` by metafor's rule).
    Comparisons are left out one at a time (metafor's unit), named by their spreadsheet row
    and :func:`labels`.

    Returns
    -------
    (leave1out, influence)
        Long tables with ``group``, ``row`` and ``label`` first.
    """
    loo, inf = [], []
    names = labels(effects)
    for g, sub in effects.groupby(effects[by].astype(str), sort=True):
        if len(sub) < 3:
            continue
        yi, vi = sub["yi"].to_numpy(float), sub["vi"].to_numpy(float)
        key = {"group": g, "row": sub.index.to_numpy(), "label": names[sub.index].to_numpy()}
        loo.append(leave1out(yi, vi, method, test, level).reset_index(drop=True).assign(**key))
        inf.append(influence(yi, vi, method, test).reset_index(drop=True).assign(**key))
    out = []
    for parts in (loo, inf):
        t = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["group", "row", "label"])
        out.append(t[["group", "row", "label"] + [c for c in t if c not in ("group", "row", "label")]])
    return out[0], out[1].rename(columns={"inf": "influential"}).assign(
        influential=lambda t: t["influential"].eq("*"))


def numeric_moderators(effects: pd.DataFrame, moderators: list[str]) -> list[str]:
    """The moderators present in ``effects`` whose every non-missing value is a number (the ones with a bubble plot)."""
    out = []
    for m in moderators:
        if m in effects and effects[m].notna().any():
            x = effects[m].dropna()
            if pd.to_numeric(x, errors="coerce").notna().all():
                out.append(m)
    return out


def moderator_analysis(effects: pd.DataFrame, moderators: list[str], by: str = "mechanism", method: str = "REML",
                       test: str = "knha", level: float = 95, permutations: int = 1000,
                       seed: int = 2024) -> dict[str, pd.DataFrame]:
    """Meta-regression on each moderator in turn, within every group of ``by``.

    One model per moderator and group (:func:`premeta.metareg.metareg`: coefficients, QM,
    pseudo-R²; all groups in one call per moderator), with permutation p-values of every
    coefficient and of QM (:func:`premeta.metareg.permutest`, ``permutations`` random
    permutations seeded by ``seed``, exact when there are fewer distinct ones). Moderators
    absent from the sheet or empty are skipped; a group where a moderator cannot be
    estimated keeps its row with a note (:func:`premeta.metareg.metareg`).

    Returns
    -------
    dict
        ``coefs`` (one row per moderator, group and term, with ``p_perm``), ``models`` (one per
        moderator and group, with ``QMp_perm``), ``weights`` (``moderator, group, row, x, yi,
        weight``: the points of the bubble plots of numeric moderators, weight
        :math:`1/(v_i+\\hat\\tau^2)` of the meta-regression) and ``lines`` (``moderator, group,
        intercept, slope, p``: their fitted lines, in the groups where the model was fitted).
    """
    groups = effects[by].astype(str)
    numeric = numeric_moderators(effects, moderators)
    effects = effects.assign(**{m: pd.to_numeric(effects[m]) for m in numeric})
    coefs, models, points = [], [], []
    for m in moderators:
        if m not in effects or effects[m].isna().all():
            continue
        c, mo = metareg(effects["yi"], effects["vi"], effects[[m]], groups.to_numpy(object), method, test, level)
        c["p_perm"], mo["QMp_perm"], mo["permutations"] = np.nan, np.nan, 0
        for i in np.flatnonzero(mo["converged"].to_numpy(bool)):
            g = mo.at[i, "group"]
            sub = effects[(groups == g).to_numpy()]
            try:
                perm = permutest(sub["yi"], sub["vi"], sub[[m]], method, test, permutations, seed).set_index("term")
            except ValueError as err:
                before = mo.at[i, "note"] if isinstance(mo.at[i, "note"], str) else ""
                mo.loc[i, "note"] = "; ".join(filter(None, [before, f"no permutation test: {err}"]))
                continue
            mo.loc[i, ["QMp_perm", "permutations"]] = perm.at["QM", "p_perm"], perm.at["QM", "iter"]
            rows = c["group"] == g
            c.loc[rows, "p_perm"] = c.loc[rows, "term"].map(perm["p_perm"]).to_numpy()
        coefs.append(c.assign(moderator=m))
        models.append(mo.assign(moderator=m))
        if m in numeric:
            ok = effects[m].notna()
            tau2 = mo.set_index("group")["tau2"].reindex(groups[ok]).to_numpy()
            points.append(pd.DataFrame({"moderator": m, "group": groups[ok].to_numpy(), "row": effects.index[ok],
                                        "x": effects.loc[ok, m].to_numpy(float),
                                        "yi": effects.loc[ok, "yi"].to_numpy(float),
                                        "weight": 1 / (effects.loc[ok, "vi"].to_numpy(float) + tau2)}))

    def stack(parts):
        t = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["moderator", "group"])
        return t[["moderator"] + [c for c in t if c != "moderator"]]

    coefs, models = stack(coefs), stack(models)
    fitted = models[models["moderator"].isin(numeric) & models["converged"].astype(bool)][["moderator", "group"]]
    c = coefs[coefs["moderator"].isin(numeric)].set_index(["moderator", "group"])
    lines = fitted.assign(
        intercept=c[c.term == "intrcpt"].estimate.reindex(pd.MultiIndex.from_frame(fitted)).to_numpy(),
        slope=c[c.term != "intrcpt"].estimate.reindex(pd.MultiIndex.from_frame(fitted)).to_numpy(),
        p=c[c.term != "intrcpt"].p.reindex(pd.MultiIndex.from_frame(fitted)).to_numpy())
    return {"coefs": coefs, "models": models, "weights": stack(points), "lines": lines.reset_index(drop=True)}


def multiple_testing(pooled: pd.DataFrame, models: pd.DataFrame) -> pd.DataFrame:
    """Holm and Bonferroni adjusted p-values side by side, within each family of tests.

    Two families: the effect of the intervention in each group (the p of ``pooled``, the
    ``overall`` row left out) and the moderator tests (the QM p-value of every moderator in
    every group, from :func:`moderator_analysis`). Adjusted with statsmodels ``multipletests``
    (R ``p.adjust``; Holm 1979); tests without a p-value are listed and not counted.
    """
    effect = pooled[pooled["group"] != "overall"]
    parts = [pd.DataFrame({"family": "effect by group", "group": effect["group"], "test": "pooled effect = 0",
                           "p": effect["p"]})]
    if len(models):
        parts.append(pd.DataFrame({"family": "moderators", "group": models["group"],
                                   "test": "QM: " + models["moderator"].astype(str), "p": models["QMp"]}))
    out = pd.concat(parts, ignore_index=True)
    for how in ("holm", "bonferroni"):
        out[f"p_{how}"] = out.groupby("family", sort=False)["p"].transform(lambda p: adjust_p(p, how))
    return out
