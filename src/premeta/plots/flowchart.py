"""The flow of records as a PRISMA 2020 flow diagram (Page et al. 2021, *BMJ* 372:n71, Figure 1):
boxes down the middle, what was set aside in boxes to their right, the stages on the left, then the
rows of the sheet, the comparisons and one box per group of the primary analysis.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, Rectangle

from premeta.vocabulary import plural
from premeta.plots.style import FONT, group_styles, need, text_width, theme, wrap

#: Inches: the figure's width, the stage bars', the main column's and the side column's, the gaps.
WIDTH, STAGE_W, MAIN_W, SIDE_W, GAP = 7.6, 0.32, 3.55, 3.0, 0.3
PAD, LINE, VGAP = 0.07, FONT * 1.3 / 72, 0.28
#: The boxes of the counts given (PRISMA2020 ``data`` names): stage, main box (its heading, its counts)
#: and the box to its right (its heading, its counts), as the PRISMA 2020 diagram for new reviews.
PRISMA_BOXES = (
    ("identification", "Records identified from:", ("database_results", "database_specific_results",
                                                    "register_results", "register_specific_results",
                                                    "website_results", "organisation_results", "citations_results"),
     "Records removed before screening:", ("duplicates", "excluded_automatic", "excluded_other")),
    ("screening", None, ("records_screened",), None, ("records_excluded",)),
    ("screening", None, ("dbr_sought_reports", "other_sought_reports"),
     None, ("dbr_notretrieved_reports", "other_notretrieved_reports")),
    ("screening", None, ("dbr_assessed", "other_assessed"), None, ("dbr_excluded", "other_excluded")),
    ("included", None, ("previous_studies", "previous_reports", "new_studies", "new_reports", "total_studies",
                        "total_reports", "total_studies_ma", "total_reports_ma"), None, ()),
)
STAGE_NAMES = {"identification": "Identification", "screening": "Screening", "included": "Included",
               "sheet": "Sheet", "analysis": "Analysis"}
STAGE_FILL, SIDE_FILL, EDGE = "#c6dbef", "#f0f0f0", "#222222"


def _n(x) -> str:
    """``(n = 1,234)``, with no-break spaces: never broken across lines."""
    return f"(n\u00a0=\u00a0{int(x):,})"


def _reason(text: str) -> str:
    """A reason as a line of its own: its first letter in capitals."""
    return text[:1].upper() + text[1:]


def _count_lines(flow: pd.DataFrame, steps, indent: str = "") -> list[tuple[str, str]]:
    """``(text, style)`` lines of the counts of ``steps``: a count as "label (n = x)"; counts with
    reasons as "label (n = total):" and one indented line per reason."""
    out = []
    for step in steps:
        rows = flow[flow["step"] == step]
        if rows.empty:
            continue
        if (rows["reason"] == "").all():
            out += [(f"{indent}{r.label} {_n(r.count)}", "normal") for r in rows.itertuples()]
            continue
        given = flow[flow["step"] == step.replace("_specific", "")]  # databases: their total given apart
        if step.endswith("_specific_results") and not given.empty:
            out += [(f"{indent}    {_reason(r.reason)} {_n(r.count)}", "normal") for r in rows.itertuples()]
            continue
        out.append((f"{indent}{rows['label'].iloc[0]} {_n(rows['count'].sum())}:", "normal"))
        out += [(f"{indent}    {_reason(r.reason)} {_n(r.count)}", "normal") for r in rows.itertuples()]
    return out


def _boxes(flow: pd.DataFrame) -> list[tuple[str, list, list]]:
    """The rows of the diagram: ``(stage, main lines, side lines)``, top to bottom."""
    rows = []
    for stage, head, main, side_head, side in PRISMA_BOXES:
        lines = _count_lines(flow, main, "    " if head else "")
        if not lines:
            continue
        side_lines = _count_lines(flow, side, "    " if side_head else "")
        rows.append((stage, ([(head, "bold")] if head else []) + lines,
                     ([(side_head, "bold")] if side_head and side_lines else []) + side_lines))

    def one(step):
        got = flow[flow["step"] == step]
        return None if got.empty else got.iloc[0]

    def aside(step, heading):
        got = flow[flow["step"] == step]
        if got.empty:
            return []
        return [(f"{heading} {_n(got['count'].sum())}:", "bold")] + [
            (f"    {_reason(r.reason)} {_n(r.count)}", "normal") for r in got.itertuples()]

    sheet, studies = one("sheet_rows"), one("sheet_studies")
    paired = not flow[flow["step"].isin(["rows_treated", "rows_control", "rows_sham", "rows_set_aside"])].empty
    main = [(sheet.label, "bold"),
            (f"{plural(sheet['count'], 'row')} from {plural(studies['count'], 'study')}", "normal")]
    comparisons = one("comparisons")
    if paired:
        rows.append(("sheet", main, aside("rows_set_aside", "Rows set aside")))
        used = [(f"    {r.label} {_n(r.count)}", "normal") for r in
                flow[flow["step"].isin(["rows_treated", "rows_control", "rows_sham"])].itertuples()]
        rows.append(("analysis", [(f"{comparisons.label} {_n(comparisons['count'])}", "bold"),
                                  ("made from the rows used:", "normal")] + used,
                     aside("comparisons_set_aside", "Comparisons left out of every model")))
    else:  # one comparison per row: what is left out is left out of the sheet's rows
        rows.append(("sheet", main, aside("comparisons_set_aside", "Comparisons left out of every model")))
    analysed, studied = one("comparisons_analysed"), one("studies_analysed")
    groups = flow[flow["step"] == "group_comparisons"]
    rows.append(("analysis", [(analysed.label, "bold"),
                              (f"{plural(analysed['count'], 'comparison')} from {plural(studied['count'], 'study')}, "
                               f"in {plural(len(groups), 'group')}", "normal")], []))
    return rows


def _wrapped(lines: list[tuple[str, str]], width: float) -> list[tuple[str, str]]:
    """Each line broken to ``width`` inches, a continuation indented as its first line."""
    out = []
    for text, style in lines:
        indent = text[:len(text) - len(text.lstrip(" "))]
        parts = wrap(text.strip(), width - 2 * PAD - text_width(indent + "  ", FONT - 0.5), FONT - 0.5,
                     style == "bold")
        out += [((indent if i == 0 else indent + "  ") + p, style) for i, p in enumerate(parts)]
    return out


def _height(lines) -> float:
    return len(lines) * LINE + 2 * PAD


def _box(ax, x, y, w, lines, fill="white", dashed=False) -> float:
    """A box of ``lines`` with its top-left corner at (x, y) (y down); returns its height."""
    h = _height(lines)
    ax.add_patch(Rectangle((x, y), w, h, facecolor=fill, edgecolor=EDGE, linewidth=0.8,
                           linestyle=(0, (4, 2)) if dashed else "-"))
    for i, (text, style) in enumerate(lines):
        ax.text(x + PAD, y + PAD + (i + 0.5) * LINE, text, va="center", ha="left", fontsize=FONT - 0.5,
                fontweight="bold" if style == "bold" else "normal", fontstyle="italic" if style == "italic" else
                "normal")
    return h


def _arrow(ax, start, end) -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=9, linewidth=0.8, color=EDGE,
                                 shrinkA=0, shrinkB=0))


def flow_figure(flow: pd.DataFrame) -> Figure:
    """The flow of records of :func:`premeta.groups.flow.flow_table` as a PRISMA 2020 flow diagram.

    Down the middle, each step's box (with the search and screening counts when the flow has them;
    the sources of records and the reports of other methods listed in the boxes of databases and
    registers); to the right, dashed and grey, the boxes of what each step set aside with its
    reasons and counts; on the left the stages (identification, screening, included, sheet,
    analysis). Below the comparisons analysed, one box per group of the primary analysis (its
    comparisons and studies, its marker and colour as in the forest plots, and why its model was
    not computed where it was not), four to a row (three or two where a word of a label would be
    broken).

    Parameters
    ----------
    flow : DataFrame
        From :func:`premeta.groups.flow.flow_table` (or ``flow.csv`` read back).

    Returns
    -------
    matplotlib.figure.Figure
    """
    need(flow, ["stage", "step", "label", "count", "unit", "reason", "group"])
    flow = flow.assign(reason=flow["reason"].fillna("").astype(str), group=flow["group"].fillna("").astype(str),
                       label=flow["label"].astype(str))
    rows = [(stage, _wrapped(main, MAIN_W), _wrapped(side, SIDE_W)) for stage, main, side in _boxes(flow)]
    groups = flow[flow["step"] == "group_comparisons"]
    studies = flow[flow["step"] == "group_studies"].set_index("group")["count"]
    # four boxes to a row, fewer where a word of a group's label would not fit in one line
    words = [w for label in groups["label"] for w in label.split()] or [""]
    widest = max(text_width(w, FONT - 0.5, True) for w in words)
    ncol = next((n for n in (4, 3, 2) if n <= len(groups) and _tile_width(n) - 0.22 - 2 * PAD
                 - text_width("  ", FONT - 0.5) >= widest), 1)
    tile_w = _tile_width(ncol)
    tiles = [_wrapped([(g.label, "bold"), (plural(g.count, "comparison"), "normal"),
                       (plural(studies[g.group], "study"), "normal")]
                      + ([(f"not pooled: {g.reason}", "italic")] if g.reason else []), tile_w - 0.22)
             for g in groups.itertuples()]
    tile_rows = [tiles[i:i + ncol] for i in range(0, len(tiles), ncol)]
    tile_h = [max(_height(t) for t in r) for r in tile_rows]
    heights = [max(_height(m), _height(s) if s else 0) for _, m, s in rows]
    last = {stage: i for i, (stage, _, _) in enumerate(rows)}  # the stage's last row grows to hold its name
    for stage, i in last.items():
        extra = [h for h in tile_h] if stage == "analysis" else []
        span = sum(h + VGAP for (s, _, _), h in zip(rows, heights) if s == stage) - VGAP
        span += sum(extra) + (0.15 * (len(extra) - 1) + VGAP if extra else 0)
        heights[i] += max(0.0, text_width(STAGE_NAMES[stage], FONT, True) + 0.2 - span)
    total = 0.15 + sum(heights) + VGAP * len(rows) + 0.1 + sum(tile_h) + 0.15 * max(0, len(tile_h) - 1) + 0.15
    with theme():
        fig = Figure(figsize=(WIDTH, total))
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, WIDTH)
        ax.set_ylim(total, 0)
        ax.set_axis_off()
        x_main = 0.12 + STAGE_W + 0.18
        x_side = x_main + MAIN_W + GAP
        y, spans, prev = 0.15, {}, None
        for (stage, main, side), h in zip(rows, heights):
            hm = _box(ax, x_main, y, MAIN_W, main)
            if prev is not None:
                _arrow(ax, (x_main + MAIN_W / 2, prev), (x_main + MAIN_W / 2, y))
            if side:
                hs = _box(ax, x_side, y, SIDE_W, side, fill=SIDE_FILL, dashed=True)
                _arrow(ax, (x_main + MAIN_W, y + min(hm, hs) / 2), (x_side, y + min(hm, hs) / 2))
            top, bottom = spans.get(stage, (y, y))
            spans[stage] = (min(top, y), y + h)
            prev = y + hm
            y += h + VGAP
        # the groups, under the comparisons analysed
        styles = group_styles(list(groups["group"]))
        x0 = x_main
        ax.add_line(_line((x_main + MAIN_W / 2, prev), (x_main + MAIN_W / 2, y - 0.12)))
        if len(tiles) > 1:
            centres = [x0 + i * (tile_w + 0.15) + tile_w / 2 for i in range(len(tile_rows[0]))]
            ax.add_line(_line((centres[0], y - 0.12), (centres[-1], y - 0.12)))
        top = y
        for r, (row, h) in enumerate(zip(tile_rows, tile_h)):
            for i, tile in enumerate(row):
                x = x0 + i * (tile_w + 0.15)
                if r == 0:
                    _arrow(ax, (x + tile_w / 2, y - 0.12), (x + tile_w / 2, y))
                ax.add_patch(Rectangle((x, y), tile_w, h, facecolor="white", edgecolor=EDGE, linewidth=0.8))
                colour, marker = styles[groups["group"].iloc[r * ncol + i]]
                ax.plot([x + 0.12], [y + PAD + 0.5 * LINE], marker=marker, color=colour, markersize=6,
                        markeredgecolor=EDGE, markeredgewidth=0.5, linestyle="none")
                for j, (text, style) in enumerate(tile):
                    ax.text(x + 0.22, y + PAD + (j + 0.5) * LINE, text, va="center", ha="left",
                            fontsize=FONT - 0.5, fontweight="bold" if style == "bold" else "normal",
                            fontstyle="italic" if style == "italic" else "normal")
            y += h + 0.15
        spans["analysis"] = (spans.get("analysis", (top, top))[0], y - 0.15)
        for stage, (top, bottom) in spans.items():
            ax.add_patch(Rectangle((0.12, top), STAGE_W, bottom - top, facecolor=STAGE_FILL, edgecolor=EDGE,
                                   linewidth=0.6))
            ax.text(0.12 + STAGE_W / 2, (top + bottom) / 2, STAGE_NAMES[stage], rotation=90, ha="center",
                    va="center", fontsize=FONT, fontweight="bold")
    return fig


def _tile_width(ncol: int) -> float:
    """The width of a group's box, ``ncol`` to a row across both columns (one: under the boxes above it)."""
    return MAIN_W if ncol == 1 else (MAIN_W + GAP + SIDE_W - (ncol - 1) * 0.15) / ncol


def _line(start, end) -> Line2D:
    return Line2D([start[0], end[0]], [start[1], end[1]], color=EDGE, linewidth=0.8)
