"""Risk-of-bias figures as robvis draws them: traffic lights, the summary with weighted bars, the
judgements beside the forest plot; for the bundled sheet's SYRCLE items, a sheet rating some items,
and a two-value checklist."""

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import premeta
from helpers import SHEET
from premeta import rob
from premeta.plots import forest_figure, rob_figure, rob_traffic_light
from premeta.plots.riskofbias import judgement_styles, scale_styles

#: A yes/no checklist (best first), built here: any tool is drawn.
CHECKLIST = rob.Tool("checklist", "Reporting checklist", (
    rob.Item("q_random", "Random allocation", ("yes", "no")),
    rob.Item("q_blind", "Blinded assessment", ("yes", "no")),
    rob.Item("q_size", "Sample size calculation", ("yes", "no"))))


@pytest.fixture(scope="module")
def bundled():
    return rob.per_study(pd.read_csv(SHEET))


def _cells(fig, what="judgement"):
    """``{value: number of circles}`` of every judgement collection (``judgement: <value>``)."""
    out: dict[str, int] = {}
    for c in (c for ax in fig.axes for c in ax.collections if c.get_label().startswith(f"{what}: ")):
        value = c.get_label().split(": ", 1)[1]
        out[value] = out.get(value, 0) + len(c.get_offsets())
    return out


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts] + [t.get_text() for t in fig.texts]


def test_colours_and_symbols_by_position_best_to_worst():
    import seaborn as sns

    cb = sns.color_palette("colorblind").as_hex()
    green, yellow, red = cb[2], cb[8], cb[3]
    assert judgement_styles(rob.SYRCLE) == {"low": (green, "+"), "unclear": (yellow, "?"), "high": (red, "−")}
    assert judgement_styles(CHECKLIST) == {"yes": (green, "✓"), "no": (red, "✗")}
    four = scale_styles(4)
    assert [s for _, s in four] == ["+", "?", "−", "×"] and four[0][0] == green and four[-1][0] == red
    assert [s for _, s in scale_styles(6)] == ["1", "2", "3", "4", "5", "6"]


def test_traffic_light_of_the_bundled_sheet(bundled):
    """30 studies x 10 items: a circle and a symbol each, coloured by judgement, headers D1..D10,
    the key naming every item, the legend of the three judgements."""
    fig = rob_traffic_light(bundled)
    counts = {v: int((bundled == v).to_numpy().sum()) for v in rob.LEVELS}
    legend = {v: 1 for v in rob.LEVELS}  # one circle each in the legend
    assert _cells(fig) == {v: counts[v] + legend[v] for v in rob.LEVELS}
    assert _cells(fig, "symbol") == _cells(fig)
    assert "not rated" not in _texts(fig)
    texts = _texts(fig)
    assert [t for t in texts if t.startswith("D") and t[1:].isdigit()] == [f"D{i}" for i in range(1, 11)]
    assert [f"D{i + 1}  {label}" for i, label in enumerate(rob.ITEMS.values())] == [
        t for t in texts if t.startswith("D") and "  " in t]
    assert [t for t in texts if t in ("low", "unclear", "high")] == ["low", "unclear", "high"]
    assert list(bundled.index.astype(str)) == [t for t in texts if t.startswith("Sim")]
    assert "Overall" not in texts and texts[0] == "SYRCLE risk of bias"
    colours = {c.get_label(): c.get_facecolor()[0] for ax in fig.axes for c in ax.collections}
    styles = judgement_styles(rob.SYRCLE)
    from matplotlib.colors import to_rgba

    assert all(np.allclose(colours[f"judgement: {v}"], to_rgba(styles[v][0])) for v in rob.LEVELS)


def test_traffic_light_with_an_overall_column_and_its_rule(bundled):
    worst = bundled.apply(lambda r: max(r, key=rob.LEVELS.index), axis=1)
    fig = rob_traffic_light(bundled, overall=worst, rule="the worst judgement on any item")
    texts = _texts(fig)
    assert "Overall" in texts and "Overall: the worst judgement on any item" in texts
    assert sum(_cells(fig).values()) == 30 * 11 + 3
    with pytest.raises(ValueError, match="'bad' not among the tool's values"):
        rob_traffic_light(bundled, overall=worst.replace("high", "bad"))


def test_traffic_light_of_a_sheet_rating_some_items():
    """Two items, one study not rated on one: headers D1, D2, the key of those two only, an empty
    circle and "not rated" in the legend."""
    sheet = pd.DataFrame({"study": ["A", "A", "B", "C"], "rob_sequence": ["low", "high", "unclear", "low"],
                          "rob_blinding_assessor": ["low", "low", None, "high"]})
    fig = rob_traffic_light(rob.per_study(sheet))
    texts = _texts(fig)
    assert [t for t in texts if t.startswith("D")] == ["D1", "D2", "D1  Sequence generation",
                                                       "D2  Blinding (outcome assessor)"]
    assert _cells(fig) == {"low": 3, "unclear": 2, "high": 3, "not rated": 2}  # A high on D1: its worst row
    assert "not rated" in texts


def test_traffic_light_of_a_checklist_and_many_studies():
    rng = np.random.default_rng(1)
    studies = pd.DataFrame(rng.choice(["yes", "no"], size=(64, 3)), columns=CHECKLIST.columns,
                           index=pd.Index([f"Study {i:02d}" for i in range(64)], name="study"))
    fig = rob_traffic_light(studies, CHECKLIST)
    assert _cells(fig) == {v: int((studies == v).to_numpy().sum()) + 1 for v in ("yes", "no")}
    assert [t for t in _texts(fig) if t in ("yes", "no")] == ["yes", "no"]
    assert fig.get_figheight() > 64 * 0.24  # a row per study at any number of studies
    assert rob_traffic_light(studies.iloc[:0], CHECKLIST).texts[0].get_text().endswith("traffic-light plot")


def test_summary_keeps_its_call_and_draws_the_weighted_shares_beside(bundled):
    summary = rob.summary(bundled)
    fig = rob_figure(summary)
    assert len(fig.axes) == 1 and fig.axes[0].get_xlabel() == "Studies (%)"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["+  low", "?  unclear", "−  high"]
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == list(rob.ITEMS.values())
    bars = fig.axes[0].patches
    assert np.allclose([b.get_width() for b in bars], summary[list(rob.LEVELS)].to_numpy().T.ravel())
    weighted = pd.DataFrame([{"item": c, "judgement": v, "share_weight": 100.0 * (v == "unclear"),
                              "share_studies": 0.0} for c in rob.SYRCLE.columns for v in rob.LEVELS])
    fig = rob_figure(summary, weighted)
    assert [ax.get_xlabel() for ax in fig.axes] == ["Studies (%)", "Meta-analytic weight (%)"]
    widths = np.array([b.get_width() for b in fig.axes[1].patches]).reshape(3, 10)
    assert (widths[1] == 100).all() and (widths[[0, 2]] == 0).all()
    assert fig.legends[0].get_title().get_text() == "SYRCLE risk of bias"


def test_summary_of_a_checklist():
    studies = pd.DataFrame({"q_random": ["yes", "no", "no"], "q_size": ["no", "no", "no"]}, index=list("ABC"))
    fig = rob_figure(rob.summary(studies, CHECKLIST), tool=CHECKLIST)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["✓  yes", "✗  no"]
    assert [t.get_text() for t in fig.axes[0].texts] == ["✓", "✗", "✗"]  # a symbol on every segment of 5 % or more


def test_summary_shows_the_studies_not_rated_as_an_empty_bar():
    studies = rob.per_study(pd.DataFrame({"study": list("ABCD"), "rob_sequence": ["low", "high", "low", "low"],
                                          "rob_housing": ["low", None, None, "unclear"]}))
    fig = rob_figure(rob.summary(studies))
    rest = [c for c in fig.axes[0].containers if c.get_label() == "not rated"]
    assert [b.get_width() for c in rest for b in c.patches] == [50.0]  # housing: 2 of 4 studies not rated
    assert [t.get_text() for t in fig.legends[0].get_texts()][-1] == "not rated"
    assert "not rated" not in [t.get_text() for t in rob_figure(rob.summary(studies[["rob_sequence"]]))
                               .legends[0].get_texts()]


def _forest_rows(n=6):
    rng = np.random.default_rng(3)
    yi, vi = rng.normal(0.5, 0.3, n), rng.uniform(0.05, 0.2, n)
    study = [f"S{i // 2}" for i in range(n)]
    f = premeta.fit(yi, vi)
    rows = pd.DataFrame({"label": study, "group": "g", "yi": yi, "vi": vi, "weight": f.weights},
                        index=range(10, 10 + n))
    return rows, premeta.rma(yi, vi), pd.Series(study, index=rows.index)


def test_forest_has_risk_of_bias_columns_only_when_given():
    rows, pooled, study = _forest_rows()
    studies = pd.DataFrame({"rob_sequence": ["low", "unclear", "high"], "rob_housing": ["low", None, "low"]},
                           index=["S0", "S1", "S2"])
    judgements = studies.reindex(study).set_axis(rows.index)
    fig = forest_figure(rows, pooled, "SMD", rob=judgements)
    assert _cells(fig) == {"low": 6, "unclear": 2, "high": 2, "not rated": 2}
    assert _cells(fig, "symbol") == {"low": 6, "unclear": 2, "high": 2}
    texts = _texts(fig)
    assert "D1" in texts and "D2" in texts and "D3" not in texts
    key = " ".join(texts)  # the key, wrapped under the figure
    assert "D1\u00a0Sequence generation; D2\u00a0Random housing" in key and "+ low, ? unclear, − high" in key
    plain = forest_figure(rows, pooled, "SMD")
    assert _cells(plain) == {} and "D1" not in _texts(plain)
    assert fig.get_figwidth() > plain.get_figwidth()
    with pytest.raises(KeyError):
        forest_figure(rows, pooled, "SMD", rob=judgements.iloc[1:])
    with pytest.raises(ValueError, match="none of the columns"):
        forest_figure(rows, pooled, "SMD", rob=judgements.rename(columns=str.upper))


def test_forest_with_a_checklist():
    rows, pooled, study = _forest_rows(4)
    judgements = pd.DataFrame({"q_blind": ["yes", "yes", "no", "no"]}, index=rows.index)
    fig = forest_figure(rows, pooled, "SMD", rob=judgements, tool=CHECKLIST)
    assert _cells(fig) == {"yes": 2, "no": 2} and "✓ yes, ✗ no" in " ".join(_texts(fig))


@pytest.mark.slow  # fresh Python processes
def test_the_figures_are_the_same_bytes_in_any_process(tmp_path):
    """Drawn in two processes with different string hashing: the same PNG and SVG bytes."""
    script = ("import sys, pandas as pd; from premeta import rob; from premeta.plots import rob_traffic_light,"
              " rob_figure, save; s = rob.per_study(pd.read_csv(sys.argv[1]));"
              "save(rob_traffic_light(s), sys.argv[2] + '_tl'); save(rob_figure(rob.summary(s)), sys.argv[2] + '_s')")
    for seed in ("1", "2"):
        subprocess.run([sys.executable, "-c", script, str(SHEET), str(tmp_path / seed)], check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed})
    for name in ("tl.png", "tl.svg", "s.png", "s.svg"):
        assert (tmp_path / f"1_{name}").read_bytes() == (tmp_path / f"2_{name}").read_bytes()
