"""An SD of 0 in one arm is data, not an error (floor and ceiling effects in behavioural tests).

Accepted where the effect's variance stays > 0 (one of treatment and control at 0), held to
metafor's escalc (tests/reference/metafor_zero_sd.json, made by make_zero_sd_fixtures.R on
Normand 1999 and Curtis 1998 with a few SDs set to 0), flagged in ``zero_sd`` and listed in the
report; refused where it would be 0 (both arms at 0) and for any negative SD or SEM.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import REPO, close, run

import premeta
from premeta.groups.common import read_effects
from premeta.errors import Problem, SheetError
from premeta.sheet import read_sheet, validate

FIXTURE = json.loads((Path(__file__).parent / "reference" / "metafor_zero_sd.json").read_text())
SHEET = REPO / "tests" / "sheets" / "simulated_zero_sd.csv"
BOTH_ZERO = "SD is 0 in both groups (treatment and control): the effect's variance would be 0; check the extraction"


def sheet_from(name):
    d = FIXTURE["data"][name]
    k = len(d["m1i"])
    return pd.DataFrame({
        "study": [f"{name} {i}" for i in range(1, k + 1)], "outcome": "y", "mechanism": "m", "better": "higher",
        "trt_mean": d["m1i"], "trt_sd": d["sd1i"], "trt_n": d["n1i"],
        "ctl_mean": d["m2i"], "ctl_sd": d["sd2i"], "ctl_n": d["n2i"]}, index=range(2, k + 2))


def expected_flags(name):
    d = FIXTURE["data"][name]
    flags = [""] * len(d["m1i"])
    for arm, rows in (("trt", d["zeroed_sd1i"]), ("ctl", d["zeroed_sd2i"])):
        for r in rows:
            flags[r - 1] = arm
    return flags


@pytest.mark.parametrize("case", FIXTURE["escalc"], ids=lambda c: f"{c['dataset']}-{c['measure']}")
def test_escalc_matches_metafor_with_one_sd_zero(case):
    sheet = validate(sheet_from(case["dataset"]), measure=case["measure"])  # accepted
    out = premeta.escalc(sheet, case["measure"], orient="raw")
    close(out.yi, case["yi"])
    close(out.vi, case["vi"])
    assert list(out.zero_sd) == expected_flags(case["dataset"])
    assert (out.zero_sd != "").sum() == {"normand1999": 3, "curtis1998": 5}[case["dataset"]]


def test_fixture_cases():
    assert [(c["dataset"], c["measure"]) for c in FIXTURE["escalc"]] == [
        (d, m) for d in ("normand1999", "curtis1998") for m in ("SMD", "MD", "ROM")]
    assert all(c["vtype"] == "LS" for c in FIXTURE["escalc"] if c["measure"] == "SMD")
    assert FIXTURE["data"]["normand1999"]["sd2i"][1] == 0 and FIXTURE["data"]["normand1999"]["sd1i"][6] == 0


@pytest.mark.parametrize("name", ["normand1999", "curtis1998"])
def test_nmd_with_one_sd_zero_is_metafor_md_rescaled(name):
    # NMD = 100 MD / deficit and var(NMD) = (100 / deficit)^2 var(MD), as in test_effects.py;
    # sham groups placed at a deficit of 40% of each control mean (sham SD 0 too: never used)
    case = next(c for c in FIXTURE["escalc"] if c["dataset"] == name and c["measure"] == "MD")
    sheet = sheet_from(name)
    deficit = 0.4 * sheet.ctl_mean.abs()
    sheet["sham_mean"], sheet["sham_sd"], sheet["sham_n"] = sheet.ctl_mean + deficit, 0.0, 10
    out = premeta.escalc(validate(sheet, measure="NMD"), "NMD", orient="raw")
    close(out.yi, 100 * np.array(case["yi"]) / deficit)
    close(out.vi, (100 / deficit) ** 2 * np.array(case["vi"]))
    assert list(out.zero_sd) == expected_flags(name)


@pytest.mark.parametrize("measure", ["SMD", "MD", "ROM"])
def test_sem_zero_is_sd_zero(measure):
    sheet = sheet_from("normand1999")
    ref = premeta.escalc(sheet, measure, orient="raw")
    sheet["trt_sem"] = sheet.pop("trt_sd") / np.sqrt(sheet["trt_n"])
    sheet["ctl_sem"] = sheet.pop("ctl_sd") / np.sqrt(sheet["ctl_n"])
    out = premeta.escalc(validate(sheet, measure=measure), measure, orient="raw")
    close(out.yi, ref.yi, rtol=1e-12)
    close(out.vi, ref.vi, rtol=1e-12)
    assert list(out.zero_sd) == list(ref.zero_sd) and set(out.sd_from_sem) == {"trt;ctl"}


def probe(trt_sd, ctl_sd, sham_sd=2.0):
    return pd.DataFrame({
        "study": ["A"], "outcome": ["latency"], "mechanism": ["behaviour"], "better": ["higher"],
        "trt_mean": ["20"], "trt_sd": [trt_sd], "trt_n": ["8"], "ctl_mean": ["9"], "ctl_sd": [ctl_sd],
        "ctl_n": ["8"], "sham_mean": ["20"], "sham_sd": [sham_sd], "sham_n": ["8"]}, index=[2])


@pytest.mark.parametrize("measure", ["SMD", "MD", "ROM", "NMD"])
def test_one_arm_zero_accepted_and_flagged(measure):
    for trt_sd, ctl_sd, flag in (("0", "2.5", "trt"), ("2.5", "0", "ctl"), ("0.0", "2.5", "trt")):
        out = premeta.escalc(validate(probe(trt_sd, ctl_sd, sham_sd="0"), measure=measure), measure)
        assert out.at[2, "zero_sd"] == flag and out.at[2, "vi"] > 0 and np.isfinite(out.at[2, "yi"])
    out = premeta.escalc(validate(probe("2", "2.5"), measure=measure), measure)
    assert out.at[2, "zero_sd"] == ""  # none; a sham SD of 0 is never flagged (no measure uses it)


@pytest.mark.parametrize("measure", ["SMD", "MD", "ROM", "NMD"])
def test_both_arms_zero_refused_with_the_rule(measure):
    with pytest.raises(SheetError) as info:
        validate(probe("0", "0"), file="sheet.csv", measure=measure)
    assert info.value.problems == [Problem(2, "ctl_sd", "0", BOTH_ZERO)]
    assert f"sheet.csv: row 2, column 'ctl_sd', value '0': {BOTH_ZERO}" in str(info.value)
    sem = probe("0", None).assign(ctl_sem="0")  # an SEM of 0 is an SD of 0
    with pytest.raises(SheetError) as info:
        validate(sem, measure=measure)
    assert info.value.problems == [Problem(2, "ctl_sem", "0", BOTH_ZERO)]


def test_negative_sd_and_sem_refused_with_every_other_problem():
    sheet = pd.concat([probe("-1", "2"), probe("0", "0"), probe("2", None).assign(ctl_sem="-0.5"),
                       probe("0", "2", sham_sd="-3"), probe("0", "2").assign(trt_n="0")])
    sheet.index = [2, 3, 4, 5, 6]
    sheet["study"] = list("ABCDE")
    with pytest.raises(SheetError) as info:
        validate(sheet, measure="NMD")
    assert info.value.problems == [
        Problem(2, "trt_sd", "-1", "must not be negative"),
        Problem(3, "ctl_sd", "0", BOTH_ZERO),
        Problem(4, "ctl_sem", "-0.5", "must not be negative"),
        Problem(5, "sham_sd", "-3", "must not be negative"),
        Problem(6, "trt_n", "0", "must be > 0 (a group of animals)"),
    ]


def test_precomputed_rows_are_not_flagged():
    sheet = pd.DataFrame({"study": ["A"], "outcome": ["y"], "mechanism": ["m"], "better": ["higher"],
                          "yi": ["0.4"], "vi": ["0.04"]}, index=[2])
    assert premeta.escalc(validate(sheet), "SMD").at[2, "zero_sd"] == ""


@pytest.mark.parametrize("measure", ["SMD", "MD", "ROM", "NMD"])
def test_committed_sheet_accepted_for_every_measure(measure):
    out = premeta.escalc(validate(read_sheet(SHEET), SHEET, measure), measure)
    assert list(out.zero_sd) == ["trt", "trt", "", "", "ctl", "", ""]
    assert (out.vi > 0).all() and np.isfinite(out.yi).all()


@pytest.mark.workflow
def test_sheet_with_zero_sds_through_the_workflow(tmp_path):
    run(tmp_path, "--config", f"data={SHEET}", "permutations=50")
    effects = read_effects(tmp_path / "results" / "effect_sizes.csv")
    assert list(effects.zero_sd.fillna("")) == ["trt", "trt", "", "", "ctl", "", ""]
    assert (effects.vi > 0).all() and np.isfinite(effects.yi).all()
    expected = premeta.escalc(validate(read_sheet(SHEET)), "SMD")
    close(effects.yi, expected.yi, rtol=1e-12)
    report = (tmp_path / "results" / "report.html").read_text()
    assert "3 comparisons had an SD of 0 in one group" in report
    assert "<td>2</td><td class=\"l\">Probe A (simulated)</td>" in report
    assert "<td>3</td><td class=\"l\">Probe B (simulated)</td>" in report
    assert "<td>6</td><td class=\"l\">Probe E (simulated)</td><td class=\"l\">Acetone response score (0-4)</td>" \
           "<td class=\"l\">sedentary control</td>" in report
    assert "SIMULATED DATA" in report
