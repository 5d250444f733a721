"""The smaller figures: one panel per group of the time course and the
meta-regressions (bubble plots); the pooled estimates of several analyses side by side.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from premeta.vocabulary import MEASURE_LABELS, label_order
from premeta.plots.axes import POINT_FENCE, interval, normal_z, span
from premeta.plots.style import despine, fill, message_figure, need, p_text, theme


#: Height in inches of one line of a panel title (9 pt, matplotlib's line spacing 1.2).
TITLE_LINE = 9 * 1.2 / 72


def _lines(titles) -> int:
    """The most lines of any of ``titles``."""
    return max((str(t).count("\n") + 1 for t in titles), default=1)


def _panels(groups: list, xlabel: str, ylabel: str, width: float = 3.3, height: float = 2.6, top: float = 0.4,
            title_lines: int = 2):
    """A figure with one panel per group, three per row (unused panels hidden, top and right
    spines hidden), the shared axis labels on its edges; ``top`` inches above the panels (room for
    a legend across the figure and a two-line panel title).

    Margins are fixed in inches (room for panel titles of ``title_lines`` lines, at least two, and
    tick labels of up to seven characters) rather than left to constrained layout, which measures
    every tick label once more and doubled the time these many-panel figures take to save. Each
    title line beyond two adds :data:`TITLE_LINE` above every row of panels.
    """
    ncol = min(3, len(groups))
    nrow = -(-len(groups) // ncol)
    w, h = width * ncol, height * nrow + top - 0.4
    hspace = 0.75 / (h / nrow - 1.0 / nrow)
    # the panels' height and the space between rows, in inches, for two-line titles; each further line
    # adds its height above every row (the top margin and each space between rows), the panels unchanged
    panel = (h - 0.6 - top) / (nrow + (nrow - 1) * hspace)
    extra = TITLE_LINE * max(0, title_lines - 2)
    h, top, hspace = h + extra * nrow, top + extra, hspace + extra / panel
    fig = Figure(figsize=(w, h))
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrow, ncol, squeeze=False, gridspec_kw={
        "left": 0.8 / w, "right": 1 - 0.25 / w, "bottom": 0.6 / h, "top": 1 - top / h,
        "wspace": 0.75 / (w / ncol - 1.05 / ncol), "hspace": hspace})
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
        fig, axes = _panels(groups, time_label, MEASURE_LABELS.get(measure, measure),
                            title_lines=_lines(fill(g, 34) for g in groups))
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
            # whole days (weeks): one time point alone is its own tick, not 13.2, 13.4, ... around it
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
            if len(np.unique(t)) == 1:  # however small (a minute: 0.000694 days), not ticks crowded about it
                ax.set_xticks(t[:1], [f"{t[0]:g}"])
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
        fig, axes = _panels(groups, xlabel, MEASURE_LABELS.get(measure, measure),
                            title_lines=_lines(fill(g, 30) for g in groups))
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


#: Power classes of the sunset funnel's bands (upper bounds; the last band is power >= 0.8).
POWER_BANDS = (0.1, 0.3, 0.5, 0.8)


def sunset_figure(per: pd.DataFrame, measure: str, level: float = 95) -> Figure:
    """Sunset funnel plots: one panel per group, each comparison's effect against its standard
    error, on bands of the power a comparison of that SE has to detect the group's true effect
    (Kossmeier, Tran and Voracek 2020, *Z Psychol* 228:43; metaviz ``viz_sunset``).

    The power of a two-sided z test at level ``1 - level/100`` of a comparison with standard
    error :math:`s` at a true effect :math:`\\theta` is :math:`\\Phi(\\theta/s - z) +
    \\Phi(-\\theta/s - z)` (:func:`premeta.power`); it falls as :math:`s` grows, so the bands are
    horizontal: lighter where power is high. Dashed lines mark where a comparison's own test of 0
    becomes significant (:math:`|y| = z s`), the solid line :math:`\\theta`.

    Parameters
    ----------
    per : DataFrame
        One row per comparison: ``group``, ``yi``, ``se``, ``theta`` (the group's true effect
        assumed: the table of :func:`premeta.groups.bias.excess_significance`) and ``power``.
    measure : str
        The effect measure, for the x axis title.
    level : float
        Confidence level in percent of the comparisons' tests.
    """
    from premeta.significance import power  # the curve drawn, the same function as the tables'

    need(per, ["group", "yi", "se", "theta", "power"])
    groups = label_order(per["group"].astype(str))
    if not groups:
        return message_figure("Sunset funnel plots", "no comparison")
    import seaborn as sns

    # light where power is high; blended with white so that the points and lines stay legible
    colours = [tuple(0.45 + 0.55 * c for c in rgb) for rgb in sns.color_palette("flare", len(POWER_BANDS) + 1)[::-1]]
    z = normal_z(level)
    with theme():
        fig, axes = _panels(groups, MEASURE_LABELS.get(measure, measure), "Standard error", width=3.4, height=3.1,
                            top=1.0, title_lines=_lines(fill(g, 30) for g in groups) + 1)
        for ax, g in zip(axes, groups):
            d = per[per["group"].astype(str) == g]
            x, se, theta = d["yi"].to_numpy(float), d["se"].to_numpy(float), float(d["theta"].iloc[0])
            top = 1.08 * np.nanmax(se)
            grid = np.linspace(top / 400, top, 400)
            band = np.searchsorted(POWER_BANDS, power(grid**2, theta, level), side="right")
            lo, hi = min(np.nanmin(x), -z * top, theta), max(np.nanmax(x), z * top, theta)
            pad = 0.05 * (hi - lo)
            for b in range(len(POWER_BANDS) + 1):
                inside = band == b
                if inside.any():
                    ax.axhspan(grid[inside].min() - top / 800, grid[inside].max() + top / 800, color=colours[b],
                               lw=0, zorder=0)
            ax.plot([-z * top, 0, z * top], [top, 0, top], color="0.25", ls="--", lw=0.8)
            ax.axvline(theta, color="0.1", lw=1)
            ax.scatter(x, se, s=14, facecolor="white", edgecolor="0.1", lw=0.6, zorder=3)
            med = float(np.nanmedian(d["power"]))
            ax.set_title(f"{fill(g, 30)}\nk = {len(d)}, median power {med:.0%}", fontsize=8.5)
            ax.set_xlim(lo - pad, hi + pad)
            ax.set_ylim(top, 0)
        names = [f"power < {POWER_BANDS[0]:.0%}"] + [f"{a:.0%} to < {b:.0%}" for a, b in
                                                       zip(POWER_BANDS, POWER_BANDS[1:])] + [f"≥ {POWER_BANDS[-1]:.0%}"]
        fig.legend([Patch(color=c) for c in colours], names, ncol=len(names), loc="upper center", frameon=False,
                   fontsize=8, title=f"Power to detect the group's effect (two-sided, {100 - level:g} % level)",
                   title_fontsize=8.5, bbox_to_anchor=(0.5, 1))
    return fig


def cumulative_figure(table: pd.DataFrame, measure: str, level: float = 95) -> Figure:
    """Cumulative meta-analysis by publication year, one panel per group: the pooled estimate and
    its confidence interval (band; a bar for a group of one comparison) after each comparison is
    added, against the number of comparisons so far, the years on the top axis (metafor
    ``plot(cumul(...))`` and ``forest(cumul(...))`` show the same sequence). A trend from large early
    estimates to smaller later ones is the decline effect. The intervals of the first two steps
    never set the y scale, unless the group has no more (as the time course's thin points).

    Parameters
    ----------
    table : DataFrame
        The steps of :func:`premeta.groups.bias.cumulative`: ``group``, ``step``, ``year``,
        ``estimate``, ``ci_low``, ``ci_high`` (rows without an estimate are left out).
    measure : str
        The effect measure, for the y axis title.
    level : float
        Confidence level in percent, for the legend.
    """
    need(table, ["group", "step", "year", "estimate", "ci_low", "ci_high"])
    steps = table[table["estimate"].notna()]
    groups = list(dict.fromkeys(steps["group"].astype(str)))
    if not groups:
        return message_figure("Cumulative meta-analysis", "no group has publication years")
    with theme():
        fig, axes = _panels(groups, "Comparisons included (in order of publication)",
                            MEASURE_LABELS.get(measure, measure), width=3.4, height=2.8, top=0.8,
                            title_lines=_lines(fill(g, 30) for g in groups) + 1)
        for ax, g in zip(axes, groups):
            d = steps[steps["group"].astype(str) == g]
            k, est = d["step"].to_numpy(float), d["estimate"].to_numpy(float)
            lo, hi = d["ci_low"].to_numpy(float), d["ci_high"].to_numpy(float)
            # the first steps' intervals are wide: they never set the scale unless they are all there is
            steady = (k >= 3) | (k.max() < 3)
            y0, y1, _ = span(est, np.r_[lo[steady], hi[steady]], np.r_[lo[~steady], hi[~steady]])
            extent = y1 - y0 if y1 > y0 else 1.0
            if len(k) == 1:  # one step: its interval as a bar (a band needs two)
                interval(ax, lo[0], hi[0], k[0], (y0 - 0.1 * extent, y1 + 0.1 * extent), vertical=True,
                         color="0.82", lw=6)
            ax.fill_between(k, np.clip(lo, y0 - extent, y1 + extent), np.clip(hi, y0 - extent, y1 + extent),
                            color="0.82", lw=0, step=None)
            ax.axhline(0, color="0.5", lw=0.8, ls=":")
            ax.plot(k, est, "-", color="0.1", lw=1.2, marker="o" if len(k) <= 30 else None, ms=3)
            ax.set_ylim(y0 - 0.1 * extent, y1 + 0.1 * extent)
            ax.set_xlim(0.5, max(k.max(), 2) + 0.5)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
            years = d["year"].to_numpy(float)
            ax.set_title(f"{fill(g, 30)}\n{years.min():.0f} to {years.max():.0f}, k = {int(k.max())}", fontsize=8.5)
        fig.legend([Patch(color="0.82"), Line2D([], [], color="0.1", lw=1.2)], [f"{level:g} % CI", "pooled estimate"],
                   ncol=2, loc="upper center", frameon=False, fontsize=8, bbox_to_anchor=(0.5, 1))
    return fig


def next_experiment_figure(curves: pd.DataFrame, table: pd.DataFrame) -> Figure:
    """Power and assurance of a new two-arm experiment against its animals per arm, one panel per
    group (:func:`premeta.groups.planning.next_experiment_curves`): the power at the pooled effect
    (solid), the assurance over the predictive distribution of the true effect (dashed), the target
    (dotted) and the n each reaches it at (``n_power``, ``n_assurance`` of ``table``). Without a curve,
    a :func:`~premeta.plots.style.message_figure` giving the groups' reason (``note`` of ``table``) when
    they all have the same one.
    """
    need(curves, ["group", "n", "power", "assurance"])
    need(table, ["group", "target", "n_power", "n_assurance", "assurance_limit"])
    groups = list(dict.fromkeys(curves["group"].astype(str)))
    if not groups:  # the groups' one reason (e.g. the measure's), if they share it
        notes = set(table["note"].fillna("")) if "note" in table else set()
        why = notes.pop() if len(notes) == 1 and "" not in notes else "no group has an effect to plan for"
        return message_figure("The next experiment", why)
    plan = table.assign(group=table["group"].astype(str)).set_index("group")
    with theme():
        fig, axes = _panels(groups, "Animals per arm", "Probability of a significant result in the effect's direction",
                            width=3.3, height=3.1, top=0.8, title_lines=_lines(fill(g, 30) for g in groups) + 1)
        for ax, g in zip(axes, groups):
            d, r = curves[curves["group"].astype(str) == g], plan.loc[g]
            ax.plot(d["n"], d["power"], "-", color="0.1", lw=1.3)
            ax.plot(d["n"], d["assurance"], "--", color="#0072b2", lw=1.3)
            ax.axhline(r["target"], color="0.5", lw=0.8, ls=":")
            ax.axhline(r["assurance_limit"], color="#0072b2", lw=0.6, ls=":", alpha=0.7)
            for n, colour in ((r["n_power"], "0.1"), (r["n_assurance"], "#0072b2")):
                if np.isfinite(n) and n <= d["n"].max():
                    ax.plot([n], [r["target"]], "o", color=colour, ms=4)
            ax.set_ylim(0, 1.02)
            ax.set_xlim(2, d["n"].max())
            n_a = f"{r['n_assurance']:.0f}" if np.isfinite(r["n_assurance"]) else "never"
            ax.set_title(f"{fill(g, 30)}\nn = {r['n_power']:.0f} (power), {n_a} (assurance)", fontsize=8.5)
        fig.legend([Line2D([], [], color="0.1", lw=1.3), Line2D([], [], color="#0072b2", lw=1.3, ls="--"),
                    Line2D([], [], color="0.5", lw=0.8, ls=":"), Line2D([], [], color="#0072b2", lw=0.6, ls=":")],
                   ["power at the pooled effect", "assurance (its uncertainty and heterogeneity)", "target",
                    "the assurance's limit"], ncol=2, loc="upper center", frameon=False, fontsize=8,
                   bbox_to_anchor=(0.5, 1))
    return fig
