"""Within-study contrasts: the difference between two kinds of animals tested under one design.

Sex as a biological variable (Clayton and Collins 2014, *Nature* 509:282-283): a study that tested
males and females under the same design gives, for that design, the difference of the two effects,
free of the between-study confounding (strain, lab, protocol) that a ``sex`` moderator carries.
:func:`sex_of` reads the sheet's ``sex`` column, :func:`sex_pairs` matches the male and female
comparisons of one design, :func:`pool_contrasts` pools the differences across studies. metafor has
no function for the matching; the pooling is ``aggregate.escalc`` then ``rma``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from premeta._shared import check, factor
from premeta.errors import NotComputable
from premeta.models import fit

#: The four ways a sheet reports the sex of a comparison's animals, in the order of the tables.
SEXES = ("male", "female", "both", "not reported")
#: The words :func:`sex_of` reads (lower case, blanks squeezed) as each sex; a missing cell is "not reported".
SEX_WORDS = {
    "male": ("m", "male", "males", "man", "men"),
    "female": ("f", "female", "females", "woman", "women"),
    "both": ("both", "mixed", "mixed sex", "mixed-sex", "m+f", "f+m", "m/f", "f/m", "m&f", "f&m", "mf", "fm",
             "male and female", "female and male", "males and females", "females and males",
             "male/female", "female/male", "male+female", "female+male"),
    "not reported": ("nr", "n/r", "not reported", "not stated", "unknown", "unclear", "?", "na", "n/a"),
}
_WORD = {w: sex for sex, words in SEX_WORDS.items() for w in words}


def sex_of(values) -> pd.Series:
    """The sex of each comparison's animals, read from the sheet's ``sex`` column.

    Parameters
    ----------
    values : array-like or pandas.Series
        The ``sex`` cells, as written (text; missing where empty).

    Returns
    -------
    pandas.Series
        One of :data:`SEXES` per cell (``male``, ``female``, ``both`` for mixed-sex groups,
        ``not reported`` for an empty cell or a word saying so), or missing (``None``) where the
        cell holds a word :data:`SEX_WORDS` does not know, which the caller reports. Case and
        surrounding blanks do not matter (``M``, ``Male ``, ``males`` are all ``male``).

    Examples
    --------
    >>> from premeta.contrasts import sex_of
    >>> sex_of(["m", "Female", "both", None, "intersex"]).tolist()
    ['male', 'female', 'both', 'not reported', None]

    Notes
    -----
    metafor has no equivalent: it is how premeta reads the column (its words: :data:`SEX_WORDS`).
    """
    s = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    text = ["" if pd.isna(v) else " ".join(str(v).lower().split()) for v in s]
    return pd.Series(["not reported" if t == "" else _WORD.get(t) for t in text], index=s.index, dtype=object)


def sex_pairs(effects: pd.DataFrame, keys) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The male and female comparisons of one design, matched: one within-study difference each.

    The matching rule: rows with the same value in every column of ``keys`` (a missing value
    matches a missing value) form a *design*; a design holding exactly one male and one female
    comparison (:func:`sex_of`) gives a pair, and its difference
    :math:`y_i = y_{m} - y_{f}`, :math:`v_i = v_{m} + v_{f}`: the two comparisons use different
    animals (males and females are separate groups), so their sampling errors are independent and
    the variances add. A design with several comparisons of one sex and at least one of the other
    is *ambiguous* (which male goes with which female the sheet does not say: name the column that
    tells them apart in ``keys``) and gives no pair; it is counted in ``unpaired``.

    Parameters
    ----------
    effects : pandas.DataFrame
        Effect sizes (``yi``, ``vi``), a ``sex`` column and the ``keys`` columns, as
        :func:`premeta.escalc` gives them; its index names the rows.
    keys : list of str
        The columns a male and a female comparison must share, the study first (the workflow:
        ``study``, ``outcome``, ``group_by``, ``time`` where the sheet has it, and the config's
        ``sex_match``).

    Returns
    -------
    pairs : pandas.DataFrame
        One row per pair, in the order of the sheet: the ``keys``, ``row_male``, ``row_female``
        (the index of each), ``yi_male``, ``vi_male``, ``yi_female``, ``vi_female``, ``yi``, ``vi``.
    unpaired : pandas.DataFrame
        One row per ambiguous design: the ``keys``, ``males``, ``females`` (how many of each).

    Examples
    --------
    >>> import pandas as pd
    >>> from premeta.contrasts import sex_pairs
    >>> effects = pd.DataFrame({"study": ["a", "a", "b", "b", "b"], "sex": ["m", "f", "m", "m", "f"],
    ...                         "yi": [0.9, 0.5, 1.0, 1.2, 0.4], "vi": [0.1, 0.2, 0.1, 0.1, 0.1]})
    >>> pairs, unpaired = sex_pairs(effects, ["study"])
    >>> pairs[["study", "row_male", "row_female", "yi", "vi"]].round(4)
      study  row_male  row_female   yi   vi
    0     a         0           1  0.4  0.3
    >>> unpaired
      study  males  females
    0     b      2        1

    Notes
    -----
    metafor has no equivalent. In R: ``d <- merge(males, females, by = keys)`` on the designs
    with one row of each sex, then ``yi = yi.x - yi.y``, ``vi = vi.x + vi.y``.
    """
    keys = list(keys)
    missing = [c for c in [*keys, "sex", "yi", "vi"] if c not in effects]
    if missing:
        raise ValueError(f"sex_pairs needs the columns {', '.join(missing)}")
    sex = sex_of(effects["sex"]).to_numpy(object)
    kept = np.isin(sex, ("male", "female"))
    ms = effects[kept]
    is_male = sex[kept] == "male"
    # one code per design, in order of first appearance; a missing value matches a missing value
    codes = ms.groupby(keys, dropna=False, sort=False).ngroup().to_numpy() if len(ms) else np.zeros(0, int)
    designs = codes.max(initial=-1) + 1
    males = np.bincount(codes, is_male, minlength=designs).astype(int)
    females = np.bincount(codes, ~is_male, minlength=designs).astype(int)
    one = ((males == 1) & (females == 1))[codes]
    m, f = (ms[one & side].iloc[np.argsort(codes[one & side], kind="stable")] for side in (is_male, ~is_male))
    ym, vm = m["yi"].to_numpy(float), m["vi"].to_numpy(float)
    yf, vf = f["yi"].to_numpy(float), f["vi"].to_numpy(float)
    pairs = m[keys].reset_index(drop=True).assign(
        row_male=m.index.to_numpy(), row_female=f.index.to_numpy(), yi_male=ym, vi_male=vm, yi_female=yf,
        vi_female=vf, yi=ym - yf, vi=vm + vf)
    ambiguous = np.flatnonzero((males >= 1) & (females >= 1) & ((males > 1) | (females > 1)))
    first = np.unique(codes, return_index=True)[1]
    unpaired = ms[keys].iloc[first[ambiguous]].reset_index(drop=True).assign(
        males=males[ambiguous], females=females[ambiguous])
    return pairs, unpaired


def pool_contrasts(yi, vi, study, groups=None, rho: float = 0.5, method: str = "REML", test: str = "z",
                   level: float = 95) -> pd.DataFrame:
    """Within-study contrasts pooled across studies: one contrast per study, then a random-effects model.

    A study may give several contrasts in a stratum (several outcomes measured in the same
    animals); they are first combined into one per study and stratum, the GLS mean under a
    constant correlation ``rho`` of their sampling errors (:func:`premeta.aggregate`):

    .. math:: y_s = \\frac{1'V_s^{-1}y}{1'V_s^{-1}1},\\quad v_s = \\frac{1}{1'V_s^{-1}1},\\quad
              V_s = S(\\rho J + (1-\\rho)I)S,

    and the study contrasts are pooled by :func:`premeta.models.fit` (``method``, ``test``), every
    stratum in one call.

    Parameters
    ----------
    yi, vi : array-like of shape (N,)
        The contrasts (e.g. :func:`sex_pairs`' ``yi``, ``vi``: male minus female) and their variances.
    study : array-like of shape (N,)
        The study of each contrast.
    groups : array-like of shape (N,), optional
        Stratum of each contrast; None: one stratum, ``overall``.
    rho : float
        Correlation of the sampling errors of one study's contrasts within a stratum.
    method, test, level
        As :func:`premeta.models.fit`; ``test`` default ``"z"`` (metafor's default).

    Returns
    -------
    pandas.DataFrame
        One row per stratum (sorted): ``group``, ``k`` (studies pooled), ``pairs`` (contrasts
        before combining), then the columns of :func:`premeta.rma` from ``method`` on
        (``estimate``, ``se``, ``stat``, ``df``, ``p``, ``ci_low``, ``ci_high``, ``tau2``, ``i2``,
        ``q``, ``q_p``...). ``estimate`` is the mean within-study difference.

    Raises
    ------
    NotComputable
        Fewer than two studies in every stratum (nothing to pool); a stratum of one study among
        others has NaN and says so in ``note``.

    Examples
    --------
    >>> from premeta.contrasts import pool_contrasts
    >>> yi = [0.4, 0.2, -0.1, 0.3, 0.5]
    >>> vi = [0.3, 0.2, 0.25, 0.3, 0.2]
    >>> study = ["a", "a", "b", "c", "d"]
    >>> pool_contrasts(yi, vi, study, rho=0.5)[["group", "k", "pairs", "estimate", "se", "tau2"]].round(4)
         group  k  pairs  estimate      se  tau2
    0  overall  4      5    0.2543  0.2357   0.0

    Notes
    -----
    metafor: ``agg <- aggregate(escalc(yi = yi, vi = vi, data = d), cluster = study, rho = rho,
    struct = "CS")`` in each stratum, then ``rma(yi, vi, data = agg, method = method, test = test)``.
    """
    yi, vi = check(yi, vi)
    study = np.asarray(study, dtype=object)
    if study.shape != yi.shape:
        raise ValueError("study must have one value per contrast")
    gid, labels = (np.zeros(len(yi), dtype=np.intp), ["overall"]) if groups is None else factor(groups)
    codes, cells = pd.factorize(pd.Series(list(zip(gid.tolist(), study.tolist())), dtype=object))
    n = np.bincount(codes)
    if not 1 > rho > -1 / max(n.max(initial=1) - 1, 1):
        raise NotComputable(f"rho = {rho} does not give a positive-definite covariance in every study")
    a = 1 / np.sqrt(vi)
    sa, shrink = np.bincount(codes, a), rho / (1 + (n - 1) * rho)
    one_w_one = (np.bincount(codes, a**2) - shrink * sa**2) / (1 - rho)
    one_w_y = (np.bincount(codes, a**2 * yi) - shrink * sa * np.bincount(codes, a * yi)) / (1 - rho)
    cell_group = np.array([c[0] for c in cells], dtype=np.intp)
    studies = np.bincount(cell_group, minlength=len(labels))
    pairs = np.bincount(gid, minlength=len(labels))
    ok = studies[cell_group] >= 2
    if not ok.any():
        raise NotComputable("fewer than 2 studies tested both sexes under the same design: nothing to pool")
    f = fit((one_w_y / one_w_one)[ok], (1 / one_w_one)[ok], cell_group[ok], method=method, test=test, level=level)
    table = f.table().set_index("group").reindex(range(len(labels)))
    table["k"] = studies
    table.insert(table.columns.get_loc("k") + 1, "pairs", pairs)
    one_study = studies < 2
    table.loc[one_study, "note"] = [f"1 study ({plural_pairs(p)}): a within-study difference, nothing to pool"
                                    for p in pairs[one_study]]
    table.loc[one_study, ["method", "test"]] = method, test
    return table.reset_index(drop=True).assign(group=labels)[["group", *table.columns]]


def plural_pairs(n: int) -> str:
    """``"1 pair"``, ``"3 pairs"``."""
    return f"{n} pair" + ("" if n == 1 else "s")
