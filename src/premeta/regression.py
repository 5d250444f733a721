"""Meta-regression (mixed-effects models with moderators) and permutation tests.

Follows metafor 3.8's ``rma.uni(yi, vi, mods = ~ ...)`` and ``permutest.rma.uni``
(Viechtbauer 2010, *J Stat Softw* 36(3)) and uses its names. For stratum *g* the model is

.. math:: y_i = \\beta_0 + x_i'\\beta + u_i + e_i,\\quad u_i\\sim N(0,\\tau^2_g),
          \\quad e_i\\sim N(0,v_i),

fitted by :func:`premeta.models.fit` (tau2 by ``method``; ``test="knha"`` is the Knapp and
Hartung 2003 adjustment). Every stratum, and every permutation of a permutation test, is a
stratum of one stacked :func:`~premeta.models.fit` call.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from premeta.deprecation import renamed_arguments
from premeta._shared import design_terms, factor
from premeta.errors import NotComputable
from premeta.models import fit, wald_test

#: metafor's ``comptol`` in ``permutest``: a permuted statistic counts as at least as extreme
#: as the observed one when it is >= the observed value minus this (numerical ties).
COMPTOL = np.finfo(float).eps ** 0.5
#: rows per stacked fit call in :func:`permutest` (the permutations are fitted in chunks).
CHUNK_ROWS = 2**20
#: largest number of distinct permutations :func:`permutest` enumerates.
MAX_EXACT = 10**7


def _unfittable(Xg: np.ndarray, terms, p: int) -> str:
    """Why a stratum's meta-regression cannot be fitted, or "" if it can.

    ``Xg`` holds the stratum's complete rows and the columns present there (the dummies of
    levels absent from the stratum, and of the level that stands in for an absent reference, are
    left out beforehand, and ``terms`` renumbered to match); ``p`` counts the intercept.
    """
    k = Xg.shape[0]
    if k == 0:
        return "no study with complete moderators"
    reasons = []
    for name, kind, cols, _ in terms:
        block = Xg[:, cols]
        if kind == "numeric":
            if np.ptp(block) == 0:
                reasons.append(f"{name} is constant")
            continue
        # a stratum without the reference level has taken another as its reference (metareg)
        if block.shape[1] + bool((block.sum(axis=1) == 0).any()) < 2:
            reasons.append(f"{name} has a single level")
    if reasons:
        return "; ".join(reasons) + " in this stratum: not fitted"
    if k <= p:
        return f"k = {k} <= {p} coefficients: no residual df, not fitted"
    if np.linalg.matrix_rank(np.column_stack([np.ones(k), Xg])) < p:
        return "moderators are collinear in this stratum: not fitted"
    return ""


def _pseudo_r2(method: str, tau2, QE, k, p, tau2_0, QE_0, yvar_zero) -> np.ndarray:
    """metafor's R² (``r2def = "1"``, in percent) from the model and the intercept-only model."""
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "FE":
            # metafor: adjusted R² of the weighted least-squares regression (weights 1/vi),
            # whose residual and total sums of squares are QE and QE of the intercept-only model.
            r2 = 100 * (1 - (QE / (k - p)) / (QE_0 / (k - 1)))
            zero = yvar_zero
        else:
            r2 = 100 * (tau2_0 - tau2) / tau2_0
            zero = tau2_0 == 0
    return np.where(zero, 0.0, np.where(np.isnan(r2), np.nan, np.maximum(0, r2)))


def metareg(yi, vi, mods: pd.DataFrame, groups=None, method: str = "REML", test: str = "z",
            level: float = 95) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Meta-regression on moderators in every stratum, as ``metafor::rma(yi, vi, mods = ~ ...)``.

    Coefficients :math:`\\hat\\beta = (X'WX)^{-1}X'Wy` with
    :math:`W = \\mathrm{diag}(1/(v_i+\\hat\\tau^2))` and
    :math:`\\mathrm{Var}(\\hat\\beta) = (X'WX)^{-1}` (z tests), scaled by
    :math:`s^2 = y'Py/(k-p)` with t tests on k - p df for ``knha`` (Knapp and Hartung 2003,
    *Stat Med* 22:2693-2710). The omnibus test of the moderators (metafor's ``QM``,
    Viechtbauer 2010) is :math:`Q_M = \\hat\\beta_1'V_1^{-1}\\hat\\beta_1 \\sim \\chi^2_{p-1}`
    (:math:`\\hat\\beta_1` all coefficients but the intercept), or :math:`Q_M/(p-1)` against
    :math:`F_{p-1,k-p}` for ``knha``. ``q`` (metafor ``QE``) tests the residual heterogeneity;
    ``i2`` and ``h2`` describe it, as in metafor.

    ``r2`` is metafor's pseudo-R², the proportional reduction in tau2 relative to the
    random-effects model without moderators fitted to the same rows by the same method
    (Raudenbush 2009, in *The Handbook of Research Synthesis and Meta-Analysis*, 2nd ed.):
    :math:`R^2 = \\max(0, 100(\\hat\\tau^2_{RE}-\\hat\\tau^2_{ME})/\\hat\\tau^2_{RE})`, 0 when
    :math:`\\hat\\tau^2_{RE} = 0`. For ``FE`` metafor 3.8 reports the adjusted R² of the
    weighted least-squares regression instead, :math:`\\max(0, 100(1 -
    \\frac{Q_E/(k-p)}{Q_{E,0}/(k-1)}))` (0 when all yi are equal), and so does this function.

    Rows with a missing moderator, yi or vi are left out of their stratum and counted
    (``k_omitted``, metafor's ``k.all - k``). The design is built once over all rows by
    :func:`premeta.models.design`. A level of a text moderator absent from a stratum has its dummy column
    left out there (metafor drops such an all-zero, redundant column) and the note names the
    term. A stratum without the moderator's reference level (the first over all rows) takes the
    first level present there as its reference, as R's ``factor`` of the stratum's rows (metafor
    ``rma(yi, vi, mods = ~ x, data = dat[dat$group == g, ])``; QM, tau2, R² and the residual
    test do not depend on the reference), and the note says so. A stratum whose moderators
    cannot be estimated (a constant moderator, a text moderator with a single level, collinear
    moderators, k <= p) is not fitted: it keeps its rows, with NaN statistics, ``converged`` False and a
    note saying why, and the other strata are unaffected. Strata that share the same design
    columns are fitted in one :func:`premeta.models.fit` call.

    Parameters
    ----------
    yi, vi : array-like of shape (N,)
        Effect sizes and sampling variances.
    mods : pandas.DataFrame
        At least one moderator, N rows in the order of yi (coded by :func:`premeta.models.design`).
    groups : array-like of shape (N,), optional
        Stratum of each row; None: one stratum, ``overall``.
    method, test, level
        As :func:`premeta.models.fit`; ``test`` default ``"z"`` (metafor's default, and premeta's everywhere).

    Returns
    -------
    coefs : pandas.DataFrame
        One row per stratum and coefficient (``intrcpt`` first, then the terms of
        :func:`premeta.models.design` in order): ``group, term, estimate, se, stat, df, p, ci_low, ci_high``
        (``df`` NaN for z tests).
    models : pandas.DataFrame
        One row per stratum: ``group, k``, ``k_omitted`` (metafor ``k.all - k``), ``n_coefs``
        (metafor ``p``: coefficients, intercept included),
        ``qm, qm_df1, qm_df2, qm_p`` (metafor ``QM``, ``QMdf``, ``QMp``: the omnibus test,
        chi-square on qm_df1 df, or F on qm_df1, qm_df2 with a t test), ``tau2``, ``i2``,
        ``h2`` (``I2``, ``H2``), ``q``, ``q_p`` (``QE``, ``QEp``: residual heterogeneity),
        ``r2`` (``R2``, percent), ``converged``, ``note``.

    Examples
    --------
    >>> import premeta
    >>> yi = [0.1, 0.3, 0.35, 0.65, 0.45, 0.15, 0.8, 0.2]
    >>> vi = [0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.08, 0.04]
    >>> import pandas as pd
    >>> mods = pd.DataFrame({"dose": [1, 2, 3, 4, 1, 2, 3, 4]})
    >>> coefs, models = premeta.metareg(yi, vi, mods)
    >>> coefs.round(4)
         group     term  estimate      se    stat  df       p  ci_low  ci_high
    0  overall  intrcpt    0.0810  0.1841  0.4401 NaN  0.6598 -0.2798   0.4418
    1  overall     dose    0.1103  0.0643  1.7140 NaN  0.0865 -0.0158   0.2364
    >>> models[["group", "k", "qm", "qm_p", "tau2", "r2"]].round(4)
         group  k      qm    qm_p    tau2       r2
    0  overall  8  2.9378  0.0865  0.0136  56.2144
    """
    yi = np.asarray(yi, dtype=float)
    vi = np.asarray(vi, dtype=float)
    X, names, terms = design_terms(mods)
    if X.shape[1] == 0:
        raise ValueError("metareg needs at least one moderator")
    if not (yi.shape == vi.shape == (X.shape[0],)):
        raise ValueError(f"yi, vi and mods must have the same number of rows, got "
                         f"{yi.shape}, {vi.shape} and {X.shape[0]}")
    if groups is None:
        gid, labels = np.zeros(len(yi), dtype=np.intp), ["overall"]
    else:
        gid, labels = factor(groups)
    G, q = len(labels), X.shape[1]
    ok = np.isfinite(yi) & np.isfinite(vi) & ~np.isnan(X).any(axis=1)
    k_all = np.bincount(gid, minlength=G)
    k = np.bincount(gid[ok], minlength=G)

    # Columns of each stratum: every numeric column, the dummies of the levels present there.
    is_dummy = np.zeros(q, dtype=bool)
    for _, kind, cols, _ in terms:
        is_dummy[cols] = kind == "factor"
    present = np.zeros((G, q))
    np.add.at(present, gid[ok], X[ok] != 0)
    keep = ~is_dummy | (present > 0)
    # A stratum without a text moderator's reference level but with 2 or more of its levels takes
    # the first level present as its reference, as R's factor of the stratum's rows (metafor
    # rma(yi, vi, mods = ~ x, data = <the stratum's rows>)).
    rebased = [[] for _ in range(G)]
    for name, kind, cols, ref in terms:
        if kind != "factor" or not cols:
            continue
        has_ref = np.zeros(G, dtype=bool)
        has_ref[gid[ok & (X[:, cols] == 0).all(axis=1)]] = True
        for g in np.flatnonzero(~has_ref & ((present[:, cols] > 0).sum(axis=1) >= 2)):
            first = cols[np.flatnonzero(present[g, cols] > 0)[0]]
            keep[g, first] = False
            rebased[g].append((first, f"reference level {ref!r} of {name} absent in this stratum: "
                                      f"{names[first][len(name):]!r} is its reference"))
    p = 1 + keep.sum(axis=1)
    notes = np.full(G, "", dtype=object)
    for g in range(G):
        cols = np.flatnonzero(keep[g])
        new = {c: i for i, c in enumerate(cols)}
        sub = [(n, kind, [new[c] for c in cs if c in new], ref) for n, kind, cs, ref in terms]
        notes[g] = _unfittable(X[ok & (gid == g)][:, cols], sub, p[g])
    fitted = notes == ""
    for g in np.flatnonzero(fitted & ~keep.all(axis=1)):
        references = {c for c, _ in rebased[g]}
        dropped = ", ".join(names[c] for c in np.flatnonzero(~keep[g]) if c not in references)
        notes[g] = "; ".join([why for _, why in rebased[g]]
                             + ([f"level absent in this stratum, term dropped: {dropped}"] if dropped else []))

    stats_ = {c: np.full(G, np.nan) for c in ("qm", "qm_df1", "qm_df2", "qm_p", "tau2", "i2",
                                              "h2", "q", "q_p", "tau2_0", "q_0")}
    converged = np.zeros(G, dtype=bool)
    parts = [pd.DataFrame({"g": np.repeat(np.flatnonzero(~fitted), q + 1),
                           "t": np.tile(np.arange(q + 1), (~fitted).sum())})]
    for mask in np.unique(keep[fitted], axis=0):
        rows = ok & (fitted & (keep == mask).all(axis=1))[gid]
        cols = np.flatnonzero(mask)
        f = fit(yi[rows], vi[rows], gid[rows], method, test, level, mods=X[rows][:, cols],
                confint=False)
        idx = np.asarray(f.groups)
        for c, a in zip(("qm", "qm_df1", "qm_df2", "qm_p"), wald_test(f)):
            stats_[c][idx] = a
        for c in ("tau2", "i2", "h2", "q", "q_p"):
            stats_[c][idx] = getattr(f, c)
        converged[idx] = f.converged
        crit = f.crit()[:, None]
        parts.append(pd.DataFrame({
            "g": np.repeat(idx, f.n_coefs), "t": np.tile(np.r_[0, 1 + cols], idx.size),
            "estimate": f.beta.ravel(), "se": f.se.ravel(), "stat": (f.beta / f.se).ravel(),
            "df": np.repeat(f.df, f.n_coefs), "p": f.p.ravel(),
            "ci_low": (f.beta - crit * f.se).ravel(), "ci_high": (f.beta + crit * f.se).ravel(),
        }))
    rows = ok & fitted[gid]
    if rows.any():  # the intercept-only models of the same rows, for R2
        null = fit(yi[rows], vi[rows], gid[rows], method, test, level, confint=False)
        idx = np.asarray(null.groups)
        stats_["tau2_0"][idx] = np.where(null.converged, null.tau2, np.nan)
        stats_["q_0"][idx] = null.q
    yvar_zero = (pd.Series(yi[ok]).groupby(gid[ok]).var().reindex(range(G)) == 0).to_numpy()
    r2 = _pseudo_r2(method, stats_["tau2"], stats_["q"], k, p, stats_.pop("tau2_0"),
                    stats_.pop("q_0"), yvar_zero & fitted)

    coefs = pd.concat(parts, ignore_index=True).sort_values(["g", "t"], ignore_index=True)
    coefs.insert(0, "group", [labels[g] for g in coefs.pop("g")])
    coefs.insert(1, "term", [(["intrcpt"] + names)[t] for t in coefs.pop("t")])
    coefs = coefs.reindex(columns=["group", "term", "estimate", "se", "stat", "df", "p",
                                   "ci_low", "ci_high"])
    bad = fitted & ~converged
    notes[bad] = [f"{method} did not converge" + (f"; {n}" if n else "") for n in notes[bad]]
    models = pd.DataFrame({"group": labels, "k": k, "k_omitted": k_all - k, "n_coefs": p, **stats_,
                           "r2": r2, "converged": converged, "note": notes})
    return coefs, models


def _distinct_permutations(codes: np.ndarray) -> np.ndarray:
    """Every distinct arrangement of a multiset, as an array of shape (n, len(codes)).

    ``codes`` are 0..m-1; each arrangement is built by choosing the positions of code 0 among
    all k positions, then those of code 1 among the rest, etc., so there are
    :math:`k!/\\prod_j n_j!` of them, each once.
    """
    k = codes.size
    arr = np.empty((1, k), dtype=np.intp)
    free = np.arange(k)[None, :]
    for c, n_c in enumerate(np.bincount(codes)):
        nf = free.shape[1]
        combos = np.array(list(itertools.combinations(range(nf), n_c)), dtype=np.intp).reshape(-1, n_c)
        C, n = combos.shape[0], arr.shape[0]
        rest_mask = np.ones((C, nf), dtype=bool)
        rest_mask[np.arange(C)[:, None], combos] = False
        rest = np.nonzero(rest_mask)[1].reshape(C, nf - n_c)
        arr = np.repeat(arr, C, axis=0)
        arr[np.arange(n * C)[:, None], free[:, combos].reshape(n * C, n_c)] = c
        free = free[:, rest].reshape(n * C, nf - n_c)
    return arr


def _permuted_stats(y, v, X, perms, method, test):
    """Test statistics (n, p) and QM (n,) of the models with the rows of X permuted by ``perms``.

    Each permutation is one stratum of a stacked fit (in chunks of about ``CHUNK_ROWS`` rows);
    a permutation whose tau2 did not converge gives NaN (metafor: a failed fit, left out).
    """
    n, k = perms.shape
    stat = np.full((n, X.shape[1] + 1), np.nan)
    qm = np.full(n, np.nan)
    step = max(1, CHUNK_ROWS // k)
    for a in range(0, n, step):
        P = perms[a:a + step]
        m = P.shape[0]
        f = fit(np.tile(y, m), np.tile(v, m), np.repeat(np.arange(m), k), method, test,
                mods=X[P.ravel()], confint=False)
        good = f.converged
        with np.errstate(invalid="ignore", divide="ignore"):
            stat[a:a + m][good] = (f.beta / f.se)[good]
        qm[a:a + m][good] = wald_test(f)[0][good]
    return stat, qm


@renamed_arguments(iter="permutations")
def permutest(yi, vi, mods: pd.DataFrame, method: str = "REML", test: str = "z",
              permutations: int = 1000, seed: int = 2024, exact: bool | None = None) -> pd.DataFrame:
    """Permutation tests of a meta-regression, as metafor's ``permutest.rma.uni``.

    The rows of the model matrix are permuted against (yi, vi) and the model is refitted
    (Higgins and Thompson 2004, *Stat Med* 23:1663-1682; Good 2000, *Permutation Tests*).
    With :math:`z_j^{(b)}` the test statistic of coefficient j (z, or t for ``knha``) and
    :math:`Q_M^{(b)}` the omnibus statistic in permutation b of B, metafor's two-sided
    p-values are

    .. math:: p_j = \\frac{1}{B}\\sum_b 1\\{|z_j^{(b)}| \\ge |z_j| - \\epsilon\\},\\qquad
              p_{Q_M} = \\frac{1}{B}\\sum_b 1\\{Q_M^{(b)} \\ge Q_M - \\epsilon\\},

    :math:`\\epsilon = \\sqrt{\\text{machine epsilon}}` (metafor's ``comptol``), over the
    permutations whose fit converged. The exact test enumerates every distinct permutation
    of the model-matrix rows, :math:`k!/\\prod_j n_j!` of them where :math:`n_j` are the
    multiplicities of tied rows (metafor's ``exact.iter``; the identity is among them). The
    approximate test draws ``permutations`` random permutations (``numpy.random.default_rng(seed)``),
    the first replaced by the observed order, as metafor; permutations whose fit fails are
    left out of B (metafor draws again instead).

    Parameters
    ----------
    yi, vi : array-like of shape (k,)
        Effect sizes and sampling variances; rows with a missing value are left out.
    mods : pandas.DataFrame
        Moderators (at least one), coded by :func:`premeta.models.design`.
    method, test
        As :func:`premeta.models.fit`; ``test`` default ``"z"`` (metafor's default, and premeta's everywhere).
    permutations : int
        Number of random permutations (metafor's ``iter``; ``iter=`` is premeta 0.2's name, deprecated).
    seed : int
        Seed of the random permutations, >= 0.
    exact : bool, optional
        None: exact when the number of distinct permutations is <= ``permutations`` (metafor's
        default); True: exact; False: random permutations in every case.

    Returns
    -------
    pandas.DataFrame
        One row per coefficient (``intrcpt`` first) and a last row ``QM``: ``term``,
        ``stat`` (observed z, t, or QM), ``p`` (the parametric p-value), ``p_perm``,
        ``permutations`` (permutations used, B) and ``exact``.

    Examples
    --------
    >>> import premeta
    >>> yi = [0.1, 0.3, 0.35, 0.65, 0.45, 0.15, 0.8, 0.2]
    >>> vi = [0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.08, 0.04]
    >>> import pandas as pd
    >>> mods = pd.DataFrame({"dose": [1, 2, 3, 4, 1, 2, 3, 4]})
    >>> premeta.permutest(yi, vi, mods, seed=2024).round(4)
          term    stat       p  p_perm  permutations  exact
    0  intrcpt  0.4401  0.6598   0.894          1000  False
    1     dose  1.7140  0.0865   0.188          1000  False
    2       QM  2.9378  0.0865   0.188          1000  False
    """
    if permutations < 2:
        raise ValueError(f"permutations must be >= 2, got {permutations}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0 (numpy takes no negative seed), got {seed}")
    X, names, _ = design_terms(mods)
    if X.shape[1] == 0:
        raise ValueError("permutest needs at least one moderator")
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    ok = np.isfinite(y) & np.isfinite(v) & ~np.isnan(X).any(axis=1)
    y, v, X = y[ok], v[ok], X[ok]
    k, p = y.size, X.shape[1] + 1
    if k <= p or np.linalg.matrix_rank(np.column_stack([np.ones(k), X])) < p:
        raise NotComputable(f"the moderators cannot be estimated (k = {k}, {p} coefficients, "
                         "constant or collinear moderators)")
    obs = fit(y, v, method=method, test=test, mods=X, confint=False)
    qm, _, _, qmp = wald_test(obs)
    z_obs = obs.beta[0] / obs.se[0]

    _, first, codes = np.unique(X, axis=0, return_index=True, return_inverse=True)
    codes = codes.reshape(-1)
    n_exact = math.factorial(k) // math.prod(math.factorial(int(n)) for n in np.bincount(codes))
    use_exact = n_exact <= permutations if exact is None else bool(exact)
    if use_exact:
        if n_exact > MAX_EXACT:
            raise ValueError(f"{n_exact} distinct permutations: too many for an exact test")
        perms = first[_distinct_permutations(codes)]
    else:
        perms = np.random.default_rng(seed).permuted(np.tile(np.arange(k), (permutations, 1)), axis=1)
        perms[0] = np.arange(k)
    stat, qm_perm = _permuted_stats(y, v, X, perms, method, test)

    used = ~np.isnan(qm_perm)
    p_perm = np.r_[(np.abs(stat[used]) >= np.abs(z_obs) - COMPTOL).mean(axis=0),
                   (qm_perm[used] >= qm[0] - COMPTOL).mean()]
    return pd.DataFrame({
        "term": ["intrcpt"] + names + ["QM"],
        "stat": np.r_[z_obs, qm[0]],
        "p": np.r_[obs.p[0], qmp[0]],
        "p_perm": p_perm,
        "permutations": int(used.sum()),
        "exact": use_exact,
    })
