"""Sections of the report template rendered on their own (the whole report: tests/test_workflow.py)."""

import re
from pathlib import Path

import jinja2
import pandas as pd

from premeta import rob
from premeta.report import _count, _fmt, _pfmt

TEMPLATE = (Path(__file__).resolve().parents[1] / "src" / "premeta" / "templates" / "report.html.j2").read_text()


def _section(start: str, end: str) -> jinja2.Template:
    """The template from ``start`` up to (not including) ``end``, with the report's filters."""
    env = jinja2.Environment(autoescape=True)
    env.filters["num"], env.filters["p"], env.filters["n"] = _fmt, _pfmt, _count
    return env.from_string(TEMPLATE[TEMPLATE.index(start):TEMPLATE.index(end)])


def test_risk_of_bias_legend_is_numbered_as_the_columns():
    """A sheet rating only sequence generation and assessor blinding: columns 1 and 2, and the
    legend says 1 Sequence generation; 2 Blinding (outcome assessor), nothing else."""
    sheet = pd.DataFrame({"study": ["A", "A", "B"], "rob_sequence": ["low", "high", "unclear"],
                          "rob_blinding_assessor": ["low", "low", "high"]})
    studies = rob.per_study(sheet)
    html = _section('<h2 id="risk-of-bias">', "<h3>Sensitivity to risk of bias</h3>").render(
        x={"rob_studies": studies.reset_index().to_dict("records"), "rob_summary_png": ""}, rob_items=rob.ITEMS,
        rob_tool=rob.SYRCLE, overall_rule=rob.OVERALL_RULE)
    headers = re.findall(r'<th title="([^"]+)">(\d+)</th>', html)
    assert headers == [("Sequence generation", "1"), ("Blinding (outcome assessor)", "2")]
    legend = "Items rated in the sheet, numbered as the columns: 1 Sequence generation; 2 Blinding (outcome assessor)."
    assert legend in html
    assert "Baseline characteristics" not in html
    assert re.findall(r'<td class="rob-(\w+)">', html) == ["high", "low", "unclear", "high"]  # A: worst of its rows


def test_small_study_section_explains_the_rows_with_the_group_as_moderator():
    rows = [{"group": g, "analysis": a, "precision": "SE", "k": k, "stat": 1.0, "p": 0.3, "estimate": e,
             "ci_low": e, "ci_high": e, "k0": float("nan"), "side": "", "note": ""}
            for g, a, k, e in [("Behaviour", "Egger regression (meta-regression)", 12, 0.5),
                               ("all groups (mechanism as moderator)", "Egger regression (meta-regression), "
                                "residuals of the model with mechanism as moderator", 20, float("nan"))]]
    html = _section('<h2 id="small-study">', "{% endif %}\n\n{% if x.influence is defined %}").render(
        x={"small_study": rows, "funnel_n_png": ""}, groups=[{"group": "Behaviour"}, {"group": "Cytokines"}],
        config={"group_by": "mechanism", "measure": "SMD"})
    assert "The rows <i>all groups (mechanism as moderator)</i> test all comparisons together on the model" in html
    assert "mods = ~ factor(mechanism)" in html and "no single limit estimate" in html
    assert "the residuals on the model with mechanism as moderator, then one funnel per mechanism" in html
    one = _section('<h2 id="small-study">', "{% endif %}\n\n{% if x.influence is defined %}").render(
        x={"small_study": rows[:1], "funnel_n_png": ""}, groups=[{"group": "Behaviour"}],
        config={"group_by": "mechanism", "measure": "SMD"})
    assert "as moderator" not in one


def _block(start: str, end: str = "</table></div>\n{% endif %}") -> jinja2.Template:
    """The template from ``start`` to the first ``end`` after it (included), with the report's filters."""
    env = jinja2.Environment(autoescape=True)
    env.filters["num"], env.filters["p"], env.filters["n"] = _fmt, _pfmt, _count
    i = TEMPLATE.index(start)
    return env.from_string(TEMPLATE[i:TEMPLATE.index(end, i) + len(end)])


def test_a_slope_or_interval_not_estimated_is_an_empty_cell():
    """A group whose time regression or pooled fit was not computed (k = 2, time constant) shows an
    empty cell and its note, not "nan [nan, nan]" or "[, ]" (the time regression, the comparisons
    treated as independent)."""
    nan = float("nan")
    fitted = {"group": "GABA", "per": "day", "k": 8, "estimate": 0.012, "ci_low": -0.002, "ci_high": 0.026,
              "p": 0.09, "tau2": 0.01, "r2": 12.0, "note": ""}
    alone = fitted | {"group": "IL-1β", "k": 2, "estimate": nan, "ci_low": nan, "ci_high": nan, "p": nan,
                      "tau2": nan, "r2": nan, "note": "k = 2 <= 2 coefficients: no residual df, not fitted"}
    html = _block("{% if x.time_regression %}").render(
        x={"time_regression": [fitted, alone]}, config={"group_by": "mechanism"}, t_words="days")
    assert "0.012 [-0.002, 0.026]" in html and "[, ]" not in html and "nan" not in html
    assert "<td>IL-1β</td><td>day</td><td>2</td><td></td>" in html
    pooled = {"group": "TNF-α", "k": 0, "estimate": nan, "ci_low": nan, "ci_high": nan, "p": nan, "p_holm": nan,
              "i2": nan, "i2_ci_low": nan, "q": nan, "note": "no comparison"}
    html = _block('<div class="wide"><table>\n{% set re = config.method != "FE" %}', "</table></div>").render(
        groups=[pooled], overall=pooled | {"group": "overall"}, config={"method": "FE"})
    assert "[, ]" not in html and "<td>TNF-α</td><td>0</td><td></td><td></td>" in html
