"""The next experiment of each group of the primary analysis: animals per arm by power and by
assurance (:func:`premeta.next_experiment`), in SMD and in the outcome's own unit."""

from __future__ import annotations

import numpy as np
import pandas as pd

from premeta.convert import arm_sd
from premeta.effects import one_unit
from premeta.groups.common import attempt
from premeta.planning import assurance, next_experiment, t_power
from premeta.vocabulary import group_labels

#: Columns of :func:`next_experiments`.
NEXT_EXPERIMENT_COLUMNS = ["group", "k", "estimate", "se", "tau2", "smd", "unit", "sd_pooled", "effect_in_unit",
                           "alpha", "target", "n_power", "power_at_n_power", "assurance_at_n_power",
                           "assurance_limit", "n_assurance", "assurance_at_n_assurance", "comparisons_at_n_power",
                           "note"]


def _pooled_control_sd(rows: pd.DataFrame) -> float:
    """The pooled SD of the group's control arms, each control counted once (a shared control's
    repeated rows are one arm; an SD given as an SEM converted, :func:`premeta.convert.arm_sd`):
    :math:`\\sqrt{\\sum (n_c - 1) s_c^2 / \\sum (n_c - 1)}`."""
    if not {"ctl_mean", "ctl_n"} <= set(rows):  # precomputed effects: no arms
        return np.nan
    arms = rows.assign(ctl_sd=arm_sd(rows, "ctl")[0])[["study", "ctl_mean", "ctl_sd", "ctl_n"]].dropna()
    arms = arms.drop_duplicates()
    arms = arms[arms["ctl_n"] > 1]
    if arms.empty:
        return np.nan
    return float(np.sqrt(((arms["ctl_n"] - 1) * arms["ctl_sd"] ** 2).sum() / (arms["ctl_n"] - 1).sum()))


def next_experiments(effects: pd.DataFrame, primary: pd.DataFrame, group_by: str = "mechanism",
                     measure: str = "SMD", power: float = 0.8, alpha: float = 0.05) -> pd.DataFrame:
    """The animals per arm a confirmatory two-arm experiment needs in each group of the primary
    analysis (:func:`premeta.next_experiment` on each group's pooled estimate, its SE and its
    heterogeneity), with the effect in the outcome's own unit and how many included comparisons
    were that large.

    Parameters
    ----------
    effects : pandas.DataFrame
        The effect sizes as the workflow writes them (``effect_sizes.csv``): the arms' means, SDs and n.
    primary : pandas.DataFrame
        The primary analysis (``primary.csv``): one row per group, then the overall row (left out).
        Its heterogeneity is ``tau2``, or for the three-level model the sum of its two variance
        components (a new experiment is a new study: both apply).
    group_by, measure : str
        As the run's config. For ``SMD`` the estimate is the SMD to detect; for ``MD`` it is divided
        by the group's pooled control SD; another measure has no SD scale and keeps its row with the reason.
    power, alpha : float
        The target (of the power and the assurance) and the two-sided level of the new experiment's test.

    Returns
    -------
    pandas.DataFrame
        :data:`NEXT_EXPERIMENT_COLUMNS`, one row per group: ``unit`` (the group's one unit, or its
        one outcome; empty when they differ), ``sd_pooled`` (the pooled SD of its control arms,
        each counted once) and ``effect_in_unit`` (the SMD times that SD, in ``unit``: the difference
        the experiment is powered for), the columns of :func:`premeta.next_experiment`, and
        ``comparisons_at_n_power``: how many of the group's comparisons had at least ``n_power``
        animals in each arm.
    """
    rows = primary.iloc[:-1].reset_index(drop=True)
    tau2 = rows["tau2"].to_numpy(float)
    if {"sigma2_study", "sigma2_within"} <= set(rows):
        three = rows["sigma2_study"].notna().to_numpy()
        tau2 = np.where(three, rows["sigma2_study"].to_numpy(float) + rows["sigma2_within"].fillna(0).to_numpy(float),
                        tau2)
    of = group_labels(effects, group_by)
    by_group = {g: effects[of == g] for g in rows["group"]}
    sd = np.array([_pooled_control_sd(by_group[g]) for g in rows["group"]])
    units = [one_unit(by_group[g]) or "" for g in rows["group"]]
    one = np.array([bool(u) for u in units])
    scale = {"SMD": np.ones(len(rows)), "MD": sd}.get(measure)
    why = np.full(len(rows), "", dtype=object)
    if scale is None:
        why[:] = f"the next experiment is planned on an SMD or MD; {measure} has no SD scale"
        scale = np.ones(len(rows))
    bad = ~np.isfinite(scale) | (scale <= 0)
    why[bad & (why == "")] = "no control arm with an SD and n > 1 to scale the mean difference"
    if measure == "MD":  # an SD pooled over outcomes in different units scales nothing
        why[(why == "") & ~one] = "outcomes in different units: no one SD"
    fitted = rows["estimate"].notna().to_numpy() & rows["se"].notna().to_numpy()
    note = rows["note"].fillna("").astype(str) if "note" in rows else pd.Series("", index=rows.index)
    why[~fitted & (why == "")] = ["no pooled estimate to plan for" + (f" ({n})" if n else "")
                                  for n in note[~fitted & (why == "")]]
    ok = (why == "") & fitted
    out = pd.DataFrame({"group": rows["group"], "k": rows["k"], "estimate": rows["estimate"], "se": rows["se"],
                        "tau2": tau2, "note": why})
    if ok.any():
        plan, refused = attempt(next_experiment, rows["estimate"].to_numpy(float)[ok], rows["se"].to_numpy(float)[ok],
                                np.nan_to_num(tau2[ok]), power=power, alpha=alpha, groups=rows["group"][ok],
                                sd=scale[ok])
        if plan is None:  # no group has an effect to plan for (every estimate 0)
            out.loc[ok, "note"] = refused
        else:
            plan = plan.set_index("group")
            out = out.join(plan.drop(columns=["estimate", "se", "tau2", "sd", "note"]), on="group")
            out.loc[ok, "note"] = plan["note"].reindex(out.loc[ok, "group"]).to_numpy()
    out["unit"] = units
    out["sd_pooled"] = np.where(one, sd, np.nan)  # a pooled SD across units means nothing
    out["effect_in_unit"] = np.where(one, out.get("smd", np.nan) * sd, np.nan)
    n_power = out.get("n_power", pd.Series(np.nan, index=out.index))
    arms = {"trt_n", "ctl_n"} <= set(effects)  # precomputed effects give no group sizes
    out["comparisons_at_n_power"] = [
        int(((by_group[g]["trt_n"] >= n) & (by_group[g]["ctl_n"] >= n)).sum()) if arms and np.isfinite(n) else pd.NA
        for g, n in zip(out["group"], n_power.astype(float))]
    return out.reindex(columns=NEXT_EXPERIMENT_COLUMNS).astype({"comparisons_at_n_power": "Int64"})


def next_experiment_curves(table: pd.DataFrame, largest: int = 200) -> pd.DataFrame:
    """Power and assurance of each group of :func:`next_experiments` against n per arm, from 2 to
    the larger of twice ``n_power`` and ``n_assurance`` (at most ``largest``): ``group``, ``n``,
    ``power``, ``assurance`` (:func:`premeta.planning.t_power`, :func:`premeta.planning.assurance`)."""
    parts = []
    for r in table[table["n_power"].notna()].itertuples(index=False):
        top = int(min(largest, max(2 * r.n_power, r.n_assurance if np.isfinite(r.n_assurance) else 0, 10)))
        n = np.arange(2, top + 1)
        var = (r.se ** 2 + r.tau2) / (r.estimate / r.smd) ** 2  # of the SMD: the estimate's scale divided out
        parts.append(pd.DataFrame({"group": r.group, "n": n, "power": t_power(n, r.smd, r.alpha),
                                   "assurance": assurance(n, r.smd, var, r.alpha)}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["group", "n", "power", "assurance"])
