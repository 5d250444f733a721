"""Meta-regression per group: one model per moderator with permutation tests, and the time course.
"""

from __future__ import annotations


import numpy as np
import pandas as pd

from premeta.deprecation import renamed_arguments
from premeta.models import POOLED_COLUMNS, fit
from premeta.regression import metareg, permutest
from premeta.vocabulary import group_labels, label_order
from premeta.groups.common import attempt, with_notes
from premeta.groups.pooling import MODEL_NUMBERS

#: Permutation tests refit the meta-regression ``permutations`` times: above this k a group keeps the
#: model's own test, with a note (permutation p-values matter with few studies: Higgins & Thompson 2004).
PERMUTATION_MAX_K = 1000


@renamed_arguments(by="group_by")
def time_course(effects: pd.DataFrame, group_by: str = "mechanism", time: str = "time", method: str = "REML",
                test: str = "z", level: float = 95) -> pd.DataFrame:
    """Pooled effect at each time point within each group: every (group, time) stratum in one fit.

    ``time`` names the column of times (e.g. days after injury, or ``weeks`` of treatment); the
    table has a column of that name after ``group`` (no rows when no row has a time).
    """
    t = pd.to_numeric(effects[time], errors="coerce")
    e, t = effects[t.notna()], t[t.notna()].to_numpy(float)
    if e.empty:
        return pd.DataFrame(columns=["group", time, "k", "studies"] + POOLED_COLUMNS[2:])
    g = group_labels(e, group_by).to_numpy(object)
    keys = list(zip(g, t))
    table = fit(e["yi"].to_numpy(float), e["vi"].to_numpy(float), keys, method=method, test=test,
                level=level).table()
    fitted = table.pop("group")
    table.insert(0, time, [k[1] for k in fitted])
    table.insert(0, "group", [k[0] for k in fitted])
    studies = e["study"].groupby([g, t]).nunique()
    table.insert(3, "studies", [studies[(gg, tt)] for gg, tt in zip(table["group"], table[time])])
    return table


@renamed_arguments(by="group_by")
def time_regression(effects: pd.DataFrame, group_by: str = "mechanism", method: str = "REML", test: str = "z",
                    level: float = 95, times: tuple[str, ...] = ("time", "weeks")) -> pd.DataFrame:
    """Meta-regression of the effect on time (and on ``weeks``, e.g. of treatment), in each group.

    One :func:`premeta.metareg` call per time column present: the slope (change in the
    effect per day, or per week) with its test and CI, and the model's tau², R² and QM p-value.
    """
    groups = group_labels(effects, group_by).to_numpy(object)
    parts = []
    for col in times:
        if col not in effects or effects[col].isna().all():
            continue
        x = effects[[col]].apply(pd.to_numeric)
        done, why = attempt(metareg, effects["yi"], effects["vi"], x, groups, method, test, level)
        if done is None:
            labels = label_order(groups)
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


def numeric_moderators(effects: pd.DataFrame, moderators: list[str]) -> list[str]:
    """The moderators present in ``effects`` whose every non-missing value is a number (the ones with a bubble plot)."""
    out = []
    for m in moderators:
        if m in effects and effects[m].notna().any():
            x = effects[m].dropna()
            if pd.to_numeric(x, errors="coerce").notna().all():
                out.append(m)
    return out


@renamed_arguments(by="group_by")
def moderator_analysis(effects: pd.DataFrame, moderators: list[str], group_by: str = "mechanism", method: str = "REML",
                       test: str = "z", level: float = 95, permutations: int = 1000,
                       seed: int = 2024) -> dict[str, pd.DataFrame]:
    """Meta-regression on each moderator in turn, within every group of ``group_by``.

    One model per moderator and group (:func:`premeta.metareg`: coefficients, QM,
    pseudo-R²; all groups in one call per moderator), with permutation p-values of every
    coefficient and of QM (:func:`premeta.permutest`, ``permutations`` random
    permutations seeded by ``seed``, exact when there are fewer distinct ones; not run in a group
    of more than :data:`PERMUTATION_MAX_K` comparisons, which says so in ``note``). Moderators
    absent from the sheet or empty are skipped. A moderator with one value in the whole sheet
    (all animals male, one species) gives every group a row with the reason in ``note``; a
    group where a moderator cannot be estimated keeps its row with a note
    (:func:`premeta.metareg`).

    Returns
    -------
    dict
        ``coefs`` (one row per moderator, group and term, with ``p_perm``), ``models`` (one per
        moderator and group, with ``qm_p_perm``), ``weights`` (``moderator, group, row, x, yi,
        weight``: the points of the bubble plots of numeric moderators, weight
        :math:`1/(v_i+\\hat\\tau^2)` of the meta-regression) and ``lines`` (``moderator, group,
        intercept, slope, p``: their fitted lines, in the groups where the model was fitted).
    """
    groups = group_labels(effects, group_by)
    labels = label_order(groups.unique())
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
            mo.loc[i, ["qm_p_perm", "permutations"]] = perm.at["QM", "p_perm"], perm.at["QM", "permutations"]
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
