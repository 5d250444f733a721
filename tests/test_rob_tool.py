"""Risk-of-bias and study-quality tools from the config (premeta.rob): parsing and its errors, the
CAMARADES checklist through validation, the weighted summary and the quality score held to metafor.

Fixtures: tests/reference/make_rob_weighted_fixtures.R (metafor_rob_weighted.json) on the minocycline
sheet (data/minocycline/minocycline_sheet.csv, Reis et al. 2019, CC BY 4.0), whose risk-of-bias
judgements the script assigns (the sheet has none) and whose weights are metafor's.
"""

import json

import numpy as np
import pandas as pd
import pytest

from helpers import REPO, close, run
from premeta import rob
from premeta.cli import main
from premeta.effects import checked, escalc
from premeta.errors import SettingsError, SheetError
from premeta.groups.moderators import moderator_analysis
from premeta.groups.pooling import primary
from premeta.groups.rob import rob_strata
from premeta.regression import metareg
from premeta.sheet import validate
from premeta.tables import read_csv

REF = json.loads((REPO / "tests/reference/metafor_rob_weighted.json").read_text())
CAMARADES_SHEET = REPO / "tests/sheets/simulated_camarades_checklist.csv"
#: the fixture's items: SYRCLE's three, two of the CAMARADES checklist
SYRCLE_ITEMS = ["rob_sequence", "rob_blinding_assessor", "rob_other"]
CHECKLIST_ITEMS = ["quality_randomisation", "quality_blinded_assessment"]


@pytest.fixture(scope="module")
def minocycline():
    """The minocycline comparisons with the fixture's judgements (per study) and premeta's primary
    weights over every comparison (the three-level model, as metafor's)."""
    sheet = checked(REPO / "data/minocycline/minocycline_sheet.csv")[0]
    effects = escalc(sheet).assign(row=sheet.index)  # the spreadsheet's row, as effect_sizes.csv
    for item, values in REF["judgements"].items():
        effects[item] = effects["study"].map(dict(zip(REF["studies"], values)))
    weights = primary(effects, "mechanism", dependence="multilevel")["weights"]
    return effects, weights


# --- the tool from the config -----------------------------------------------------------------

def test_built_in_tools_by_name_whatever_the_case():
    assert rob.tool("syrcle") is rob.SYRCLE and rob.tool("SYRCLE") is rob.SYRCLE
    assert rob.tool("Camarades") is rob.CAMARADES
    assert rob.tool(rob.CAMARADES) is rob.CAMARADES
    assert len(rob.CAMARADES.items) == 10 and rob.CAMARADES.checklist
    assert all(i.values == ("yes", "no") and i.column.startswith("quality_") for i in rob.CAMARADES.items)


def test_a_listed_tool():
    t = rob.tool([{"column": "rob_blinding", "label": "Blinding", "values": ["Low", "Some concerns", "High"]},
                  {"column": "rob_attrition", "label": "Attrition", "values": ["low", "high"]}])
    assert t.name == "custom" and not t.checklist
    assert t.columns == ["rob_blinding", "rob_attrition"]
    assert t.item("rob_blinding").values == ("low", "some concerns", "high")


@pytest.mark.parametrize("spec, words", [
    ("cochrane", "key 'risk_of_bias', value 'cochrane': must be one of syrcle, camarades"),
    ([], "key 'risk_of_bias', value []: must be one of syrcle, camarades or a non-empty list"),
    (["rob_x"], "key 'risk_of_bias[0]', value 'rob_x': must be a mapping with column, label and values"),
    ([{"column": "rob_x", "label": "X"}], "key 'risk_of_bias[0]'"),
    ([{"column": "rob_x", "label": "X", "values": ["low"]}], "values must be a list of at least 2 judgements"),
    ([{"column": "rob_x", "label": "X", "values": ["low", "LOW"]}], "must not name a judgement twice"),
    ([{"column": "", "label": "X", "values": ["a", "b"]}], "column must be a column name"),
    ([{"column": "rob_x", "label": "X", "values": ["a", "b"], "weight": 2}], "weight not an item's key"),
    ([{"column": "rob_x", "label": "X", "values": ["a", "b"]}, {"column": "rob_x", "label": "Y", "values": ["a", "b"]}],
     "the column 'rob_x' is listed twice"),
])
def test_a_bad_tool_names_the_key_the_value_and_the_rule(spec, words):
    with pytest.raises(SettingsError) as error:
        rob.tool(spec)
    assert words in str(error.value)


def test_every_problem_of_a_listed_tool_at_once():
    with pytest.raises(SettingsError) as error:
        rob.tool([{"column": "a", "label": "A", "values": ["x"]}, 3])
    assert "risk_of_bias[0]" in str(error.value) and "risk_of_bias[1]" in str(error.value)


# --- the sheet's judgements checked against the tool ---------------------------------------------

def test_camarades_sheet_through_validate():
    """The checklist's values whatever their case, lower-cased; SYRCLE's default refuses none of them."""
    sheet, _, _ = checked(CAMARADES_SHEET, tool="camarades")
    assert set(sheet["quality_peer_review"].dropna()) == {"yes", "no"}
    assert sheet["quality_sample_size"].isna().sum() == 1


def test_a_bad_checklist_value_is_named_with_its_row_column_value_and_rule():
    sheet = pd.DataFrame({"study": ["a", "b"], "outcome": "o", "mechanism": "m", "better": "higher",
                          "yi": [0.1, 0.2], "vi": [0.1, 0.1], "quality_peer_review": ["yes", "partly"],
                          "rob_sequence": ["maybe", "low"]}, index=pd.Index([2, 3], name="row"))
    with pytest.raises(SheetError) as error:
        validate(sheet, "s.csv", tool=rob.CAMARADES)
    (problem,) = error.value.problems  # the rob_* column is not the configured tool's: not checked
    assert (problem.row, problem.column, problem.value) == (3, "quality_peer_review", "partly")
    assert problem.rule == "must be 'yes' or 'no' (CAMARADES study quality checklist, risk_of_bias: camarades)"
    with pytest.raises(SheetError) as error:  # SYRCLE, the default: as before
        validate(sheet, "s.csv")
    assert [(p.row, p.column) for p in error.value.problems] == [(2, "rob_sequence")]


def test_cli_validate_takes_the_tool(capsys):
    assert main(["validate", str(CAMARADES_SHEET), "--risk-of-bias", "camarades"]) == 0
    assert main(["validate", str(CAMARADES_SHEET), "--risk-of-bias", "cochrane"]) == 1
    assert "key 'risk_of_bias', value 'cochrane'" in capsys.readouterr().err


# --- overall judgement and quality score -----------------------------------------------------------

def test_overall_is_the_worst_item_or_the_items_met(minocycline):
    effects, _ = minocycline
    studies = rob.per_study(effects)
    worst = rob.overall(studies)
    ref = pd.DataFrame(REF["judgements"], index=REF["studies"])[SYRCLE_ITEMS]
    rank = {"low": 0, "unclear": 1, "high": 2}
    expected = ref.apply(lambda r: max(r.dropna(), key=rank.get), axis=1)
    assert worst.reindex(expected.index).tolist() == expected.tolist()
    checklist = rob.per_study(effects, rob.CAMARADES)
    met = (checklist == "yes").sum(axis=1)
    assert rob.overall(checklist, rob.CAMARADES).tolist() == [f"{m}/2" for m in met]


def test_quality_score_is_the_fixtures(minocycline):
    effects, _ = minocycline
    score = rob.quality_score(rob.per_study(effects)).reindex(REF["studies"])
    assert score["met"].tolist() == REF["quality"]["met"] and score["rated"].tolist() == REF["quality"]["rated"]
    close(score["quality_score"], REF["quality"]["quality_score"])


# --- weighted summary vs metafor's weights summed per judgement ----------------------------------

def test_weights_are_metafors(minocycline):
    effects, weights = minocycline
    assert len(REF["rows"]) == len(effects)  # metafor's rows 1, 2, ... are the sheet's in order
    close(weights.set_index("row")["weight_overall"].reindex(effects["row"]), REF["weights"])
    close(rob.study_weights(effects, weights).reindex(REF["studies"]), REF["study_weight"])


@pytest.mark.parametrize("tool, items", [(rob.SYRCLE, SYRCLE_ITEMS), (rob.CAMARADES, CHECKLIST_ITEMS)])
def test_weighted_shares_are_metafors(minocycline, tool, items):
    effects, weights = minocycline
    out = rob.weighted_summary(rob.per_study(effects, tool), rob.study_weights(effects, weights), tool)
    ref = pd.DataFrame(REF["shares"])
    ref = ref[ref["column"].isin(items)]
    assert out["item"].tolist() == [tool.labels[c] for c in ref["column"]]
    assert out["judgement"].tolist() == ref["judgement"].tolist()
    assert out["studies"].tolist() == ref["studies"].tolist()
    close(out["share_studies"], ref["share_studies"])
    close(out["share_weight"], ref["share_weight"])


def test_weighted_shares_without_weights_are_nan():
    studies = pd.DataFrame({"rob_other": ["low", "high"]}, index=pd.Index(["a", "b"], name="study"))
    out = rob.weighted_summary(studies, pd.Series(np.nan, index=["a", "b"]))
    assert out["share_weight"].isna().all() and out["share_studies"].tolist() == [50.0, 0.0, 50.0]


# --- the quality score as a moderator vs metafor rma(yi, vi, mods = ~ quality_score) -------------

def test_quality_score_moderator_is_metafors(minocycline):
    effects, _ = minocycline
    scored = rob.quality_score_column(effects, rob.SYRCLE, ["quality_score"])
    overall = metareg(scored["yi"], scored["vi"], scored[["quality_score"]], method="REML", test="knha")[0]
    res = moderator_analysis(scored, ["quality_score"], "mechanism", "REML", "knha", permutations=2)
    coefs = res["coefs"].set_index("group")
    for group, ref in REF["metareg"].items():
        c = overall if group == "overall" else coefs.loc[[group]]
        assert c["term"].tolist() == ["intrcpt", "quality_score"]
        for name in ("estimate", "se", "stat", "df", "p", "ci_low", "ci_high"):
            close(c[name], np.broadcast_to(ref[name], len(c)))


def test_quality_score_column_only_when_asked():
    effects = pd.DataFrame({"study": ["a"], "rob_other": ["low"], "quality_score": [3.0]})
    assert rob.quality_score_column(effects, moderators=["species"]) is effects
    assert rob.quality_score_column(effects) is effects  # the sheet's own column is kept
    assert "quality_score" not in rob.quality_score_column(pd.DataFrame({"study": ["a"]}))


# --- stratification by a checklist's items -----------------------------------------------------

def test_rob_strata_of_a_checklist(minocycline):
    effects, _ = minocycline
    studies = rob.per_study(effects, rob.CAMARADES)
    out = rob_strata(effects, studies, "mechanism", tool=rob.CAMARADES).set_index("analysis")
    assert {"by Random allocation to treatment or control", "by Blinded assessment of outcome"} <= set(out.index)
    low = out.loc["low risk on Sequence generation and Blinding (outcome assessor)"]
    assert "has neither of SYRCLE's items rob_sequence and rob_blinding_assessor" in low["note"]


# --- the workflow on a CAMARADES-checklist sheet ---------------------------------------------------

@pytest.mark.workflow
def test_workflow_on_a_camarades_sheet(tmp_path):
    run(tmp_path, "--config", f"data={CAMARADES_SHEET}", "risk_of_bias=camarades",
        "analyses=[risk_of_bias,moderators]", "moderators=[quality_score,species]", "permutations=10")
    weighted = read_csv(tmp_path / "results/rob_weighted.csv")
    assert weighted.columns.tolist() == ["item", "judgement", "studies", "share_studies", "share_weight"]
    assert len(weighted) == 20 and set(weighted["judgement"]) == {"yes", "no"}
    close(weighted.groupby("item", sort=False)["share_weight"].sum(), [100] * 10)
    studies = read_csv(tmp_path / "results/rob_studies.csv")
    assert studies["overall"].str.fullmatch(r"\d+/(9|10)").all()
    models = read_csv(tmp_path / "results/moderator_tests.csv")
    assert "quality_score" in set(models["moderator"])
    assert (tmp_path / "results/plots/bubble_quality_score.png").exists()
    assert "Weighted summary" in (tmp_path / "results/report.html").read_text()


@pytest.mark.workflow
def test_a_bad_tool_in_the_config_stops_the_run_with_the_other_problems(tmp_path):
    out = run(tmp_path, "--config", f"data={CAMARADES_SHEET}", "risk_of_bias=cochrane", "seed=-1", "-n", check=False)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert lines[0] == "premeta: 2 problems in the settings (config/README.md describes every key):"
    assert lines[1].startswith("  key 'seed', value -1 (from --config): must be at least 0")
    assert lines[2] == ("  key 'risk_of_bias', value 'cochrane': must be one of syrcle, camarades or a list of items "
                        "(column, label, values)")
    assert not (tmp_path / "results").exists()


@pytest.mark.workflow
def test_a_checklist_value_refused_by_the_workflow_names_its_row(tmp_path):
    sheet = pd.read_csv(CAMARADES_SHEET, dtype=str, keep_default_na=False)
    sheet.loc[4, "quality_temperature"] = "partly"
    sheet.to_csv(tmp_path / "sheet.csv", index=False)
    out = run(tmp_path, "--config", f"data={tmp_path / 'sheet.csv'}", "risk_of_bias=camarades", "-n", check=False)
    assert out.returncode == 1
    assert ("row 6, column 'quality_temperature', value 'partly': must be 'yes' or 'no' (CAMARADES study quality "
            "checklist, risk_of_bias: camarades)") in out.stderr
