"""Funnel plots in the convention of metafor's ``funnel()``: one funnel about one estimate, and
one funnel per group about its own estimate with the residuals of all groups; contour-enhanced
(Peters et al. 2008, *J Clin Epidemiol* 61:991): shaded where a comparison's two-sided z test of 0
is significant at the given levels.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from premeta.deprecation import renamed_arguments
from premeta.vocabulary import MEASURE_LABELS
from premeta.plots.axes import normal_z
from premeta.plots.panels import TITLE_LINE
from premeta.plots.style import despine, fill, group_styles, message_figure, need, save, theme, wrap


#: Significance contours drawn by default (metafor ``funnel(level = c(90, 95, 99))``), in percent.
CONTOURS = (90, 95, 99)
#: Grey of each region from the innermost (not significant) out: white, then darker as p falls;
#: greys only, so the figure reads the same printed in greyscale, and light enough for the points.
SHADES = ("white", "0.93", "0.86", "0.79")
#: Width in inches of the key of each group beside the residual panel (wrapped there, never cut).
LEGEND_WIDTH = 2.3


def _contour_shades(contours) -> list[tuple[float, float, str, str]]:
    """The regions of the significance contours: (z inner, z outer, grey, p range in words), from
    the innermost (|z| below the lowest level's quantile) out; the outermost ends at infinity."""
    levels = sorted(float(c) for c in contours)
    if len(levels) > len(SHADES) - 1 or not all(0 < c < 100 for c in levels) or len(set(levels)) < len(levels):
        raise ValueError(f"contours must be at most {len(SHADES) - 1} distinct levels between 0 and 100 "
                         f"(percent), got {contours!r}")
    z = [0.0] + [normal_z(c) for c in levels] + [np.inf]
    a = [f"{1 - c / 100:.3g}" for c in levels]
    words = ([f"p > {a[0]}"] + [f"{a[i + 1]} < p ≤ {a[i]}" for i in range(len(a) - 1)] + [f"p ≤ {a[-1]}"]
             if a else ["all p"])
    return [(z[i], z[i + 1], SHADES[i], words[i]) for i in range(len(levels) + 1)]


def _contour_legend(ax, contours, **where) -> Legend:
    """The legend of the contour regions (their greys and p ranges) on ``ax``, beside its own legend."""
    regions = _contour_shades(contours)
    handles = [Patch(facecolor=shade, edgecolor="0.5", lw=0.5) for _, _, shade, _ in regions]
    legend = Legend(ax, handles, [text for *_, text in regions], frameon=False, fontsize=8,
                    title="two-sided p, effect = 0", title_fontsize=8.5, **where)
    ax.add_artist(legend)
    return legend


def _legend_height(draw) -> float:
    """Height in inches of the legend ``draw(ax)`` returns, drawn on a scratch figure: the most of
    its heights at the resolutions of the SVG (72 dpi) and the PNG (150), as the lines of a
    multi-line label are spaced by whole pixels and so take more or less room at each."""
    heights = []
    for dpi in (72, 150):
        scratch = Figure(dpi=dpi)
        FigureCanvasAgg(scratch)
        heights.append(draw(scratch.add_subplot()).get_window_extent(scratch.canvas.get_renderer()).height / dpi)
    return max(heights)


def _funnel(ax, x: np.ndarray, y: np.ndarray, centre: float, se_per_y: float | None, level: float,
            contours=CONTOURS) -> None:
    """One funnel on ``ax``: the pseudo-confidence region ``centre`` ± z se (se = ``se_per_y`` y;
    none when None) as dashed lines, a line at ``centre``, y inverted from 0; x limits hold the
    points and the funnel's mouth. With ``contours`` (levels in percent), the regions of
    significance about 0 are shaded: between the z quantiles of two levels, :math:`z_a\\,se <
    |x| \\le z_b\\,se`, one grey (:data:`SHADES`, white where no level is reached, the axes' face
    the region beyond the last); without, white inside the pseudo-confidence region and light grey
    outside (metafor's plain funnel). The points are the caller's."""
    ymax = 1.08 * np.nanmax(y)
    xs = [x]
    if se_per_y is not None:
        grid = np.linspace(0, ymax, 50)
        if contours:
            regions = _contour_shades(contours)
            ax.set_facecolor(regions[-1][2])
            for inner, outer, shade, _ in regions[:-1]:
                a, b = inner * se_per_y * grid, outer * se_per_y * grid
                # the innermost region in one piece (-b to b: no seam at 0), the others on each side
                for lo, hi in ([(-b, b)] if inner == 0 else [(-b, -a), (a, b)]):
                    ax.fill_betweenx(grid, lo, hi, color=shade, lw=0, zorder=0)
    if se_per_y is not None and np.isfinite(centre):
        half = normal_z(level) * se_per_y * grid
        if not contours:
            ax.set_facecolor("0.92")
            ax.fill_betweenx(grid, centre - half, centre + half, color="white", lw=0, zorder=0)
        for sign in (-1, 1):
            ax.plot(centre + sign * half, grid, color="0.3", ls="--", lw=0.9)
        xs.append(centre + np.array([-1, 1]) * half[-1])
    if np.isfinite(centre):
        ax.axvline(centre, color="0.15", lw=1)
    lo, hi = np.nanmin(np.concatenate(xs)), np.nanmax(np.concatenate(xs))
    pad = 0.04 * (hi - lo or 1.0)
    ax.set(xlim=(lo - pad, hi + pad), ylim=(ymax, 0))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 5, 10]))


def _precision(rows: pd.DataFrame, measure: str, precision: str) -> tuple[np.ndarray, str, float | None]:
    """The funnel's y (SE or 1/sqrt(n)), its axis label, and the SE per unit of y of the funnel
    (None: no funnel, 1/sqrt(n) of a measure other than the SMD)."""
    if precision not in ("se", "n"):
        raise ValueError(f"precision must be 'se' or 'n', got {precision!r}")
    need(rows, ["yi", "vi"] + (["n_total"] if precision == "n" else []))
    if precision == "se":
        return np.sqrt(rows["vi"].to_numpy(float)), "Standard error", 1.0
    return (1 / np.sqrt(rows["n_total"].to_numpy(float)), "1/√n (n = animals in both groups)",
            2.0 if measure == "SMD" else None)


def _points(ax, x: np.ndarray, y: np.ndarray, style: tuple[str, str], label: str | None = None) -> None:
    colour, marker = style
    ax.scatter(x, y, s=26, color=colour, marker=marker, linewidths=0.4, edgecolors="0.15", zorder=3, label=label)


def funnel_figure(rows: pd.DataFrame, estimate: float, measure: str, precision: str = "se",
                  level: float = 95, contours=CONTOURS) -> Figure:
    """Draw one funnel plot: effects against their standard error or against 1/sqrt(n).

    One funnel about one estimate: for the comparisons of one group, whose true effects are
    alike. Comparisons of groups with different true effects belong in
    :func:`funnel_panels_figure` (one funnel per group, and their residuals on the model with
    the group as moderator).

    Parameters
    ----------
    rows : DataFrame
        ``yi`` and ``vi`` per effect, and ``n_total`` (animals in both arms) for ``precision="n"``;
        with a ``group`` column of more than one value the points get a colour and a marker per
        group (:func:`~premeta.plots.style.group_styles`), with a legend beside the plot.
    estimate : float
        The pooled estimate: a vertical line, and the centre of the pseudo-confidence funnel.
    measure : str
        ``SMD``, ``MD``, ``ROM`` or ``NMD`` (any other text is used as the axis label).
    precision : {"se", "n"}
        ``se``: y is :math:`\\sqrt{v_i}` and the funnel is estimate ± z se (z = 1.96 for 95%). ``n``: y is
        :math:`1/\\sqrt{n}`, which unlike the SE of an SMD does not depend on the SMD itself
        (Zwetsloot et al. 2017, *eLife* 6:e24260); the funnel is then drawn for SMD only,
        with the SE of an SMD of 0 from two equal arms, :math:`2/\\sqrt{n}`.
    level : float
        Confidence level in percent of the pseudo-confidence funnel (metafor ``funnel(level=)``).
    contours : sequence of float
        Levels in percent of the significance contours about 0 (default 90, 95, 99): the regions
        where a comparison's two-sided z test of effect = 0, :math:`|y_i|/se_i`, reaches p below
        0.10, 0.05, 0.01 are shaded in darker greys, with a legend of the p ranges (the
        contour-enhanced funnel plot, Peters et al. 2008, *J Clin Epidemiol* 61:991; metafor
        ``funnel(res, level = c(90, 95, 99), shade = ..., refline = 0, legend = TRUE)``). With
        ``precision="n"`` the se is that of an SMD of 0 (see ``precision``), so the contours are
        approximate. Empty: no contours, inside the funnel white and outside light grey (metafor's
        plain funnel).

    Returns
    -------
    Figure
        y-axis inverted, 0 at the top; the pseudo-confidence funnel about ``estimate`` dashed.
    """
    y, ylabel, se_per_y = _precision(rows, measure, precision)
    x = rows["yi"].to_numpy(float)
    groups = list(dict.fromkeys(rows["group"])) if "group" in rows else []
    coloured = len(groups) > 1
    with theme():
        fig = Figure(figsize=(8.5 if coloured else 6, 5), layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        despine([ax])
        _funnel(ax, x, y, estimate, se_per_y, level, contours)
        if contours and se_per_y is not None:
            _contour_legend(ax, contours, loc="lower left", bbox_to_anchor=(1.02, 0))
        if coloured:
            for g, style in group_styles(groups).items():
                m = (rows["group"] == g).to_numpy()
                _points(ax, x[m], y[m], style, fill(g, 30))
            ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), frameon=False, fontsize=8)
        else:
            ax.scatter(x, y, s=22, color="0.1", linewidths=0, zorder=3)
        ax.set(xlabel=MEASURE_LABELS.get(measure, measure), ylabel=ylabel)
    return fig


def _residuals(ax, x: np.ndarray, y: np.ndarray, labels: np.ndarray, centres: pd.DataFrame, styles: dict,
               se_per_y: float | None, level: float, group_by: str, contours) -> None:
    """The residual panel of :func:`funnel_panels_figure`: each comparison minus the fitted value of
    its group (``centres.fitted``), about 0, the small groups drawn over the large."""
    fitted = dict(zip(centres["group"], centres["fitted"]))
    if np.isfinite(centres["fitted"]).all():
        r = x - np.array([fitted[g] for g in labels], dtype=float)
        _funnel(ax, r, y, 0.0, se_per_y, level, contours)
        for g in sorted(centres["group"], key=lambda g: -(labels == g).sum()):
            m = labels == g
            _points(ax, r[m], y[m], styles[g])
    else:
        why = next(n for n in centres["note"] if isinstance(n, str) and n)
        ax.text(0.5, 0.5, textwrap.fill(f"Not drawn: {why}", 60), ha="center", va="center",
                transform=ax.transAxes, fontsize=8)
    ax.set_title(f"All groups: residuals of the model with {group_by} as moderator\n(each comparison minus "
                 f"the fitted value of its {group_by}; k = {len(x)})", fontsize=9)


@renamed_arguments(by="group_by")
def funnel_panels_figure(rows: pd.DataFrame, centres: pd.DataFrame, measure: str, precision: str = "se",
                         level: float = 95, group_by: str = "group", contours=CONTOURS) -> Figure:
    """Funnel plots by group: one funnel per group about its own pooled estimate, and their residuals.

    Small-study effects are judged among comparisons that share one true effect, never about one
    estimate of groups whose true effects differ (a group with larger comparisons and larger
    effects makes such a funnel look asymmetric). So each group gets its own funnel, about the
    group's pooled estimate :math:`\\hat\\mu_g` (metafor ``funnel(rma(yi, vi, subset = group == g))``),
    three panels per row, its k in the title. With several groups a first, wider panel shows every
    comparison's residual on the model with the group as moderator, :math:`y_i - \\hat\\mu_{g(i)}`
    with :math:`\\hat\\mu_g` the fitted values of ``rma(yi, vi, mods = ~ factor(group), method)``
    (one common tau2), against the same precision, about 0 (metafor ``funnel()`` of that model
    plots these residuals), each group in its colour and marker
    (:func:`~premeta.plots.style.group_styles`), with the legend beside it: the funnel that goes
    with Egger's test on that model (:func:`premeta.groups.bias.small_study`).

    Parameters
    ----------
    rows : DataFrame
        ``group``, ``yi``, ``vi`` per comparison, and ``n_total`` for ``precision="n"``.
    centres : DataFrame
        One row per group, in the order of the panels: ``group``, ``k``, ``estimate`` (the
        centre of its funnel), ``fitted`` (its fitted value on the model with the group as
        moderator) and ``note`` (why ``fitted`` is missing): the table of
        :func:`premeta.groups.bias.funnel_centres`.
    measure, precision, level, contours
        As :func:`funnel_figure`: every panel has the same significance contours about 0 (on the
        residual panel, of the residual), with one legend of their p ranges.
    by : str
        Name of the grouping, in the residual panel's title.

    Returns
    -------
    Figure
        With one group, its funnel alone. Else the residual panel (spanning two columns, the
        legend in the third) and one panel per group: ``len(groups) + 1`` visible axes with data.
        A model that was not fitted leaves its panel without funnel, with the reason in its title.
    """
    y, ylabel, se_per_y = _precision(rows, measure, precision)
    need(rows, ["group"])
    need(centres, ["group", "k", "estimate", "fitted", "note"])
    x = rows["yi"].to_numpy(float)
    labels = rows["group"].astype(str).to_numpy(object)
    groups = list(centres["group"])
    styles = group_styles(groups)
    centre = dict(zip(groups, centres["estimate"]))
    several = len(groups) > 1
    ncol, rows_of_groups = (3, -(-len(groups) // 3)) if several else (1, 1)
    xlabel = MEASURE_LABELS.get(measure, measure)
    titles = [f"{fill(g, 30)} (k = {(labels == g).sum()})" for g in groups]
    with theme():
        shaded = bool(contours) and se_per_y is not None
        w, h = (10.2, 3.6 + 2.9 * rows_of_groups) if several else (5.5 + 1.9 * shaded, 4.2)
        n = several + rows_of_groups
        ratios = [3.6] * several + [2.9] * rows_of_groups
        # margins fixed in inches (room for two-line titles and the axis labels), as _panels: constrained
        # layout placed these panels differently in the last bits from one process to the next
        hspace = 0.9 / (h / n - 1.1 / n)
        mean = (h - 1.1) / (n + (n - 1) * hspace)  # the panels' mean height, inches
        heights, gap = [r / np.mean(ratios) * mean for r in ratios], hspace * mean
        # each title line beyond two adds its height above every row of panels (and above a lone funnel)
        extra = TITLE_LINE * max(0, max(t.count("\n") + 1 for t in titles) - 2)
        top = 0.55 + extra * (not several)
        if several:  # the legend's column as tall as its two legends, one above the other
            keys = ["\n".join(wrap(f"{g} (k = {k})", LEGEND_WIDTH, 8)) for g, k in zip(groups, centres["k"])]
            marks = [Line2D([], [], ls="none", marker=styles[g][1], color=styles[g][0], mec="0.15", mew=0.4)
                     for g in groups]
            key = {"frameon": False, "fontsize": 8, "title": group_by, "title_fontsize": 8.5}
            needed = _legend_height(lambda ax: ax.legend(marks, keys, **key))
            if shaded:
                needed += 0.15 + _legend_height(lambda ax: _contour_legend(ax, contours))
            heights[0] = max(heights[0], needed)
        gap += (extra + 0.1) * several  # 0.1: a two-line title touched the axis label above (72 dpi: overlapped)
        h = top + 0.55 + sum(heights) + (n - 1) * gap
        fig = Figure(figsize=(w, h))
        FigureCanvasAgg(fig)
        grid = fig.add_gridspec(n, ncol, height_ratios=heights,
                                left=0.75 / w, right=1 - (0.2 + 1.9 * (shaded and not several)) / w,
                                bottom=0.55 / h, top=1 - top / h,
                                wspace=0.7 / (w / ncol - 0.95 / ncol), hspace=gap / np.mean(heights))
        if several:
            res = fig.add_subplot(grid[0, :2])
            _residuals(res, x, y, labels, centres, styles, se_per_y, level, group_by, contours)
            res.set(xlabel=f"Residual ({xlabel})", ylabel=ylabel)
            legend = fig.add_subplot(grid[0, 2])
            legend.axis("off")
            legend.legend(marks, keys, loc="upper left" if shaded else "center left",
                          bbox_to_anchor=(0, 1) if shaded else None, **key)
            if shaded:
                _contour_legend(legend, contours, loc="lower left", bbox_to_anchor=(0, 0))
        axes = [fig.add_subplot(grid[several + i // ncol, i % ncol]) for i in range(len(groups))]
        for ax, g, title in zip(axes, groups, titles):
            m = labels == g
            _funnel(ax, x[m], y[m], centre[g], se_per_y, level, contours)
            _points(ax, x[m], y[m], styles[g] if several else ("0.1", "o"))
            note = "" if np.isfinite(centre[g]) else " (not fitted)"
            ax.set_title(f"{title}{note}", fontsize=8.5)
            ax.set_xlabel(xlabel, fontsize=8)
            ax.set_ylabel(ylabel if ax.get_subplotspec().is_first_col() else "", fontsize=8)
        if shaded and not several:
            _contour_legend(axes[0], contours, loc="center left", bbox_to_anchor=(1.04, 0.5))
        despine(fig.axes)
    return fig


def funnel(rows: pd.DataFrame, estimate: float, measure: str, path_stem: str | Path,
           precision: str = "se", level: float = 95, contours=CONTOURS) -> list[Path]:
    """Draw a funnel plot (:func:`funnel_figure`) and write it as PNG and SVG (:func:`~premeta.plots.style.save`);
    with no row to show, a :func:`~premeta.plots.style.message_figure` saying so."""
    if not len(rows) or not np.isfinite(estimate):
        what = "no comparison with group sizes" if precision == "n" else "no comparison"
        return save(message_figure("Funnel plot", what), path_stem)
    return save(funnel_figure(rows, estimate, measure, precision, level, contours), path_stem)


@renamed_arguments(by="group_by")
def funnels(rows: pd.DataFrame, centres: pd.DataFrame, measure: str, path_stem: str | Path, precision: str = "se",
            level: float = 95, group_by: str = "group", contours=CONTOURS) -> list[Path]:
    """Draw the funnel plots by group (:func:`funnel_panels_figure`) and write them as PNG and SVG
    (:func:`~premeta.plots.style.save`); with no row to show, a :func:`~premeta.plots.style.message_figure`
    saying so."""
    if not len(rows):
        what = "no comparison with group sizes" if precision == "n" else "no comparison"
        return save(message_figure("Funnel plots", what), path_stem)
    return save(funnel_panels_figure(rows, centres, measure, precision, level, group_by, contours), path_stem)

