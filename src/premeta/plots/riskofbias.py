"""Risk-of-bias figures as robvis draws them (McGuinness and Higgins 2021, *Res Synth Methods*
12:55): the summary bars per item (:func:`rob_figure`, with the share of meta-analytic weight
beside the share of studies, robvis ``rob_summary(weighted = TRUE)``), the traffic-light plot
(:func:`rob_traffic_light`, robvis ``rob_traffic_light``), and the judgement cells that the forest
plots draw beside each comparison (:func:`judgement_cells`, robvis ``rob_append_to_forest``).

Any tool (:class:`premeta.rob.Tool`) is drawn: a judgement's colour and symbol come from its
position in its item's values, best to worst (:func:`judgement_styles`): green ``+``, yellow ``?``,
red ``−`` for three values (SYRCLE's low, unclear, high), green ``✓`` and red ``✗`` for two (a
checklist's yes, no). The colours are seaborn's colour-blind palette; the symbol says the same
in greyscale.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LinearSegmentedColormap, to_hex, to_rgba
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.markers import MarkerStyle
from matplotlib.patches import Patch
from matplotlib.path import Path
from matplotlib.textpath import text_to_path

from premeta.plots.style import FONT, despine, message_figure, text_width, theme, wrap
from premeta.rob import SYRCLE, Tool

#: The symbols of a scale of two, three and four judgements, best first; longer scales number them.
SYMBOLS = {1: ("+",), 2: ("✓", "✗"), 3: ("+", "?", "−"), 4: ("+", "?", "−", "×")}
#: A cell without a judgement (the item not rated for that study): an empty grey circle.
NOT_RATED = "#d9d9d9"
CELL = 0.3  # width of a traffic light's column, inches
LINE = 0.24  # height of a traffic light's row, inches
DOT = 13.0  # diameter of a judgement's circle, points
MARGIN = 0.15  # inches


def _anchors() -> list[str]:
    """Green, yellow and vermillion of seaborn's ``colorblind`` palette (Okabe and Ito's)."""
    import seaborn as sns  # on the first figure drawn (premeta.plots.style)

    colours = sns.color_palette("colorblind").as_hex()
    return [colours[2], colours[8], colours[3]]


def scale_styles(n: int) -> list[tuple[str, str]]:
    """Colour and symbol of each position of a scale of ``n`` judgements, best first.

    Green to red through yellow (:func:`_anchors`): two judgements green and red, three green,
    yellow and red, more spread evenly between them; the symbols of :data:`SYMBOLS` (numbers
    1..n beyond four).
    """
    green, yellow, red = _anchors()
    if n <= 3:
        colours = {1: [green], 2: [green, red], 3: [green, yellow, red]}[n]
    else:
        ramp = LinearSegmentedColormap.from_list("judgement", [green, yellow, red])
        colours = [to_hex(ramp(i / (n - 1))) for i in range(n)]
    symbols = SYMBOLS.get(n, tuple(str(i + 1) for i in range(n)))
    return list(zip(colours, symbols))


def judgement_styles(tool: Tool, columns=None) -> dict[str, tuple[str, str]]:
    """Judgement -> (colour, symbol) for the items of ``tool`` (those of ``columns`` only, when
    given), from each judgement's position in its item's values (:func:`scale_styles`); a value
    that two items place differently keeps its place in the first."""
    items = [tool.item(c) for c in columns] if columns is not None else list(tool.items)
    out: dict[str, tuple[str, str]] = {}
    for item in items:
        for value, style in zip(item.values, scale_styles(len(item.values))):
            out.setdefault(value, style)
    return out


@functools.cache
def _glyph(symbol: str) -> MarkerStyle:
    """``symbol`` in bold DejaVu Sans as a marker, centred, all symbols at one scale (the em)."""
    font = FontProperties(family="DejaVu Sans", weight="bold", size=100)
    verts, codes = text_to_path.get_text_path(font, symbol)
    path = Path(verts, codes)
    box = path.get_extents()
    centre = np.array([(box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2])
    em = 80.0  # the marker's box: a glyph fills as much of it as it does of the font's em
    # two bare points at the box's corners fix the scale (a marker is scaled to its extent)
    return MarkerStyle(Path(np.r_[[[-em / 2, -em / 2], [em / 2, em / 2]], (path.vertices - centre)],
                            np.r_[[Path.MOVETO, Path.MOVETO], path.codes]))


def _ink(colour: str) -> str:
    """The symbol's colour on a circle of ``colour``: white on a dark or middle colour (its grey,
    0.299 R + 0.587 G + 0.114 B, below 0.6), else near black; so that the symbol stands out in
    colour and printed in greyscale, where green and red become the same middle grey."""
    r, g, b, _ = to_rgba(colour)
    return "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.6 else "0.1"


def judgement_cells(ax, x, y, values, styles: dict[str, tuple[str, str]], size: float = DOT, **kw) -> None:
    """Draw a circle for each judgement at ``(x, y)``: its colour and its symbol (``styles``, from
    :func:`judgement_styles`; white on a dark circle, :func:`_ink`); a missing judgement an empty
    grey circle. One marker collection per judgement, labelled ``judgement: <value>``
    (``judgement: not rated``), and one of its symbols (``symbol: <value>``); ``kw`` (e.g.
    ``transform``) go to every collection."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    values = pd.Series(list(values), dtype=object)
    missing = values.isna().to_numpy()
    if missing.any():
        ax.scatter(x[missing], y[missing], s=size**2, facecolor="white", edgecolor=NOT_RATED, linewidths=1.2,
                   label="judgement: not rated", clip_on=False, zorder=3, **kw)
    unknown = sorted(set(values[~missing]) - set(styles))
    if unknown:
        raise ValueError(f"judgement(s) {', '.join(map(repr, unknown))} not among the tool's values "
                         f"({', '.join(styles)})")
    for value, (colour, symbol) in styles.items():
        at = (values == value).to_numpy()
        if at.any():
            ax.scatter(x[at], y[at], s=size**2, facecolor=colour, edgecolor="0.25", linewidths=0.5,
                       label=f"judgement: {value}", clip_on=False, zorder=3, **kw)
            ax.scatter(x[at], y[at], s=(0.62 * size) ** 2, marker=_glyph(symbol), color=_ink(colour), linewidths=0,
                       label=f"symbol: {value}", clip_on=False, zorder=4, **kw)


def domain_headers(n: int) -> list[str]:
    """``D1`` .. ``Dn``, the short headers of the items' columns (as robvis)."""
    return [f"D{i + 1}" for i in range(n)]


def key_text(tool: Tool, columns: list[str], styles: dict[str, tuple[str, str]], rated_all: bool = True) -> str:
    """One line for under a figure: what D1..Dn are and what each symbol means (a header and its
    item's first word joined by a no-break space, so that wrapping never parts them)."""
    domains = "; ".join(f"{h}\u00a0{tool.labels[c]}" for h, c in zip(domain_headers(len(columns)), columns))
    judgements = ", ".join(f"{symbol} {value}" for value, (_, symbol) in styles.items())
    return f"{tool.label}: {domains}. Judgements: {judgements}" + ("" if rated_all else ", empty circle not rated")


def _legend(ax, x: float, y: float, styles: dict[str, tuple[str, str]], missing: bool, title: str) -> float:
    """The judgements' circles and names in a row from ``(x, y)`` (inches, y down); returns its end."""
    ax.text(x, y, title, ha="left", va="center_baseline", fontweight="bold")
    x += text_width(title, bold=True) + 0.15
    entries = list(styles.items()) + ([(None, None)] if missing else [])
    for value, style in entries:
        judgement_cells(ax, [x + 0.1], [y], [value], styles)
        name = "not rated" if value is None else str(value)
        ax.text(x + 0.26, y, name, ha="left", va="center_baseline")
        x += 0.26 + text_width(name) + 0.25
    return x


def rob_traffic_light(studies: pd.DataFrame, tool: Tool = SYRCLE, overall: pd.Series | None = None,
                      rule: str = "") -> Figure:
    """Traffic-light plot: each study's judgement on each item, as robvis ``rob_traffic_light``.

    Parameters
    ----------
    studies : DataFrame
        One row per study (the index, printed as the row label), one column per item of ``tool``
        (:func:`premeta.rob.per_study`): its judgement, or missing where not rated.
    tool : Tool
        The tool: the items' order, labels and judgements (best to worst).
    overall : Series, optional
        Each study's overall judgement (indexed by study, values among the tool's judgements):
        drawn as a last column, "Overall".
    rule : str
        How the overall judgement was made, printed under the key (e.g. "the worst judgement of
        the study on any item").

    Returns
    -------
    Figure
        One row of circles per study (:data:`LINE` inches each, so 60 studies take 15 inches),
        one column per item headed D1..Dn, the key of the items and the legend of the
        judgements under them. Every circle has its judgement's colour and symbol
        (:func:`judgement_cells`). A table without rows or items gives a
        :func:`~premeta.plots.style.message_figure`.

    Examples
    --------
    >>> import pandas as pd
    >>> from premeta.plots import rob_traffic_light
    >>> studies = pd.DataFrame({"rob_sequence": ["low", "unclear"], "rob_blinding_assessor": ["high", None]},
    ...                        index=pd.Index(["Ahn 2019", "Bo 2020"], name="study"))
    >>> fig = rob_traffic_light(studies)
    >>> [t.get_text() for t in fig.axes[0].texts][:3]
    ['SYRCLE risk of bias', 'D1', 'D2']
    """
    columns = [c for c in tool.columns if c in studies]
    if studies.empty or not columns:
        return message_figure(f"{tool.label}: traffic-light plot", "no study has a judgement on any item")
    styles = judgement_styles(tool, columns)  # an overall judgement outside them: judgement_cells says so
    if overall is not None:
        overall = overall.reindex(studies.index)
    labels = [str(s) for s in studies.index]
    heads = domain_headers(len(columns)) + (["Overall"] if overall is not None else [])
    name = str(studies.index.name or "study")
    name = name[:1].upper() + name[1:]
    label_w = max(text_width(s) for s in labels + [name])
    x0 = MARGIN + label_w + 0.2  # left edge of the first column
    xs = x0 + CELL * (np.arange(len(columns)) + 0.5)
    if overall is not None:
        xs = np.r_[xs, xs[-1] + CELL / 2 + 0.15 + text_width("Overall", bold=True) / 2]
    grid_right = xs[-1] + max(CELL, text_width(heads[-1], bold=True)) / 2
    missing = bool(studies[columns].isna().to_numpy().any()) or (overall is not None and overall.isna().any())
    legend_w = (text_width("Judgement", bold=True) + 0.15
                + sum(0.51 + text_width(str(v)) for v in styles) + (0.51 + text_width("not rated") if missing else 0))
    width = max(grid_right + MARGIN, MARGIN + legend_w + MARGIN, 4.0)
    key = [f"{h}  {tool.labels[c]}" for h, c in zip(heads, columns)]
    half = (width - 2 * MARGIN) / 2  # the key in two columns where every entry fits half the width
    two = len(key) > 3 and max(text_width(k, 8.5) for k in key) < half - 0.15
    per = -(-len(key) // 2) if two else len(key)
    key_lines = [ln for k in key for ln in wrap(k, width - 2 * MARGIN, 8.5)]
    rule_lines = wrap(f"Overall: {rule}", width - 2 * MARGIN) if overall is not None and rule else []
    top = 0.25 + 0.3 + LINE  # title line, then the headers
    body = len(labels) * LINE
    bottom = 0.25 + 0.2 * (per if two else len(key_lines)) + 0.1 + 0.2 * len(rule_lines) + 0.2 + LINE + MARGIN
    height = top + body + bottom
    with theme():
        fig = Figure(figsize=(width, height))
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_axis_off()
        ax.set(xlim=(0, width), ylim=(height, 0))
        ax.text(MARGIN, 0.25, tool.label, ha="left", va="center_baseline", fontweight="bold", fontsize=10)
        y_head = top - LINE / 2
        for x, h in zip(xs, heads):
            ax.text(x, y_head, h, ha="center", va="center_baseline", fontweight="bold")
        ax.text(MARGIN, y_head, name, ha="left", va="center_baseline",
                fontweight="bold")
        ys = top + LINE * (np.arange(len(labels)) + 0.5)
        for i, (y, s) in enumerate(zip(ys, labels)):
            if i % 2 == 0:  # a light band on every other row, to read across many studies
                ax.axhspan(y - LINE / 2, y + LINE / 2, xmin=MARGIN / width, xmax=grid_right / width, color="0.95",
                           lw=0, zorder=0)
            ax.text(MARGIN, y, s, ha="left", va="center_baseline")
        ax.plot([MARGIN, grid_right], [top, top], color="0.3", lw=0.8)
        cells = [(x, y, v) for x, c in zip(xs, columns) for y, v in zip(ys, studies[c])]
        if overall is not None:
            ax.plot([xs[-1] - text_width("Overall", bold=True) / 2 - 0.075] * 2, [top - LINE, top + body],
                    color="0.6", lw=0.6)
            cells += [(xs[-1], y, v) for y, v in zip(ys, overall)]
        x, y, v = zip(*cells)
        judgement_cells(ax, x, y, v, styles)
        y = top + body + 0.3
        if two:
            for i, k in enumerate(key):
                ax.text(MARGIN + half * (i // per), y + 0.2 * (i % per), k, ha="left", va="center_baseline",
                        fontsize=8.5)
            y += 0.2 * per
        else:
            for ln in key_lines:
                ax.text(MARGIN, y, ln, ha="left", va="center_baseline", fontsize=8.5)
                y += 0.2
        y += 0.1
        for ln in rule_lines:
            ax.text(MARGIN, y, ln, ha="left", va="center_baseline", fontsize=8.5)
            y += 0.2
        _legend(ax, MARGIN, y + 0.1, styles, missing, "Judgement")
    return fig


def _wide(weighted: pd.DataFrame, tool: Tool, items: list[str], values: list[str]) -> pd.DataFrame:
    """The share of weight (percent) per item (rows, labels) and judgement (columns) of a
    rob_weighted table; its ``item`` is an item's label or its column."""
    item = weighted["item"].map(lambda i: tool.labels.get(i, i))
    wide = weighted.assign(item=item).pivot_table(index="item", columns="judgement", values="share_weight",
                                                  aggfunc="sum")
    return wide.reindex(index=items, columns=values).fillna(0.0)


def _bars(ax, shares: pd.DataFrame, styles: dict[str, tuple[str, str]], xlabel: str) -> None:
    """Stacked horizontal bars, one per item (top to bottom), a segment per judgement with its
    symbol where it is wide enough (at least 5 %), white on a dark colour (:func:`_ink`); what
    is left of 100 % (not rated) an empty bar, labelled ``not rated``."""
    y = np.arange(len(shares))[::-1]
    left = np.zeros(len(shares))
    for value in shares.columns:
        colour, symbol = styles[value]
        width = shares[value].to_numpy(float)
        ax.barh(y, width, left=left, color=colour, edgecolor="white", lw=0.8, height=0.7)
        for yi, x, w in zip(y, left, width):
            if w >= 5:
                ax.text(x + w / 2, yi, symbol, ha="center", va="center_baseline", fontweight="bold", fontsize=9,
                        color=_ink(colour))
        left += width
    rest = 100 - left  # studies (weight) not rated on the item
    shown = ~np.isclose(rest, 0)
    ax.barh(y[shown], rest[shown], left=left[shown], color="white", edgecolor=NOT_RATED, lw=0.8,
            height=0.7, label="not rated")
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.6, len(shares) - 0.4)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xlabel(xlabel)


def rob_figure(summary: pd.DataFrame, weighted: pd.DataFrame | None = None, tool: Tool = SYRCLE) -> Figure:
    """Summary of the judgements: for each item, the share of studies at each judgement (robvis
    ``rob_summary``); with ``weighted``, beside it the share of the meta-analytic weight (robvis
    ``rob_summary(weighted = TRUE)``).

    Parameters
    ----------
    summary : DataFrame
        :func:`premeta.rob.summary`: one row per item (its label the index), the percent of
        studies at each judgement as columns (and ``studies``, the studies rated).
    weighted : DataFrame, optional
        One row per item and judgement: ``item`` (label or column), ``judgement``,
        ``share_weight`` (percent of the primary model's weight carried by the comparisons of
        studies so judged). Drawn as a second panel.
    tool : Tool
        The tool whose judgements (best to worst) give the colours and symbols.

    Returns
    -------
    Figure
        One stacked bar per item and panel, the best judgement on the left; each segment of 5 %
        or more carries its judgement's symbol; the share not rated an empty bar at the right;
        the legend (colour, symbol and name of each judgement) above.

    Examples
    --------
    >>> import pandas as pd
    >>> from premeta import rob
    >>> from premeta.plots import rob_figure
    >>> studies = pd.DataFrame({"rob_sequence": ["low", "unclear"]}, index=["Ahn 2019", "Bo 2020"])
    >>> len(rob_figure(rob.summary(studies)).axes)
    1
    """
    labels = {i.label: i for i in tool.items}
    items = [labels[s].column for s in summary.index if s in labels]
    styles = judgement_styles(tool, items or None)
    values = [v for v in styles if v in summary]
    if summary.empty or not values:
        return message_figure(f"{tool.label}: summary", "no study has a judgement on any item")
    styles = {v: styles[v] for v in values}
    shares = summary[values].astype(float)
    panels = [(shares, "Studies (%)")]
    if weighted is not None:
        panels.append((_wide(weighted, tool, list(summary.index), values), "Meta-analytic weight (%)"))
    label_w = max(text_width(str(s)) for s in summary.index)
    panel_w, gap = 3.2, 0.35
    rated = all(np.allclose(p.sum(axis=1), 100) for p, _ in panels)
    names = [f"{s}  {v}" for v, (_, s) in styles.items()] + ([] if rated else ["not rated"])
    legend_w = sum(text_width(n) + 0.6 for n in names)  # a patch, the gaps (matplotlib's defaults)
    width = MARGIN + label_w + 0.15 + max(len(panels) * panel_w + (len(panels) - 1) * gap + 0.3, legend_w)
    height = 0.35 * len(summary) + 1.15
    with theme():
        fig = Figure(figsize=(width, height))
        FigureCanvasAgg(fig)
        for j, (shares_j, xlabel) in enumerate(panels):
            left = MARGIN + label_w + 0.15 + j * (panel_w + gap)
            ax = fig.add_axes((left / width, 0.5 / height, panel_w / width, (height - 1.15) / height))
            _bars(ax, shares_j, styles, xlabel)
            if j == 0:
                ax.set_yticks(np.arange(len(summary))[::-1], [str(s) for s in summary.index])
            else:
                ax.set_yticks([])
        despine(fig.axes, left=True)
        handles = [Patch(facecolor=c, edgecolor="0.25", lw=0.5) for c, _ in styles.values()]
        handles += [] if rated else [Patch(facecolor="white", edgecolor=NOT_RATED, lw=0.8)]
        fig.legend(handles, names, ncols=len(names), loc="upper left",
                   bbox_to_anchor=((MARGIN + label_w + 0.15) / width, 1 - 0.08 / height), frameon=False,
                   title=tool.label, alignment="left", fontsize=FONT, title_fontsize=FONT)
    return fig
