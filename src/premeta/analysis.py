"""The stratified analysis a preclinical reviewer reads: pooled effects per group and overall.

This composes the effect sizes (:mod:`premeta.effects`) and the models (:mod:`premeta.models`)
into the tables the workflow writes; a notebook user calls the same function.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from collections import Counter

import numpy as np
import pandas as pd

from premeta import distributions as dist
from premeta import rob
from premeta.bias import egger, trimfill
from premeta.effects import SHARED_CONTROL, shared_control_vcov
from premeta.gosh import gosh
from premeta.models import COLUMNS, adjust_p, design, fit, subgroup_tests
from premeta.metareg import metareg, permutest
from premeta.multilevel import aggregate, rma_mv, robust
from premeta.rve import rve
from premeta.sensitivity import influence, leave1out
from premeta.sheet import NUMERIC
from premeta.vocabulary import overall_label, plural

#: Errors that mean "this analysis cannot be computed for this group"; any other error is a bug.
#: (numpy's LinAlgError is a ValueError.)
NOT_COMPUTABLE = (ValueError, ArithmeticError, RuntimeError)
#: Columns of ``effect_sizes.csv`` that :func:`read_effects` reads as numbers; every other column is text.
NUMBER_COLUMNS = NUMERIC + ("yi", "vi", "ctl_n_eff", "shared_m")
GREEK = dict(zip("αβγδεζηθικλμνξοπρσςτυφχψω",
                 "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho "
                 "sigma sigma tau upsilon phi chi psi omega".split()))
#: Longest file-name stem made from a label (a hash keeps longer labels apart).
MAX_NAME = 60
#: A group with more comparisons gets a study-level forest plot (:func:`study_rows`) beside the full one.
STUDY_LEVEL_K = 60
#: Leave-one-out and influence fit k models of k - 1 comparisons: above this k a group gets a note instead.
SENSITIVITY_MAX_K = 1000
#: Permutation tests refit the meta-regression ``permutations`` times: above this k a group keeps the
#: model's own test, with a note (permutation p-values matter with few studies: Higgins & Thompson 2004).
PERMUTATION_MAX_K = 1000


def attempt(fn, *args, **kwargs) -> tuple[object, str]:
    """``(fn(*args, **kwargs), "")``, or ``(None, reason)`` when the computation is impossible for
    this input (an error of :data:`NOT_COMPUTABLE`): one group never stops the others."""
    try:
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs), ""
    except NOT_COMPUTABLE as err:
        return None, f"not computed: {err}"


def with_notes(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with its ``note`` column as text, "" where there is nothing to say."""
    note = table["note"] if "note" in table else pd.Series(index=table.index, dtype=object)
    return table.assign(note=note.astype(object).where(note.notna(), ""))


def read_effects(path, omitted: bool = False) -> pd.DataFrame:
    """``effect_sizes.csv`` as written: numbers in :data:`NUMBER_COLUMNS`, every other cell as text.

    Text stays text (a group called ``None``, ``1e3`` or ``TRUE`` keeps its name); empty cells
    are missing. The ``'`` that :func:`premeta.tables.write_csv` puts before text a spreadsheet
    would run (``=...``, ``+...``) is removed, so every label is the sheet's own. The rows
    :func:`premeta.escalc` left without an effect size (its ``omitted`` column: a control split
    below what SMD allows) are left out, unless ``omitted`` (the report, which lists them).
    """
    from premeta.tables import read_csv

    header = pd.read_csv(path, nrows=0).columns  # as written: the dtype keys of read_csv
    if hasattr(path, "seek"):  # a buffer (effects_as_written): read it again from its start
        path.seek(0)
    flags = ("row", "precomputed", "split_below_2")
    text = {c: str for c in header if c not in NUMBER_COLUMNS and c not in flags}
    out = read_csv(path, index_col="row", dtype=text, keep_default_na=False, na_values=[""])
    return out if omitted or "omitted" not in out else out[out["omitted"].isna()]


def effects_as_written(effects: pd.DataFrame) -> pd.DataFrame:
    """``effects`` (from :func:`premeta.escalc`) exactly as :func:`read_effects` reads them back
    from ``effect_sizes.csv``: written and read in memory, so a job that computes the effect sizes
    itself has the same labels and the same numbers, bit for bit, as the jobs that read the file."""
    from premeta.tables import write_csv

    buffer = io.StringIO()
    write_csv(effects, buffer, index=True)
    buffer.seek(0)
    return read_effects(buffer)


def group_labels(effects: pd.DataFrame, by: str) -> pd.Series:
    """The label of each row's group: the text of column ``by``; numbers as ``7``, not ``7.0``."""
    col = effects[by]
    if pd.api.types.is_numeric_dtype(col):
        return col.map(lambda v: pd.NA if pd.isna(v) else f"{v:.15g}").astype("string")
    return col.astype("string")


def slug(label: object) -> str:
    """File-name form of a label: lower case ASCII, Greek letters spelt out (``TNF-α`` ->
    ``tnf-alpha``), accents dropped, runs of characters other than a-z, 0-9 and _ as one '-' (may be empty)."""
    text = "".join(GREEK.get(c, c) for c in unicodedata.normalize("NFKC", str(label)).lower())
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9_]+", "-", text).strip("-_")


def file_names(labels, reserved=("overall",)) -> dict[str, str]:
    """A unique, bounded file-name stem for each label, traceable to it.

    The stem is :func:`slug` of the label; when that is empty (e.g. a label in Chinese), longer
    than :data:`MAX_NAME`, shared by two labels (``a/b`` and ``a-b``) or ``reserved``, the first
    8 hex digits of the label's SHA-1 are appended, so each label keeps its own file.
    """
    labels = list(dict.fromkeys(map(str, labels)))
    base = {lab: slug(lab) for lab in labels}
    count = Counter(base.values())
    out = {}
    for lab in labels:
        b = base[lab]
        if not b or len(b) > MAX_NAME or count[b] > 1 or b in reserved:
            b = f"{b[:MAX_NAME - 9].rstrip('-') or 'group'}-{hashlib.sha1(lab.encode()).hexdigest()[:8]}"
        out[lab] = b
    return out


def animals(effects: pd.DataFrame) -> float:
    """Animals in a set of comparisons, each group counted once; NaN when no comparison gives
    group sizes (precomputed effects only: the sheet does not say, and 0 would be false).

    A treatment group is identified by (study, cohort) or, without ``cohort``, by (study,
    comparison) or the row; a control group by (study, control_group) or else like its
    treatment group. Each counts with its largest n over the rows it appears in (the same
    animals measured at several time points or on several outcomes). Precomputed rows are not
    counted (:func:`animals_note` says so).
    """
    pre = effects.get("precomputed", pd.Series(False, index=effects.index)).astype(bool)
    e = effects[~pre]
    if e.empty:
        return np.nan
    row_id = pd.Series(e.index.astype(str), index=e.index)
    study = e["study"].astype(str)

    def key(col: str, fallback: pd.Series) -> pd.Series:
        own = e[col].astype("string") if col in e else pd.Series(pd.NA, index=e.index, dtype="string")
        return study + "\x1f" + own.fillna(fallback)

    trt = key("cohort", e["comparison"].astype("string").fillna(row_id) if "comparison" in e else row_id)
    ctl = key("control_group", "ctl:" + trt)
    n_t = pd.to_numeric(e["trt_n"]).groupby(trt).max().sum()
    n_c = pd.to_numeric(e["ctl_n"]).groupby(ctl).max().sum()
    return float(n_t + n_c)


def animals_note(effects: pd.DataFrame) -> str:
    """Why :func:`animals` is empty or counts only some comparisons ("" when it counts them all)."""
    pre = int(effects.get("precomputed", pd.Series(False, index=effects.index)).astype(bool).sum())
    if not pre:
        return ""
    if pre == len(effects):
        return "animals not counted: the sheet gives precomputed effects (yi, vi) without group sizes"
    return (f"animals counted in the {plural(len(effects) - pre, 'comparison')} with group sizes, "
            f"not in the {pre} precomputed")


#: Numeric columns of the moderator models table (:func:`premeta.metareg.metareg`, then the permutation test).
MODEL_NUMBERS = ("k_omitted", "n_coefs", "qm", "qm_df1", "qm_df2", "qm_p", "tau2", "i2", "h2", "q", "q_p", "r2",
                 "qm_p_perm")
SUBGROUP_COLUMNS = ["test", "method", "stat", "df1", "df2", "p", "tau2", "groups", "note"]


def stratified(effects: pd.DataFrame, by: str = "mechanism", method: str = "REML",
               test: str = "z", level: float = 95) -> dict[str, pd.DataFrame]:
    """Random-effects model in every stratum of ``by`` and over all rows.

    Parameters
    ----------
    effects : DataFrame
        Output of :func:`premeta.escalc` (needs ``yi``, ``vi``, ``study`` and the ``by`` column).
    by, method, test, level
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
    >>> out = premeta.stratified(effects, by="mechanism")
    >>> out["pooled"][["group", "k", "studies", "estimate", "ci_low", "ci_high", "p_holm"]].round(4)
         group  k  studies  estimate  ci_low  ci_high  p_holm
    0        a  4        2    0.3772  0.1178   0.6367  0.0088
    1        b  4        2    0.3291  0.0817   0.5764  0.0091
    2  overall  8        4    0.3633  0.1874   0.5391     NaN
    """
    if by not in effects:
        raise ValueError(f"grouping column {by!r} is not in the sheet")
    groups = group_labels(effects, by)
    missing = groups.isna()
    if missing.any():
        raise ValueError(f"column {by!r} is empty in rows {', '.join(map(str, effects.index[missing]))}")
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
    weights = pd.DataFrame({"row": effects.index, by: groups.to_numpy(object),
                            "weight_group": per.weights, "weight_overall": overall.weights})
    return {"pooled": pooled[["group", "k", "studies", "animals"] + COLUMNS[2:] + ["p_holm", "p_bonferroni"]],
            "subgroup_tests": tests, "weights": weights}


def thin_evidence_note(note: str, k: int, studies: int, *more: str) -> str:
    """``note`` with a caveat when a pooled estimate rests on very little: two comparisons, or
    several comparisons all from one study (not independent: they often share animals or a control
    group, so their interval is too narrow); then any ``more`` notes."""
    caveats = [note,
               "k = 2: an estimate from two comparisons; its interval and heterogeneity are "
               "unreliable" if k == 2 else "",
               f"{'both' if k == 2 else f'all {k}'} comparisons from one study: not independent evidence, the "
               "interval is too narrow" if k >= 2 and studies == 1 else "", *more]
    return "; ".join(x for x in caveats if x)


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


def forest_rows(effects: pd.DataFrame, weights: pd.DataFrame, by: str = "mechanism") -> pd.DataFrame:
    """The rows of a comparison-level forest plot: ``label``, ``group``, ``yi``, ``vi``, ``weight``
    (percent within the group, from :func:`stratified`) and the animals of each arm, ``n_trt`` and
    ``n_ctl`` (the control's n after a shared control is split, as it entered the effect size;
    empty for precomputed effects)."""
    n = {c: pd.to_numeric(effects[c], errors="coerce") if c in effects else np.nan for c in ("trt_n", "ctl_n_eff")}
    return pd.DataFrame({"label": labels(effects), "group": group_labels(effects, by), "yi": effects["yi"],
                         "vi": effects["vi"], "weight": weights["weight_group"].reindex(effects.index),
                         "n_trt": n["trt_n"], "n_ctl": n["ctl_n_eff"]}, index=effects.index)


def study_rows(effects: pd.DataFrame, weights: pd.DataFrame, by: str = "mechanism", rho: float = 0.5) -> pd.DataFrame:
    """The rows of a study-level forest plot: the comparisons of each study within each group combined.

    Each study's comparisons are combined into one effect assuming their sampling errors correlate
    with ``rho`` (:func:`premeta.multilevel.aggregate`, metafor ``aggregate(..., rho = rho)``); its
    ``weight`` is the sum of its comparisons' weights in the group's model, so the squares show what
    each study contributes to the pooled estimate. Columns as :func:`forest_rows`, with
    ``comparisons`` and ``animals`` (each group of animals counted once, :func:`animals`) instead of
    the per-arm n.
    """
    groups = group_labels(effects, by)
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


def time_course(effects: pd.DataFrame, by: str = "mechanism", time: str = "time", method: str = "REML",
                test: str = "z", level: float = 95) -> pd.DataFrame:
    """Pooled effect at each time point within each group: every (group, time) stratum in one fit.

    ``time`` names the column of times (e.g. days after injury, or ``weeks`` of treatment); the
    table has a column of that name after ``group`` (no rows when no row has a time).
    """
    t = pd.to_numeric(effects[time], errors="coerce")
    e, t = effects[t.notna()], t[t.notna()].to_numpy(float)
    if e.empty:
        return pd.DataFrame(columns=["group", time, "k", "studies"] + COLUMNS[2:])
    g = group_labels(e, by).to_numpy(object)
    keys = list(zip(g, t))
    table = fit(e["yi"].to_numpy(float), e["vi"].to_numpy(float), keys, method=method, test=test,
                level=level).table()
    fitted = table.pop("group")
    table.insert(0, time, [k[1] for k in fitted])
    table.insert(0, "group", [k[0] for k in fitted])
    studies = e["study"].groupby([g, t]).nunique()
    table.insert(3, "studies", [studies[(gg, tt)] for gg, tt in zip(table["group"], table[time])])
    return table


def time_regression(effects: pd.DataFrame, by: str = "mechanism", method: str = "REML", test: str = "z",
                    level: float = 95, times: tuple[str, ...] = ("time", "weeks")) -> pd.DataFrame:
    """Meta-regression of the effect on time (and on ``weeks``, e.g. of treatment), in each group.

    One :func:`premeta.metareg.metareg` call per time column present: the slope (change in the
    effect per day, or per week) with its test and CI, and the model's tau², R² and QM p-value.
    """
    groups = group_labels(effects, by).to_numpy(object)
    parts = []
    for col in times:
        if col not in effects or effects[col].isna().all():
            continue
        x = effects[[col]].apply(pd.to_numeric)
        done, why = attempt(metareg, effects["yi"], effects["vi"], x, groups, method, test, level)
        if done is None:
            labels = sorted(set(groups))
            parts.append(pd.DataFrame({"group": labels, "k": [int((groups == g).sum()) for g in labels],
                                       "note": why, "per": col}))
            continue
        coefs, models = done
        slope = coefs[coefs["term"] == col].drop(columns="term")
        parts.append(models[["group", "k", "tau2", "r2", "qm_p", "note"]].merge(slope, on="group", how="left")
                     .assign(per=col))
    if not parts:
        return pd.DataFrame(columns=["per", "group", "k", "estimate", "p", "note"])
    out = with_notes(pd.concat(parts, ignore_index=True))
    return out[["per", "group", "k"] + [c for c in out if c not in ("per", "group", "k")]]


SMALL_STUDY_COLUMNS = ["group", "analysis", "precision", "k", "stat", "df", "p", "slope", "estimate", "ci_low",
                       "ci_high", "k0", "side", "note"]


def moderator_label(groups, by: str) -> str:
    """The label of the all-groups rows of :func:`small_study`: ``all groups (<by> as moderator)``,
    unless a group is called that."""
    taken, label = set(map(str, groups)), f"all groups ({by} as moderator)"
    return label if label not in taken else f"{label}, residuals"


def small_study(effects: pd.DataFrame, by: str = "mechanism", method: str = "REML", test: str = "z",
                min_k: int = 10) -> pd.DataFrame:
    """Small-study effects within each group of ``by``, and on the model with the group as moderator.

    Small-study effects are judged among comparisons that share one true effect: within a group,
    or on the residuals of the model with the group as moderator, never around one pooled
    estimate of groups whose true effects differ (there, a group with larger comparisons and
    larger effects makes a funnel look asymmetric).

    * Each group with at least ``min_k`` comparisons: :func:`small_study_tests` (Egger against
      the SE and 1/sqrt(n), as meta-regression and weighted OLS; trim-and-fill R0 and L0). A
      smaller group gets one row saying so (fewer make these tests meaningless; Sterne et al.
      2011, BMJ 343:d4002).
    * With more than one group, all comparisons together (at least ``min_k``): Egger's tests on
      the model with the group as moderator, :func:`small_study_tests` with ``moderator`` (metafor
      ``regtest(rma(yi, vi, mods = ~ factor(group)))``): the predictor's coefficient beside one
      intercept per group, so no limit estimate and no trim-and-fill (which needs one pooled
      estimate). ``group`` is :func:`moderator_label`, ``analysis`` says "residuals of the model
      with <by> as moderator".

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SMALL_STUDY_COLUMNS`; the groups in sorted order, then the all-groups rows.
    """
    groups = group_labels(effects, by)
    labels = sorted(groups.unique())
    parts = []
    for g in labels:
        sub = effects[(groups == g).to_numpy()]
        parts.append(small_study_tests(sub, method, test).assign(group=g) if len(sub) >= min_k else
                     _too_few(g, "small-study tests", len(sub), min_k))
    if len(labels) > 1:
        label, k = moderator_label(labels, by), len(effects)
        parts.append(small_study_tests(effects.assign(**{by: groups}), method, test, moderator=by).assign(group=label)
                     if k >= min_k else
                     _too_few(label, f"Egger regression, residuals of the model with {by} as moderator", k, min_k))
    return with_notes(pd.concat(parts, ignore_index=True).reindex(columns=SMALL_STUDY_COLUMNS))


FUNNEL_COLUMNS = ["group", "k", "estimate", "fitted", "note"]


def funnel_centres(effects: pd.DataFrame, by: str = "mechanism", method: str = "REML") -> pd.DataFrame:
    """The centres of the funnel plots by group (:func:`premeta.plots.funnel_panels_figure`).

    One row per group of ``by``, in sorted order (as the tables), with its ``k``, ``estimate``:
    its own pooled estimate (:func:`premeta.models.fit` with ``method``, metafor ``rma(yi, vi,
    subset = group == g)``), about which its funnel is drawn, and ``fitted``: its fitted value on
    the model with the group as moderator (``rma(yi, vi, mods = ~ factor(group), method)``, one
    common tau2), which the residual funnel subtracts from each of its comparisons. With one
    group there is no such model and ``fitted`` is NaN; where a model cannot be fitted its
    numbers are NaN and ``note`` says why.
    """
    groups = group_labels(effects, by).astype(str).to_numpy(object)
    yi, vi = effects["yi"].to_numpy(float), effects["vi"].to_numpy(float)
    if not len(yi):
        return pd.DataFrame(columns=FUNNEL_COLUMNS)
    per = fit(yi, vi, groups, method=method, confint=False)
    table = pd.DataFrame({"group": per.groups, "k": per.k, "estimate": per.beta[:, 0], "fitted": np.nan, "note": ""})
    if len(per.groups) > 1:
        mods = pd.DataFrame({by: groups})
        model = fit(yi, vi, method=method, mods=mods, confint=False)
        fitted = np.column_stack([np.ones(len(yi)), design(mods)[0]]) @ model.beta[0]
        table["fitted"] = table["group"].map(dict(zip(groups, fitted)))
        table["note"] = "" if np.isfinite(model.beta[0]).all() else model.note[0]
    return table


def _too_few(group: str, analysis: str, k: int, min_k: int) -> pd.DataFrame:
    why = f"k = {k} < {min_k}: too few comparisons to test for small-study effects (Sterne et al. 2011)"
    return pd.DataFrame({"group": [group], "analysis": analysis, "k": k, "note": why})


def small_study_tests(effects: pd.DataFrame, method: str = "REML", test: str = "z",
                      moderator: str | None = None) -> pd.DataFrame:
    """Egger's regression test against the SE and against 1/sqrt(n), both as a meta-regression
    (metafor ``regtest``) and as the classical weighted regression; trim-and-fill (R0, L0).

    n is the total number of animals of a comparison (``trt_n + ctl_n``, real group sizes);
    rows without group summaries are left out of the tests against 1/sqrt(n). Every variant is
    computed on its own: one that cannot be (too few rows, a constant predictor) keeps its row
    with NaN and the reason in ``note``.

    With ``moderator`` (a column of ``effects``, e.g. the group), Egger's tests are on the model
    with it as moderator (:func:`premeta.bias.egger` with ``mods``; metafor ``regtest(rma(yi, vi,
    mods = ~ factor(moderator)))``, and ``lm(yi ~ factor(moderator) + sei, weights = 1/vi)``):
    the ``analysis`` says so, there is no limit estimate, and trim-and-fill is not run (it mirrors
    studies about one pooled estimate; metafor's ``trimfill`` refuses models with moderators).
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
            r, why = attempt(egger, yi[ok], vi[ok], predictor, ni[ok], model, method, test,
                             mods=None if mods is None else mods[ok].reset_index(drop=True))
            if r is None:
                rows.append(row | {"note": why})
                continue
            rows.append(row | r.iloc[0][["stat", "df", "p", "slope", "estimate", "ci_low", "ci_high"]].to_dict())
    for estimator in ("R0", "L0") if moderator is None else ():
        row = {"analysis": f"trim-and-fill ({estimator})", "precision": "SE", "k": len(yi)}
        t, why = attempt(trimfill, yi, vi, estimator, method=method)
        if t is None:
            rows.append(row | {"note": why})
            continue
        rows.append(row | t.iloc[0][["k0", "side", "stat", "p", "estimate", "ci_low", "ci_high"]].to_dict())
    return pd.DataFrame(rows)


def rob_strata(effects: pd.DataFrame, studies: pd.DataFrame, by: str = "mechanism", method: str = "REML",
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
        out, why = attempt(stratified, low, by, method, test, level)
        parts.append(out["pooled"].assign(analysis=label) if out is not None
                     else pd.DataFrame({"analysis": [label], "k": len(low), "note": why}))
    cols = ["analysis", "group", "k", "studies", "estimate", "ci_low", "ci_high", "p", "tau2", "i2",
            "q_between_p", "qm_p", "note"]
    return with_notes(pd.concat(parts, ignore_index=True).reindex(columns=cols))


DEPENDENCE = ("auto", "multilevel", "rve", "aggregate", "none")


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
    if requested not in DEPENDENCE:
        raise ValueError(f"dependence must be one of {', '.join(DEPENDENCE)}, got {requested!r}")
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


def _robust(e: pd.DataFrame, rho: float, level: float, model: str = "CORR") -> dict:
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


def _three_level(e: pd.DataFrame, level: float, covariance: bool = False) -> dict:
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


def dependent(effects: pd.DataFrame, by: str = "mechanism", dependence: str = "auto", rho: float = 0.5,
              method: str = "REML", test: str = "z", level: float = 95,
              rve_model: str = "CORR") -> tuple[pd.DataFrame, str, str]:
    """The pooled effect of every group and overall, with dependent comparisons accounted for.

    * ``multilevel``: three-level model, comparisons (rows) within studies, REML
      (:func:`premeta.multilevel.rma_mv`), with CR2 cluster-robust standard errors, t tests with
      Satterthwaite df and CIs, clustered by study (:func:`premeta.multilevel.robust`;
      Pustejovsky and Tipton 2018). ``se_model`` is the model-based SE; ``i2_study`` and
      ``i2_within`` split I² between the levels (Cheung 2014).
    * ``rve``: robust variance estimation clustered by study, correlated-effects working model
      with within-study correlation ``rho`` and the small-sample correction (:func:`premeta.rve.rve`,
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
    return _dependent(effects, by, dependence, rho, method, test, level, rve_model)[:3]


def _dependent(effects: pd.DataFrame, by: str, dependence: str, rho: float, method: str, test: str, level: float,
               rve_model: str, shared_control: str = "split") -> tuple[pd.DataFrame, str, str, pd.DataFrame]:
    """:func:`dependent`, and the weight of every row (percent) in its group's and in the overall model;
    ``shared_control="covariance"``: the three-level model with the shared controls' covariance."""
    mode, reason = dependence_mode(effects, dependence, shared_control)
    groups = group_labels(effects, by)
    subsets = {g: effects[(groups == g).to_numpy()] for g in sorted(groups.unique())}
    overall = overall_label(subsets)
    subsets[overall] = effects
    weights = pd.DataFrame({"row": effects.index, by: groups.to_numpy(object), "weight_group": np.nan,
                            "weight_overall": np.nan}, index=effects.index)
    if mode in ("multilevel", "rve"):
        rows = []
        for g, sub in subsets.items():
            row, why = (attempt(_three_level, sub, level, shared_control == "covariance") if mode == "multilevel"
                        else attempt(_robust, sub, rho, level, rve_model))
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


def primary(effects: pd.DataFrame, by: str = "mechanism", dependence: str = "auto", rho: float = 0.5,
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
        Output of :func:`premeta.escalc` (``yi``, ``vi``, ``study``, the ``by`` column; ``trt_n``,
        ``ctl_n`` for the animals).
    by : str
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
        ``reason`` (:func:`dependence_mode`), ``weights`` (``row``, ``by``, ``weight_group``,
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
    >>> out = premeta.primary(effects, by="mechanism", dependence="auto")
    >>> out["mode"]
    'multilevel'
    >>> out["table"][["group", "k", "studies", "estimate", "ci_low", "ci_high", "df"]].round(4)
         group  k  studies  estimate  ci_low  ci_high      df
    0        a  4        2    0.3936 -1.8639   2.6511  1.0030
    1        b  4        2    0.3291 -0.6916   1.3498  1.0019
    2  overall  8        4    0.3633  0.0800   0.6465  2.9088
    """
    table, mode, reason, weights = _dependent(effects, by, dependence, rho, method, test, level, rve_model,
                                              shared_control)
    groups = group_labels(effects, by)
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


def rho_sensitivity(effects: pd.DataFrame, by: str = "mechanism", level: float = 95, rve_model: str = "CORR",
                    rhos=RHOS) -> pd.DataFrame:
    """The RVE estimate of every group and overall at each assumed within-study correlation
    ``rhos`` (robumeta's ``sensitivity``): ``group, rho, k, studies, estimate, se, df, p, ci_low,
    ci_high, tau2, i2, note``."""
    parts = [dependent(effects, by, "rve", r, level=level, rve_model=rve_model)[0].assign(rho=r) for r in rhos]
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


def sensitivity(effects: pd.DataFrame, by: str = "mechanism", method: str = "REML", test: str = "z",
                level: float = 95) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Leave-one-out estimates and influence diagnostics of every comparison, within each group.

    Each group of ``by`` with at least 2 comparisons is refitted without each comparison in turn
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
    groups = group_labels(effects, by)
    for g in sorted(groups.unique()):
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
                       test: str = "z", level: float = 95, permutations: int = 1000,
                       seed: int = 2024) -> dict[str, pd.DataFrame]:
    """Meta-regression on each moderator in turn, within every group of ``by``.

    One model per moderator and group (:func:`premeta.metareg.metareg`: coefficients, QM,
    pseudo-R²; all groups in one call per moderator), with permutation p-values of every
    coefficient and of QM (:func:`premeta.metareg.permutest`, ``permutations`` random
    permutations seeded by ``seed``, exact when there are fewer distinct ones; not run in a group
    of more than :data:`PERMUTATION_MAX_K` comparisons, which says so in ``note``). Moderators
    absent from the sheet or empty are skipped. A moderator with one value in the whole sheet
    (all animals male, one species) gives every group a row with the reason in ``note``; a
    group where a moderator cannot be estimated keeps its row with a note
    (:func:`premeta.metareg.metareg`).

    Returns
    -------
    dict
        ``coefs`` (one row per moderator, group and term, with ``p_perm``), ``models`` (one per
        moderator and group, with ``qm_p_perm``), ``weights`` (``moderator, group, row, x, yi,
        weight``: the points of the bubble plots of numeric moderators, weight
        :math:`1/(v_i+\\hat\\tau^2)` of the meta-regression) and ``lines`` (``moderator, group,
        intercept, slope, p``: their fitted lines, in the groups where the model was fitted).
    """
    groups = group_labels(effects, by)
    labels = sorted(groups.unique())
    numeric = numeric_moderators(effects, moderators)
    effects = effects.assign(**{m: pd.to_numeric(effects[m]) for m in numeric})
    coefs, models, points = [], [], []
    for m in moderators:
        if m not in effects or effects[m].isna().all():
            continue
        values = effects[m].dropna().unique()
        why = ""
        if len(values) < 2:
            v = values[0]
            shown = f"{v:.15g}" if isinstance(v, (int, float, np.number)) else repr(str(v))
            why = f"{m} takes one value in the whole sheet ({shown}): nothing to compare"
        done = None
        if not why:
            done, why = attempt(metareg, effects["yi"], effects["vi"], effects[[m]], groups.to_numpy(object),
                                method, test, level)
        if done is None:
            models.append(pd.DataFrame({"moderator": m, "group": labels,
                                        "k": [int((groups == g).sum()) for g in labels],
                                        "converged": False, "permutations": 0, "note": why}))
            continue
        c, mo = done
        c["p_perm"], mo["qm_p_perm"], mo["permutations"] = np.nan, np.nan, 0
        for i in np.flatnonzero(mo["converged"].to_numpy(bool)):
            g = mo.at[i, "group"]
            sub = effects[(groups == g).to_numpy()]
            if len(sub) > PERMUTATION_MAX_K:
                perm, fail = None, (f"k = {len(sub)} > {PERMUTATION_MAX_K}: with this many comparisons the "
                                    "model's own test is used; permutation p-values matter with few studies")
            else:
                perm, fail = attempt(permutest, sub["yi"], sub["vi"], sub[[m]], method, test, permutations, seed)
            if perm is None:
                before = mo.at[i, "note"] if isinstance(mo.at[i, "note"], str) else ""
                mo.loc[i, "note"] = "; ".join(filter(None, [before, f"no permutation test ({fail})"]))
                continue
            perm = perm.set_index("term")
            mo.loc[i, ["qm_p_perm", "permutations"]] = perm.at["QM", "p_perm"], perm.at["QM", "iter"]
            rows = c["group"] == g
            c.loc[rows, "p_perm"] = c.loc[rows, "term"].map(perm["p_perm"]).to_numpy()
        coefs.append(c.assign(moderator=m))
        models.append(mo.assign(moderator=m))
        if m in numeric:
            ok = effects[m].notna().to_numpy()
            tau2 = mo.set_index("group")["tau2"].reindex(groups[ok]).to_numpy()
            points.append(pd.DataFrame({"moderator": m, "group": groups[ok].to_numpy(), "row": effects.index[ok],
                                        "x": effects.loc[ok, m].to_numpy(float),
                                        "yi": effects.loc[ok, "yi"].to_numpy(float),
                                        "weight": 1 / (effects.loc[ok, "vi"].to_numpy(float) + tau2)}))

    def stack(parts, columns):
        t = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
        return t[["moderator"] + [c for c in t if c != "moderator"]]

    coefs = stack(coefs, ["moderator", "group", "term", "estimate", "se", "stat", "df", "p", "ci_low", "ci_high",
                          "p_perm"])
    models = stack(models, ["moderator", "group", "k", "converged", "note"])
    # when no moderator could be fitted at all (a one-comparison sheet), the table keeps every column
    models = models.reindex(columns=[*models, *(c for c in MODEL_NUMBERS if c not in models)])
    models = with_notes(models)
    fitted = models[models["moderator"].isin(numeric) & models["converged"].astype(bool)][["moderator", "group"]]
    c = coefs[coefs["moderator"].isin(numeric)].set_index(["moderator", "group"])
    index = pd.MultiIndex.from_frame(fitted)
    lines = fitted.assign(
        intercept=c[c.term == "intrcpt"].estimate.reindex(index).to_numpy(),
        slope=c[c.term != "intrcpt"].estimate.reindex(index).to_numpy(),
        p=c[c.term != "intrcpt"].p.reindex(index).to_numpy())
    return {"coefs": coefs, "models": models, "weights": stack(points, ["moderator", "group", "row", "x", "yi",
                                                                        "weight"]),
            "lines": lines.reset_index(drop=True)}


def multiple_testing(pooled: pd.DataFrame, models: pd.DataFrame) -> pd.DataFrame:
    """Holm and Bonferroni adjusted p-values side by side, within each family of tests.

    Two families: the effect of the intervention in each group (the p of ``pooled``, the
    ``overall`` row left out) and the moderator tests (the QM p-value of every moderator in
    every group, from :func:`moderator_analysis`). Adjusted with statsmodels ``multipletests``
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


#: Columns of ``results/gosh.csv`` (:func:`gosh_groups`): the spread of the GOSH estimates of each group.
GOSH_COLUMNS = ["group", "k", "method", "subsets", "fitted", "estimate", "i2", "share_positive", "estimate_min",
                "estimate_q05", "estimate_q25", "estimate_median", "estimate_q75", "estimate_q95", "estimate_max",
                "i2_median", "figure", "note"]


def gosh_groups(effects: pd.DataFrame, by: str = "mechanism", method: str = "REML", subsets: int = 10**6,
                seed: int | None = None):
    """GOSH (:func:`premeta.gosh.gosh`) within each group of ``by``, one group at a time.

    Yields ``(row, fits, names)`` per group in sorted order: ``row`` the group's line of
    ``results/gosh.csv`` (:data:`GOSH_COLUMNS`, ``figure`` left to the caller; ``subsets`` is
    ``all`` or ``random``, ``fitted`` the number of subsets; ``estimate`` and ``i2`` the fit to
    all comparisons; the share of subsets with an estimate above 0, their range and quantiles;
    ``i2_median`` the median I2 of the subsets), ``fits`` the :class:`premeta.gosh.Gosh` (None
    when it cannot be computed: a group of one comparison keeps its row with NaN and the reason
    in ``note``) and ``names`` the comparisons' labels (:func:`labels`).
    """
    names = labels(effects)
    groups = group_labels(effects, by)
    for g in sorted(groups.unique()):
        sub = effects[(groups == g).to_numpy()]
        yi, vi = sub["yi"].to_numpy(float), sub["vi"].to_numpy(float)
        row = dict.fromkeys(GOSH_COLUMNS, np.nan) | {"group": g, "k": len(sub), "method": method, "subsets": "",
                                                      "note": ""}
        fits, why = attempt(gosh, yi, vi, method=method, subsets=subsets, seed=seed) if len(sub) > 1 else (
            None, "k = 1: GOSH needs at least 2 comparisons")
        if fits is not None:
            full = gosh(yi, vi, method=method, incl=np.ones((1, len(yi)), dtype=bool)).res.iloc[0]
            est = fits.res["estimate"].dropna().to_numpy()
            q = np.quantile(est, [0, 0.05, 0.25, 0.5, 0.75, 0.95, 1])
            row |= {"subsets": fits.subsets, "fitted": len(fits.res), "estimate": full["estimate"], "i2": full["i2"],
                    "share_positive": float(np.mean(est > 0)), "i2_median": float(fits.res["i2"].median()),
                    **dict(zip(GOSH_COLUMNS[8:15], q))}
            if len(est) < len(fits.res):
                why = f"{len(fits.res) - len(est)} subsets could not be fitted"
        row["note"] = why
        yield row, fits, names[sub.index].to_list()

