"""Sex as a biological variable per group: studies and animals by sex (:func:`sex_table`), and the
within-study male-female contrast beside the between-study moderator estimate (:func:`sex_contrasts`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from premeta.contrasts import SEXES, pool_contrasts, sex_of, sex_pairs
from premeta.regression import metareg
from premeta.vocabulary import group_labels, label_order, overall_label, plural
from premeta.groups.common import animals, animals_note, attempt, attempt_strata, with_notes

#: The columns of :func:`sex_table` after ``group``, ``k`` and ``studies``.
SEX_COUNTS = [f"studies_{s.replace(' ', '_')}" for s in SEXES] + ["studies_male_and_female"] + [
    f"animals_{s.replace(' ', '_')}" for s in SEXES]
#: The columns of :func:`sex_contrasts`' ``contrasts`` table.
CONTRAST_COLUMNS = ["group", "contrast", "k", "studies", "pairs", "estimate", "se", "stat", "df", "p", "ci_low",
                    "ci_high", "tau2", "i2", "q", "q_p", "note"]
#: The two rows of each group in :func:`sex_contrasts`.
WITHIN, BETWEEN = "within studies", "between studies (moderator)"


def _strata(effects: pd.DataFrame, group_by: str) -> tuple[list[str], list[pd.DataFrame]]:
    """The labels of the groups then the all-groups label, and the rows of each."""
    groups = group_labels(effects, group_by)
    labels = label_order(groups.dropna().unique())
    return [*labels, overall_label(labels)], [effects[(groups == g).to_numpy()] for g in labels] + [effects]


def sex_table(effects: pd.DataFrame, group_by: str = "mechanism") -> pd.DataFrame:
    """Studies and animals by sex, in every group of ``group_by`` and over all groups.

    Parameters
    ----------
    effects : pandas.DataFrame
        Effect sizes as :func:`premeta.escalc` gives them, with ``study``, the sheet's ``sex``
        column (read by :func:`premeta.contrasts.sex_of`) and group sizes.
    group_by : str
        The grouping column.

    Returns
    -------
    pandas.DataFrame
        One row per group then the all-groups row (:func:`premeta.vocabulary.overall_label`):
        ``group``, ``k`` (comparisons), ``studies``; ``studies_male``, ``studies_female``,
        ``studies_both`` (mixed-sex groups), ``studies_not_reported``: the studies with at least one
        comparison of that sex (a study testing both sexes counts under each);
        ``studies_male_and_female``: the studies with separate male and female comparisons (the
        ones that can give a within-study contrast); ``animals_male`` ... ``animals_not_reported``:
        the animals of those comparisons, counted as :func:`premeta.groups.common.animals` does
        (each treatment and control group once); ``note``: words of the ``sex`` column that are not
        a sex premeta reads (counted as not reported), or why animals are not counted.

    Examples
    --------
    >>> import pandas as pd
    >>> import premeta
    >>> effects = pd.DataFrame({"study": ["a", "a", "b", "c"], "mechanism": ["x", "x", "x", "y"],
    ...                         "sex": ["male", "female", "male", None], "trt_n": 8, "ctl_n": 8,
    ...                         "yi": [0.5, 0.2, 0.4, 0.1], "vi": 0.2})
    >>> table = premeta.sex_table(effects)
    >>> table[["group", "k", "studies_male", "studies_female", "studies_male_and_female"]]
         group  k  studies_male  studies_female  studies_male_and_female
    0        x  3             2               1                        1
    1        y  1             0               0                        0
    2  overall  4             2               1                        1
    >>> table[["group", "animals_male", "animals_female", "animals_not_reported"]]
         group  animals_male  animals_female  animals_not_reported
    0        x          32.0            16.0                   0.0
    1        y           0.0             0.0                  16.0
    2  overall          32.0            16.0                  16.0

    Notes
    -----
    metafor has no equivalent (counts). Clayton and Collins 2014 (*Nature* 509:282-283) on why a
    review reports them: most preclinical studies use one sex, mostly males.
    """
    if "sex" not in effects:
        raise ValueError("the sheet has no sex column")
    sex = sex_of(effects["sex"])
    effects = effects.assign(_sex=sex.fillna("not reported"))
    labels, subsets = _strata(effects, group_by)
    rows = []
    for label, e in zip(labels, subsets):
        by = {s: e[e["_sex"] == s] for s in SEXES}
        per_study = e.groupby("study")["_sex"].agg(set)
        row = {"group": label, "k": len(e), "studies": e["study"].nunique()}
        row |= {f"studies_{s.replace(' ', '_')}": by[s]["study"].nunique() for s in SEXES}
        row["studies_male_and_female"] = int(per_study.map({"male", "female"}.issubset).sum())
        row |= {f"animals_{s.replace(' ', '_')}": animals(by[s]) if len(by[s]) else 0.0 for s in SEXES}
        bad = sorted(set(e["sex"][sex[e.index].isna()].astype(str)))
        words = (f"sex {', '.join(repr(w) for w in bad)} not read as male, female or both: counted as not reported"
                 if bad else "")
        row["note"] = "; ".join(x for x in (words, animals_note(e)) if x)
        rows.append(row)
    return with_notes(pd.DataFrame(rows, columns=["group", "k", "studies", *SEX_COUNTS, "note"]))


def sex_contrasts(effects: pd.DataFrame, group_by: str = "mechanism", match=(), rho: float = 0.5,
                  method: str = "REML", test: str = "z", level: float = 95) -> dict[str, pd.DataFrame]:
    """Male minus female, within studies and between studies, in every group and over all groups.

    *Within studies*: the male and female comparisons of one design are matched by
    :func:`premeta.contrasts.sex_pairs` (the same ``study``, ``outcome``, group, ``time`` where the
    sheet has it, and every column of ``match``; a design with exactly one comparison of each
    sex), each pair gives :math:`y_m - y_f` with variance :math:`v_m + v_f` (different animals:
    independent), the pairs of a study are combined with correlation ``rho`` and the study
    contrasts pooled by :func:`premeta.contrasts.pool_contrasts` (every group and the overall
    stratum in one fit). *Between studies*: the meta-regression on sex of the male and female
    comparisons (:func:`premeta.metareg`, female the reference level, so the coefficient
    ``sexmale`` is male minus female), every group and the overall stratum in one call.

    Parameters
    ----------
    effects : pandas.DataFrame
        Effect sizes as :func:`premeta.escalc` gives them, with ``study``, ``outcome``, ``sex``.
    group_by : str
        The grouping column.
    match : list of str
        Further columns a male and a female comparison must share (e.g. the dose, the age at
        testing, the test used).
    rho : float
        Correlation of the sampling errors of one study's contrasts (:func:`premeta.aggregate`).
    method, test, level
        As :func:`premeta.models.fit`; ``test`` default ``"z"`` (metafor's default).

    Returns
    -------
    dict
        ``contrasts``: two rows per group then two for all groups, ``contrast`` = ``within
        studies`` (``k`` studies pooled, ``pairs``) and ``between studies (moderator)`` (``k``
        male and female comparisons), with ``studies``, ``estimate`` (male minus female), ``se``,
        ``stat``, ``df``, ``p``, ``ci_low``, ``ci_high``, ``tau2`` (residual for the moderator),
        ``i2``, ``q``, ``q_p``, ``note`` (why a row is empty); ``pairs``: the matched pairs
        (:func:`premeta.contrasts.sex_pairs`) with ``group``; ``unpaired``: the designs with
        several comparisons of one sex, not paired.

    Examples
    --------
    >>> import pandas as pd
    >>> import premeta
    >>> effects = pd.DataFrame({
    ...     "study": ["a", "a", "b", "b", "c", "c", "d", "e"], "outcome": "o", "mechanism": "x",
    ...     "sex": ["m", "f", "m", "f", "m", "f", "m", "f"],
    ...     "yi": [0.9, 0.5, 1.0, 0.4, 0.6, 0.7, 1.1, 0.2], "vi": 0.1})
    >>> out = premeta.sex_contrasts(effects)
    >>> out["contrasts"][["group", "contrast", "k", "studies", "estimate", "se"]].round(4)
         group                     contrast  k  studies  estimate      se
    0        x               within studies  3        3      0.30  0.2582
    1        x  between studies (moderator)  8        5      0.45  0.2236
    2  overall               within studies  3        3      0.30  0.2582
    3  overall  between studies (moderator)  8        5      0.45  0.2236

    Notes
    -----
    metafor: within, ``rma(yi, vi, data = aggregate(escalc(yi = yi.m - yi.f, vi = vi.m + vi.f,
    data = pairs), cluster = study, rho = rho), method = method, test = test)``; between,
    ``rma(yi, vi, mods = ~ factor(sex, levels = c("f", "m")), method = method, test = test)`` on
    the male and female comparisons. The between-study estimate compares studies that differ in
    more than sex (strain, laboratory, protocol); the within-study one does not, but rests on the
    few studies that tested both sexes. The moderator model treats a study's comparisons as
    independent, as premeta's moderator analysis does.
    """
    for col in ("study", "outcome", "sex", group_by):
        if col not in effects:
            raise ValueError(f"sex_contrasts needs the column {col!r}")
    keys = list(dict.fromkeys(["study", "outcome", group_by, *(["time"] if "time" in effects else []), *match]))
    missing = [c for c in keys if c not in effects]
    if missing:
        raise ValueError(f"sex_match names columns the sheet does not have: {', '.join(missing)}")
    labels = _strata(effects, group_by)[0]
    total = labels[-1]
    effects = effects.assign(**{group_by: group_labels(effects, group_by)})

    pairs, unpaired = sex_pairs(effects, keys)
    pairs.insert(0, "group", pairs[group_by].astype(object))
    stacked = pd.concat([pairs, pairs.assign(group=total)], ignore_index=True)
    within = attempt_strata(pool_contrasts, stacked["yi"], stacked["vi"], stacked["study"].to_numpy(object),
                            groups=stacked["group"].to_numpy(object), rho=rho, method=method, test=test,
                            level=level) if len(pairs) else pd.DataFrame({"group": []})
    within = within.set_index("group").reindex(labels)
    unpaired_by = pd.concat([unpaired[group_by], pd.Series(total, index=unpaired.index)]).value_counts()
    for g in labels:
        if pd.isna(within.at[g, "note"]) if "note" in within else True:
            within.loc[g, "note"] = "" if g in set(stacked["group"]) else (
                "no study tested both sexes under the same design")
        if unpaired_by.get(g, 0):
            n = unpaired_by[g]
            within.loc[g, "note"] = "; ".join(filter(None, [within.at[g, "note"], (
                f"{plural(n, 'design')} with several comparisons of one sex not paired (the sheet does not say "
                "which male goes with which female: name the columns that tell them apart in `sex_match`)")]))
    within["pairs"] = stacked.groupby("group").size().reindex(labels, fill_value=0)
    within["k"] = within["studies"] = stacked.groupby("group")["study"].nunique().reindex(labels, fill_value=0)
    within = within.reset_index().assign(contrast=WITHIN)

    sex = sex_of(effects["sex"]).to_numpy(object)
    mf = effects[np.isin(sex, ("male", "female"))].assign(_sex=sex[np.isin(sex, ("male", "female"))])
    strata = pd.concat([mf.assign(_group=mf[group_by].astype(object)), mf.assign(_group=total)], ignore_index=True)
    both = strata.groupby("_group")["_sex"].nunique()
    fitted = strata[strata["_group"].map(both).to_numpy() == 2]
    between = pd.DataFrame({"group": labels}).set_index("group")
    if len(fitted):
        mods = pd.DataFrame({"sex": pd.Categorical(fitted["_sex"], categories=["female", "male"])})
        done, why = attempt(metareg, fitted["yi"], fitted["vi"], mods, fitted["_group"].to_numpy(object),
                            method, test, level)
        if done is None:
            between = between.assign(note=why)
        else:
            coefs, models = done
            slope = coefs[coefs["term"] == "sexmale"].set_index("group")
            between = between.join(slope.drop(columns="term")).join(
                models.set_index("group")[["k", "tau2", "i2", "q", "q_p", "note"]])
    between["studies"] = strata.groupby("_group")["study"].nunique().reindex(between.index, fill_value=0)
    for g in labels:
        sexes = set(strata.loc[strata["_group"] == g, "_sex"])
        if len(sexes) < 2:
            between.loc[g, "k"] = len(strata[strata["_group"] == g])
            between.loc[g, "note"] = (f"only {next(iter(sexes))} comparisons: no male-female contrast" if sexes else
                                      "no male or female comparisons (mixed or not reported): no contrast")
    between = between.reset_index().assign(contrast=BETWEEN)

    table = pd.concat([within, between], ignore_index=True).reindex(columns=CONTRAST_COLUMNS)
    order = {g: i for i, g in enumerate(labels)}
    table = table.sort_values(["group", "contrast"], key=lambda s: s.map(order) if s.name == "group" else
                              s.map({WITHIN: 0, BETWEEN: 1}), ignore_index=True)
    table[["k", "studies"]] = table[["k", "studies"]].astype(int)
    table["pairs"] = table["pairs"].astype("Int64")
    return {"contrasts": with_notes(table), "pairs": pairs, "unpaired": unpaired}
