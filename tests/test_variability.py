"""lnCVR and lnVR (``escalc`` measures ``CVR``, ``VR``) against metafor 3.8 on dat.besson2016
(tests/reference/make_variability_fixtures.R)."""

import json
from pathlib import Path

import pandas as pd
import pytest
from helpers import REPO, close, run

import premeta
from premeta.errors import SheetError
from premeta.groups.multiverse_analysis import CHOICES
from premeta.sheet import validate

FIXTURE = json.loads((Path(__file__).parent / "reference" / "metafor_variability.json").read_text())


def besson(**better) -> pd.DataFrame:
    sheet = pd.DataFrame(FIXTURE["data"])
    sheet["outcome"], sheet["mechanism"] = "behaviour", sheet["species"]
    return sheet.assign(**better)


@pytest.mark.parametrize("measure", ["CVR", "VR"])
def test_escalc_matches_metafor(measure):
    out = premeta.escalc(besson(), measure, orient="raw")
    assert len(out) == 385
    close(out["yi"], FIXTURE[measure]["yi"])
    close(out["vi"], FIXTURE[measure]["vi"])
    assert set(out["measure"]) == {measure}


@pytest.mark.parametrize("measure", ["CVR", "VR"])
def test_orient_never_flips_variability(measure):
    """Which arm varies more is no benefit: ``better = "lower"`` leaves lnCVR and lnVR as they are."""
    out = premeta.escalc(besson(better="lower"), measure, orient="benefit")
    close(out["yi"], FIXTURE[measure]["yi"])


def test_validate_through_escalc_matches_metafor():
    """The sheet's own path: validate (SEM to SD) then escalc."""
    checked = validate(besson(), measure="CVR", orient="raw")
    close(premeta.escalc(checked, "CVR", orient="raw")["yi"], FIXTURE["CVR"]["yi"])


@pytest.mark.parametrize(("change", "measure", "column", "words"), [
    ({"trt_sem": 0.0}, "VR", "trt_sd", "must be > 0 for measure='VR'"),
    ({"ctl_n": 1.0}, "CVR", "ctl_n", "must exceed 1 for measure='CVR'"),
    ({"ctl_mean": -2.0}, "CVR", "ctl_mean", "must be > 0 for measure='CVR'"),
])
def test_validate_refuses_undefined_rows(change, measure, column, words):
    sheet = besson().head(3).copy()
    for col, value in change.items():
        sheet.loc[1, col] = value
    with pytest.raises(SheetError) as error:
        validate(sheet, measure=measure, orient="raw")
    problems = error.value.problems
    assert [(p.row, p.column) for p in problems] == [(1, column)]
    assert words in problems[0].rule


def test_escalc_refuses_an_infinite_log_sd():
    sheet = besson().head(2).assign(trt_sem=[0.0, 1.0])
    with pytest.raises(SheetError, match="no finite VR"):
        premeta.escalc(sheet, "VR", orient="raw")


@pytest.mark.parametrize("measure", ["CVR", "VR"])
def test_a_split_control_of_one_animal_is_left_out_with_the_variability_reason(measure):
    """A control of 3 animals shared by 3 comparisons (shared_control: split) leaves 1 to each: its
    log SD's correction 1/(2(n - 1)) is undefined, so the rows are left out, saying so (not Hedges' df)."""
    sheet = pd.DataFrame({"study": ["A", "A", "A", "B"], "outcome": "o", "better": "lower", "mechanism": "g",
                          "control_group": ["c", "c", "c", None], "trt_mean": [10.0, 11, 12, 9],
                          "trt_sd": [2.0, 3, 2.5, 1], "trt_n": [8, 8, 8, 7], "ctl_mean": [14.0, 14, 14, 7],
                          "ctl_sd": [1.0, 1, 1, 0.4], "ctl_n": [3, 3, 3, 7]})
    out = premeta.escalc(validate(sheet, measure=measure, orient="raw"), measure, orient="raw")
    assert out["yi"].isna().tolist() == [True, True, True, False]
    assert (out["omitted"][:3] == (
        f"{measure} undefined: the control group (n = 3) split among 3 comparisons leaves 1 animal to this one, "
        "and the correction of its log SD, 1/(2(n - 1)), needs n above 1 (Nakagawa et al. 2015); left out of every "
        "model (shared_control: full or covariance keeps it)")).all()


def test_multiverse_leaves_the_variability_measures_out():
    assert not {"CVR", "VR"} & set(CHOICES["measure"])


@pytest.mark.workflow
def test_the_workflow_pools_lncvr_as_metafor(tmp_path):
    """measure: CVR through the workflow on a corpus sheet (every comparison keeping its control's n):
    each group's pooled lnCVR is metafor's rma(REML, knha) on escalc("CVR"); the forest plots and the
    report say less or more variable, never "favours"."""
    sheet = REPO / "tests" / "data" / "besson2016_mice.csv"
    run(tmp_path, "--config", f"data={sheet}", "measure=CVR", "shared_control=full", "analyses=[]")
    pooled = pd.read_csv(tmp_path / "results" / "pooled.csv").set_index("group")
    expected = FIXTURE["mice_cvr"]
    assert list(pooled.index[:-1]) == [r["group"] for r in expected]
    for r in expected:
        for c in ("k", "estimate", "se", "ci_low", "ci_high", "p", "tau2"):
            close(pooled.at[r["group"], c], r[c])
    svg = (tmp_path / "results" / "plots" / "forest_activity.svg").read_text()
    assert "Less variable with" in svg and "More variable with" in svg and "Favours" not in svg
    html = (tmp_path / "results" / "report.html").read_text()
    assert "log ratios of the coefficients of variation (lnCVR" in html and "more variable with" in html
