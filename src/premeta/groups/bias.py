"""Small-study effects per group: Egger's test and trim-and-fill (:mod:`premeta.bias`).
"""

from __future__ import annotations


import numpy as np
import pandas as pd

from premeta.bias import egger, fsn, pet_peese, ranktest, trimfill
from premeta.selection import selmodel
from premeta.deprecation import renamed_arguments
from premeta.distributions import norm_isf
from premeta.models import design, fit
from premeta.sensitivity import cumul
from premeta.significance import power, tes
from premeta.vocabulary import group_labels, in_label_order, label_order
from premeta.groups.common import attempt, attempt_strata, moderator_label, with_notes

SMALL_STUDY_COLUMNS = ["group", "analysis", "precision", "k", "stat", "df", "p", "slope", "estimate", "ci_low",
                       "ci_high", "k0", "side", "note"]


@renamed_arguments(by="group_by")
def small_study(effects: pd.DataFrame, group_by: str = "mechanism", method: str = "REML", test: str = "z",
                level: float = 95, min_k: int = 10) -> pd.DataFrame:
    """Small-study effects within each group of ``group_by``, and on the model with the group as moderator.

    Small-study effects are judged among comparisons that share one true effect: within a group,
    or on the residuals of the model with the group as moderator, never around one pooled
    estimate of groups whose true effects differ (there, a group with larger comparisons and
    larger effects makes a funnel look asymmetric).

    * Each group with at least ``min_k`` comparisons: :func:`small_study_tests` (Egger against
      the SE and 1/sqrt(n), as meta-regression and weighted OLS; with a ``study`` column, the
      three-level Egger test with CR2 tests against the SE and the modified SE; trim-and-fill R0
      and L0). A
      smaller group gets one row saying so (fewer make these tests meaningless; Sterne et al.
      2011, BMJ 343:d4002).
    * With more than one group, all comparisons together (at least ``min_k``): Egger's tests on
      the model with the group as moderator, :func:`small_study_tests` with ``moderator`` (metafor
      ``regtest(rma(yi, vi, mods = ~ factor(group)))``): the predictor's coefficient beside one
      intercept per group, so no limit estimate and no trim-and-fill (which needs one pooled
      estimate). ``group`` is :func:`moderator_label`, ``analysis`` says "residuals of the model
      with <group_by> as moderator".

    Every interval (the limit estimates, trim-and-fill's and PET-PEESE's) is at ``level`` percent,
    as metafor's ``regtest`` of a model fitted with ``level`` and ``trimfill(res, level = level)``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SMALL_STUDY_COLUMNS`; the groups in sorted order, then the all-groups rows.
    """
    groups = group_labels(effects, group_by)
    labels = label_order(groups.unique())
    parts = []
    for g in labels:
        sub = effects[(groups == g).to_numpy()]
        parts.append(small_study_tests(sub, method, test, level=level).assign(group=g) if len(sub) >= min_k else
                     _too_few(g, "small-study tests", len(sub), min_k))
    if len(labels) > 1:
        label, k = moderator_label(labels, group_by), len(effects)
        parts.append(small_study_tests(effects.assign(**{group_by: groups}), method, test, moderator=group_by,
                                       level=level)
                     .assign(group=label) if k >= min_k else
                     _too_few(label, f"Egger regression, residuals of the model with {group_by} as moderator", k,
                              min_k))
    return with_notes(pd.concat(parts, ignore_index=True).reindex(columns=SMALL_STUDY_COLUMNS))


def _too_few(group: str, analysis: str, k: int, min_k: int) -> pd.DataFrame:
    why = f"k = {k} < {min_k}: too few comparisons to test for small-study effects (Sterne et al. 2011)"
    return pd.DataFrame({"group": [group], "analysis": analysis, "k": k, "note": why})


def small_study_tests(effects: pd.DataFrame, method: str = "REML", test: str = "z",
                      moderator: str | None = None, level: float = 95) -> pd.DataFrame:
    """Egger's regression test against the SE and against 1/sqrt(n), both as a meta-regression
    (metafor ``regtest``) and as the classical weighted regression; with a ``study`` column, the
    three-level Egger test for comparisons nested in studies; trim-and-fill (R0, L0).

    n is the total number of animals of a comparison (``trt_n + ctl_n``, real group sizes);
    rows without group summaries are left out of the tests against 1/sqrt(n). Every variant is
    computed on its own: one that cannot be (too few rows, a constant predictor) keeps its row
    with NaN and the reason in ``note``.

    With ``moderator`` (a column of ``effects``, e.g. the group), Egger's tests are on the model
    with it as moderator (:func:`premeta.bias.egger` with ``mods``; metafor ``regtest(rma(yi, vi,
    mods = ~ factor(moderator)))``, and ``lm(yi ~ factor(moderator) + sei, weights = 1/vi)``):
    the ``analysis`` says so, there is no limit estimate, and trim-and-fill is not run (it mirrors
    studies about one pooled estimate; metafor's ``trimfill`` refuses models with moderators).

    With a ``study`` column, two rows "Egger regression (three-level, CR2)": the test of Rodgers
    and Pustejovsky (2021, *Psychol Methods* 26:141) for comparisons nested in studies,
    :func:`premeta.bias.egger` with ``model="rma.mv"`` (metafor ``rma.mv(yi, vi, mods = ~ x,
    random = ~ 1 | study/comparison)``, clubSandwich ``coef_test(fit, vcov = "CR2", cluster =
    study)``; by REML whatever ``method``; ``df`` the Satterthwaite df of the slope), against the
    SE and, for SMDs, against the modified SE :math:`\\sqrt{1/n_1 + 1/n_2}` (``precision`` "modified SE"; n
    as they entered the effect size: ``trt_n`` and ``ctl_n_eff``, the control split among the
    comparisons sharing it). Where
    no study has more than one comparison the rows say so: the meta-regression rows above are
    then the test. Fewer than 3 studies: not computed (CR2 needs more studies than coefficients).

    Every interval is at ``level`` percent (metafor ``regtest`` of a model fitted with ``level``,
    ``trimfill(res, level = level)``; clubSandwich ``conf_int(level = level / 100)``).
    """
    yi, vi = effects["yi"].to_numpy(float), effects["vi"].to_numpy(float)
    ni = (pd.to_numeric(effects["trt_n"]) + pd.to_numeric(effects["ctl_n"])).to_numpy(float) \
        if {"trt_n", "ctl_n"} <= set(effects) else np.full(len(yi), np.nan)
    mods = None if moderator is None else effects[[moderator]].astype(str).reset_index(drop=True)
    on = "" if moderator is None else f", residuals of the model with {moderator} as moderator"
    rows = []
    for predictor in ("sei", "sqrtninv"):
        ok = np.isfinite(ni) if predictor == "sqrtninv" else np.ones(len(yi), bool)
        for model in ("rma", "lm"):
            row = {"analysis": f"Egger regression ({'meta-regression' if model == 'rma' else 'weighted OLS'}){on}",
                   "precision": "SE" if predictor == "sei" else "1/sqrt(n)", "k": int(ok.sum())}
            if predictor == "sqrtninv" and not ok.any():
                rows.append(row | {"note": "no group sizes (the sheet gives precomputed effects only)"})
                continue
            r, why = attempt(egger, yi[ok], vi[ok], predictor, ni[ok], model, method, test, level,
                             mods=None if mods is None else mods[ok].reset_index(drop=True))
            if r is None:
                rows.append(row | {"note": why})
                continue
            rows.append(row | r.iloc[0][["stat", "df", "p", "slope", "estimate", "ci_low", "ci_high"]].to_dict())
    if "study" in effects:
        rows += _three_level_rows(effects, yi, vi, mods, on, level)
    for estimator in ("R0", "L0") if moderator is None else ():
        row = {"analysis": f"trim-and-fill ({estimator})", "precision": "SE", "k": len(yi)}
        t, why = attempt(trimfill, yi, vi, estimator, method=method, level=level)
        if t is None:
            rows.append(row | {"note": why})
            continue
        rows.append(row | t.iloc[0][["k0", "side", "stat", "p", "estimate", "ci_low", "ci_high"]].to_dict())
    if moderator is None:
        rows += _pet_peese_rows(effects, yi, vi, level)
        row = {"analysis": "rank correlation (Begg and Mazumdar)", "precision": "variance", "k": len(yi)}
        r, why = attempt(ranktest, yi, vi)
        rows.append(row | ({"note": why} if r is None else {"stat": r.tau.iloc[0], "p": r.p.iloc[0]}))
    return pd.DataFrame(rows)


def _pet_peese_rows(effects: pd.DataFrame, yi: np.ndarray, vi: np.ndarray, level: float = 95) -> list[dict]:
    """PET, PEESE and the conditional PET-PEESE estimate as weighted least squares (Stanley and
    Doucouliagos 2014: :func:`premeta.pet_peese` with ``method="FE", test="knha"``), against the
    modified SE sqrt(1/n1 + 1/n2) for SMDs whose comparisons all have group sizes (Pustejovsky and
    Rodgers 2019; n as it entered the effect size, :func:`modified_se_sizes`), else against the SE."""
    n1, n2 = modified_se_sizes(effects)
    precision = "SE" if n1 is None else "modified SE"
    names = {"PET": "PET (WLS)", "PEESE": "PEESE (WLS)", "PET-PEESE": "PET-PEESE (conditional)"}
    r, why = attempt(pet_peese, yi, vi, n1i=n1, n2i=n2, method="FE", test="knha", level=level)
    if r is None:
        return [{"analysis": name, "precision": precision, "k": len(yi), "note": why} for name in names.values()]
    rows = []
    for _, t in r.iterrows():
        chosen = f": {t.chosen}" if t.model == "PET-PEESE" and isinstance(t.chosen, str) and t.chosen else ""
        rows.append({"analysis": names[t.model] + chosen, "precision": precision, "k": int(t.k)}
                    | t[["stat", "df", "p", "slope", "estimate", "ci_low", "ci_high"]].to_dict()
                    | {"note": t.note if isinstance(t.note, str) else ""})
    return rows


def modified_se_sizes(effects: pd.DataFrame) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The group sizes ``(n1i, n2i)`` of PET-PEESE's modified SE sqrt(1/n1 + 1/n2) (Pustejovsky and
    Rodgers 2019) for standardised mean differences (``measure`` SMD: their SE depends on the estimate)
    where every comparison has them (:func:`_arm_sizes`), else ``(None, None)``: PET and PEESE then
    regress on the SE (:func:`premeta.pet_peese`'s ``n1i, n2i``), whose SE for a mean difference or a
    ratio does not depend on the estimate."""
    if "measure" in effects and (effects["measure"] != "SMD").any():
        return None, None
    n1, n2 = _arm_sizes(effects)
    if len(n1) and np.isfinite(n1).all() and np.isfinite(n2).all():
        return n1, n2
    return None, None


def _arm_sizes(effects: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The group sizes each comparison's effect size was computed with: ``trt_n`` and ``ctl_n_eff``
    (a shared control split), NaN where the sheet gives none (precomputed effects)."""
    return tuple(pd.to_numeric(effects[c]).to_numpy(float) if c in effects else np.full(len(effects), np.nan)
                 for c in ("trt_n", "ctl_n_eff"))


def _three_level_rows(effects: pd.DataFrame, yi: np.ndarray, vi: np.ndarray, mods, on: str,
                      level: float = 95) -> list[dict]:
    """The rows "Egger regression (three-level, CR2)" of :func:`small_study_tests`: SE and modified SE
    (for SMDs only, as :func:`modified_se_sizes`: another measure's row says why it is not computed)."""
    study = effects["study"].astype(str).to_numpy(object)
    nested = pd.Series(study).value_counts().max() > 1 if len(study) else False
    n1, n2 = _arm_sizes(effects)
    # as PET-PEESE (modified_se_sizes): the modified SE for SMDs only; precomputed rows (no n) are
    # left out of that row whatever the measure
    measures = effects["measure"].dropna().unique() if "measure" in effects else []
    other = " or ".join(str(m) for m in measures if m not in ("SMD", "precomputed"))
    rows = []
    for predictor, precision in (("sei", "SE"), ("msei", "modified SE")):
        ok = np.isfinite(n1) & np.isfinite(n2) if predictor == "msei" else np.ones(len(yi), bool)
        row = {"analysis": f"Egger regression (three-level, CR2){on}", "precision": precision, "k": int(ok.sum())}
        if not nested:
            rows.append(row | {"note": "each study contributes one comparison: no comparisons nested in studies, "
                                       "so the meta-regression rows are the test"})
            continue
        if predictor == "msei" and not ok.any():
            rows.append(row | {"note": "no group sizes (the sheet gives precomputed effects only)"})
            continue
        if predictor == "msei" and other:
            rows.append(row | {"note": f"the modified SE is for SMDs, whose SE depends on the estimate; the SE of an "
                                       f"effect measured as {other} does not, so the row against the SE is the test"})
            continue
        r, why = attempt(egger, yi[ok], vi[ok], predictor, model="rma.mv", level=level, n1i=n1[ok], n2i=n2[ok],
                         cluster=study[ok], mods=None if mods is None else mods[ok].reset_index(drop=True))
        if r is None:
            rows.append(row | {"note": why})
            continue
        rows.append(row | r.iloc[0][["stat", "df", "p", "slope", "estimate", "ci_low", "ci_high"]].to_dict())
    return rows


#: Columns of :func:`funnel_centres`.
FUNNEL_COLUMNS = ["group", "k", "estimate", "fitted", "note"]


@renamed_arguments(by="group_by")
def funnel_centres(effects: pd.DataFrame, group_by: str = "mechanism", method: str = "REML") -> pd.DataFrame:
    """The centres of the funnel plots by group (:func:`premeta.plots.funnel_panels_figure`).

    One row per group of ``group_by``, in sorted order (as the tables), with its ``k``, ``estimate``:
    its own pooled estimate (:func:`premeta.fit` with ``method``, metafor ``rma(yi, vi,
    subset = group == g)``), about which its funnel is drawn, and ``fitted``: its fitted value on
    the model with the group as moderator (``rma(yi, vi, mods = ~ factor(group), method)``, one
    common tau2), which the residual funnel subtracts from each of its comparisons. With one
    group there is no such model and ``fitted`` is NaN; where a model cannot be fitted its
    numbers are NaN and ``note`` says why.
    """
    groups = group_labels(effects, group_by).astype(str).to_numpy(object)
    yi, vi = effects["yi"].to_numpy(float), effects["vi"].to_numpy(float)
    if not len(yi):
        return pd.DataFrame(columns=FUNNEL_COLUMNS)
    per = fit(yi, vi, groups, method=method, confint=False)
    table = pd.DataFrame({"group": per.groups, "k": per.k, "estimate": per.beta[:, 0], "fitted": np.nan, "note": ""})
    if len(per.groups) > 1:
        mods = pd.DataFrame({group_by: groups})
        model = fit(yi, vi, method=method, mods=mods, confint=False)
        fitted = np.column_stack([np.ones(len(yi)), design(mods)[0]]) @ model.beta[0]
        table["fitted"] = table["group"].map(dict(zip(groups, fitted)))
        table["note"] = "" if np.isfinite(model.beta[0]).all() else model.note[0]
    return table


#: Columns of :func:`fail_safe_n`.
FAIL_SAFE_COLUMNS = ["group", "type", "k", "fsnum", "alpha", "p", "estimate", "target", "note"]
#: The fail-safe N computed per group (metafor ``fsn(type=)``).
FAIL_SAFE_TYPES = ("Rosenthal", "Orwin", "Rosenberg")


def fail_safe_n(effects: pd.DataFrame, group_by: str = "mechanism", level: float = 95) -> pd.DataFrame:
    """Rosenthal's, Orwin's and Rosenberg's fail-safe N in each group of ``group_by``
    (:func:`premeta.fsn`; metafor ``fsn(yi, vi, type=, alpha=)`` per group), at the significance
    level ``1 - level/100``; Orwin's target is metafor's default (half the unweighted mean).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`FAIL_SAFE_COLUMNS`, the groups in sorted order, the types in
        :data:`FAIL_SAFE_TYPES` order within each; a group where a type cannot be computed keeps
        its row with the reason in ``note``.
    """
    groups = group_labels(effects, group_by).astype(str).to_numpy(object)
    yi, vi = effects["yi"].to_numpy(float), effects["vi"].to_numpy(float)
    parts = [fsn(yi, vi, type=t, alpha=(100 - level) / 100, groups=groups).assign(order=i)
             for i, t in enumerate(FAIL_SAFE_TYPES)]
    out = pd.concat(parts, ignore_index=True).sort_values(["group", "order"], kind="stable", key=in_label_order)
    return with_notes(out.reindex(columns=FAIL_SAFE_COLUMNS).reset_index(drop=True))


#: SMDs at which the power of every comparison is also given (Cohen's small, medium, large).
POWER_SMDS = (0.2, 0.5, 0.8)
#: Power a comparison needs to count as adequately powered.
ADEQUATE_POWER = 0.8
#: Columns of :func:`excess_significance` (then one ``median_power_<smd>`` per :data:`POWER_SMDS` for SMDs).
EXCESS_COLUMNS = ["group", "k", "observed", "expected", "oe_ratio", "test", "stat", "df", "p", "theta",
                  "power_min", "power_q1", "power_median", "power_q3", "power_max", "adequate", "theta_lim",
                  "theta_lim_low", "theta_lim_high", "note"]


def _smd_column(smd: float) -> str:
    return f"power_smd_{smd:g}".replace(".", "_")


def excess_significance(effects: pd.DataFrame, group_by: str = "mechanism", measure: str = "SMD",
                        level: float = 95) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The power of every comparison and the test of excess significance in each group.

    Each comparison's power is that of its own two-sided z test at level ``1 - level/100`` to
    detect its group's common-effect estimate (:func:`premeta.power`; the true effect metafor's
    ``tes`` assumes by default, Ioannidis and Trikalinos 2007, *Clin Trials* 4:245) and, for SMDs,
    the SMDs :data:`POWER_SMDS`. Per group, :func:`premeta.tes` (metafor ``tes(yi, vi, alpha=)``):
    the significant comparisons observed against the sum of those powers expected, its test
    (exact binomial-sum or chi², metafor's rule), the power's quartiles and the share of
    comparisons with power of at least :data:`ADEQUATE_POWER` (``adequate``), and the limit
    estimate ``theta_lim``: the smallest true effect at which the excess would no longer be
    significant (at metafor's ``tes.alpha`` 0.10).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        Per group (:data:`EXCESS_COLUMNS`, then ``median_power_smd_0_2``, ... for SMDs), and per
        comparison: ``row``, ``group``, ``study``, ``yi``, ``se``, ``significant``, ``theta``,
        ``power``, then ``power_smd_0_2``, ... for SMDs.
    """
    groups = group_labels(effects, group_by).astype(str).to_numpy(object)
    yi, vi = effects["yi"].to_numpy(float), effects["vi"].to_numpy(float)
    alpha = (100 - level) / 100
    t = tes(yi, vi, groups=groups, alpha=alpha)
    theta = pd.Series(t.theta.to_numpy(float), index=t.group.to_numpy(object))
    z = norm_isf(alpha / 2)
    per = pd.DataFrame({"row": effects.index, "group": groups,
                        "study": effects["study"].to_numpy(object) if "study" in effects else "",
                        "yi": yi, "se": np.sqrt(vi), "significant": np.abs(yi) / np.sqrt(vi) > z,
                        "theta": theta.reindex(groups).to_numpy(float), "power": t.attrs["power"]})
    smds = POWER_SMDS if measure == "SMD" else ()
    for smd in smds:
        per[_smd_column(smd)] = power(vi, smd, level)
    adequate = per.groupby("group", sort=True).power.apply(lambda p: float((p >= ADEQUATE_POWER).mean()))
    out = t.assign(adequate=adequate.reindex(t.group).to_numpy(float)).reindex(columns=EXCESS_COLUMNS)
    for smd in smds:
        med = per.groupby("group", sort=True)[_smd_column(smd)].median()
        out[f"median_{_smd_column(smd)}"] = med.reindex(t.group).to_numpy(float)
    return with_notes(out), per


#: Columns of :func:`cumulative`.
CUMULATIVE_COLUMNS = ["group", "step", "year", "study", "k", "estimate", "se", "stat", "df", "p", "ci_low",
                      "ci_high", "tau2", "i2", "note"]
_YEAR = r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)"


def publication_years(effects: pd.DataFrame) -> tuple[pd.Series | None, str]:
    """The publication year of every comparison, and where it came from: a ``year`` column (whole
    numbers), else the one year (1800-2099) in each study label when every label has exactly one
    ("Amorim 2017 (#1)", "Smith_2019"); else ``(None, why)``."""
    if "year" in effects:
        year = pd.to_numeric(effects["year"], errors="coerce")
        if year.notna().all() and (year == year.round()).all():
            return year.astype(int), "the sheet's year column"
        return None, "the year column is not a whole number on every row"
    if "study" not in effects:
        return None, "the sheet has no year column and no study labels"
    found = effects["study"].astype(str).str.findall(_YEAR)
    if len(found) and (found.str.len() == 1).all():
        return found.str[0].astype(int), "the year in each study label"
    return None, ("the sheet has no year column, and not every study label holds exactly one year: add a year "
                  "column to order the comparisons by publication year")


def cumulative(effects: pd.DataFrame, group_by: str = "mechanism", method: str = "REML", test: str = "z",
               level: float = 95) -> pd.DataFrame:
    """Cumulative meta-analysis by publication year in each group (:func:`premeta.cumul`; metafor
    ``cumul(rma(yi, vi, method=, test=, level=), order = year)`` per group): the group's model
    refitted as its comparisons are added in order of publication (ties in sheet order).

    The years come from :func:`publication_years`; without them every group keeps one row whose
    ``note`` says why.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CUMULATIVE_COLUMNS`, one row per step (``step`` 1, 2, ... within a group),
        the groups in sorted order.
    """
    groups = group_labels(effects, group_by).astype(str)
    years, why = publication_years(effects)
    if years is None:
        return pd.DataFrame({"group": label_order(groups.unique()), "note": f"not computed: {why}"}).reindex(
            columns=CUMULATIVE_COLUMNS)
    study = effects["study"].astype(str) if "study" in effects else pd.Series("", index=effects.index)
    out = cumul(effects["yi"].to_numpy(float), effects["vi"].to_numpy(float), years.to_numpy(int),
                groups=groups.to_numpy(object), method=method, test=test, level=level,
                slab=study.to_numpy(object))
    out = out.rename(columns={"order": "year", "slab": "study"})
    out["step"] = out.groupby("group", sort=False).cumcount() + 1
    return with_notes(out.reindex(columns=CUMULATIVE_COLUMNS))


#: The selection models fitted per group (metafor ``selmodel(type=, steps=)``): the three-parameter
#: step function at a one-sided p of 0.025 (Vevea and Hedges 1995; the usual "3PSM"). The other
#: types of :func:`premeta.selmodel` (beta, half-normal, ...) are one call away in the library; the
#: workflow leaves them out because their fits need a quadrature per study and take tens of
#: seconds on a sheet of a few hundred comparisons.
SELECTION_MODELS = (("stepfun", (0.025, 1)),)
#: Columns of :func:`selection_models` (then ``delta_1``, ``delta_se_1``, ... as the types have).
SELECTION_COLUMNS = ["group", "type", "steps", "alternative", "k", "estimate", "se", "stat", "p", "ci_low",
                     "ci_high", "tau2", "lrt", "lrt_df", "lrt_p", "unadjusted", "note"]


def selection_models(effects: pd.DataFrame, group_by: str = "mechanism", level: float = 95) -> pd.DataFrame:
    """Selection models in each group of ``group_by`` (:func:`premeta.selmodel`; metafor
    ``selmodel(rma(yi, vi, method = "ML"), type = , steps = , alternative = )`` per group), every
    group of one type stacked in one call: :data:`SELECTION_MODELS`.

    The p-values are one-sided in the direction of the group's own common-effect estimate
    (``alternative`` ``"greater"`` when it is at least 0, else ``"less"``): the model assumes
    that results significant in that direction were the more likely to be published. Beside the
    adjusted estimate, ``unadjusted`` is the group's ML estimate without selection (metafor's
    ``rma(yi, vi, method = "ML")``, the model the likelihood-ratio test compares with).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SELECTION_COLUMNS` and the selection parameters, one row per group and
        type (groups sorted, types in :data:`SELECTION_MODELS` order); a group that cannot be
        analysed (too few comparisons, an interval of p-values without any) keeps its row with
        the reason in ``note``.
    """
    groups = group_labels(effects, group_by).astype(str).to_numpy(object)
    yi, vi = effects["yi"].to_numpy(float), effects["vi"].to_numpy(float)
    ml = fit(yi, vi, groups, method="ML", confint=False)
    unadjusted = pd.Series(ml.beta[:, 0], index=ml.groups)
    parts = [selmodel_by_direction(yi, vi, groups, type_, steps, level).assign(order=order)
             for order, (type_, steps) in enumerate(SELECTION_MODELS)]
    out = pd.concat(parts, ignore_index=True).sort_values(["group", "order"], kind="stable", key=in_label_order)
    out["unadjusted"] = unadjusted.reindex(out["group"]).to_numpy(float)
    extra = [c for c in out if c.startswith(("delta", "ptable"))]
    return with_notes(out.reindex(columns=SELECTION_COLUMNS + extra).reset_index(drop=True))


def selmodel_by_direction(yi: np.ndarray, vi: np.ndarray, groups: np.ndarray, type: str = "stepfun",
                          steps=(0.025, 1), level: float = 95) -> pd.DataFrame:
    """:func:`premeta.selmodel` in every stratum of ``groups``, its p-values one-sided in the direction
    of the stratum's own common-effect estimate: ``alternative`` ``"greater"`` where
    :func:`premeta.fit` with ``method="FE"`` gives at least 0, else ``"less"`` (metafor
    ``selmodel(rma(yi, vi, method = "ML"), type = , steps = , alternative = )`` per stratum). The
    strata of one direction are one stacked call.

    Returns
    -------
    pandas.DataFrame
        :func:`premeta.selmodel`'s columns, one row per stratum, sorted by ``group``; a stratum
        that cannot be analysed (too few comparisons, an interval of p-values without any, no
        convergence) keeps its row, its ``type``, ``alternative`` and ``k``, with the reason in
        ``note`` (:func:`premeta.groups.common.attempt_strata` where a direction has no stratum left).
    """
    common = fit(yi, vi, groups, method="FE", confint=False)
    side = pd.Series(np.where(common.beta[:, 0] >= 0, "greater", "less"), index=common.groups)
    parts = []
    for alternative in ("greater", "less"):
        rows = np.isin(groups, side.index[side == alternative])
        if rows.any():
            parts.append(attempt_strata(selmodel, yi[rows], vi[rows], type=type, steps=steps, alternative=alternative,
                                        groups=groups[rows], level=level).assign(type=type, alternative=alternative))
    out = pd.concat(parts, ignore_index=True).sort_values("group", kind="stable", ignore_index=True,
                                                          key=in_label_order)
    out["k"] = out["group"].map(pd.Series(groups).value_counts()).astype(int)
    return out
