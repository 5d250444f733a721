"""What an axis shows: the range rule of every figure with intervals (metafor's ``alim``), and
intervals clipped to it.

An automatic axis holds 0 and every estimate; the intervals set its scale unless they are extreme
(:func:`span`). An interval beyond the axis is clipped there and ends in a triangle (:func:`interval`).
"""

from __future__ import annotations

import numpy as np

from premeta import distributions as dist


#: Tukey's fence: an interval end more than this many interquartile ranges (of the ends) beyond their
#: quartiles is outlying and does not set the scale of an axis (see :func:`span`)
FENCE = 2.5
#: the fence for bare points (a bubble plot's estimates), Tukey's "far out": without their intervals
#: the quartiles of points lie closer together than those of interval ends
POINT_FENCE = 3.0
#: the non-extreme range widened about its centre to this many times its span: the window beyond
#: which an interval end is extreme and clipped (see :func:`span`)
WIDEN = 1.5


def normal_z(level: float) -> float:
    """Two-sided normal quantile of a ``level`` percent interval (1.96 for 95)."""
    return float(dist.norm_isf((1 - level / 100) / 2))


def _finite(x) -> np.ndarray:
    x = np.asarray(x, dtype=float).ravel()
    return x[np.isfinite(x)]


def span(core, ends, thin=(), fence: float = FENCE) -> tuple[float, float, tuple[float, float]]:
    """The range an automatic axis shows, as metafor's ``alim``, robust to a few extreme intervals.

    ``core`` are values always shown (the estimates; 0, the line of no effect, is added), ``ends``
    the interval ends that set the scale (study CIs, diamonds, prediction intervals), ``thin``
    values that may never set it (the diamond, PI and estimate of a group resting on very little).

    1. Outlying ends: those of ``ends`` beyond Tukey's fence, more than ``fence`` (:data:`FENCE`)
       interquartile ranges below the first or above the third quartile of ``ends`` (lower and
       upper ends together: the quartiles lie near the typical lower and upper end, and the fence
       about 2.5 typical interval widths beyond them).
    2. The non-extreme range R = [r0, r1]: from the smallest to the largest of ``core`` and the
       ends that are not outlying (it always holds 0 and every core value).
    3. The window W: R widened about its centre to :data:`WIDEN` (1.5) times its span s, i.e.
       [r0 - s/4, r1 + s/4] (s = 1 when R is a point). A value beyond W is *extreme*.
    4. The axis shows R and every value of ``ends`` and ``thin`` inside W: it runs from the
       smallest to the largest of them. Only extreme values lie beyond it.

    So no interval is clipped that fits inside W, 1.5 times the non-extreme range; the scale (R
    and W) is set by ``core`` and ``ends`` only; a thin group is shown where it fits in W and is
    clipped beyond it. Returns ``(lo, hi, W)``.
    """
    core, ends, thin = _finite(np.r_[0.0, _finite(core)]), _finite(ends), _finite(thin)
    q1, q3 = np.quantile(ends, [0.25, 0.75]) if len(ends) else (0.0, 0.0)
    out = fence * (q3 - q1)
    kept = ends[(ends >= q1 - out) & (ends <= q3 + out)]
    r0, r1 = min(core.min(), kept.min(initial=np.inf)), max(core.max(), kept.max(initial=-np.inf))
    pad = (WIDEN - 1) / 2 * (r1 - r0 if r1 > r0 else 1.0)
    w0, w1 = r0 - pad, r1 + pad
    shown = np.r_[ends, thin]
    shown = shown[(shown >= w0) & (shown <= w1)]
    return min(r0, shown.min(initial=r0)), max(r1, shown.max(initial=r1)), (w0, w1)


def interval(ax, lo: float, hi: float, at: float, lim: tuple[float, float], whiskers: bool = False,
              vertical: bool = False, **kw) -> None:
    """An interval at ``at`` clipped to ``lim`` (horizontal, or ``vertical``); a triangle marks each
    clipped end, and one at the edge an interval wholly beyond ``lim``."""
    a, b = max(lo, lim[0]), min(hi, lim[1])
    marks = ("v", "^") if vertical else ("<", ">")

    def xy(v: float) -> tuple[list[float], list[float]]:
        return ([at], [v]) if vertical else ([v], [at])

    def mark(v: float, m: str) -> None:
        ax.plot(*xy(v), marker=m, ms=5, mew=0, clip_on=False, color=kw.get("color"), zorder=3)

    if a >= b:
        if lo > lim[1] or hi < lim[0]:
            mark(lim[1], marks[1]) if lo > lim[1] else mark(lim[0], marks[0])
        return
    if vertical:
        ax.plot([at, at], [a, b], solid_capstyle="butt", **kw)
    else:
        ax.plot([a, b], [at, at], solid_capstyle="butt", **kw)
    for x, clipped, m in ((a, lo < lim[0], marks[0]), (b, hi > lim[1], marks[1])):
        if clipped:
            mark(x, m)
        elif whiskers and vertical:
            ax.plot([at], [x], marker="_", ms=4, mew=kw.get("lw", 1), color=kw.get("color"))
        elif whiskers:
            ax.plot([x, x], [at - 0.18, at + 0.18], **kw)
