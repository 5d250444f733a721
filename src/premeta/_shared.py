"""Internal helpers shared by the model modules (``models``, ``multilevel``, ``robumeta``,
``regression``, ``sensitivity``, ``bias``): checking effects, coding strata and building model
matrices as R does. Not public API: the public forms are :func:`premeta.design` and
:func:`premeta.models.moderators`."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype, is_numeric_dtype

from premeta.errors import NotComputable
from premeta.vocabulary import label_order

#: Columns of every fit's coefficient table (:func:`coef_table`).
COEF_COLUMNS = ["term", "estimate", "se", "stat", "df", "p", "ci_low", "ci_high"]


def check(yi, vi, rows=None) -> tuple[np.ndarray, np.ndarray]:
    """``yi`` and ``vi`` as float arrays, or :class:`NotComputable` naming the rows (``rows``: their
    labels) where an effect or its variance is missing, not finite or ``vi <= 0``."""
    yi = np.asarray(yi, dtype=float)
    vi = np.asarray(vi, dtype=float)
    if yi.shape != vi.shape or yi.ndim != 1:
        raise ValueError(f"yi and vi must be 1-D and of equal length, got {yi.shape} and {vi.shape}")
    rows = np.arange(len(yi)) if rows is None else np.asarray(rows)
    bad = []
    for name, mask in (
        ("yi is missing or not finite", ~np.isfinite(yi)),
        ("vi is missing or not finite", ~np.isfinite(vi)),
        ("vi <= 0", np.isfinite(vi) & (vi <= 0)),
    ):
        if mask.any():
            bad.append(f"{name} in rows {', '.join(map(str, rows[mask]))}")
    if bad:
        raise NotComputable("cannot fit the model: " + "; ".join(bad))
    return yi, vi

def factor(groups) -> tuple[np.ndarray, list]:
    """Stratum codes and their labels, in :func:`premeta.vocabulary.label_order`."""
    if isinstance(groups, np.ndarray) and groups.dtype.kind in "iu":  # stacked fits number their strata
        uniq, codes = np.unique(groups, return_inverse=True)
        return codes.reshape(-1).astype(np.intp), uniq.tolist()
    values = np.empty(len(groups), dtype=object)
    values[:] = list(groups)  # tuples stay whole: a stratum may be labelled by several keys
    series = pd.Series(values)
    if series.isna().any():
        raise ValueError(f"groups are missing in rows {', '.join(map(str, np.flatnonzero(series.isna())))}")
    try:
        codes, uniq = pd.factorize(series, sort=True)
    except TypeError:  # labels of mixed types: sort them as text
        codes, uniq = pd.factorize(series.astype(str), sort=True)
    order = label_order(uniq)  # numbers by value (vocabulary.label_order)
    position = {v: i for i, v in enumerate(order)}
    return np.array([position[v] for v in uniq], dtype=np.intp)[codes], order

def r_sort_key(level: str) -> tuple[str, str]:
    """Order of R's ``sort``/``factor`` for text under ICU collation (R's default in UTF-8
    locales): case-insensitive, lower case before upper case on ties."""
    return level.casefold(), level.swapcase()

def design_terms(mods: pd.DataFrame):
    """Model matrix without intercept, term names, and per moderator (name, kind, columns, reference)."""
    blocks, names, terms = [], [], []
    for col in mods.columns:
        s = mods[col].reset_index(drop=True)
        name, j = str(col), len(names)
        if infer_dtype(s, skipna=True) == "boolean":  # bool, or True/False with missing values
            blocks.append(s.astype("boolean").astype("Float64").to_numpy(dtype=float, na_value=np.nan)[:, None])
            names.append(f"{name}TRUE")
            terms.append((name, "numeric", [j], None))
        elif is_numeric_dtype(s):
            blocks.append(s.to_numpy(dtype=float, na_value=np.nan)[:, None])
            names.append(name)
            terms.append((name, "numeric", [j], None))
        else:
            if isinstance(s.dtype, pd.CategoricalDtype):
                levels = [str(c) for c in s.cat.categories]
            else:
                levels = sorted(s.dropna().astype(str).unique(), key=r_sort_key)
            text = s.astype(object).map(lambda x: x if pd.isna(x) else str(x)).to_numpy()
            dummies = (text[:, None] == np.array(levels[1:], dtype=object)[None, :]).astype(float)
            dummies[pd.isna(text)] = np.nan
            blocks.append(dummies)
            names += [f"{name}{lv}" for lv in levels[1:]]
            terms.append((name, "factor", list(range(j, j + len(levels) - 1)),
                          levels[0] if levels else None))
    X = np.column_stack(blocks) if blocks else np.empty((len(mods), 0))
    return X, names, terms


def coef_table(fit) -> pd.DataFrame:
    """One row per coefficient of a fit (``MultilevelFit``, ``RobustTest``, ``RVEFit``): :data:`COEF_COLUMNS`,
    from the attributes every fit has (``terms``, ``beta``, ``se``, ``stat``, ``df``, ``p``, ``ci_low``,
    ``ci_high``)."""
    return pd.DataFrame({"term": list(fit.terms), "estimate": fit.beta, "se": fit.se, "stat": fit.stat,
                         "df": fit.df, "p": fit.p, "ci_low": fit.ci_low, "ci_high": fit.ci_high})


def tau2_step(t, score, info, slope, idx, lo, hi, pos0, active, tol):
    """One safeguarded step of the tau2 iteration of the strata ``idx`` (:func:`premeta.models.fit`
    and GOSH's dense REML rows share it): Newton on the score where it stays inside the bracket
    [lo, hi] that the score's sign has narrowed, else Fisher scoring, else bisection; a step below
    0 lands on 0 once (``pos0``: the stratum has been pushed to 0 before). ``lo``, ``hi``, ``pos0``
    and ``active`` are updated in place at ``idx``; a stratum stays active while its tau2 moves by
    more than ``tol`` (relative above 1). Returns the new tau2 at ``idx`` and which were active."""
    act, up = active[idx], score > 0
    l_, h_ = np.where(up, t, lo[idx]), np.where(up, hi[idx], t)
    p0 = pos0[idx] | (up & (t == 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        newton = np.where(slope < 0, t - score / slope, np.nan)
        fisher = t + np.nan_to_num(score / info)
    new = np.where((newton > l_) & (newton < h_), newton, fisher)
    new = np.where(new < l_, np.where((l_ == 0) & ~p0, 0.0, (l_ + h_) / 2), new)
    new = np.where(new > h_, (l_ + h_) / 2, new)
    new = np.where(act, new, t)
    lo[idx], hi[idx], pos0[idx] = np.where(act, l_, lo[idx]), np.where(act, h_, hi[idx]), p0
    active[idx] = act & (np.abs(new - t) > tol * np.maximum(1.0, t)) & ~((t == 0) & ~up)
    return new, act
