"""Dependent effect sizes: the three-level model, CR2 cluster-robust inference, aggregation.

Preclinical studies often report several comparisons (cohorts, doses, outcomes) from one
publication. Three answers, each matching its R reference:

* :func:`rma_mv`: metafor's ``rma.mv(yi, vi, mods, random = ~ 1 | cluster/inner,
  method = "REML")`` (Konstantopoulos 2011; Cheung 2014; Assink & Wibbelink 2016),
* :func:`robust`: clubSandwich's ``coef_test(fit, vcov = "CR2", cluster = study,
  test = "Satterthwaite")`` (Bell & McCaffrey 2002; Tipton 2015; Pustejovsky & Tipton 2018),
* :func:`aggregate`: metafor's ``aggregate.escalc(dat, cluster, rho, struct = "CS")``
  (CAMARADES' nested comparisons: one effect per cluster).

The three-level model for effect i of inner cluster c within study j is

.. math:: y_{i} = x_i'\\beta + u_j + u_{jc} + e_i,\\quad u_j\\sim N(0,\\sigma^2_1),\\;
          u_{jc}\\sim N(0,\\sigma^2_2),\\; e_i\\sim N(0,v_i),

so the marginal covariance is block diagonal by study with blocks
:math:`V_j = \\mathrm{diag}(v_j) + \\sigma^2_1 J_j + \\sigma^2_2 Z_jZ_j'` (:math:`J_j` all
ones, :math:`Z_j` the inner cluster indicators). No k-by-k matrix is formed: each block is
diagonal plus low rank, so the likelihood uses closed-form (Sherman-Morrison) inverses and
per-group sums (O(k) per evaluation); the CR2 adjustment, which needs a matrix function of
every cluster's block, stacks blocks of equal size into (m, n, n) arrays and works in batches.

With ``rho`` set, :func:`rma_mv` fits the correlated-and-hierarchical-effects (CHE) working
model of Pustejovsky & Tipton (2022, *Prev Sci* 23:425): the sampling errors of one study
correlate :math:`\\rho`, :math:`\\mathrm{diag}(v_j)` becomes
:math:`S_j(\\rho J_j + (1-\\rho)I)S_j`, :math:`S_j = \\mathrm{diag}(\\sqrt{v_j})` (metafor's
``vcalc(vi, cluster = study, obs = es_id, rho = rho)``, clubSandwich's
``impute_covariance_matrix``), and the likelihood works on the dense study blocks, batched by
block size, as the CR2 adjustment does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from premeta import distributions as dist
from premeta._shared import check, coef_table, factor
from premeta.deprecation import deprecated_alias
from premeta.errors import NotComputable
from premeta.models import moderators

#: Columns of :meth:`MultilevelFit.table` and :meth:`RobustTest.table`.


class _Inverse:
    """:math:`W = V^{-1}` of the three-level covariance in O(k), by Sherman-Morrison twice.

    With :math:`a = 1/v`, :math:`S_c = \\sum_{i\\in c}a_i` per inner cluster c,
    :math:`B = (D + \\sigma^2_2Z_2Z_2')^{-1} = D^{-1} - \\sum_c\\gamma_c\\,a_ca_c'` with
    :math:`\\gamma_c = \\sigma^2_2/(1+\\sigma^2_2S_c)`; with :math:`q = B1`
    (:math:`q_i = a_i/(1+\\sigma^2_2S_c)`) and :math:`Q_j = \\sum_{i\\in j}q_i` per study,
    :math:`W_j = B_j - \\delta_j\\,q_jq_j'`, :math:`\\delta_j = \\sigma^2_1/(1+\\sigma^2_1Q_j)`.
    Hence :math:`\\log|V| = \\sum\\log v_i + \\sum_c\\log(1+\\sigma^2_2S_c) +
    \\sum_j\\log(1+\\sigma^2_1Q_j)`, :math:`\\mathrm{tr}(WE_1) = \\sum_jQ_j/(1+\\sigma^2_1Q_j)` and,
    with :math:`R_c = S_c/(1+\\sigma^2_2S_c)`, :math:`\\mathrm{tr}(WE_2) = \\sum_c(R_c -
    \\delta_{j(c)}R_c^2)`, where :math:`E_l = Z_lZ_l'` (:math:`Z_1` study and :math:`Z_2`
    inner-cluster indicators) is :math:`\\partial V/\\partial\\sigma^2_l`.
    """

    def __init__(self, v, levels, sigma2):
        (Z1, Z2), (s, c), up = levels
        self.levels, self.a = levels, 1 / v
        S = Z2 @ self.a
        self.gam = sigma2[1] / (1 + sigma2[1] * S)
        self.q = self.a / (1 + sigma2[1] * S)[c]
        Q = Z1 @ self.q
        self.dlt = sigma2[0] / (1 + sigma2[0] * Q)
        self.logdet = np.log(v).sum() + np.log1p(sigma2[1] * S).sum() + np.log1p(sigma2[0] * Q).sum()
        R = S / (1 + sigma2[1] * S)
        self.trWE = np.array([np.sum(Q / (1 + sigma2[0] * Q)), np.sum(R - self.dlt[up] * R**2)])

    def __call__(self, x):
        """:math:`Wx` for x of shape (k,) or (k, p)."""
        (Z1, Z2), (s, c), _ = self.levels
        col = (slice(None),) + (None,) * (x.ndim - 1)
        a, q = self.a[col], self.q[col]
        return a * x - a * (self.gam[col] * (Z2 @ (a * x)))[c] - q * (self.dlt[col] * (Z1 @ (q * x)))[s]


def _reml(y, v, X, levels, sigma2):
    """GLS fit, restricted log-likelihood and its gradient in sigma2.

    Restricted log-likelihood (Harville 1977; with metafor's constant :math:`\\log|X'X|`)

    .. math:: \\ell_R = -\\tfrac12\\big[(k-p)\\log 2\\pi + \\log|V| + \\log|X'WX|
              - \\log|X'X| + r'Wr\\big],\\quad r = y - X\\hat\\beta,\\quad W = V^{-1},

    gradient :math:`\\partial\\ell_R/\\partial\\sigma^2_l = -\\tfrac12\\mathrm{tr}(PE_l) +
    \\tfrac12\\|Z_l'Py\\|^2` with :math:`P = W - WX(X'WX)^{-1}X'W`, :math:`Py = Wr` and
    :math:`\\mathrm{tr}(PE_l) = \\mathrm{tr}(WE_l) - \\mathrm{tr}\\big((X'WX)^{-1}(Z_l'WX)'
    (Z_l'WX)\\big)`. Returns (beta, (X'WX)^{-1}, loglik, gradient).
    """
    W = _Inverse(v, levels, sigma2)
    WX = W(X)
    A = X.T @ WX
    Ainv = np.linalg.inv(A)
    beta = Ainv @ (WX.T @ y)
    r = y - X @ beta
    u = W(r)
    grad = np.empty(2)
    for component, Z in enumerate(levels[0]):
        T = Z @ WX
        grad[component] = -0.5 * (W.trWE[component] - np.sum(Ainv * (T.T @ T))) + 0.5 * np.sum((Z @ u) ** 2)
    ll = -0.5 * ((len(y) - X.shape[1]) * np.log(2 * np.pi) + W.logdet + np.linalg.slogdet(A)[1]
                 - np.linalg.slogdet(X.T @ X)[1] + r @ u)
    return beta, Ainv, ll, grad


def _parts(cluster, study, inner, v, rho=None, V=None):
    """The pieces of the dense covariance blocks of independent clusters, stacked by block size.

    Yields (rows, S, E1, E2): rows (m, n) the row numbers of the m clusters of size n; the
    sampling covariance S (m, n, n), :math:`\\mathrm{diag}(v)`, or with ``rho``
    :math:`\\sqrt{v_iv_{i'}}\\,(\\rho[\\text{same study}] + (1-\\rho)[i = i'])` (CHE), or the
    clusters' blocks of a given sparse sampling covariance ``V`` (block diagonal by cluster); E1 and E2
    the indicators of the same study and the same inner cluster (:math:`\\partial V/\\partial\\sigma^2_l`).
    """
    order = np.argsort(cluster, kind="stable")
    sizes = np.bincount(cluster)
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    if V is not None:  # each row's place in its cluster's block: rows[b, pos[r]] == r
        pos = np.empty(len(cluster), dtype=np.intp)
        pos[order] = np.arange(len(cluster)) - starts[cluster[order]]
        V = V.tocoo()
    for n in np.unique(sizes[sizes > 0]):
        rows = order[starts[sizes == n][:, None] + np.arange(n)]
        same = [f[rows][:, :, None] == f[rows][:, None, :] for f in (study, inner)]
        if V is not None:
            block = np.full(len(sizes), -1)
            block[sizes == n] = np.arange(len(rows))
            b = block[cluster[V.row]]
            at = b >= 0
            S = np.zeros((len(rows), n, n))
            S[b[at], pos[V.row[at]], pos[V.col[at]]] = V.data[at]
        elif rho is None:
            S = v[rows][:, :, None] * np.eye(n)
        else:
            sv = np.sqrt(v[rows])
            S = sv[:, :, None] * sv[:, None, :] * (rho * same[0] + (1 - rho) * np.eye(n))
        yield rows, S, same[0], same[1]


def _blocks(cluster, study, inner, v, sigma2, rho=None, V=None):
    """The dense covariance blocks of independent clusters, stacked by block size.

    Yields (rows, V): rows (m, n) the row numbers of the m clusters of size n, V (m, n, n)
    :math:`S + \\sigma^2_1[\\text{same study}] + \\sigma^2_2[\\text{same inner cluster}]` with the
    sampling covariance S of :func:`_parts` (diagonal, correlated ``rho`` within a study, or given: ``V``).
    """
    for rows, S, E1, E2 in _parts(cluster, study, inner, v, rho, V):
        yield rows, S + sigma2[0] * E1 + sigma2[1] * E2


def _reml_dense(y, X, parts, sigma2):
    """``_reml`` for a general block-diagonal sampling covariance (the CHE model).

    ``parts`` is the list of :func:`_parts` of the studies. Per block of equal size, batched:
    :math:`V_j = S_j + \\sigma^2_1E_{1j} + \\sigma^2_2E_{2j}`, its Cholesky factor for
    :math:`\\log|V_j|`, :math:`W_j = V_j^{-1}`; then the same restricted log-likelihood and
    gradient as ``_reml``: :math:`\\partial\\ell_R/\\partial\\sigma^2_l = -\\tfrac12[\\mathrm{tr}(WE_l)
    - \\mathrm{tr}((X'WX)^{-1}X'WE_lWX)] + \\tfrac12 u'E_lu`, :math:`u = Wr = Py`.
    O(sum of n_j^3) per evaluation. Returns (beta, (X'WX)^{-1}, loglik, gradient).
    """
    p = X.shape[1]
    A, b, logdet, trWE = np.zeros((p, p)), np.zeros(p), 0.0, np.zeros(2)
    cache = []
    for rows, S, E1, E2 in parts:
        V = S + sigma2[0] * E1 + sigma2[1] * E2
        logdet += 2 * np.sum(np.log(np.diagonal(np.linalg.cholesky(V), axis1=1, axis2=2)))
        W = np.linalg.inv(V)
        W = (W + np.swapaxes(W, 1, 2)) / 2
        Xj = X[rows]
        WX = W @ Xj
        A += np.einsum("mnp,mnq->pq", Xj, WX)
        b += np.einsum("mnp,mn->p", WX, y[rows])
        trWE += [np.sum(W * E1), np.sum(W * E2)]
        cache.append((rows, W, WX, E1, E2))
    Ainv = np.linalg.inv(A)
    beta = Ainv @ b
    r = y - X @ beta
    rWr, grad = 0.0, np.zeros(2)
    T = np.zeros((2, p, p))
    for rows, W, WX, E1, E2 in cache:
        u = np.einsum("mab,mb->ma", W, r[rows])
        rWr += np.sum(u * r[rows])
        for component, E in enumerate((E1, E2)):
            Ef = E.astype(float)
            T[component] += np.einsum("map,mab,mbq->pq", WX, Ef, WX)
            grad[component] += 0.5 * np.einsum("ma,mab,mb->", u, Ef, u)
    grad -= 0.5 * (trWE - np.sum(Ainv[None] * T, axis=(1, 2)))
    ll = -0.5 * ((len(y) - p) * np.log(2 * np.pi) + logdet + np.linalg.slogdet(A)[1]
                 - np.linalg.slogdet(X.T @ X)[1] + rWr)
    return beta, Ainv, ll, grad


@dataclass
class MultilevelFit:
    """A three-level random-effects model (metafor's ``rma.mv`` object).

    ``beta``, ``se``, ``stat``, ``p``, ``ci_low``, ``ci_high`` are per coefficient (intercept
    first; metafor ``beta``, ``se``, ``zval``, ``pval``, ``ci.lb``, ``ci.ub``), named by
    ``terms``; ``vcov`` is their covariance (metafor ``vb``; ``vb`` is premeta 0.2's name, deprecated);
    ``df`` is NaN per coefficient (z tests; :func:`robust` gives the t df). ``sigma2``,
    ``s_nlevels`` and ``i2`` (metafor's FAQ ``I2`` per level) are per level: [cluster, inner level
    within cluster]; ``i2_total`` their sum. ``q``, ``q_p`` are metafor's ``QE``, ``QEp``,
    ``n_coefs`` its ``p``, ``loglik`` its ``logLik``. The remaining fields keep the data for
    :func:`robust`. :meth:`table` gives the coefficients as a DataFrame.
    """

    beta: np.ndarray
    vcov: np.ndarray
    se: np.ndarray
    stat: np.ndarray
    p: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    sigma2: np.ndarray
    s_nlevels: np.ndarray
    k: int
    n_coefs: int
    q: float
    q_p: float
    i2: np.ndarray
    i2_total: float
    loglik: float
    level: float
    converged: bool
    yi: np.ndarray
    vi: np.ndarray
    X: np.ndarray
    study: np.ndarray
    inner: np.ndarray
    k_omitted: int = 0  # rows left out for a missing yi, vi or moderator (metafor's k.all - k)
    not_na: np.ndarray | None = None  # which of the k_all input rows were used
    rho: float | None = None  # CHE: correlation of the sampling errors within a study (None: independent)
    V: sparse.csr_matrix | None = None  # the given sampling covariance (k x k), block diagonal by study
    terms: tuple = ("intrcpt",)  # coefficient names (metafor's rownames of beta)

    vb = deprecated_alias("vcov", "MultilevelFit.vb")

    @property
    def df(self) -> np.ndarray:
        """NaN per coefficient: Wald z tests, as metafor's (:func:`robust` gives t tests and their df)."""
        return np.full(len(self.beta), np.nan)

    def weights(self) -> np.ndarray:
        r"""Each effect's weight in percent, metafor's ``weights(fit)`` (``type = "diagonal"``):
        :math:`100\,w_i/\sum_j w_j` with :math:`w_i = (V^{-1})_{ii}`, the marginal covariance
        :math:`V` of the fit (its study blocks, :func:`_blocks`)."""
        w = np.empty(self.k)
        for rows, V in _blocks(self.study, self.study, self.inner, self.vi, self.sigma2, self.rho, self.V):
            w[rows] = np.diagonal(np.linalg.inv(V), axis1=1, axis2=2)
        return 100 * w / w.sum()

    def table(self) -> pd.DataFrame:
        """One row per coefficient: :data:`premeta._shared.COEF_COLUMNS` (``df`` NaN: Wald z tests, as metafor)."""
        return coef_table(self)


def rma_mv(yi, vi, cluster, inner=None, mods=None, level: float = 95, rho: float | None = None) -> MultilevelFit:
    """Three-level meta-analysis: effects (or inner clusters: comparisons, cohorts) in clusters (studies).

    Equals metafor's ``rma.mv(yi, vi, mods = mods, random = ~ 1 | cluster/inner,
    method = "REML")``. The variance components
    :math:`\\sigma^2 = (\\sigma^2_1, \\sigma^2_2)` (between studies; between clusters within
    a study) maximise the restricted log-likelihood (see ``_reml``) over
    :math:`\\sigma^2_l \\ge 0`, by L-BFGS-B with the analytic gradient (metafor: nlminb on
    :math:`\\log\\sigma^2_l`, so a component at the boundary is reported as a tiny positive
    number there and as 0 here). Then, as metafor,

    .. math:: \\hat\\beta = (X'WX)^{-1}X'Wy,\\quad \\mathrm{Var}(\\hat\\beta) = (X'WX)^{-1},
              \\quad W = V^{-1},

    with Wald z tests and intervals; :math:`Q_E = y'P_0y` with the common-effect weights
    :math:`W_0 = \\mathrm{diag}(1/v_i)`, on k - p df; and the multilevel I² of the metafor FAQ
    and Cheung (2014, *Psychol Methods* 19(2)):

    .. math:: I^2_l = 100\\,\\frac{\\sigma^2_l}{\\sum_m\\sigma^2_m + \\tilde v},\\quad
              \\tilde v = \\frac{k-p}{\\mathrm{tr}(P_0)},

    the typical sampling variance of metafor's univariate I² (Higgins & Thompson 2002).

    With ``rho`` the sampling errors of one study correlate :math:`\\rho` (the
    correlated-and-hierarchical-effects working model, CHE; Pustejovsky & Tipton 2022,
    *Prev Sci* 23:425): the marginal covariance of study j is

    .. math:: V_j = S_j(\\rho J_j + (1-\\rho)I)S_j + \\sigma^2_1J_j + \\sigma^2_2Z_jZ_j',
              \\quad S_j = \\mathrm{diag}(\\sqrt{v_j}),

    which equals ``V <- vcalc(vi, cluster = study, obs = es_id, rho = rho)`` (or clubSandwich's
    ``impute_covariance_matrix(vi, cluster = study, r = rho)``) and
    ``rma.mv(yi, V, mods, random = ~ 1 | study/es_id, method = "REML")``; follow it with
    :func:`robust` (``coef_test(fit, vcov = "CR2", cluster = study)``), the inference
    Pustejovsky & Tipton recommend, as rho is a guess. The likelihood is evaluated on the dense
    study blocks, batched by block size (``_reml_dense``); :math:`Q_E` and
    :math:`\\tilde v` then use :math:`W_0 = \\mathrm{blockdiag}(S_j(\\rho J_j + (1-\\rho)I)S_j)^{-1}`
    (as metafor and its FAQ, with the sampling V in place of the diagonal).

    With ``vi`` a k-by-k matrix, the sampling covariance is that matrix, block diagonal by
    ``cluster`` (metafor's ``rma.mv(yi, V, random = ~ 1 | cluster/inner)``), e.g. the covariance of
    comparisons sharing a control group (:func:`premeta.effects.shared_control_vcov`, metafor's
    ``vcalc``): the same dense-block likelihood, :math:`Q_E` and :math:`\\tilde v` with
    :math:`W_0 = V^{-1}`, and :func:`robust` with :math:`V_j` built on it.

    Parameters
    ----------
    yi : array-like of shape (k,)
        Effect sizes.
    vi : array-like of shape (k,), or (k, k) array or scipy sparse matrix
        Sampling variances (vi > 0), or the sampling covariance V (its diagonal the variances;
        zero between clusters).
    cluster : array-like of shape (k,)
        Outer level (the study), the unit of dependence.
    inner : array-like of shape (k,), optional
        Inner level (comparison, cohort); labels may repeat across clusters (the inner level
        is the pair, as ``cluster/inner`` in R). None: each effect its own (``~ 1 | study/es_id``).
    mods : pandas.DataFrame or array-like of shape (k, q), optional
        Moderators; an intercept is added. A DataFrame is coded by :func:`premeta.models.design`
        (text columns dummy-coded, first level the reference, as metafor's ``mods = ~ ...``).
        Rows with a missing (NaN) yi, vi or moderator are left out of the model and counted in
        ``k_omitted`` (metafor: ``k.all - k``).
    level : float
        Confidence level in percent.
    rho : float, optional
        Within-study correlation of the sampling errors (CHE working model),
        -1/(n_max - 1) < rho < 1 with n_max the largest study; None (default) keeps them
        independent (the O(k) Sherman-Morrison path). Not with a matrix ``vi``.

    Returns
    -------
    MultilevelFit
        Its :meth:`~MultilevelFit.table`: ``term, estimate, se, stat, df, p, ci_low, ci_high``
        (metafor ``beta, se, zval, pval, ci.lb, ci.ub``; ``df`` NaN, z tests).

    Examples
    --------
    >>> import premeta
    >>> yi = [0.1, 0.3, 0.35, 0.65, 0.45, 0.15, 0.8, 0.2]
    >>> vi = [0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.08, 0.04]
    >>> study = ["s1", "s1", "s2", "s2", "s3", "s3", "s4", "s4"]
    >>> f = premeta.rma_mv(yi, vi, study)
    >>> f.sigma2.round(4)
    array([0.    , 0.0311])
    >>> f.table().round(4)
          term  estimate      se    stat  df       p  ci_low  ci_high
    0  intrcpt    0.3633  0.0897  4.0495 NaN  0.0001  0.1874   0.5391
    """
    yi = np.asarray(yi, dtype=float)
    k_all = len(yi)
    V = None
    if sparse.issparse(vi) or np.ndim(vi) == 2:
        V = sparse.csr_matrix(vi, dtype=float)
        if V.shape != (k_all, k_all) or abs(V - V.T).max() > 1e-12 * abs(V).max():
            raise ValueError(f"the sampling covariance V must be a symmetric {k_all} x {k_all} matrix")
        if rho is not None:
            raise ValueError("give either rho or the sampling covariance V, not both")
        vi = V.diagonal()
    vi = np.asarray(vi, dtype=float)
    X, terms = np.ones((k_all, 1)), ["intrcpt"]
    if mods is not None:
        Xm, names = moderators(mods, k_all)
        X, terms = np.column_stack([X, Xm]), terms + names
    study = np.asarray(cluster, dtype=object)
    cluster2 = np.arange(k_all, dtype=object) if inner is None else np.asarray(inner, dtype=object)
    if len(study) != k_all or len(cluster2) != k_all:
        raise ValueError(f"cluster and inner must have length {k_all}")
    # rows with a missing yi, vi or moderator are left out and counted, as metafor (k.all - k)
    not_na = ~(np.isnan(yi) | np.isnan(vi) | np.isnan(X).any(axis=1))
    yi, vi = check(yi[not_na], vi[not_na])
    X, study, cluster2 = X[not_na], study[not_na], cluster2[not_na]
    k, p = X.shape
    (s, _), (c2, _) = factor(study), factor(cluster2)
    if V is not None:
        V = V[not_na][:, not_na].tocsr()
        i, j = V.nonzero()
        if (s[i] != s[j]).any():
            raise ValueError("the sampling covariance V must be block diagonal by cluster: rows "
                             f"{i[s[i] != s[j]][0]} and {j[s[i] != s[j]][0]} of different clusters covary")
    if k <= p:
        raise NotComputable(f"k = {k} effects with complete data ({k_all - k} omitted) must exceed p = {p}")
    inner = np.unique(s * (c2.max() + 1) + c2, return_inverse=True)[1]
    up = np.zeros(inner.max() + 1, dtype=np.intp)
    up[inner] = s  # the study of each inner cluster
    levels = ([sparse.csr_matrix((np.ones(k), (f, np.arange(k)))) for f in (s, inner)], (s, inner), up)

    # common-effect fit: QE and the typical sampling variance of I2
    w = 1 / vi
    A0inv = np.linalg.inv(X.T @ (w[:, None] * X))
    r0 = yi - X @ (A0inv @ (X.T @ (w * yi)))
    QE = float(np.sum(w * r0**2))
    vt = (k - p) / (w.sum() - np.sum(A0inv * (X.T @ (w[:, None] ** 2 * X))))
    if rho is not None or V is not None:
        if rho is not None:
            rho = float(rho)
            n_max = np.bincount(s).max()
            if not 1 > rho > -1 / max(n_max - 1, 1):
                raise NotComputable(f"rho = {rho} does not give a positive-definite covariance in every study")
        parts = list(_parts(s, s, inner, vi, rho, V))
        # QE and the typical sampling variance with the correlated sampling covariance:
        # W0 blocks S_j^-1, QE = r0'W0r0 at the GLS fit, tr(P0) = tr(W0) - tr(A0^-1 X'W0W0X)
        A0, b0, trW0, XWWX, W0s = np.zeros((p, p)), np.zeros(p), 0.0, np.zeros((p, p)), []
        for rows, S0, _, _ in parts:
            W0 = np.linalg.inv(S0)
            W0X = W0 @ X[rows]
            A0 += np.einsum("mnp,mnq->pq", X[rows], W0X)
            b0 += np.einsum("mnp,mn->p", W0X, yi[rows])
            trW0 += np.trace(W0, axis1=1, axis2=2).sum()
            XWWX += np.einsum("mnp,mnq->pq", W0X, W0X)
            W0s.append((rows, W0))
        A0inv = np.linalg.inv(A0)
        r0c = yi - X @ (A0inv @ b0)
        QE = float(sum(np.einsum("ma,mab,mb->", r0c[rows], W0, r0c[rows]) for rows, W0 in W0s))
        vt = (k - p) / (trW0 - np.sum(A0inv * XWWX))

        def reml(Xm, sig):
            return _reml_dense(yi, Xm, parts, sig)
    else:
        def reml(Xm, sig):
            return _reml(yi, vi, Xm, levels, sig)

    # optimise on sigma2 / scale, so that the tolerances do not depend on the effect's units,
    # with orthonormal columns Q (X = QR) in place of X: the same restricted likelihood
    # (log|X'WX| - log|X'X| = log|Q'WQ|), without the rounding of ill-conditioned moderators
    scale = max(float(np.var(r0)), float(np.mean(vi)))
    Q = np.linalg.qr(X)[0]

    def objective(x):
        ll, g = reml(Q, x * scale)[2:]
        return -ll, -g * scale

    from scipy import optimize  # here, not at the top: it adds ~0.3 s to every job's start

    res = optimize.minimize(objective, np.full(2, 0.25), jac=True, method="L-BFGS-B", bounds=[(0, None)] * 2,
                            options={"ftol": 1e-14, "gtol": 1e-10, "maxiter": 10000})
    sigma2 = res.x * scale
    # a line search that stalls at rounding level still ends at the optimum if the score in
    # log(sigma2) (relative change of sigma2) vanishes, and at 0 the score points outward
    score = np.where(res.x > 0, res.jac * res.x, np.minimum(res.jac, 0))
    converged = res.success or np.max(np.abs(score)) < 1e-6
    beta, vb, ll, _ = reml(X, sigma2)
    se = np.sqrt(np.diag(vb))
    z = beta / se
    crit = dist.norm_isf((1 - level / 100) / 2)
    return MultilevelFit(
        beta=beta, vcov=vb, se=se, stat=z, p=2 * dist.norm_sf(np.abs(z)),
        ci_low=beta - crit * se, ci_high=beta + crit * se, sigma2=sigma2,
        s_nlevels=np.array([s.max() + 1, inner.max() + 1]), k=k,
        n_coefs=p, q=QE, q_p=float(dist.chi2_sf(QE, k - p)), i2=100 * sigma2 / (sigma2.sum() + vt),
        i2_total=float(100 * sigma2.sum() / (sigma2.sum() + vt)), loglik=float(ll), level=level,
        converged=bool(converged), yi=yi, vi=vi, X=X, study=s, inner=inner, k_omitted=int(k_all - k),
        not_na=not_na, rho=rho, V=V, terms=tuple(terms),
    )


@dataclass
class RobustTest:
    """Cluster-robust (CR2) tests per coefficient, clubSandwich's ``coef_test``/``conf_int``.

    ``beta``, ``se``, ``stat``, ``df``, ``p``, ``ci_low``, ``ci_high`` per coefficient
    (clubSandwich ``beta``, ``SE``, ``tstat``, ``df_Satt``, ``p_Satt``, ``CI_L``, ``CI_U``),
    ``vcov`` the CR2 covariance; :meth:`table` gives them as a DataFrame.
    """

    beta: np.ndarray
    vcov: np.ndarray
    se: np.ndarray
    stat: np.ndarray
    df: np.ndarray
    p: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    n_clusters: int
    level: float
    terms: tuple = ("intrcpt",)

    def table(self) -> pd.DataFrame:
        """One row per coefficient: :data:`premeta._shared.COEF_COLUMNS` (t tests, Satterthwaite df)."""
        return coef_table(self)


def robust(fit: MultilevelFit, cluster=None, level: float | None = None) -> RobustTest:
    """CR2 cluster-robust standard errors with Satterthwaite degrees of freedom.

    Equals clubSandwich's ``coef_test(fit, vcov = "CR2", cluster = cluster,
    test = "Satterthwaite")`` and ``conf_int`` for an ``rma.mv`` fit (metafor's
    ``robust(fit, cluster, clubSandwich = TRUE)``), whose working weights are the fitted
    :math:`W_j = V_j^{-1}` and whose target variance is :math:`V_j` itself
    (``inverse_var = TRUE``). With :math:`M = (X'WX)^{-1}`, residuals :math:`r = y - X\\hat\\beta`
    and, for each cluster j, :math:`V_j = L_jL_j'` (Cholesky),

    .. math:: G_j = L_j'(V_j - X_jMX_j')L_j,\\quad A_j = L_jG_j^{-1/2}L_j',\\quad
              E_j = X_j'W_jA_j,\\quad V^{CR2} = M\\Big(\\sum_j E_jr_jr_j'E_j'\\Big)M

    (Bell & McCaffrey 2002; Pustejovsky & Tipton 2018, *JBES* 36(4); the symmetric inverse
    square root drops eigenvalues below 1e-12, as ``clubSandwich:::matrix_power``). The
    Satterthwaite df of coefficient i is :math:`(\\mathrm{tr}\\,\\Pi_i)^2/\\|\\Pi_i\\|_F^2` for the
    J-by-J matrix :math:`\\Pi_i = \\mathrm{diag}(\\|g_{ij}\\|^2) - H_iH_i'` with
    :math:`g_{ij}` row i of :math:`ME_jL_j` and row j of :math:`H_i` row i of
    :math:`ME_jX_jC`, :math:`CC' = M` (``clubSandwich:::get_P_array`` and ``Satterthwaite``);
    the traces are taken from p-by-p sums, never from :math:`\\Pi_i`. Tests and intervals use
    t with those df. For a CHE fit (``rma_mv(..., rho=rho)``) :math:`V_j` includes the
    correlated sampling errors :math:`S_j(\\rho J + (1-\\rho)I)S_j`, rebuilt from the fit's ``vi``,
    ``study`` and ``rho`` (Pustejovsky & Tipton 2022); for a fit to a given sampling covariance
    (``rma_mv(yi, V, ...)``) its block of V (clubSandwich's target ``fit$M``).

    Parameters
    ----------
    fit : MultilevelFit
    cluster : array-like of shape (k,), optional
        Clustering variable; the default is the fit's ``study``. It may also be given for all
        input rows, those omitted by :func:`rma_mv` included (as clubSandwich). Studies must be nested in
        clusters.
    level : float, optional
        Confidence level in percent; the fit's by default.

    Returns
    -------
    RobustTest
        Its :meth:`~RobustTest.table`: ``term, estimate, se, stat, df, p, ci_low, ci_high``.

    Examples
    --------
    >>> import premeta
    >>> yi = [0.1, 0.3, 0.35, 0.65, 0.45, 0.15, 0.8, 0.2]
    >>> vi = [0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.08, 0.04]
    >>> study = ["s1", "s1", "s2", "s2", "s3", "s3", "s4", "s4"]
    >>> premeta.robust(premeta.rma_mv(yi, vi, study)).table().round(4)
          term  estimate      se    stat      df       p  ci_low  ci_high
    0  intrcpt    0.3633  0.0874  4.1545  2.9088  0.0269    0.08   0.6465
    """
    level = fit.level if level is None else level
    if cluster is not None and fit.not_na is not None and len(cluster) == len(fit.not_na) != fit.k:
        cluster = np.asarray(cluster, dtype=object)[fit.not_na]  # given for all rows, as clubSandwich
    c = fit.study if cluster is None else factor(cluster)[0]
    J = c.max() + 1
    if len(c) != fit.k or len(np.unique(fit.study * J + c)) != fit.s_nlevels[0]:
        raise ValueError("cluster must have one value per effect and the studies must be nested in it")
    X, M = fit.X, fit.vcov
    r = fit.yi - X @ fit.beta
    C = np.linalg.cholesky(M)
    comps, g2, H = [], [], []
    for idx, V in _blocks(c, fit.study, fit.inner, fit.vi, fit.sigma2, fit.rho, fit.V):
        L = np.linalg.cholesky(V)
        Xj = X[idx]
        G = np.swapaxes(L, 1, 2) @ (V - Xj @ M @ np.swapaxes(Xj, 1, 2)) @ L
        lam, Q = np.linalg.eigh(G)
        lam = np.where(lam > 1e-12, np.maximum(lam, 1e-12) ** -0.5, 0)
        Gih = (Q * lam[:, None, :]) @ np.swapaxes(Q, 1, 2)
        A = L @ Gih @ np.swapaxes(L, 1, 2)
        E = np.swapaxes(np.linalg.solve(V, Xj), 1, 2) @ A  # X_j' W_j A_j, (m, p, n)
        ME = M @ E
        comps.append(np.einsum("mpn,mn->mp", E, r[idx]))
        g2.append(np.sum((ME @ L) ** 2, axis=2))
        H.append(ME @ Xj @ C)
    comps, g2, H = np.concatenate(comps), np.concatenate(g2), np.concatenate(H)
    vcov = M @ (comps.T @ comps) @ M
    h2 = np.sum(H**2, axis=2)  # ||h_ij||^2, (J, p)
    HtH = np.einsum("jia,jib->iab", H, H)  # per coefficient, p x p
    tr = g2.sum(0) - h2.sum(0)
    ss = np.sum(g2**2, 0) - 2 * np.sum(g2 * h2, 0) + np.sum(HtH**2, axis=(1, 2))
    df = tr**2 / ss
    se = np.sqrt(np.diag(vcov))
    t = fit.beta / se
    crit = dist.t_isf((1 - level / 100) / 2, df)
    return RobustTest(beta=fit.beta, vcov=vcov, se=se, stat=t, df=df, p=2 * dist.t_sf(np.abs(t), df),
                      ci_low=fit.beta - crit * se, ci_high=fit.beta + crit * se, n_clusters=int(J), level=level,
                      terms=fit.terms)


def aggregate(yi, vi, cluster, rho: float) -> pd.DataFrame:
    """One effect per cluster: the GLS mean under a constant within-cluster correlation.

    Equals metafor's ``aggregate(escalc, cluster = cluster, rho = rho, struct = "CS")``:
    within cluster c the sampling errors have covariance :math:`V_c = S(\\rho J + (1-\\rho)I)S`,
    :math:`S = \\mathrm{diag}(\\sqrt{v_i})`, and

    .. math:: y_c = \\frac{1'V_c^{-1}y}{1'V_c^{-1}1},\\quad v_c = \\frac{1}{1'V_c^{-1}1}.

    With :math:`a_i = v_i^{-1/2}` the inverse is closed form (Sherman-Morrison),
    :math:`1'V_c^{-1}x = \\big(\\sum a_i^2x_i - \\frac{\\rho}{1+(n_c-1)\\rho}\\sum a_i
    \\sum a_ix_i\\big)/(1-\\rho)`, so no matrix is formed. Clusters are returned in order of
    first appearance, as metafor.

    Parameters
    ----------
    yi, vi : array-like of shape (k,)
    cluster : array-like of shape (k,)
    rho : float
        Correlation of sampling errors within a cluster, -1/(n_c - 1) < rho < 1.

    Returns
    -------
    pandas.DataFrame
        Columns ``cluster``, ``yi``, ``vi``, ``ki`` (effects combined).

    Examples
    --------
    >>> import premeta
    >>> yi = [0.1, 0.3, 0.35, 0.65, 0.45, 0.15, 0.8, 0.2]
    >>> vi = [0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.08, 0.04]
    >>> study = ["s1", "s1", "s2", "s2", "s3", "s3", "s4", "s4"]
    >>> premeta.aggregate(yi, vi, study, rho=0.5).round(4)
      cluster      yi      vi  ki
    0      s1  0.2000  0.0225   2
    1      s2  0.6594  0.0100   2
    2      s3  0.1827  0.0195   2
    3      s4  0.3108  0.0378   2
    """
    yi, vi = check(yi, vi)
    codes, labels = pd.factorize(pd.Series(np.asarray(cluster, dtype=object)))
    if len(codes) != len(yi) or (codes < 0).any():
        raise ValueError("cluster must have one non-missing value per effect")
    n = np.bincount(codes)
    if not 1 > rho > -1 / max(n.max() - 1, 1):
        raise NotComputable(f"rho = {rho} does not give a positive-definite covariance in every cluster")
    a = 1 / np.sqrt(vi)
    sa, shrink = np.bincount(codes, a), rho / (1 + (n - 1) * rho)
    one_w_one = (np.bincount(codes, a**2) - shrink * sa**2) / (1 - rho)
    one_w_y = (np.bincount(codes, a**2 * yi) - shrink * sa * np.bincount(codes, a * yi)) / (1 - rho)
    return pd.DataFrame({"cluster": list(labels), "yi": one_w_y / one_w_one, "vi": 1 / one_w_one, "ki": n})
