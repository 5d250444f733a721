"""Group summaries as papers report them, converted to the mean and SD an effect size needs.

* **SEM**: :math:`SD = SEM\\sqrt{n}` (Cochrane Handbook 6.5.2.2), done by
  :func:`arm_sd`.
* **95 % confidence interval of the mean** (:func:`sd_from_ci`): Cochrane Handbook 6.5.2.2.
* **Median with quartiles and/or range** (:func:`fivenum`): the mean of Luo et al. (2016), the SD
  of Wan et al. (2014) or, with all five numbers, of Shi et al. (2020), after the skewness test of
  Shi et al. (2023) (:func:`skewness`): what metafor's ``conv.fivenum(..., dist = "norm",
  test = TRUE)`` does (metafor >= 4.0). Only when the config asks (``convert_medians: true``): a
  median is often reported because the data are skewed.

The kinds of conversion, as ``effect_sizes.csv`` names them in its ``converted`` column
(:data:`KINDS`).
"""

from __future__ import annotations

import numpy as np

import pandas as pd

from premeta import distributions as dist

#: What each kind of conversion in ``converted`` (``arm:kind``, several joined by ``;``) means.
KINDS = {
    "sem": "SD = SEM * sqrt(n)",
    "ci": "SD from the 95% CI of the mean: sqrt(n) * (upper - lower) / (2 * t(0.975, n - 1))",
    "median_iqr": "mean and SD from the median and quartiles (Luo et al. 2016; Wan et al. 2014)",
    "median_range": "mean and SD from the median and range (Luo et al. 2016; Wan et al. 2014)",
    "median_iqr_range": "mean and SD from the median, quartiles and range (Luo et al. 2016; Shi et al. 2020)",
}
#: The smallest group whose five-number summary is converted: metafor's ``conv.fivenum`` leaves
#: groups of fewer than 5 out.
MIN_N_FIVENUM = 5


def sd_from_ci(lower, upper, n):
    """SD of a group from the 95 % confidence interval of its mean (Cochrane Handbook 6.5.2.2).

    :math:`SD = \\sqrt{n}\\,(upper - lower) / (2\\,t_{0.975,\\,n-1})`.

    The Handbook divides by 3.92 (:math:`2 \\times 1.96`) for large samples and, for small ones
    ("say less than 60 in each group"), by twice the t quantile with n - 1 degrees of freedom
    (its example: n = 25, t = 2.0639, divisor 4.128). Rodent groups are small, so the t quantile
    is always used here; it tends to 1.96 as n grows (1.98 at n = 100).

    Parameters
    ----------
    lower, upper : array_like
        The interval's bounds.
    n : array_like
        The group's size.

    Returns
    -------
    ndarray
        The SD.

    Notes
    -----
    metafor has no equivalent (``conv.wald`` converts intervals of effect sizes, not of group means).
    """
    n = np.asarray(n, dtype=float)
    width = np.asarray(upper, dtype=float) - np.asarray(lower, dtype=float)
    return np.sqrt(n) * width / (2 * -dist.t_isf(0.975, n - 1))


def xi(n):
    """Wan et al. (2014) eq. 9 denominator of the range: :math:`\\xi(n) = 2\\Phi^{-1}((n - 0.375)/(n + 0.25))`,
    the expected range of n standard normal values (Blom's approximation; their Table 1 lists the exact
    values, e.g. 3.078 for n = 10)."""
    n = np.asarray(n, dtype=float)
    return 2 * -dist.norm_isf((n - 0.375) / (n + 0.25))


def eta(n):
    """Wan et al. (2014) eq. 16 denominator of the interquartile range:
    :math:`\\eta(n) = 2\\Phi^{-1}((0.75n - 0.125)/(n + 0.25))`; 1.349 for large n (the Handbook's IQR / 1.35)."""
    n = np.asarray(n, dtype=float)
    return 2 * -dist.norm_isf((0.75 * n - 0.125) / (n + 0.25))


def skewness(n, median, q1=np.nan, q3=np.nan, minimum=np.nan, maximum=np.nan):
    """The skewness test of Shi et al. (2023) on a median with its quartiles and/or range.

    With the range (a, b) only: :math:`T_1 = |a + b - 2m| / (b - a)`, critical value
    :math:`1/\\ln(n + 9) + 2.5/(n + 1)`; with the quartiles only:
    :math:`T_2 = |q_1 + q_3 - 2m| / (q_3 - q_1)`, critical value :math:`2.65/\\sqrt{n} - 6/n^2`;
    with both: :math:`T_3 = \\max(2.65\\ln(0.6n)/\\sqrt{n} \\cdot T_1, T_2)`, critical value
    :math:`3/\\sqrt{n} - 40/n^3`. A statistic at or above its critical value rejects normality at
    the 5 % level: the data are too skewed for a mean and SD to describe them. As metafor's
    ``conv.fivenum(..., test = TRUE)`` (its ``tval`` and ``crit`` attributes).

    Returns
    -------
    statistic, critical : ndarray
        NaN where the row gives neither quartiles nor range.
    """
    n, m, a, b, lo, hi = (np.asarray(x, dtype=float) for x in (n, median, minimum, maximum, q1, q3))
    with np.errstate(divide="ignore", invalid="ignore"):
        t1, t2 = np.abs((a + b - 2 * m) / (b - a)), np.abs((lo + hi - 2 * m) / (hi - lo))
        both = ~np.isnan(t1) & ~np.isnan(t2)
        stat = np.where(both, np.maximum(2.65 * np.log(0.6 * n) / np.sqrt(n) * t1, t2), np.where(np.isnan(t1), t2, t1))
        crit = np.where(both, 3 / np.sqrt(n) - 40 / n**3,
                        np.where(np.isnan(t1), 2.65 / np.sqrt(n) - 6 / n**2, 1 / np.log(n + 9) + 2.5 / (n + 1)))
    return stat, np.where(np.isnan(stat), np.nan, crit)


def fivenum(n, median, q1=np.nan, q3=np.nan, minimum=np.nan, maximum=np.nan):
    """Mean and SD of a normal sample from its median with quartiles and/or range.

    Mean (Luo et al. 2016, eqs. 7, 11 and 15), with the range (a, b), the quartiles, or both:
    :math:`w(a + b)/2 + (1 - w)m` with :math:`w = 4/(4 + n^{0.75})`;
    :math:`w(q_1 + q_3)/2 + (1 - w)m` with :math:`w = 0.7 + 0.39/n`;
    :math:`w_1(a + b)/2 + w_2(q_1 + q_3)/2 + (1 - w_1 - w_2)m` with :math:`w_1 = 2.2/(2.2 + n^{0.75})`,
    :math:`w_2 = 0.7 - 0.72/n^{0.55}`.

    SD: :math:`(b - a)/\\xi(n)` (Wan et al. 2014 eq. 9, :func:`xi`); :math:`(q_3 - q_1)/\\eta(n)`
    (Wan et al. 2014 eq. 16, :func:`eta`); with all five numbers
    :math:`w(b - a)/\\xi(n) + (1 - w)(q_3 - q_1)/\\eta(n)`, :math:`w = 1/(1 + 0.07n^{0.6})`
    (Shi et al. 2020 eq. 10).

    metafor's equivalent is ``conv.fivenum(min, q1, median, q3, max, n, dist = "norm")`` (its
    default methods, metafor >= 4.0); it also leaves out groups of fewer than 5 and, with
    ``test = TRUE``, strongly skewed ones (:func:`skewness`), which :func:`premeta.sheet.validate`
    refuses before converting.

    Parameters
    ----------
    n, median : array_like
    q1, q3, minimum, maximum : array_like, optional
        NaN where not reported; a row needs both quartiles, or both ends of the range, or all four.

    Returns
    -------
    mean, sd : ndarray
        NaN where the row gives neither quartiles nor range.
    """
    n, m, a, b, lo, hi = (np.asarray(x, dtype=float) for x in (n, median, minimum, maximum, q1, q3))
    has_range, has_iqr = ~np.isnan(a + b), ~np.isnan(lo + hi)
    w_range = 4 / (4 + n**0.75)
    w_iqr = 0.7 + 0.39 / n
    w1, w2 = 2.2 / (2.2 + n**0.75), 0.7 - 0.72 / n**0.55
    mean = np.select([has_range & has_iqr, has_iqr, has_range],
                     [w1 * (a + b) / 2 + w2 * (lo + hi) / 2 + (1 - w1 - w2) * m,
                      w_iqr * (lo + hi) / 2 + (1 - w_iqr) * m,
                      w_range * (a + b) / 2 + (1 - w_range) * m], np.nan)
    w = 1 / (1 + 0.07 * n**0.6)
    sd = np.select([has_range & has_iqr, has_iqr, has_range],
                   [w * (b - a) / xi(n) + (1 - w) * (hi - lo) / eta(n), (hi - lo) / eta(n), (b - a) / xi(n)], np.nan)
    return mean, sd


def column(sheet: pd.DataFrame, name: str) -> pd.Series:
    """Column ``name`` as floats (text that is not a number as NaN; NaN where the column is absent)."""
    if name in sheet:
        return pd.to_numeric(sheet[name], errors="coerce").astype(float)
    return pd.Series(np.nan, index=sheet.index)


def arm_sd(sheet: pd.DataFrame, arm: str) -> tuple[pd.Series, pd.Series]:
    """SD of one arm, from ``{arm}_sd`` or else ``{arm}_sem * sqrt({arm}_n)``; and where SEM was used."""
    sd, sem, n = column(sheet, f"{arm}_sd"), column(sheet, f"{arm}_sem"), column(sheet, f"{arm}_n")
    from_sem = sd.isna() & sem.notna()
    return sd.where(~from_sem, sem * np.sqrt(n)), from_sem
