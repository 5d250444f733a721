"""Forest and funnel plots in the convention of metafor's ``forest()`` and ``funnel()``.

Figures are plain :class:`matplotlib.figure.Figure` objects on an Agg canvas (no pyplot state
to close), styled with seaborn's ``ticks`` theme and ``paper`` context and the DejaVu Sans font
that ships with matplotlib, so output does not depend on the fonts of the machine. The theme's
values (:data:`SEABORN_THEME`) and seaborn's colour-blind palette are kept here rather than read
from seaborn at import: importing seaborn imports scipy.stats and statsmodels (half a second in
every drawing job of the workflow), and a test holds both equal to what seaborn returns. seaborn
is imported when a figure needs one of its palettes beyond ten colours. SVG text stays text
(``svg.fonttype = "none"``) and ids are salted with a constant, so drawing the same input
twice writes byte-identical files.

The forest plot is laid out on a grid of text lines (:data:`ROW` inches each): labels on the
left (as wide as they need, then wrapped), extra columns such as the n of each arm (metafor
``ilab``), the plot area, weights and "estimate [95% CI]" on the right, one line per effect,
and for every pooled stratum a diamond, the prediction interval through it, a line of
heterogeneity statistics and the test for the overall effect, as ``forest.rma`` with
``addpred=TRUE`` and ``addpoly``.
"""

from __future__ import annotations

import functools
import textwrap
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.font_manager import FontProperties
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon
from matplotlib.ticker import FuncFormatter, MaxNLocator
from matplotlib.transforms import blended_transform_factory

from premeta import distributions as dist
from premeta.vocabulary import overall_label, MEASURE_LABELS, Labels
from premeta.models import design, fit

ROW = 0.25  # inches per text line
MARGIN = 0.15  # left and right margin, inches
INDENT = 0.18  # indent of the lines of a stratum under its heading, inches
LABEL_MIN, LABEL_MAX = 1.5, 4.6  # the label column takes the width its text needs within these; longer labels wrap
ILAB_W = 0.85  # width of each extra column (per-arm n, k, studies), inches
PLOT_W = 3.3  # width of the plot area, inches
GAP = 0.3  # space between the columns, inches
WEIGHT_W, EST_W = 0.7, 1.75  # width of the weight and the "estimate [CI]" columns, inches
TITLE_LINE, BOTTOM = 0.22, 0.85  # height of a title line; margin under the plot (axis, favours), inches
FOOTER_TOP = 0.8  # from the plot area down to the first footer line (under the axis label), inches
SQUARE = 0.6 * ROW * 72  # side in points of the square of the largest weight
FONT = 9  # points
#: More rows than this are not drawn (a figure over 75 inches tall helps no reader): the figure
#: says so and points to the study-level figure and the tables.
FOREST_MAX_ROWS = 300
#: The texts under a forest plot's axis when the caller names none: neutral arms, effects oriented to benefit.
SIDES = Labels().sides("benefit")
#: seaborn 0.13's ``axes_style("ticks")`` and ``plotting_context("paper")``, merged (held equal to
#: seaborn's by tests/test_plots.py), less ``image.cmap``: seaborn's "rocket" colour map exists only
#: once seaborn is imported, and no figure here draws an image with the default colour map
SEABORN_THEME = {
    "figure.facecolor": "white", "axes.labelcolor": ".15", "xtick.direction": "out", "ytick.direction": "out",
    "xtick.color": ".15", "ytick.color": ".15", "axes.axisbelow": True, "grid.linestyle": "-", "text.color": ".15",
    "font.family": ["sans-serif"],
    "font.sans-serif": ["Arial", "DejaVu Sans", "Liberation Sans", "Bitstream Vera Sans", "sans-serif"],
    "lines.solid_capstyle": "round", "patch.edgecolor": "w", "patch.force_edgecolor": True,
    "xtick.top": False, "ytick.right": False, "axes.grid": False, "axes.facecolor": "white", "axes.edgecolor": ".15",
    "grid.color": ".8", "axes.spines.left": True, "axes.spines.bottom": True, "axes.spines.right": True,
    "axes.spines.top": True, "xtick.bottom": True, "ytick.left": True,
    # the "paper" context: seaborn's "notebook" sizes scaled by 0.8
    "axes.linewidth": 1.25 * 0.8, "grid.linewidth": 1.0 * 0.8, "lines.linewidth": 1.5 * 0.8,
    "lines.markersize": 6.0 * 0.8, "patch.linewidth": 1.0 * 0.8, "xtick.major.width": 1.25 * 0.8,
    "ytick.major.width": 1.25 * 0.8, "xtick.minor.width": 1.0 * 0.8, "ytick.minor.width": 1.0 * 0.8,
    "xtick.major.size": 6.0 * 0.8, "ytick.major.size": 6.0 * 0.8, "xtick.minor.size": 4.0 * 0.8,
    "ytick.minor.size": 4.0 * 0.8, "font.size": 12.0 * 0.8, "axes.labelsize": 12.0 * 0.8,
    "axes.titlesize": 12.0 * 0.8, "xtick.labelsize": 11.0 * 0.8, "ytick.labelsize": 11.0 * 0.8,
    "legend.fontsize": 11.0 * 0.8, "legend.title_fontsize": 12.0 * 0.8,
}
#: seaborn's ``color_palette("colorblind")`` (held equal to seaborn's by tests/test_plots.py)
COLORBLIND = ["#0173b2", "#de8f05", "#029e73", "#d55e00", "#cc78bc", "#ca9161", "#fbafe4", "#949494", "#ece133",
              "#56b4e9"]
_RC = {
    **SEABORN_THEME,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": FONT,
    "axes.labelsize": 9,
    "xtick.labelsize": 8.5,
    "axes.unicode_minus": False,
    "svg.fonttype": "none",
    "svg.hashsalt": "premeta",
    "text.parse_math": False,  # labels come from the sheet: "$" is printed, never typeset
}
_RENDERER = RendererAgg(1, 1, 72)  # measures text in points, as drawn


#: The colour-blind palette in the order groups get it: its two pinks, two browns/oranges and two
#: blues as far apart as ten allow (the pale pink, hard to tell from the pink, comes last).
PALETTE_ORDER = (0, 1, 2, 3, 4, 7, 9, 5, 8, 6)
#: One marker per group, with the colour: groups stay apart in greyscale and for colour-blind readers.
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", "p", "*")


def _palette(n: int) -> list:
    """``n`` distinct colours: seaborn's colour-blind palette in :data:`PALETTE_ORDER`, or its
    ``husl`` palette beyond ten."""
    if n <= len(COLORBLIND):
        return [COLORBLIND[i] for i in PALETTE_ORDER[:n]]
    import seaborn as sns  # only here: importing seaborn takes half a second (module docstring)

    return sns.color_palette("husl", n)


def _styles(groups: list) -> dict:
    """Each group's colour and marker (:func:`_palette` and :data:`MARKERS`): distinct pairs, and
    distinct markers alone, for up to ten groups. Beyond ten a marker is used again for a group
    half the colour circle away (the 11th group's is the 6th's)."""
    m = len(MARKERS)
    return {g: (c, MARKERS[(i + m // 2 * (i // m)) % m]) for i, (g, c) in enumerate(zip(groups, _palette(len(groups))))}


def _despine(axes, left: bool = False) -> None:
    """Hide the top and right spines (and the left one with ``left``), as seaborn's ``despine``."""
    for ax in axes:
        for side in ("top", "right") + (("left",) if left else ()):
            ax.spines[side].set_visible(False)


def _z(level: float) -> float:
    """Two-sided normal quantile of a ``level`` percent interval (1.96 for 95)."""
    return float(dist.norm_isf((1 - level / 100) / 2))


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
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"  # 0.053 is not 0.05


def _fill(s: object, n: int) -> str:
    """Panel titles and tick labels of the small figures wrapped at ``n`` characters, never cut."""
    return textwrap.fill(str(s), n, break_long_words=True)


@functools.lru_cache(maxsize=65536)
def _width(s: str, size: float = FONT, bold: bool = False) -> float:
    """Width in inches of ``s`` drawn in DejaVu Sans."""
    font = FontProperties(family="DejaVu Sans", size=size, weight="bold" if bold else "normal")
    return _RENDERER.get_text_width_height_descent(s, font, ismath=False)[0] / 72


def _wrap(s: object, width: float, size: float = FONT, bold: bool = False) -> list[str]:
    """``s`` broken into lines no wider than ``width`` inches: at spaces, and inside a word only
    when the word alone is wider. Nothing is cut."""
    if _width(str(s), size, bold) <= width:
        return [str(s)]
    lines: list[str] = []
    for word in str(s).split(" "):
        trial = f"{lines[-1]} {word}" if lines else word
        if lines and _width(trial, size, bold) <= width:
            lines[-1] = trial
            continue
        while _width(word, size, bold) > width and len(word) > 1:
            cut = next(i for i in range(len(word) - 1, 0, -1) if _width(word[:i], size, bold) <= width
                       or i == 1)
            lines.append(word[:cut])
            word = word[cut:]
        lines.append(word)
    return lines or [""]


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
        parts.append(f"σ² study = {_num(pool['sigma2_study'])}, within = {_num(pool['sigma2_within'])}")
    elif pool.get("method") != "FE" and _has(pool, "tau2"):
        parts.append(f"τ² = {_num(pool['tau2'])}")
    if _has(pool, "i2"):
        parts.append(f"I² = {pool['i2']:.0f}%")
    if _has(pool, "q") and _has(pool, "q_df"):
        parts.append(f"Q = {_num(pool['q'])} (df = {pool['q_df']:.0f}, {_pval(pool['q_p'])})")
    note = pool.get("note")
    # the caveats of the fit; how the animals were counted belongs to the tables, not under a diamond
    note = "; ".join(n for n in note.split("; ") if not n.startswith("animals ")) if isinstance(note, str) else ""
    return ", ".join(parts) + (f"; {note}" if note else "")


def _effect_test(pool: pd.Series) -> str:
    """``Test for overall effect: t = 3.10 (df = 8), p = 0.015`` (z without df), as RevMan and metafor print it."""
    if not _has(pool, "stat"):
        return "Test for overall effect: not computed"
    t = _has(pool, "df")
    df = f" (df = {_df(pool['df'])})" if t else ""
    return f"Test for overall effect: {'t' if t else 'z'} = {_num(pool['stat'])}{df}, {_pval(pool['p'])}"


def _subgroup_test(test: pd.Series) -> str:
    """One line per test of subgroup differences (the tests of :func:`premeta.models.subgroup_tests`)."""
    if not np.isfinite(test.get("stat", np.nan)):
        return f"Test for subgroup differences ({test['test']}): not computed; {test.get('note', '')}".rstrip("; ")
    f = np.isfinite(test.get("df2", np.nan))
    df = f"{test['df1']:.0f}, {test['df2']:.0f}" if f else f"{test['df1']:.0f}"
    name = "between the separate fits" if test["test"].startswith("Q_between") else "meta-regression, common τ²"
    stat = "F" if f else "Q"
    return f"Test for subgroup differences ({name}): {stat} = {_num(test['stat'])} (df = {df}), {_pval(test['p'])}"


def _ilab_text(x) -> str:
    if isinstance(x, str):
        return x
    return "" if x is None or not np.isfinite(x) else f"{x:g}"


def _layout(rows: pd.DataFrame, pooled: pd.DataFrame, ilab: dict[str, str]) -> tuple[list[dict], list[int]]:
    """The lines of a forest plot, top to bottom, and the lines that carry a rule.

    Each entry is a dict with ``kind`` (``study``, ``group``, ``summary``, ``het``, ``note``,
    ``gap``) and what it draws; its label is wrapped later, when the column widths are known.
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
                      "ilab": [_ilab_text(r[c]) for c in ilab.values()]} for _, r in sub.iterrows())
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


#: Tukey's fence: an interval end more than this many interquartile ranges (of the ends) beyond their
#: quartiles is outlying and does not set the scale of an axis (see :func:`_span`)
FENCE = 2.5
#: the fence for bare points (a bubble plot's estimates), Tukey's "far out": without their intervals
#: the quartiles of points lie closer together than those of interval ends
POINT_FENCE = 3.0
#: the non-extreme range widened about its centre to this many times its span: the window beyond
#: which an interval end is extreme and clipped (see :func:`_span`)
WIDEN = 1.5


def _finite(x) -> np.ndarray:
    x = np.asarray(x, dtype=float).ravel()
    return x[np.isfinite(x)]


def _span(core, ends, thin=(), fence: float = FENCE) -> tuple[float, float, tuple[float, float]]:
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


def _thin(pool: pd.Series) -> bool:
    """A pooled row resting on very little: k = 2, or k > 1 comparisons all from one study."""
    k, studies = float(pool.get("k", np.nan)), float(pool.get("studies", np.nan))
    return k == 2 or (k > 1 and studies == 1)


def _limits(rows: pd.DataFrame, pools: list[pd.Series], xlim: tuple[float, float] | None,
            z: float) -> np.ndarray:
    """Tick positions whose ends are the x limits (R ``pretty``-like), rounded outward from :func:`_span`.

    Automatic limits hold 0, every study estimate and the estimate of every pooled row that is
    not thin; the study CIs, the diamonds (pooled CIs) and the prediction intervals set the scale
    unless they are extreme (see :func:`_span`: beyond 1.5 times the span of the range left when
    ends beyond Tukey's fence are set aside). A thin pooled row (its own ``k`` is 2, or ``k`` > 1
    with ``studies`` == 1) never sets the scale: its estimate, diamond and PI are shown where they
    fit that window and clipped beyond it. Clipped intervals end in a triangle (:func:`_interval`).
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
    lo, hi, _ = _span(core, ends, weak)
    return locator.tick_values(lo, hi)


def _interval(ax, lo: float, hi: float, at: float, lim: tuple[float, float], whiskers: bool = False,
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


def _draw(lines: list[dict], rules: list[int], ticks: np.ndarray, measure: str, title: str,
          sides: tuple[str, str], level: float, header: str, ilab: list[str], weights: bool,
          footer: list[str] = ()) -> Figure:
    """Lay out and draw the lines of :func:`_layout` in the columns of metafor's ``forest()``.

    The label column is as wide as its widest line needs, between :data:`LABEL_MIN` and
    :data:`LABEL_MAX` inches; longer labels wrap onto further lines (never cut). Then come the
    ``ilab`` columns, the plot area, the weights and "estimate [CI]". The x axis sits directly
    under the last line; ``footer`` lines are printed below it (under its label and the
    "Favours ..." texts), the first :data:`FOOTER_TOP` inches under the plot area.
    """
    z = _z(level)
    labelled = [ln for ln in lines if ln["kind"] in ("study", "summary", "group")]
    need = max([_width(str(ln["label"]), bold=ln.get("bold", ln["kind"] == "group")) + INDENT * ln.get("indent", 0)
                for ln in labelled] + [_width(header, bold=True)])
    label_w = min(max(need, LABEL_MIN), LABEL_MAX)
    ilab_w = [max(ILAB_W, _width(h, bold=True) + 0.15) for h in ilab]  # as wide as its header
    x_ilab = list(MARGIN + label_w + GAP + np.cumsum(ilab_w))
    plot0 = MARGIN + label_w + GAP + sum(ilab_w) + GAP
    plot1 = plot0 + PLOT_W
    x_weight = plot1 + GAP + WEIGHT_W if weights else plot1
    x_est = x_weight + GAP + EST_W
    width = x_est + MARGIN
    text_w = plot1 - MARGIN  # a heterogeneity or footer line may run under the plot area

    # wrap every label; an entry takes as many text lines as its label
    slots = []
    for ln in lines:
        indent = INDENT * ln.get("indent", 0)
        if ln["kind"] in ("study", "summary"):
            ln["wrapped"] = _wrap(ln["label"], label_w - indent, bold=ln.get("bold", False))
        elif ln["kind"] == "group":
            ln["wrapped"] = _wrap(ln["label"], text_w, bold=True)
        elif ln["kind"] in ("het", "note"):
            ln["wrapped"] = _wrap(ln["text"], text_w - indent - (EST_W if ln.get("pi") is not None else 0), size=8)
        else:
            ln["wrapped"] = [""]
        slots.append(len(ln["wrapped"]))
    footer = [w for f in footer for w in _wrap(f, text_w, size=8)]
    start = np.r_[0, np.cumsum(slots)[:-1]]
    n = int(sum(slots))
    bottom = FOOTER_TOP + (len(footer) - 0.2) * ROW if footer else BOTTOM  # under the plot area, inches
    title_lines = _wrap(title, width - 2 * MARGIN, size=11, bold=True) if title else []
    top = 0.2 + TITLE_LINE * len(title_lines) + 1.2 * ROW  # title, then the column headers
    height = top + n * ROW + bottom
    xl = (ticks[0], ticks[-1])
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(width, height))
        FigureCanvasAgg(fig)
        ax = fig.add_axes((plot0 / width, bottom / height, PLOT_W / width, n * ROW / height))
        ax.set(xlim=xl, ylim=(n - 0.5, -0.5), yticks=[], xticks=ticks)
        for side in ("left", "right", "top"):
            ax.spines[side].set_visible(False)
        row_tf = blended_transform_factory(fig.transFigure, ax.transData)

        def text(x: float, y: float, s: str, ha: str = "left", **kw) -> None:
            ax.text(x / width, y, s, transform=row_tf, ha=ha, va="center_baseline", clip_on=False, **kw)

        def rule(y: float) -> None:
            ax.plot([MARGIN / width, x_est / width], [y, y], transform=row_tf, clip_on=False, color="0.15", lw=0.8)

        for i, t in enumerate(title_lines):
            fig.text(MARGIN / width, 1 - (0.12 + i * TITLE_LINE) / height, t, ha="left", va="top", fontsize=11,
                     fontweight="bold")
        text(MARGIN, -1.1, header, fontweight="bold")
        for x, h in zip(x_ilab, ilab):
            text(x, -1.1, h, ha="right", fontweight="bold")
        if weights:
            text(x_weight, -1.1, "Weight", ha="right", fontweight="bold")
        text(x_est, -1.1, f"Estimate [{level:g}% CI]", ha="right", fontweight="bold")
        rule(-0.5)
        for i in rules:
            rule(start[i] + (slots[i] - 1) / 2)
        if xl[0] <= 0 <= xl[1]:  # the line of no effect, down to the axis
            ax.plot([0, 0], [-0.5, n - 0.5], color="0.3", ls=":", lw=0.9, zorder=0)

        study = [ln for ln in lines if ln["kind"] == "study"]
        if study:
            w = pd.Series([ln["row"].get("weight", np.nan) for ln in study], dtype=float)
            grp = pd.Series([ln["row"]["group"] for ln in study], dtype=object)
            area = ((w / w.groupby(grp, dropna=False).transform("max")).fillna(1.0 if not weights else 0)
                    * SQUARE**2).to_numpy()
        squares = []
        for ln, y0, h in zip(lines, start, slots):
            y = y0 + (h - 1) / 2
            x0 = MARGIN + INDENT * ln.get("indent", 0)
            kind = ln["kind"]
            size = 8 if kind in ("het", "note") else FONT
            style = {"fontweight": "bold"} if ln.get("bold") or kind == "group" else {}
            if kind in ("het", "note"):
                style = {"color": "0.3"} | ({"fontstyle": "italic"} if kind == "note" else {})
            for j, s in enumerate(ln["wrapped"]):
                text(x0, y0 + j, s, fontsize=size, **style)
            for x, s in zip(x_ilab, ln.get("ilab", [])):
                text(x, y, s, ha="right")
            if kind == "study":
                r = ln["row"]
                lo, hi = r["yi"] - z * np.sqrt(r["vi"]), r["yi"] + z * np.sqrt(r["vi"])
                _interval(ax, lo, hi, y, xl, color="0.15", lw=0.9)
                squares.append((r["yi"], y, max(area[len(squares)], 4.0)))
                if weights and np.isfinite(r.get("weight", np.nan)):
                    text(x_weight, y, f"{r['weight']:.1f}%", ha="right")
                text(x_est, y, _ci(r["yi"], lo, hi), ha="right")
            elif kind == "summary":
                p = ln["pool"]
                if np.isfinite(p["pi_low"]):
                    _interval(ax, p["pi_low"], p["pi_high"], y, xl, whiskers=True, color="0.15", lw=0.9,
                              ls=(0, (1.5, 1.5)), zorder=1)
                est, d = p["estimate"], 0.32
                if np.isfinite(est):
                    cut = p["ci_low"] < xl[0] or p["ci_high"] > xl[1]  # drawn lighter: it runs on beyond the axis
                    ax.add_patch(Polygon([(p["ci_low"], y), (est, y - d), (p["ci_high"], y), (est, y + d)],
                                         fc="0.8" if cut else "0.1" if ln["bold"] else "0.35", ec="0.1", lw=0.6,
                                         zorder=2))
                    if not np.isfinite(p["pi_low"]):  # a diamond cut by the axis: a triangle at the cut, as a PI's
                        for x, m, beyond in ((xl[0], "<", p["ci_low"] < xl[0]), (xl[1], ">", p["ci_high"] > xl[1])):
                            if beyond:
                                ax.plot([x], [y], marker=m, ms=5, mew=0, clip_on=False, color="0.1", zorder=3)
                    text(x_est, y, _ci(est, p["ci_low"], p["ci_high"]), ha="right", **style)
                else:  # the model could not be fitted: its note says why
                    text(x_est, y, "not estimated", ha="right", fontsize=8, color="0.3", fontstyle="italic")
            elif kind == "het" and ln.get("pi") is not None and np.isfinite(ln["pi"]["pi_low"]):
                p = ln["pi"]
                text(x_est, y0, f"PI [{_num(p['pi_low'])}, {_num(p['pi_high'])}]", ha="right", fontsize=8, color="0.3")
        for j, s in enumerate(footer):  # under the axis, its label and the "Favours ..." texts
            fig.text(MARGIN / width, (bottom - FOOTER_TOP - j * ROW) / height, s, ha="left", va="center_baseline",
                     fontsize=8, color="0.15")
        if squares:
            x, y, s = zip(*squares)
            ax.scatter(x, y, s=s, marker="s", color="0.15", linewidths=0, zorder=3)

        zero_tf = blended_transform_factory(ax.transData, ax.transAxes)
        if xl[0] <= 0 <= xl[1]:
            for ha, dx, s in (("right", -4, f"← {sides[0]}"), ("left", 4, f"{sides[1]} →")):
                ax.annotate(s, (0, 0), xycoords=zero_tf, xytext=(dx, -21), textcoords="offset points",
                            ha=ha, va="top", fontsize=8.5)
        ax.set_xlabel(MEASURE_LABELS.get(measure, measure), labelpad=17)
    return fig


def forest_figure(rows: pd.DataFrame, pooled: pd.DataFrame, measure: str, title: str = "",
                  sides: tuple[str, str] = SIDES,
                  xlim: tuple[float, float] | None = None, level: float = 95,
                  ilab: dict[str, str] | None = None, header: str = "Study") -> Figure:
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
    _need(rows, ["label", "group", "yi", "vi", "weight", *ilab.values()])
    if len(rows) > FOREST_MAX_ROWS:
        return message_figure(title or "Forest plot", f"{len(rows)} rows are more than a legible forest plot holds "
                              f"({FOREST_MAX_ROWS}); see the study-level figure, pooled.csv and effect_sizes.csv")
    rows = rows.reset_index(drop=True)
    lines, rules = _layout(rows, pooled, ilab)
    ticks = _limits(rows, [ln["pool"] for ln in lines if ln["kind"] == "summary"], xlim, _z(level))
    return _draw(lines, rules, ticks, measure, title, sides, level, header, list(ilab), weights=True)


def summary_forest_figure(pooled: pd.DataFrame, tests: pd.DataFrame, measure: str, title: str = "",
                          sides: tuple[str, str] = SIDES,
                          xlim: tuple[float, float] | None = None, level: float = 95, by: str = "Group") -> Figure:
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
    _need(pooled, ["group", "k", "estimate", "ci_low", "ci_high", "pi_low", "pi_high"])
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
                    _z(level))
    return _draw(lines, rules, ticks, measure, title, sides, level, by, list(cols), weights=False,
                 footer=footer)


def _funnel(ax, x: np.ndarray, y: np.ndarray, centre: float, se_per_y: float | None, level: float) -> None:
    """One funnel on ``ax``: the pseudo-confidence region ``centre`` ± z se (se = ``se_per_y`` y;
    none when None), white inside and light grey outside, a line at ``centre``, y inverted from 0;
    x limits hold the points and the funnel's mouth. The points are the caller's."""
    ymax = 1.08 * np.nanmax(y)
    xs = [x]
    if se_per_y is not None and np.isfinite(centre):
        grid = np.linspace(0, ymax, 50)
        half = _z(level) * se_per_y * grid
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
    _need(rows, ["yi", "vi"] + (["n_total"] if precision == "n" else []))
    if precision == "se":
        return np.sqrt(rows["vi"].to_numpy(float)), "Standard error", 1.0
    return (1 / np.sqrt(rows["n_total"].to_numpy(float)), "1/√n (n = animals in both groups)",
            2.0 if measure == "SMD" else None)


def _points(ax, x: np.ndarray, y: np.ndarray, style: tuple[str, str], label: str | None = None) -> None:
    colour, marker = style
    ax.scatter(x, y, s=26, color=colour, marker=marker, linewidths=0.4, edgecolors="0.15", zorder=3, label=label)


def funnel_figure(rows: pd.DataFrame, estimate: float, measure: str, precision: str = "se",
                  level: float = 95) -> Figure:
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
        group (:func:`_styles`), with a legend beside the plot.
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
    y, ylabel, se_per_y = _precision(rows, measure, precision)
    x = rows["yi"].to_numpy(float)
    groups = list(dict.fromkeys(rows["group"])) if "group" in rows else []
    coloured = len(groups) > 1
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(8.5 if coloured else 6, 5), layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        _despine([ax])
        _funnel(ax, x, y, estimate, se_per_y, level)
        if coloured:
            for g, style in _styles(groups).items():
                m = (rows["group"] == g).to_numpy()
                _points(ax, x[m], y[m], style, _fill(g, 30))
            ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False, fontsize=8)
        else:
            ax.scatter(x, y, s=22, color="0.1", linewidths=0, zorder=3)
        ax.set(xlabel=MEASURE_LABELS.get(measure, measure), ylabel=ylabel)
    return fig


def funnel_panels_figure(rows: pd.DataFrame, measure: str, precision: str = "se", level: float = 95,
                         method: str = "REML", by: str = "group") -> Figure:
    """Funnel plots by group: one funnel per group about its own pooled estimate, and their residuals.

    Small-study effects are judged among comparisons that share one true effect, never about one
    estimate of groups whose true effects differ (a group with larger comparisons and larger
    effects makes such a funnel look asymmetric). So each group gets its own funnel, about the
    group's pooled estimate :math:`\\hat\\mu_g` (:func:`premeta.models.fit` with ``method``, metafor
    ``funnel(rma(yi, vi, subset = group == g))``), three panels per row, its k in the title.
    With several groups a first, wider panel shows every comparison's residual on the model with
    the group as moderator, :math:`y_i - \\hat\\mu_{g(i)}` with :math:`\\hat\\mu_g` the fitted values
    of ``rma(yi, vi, mods = ~ factor(group), method)`` (one common tau2), against the same
    precision, about 0 (metafor ``funnel()`` of that model plots these residuals), each group in
    its colour and marker (:func:`_styles`), with the legend beside it: the funnel that goes with
    Egger's test on that model (:func:`premeta.groups.bias.small_study`).

    Parameters
    ----------
    rows : DataFrame
        ``group``, ``yi``, ``vi`` per comparison, and ``n_total`` for ``precision="n"``; groups
        in sorted order (as :func:`premeta.models.fit` and the tables).
    measure, precision, level
        As :func:`funnel_figure`.
    method : str
        tau2 estimator of the models, as :func:`premeta.models.fit`.
    by : str
        Name of the grouping, in the residual panel's title.

    Returns
    -------
    Figure
        With one group, its funnel alone. Else the residual panel (spanning two columns, the
        legend in the third) and one panel per group: ``len(groups) + 1`` visible axes with data.
        A model that cannot be fitted leaves its panel without funnel, with the reason in its title.
    """
    y, ylabel, se_per_y = _precision(rows, measure, precision)
    _need(rows, ["group"])
    x = rows["yi"].to_numpy(float)
    labels = rows["group"].astype(str).to_numpy(object)
    per = fit(x, rows["vi"].to_numpy(float), labels, method=method, confint=False)
    groups = per.groups  # sorted, as the tables
    styles = _styles(groups)
    centre = dict(zip(groups, per.beta[:, 0]))
    several = len(groups) > 1
    ncol, rows_of_groups = (3, -(-len(groups) // 3)) if several else (1, 1)
    xlabel = MEASURE_LABELS.get(measure, measure)
    with mpl.rc_context(_RC):
        w, h = (10.2, 3.6 + 2.9 * rows_of_groups) if several else (5.5, 4.2)
        fig = Figure(figsize=(w, h))
        FigureCanvasAgg(fig)
        # margins fixed in inches (room for two-line titles and the axis labels), as _panels: constrained
        # layout placed these panels differently in the last bits from one process to the next
        grid = fig.add_gridspec(several + rows_of_groups, ncol, height_ratios=[3.6] * several + [2.9] * rows_of_groups,
                                left=0.75 / w, right=1 - 0.2 / w, bottom=0.55 / h, top=1 - 0.55 / h,
                                wspace=0.7 / (w / ncol - 0.95 / ncol), hspace=0.9 / (h / (several + rows_of_groups)
                                                                                    - 1.1 / (several + rows_of_groups)))
        if several:
            res = fig.add_subplot(grid[0, :2])
            mods = pd.DataFrame({by: labels})
            model = fit(x, rows["vi"].to_numpy(float), method=method, mods=mods, confint=False)
            b = model.beta[0]
            title = (f"All groups: residuals of the model with {by} as moderator\n(each comparison minus "
                     f"the fitted value of its {by}; k = {len(x)})")
            key = {g: _fill(f"{g} (k = {k})", 44) for g, k in zip(groups, per.k)}
            if np.isfinite(b).all():
                r = x - np.column_stack([np.ones(len(x)), design(mods)[0]]) @ b
                _funnel(res, r, y, 0.0, se_per_y, level)
                for g in sorted(groups, key=lambda g: -(labels == g).sum()):  # the small groups drawn over the large
                    m = labels == g
                    _points(res, r[m], y[m], styles[g])
            else:
                res.text(0.5, 0.5, textwrap.fill(f"Not drawn: {model.note[0]}", 60), ha="center", va="center",
                         transform=res.transAxes, fontsize=8)
            res.set_title(title, fontsize=9)
            res.set(xlabel=f"Residual ({xlabel})", ylabel=ylabel)
            legend = fig.add_subplot(grid[0, 2])
            legend.axis("off")
            legend.legend([Line2D([], [], ls="none", marker=styles[g][1], color=styles[g][0], mec="0.15", mew=0.4)
                           for g in groups], list(key.values()), loc="center left", frameon=False, fontsize=8,
                          title=by, title_fontsize=8.5)
        axes = [fig.add_subplot(grid[several + i // ncol, i % ncol]) for i in range(len(groups))]
        for ax, g in zip(axes, groups):
            m = labels == g
            _funnel(ax, x[m], y[m], centre[g], se_per_y, level)
            _points(ax, x[m], y[m], styles[g] if several else ("0.1", "o"))
            note = "" if np.isfinite(centre[g]) else " (not fitted)"
            ax.set_title(f"{_fill(g, 30)} (k = {m.sum()}){note}", fontsize=8.5)
            ax.set_xlabel(xlabel, fontsize=8)
            ax.set_ylabel(ylabel if ax.get_subplotspec().is_first_col() else "", fontsize=8)
        _despine(fig.axes)
    return fig


def save(fig: Figure, path_stem: str | Path) -> list[Path]:
    """Write ``<stem>.png`` (150 dpi) and ``<stem>.svg`` without dates or versions that would vary.

    The layout (constrained layout, where the figure uses it) is computed once, for the PNG; the
    SVG keeps it, so both files show the same arrangement and the second save costs half as much.

    Returns
    -------
    list of Path
        The PNG and the SVG file.
    """
    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    png, svg = Path(f"{stem}.png"), Path(f"{stem}.svg")
    with mpl.rc_context(_RC):
        # zlib level 3: faster than Pillow's default 6 and, for these figures, 11% smaller (measured)
        fig.savefig(png, dpi=150, metadata={"Software": None}, pil_kwargs={"compress_level": 3})
        fig.set_layout_engine("none")
        fig.savefig(svg, metadata={"Date": None, "Creator": None})
    return [png, svg]


def forest(rows: pd.DataFrame, pooled: pd.DataFrame, measure: str, path_stem: str | Path, title: str = "",
           sides: tuple[str, str] = SIDES,
           xlim: tuple[float, float] | None = None, level: float = 95,
           ilab: dict[str, str] | None = None, header: str = "Study") -> list[Path]:
    """Draw a forest plot (:func:`forest_figure`) and write it as PNG and SVG (:func:`save`)."""
    return save(forest_figure(rows, pooled, measure, title, sides, xlim, level, ilab, header), path_stem)


def summary_forest(pooled: pd.DataFrame, tests: pd.DataFrame, measure: str, path_stem: str | Path,
                   title: str = "", sides: tuple[str, str] = SIDES, level: float = 95,
                   by: str = "Group") -> list[Path]:
    """Draw the one-row-per-group forest plot (:func:`summary_forest_figure`) and write it (:func:`save`)."""
    return save(summary_forest_figure(pooled, tests, measure, title, sides, level=level, by=by), path_stem)


def funnel(rows: pd.DataFrame, estimate: float, measure: str, path_stem: str | Path,
           precision: str = "se", level: float = 95) -> list[Path]:
    """Draw a funnel plot (:func:`funnel_figure`) and write it as PNG and SVG (:func:`save`);
    with no row to show, a :func:`message_figure` saying so."""
    if not len(rows) or not np.isfinite(estimate):
        what = "no comparison with group sizes" if precision == "n" else "no comparison"
        return save(message_figure("Funnel plot", what), path_stem)
    return save(funnel_figure(rows, estimate, measure, precision, level), path_stem)


def funnels(rows: pd.DataFrame, measure: str, path_stem: str | Path, precision: str = "se", level: float = 95,
            method: str = "REML", by: str = "group") -> list[Path]:
    """Draw the funnel plots by group (:func:`funnel_panels_figure`) and write them as PNG and SVG
    (:func:`save`); with no row to show, a :func:`message_figure` saying so."""
    if not len(rows):
        what = "no comparison with group sizes" if precision == "n" else "no comparison"
        return save(message_figure("Funnel plots", what), path_stem)
    return save(funnel_panels_figure(rows, measure, precision, level, method, by), path_stem)


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
        _despine(fig.axes, left=True)
    return fig


def _panels(groups: list, xlabel: str, ylabel: str, width: float = 3.3, height: float = 2.6):
    """A figure with one panel per group, three per row (unused panels hidden), the shared axis
    labels on its edges.

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
    fig.supxlabel(xlabel, fontsize=9, y=0.08 / h, va="bottom")
    fig.supylabel(ylabel, fontsize=9, x=0.08 / w, ha="left")
    return fig, axes.flat[:len(groups)]


def time_course_figure(course: pd.DataFrame, measure: str, time_label: str = "Time",
                       time: str = "time") -> Figure:
    """Pooled effect (with its CI) against time, one panel per group: ``group, <time>, k, estimate, ci_low,
    ci_high`` (and optionally ``studies``); ``time_label`` is the x axis title (what the column holds, e.g.
    "Days after nerve injury").

    Each panel's y range follows the rule of the forest plots (:func:`_span`): it holds 0 and every
    estimate; the CIs of time points with k >= 3 set the scale unless they are extreme; the CI of a
    thin time point (k <= 2, or all from one study) never sets it, and is shown where it fits 1.5
    times the non-extreme range (in a panel of thin points only, their CIs set the scale unless
    extreme). A CI cut there ends in a triangle, with its "k=" label above.
    """
    groups = list(dict.fromkeys(course["group"]))
    if not groups:
        return message_figure(time_label, "no comparison has a time")
    with mpl.rc_context(_RC):
        fig, axes = _panels(groups, time_label, MEASURE_LABELS.get(measure, measure))
        for ax, g in zip(axes, groups):
            d = course[course["group"] == g].sort_values(time)
            t, est = d[time].to_numpy(float), d["estimate"].to_numpy(float)
            lo, hi, k = d["ci_low"].to_numpy(float), d["ci_high"].to_numpy(float), d["k"].to_numpy(float)
            thin = (k <= 2) | (d["studies"].to_numpy(float) == 1 if "studies" in d else False)
            thin &= not thin.all()  # a panel of thin points only: nothing steadier to set its scale
            y0, y1, _ = _span(est, np.r_[lo[~thin], hi[~thin]], np.r_[lo[thin], hi[thin]])
            span = y1 - y0 if y1 > y0 else 1.0
            cut = (y0 - 0.08 * span, y1 + 0.08 * span)  # an extreme CI ends in a triangle here, clear of the points
            ax.axhline(0, color="0.5", lw=0.8, ls=":")
            ax.plot(t, est, "s-", color="0.15", ms=4, lw=1)
            for x, a, b, n in zip(t, lo, hi, d["k"]):
                _interval(ax, a, b, x, cut, whiskers=True, vertical=True, color="0.15", lw=1)
                ax.annotate(f"k={n}", (x, min(b, cut[1]) if np.isfinite(b) else y1), textcoords="offset points",
                            xytext=(0, 6 if b > cut[1] else 3), ha="center", fontsize=7, annotation_clip=False)
            ax.set_title(_fill(g, 34), fontsize=9)
            ax.margins(x=0.08)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # whole days (weeks)
            ax.set_ylim(y0 - 0.12 * span, y1 + 0.3 * span)  # room above the highest CI for its k label
    return fig


def bubble_figure(points: pd.DataFrame, lines: pd.DataFrame, xlabel: str, measure: str, why: str = "") -> Figure:
    """Bubble plots of a meta-regression on one moderator, one panel per group.

    ``points``: ``group, x, yi, weight`` (marker area proportional to the weight in its group);
    ``lines``: ``group, intercept, slope`` (the fitted line over the range of x, as metafor's
    ``regplot``); a panel's title gives its k and the slope's p from ``lines.p`` when present.
    Without lines, a :func:`message_figure` with ``why`` (the reason no group was fitted).

    Each panel's y range follows the rule of the forest plots (:func:`_span`): it holds 0 and the
    fitted line at the ends of the x range; the points set the scale unless they are extreme
    (beyond 1.5 times the range left when points beyond Tukey's far-out fence, :data:`POINT_FENCE`
    interquartile ranges, are set aside). An extreme point is drawn as a triangle at the panel's
    edge instead of stretching the panel.
    """
    groups = list(dict.fromkeys(lines["group"]))
    if not groups:
        return message_figure(f"Meta-regression on {xlabel}", why or "the moderator could be fitted in no group")
    with mpl.rc_context(_RC):
        fig, axes = _panels(groups, xlabel, MEASURE_LABELS.get(measure, measure))
        for ax, (_, line) in zip(axes, lines.iterrows()):
            d = points[points["group"] == line["group"]]
            grid = np.linspace(d["x"].min(), d["x"].max(), 50)
            fitted = line["intercept"] + line["slope"] * grid
            y0, y1, _ = _span(fitted[[0, -1]], d["yi"], fence=POINT_FENCE)
            inside = d["yi"].between(y0, y1)
            ax.scatter(d["x"][inside], d["yi"][inside], s=200 * d["weight"][inside] / d["weight"].max(),
                       facecolor="none", edgecolor="0.2", lw=0.8)
            extreme = ~inside & d["yi"].notna()
            for x, y in zip(d["x"][extreme], d["yi"][extreme]):  # a triangle at the edge
                ax.plot([x], [y1 if y > y1 else y0], marker="^" if y > y1 else "v", ms=6, mew=0, color="0.2",
                        clip_on=False)
            ax.plot(grid, fitted, color="#c0392b", lw=1.5)
            span = y1 - y0 if y1 > y0 else 1.0
            ax.set_ylim(y0 - 0.08 * span, y1 + 0.08 * span)
            ax.axhline(0, color="0.5", lw=0.8, ls=":")
            p = f", {_pval(line['p'])}" if "p" in line and pd.notna(line["p"]) else ""
            ax.set_title(f"{_fill(line['group'], 30)} (k = {len(d)}{p})", fontsize=8.5)
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
        fig = Figure(figsize=(10, 0.45 * len(groups) + 1.3), layout="constrained")  # legend beside the plot
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        for a, off, (marker, color) in zip(analyses, offsets, [("o", "0.55"), ("s", "0.1"), ("D", "#c0392b")]):
            d = estimates[estimates["analysis"] == a].set_index("group").reindex(groups)
            y = np.arange(len(groups)) + off
            ax.errorbar(d["estimate"], y, xerr=[d["estimate"] - d["ci_low"], d["ci_high"] - d["estimate"]],
                        fmt=marker, color=color, ms=5, lw=1.2, capsize=2, label=a)
        ax.axvline(0, color="0.5", lw=0.8, ls=":")
        ax.set_yticks(np.arange(len(groups)), [_fill(g, 34) for g in groups])
        ax.invert_yaxis()
        ax.set_xlabel(MEASURE_LABELS.get(measure, measure))
        ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False, fontsize=8)
    return fig


#: The influence view of a GOSH plot lists at most this many studies: those that shift the median most.
GOSH_ROWS = 40


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
    q = np.array([[np.quantile(est[m], [0.05, 0.25, 0.5, 0.75, 0.95]) if m.any() else [np.nan] * 5
                   for m in (column, ~column)] for column in incl.T])
    shown = np.arange(k)
    heading = f"Subsets with and without each {unit}"
    if k > GOSH_ROWS:
        shift = np.nan_to_num(np.abs(q[:, 0, 2] - q[:, 1, 2]), nan=-1)
        shown = np.sort(np.argsort(-shift, kind="stable")[:GOSH_ROWS])
        heading += f"\n(the {GOSH_ROWS} of {k} that shift the median most)"
    n = len(shown)
    height = max(3.6, 0.22 * n + 1.6)
    with mpl.rc_context(_RC):
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
        infl.set_yticks(y, [_fill(labels[i], 40) for i in shown], fontsize=7)  # wrapped, never cut
        infl.set(xlim=xlim, ylim=(n - 0.5, -0.5), xlabel=xlabel)
        infl.set_title(f"{heading}:\nmedian, 25-75% and 5-95% of their estimates", fontsize=9)
        (h1, l1), (h2, l2) = dens.get_legend_handles_labels(), infl.get_legend_handles_labels()
        fig.legend(h1 + h2, l1 + l2, loc="outside lower center", ncols=3, frameon=False, fontsize=8)
        if title:
            fig.suptitle(title, fontsize=10)
        _despine(fig.axes)
    return fig


#: Row labels of the choices in the specification curve's matrix.
CHOICE_LABELS = {"method": "estimator", "test": "test", "dependence": "dependence", "inclusion": "inclusion"}
INCLUSION_LABELS = {"all": "all comparisons", "low_rob": "low risk of bias", "no_influential": "no influential",
                    "no_single": "no single-comparison studies"}


def spec_curve_figure(rows: pd.DataFrame, primary: dict, level: float = 95, title: str = "") -> Figure:
    """Specification curve of one group's multiverse (Simonsohn, Simmons & Nelson 2020, *Nat Hum Behav* 4:1208).

    ``rows`` are the group's rows of :func:`premeta.multiverse`; the distinct fitted ones are drawn
    (a rule that excludes nothing repeats inclusion ``all`` and is left out). One block per measure,
    each on its own scale: at the top the estimates with their ``level`` % CIs, sorted by estimate,
    black where p < 0.05 and grey otherwise, the primary specification (``primary``, as
    :func:`premeta.groups.multiverse_analysis.summary`) in red, and a line at 0; beneath, the choice matrix, one
    line per value of each choice, a dot where the specification above uses it.
    """
    from premeta.groups.multiverse_analysis import CHOICES, primary_choices

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
    with mpl.rc_context(_RC):
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
            top.vlines(x, block["ci_low"], block["ci_high"], colors=colour, lw=0.8, alpha=0.8)
            top.scatter(x, block["estimate"], c=colour, s=np.where(block["primary"], 36, 9), zorder=3, lw=0)
            top.axhline(0, color="0.3", lw=0.8, ls=":")
            top.set_ylabel(f"{MEASURE_LABELS.get(m, m)}\nestimate, {level:g}% CI", fontsize=8)
            top.set_title(f"{m}: {len(block)} specification{'s' * (len(block) != 1)}", fontsize=9)
            for i, (c, v) in enumerate(lines):
                on = (block[c] == v).to_numpy()
                matrix.scatter(x[on], np.full(on.sum(), i), s=7, lw=0,
                               c=np.where(block["primary"].to_numpy()[on], "#e41a1c", "0.15"))
            matrix.set_yticks(range(len(lines)), [f"{CHOICE_LABELS[c]}: {INCLUSION_LABELS.get(v, v)}"
                                                  for c, v in lines] if j == 0 else [], fontsize=7)
            matrix.set_ylim(len(lines) - 0.5, -0.5)
            matrix.set_xlim(-1, max(len(block), 6))
            matrix.set_xticks([])
            matrix.set_xlabel("sorted by estimate", fontsize=8)
            for i in range(1, len(lines)):
                if lines[i][0] != lines[i - 1][0]:
                    matrix.axhline(i - 0.5, color="0.8", lw=0.6)
        fig.suptitle(title or "Specification curve", fontsize=10)
        fig.supxlabel("black: p < 0.05; grey: p ≥ 0.05; red: the primary specification ("
                      + ", ".join(p.values()) + ")", fontsize=7.5)
        _despine(fig.axes)
    return fig
