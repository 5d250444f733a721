"""Sensitivity analyses: leave-one-out meta-analyses and case-deletion influence diagnostics.

Both follow metafor 3.8's ``leave1out.rma.uni`` and ``influence.rma.uni`` (Viechtbauer and
Cheung 2010, *Res Synth Methods* 1:112-125) for a random-effects (or ``FE``) model without
moderators, and use metafor's column names. The k models that each omit one study are fitted
in a single call of :func:`premeta.models.fit`, as k strata of k - 1 rows (k(k - 1) rows in
all, about a million for k = 1,000), instead of metafor's loop of k calls of ``rma``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from premeta.models import Fit, _check, fit


def _leave_out(yi: np.ndarray, vi: np.ndarray, method: str, test: str, level: float):
    """The k fits that each omit one study, and the stratum and study of each stacked row.

    Stacked row r belongs to fit ``i = r // (k-1)`` and holds study ``j = r % (k-1)``, shifted
    by one from ``i`` on, so fit i has every study but i, in their original order.
    """
    k = len(yi)
    if k < 2:
        raise ValueError("leave-one-out needs at least 2 studies (metafor: 'Stopped because k = 1')")
    i, j = np.divmod(np.arange(k * (k - 1)), k - 1)
    j += j >= i
    return fit(yi[j], vi[j], groups=i, method=method, test=test, level=level, confint=False), i, j


def _slab(slab, k: int) -> pd.Index:
    return pd.Index(np.arange(1, k + 1) if slab is None else list(slab), name="slab")


def leave1out(yi, vi, method: str = "REML", test: str = "z", level: float = 95,
              slab=None) -> pd.DataFrame:
    """Leave-one-out meta-analyses: the model refitted k times, each time without one study.

    Parameters
    ----------
    yi, vi : array-like of shape (k,)
        Effect sizes and sampling variances (vi > 0), k >= 2.
    method, test, level
        As :func:`premeta.models.fit` (metafor's ``rma(method=, test=, level=)``).
    slab : array-like of shape (k,), optional
        Study labels, the index of the result (default 1..k, as metafor).

    Returns
    -------
    pandas.DataFrame
        Row i is the model fitted to all studies but study i, with metafor's
        ``leave1out(rma(...))`` columns: ``estimate``, ``se``, ``zval`` (``tval`` with
        ``test="knha"``), ``pval``, ``ci.lb``, ``ci.ub``, ``Q`` (the heterogeneity statistic
        :math:`Q_{(-i)} = \\sum_{j\\ne i} (y_j-\\hat\\mu^{FE}_{(-i)})^2/v_j` on k - 2 df),
        ``Qp``, ``tau2`` (left out for ``FE``, as metafor), ``I2`` and ``H2``. With k = 2 each
        refit has one study and, as metafor, Q = 0, Qp = 1, tau2 = 0, I2 = 0 and H2 = 1.
    """
    yi, vi = _check(yi, vi)
    t = _leave_out(yi, vi, method, test, level)[0].table()
    out = pd.DataFrame(
        {"estimate": t.estimate, "se": t.se, "tval" if test == "knha" else "zval": t.stat,
         "pval": t.p, "ci.lb": t.ci_low, "ci.ub": t.ci_high, "Q": t.q, "Qp": t.q_p,
         "tau2": t.tau2, "I2": t.i2, "H2": t.h2}
    ).set_index(_slab(slab, len(yi)))
    if len(yi) == 2:  # one-study refits: metafor's rma at k = 1 reports no heterogeneity as these
        out[["Q", "Qp", "tau2", "I2", "H2"]] = [0.0, 1.0, 0.0, 0.0, 1.0]
    return out.drop(columns="tau2") if method == "FE" else out


def influence(yi, vi, method: str = "REML", test: str = "z", slab=None) -> pd.DataFrame:
    """Case-deletion outlier and influence diagnostics, as metafor's ``influence(rma(...))``.

    With :math:`\\hat\\mu, V = \\mathrm{Var}(\\hat\\mu)` and :math:`w_j = 1/(v_j+\\hat\\tau^2)`
    from the full model, and :math:`\\hat\\mu_{(-i)}, V_{(-i)}, \\hat\\tau^2_{(-i)}, s^2_{(-i)}`
    from the model without study i (:math:`s^2` is the Knapp-Hartung factor
    :math:`Q(\\hat\\tau^2)/(k-2)` with ``test="knha"``, else 1):

    * ``rstudent``, externally studentized residual (metafor ``rstudent.rma.uni``):
      :math:`(y_i-\\hat\\mu_{(-i)})/\\sqrt{s^2_{(-i)}(v_i+\\hat\\tau^2_{(-i)}) + V_{(-i)}}`,
      the numerator set to 0 below :math:`100\\epsilon`;
    * ``hat``: diagonal of :math:`H = X(X'WX)^{-1}X'W`, here :math:`w_i/\\sum_j w_j`
      (values above :math:`1-10\\epsilon` set to 1), and ``weight`` = 100 ``hat`` (percent);
    * ``dffits`` (Belsley, Kuh and Welsch 1980):
      :math:`(\\hat\\mu-\\hat\\mu_{(-i)})/\\sqrt{s^2_{(-i)}\\,h_i(v_i+\\hat\\tau^2_{(-i)})}`;
    * ``cook.d`` (Cook 1977), with the full model's V: :math:`(\\hat\\mu-\\hat\\mu_{(-i)})^2/V`;
    * ``cov.r``, covariance ratio: :math:`V_{(-i)}/V`;
    * ``tau2.del``, ``QE.del``: :math:`\\hat\\tau^2_{(-i)}` and the Q statistic without study i;
    * ``dfbs`` (DFBETAS): :math:`(\\hat\\mu-\\hat\\mu_{(-i)})/\\sqrt{s^2_{(-i)}/\\sum_{j=1}^k
      1/(v_j+\\hat\\tau^2_{(-i)})}`, the sum over *all* k studies as metafor;
    * ``inf``: ``"*"`` for an influential study by metafor's rule, any of
      :math:`|\\mathrm{dffits}| > 3\\sqrt{p/(k-p)}`, :math:`F_{\\chi^2_1}(\\mathrm{cook.d}) > 0.5`,
      :math:`h_i > 3p/k`, :math:`|\\mathrm{dfbs}| > 1` (p = 1), else ``""``.

    Parameters
    ----------
    yi, vi : array-like of shape (k,)
        Effect sizes and sampling variances (vi > 0), k >= 2.
    method, test
        As :func:`premeta.models.fit`.
    slab : array-like of shape (k,), optional
        Study labels, the index of the result (default 1..k).

    Returns
    -------
    pandas.DataFrame
        One row per study with the columns above, in that order: ``rstudent``, ``dffits``,
        ``cook.d``, ``cov.r``, ``tau2.del``, ``QE.del``, ``hat``, ``weight``, ``dfbs``, ``inf``.
    """
    yi, vi = _check(yi, vi)
    k, p = len(yi), 1
    full: Fit = fit(yi, vi, method=method, test=test, confint=False)
    loo, i, j = _leave_out(yi, vi, method, test, 95)
    mu, V = full.beta[0, 0], full.vb[0, 0, 0]
    mu_del, V_del, tau2_del = loo.beta[:, 0], loo.vb[:, 0, 0], loo.tau2
    # sum of 1/(v_j + tau2_(-i)) over the k - 1 studies of fit i: V_(-i) = s2_(-i) / that sum
    sw_del = np.bincount(i, 1 / (vi[j] + tau2_del[i]), minlength=k)
    s2 = V_del * sw_del if test == "knha" else 1.0
    hat = full.weights / 100
    hat = np.where(hat > 1 - 10 * np.finfo(float).eps, 1.0, hat)
    resid = yi - mu_del
    resid = np.where(np.abs(resid) < 100 * np.finfo(float).eps, 0.0, resid)
    diff = mu - mu_del
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pd.DataFrame({
            "rstudent": resid / np.sqrt(s2 * (vi + tau2_del) + V_del),
            "dffits": diff / np.sqrt(s2 * hat * (vi + tau2_del)),
            "cook.d": diff**2 / V,
            "cov.r": V_del / V,
            "tau2.del": tau2_del,
            "QE.del": loo.QE if k > 2 else np.zeros(k),  # metafor: QE = 0 at k = 1
            "hat": hat,
            "weight": full.weights,
            "dfbs": diff / np.sqrt(s2 / (sw_del + 1 / (vi + tau2_del))),
        }, index=_slab(slab, k))
    flag = ((np.abs(out["dffits"]) > 3 * np.sqrt(p / (k - p)))
            | (stats.chi2.cdf(out["cook.d"], p) > 0.5)
            | (out["hat"] > 3 * p / k)
            | (np.abs(out["dfbs"]) > 1))
    out["inf"] = np.where(flag, "*", "")
    return out
