"""From one row per group to one row per comparison: the SyRF export (the data dictionary's own
example rows, tests/data/syrf/) and one-row-per-group sheets; the `premeta` command."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import premeta
from conftest import REPO, run
from premeta.analysis import stratified
from premeta.pairing import detect, load, pair
from premeta.sheet import validate

EXAMPLE = REPO / "tests" / "data" / "syrf" / "quantitative_data_example.csv"
SIMULATED = REPO / "tests" / "sheets" / "simulated_syrf_export.csv"
PREMETA = str(Path(sys.executable).parent / "premeta")


def test_dictionary_example_ketamine_cohorts_share_one_saline_control():
    sheet, pairing, fmt = load(EXAMPLE)
    assert fmt == "syrf" == detect(EXAMPLE)
    ak = sheet[sheet.study == "Akinfiresoye 2013"].set_index(["outcome", "comparison"])
    assert len(ak) == 4 and set(ak.control_group) == {"FST / FST/Sal"}
    imm = ak.loc[("FST Immobility", "FST/Ket 0.5 vs FST/Sal")]
    assert (imm.trt_mean, imm.trt_sd, imm.trt_n, imm.ctl_mean, imm.ctl_sd, imm.ctl_n) == (16.57, 2.06, 8, 22.45, 1.92, 8)
    assert imm.better == "lower" and ak.loc[("FST Swimming", "FST/Ket 0.5 vs FST/Sal"), "better"] == "higher"
    assert imm.time == 20 / 1440  # TimeInMinute 20 -> days
    effects = premeta.escalc(validate(sheet), "SMD")
    shared = effects[effects.study == "Akinfiresoye 2013"]
    assert (shared.shared_m == 2).all() and (shared.ctl_n_eff == 4).all()  # the saline control split in two
    # its SMD is metafor's escalc on the split control (n 8 vs 4), sign by GreaterIsWorse
    g = premeta.effects.smd(16.57, 2.06, 8, 22.45, 1.92, 4)[0]
    assert shared.yi.iloc[0] == -g and shared.yi.iloc[0] > 0
    assert set(sheet.columns) >= {"Random allocation to group (treatment/control)", "source_rows"}


def test_read_syrf_gives_the_comparison_sheet_and_the_pairing():
    from premeta.syrf import read_syrf

    comparisons, pairing = read_syrf(EXAMPLE)
    sheet, table, _ = load(EXAMPLE, "syrf")
    pd.testing.assert_frame_equal(comparisons, sheet)
    pd.testing.assert_frame_equal(pairing, table)
    assert len(comparisons) == 17 and {"trt_mean", "ctl_mean", "control_group", "better", "time"} <= set(comparisons)


def test_dictionary_example_sham_and_what_cannot_be_paired():
    sheet, pairing, _ = load(EXAMPLE)
    by_row = pairing.set_index("row")
    reus = sheet[sheet.study == "Reus 2015"].iloc[0]
    assert (reus.sham_mean, reus.sham_sd, reus.sham_n) == (71.02, 30.45, 24) and reus.source_rows == "13;12;10"
    assert by_row.at[11, "status"] == "not used" and "sham (no disease model) cohort given the treatment" in by_row.at[11, "detail"]
    assert by_row.at[46, "status"] == "unpaired" and "2 candidate controls" in by_row.at[46, "detail"]
    assert by_row.at[18, "status"] == "unpaired" and "the study has one in experiment 'Model + Saline'" in by_row.at[18, "detail"]
    assert len(pairing) == 48 and set(pairing.status) == {"paired", "control", "sham", "unpaired", "not used"}
    assert (pairing.status == "paired").sum() == len(sheet) == 17


def test_simulated_export_time_points_spellings_and_refusals():
    sheet, pairing, _ = load(SIMULATED)  # TimeInMinutes and OutcomeErrorType, SEM, IQR, median
    threshold = sheet[sheet.outcome == "Mechanical withdrawal threshold"].sort_values("time")
    assert list(threshold.time) == [1.0, 7.0] and list(threshold.trt_sem) == [0.6, 0.5]
    assert list(threshold.sham_mean) == [6.0, 6.1] and (threshold.better == "higher").all()
    by_row = pairing.set_index("row")
    assert by_row.at[9, "status"] == "excluded" and "median" in by_row.at[9, "detail"]
    assert by_row.at[12, "status"] == "excluded" and "IQR" in by_row.at[12, "detail"]
    assert by_row.at[13, "status"] == "unpaired" and by_row.at[8, "status"] == "not used"
    assert sheet["Pain model"].tolist() == ["CCI", "CCI", "SNI"]


def group_rows(draw_data):
    """A one-row-per-group sheet and the comparison sheet a reviewer would make by hand from it."""
    rows, hand = [], []
    for s, study in enumerate(draw_data):
        for o, (n_treated, sham, values) in enumerate(study):
            key = {"study": f"S{s} (simulated)", "outcome": f"O{o}", "time": 7, "better": "higher"}
            ctl = values[0]
            rows.append(key | {"group": "Vehicle", "role": "control", "mean": ctl[0], "sd": ctl[1], "n": ctl[2]})
            if sham:
                rows.append(key | {"group": "Sham", "role": "sham", "mean": 9.0, "sd": 1.0, "n": 6})
            for t in range(n_treated):
                trt = values[t + 1]
                rows.append(key | {"group": f"Dose {t}", "role": "treatment", "mean": trt[0], "sd": trt[1], "n": trt[2]})
                hand.append({"study": key["study"], "comparison": f"Dose {t} vs Vehicle", "outcome": key["outcome"],
                             "mechanism": key["outcome"],
                             "better": "higher", "time": 7, "control_group": "Vehicle",
                             "trt_mean": trt[0], "trt_sd": trt[1], "trt_n": trt[2],
                             "ctl_mean": ctl[0], "ctl_sd": ctl[1], "ctl_n": ctl[2]})
    return pd.DataFrame(rows), pd.DataFrame(hand, index=pd.RangeIndex(2, len(hand) + 2, name="row"))


arm = st.tuples(st.floats(0, 10, allow_nan=False), st.floats(0.5, 3), st.integers(6, 12))  # n / 3 >= 2
outcome = st.tuples(st.integers(1, 3), st.booleans(), st.lists(arm, min_size=4, max_size=4))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(outcome, min_size=1, max_size=2), min_size=2, max_size=4))
def test_pairing_then_analysing_equals_the_hand_made_sheet(tmp_path_factory, data):
    groups, hand = group_rows(data)
    path = tmp_path_factory.mktemp("long") / "groups.csv"
    groups.to_csv(path, index=False)
    sheet, pairing, fmt = load(path)
    assert fmt == "long" and (pairing.status != "unpaired").all()
    ours = stratified(premeta.escalc(validate(sheet), "SMD"), "outcome", "REML", "knha")["pooled"]
    theirs = stratified(premeta.escalc(validate(hand), "SMD"), "outcome", "REML", "knha")["pooled"]
    cols = ["k", "estimate", "se", "ci_low", "ci_high", "tau2", "i2"]
    np.testing.assert_allclose(ours[cols].astype(float), theirs[cols].astype(float), rtol=1e-12, atol=1e-14)


def cli(*args, cwd=None):
    return subprocess.run([PREMETA, *args], capture_output=True, text=True, check=False, cwd=cwd)


def test_premeta_template_validate_pair(tmp_path):
    out = cli("template", "--format", "long", "-o", str(tmp_path / "groups.csv"))
    assert out.returncode == 0
    assert (tmp_path / "groups.csv").read_text().startswith("study,experiment,outcome,time,group,role,mean,sd,sem,n")
    dictionary = pd.read_csv(tmp_path / "groups_dictionary.csv")
    assert "role" in set(dictionary.column) and dictionary.meaning.str.contains("'sham'").any()
    assert cli("template", "-o", str(tmp_path / "wide.csv")).returncode == 0
    assert (tmp_path / "wide.csv").read_text().startswith("study,outcome,mechanism,comparison")
    out = cli("validate", str(EXAMPLE))
    assert out.returncode == 0 and "(syrf format: 48 rows paired into comparisons)" in out.stdout
    out = cli("pair", str(SIMULATED), "-o", str(tmp_path / "comparisons.csv"))
    assert out.returncode == 0 and "12 rows: " in out.stdout and "2 excluded" in out.stdout
    assert len(pd.read_csv(tmp_path / "comparisons.csv")) == 3
    assert len(pd.read_csv(tmp_path / "comparisons_pairing.csv")) == 12
    for command in ("validate", "template", "pair", "run"):
        assert "examples:" in cli(command, "--help").stdout


def test_a_syrf_export_through_premeta_run(tmp_path):
    for name in ("Snakefile",):
        (tmp_path / name).write_text((REPO / name).read_text().replace('"workflow/', f'"{REPO}/workflow/'))
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text((REPO / "config" / "config.yaml").read_text())
    out = cli("run", "--config", f"data={EXAMPLE}", "permutations=20", "analyses=[dependence]", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == f"Report: {tmp_path / 'results' / 'report.html'}"
    pairing = pd.read_csv(tmp_path / "results" / "pairing.csv")
    assert len(pairing) == 48
    assert len(pd.read_csv(tmp_path / "results" / "sheet_from_syrf.csv")) == 17
    html = (tmp_path / "results" / "report.html").read_text()
    assert "Pairing of groups into comparisons" in html and "2 candidate controls" in html


def test_group_by_an_annotation_question(tmp_path):
    run(tmp_path, "--config", f"data={SIMULATED}", "group_by=Pain model", "permutations=20", "analyses=[dependence]")
    pooled = pd.read_csv(tmp_path / "results" / "pooled.csv")
    assert list(pooled.group) == ["CCI", "SNI", "overall"] and list(pooled.k) == [2, 1, 3]


HEADER = ("StudyId,CohortLabel,NumberOfAnimals,IsDiseaseModelControl,IsTreatmentControl,OutcomeLabel,"
          "GreaterIsWorse,TimeInMinutes,OutcomeAverage,OutcomeAverageType,OutcomeError,OutcomeErrorType\n")


def test_problems_name_the_exports_own_rows_and_columns(tmp_path):
    """Missing numbers, and the comparison sheet's rules (SD 0 in both arms, a shared control split
    below 2 animals), are reported at the export's spreadsheet row and column, all at once."""
    missing = tmp_path / "missing.csv"
    missing.write_text(HEADER + "s1,Veh,8,FALSE,TRUE,Imm,TRUE,60,10,mean,2,SD\n"
                                "s1,Drug,8,FALSE,FALSE,Imm,TRUE,60,,mean,2,SD\n"
                                "s1,Drug 2,8,FALSE,FALSE,Imm,TRUE,60,7,mean,,SEM\n"
                                "s1,Drug 3,8,FALSE,FALSE,Imm,TRUE,60,7,median,,IQR\n")  # excluded: no error
    out = cli("validate", str(missing))
    assert out.returncode == 1 and out.stderr.splitlines()[1:] == [
        f"  {missing}: row 3, column 'OutcomeAverage', value None: is missing",
        f"  {missing}: row 4, column 'OutcomeError', value None: is missing"]
    paired = tmp_path / "paired.csv"
    paired.write_text(HEADER + "s1,Veh,8,FALSE,TRUE,Imm,TRUE,60,10,mean,0,SD\n"
                               "s1,Drug,8,FALSE,FALSE,Imm,TRUE,60,7,mean,0,SD\n"
                               "s2,Veh,3,FALSE,TRUE,Imm,TRUE,60,10,mean,1,SD\n"
                               "s2,Low,8,FALSE,FALSE,Imm,TRUE,60,7,mean,1,SD\n"
                               "s2,High,8,FALSE,FALSE,Imm,TRUE,60,7,mean,1,SD\n")
    out = cli("pair", str(paired), "-o", str(tmp_path / "comparisons.csv"))
    lines = out.stderr.splitlines()
    assert out.returncode == 1 and len(lines) == 3 and not (tmp_path / "comparisons.csv").exists()
    assert lines[1].startswith(f"  {paired}: row 2, column 'OutcomeError', value 0: SD is 0 in both groups")
    assert lines[1].endswith("(in comparison 'Drug vs Veh')")
    assert lines[2].startswith(f"  {paired}: row 4, column 'NumberOfAnimals', value 3: control group 'Veh' of "
                               "study 's2' has n = 3 shared by 2 comparisons (rows 5, 6)")
    assert lines[2].endswith("(in comparisons 'Low vs Veh', 'High vs Veh')")
    # the workflow stops on the same problems before writing anything
    run_out = run(tmp_path / "wf", "--config", f"data={paired}", check=False)
    assert run_out.returncode != 0 and "row 4, column 'NumberOfAnimals', value 3" in run_out.stderr
    assert not (tmp_path / "wf" / "results").exists()


def test_long_sheet_missing_numbers(tmp_path):
    sheet = tmp_path / "groups.csv"
    sheet.write_text("study,outcome,group,role,mean,sd,sem,n,better\nS1,O,Veh,control,1,,,8,higher\n"
                     "S1,O,D,treatment,,1,,8,higher\nS1,O,D2,treatment,2,x,,,higher\n")
    out = cli("validate", str(sheet))
    assert out.returncode == 1 and out.stderr.splitlines()[1:] == [
        f"  {sheet}: row 2, column 'sd', value None: is missing: give the group's sd or sem",
        f"  {sheet}: row 3, column 'mean', value None: is missing",
        f"  {sheet}: row 4, column 'n', value None: is missing",
        f"  {sheet}: row 4, column 'sd', value 'x': must be a number"]


def test_long_template_is_the_commands(tmp_path):
    assert cli("template", "--format", "long", "-o", str(tmp_path / "g.csv")).returncode == 0
    assert (tmp_path / "g.csv").read_text().splitlines() == (REPO / "data" / "template_long.csv").read_text().splitlines()


def test_a_long_sheet_through_the_workflow(tmp_path):
    """format: long (told from the header): paired into results/sheet_from_long.csv, every row's
    fate in results/pairing.csv and the report, pooled as the equivalent hand-made sheet."""
    groups = tmp_path / "groups.csv"
    groups.write_text(
        "study,experiment,outcome,time,group,role,mean,sd,sem,n,better,species\n"
        "Ash 2019,,Threshold,7,Vehicle,control,2.0,0.8,,12,higher,rat\n"
        "Ash 2019,,Threshold,7,Low speed,treatment,3.1,0.9,,6,higher,rat\n"
        "Ash 2019,,Threshold,7,High speed,treatment,3.9,1.0,,6,higher,rat\n"
        "Ash 2019,,Threshold,7,Sham,sham,6.0,0.7,,6,higher,rat\n"
        "Birch 2020,A,Threshold,14,Vehicle,control,1.8,,0.3,8,higher,mouse\n"
        "Birch 2020,A,Threshold,14,Running,treatment,2.9,,0.4,8,higher,mouse\n"
        "Birch 2020,B,Threshold,14,Swimming,treatment,2.5,,0.4,8,higher,mouse\n")
    run(tmp_path / "wf", "--config", f"data={groups}", "analyses=[dependence]", "group_by=outcome")
    results = tmp_path / "wf" / "results"
    pairing = pd.read_csv(results / "pairing.csv")
    assert pairing.status.tolist() == ["control", "paired", "paired", "sham", "control", "paired", "unpaired"]
    sheet = pd.read_csv(results / "sheet_from_long.csv")
    assert sheet.comparison.tolist() == ["Low speed vs Vehicle", "High speed vs Vehicle", "Running vs Vehicle"]
    assert sheet.sham_mean.tolist()[:2] == [6.0, 6.0] and sheet.species.tolist() == ["rat", "rat", "mouse"]
    hand = sheet.drop(columns="source_rows")
    hand.index = pd.RangeIndex(2, len(hand) + 2, name="row")
    theirs = stratified(premeta.escalc(validate(hand), "SMD"), "outcome", "REML", "knha")["pooled"]
    pooled = pd.read_csv(results / "pooled.csv")
    np.testing.assert_allclose(pooled[["estimate", "ci_low", "ci_high", "tau2"]].to_numpy(float),
                               theirs[["estimate", "ci_low", "ci_high", "tau2"]].to_numpy(float), rtol=1e-12)
    html = (results / "report.html").read_text()
    assert "Pairing of groups into comparisons" in html and "no control cohort for this outcome and time" in html
