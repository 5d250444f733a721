"""Designing the next experiment from a meta-analysis: animals per arm for a target power, and the
assurance (the power averaged over what the next experiment's true effect may be).

:func:`next_experiment` takes pooled estimates (one per group), their SEs and tau², and gives for a
two-arm experiment with n animals per arm analysed by a two-sided two-sample t test:

* ``n_power``: the smallest whole n with power at least the target at the pooled effect (R's
  ``power.t.test``, the reduction of the 3Rs: no more animals than that);
* ``assurance_at_n_power``: the power at that n averaged over the predictive distribution of the
  new experiment's true effect, :math:`\\delta \\sim N(\\hat\\mu, SE^2 + \\tau^2)` (O'Hagan, Stevens &
  Campbell 2005, *Pharm Stat* 4:187), which is lower than the power when the pooled effect is uncertain
  or heterogeneous;
* ``n_assurance``: the smallest n whose assurance reaches the target, infinite where it never can.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from premeta.errors import NotComputable

#: Columns of :func:`next_experiment`.
COLUMNS = ["group", "estimate", "se", "tau2", "sd", "smd", "alpha", "target", "n_power", "power_at_n_power",
           "assurance_at_n_power", "assurance_limit", "n_assurance", "assurance_at_n_assurance", "note"]


def t_power(n, delta, alpha: float = 0.05) -> np.ndarray:
    """Power of the two-sided two-sample t test with n animals per arm at standardised effect delta,
    in the direction of delta's sign (R ``power.t.test(n, delta, sd = 1, sig.level = alpha)``,
    ``strict = FALSE``, its default: the far tail is left out).

    .. math:: 1 - F_{t'}(t_{1-\\alpha/2,\\,\\nu};\\ \\nu,\\ \\sqrt{n/2}\\,|\\delta|),\\quad \\nu = 2(n - 1)

    with :math:`F_{t'}(\\cdot;\\nu,\\lambda)` the noncentral t distribution function.
    """
    n = np.asarray(n, dtype=float)
    df = 2 * (n - 1)
    return stats.nct.sf(stats.t.isf(alpha / 2, df), df, np.sqrt(n / 2) * np.abs(delta))


def assurance(n, smd, var, alpha: float = 0.05) -> np.ndarray:
    """The power of :func:`t_power` in the direction of ``smd``, averaged over the true effect
    :math:`\\delta \\sim N(\\mathrm{smd}, \\mathrm{var})` (O'Hagan, Stevens & Campbell 2005).

    The mean has a closed form: with :math:`s = \\mathrm{sign}(\\mathrm{smd})`, the test rejects when
    :math:`sT > q`, :math:`q = t_{1-\\alpha/2,\\nu}`, :math:`T = (Z + \\lambda)/\\sqrt{W/\\nu}` and
    :math:`\\lambda = \\sqrt{n/2}\\,\\delta`. As :math:`sZ + s\\lambda \\sim N(\\mu, 1 + V)`,
    :math:`\\mu = \\sqrt{n/2}\\,|\\mathrm{smd}|`, :math:`V = n\\,\\mathrm{var}/2`,

    .. math:: A(n) = 1 - F_{t'}\\bigl(q/\\sqrt{1+V};\\ \\nu,\\ \\mu/\\sqrt{1+V}\\bigr),

    the integral :math:`\\int P(sT > q \\mid \\delta)\\,\\phi(\\delta)\\,d\\delta` without quadrature error.
    """
    n = np.asarray(n, dtype=float)
    df = 2 * (n - 1)
    scale = np.sqrt(1 + n * np.asarray(var, dtype=float) / 2)
    return stats.nct.sf(stats.t.isf(alpha / 2, df) / scale, df, np.sqrt(n / 2) * np.abs(smd) / scale)


def _smallest_n(f, target: float, reach: np.ndarray, max_n: int) -> np.ndarray:
    """Smallest whole n >= 2 with f(n) >= target, per row, for f increasing in n; inf where even
    ``max_n`` falls short, NaN where ``reach`` is False. ``f`` maps an array of n (one per row) to values."""
    rows = len(reach)
    hi = np.full(rows, 2.0)
    todo = reach.copy()
    while todo.any():  # doubling: an upper bound per row
        short = np.zeros(rows, bool)
        short[todo] = f(hi)[todo] < target
        grow = short & (hi < max_n)
        hi[grow] = np.minimum(2 * hi[grow], max_n)
        todo = grow
    ok = reach & (f(hi) >= target)
    lo = np.where(hi > 2, np.floor(hi / 2), 1.0)  # f(lo) < target (lo = 1: below the smallest n)
    while (ok & (hi - lo > 1)).any():  # bisection on whole numbers
        mid = np.floor((lo + hi) / 2)
        step = ok & (hi - lo > 1)
        above = f(np.where(step, mid, hi)) >= target
        hi = np.where(step & above, mid, hi)
        lo = np.where(step & ~above, mid, lo)
    return np.where(ok, hi, np.where(reach, np.inf, np.nan))


def next_experiment(estimate, se, tau2, power: float = 0.8, alpha: float = 0.05, groups=None, sd=1.0,
                    max_n: int = 10**7) -> pd.DataFrame:
    """Animals per arm a new two-arm experiment needs, by power and by assurance, per group.

    Parameters
    ----------
    estimate, se, tau2 : float or array-like of shape (G,)
        Pooled effect of each group, its standard error and the between-study variance (as from
        :func:`premeta.rma`: ``estimate``, ``se``, ``tau2``), standardised mean differences unless
        ``sd`` is given.
    power : float
        The target, of the power and of the assurance (between ``alpha / 2`` and 1).
    alpha : float
        Two-sided significance level of the new experiment's t test.
    groups : array-like of shape (G,), optional
        The label of each row (``group``); ``"overall"`` for a single row without it.
    sd : float or array-like of shape (G,)
        The outcome's SD (e.g. the pooled control SD) when ``estimate``, ``se`` and ``tau2`` are in the
        outcome's own units (a mean difference): they are divided by it (``tau2`` by its square). 1 for SMDs.
    max_n : int
        The largest n per arm searched (``power.t.test`` searches up to 1e7); more is reported as inf.

    Returns
    -------
    DataFrame
        One row per group: ``group``, the inputs (``estimate``, ``se``, ``tau2``, ``sd``, ``smd`` =
        estimate / sd, ``alpha``, ``target``), ``n_power`` (smallest whole n per arm with power >= target at
        the pooled effect), ``power_at_n_power``, ``assurance_at_n_power``, ``assurance_limit`` (the
        assurance as n grows without bound), ``n_assurance`` (smallest n with assurance >= target; inf
        where ``assurance_limit`` is not above the target or more than ``max_n`` would be needed),
        ``assurance_at_n_assurance`` and ``note`` (why a row is NaN or inf).

    Raises
    ------
    NotComputable
        When no row can be computed (every estimate 0 or missing), with each row's reason.
    ValueError
        A negative ``se`` or ``tau2``, an ``sd`` not above 0, ``alpha`` outside (0, 1) or ``power``
        outside (alpha / 2, 1).

    Notes
    -----
    Power (``n_power``): of the two-sided two-sample t test with n animals per arm at the pooled SMD
    :math:`d`, counting rejections in the direction of :math:`d` (:func:`t_power`); ``n_power`` is R's
    ``ceiling(power.t.test(delta = abs(d), sd = 1, sig.level = alpha, power = power)$n)``, found here
    over whole numbers directly.

    Assurance (O'Hagan, Stevens & Campbell 2005, *Pharm Stat* 4:187, "assurance" of their eq. 1 with the
    t test): the probability that the new experiment rejects in the direction of :math:`d`, averaged over its
    true effect :math:`\\delta \\sim N(d, SE^2 + \\tau^2)`, the predictive distribution of a new experiment's
    true effect under the random-effects model (Higgins, Thompson & Spiegelhalter 2009); an experiment
    significant in the other direction does not count. :func:`assurance` gives its closed form. As n
    grows the power at each :math:`\\delta` tends to 1 when :math:`\\delta` has the sign of :math:`d`
    and to 0 otherwise, so the assurance tends to
    :math:`\\Phi(|d|/\\sqrt{SE^2 + \\tau^2})`, the probability that the true effect has the estimate's
    sign (``assurance_limit``): no n reaches a target above it.

    metafor has no equivalent; R: ``power.t.test`` for ``n_power`` and ``power_at_n_power``, and
    ``integrate(function(x) <power at x> * dnorm(x, d, sqrt(se^2 + tau2)), -Inf, Inf)`` for the
    assurance (tests/reference/make_next_experiment_fixtures.R, which also simulates it).

    Examples
    --------
    >>> import premeta
    >>> premeta.next_experiment(0.8, 0.2, 0.1)[["n_power", "assurance_at_n_power", "n_assurance"]].round(4)
       n_power  assurance_at_n_power  n_assurance
    0     26.0                0.6998         42.0
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha!r}")
    if not alpha / 2 < power < 1:
        raise ValueError(f"power must be between alpha / 2 and 1, got {power!r}")
    estimate, se, tau2, sd = np.broadcast_arrays(*(np.atleast_1d(np.asarray(x, dtype=float))
                                                   for x in (estimate, se, tau2, sd)))
    if np.any(se < 0) or np.any(tau2 < 0):
        raise ValueError("se and tau2 must not be negative")
    if np.any(~(sd > 0)):
        raise ValueError("sd must be above 0")
    rows = len(estimate)
    labels = (["overall"] if rows == 1 else [str(i + 1) for i in range(rows)]) if groups is None else list(groups)
    if len(labels) != rows:
        raise ValueError(f"groups has {len(labels)} labels for {rows} rows")
    smd, var = estimate / sd, (se**2 + tau2) / sd**2
    note = np.full(rows, "", dtype=object)
    missing = ~(np.isfinite(smd) & np.isfinite(var))
    note[missing] = "no pooled estimate, SE or tau2"
    zero = ~missing & (smd == 0)
    note[zero] = "pooled estimate 0: no direction for the next experiment to detect"
    reach = note == ""
    if not reach.any():
        raise NotComputable("; ".join(f"{g}: {r}" for g, r in zip(labels, note)))
    safe_smd, safe_var = np.where(reach, smd, 1.0), np.where(reach, var, 1.0)

    n_power = _smallest_n(lambda n: t_power(n, safe_smd, alpha), power, reach, max_n)
    at_power = np.where(np.isfinite(n_power), n_power, 2.0)
    power_at = np.where(np.isfinite(n_power), t_power(at_power, safe_smd, alpha), np.nan)
    assurance_at = np.where(np.isfinite(n_power), assurance(at_power, safe_smd, safe_var, alpha), np.nan)
    with np.errstate(divide="ignore"):  # no uncertainty (se = tau2 = 0): the sign is certain, the limit 1
        limit = np.where(reach, stats.norm.cdf(np.abs(safe_smd) / np.sqrt(safe_var)), np.nan)
    can = reach & (limit > power)
    n_assurance = _smallest_n(lambda n: assurance(n, safe_smd, safe_var, alpha), power, can, max_n)
    n_assurance[reach & ~can] = np.inf
    finite = np.isfinite(n_assurance)
    assurance_at_n = np.where(finite, assurance(np.where(finite, n_assurance, 2.0), safe_smd, safe_var, alpha), np.nan)
    for i in np.flatnonzero(reach & ~np.isfinite(n_power)):
        note[i] = f"power {power:g} needs more than {max_n:g} animals per arm"
    for i in np.flatnonzero(reach & ~can):
        note[i] = (f"assurance never reaches {power:g}: its limit, the probability {limit[i]:.3g} that the true "
                   "effect has the estimate's sign, is not above it")
    for i in np.flatnonzero(can & ~finite):
        note[i] = f"assurance {power:g} needs more than {max_n:g} animals per arm"
    return pd.DataFrame({
        "group": labels, "estimate": estimate, "se": se, "tau2": tau2, "sd": sd, "smd": smd, "alpha": alpha,
        "target": power, "n_power": n_power, "power_at_n_power": power_at, "assurance_at_n_power": assurance_at,
        "assurance_limit": limit, "n_assurance": n_assurance, "assurance_at_n_assurance": assurance_at_n,
        "note": note,
    }, columns=COLUMNS)
