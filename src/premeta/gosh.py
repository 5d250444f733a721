"""GOSH: the model fitted to every subset of the studies (Olkin, Dahabreh & Trikalinos 2012).

A graphical display of study heterogeneity (GOSH) refits the meta-analysis to all
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
* ``REML`` (and the other iterative estimators) as one stacked call of
  :func:`premeta.models.fit` per chunk, every subset a stratum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from premeta.models import METHODS, fit
from premeta._shared import check

#: Columns of :attr:`Gosh.res`, metafor's ``gosh(...)$res``.
COLUMNS = ["k", "q", "i2", "h2", "tau2", "estimate"]
#: metafor's names of the same columns (``gosh()$res``).
METAFOR = dict(zip(COLUMNS, ["k", "QE", "I2", "H2", "tau2", "estimate"]))
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
    subsets : str
        ``"all"`` (every non-empty subset), ``"random"`` (a seeded random sample) or
        ``"given"`` (the ``incl`` passed in).
    """

    res: pd.DataFrame
    incl: np.ndarray
    method: str
    subsets: str

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
    """FE or DL fits of the subsets of one chunk (rows of the 0/1 matrix ``m``), columns as COLUMNS.

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
        Membership cells (subsets x k) fitted at a time; bounds the memory.

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
    >>> g.subsets, g.incl.shape
    ('all', (7, 3))
    >>> g.res.round(3).iloc[-1].to_dict()
    {'k': 3.0, 'q': 6.486, 'i2': 69.167, 'h2': 3.243, 'tau2': 0.0, 'estimate': 0.446}
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    y, v = check(yi, vi)
    k = len(y)
    if k < 2:
        raise ValueError(f"GOSH needs at least 2 studies, got k = {k} (metafor: 'Stopped because k = 1')")
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
    step = max(1, chunk // k)
    out = np.empty((len(incl), len(COLUMNS)))
    for a in range(0, len(incl), step):
        m = incl[a:a + step]
        out[a:a + step] = (_closed_form(y, v, m.astype(float), method) if method in ("FE", "DL")
                           else _stacked(y, v, m, method, tol, maxiter))
    res = pd.DataFrame(out, columns=COLUMNS).astype({"k": int})
    return Gosh(res=res, incl=incl, method=method, subsets=kind)
