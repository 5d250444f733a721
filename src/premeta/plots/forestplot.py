"""Forest plots in the layout of metafor's ``forest()``.

The forest plot is laid out on a grid of text lines (:data:`ROW` inches each): labels on the
left (as wide as they need, then wrapped), extra columns such as the n of each arm (metafor
``ilab``), the plot area, weights and "estimate [95% CI]" on the right, one line per effect,
and for every pooled stratum a diamond, the prediction interval through it, a line of
heterogeneity statistics and the test for the overall effect, as ``forest.rma`` with
``addpred=TRUE`` and ``addpoly``. :func:`_layout` (or :func:`summary_forest_figure`) makes the
lines, :func:`_limits` the axis, :func:`_draw` the figure.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Polygon
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory

from premeta.deprecation import renamed_arguments
from premeta.plots.axes import interval, normal_z, span
from premeta.plots.riskofbias import domain_headers, judgement_cells, judgement_styles, key_text
from premeta.plots.style import (FONT, ci_text, message_figure, need, number, p_text, save, text_width, theme,
                                 wrap)
from premeta.rob import SYRCLE, Tool
from premeta.vocabulary import MEASURE_LABELS, Labels, overall_label


ROW = 0.25  # inches per text line
MARGIN = 0.15  # left and right margin, inches
INDENT = 0.18  # indent of the lines of a stratum under its heading, inches
LABEL_MIN, LABEL_MAX = 1.5, 4.6  # the label column takes the width its text needs within these; longer labels wrap
ILAB_W = 0.85  # width of each extra column (per-arm n, k, studies), inches
PLOT_W = 3.3  # width of the plot area, inches
GAP = 0.3  # space between the columns, inches
WEIGHT_W, EST_W = 0.7, 1.75  # width of the weight and the "estimate [CI]" columns, inches
ROB_W = 0.28  # width of each risk-of-bias column, inches
TITLE_LINE, BOTTOM = 0.22, 0.85  # height of a title line; margin under the plot (axis, favours), inches
FOOTER_TOP = 0.8  # from the plot area down to the first footer line (under the axis label), inches
SQUARE = 0.6 * ROW * 72  # side in points of the square of the largest weight
SIDE_FONT, SIDE_GAP = 8.5, 4 / 72  # the "Favours ..." texts under the axis: size, and distance from 0 in inches


#: More rows than this are not drawn (a figure over 75 inches tall helps no reader): the figure
#: says so and points to the study-level figure and the tables.
FOREST_MAX_ROWS = 300
#: The texts under a forest plot's axis when the caller names none: neutral arms, effects oriented to benefit.
SIDES = Labels().sides("benefit")


def _model(pool: pd.Series) -> str:
    """The model of a pooled row in a few words (a row of :func:`premeta.primary` or of
    :func:`premeta.stratified`)."""
    return {"multilevel": "Three-level model", "rve": "RVE model",
            "aggregate": "RE model, cohorts aggregated"}.get(pool.get("dependence"),
                                                            "FE model" if pool.get("method") == "FE" else "RE model")


def _has(pool: pd.Series, key: str) -> bool:
    """Whether the row has a finite number under ``key``."""
    x = pool.get(key)
    return isinstance(x, (int, float, np.number)) and bool(np.isfinite(x))


def _df(df: float) -> str:
    """Degrees of freedom: whole, or with one decimal (Satterthwaite)."""
    return f"{df:.0f}" if float(df).is_integer() else f"{df:.1f}"


def _het(pool: pd.Series) -> str:
    """``τ² = 0.12, I² = 45%, Q = 12.30 (df = 6, p = 0.03)`` (the three-level model's two σ² in
    place of τ²), what the row has of these, plus any note of the fit."""
    parts = []
    if _has(pool, "sigma2_study"):
        parts.append(f"σ² study = {number(pool['sigma2_study'])}, within = {number(pool['sigma2_within'])}")
    elif pool.get("method") != "FE" and _has(pool, "tau2"):
        parts.append(f"τ² = {number(pool['tau2'])}")
    if _has(pool, "i2"):
        parts.append(f"I² = {pool['i2']:.0f}%")
    if _has(pool, "q") and _has(pool, "q_df"):
        parts.append(f"Q = {number(pool['q'])} (df = {pool['q_df']:.0f}, {p_text(pool['q_p'])})")
    note = pool.get("note")
    # the caveats of the fit; how the animals were counted belongs to the tables, not under a diamond
    note = "; ".join(n for n in note.split("; ") if not n.startswith("animals ")) if isinstance(note, str) else ""
    return "; ".join(filter(None, [", ".join(parts), note]))


def _effect_test(pool: pd.Series) -> str:
    """``Test for overall effect: t = 3.10 (df = 8), p = 0.015`` (z without df), as RevMan and metafor print it."""
    if not _has(pool, "stat"):
        return "Test for overall effect: not computed"
    t = _has(pool, "df")
    df = f" (df = {_df(pool['df'])})" if t else ""
    return f"Test for overall effect: {'t' if t else 'z'} = {number(pool['stat'])}{df}, {p_text(pool['p'])}"


def _subgroup_test(test: pd.Series) -> str:
    """One line per test of subgroup differences (the tests of :func:`premeta.models.subgroup_tests`)."""
    if not np.isfinite(test.get("stat", np.nan)):
        return f"Test for subgroup differences ({test['test']}): not computed; {test.get('note', '')}".rstrip("; ")
    f = np.isfinite(test.get("df2", np.nan))
    df = f"{test['df1']:.0f}, {test['df2']:.0f}" if f else f"{test['df1']:.0f}"
    name = "between the separate fits" if test["test"].startswith("Q_between") else "meta-regression, common τ²"
    stat = "F" if f else "Q"
    return f"Test for subgroup differences ({name}): {stat} = {number(test['stat'])} (df = {df}), {p_text(test['p'])}"


def _ilab_text(x) -> str:
    if isinstance(x, str):
        return x
    return "" if x is None or not np.isfinite(x) else f"{x:g}"


def _layout(rows: pd.DataFrame, pooled: pd.DataFrame, ilab: dict[str, str],
            rob: pd.DataFrame | None = None) -> tuple[list[dict], list[int]]:
    """The lines of a forest plot, top to bottom, and the lines that carry a rule.

    Each entry is a dict with ``kind`` (``study``, ``group``, ``summary``, ``het``, ``note``,
    ``gap``) and what it draws; its label is wrapped later, when the column widths are known. A
    study line carries its judgements (``rob``, a row of ``rob`` by position) when ``rob`` is given.
    """
    pools = {str(g): r for g, r in pooled.set_index(pooled["group"].astype(str)).iterrows()}
    groups = list(pd.unique(rows["group"]))
    total = overall_label(groups)
    lines: list[dict] = []
    rules: list[int] = []

    def pool_lines(pool: pd.Series, label: str, indent: int, bold: bool) -> None:
        lines.append({"kind": "summary", "pool": pool, "label": label, "indent": indent, "bold": bold})
        lines.append({"kind": "het", "text": _het(pool), "pi": pool, "indent": indent})
        lines.append({"kind": "het", "text": _effect_test(pool), "indent": indent})

    def block(sub: pd.DataFrame, pool: pd.Series | None, indent: int) -> None:
        lines.extend({"kind": "study", "row": r, "label": r["label"], "indent": indent,
                      "ilab": [_ilab_text(r[c]) for c in ilab.values()],
                      "rob": [] if rob is None else list(rob.iloc[i])} for i, r in sub.iterrows())
        if pool is not None and pool["k"] > 1:
            if not indent:  # a single stratum: rule between the studies and the model, as metafor
                lines.append({"kind": "gap"})
                rules.append(len(lines) - 1)
            pool_lines(pool, f"{_model(pool)} (k = {pool['k']:.0f})", indent, False)
        elif len(sub) == 1:
            lines.append({"kind": "note", "text": "k = 1: no pooling", "indent": indent})

    if len(groups) == 1:
        g = str(groups[0])
        pool = pools.get(g, pools.get(total, pooled.iloc[0] if len(pooled) == 1 else None))
        block(rows, pool, 0)
        return lines, rules
    for g in groups:
        sub = rows[rows["group"] == g]
        lines.append({"kind": "group", "label": f"{g} (k = {len(sub)})"})
        block(sub, pools.get(str(g)), 1)
        lines.append({"kind": "gap"})
    overall = pools.get(total)
    if overall is None:
        lines.pop()
    else:
        rules.append(len(lines) - 1)
        pool_lines(overall, f"{_model(overall)}, all groups (k = {overall['k']:.0f})", 0, True)
    return lines, rules


def _thin(pool: pd.Series) -> bool:
    """A pooled row resting on very little: k = 2, or k > 1 comparisons all from one study."""
    k, studies = float(pool.get("k", np.nan)), float(pool.get("studies", np.nan))
    return k == 2 or (k > 1 and studies == 1)


def _limits(rows: pd.DataFrame, pools: list[pd.Series], xlim: tuple[float, float] | None,
            z: float) -> np.ndarray:
    """Tick positions whose ends are the x limits (R ``pretty``-like), rounded outward from
    :func:`~premeta.plots.axes.span`.

    Automatic limits hold 0, every study estimate and the estimate of every pooled row that is
    not thin; the study CIs, the diamonds (pooled CIs) and the prediction intervals set the scale
    unless they are extreme (see :func:`~premeta.plots.axes.span`: beyond 1.5 times the span of the range left when
    ends beyond Tukey's fence are set aside). A thin pooled row (its own ``k`` is 2, or ``k`` > 1
    with ``studies`` == 1) never sets the scale: its estimate, diamond and PI are shown where they
    fit that window and clipped beyond it. Clipped intervals end in a triangle (:func:`~premeta.plots.axes.interval`).
    """
    locator = MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10])
    if xlim is not None:
        ticks = locator.tick_values(*xlim)
        return np.r_[xlim[0], ticks[(ticks > xlim[0]) & (ticks < xlim[1])], xlim[1]]
    se = np.sqrt(rows["vi"].to_numpy(float))
    yi = rows["yi"].to_numpy(float)
    solid = [p for p in pools if not _thin(p)]
    thin = [p for p in pools if _thin(p)]
    core = np.r_[yi, [p.get("estimate", np.nan) for p in solid]]
    ends = np.r_[yi - z * se, yi + z * se,
                 [p.get(c, np.nan) for p in solid for c in ("ci_low", "ci_high", "pi_low", "pi_high")]]
    weak = [p.get(c, np.nan) for p in thin for c in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high")]
    lo, hi, _ = span(core, ends, weak)
    return locator.tick_values(lo, hi)


@dataclass(frozen=True)
class _Columns:
    """Where the columns of a forest plot sit, in inches from its left edge (metafor ``forest()``'s
    order: labels, ``ilab`` columns, plot area, weights, "estimate [CI]")."""

    label: float  # width of the label column
    ilab: list[float]  # right edge of each ilab column
    plot: tuple[float, float]  # left and right edge of the plot area
    weight: float  # right edge of the weights (the plot area's without them)
    est: float  # right edge of "estimate [CI]"
    rob: list[float]  # centre of each risk-of-bias column
    pad: float = 0.0  # room beyond the last column for the "Favours ..." text right of 0, where it is longer

    @property
    def right(self) -> float:
        """Right edge of the last column."""
        return self.rob[-1] + ROB_W / 2 if self.rob else self.est

    @property
    def width(self) -> float:
        return self.right + MARGIN + self.pad

    @property
    def text(self) -> float:
        """Width a heterogeneity or footer line may take: it may run under the plot area."""
        return self.plot[1] - MARGIN


def _columns(lines: list[dict], header: str, ilab: list[str], weights: bool, rob: int = 0) -> _Columns:
    """The label column as wide as its widest line needs, between :data:`LABEL_MIN` and
    :data:`LABEL_MAX` inches; each ``ilab`` column as wide as its header, at least :data:`ILAB_W`;
    ``rob`` risk-of-bias columns of :data:`ROB_W` inches after "estimate [CI]"."""
    labelled = [ln for ln in lines if ln["kind"] in ("study", "summary", "group")]
    widest = max([text_width(str(ln["label"]), bold=ln.get("bold", ln["kind"] == "group"))
                  + INDENT * ln.get("indent", 0) for ln in labelled] + [text_width(header, bold=True)])
    label_w = min(max(widest, LABEL_MIN), LABEL_MAX)
    ilab_w = [max(ILAB_W, text_width(h, bold=True) + 0.15) for h in ilab]
    plot0 = MARGIN + label_w + GAP + sum(ilab_w) + GAP
    weight = plot0 + PLOT_W + GAP + WEIGHT_W if weights else plot0 + PLOT_W
    est = weight + GAP + EST_W
    return _Columns(label_w, list(MARGIN + label_w + GAP + np.cumsum(ilab_w)), (plot0, plot0 + PLOT_W), weight,
                    est, list(est + GAP + ROB_W * (np.arange(rob) + 0.5)))


def _wrap_lines(lines: list[dict], cols: _Columns) -> list[int]:
    """Wrap every line's label or text to its column (``wrapped``); returns how many text lines each takes."""
    for ln in lines:
        indent = INDENT * ln.get("indent", 0)
        if ln["kind"] in ("study", "summary"):
            ln["wrapped"] = wrap(ln["label"], cols.label - indent, bold=ln.get("bold", False))
        elif ln["kind"] == "group":
            ln["wrapped"] = wrap(ln["label"], cols.text, bold=True)
        elif ln["kind"] in ("het", "note"):
            ln["wrapped"] = wrap(ln["text"], cols.text - indent - (EST_W if ln.get("pi") is not None else 0), size=8)
        else:
            ln["wrapped"] = [""]
    return [len(ln["wrapped"]) for ln in lines]


class _Page:
    """A forest plot's figure and plot area: text placed at inches across and text lines down."""

    def __init__(self, fig: Figure, ax, cols: _Columns) -> None:
        self.fig, self.ax, self.cols = fig, ax, cols
        self.rows = blended_transform_factory(fig.transFigure, ax.transData)

    def text(self, x: float, y: float, s: str, ha: str = "left", **kw) -> None:
        self.ax.text(x / self.cols.width, y, s, transform=self.rows, ha=ha, va="center_baseline", clip_on=False, **kw)

    def rule(self, y: float) -> None:
        self.ax.plot([MARGIN / self.cols.width, self.cols.right / self.cols.width], [y, y], transform=self.rows,
                     clip_on=False, color="0.15", lw=0.8)


def _study(page: _Page, r: pd.Series, y: float, xl: tuple[float, float], z: float, weights: bool) -> None:
    """A study's interval, its weight and "estimate [CI]" (its square is drawn with the others)."""
    lo, hi = r["yi"] - z * np.sqrt(r["vi"]), r["yi"] + z * np.sqrt(r["vi"])
    interval(page.ax, lo, hi, y, xl, color="0.15", lw=0.9)
    if weights and np.isfinite(r.get("weight", np.nan)):
        page.text(page.cols.weight, y, f"{r['weight']:.1f}%", ha="right")
    page.text(page.cols.est, y, ci_text(r["yi"], lo, hi), ha="right")


def _summary(page: _Page, p: pd.Series, y: float, xl: tuple[float, float], bold: bool, style: dict) -> None:
    """A pooled row: its prediction interval, its diamond (lighter where the axis cuts it) and
    "estimate [CI]", or "not estimated"."""
    ax = page.ax
    if np.isfinite(p["pi_low"]):
        interval(ax, p["pi_low"], p["pi_high"], y, xl, whiskers=True, color="0.15", lw=0.9, ls=(0, (1.5, 1.5)),
                 zorder=1)
    est, d = p["estimate"], 0.32
    if not np.isfinite(est):  # the model could not be fitted: its note says why
        page.text(page.cols.est, y, "not estimated", ha="right", fontsize=8, color="0.3", fontstyle="italic")
        return
    cut = p["ci_low"] < xl[0] or p["ci_high"] > xl[1]  # drawn lighter: it runs on beyond the axis
    ax.add_patch(Polygon([(p["ci_low"], y), (est, y - d), (p["ci_high"], y), (est, y + d)],
                         fc="0.8" if cut else "0.1" if bold else "0.35", ec="0.1", lw=0.6, zorder=2))
    if not np.isfinite(p["pi_low"]):  # a diamond cut by the axis: a triangle at the cut, as a PI's
        for x, m, beyond in ((xl[0], "<", p["ci_low"] < xl[0]), (xl[1], ">", p["ci_high"] > xl[1])):
            if beyond:
                ax.plot([x], [y], marker=m, ms=5, mew=0, clip_on=False, color="0.1", zorder=3)
    page.text(page.cols.est, y, ci_text(est, p["ci_low"], p["ci_high"]), ha="right", **style)


def _squares(lines: list[dict], weights: bool) -> np.ndarray:
    """Area in points² of each study's square: proportional to its weight, the largest of each
    stratum :data:`SQUARE` wide (all full size without weights); at least 4."""
    study = [ln for ln in lines if ln["kind"] == "study"]
    if not study:
        return np.zeros(0)
    w = pd.Series([ln["row"].get("weight", np.nan) for ln in study], dtype=float)
    grp = pd.Series([ln["row"]["group"] for ln in study], dtype=object)
    area = ((w / w.groupby(grp, dropna=False).transform("max")).fillna(1.0 if not weights else 0) * SQUARE**2)
    return np.maximum(area.to_numpy(), 4.0)


def _draw(lines: list[dict], rules: list[int], ticks: np.ndarray, measure: str, title: str,
          sides: tuple[str, str], level: float, header: str, ilab: list[str], weights: bool,
          footer: list[str] = (), rob: dict[str, tuple[str, str]] | None = None, rob_n: int = 0) -> Figure:
    """Lay out and draw the lines of :func:`_layout` in the columns of metafor's ``forest()`` (:func:`_columns`).

    Longer labels wrap onto further lines (never cut). The x axis sits directly under the last
    line; ``footer`` lines are printed below it (under its label and the "Favours ..." texts), the
    first :data:`FOOTER_TOP` inches under the plot area. With ``rob`` (the judgements' styles,
    :func:`~premeta.plots.riskofbias.judgement_styles`), ``rob_n`` columns headed D1..Dn hold each
    study line's judgements.
    """
    cols = _columns(lines, header, ilab, weights, rob_n)
    xl = (ticks[0], ticks[-1])
    if xl[0] <= 0 <= xl[1]:  # the texts either side of 0 reach as far as they need: the figure widens
        zero = cols.plot[0] + PLOT_W * (0 - xl[0]) / (xl[1] - xl[0])
        short = MARGIN + SIDE_GAP + text_width(f"← {sides[0]}", SIDE_FONT) - zero
        if short > 0:  # the label column widens, the columns right of it move right
            cols = replace(cols, label=cols.label + short, ilab=[x + short for x in cols.ilab],
                           plot=(cols.plot[0] + short, cols.plot[1] + short), weight=cols.weight + short,
                           est=cols.est + short, rob=[x + short for x in cols.rob])
            zero += short
        reach = zero + SIDE_GAP + text_width(f"{sides[1]} →", SIDE_FONT) + MARGIN
        cols = replace(cols, pad=max(0.0, reach - cols.width))
    slots = _wrap_lines(lines, cols)
    footer = [w for f in footer for w in wrap(f, cols.text, size=8)]
    start = np.r_[0, np.cumsum(slots)[:-1]]
    n = int(sum(slots))
    width = cols.width
    bottom = FOOTER_TOP + (len(footer) - 0.2) * ROW if footer else BOTTOM  # under the plot area, inches
    title_lines = wrap(title, width - 2 * MARGIN, size=11, bold=True) if title else []
    top = 0.2 + TITLE_LINE * len(title_lines) + 1.2 * ROW  # title, then the column headers
    height = top + n * ROW + bottom
    with theme():
        fig = Figure(figsize=(width, height))
        FigureCanvasAgg(fig)
        ax = fig.add_axes((cols.plot[0] / width, bottom / height, PLOT_W / width, n * ROW / height))
        ax.set(xlim=xl, ylim=(n - 0.5, -0.5), yticks=[], xticks=ticks)
        for side in ("left", "right", "top"):
            ax.spines[side].set_visible(False)
        page = _Page(fig, ax, cols)
        for i, t in enumerate(title_lines):
            fig.text(MARGIN / width, 1 - (0.12 + i * TITLE_LINE) / height, t, ha="left", va="top", fontsize=11,
                     fontweight="bold")
        page.text(MARGIN, -1.1, header, fontweight="bold")
        for x, h in zip(cols.ilab, ilab):
            page.text(x, -1.1, h, ha="right", fontweight="bold")
        if weights:
            page.text(cols.weight, -1.1, "Weight", ha="right", fontweight="bold")
        page.text(cols.est, -1.1, f"Estimate [{level:g}% CI]", ha="right", fontweight="bold")
        for x, h in zip(cols.rob, domain_headers(rob_n)):
            page.text(x, -1.1, h, ha="center", fontweight="bold", fontsize=8)
        page.rule(-0.5)
        for i in rules:
            page.rule(start[i] + (slots[i] - 1) / 2)
        if xl[0] <= 0 <= xl[1]:  # the line of no effect, down to the axis
            ax.plot([0, 0], [-0.5, n - 0.5], color="0.3", ls=":", lw=0.9, zorder=0)

        z, squares, cells = normal_z(level), [], []
        for ln, y0, h in zip(lines, start, slots):
            y = y0 + (h - 1) / 2
            kind = ln["kind"]
            style = {"fontweight": "bold"} if ln.get("bold") or kind == "group" else {}
            if kind in ("het", "note"):
                style = {"color": "0.3"} | ({"fontstyle": "italic"} if kind == "note" else {})
            for j, s in enumerate(ln["wrapped"]):
                page.text(MARGIN + INDENT * ln.get("indent", 0), y0 + j, s,
                          fontsize=8 if kind in ("het", "note") else FONT, **style)
            for x, s in zip(cols.ilab, ln.get("ilab", [])):
                page.text(x, y, s, ha="right")
            if kind == "study":
                _study(page, ln["row"], y, xl, z, weights)
                squares.append((ln["row"]["yi"], y))
                cells += [(x / width, y, v) for x, v in zip(cols.rob, ln.get("rob", []))]
            elif kind == "summary":
                _summary(page, ln["pool"], y, xl, ln["bold"], style)
            elif kind == "het" and ln.get("pi") is not None and np.isfinite(ln["pi"]["pi_low"]):
                p = ln["pi"]
                page.text(cols.est, y0, f"PI [{number(p['pi_low'])}, {number(p['pi_high'])}]", ha="right",
                          fontsize=8, color="0.3")
        for j, s in enumerate(footer):  # under the axis, its label and the "Favours ..." texts
            fig.text(MARGIN / width, (bottom - FOOTER_TOP - j * ROW) / height, s, ha="left", va="center_baseline",
                     fontsize=8, color="0.15")
        if squares:
            x, y = zip(*squares)
            ax.scatter(x, y, s=_squares(lines, weights), marker="s", color="0.15", linewidths=0, zorder=3)
        if cells:
            x, y, v = zip(*cells)
            judgement_cells(ax, x, y, v, rob, size=0.62 * ROW * 72, transform=page.rows)

        zero_tf = blended_transform_factory(ax.transData, ax.transAxes)
        if xl[0] <= 0 <= xl[1]:
            for ha, dx, s in (("right", -SIDE_GAP * 72, f"← {sides[0]}"), ("left", SIDE_GAP * 72, f"{sides[1]} →")):
                ax.annotate(s, (0, 0), xycoords=zero_tf, xytext=(dx, -21), textcoords="offset points",
                            ha=ha, va="top", fontsize=SIDE_FONT)
        ax.set_xlabel(MEASURE_LABELS.get(measure, measure), labelpad=17)
    return fig


def forest_figure(rows: pd.DataFrame, pooled: pd.DataFrame, measure: str, title: str = "",
                  sides: tuple[str, str] = SIDES,
                  xlim: tuple[float, float] | None = None, level: float = 95,
                  ilab: dict[str, str] | None = None, header: str = "Study", rob: pd.DataFrame | None = None,
                  tool: Tool = SYRCLE) -> Figure:
    """Draw a forest plot, one block per stratum, in the layout of metafor's ``forest()``.

    Parameters
    ----------
    rows : DataFrame
        One row per effect, in plotting order: ``label`` (study text), ``group`` (stratum),
        ``yi``, ``vi`` and ``weight`` (percent within its stratum).
    pooled : DataFrame
        The table of :func:`premeta.primary` (or of :func:`premeta.rma`), one row per
        stratum and optionally ``overall``. With one stratum in ``rows`` its row is used, else the
        ``overall`` row. Its model is named beside the diamond (:func:`_model`), its heterogeneity
        (τ², or the three-level model's two σ², I², Q: what the row has) and test under it.
    measure : str
        ``SMD``, ``MD``, ``ROM`` or ``NMD`` (any other text is used as the axis label).
    title : str
        Printed above the header, wrapped to the figure's width.
    sides : (str, str)
        The texts under the axis left and right of 0 (:meth:`premeta.vocabulary.Labels.sides`:
        who is favoured, or only "Lower/Higher with ..." when the data do not say which is better).
    xlim : (float, float), optional
        Axis limits; by default from the data (see :func:`_limits`). Intervals are clipped
        at the limits and end in a triangle there.
    level : float
        Confidence level in percent of the study intervals and of the header; it should be the
        level of ``pooled`` (whose intervals are drawn as given).
    ilab : dict, optional
        Extra columns between the labels and the plot (metafor ``ilab``): header -> column of
        ``rows``, e.g. ``{"Minocycline n": "n_trt", "Vehicle n": "n_ctl"}``; each column as wide
        as its header.
    header : str
        Heading of the label column.
    rob : DataFrame, optional
        The risk-of-bias judgements of each row's study (meta ``forest(rob = )``, robvis
        ``rob_append_to_forest``): the index of ``rows``, a column per item of ``tool`` (others
        are ignored), missing where not rated. Drawn as columns D1..Dn of coloured circles with
        their symbols right of "estimate [CI]" (:func:`~premeta.plots.riskofbias.judgement_cells`),
        the key (items and judgements) under the figure.
    tool : Tool
        The tool of ``rob``: its items' order, labels and judgements (best to worst).

    Returns
    -------
    Figure
        :data:`ROW` inches per text line high; the label column as wide as the labels need (up
        to :data:`LABEL_MAX` inches, then wrapped). Squares have an area proportional to
        ``weight``, the largest of each stratum at full size; diamonds (the only ``Polygon``
        patches) span the CI of each pooled stratum with k > 1 and of ``overall``; the dotted
        whiskers through them are the prediction intervals. Under each diamond: tau², I², Q
        (with any note of the fit) and the test for the overall effect.
    """
    ilab = ilab or {}
    need(rows, ["label", "group", "yi", "vi", "weight", *ilab.values()])
    if len(rows) > FOREST_MAX_ROWS:
        return message_figure(title or "Forest plot", f"{len(rows)} rows are more than a legible forest plot holds "
                              f"({FOREST_MAX_ROWS}); see the study-level figure, pooled.csv and effect_sizes.csv")
    judgements, styles, footer = None, None, []
    if rob is not None:
        columns = [c for c in tool.columns if c in rob]
        if not columns:
            raise ValueError(f"rob has none of the columns of {tool.label} ({', '.join(tool.columns)})")
        judgements = rob.loc[rows.index, columns].reset_index(drop=True)  # a row without its judgements: KeyError
        styles = judgement_styles(tool, columns)
        footer = [key_text(tool, columns, styles, rated_all=bool(judgements.notna().all(axis=None)))]
    rows = rows.reset_index(drop=True)
    lines, rules = _layout(rows, pooled, ilab, judgements)
    ticks = _limits(rows, [ln["pool"] for ln in lines if ln["kind"] == "summary"], xlim, normal_z(level))
    return _draw(lines, rules, ticks, measure, title, sides, level, header, list(ilab), weights=True,
                 footer=footer, rob=styles, rob_n=0 if judgements is None else judgements.shape[1])


@renamed_arguments(by="group_by")
def summary_forest_figure(pooled: pd.DataFrame, tests: pd.DataFrame, measure: str, title: str = "",
                          sides: tuple[str, str] = SIDES,
                          xlim: tuple[float, float] | None = None, level: float = 95,
                          group_by: str = "Group") -> Figure:
    """The stratified meta-analysis as reviewers draw it: one row per group with its diamond, then overall.

    Parameters
    ----------
    pooled : DataFrame
        The primary table (:func:`premeta.primary`; or :func:`premeta.stratified`'s):
        one row per group, the all-groups row last; ``k``, ``studies`` and ``animals`` become
        columns. A group with k = 1 is drawn as its comparison (a square), without a diamond; a
        group of k = 2, or of comparisons all from one study, is marked † and explained under the
        figure; a group its model could not estimate says so in place of its interval.
    tests : DataFrame
        The tests of subgroup differences, printed under the figure (said to treat comparisons
        as independent when the rows are of another model).
    sides : (str, str)
        As :func:`forest_figure`.
    by : str
        Heading of the label column (the grouping column).

    Returns
    -------
    Figure
        As :func:`forest_figure`, with one diamond per group with k > 1 and one for all groups.
    """
    need(pooled, ["group", "k", "estimate", "ci_low", "ci_high", "pi_low", "pi_high"])
    groups, overall = pooled.iloc[:-1], pooled.iloc[-1]
    cols = {"k": "k", "Studies": "studies", "Animals": "animals"}
    cols = {h: c for h, c in cols.items() if c in pooled and pd.to_numeric(pooled[c]).notna().any()}
    lines: list[dict] = []
    thin = (groups["k"] == 2) | ((groups["k"] > 1) & (groups.get("studies", 2) == 1))
    for (_, g), dagger in zip(groups.iterrows(), thin):
        cells = [_ilab_text(float(g[c])) for c in cols.values()]
        label = f"{g['group']} †" if dagger else str(g["group"])
        if g["k"] > 1:
            lines.append({"kind": "summary", "pool": g, "label": label, "indent": 0, "bold": False, "ilab": cells})
        else:  # one comparison: its own estimate with its interval, as a square
            row = pd.Series({"yi": g["estimate"], "vi": g["se"] ** 2, "group": "", "weight": np.nan})
            lines.append({"kind": "study", "row": row, "label": label, "indent": 0, "ilab": cells})
    lines.append({"kind": "gap"})
    rules = [len(lines) - 1]
    lines.append({"kind": "summary", "pool": overall, "label": f"{_model(overall)}, all groups", "indent": 0,
                  "bold": True, "ilab": [_ilab_text(float(overall[c])) for c in cols.values()]})
    lines.append({"kind": "het", "text": _het(overall), "pi": overall, "indent": 0})
    lines.append({"kind": "het", "text": _effect_test(overall), "indent": 0})
    independent = overall.get("dependence", "none") in ("none", None)
    footer = [_subgroup_test(t) + ("" if independent else " [comparisons treated as independent]")
              for _, t in tests.iterrows()]
    if thin.any():
        footer.append("† rests on very little: two comparisons, or comparisons all from one study (see its note)")
    single = groups[groups["k"] <= 1]  # drawn as squares with their own interval; the others as diamonds
    rows = pd.DataFrame({"yi": single["estimate"], "vi": single["se"] ** 2})
    ticks = _limits(rows[np.isfinite(rows.yi)], [ln["pool"] for ln in lines if ln["kind"] == "summary"], xlim,
                    normal_z(level))
    return _draw(lines, rules, ticks, measure, title, sides, level, group_by, list(cols), weights=False,
                 footer=footer)


def forest(rows: pd.DataFrame, pooled: pd.DataFrame, measure: str, path_stem: str | Path, title: str = "",
           sides: tuple[str, str] = SIDES,
           xlim: tuple[float, float] | None = None, level: float = 95,
           ilab: dict[str, str] | None = None, header: str = "Study", rob: pd.DataFrame | None = None,
           tool: Tool = SYRCLE) -> list[Path]:
    """Draw a forest plot (:func:`forest_figure`, with risk-of-bias columns when given ``rob``) and
    write it as PNG and SVG (:func:`~premeta.plots.style.save`)."""
    return save(forest_figure(rows, pooled, measure, title, sides, xlim, level, ilab, header, rob, tool), path_stem)


@renamed_arguments(by="group_by")
def summary_forest(pooled: pd.DataFrame, tests: pd.DataFrame, measure: str, path_stem: str | Path,
                   title: str = "", sides: tuple[str, str] = SIDES, level: float = 95,
                   group_by: str = "Group") -> list[Path]:
    """Draw the one-row-per-group forest plot (:func:`summary_forest_figure`) and write it
    (:func:`~premeta.plots.style.save`)."""
    return save(summary_forest_figure(pooled, tests, measure, title, sides, level=level, group_by=group_by), path_stem)
