"""How much the pooled estimate rests on choices: the GOSH plot (every subset of the studies) and
the specification curve (every reasonable analysis, :func:`premeta.multiverse`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from premeta.groups.multiverse_analysis import CHOICES, primary_choices
from premeta.vocabulary import MEASURE_LABELS
from premeta.plots.axes import interval, span
from premeta.plots.style import despine, fill, message_figure, theme


#: The influence view of a GOSH plot lists at most this many studies: those that shift the median most.
GOSH_ROWS = 40


#: The quantiles of the estimates that the influence view draws per study: 5-95%, 25-75% and the median.
GOSH_QUANTILES = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
#: Subsets (in the order of their estimates) counted at a time by :func:`_split_quantiles`.
_BLOCK = 4096


def _quantiles(n: int, probs: np.ndarray, at) -> np.ndarray:
    """``numpy.quantile`` (its default, linear method) of n values, ``at(ranks)`` giving the sorted values.

    The same order statistics and arithmetic as numpy's: at the virtual index :math:`h = (n-1)p`,
    :math:`a + (b-a)g` with a, b the values of ranks :math:`\\lfloor h\\rfloor` and the next and
    :math:`g = h - \\lfloor h\\rfloor`, written :math:`b - (b-a)(1-g)` where g >= 0.5. NaN for n = 0.
    """
    if n == 0:
        return np.full(probs.shape, np.nan)
    h = (n - 1) * probs
    below = np.floor(h).astype(np.intp)
    a, b = at(below), at(np.minimum(below + 1, n - 1))
    g = h - below
    d = b - a
    return np.where(g >= 0.5, b - d * (1 - g), a + d * g)


def _split_quantiles(est: np.ndarray, incl: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Quantiles of ``est`` over the subsets with each study and without it, shape (k, 2, len(probs)).

    Equal to ``numpy.quantile(est[incl[:, j]], probs)`` and ``numpy.quantile(est[~incl[:, j]], probs)``
    for every study j, without a copy and a partition of a million estimates per study: the
    estimates are sorted once, the members of each study counted per block of :data:`_BLOCK`
    subsets in that order, and each order statistic read from the one block that holds it.
    """
    order = np.argsort(est, kind="stable")
    ranked = est[order]
    n, k = incl.shape
    starts = np.arange(0, n, _BLOCK)
    # members of each study among the subsets before each block (the last row: all of them)
    before = np.zeros((starts.size + 1, k), dtype=np.int64)
    for i, a in enumerate(starts):
        before[i + 1] = before[i] + np.count_nonzero(incl[order[a:a + _BLOCK]], axis=0)
    bounds = np.append(starts, n)

    def at(j: int, member: bool):
        counts = before[:, j] if member else bounds - before[:, j]

        def values(ranks: np.ndarray) -> np.ndarray:
            out = np.empty(ranks.shape)
            for r_i, r in enumerate(ranks):
                blk = np.searchsorted(counts, r, side="right") - 1
                rows = order[bounds[blk]:bounds[blk + 1]]
                hits = np.flatnonzero(incl[rows, j] == member)
                out[r_i] = ranked[bounds[blk] + hits[r - counts[blk]]]
            return out
        return values

    return np.array([[_quantiles(int(before[-1, j]) if member else n - int(before[-1, j]), probs, at(j, member))
                      for member in (True, False)] for j in range(k)])


def gosh_figure(res: pd.DataFrame, incl: np.ndarray, measure: str, full: tuple[float, float] | None = None,
                labels=None, title: str = "", unit: str = "study") -> Figure:
    """GOSH plot (Olkin, Dahabreh & Trikalinos 2012), as metafor's ``plot.gosh.rma``.

    Left: the estimate against I² of every fitted subset (``res``, :attr:`premeta.Gosh.res`)
    as a 2-D density (hexagonal bins, log count), the fit to all studies marked (``full`` =
    (estimate, I2); by default the subset holding every study). Right: the influence view, one
    line per study (``labels``, default 1..k; ``unit`` names them): the median, 25-75% and 5-95%
    range of the estimates of the subsets with that study (dark) and without it (light), as
    metafor's ``plot(gosh(...), out = i)`` histograms; a study that shifts the estimates wherever
    it is present stands out. Of more than :data:`GOSH_ROWS` studies, those whose presence shifts
    the median estimate most are listed, in their order, and the title says so.
    """
    ok = res["estimate"].notna().to_numpy() & res["i2"].notna().to_numpy()
    est, i2, incl = res["estimate"].to_numpy()[ok], res["i2"].to_numpy()[ok], np.asarray(incl)[ok]
    k = incl.shape[1]
    labels = [str(i) for i in range(1, k + 1)] if labels is None else [str(s) for s in labels]
    if full is None:
        every = incl.all(axis=1)
        full = (est[every][0], i2[every][0]) if every.any() else (np.nan, np.nan)
    lo, hi = np.quantile(est, [0.001, 0.999]) if est.size else (0.0, 1.0)
    pad = 0.05 * (hi - lo) if hi > lo else 0.5
    xlim = (min(lo, full[0]) - pad, max(hi, full[0]) + pad) if np.isfinite(full[0]) else (lo - pad, hi + pad)
    xlabel = MEASURE_LABELS.get(measure, measure)
    # per study: 5, 25, 50, 75, 95% of the estimates of the subsets with it (0) and without it (1)
    q = _split_quantiles(est, incl, GOSH_QUANTILES)
    shown = np.arange(k)
    heading = f"Subsets with and without each {unit}"
    if k > GOSH_ROWS:
        shift = np.nan_to_num(np.abs(q[:, 0, 2] - q[:, 1, 2]), nan=-1)
        shown = np.sort(np.argsort(-shift, kind="stable")[:GOSH_ROWS])
        heading += f"\n(the {GOSH_ROWS} of {k} that shift the median most)"
    n = len(shown)
    ticks = [fill(labels[i], 40) for i in shown]  # wrapped, never cut
    # a row holds its label's lines (7 pt, line spacing 1.2) and a little space: 0.22 inches for two lines
    row = max(0.22, max(t.count("\n") + 1 for t in ticks) * 7 * 1.2 / 72 + 0.06)
    height = max(3.6, row * n + 1.6)
    with theme():
        fig = Figure(figsize=(9.5, height), layout="constrained")
        FigureCanvasAgg(fig)
        dens, infl = fig.subplots(1, 2, width_ratios=[1.1, 1])
        hb = dens.hexbin(est, i2, gridsize=40, bins="log", cmap="viridis", mincnt=1,
                         extent=(*xlim, -2, 102), linewidths=0.2)
        bar = fig.colorbar(hb, cax=dens.inset_axes([1.03, 0.1, 0.035, 0.8]),
                           format=FuncFormatter(lambda v, _: f"{v:,.0f}"))
        bar.ax.set_title("subsets", fontsize=8)
        if np.isfinite(full[0]):
            dens.plot(*full, marker="X", ms=11, color="#e41a1c", mec="white", mew=1.2, ls="none",
                      label=f"all {k} {unit if k == 1 else unit + 's'}".replace("studys", "studies"))
        dens.set(xlim=xlim, ylim=(-2, 102), xlabel=xlabel, ylabel="I² (%)")
        dens.set_title(f"{len(est):,} subsets", fontsize=9)
        dens.set_box_aspect(0.9)  # square-ish at the top however many studies the right panel lists
        dens.set_anchor("N")
        y = np.arange(n)
        for j, off, colour, name in ((0, -0.17, "0.1", f"with the {unit}"), (1, 0.17, "0.62", "without it")):
            r = q[shown, j]
            infl.hlines(y + off, r[:, 0], r[:, 4], color=colour, lw=1)
            infl.hlines(y + off, r[:, 1], r[:, 3], color=colour, lw=4.5, label=name)
            infl.plot(r[:, 2], y + off, "|", color="white", ms=4.5, mew=1.2)
        if np.isfinite(full[0]):
            infl.axvline(full[0], color="#e41a1c", lw=0.8, ls="--")
        infl.axvline(0, color="0.5", lw=0.8, ls=":")
        infl.set_yticks(y, ticks, fontsize=7)
        infl.set(xlim=xlim, ylim=(n - 0.5, -0.5), xlabel=xlabel)
        infl.set_title(f"{heading}:\nmedian, 25-75% and 5-95% of their estimates", fontsize=9)
        (h1, l1), (h2, l2) = dens.get_legend_handles_labels(), infl.get_legend_handles_labels()
        fig.legend(h1 + h2, l1 + l2, loc="outside lower center", ncols=3, frameon=False, fontsize=8)
        if title:
            fig.suptitle(title, fontsize=10)
        despine(fig.axes)
    return fig


#: Row labels of the choices in the specification curve's matrix.
CHOICE_LABELS = {"method": "estimator", "test": "test", "dependence": "dependence", "adjustment": "adjustment",
                 "inclusion": "inclusion"}
#: Words for the values of a choice in those labels (a value not listed is shown as it is).
VALUE_LABELS = {
    "adjustment": {"none": "none", "pet_peese": "PET-PEESE", "selmodel": "selection model (step at p = .025)"},
    "inclusion": {"all": "all comparisons", "low_rob": "low risk of bias", "no_influential": "no influential",
                  "no_single": "no single-comparison studies", "no_flagged": "no flagged rows"},
}


def spec_curve_figure(rows: pd.DataFrame, primary: dict, level: float = 95, title: str = "") -> Figure:
    """Specification curve of one group's multiverse (Simonsohn, Simmons & Nelson 2020, *Nat Hum Behav* 4:1208).

    ``rows`` are the group's rows of :func:`premeta.multiverse`; the distinct fitted ones are drawn
    (a rule that excludes nothing repeats inclusion ``all`` and is left out). One block per measure,
    each on its own scale: at the top the estimates with their ``level`` % CIs, sorted by estimate,
    black where p < 0.05 and grey otherwise, the primary specification (``primary``, as
    :func:`premeta.groups.multiverse_analysis.summary`) in red, and a line at 0, the axis by the range rule
    of :func:`premeta.plots.axes.span` (an extreme interval, e.g. a PET-PEESE estimate on few studies,
    is cut and ends in a triangle); beneath, the choice matrix, one line per value of each choice
    (:data:`CHOICE_LABELS`, :data:`VALUE_LABELS`), a dot where the specification above uses it.
    """
    used = rows[~rows["duplicate"].astype(bool) & rows["estimate"].notna()]
    if used.empty:
        return message_figure(title or "Specification curve", "no specification could be fitted for this group")
    p = primary_choices(primary)
    is_primary = np.logical_and.reduce([used[c] == v for c, v in p.items()])
    used = used.assign(primary=is_primary)
    measures = list(dict.fromkeys(m for m in CHOICES["measure"] if m in set(used["measure"]))) + sorted(
        set(used["measure"]) - set(CHOICES["measure"]))
    lines = [(c, v) for c in CHOICE_LABELS for v in dict.fromkeys([*CHOICES.get(c, ()), *sorted(set(used[c]))])
             if v in set(used[c])]
    n = [int((used["measure"] == m).sum()) for m in measures]
    width = float(np.clip(3.2 + 0.05 * sum(n) + 0.4 * len(measures), 7.5, 15))
    height = 2.9 + 0.17 * len(lines) + 0.5
    with theme():
        fig = Figure(figsize=(width, height), layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(2, len(measures), squeeze=False, sharex="col",
                            gridspec_kw={"height_ratios": [2.9, 0.17 * len(lines) + 0.1],
                                         "width_ratios": [max(x, 6) for x in n]})
        for j, m in enumerate(measures):
            block = used[used["measure"] == m].sort_values(["estimate", "specification"], kind="stable")
            x = np.arange(len(block))
            top, matrix = axes[0, j], axes[1, j]
            sig = (block["p"] < 0.05).to_numpy()
            colour = np.where(block["primary"], "#e41a1c", np.where(sig, "0.1", "0.6"))
            est, lo, hi = (block[c].to_numpy(float) for c in ("estimate", "ci_low", "ci_high"))
            y0, y1, _ = span(est, np.r_[lo, hi])  # a few very wide intervals (a PET-PEESE on few studies) are cut
            extent = y1 - y0 if y1 > y0 else 1.0
            cut = (y0 - 0.04 * extent, y1 + 0.04 * extent)
            for xi, a, b, c in zip(x, lo, hi, colour):
                interval(top, a, b, xi, cut, vertical=True, color=c, lw=0.8, alpha=0.8)
            top.scatter(x, est, c=colour, s=np.where(block["primary"], 36, 9), zorder=3, lw=0)
            top.set_ylim(y0 - 0.08 * extent, y1 + 0.08 * extent)
            top.axhline(0, color="0.3", lw=0.8, ls=":")
            top.set_ylabel(f"{MEASURE_LABELS.get(m, m)}\nestimate, {level:g}% CI", fontsize=8)
            top.set_title(f"{m}: {len(block)} specification{'s' * (len(block) != 1)}", fontsize=9)
            for i, (c, v) in enumerate(lines):
                on = (block[c] == v).to_numpy()
                matrix.scatter(x[on], np.full(on.sum(), i), s=7, lw=0,
                               c=np.where(block["primary"].to_numpy()[on], "#e41a1c", "0.15"))
            matrix.set_yticks(range(len(lines)), [f"{CHOICE_LABELS[c]}: {VALUE_LABELS.get(c, {}).get(v, v)}"
                                                  for c, v in lines] if j == 0 else [], fontsize=7)
            matrix.set_ylim(len(lines) - 0.5, -0.5)
            matrix.set_xlim(-1, max(len(block), 6))
            matrix.set_xticks([])
            matrix.tick_params(axis="y", length=0)  # a row's label is beside its dots
            matrix.set_xlabel("sorted by estimate", fontsize=8)
            for i in range(1, len(lines)):
                if lines[i][0] != lines[i - 1][0]:
                    matrix.axhline(i - 0.5, color="0.8", lw=0.6)
        fig.suptitle(title or "Specification curve", fontsize=10)
        fig.supxlabel("black: p < 0.05; grey: p ≥ 0.05; red: the primary specification ("
                      + ", ".join(p.values()) + ")", fontsize=7.5)
        despine(fig.axes)
    return fig
