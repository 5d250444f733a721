"""Sensitivity analyses: leave-one-out and cumulative meta-analyses, case-deletion influence
diagnostics and GOSH.

Both follow metafor 3.8's ``leave1out.rma.uni`` and ``influence.rma.uni`` (Viechtbauer and
Cheung 2010, *Res Synth Methods* 1:112-125) for a random-effects (or ``FE``) model without
moderators, and use metafor's column names. The k models that each omit one study are fitted
in a single call of :func:`premeta.models.fit`, as k strata of k - 1 rows (k(k - 1) rows in
all, about a million for k = 1,000), instead of metafor's loop of k calls of ``rma``; so are the
k steps of a cumulative meta-analysis (:func:`cumul`, metafor ``cumul.rma.uni``).

:func:`leave1cluster` is leave-one-out for dependent effects: every row of one cluster (study)
dropped together, with robust variance estimation (robumeta) or the three-level model with CR2
inference (metafor ``rma.mv`` + clubSandwich).

**GOSH** (:func:`gosh`, :class:`Gosh`): the model fitted to every subset of the studies (Olkin,
Dahabreh & Trikalinos 2012). A graphical display of study heterogeneity (GOSH) refits the meta-analysis to all
:math:`2^k - 1` non-empty subsets of the k studies (or to a random sample of them when there
are too many) and plots the pooled estimate against I² for every subset: clusters in that
cloud, and studies whose presence moves a subset from one cluster to another, point to
heterogeneity that one outlier or a subgroup of studies carries. The numbers are those of
metafor 3.8's ``gosh.rma`` (Viechtbauer 2010, *J Stat Softw* 36(3)) with its column names
``k``, ``q``, ``i2``, ``h2``, ``tau2`` and ``estimate`` (metafor's ``k``, ``QE``, ``I2``, ``H2``, ``tau2``,
``estimate``).

metafor loops over the subsets, one ``rma`` call each. Here the subsets are a boolean
membership matrix ``incl`` (subsets by studies), processed in chunks of bounded size:

* ``FE`` and ``DL`` in closed form over the chunk as a matrix, with no loop over subsets:
  :math:`\\hat\\mu_{FE} = \\sum_i m_i w_i y_i / \\sum_i m_i w_i` with :math:`w_i = 1/v_i` and
  :math:`m_i` the membership of study i, :math:`Q = \\sum_i m_i w_i (y_i - \\hat\\mu_{FE})^2`,
  :math:`\\hat\\tau^2_{DL} = \\max\\{0, (Q - (k-1)) / (\\sum m w - \\sum m w^2 / \\sum m w)\\}`
  and the DL estimate with weights :math:`1/(v_i + \\hat\\tau^2)`.
* ``REML``: the subsets of each size together, as dense (subsets x size) arrays of their
  studies' yi and vi, every sum of the REML iteration a row sum (:func:`_reml_rows`: the start,
  steps and ``ll0check`` of :func:`premeta.models.fit`, to 1e-15 the same numbers); data that
  ``fit`` would rescale (a vi outside [2^-64, 2^64]) and the other iterative estimators as one
  stacked call of :func:`premeta.models.fit` per chunk, every subset a stratum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from premeta import distributions as dist
from premeta._shared import check, factor, tau2_step
from premeta.deprecation import deprecated_alias
from premeta.errors import NotComputable
from premeta.models import METHODS, T_TESTS, Fit, fit
from premeta.multilevel import rma_mv, robust
from premeta.robumeta import rve


def _leave_out(yi: np.ndarray, vi: np.ndarray, method: str, test: str, level: float):
    """The k fits that each omit one study, and the stratum and study of each stacked row.

    Stacked row r belongs to fit ``i = r // (k-1)`` and holds study ``j = r % (k-1)``, shifted
    by one from ``i`` on, so fit i has every study but i, in their original order.
    """
    k = len(yi)
    if k < 2:
        raise NotComputable("leave-one-out needs at least 2 studies (metafor: 'Stopped because k = 1')")
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


def cumul(yi, vi, order, groups=None, method: str = "REML", test: str = "z", level: float = 95,
          slab=None) -> pd.DataFrame:
    """Cumulative meta-analysis: the model refitted as the comparisons are added one at a time.

    Within each stratum the comparisons are sorted by ``order`` (ties kept in input order, as
    R's ``order``), and step j is the model of the first j of them (Lau et al. 1992, *N Engl J
    Med* 327:248). With ``order`` the publication year, it shows when the evidence became
    conclusive and whether early, small studies set an effect later ones shrink (a time-lag or
    decline effect). It reads as a sequence of repeated tests: a step's p is not adjusted for
    the looks before it, and a trend over the order may be confounded with anything else that
    changed over time.

    metafor: ``cumul(rma(yi, vi, method=, test=, level=), order = order)``, per stratum. Every
    step of every stratum is one stratum of a single :func:`premeta.models.fit` call (its rows
    repeated: k(k + 1)/2 rows for a stratum of k comparisons), instead of metafor's loop.

    Parameters
    ----------
    yi, vi : array-like of shape (N,)
        Effect sizes and sampling variances.
    order : array-like of shape (N,)
        The value the comparisons are sorted by (e.g. the year), ascending; numbers or text.
    groups : array-like of shape (N,), optional
        Stratum of each row; None: one stratum, ``overall``.
    method, test, level
        As :func:`premeta.models.fit` (metafor ``rma(method=, test=, level=)``); ``test``
        default ``"z"`` (metafor's default, and premeta's everywhere).
    slab : array-like of shape (N,), optional
        Label of each comparison (default 1..N in input order, as metafor).

    Returns
    -------
    pandas.DataFrame
        One row per step, strata in sorted order, steps in ``order`` (metafor's names in
        brackets): ``group``, ``order`` and ``slab`` of the comparison added at the step,
        ``k`` (comparisons so far), ``estimate``, ``se``, ``stat`` (``zval``, or ``tval``),
        ``df`` (NaN for z), ``p`` (``pvals``), ``ci_low``, ``ci_high`` (``ci.lb``, ``ci.ub``),
        ``q``, ``q_p`` (``Q``, ``Qp``), ``tau2`` (left out for ``FE``, as metafor), ``i2``
        (``I2``), ``h2`` (``H2``), ``note``. The first step has one comparison: its own
        estimate with a z interval and, as metafor, q = 0, q_p = 1, tau2 = 0, i2 = 0, h2 = 1.

    Examples
    --------
    >>> import premeta
    >>> yi = [0.1, 0.3, 0.35, 0.65, 0.45, 0.15, 0.8, 0.2]
    >>> vi = [0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.08, 0.04]
    >>> year = [2001, 1999, 2005, 2003, 2010, 2008, 2012, 2004]
    >>> premeta.cumul(yi, vi, year)[["order", "slab", "k", "estimate", "p", "tau2"]].round(4)
       order  slab  k  estimate       p    tau2
    0   1999     2  1    0.3000  0.0833  0.0000
    1   2001     1  2    0.2000  0.1025  0.0000
    2   2003     4  3    0.3748  0.0270  0.0639
    3   2004     8  4    0.3428  0.0119  0.0485
    4   2005     3  5    0.3497  0.0023  0.0365
    5   2008     6  6    0.3131  0.0020  0.0343
    6   2010     5  7    0.3300  0.0003  0.0292
    7   2012     7  8    0.3633  0.0001  0.0311
    """
    yi, vi = check(yi, vi)
    n = len(yi)
    order = pd.Series(list(order) if not isinstance(order, pd.Series) else order.to_numpy())
    if len(order) != n:
        raise ValueError(f"order must have one value per comparison ({n}), got {len(order)}")
    if order.isna().any():
        raise ValueError(f"order is missing in rows {', '.join(map(str, np.flatnonzero(order.isna())))}")
    labels_slab = np.arange(1, n + 1) if slab is None else np.asarray(list(slab), dtype=object)
    if len(labels_slab) != n:
        raise ValueError(f"slab must have one label per comparison ({n}), got {len(labels_slab)}")
    gid, labels = (np.zeros(n, dtype=np.intp), ["overall"]) if groups is None else factor(groups)
    key = pd.factorize(order, sort=True)[0]
    s = np.lexsort((key, gid))  # by stratum, then order; ties in input order
    g_sorted = gid[s]
    first = np.r_[0, np.flatnonzero(np.diff(g_sorted)) + 1]  # where each stratum starts in s
    start = np.repeat(first, np.diff(np.r_[first, n]))  # the stratum's start, per sorted row
    counts = np.arange(n) - start + 1  # step i holds sorted rows start[i]..i
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    rows = s[np.repeat(start, counts) + offsets]
    step = np.repeat(np.arange(n), counts)
    f = fit(yi[rows], vi[rows], groups=step, method=method, test=test, level=level, confint=False)
    t = f.table()
    out = pd.DataFrame({"group": [labels[g] for g in g_sorted], "order": order.to_numpy()[s],
                        "slab": labels_slab[s], "k": t["k"].to_numpy()})
    cols = ["estimate", "se", "stat", "df", "p", "ci_low", "ci_high", "q", "q_p", "tau2", "i2", "h2"]
    out[cols] = t[cols].to_numpy()
    one = out["k"].to_numpy() == 1  # metafor's rma at k = 1 reports no heterogeneity as these
    out.loc[one, ["q", "q_p", "tau2", "i2", "h2"]] = [0.0, 1.0, 0.0, 0.0, 1.0]
    out["note"] = np.where(one, "", t["note"].to_numpy())
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
    mu, V = full.beta[0, 0], full.vcov[0, 0, 0]
    mu_del, V_del, tau2_del = loo.beta[:, 0], loo.vcov[:, 0, 0], loo.tau2
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
    rest, once per cluster. ``method="rve"`` fits :func:`premeta.rve` (robumeta
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
    method = str(method).lower()
    if method not in LEAVE1CLUSTER_METHODS:
        raise ValueError(f"method must be one of {LEAVE1CLUSTER_METHODS}, got {method!r}")
    yi, vi = check(yi, vi)
    cluster = np.asarray(cluster, dtype=object)
    if cluster.shape != yi.shape or pd.isna(cluster).any():
        raise ValueError("cluster must have one non-missing value per effect")
    codes, labels = pd.factorize(pd.Series(cluster))
    if len(labels) < 3:
        raise NotComputable(f"leave-one-cluster-out needs at least 3 clusters, got {len(labels)}")

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


#: Columns of :attr:`Gosh.res`, metafor's ``gosh(...)$res``.
GOSH_FIT_COLUMNS = ["k", "q", "i2", "h2", "tau2", "estimate"]
#: metafor's names of the same columns (``gosh()$res``).
METAFOR = dict(zip(GOSH_FIT_COLUMNS, ["k", "QE", "I2", "H2", "tau2", "estimate"]))
#: Membership cells (subsets x studies) fitted at a time: beyond the result, memory is about 120
#: bytes per cell of one chunk (30 MB), whatever the number of subsets (benchmarks/bench_gosh.py).
CHUNK_CELLS = 2**18


@dataclass(frozen=True)
class Gosh:
    """The fits to subsets of the studies, as metafor's ``gosh.rma`` object.

    Attributes
    ----------
    res : pandas.DataFrame
        One row per subset: ``k`` (studies in the subset), ``q`` (metafor ``QE``)
        (Cochran's Q), ``I2`` and ``H2`` (in %, and the ratio), ``tau2`` (0 for ``FE``) and
        ``estimate`` (the pooled effect). A subset of one study has its own yi, QE = 0,
        I2 = 0, H2 = 1 and tau2 = 0, as metafor.
    incl : numpy.ndarray of bool, shape (len(res), k)
        Membership: ``incl[s, i]`` is True when study i is in subset s (metafor's ``incl``).
    method : str
        The estimator of tau2.
    sampling : str
        How the subsets were chosen: ``"all"`` (every non-empty subset), ``"random"`` (a seeded
        random sample) or ``"given"`` (the ``incl`` passed in). ``subsets``, its name in premeta
        0.2, is deprecated: :func:`gosh`'s ``subsets`` is the number of subsets, as metafor's.
    """

    res: pd.DataFrame
    incl: np.ndarray
    method: str
    sampling: str

    subsets = deprecated_alias("sampling", "Gosh.subsets")

    @property
    def k(self) -> int:
        """Number of studies."""
        return self.incl.shape[1]


def _membership(k: int, subsets: int, seed) -> tuple[np.ndarray, str]:
    """Every non-empty subset in metafor's order, or ``subsets`` random ones, ordered by size.

    metafor lists all subsets as ``expand.grid`` does (study 1 fastest: subset code c holds
    study i when bit i of c is set) and orders them by size, keeping that order within a size.
    A random subset holds each study with probability 1/2, drawn again when empty (metafor
    draws the size from the same binomial distribution, truncated at 1, then the studies).
    """
    if 2**k - 1 <= subsets:
        codes = np.arange(1, 2**k, dtype=np.int64)
        incl = np.empty((codes.size, k), dtype=bool)
        for i in range(k):  # column by column: no (subsets x k) integer temporary
            incl[:, i] = (codes >> i) & 1
        kind = "all"
    else:
        rng = np.random.default_rng(seed)
        incl = rng.integers(0, 2, size=(subsets, k), dtype=bool)
        while (empty := ~incl.any(axis=1)).any():
            incl[empty] = rng.integers(0, 2, size=(int(empty.sum()), k), dtype=bool)
        kind = "random"
    order = np.argsort(incl.sum(axis=1), kind="stable")
    return incl[order], kind


def _closed_form(y: np.ndarray, v: np.ndarray, m: np.ndarray, method: str) -> np.ndarray:
    """FE or DL fits of the subsets of one chunk (rows of the 0/1 matrix ``m``), columns as GOSH_FIT_COLUMNS.

    Sums over the studies are ``einsum`` products, not BLAS: the same subset gets the same bits in
    a chunk of any size. metafor's fast path of ``gosh`` for models without moderators: for a subset of one study,
    QE = 0, I2 = 0, H2 = 1 and tau2 = 0; otherwise I2 = max(0, 100 (QE - (k-1)) / QE) and
    H2 = QE / (k-1) with either method (for DL the same as 100 tau2 / (vt + tau2) where tau2 > 0).
    """
    w = 1 / v
    kk = m.sum(axis=1)
    W = m * w
    sw = W.sum(axis=1)
    est = np.einsum("sk,k->s", W, y) / sw
    Q = np.einsum("sk,sk->s", W, (y - est[:, None]) ** 2)
    many = kk > 1
    df = np.where(many, kk - 1, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        I2 = np.where(many, np.maximum(0, 100 * (Q - df) / Q), 0.0)
    H2 = np.where(many, Q / df, 1.0)
    Q = np.where(many, Q, 0.0)
    tau2 = np.zeros_like(Q)
    if method == "DL":
        trP = sw - np.einsum("sk,k->s", m, w**2) / sw
        with np.errstate(divide="ignore", invalid="ignore"):
            tau2 = np.where(many, np.maximum(0, (Q - df) / trP), 0.0)
        Wr = m / (v + tau2[:, None])
        est = np.einsum("sk,k->s", Wr, y) / Wr.sum(axis=1)
    return np.column_stack([kk, Q, I2, H2, tau2, est])


def _stacked(y: np.ndarray, v: np.ndarray, m: np.ndarray, method: str, tol: float, maxiter: int) -> np.ndarray:
    """Fits of the subsets of one chunk as one call of :func:`premeta.models.fit`, subsets as strata."""
    s, i = np.nonzero(m)
    f = fit(y[i], v[i], groups=s, method=method, confint=False, tol=tol, maxiter=maxiter)
    kk = f.k.astype(float)
    one = kk == 1
    out = np.column_stack([kk, f.q, f.i2, f.h2, f.tau2, f.beta[:, 0]])
    out[one, 1:5] = [0.0, 0.0, 1.0, 0.0]
    return out


def _plain(y: np.ndarray, v: np.ndarray) -> bool:
    """Whether no subset of these studies needs :func:`premeta.models.fit`'s rescaling or refusal.

    With every vi in [2^-64, 2^64] the typical vi of any subset is too, so ``fit`` fits it as it
    is (no power-of-two rescaling), and no vi nor squared deviation of yi is beyond 1e80.
    """
    return bool(np.all((v >= 2.0**-64) & (v <= 2.0**64)) and np.isfinite(y).all()
                and (y.max() - y.min()) ** 2 <= 1e80)


def _reml(y: np.ndarray, v: np.ndarray, incl: np.ndarray, tol: float, maxiter: int, chunk: int) -> np.ndarray:
    """REML fits of the subsets (rows of the boolean ``incl``), columns as GOSH_FIT_COLUMNS.

    The subsets of each size are fitted together, at most ``chunk`` cells at a time, as dense
    (subsets x size) arrays of their studies' yi and vi (:func:`_reml_rows`); each row's arithmetic
    depends on that row alone, so a subset gets the same bits in a chunk of any size. A subset of
    one study is its own yi, QE = 0, I2 = 0, H2 = 1 and tau2 = 0, as metafor.
    """
    k = incl.shape[1]
    size = np.count_nonzero(incl, axis=1)
    out = np.empty((len(incl), len(GOSH_FIT_COLUMNS)))
    for kk in np.unique(size):
        rows = np.flatnonzero(size == kk)
        step = max(1, chunk // kk)
        for a in range(0, rows.size, step):
            r = rows[a:a + step]
            cols = (np.flatnonzero(incl[r]) % k).reshape(r.size, kk)
            if kk == 1:
                out[r] = np.column_stack([np.ones(r.size), np.zeros((r.size, 2)), np.ones(r.size),
                                          np.zeros(r.size), y[cols[:, 0]]])
            else:
                out[r] = _reml_rows(y[cols], v[cols], tol, maxiter)
    return out


class _Rows:
    """Work arrays of :func:`_reml_rows`, reused by every evaluation: the weights
    :math:`w = 1/(v + \\tau^2)`, their sum, the weighted mean, residuals r, u = w r and a spare."""

    def __init__(self, shape: tuple[int, int]):
        self.W, self.R, self.U, self.T = (np.empty(shape) for _ in range(4))

    def at(self, Y: np.ndarray, V: np.ndarray, t: np.ndarray):
        n = len(Y)
        W, R, U = self.W[:n], self.R[:n], self.U[:n]
        np.add(V, t[:, None], out=W)
        np.reciprocal(W, out=W)
        sw = W.sum(axis=1)
        beta = np.vecdot(W, Y) / sw
        np.subtract(Y, beta[:, None], out=R)
        np.multiply(W, R, out=U)
        return W, sw, beta, R, U


def _log_sum(X: np.ndarray) -> np.ndarray:
    """Row sums of log(X), as the logs of products of at most 15 values (a log is costlier than a product).

    Every value lies in [2^-64, 2^65] here (:func:`_plain`, tau2 below 2^64), so no product of 15
    leaves the normal range of doubles; rounding adds about 1e-14 to the sum.
    """
    starts = np.arange(0, X.shape[1], 15)
    prod = np.multiply.reduceat(X, starts, axis=1) if starts.size > 1 else np.prod(X, axis=1, keepdims=True)
    return np.log(prod).sum(axis=1)


def _reml_rows(Y: np.ndarray, V: np.ndarray, tol: float, maxiter: int) -> np.ndarray:
    """REML fits of subsets of k >= 2 studies each, one per row of Y and V (shape (n, k)).

    The same estimator, start and steps as :func:`premeta.models.fit` (``method="REML"``,
    intercept only): from the Hedges estimate, the safeguarded Newton / Fisher scoring / bisection
    iteration on the REML score :math:`y'PPy - \\mathrm{tr}(P)`, then metafor's ``ll0check``.
    With p = 1 every term is a row sum: :math:`P = W - ww'/\\sum w`, so
    :math:`\\mathrm{tr}(P) = \\sum w - \\sum w^2/\\sum w`,
    :math:`\\mathrm{tr}(PP) = \\sum w^2 - 2\\sum w^3/\\sum w + (\\sum w^2/\\sum w)^2`,
    :math:`y'PPy = \\sum w^2 r^2` and :math:`y'PPPy = \\sum w^3 r^2 - (\\sum w^2 r)^2/\\sum w`
    with r the residuals from the weighted mean: vectorised over rows instead of per-stratum
    ``reduceat`` over stacked rows, which is what makes GOSH's million REML fits fast.
    """
    n, k = Y.shape
    work = _Rows(Y.shape)
    # Hedges (HE) start: OLS residuals, tr(P V) = sum v - sum v / k
    R0 = np.subtract(Y, (Y.sum(axis=1) / k)[:, None], out=work.R)
    sv = V.sum(axis=1)
    tau2 = np.maximum((np.vecdot(R0, R0) - (sv - sv / k)) / (k - 1), 0)
    lo, hi = np.zeros(n), np.full(n, np.inf)
    pos0 = np.zeros(n, dtype=bool)  # the score at 0 is known to be positive
    active = np.ones(n, dtype=bool)
    idx, Ys, Vs = np.arange(n), Y, V  # the rows still iterating
    for _ in range(maxiter):
        if not active.any():
            break
        if active.sum() < idx.size / 2:  # drop converged rows from the arithmetic
            keep = active[idx]
            idx, Ys, Vs = idx[keep], Ys[keep], Vs[keep]
        t = tau2[idx]
        W, sw, _, _, U = work.at(Ys, Vs, t)
        T = work.T[:len(idx)]
        sw2 = np.vecdot(W, W)
        info = sw2 - 2 * np.vecdot(np.multiply(W, W, out=T), W) / sw + (sw2 / sw) ** 2
        score = np.vecdot(U, U) - (sw - sw2 / sw)
        xu = np.vecdot(W, U)
        slope = info - 2 * (np.vecdot(W, np.multiply(U, U, out=T)) - xu * xu / sw)
        new, _ = tau2_step(t, score, info, slope, idx, lo, hi, pos0, active, tol)
        tau2[idx] = new
    # metafor's ll0check: a fit whose restricted likelihood is below that at tau2 = 0 is moved to 0
    pos = np.flatnonzero(tau2 > tol)
    if pos.size:
        Yp, Vp, t = Y[pos], V[pos], tau2[pos]
        blocked = bool(np.all(t < 2.0**64))
        ll = []
        for tt in (np.zeros(pos.size), t):
            _, sw, _, R, U = work.at(Yp, Vp, tt)
            X = np.add(Vp, tt[:, None], out=work.T[:pos.size])
            logs = _log_sum(X) if blocked else np.log(X).sum(axis=1)
            ll.append(-0.5 * logs - 0.5 * np.vecdot(U, R) - 0.5 * (k - 1) * np.log(2 * np.pi) - 0.5 * np.log(sw))
        tau2[pos] = np.where(ll[0] - ll[1] > 1e-10, 0.0, t)
    beta = work.at(Y, V, tau2)[2]
    W, sw, _, R, U = work.at(Y, V, np.zeros(n))  # the common-effect fit: QE and the typical vi
    q = np.maximum(np.vecdot(U, R), 0)
    vt = (k - 1) / (sw - np.vecdot(W, W) / sw)
    return np.column_stack([np.full(n, float(k)), q, 100 * tau2 / (vt + tau2), tau2 / vt + 1, tau2, beta])


def gosh(yi, vi, method: str = "REML", subsets: int | None = None, seed=None, incl=None,
         tol: float = 1e-10, maxiter: int = 1000, chunk: int = CHUNK_CELLS) -> Gosh:
    """Fit the meta-analysis to subsets of the studies: metafor's ``gosh(rma(yi, vi, method=))``.

    Parameters
    ----------
    yi, vi : array-like of shape (k,)
        Effect sizes and sampling variances (vi > 0), k >= 2.
    method : {"FE", "DL", "REML", ...}
        tau2 estimator (any of :data:`premeta.models.METHODS`); ``FE`` and ``DL`` are
        computed in closed form, the others by stacked iterative fits.
    subsets : int, optional
        Every one of the :math:`2^k - 1` non-empty subsets when that many are at most
        ``subsets`` (default 10^6, as metafor), else ``subsets`` random subsets.
    seed : int or numpy.random.Generator, optional
        Seed of the random subsets (``numpy.random.default_rng(seed)``).
    incl : array-like of bool, shape (n, k), optional
        The subsets to fit, one row each (e.g. metafor's ``gosh(...)$incl``); overrides
        ``subsets``. Every row must hold at least one study.
    tol, maxiter
        Convergence of the iterative estimators, as :func:`premeta.models.fit`.
    chunk : int
        Cells fitted at a time: subsets x k (for REML, subsets x their size); bounds the memory.

    Returns
    -------
    Gosh
        ``res`` (columns ``k``, ``q``, ``i2``, ``h2``, ``tau2``, ``estimate``: metafor's ``k``, ``QE``, ``I2``,
        ``H2``, ``tau2``, ``estimate``; one row per subset) and the membership matrix ``incl``.

    Notes
    -----
    For FE, :math:`I^2 = \\max\\{0, 100(Q-(k-1))/Q\\}` and :math:`H^2 = Q/(k-1)`; for DL the
    same, as metafor's ``gosh`` computes them (so H2 may be below 1 where tau2 = 0); for REML,
    those of ``rma``: :math:`I^2 = 100\\hat\\tau^2/(\\tilde v + \\hat\\tau^2)`,
    :math:`H^2 = \\hat\\tau^2/\\tilde v + 1` with the typical within-study variance
    :math:`\\tilde v = (k-1)/(\\sum w - \\sum w^2/\\sum w)` (Higgins & Thompson 2002).
    Olkin I, Dahabreh IJ, Trikalinos TA (2012). GOSH - a graphical display of study
    heterogeneity. *Res Synth Methods* 3(3):214-223.

    Examples
    --------
    >>> import premeta
    >>> g = premeta.gosh([0.1, 0.5, 0.9], [0.04, 0.05, 0.06], method="FE")
    >>> g.sampling, g.incl.shape
    ('all', (7, 3))
    >>> g.res.round(3).iloc[-1].to_dict()
    {'k': 3.0, 'q': 6.486, 'i2': 69.167, 'h2': 3.243, 'tau2': 0.0, 'estimate': 0.446}
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    y, v = check(yi, vi)
    k = len(y)
    if k < 2:
        raise NotComputable(f"GOSH needs at least 2 studies, got k = {k} (metafor: 'Stopped because k = 1')")
    if incl is not None:
        incl = np.asarray(incl, dtype=bool)
        if incl.ndim != 2 or incl.shape[1] != k:
            raise ValueError(f"incl must have one column per study ({k}), got shape {incl.shape}")
        if (empty := np.flatnonzero(~incl.any(axis=1))).size:
            raise ValueError(f"incl rows {', '.join(map(str, empty[:10]))} hold no study")
        kind = "given"
    else:
        subsets = 10**6 if subsets is None else int(subsets)
        if subsets < 2:
            raise ValueError(f"subsets must be >= 2 (as metafor), got {subsets}")
        incl, kind = _membership(k, subsets, seed)
    if method == "REML" and _plain(y, v):
        out = _reml(y, v, incl, tol, maxiter, chunk)
    else:
        step = max(1, chunk // k)
        out = np.empty((len(incl), len(GOSH_FIT_COLUMNS)))
        for a in range(0, len(incl), step):
            m = incl[a:a + step]
            out[a:a + step] = (_closed_form(y, v, m.astype(float), method) if method in ("FE", "DL")
                               else _stacked(y, v, m, method, tol, maxiter))
    res = pd.DataFrame(out, columns=GOSH_FIT_COLUMNS).astype({"k": int})
    return Gosh(res=res, incl=incl, method=method, sampling=kind)
