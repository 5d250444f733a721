"""Suspicious values, flagged and never refused (premeta.flags): each rule on a small sheet, what
fires on the real sheets, the multiverse's rule without flagged rows, and the report's block."""


import numpy as np
import pandas as pd
import pytest
from helpers import REPO, run

import premeta
from premeta.groups.common import read_effects
from premeta.flags import FLAG_COLUMNS, RULES, flagged, flags, flags_and_column
from premeta.sheet import read_sheet, validate


def sheet(**columns) -> pd.DataFrame:
    """A sheet indexed by spreadsheet rows from 2."""
    out = pd.DataFrame(columns)
    out.index = pd.RangeIndex(2, len(out) + 2, name="row")
    return out


def test_an_sd_that_is_probably_an_sem():
    # latency with a CV of 0.25 in four studies; E gives 0.08 (an SEM of 2.5 with n = 8 is 0.88);
    # F gives a CV of 0.02 with n = 2, which an SD of 2 animals can show; G only one small arm
    s = sheet(study=list("ABCDEFG"), outcome="latency (s)",
              trt_mean=[12.0, 12, 12, 12, 12, 12, 12], trt_sd=[3.0, 3, 3, 3, 0.96, 0.24, 0.96],
              trt_n=[8, 8, 8, 8, 8, 2, 8],
              ctl_mean=10.0, ctl_sd=[2.5, 2.5, 2.5, 2.5, 0.8, 0.2, 2.5], ctl_n=[8, 8, 8, 8, 8, 2, 8])
    t = flags(s)
    assert list(t.columns) == FLAG_COLUMNS
    assert t[["rule", "rows", "study"]].values.tolist() == [["sd_maybe_sem", "6", "E"]]
    assert t.at[0, "detail"] == (
        "outcome 'latency (s)': treatment SD 0.96 (CV 0.080, n 8, at most 0.088); control SD 0.8 (CV 0.080, "
        "n 8, at most 0.088), against a median CV of 0.250 in 6 other studies; read as SEMs, Hedges' g (raw) "
        "would be 0.76 instead of 2.14")  # the SDs times sqrt(8)
    # an SEM typed as an SEM is converted, not suspected; fewer than 3 other studies: no reference
    assert flags(s.assign(trt_sem=s.trt_sd.where(s.study != "E"), trt_sd=s.trt_sd.where(s.study == "E"),
                          ctl_sem=s.ctl_sd.where(s.study != "E"),
                          ctl_sd=s.ctl_sd.where(s.study == "E"))).rule.tolist() == ["sd_maybe_sem"]
    assert flags(s.assign(trt_sem=s.trt_sd, ctl_sem=s.ctl_sd).drop(columns=["trt_sd", "ctl_sd"])).empty
    assert flags(s.loc[[4, 5, 6]]).empty
    # the effect size is still computed: a flag refuses nothing
    assert np.isfinite(premeta.escalc(s, orient="raw").at[6, "yi"])


def test_one_control_group_given_different_values():
    s = sheet(study="S", control_group=["C1", "C1", "C1", "C2", "C2"], outcome="O", time=[7, 7, 7, 7, 14],
              trt_mean=[3.0, 4, 5, 6, 7], trt_sd=1.0, trt_n=8,
              ctl_mean=[2.0, 2.2, 2.0, 2.0, 2.5], ctl_sd=1.0, ctl_n=[12, 12, 11, 10, 10])
    t = flags(s)
    assert t[["rule", "rows", "study"]].values.tolist() == [["control_differs", "2, 3, 4", "S"]]
    assert t.at[0, "detail"] == ("control group 'C1' (outcome 'O', time 7): mean 2 on rows 2, 4; 2.2 on row 3; "
                                 "n 12 on rows 2, 3; 11 on row 4")  # C2 at two times: two control groups
    assert flagged(s).tolist() == ["control_differs"] * 3 + ["", ""]


def test_identical_treatment_arms():
    s = sheet(study="S", comparison=["a", "b", "c", "d"], outcome=["O", "O", "O", "P"],
              trt_mean=[5.0, 5.0, 5.0, 5.0], trt_sd=[1.2, 1.2, 1.3, 1.2], trt_n=8,
              ctl_mean=[3.0, 3.5, 3.0, 3.0], ctl_sd=1.0, ctl_n=8)
    t = flags(s)
    assert t.values.tolist() == [["identical_treatment", "2, 3", "S", "outcome 'O': rows 2, 3 (comparisons 'a', "
                                  "'b') give the treatment group mean 5, SD 1.2 and n 8"]]


def test_a_cohort_whose_n_changes():
    s = sheet(study="S", cohort=["E1", "E1", "E1", "E2", "E2", "E3", "E3"],
              outcome=["O", "P", "Q", "O", "O", "O", "P"], time=[7, 7, 7, 7, 28, 28, 28],
              tissue=["paw", "paw", "paw", "paw", "paw", "paw", "spinal cord"],
              trt_mean=[3.0, 4, 5, 6, 7, 8, 9], trt_sd=1.0, trt_n=[8, 8, 7, 8, 6, 8, 4],
              ctl_mean=2.0, ctl_sd=1.0, ctl_n=8)
    # E2 loses animals between days 7 and 28, E3 samples half its animals for spinal cord: designs, not errors
    assert flags(s).values.tolist() == [["cohort_n_varies", "2, 3, 4", "S",
                                         "cohort 'E1', time 7, tissue 'paw': treatment n 7 on row 4; n 8 on rows 2, 3"]]
    both = s.assign(control_group="C", ctl_n=[8, 9, 8, 8, 8, 8, 8])  # E1's rows share a control too
    assert flagged(both).tolist()[:3] == ["cohort_n_varies"] * 3  # other outcomes: not one control group
    assert flagged(both.assign(outcome="O")).tolist()[:3] == ["control_differs;cohort_n_varies"] * 3


def test_one_label_spelled_two_ways():
    """Labels differing only in case or blanks were read as two studies (clusters), outcomes or groups
    without a word; the rows of the rarer spelling are flagged, naming the usual one."""
    s = sheet(study=["Smith 2019", "Smith 2019", "smith 2019", "Smith  2019", "Doe 2020", "Doe 2020"],
              outcome=["Latency", "latency", "Latency", "Latency", "latency", "Latency"],
              mechanism="Behaviour", control_group=["veh", "veh", "Veh", "veh", "veh", "VEH"],
              trt_mean=[1.0, 2, 3, 4, 5, 6], trt_sd=1.0, trt_n=8, ctl_mean=0.5, ctl_sd=1.0, ctl_n=8)
    t = flags(s)
    assert t.values.tolist() == [
        ["label_spellings", "4, 5", "smith 2019", "study 'smith 2019' on row 4 (case); 'Smith  2019' on row 5 "
         "(blanks): differs only in case or blanks from 'Smith 2019' (row 2 and 1 more)"],
        ["label_spellings", "3, 6", "Smith 2019", "outcome 'latency' on rows 3, 6 (case): differs only in case or "
         "blanks from 'Latency' (row 2 and 3 more)"],
        ["label_spellings", "7", "Doe 2020", "control_group 'VEH' on row 7 (case): differs only in case or blanks "
         "from 'veh' (row 6)"]]  # within a study: 'Veh' is the only spelling of study 'smith 2019'
    assert flagged(s).tolist() == ["", "label_spellings", "label_spellings", "label_spellings", "label_spellings",
                                   "label_spellings"]
    assert flags(s.assign(study="Smith 2019", outcome="Latency", control_group="veh")).empty


def test_no_flags_on_precomputed_effects_or_a_sheet_without_the_columns():
    s = sheet(study=["A", "B"], outcome="O", yi=[0.5, 0.7], vi=[0.1, 0.2])
    assert flags(s).empty and flagged(s).tolist() == ["", ""]
    assert flags(sheet(study=["A", "B"], trt_mean=1.0, trt_sd=0.1, trt_n=8, ctl_mean=1.0, ctl_sd=0.1, ctl_n=8)).empty


#: What fires on the real sheets (rule: rows), judged one by one:
#: minocycline: rows 21 and 99 give sucrose preference SDs of 4.5 to 5.8 at means of 63 to 80 (CV 0.07),
#: where 7 other studies have a median CV of 0.2: SEM-sized for n = 6. Curtis 1998: papers 553 and 2223,
#: CVs of 0.03 to 0.06 against 0.18 with n = 6. Besson 2016 (SEMs, so no sd_maybe_sem): control con_138 and
#: con_139 of s_31 given n 16 on two rows and 15 on one; s_01's comp_10 and comp_12 (diets pre and
#: pre+lact) have the same treatment mean, SEM and n; four cohorts (animal_ID) whose n changes between
#: tests at one age (A_19: 15, 7 and 10 animals); s_79's outcome 'center_entries', 'Center_entries' in the
#: other studies (metadat's `measure`). The split-control sheet: s_42's controls given one
#: SEM, or one mean, for males and another for females, and identical treatment arms of the two sexes.
REAL = {
    "data/minocycline/minocycline_sheet.csv": {"sd_maybe_sem": ["21", "99"]},
    "data/minocycline/analysis_a_sheet.csv": {},
    "data/minocycline/analysis_c_sheet.csv": {"sd_maybe_sem": ["18", "21", "97"]},
    "tests/data/curtis1998_co2.csv": {"sd_maybe_sem": ["27", "28", "100"]},
    "tests/data/normand1999_stroke.csv": {},
    "tests/data/besson2016_rodents.csv": {
        "control_differs": ["183, 185, 187", "184, 186, 188"], "identical_treatment": ["11, 13"],
        "cohort_n_varies": ["47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59", "226, 227, 228",
                            "297, 298, 299, 300, 301, 302, 303", "320, 321, 322, 323, 324, 325, 326"],
        "label_spellings": ["330"]},
    "tests/data/besson2016_male_rats.csv": {"control_differs": ["74, 76, 78", "75, 77, 79"],
                                            "cohort_n_varies": ["101, 102, 103"], "label_spellings": ["175"]},
    "tests/data/besson2016_mice.csv": {"cohort_n_varies": ["46, 47, 48, 49, 50, 51, 52",
                                                           "67, 68, 69, 70, 71, 72, 73"]},
    "tests/data/besson2016_split_controls.csv": {
        "control_differs": ["2, 5, 8, 11, 14, 17, 20, 23", "3, 6, 9, 12, 15, 18, 21, 24",
                            "4, 7, 10, 13, 16, 19, 22, 25"],
        "identical_treatment": ["11, 23", "32, 35", "38, 41"]},
    "data/simulated_treadmill_neuropathic_pain.csv": {},
}


@pytest.mark.parametrize("path", list(REAL))
def test_what_fires_on_the_real_sheets(path):
    s = read_sheet(REPO / path)
    if "split_controls" not in path:  # that sheet is refused (controls split below 2 animals); its values are read
        s = validate(s)
    t = flags(s)
    assert {r: g["rows"].tolist() for r, g in t.groupby("rule", sort=False)} == REAL[path]
    assert t["rule"].isin(list(RULES)).all()


def test_details_on_the_real_sheets():
    t = flags(validate(read_sheet(REPO / "tests" / "data" / "besson2016_rodents.csv"))).set_index("rows")
    assert t.at["183, 185, 187", "detail"] == ("control group 'con_138' (outcome 'Photocell_crossed'): n 16 on rows "
                                               "183, 187; 15 on row 185")
    assert t.at["47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59", "detail"] == (
        "cohort 'A_19': treatment n 7 on rows 53, 54, 55, 56, 57, 58; n 10 on row 59; n 15 on rows 47, 48, 49, 50, "
        "51, 52")


def test_one_pass_gives_the_table_and_the_column():
    """The effect-size job's single pass over the rules (flags_and_column) writes what flags() and
    flagged() give, on a real sheet that raises every kind of flag it has."""
    s = validate(read_sheet(REPO / "tests" / "data" / "besson2016_rodents.csv"))
    table, column = flags_and_column(s)
    pd.testing.assert_frame_equal(table, flags(s))
    pd.testing.assert_series_equal(column, flagged(s))
    assert len(table) > 3 and (column != "").sum() > 10


def test_the_multiverse_without_flagged_rows():
    s = validate(sheet(study=list("ABCDEF"), outcome="latency (s)", mechanism="behaviour", better="higher",
                       trt_mean=[12.0, 13, 12.5, 11, 12, 12.8], trt_sd=[3.0, 3, 3, 3, 0.96, 3], trt_n=8,
                       ctl_mean=10.0, ctl_sd=[2.5, 2.5, 2.5, 2.5, 0.8, 2.5], ctl_n=8))
    assert flagged(s).tolist() == ["", "", "", "", "sd_maybe_sem", ""]
    choices = {"measure": ["SMD"], "method": ["REML"], "test": ["z"], "dependence": ["none"], "adjustment": ["none"],
               "inclusion": ["all", "no_flagged"]}
    t = premeta.multiverse(s, choices).set_index("inclusion")
    assert t.at["all", "k"] == 6 and t.at["no_flagged", "k"] == 5 and not t.at["no_flagged", "duplicate"]
    e = premeta.escalc(s.drop(index=6))
    assert np.isclose(t.at["no_flagged", "estimate"], premeta.rma(e["yi"], e["vi"], method="REML").iloc[0]["estimate"],
                      rtol=1e-12)
    clean = premeta.multiverse(s.drop(index=6), choices).set_index("inclusion")
    assert clean.at["no_flagged", "duplicate"] and clean.at["no_flagged", "note"] == (
        "no_flagged excludes nothing here: the same comparisons as inclusion all")
    assert len(premeta.specifications()) == 3 * 16 * 5


@pytest.mark.workflow
def test_flags_through_the_workflow_and_the_report(tmp_path):
    """A sheet with an SEM typed as an SD (row 13): flags.csv, effect_sizes.csv's column, the report."""
    s = pd.read_csv(REPO / "tests" / "sheets" / "simulated_uniform_protocol.csv")
    planted = s.iloc[[0]].assign(study="Probe M (simulated)", trt_sd=0.5, ctl_sd=0.5)  # row 14
    path = tmp_path / "simulated_planted_sem.csv"
    pd.concat([s, planted]).to_csv(path, index=False)
    work = tmp_path / "run"
    run(work, "--config", f"data={path}", "analyses=[multiverse]", "multiverse_chunks=1")
    t = pd.read_csv(work / "results" / "flags.csv", dtype=str)
    assert t[["rule", "rows", "study"]].values.tolist() == [["sd_maybe_sem", "14", "Probe M (simulated)"]]
    effects = read_effects(work / "results" / "effect_sizes.csv")
    assert effects["flags"].fillna("").tolist() == [""] * 12 + ["sd_maybe_sem"]
    html = (work / "results" / "report.html").read_text()
    block = html[html.index('<p id="flags">'):html.index('<tr><th>mechanism</th><th>studies</th>')]
    assert "Checks for suspicious values, flagged and never refused" in block
    assert "1 spreadsheet row flagged" in block and "without flagged rows" in block
    for rule in RULES:
        assert f"(<code>{rule}</code>)</td><td>{1 if rule == 'sd_maybe_sem' else 0}</td>" in block
    assert "<td class=\"l\">14</td><td class=\"l\">Probe M (simulated)</td>" in block
    mv = pd.read_csv(work / "results" / "multiverse.csv")
    smd = mv[(mv.measure == "SMD") & (mv.group == "Behaviour")].set_index(["method", "test", "dependence",
                                                                          "adjustment", "inclusion"])
    assert set(smd.xs("all", level="inclusion").k) == {3} and set(smd.xs("no_flagged", level="inclusion").k) == {2}
    assert mv[(mv.group != "Behaviour") & (mv.measure == "SMD") & (mv.inclusion == "no_flagged")].duplicate.all()
