"""The look every figure shares: seaborn's theme and palettes, markers, text, and the files written.

Figures are plain :class:`matplotlib.figure.Figure` objects on an Agg canvas (no pyplot state to
close), drawn inside :func:`theme`: seaborn's ``ticks`` style and ``paper`` context, with the
DejaVu Sans font that ships with matplotlib, so output does not depend on the fonts of the machine.
Groups get seaborn's colour-blind palette (:func:`palette`) and a marker each (:func:`group_styles`).
SVG text stays text (``svg.fonttype = "none"``) and ids are salted with a constant, so drawing the
same input twice writes byte-identical files (:func:`save`).

seaborn is imported when the first figure is drawn, not when :mod:`premeta.plots` is imported: its
import (scipy.stats, statsmodels and pyplot with it) takes about half a second, which code that
only imports the figures layer need not pay.
"""

from __future__ import annotations

import functools
import textwrap
from contextlib import AbstractContextManager
from pathlib import Path

import matplotlib as mpl
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

FONT = 9  # points
#: premeta's settings over seaborn's theme: the font that ships with matplotlib, its sizes, and
#: what makes files reproducible.
RC = {
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
#: The colour-blind palette in the order groups get it: its two pinks, two browns/oranges and two
#: blues as far apart as ten allow (the pale pink, hard to tell from the pink, comes last).
PALETTE_ORDER = (0, 1, 2, 3, 4, 7, 9, 5, 8, 6)
#: One marker per group, with the colour: groups stay apart in greyscale and for colour-blind readers.
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", "p", "*")
_RENDERER = RendererAgg(1, 1, 72)  # measures text in points, as drawn


@functools.cache
def rc() -> dict:
    """seaborn's ``axes_style("ticks")`` and ``plotting_context("paper")``, then :data:`RC`."""
    import seaborn as sns  # on the first figure drawn (module docstring)

    return {**sns.axes_style("ticks"), **sns.plotting_context("paper"), **RC}


def theme() -> AbstractContextManager:
    """The context every figure is drawn and saved in: ``with theme(): ...`` (:func:`rc`)."""
    return mpl.rc_context(rc())


def palette(n: int) -> list:
    """``n`` distinct colours: seaborn's ``colorblind`` palette in :data:`PALETTE_ORDER`, or its
    ``husl`` palette beyond ten."""
    import seaborn as sns

    colours = sns.color_palette("colorblind").as_hex()
    if n <= len(colours):
        return [colours[i] for i in PALETTE_ORDER[:n]]
    return sns.color_palette("husl", n)


def group_styles(groups: list) -> dict:
    """Each group's colour and marker (:func:`palette` and :data:`MARKERS`): distinct pairs, and
    distinct markers alone, for up to ten groups. Beyond ten a marker is used again for a group
    half the colour circle away (the 11th group's is the 6th's)."""
    m = len(MARKERS)
    return {g: (c, MARKERS[(i + m // 2 * (i // m)) % m]) for i, (g, c) in enumerate(zip(groups, palette(len(groups))))}


def despine(axes, left: bool = False) -> None:
    """Hide the top and right spines of ``axes`` (seaborn's ``despine``); with ``left`` the left
    ones too, and the y tick marks with them (their labels stay)."""
    import seaborn as sns

    for ax in axes:
        sns.despine(ax=ax, left=left)
        if left:
            ax.tick_params(axis="y", length=0)


# --- text -----------------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=65536)
def text_width(s: str, size: float = FONT, bold: bool = False) -> float:
    """Width in inches of ``s`` drawn in DejaVu Sans."""
    font = FontProperties(family="DejaVu Sans", size=size, weight="bold" if bold else "normal")
    return _RENDERER.get_text_width_height_descent(s, font, ismath=False)[0] / 72


def wrap(s: object, width: float, size: float = FONT, bold: bool = False) -> list[str]:
    """``s`` broken into lines no wider than ``width`` inches: at spaces, and inside a word only
    when the word alone is wider. Nothing is cut."""
    if text_width(str(s), size, bold) <= width:
        return [str(s)]
    lines: list[str] = []
    for word in str(s).split(" "):
        trial = f"{lines[-1]} {word}" if lines else word
        if lines and text_width(trial, size, bold) <= width:
            lines[-1] = trial
            continue
        while text_width(word, size, bold) > width and len(word) > 1:
            cut = next(i for i in range(len(word) - 1, 0, -1) if text_width(word[:i], size, bold) <= width
                       or i == 1)
            lines.append(word[:cut])
            word = word[cut:]
        lines.append(word)
    return lines or [""]


def fill(s: object, n: int) -> str:
    """Panel titles and tick labels of the small figures wrapped at ``n`` characters, never cut."""
    return textwrap.fill(str(s), n, break_long_words=True)


def number(x: float) -> str:
    """Two decimals, without a negative zero."""
    return f"{round(float(x), 2) + 0.0:.2f}"


def ci_text(est: float, lo: float, hi: float) -> str:
    """``0.52 [0.10, 0.94]``."""
    return f"{number(est)} [{number(lo)}, {number(hi)}]"


def p_text(p: float) -> str:
    """``p < 0.001``, ``p = 0.013``, ``p = 0.42``: three decimals below 0.1 (0.053 is not 0.05)."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"


def need(rows: pd.DataFrame, cols: list[str]) -> None:
    """Raise ValueError naming the columns of ``cols`` that ``rows`` lacks."""
    missing = [c for c in cols if c not in rows]
    if missing:
        raise ValueError(f"rows lacks column(s) {', '.join(missing)}")


# --- figures and files ----------------------------------------------------------------------------------------

def message_figure(title: str, message: str) -> Figure:
    """A figure that says why the figure it replaces was not drawn (its file still exists); a title
    wider than the figure wraps, and the figure grows by its further lines."""
    lines = wrap(title, 6.5, size=11, bold=True)
    h = 1.6 + 0.22 * (len(lines) - 1)  # inches: the message stays 0.58 inches under the title's last line
    with theme():
        fig = Figure(figsize=(7, h))
        FigureCanvasAgg(fig)
        fig.text(0.03, 1 - 0.34 / h, "\n".join(lines), fontsize=11, fontweight="bold", va="top")
        fig.text(0.03, 0.576 / h, textwrap.fill("Not drawn: " + message, 110), fontsize=9, va="center")
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
    with theme():
        # zlib level 3: faster than Pillow's default 6 and, for these figures, 11% smaller (measured)
        fig.savefig(png, dpi=150, metadata={"Software": None}, pil_kwargs={"compress_level": 3})
        fig.set_layout_engine("none")
        fig.savefig(svg, metadata={"Date": None, "Creator": None})
    return [png, svg]
