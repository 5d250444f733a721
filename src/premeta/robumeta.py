"""Robust variance estimation (RVE) for dependent effect sizes, as robumeta 2.x does it.

:func:`rve` equals robumeta's ``robu(yi ~ mods, studynum = cluster, var.eff.size = vi,
modelweights = model, rho = rho, small = small)`` (Fisher & Tipton 2015): the working-model
weights and method-of-moments variance components of Hedges, Tipton & Johnson (2010,
*Res Synth Methods* 1(1):39-65), the cluster-robust ("sandwich") variance of the
meta-regression coefficients, and, with ``small=True``, the small-sample correction of
Tipton (2015, *Psychol Methods* 20(3):375-393): CR2-type bias-reduced residuals and
Satterthwaite degrees of freedom.

No k-by-k matrix is formed: the estimators of the variance components need only sums over
rows and clusters; the small-sample correction needs a matrix function of each cluster's
block, done for all clusters of one size at once in (m, n, n) arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from premeta import distributions as dist
from premeta._shared import check, coef_table, factor
from premeta.errors import NotComputable
from premeta.models import moderators

MODELS = ("CORR", "HIER")


@dataclass
class RVEFit:
    """A robumeta ``robu`` fit.

    ``beta``, ``se``, ``stat``, ``df``, ``p``, ``ci_low``, ``ci_high`` are per coefficient
    (intercept first, named by ``terms``; robumeta's ``b.r``, ``SE``, ``t``, ``dfs``,
    ``prob``, ``CI.L``, ``CI.U``), ``vcov`` their robust covariance (``VR.r``, without the
    N/(N - p) factor of ``small=False``, as robumeta). ``tau2`` (and ``omega2`` for HIER; NaN
    for CORR) are the variance components (``tau.sq``, ``omega.sq``), ``i2`` robumeta's
    ``I.2`` (CORR only; NaN for HIER), ``q`` (``QE``) the Q statistic of the working-weight
    fit, ``weights`` the final weights per input row (robumeta's ``data.full$r.weights``,
    here in the input order).
    """

    beta: np.ndarray
    se: np.ndarray
    stat: np.ndarray
    df: np.ndarray
    p: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    vcov: np.ndarray
    tau2: float
    omega2: float
    i2: float
    q: float
    weights: np.ndarray
    model: str
    rho: float
    small: bool
    level: float
    n_clusters: int
    k: int
    terms: tuple = ("intrcpt",)

    def table(self) -> pd.DataFrame:
        """One row per coefficient: :data:`premeta._shared.COEF_COLUMNS`."""
        return coef_table(self)


def _tr(A, B):
    """:math:`\\mathrm{tr}(AB)`."""
    return float(np.sum(A * B.T))


def _inv_sqrt(S):
    """:math:`S^{-1/2}` of stacked symmetric (m, n, n) matrices, eigenvalues below 1e-10 as 0."""
    lam, U = np.linalg.eigh(S)
    f = np.zeros_like(lam)
    keep = lam >= 1e-10
    f[keep] = 1 / np.sqrt(lam[keep])
    return (U * f[:, None, :]) @ np.swapaxes(U, 1, 2)


def rve(yi, vi, cluster, mods=None, model: str = "CORR", rho: float = 0.8, small: bool = True,
        level: float = 95) -> RVEFit:
    """Robust variance estimation meta-regression (robumeta's ``robu``).

    For the :math:`k_j` effects :math:`y_j` of cluster (study) j = 1..N, with moderators
    :math:`X_j` (an intercept and ``mods``; p columns), sampling variances :math:`v_{ij}`
    and :math:`\\bar v_j` their mean in the cluster, M rows in all:

    **Working weights** (Hedges, Tipton & Johnson 2010; robumeta). CORR (correlated effects:
    several outcomes on the same sample, correlation ``rho`` among them):
    :math:`w_{ij} = 1/(k_j\\bar v_j)`; HIER (hierarchical effects: independent samples
    nested in studies): :math:`w_{ij} = 1/v_{ij}`. The weighted least-squares fit
    :math:`b = (X'WX)^{-1}X'Wy` gives residuals e and :math:`Q_E = \\sum w_{ij}e_{ij}^2`.

    **CORR, method of moments** (HTJ 2010, eq. 23, as robumeta), with
    :math:`V = (X'WX)^{-1}`, :math:`J_j` the :math:`k_j\\times k_j` matrix of ones:

    .. math:: \\hat\\tau^2 = \\max\\Big(0,\\;\\frac{Q_E - N + \\mathrm{tr}(V\\sum_j X_j'W_jX_j/k_j)
              + \\rho\\,\\mathrm{tr}\\big(V\\sum_j \\tfrac{w_j}{k_j}(X_j'J_jX_j - X_j'X_j)\\big)}
              {\\sum w_{ij} - \\mathrm{tr}(V\\sum_j X_j'W_jJ_jW_jX_j)}\\Big),

    final weights :math:`w^r_{ij} = 1/(k_j(\\bar v_j + \\hat\\tau^2))`, and robumeta's
    :math:`I^2 = \\max(0, 100(Q_E - d)/Q_E)` with
    :math:`d = N - \\mathrm{tr}(V\\sum_j X_j'W_jX_j/k_j) - \\rho\\,\\mathrm{tr}(V\\sum_j
    \\tfrac{w_j}{k_j}(X_j'J_jX_j - X_j'X_j))`.

    **HIER, method of moments** (HTJ 2010, eqs. 19-20, as robumeta): with
    :math:`Q_a = \\sum_j(1'e_j)^2`,

    .. math:: \\hat\\omega^2 = \\max\\Big(0, \\frac{(Q_a - C_1)A_2 - (Q_E - C_2)A_1}
              {B_1A_2 - B_2A_1}\\Big),\\quad
              \\hat\\tau^2 = \\max\\Big(0, \\frac{Q_E - C_2}{A_2} - \\hat\\omega^2\\frac{B_2}{A_2}\\Big),

    :math:`A_1 = \\sum k_j^2 - \\mathrm{tr}(V\\sum X'JJWX) - \\mathrm{tr}(V\\sum X'WJJX) +
    \\mathrm{tr}(V\\sum X'JX\\,V\\sum X'WJWX)`, :math:`B_1 = M - \\mathrm{tr}(V\\sum X'WJX) -
    \\mathrm{tr}(V\\sum X'JWX) + \\mathrm{tr}(V\\sum X'JX\\,V\\sum X'W^2X)`,
    :math:`C_1 = \\sum v_{ij} - \\mathrm{tr}(V\\sum X'JX)`,
    :math:`A_2 = \\sum w_{ij} - \\mathrm{tr}(V\\sum X'WJWX)`,
    :math:`B_2 = \\sum w_{ij} - \\mathrm{tr}(V\\sum X'W^2X)`, :math:`C_2 = M - p`; final
    weights :math:`w^r_{ij} = 1/(v_{ij} + \\hat\\tau^2 + \\hat\\omega^2)`.

    **Robust variance.** :math:`\\hat\\beta = (X'W^rX)^{-1}X'W^ry`, residuals
    :math:`e^r`, :math:`Q = (X'W^rX)^{-1}`. With ``small=False`` (HTJ 2010):

    .. math:: V^R = \\frac{N}{N-p}\\,Q\\Big(\\sum_j X_j'W^r_je^r_je^{r\\prime}_jW^r_jX_j\\Big)Q,
              \\quad \\text{t tests on } N - p \\text{ df}.

    With ``small=True`` (Tipton 2015; Fisher & Tipton 2015): :math:`V^R = Q(\\sum_j
    X_j'W^r_jA_je^r_je^{r\\prime}_jA_jW^r_jX_j)Q` with :math:`A_j = (I - H_{jj})^{-1/2}`,
    :math:`H_{jj} = X_jQX_j'W^r_j` (CORR), and, as robumeta does for HIER,
    :math:`A_j = D_j^{1/2}\\,(D_j^{1/2}(I - H_{jj})D_j^{3/2})^{-1/2}D_j^{1/2}` with
    :math:`D_j = (W^r_j)^{-1}` (inverse square roots by eigendecomposition, eigenvalues below
    1e-10 taken as 0). Satterthwaite df per coefficient h:
    :math:`\\nu_h = \\mathrm{tr}(B_h)^2/\\mathrm{tr}(B_h^2)`, :math:`B_h = G_hG_h'`, column j
    of :math:`G_h` being :math:`(W^r)^{-1/2}(I-H)_{j\\cdot}'A_jW^r_jX_jQ\\,u_h`. Its Gram
    matrix :math:`G_h'G_h = \\mathrm{diag}(s) - DQD'` (N by N; :math:`c_j = A_jW^r_jX_jQu_h`,
    :math:`s_j = c_j'(W^r_j)^{-1}c_j`, row j of D :math:`= (X_j'c_j)'`), so no M-by-M matrix
    is needed. p-values :math:`2\\,P(T_\\nu > |t|)` and intervals
    :math:`\\hat\\beta \\pm t_{\\nu,1-\\alpha/2}\\,SE`.

    Parameters
    ----------
    yi, vi : array-like of shape (k,)
        Effect sizes and their sampling variances (vi > 0).
    cluster : array-like of shape (k,)
        Cluster (study) of each effect; the clusters are independent.
    mods : pandas.DataFrame or array-like of shape (k, q), optional
        Moderators; an intercept is added. A DataFrame is coded by
        :func:`premeta.models.design` (text columns dummy-coded, first level the reference).
    model : {"CORR", "HIER"}
        Working model: correlated or hierarchical effects.
    rho : float
        Assumed correlation of the effects within a cluster (CORR only), in [0, 1].
    small : bool
        Small-sample correction and Satterthwaite df (Tipton 2015), robumeta's default.
    level : float
        Confidence level in percent (robumeta: 95 only).

    Returns
    -------
    RVEFit
        Its :meth:`~RVEFit.table`: ``term, estimate, se, stat, df, p, ci_low, ci_high``.

    References
    ----------
    Hedges LV, Tipton E, Johnson MC (2010). Robust variance estimation in meta-regression
    with dependent effect size estimates. *Res Synth Methods* 1(1):39-65.
    Tipton E (2015). Small sample adjustments for robust variance estimation with
    meta-regression. *Psychol Methods* 20(3):375-393.
    Fisher Z, Tipton E (2015). robumeta: An R-package for robust variance estimation in
    meta-analysis. arXiv:1503.02220.

    Examples
    --------
    >>> import premeta
    >>> yi = [0.1, 0.3, 0.35, 0.65, 0.45, 0.15, 0.8, 0.2]
    >>> vi = [0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.08, 0.04]
    >>> study = ["s1", "s1", "s2", "s2", "s3", "s3", "s4", "s4"]
    >>> f = premeta.rve(yi, vi, study)
    >>> f.table().round(4)
          term  estimate     se    stat     df       p  ci_low  ci_high
    0  intrcpt    0.3644  0.078  4.6731  2.904  0.0199  0.1115   0.6172
    >>> round(f.tau2, 4)
    0.0251
    """
    model = str(model).upper()
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    if model == "CORR" and not 0 <= rho <= 1:
        raise ValueError(f"rho must be between 0 and 1, got {rho}")
    yi, vi = check(yi, vi)
    M = len(yi)
    X, terms = np.ones((M, 1)), ["intrcpt"]
    if mods is not None:
        Xm, names = moderators(mods, M)
        X, terms = np.column_stack([X, Xm]), terms + names
    if not np.all(np.isfinite(X)):
        raise ValueError("mods must be finite")
    if len(cluster) != M:
        raise ValueError(f"cluster must have length {M}")
    gid, labels = factor(cluster)
    N, p = len(labels), X.shape[1]
    if N <= p:
        raise NotComputable(f"{N} clusters for {p} coefficients: robust variance needs more clusters")
    Z = sparse.csr_matrix((np.ones(M), (gid, np.arange(M))), shape=(N, M))  # cluster sums
    k = np.bincount(gid, minlength=N).astype(float)
    kr = k[gid]
    vbar = (Z @ vi / k)[gid]

    # working-model fit
    w = 1 / vi if model == "HIER" else 1 / (kr * vbar)
    XW = X * w[:, None]
    V = np.linalg.inv(X.T @ XW)
    e = yi - X @ (V @ (XW.T @ yi))
    QE = float(np.sum(w * e**2))
    s = Z @ XW  # rows: X_j'W_j 1
    t = Z @ X  # rows: X_j' 1
    sXWJWX = s.T @ s
    omega2, I2 = np.nan, np.nan
    if model == "CORR":
        denom = w.sum() - _tr(V, sXWJWX)
        termA = _tr(V, X.T @ (X * (w / kr)[:, None]))
        wk = np.empty(N)
        wk[gid] = w / kr  # constant within a cluster
        termB = _tr(V, t.T @ (t * wk[:, None]) - X.T @ (X * wk[gid][:, None]))
        tau2 = (QE - N + termA) / denom + rho * (termB / denom)
        tau2 = 0.0 if tau2 < 0 else tau2
        d = N - termA - rho * termB
        I2 = (QE - d) / QE * 100
        I2 = 0.0 if I2 < 0 else I2
        rw = 1 / (kr * (vbar + tau2))
    else:
        Qa = float(np.sum((Z @ e) ** 2))
        sXJX = t.T @ t
        sXWWX = X.T @ (X * (w**2)[:, None])
        A1 = (np.sum(k**2) - _tr(V, (t * k[:, None]).T @ s) - _tr(V, (s * k[:, None]).T @ t)
              + _tr(V @ sXJX @ V, sXWJWX))
        B1 = M - _tr(V, s.T @ t) - _tr(V, t.T @ s) + _tr(V @ sXJX @ V, sXWWX)
        C1 = vi.sum() - _tr(V, sXJX)
        A2 = w.sum() - _tr(V, sXWJWX)
        B2 = w.sum() - _tr(V, sXWWX)
        C2 = M - p
        omega2 = ((Qa - C1) * A2 - (QE - C2) * A1) / (B1 * A2 - B2 * A1)
        omega2 = 0.0 if omega2 < 0 else omega2
        tau2 = (QE - C2) / A2 - omega2 * (B2 / A2)
        tau2 = 0.0 if tau2 < 0 else tau2
        rw = 1 / (vi + tau2 + omega2)

    # final fit and its robust variance
    XWr = X * rw[:, None]
    Q = np.linalg.inv(X.T @ XWr)
    beta = Q @ (XWr.T @ yi)
    er = yi - X @ beta
    if not small:
        u = Z @ (XWr * er[:, None])
        vcov = Q @ (u.T @ u) @ Q
        se = np.sqrt(np.diag(vcov)) * np.sqrt(N / (N - p))
        df = np.full(p, float(N - p))
    else:
        meat = np.zeros((p, p))
        svec = np.zeros((N, p))  # s_j for each coefficient
        D = np.zeros((N, p, p))  # X_j'C_j: [j, :, h] is row j of D for coefficient h
        order = np.argsort(gid, kind="stable")
        sizes = np.bincount(gid, minlength=N)
        starts = np.r_[0, np.cumsum(sizes)[:-1]]
        for n in np.unique(sizes):
            cl = np.flatnonzero(sizes == n)
            rows = order[starts[cl][:, None] + np.arange(n)]  # (m, n)
            Xb, wb, eb = X[rows], rw[rows], er[rows]
            ImH = np.eye(n) - (Xb @ Q @ np.swapaxes(Xb, 1, 2)) * wb[:, None, :]
            if model == "CORR":
                A = _inv_sqrt(ImH)
            else:
                dj = 1 / wb
                rt = np.sqrt(dj)
                A = rt[:, :, None] * _inv_sqrt(rt[:, :, None] * ImH * (dj**1.5)[:, None, :]) * rt[:, None, :]
            WX = Xb * wb[:, :, None]
            u = np.swapaxes(WX, 1, 2) @ (A @ eb[:, :, None])  # (m, p, 1)
            meat += np.einsum("mi,mj->ij", u[:, :, 0], u[:, :, 0])
            C = A @ WX @ Q  # (m, n, p)
            svec[cl] = np.einsum("mrh,mr->mh", C**2, 1 / wb)
            D[cl] = np.swapaxes(Xb, 1, 2) @ C
        vcov = Q @ meat @ Q
        se = np.sqrt(np.diag(vcov))
        df = np.empty(p)
        for h in range(p):
            Dh = D[:, :, h]  # (N, p)
            DQ = Dh @ Q
            g_diag = np.sum(DQ * Dh, axis=1)
            S = Dh.T @ Dh
            tr_B = np.sum(svec[:, h]) - np.sum(g_diag)
            off = _tr(Q @ S, Q @ S) - np.sum(g_diag**2)  # squared off-diagonal of DQD'
            df[h] = tr_B**2 / (np.sum((svec[:, h] - g_diag) ** 2) + off)
    tval = beta / se
    pval = 2 * dist.t_sf(np.abs(tval), df)
    crit = dist.t_isf((1 - level / 100) / 2, df)
    return RVEFit(
        beta=beta, se=se, stat=tval, df=df, p=pval, ci_low=beta - crit * se, ci_high=beta + crit * se,
        vcov=vcov, tau2=float(tau2), omega2=float(omega2), i2=float(I2), q=QE, weights=rw,
        model=model, rho=float(rho), small=bool(small), level=float(level), n_clusters=N, k=M,
        terms=tuple(terms))
