"""The pooled effect per group and overall: the comparisons-independent stratified analysis
(:func:`stratified`), the dependence-aware models (:func:`dependent`), the one primary analysis of a
run (:func:`primary`), the rho sensitivity and the multiple-testing table.
"""

from __future__ import annotations


import numpy as np
import pandas as pd

from premeta.deprecation import renamed_arguments
from premeta import distributions as dist
from premeta.effects import shared_control_vcov
from premeta.models import POOLED_COLUMNS, adjust_p, fit, subgroup_tests
from premeta.multilevel import aggregate, rma_mv, robust
from premeta.robumeta import rve
from premeta.vocabulary import DEPENDENCE, SHARED_CONTROL, group_labels, label_order, overall_label
from premeta.groups.common import animals, animals_note, attempt, thin_evidence_note, with_notes

#: Numeric columns of the moderator models table (:func:`premeta.metareg`, then the permutation test).
MODEL_NUMBERS = ("k_omitted", "n_coefs", "qm", "qm_df1", "qm_df2", "qm_p", "tau2", "i2", "h2", "q", "q_p", "r2",
                 "qm_p_perm")
SUBGROUP_COLUMNS = ["test", "method", "stat", "df1", "df2", "p", "tau2", "groups", "note"]


@renamed_arguments(by="group_by")
def stratified(effects: pd.DataFrame, group_by: str = "mechanism", method: str = "REML",
               test: str = "z", level: float = 95) -> dict[str, pd.DataFrame]:
    """Random-effects model in every stratum of ``group_by`` and over all rows.

    Parameters
    ----------
    effects : DataFrame
        Output of :func:`premeta.escalc` (needs ``yi``, ``vi``, ``study`` and the ``group_by`` column).
    group_by, method, test, level
        Grouping column and the model settings of :func:`premeta.models.fit` (metafor
        ``rma(yi, vi, subset = group == g)`` in each group); ``test`` default ``"z"``
        (metafor's default, and premeta's everywhere); the workflow passes its config's,
        ``knha`` by default.

    Returns
    -------
    dict
        ``pooled``: one row per group then ``overall``, the columns of :func:`premeta.rma`
        plus ``studies``, ``animals``, ``p_holm`` and ``p_bonferroni`` (adjusted across the
        groups, not the overall row), labelled by :func:`group_labels` and :func:`overall_label`;
        ``subgroup_tests``: Q-between and QM (:func:`premeta.models.subgroup_tests`; NaN with the
        reason in ``note`` when they cannot be computed); ``weights``: every row's weight in percent
        within its group (``weight_group``) and in the overall model (``weight_overall``).

    Examples
    --------
    >>> import pandas as pd
    >>> import premeta
    >>> effects = pd.DataFrame({"study": ["s1", "s1", "s2", "s2", "s3", "s3", "s4", "s4"],
    ...                         "mechanism": ["a", "a", "a", "a", "b", "b", "b", "b"],
    ...                         "yi": [0.1, 0.3, 0.35, 0.65, 0.45, 0.15, 0.8, 0.2],
    ...                         "vi": [0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.08, 0.04],
    ...                         "trt_n": 8, "ctl_n": 8})
    >>> out = premeta.stratified(effects, group_by="mechanism")
    >>> out["pooled"][["group", "k", "studies", "estimate", "ci_low", "ci_high", "p_holm"]].round(4)
         group  k  studies  estimate  ci_low  ci_high  p_holm
    0        a  4        2    0.3772  0.1178   0.6367  0.0088
    1        b  4        2    0.3291  0.0817   0.5764  0.0091
    2  overall  8        4    0.3633  0.1874   0.5391     NaN
    """
    if group_by not in effects:
        raise ValueError(f"grouping column {group_by!r} is not in the sheet")
    groups = group_labels(effects, group_by)
    missing = groups.isna()
    if missing.any():
        raise ValueError(f"column {group_by!r} is empty in rows {', '.join(map(str, effects.index[missing]))}")
    yi, vi = effects["yi"].to_numpy(float), effects["vi"].to_numpy(float)
    per = fit(yi, vi, groups.to_numpy(object), method=method, test=test, level=level)
    overall = fit(yi, vi, method=method, test=test, level=level)
    pooled = pd.concat([per.table(), overall.table()], ignore_index=True)
    labels = list(per.groups) + [overall_label(per.groups)]
    subsets = [effects[groups == g] for g in per.groups] + [effects]
    pooled.insert(2, "studies", [s["study"].nunique() for s in subsets])
    pooled.insert(3, "animals", [animals(s) for s in subsets])
    pooled["note"] = [thin_evidence_note(n, k, s, animals_note(e))
                      for n, k, s, e in zip(pooled["note"], pooled["k"], pooled["studies"], subsets)]
    pooled["p_holm"] = np.r_[adjust_p(pooled["p"][:-1], "holm"), np.nan]
    pooled["p_bonferroni"] = np.r_[adjust_p(pooled["p"][:-1], "bonferroni"), np.nan]
    pooled["group"] = labels
    tests = pd.DataFrame(columns=SUBGROUP_COLUMNS)
    if len(per.groups) > 1:
        done, why = attempt(subgroup_tests, yi, vi, groups.to_numpy(object), method, test, level, separate=per)
        tests = done if done is not None else pd.DataFrame(
            {"test": ["Q_between (separate fits)", "QM (moderator test, common tau2)"], "method": method,
             "groups": len(per.groups), "note": why})
        tests = tests.reindex(columns=SUBGROUP_COLUMNS)
        tests = with_notes(tests)
    weights = pd.DataFrame({"row": effects.index, group_by: groups.to_numpy(object),
                            "weight_group": per.weights, "weight_overall": overall.weights})
    return {"pooled": pooled[["group", "k", "studies", "animals"] + POOLED_COLUMNS[2:] + ["p_holm", "p_bonferroni"]],
            "subgroup_tests": tests, "weights": weights}


def cohort_key(effects: pd.DataFrame) -> pd.Series:
    """The treatment cohort of each row: (study, cohort), else (study, comparison), else the row."""
    own = pd.Series(effects.index.astype(str), index=effects.index, dtype="string")
    for col in ("comparison", "cohort"):
        if col in effects:
            own = effects[col].astype("string").fillna(own)
    return effects["study"].astype(str) + "\x1f" + own


def dependence_mode(effects: pd.DataFrame, requested: str = "auto", shared_control: str = "split") -> tuple[str, str]:
    """The way dependent effects are handled, and why (the report's sentence).

    ``auto`` is ``multilevel`` when any study contributes more than one comparison, else ``none``.
    ``shared_control="covariance"`` makes it ``multilevel`` whatever was requested: the
    comparisons sharing a control enter the three-level model with their sampling covariance.
    """
    if requested not in ("auto", *DEPENDENCE):
        raise ValueError(f"dependence must be one of auto, {', '.join(DEPENDENCE)}, got {requested!r}")
    if shared_control not in SHARED_CONTROL:
        raise ValueError(f"shared_control must be one of {', '.join(SHARED_CONTROL)}, got {shared_control!r}")
    per_study = effects.groupby("study").size()
    several, n = int((per_study > 1).sum()), len(per_study)
    fact = (f"{several} of {n} studies {'contributes' if several == 1 else 'contribute'} more than one comparison"
            if several else "the one study contributes one comparison" if n == 1
            else f"each of the {n} studies contributes one comparison")
    if shared_control == "covariance":
        return "multilevel", ("set by shared_control: covariance (the comparisons sharing a control group covary "
                              f"within the three-level model); {fact}")
    if requested == "auto":
        return ("multilevel" if several else "none"), f"chosen automatically: {fact}"
    if requested == "none" and several:
        return "none", f"set in the config, although {fact}: those comparisons are treated as independent"
    return requested, f"set in the config; {fact}"


DEPENDENCE_COLUMNS = ["group", "dependence", "k", "studies", "clusters", "estimate", "se", "stat", "df", "p",
                      "ci_low", "ci_high", "pi_low", "pi_high", "se_model", "tau2", "sigma2_study", "sigma2_within",
                      "i2", "i2_study", "i2_within", "q", "q_df", "q_p", "converged", "note"]


def rve_row(e: pd.DataFrame, rho: float, level: float, model: str = "CORR") -> dict:
    """robumeta ``robu(yi ~ 1, studynum = study, modelweights = model, rho, small = TRUE)``."""
    k, studies = len(e), e["study"].nunique()
    row = {"k": k, "studies": studies, "clusters": studies}
    if studies < 2:
        return row | {"note": "one study: robust variance estimation needs at least 2"}
    f = rve(e["yi"], e["vi"], e["study"].astype(str), model=model, rho=rho, small=True, level=level)
    return row | {"estimate": f.beta[0], "se": f.se[0], "stat": f.stat[0], "df": f.df[0], "p": f.p[0],
                  "ci_low": f.ci_low[0], "ci_high": f.ci_high[0], "tau2": f.tau2, "sigma2_within": f.omega2,
                  "i2": f.i2, "converged": True, "weights": 100 * f.weights / f.weights.sum(),
                  "note": "" if f.df[0] >= 4 else f"Satterthwaite df = {f.df[0]:.1f} < 4: the test is unreliable "
                                                   "(Tipton 2015)"}


def three_level_row(e: pd.DataFrame, level: float, covariance: bool = False) -> dict:
    """metafor ``rma.mv(yi, vi, random = ~ 1 | study/comparison)`` by REML, CR2 tests by study; with
    ``covariance``, ``rma.mv(yi, V, ...)`` with V the shared controls' sampling covariance
    (:func:`premeta.effects.shared_control_vcov`, metafor ``vcalc``)."""
    k, studies = len(e), e["study"].nunique()
    row = {"k": k, "studies": studies, "clusters": studies}
    if studies < 2:
        return row | {"note": "one study: the three-level model and cluster-robust tests need at least 2"}
    f = rma_mv(e["yi"], shared_control_vcov(e) if covariance else e["vi"], e["study"].astype(str), level=level)
    r = robust(f)
    # metafor predict(robust(fit, cluster = study, clubSandwich = TRUE)): the CR2 variance of the
    # estimate plus both variance components, t quantile on the Satterthwaite df
    pi_half = dist.t_isf((1 - level / 100) / 2, r.df[0]) * np.sqrt(r.se[0] ** 2 + f.sigma2.sum())
    return row | {
        "estimate": f.beta[0], "se": r.se[0], "stat": r.stat[0], "df": r.df[0], "p": r.p[0],
        "ci_low": r.ci_low[0], "ci_high": r.ci_high[0], "pi_low": f.beta[0] - pi_half, "pi_high": f.beta[0] + pi_half,
        "weights": f.weights(), "se_model": f.se[0], "sigma2_study": f.sigma2[0],
        "sigma2_within": f.sigma2[1], "i2": f.i2_total, "i2_study": f.i2[0], "i2_within": f.i2[1],
        "q": f.q, "q_df": f.k - f.n_coefs, "q_p": f.q_p, "converged": f.converged,
        "note": "" if f.converged else "REML did not converge",
    }


@renamed_arguments(by="group_by")
def dependent(effects: pd.DataFrame, group_by: str = "mechanism", dependence: str = "auto", rho: float = 0.5,
              method: str = "REML", test: str = "z", level: float = 95,
              rve_model: str = "CORR") -> tuple[pd.DataFrame, str, str]:
    """The pooled effect of every group and overall, with dependent comparisons accounted for.

    * ``multilevel``: three-level model, comparisons (rows) within studies, REML
      (:func:`premeta.multilevel.rma_mv`), with CR2 cluster-robust standard errors, t tests with
      Satterthwaite df and CIs, clustered by study (:func:`premeta.multilevel.robust`;
      Pustejovsky and Tipton 2018). ``se_model`` is the model-based SE; ``i2_study`` and
      ``i2_within`` split I² between the levels (Cheung 2014).
    * ``rve``: robust variance estimation clustered by study, correlated-effects working model
      with within-study correlation ``rho`` and the small-sample correction (:func:`premeta.rve`,
      robumeta ``robu(modelweights = "CORR", small = TRUE)``; Hedges, Tipton & Johnson 2010; Tipton
      2015); ``tau2`` and ``i2`` are robumeta's. ``rve_model="HIER"`` uses the hierarchical
      working model instead (``sigma2_within`` is then robumeta's omega²).
    * ``aggregate``: the comparisons of each treatment cohort (:func:`cohort_key`) within a group are
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
    return _dependent(effects, group_by, dependence, rho, method, test, level, rve_model)[:3]


def _dependent(effects: pd.DataFrame, group_by: str, dependence: str, rho: float, method: str, test: str, level: float,
               rve_model: str, shared_control: str = "split") -> tuple[pd.DataFrame, str, str, pd.DataFrame]:
    """:func:`dependent`, and the weight of every row (percent) in its group's and in the overall model;
    ``shared_control="covariance"``: the three-level model with the shared controls' covariance."""
    mode, reason = dependence_mode(effects, dependence, shared_control)
    groups = group_labels(effects, group_by)
    subsets = {g: effects[(groups == g).to_numpy()] for g in label_order(groups.unique())}
    overall = overall_label(subsets)
    subsets[overall] = effects
    weights = pd.DataFrame({"row": effects.index, group_by: groups.to_numpy(object), "weight_group": np.nan,
                            "weight_overall": np.nan}, index=effects.index)
    if mode in ("multilevel", "rve"):
        rows = []
        for g, sub in subsets.items():
            row, why = (attempt(three_level_row, sub, level, shared_control == "covariance") if mode == "multilevel"
                        else attempt(rve_row, sub, rho, level, rve_model))
            w = None if row is None else row.pop("weights", None)
            if w is not None:  # by position: a sheet's index need not be unique
                at = np.arange(len(effects)) if g == overall else np.flatnonzero((groups == g).to_numpy())
                weights.iloc[at, weights.columns.get_loc("weight_overall" if g == overall else "weight_group")] = w
            rows.append({"group": g} | (row if row is not None else
                                        {"k": len(sub), "studies": sub["study"].nunique(), "note": why}))
        table = pd.DataFrame(rows)
    else:
        parts, failed = [], []
        for g, sub in subsets.items():
            if mode == "aggregate":
                a, why = attempt(aggregate, sub["yi"], sub["vi"], cohort_key(sub), rho)
                if a is None:
                    failed.append({"group": g, "k": len(sub), "studies": sub["study"].nunique(), "note": why})
                    continue
                parts.append(a.assign(group=g, study=a["cluster"].str.split("\x1f").str[0]))
            else:
                parts.append(sub.assign(group=g))
        if not parts:
            return _dependence_table(pd.DataFrame(failed), subsets, mode), mode, reason, weights
        e = pd.concat(parts, ignore_index=True)
        keys = np.array([list(subsets).index(g) for g in e["group"]])  # fit in the order of subsets
        f = fit(e["yi"].to_numpy(float), e["vi"].to_numpy(float), keys, method=method, test=test, level=level)
        t = f.table()
        if mode == "none":  # the rows of every group, then every row again for the overall model
            weights["weight_group"] = f.weights[:len(effects)][np.argsort(np.concatenate(
                [np.flatnonzero((groups == g).to_numpy()) for g in subsets if g != overall]))]
            weights["weight_overall"] = f.weights[len(effects):]
        t["group"] = [list(subsets)[i] for i in t["group"]]
        t["clusters"] = t["k"]
        t["studies"] = e.groupby("group")["study"].nunique().reindex(t["group"]).to_numpy()
        t["k"] = [len(subsets[g]) for g in t["group"]]
        table = pd.concat([t, pd.DataFrame(failed)], ignore_index=True) if failed else t
    return _dependence_table(table, subsets, mode), mode, reason, weights
#: Columns of ``results/primary.csv`` (:func:`primary`).
PRIMARY_COLUMNS = ["group", "model", "dependence", "method", "test", "k", "studies", "animals", "clusters", "estimate",
                   "se", "stat", "df", "p", "ci_low", "ci_high", "pi_low", "pi_high", "p_holm", "p_bonferroni",
                   "se_model", "tau2", "sigma2_study", "sigma2_within", "i2", "i2_study", "i2_within", "q", "q_df",
                   "q_p", "converged", "note"]


def model_name(mode: str, method: str, test: str, rho: float, rve_model: str = "CORR",
               shared_control: str = "split") -> str:
    """The primary model in a few words, with metafor's (or robumeta's) names for it."""
    rma = f"rma ({method}{'' if method == 'FE' else ', ' + test})"
    return {"none": f"{rma}, comparisons independent",
            "aggregate": f"aggregated by cohort (rho = {rho:g}), then {rma}",
            "multilevel": "rma.mv three-level (REML)" + (", V of the shared controls (vcalc)"
                                                         if shared_control == "covariance" else "")
                          + ", CR2 tests by study",
            "rve": f"robu ({rve_model}{', rho = ' + format(rho, 'g') if rve_model == 'CORR' else ''}), small-sample "
                   "corrected"}[mode]


@renamed_arguments(by="group_by")
def primary(effects: pd.DataFrame, group_by: str = "mechanism", dependence: str = "auto", rho: float = 0.5,
            method: str = "REML", test: str = "z", level: float = 95,
            rve_model: str = "CORR", shared_control: str = "split") -> dict[str, object]:
    """The primary analysis of a run: one model per group and overall, as the config chose it.

    The handling of several comparisons per study is :func:`dependence_mode` of ``dependence``
    (``auto``: the three-level model when any study contributes more than one comparison) and the
    model that of :func:`dependent` (metafor ``rma``, ``aggregate`` + ``rma``, ``rma.mv`` with
    clubSandwich CR2 tests, or robumeta ``robu``). Every figure's diamond, the report's first table
    and the multiverse's primary specification are this model; :func:`stratified` (comparisons
    treated as independent) is the secondary, CAMARADES-style view.

    Beyond :func:`dependent`: ``animals`` (:func:`animals`; empty with a note when the sheet gives
    no group sizes), ``p_holm`` and ``p_bonferroni`` across the groups (the overall row left out),
    the model in words (``model``, :func:`model_name`), ``method`` and ``test`` (``CR2`` and ``RVE``
    for the models that fix their own), and the caveats of :func:`thin_evidence_note`. A group of
    one comparison has that comparison as its estimate (with its z interval, as ``rma`` with k = 1).
    The prediction interval is metafor's ``predict``: of ``rma`` (``none``, ``aggregate``) and, for
    ``multilevel``, of ``robust(rma.mv(...), cluster = study, clubSandwich = TRUE)``: the estimate
    ± t(df) · sqrt(SE_CR2² + σ²_study + σ²_within) on the Satterthwaite df; robumeta gives none (``rve``).

    Parameters
    ----------
    effects : DataFrame
        Output of :func:`premeta.escalc` (``yi``, ``vi``, ``study``, the ``group_by`` column; ``trt_n``,
        ``ctl_n`` for the animals).
    group_by : str
        The grouping column.
    dependence : {"auto", "multilevel", "rve", "aggregate", "none"}
        How several comparisons of one study are handled (:func:`dependence_mode`).
    rho : float
        Within-cohort correlation of ``aggregate``, within-study correlation of ``rve`` (CORR).
    method, test, level
        The model of ``none`` and ``aggregate`` (:func:`premeta.models.fit`), ``test``
        default ``"z"`` (metafor's); ``level`` of every interval.
    rve_model : {"CORR", "HIER"}
        robumeta's working model for ``rve``.
    shared_control : {"split", "full", "covariance"}
        How ``effects`` treated shared control groups (:func:`premeta.escalc`). ``covariance``
        (effects computed with the control's full n) fits the three-level model to the sampling
        covariance of the comparisons sharing a control (:func:`premeta.effects.shared_control_vcov`;
        metafor ``rma.mv(yi, vcalc(vi, cluster = study, grp1, grp2, w1, w2), random = ~ 1 | study/id)``
        with CR2 tests), whatever ``dependence`` says; ``model`` says so.

    Returns
    -------
    dict
        ``table`` (:data:`PRIMARY_COLUMNS`, groups sorted then the overall row), ``mode`` and
        ``reason`` (:func:`dependence_mode`), ``weights`` (``row``, ``group_by``, ``weight_group``,
        ``weight_overall``: every row's weight in percent in its group's and in the overall model,
        metafor ``weights()``, robumeta's ``r.weights``; empty for ``aggregate``, whose units are cohorts).

    Examples
    --------
    >>> import pandas as pd
    >>> import premeta
    >>> effects = pd.DataFrame({"study": ["s1", "s1", "s2", "s2", "s3", "s3", "s4", "s4"],
    ...                         "mechanism": ["a", "a", "a", "a", "b", "b", "b", "b"],
    ...                         "yi": [0.1, 0.3, 0.35, 0.65, 0.45, 0.15, 0.8, 0.2],
    ...                         "vi": [0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.08, 0.04],
    ...                         "trt_n": 8, "ctl_n": 8})
    >>> out = premeta.primary(effects, group_by="mechanism", dependence="auto")
    >>> out["mode"]
    'multilevel'
    >>> out["table"][["group", "k", "studies", "estimate", "ci_low", "ci_high", "df"]].round(4)
         group  k  studies  estimate  ci_low  ci_high      df
    0        a  4        2    0.3936 -1.8639   2.6511  1.0030
    1        b  4        2    0.3291 -0.6916   1.3498  1.0019
    2  overall  8        4    0.3633  0.0800   0.6465  2.9088
    """
    table, mode, reason, weights = _dependent(effects, group_by, dependence, rho, method, test, level, rve_model,
                                              shared_control)
    groups = group_labels(effects, group_by)
    overall = table["group"].iloc[-1]
    subsets = [effects[(groups == g).to_numpy()] if g != overall else effects for g in table["group"]]
    single = [i for i, sub in enumerate(subsets) if len(sub) == 1 and not np.isfinite(table.at[i, "estimate"])]
    crit = dist.norm_isf((1 - level / 100) / 2)
    for i in single:  # the comparison itself, as rma with k = 1
        yi, se = float(subsets[i]["yi"].iloc[0]), float(np.sqrt(subsets[i]["vi"].iloc[0]))
        table.loc[i, ["estimate", "se", "stat", "p", "ci_low", "ci_high", "note"]] = [
            yi, se, yi / se, 2 * dist.norm_sf(abs(yi / se)), yi - crit * se, yi + crit * se,
            "k = 1: the comparison itself, no pooling"]
    own = {"multilevel": "CR2", "rve": "RVE"}
    table = table.assign(
        model=model_name(mode, method, test, rho, rve_model, shared_control),
        method="REML" if mode == "multilevel" else "" if mode == "rve" else method,
        test=[own.get(mode, test) if i not in single else "z" for i in range(len(table))],
        animals=[animals(sub) for sub in subsets],
        # the caveats of a thin estimate only where there is an estimate
        note=[thin_evidence_note(n, k if np.isfinite(est) else 0, st, animals_note(sub))
              for n, k, st, est, sub in zip(table["note"], table["k"], table["studies"], table["estimate"], subsets)])
    if test == "z" and mode in ("none", "aggregate"):
        table["df"] = np.nan
    table["p_holm"] = np.r_[adjust_p(table["p"][:-1], "holm"), np.nan]
    table["p_bonferroni"] = np.r_[adjust_p(table["p"][:-1], "bonferroni"), np.nan]
    return {"table": with_notes(table[PRIMARY_COLUMNS]), "mode": mode, "reason": reason, "weights": weights}


def _dependence_table(table: pd.DataFrame, subsets: dict, mode: str) -> pd.DataFrame:
    """:data:`DEPENDENCE_COLUMNS`, rows in the order of ``subsets``."""
    order = {g: i for i, g in enumerate(subsets)}
    table = table.assign(dependence=mode).reindex(columns=DEPENDENCE_COLUMNS)
    table = table.sort_values("group", key=lambda s: s.map(order))
    return with_notes(table).reset_index(drop=True)


RHOS = (0.0, 0.2, 0.5, 0.8, 1.0)


@renamed_arguments(by="group_by")
def rho_sensitivity(effects: pd.DataFrame, group_by: str = "mechanism", level: float = 95, rve_model: str = "CORR",
                    rhos=RHOS) -> pd.DataFrame:
    """The RVE estimate of every group and overall at each assumed within-study correlation
    ``rhos`` (robumeta's ``sensitivity``): ``group, rho, k, studies, estimate, se, df, p, ci_low,
    ci_high, tau2, i2, note``."""
    parts = [dependent(effects, group_by, "rve", r, level=level, rve_model=rve_model)[0].assign(rho=r) for r in rhos]
    cols = ["group", "rho", "k", "studies", "estimate", "se", "df", "p", "ci_low", "ci_high", "tau2", "i2", "note"]
    return pd.concat(parts, ignore_index=True)[cols]


def dependence_estimates(pooled: pd.DataFrame, primary: pd.DataFrame) -> pd.DataFrame:
    """The comparisons-independent table beside the primary model (:func:`primary`, named by its
    ``model``), in long form for :func:`premeta.plots.comparison_figure`: ``group, analysis,
    estimate, ci_low, ci_high``."""
    cols = ["group", "estimate", "ci_low", "ci_high"]
    parts = [pooled[cols].assign(analysis="comparisons treated as independent")]
    if primary["dependence"].iloc[0] != "none":
        parts.append(primary[cols].assign(analysis="primary: " + primary["model"].iloc[0]))
    return pd.concat(parts, ignore_index=True)


def multiple_testing(pooled: pd.DataFrame, models: pd.DataFrame) -> pd.DataFrame:
    """Holm and Bonferroni adjusted p-values side by side, within each family of tests.

    Two families: the effect of the intervention in each group (the p of ``pooled``, the
    ``overall`` row left out) and the moderator tests (the QM p-value of every moderator in
    every group, from :func:`moderator_analysis`). Adjusted by :func:`premeta.models.adjust_p`
    (R ``p.adjust``; Holm 1979); tests without a p-value are listed and not counted.
    """
    effect = pooled.iloc[:-1]
    parts = [pd.DataFrame({"family": "effect by group", "group": effect["group"], "test": "pooled effect = 0",
                           "p": effect["p"]})]
    if len(models):
        parts.append(pd.DataFrame({"family": "moderators", "group": models["group"],
                                   "test": "QM: " + models["moderator"].astype(str), "p": models["qm_p"]}))
    out = pd.concat(parts, ignore_index=True)
    for how in ("holm", "bonferroni"):
        out[f"p_{how}"] = out.groupby("family", sort=False)["p"].transform(lambda p: adjust_p(p, how))
    return out
