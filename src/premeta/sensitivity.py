"""Sensitivity analyses: leave-one-out meta-analyses and case-deletion influence diagnostics.

Both follow metafor 3.8's ``leave1out.rma.uni`` and ``influence.rma.uni`` (Viechtbauer and
Cheung 2010, *Res Synth Methods* 1:112-125) for a random-effects (or ``FE``) model without
moderators, and use metafor's column names. The k models that each omit one study are fitted
in a single call of :func:`premeta.models.fit`, as k strata of k - 1 rows (k(k - 1) rows in
all, about a million for k = 1,000), instead of metafor's loop of k calls of ``rma``.

:func:`leave1cluster` is leave-one-out for dependent effects: every row of one cluster (study)
dropped together, with robust variance estimation (robumeta) or the three-level model with CR2
inference (metafor ``rma.mv`` + clubSandwich).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from premeta import distributions as dist
from premeta.models import T_TESTS, Fit, fit
from premeta._shared import check


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
        As :func:`premeta.models.fit` (metafor's ``rma(method=, test=, level=)``); ``test``
        default ``"z"`` (metafor's default, and premeta's everywhere).
    slab : array-like of shape (k,), optional
        Study labels, the index of the result (default 1..k, as metafor).

    Returns
    -------
    pandas.DataFrame
        Row i is the model fitted to all studies but study i (metafor's names in brackets):
        ``estimate`` (``estimate``), ``se`` (``se``), ``stat`` (``zval``, or ``tval`` with a
        t test), ``df`` (t df, NaN for ``z``), ``p`` (``pval``), ``ci_low``, ``ci_high``
        (``ci.lb``, ``ci.ub``), ``q`` (``Q``: the heterogeneity statistic
        :math:`Q_{(-i)} = \\sum_{j\\ne i} (y_j-\\hat\\mu^{FE}_{(-i)})^2/v_j` on k - 2 df),
        ``q_p`` (``Qp``), ``tau2`` (left out for ``FE``, as metafor), ``i2`` (``I2``) and
        ``h2`` (``H2``). With k = 2 each refit has one study and, as metafor, q = 0, q_p = 1,
        tau2 = 0, i2 = 0 and h2 = 1.

    Examples
    --------
    >>> import premeta
    >>> yi = [0.1, 0.3, 0.35, 0.65, 0.45, 0.15, 0.8, 0.2]
    >>> vi = [0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.08, 0.04]
    >>> premeta.leave1out(yi, vi)[["estimate", "ci_low", "ci_high", "i2"]].round(4).head(3)
          estimate  ci_low  ci_high       i2
    slab
    1       0.4036  0.2197   0.5874  48.7644
    2       0.3722  0.1719   0.5725  56.6875
    3       0.3642  0.1691   0.5593  57.4632
    """
    yi, vi = check(yi, vi)
    t = _leave_out(yi, vi, method, test, level)[0].table()
    out = t[["estimate", "se", "stat", "df", "p", "ci_low", "ci_high", "q", "q_p", "tau2", "i2", "h2"]]
    out = out.set_index(_slab(slab, len(yi)))
    if len(yi) == 2:  # one-study refits: metafor's rma at k = 1 reports no heterogeneity as these
        out[["q", "q_p", "tau2", "i2", "h2"]] = [0.0, 1.0, 0.0, 0.0, 1.0]
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
    * ``cook_d`` (metafor ``cook.d``; Cook 1977), with the full model's V: :math:`(\\hat\\mu-\\hat\\mu_{(-i)})^2/V`;
    * ``cov_r`` (metafor ``cov.r``), covariance ratio: :math:`V_{(-i)}/V`;
    * ``tau2_del``, ``q_del`` (metafor ``tau2.del``, ``QE.del``): :math:`\\hat\\tau^2_{(-i)}` and the
      Q statistic without study i;
    * ``dfbs`` (DFBETAS): :math:`(\\hat\\mu-\\hat\\mu_{(-i)})/\\sqrt{s^2_{(-i)}/\\sum_{j=1}^k
      1/(v_j+\\hat\\tau^2_{(-i)})}`, the sum over *all* k studies as metafor;
    * ``inf``: ``"*"`` for an influential study by metafor's rule, any of
      :math:`|\\mathrm{dffits}| > 3\\sqrt{p/(k-p)}`, :math:`F_{\\chi^2_1}(\\mathrm{cook\\_d}) > 0.5`,
      :math:`h_i > 3p/k`, :math:`|\\mathrm{dfbs}| > 1` (p = 1), else ``""``.

    Parameters
    ----------
    yi, vi : array-like of shape (k,)
        Effect sizes and sampling variances (vi > 0), k >= 2.
    method, test
        As :func:`premeta.models.fit`; ``test`` default ``"z"`` (metafor's default, and premeta's everywhere).
    slab : array-like of shape (k,), optional
        Study labels, the index of the result (default 1..k).

    Returns
    -------
    pandas.DataFrame
        One row per study with the columns above, in that order: ``rstudent``, ``dffits``,
        ``cook_d``, ``cov_r``, ``tau2_del``, ``q_del``, ``hat``, ``weight``, ``dfbs``, ``inf``.

    Examples
    --------
    >>> import premeta
    >>> yi = [0.1, 0.3, 0.35, 0.65, 0.45, 0.15, 0.8, 0.2]
    >>> vi = [0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.08, 0.04]
    >>> inf = premeta.influence(yi, vi)
    >>> inf[["rstudent", "cook_d", "hat", "inf"]].round(4).iloc[2:5]
          rstudent  cook_d     hat inf
    slab
    3      -0.0454  0.0001  0.0992
    4       3.1120  1.1525  0.1956   *
    5       0.3122  0.0133  0.0992
    """
    yi, vi = check(yi, vi)
    k, p = len(yi), 1
    full: Fit = fit(yi, vi, method=method, test=test, confint=False)
    loo, i, j = _leave_out(yi, vi, method, test, 95)
    mu, V = full.beta[0, 0], full.vb[0, 0, 0]
    mu_del, V_del, tau2_del = loo.beta[:, 0], loo.vb[:, 0, 0], loo.tau2
    # sum of 1/(v_j + tau2_(-i)) over the k - 1 studies of fit i: V_(-i) = s2_(-i) / that sum
    sw_del = np.bincount(i, 1 / (vi[j] + tau2_del[i]), minlength=k)
    s2 = V_del * sw_del if test in T_TESTS else 1.0
    hat = full.weights / 100
    hat = np.where(hat > 1 - 10 * np.finfo(float).eps, 1.0, hat)
    resid = yi - mu_del
    resid = np.where(np.abs(resid) < 100 * np.finfo(float).eps, 0.0, resid)
    diff = mu - mu_del
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pd.DataFrame({
            "rstudent": resid / np.sqrt(s2 * (vi + tau2_del) + V_del),
            "dffits": diff / np.sqrt(s2 * hat * (vi + tau2_del)),
            "cook_d": diff**2 / V,
            "cov_r": V_del / V,
            "tau2_del": tau2_del,
            "q_del": loo.q if k > 2 else np.zeros(k),  # metafor: QE = 0 at k = 1
            "hat": hat,
            "weight": full.weights,
            "dfbs": diff / np.sqrt(s2 / (sw_del + 1 / (vi + tau2_del))),
        }, index=_slab(slab, k))
    flag = ((np.abs(out["dffits"]) > 3 * np.sqrt(p / (k - p)))
            | (dist.chi2_cdf(out["cook_d"], p) > 0.5)
            | (out["hat"] > 3 * p / k)
            | (np.abs(out["dfbs"]) > 1))
    out["inf"] = np.where(flag, "*", "")
    return out


LEAVE1CLUSTER_METHODS = ("rve", "multilevel")


def leave1cluster(yi, vi, cluster, method: str = "rve", rho: float = 0.8, small: bool = True,
                  level: float = 95) -> pd.DataFrame:
    """Leave-one-cluster-out: the model refitted without each cluster (study) in turn.

    All rows of cluster c are dropped together and the intercept-only model is refitted on the
    rest, once per cluster. ``method="rve"`` fits :func:`premeta.rve.rve` (robumeta
    ``robu(yi ~ 1, studynum = cluster, var.eff.size = vi, modelweights = "CORR", rho, small)``),
    as the ``make_loo_table`` of the open replication of Reis et al. (2019)
    (github.com/matheusglls/minocycline, ``meta_analyses_main_report.Rmd``).
    ``method="multilevel"`` fits :func:`premeta.multilevel.rma_mv` with ``cluster`` as the
    study and the row as the inner level (metafor ``rma.mv(yi, vi, random = ~ 1 | cluster/row)``,
    REML) and tests it with :func:`premeta.multilevel.robust` clustered by ``cluster``
    (clubSandwich ``coef_test(vcov = "CR2", test = "Satterthwaite")``); ``rho`` and ``small``
    are then not used.

    With :math:`\\hat\\mu` the estimate from all clusters and :math:`\\hat\\mu_{(-c)}` the one
    without cluster c, as the replication defines them:

    .. math:: \\Delta_c = \\hat\\mu_{(-c)} - \\hat\\mu,\\qquad
              \\%\\,\\text{change}_c = 100\\,\\Delta_c / |\\hat\\mu|,

    so a positive change means the estimate moves up without cluster c, whatever the sign of
    :math:`\\hat\\mu`.

    Parameters
    ----------
    yi, vi : array-like of shape (k,)
        Effect sizes and sampling variances (vi > 0).
    cluster : array-like of shape (k,)
        Cluster (study) of each effect; at least 3 clusters, so every refit has 2 or more.
    method : {"rve", "multilevel"}
        Model refitted (see above).
    rho : float
        Assumed within-cluster correlation of the CORR working model (``"rve"`` only).
    small : bool
        Tipton's small-sample correction (``"rve"`` only).
    level : float
        Confidence level in percent.

    Returns
    -------
    pandas.DataFrame
        One row per cluster, in order of first appearance (R ``unique``), indexed by the
        cluster label (``cluster``): ``k`` (rows remaining), ``estimate``, ``se``, ``stat``
        (t), ``df`` (Satterthwaite), ``p``, ``ci_low``, ``ci_high`` of the model without that
        cluster (robumeta ``b.r``, ``SE``, ``t``, ``dfs``, ``prob``, ``CI.L``, ``CI.U``),
        ``delta`` and ``pct_change`` as above. The full-data fit's estimate is in
        ``attrs["full_estimate"]``.

    Examples
    --------
    >>> import premeta
    >>> yi = [0.1, 0.3, 0.35, 0.65, 0.45, 0.15, 0.8, 0.2]
    >>> vi = [0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.08, 0.04]
    >>> study = ["s1", "s1", "s2", "s2", "s3", "s3", "s4", "s4"]
    >>> premeta.leave1cluster(yi, vi, study)[["k", "estimate", "ci_low", "ci_high", "delta"]].round(4)
             k  estimate  ci_low  ci_high   delta
    cluster
    s1       6    0.4287  0.1158   0.7417  0.0643
    s2       6    0.3121 -0.0388   0.6630 -0.0523
    s3       6    0.3892 -0.0859   0.8644  0.0248
    s4       6    0.3344 -0.0603   0.7291 -0.0300
    """
    from premeta.multilevel import rma_mv, robust
    from premeta.rve import rve

    method = str(method).lower()
    if method not in LEAVE1CLUSTER_METHODS:
        raise ValueError(f"method must be one of {LEAVE1CLUSTER_METHODS}, got {method!r}")
    yi, vi = check(yi, vi)
    cluster = np.asarray(cluster, dtype=object)
    if cluster.shape != yi.shape or pd.isna(cluster).any():
        raise ValueError("cluster must have one non-missing value per effect")
    codes, labels = pd.factorize(pd.Series(cluster))
    if len(labels) < 3:
        raise ValueError(f"leave-one-cluster-out needs at least 3 clusters, got {len(labels)}")

    def one(m):
        if method == "rve":
            f = rve(yi[m], vi[m], codes[m], model="CORR", rho=rho, small=small, level=level)
        else:
            f = robust(rma_mv(yi[m], vi[m], codes[m], level=level), level=level)
        return tuple(f.table().iloc[0, 1:])

    full = one(np.ones(len(yi), dtype=bool))[0]
    out = pd.DataFrame([(int(np.sum(codes != c)),) + tuple(one(codes != c)) for c in range(len(labels))],
                       columns=["k", "estimate", "se", "stat", "df", "p", "ci_low", "ci_high"],
                       index=pd.Index(list(labels), name="cluster"))
    out["delta"] = out["estimate"] - full
    out["pct_change"] = 100 * out["delta"] / abs(full)
    out.attrs["full_estimate"] = float(full)
    return out
