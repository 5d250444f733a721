"""Small-study effects and publication bias: Egger-type regression tests and trim-and-fill.

Both follow metafor 3.8 (``regtest`` and ``trimfill.rma.uni``; Viechtbauer 2010, *J Stat
Softw* 36(3)) and use its vocabulary. Asymmetry in a funnel plot is not proof of publication
bias: heterogeneity, small-study quality and, for the standardised mean difference, the
dependence of its standard error on the estimate itself also produce it (Sterne et al. 2011,
*BMJ* 343:d4002; Zwetsloot et al. 2017, *eLife* 6:e24260).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from premeta import distributions as dist
from premeta.errors import NotComputable
from premeta._shared import check, factor
from premeta.models import fit, moderators
from premeta.multilevel import rma_mv, robust

PREDICTORS = ("sei", "sqrtninv", "msei")
MODELS = ("rma", "lm", "rma.mv")
#: How each predictor reads in a message.
_PREDICTOR_TEXT = {"sei": "sqrt(vi)", "sqrtninv": "1/sqrt(n)", "msei": "sqrt(1/n1 + 1/n2)"}
ESTIMATORS = ("L0", "R0")


_PERFECT = ("the effects lie exactly on a line in the predictor (for example all effects are equal): "
            "the residual variance is 0 and Egger's test is undefined (metafor's regtest gives t = NA "
            "with model='lm' and an infinite t with test='knha')")


def _collinear(Z: np.ndarray, x: np.ndarray) -> bool:
    """True if x is a linear combination of the columns of Z as R's ``lm`` sees it: its part
    orthogonal to them is below 1e-7 of its norm (the QR tolerance by which metafor's regtest finds
    the model matrix not of full rank)."""
    resid = x - Z @ np.linalg.lstsq(Z, x, rcond=None)[0]
    return bool(np.linalg.norm(resid) <= 1e-7 * np.linalg.norm(x))


def _constant(x: np.ndarray) -> bool:
    """True if x is constant as R's ``lm`` sees it (:func:`_collinear` with the intercept)."""
    return _collinear(np.ones((len(x), 1)), x)


def _spread(text: str, values: np.ndarray) -> str:
    lo, hi = np.min(values), np.max(values)
    return f"{text} = {lo:.6g}" if lo == hi else f"{text} between {lo:.6g} and {hi:.6g}"


def egger(yi, vi, predictor: str = "sei", ni=None, model: str = "rma", method: str = "REML",
          test: str = "z", level: float = 95, mods=None, n1i=None, n2i=None, cluster=None,
          inner=None) -> pd.DataFrame:
    """Regression test for funnel-plot asymmetry (metafor ``regtest``).

    The effect sizes are regressed on a measure of study precision,

    .. math:: y_i = \\beta_0 + \\beta_1 x_i + u_i + e_i,\\quad e_i\\sim N(0, v_i),

    and :math:`H_0: \\beta_1 = 0` (no small-study effect) is tested. The predictor is
    ``"sei"``, :math:`x_i = \\sqrt{v_i}` (Egger et al. 1997, *BMJ* 315:629; Sterne and Egger
    2005), or ``"sqrtninv"``, :math:`x_i = 1/\\sqrt{n_i}` with :math:`n_i` the total sample
    size, or ``"msei"``, the modified standard error :math:`x_i = \\sqrt{1/n_{1i} + 1/n_{2i}}`
    (the SE of a standardised mean difference without its term in the SMD itself; Pustejovsky
    and Rodgers 2019, *Res Synth Methods* 10:57; meta's ``metabias(method.bias =
    "Pustejovsky")``; metafor's ``regtest`` has no such predictor: ``rma(yi, vi, mods = ~
    sqrt(1/n1i + 1/n2i))``). The last two are recommended for standardised mean differences,
    whose SE depends on the SMD itself and so makes the SE-based test over-reject (Zwetsloot et
    al. 2017, *eLife* 6:e24260; Pustejovsky and Rodgers 2019).

    ``model="rma"`` fits the model above as a meta-regression (:func:`premeta.models.fit` with
    ``mods``, tau2 by ``method``, Wald-type ``z`` or Knapp-Hartung ``knha`` test).
    ``model="lm"`` is the classical Egger test: weighted least squares with weights
    :math:`1/v_i` and a multiplicative dispersion (R ``lm(yi ~ sei, weights = 1/vi)``,
    statsmodels ``WLS``), whose t test of the slope on k - 2 df is Egger's test (the
    regression of :math:`y_i/\\sqrt{v_i}` on :math:`1/\\sqrt{v_i}`, intercept and slope swapped).
    ``model="rma.mv"`` is the test for dependent effects of Rodgers and Pustejovsky (2021,
    *Psychol Methods* 26:141): the three-level meta-regression of effects (``inner``, by
    default each row) in studies (``cluster``), :math:`y_{ij} = \\beta_0 + \\beta_1 x_{ij} + u_j
    + w_{ij} + e_{ij}`, by REML (:func:`premeta.multilevel.rma_mv`), its slope and intercept
    tested by CR2 cluster-robust t tests with Satterthwaite df
    (:func:`premeta.multilevel.robust`): metafor ``fit <- rma.mv(yi, vi, mods = ~ x, random = ~
    1 | cluster/inner)`` followed by clubSandwich ``coef_test(fit, vcov = "CR2", cluster =
    cluster)`` and ``conf_int``. It needs at least as many studies as coefficients plus one
    (3 without moderators).

    The intercept :math:`\\beta_0` is the "limit estimate": the expected effect of a study of
    infinite precision (:math:`x_i \\to 0`), a bias-corrected estimate akin to PET (Stanley and
    Doucouliagos 2014, *Res Synth Methods* 5:60).

    With ``mods`` (moderators :math:`z_i`, e.g. the dummies of a grouping), the predictor is
    added to them, :math:`y_i = \\beta_0 + z_i'\\gamma + \\beta_1 x_i + u_i + e_i`, and
    :math:`\\beta_1` is tested: Egger's test on the residuals of the model with the moderators,
    i.e. within groups whose true effects differ (metafor ``regtest(rma(yi, vi, mods = ~
    factor(group)))``; ``model="lm"``: R ``lm(yi ~ factor(group) + sei, weights = 1/vi)``, t
    on k - q - 2 df). There is then no single limit estimate (one intercept per group), so
    ``estimate``, ``ci_low`` and ``ci_high`` are NaN, as metafor reports none.

    Parameters
    ----------
    yi, vi : array-like of shape (k,)
        Effect sizes and sampling variances.
    predictor : {"sei", "sqrtninv", "msei"}
        Precision measure :math:`x_i`.
    ni : array-like of shape (k,), optional
        Total sample size of each study (e.g. n1i + n2i); needed for ``"sqrtninv"``.
    model : {"rma", "lm", "rma.mv"}
        Meta-regression, weighted least squares (classical Egger), or the three-level
        meta-regression with CR2 tests (needs ``cluster``).
    method : str
        tau2 estimator for ``model="rma"`` (as :func:`premeta.models.fit`); ``"REML"`` only for
        ``"rma.mv"``.
    test : {"z", "knha", "adhoc"}
        Test for ``model="rma"``, default ``"z"`` (metafor's default) as everywhere in
        premeta; ignored by ``"lm"``, which uses t tests on k - 2 df, and by ``"rma.mv"``,
        which uses CR2 t tests on Satterthwaite df.
    level : float
        Confidence level in percent of the limit estimate's interval.
    mods : pandas.DataFrame or array-like of shape (k, q), optional
        Moderators kept in the model, coded as :func:`premeta.models.moderators` (a text
        column, e.g. the group, dummy-coded as R's ``factor``).
    n1i, n2i : array-like of shape (k,), optional
        The two groups' sample sizes as they entered the effect size (for a shared control
        split among m comparisons, n / m); needed for ``"msei"``.
    cluster : array-like of shape (k,), optional
        The study of each effect; needed for ``model="rma.mv"`` (the outer level and the
        cluster of the CR2 tests).
    inner : array-like of shape (k,), optional
        The inner level of ``"rma.mv"`` (comparison within study); None: each row its own.

    Returns
    -------
    pandas.DataFrame
        One row (metafor ``regtest``'s names in brackets): ``model``, ``predictor``,
        ``method`` and ``test`` (``"t"`` for ``lm``, ``"CR2"`` for ``rma.mv``); ``stat``
        (``zval``; clubSandwich ``tstat``), ``df`` (``ddf``, NaN for ``z``; for ``rma.mv`` the
        slope's Satterthwaite df, clubSandwich ``df_Satt``) and ``p`` (``pval``; ``p_Satt``):
        the test of the slope; ``slope`` and ``slope_se`` (for ``rma.mv`` the CR2 SE);
        ``estimate`` (``est``), ``ci_low`` and ``ci_high`` (``ci.lb``, ``ci.ub``): the limit
        estimate and its CI (for ``rma.mv`` the CR2 interval on the intercept's own
        Satterthwaite df, clubSandwich ``conf_int``); ``tau2``: residual heterogeneity of the
        meta-regression (NaN for ``lm`` and for ``rma.mv``, whose two variance components
        :func:`premeta.multilevel.rma_mv` gives).

    Examples
    --------
    >>> import premeta
    >>> yi = [0.1, 0.3, 0.35, 0.65, 0.45, 0.15, 0.8, 0.2]
    >>> vi = [0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.08, 0.04]
    >>> premeta.egger(yi, vi)[["stat", "p", "estimate", "ci_low", "ci_high"]].round(4)
         stat       p  estimate  ci_low  ci_high
    0  0.1544  0.8773    0.3114  -0.366   0.9887
    >>> study = ["s1", "s1", "s2", "s2", "s3", "s3", "s4", "s4"]
    >>> premeta.egger(yi, vi, model="rma.mv", cluster=study)[["test", "stat", "df", "p"]].round(4)
      test    stat      df       p
    0  CR2  0.0936  1.7131  0.9352
    """
    if predictor not in PREDICTORS:
        raise ValueError(f"predictor must be one of {', '.join(PREDICTORS)}, got {predictor!r}")
    if model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}, got {model!r}")
    if model == "rma.mv" and cluster is None:
        raise ValueError("model 'rma.mv' needs the study of each effect, cluster")
    if model == "rma.mv" and method != "REML":
        raise ValueError(f"model 'rma.mv' is fitted by REML only, got method {method!r}")
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    if predictor == "sei":
        x = np.sqrt(vi)
    elif predictor == "sqrtninv":
        if ni is None:
            raise ValueError("predictor 'sqrtninv' needs the total sample sizes ni")
        ni = np.asarray(ni, dtype=float)
        x = 1 / np.sqrt(ni)
    else:
        if n1i is None or n2i is None:
            raise ValueError("predictor 'msei' needs the two groups' sample sizes n1i and n2i")
        n1i, n2i = np.asarray(n1i, dtype=float), np.asarray(n2i, dtype=float)
        x = np.sqrt(1 / n1i + 1 / n2i)
    k = len(yi)
    Z = np.ones((k, 1)) if mods is None else np.column_stack([np.ones(k), moderators(mods, k)[0]])
    p = Z.shape[1] + 1
    if k < p + 1 and not (model == "rma" and method == "FE" and test == "z"):
        raise NotComputable(
            f"Egger's test needs at least {p + 1} studies here, got k = {k}: the regression on "
            f"{'an intercept' if p == 2 else f'{p - 1} coefficients of the moderators'} and a slope "
            "leaves no residual degrees of freedom (metafor's regtest stops, or gives no test with "
            "model='lm')")
    if np.linalg.matrix_rank(Z) < Z.shape[1]:
        raise NotComputable("the moderators are constant or collinear (e.g. the dummy of a group without "
                         "comparisons): Egger's test cannot be computed (metafor: model matrix not of full rank)")
    if _collinear(Z, x):
        what = {"sqrtninv": lambda: _spread("every comparison has n", ni),
                "msei": lambda: _spread("every comparison has sqrt(1/n1 + 1/n2)", x),
                "sei": lambda: _spread("every study has vi", vi)}[predictor]()
        what = f"the predictor {_PREDICTOR_TEXT[predictor]} is constant ({what})"
        if mods is not None and not _constant(x):
            what = (f"the predictor {_PREDICTOR_TEXT[predictor]} is a linear "
                    "combination of the moderators (e.g. constant within each group)")
        raise NotComputable(f"{what}: Egger's test cannot be computed (metafor's regtest: model "
                         "matrix not of full rank)")
    X = np.column_stack([Z, x])
    a = 1 - level / 100
    if model == "rma":
        f = fit(yi, vi, method=method, test=test, level=level, mods=X[:, 1:], confint=False)
        if f.note is not None and np.isnan(f.beta[0, 0]):
            raise NotComputable(f"Egger's test cannot be computed: {f.note[0]}")
        b, se, ddf = f.beta[0], f.se[0], float(f.df[0])
        if test == "knha" and se[-1] == 0:
            raise NotComputable(_PERFECT)
        pval, crit, tau2 = float(f.p[0, -1]), float(f.crit()[0]), float(f.tau2[0])
    elif model == "rma.mv":
        return _egger_mv(yi, vi, X, predictor, level, cluster, inner, est=mods is None)
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            from statsmodels.regression.linear_model import WLS  # slow to import: only when used

            w = WLS(yi, X, weights=1 / vi).fit()
            ssr, scale = w.ssr, np.sum(w.fittedvalues**2 / vi)
        if not (np.isfinite(ssr) and np.isfinite(scale)):
            raise NotComputable("Egger's test cannot be computed: yi or vi too extreme for double precision "
                             "(a weighted sum of squares overflows)")
        if ssr <= 1e-24 * scale:  # residuals at rounding level (1e-30 was missed by one BLAS: 1.8e-30)
            raise NotComputable(_PERFECT)
        b, se, ddf = w.params, w.bse, float(w.df_resid)
        pval, crit, tau2 = float(w.pvalues[-1]), dist.t_isf(a / 2, ddf), np.nan
        method, test = None, "t"
    est = float(b[0]) if mods is None else np.nan
    return pd.DataFrame([{
        "model": model, "predictor": predictor, "method": method, "test": test,
        "stat": float(b[-1] / se[-1]), "df": ddf, "p": pval,
        "slope": float(b[-1]), "slope_se": float(se[-1]),
        "estimate": est, "ci_low": est - crit * se[0], "ci_high": est + crit * se[0], "tau2": tau2,
    }])


def _egger_mv(yi, vi, X, predictor: str, level: float, cluster, inner, est: bool) -> pd.DataFrame:
    """:func:`egger`'s ``model="rma.mv"``: rma.mv by REML on the design X (predictor last), CR2 tests by cluster."""
    studies = len(pd.unique(pd.Series(np.asarray(cluster, dtype=object))))
    p = X.shape[1]
    if studies <= p:
        raise NotComputable(
            f"the three-level Egger test with CR2 tests needs at least {p + 1} studies here, got {studies}: "
            f"cluster-robust tests of {p} coefficients need more clusters than coefficients (clubSandwich)")
    f = rma_mv(yi, vi, cluster, inner, mods=X[:, 1:], level=level)
    if not f.converged:
        raise NotComputable("the three-level model's REML did not converge: Egger's test cannot be computed")
    r = robust(f)
    if not (np.isfinite(r.se[-1]) and r.se[-1] > 0 and np.isfinite(r.df[-1])):
        raise NotComputable(_PERFECT)
    return pd.DataFrame([{
        "model": "rma.mv", "predictor": predictor, "method": "REML", "test": "CR2",
        "stat": float(r.stat[-1]), "df": float(r.df[-1]), "p": float(r.p[-1]),
        "slope": float(f.beta[-1]), "slope_se": float(r.se[-1]),
        "estimate": float(f.beta[0]) if est else np.nan, "ci_low": float(r.ci_low[0]) if est else np.nan,
        "ci_high": float(r.ci_high[0]) if est else np.nan, "tau2": np.nan,
    }])


def trimfill(yi, vi, estimator: str = "L0", side: str | None = None, method: str = "REML",
             maxiter: int = 100, level: float = 95) -> pd.DataFrame:
    """Duval and Tweedie's trim-and-fill method (metafor ``trimfill.rma.uni``).

    Algorithm (Duval and Tweedie 2000, *Biometrics* 56:455 and *JASA* 95:89), as metafor:

    1. ``side``, the side of the funnel where studies are presumed missing, is by default
       estimated from the sign of the slope :math:`\\hat\\beta_1` of the meta-regression of
       :math:`y_i` on :math:`\\sqrt{v_i}` (``method`` as given): ``"right"`` if
       :math:`\\hat\\beta_1 < 0`, else ``"left"``. For ``"right"`` the effects are negated, so
       missing studies are always on the left; the data are sorted by the effects.
    2. Starting from :math:`k_0 = 0`, the :math:`k_0` largest effects are trimmed, the pooled
       estimate :math:`\\hat\\mu` of the remaining :math:`k - k_0` is obtained (``method``),
       and all k deviations :math:`y_i - \\hat\\mu` are ranked by absolute value (ties in
       order of the sorted effects). With :math:`S_r` the sum of the ranks of the positive
       deviations and :math:`\\gamma^*` the length of the rightmost run of positive ranks,

       .. math:: L_0 = \\frac{4S_r - k(k+1)}{2k-1},\\qquad R_0 = \\gamma^* - 1,

       rounded and truncated at 0, is the new :math:`k_0`; repeated until it no longer changes.
    3. The :math:`k_0` trimmed studies are mirrored about :math:`\\hat\\mu`,
       :math:`y_i^* = 2\\hat\\mu - y_i` with the same :math:`v_i`, and the augmented data are
       fitted with ``method`` (z test and a ``level`` CI, 95% by default: metafor's refit uses
       ``rma``'s defaults, whatever the level of the model given to it, unless
       ``trimfill(res, level = ...)``).
       With :math:`k_0 = 0` the fit is that of the original data.

    The standard error of :math:`k_0` is :math:`4\\sqrt{\\mathrm{Var}(S_r)}/(2k-1)` with
    :math:`\\mathrm{Var}(S_r) = [k(k+1)(2k+1) + 10k_0^3 + 27k_0^2 + 17k_0 - 18kk_0^2 - 18kk_0
    + 6k^2k_0]/24` (unrounded :math:`k_0`) for L0 and :math:`\\sqrt{2k_0 + 2}` for R0; for R0,
    :math:`p = 2^{-(k_0+1)}` tests :math:`H_0: k_0 = 0` (Duval and Tweedie 2000, *JASA*).

    Parameters
    ----------
    yi, vi : array-like of shape (k,)
        Effect sizes and sampling variances.
    estimator : {"L0", "R0"}
        Estimator of the number of missing studies.
    side : {"left", "right"}, optional
        Side of the funnel where studies are missing; None: estimated as in step 1.
    method : str
        tau2 estimator of every fit, as :func:`premeta.models.fit` (``"FE"``: common effect).
    maxiter : int
        Iteration cap of step 2.
    level : float
        Confidence level in percent of the adjusted estimate's interval.

    Returns
    -------
    pandas.DataFrame
        One row (metafor ``trimfill``'s names in brackets): ``k0``, ``k0_se`` (``se.k0``),
        ``k0_p`` (``p.k0``; R0 only, else NaN), ``side``; ``estimate``, ``se``, ``stat``
        (``zval``), ``p`` (``pval``), ``ci_low``, ``ci_high`` (``ci.lb``, ``ci.ub``), ``tau2``:
        the adjusted estimate from the fit of the augmented data. ``attrs["data"]`` holds the
        augmented data, a DataFrame with ``yi``, ``vi`` (the original followed by the filled
        studies) and ``fill`` (True for the filled ones).

    Examples
    --------
    >>> import premeta
    >>> yi = [0.1, 0.3, 0.35, 0.65, 0.45, 0.15, 0.8, 0.2]
    >>> vi = [0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.08, 0.04]
    >>> t = premeta.trimfill(yi, vi)
    >>> t[["k0", "side", "estimate", "ci_low", "ci_high"]].round(4)
       k0  side  estimate  ci_low  ci_high
    0   0  left    0.3633  0.1874   0.5391
    >>> len(t.attrs["data"]), int(t.attrs["data"]["fill"].sum())
    (8, 0)
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {', '.join(ESTIMATORS)}, got {estimator!r}")
    if side not in (None, "left", "right"):
        raise ValueError(f"side must be 'left', 'right' or None, got {side!r}")
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    k = len(yi)
    if k < 2:
        raise NotComputable("trim-and-fill needs at least 2 studies")
    if np.ptp(yi) <= 100 * np.finfo(float).eps * np.max(np.abs(yi)):
        raise NotComputable(f"all {k} effects are equal: the funnel is symmetric by construction and the "
                         "ranks of the deviations are undefined, so trim-and-fill cannot be computed "
                         "(metafor stops)")
    if side is None:
        if k == 2 and method != "FE":
            raise NotComputable(
                f"the side of the missing studies cannot be estimated with k = 2 and method {method}: "
                "the regression of yi on sqrt(vi) leaves no residual df for tau2 (metafor stops); "
                "give side='left' or 'right', or use method='FE'")
        if _constant(np.sqrt(vi)):
            raise NotComputable(
                f"the side of the missing studies cannot be estimated: {_spread('every study has vi', vi)}, "
                "so the regression of yi on sqrt(vi) has no slope (metafor stops); give side='left' "
                "or 'right'")
        slope = fit(yi, vi, method=method, mods=np.sqrt(vi), confint=False).beta[0, 1]
        side = "right" if slope < 0 else "left"
    sign = -1.0 if side == "right" else 1.0
    order = np.argsort(sign * yi, kind="stable")
    y, v = sign * yi[order], vi[order]
    tiny = 100 * np.finfo(float).eps * np.max(np.abs(y))
    k0, previous, iteration = 0, -1, 0
    while k0 != previous:
        previous, iteration = k0, iteration + 1
        if iteration > maxiter:
            raise NotComputable("trim-and-fill did not converge")
        if k0 >= k:
            raise NotComputable(f"trim-and-fill would trim all {k} studies (metafor: 'Processing "
                             "terminated since k = 0')")
        kept = fit(y[: k - k0], v[: k - k0], method=method, confint=False)
        mu = kept.beta[0, 0]
        if np.isnan(mu):  # the model of the kept studies cannot be fitted (values too extreme)
            raise NotComputable(f"trim-and-fill cannot be computed: {kept.note[0]}")
        r = y - mu
        # a deviation at rounding level is 0, not a sign decided by the last bit of mu
        r = np.where(np.abs(r) <= tiny, 0.0, r)
        # ordinal ranks (ties in order of appearance), as scipy.stats.rankdata(method="ordinal")
        rank = np.empty(k, int)
        rank[np.argsort(np.abs(r), kind="stable")] = np.arange(1, k + 1)
        if estimator == "R0":
            # gamma* = k - (largest rank of a deviation that is not positive)
            k0 = k - np.max(rank[r <= 0], initial=0) - 1
            se_k0 = np.sqrt(2 * max(0, k0) + 2)
        else:
            k0 = (4 * rank[r > 0].sum() - k * (k + 1)) / (2 * k - 1)
            var_sr = (k * (k + 1) * (2 * k + 1) + 10 * k0**3 + 27 * k0**2 + 17 * k0
                      - 18 * k * k0**2 - 18 * k * k0 + 6 * k**2 * k0) / 24
            with np.errstate(invalid="ignore"):
                se_k0 = 4 * np.sqrt(var_sr) / (2 * k - 1)
        k0 = int(max(0, np.round(k0)))
        se_k0 = float(np.maximum(0, se_k0))
    y_all = np.r_[yi, sign * (2 * mu - y[k - k0:])]
    v_all = np.r_[vi, v[k - k0:]]
    f = fit(y_all, v_all, method=method, level=level)
    est, se = float(f.beta[0, 0]), float(f.se[0, 0])
    crit = float(f.crit()[0])
    out = pd.DataFrame([{
        "k0": k0, "k0_se": se_k0, "k0_p": 0.5 ** (k0 + 1) if estimator == "R0" else np.nan,
        "side": side, "estimate": est, "se": se, "stat": est / se, "p": float(f.p[0, 0]),
        "ci_low": est - crit * se, "ci_high": est + crit * se, "tau2": float(f.tau2[0]),
    }])
    out.attrs["data"] = pd.DataFrame({"yi": y_all, "vi": v_all, "fill": np.arange(k + k0) >= k})
    return out


def egger_ols(yi, sei, level: float = 95) -> pd.DataFrame:
    """Egger's regression as originally written: OLS of the standard normal deviate on precision.

    .. math:: \\frac{y_i}{s_i} = \\beta_0 + \\beta_1\\frac{1}{s_i} + \\varepsilon_i,
              \\quad \\varepsilon_i \\sim N(0, \\sigma^2),

    fitted by ordinary least squares (R ``lm(I(yi / sei) ~ I(1 / sei))``); the intercept
    :math:`\\beta_0` measures funnel-plot asymmetry (Egger et al. 1997, *BMJ* 315:629) and is
    tested by t on k - 2 df; the slope :math:`\\beta_1` is the precision-weighted effect.

    With :math:`s_i = \\sqrt{v_i}` this is :func:`egger` with ``model="lm"`` with intercept and
    slope swapped (the same fit: WLS of :math:`y_i` on :math:`s_i`, weights :math:`1/v_i`).
    With :math:`s_i = 1/\\sqrt{n_i}` (``sei=1/np.sqrt(ni)``, :math:`n_i` the total sample size)
    it is the "1/sqrt(n)" test as the open replication of Reis et al. (2019;
    github.com/matheusglls/minocycline, ``make_egger_table``) codes it,
    ``lm(I(yi * sqrt(n)) ~ sqrt(n))``: the regression of :math:`y_i` on :math:`1/\\sqrt{n_i}`
    weighted by :math:`n_i`, *not* by :math:`1/v_i` as :func:`egger` with
    ``predictor="sqrtninv", model="lm"`` (metafor ``regtest``), so the two differ.

    Parameters
    ----------
    yi : array-like of shape (k,)
        Effect sizes.
    sei : array-like of shape (k,)
        Their standard errors, or any other positive "standard error" such as
        :math:`1/\\sqrt{n_i}`; rows whose ``sei`` is not finite and positive are left out (as
        the replication's ``filter(is.finite(se), se > 0)``).
    level : float
        Confidence level in percent of the intervals.

    Returns
    -------
    pandas.DataFrame
        Two rows, ``term`` ``intrcpt`` (:math:`\\beta_0`) and ``slope`` (:math:`\\beta_1`), with
        ``estimate``, ``se``, ``stat`` (t), ``df`` (k - 2), ``p``, ``ci_low``, ``ci_high``
        (R ``coef(summary(lm))`` and ``confint``), ``sigma`` (residual standard error) and
        ``k`` (rows used). p-values are two-sided, from the upper tail of t.

    Examples
    --------
    >>> import premeta
    >>> yi = [0.1, 0.3, 0.35, 0.65, 0.45, 0.15, 0.8, 0.2]
    >>> vi = [0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.08, 0.04]
    >>> import numpy as np
    >>> premeta.egger_ols(yi, np.sqrt(vi))[["term", "estimate", "se", "stat", "p"]].round(4)
          term  estimate      se    stat       p
    0  intrcpt   -1.3301  1.7605 -0.7555  0.4785
    1    slope    0.6056  0.2903  2.0860  0.0821
    """
    yi, sei = np.asarray(yi, dtype=float), np.asarray(sei, dtype=float)
    if yi.shape != sei.shape or yi.ndim != 1:
        raise ValueError("yi and sei must be 1-d arrays of the same length")
    keep = np.isfinite(sei) & (sei > 0)
    yi, sei = yi[keep], sei[keep]
    k = len(yi)
    if k < 3:
        raise NotComputable(f"Egger's regression needs at least 3 rows with a positive sei, got {k}")
    prec = 1 / sei
    if _constant(prec):
        raise NotComputable(f"the precision 1/sei is constant ({_spread('every row has sei', sei)}): "
                         "Egger's regression cannot be computed")
    X = np.column_stack([np.ones(k), prec])
    z = yi / sei
    Q, R = np.linalg.qr(X)
    b = np.linalg.solve(R, Q.T @ z)
    resid = z - X @ b
    df = k - 2
    ssr = float(resid @ resid)
    if ssr <= 1e-30 * float(z @ z):
        raise NotComputable(_PERFECT)
    sigma = np.sqrt(ssr / df)
    Rinv = np.linalg.inv(R)
    se = sigma * np.sqrt(np.sum(Rinv**2, axis=1))
    t = b / se
    p = 2 * dist.t_sf(np.abs(t), df)
    crit = dist.t_isf((1 - level / 100) / 2, df)
    return pd.DataFrame({"term": ["intrcpt", "slope"], "estimate": b, "se": se, "stat": t, "df": float(df),
                         "p": p, "ci_low": b - crit * se, "ci_high": b + crit * se, "sigma": float(sigma),
                         "k": int(k)})


def _strata(groups, n: int) -> tuple[np.ndarray, list]:
    return (np.zeros(n, dtype=np.intp), ["overall"]) if groups is None else factor(groups)


def _raise_alone(groups, notes) -> None:
    """Without ``groups`` the one stratum's reason is raised; with them it is the row's note."""
    if groups is None and notes[0]:
        raise NotComputable(notes[0])


def _kendall_cdf(n: int) -> np.ndarray:
    """P(T <= q), q = 0..n(n-1)/2, T the number of concordant (or of discordant) pairs of n
    values under independence: the Mahonian distribution, as R's ``pkendall`` (C_pKendall)."""
    prob = np.ones(1)
    for i in range(2, n + 1):  # inserting the i-th value adds 0..i-1 inversions, uniformly:
        c = np.r_[np.zeros(i), np.cumsum(prob)]
        c = np.r_[c, np.full(i - 1, c[-1])]
        prob = (c[i:] - c[:-i]) / i  # a moving sum of width i
    return np.cumsum(prob)


def _kendall(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Kendall's tau-b of x and y and its two-sided p-value, as R's ``cor.test(x, y, method =
    "kendall", exact = TRUE)``: exact without ties, the normal approximation with its tie
    correction with them."""
    n = len(x)
    sx, sy = np.sign(x[:, None] - x[None, :]), np.sign(y[:, None] - y[None, :])
    iu = np.triu_indices(n, 1)
    sx, sy = sx[iu], sy[iu]
    s = float(np.sum(sx * sy))
    tx, ty = float(np.sum(sx != 0)), float(np.sum(sy != 0))
    tau = s / np.sqrt(tx * ty)
    ties = min(len(np.unique(x)), len(np.unique(y))) < n
    if not ties:
        q = round((tau + 1) * n * (n - 1) / 4)
        cdf = _kendall_cdf(n)
        p = 1 - cdf[q - 1] if q > n * (n - 1) / 4 else cdf[q]
        return tau, float(min(2 * p, 1.0))
    xt = np.unique(x, return_counts=True)[1]
    yt = np.unique(y, return_counts=True)[1]
    xt, yt = xt[xt > 1].astype(float), yt[yt > 1].astype(float)
    v0 = n * (n - 1) * (2 * n + 5)
    vt = np.sum(xt * (xt - 1) * (2 * xt + 5))
    vu = np.sum(yt * (yt - 1) * (2 * yt + 5))
    v1 = np.sum(xt * (xt - 1)) * np.sum(yt * (yt - 1))
    v2 = np.sum(xt * (xt - 1) * (xt - 2)) * np.sum(yt * (yt - 1) * (yt - 2))
    var_s = (v0 - vt - vu) / 18 + v1 / (2 * n * (n - 1)) + v2 / (9 * n * (n - 1) * (n - 2))
    z = s / np.sqrt(var_s)
    return tau, float(2 * min(dist.norm_sf(-z), dist.norm_sf(z)))


def ranktest(yi, vi, groups=None) -> pd.DataFrame:
    """Begg and Mazumdar's rank correlation test for funnel-plot asymmetry, per stratum.

    The effects are standardised with the common-effect estimate
    :math:`\\hat\\theta = \\sum w_i y_i / \\sum w_i` (:math:`w_i = 1/v_i`):

    .. math:: y_i^* = (y_i - \\hat\\theta)/\\sqrt{v_i^*},\\quad v_i^* = v_i - 1/\\sum_j w_j,

    and Kendall's tau (tau-b) of :math:`y_i^*` and :math:`v_i` is tested (Begg and Mazumdar 1994,
    *Biometrics* 50:1088). As metafor 3.8 ``ranktest(yi, vi)`` (and ``ranktest(rma(...))``,
    which uses the same common-effect standardisation whatever the model's method), the p-value
    is R's ``cor.test(method = "kendall", exact = TRUE)``: exact (the permutation
    distribution of the number of concordant pairs) where neither variable has ties, else the
    normal approximation with the tie-corrected variance of the score. The test has little power
    with few studies and, for the standardised mean difference, finds the dependence of its SE
    on the estimate itself.

    Parameters
    ----------
    yi, vi : array-like of shape (N,)
        Effect sizes and sampling variances.
    groups : array-like of shape (N,), optional
        Stratum of each row; None: one stratum, ``overall``.

    Returns
    -------
    pandas.DataFrame
        One row per stratum: ``group``, ``k``, ``tau`` (Kendall's tau), ``p`` (metafor
        ``pval``), ``note`` (why a stratum is NaN).

    Raises
    ------
    NotComputable
        Without ``groups``: fewer than 2 studies, or no variation in the variances or in the
        standardised effects (tau undefined; metafor gives NA).

    Examples
    --------
    >>> import premeta
    >>> yi = [0.1, 0.3, 0.35, 0.65, 0.45, 0.15, 0.8, 0.2]
    >>> vi = [0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.08, 0.04]
    >>> premeta.ranktest(yi, vi).round(4)
         group  k     tau       p note
    0  overall  8  0.3706  0.2089
    """
    yi, vi = check(yi, vi)
    gid, labels = _strata(groups, len(yi))
    rows = []
    for g, label in enumerate(labels):
        y, v = yi[gid == g], vi[gid == g]
        k, note, tau, p = len(y), "", np.nan, np.nan
        if k < 2:
            note = f"the rank correlation test needs at least 2 studies, got k = {k}"
        else:
            w = 1 / v
            ystar = (y - np.sum(w * y) / np.sum(w)) / np.sqrt(v - 1 / np.sum(w))
            if np.ptp(v) == 0 or np.ptp(ystar) == 0:
                note = ("no variation in the variances or the standardised effects: Kendall's tau is "
                        "undefined (metafor gives NA)")
            else:
                tau, p = _kendall(ystar, v)
        rows.append((label, k, tau, p, note))
    out = pd.DataFrame(rows, columns=["group", "k", "tau", "p", "note"])
    _raise_alone(groups, out["note"])
    return out


FSN_TYPES = ("Rosenthal", "Orwin", "Rosenberg")


def fsn(yi, vi, type: str = "Rosenthal", alpha: float = 0.05, target=None, weighted: bool = False,
        groups=None) -> pd.DataFrame:
    """Fail-safe N per stratum: how many unpublished null studies would overturn the result.

    As metafor 3.8 ``fsn(yi, vi, type=, alpha=, target=, weighted=)``, with k studies,
    :math:`z_i = y_i/\\sqrt{v_i}` and :math:`w_i = 1/v_i`:

    * ``"Rosenthal"`` (Rosenthal 1979, *Psychol Bull* 86:638; Stouffer's method): with
      :math:`\\bar z = |\\sum z_i|/\\sqrt{k}`, one-sided :math:`p = 1 - \\Phi(\\bar z)` and
      :math:`N = \\max(0, k(\\bar z/z_{1-\\alpha})^2 - k)`: the studies averaging z = 0 that
      make the combined one-sided p reach alpha.
    * ``"Orwin"`` (Orwin 1983, *J Educ Stat* 8:157): with :math:`\\bar y` the mean effect
      (unweighted, or weighted by :math:`w_i` with ``weighted=True``) and a target effect
      :math:`y_T` (by default :math:`\\bar y/2`; its sign made that of :math:`\\bar y`),
      :math:`N = \\max(0, k(\\bar y - y_T)/y_T)`: the studies of effect 0 that bring the mean
      down to the target; infinite for a target of 0.
    * ``"Rosenberg"`` (Rosenberg 2005, *Evolution* 59:464): with the common-effect estimate
      :math:`\\hat\\theta = \\sum w_iy_i/\\sum w_i`, :math:`z = \\hat\\theta\\sqrt{\\sum w_i}`,
      two-sided :math:`p = 2(1-\\Phi(|z|))` and :math:`N = \\max(0, k[(\\sum w_iy_i /
      z_{1-\\alpha/2})^2 - \\sum w_i]/\\sum w_i)`: the studies of effect 0 and average weight
      that make the common-effect test reach alpha.

    N is rounded up (to the nearest integer where it is one within :math:`\\sqrt{\\epsilon}`).
    Fail-safe N assumes the missing studies average an effect of exactly zero and ignores
    heterogeneity; it says nothing of whether studies are missing, and is not a bias
    correction. metafor's ``type = "REM"`` (a simulation) is not offered.

    Parameters
    ----------
    yi, vi : array-like of shape (N,)
        Effect sizes and sampling variances (Orwin's unweighted mean does not use vi).
    type : {"Rosenthal", "Orwin", "Rosenberg"}
        The method.
    alpha : float
        Target significance level (Rosenthal, Rosenberg).
    target : float, optional
        Orwin's target effect; None: half the mean effect.
    weighted : bool
        Orwin with the inverse-variance weighted mean.
    groups : array-like of shape (N,), optional
        Stratum of each row; None: one stratum, ``overall``.

    Returns
    -------
    pandas.DataFrame
        One row per stratum (metafor's names in brackets): ``group``, ``k``, ``type``, ``fsnum``
        (the fail-safe N), ``alpha``, ``p`` (``pval``: the observed significance, NaN for
        Orwin), ``estimate`` (``meanes``: the mean effect, NaN for Rosenthal), ``target`` (Orwin's
        target, NaN otherwise).

    Examples
    --------
    >>> import premeta
    >>> yi = [0.1, 0.3, 0.35, 0.65, 0.45, 0.15, 0.8, 0.2]
    >>> vi = [0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.08, 0.04]
    >>> premeta.fsn(yi, vi)[["type", "fsnum", "p"]].round(6)
            type  fsnum    p
    0  Rosenthal  103.0  0.0
    >>> premeta.fsn(yi, vi, type="Orwin")[["fsnum", "estimate", "target"]].round(4)
       fsnum  estimate  target
    0    8.0     0.375  0.1875
    """
    if type not in FSN_TYPES:
        raise ValueError(f"type must be one of {', '.join(FSN_TYPES)}, got {type!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    yi, vi = check(yi, vi)
    gid, labels = _strata(groups, len(yi))
    G = len(labels)

    def total(x):
        return np.bincount(gid, x, minlength=G)

    k = total(np.ones(len(yi)))
    w = 1 / vi
    sw, swy = total(w), total(w * yi)
    p = est = tgt = np.full(G, np.nan)
    if type == "Rosenthal":
        zbar = np.abs(total(yi / np.sqrt(vi))) / np.sqrt(k)
        p = dist.norm_sf(zbar)
        n = np.maximum(0, k * (zbar / dist.norm_isf(alpha)) ** 2 - k)
    elif type == "Rosenberg":
        est = swy / sw
        p = 2 * dist.norm_sf(np.abs(est * np.sqrt(sw)))
        n = np.maximum(0, k * ((swy / dist.norm_isf(alpha / 2)) ** 2 - sw) / sw)
    else:
        est = swy / sw if weighted else total(yi) / k
        tgt = est / 2 if target is None else np.full(G, float(target))
        tgt = np.where(np.sign(tgt) != np.sign(est), -tgt, tgt)
        with np.errstate(divide="ignore", invalid="ignore"):
            n = np.where(tgt == 0, np.inf, np.maximum(0, k * (est - tgt) / tgt))
    with np.errstate(invalid="ignore"):
        whole = ~np.isfinite(n) | (np.abs(n - np.round(n)) < np.finfo(float).eps ** 0.5)
    n = np.where(whole, np.round(n), np.ceil(n))
    return pd.DataFrame({"group": labels, "k": k.astype(int), "type": type, "fsnum": n, "alpha": alpha,
                         "p": p, "estimate": est, "target": tgt})


#: the predictors of PET and PEESE (metafor's ``mods``), by the sample sizes given
_PREDICTORS = {"sei": ("sei", "vi"), "n1i_n2i": ("sqrt(1/n1i+1/n2i)", "1/n1i+1/n2i"),
               "ni": ("1/sqrt(ni)", "1/ni")}
PET_PEESE_COLUMNS = ["group", "model", "predictor", "k", "method", "test", "estimate", "se", "stat",
                     "df", "p", "ci_low", "ci_high", "slope", "slope_se", "tau2", "chosen", "note"]


def pet_peese(yi, vi, ni=None, n1i=None, n2i=None, groups=None, method: str = "FE", test: str = "z",
              level: float = 95, alpha: float = 0.05) -> pd.DataFrame:
    """PET, PEESE and the conditional PET-PEESE estimate in every stratum.

    Stanley and Doucouliagos (2014, *Res Synth Methods* 5:60) correct the pooled effect for
    small-study effects by meta-regressions on precision whose intercept is the effect of a study
    of infinite precision:

    .. math:: \\text{PET: } y_i = \\beta_0 + \\beta_1 s_i + e_i,\\qquad
              \\text{PEESE: } y_i = \\gamma_0 + \\gamma_1 s_i^2 + e_i,

    :math:`s_i = \\sqrt{v_i}`, fitted with weights :math:`1/v_i` (``method="FE"``; with a tau2
    estimator, the random-effects meta-regression of that ``method``). The conditional
    estimator is PEESE's :math:`\\hat\\gamma_0` when PET's intercept is significant,
    :math:`\\hat\\beta_0` otherwise. The rule taken here: PET's :math:`H_0: \\beta_0 = 0` tested
    one-tailed at ``alpha`` (default 5%) in the direction of its estimate, that is two-sided
    :math:`p < 2\\alpha` (Stanley and Doucouliagos 2014's one-tailed 5% test; Stanley 2017, *Soc
    Psychol Personal Sci* 8:581, and JASP state it as a two-tailed 10% test). Stanley's weighted
    least squares (R ``lm(yi ~ sqrt(vi), weights = 1/vi)``: a multiplicative dispersion and t on
    k - 2 df) is ``method="FE", test="knha"``.

    For standardised mean differences the SE depends on the estimate itself, so PET and PEESE
    are biased even without selection; give the group sizes ``n1i, n2i`` to use
    :math:`\\sqrt{1/n_{1i} + 1/n_{2i}}` and its square instead (Pustejovsky and Rodgers 2019,
    *Res Synth Methods* 10:57), or the total ``ni`` for :math:`1/\\sqrt{n_i}` and :math:`1/n_i`.

    metafor: ``rma(yi, vi, mods = ~ sqrt(vi), method = method, test = test)`` (PET) and ``mods =
    ~ vi`` (PEESE), their intercept; with ``n1i, n2i``: ``mods = ~ sqrt(1/n1i + 1/n2i)`` and
    ``~ I(1/n1i + 1/n2i)``. Every stratum's PET is one stratum of one :func:`premeta.models.fit`
    call, PEESE of another.

    PET-PEESE assumes the small-study effect is selection acting through the SE; with
    heterogeneity, few studies, or studies of similar size it can badly over- or under-correct
    (Stanley 2017; Carter et al. 2019, *AMPPS* 2:115), and it tells nothing about why small
    studies differ.

    Parameters
    ----------
    yi, vi : array-like of shape (N,)
        Effect sizes and sampling variances.
    ni : array-like of shape (N,), optional
        Total sample sizes: predictors :math:`1/\\sqrt{n_i}` and :math:`1/n_i`.
    n1i, n2i : array-like of shape (N,), optional
        Group sizes: predictors :math:`\\sqrt{1/n_{1i}+1/n_{2i}}` and its square (before ``ni``).
    groups : array-like of shape (N,), optional
        Stratum of each row; None: one stratum, ``overall``.
    method : str
        ``"FE"`` (default, weighted least squares) or a tau2 estimator, as :func:`premeta.models.fit`.
    test : {"z", "knha", "adhoc"}
        Inference, default ``"z"`` as metafor; ``"knha"`` with ``"FE"`` is Stanley's WLS.
    level : float
        Confidence level in percent of the intervals.
    alpha : float
        One-tailed level of PET's test that chooses PEESE.

    Returns
    -------
    pandas.DataFrame
        Three rows per stratum, ``model`` ``PET``, ``PEESE`` and ``PET-PEESE`` (the row of the
        model it chose, named in ``chosen``): ``group``, ``predictor``, ``k``, ``method``,
        ``test``, the intercept's ``estimate``, ``se``, ``stat`` (metafor ``zval``/``tval``),
        ``df`` (NaN for z), ``p`` (``pval``), ``ci_low``, ``ci_high``; ``slope`` and
        ``slope_se``; ``tau2`` (residual; 0 for ``FE``, as metafor); ``note`` (why a stratum
        is NaN).

    Raises
    ------
    NotComputable
        Without ``groups``: fewer than 3 studies, or a constant predictor.

    Examples
    --------
    >>> import premeta
    >>> yi = [0.1, 0.3, 0.35, 0.65, 0.45, 0.15, 0.8, 0.2]
    >>> vi = [0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.08, 0.04]
    >>> premeta.pet_peese(yi, vi)[["model", "predictor", "estimate", "p", "chosen"]].round(4)
           model predictor  estimate       p chosen
    0        PET       sei    0.6056  0.0012
    1      PEESE        vi    0.4493  0.0000
    2  PET-PEESE        vi    0.4493  0.0000  PEESE
    """
    yi, vi = check(yi, vi)
    if n1i is not None and n2i is not None:
        kind, x = "n1i_n2i", np.sqrt(1 / np.asarray(n1i, dtype=float) + 1 / np.asarray(n2i, dtype=float))
    elif n1i is not None or n2i is not None:
        raise ValueError("give both n1i and n2i, or ni")
    elif ni is not None:
        kind, x = "ni", 1 / np.sqrt(np.asarray(ni, dtype=float))
    else:
        kind, x = "sei", np.sqrt(vi)
    if x.shape != yi.shape or not np.all(np.isfinite(x) & (x > 0)):
        raise ValueError("the sample sizes must be positive, one per row of yi")
    gid, labels = _strata(groups, len(yi))
    G = len(labels)
    k = np.bincount(gid, minlength=G)
    notes = np.full(G, "", dtype=object)
    for g in range(G):
        xg = x[gid == g]
        if k[g] < 3:
            notes[g] = (f"PET-PEESE needs at least 3 studies, got k = {k[g]}: the regression on an "
                        "intercept and a slope leaves no residual degrees of freedom")
        elif _constant(xg):
            notes[g] = (f"the predictor {_PREDICTORS[kind][0]} is constant in this stratum: PET and "
                        "PEESE cannot be fitted (metafor: model matrix not of full rank)")
    _raise_alone(groups, notes)
    parts = {}
    for model, xx in (("PET", x), ("PEESE", x**2)):
        f = fit(yi, vi, groups=gid, method=method, test=test, level=level, mods=xx, confint=False)
        fnote = np.asarray(f.note, dtype=object)
        note = np.where(notes != "", notes, fnote)
        bad = notes != ""
        nan = np.where(bad, np.nan, 1.0)
        crit = f.crit()
        parts[model] = pd.DataFrame({
            "group": labels, "model": model,
            "predictor": _PREDICTORS[kind][model == "PEESE"], "k": k, "method": method,
            "test": np.where(np.isnan(f.df), "z", test), "estimate": f.beta[:, 0] * nan,
            "se": f.se[:, 0] * nan, "stat": f.stat[:, 0] * nan, "df": f.df * nan, "p": f.p[:, 0] * nan,
            "ci_low": (f.beta[:, 0] - crit * f.se[:, 0]) * nan,
            "ci_high": (f.beta[:, 0] + crit * f.se[:, 0]) * nan,
            "slope": f.beta[:, 1] * nan, "slope_se": f.se[:, 1] * nan,
            "tau2": f.tau2 * nan, "chosen": "", "note": note})
        _raise_alone(groups, parts[model]["note"].where(parts[model]["estimate"].isna(), ""))
    pet, peese = parts["PET"], parts["PEESE"]
    use_peese = (pet["p"] < 2 * alpha).to_numpy()
    chosen = pd.DataFrame(np.where(use_peese[:, None], peese.to_numpy(), pet.to_numpy()), columns=pet.columns)
    chosen["model"] = "PET-PEESE"
    chosen["chosen"] = np.where(pet["p"].isna(), "", np.where(use_peese, "PEESE", "PET"))
    out = pd.concat([pet, peese, chosen], ignore_index=True)
    out["_g"] = np.tile(np.arange(G), 3)
    out = out.sort_values("_g", kind="stable", ignore_index=True).drop(columns="_g")
    return out.astype({c: float for c in PET_PEESE_COLUMNS[6:16]}).astype({"k": int})[PET_PEESE_COLUMNS]
