"""Selection models for publication bias: metafor 3.8's ``selmodel(rma(yi, vi, method = "ML"), ...)``.

A selection model adds to the random-effects model a weight function :math:`w(p)` of each study's
one-sided p-value: the relative chance that a study with that p-value is published. The observed
effects then have the weighted density

.. math:: f(y_i) = \\frac{w(p_i)\\,\\phi\\big(y_i; \\mu, v_i + \\tau^2\\big)}
          {A_i},\\qquad A_i = \\int w\\big(p(y)\\big)\\,\\phi\\big(y; \\mu, v_i + \\tau^2\\big)\\,dy,

and :math:`\\mu`, :math:`\\tau^2` and the parameters :math:`\\delta` of :math:`w` are estimated by
maximum likelihood (Vevea and Hedges 1995, *Psychometrika* 60:419; Citkowicz and Vevea 2017,
*Psychol Methods* 22:28; Preston, Ashby and Smyth 2004, *J Eval Clin Pract* 10:313; metafor's
``help(selmodel)``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from premeta import distributions as dist
from premeta._shared import check, factor
from premeta.errors import NotComputable
from premeta.models import fit

TYPES = ("stepfun", "beta", "halfnorm", "negexp", "logistic", "power")
ALTERNATIVES = ("greater", "less", "two.sided")

#: Bounds of delta (metafor's ``delta.min``, ``delta.max``), its start (``delta.init``), the value of
#: delta under "no selection" (``H0.delta``, for the z test metafor prints) and ``pval.min``, per type.
_SPEC = {
    "stepfun": dict(lo=0.0, hi=100.0, init=1.0, pval_min=0.0),
    "beta": dict(lo=1e-5, hi=100.0, init=1.0, pval_min=1e-5),
    "halfnorm": dict(lo=0.0, hi=100.0, init=1.0, pval_min=0.0),
    "negexp": dict(lo=0.0, hi=100.0, init=1.0, pval_min=0.0),
    "logistic": dict(lo=0.0, hi=100.0, init=1.0, pval_min=0.0),
    "power": dict(lo=0.0, hi=100.0, init=1.0, pval_min=1e-5),
}

#: Gauss-Legendre nodes per unit of z = y / sqrt(vi) and the half-width L of the integrated range
#: (beyond |z| = L the weight is constant to 1e-23 and its integral is a normal tail).
_NODES, _L = 16, 10.0
_MAXITER = 200
_GTOL = 1e-9


def _pvalues(z: np.ndarray, alternative: str) -> np.ndarray:
    """One-sided (or two-sided) p-value of z = y / sqrt(vi) (metafor ``.selmodel.pval``)."""
    if alternative == "greater":
        return special.ndtr(-z)
    if alternative == "less":
        return special.ndtr(z)
    return 2 * special.ndtr(-np.abs(z))


def _weight(p: np.ndarray, delta: np.ndarray, type: str, step: float) -> np.ndarray:
    """metafor's ``wi.fun`` of each continuous type: p (..., Q) and delta (..., m) broadcast."""
    if type == "beta":
        return p ** (delta[..., 0:1] - 1) * (1 - p) ** (delta[..., 1:2] - 1)
    d = delta[..., 0:1]
    f = {
        "halfnorm": lambda x: np.exp(-d * x ** 2),
        "negexp": lambda x: np.exp(-d * x),
        "logistic": lambda x: 2 * np.exp(-d * x) / (1 + np.exp(-d * x)),
        "power": lambda x: (1 - x) ** d,
    }[type]
    return np.where(p <= step, 1.0, f(p) / f(np.float64(step)))


def _grid(alternative: str, pval_min: float, step: float):
    """Nodes z, weights and p-values of the quadrature over [-L, L] (the same for every study in
    units of z = y / sqrt(vi)), cut at every integer and at each kink of w(p(z)): where p reaches
    pval_min or 1 - pval_min (clamped beyond) and the threshold ``step``."""
    cuts = set(np.arange(-_L, _L + 1))
    for q in (pval_min, 1 - pval_min, step):
        if 0 < q < 1:
            if alternative == "two.sided":
                z = -special.ndtri(q / 2)
                cuts |= {z, -z}
            else:
                z = -special.ndtri(q)
                cuts.add(z if alternative == "greater" else -z)
    if alternative == "two.sided":
        cuts.add(0.0)
    cuts = np.array(sorted(c for c in cuts if -_L <= c <= _L))
    x, w = np.polynomial.legendre.leggauss(_NODES)
    a, b = cuts[:-1, None], cuts[1:, None]
    z = ((b - a) / 2 * x + (a + b) / 2).ravel()
    weights = ((b - a) / 2 * w).ravel()
    p = np.clip(_pvalues(z, alternative), pval_min, 1 - pval_min)
    tails = np.clip(_pvalues(np.array([-np.inf, np.inf]), alternative), pval_min, 1 - pval_min)
    return z, weights, p, tails


class _Problem:
    """The stacked strata: yi, vi padded to (S, K) with ``mask``, and everything that depends only
    on the data and the type (p-values, their intervals, the quadrature grid)."""

    def __init__(self, y, v, mask, type, steps, alternative):
        self.y, self.v, self.mask, self.type, self.alternative = y, v, mask, type, alternative
        self.steps = steps
        spec = _SPEC[type]
        self.lo, self.hi, self.pval_min = spec["lo"], spec["hi"], spec["pval_min"]
        self.m = len(steps) if type == "stepfun" else (2 if type == "beta" else 1)
        self.free = np.arange(1, self.m) if type == "stepfun" else np.arange(self.m)
        self.sd = np.sqrt(v)
        self.typical = np.exp(_study_sum(np.where(mask, np.log(v), 0)) / np.maximum(mask.sum(axis=1), 1))
        p = np.clip(_pvalues(y / self.sd, alternative), self.pval_min, 1 - self.pval_min)
        self.p = p
        if type == "stepfun":
            self.interval = np.minimum(np.searchsorted(steps, p, side="left"), len(steps) - 1)
            q = steps[:-1] / 2 if alternative == "two.sided" else steps[:-1]
            self.cut = -special.ndtri(q)  # thresholds in z (upper side)
        else:
            self.step = steps[0] if steps is not None else 0.0
            self.z, self.wq, self.pq, self.tails = _grid(alternative, self.pval_min, self.step)

    def delta(self, free: np.ndarray) -> np.ndarray:
        """Full delta (S, m) from the free ones (stepfun: delta_1 = 1, fixed)."""
        if self.type == "stepfun":
            return np.concatenate([np.ones(free.shape[:-1] + (1,)), free], axis=-1)
        return free

    def loglik(self, mu, tau2, delta) -> np.ndarray:
        """Log-likelihood of every stratum: mu, tau2 (S,), delta (S, m); metafor
        ``.selmodel.ll.stepfun`` / ``.selmodel.ll.cont``."""
        tau2 = np.where(tau2 < np.finfo(float).eps * 10, 0.0, tau2)
        s = np.sqrt(self.v + tau2[:, None])
        mu = mu[:, None]
        if self.type == "stepfun":
            prob = self._intervals(mu, s)  # (S, K, m)
            a = np.einsum("skm,sm->sk", prob, delta)
            logw = np.log(np.take_along_axis(delta, self.interval, axis=1))
        else:
            a = self._integral(mu, s, delta)
            logw = np.log(_weight(self.p, delta, self.type, self.step))
        dens = -0.5 * np.log(2 * np.pi) - np.log(s) - 0.5 * ((self.y - mu) / s) ** 2
        return _study_sum(np.where(self.mask, logw + dens - np.log(a), 0.0))

    def _intervals(self, mu, s):
        """P(p_i in interval j) under y ~ N(mu, vi + tau2), as metafor writes it (upper tails)."""
        c = self.cut[None, None, :] * self.sd[..., None]  # (S, K, m - 1) thresholds of y, decreasing
        mu, s = mu[..., None], s[..., None]
        up = special.ndtr(-(c - mu) / s)  # P(y > c)
        if self.alternative == "greater":
            lower = special.ndtr((c[..., -1:] - mu) / s)
            return np.concatenate([up[..., :1], np.diff(up, axis=-1), lower], axis=-1)
        down = special.ndtr((-c - mu) / s)  # P(y < -c)
        if self.alternative == "less":
            upper = special.ndtr(-(-c[..., -1:] - mu) / s)
            return np.concatenate([down[..., :1], np.diff(down, axis=-1), upper], axis=-1)
        both = up + down
        last = special.ndtr((c[..., -1:] - mu) / s) - special.ndtr((-c[..., -1:] - mu) / s)
        return np.concatenate([both[..., :1], np.diff(both, axis=-1), last], axis=-1)

    def _integral(self, mu, s, delta):
        """A_i by Gauss-Legendre over |z| <= L (nodes shared by all studies) plus the two normal
        tails, on which the weight is constant."""
        w = _weight(self.pq, delta[:, None, :], self.type, self.step)  # (S, 1, Q)
        sd = self.sd[..., None]
        u = (sd * self.z - mu[..., None]) / s[..., None]
        inner = np.sum(w * self.wq * np.exp(-0.5 * u ** 2), axis=-1) * self.sd / (s * np.sqrt(2 * np.pi))
        wt = _weight(self.tails, delta[:, None, :], self.type, self.step)  # (S, 1, 2)
        left = special.ndtr((-_L * self.sd - mu) / s)
        right = special.ndtr(-(_L * self.sd - mu) / s)
        return inner + wt[..., 0] * left + wt[..., 1] * right

    # parameters theta = (mu, log tau2, logit of the free deltas on [lo, hi]), metafor's scale
    def from_theta(self, theta):
        x = theta[:, 2:]
        with np.errstate(over="ignore"):  # a delta at its lower bound: exp(-x) = inf, delta = lo
            free = self.lo + (self.hi - self.lo) / (1 + np.exp(-x))
        return theta[:, 0], np.exp(theta[:, 1]), self.delta(free)

    def nll_theta(self, theta):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # trial steps far out
            return -self.loglik(*self.from_theta(theta))

    def nll_raw(self, phi):
        """-loglik on the untransformed scale (mu, tau2, free deltas), whose Hessian metafor inverts."""
        return -self.loglik(phi[:, 0], phi[:, 1], self.delta(phi[:, 2:]))


def _study_sum(x: np.ndarray) -> np.ndarray:
    """Each stratum's sum over its studies (axis 1 of the padded (S, K) arrays), added in order: the
    same bits whatever K, i.e. whichever strata it is stacked with (numpy's pairwise sum regroups
    the terms as K changes), so that a stratum's fit does not depend on the others in the call."""
    return np.cumsum(x, axis=1)[:, -1] if x.shape[1] else np.zeros(x.shape[0])


def _gradient(f, x, h):
    """Central differences of the per-stratum function f at x (S, P), steps h (S, P)."""
    g = np.empty_like(x)
    for j in range(x.shape[1]):
        e = np.zeros_like(x)
        e[:, j] = h[:, j]
        g[:, j] = (f(x + e) - f(x - e)) / (2 * h[:, j])
    return g


def _hessian(f, x, h):
    """Central-difference Hessian of the per-stratum f at x, steps h (S, P): (S, P, P)."""
    S, P = x.shape
    H = np.empty((S, P, P))
    for i in range(P):
        for j in range(i, P):
            ei, ej = np.zeros_like(x), np.zeros_like(x)
            ei[:, i], ej[:, j] = h[:, i], h[:, j]
            val = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * h[:, i] * h[:, j])
            H[:, i, j] = H[:, j, i] = val
    return H


def _richardson_hessian(f, x):
    """Hessian with steps 2 % of |x| (1e-5 near 0), halved twice and extrapolated (error O(h^6)), as
    numDeriv's Richardson extrapolation that metafor uses."""
    h = 0.02 * np.abs(x) + 1e-5 * (np.abs(x) < 1e-4)
    H1, H2, H3 = (_hessian(f, x, h / d) for d in (1, 2, 4))
    R1, R2 = (4 * H2 - H1) / 3, (4 * H3 - H2) / 3
    return (16 * R2 - R1) / 15


def _optimise(prob: _Problem, theta: np.ndarray):
    """Levenberg-Marquardt-damped Newton steps on every stratum at once (finite-difference gradient
    and Hessian of the stacked log-likelihoods). A stratum stops when its gradient is below
    1e-9 (1e-9 of -loglik where that is larger than 1: the rounding of the differences; mu's
    gradient per SD of an effect about mu, sqrt(typical vi + tau2), where that SD is above 1), when its last
    Newton step moved no parameter by more than 1e-10, or when no step lowers its -loglik. Returns
    theta and whether each stratum's gradient is below 1e-6 (of -loglik, if larger than 1)."""
    S, P = theta.shape
    lam = np.full(S, 1e-3)
    done = np.zeros(S, dtype=bool)
    f = prob.nll_theta(theta)
    for _ in range(_MAXITER):
        idx = np.flatnonzero(~done)  # only the strata still moving are evaluated
        if not len(idx):
            break
        sub, th, fs, lm = _subset(prob, ~done), theta[idx], f[idx], lam[idx]
        g = _gradient(sub.nll_theta, th, np.full_like(th, 1e-5))
        # mu in units of the SD of an effect about it where that is above 1 (an MD, an NMD in percent): its
        # curvature is then small, and a gradient below 1e-9 alone leaves mu 1e-7 (relative) short
        scaled = g.copy()
        scaled[:, 0] *= np.maximum(1, np.sqrt(sub.typical + np.exp(th[:, 1])))
        small = np.max(np.abs(scaled), axis=1) < _GTOL * np.maximum(1, np.abs(fs))
        # a parameter heading for its bound (tau2 to 0, a delta to its bound) moves only about one unit of
        # log tau2 or logit delta per Newton step: try it at the bound at once
        jump = th.copy()
        jump[:, 1] = np.where((np.exp(th[:, 1]) < 1e-6 * sub.typical) & (g[:, 1] > 0),
                              np.log(1e-12 * sub.typical), th[:, 1])
        jump[:, 2:] = np.where((th[:, 2:] < -14) & (g[:, 2:] > 0), -35.0,
                               np.where((th[:, 2:] > 14) & (g[:, 2:] < 0), 35.0, th[:, 2:]))
        fj = sub.nll_theta(jump)
        take = ~small & (jump != th).any(axis=1) & (fj <= fs)
        th[take], fs[take] = jump[take], fj[take]
        if take.any():
            g[take] = _gradient(_subset(sub, take).nll_theta, th[take], np.full_like(th[take], 1e-5))
        H = _hessian(sub.nll_theta, th, np.full_like(th, 1e-4))
        H[small] = np.eye(P)
        pending, stop = ~small, small.copy()
        for _ in range(40):
            damp = lm[:, None, None] * (np.abs(np.diagonal(H, axis1=1, axis2=2))[:, :, None] + 1) * np.eye(P)
            step = np.linalg.solve(H + damp, g[:, :, None])[:, :, 0]
            new = th - np.where(pending[:, None], step, 0)
            fn = sub.nll_theta(new)
            better = pending & np.isfinite(fn) & (fn <= fs)
            th[better], fs[better] = new[better], fn[better]
            stop |= better & (lm < 1e-6) & (np.max(np.abs(step), axis=1) < 1e-10)
            lm = np.where(better, np.maximum(lm / 10, 1e-12), np.where(pending, lm * 10, lm))
            pending &= ~better
            if not pending.any():
                break
        stop |= pending  # no step lowers -loglik: at the optimum to rounding, or stuck
        theta[idx], f[idx], lam[idx] = th, fs, lm
        done[idx] = stop
    g = _gradient(prob.nll_theta, theta, np.full_like(theta, 1e-5))
    return theta, np.max(np.abs(g), axis=1) < 1e-6 * np.maximum(1, np.abs(f))


def selmodel(yi, vi, type: str = "stepfun", steps=None, alternative: str = "greater", groups=None,
             method: str = "ML", level: float = 95) -> pd.DataFrame:
    """Selection model for publication bias in every stratum (metafor ``selmodel``).

    Each study's one-sided p-value :math:`p_i` (``alternative="greater"``: :math:`1 -
    \\Phi(y_i/\\sqrt{v_i})`; ``"less"``: :math:`\\Phi(y_i/\\sqrt{v_i})`; ``"two.sided"``:
    :math:`2(1 - \\Phi(|y_i|/\\sqrt{v_i}))`) sets its relative chance of publication
    :math:`w(p_i)`, and the random-effects model is fitted to the published studies by maximum
    likelihood:

    .. math:: \\ell(\\mu, \\tau^2, \\delta) = \\sum_i \\log w(p_i) + \\log\\phi(y_i; \\mu, v_i + \\tau^2)
              - \\log A_i,\\qquad A_i = \\int w(p(y))\\,\\phi(y; \\mu, v_i + \\tau^2)\\,dy.

    The selection functions (metafor's ``type``):

    * ``"stepfun"`` (Vevea and Hedges 1995, *Psychometrika* 60:419): :math:`w(p) = \\delta_j` for
      :math:`p` in the j-th interval :math:`(s_{j-1}, s_j]` of ``steps``, :math:`\\delta_1 = 1`;
      :math:`A_i` is a sum of normal probabilities.
    * ``"beta"`` (Citkowicz and Vevea 2017, *Psychol Methods* 22:28):
      :math:`w(p) = p^{\\delta_1 - 1}(1 - p)^{\\delta_2 - 1}`, p clamped to [1e-5, 1 - 1e-5].
    * ``"halfnorm"``, ``"negexp"``, ``"logistic"``, ``"power"`` (Preston, Ashby and Smyth 2004,
      *J Eval Clin Pract* 10:313): :math:`e^{-\\delta p^2}`, :math:`e^{-\\delta p}`,
      :math:`2e^{-\\delta p}/(1 + e^{-\\delta p})`, :math:`(1 - p)^{\\delta}` (p clamped to
      [1e-5, 1 - 1e-5]), each divided by its value at the threshold ``steps`` (if given; 1 below
      it), as metafor.

    No selection (:math:`\\delta_j = 1` for stepfun, 0 for the Preston types, (1, 1) for beta)
    is the random-effects model fitted by ML, and the likelihood-ratio test against it is
    ``lrt``.

    Parameters
    ----------
    yi, vi : array-like of shape (N,)
        Effect sizes and their sampling variances (vi > 0).
    type : {"stepfun", "beta", "halfnorm", "negexp", "logistic", "power"}
        Selection function (metafor ``type``).
    steps : float or sequence of float, optional
        ``"stepfun"``: the interval bounds of the p-values (1 is added if missing; metafor
        ``steps``); None is (0.025, 1). Preston types: a single threshold below which w = 1 (None:
        none, metafor's default). Not used by ``"beta"``.
    alternative : {"greater", "less", "two.sided"}
        Direction of the p-values (metafor ``alternative``): ``"greater"`` if large positive
        effects are the "significant" ones that get published.
    groups : array-like of shape (N,), optional
        Stratum of each row; one model per distinct value. None: one stratum, ``overall``.
    method : {"ML"}
        The model is fitted by maximum likelihood (metafor refits any ``rma`` with
        ``method="ML"``); another value is an error.
    level : float
        Confidence level in percent.

    Returns
    -------
    pandas.DataFrame
        One row per stratum (metafor's names in brackets): ``group``, ``k``, ``type``,
        ``alternative``, ``steps`` (text), ``estimate`` (``beta``, the adjusted mu), ``se``,
        ``stat`` (``zval``), ``p`` (``pval``), ``ci_low``, ``ci_high`` (``ci.lb``, ``ci.ub``),
        ``tau2``, ``tau2_se`` (``se.tau2``), ``delta_1``, ``delta_2``, ... (``delta``),
        ``delta_se_1``, ... (``se.delta``; NaN for the fixed delta_1 of stepfun), ``lrt``,
        ``lrt_df``, ``lrt_p`` (``LRT``, ``LRTdf``, ``LRTp``: selection against none), ``loglik``
        (``ll``), for a type with steps ``ptable_1``, ... (the number of p-values in each interval,
        metafor's ``ptable``) and ``note`` (why a stratum has NaN, or a caveat).

    Raises
    ------
    NotComputable
        If no stratum can be analysed; the reasons: fewer studies than parameters (metafor:
        "Number of studies (k=...) is too small"), an interval of ``steps`` without any p-value
        (metafor stops: "One or more intervals do not contain any observed p-values"; premeta
        refuses such a stratum too, because its delta is not identified), or no convergence.
        With several strata, a stratum that cannot be analysed gets NaN and the reason in ``note``;
        where none can, the error's ``notes`` give each stratum's reason.

    Examples
    --------
    >>> import premeta
    >>> yi = [0.9, 0.62, 0.1, 0.33, 1.3, 0.05, 0.51, -0.2, 0.74, -0.12, 0.4, 1.1]
    >>> vi = [0.04, 0.09, 0.02, 0.05, 0.12, 0.03, 0.06, 0.02, 0.10, 0.04, 0.08, 0.05]
    >>> premeta.selmodel(yi, vi, type="stepfun", steps=0.05)[["k", "estimate", "tau2", "delta_2", "lrt_p"]].round(4)
        k  estimate    tau2  delta_2   lrt_p
    0  12    0.5292  0.1575   1.7137  0.5721

    Notes
    -----
    Equals metafor 3.8.1's ``selmodel(rma(yi, vi, method = "ML"), type = type, steps = steps,
    alternative = alternative)``, per stratum (held at 1e-6 by ``tests/test_selmodel.py``).
    The parameters are metafor's: mu, log tau2 and each free delta mapped onto metafor's bounds
    [``delta.min``, ``delta.max``] (0 to 100, beta 1e-5 to 100) by a logistic function; metafor's
    start (the ML estimates, log(tau2 + 0.001), delta = 1).

    The log-likelihoods of all strata are maximised together, not by one optimiser call per
    stratum: Levenberg-Marquardt-damped Newton steps on the stacked parameters, the gradient and
    Hessian by finite differences of one vectorised evaluation of every stratum's log-likelihood
    (arrays of shape (strata, k), padded; only the strata still moving are evaluated), until each
    stratum's gradient is at the rounding of its differences (1e-9, or 1e-9 of -loglik; mu's per
    SD of an effect about mu where that exceeds 1, so that an MD or an NMD in percent stops as
    close to its optimum as an SMD) or its Newton step below 1e-10. metafor's ``optim`` BFGS
    stops earlier (up to 1e-3 relative from the optimum on the fixtures; their R script polishes
    it). A parameter heading for its bound is tried at the bound at once. Each stratum's sums over
    its studies are added in order, so its numbers do not depend on the strata stacked with it.
    The standard errors are the square roots of the diagonal of the inverse Hessian of -loglik in
    (mu, tau2, delta), by central differences with Richardson extrapolation (metafor:
    ``numDeriv::hessian``).

    Where the optimum of tau2 is its bound 0 (tau2 below 1e-8 of the typical vi), tau2 is 0 and
    the SEs of mu and delta are those of the Hessian with tau2 fixed at 0, with no SE of tau2 and a
    note. metafor's optimiser stops near 0 (e.g. tau2 = 2e-6) and differentiates across the bound,
    so there its SEs (and, by 1e-5, its estimates) differ; ``selmodel(..., tau2 = 0)`` gives these.

    For the continuous types :math:`A_i` is computed by Gauss-Legendre quadrature (16 nodes per
    unit of :math:`z = y/\\sqrt{v_i}` over :math:`|z| \\le 10`, cut at each kink of w), the same nodes
    for every study, plus the two normal tails, on which w is constant: within 1e-12 of an
    adaptive quadrature at 1e-13, and of metafor's ``integrate()`` at ``rel.tol = 1e-12``. A
    delta at its bound gets a note, as metafor's warning. The interval check of ``steps``
    (``ptable``) and the LRT are metafor's. ``steps=None`` means (0.025, 1) for the step function
    and no threshold for the Preston types (metafor requires ``steps`` for ``"stepfun"`` and
    defaults the others to none).
    """
    if type not in TYPES:
        raise ValueError(f"type must be one of {', '.join(TYPES)}, got {type!r}")
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {', '.join(ALTERNATIVES)}, got {alternative!r}")
    if method != "ML":
        raise ValueError(f"a selection model is fitted by maximum likelihood: method must be 'ML', got {method!r}")
    steps_arr = _steps(type, steps)
    yi, vi = check(yi, vi)
    if groups is None:
        gid, labels = np.zeros(len(yi), dtype=np.intp), ["overall"]
    else:
        gid, labels = factor(groups)
    S = len(labels)
    k = np.bincount(gid, minlength=S)
    K = int(k.max()) if S else 0
    order = np.argsort(gid, kind="stable")
    gs = gid[order]
    pos = np.arange(len(yi)) - np.concatenate([[0], np.cumsum(k)[:-1]])[gs]
    y, v, mask = np.zeros((S, K)), np.ones((S, K)), np.zeros((S, K), dtype=bool)
    y[gs, pos], v[gs, pos], mask[gs, pos] = yi[order], vi[order], True
    prob = _Problem(y, v, mask, type, steps_arr, alternative)

    notes = np.full(S, "", dtype=object)
    n_free = len(prob.free)
    few = k < 2 + n_free
    notes[few] = [f"k = {n}: too few studies for the selection model's {2 + n_free} parameters (metafor: "
                  f"'Number of studies (k={n}) is too small to fit the selection model')" for n in k[few]]
    ptable = None
    if steps_arr is not None and (type == "stepfun" or steps is not None):
        interval = (np.minimum(np.searchsorted(steps_arr, prob.p, side="left"), len(steps_arr) - 1)
                    if type != "stepfun" else prob.interval)
        ptable = np.stack([((interval == j) & mask).sum(axis=1) for j in range(len(steps_arr))], axis=1)
        empty = (ptable == 0).any(axis=1) & ~few
        notes[empty] = [f"no p-value in the interval{'s' if (row == 0).sum() > 1 else ''} "
                        f"{', '.join(_interval(steps_arr, j) for j in np.flatnonzero(row == 0))} of steps: "
                        "its selection weight cannot be estimated (metafor stops: 'One or more intervals "
                        "do not contain any observed p-values')" for row in ptable[empty]]
    active = notes == ""

    ml = fit(yi, vi, groups=gid, method="ML")
    mu0, tau20 = ml.beta[:, 0], ml.tau2
    s0 = np.sqrt(v + tau20[:, None])
    ll0 = _study_sum(np.where(mask, -0.5 * np.log(2 * np.pi) - np.log(s0) - 0.5 * ((y - mu0[:, None]) / s0) ** 2, 0))

    spec = _SPEC[type]
    x0 = np.log((spec["init"] - prob.lo) / (prob.hi - spec["init"]))
    theta = np.column_stack([np.where(active, mu0, 0.0), np.log(np.where(active, tau20, 0.0) + 0.001),
                             np.full((S, n_free), x0)])
    if active.any():
        conv = np.zeros(S, dtype=bool)
        theta[active], conv[active] = _optimise_subset(prob, theta, active)
        failed = active & ~conv
        notes[failed] = "the selection model did not converge (gradient of the log-likelihood not below 1e-6)"
        active &= conv

    mu, tau2, delta = prob.from_theta(theta)
    # tau2 at its bound 0: the optimum in log tau2 lies at -inf, where the search stops with tau2
    # below 1e-8 of the typical vi; it is 0, as metafor sets a tau2 below 10 * eps
    zero = active & (tau2 < 1e-8 * prob.typical)
    tau2 = np.where(zero | (tau2 < np.finfo(float).eps * 10), 0.0, tau2)
    ll = prob.loglik(mu, tau2, delta)
    phi = np.column_stack([mu, tau2, delta[:, prob.free]])
    P = phi.shape[1]
    cov = np.full((S, P, P), np.nan)
    inner = active & ~zero
    if inner.any():
        cov[inner] = _inverse(_richardson_hessian(_subset(prob, inner).nll_raw, phi[inner]))
    if zero.any():  # the Hessian of (mu, delta) with tau2 fixed at 0; no SE of tau2
        sub = _subset(prob, zero)
        keep = np.r_[0, 2:P]
        H = _richardson_hessian(lambda x: sub.nll_raw(np.insert(x, 1, 0.0, axis=1)), phi[zero][:, keep])
        cov[np.ix_(np.flatnonzero(zero), keep, keep)] = _inverse(H)
    notes[zero] = ("tau2 = 0, at its bound: no SE of tau2, and the SEs of mu and delta are those with tau2 fixed "
                   "at 0 (metafor stops short of 0 and differentiates across the bound; its SEs differ)")
    bad_h = active & np.isnan(cov[:, 0, 0])
    notes[bad_h] = [(n + "; " if n else "") + "the Hessian is not positive definite: no standard errors "
                    "(metafor: 'Error when trying to invert Hessian')" for n in notes[bad_h]]
    at_bound = active & ((delta[:, prob.free] <= prob.lo + np.finfo(float).eps ** 0.25)
                         | (delta[:, prob.free] >= prob.hi - 100 * np.finfo(float).eps ** 0.25)).any(axis=1)
    notes[at_bound] = [(n + "; " if n else "") + "a delta is (almost) at its bound: treat with caution "
                       "(metafor's warning)" for n in notes[at_bound]]

    se_all = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
    nan = ~active
    est = np.where(nan, np.nan, mu)
    se = np.where(nan, np.nan, se_all[:, 0])
    stat = est / se
    crit = dist.norm_isf((1 - level / 100) / 2)
    lrt = np.where(nan, np.nan, np.maximum(0.0, -2 * (ll0 - ll)))
    out = {
        "group": labels, "k": k, "type": type, "alternative": alternative,
        "steps": "" if steps_arr is None or (type != "stepfun" and steps is None)
        else ", ".join(f"{s:g}" for s in steps_arr),
        "estimate": est, "se": se, "stat": stat, "p": 2 * dist.norm_sf(np.abs(stat)),
        "ci_low": est - crit * se, "ci_high": est + crit * se,
        "tau2": np.where(nan, np.nan, tau2), "tau2_se": np.where(nan, np.nan, se_all[:, 1]),
    }
    for j in range(prob.m):
        out[f"delta_{j + 1}"] = np.where(nan, np.nan, delta[:, j])
    for j in range(prob.m):
        free = np.flatnonzero(prob.free == j)
        out[f"delta_se_{j + 1}"] = np.where(nan, np.nan, se_all[:, 2 + free[0]]) if len(free) else np.nan
    out |= {"lrt": lrt, "lrt_df": n_free, "lrt_p": dist.chi2_sf(lrt, n_free),
            "loglik": np.where(nan, np.nan, ll)}
    if ptable is not None:
        for j in range(ptable.shape[1]):
            out[f"ptable_{j + 1}"] = ptable[:, j]
    out["note"] = notes
    if not active.any():
        raise NotComputable(notes[0] if groups is None else "no stratum can be analysed: " + _reasons(labels, notes),
                            notes=None if groups is None else dict(zip(labels, notes)))
    return pd.DataFrame(out)


def _reasons(labels, notes) -> str:
    """Each distinct reason once, with the strata it applies to (the first 5 named)."""
    out = []
    for reason in dict.fromkeys(notes):
        strata = [str(g) for g, n in zip(labels, notes) if n == reason]
        more = f" and {len(strata) - 5} more" if len(strata) > 5 else ""
        out.append(f"{', '.join(strata[:5])}{more}: {reason}")
    return "; ".join(out)


def _interval(steps, j):
    left = 0 if j == 0 else steps[j - 1]
    return f"{left:g} < p <= {steps[j]:g}"


def _steps(type: str, steps):
    """metafor's ``steps``: sorted, unique, 1 added; a single threshold for the Preston types."""
    if type == "beta":
        return None
    if steps is None:
        return np.array([0.025, 1.0]) if type == "stepfun" else np.array([0.0, 1.0])
    s = np.unique(np.atleast_1d(np.asarray(steps, dtype=float)))
    if not np.all(np.isfinite(s)) or (s < 0).any() or (s > 1).any():
        raise ValueError(f"steps must lie between 0 and 1, got {steps!r}")
    if s[-1] != 1:
        s = np.append(s, 1.0)
    if type != "stepfun" and len(s) != 2:
        raise ValueError(f"type {type!r} takes a single threshold in steps, got {steps!r}")
    if type == "stepfun" and len(s) < 2:
        raise ValueError("type 'stepfun' needs a step below 1 (e.g. steps=0.025)")
    return s


def _subset(prob: _Problem, keep: np.ndarray) -> _Problem:
    """The problem restricted to the strata ``keep``."""
    sub = object.__new__(_Problem)
    sub.__dict__ |= prob.__dict__
    for name in ("y", "v", "mask", "sd", "typical", "p", "interval"):
        if name in prob.__dict__:
            setattr(sub, name, getattr(prob, name)[keep])
    return sub


def _optimise_subset(prob, theta, active):
    return _optimise(_subset(prob, active), theta[active].copy())


def _inverse(H: np.ndarray) -> np.ndarray:
    """Inverse of each Hessian (metafor ``chol2inv(chol(H))``), NaN where it is not positive definite."""
    H = (H + np.swapaxes(H, 1, 2)) / 2
    pd_ = np.linalg.eigvalsh(H)[:, 0] > 0
    out = np.full_like(H, np.nan)
    out[pd_] = np.linalg.inv(H[pd_])
    return out
