"""Power of each comparison and the test of excess significance (metafor 3.8's ``tes``).

A comparison of standard error :math:`s_i = \\sqrt{v_i}` tested by a two-sided z test at level
:math:`\\alpha` has, if its true effect is :math:`\\theta`, the power

.. math:: \\pi_i = \\Phi(\\theta/s_i - z_{1-\\alpha/2}) + \\Phi(-\\theta/s_i - z_{1-\\alpha/2}).

The test of excess significance (Ioannidis and Trikalinos 2007, *Clin Trials* 4:245) compares
the number O of comparisons that are significant with the number expected, :math:`E =
\\sum_i\\pi_i`, at a common true effect :math:`\\theta` (by default the common-effect estimate).
Many more significant results than the comparisons' power allows point to selective reporting
or analysis; the test assumes that :math:`\\theta` is right and the same for every comparison,
so heterogeneity, or a biased :math:`\\theta`, also makes O exceed E. With few comparisons it has
little power to find anything.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import special

from premeta import distributions as dist
from premeta._shared import check, factor

ALTERNATIVES = ("two.sided", "greater", "less")
TES_TESTS = ("chi2", "binom", "exact")
#: metafor's ``tes`` chooses the exact test where it sums at most this many terms.
MAX_EXACT = 10**6
#: tes columns, in order
TES_COLUMNS = ["group", "k", "observed", "expected", "oe_ratio", "test", "stat", "df", "p", "theta",
               "power_min", "power_q1", "power_median", "power_q3", "power_max", "theta_lim",
               "theta_lim_low", "theta_lim_high"]


def power(vi, theta, level: float = 95) -> np.ndarray:
    """Power of the two-sided z test of each comparison at a true effect ``theta``.

    .. math:: \\pi_i = \\Phi(\\theta/s_i - z) + \\Phi(-\\theta/s_i - z),\\quad
              s_i = \\sqrt{v_i},\\ z = \\Phi^{-1}(1 - \\alpha/2),\\ \\alpha = 1 - \\mathrm{level}/100

    (e.g. Ioannidis and Trikalinos 2007, *Clin Trials* 4:245; the per-study power of metafor's
    ``tes(yi, vi, theta = theta)$power``, and of metameta's ``mapower_se``).

    Parameters
    ----------
    vi : array-like of shape (k,)
        Sampling variances (> 0).
    theta : float or array-like of shape (k,)
        The true effect(s) at which the power is computed.
    level : float
        Confidence level in percent: the test is at :math:`\\alpha = 1 - \\mathrm{level}/100`.

    Returns
    -------
    numpy.ndarray of shape (k,)
        The power of each comparison.

    Examples
    --------
    >>> import premeta
    >>> premeta.power([0.479**2], 0.178).round(5)
    array([0.06596])
    """
    vi = np.asarray(vi, dtype=float)
    if np.any(~(vi > 0)):
        raise ValueError("vi must be positive")
    return _power(np.asarray(theta, dtype=float) / np.sqrt(vi), dist.norm_isf((1 - level / 100) / 2),
                  "two.sided")


def _power(delta: np.ndarray, crit: float, alternative: str) -> np.ndarray:
    """Power at standardised true effect delta = theta / s of the test with critical value crit."""
    upper = dist.norm_sf(crit - delta)
    if alternative == "greater":
        return upper
    lower = dist.norm_sf(delta - crit)  # Phi(crit - delta); crit < 0 for "less"
    return lower if alternative == "less" else upper + dist.norm_sf(crit + delta)


def _poisson_binomial(pw: np.ndarray) -> np.ndarray:
    """P(X = j), j = 0..k, for X the number of successes of independent trials of probabilities pw."""
    prob = np.zeros(len(pw) + 1)
    prob[0] = 1.0
    for i, q in enumerate(pw, start=1):
        prob[1:i + 1] = prob[1:i + 1] * (1 - q) + prob[:i] * q
        prob[0] *= 1 - q
    return prob


def _dbinom(j: np.ndarray, n: int, p: float) -> np.ndarray:
    lg = special.gammaln(n + 1) - special.gammaln(j + 1) - special.gammaln(n - j + 1)
    return np.exp(lg + special.xlogy(j, p) + special.xlog1py(n - j, -p))


def _binom_p(n_sig: int, k: int, p: float, alternative: str) -> float:
    """R's ``binom.test(n_sig, k, p, alternative)$p.value``."""
    if alternative == "greater":
        return float(special.bdtrc(n_sig - 1, k, p))
    if alternative == "less":
        return float(special.bdtr(n_sig, k, p))
    d = _dbinom(np.array(n_sig), k, p)
    m = k * p
    if n_sig == m:
        return 1.0
    if n_sig < m:
        i = np.arange(math.ceil(m), k + 1)
        y = int(np.sum(_dbinom(i, k, p) <= d * (1 + 1e-7)))
        pv = special.bdtr(n_sig, k, p) + special.bdtrc(k - y, k, p)
    else:
        i = np.arange(0, math.floor(m) + 1)
        y = int(np.sum(_dbinom(i, k, p) <= d * (1 + 1e-7)))
        pv = (special.bdtr(y - 1, k, p) if y > 0 else 0.0) + special.bdtrc(n_sig - 1, k, p)
    return float(min(1.0, pv))


def _tes_p(pw: np.ndarray, n_sig: int, test: str, tes_alternative: str) -> tuple[float, float]:
    """(X2, p) of the test of n_sig significant results given the powers pw, as metafor's tes."""
    k = len(pw)
    E = float(np.sum(pw))
    if test == "chi2":  # R's prop.test(n_sig, k, p = E/k, correct = FALSE)
        X2 = (n_sig - E) ** 2 / E + (n_sig - E) ** 2 / (k - E)
        if tes_alternative == "two.sided":
            return X2, float(dist.chi2_sf(X2, 1))
        z = np.sign(n_sig / k - E / k) * math.sqrt(X2)
        return X2, float(dist.norm_sf(-z if tes_alternative == "less" else z))
    if test == "binom":
        return np.nan, _binom_p(n_sig, k, E / k, tes_alternative)
    prj = _poisson_binomial(pw)
    if tes_alternative == "greater":
        pv = prj[n_sig:].sum()
    elif tes_alternative == "less":
        pv = prj[:n_sig + 1].sum()
    else:
        pv = prj[prj <= prj[n_sig] + np.finfo(float).eps ** 0.5].sum()
    return np.nan, float(min(pv, 1.0))


def _limit(f, theta1: float, tes_alternative: str) -> float:
    """metafor's theta_lim: the root of f(theta) = p(theta) - tes_alpha between 0 and theta1,
    the bracket extended as R's ``uniroot(extendInt = "upX" / "downX")`` extends it; NaN where
    p(0) is already on the far side of tes_alpha or no root is found."""
    f0 = f(0.0)
    if (f0 >= 0) if tes_alternative == "greater" else (f0 <= 0):
        return np.nan
    sig = 1.0 if (tes_alternative == "greater") == (theta1 >= 0) else -1.0
    lower, upper = (0.0, theta1) if theta1 >= 0 else (theta1, 0.0)
    f_lo, f_up = (f0, f(upper)) if theta1 >= 0 else (f(lower), f0)
    delta = 0.01 * max(1e-4, abs(lower))
    for _ in range(1000):
        if not sig * f_lo > 0:
            break
        lower -= delta
        f_lo = f(lower)
        delta *= 2
    delta = 0.01 * max(1e-4, abs(upper))
    for _ in range(1000):
        if not sig * f_up < 0:
            break
        upper += delta
        f_up = f(upper)
        delta *= 2
    if not (np.isfinite(f_lo) and np.isfinite(f_up)) or f_lo * f_up > 0:
        return np.nan
    if f_lo == 0 or f_up == 0:
        return lower if f_lo == 0 else upper
    from scipy import optimize  # 0.4 s to import: only when a limit estimate is searched for

    return float(optimize.brentq(f, lower, upper, xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=1000))


def tes(yi, vi, theta=None, groups=None, alternative: str = "two.sided", alpha: float = 0.05,
        tes_alternative: str = "greater", tes_test: str | None = None, tes_alpha: float = 0.1) -> pd.DataFrame:
    """Test of excess significance in every stratum (metafor 3.8 ``tes(yi, vi, ...)``).

    Each comparison is tested by a z test at level ``alpha`` (:math:`z_i = y_i/s_i`; two-sided,
    or one-sided by ``alternative``); O of the k comparisons are significant. At the true effect
    :math:`\\theta` (by default the common-effect estimate :math:`\\sum y_i/v_i / \\sum 1/v_i`
    of the stratum) comparison i has the power :math:`\\pi_i` (:func:`power`), and
    :math:`E = \\sum_i \\pi_i` are expected. O is compared with the distribution of the number of
    significant results (Ioannidis and Trikalinos 2007, *Clin Trials* 4:245; Stanley et al. 2021,
    *Res Synth Methods*), by ``test``:

    * ``"chi2"``: :math:`X^2 = (O-E)^2/E + (O-E)^2/(k-E)` on 1 df (R ``prop.test(O, k, p = E/k,
      correct = FALSE)``); one-sided by the sign of O - E;
    * ``"binom"``: the binomial test of O out of k with probability E/k (R ``binom.test``);
    * ``"exact"``: the exact distribution of the number of significant results, the sum of k
      independent Bernoulli(:math:`\\pi_i`) (Poisson-binomial; metafor sums over every
      combination, computed here by the recursion over comparisons, the same numbers);
      two-sided: the sum of the probabilities at most that of O.

    ``tes_alternative="greater"`` (metafor's default) tests for more significant results than
    expected. None (default) chooses as metafor: ``"exact"`` where the tail sums at most
    :math:`10^6` combinations, else ``"chi2"``.

    The limit estimate :math:`\\theta_{lim}` (metafor ``theta.lim``) is
    the :math:`\\theta` at which the test's p equals ``tes_alpha``, searched between 0 and the
    estimate as metafor does; for ``tes_alternative="two.sided"`` the two limits of the
    ``"greater"`` and ``"less"`` tests at ``tes_alpha / 2``. NaN where metafor gives none
    (not estimable, or ``theta`` given per comparison). metafor stops its root search at
    about 1e-4; here it goes to the root.

    Parameters
    ----------
    yi, vi : array-like of shape (N,)
        Effect sizes and sampling variances.
    theta : float or array-like of shape (N,), optional
        True effect at which the power is computed: one value, one per comparison (then no limit
        estimate), or None for each stratum's common-effect estimate.
    groups : array-like of shape (N,), optional
        Stratum of each row; one test per stratum (sorted). None: one stratum, ``overall``.
    alternative : {"two.sided", "greater", "less"}
        The z test of each comparison.
    alpha : float
        Its level.
    tes_alternative : {"greater", "two.sided", "less"}
        The alternative of the test of excess significance (metafor ``tes.alternative``).
    tes_test : {"chi2", "binom", "exact"}, optional
        The test of excess significance (metafor ``test``); None: as metafor.
    tes_alpha : float
        The p at which the limit estimate is defined (metafor ``tes.alpha``).

    Returns
    -------
    pandas.DataFrame
        One row per stratum (metafor's names in brackets): ``group``, ``k``, ``observed``
        (``O``), ``expected`` (``E``), ``oe_ratio`` (``OEratio``), ``test``, ``stat`` (``X2``;
        NaN unless chi2) and ``df`` (1 for chi2), ``p`` (``pval``), ``theta`` (NaN if given per
        comparison), ``power_min``, ``power_q1``, ``power_median``, ``power_q3``,
        ``power_max`` (the quartiles of the comparisons' power, as metafor prints them),
        ``theta_lim`` (one-sided ``tes_alternative``), ``theta_lim_low`` and ``theta_lim_high``
        (two-sided). ``attrs["power"]``: the power of each input row, in input order.

    Examples
    --------
    >>> import premeta
    >>> yi = [0.1, 0.3, 0.35, 0.65, 0.45, 0.15, 0.8, 0.2]
    >>> vi = [0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.08, 0.04]
    >>> t = premeta.tes(yi, vi, tes_test="chi2")
    >>> t[["observed", "expected", "stat", "p", "theta", "theta_lim"]].round(4)
       observed  expected    stat       p   theta  theta_lim
    0         3     4.695  1.4813  0.8882  0.3972     0.1817
    """
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {', '.join(ALTERNATIVES)}, got {alternative!r}")
    if tes_alternative not in ALTERNATIVES:
        raise ValueError(f"tes_alternative must be one of {', '.join(ALTERNATIVES)}, got {tes_alternative!r}")
    if tes_test is not None and tes_test not in TES_TESTS:
        raise ValueError(f"tes_test must be one of {', '.join(TES_TESTS)}, got {tes_test!r}")
    if not (0 < alpha < 1 and 0 < tes_alpha < 1):
        raise ValueError("alpha and tes_alpha must be between 0 and 1")
    yi, vi = check(yi, vi)
    gid, labels = (np.zeros(len(yi), dtype=np.intp), ["overall"]) if groups is None else factor(groups)
    per_study = theta is not None and np.ndim(theta) > 0
    if per_study and np.shape(theta) != yi.shape:
        raise ValueError(f"theta must be one value or one per comparison, got shape {np.shape(theta)}")
    crit = {"two.sided": dist.norm_isf(alpha / 2), "greater": dist.norm_isf(alpha),
            "less": -dist.norm_isf(alpha)}[alternative]
    sei = np.sqrt(vi)
    zi = yi / sei
    sig = {"two.sided": np.abs(zi) >= crit, "greater": zi >= crit, "less": zi <= crit}[alternative]
    w = 1 / vi
    fe = np.bincount(gid, w * yi) / np.bincount(gid, w)
    th = (np.asarray(theta, dtype=float) if per_study else
          np.full(len(yi), float(theta)) if theta is not None else fe[gid])
    pw_all = _power(th / sei, crit, alternative)
    rows = []
    for g, label in enumerate(labels):
        m = gid == g
        y, s, pw, n_sig = yi[m], sei[m], pw_all[m], int(sig[m].sum())
        k = len(y)
        t = tes_test
        if t is None:
            js = range(k + 1) if tes_alternative == "two.sided" else (
                range(n_sig, k + 1) if tes_alternative == "greater" else range(n_sig + 1))
            t = "exact" if sum(math.comb(k, j) for j in js) <= MAX_EXACT else "chi2"
        X2, pv = _tes_p(pw, n_sig, t, tes_alternative)
        th1 = np.nan if per_study else float(th[m][0])

        def lim(direction: str, level: float, t=t, y=y, s=s, n_sig=n_sig) -> float:
            def f(x):
                return _tes_p(_power(x / s, crit, alternative), n_sig, t, direction)[1] - level
            return _limit(f, th1, direction)

        lim1 = lo = hi = np.nan
        if not per_study:
            if tes_alternative == "two.sided":
                lo, hi = lim("greater", tes_alpha / 2), lim("less", tes_alpha / 2)
            else:
                lim1 = lim(tes_alternative, tes_alpha)
        E = float(pw.sum())
        q = np.quantile(pw, [0, 0.25, 0.5, 0.75, 1])
        rows.append([label, k, n_sig, E, n_sig / E, t, X2, 1.0 if t == "chi2" else np.nan, pv, th1, *q,
                     lim1, lo, hi])
    out = pd.DataFrame(rows, columns=TES_COLUMNS)
    out.attrs["power"] = pw_all
    return out
