"""The smaller figures: risk of bias, and one panel per group of the time course and the
meta-regressions (bubble plots); the pooled estimates of several analyses side by side.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from premeta.vocabulary import MEASURE_LABELS
from premeta.plots.axes import POINT_FENCE, interval, span
from premeta.plots.style import despine, fill, message_figure, p_text, theme


ROB_COLOURS = {"low": "#4daf4a", "unclear": "#ffd92f", "high": "#e41a1c"}


def rob_figure(summary: pd.DataFrame) -> Figure:
    """SYRCLE summary: for each item the share of studies at low, unclear and high risk."""
    with theme():
        fig = Figure(figsize=(8, 0.35 * len(summary) + 1.4), layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        y = np.arange(len(summary))[::-1]
        left = np.zeros(len(summary))
        for level, colour in ROB_COLOURS.items():
            ax.barh(y, summary[level], left=left, color=colour, edgecolor="white", label=level, height=0.7)
            left += summary[level].to_numpy()
        ax.set_yticks(y, summary.index)
        ax.set_xlim(0, 100)
        ax.set_xlabel("Studies (%)")
        ax.legend(ncols=3, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False, title="Risk of bias")
        despine(fig.axes, left=True)
    return fig


def _panels(groups: list, xlabel: str, ylabel: str, width: float = 3.3, height: float = 2.6):
    """A figure with one panel per group, three per row (unused panels hidden, top and right
    spines hidden), the shared axis labels on its edges.

    Margins are fixed in inches (room for two-line panel titles and tick labels of up to seven
    characters) rather than left to constrained layout, which measures every tick label once more
    and doubled the time these many-panel figures take to save.
    """
    ncol = min(3, len(groups))
    nrow = -(-len(groups) // ncol)
    w, h = width * ncol, height * nrow
    fig = Figure(figsize=(w, h))
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrow, ncol, squeeze=False, gridspec_kw={
        "left": 0.8 / w, "right": 1 - 0.25 / w, "bottom": 0.6 / h, "top": 1 - 0.4 / h,
        "wspace": 0.75 / (w / ncol - 1.05 / ncol), "hspace": 0.75 / (h / nrow - 1.0 / nrow)})
    for ax in axes.flat[len(groups):]:
        ax.set_visible(False)
    despine(axes.flat[:len(groups)])
    fig.supxlabel(xlabel, fontsize=9, y=0.08 / h, va="bottom")
    fig.supylabel(ylabel, fontsize=9, x=0.08 / w, ha="left")
    return fig, axes.flat[:len(groups)]


def time_course_figure(course: pd.DataFrame, measure: str, time_label: str = "Time",
                       time: str = "time") -> Figure:
    """Pooled effect (with its CI) against time, one panel per group: ``group, <time>, k, estimate, ci_low,
    ci_high`` (and optionally ``studies``); ``time_label`` is the x axis title (what the column holds, e.g.
    "Days after nerve injury").

    Each panel's y range follows the rule of the forest plots (:func:`~premeta.plots.axes.span`): it holds 0 and every
    estimate; the CIs of time points with k >= 3 set the scale unless they are extreme; the CI of a
    thin time point (k <= 2, or all from one study) never sets it, and is shown where it fits 1.5
    times the non-extreme range (in a panel of thin points only, their CIs set the scale unless
    extreme). A CI cut there ends in a triangle, with its "k=" label above.
    """
    groups = list(dict.fromkeys(course["group"]))
    if not groups:
        return message_figure(time_label, "no comparison has a time")
    with theme():
        fig, axes = _panels(groups, time_label, MEASURE_LABELS.get(measure, measure))
        for ax, g in zip(axes, groups):
            d = course[course["group"] == g].sort_values(time)
            t, est = d[time].to_numpy(float), d["estimate"].to_numpy(float)
            lo, hi, k = d["ci_low"].to_numpy(float), d["ci_high"].to_numpy(float), d["k"].to_numpy(float)
            thin = (k <= 2) | (d["studies"].to_numpy(float) == 1 if "studies" in d else False)
            thin &= not thin.all()  # a panel of thin points only: nothing steadier to set its scale
            y0, y1, _ = span(est, np.r_[lo[~thin], hi[~thin]], np.r_[lo[thin], hi[thin]])
            extent = y1 - y0 if y1 > y0 else 1.0
            cut = (y0 - 0.08 * extent, y1 + 0.08 * extent)  # an extreme CI ends in a triangle here, clear of the points
            ax.axhline(0, color="0.5", lw=0.8, ls=":")
            ax.plot(t, est, "s-", color="0.15", ms=4, lw=1)
            for x, a, b, n in zip(t, lo, hi, d["k"]):
                interval(ax, a, b, x, cut, whiskers=True, vertical=True, color="0.15", lw=1)
                ax.annotate(f"k={n}", (x, min(b, cut[1]) if np.isfinite(b) else y1), textcoords="offset points",
                            xytext=(0, 6 if b > cut[1] else 3), ha="center", fontsize=7, annotation_clip=False)
            ax.set_title(fill(g, 34), fontsize=9)
            ax.margins(x=0.08)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # whole days (weeks)
            ax.set_ylim(y0 - 0.12 * extent, y1 + 0.3 * extent)  # room above the highest CI for its k label
    return fig


def bubble_figure(points: pd.DataFrame, lines: pd.DataFrame, xlabel: str, measure: str, why: str = "") -> Figure:
    """Bubble plots of a meta-regression on one moderator, one panel per group.

    ``points``: ``group, x, yi, weight`` (marker area proportional to the weight in its group);
    ``lines``: ``group, intercept, slope`` (the fitted line over the range of x, as metafor's
    ``regplot``); a panel's title gives its k and the slope's p from ``lines.p`` when present.
    Without lines, a :func:`~premeta.plots.style.message_figure` with ``why`` (the reason no group was fitted).

    Each panel's y range follows the rule of the forest plots (:func:`~premeta.plots.axes.span`): it holds 0 and the
    fitted line at the ends of the x range; the points set the scale unless they are extreme
    (beyond 1.5 times the range left when points beyond Tukey's far-out fence, :data:`~premeta.plots.axes.POINT_FENCE`
    interquartile ranges, are set aside). An extreme point is drawn as a triangle at the panel's
    edge instead of stretching the panel.
    """
    groups = list(dict.fromkeys(lines["group"]))
    if not groups:
        return message_figure(f"Meta-regression on {xlabel}", why or "the moderator could be fitted in no group")
    with theme():
        fig, axes = _panels(groups, xlabel, MEASURE_LABELS.get(measure, measure))
        for ax, (_, line) in zip(axes, lines.iterrows()):
            d = points[points["group"] == line["group"]]
            grid = np.linspace(d["x"].min(), d["x"].max(), 50)
            fitted = line["intercept"] + line["slope"] * grid
            y0, y1, _ = span(fitted[[0, -1]], d["yi"], fence=POINT_FENCE)
            inside = d["yi"].between(y0, y1)
            ax.scatter(d["x"][inside], d["yi"][inside], s=200 * d["weight"][inside] / d["weight"].max(),
                       facecolor="none", edgecolor="0.2", lw=0.8)
            extreme = ~inside & d["yi"].notna()
            for x, y in zip(d["x"][extreme], d["yi"][extreme]):  # a triangle at the edge
                ax.plot([x], [y1 if y > y1 else y0], marker="^" if y > y1 else "v", ms=6, mew=0, color="0.2",
                        clip_on=False)
            ax.plot(grid, fitted, color="#c0392b", lw=1.5)
            extent = y1 - y0 if y1 > y0 else 1.0
            ax.set_ylim(y0 - 0.08 * extent, y1 + 0.08 * extent)
            ax.axhline(0, color="0.5", lw=0.8, ls=":")
            p = f", {p_text(line['p'])}" if "p" in line and pd.notna(line["p"]) else ""
            ax.set_title(f"{fill(line['group'], 30)} (k = {len(d)}{p})", fontsize=8.5)
    return fig


def comparison_figure(estimates: pd.DataFrame, measure: str) -> Figure:
    """Pooled estimates of each group under several analyses, side by side (a dot-and-whisker plot).

    ``estimates``: ``group, analysis, estimate, ci_low, ci_high``, groups top to bottom in order of
    first appearance, one marker per analysis (e.g. comparisons independent vs three-level with
    cluster-robust CIs). Groups without an estimate are listed with no marker.
    """
    groups = list(dict.fromkeys(estimates["group"]))
    analyses = list(dict.fromkeys(estimates["analysis"]))
    if not estimates["estimate"].notna().any():
        return message_figure("Dependent comparisons", "no estimate could be computed")
    offsets = np.linspace(-0.18, 0.18, len(analyses)) if len(analyses) > 1 else np.zeros(1)
    with theme():
        fig = Figure(figsize=(10, 0.45 * len(groups) + 1.3), layout="constrained")  # legend beside the plot
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        for a, off, (marker, color) in zip(analyses, offsets, [("o", "0.55"), ("s", "0.1"), ("D", "#c0392b")]):
            d = estimates[estimates["analysis"] == a].set_index("group").reindex(groups)
            y = np.arange(len(groups)) + off
            ax.errorbar(d["estimate"], y, xerr=[d["estimate"] - d["ci_low"], d["ci_high"] - d["estimate"]],
                        fmt=marker, color=color, ms=5, lw=1.2, capsize=2, label=a)
        ax.axvline(0, color="0.5", lw=0.8, ls=":")
        ax.set_yticks(np.arange(len(groups)), [fill(g, 34) for g in groups])
        ax.invert_yaxis()
        ax.set_xlabel(MEASURE_LABELS.get(measure, measure))
        ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False, fontsize=8)
        despine([ax])
    return fig
