"""Tail probabilities and quantiles of the normal, t, chi-squared and F distributions.

Each is the ``scipy.special`` function that ``scipy.stats`` itself evaluates (``norm.sf`` is
``ndtr(-x)``, ``t.isf`` is ``-stdtrit(df, q)``, ``chi2.ppf`` is ``2 gammaincinv(df/2, p)``...),
so the numbers are the same to the last bit, without importing ``scipy.stats``: that import
costs about 0.3 s, paid again by every job of the workflow. As in ``scipy.stats``, a degree of
freedom that is not positive (or NaN) gives NaN.
"""

from __future__ import annotations

import numpy as np
from scipy import special


def _where_df(value, *dfs):
    ok = np.ones((), bool)
    for df in dfs:
        ok = ok & (np.asarray(df, float) > 0)
    return np.where(ok, value, np.nan)[()]


def norm_sf(x):
    """Upper tail of the standard normal, :math:`1 - \\Phi(x)` (``scipy.stats.norm.sf``)."""
    return special.ndtr(-np.asarray(x, float))[()]


def norm_isf(q):
    """Standard normal quantile with upper tail ``q``, :math:`\\Phi^{-1}(1 - q)` (``norm.isf``)."""
    return (-special.ndtri(q))[()]


def t_sf(x, df):
    """Upper tail of Student's t with ``df`` degrees of freedom (``scipy.stats.t.sf``)."""
    df = np.asarray(df, float)
    return _where_df(special.stdtr(np.where(df > 0, df, 1.0), -np.asarray(x, float)), df)


def t_isf(q, df):
    """Quantile of Student's t with upper tail ``q`` (``scipy.stats.t.isf``)."""
    df = np.asarray(df, float)
    return _where_df(-special.stdtrit(np.where(df > 0, df, 1.0), q), df)


def chi2_sf(x, df):
    """Upper tail of the chi-squared distribution (``scipy.stats.chi2.sf``)."""
    df = np.asarray(df, float)
    return _where_df(special.chdtrc(np.where(df > 0, df, 1.0), x), df)


def chi2_cdf(x, df):
    """Lower tail of the chi-squared distribution (``scipy.stats.chi2.cdf``)."""
    df = np.asarray(df, float)
    return _where_df(special.chdtr(np.where(df > 0, df, 1.0), x), df)


def chi2_isf(q, df):
    """Chi-squared quantile with upper tail ``q`` (``scipy.stats.chi2.isf``)."""
    df = np.asarray(df, float)
    return _where_df(special.chdtri(np.where(df > 0, df, 1.0), q), df)


def chi2_ppf(p, df):
    """Chi-squared quantile with lower tail ``p`` (``scipy.stats.chi2.ppf``)."""
    df = np.asarray(df, float)
    return _where_df(2 * special.gammaincinv(np.where(df > 0, df, 1.0) / 2, p), df)


def f_sf(x, dfn, dfd):
    """Upper tail of the F distribution (``scipy.stats.f.sf``)."""
    dfn, dfd = np.asarray(dfn, float), np.asarray(dfd, float)
    return _where_df(special.fdtrc(np.where(dfn > 0, dfn, 1.0), np.where(dfd > 0, dfd, 1.0), x), dfn, dfd)
