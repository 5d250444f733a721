"""Forest and funnel plots in the convention of metafor's ``forest()`` and ``funnel()``.

Figures are plain :class:`matplotlib.figure.Figure` objects on an Agg canvas (no pyplot state
to close), styled with seaborn's ``ticks`` theme and the DejaVu Sans font that ships with
matplotlib, so output does not depend on the fonts of the machine. SVG text stays text
(``svg.fonttype = "none"``) and ids are salted with a constant, so drawing the same input
twice writes byte-identical files.

The forest plot is laid out on a grid of text lines (:data:`ROW` inches each): labels on the
left, the plot area in the middle, weights and "estimate [95% CI]" on the right, one line per
effect, and for every pooled stratum a diamond, the prediction interval through it and a
line of heterogeneity statistics, as ``forest.rma`` with ``addpred=TRUE`` and ``addpoly``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Polygon
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory
from scipy import stats

from premeta.analysis import overall_label

MEASURE_LABELS = {
    "SMD": "Hedges' g (SMD)", "MD": "Mean difference", "ROM": "log ratio of means", "NMD": "NMD (%)",
}
ROW = 0.25  # inches per text line
WIDTH = 10.0  # figure width, inches
LABEL_X, INDENT = 0.15, 0.18  # left edge of the label column and of indented lines
PLOT = (3.75, 7.05)  # left and right edge of the plot area
WEIGHT_X, EST_X = 7.75, 9.85  # right edges of the weight and the estimate columns
TOP, TITLE, BOTTOM = 0.45, 0.35, 0.85  # margins: header, title, axis with labels
MAXLEN = 40  # longer labels are truncated with an ellipsis
SQUARE = 0.6 * ROW * 72  # side in points of the square of the largest weight
_RC = {
    **sns.axes_style("ticks"),
    **sns.plotting_context("paper"),
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 9,
    "axes.labelsize": 9,
    "xtick.labelsize": 8.5,
    "axes.unicode_minus": False,
    "svg.fonttype": "none",
    "svg.hashsalt": "premeta",
    "text.parse_math": False,  # labels come from the sheet: "$" is printed, never typeset
}


def _z(level: float) -> float:
    """Two-sided normal quantile of a ``level`` percent interval (1.96 for 95)."""
    return float(stats.norm.isf((1 - level / 100) / 2))


def message_figure(title: str, message: str) -> Figure:
    """A figure that says why the figure it replaces was not drawn (its file still exists)."""
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(7, 1.6))
        FigureCanvasAgg(fig)
        fig.text(0.03, 0.72, title, fontsize=11, fontweight="bold", va="center")
        fig.text(0.03, 0.36, textwrap.fill("Not drawn: " + message, 110), fontsize=9, va="center")
    return fig


def _need(rows: pd.DataFrame, cols: list[str]) -> None:
    missing = [c for c in cols if c not in rows]
    if missing:
        raise ValueError(f"rows lacks column(s) {', '.join(missing)}")


def _num(x: float) -> str:
    """Two decimals, without a negative zero."""
    return f"{round(float(x), 2) + 0.0:.2f}"


def _ci(est: float, lo: float, hi: float) -> str:
    return f"{_num(est)} [{_num(lo)}, {_num(hi)}]"


def _pval(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p < 0.01 else f"p = {p:.2f}"


def _trunc(s: object, n: int = MAXLEN) -> str:
    s = str(s)
    return s if len(s) <= n else s[: n - 1].rstrip() + "…"


def _model(pool: pd.Series) -> str:
    return "FE model" if pool.get("method") == "FE" else "RE model"


def _het(pool: pd.Series) -> str:
    """``τ² = 0.12, I² = 45%, Q = 12.30 (df = 6, p = 0.03)``, plus any note of the fit."""
    parts = [] if pool.get("method") == "FE" else [f"τ² = {_num(pool['tau2'])}"]
    q = f"Q = {_num(pool['q'])} (df = {pool['q_df']:.0f}, {_pval(pool['q_p'])})"
    parts += [f"I² = {pool['i2']:.0f}%", q]
    note = pool.get("note")
    return ", ".join(parts) + (f"; {note}" if isinstance(note, str) and note else "")


def _layout(rows: pd.DataFrame, pooled: pd.DataFrame) -> tuple[list[tuple], list[int]]:
    """The text lines of a forest plot, top to bottom, and the lines that carry a rule.

    Each line is ``("study", row, indent)``, ``("group", text)``, ``("summary", pooled row,
    label, indent, bold)``, ``("het", pooled row, indent)``, ``("note", text, indent)`` or ``("gap",)``.
    """
    pools = {str(g): r for g, r in pooled.set_index(pooled["group"].astype(str)).iterrows()}
    groups = list(pd.unique(rows["group"]))
    total = overall_label(groups)
    lines: list[tuple] = []
    rules: list[int] = []

    def block(sub: pd.DataFrame, pool: pd.Series | None, indent: int) -> None:
        lines.extend(("study", r, indent) for _, r in sub.iterrows())
        if pool is not None and pool["k"] > 1:
            if not indent:  # a single stratum: rule between the studies and the model, as metafor
                lines.append(("gap",))
                rules.append(len(lines) - 1)
            lines.append(("summary", pool, f"{_model(pool)} (k = {pool['k']:.0f})", indent, False))
            lines.append(("het", pool, indent))
        elif len(sub) == 1:
            lines.append(("note", "k = 1: no pooling", indent))

    if len(groups) == 1:
        g = str(groups[0])
        pool = pools.get(g, pools.get(total, pooled.iloc[0] if len(pooled) == 1 else None))
        block(rows, pool, 0)
        return lines, rules
    for g in groups:
        sub = rows[rows["group"] == g]
        lines.append(("group", f"{_trunc(g)} (k = {len(sub)})"))
        block(sub, pools.get(str(g)), 1)
        lines.append(("gap",))
    overall = pools.get(total)
    if overall is None:
        lines.pop()
    else:
        rules.append(len(lines) - 1)
        label = f"{_model(overall)}, all groups (k = {overall['k']:.0f})"
        lines += [("summary", overall, label, 0, True), ("het", overall, 0)]
    return lines, rules


def _limits(rows: pd.DataFrame, pools: list[pd.Series], xlim: tuple[float, float] | None,
            z: float) -> np.ndarray:
    """Tick positions whose ends are the x limits (R ``pretty``-like).

    Automatic limits hold 0, every estimate and every pooled CI; study CIs and prediction
    intervals extend them by at most half that span on each side, and are clipped beyond.
    """
    locator = MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10])
    if xlim is not None:
        ticks = locator.tick_values(*xlim)
        return np.r_[xlim[0], ticks[(ticks > xlim[0]) & (ticks < xlim[1])], xlim[1]]
    se = np.sqrt(rows["vi"].to_numpy(float))
    yi = rows["yi"].to_numpy(float)
    core = np.r_[0.0, yi, [p[c] for p in pools for c in ("estimate", "ci_low", "ci_high")]]
    wide = np.r_[yi - z * se, yi + z * se, [p[c] for p in pools for c in ("pi_low", "pi_high")]]
    wide = wide[np.isfinite(wide)]
    c0, c1 = np.nanmin(core), np.nanmax(core)
    span = c1 - c0 if c1 > c0 else 1.0
    lo = max(min(wide.min(initial=c0), c0), c0 - span / 2)
    hi = min(max(wide.max(initial=c1), c1), c1 + span / 2)
    return locator.tick_values(lo, hi)


def _interval(ax, lo: float, hi: float, y: float, xlim: tuple[float, float], whiskers: bool = False,
              **kw) -> None:
    """A horizontal interval clipped to ``xlim``; a triangle marks each clipped end."""
    a, b = max(lo, xlim[0]), min(hi, xlim[1])
    if a >= b:
        return
    ax.plot([a, b], [y, y], solid_capstyle="butt", **kw)
    for end, x, clipped, mark in ((lo, a, lo < xlim[0], "<"), (hi, b, hi > xlim[1], ">")):
        if clipped:
            ax.plot([x], [y], marker=mark, ms=5, mew=0, clip_on=False, color=kw.get("color"))
        elif whiskers:
            ax.plot([x, x], [y - 0.18, y + 0.18], **kw)


def forest_figure(rows: pd.DataFrame, pooled: pd.DataFrame, measure: str, title: str = "",
                  favours: tuple[str, str] = ("control", "exercise"),
                  xlim: tuple[float, float] | None = None, level: float = 95) -> Figure:
    """Draw a forest plot, one block per stratum, in the layout of metafor's ``forest()``.

    Parameters
    ----------
    rows : DataFrame
        One row per effect, in plotting order: ``label`` (study text), ``group`` (stratum),
        ``yi``, ``vi`` and ``weight`` (percent within its stratum).
    pooled : DataFrame
        The table of :func:`premeta.rma`, one row per stratum and optionally ``overall``.
        With one stratum in ``rows`` its row is used, else the ``overall`` row.
    measure : str
        ``SMD``, ``MD``, ``ROM`` or ``NMD`` (any other text is used as the axis label).
    title : str
        Printed above the header, wrapped at 90 characters.
    favours : (str, str)
        Who is favoured left and right of 0, printed under the axis as "Favours ...".
    xlim : (float, float), optional
        Axis limits; by default from the data (see :func:`_limits`). Intervals are clipped
        at the limits and end in a triangle there.
    level : float
        Confidence level in percent of the study intervals and of the header; it should be the
        level of ``pooled`` (whose intervals are drawn as given).

    Returns
    -------
    Figure
        10 inches wide and :data:`ROW` inches per text line high. Squares have an area
        proportional to ``weight``, the largest of each stratum at full size; diamonds (the
        only ``Polygon`` patches) span the CI of each pooled stratum with k > 1 and of
        ``overall``; the dotted whiskers through them are the prediction intervals.
    """
    _need(rows, ["label", "group", "yi", "vi", "weight"])
    rows = rows.reset_index(drop=True)
    lines, rules = _layout(rows, pooled)
    z = _z(level)
    ticks = _limits(rows, [ln[1] for ln in lines if ln[0] == "summary"], xlim, z)
    xl = (ticks[0], ticks[-1])
    n = len(lines)
    title = textwrap.fill(title, 90)  # a long group name wraps, never runs off the figure
    top = TOP + (TITLE + 0.2 * title.count("\n") if title else 0.0)
    height = top + n * ROW + BOTTOM
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(WIDTH, height))
        FigureCanvasAgg(fig)
        ax = fig.add_axes((PLOT[0] / WIDTH, BOTTOM / height, (PLOT[1] - PLOT[0]) / WIDTH, n * ROW / height))
        ax.set(xlim=xl, ylim=(n - 0.5, -0.5), yticks=[], xticks=ticks)
        for side in ("left", "right", "top"):
            ax.spines[side].set_visible(False)
        row_tf = blended_transform_factory(fig.transFigure, ax.transData)

        def text(x: float, y: float, s: str, ha: str = "left", **kw) -> None:
            ax.text(x / WIDTH, y, s, transform=row_tf, ha=ha, va="center_baseline", clip_on=False, **kw)

        def rule(y: float) -> None:
            ax.plot([LABEL_X / WIDTH, EST_X / WIDTH], [y, y], transform=row_tf, clip_on=False,
                    color="0.15", lw=0.8)

        if title:
            fig.text(LABEL_X / WIDTH, 1 - 0.12 / height, title, ha="left", va="top", fontsize=11,
                     fontweight="bold")
        text(LABEL_X, -1.1, "Study", fontweight="bold")
        text(WEIGHT_X, -1.1, "Weight", ha="right", fontweight="bold")
        text(EST_X, -1.1, f"Estimate [{level:g}% CI]", ha="right", fontweight="bold")
        rule(-0.5)
        for y in rules:
            rule(y)
        ax.axvline(0, color="0.3", ls=":", lw=0.9, zorder=0)

        w = rows["weight"].astype(float)
        area = (w / w.groupby(rows["group"], dropna=False).transform("max")).fillna(0) * SQUARE**2
        squares = []
        for y, (kind, *arg) in enumerate(lines):
            if kind == "study":
                r, indent = arg
                lo, hi = r["yi"] - z * np.sqrt(r["vi"]), r["yi"] + z * np.sqrt(r["vi"])
                _interval(ax, lo, hi, y, xl, color="0.15", lw=0.9)
                squares.append((r["yi"], y, max(area[r.name], 4.0)))
                text(LABEL_X + indent * INDENT, y, _trunc(r["label"]))
                if np.isfinite(r["weight"]):
                    text(WEIGHT_X, y, f"{r['weight']:.1f}%", ha="right")
                text(EST_X, y, _ci(r["yi"], lo, hi), ha="right")
            elif kind == "group":
                text(LABEL_X, y, arg[0], fontweight="bold")
            elif kind == "summary":
                p, label, indent, bold = arg
                weight = "bold" if bold else "normal"
                if np.isfinite(p["pi_low"]):
                    _interval(ax, p["pi_low"], p["pi_high"], y, xl, whiskers=True, color="0.15", lw=0.9,
                              ls=(0, (1.5, 1.5)), zorder=1)
                est, h = p["estimate"], 0.32
                ax.add_patch(Polygon([(p["ci_low"], y), (est, y - h), (p["ci_high"], y), (est, y + h)],
                                     fc="0.35" if indent else "0.1", ec="0.1", lw=0.6, zorder=2))
                text(LABEL_X + indent * INDENT, y, label, fontweight=weight)
                text(EST_X, y, _ci(p["estimate"], p["ci_low"], p["ci_high"]), ha="right", fontweight=weight)
            elif kind == "het":
                p, indent = arg
                text(LABEL_X + indent * INDENT, y, _het(p), fontsize=8, color="0.3")
                if np.isfinite(p["pi_low"]):
                    text(EST_X, y, f"PI [{_num(p['pi_low'])}, {_num(p['pi_high'])}]", ha="right", fontsize=8,
                         color="0.3")
            elif kind == "note":
                text(LABEL_X + arg[1] * INDENT, y, arg[0], fontsize=8, color="0.3", fontstyle="italic")
        if squares:
            x, y, s = zip(*squares)
            ax.scatter(x, y, s=s, marker="s", color="0.15", linewidths=0, zorder=3)

        zero_tf = blended_transform_factory(ax.transData, ax.transAxes)
        if xl[0] <= 0 <= xl[1]:
            sides = (("right", -4, f"← Favours {favours[0]}"), ("left", 4, f"Favours {favours[1]} →"))
            for ha, dx, s in sides:
                ax.annotate(s, (0, 0), xycoords=zero_tf, xytext=(dx, -21), textcoords="offset points",
                            ha=ha, va="top", fontsize=8.5)
        ax.set_xlabel(MEASURE_LABELS.get(measure, measure), labelpad=17)
    return fig


def funnel_figure(rows: pd.DataFrame, estimate: float, measure: str, precision: str = "se",
                  level: float = 95) -> Figure:
    """Draw a funnel plot: effects against their standard error or against 1/sqrt(n).

    Parameters
    ----------
    rows : DataFrame
        ``yi`` and ``vi`` per effect, and ``n_total`` (animals in both arms) for ``precision="n"``.
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

    Returns
    -------
    Figure
        y-axis inverted, 0 at the top; inside the funnel white, outside light grey (metafor).
    """
    if precision not in ("se", "n"):
        raise ValueError(f"precision must be 'se' or 'n', got {precision!r}")
    _need(rows, ["yi", "vi"] + (["n_total"] if precision == "n" else []))
    x = rows["yi"].to_numpy(float)
    if precision == "se":
        y, ylabel, se_per_y = np.sqrt(rows["vi"].to_numpy(float)), "Standard error", 1.0
    else:
        y = 1 / np.sqrt(rows["n_total"].to_numpy(float))
        ylabel, se_per_y = "1/√n (n = animals in both groups)", 2.0 if measure == "SMD" else None
    ymax = 1.08 * np.nanmax(y)
    grid = np.linspace(0, ymax, 50)
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(6, 5), layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        sns.despine(ax=ax)
        xs = [x]
        if se_per_y is not None:
            half = _z(level) * se_per_y * grid
            ax.set_facecolor("0.92")
            ax.fill_betweenx(grid, estimate - half, estimate + half, color="white", lw=0, zorder=0)
            for sign in (-1, 1):
                ax.plot(estimate + sign * half, grid, color="0.3", ls="--", lw=0.9)
            xs.append(estimate + np.array([-1, 1]) * half[-1])
        ax.axvline(estimate, color="0.15", lw=1)
        ax.scatter(x, y, s=22, color="0.1", linewidths=0, zorder=3)
        lo, hi = np.nanmin(np.concatenate(xs)), np.nanmax(np.concatenate(xs))
        pad = 0.04 * (hi - lo or 1.0)
        ax.set(xlim=(lo - pad, hi + pad), ylim=(ymax, 0), xlabel=MEASURE_LABELS.get(measure, measure),
               ylabel=ylabel)
    return fig


def save(fig: Figure, path_stem: str | Path) -> list[Path]:
    """Write ``<stem>.png`` (150 dpi) and ``<stem>.svg`` without dates or versions that would vary.

    Returns
    -------
    list of Path
        The PNG and the SVG file.
    """
    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    png, svg = Path(f"{stem}.png"), Path(f"{stem}.svg")
    with mpl.rc_context(_RC):
        fig.savefig(png, dpi=150, metadata={"Software": None})
        fig.savefig(svg, metadata={"Date": None, "Creator": None})
    return [png, svg]


def forest(rows: pd.DataFrame, pooled: pd.DataFrame, measure: str, path_stem: str | Path, title: str = "",
           favours: tuple[str, str] = ("control", "exercise"),
           xlim: tuple[float, float] | None = None, level: float = 95) -> list[Path]:
    """Draw a forest plot (:func:`forest_figure`) and write it as PNG and SVG (:func:`save`)."""
    return save(forest_figure(rows, pooled, measure, title, favours, xlim, level), path_stem)


def funnel(rows: pd.DataFrame, estimate: float, measure: str, path_stem: str | Path,
           precision: str = "se", level: float = 95) -> list[Path]:
    """Draw a funnel plot (:func:`funnel_figure`) and write it as PNG and SVG (:func:`save`);
    with no row to show, a :func:`message_figure` saying so."""
    if not len(rows) or not np.isfinite(estimate):
        what = "no comparison with group sizes" if precision == "n" else "no comparison"
        return save(message_figure("Funnel plot", what), path_stem)
    return save(funnel_figure(rows, estimate, measure, precision, level), path_stem)


ROB_COLOURS = {"low": "#4daf4a", "unclear": "#ffd92f", "high": "#e41a1c"}


def rob_figure(summary: pd.DataFrame) -> Figure:
    """SYRCLE summary: for each item the share of studies at low, unclear and high risk."""
    with mpl.rc_context(_RC):
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
        sns.despine(fig=fig, left=True)
    return fig


def _panels(groups: list, width: float = 3.3, height: float = 2.6):
    """A constrained figure with one panel per group, three per row; unused panels hidden."""
    ncol = min(3, len(groups))
    nrow = -(-len(groups) // ncol)
    fig = Figure(figsize=(width * ncol, height * nrow), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrow, ncol, squeeze=False)
    for ax in axes.flat[len(groups):]:
        ax.set_visible(False)
    return fig, axes.flat[:len(groups)]


def time_course_figure(course: pd.DataFrame, measure: str, time_label: str = "Days after injury",
                       time: str = "time") -> Figure:
    """Pooled effect (with its CI) against time, one panel per group: ``group, <time>, k, estimate, ci_low,
    ci_high``."""
    groups = list(dict.fromkeys(course["group"]))
    if not groups:
        return message_figure(time_label, "no comparison has a time")
    with mpl.rc_context(_RC):
        fig, axes = _panels(groups)
        for ax, g in zip(axes, groups):
            d = course[course["group"] == g].sort_values(time)
            ax.axhline(0, color="0.5", lw=0.8, ls=":")
            ax.errorbar(d[time], d["estimate"], yerr=[d["estimate"] - d["ci_low"], d["ci_high"] - d["estimate"]],
                        fmt="s-", color="0.15", ms=4, lw=1, capsize=2)
            for t, e, k in zip(d[time], d["ci_high"], d["k"]):
                ax.annotate(f"k={k}", (t, e), textcoords="offset points", xytext=(0, 3), ha="center", fontsize=7)
            ax.set_title(_trunc(g, 34), fontsize=9)
            ax.margins(y=0.15)
        fig.supxlabel(time_label, fontsize=9)
        fig.supylabel(MEASURE_LABELS.get(measure, measure), fontsize=9)
    return fig


def bubble_figure(points: pd.DataFrame, lines: pd.DataFrame, xlabel: str, measure: str, why: str = "") -> Figure:
    """Bubble plots of a meta-regression on one moderator, one panel per group.

    ``points``: ``group, x, yi, weight`` (marker area proportional to the weight in its group);
    ``lines``: ``group, intercept, slope`` (the fitted line over the range of x, as metafor's
    ``regplot``); a panel's title gives its k and the slope's p from ``lines.p`` when present.
    Without lines, a :func:`message_figure` with ``why`` (the reason no group was fitted).
    """
    groups = list(dict.fromkeys(lines["group"]))
    if not groups:
        return message_figure(f"Meta-regression on {xlabel}", why or "the moderator could be fitted in no group")
    with mpl.rc_context(_RC):
        fig, axes = _panels(groups)
        for ax, (_, line) in zip(axes, lines.iterrows()):
            d = points[points["group"] == line["group"]]
            ax.scatter(d["x"], d["yi"], s=200 * d["weight"] / d["weight"].max(), facecolor="none",
                       edgecolor="0.2", lw=0.8)
            grid = np.linspace(d["x"].min(), d["x"].max(), 50)
            ax.plot(grid, line["intercept"] + line["slope"] * grid, color="#c0392b", lw=1.5)
            ax.axhline(0, color="0.5", lw=0.8, ls=":")
            p = f", {_pval(line['p'])}" if "p" in line and pd.notna(line["p"]) else ""
            ax.set_title(f"{_trunc(line['group'], 30)} (k = {len(d)}{p})", fontsize=8.5)
        fig.supxlabel(xlabel, fontsize=9)
        fig.supylabel(MEASURE_LABELS.get(measure, measure), fontsize=9)
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
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(7.5, 0.45 * len(groups) + 1.3), layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        for a, off, (marker, color) in zip(analyses, offsets, [("o", "0.55"), ("s", "0.1"), ("D", "#c0392b")]):
            d = estimates[estimates["analysis"] == a].set_index("group").reindex(groups)
            y = np.arange(len(groups)) + off
            ax.errorbar(d["estimate"], y, xerr=[d["estimate"] - d["ci_low"], d["ci_high"] - d["estimate"]],
                        fmt=marker, color=color, ms=5, lw=1.2, capsize=2, label=a)
        ax.axvline(0, color="0.5", lw=0.8, ls=":")
        ax.set_yticks(np.arange(len(groups)), [_trunc(g, 34) for g in groups])
        ax.invert_yaxis()
        ax.set_xlabel(MEASURE_LABELS.get(measure, measure))
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12 - 0.3 / len(groups)), ncol=len(analyses),
                  frameon=False, fontsize=8)
    return fig
