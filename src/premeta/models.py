"""Common-effect and random-effects models, fitted for many strata in one call.

Every quantity follows metafor's definitions (Viechtbauer 2010, *J Stat Softw* 36(3);
``rma.uni``, ``confint.rma.uni`` and ``predict.rma`` of metafor 3.8) and its argument values
(``yi``, ``vi``, methods ``FE``, ``DL``, ``HE``, ``SJ``, ``PM``, ``EB``, ``ML``, ``REML``, tests
``z``, ``knha``, ``adhoc``); results carry premeta's one vocabulary (``q`` for metafor's ``QE``,
``i2`` for ``I2``...), each docstring naming metafor's.

The model for stratum *g* with moderators ``X`` (an intercept for a plain meta-analysis) is

.. math:: y_i = x_i'\\beta_g + u_i + e_i,\\quad u_i\\sim N(0,\\tau_g^2),\\quad e_i\\sim N(0,v_i).

All strata are stacked into flat arrays and every per-stratum sum is a ``numpy.bincount``,
so memory is linear in the number of rows and no k-by-k matrix is ever formed. The traces
that metafor computes from the k-by-k matrix :math:`P = W - WX(X'WX)^{-1}X'W` are
obtained from p-by-p matrices instead, e.g.
:math:`\\mathrm{tr}(PD_1PD_2) = \\sum w^2d_1d_2 - 2\\,\\mathrm{tr}(A^{-1}X'W^3D_1D_2X)
+ \\mathrm{tr}(A^{-1}C_1A^{-1}C_2)` with :math:`A = X'WX`, :math:`C_j = X'W^2D_jX`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from premeta import distributions as dist
from premeta._shared import check, design_terms, factor, tau2_step
from premeta.deprecation import deprecated_alias, warn_renamed

METHODS = ("FE", "DL", "HE", "SJ", "PM", "EB", "ML", "REML")
TESTS = ("z", "knha", "adhoc")
#: Tests with a t (or F) reference distribution on k - p degrees of freedom.
T_TESTS = ("knha", "adhoc")
#: Columns of :meth:`Fit.table` (and of ``pooled.csv``, with the group's counts).
POOLED_COLUMNS = [
    "group", "k", "method", "test", "estimate", "se", "ci_low", "ci_high", "stat", "df", "p",
    "pi_low", "pi_high", "tau2", "tau2_se", "tau2_ci_low", "tau2_ci_high", "i2", "i2_ci_low",
    "i2_ci_high", "h2", "q", "q_df", "q_p", "converged", "iterations", "note",
]


def design(mods: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Model matrix of the moderators, without the intercept column, as R's ``model.matrix``.

    This is how metafor codes ``mods = ~ a + b`` (``rma``, ``rma.mv``) and robumeta a formula;
    every premeta function taking ``mods`` as a DataFrame uses it.

    Parameters
    ----------
    mods : pandas.DataFrame
        One column per moderator, used in the frame's column order:

        * numeric column: itself, named as the column;
        * boolean column: 0/1, named ``<column>TRUE`` (R codes a logical as the factor
          ``FALSE < TRUE``);
        * text or categorical column: treatment (dummy) coding, one column per level but
          the first, named ``<column><level>``. Levels are a categorical's categories, or the
          sorted distinct values of a text column, sorted as R's ``factor`` does in a UTF-8
          locale (ICU collation: case-insensitive, lower case first on ties); the first
          level is the reference.

    Returns
    -------
    X : numpy.ndarray of shape (N, q)
        Missing moderator values give NaN in every column of that moderator.
    names : list of str
        Term names, as the column names of ``model.matrix(~ a + b)`` without ``(Intercept)``.

    Examples
    --------
    >>> import pandas as pd
    >>> from premeta import design
    >>> X, names = design(pd.DataFrame({"dose": [1.0, 2.0, 3.0], "sex": ["m", "f", "m"]}))
    >>> names
    ['dose', 'sexm']
    >>> X
    array([[1., 1.],
           [2., 0.],
           [3., 1.]])
    """
    X, names, _ = design_terms(mods)
    return X, names


def moderators(mods, n: int) -> tuple[np.ndarray, list[str]]:
    """``mods`` as a float matrix of n rows without the intercept, and its term names.

    A DataFrame is coded by :func:`design` (text and categorical columns dummy-coded, first
    level the reference, as metafor's formula interface); an array-like (one moderator, or
    one column per moderator) is used as it is, its columns named ``X1``, ``X2``, ...
    """
    if isinstance(mods, pd.DataFrame):
        X, names = design(mods)
    else:
        X = np.asarray(mods, dtype=float).reshape(n, -1)
        names = [f"X{j + 1}" for j in range(X.shape[1])]
    if X.shape[0] != n:
        raise ValueError(f"mods must have one row per effect ({n}), got {X.shape[0]}")
    return X, names


@dataclass(frozen=True)
class _Data:
    """Stacked strata: row i belongs to stratum ``gid[i]`` of ``G``; rows sorted by stratum."""

    y: np.ndarray
    v: np.ndarray
    X: np.ndarray
    gid: np.ndarray
    G: int

    def __post_init__(self):
        starts = np.flatnonzero(np.r_[True, self.gid[1:] != self.gid[:-1]])
        if np.any(np.diff(self.gid) < 0) or len(starts) != self.G:
            raise ValueError("rows must be sorted by stratum and every stratum non-empty")
        object.__setattr__(self, "starts", starts)
        # products of moderator columns, reused by every cross(); None for an intercept column
        p = self.X.shape[1]
        xx = {(a, b): None if np.all(self.X[:, a] * self.X[:, b] == 1) else self.X[:, a] * self.X[:, b]
              for a in range(p) for b in range(a, p)}
        object.__setattr__(self, "xx", xx)

    def seg(self, x: np.ndarray) -> np.ndarray:
        """Per-stratum sum of a row quantity."""
        return np.add.reduceat(np.broadcast_to(x, self.gid.shape), self.starts)

    def cross(self, d: np.ndarray) -> np.ndarray:
        """Per-stratum ``X' diag(d) X`` as an array of shape (G, p, p)."""
        p = self.X.shape[1]
        out = np.empty((self.G, p, p))
        for (a, b), xx in self.xx.items():
            out[:, a, b] = out[:, b, a] = self.seg(d if xx is None else d * xx)
        return out

    def crossy(self, d: np.ndarray) -> np.ndarray:
        """Per-stratum ``X' diag(d) y`` as an array of shape (G, p)."""
        return np.stack([self.seg(d * self.X[:, a] * self.y) for a in range(self.X.shape[1])], 1)

    @property
    def k(self) -> np.ndarray:
        return np.bincount(self.gid, minlength=self.G)

    @property
    def p(self) -> int:
        return self.X.shape[1]


def _tr(a: np.ndarray) -> np.ndarray:
    return np.trace(a, axis1=1, axis2=2)


class _Gls:
    """Weighted least squares in every stratum for row weights ``w``: beta, residuals, traces of P."""

    def __init__(self, d: _Data, w: np.ndarray):
        self.d, self.w = d, w
        A = d.cross(w)
        self.Ainv = 1 / A if d.p == 1 else np.linalg.inv(A)
        self.beta = (self.Ainv @ d.crossy(w)[:, :, None])[:, :, 0]
        self.r = d.y - sum(d.X[:, a] * self.beta[:, a][d.gid] for a in range(d.p))

    def rss(self) -> np.ndarray:
        """:math:`y'Py = \\sum w_i r_i^2` (the generalised Q statistic)."""
        return self.d.seg(self.w * self.r**2)

    def ypPPy(self) -> np.ndarray:
        """:math:`y'PPy = \\sum w_i^2 r_i^2`, minus the derivative of ``rss`` in tau2."""
        return self.d.seg(self.w**2 * self.r**2)

    def ypPPPy(self) -> np.ndarray:
        """:math:`y'PPPy = u'Pu` with :math:`u = Py = Wr`."""
        u = self.w * self.r
        xu = np.stack([self.d.seg(self.w * u * self.d.X[:, a]) for a in range(self.d.p)], 1)
        return self.d.seg(self.w * u**2) - np.einsum("gi,gij,gj->g", xu, self.Ainv, xu)

    def trPD(self, dv: np.ndarray | float = 1.0) -> np.ndarray:
        """:math:`\\mathrm{tr}(PD)` for a diagonal D."""
        dv = np.broadcast_to(dv, self.w.shape)
        return self.d.seg(self.w * dv) - _tr(self.Ainv @ self.d.cross(self.w**2 * dv))

    def trPDPD(self, d1: np.ndarray | float = 1.0, d2: np.ndarray | float = 1.0) -> np.ndarray:
        """:math:`\\mathrm{tr}(PD_1PD_2)` for diagonal D1, D2 (metafor's ``sum(PV * t(PV))`` etc.)."""
        w = self.w
        d1 = np.broadcast_to(d1, w.shape)
        d2 = np.broadcast_to(d2, w.shape)
        c1 = self.Ainv @ self.d.cross(w**2 * d1)
        c2 = self.Ainv @ self.d.cross(w**2 * d2)
        return (
            self.d.seg(w**2 * d1 * d2)
            - 2 * _tr(self.Ainv @ self.d.cross(w**3 * d1 * d2))
            + _tr(c1 @ c2)
        )

    def logdetA(self) -> np.ndarray:
        return -np.linalg.slogdet(self.Ainv)[1]


def _subset(d: _Data, strata: np.ndarray) -> _Data:
    """The rows of the given strata, renumbered 0..len(strata)-1 in that order."""
    new = np.full(d.G, -1, dtype=np.intp)
    new[strata] = np.arange(strata.size)
    rows = new[d.gid] >= 0
    return _Data(d.y[rows], d.v[rows], d.X[rows], new[d.gid[rows]], strata.size)


def _gls(d: _Data, tau2: np.ndarray) -> _Gls:
    return _Gls(d, 1.0 / (d.v + tau2[d.gid]))


def _solve_rss(d: _Data, target: np.ndarray, hi: np.ndarray, tol: float, maxiter: int):
    """Solve ``rss(tau2) = target`` on [0, hi] in every stratum where a root exists.

    ``rss`` (the generalised Q statistic) decreases in tau2 with derivative ``-y'PPy``;
    a Newton step is taken when it stays inside the current bracket, a bisection step
    otherwise. Strata with ``rss(0) <= target`` get 0, those with ``rss(hi) > target`` get
    ``hi``; both are reported through the returned masks. Returns (root, at_zero, at_hi,
    converged, iterations).
    """
    zero = np.zeros(d.G)
    at_zero = _gls(d, zero).rss() <= target
    at_hi = _gls(d, hi).rss() > target
    lo, up = zero.copy(), hi.copy()
    # Q is convex in tau2 (in practice), so Newton from 0 climbs to the root without overshoot.
    t = np.where(at_hi, hi, 0.0)
    active = ~(at_zero | at_hi)
    it = np.zeros(d.G, dtype=int)
    for _ in range(maxiter):
        if not active.any():
            break
        g = _gls(d, t)
        f = g.rss() - target
        lo = np.where(active & (f > 0), t, lo)
        up = np.where(active & (f < 0), t, up)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = t + f / g.ypPPy()
        step = np.where((newton > lo) & (newton < up), newton, (lo + up) / 2)
        done = active & ((np.abs(step - t) <= tol * np.maximum(1.0, t)) | (f == 0))
        t = np.where(active, step, t)
        it += active
        active &= ~done
    return t, at_zero, at_hi, ~active, it


def _estimate_tau2(d: _Data, method: str, tol: float, maxiter: int, rescaled=False):
    """tau2, its standard error, convergence and iterations, as metafor's ``rma.uni``."""
    k, p, G = d.k, d.p, d.G
    zeros = np.zeros(G)
    iters = np.zeros(G, dtype=int)
    conv = np.ones(G, dtype=bool)
    se = np.full(G, np.nan)
    if method == "FE":
        return zeros, se, conv, iters

    # Hedges (HE): OLS residuals; also the start for ML, REML and EB.
    ols = _Gls(d, np.ones_like(d.y))
    trPV = ols.trPD(d.v)
    he = (ols.rss() - trPV) / (k - p)
    if method == "HE":
        tau2 = np.maximum(he, 0)
        se = np.sqrt(2 * ols.trPDPD(d.v, d.v) + 4 * tau2 * trPV + 2 * tau2**2 * (k - p)) / (k - p)
        return tau2, se, conv, iters

    if method == "DL":
        fe = _Gls(d, 1.0 / d.v)
        trP = fe.trPD()
        tau2 = np.maximum((fe.rss() - (k - p)) / trP, 0)
        se = np.sqrt(2 * (k - p) + 4 * tau2 * trP + 2 * tau2**2 * fe.trPDPD()) / trP
        return tau2, se, conv, iters

    if method == "SJ":
        ybar = d.seg(d.y) / k
        tau2_0 = d.seg((d.y - ybar[d.gid]) ** 2) / k
        g = _gls(d, tau2_0)
        tau2 = np.maximum(tau2_0 * g.rss() / (k - p), 0)
        se = (tau2_0 / (k - p)) * np.sqrt(
            2 * g.trPDPD(d.v, d.v) + 4 * tau2 * g.trPDPD(d.v, 1.0) + 2 * tau2**2 * g.trPDPD()
        )
        return tau2, se, conv, iters

    if method == "PM":
        hi = np.maximum(100.0, 10 * _mad(d) ** 2)
        hi = np.where(rescaled, np.maximum(10 * _mad(d) ** 2, 2 * _ss(d) / (k - p)), hi)
        tau2, _, at_hi, conv, iters = _solve_rss(d, (k - p).astype(float), hi, tol, maxiter)
        conv &= ~at_hi
    else:  # ML, REML, EB: the root of the score equation, from the HE value as metafor
        # metafor runs Fisher scoring, which can oscillate for many iterations; here a Newton
        # step on the score is taken when it stays inside the bracket [lo, hi] that the signs
        # of the scores seen so far give, else the Fisher step, else bisection. Same root.
        tau2 = np.maximum(he, 0)
        lo, hi = np.zeros(G), np.full(G, np.inf)
        pos0 = np.zeros(G, dtype=bool)  # the score at 0 is known to be positive
        active = np.ones(G, dtype=bool)
        idx, sub = np.arange(G), d  # the strata still iterating, and their rows
        for _ in range(maxiter):
            if not active.any():
                break
            if active.sum() < idx.size / 2:  # drop converged strata from the arithmetic
                idx = np.flatnonzero(active)
                sub = _subset(d, idx)
            t, kk = tau2[idx], k[idx]
            g = _gls(sub, t)
            if method == "ML":
                score, info = g.ypPPy() - sub.seg(g.w), sub.seg(g.w**2)
                slope = info - 2 * g.ypPPPy()
            elif method == "REML":
                score, info = g.ypPPy() - g.trPD(), g.trPDPD()
                slope = info - 2 * g.ypPPPy()
            else:
                score, info = g.rss() * kk / (kk - p) - kk, sub.seg(g.w)
                slope = -g.ypPPy() * kk / (kk - p)
            new, act = tau2_step(t, score, info, slope, idx, lo, hi, pos0, active, tol)
            iters[idx] += act
            tau2[idx] = new
        conv = ~active
        if method in ("ML", "REML"):
            # metafor's ll0check: a fit whose likelihood is below that at tau2 = 0 is moved to 0.
            worse = _loglik(d, zeros, method) - _loglik(d, tau2, method) > 1e-10
            tau2 = np.where(worse & (tau2 > tol), 0.0, tau2)
    g = _gls(d, tau2)
    if method == "ML":
        se = np.sqrt(2 / d.seg(g.w**2))
    elif method == "REML":
        se = np.sqrt(2 / g.trPDPD())
    else:  # PM, EB
        se = np.sqrt(2 * k**2 / (k - p)) / d.seg(g.w)
    return tau2, se, conv, iters


def _ss(d: _Data) -> np.ndarray:
    """:math:`\\sum_i (y_i-\\bar y)^2` per stratum. Since :math:`Q(\\tau^2) \\le` this sum
    divided by tau2, ``Q(tau2) = c`` has its root below ``_ss / c``: the search cap of a rescaled
    stratum, where metafor's fixed cap of 100 (in the data's own units) has no meaning."""
    ybar = d.seg(d.y) / d.k
    return d.seg((d.y - ybar[d.gid]) ** 2)


def _mad(d: _Data) -> np.ndarray:
    """R's ``mad(yi)`` per stratum (median absolute deviation, scaled by 1.4826)."""
    s = pd.Series(d.y).groupby(d.gid)
    med = s.transform("median")
    out = (s.obj - med).abs().groupby(d.gid).median().reindex(range(d.G)).to_numpy()
    return 1.4826 * out


def _loglik(d: _Data, tau2: np.ndarray, method: str) -> np.ndarray:
    """Log-likelihood (ML) or restricted log-likelihood (REML) as metafor's ``logLik``."""
    g = _gls(d, tau2)
    k, p = d.k, d.p
    ll = -0.5 * d.seg(np.log(d.v + tau2[d.gid])) - 0.5 * g.rss()
    if method == "REML":
        return ll - 0.5 * (k - p) * np.log(2 * np.pi) - 0.5 * g.logdetA()
    return ll - 0.5 * k * np.log(2 * np.pi)


def _qprofile(d: _Data, tau2: np.ndarray, level: float, tol: float, maxiter: int, rescaled=False):
    """Q-profile confidence interval for tau2 (Viechtbauer 2007; metafor ``confint``).

    The bounds solve :math:`Q(\\tau^2) = \\chi^2_{k-p;\\,1-\\alpha/2}` (lower) and
    :math:`\\chi^2_{k-p;\\,\\alpha/2}` (upper); a bound whose equation has no root above 0 is
    0, and the search stops at metafor's ``tau2.max = max(100, 10 tau2)``.
    """
    a = 1 - level / 100
    df = d.k - d.p
    hi = np.maximum(100.0, 10 * tau2)
    hi = np.where(rescaled, np.maximum(10 * tau2, 2 * _ss(d) / dist.chi2_ppf(a / 2, df)), hi)
    lo = _solve_rss(d, dist.chi2_isf(a / 2, df), hi, tol, maxiter)
    up = _solve_rss(d, dist.chi2_ppf(a / 2, df), hi, tol, maxiter)
    return lo[0], up[0], lo[3] & up[3]


@dataclass
class Fit:
    """A fitted model in every stratum (metafor's ``rma.uni`` object, for many strata).

    Arrays are per stratum (length ``G``) unless said otherwise; ``beta`` is (G, p) and
    ``vcov`` (G, p, p) (metafor ``beta``, ``vb``). Names as the table's (metafor's in
    brackets): ``se``, ``stat``, ``p``, ``ci_low``, ``ci_high`` (G, p: ``se``, ``zval``/``tval``,
    ``pval``, ``ci.lb``, ``ci.ub``), ``df`` (t df, NaN for ``z``: ``ddf``), ``tau2_se``
    (``se.tau2``), ``tau2_ci`` (``ci.lb``, ``ci.ub`` of ``confint``), ``q``, ``q_p`` (``QE``,
    ``QEp``), ``i2``, ``h2`` (``I2``, ``H2``), ``vt`` (typical sampling variance). ``weights``
    is per input row, in percent of its stratum's total. :meth:`table` is the summary table.
    ``vb``, ``ddf`` and ``pvalues()`` are the names of premeta 0.2 (deprecated).
    """

    groups: list
    method: str
    test: str
    level: float
    k: np.ndarray
    n_coefs: int
    beta: np.ndarray
    vcov: np.ndarray
    df: np.ndarray
    tau2: np.ndarray
    tau2_se: np.ndarray
    tau2_ci: tuple[np.ndarray, np.ndarray]
    q: np.ndarray
    q_p: np.ndarray
    i2: np.ndarray
    h2: np.ndarray
    vt: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray
    weights: np.ndarray
    note: np.ndarray | None = None  # per stratum: why it was not fitted (all NaN), or a caveat

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diagonal(self.vcov, axis1=1, axis2=2))

    @property
    def stat(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.beta / self.se

    def crit(self) -> np.ndarray:
        """The critical value of the ``level`` CI per stratum: normal, or t on ``df``."""
        a = 1 - self.level / 100
        with np.errstate(invalid="ignore"):
            t = dist.t_isf(a / 2, np.where(self.df > 0, self.df, np.nan))
        return np.where(np.isnan(self.df), dist.norm_isf(a / 2), t)

    @property
    def p(self) -> np.ndarray:
        df = self.df[:, None]
        with np.errstate(invalid="ignore"):
            pt = 2 * dist.t_sf(np.abs(self.stat), np.where(df > 0, df, np.nan))
        return np.where(np.isnan(df), 2 * dist.norm_sf(np.abs(self.stat)), pt)

    @property
    def ci_low(self) -> np.ndarray:
        return self.beta - self.crit()[:, None] * self.se

    @property
    def ci_high(self) -> np.ndarray:
        return self.beta + self.crit()[:, None] * self.se

    vb = deprecated_alias("vcov", "Fit.vb")
    ddf = deprecated_alias("df", "Fit.ddf")

    def pvalues(self) -> np.ndarray:
        """Deprecated: :attr:`p`."""
        warn_renamed("Fit.pvalues()", "Fit.p")
        return self.p

    def table(self) -> pd.DataFrame:
        """The per-stratum summary of the intercept (column 0 of ``beta``): the results contract."""
        est, se = self.beta[:, 0], self.se[:, 0]
        crit = self.crit()
        pi_half = crit * np.sqrt(se**2 + self.tau2)
        I2lo, I2hi = (100 * t / (self.vt + t) for t in self.tau2_ci)
        notes = np.full(len(self.k), "", dtype=object) if self.note is None else self.note
        single = (self.k <= self.n_coefs) & (notes == "")
        no_pi = single | (self.method == "FE")  # metafor gives no prediction interval for FE
        out = pd.DataFrame(
            {
                "group": self.groups,
                "k": self.k,
                "method": self.method,
                "test": np.where(self.df > 0, self.test, "z") if self.test in T_TESTS else "z",
                "estimate": est,
                "se": se,
                "ci_low": est - crit * se,
                "ci_high": est + crit * se,
                "stat": self.stat[:, 0],
                "df": self.df,
                "p": self.p[:, 0],
                "pi_low": np.where(no_pi, np.nan, est - pi_half),
                "pi_high": np.where(no_pi, np.nan, est + pi_half),
                "tau2": np.where(single, np.nan, self.tau2),
                "tau2_se": self.tau2_se,
                "tau2_ci_low": self.tau2_ci[0],
                "tau2_ci_high": self.tau2_ci[1],
                "i2": self.i2,
                "i2_ci_low": I2lo,
                "i2_ci_high": I2hi,
                "h2": self.h2,
                "q": self.q,
                "q_df": np.where(single | np.isnan(est), np.nan, self.k - self.n_coefs),
                "q_p": self.q_p,
                "converged": self.converged,
                "iterations": self.iterations,
                "note": np.where(
                    notes != "", notes,
                    np.where(
                        single,
                        "k = 1: the study's own estimate with a z interval; no heterogeneity",
                        np.where(self.converged, "", f"{self.method} did not converge"),
                    ),
                ),
            }
        )
        return out[POOLED_COLUMNS]


def fit(
    yi,
    vi,
    groups=None,
    method: str = "REML",
    test: str = "z",
    level: float = 95,
    mods=None,
    tol: float = 1e-10,
    maxiter: int = 1000,
    confint: bool = True,
) -> Fit:
    """Fit a common-effect (``FE``) or random-effects model in every stratum at once.

    Parameters
    ----------
    yi, vi : array-like of shape (N,)
        Effect sizes and their sampling variances (vi > 0).
    groups : array-like of shape (N,), optional
        Stratum of each row; one model per distinct value (sorted). None: one stratum, ``overall``.
    method : {"FE", "DL", "HE", "SJ", "PM", "EB", "ML", "REML"}
        tau2 estimator, as ``metafor::rma(method=)``.
    test : {"z", "knha", "adhoc"}
        Inference, default ``"z"`` (metafor's default, and premeta's everywhere). Wald-type z
        inference or the Knapp and Hartung (2003) adjustment: standard errors
        scaled by :math:`s^2 = Q(\\hat\\tau^2)/(k-p)` and t (or F) reference distributions with
        k - p degrees of freedom (metafor ``test="knha"``, no truncation of s^2); ``adhoc`` is
        the same with :math:`s^2` never below 1, so the interval is never narrower than the z
        interval (Knapp and Hartung 2003; metafor ``test="adhoc"``).
    level : float
        Confidence level in percent for CIs, prediction intervals and the tau2 CI.
    mods : pandas.DataFrame or array-like of shape (N, q), optional
        Moderators; an intercept is added (a meta-regression in each stratum). A DataFrame is
        coded by :func:`design` (text columns dummy-coded, first level the reference).
    tol, maxiter : float, int
        Convergence tolerance on the change in tau2 (relative above 1) and iteration cap
        for the iterative estimators (PM, EB, ML, REML) and the Q-profile search.
    confint : bool
        Compute the Q-profile CI of tau2 (and so of I2); False leaves them NaN.

    Returns
    -------
    Fit
        Per-stratum estimates; :meth:`Fit.table` gives the summary table.

    Notes
    -----
    A stratum that cannot be fitted (a constant or collinear moderator; k = p > 1 with a
    random-effects method; values beyond double precision) is NaN throughout, ``converged``
    False, and ``Fit.note`` (the table's ``note``) says why; the other strata are unaffected
    (metafor stops for that call only). A stratum whose typical vi is outside [2^-64, 2^64] is
    fitted to yi / s and vi / s^2 (s a power of two) and scaled back: beta by s; vb, tau2, its
    SE and CI by s^2; Q, I2, H2 and p-values are scale-free. With Knapp-Hartung and s2 = 0
    (every effect on the fitted line) the SE is 0, as metafor, and the note says so.

    Examples
    --------
    >>> import premeta
    >>> yi = [0.1, 0.3, 0.35, 0.65, 0.45, 0.15, 0.8, 0.2]
    >>> vi = [0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.08, 0.04]
    >>> f = premeta.fit(yi, vi, test="knha")
    >>> f.beta.round(4), f.df
    (array([[0.3633]]), array([7.]))
    >>> f.table()[["estimate", "stat", "df", "p", "tau2"]].round(4)
       estimate    stat   df       p    tau2
    0    0.3633  4.2779  7.0  0.0037  0.0311
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if test not in TESTS:
        raise ValueError(f"test must be one of {', '.join(TESTS)}, got {test!r}")
    yi, vi = check(yi, vi)
    if groups is None:
        gid, labels = np.zeros(len(yi), dtype=np.intp), ["overall"]
    else:
        gid, labels = factor(groups)
    X = np.ones((len(yi), 1))
    if mods is not None:
        X = np.column_stack([X, moderators(mods, len(yi))[0]])
    order = np.argsort(gid, kind="stable")
    d = _Data(yi[order], vi[order], X[order], gid[order], len(labels))
    G, k, p = d.G, d.k, d.p

    # Extreme magnitudes: yi / s and vi / s^2 with s a power of two (exact), then scaled back.
    s = _scale(d)
    if np.any(s != 1):
        d = _Data(d.y / s[d.gid], d.v / s[d.gid] ** 2, d.X, d.gid, G)
    note = _unfittable(d, method)
    ok = np.flatnonzero(note == "")
    per = {name: np.full(G, np.nan) for name in ("tau2", "tau2_se", "tau2_lo", "tau2_hi", "ddf", "q",
                                                "q_p", "i2", "h2", "vt", "s2w")}
    beta, vb = np.full((G, p), np.nan), np.full((G, p, p), np.nan)
    conv, iters = np.zeros(G, dtype=bool), np.zeros(G, dtype=int)
    weights = np.full(len(yi), np.nan)
    if ok.size:
        sub = d if ok.size == G else _subset(d, ok)
        r = _fit_strata(sub, method, test, level, tol, maxiter, confint, (s != 1)[ok])
        for name in per:
            per[name][ok] = r[name]
        beta[ok], vb[ok], conv[ok], iters[ok] = r["beta"], r["vb"], r["conv"], r["iters"]
        rows = np.isin(d.gid, ok)
        weights[order[rows]] = r["weights"]
    kh0 = (per["s2w"] == 0) & (note == "")
    note[kh0] = ("Knapp-Hartung s2 = 0 (every effect on the fitted line): SE 0 and CI of width 0, "
                 "as metafor")
    s2 = s**2
    return Fit(
        groups=labels, method=method, test=test, level=level, k=k, n_coefs=p, beta=beta * s[:, None],
        vcov=vb * s2[:, None, None], df=per["ddf"], tau2=per["tau2"] * s2, tau2_se=per["tau2_se"] * s2,
        tau2_ci=(per["tau2_lo"] * s2, per["tau2_hi"] * s2), q=per["q"], q_p=per["q_p"], i2=per["i2"],
        h2=per["h2"], vt=per["vt"] * s2, converged=conv, iterations=iters, weights=weights, note=note,
    )


def rma(yi, vi, groups=None, method: str = "REML", test: str = "z", level: float = 95, mods=None) -> pd.DataFrame:
    """Meta-analysis in every stratum, as a table: metafor's ``rma(yi, vi, method=, test=, level=)``.

    :func:`fit` followed by :meth:`Fit.table`: one row per stratum (sorted labels; one row
    ``overall`` without ``groups``), the pooled estimate (the intercept, with ``mods``) and its
    heterogeneity.

    Parameters
    ----------
    yi, vi : array-like of shape (N,)
        Effect sizes and their sampling variances (vi > 0).
    groups : array-like of shape (N,), optional
        Stratum of each row; one model per distinct value. None: one stratum, ``overall``.
    method : {"FE", "DL", "HE", "SJ", "PM", "EB", "ML", "REML"}
        tau2 estimator (metafor ``method``).
    test : {"z", "knha", "adhoc"}
        Inference, default ``"z"`` as metafor (see :func:`fit`).
    level : float
        Confidence level in percent.
    mods : pandas.DataFrame or array-like of shape (N, q), optional
        Moderators, as :func:`fit`.

    Returns
    -------
    pandas.DataFrame
        One row per stratum, the columns of ``pooled.csv`` (metafor's names in brackets):
        ``group``, ``k``, ``method``, ``test`` (``z`` where a t test has no df), ``estimate``
        (``beta``), ``se``, ``ci_low``, ``ci_high`` (``ci.lb``, ``ci.ub``), ``stat``
        (``zval``/``tval``), ``df`` (``ddf``, NaN for z), ``p`` (``pval``), ``pi_low``,
        ``pi_high`` (``pi.lb``, ``pi.ub`` of ``predict``), ``tau2``, ``tau2_se`` (``se.tau2``),
        ``tau2_ci_low``, ``tau2_ci_high`` (Q-profile, ``confint``), ``i2``, ``i2_ci_low``,
        ``i2_ci_high`` (``I2`` and its ``confint``), ``h2`` (``H2``), ``q``, ``q_df``, ``q_p``
        (``QE``, ``k - p``, ``QEp``), ``converged``, ``iterations`` and ``note`` (why a
        stratum has NaN, or a caveat).

    Examples
    --------
    >>> import premeta
    >>> yi = [0.1, 0.3, 0.35, 0.65, 0.45, 0.15, 0.8, 0.2]
    >>> vi = [0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.08, 0.04]
    >>> premeta.rma(yi, vi)[["estimate", "ci_low", "ci_high", "p", "tau2", "i2"]].round(4)
       estimate  ci_low  ci_high       p    tau2       i2
    0    0.3633  0.1874   0.5391  0.0001  0.0311  51.5063
    >>> groups = ["a", "a", "a", "a", "b", "b", "b", "b"]
    >>> premeta.rma(yi, vi, groups=groups, method="DL")[["group", "k", "estimate", "se", "q", "q_p"]].round(4)
      group  k  estimate      se       q     q_p
    0     a  4    0.3740  0.1397  9.0238  0.0290
    1     b  4    0.3327  0.1302  4.9448  0.1759
    """
    return fit(yi, vi, groups=groups, method=method, test=test, level=level, mods=mods).table()


def _scale(d: _Data) -> np.ndarray:
    """Per-stratum scale s = 2^e, e the rounded log2 of the geometric mean of sqrt(vi).

    Only strata whose typical vi lies outside [2^-64, 2^64] (about 5e-20 to 2e19) are rescaled
    (s = 1 elsewhere, so ordinary data are fitted exactly as before): there squares and cubes of
    the weights leave the range of doubles. Division by a power of two is exact.
    """
    e = np.round(0.5 * d.seg(np.log2(d.v)) / d.k)
    return np.ldexp(1.0, np.where(np.abs(e) > 32, e, 0).astype(int))


def _unfittable(d: _Data, method: str) -> np.ndarray:
    """Why each (rescaled) stratum cannot be fitted, or "" (metafor stops for such a call).

    * moderators constant or collinear in the stratum: :math:`X'WX` singular (smallest eigenvalue
      of its correlation form below 1e-12; metafor drops the redundant column, regtest stops);
    * k = p > 1 with a random-effects method: no residual df for tau2 (metafor: "Number of
      parameters to be estimated is larger than the number of observations");
    * values beyond double precision after rescaling: a vi (relative to the stratum's typical
      vi) or a squared deviation of yi from the stratum median beyond 1e80.
    """
    G, k, p = d.G, d.k, d.p
    note = np.full(G, "", dtype=object)
    med = pd.Series(d.y).groupby(d.gid).transform("median").to_numpy()
    with np.errstate(over="ignore", invalid="ignore"):
        dev2 = (d.y - med) ** 2
    bad = ~(np.isfinite(d.y) & np.isfinite(d.v) & (d.v >= 1e-80) & (d.v <= 1e80) & (dev2 <= 1e80))
    extreme = np.bincount(d.gid[bad], minlength=G) > 0
    note[extreme] = ("yi or vi too extreme for double precision (after rescaling, a vi or a squared "
                     "deviation of yi beyond 1e80): not fitted")
    if p > 1:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            A = d.cross(1 / d.v)
            dg = np.sqrt(np.diagonal(A, axis1=1, axis2=2))
            C = A / (dg[:, :, None] * dg[:, None, :])
        fine = np.isfinite(C).all(axis=(1, 2))
        lam = np.zeros(G)
        if fine.any():
            lam[fine] = np.linalg.eigvalsh(C[fine])[:, 0]
        singular = ~extreme & (k >= p) & (lam < 1e-12)
        note[singular | (~extreme & (k < p))] = (
            "a moderator is constant or the moderators are collinear in this stratum: the "
            "model cannot be fitted")
        if method != "FE":
            note[(note == "") & (k == p)] = (f"k = p = {p}: no residual df to estimate tau2 "
                                             "(metafor stops)")
    return note


def _fit_strata(d: _Data, method: str, test: str, level: float, tol: float, maxiter: int,
                confint: bool, rescaled: np.ndarray) -> dict:
    """The body of :func:`fit` for strata that can be fitted; per-stratum arrays in a dict."""
    k, p = d.k, d.p
    # Strata with k <= p have no residual df: tau2 is not estimated (0) and the row says so.
    small = k <= p
    big = np.flatnonzero(~small)
    tau2, se_tau2, tau2_lo, tau2_hi = (np.full(d.G, np.nan) for _ in range(4))
    conv = np.ones(d.G, dtype=bool)
    iters = np.zeros(d.G, dtype=int)
    if big.size:
        sub = d if big.size == d.G else _subset(d, big)
        t, s, c, i = _estimate_tau2(sub, method, tol, maxiter, rescaled[big])
        tau2[big], se_tau2[big], conv[big], iters[big] = t, s, c, i
        if method != "FE" and confint:
            tau2_lo[big], tau2_hi[big], _ = _qprofile(sub, t, level, tol, maxiter, rescaled[big])
    tau2 = np.where(small, 0.0, tau2)

    g = _gls(d, tau2)
    vb = g.Ainv.copy()
    df_res = (k - p).astype(float)
    s2w = np.full(d.G, np.nan)
    if test in T_TESTS:
        rss = g.rss()
        with np.errstate(invalid="ignore", divide="ignore"):
            s2w = np.where(small, np.nan, np.where(rss <= np.finfo(float).eps, 0.0, rss / df_res))
        if test == "adhoc":
            s2w = np.where(small, np.nan, np.maximum(s2w, 1.0))
        vb *= np.where(small, 1.0, s2w)[:, None, None]
        ddf = np.where(small, np.nan, df_res)
    else:
        ddf = np.full(d.G, np.nan)

    fe = _Gls(d, 1.0 / d.v)
    QE = np.maximum(fe.rss(), 0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        QEp = dist.chi2_sf(QE, df_res)
        vt = df_res / fe.trPD()
        if method == "FE":
            I2 = np.maximum(0, 100 * (QE - df_res) / QE)
            H2 = QE / df_res
        else:
            I2 = 100 * tau2 / (vt + tau2)
            H2 = tau2 / vt + 1
    for a in (QE, QEp, I2, H2):
        a[small] = np.nan
    return {"tau2": tau2, "tau2_se": se_tau2, "tau2_lo": tau2_lo, "tau2_hi": tau2_hi, "ddf": ddf,
            "q": QE, "q_p": QEp, "i2": I2, "h2": H2, "vt": vt, "s2w": s2w, "beta": g.beta, "vb": vb,
            "conv": conv, "iters": iters, "weights": 100 * g.w / d.seg(g.w)[d.gid]}


def wald_test(f: Fit, coefs: slice | list[int] = slice(1, None)) -> tuple[np.ndarray, ...]:
    """Omnibus test that the given coefficients are all zero, per stratum (metafor's QM).

    :math:`Q_M = b'V_b^{-1}b`, compared with :math:`\\chi^2_m`; with ``knha`` the statistic is
    :math:`Q_M/m` against :math:`F_{m,\\,k-p}`. Returns (stat, df1, df2, p).
    """
    b = f.beta[:, coefs]
    V = f.vcov[:, coefs][:, :, coefs]
    m = b.shape[1]
    # a stratum not fitted (NaN) or with Knapp-Hartung s2 = 0 (V = 0) has no QM (metafor: NA)
    ok = np.isfinite(V).all(axis=(1, 2)) & np.all(np.diagonal(V, axis1=1, axis2=2) > 0, axis=1)
    qm = np.full(len(b), np.nan)
    if ok.any():
        qm[ok] = np.einsum("gi,gi->g", b[ok], np.linalg.solve(V[ok], b[ok][..., None])[..., 0])
    if f.test in T_TESTS:
        stat = qm / m
        with np.errstate(invalid="ignore"):
            return stat, np.full_like(stat, m), f.df, dist.f_sf(stat, m, f.df)
    return qm, np.full_like(qm, m), np.full_like(qm, np.nan), dist.chi2_sf(qm, m)


def subgroup_tests(yi, vi, groups, method: str = "REML", test: str = "z", level: float = 95,
                   separate: Fit | None = None) -> pd.DataFrame:
    """Test of subgroup differences, both ways a reviewer meets it.

    ``Q_between``: the subgroup estimates from separate fits (one tau2 per subgroup) compared
    by a fixed-effect test, :math:`Q_b = \\sum_j (\\hat\\mu_j-\\bar\\mu)^2/SE_j^2` on J - 1 df
    (RevMan; CAMARADES stratified meta-analysis; metafor ``rma(est, sei=se, method="FE")``).
    ``QM``: the mixed-effects meta-regression on subgroup dummies with one common tau2
    (metafor ``rma(yi, vi, mods = ~ factor(group))``), chi-square or, with ``knha``, F.
    Pass ``separate`` (the per-subgroup :class:`Fit`) to avoid fitting it again.

    Parameters
    ----------
    yi, vi : array-like of shape (N,)
        Effect sizes and sampling variances.
    groups : array-like of shape (N,)
        Subgroup of each row (at least 2 subgroups).
    method : str
        tau2 estimator, as :func:`fit`.
    test : {"z", "knha", "adhoc"}
        Inference, default ``"z"`` (metafor's default, and premeta's everywhere); QM an F
        test with ``knha``.
    level : float
        Confidence level in percent.
    separate : Fit, optional
        The per-subgroup fit, if already at hand.

    Returns
    -------
    pandas.DataFrame
        Two rows (``Q_between``, ``QM``): ``test``, ``method``, ``stat`` (Q_b; metafor ``QM``,
        or QM/m for an F test), ``df1``, ``df2`` (metafor ``QMdf``; df2 NaN for chi-square),
        ``p`` (``QMp``), ``tau2`` (the common tau2 of the QM model) and ``groups``.

    Examples
    --------
    >>> import premeta
    >>> yi = [0.1, 0.3, 0.35, 0.65, 0.45, 0.15, 0.8, 0.2]
    >>> vi = [0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.08, 0.04]
    >>> groups = ["a", "a", "a", "a", "b", "b", "b", "b"]
    >>> premeta.subgroup_tests(yi, vi, groups)[["test", "stat", "df1", "p"]].round(4)
                                   test    stat  df1       p
    0         Q_between (separate fits)  0.0693  1.0  0.7924
    1  QM (moderator test, common tau2)  0.0432  1.0  0.8354
    """
    sep = separate if separate is not None else fit(yi, vi, groups, method, test, level)
    est, se = sep.beta[:, 0], sep.se[:, 0]
    w = 1 / se**2
    qb = float(np.sum(w * (est - np.sum(w * est) / np.sum(w)) ** 2))
    J = len(sep.groups)
    gid, _ = factor(groups)
    dummies = np.column_stack([(gid == j).astype(float) for j in range(1, J)])
    mf = fit(yi, vi, method=method, test=test, level=level, mods=dummies)
    qm, df1, df2, pm = (float(a[0]) for a in wald_test(mf))
    return pd.DataFrame(
        {
            "test": ["Q_between (separate fits)", "QM (moderator test, common tau2)"],
            "method": [method, method],
            "stat": [qb, qm],
            "df1": [J - 1, df1],
            "df2": [np.nan, df2],
            "p": [float(dist.chi2_sf(qb, J - 1)), pm],
            "tau2": [np.nan, float(mf.tau2[0])],
            "groups": [J, J],
        }
    )


#: Multiplicity adjustments of :func:`adjust_p`.
ADJUSTMENTS = ("holm", "bonferroni")


def adjust_p(p, method: str = "holm") -> np.ndarray:
    """Multiplicity-adjusted p-values, as R's ``p.adjust(p, method)``; NaN kept (and not counted).

    With the m finite p-values sorted, :math:`p_{(1)} \\le \\dots \\le p_{(m)}`:
    Bonferroni :math:`\\min(1, m p_i)`; Holm (1979) :math:`\\min(1, \\max_{j \\le i} (m - j + 1)
    p_{(j)})`, R's ``pmin(1, cummax((m - i + 1) * p[o]))[ro]``. Held to R's ``p.adjust`` by
    ``tests/test_models.py`` (``make_fixtures.R``). statsmodels' ``multipletests`` gives the same
    numbers but runs a full garbage collection on every Holm call (``gc.collect()`` in
    ``statsmodels.stats.multitest``, 0.15), about 50 ms in a process that has imported pandas and
    matplotlib, and its import adds half a second to a job: two lines of arithmetic do not need it.
    """
    if method not in ADJUSTMENTS:
        raise ValueError(f"method must be one of {', '.join(ADJUSTMENTS)}, got {method!r}")
    p = np.asarray(p, dtype=float)
    out = np.full_like(p, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m:
        q = p[ok]
        if method == "bonferroni":
            out[ok] = np.minimum(1.0, m * q)
        else:
            order = np.argsort(q, kind="stable")
            adjusted = np.empty(m)
            adjusted[order] = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * q[order]))
            out[ok] = adjusted
    return out
