"""From one row per group to one row per comparison: the SyRF export (the data dictionary's own
example rows, tests/data/syrf/) and one-row-per-group sheets; the `premeta` command."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import premeta
from helpers import REPO, run
from premeta.groups.pooling import stratified
from premeta.pairing import detect, load
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
    assert (imm.trt_mean, imm.trt_sd, imm.trt_n, imm.ctl_mean, imm.ctl_sd, imm.ctl_n) == (
        16.57, 2.06, 8, 22.45, 1.92, 8)
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
    assert by_row.at[11, "status"] == "not used"
    assert "sham (no disease model) cohort given the treatment" in by_row.at[11, "detail"]
    assert by_row.at[46, "status"] == "unpaired" and "2 candidate controls" in by_row.at[46, "detail"]
    assert by_row.at[18, "status"] == "unpaired"
    assert "the study has one in experiment 'Model + Saline'" in by_row.at[18, "detail"]
    # Wang 2011's sham (row 16) serves no comparison (its treated cohort, row 17, has no control): not used
    assert by_row.at[16, "status"] == "not used"
    assert by_row.at[16, "detail"] == "no comparison made at this outcome and time to use it"
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
                rows.append(key | {"group": f"Dose {t}", "role": "treatment", "mean": trt[0], "sd": trt[1],
                                   "n": trt[2]})
                hand.append({"study": key["study"], "comparison": f"Dose {t} vs Vehicle", "outcome": key["outcome"],
                             "mechanism": key["outcome"],
                             "better": "higher", "time": 7, "control_group": "Vehicle",
                             "trt_mean": trt[0], "trt_sd": trt[1], "trt_n": trt[2],
                             "ctl_mean": ctl[0], "ctl_sd": ctl[1], "ctl_n": ctl[2]})
    return pd.DataFrame(rows), pd.DataFrame(hand, index=pd.RangeIndex(2, len(hand) + 2, name="row"))


arm = st.tuples(st.floats(0, 10, allow_nan=False), st.floats(0.5, 3), st.integers(6, 12))  # n / 3 >= 2
outcome = st.tuples(st.integers(1, 3), st.booleans(), st.lists(arm, min_size=4, max_size=4))


@pytest.mark.slow
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


@pytest.mark.slow
def test_premeta_template_validate_pair(tmp_path):
    out = cli("template", "--format", "long", "-o", str(tmp_path / "groups.csv"))
    assert out.returncode == 0
    assert (tmp_path / "groups.csv").read_text().startswith("study,experiment,outcome,time,group,role,mean,sd,sem,n")
    dictionary = pd.read_csv(tmp_path / "groups_dictionary.csv")
    assert "role" in set(dictionary.column) and dictionary.meaning.str.contains("'sham'").any()
    assert cli("template", "-o", str(tmp_path / "wide.csv")).returncode == 0
    assert (tmp_path / "wide.csv").read_text().startswith("study,outcome,mechanism,comparison")
    out = cli("validate", str(EXAMPLE))
    assert out.returncode == 0 and ("(syrf format: 48 rows: 17 paired, 11 control, 10 unpaired, 7 not used, 3 sham; "
                                    "17 comparisons made)") in out.stdout
    assert "17 rows set aside (in the pairing table):" in out.stdout
    assert ("  row 46 (unpaired): Petryshen 2016, FST/Ket 10, FST Immobility: 2 candidate controls "
            "('FST/Sal (Ket 10)', 'FST/Sal (Ket 3)')"
            in out.stdout), out.stdout
    out = cli("pair", str(SIMULATED), "-o", str(tmp_path / "comparisons.csv"))
    assert out.returncode == 0 and "12 rows: " in out.stdout and "2 excluded" in out.stdout
    assert ("  row 12 (excluded): Simulated 2021, SNI/High speed, Thermal withdrawal latency: the error is an IQR"
            in out.stdout)
    out = cli("template", "--format", "long", "-o", str(tmp_path / "groups.csv"))  # a filled-in sheet is kept
    assert out.returncode == 1 and out.stderr == (
        f"premeta: {tmp_path / 'groups.csv'} and {tmp_path / 'groups_dictionary.csv'} already exist: not overwritten "
        "(it may be a filled-in sheet); choose another name with -o, or replace it with --force\n")
    (tmp_path / "groups.csv").write_text("study,group\nfilled in,Vehicle\n")
    assert cli("template", "-o", str(tmp_path / "groups.csv")).returncode == 1
    assert (tmp_path / "groups.csv").read_text() == "study,group\nfilled in,Vehicle\n"
    assert cli("template", "-o", str(tmp_path / "groups.csv"), "--force").returncode == 0
    assert (tmp_path / "groups.csv").read_text().startswith("study,outcome,mechanism,comparison")
    assert len(pd.read_csv(tmp_path / "comparisons.csv")) == 3
    assert len(pd.read_csv(tmp_path / "comparisons_pairing.csv")) == 12
    for command in ("validate", "template", "pair", "run"):
        assert "examples:" in cli(command, "--help").stdout


@pytest.mark.workflow
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


@pytest.mark.workflow
def test_group_by_an_annotation_question(tmp_path):
    run(tmp_path, "--config", f"data={SIMULATED}", "group_by=Pain model", "permutations=20", "analyses=[dependence]")
    pooled = pd.read_csv(tmp_path / "results" / "pooled.csv")
    assert list(pooled.group) == ["CCI", "SNI", "overall"] and list(pooled.k) == [2, 1, 3]


HEADER = ("StudyId,CohortLabel,NumberOfAnimals,IsDiseaseModelControl,IsTreatmentControl,OutcomeLabel,"
          "GreaterIsWorse,TimeInMinutes,OutcomeAverage,OutcomeAverageType,OutcomeError,OutcomeErrorType\n")


@pytest.mark.workflow
def test_problems_name_the_exports_own_rows_and_columns(tmp_path):
    """Missing numbers, and the comparison sheet's rules (SD 0 in both arms, an SMD without degrees of
    freedom), are reported at the export's spreadsheet row and column, all at once."""
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
                               "s2,Veh,1,FALSE,TRUE,Imm,TRUE,60,10,mean,1,SD\n"
                               "s2,Low,1,FALSE,FALSE,Imm,TRUE,60,7,mean,1,SD\n"
                               "s2,High,1,FALSE,FALSE,Imm,TRUE,60,7,mean,1,SD\n")
    out = cli("pair", str(paired), "-o", str(tmp_path / "comparisons.csv"))
    lines = out.stderr.splitlines()
    assert out.returncode == 1 and len(lines) == 3 and not (tmp_path / "comparisons.csv").exists()
    assert lines[1].startswith(f"  {paired}: row 2, column 'OutcomeError', value 0: SD is 0 in both groups")
    assert lines[1].endswith("(in comparison 'Drug vs Veh')")
    assert lines[2].startswith(f"  {paired}: row 4, column 'NumberOfAnimals', value 1: Hedges' df")
    assert lines[2].endswith("(in comparisons 'Low vs Veh', 'High vs Veh')")
    # the workflow stops on the same problems before writing anything
    run_out = run(tmp_path / "wf", "--config", f"data={paired}", check=False)
    assert run_out.returncode != 0 and "row 4, column 'NumberOfAnimals', value 1: Hedges' df" in run_out.stderr
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
    assert ((tmp_path / "g.csv").read_text().splitlines()
            == (REPO / "data" / "template_long.csv").read_text().splitlines())


@pytest.mark.workflow
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


GROUPS = REPO / "tests" / "sheets" / "groups"


def test_experiments_sharing_a_label_are_paired_by_their_ids():
    """Two experiments of one study both labelled "Behaviour" (ExperimentIds e-first, e-second): each
    treated cohort with its own experiment's control, not two candidates for both."""
    sheet, pairing, _ = load(GROUPS / "simulated_syrf_shared_experiment_label.csv")
    assert pairing.status.tolist() == ["control", "paired", "control", "paired"]
    assert sheet.source_rows.tolist() == ["3;2", "5;4"]
    assert sheet.control_group.tolist() == ["Behaviour (e-first) / CCI/Vehicle", "Behaviour (e-second) / CCI/Vehicle"]
    assert (sheet.ctl_n.tolist(), sheet.ctl_mean.tolist()) == ([8, 6], [2.0, 1.8])
    effects = premeta.escalc(validate(sheet), "SMD")
    assert (effects.shared_m == 1).all()  # two controls, neither split


def test_study_labels_from_authors_title_or_id_and_kept_apart():
    """"Probe J, Other K" (PubMed) and "J. Probe and K. Other" both give "Probe 2014"; their StudyIds
    share their first 13 characters, so the labels carry 13; a study without Authors is named by its title."""
    sheet, pairing, _ = load(GROUPS / "simulated_syrf_study_labels.csv")
    assert sheet.study.tolist() == ["Probe 2014 (3f2a9c41-0001)", "Probe 2014 (3f2a9c41-0002)",
                                    "Voluntary wheel running in a pain ... 2016"]
    assert pairing.study.nunique() == 3 and (pairing.status != "unpaired").all()
    from premeta.pairing import _surname

    assert [_surname(a) for a in ("Smith J, Doe K", "J. Smith and K. Doe", "Smith, J.; Doe, K.",
                                  "L. S. Garcia, C. Comim", "van der Berg AB, Doe K", "KRASAVIN M :LUKIN A", None,
                                  "")] == ["Smith", "Smith", "Smith", "Garcia", "van der Berg", "KRASAVIN", "", ""]
    example, _, _ = load(EXAMPLE)
    assert {"Li 2014 (84502c8f)", "Li 2014 (bd3c8505)", "Garcia 2008"} <= set(example.study)


def test_flags_in_any_spelling_and_blank_flags_named():
    sheet, pairing, _ = load(GROUPS / "simulated_syrf_flag_spellings.csv")  # 1/0, yes/no, true/false, any case
    assert pairing.role.tolist() == ["sham", "control", "treatment", "treatment"]
    assert sheet.sham_mean.tolist() == [6.0, 6.0] and (sheet.better == "higher").all()
    out = cli("validate", str(GROUPS / "simulated_syrf_blank_flag.csv"))
    path = GROUPS / "simulated_syrf_blank_flag.csv"
    assert out.returncode == 1 and "Traceback" not in out.stderr and out.stderr.splitlines()[1:] == [
        f"  {path}: row 2, column 'IsTreatmentControl', value None: is empty: give TRUE or FALSE",
        f"  {path}: row 3, column 'IsDiseaseModelControl', value None: is empty: give TRUE or FALSE",
        f"  {path}: row 4, column 'IsTreatmentControl', value 'maybe': must be TRUE or FALSE (also 1/0 or yes/no; "
        "several separated by ';')"]


@pytest.mark.slow
@pytest.mark.parametrize("name, lines", [
    ("simulated_syrf_duplicate_annotation.csv", ["row 1, column 'Blinded assessment?', value 'Blinded assessment?': "
                                                 "the column appears twice (columns U, W): keep one"]),
    ("simulated_long_repeated_header.csv", ["row 1, column 'sd', value 'sd': the column appears twice (columns G, J): "
                                            "keep one"]),
    ("simulated_long_duplicate_row.csv", ["row 5, column 'group', value 'Treadmill': the same group, outcome and time "
                                          "as row 3: a row entered twice? Delete one, or tell the groups apart"]),
    ("simulated_syrf_duplicate_row.csv", ["row 4, column 'CohortLabel', value 'CCI/Treadmill': the same cohort, "
                                          "outcome and time point as row 3: a row entered twice? Delete one, or tell "
                                          "the groups apart"]),
    ("simulated_long_label_case.csv", ["row 3, column 'experiment', value 'behaviour': differs from 'Behaviour' "
                                       "(row 2) only in case: write them the same if they are one, or tell them apart "
                                       "in words"]),
    ("simulated_syrf_label_case.csv", [  # no ExperimentId or OutcomeAverageType columns: labels key the pairing
        "row 3, column 'ExperimentLabel', value 'behaviour': differs from 'Behaviour' (row 2) only in case: write "
        "them the same if they are one, or tell them apart in words",
        "row 4, column 'OutcomeLabel', value 'withdrawal': differs from 'Withdrawal' (row 2) only in case: write them "
        "the same if they are one, or tell them apart in words",
        "row 5, column 'OutcomeLabel', value 'withdrawal': differs from 'Withdrawal' (row 2) only in case: write them "
        "the same if they are one, or tell them apart in words"]),
])
def test_group_sheets_refused_with_file_row_column(tmp_path, name, lines):
    path = GROUPS / name
    for command in (("validate", str(path)), ("pair", str(path), "-o", str(tmp_path / "out.csv"))):
        out = cli(*command)
        assert out.returncode == 1 and out.stdout == "" and "Traceback" not in out.stderr
        assert out.stderr.splitlines()[1:] == [f"  {path}: {line}" for line in lines]
    assert not (tmp_path / "out.csv").exists()


def test_blanks_in_labels_are_one_label():
    """A trailing space, two spaces and a no-break space do not make a second study, outcome or group."""
    sheet, pairing, _ = load(GROUPS / "simulated_long_label_blanks.csv")
    assert pairing.status.tolist() == ["control", "paired", "paired"]
    assert set(sheet.study) == {"Probe G 2019 (simulated)"} and set(sheet.outcome) == {"Withdrawal threshold"}
    assert sheet.control_group.tolist() == ["Behaviour / Vehicle"] * 2


@pytest.mark.parametrize("name, means, times", [
    ("simulated_syrf_decimal_comma.csv", [3.5, 2.75], [7.0, 4320.5 / 1440]),
    ("simulated_long_decimal_comma.csv", [3.5], [7.5]),
])
def test_decimal_commas_in_group_sheets(name, means, times):
    sheet, pairing, _ = load(GROUPS / name)
    assert sheet.trt_mean.tolist() == means and sheet.time.tolist() == times
    assert sheet.attrs["source"].describe() == "semicolon-separated text, UTF-8, decimal comma"
    out = cli("validate", str(GROUPS / name))
    assert out.returncode == 0 and "decimal comma" in out.stdout.splitlines()[0]


def group_sheets():
    """Every SyRF export and long sheet under tests/ and data/ that premeta reads without a problem."""
    from premeta.errors import ReadError, SheetError

    found = []
    candidates = [*(REPO / "tests").rglob("*.csv"), *(REPO / "tests").rglob("*.xlsx"), *(REPO / "data").rglob("*.csv")]
    for path in sorted(candidates):
        try:
            fmt = detect(path)
            if fmt != "wide":
                load(path, fmt)
                found.append(path)
        except (ReadError, SheetError, ValueError):
            continue
    return found


def test_every_row_of_every_group_sheet_is_accounted_for():
    """rows in = treated rows paired + control and sham rows used + rows set aside with a reason."""
    from premeta.files import read_table

    sheets = group_sheets()
    assert {EXAMPLE, SIMULATED, GROUPS / "simulated_syrf_shared_experiment_label.csv",
            GROUPS / "simulated_long_label_blanks.csv"} <= set(sheets)
    for path in sheets:
        sheet, pairing, _ = load(path)
        _, rows, _ = read_table(path)
        filled = [n for n, r in enumerate(rows, start=2) if any(str(c or "").strip() for c in r)]
        assert pairing.row.tolist() == filled, path  # one pairing row per input row, in order
        used = [int(x) for v in sheet.source_rows for x in str(v).split(";")]
        treated = {int(str(v).split(";")[0]) for v in sheet.source_rows}
        by_status = pairing.groupby("status").row.apply(set)
        assert by_status.get("paired", set()) == treated and len(treated) == len(sheet), path
        assert by_status.get("control", set()) | by_status.get("sham", set()) == set(used) - treated, path
        aside = pairing[pairing.status.isin(["unpaired", "excluded", "not used"])]
        assert (aside.detail.str.len() > 10).all(), path
        assert len(treated) + len(set(used) - treated) + len(aside) == len(filled), path


def test_a_sheet_where_nothing_pairs_names_each_rows_reason(tmp_path):
    """No treated group with a control: every row's reason in the error (the pairing table is not
    written, so the message cannot send the reviewer there)."""
    from premeta.errors import SheetError
    from premeta.pairing import read_groups

    path = tmp_path / "groups.csv"
    pd.DataFrame({"study": ["A", "A", "B"], "outcome": "o", "group": ["sham", "vehicle", "drug"],
                  "role": ["control", "control", "treatment"], "mean": [1.0, 2.0, 3.0], "sd": 1.0, "n": 6,
                  "better": "higher"}).to_csv(path, index=False)
    with pytest.raises(SheetError) as error:
        read_groups(path, "long")
    why = "no treated group could be paired with a control; this row: "
    assert [(p.row, p.column, p.value, p.rule) for p in error.value.problems] == [
        (2, "group", "sham", why + "not used, no treated cohort for this outcome and time"),
        (3, "group", "vehicle", why + "not used, no treated cohort for this outcome and time"),
        (4, "group", "drug", why + "unpaired, no control cohort for this outcome and time")]


def test_fractional_n_in_a_group_sheet_is_kept(tmp_path):
    """n may be fractional (a reported range's midpoint, 7.5; docs/sheets.md), in a long sheet as in a
    comparison sheet: the pairing keeps it (it failed with a pandas TypeError, casting n to whole numbers)."""
    path = tmp_path / "groups.csv"
    pd.DataFrame({"study": ["A", "A", "B", "B"], "outcome": "o", "group": ["vehicle", "drug"] * 2,
                  "role": ["control", "treatment"] * 2, "mean": [1.0, 2.0, 1.0, 3.0], "sd": 1.0,
                  "n": [7.5, 8.5, 8, 8], "better": "higher"}).to_csv(path, index=False)
    sheet, pairing, _ = load(path)
    assert sheet.trt_n.tolist() == [8.5, 8.0] and sheet.ctl_n.tolist() == [7.5, 8.0]
    assert pairing.status.tolist() == ["control", "paired"] * 2
    effects = premeta.escalc(validate(sheet), "SMD")
    assert effects.yi.iloc[0] == premeta.effects.smd(2.0, 1.0, 8.5, 1.0, 1.0, 7.5)[0]
    whole, _, _ = load(GROUPS / "simulated_long_decimal_comma.csv")
    assert str(whole.trt_n.dtype) == "Int64"  # whole numbers stay whole in sheet_from_long.csv


def test_groups_compared_need_one_direction_of_benefit(tmp_path):
    """A control (or a second treated group) giving the outcome the other `better` was ignored without a
    word: each comparison took its treated group's, so one sign was silently chosen. Refused, naming both
    rows, in a long sheet and (`GreaterIsWorse`) in a SyRF export."""
    from premeta.errors import SheetError
    from premeta.pairing import read_groups

    path = tmp_path / "groups.csv"
    pd.DataFrame({"study": ["A", "A", "A", "B", "B"], "outcome": "o", "time": [7, 7, 7, 7, 14],
                  "group": ["vehicle", "drug", "drug 2", "vehicle", "drug"],
                  "role": ["control", "treatment", "treatment", "control", "treatment"], "mean": 1.0, "sd": 1.0,
                  "n": 6, "better": ["Lower", "higher", "lower", "higher", "lower"]}).to_csv(path, index=False)
    with pytest.raises(SheetError) as error:
        read_groups(path, "long")
    assert [(p.row, p.column, p.value, p.rule) for p in error.value.problems] == [
        (3, "better", "higher", "differs from row 2's 'Lower' for the same study, experiment, outcome and time: "
         "groups compared with one another need one direction of benefit; correct one of them")]  # B: two times
    export = pd.read_csv(SIMULATED, dtype=str, keep_default_na=False)
    first = export.index[(export.StudyId == export.StudyId[0]) & (export.OutcomeId == export.OutcomeId[0])
                         & (export.TimeInMinutes == export.TimeInMinutes[0])]
    assert len(first) > 1 and export.loc[first, "GreaterIsWorse"].nunique() == 1
    export.loc[first[1], "GreaterIsWorse"] = "TRUE" if export.GreaterIsWorse[0] == "FALSE" else "FALSE"
    export.to_csv(path, index=False)
    with pytest.raises(SheetError) as error:
        read_groups(path, "syrf")
    assert [(p.row, p.column) for p in error.value.problems] == [(first[1] + 2, "GreaterIsWorse")]


def test_na_is_a_missing_number_in_group_sheets_as_in_the_comparison_sheet(tmp_path):
    """`NA` (R's write.csv) in a number column is missing, as the one-row-per-comparison sheet reads it:
    a long sheet's `sd` of NA beside its `sem` was refused with "must be a number"; a SyRF export's NA
    error is named as missing. A label "NA" stays a label."""
    from premeta.errors import SheetError
    from premeta.pairing import read_groups

    path = tmp_path / "groups.csv"
    path.write_text("study,outcome,time,group,role,mean,sd,sem,n,better\nNA,o,NA,vehicle,control,1,NA,0.5,8,higher\n"
                    "NA,o,NA,drug,treatment,2,NA,0.5,8,higher\n")
    sheet, pairing = read_groups(path, "long")
    assert sheet.study.tolist() == ["NA"] and "time" not in sheet
    assert (sheet.trt_sem.tolist(), sheet.ctl_sem.tolist(), "trt_sd" in sheet) == ([0.5], [0.5], False)
    export = pd.read_csv(SIMULATED, dtype=str, keep_default_na=False)
    export.loc[0, "OutcomeError"] = "NA"
    export.to_csv(path, index=False)
    with pytest.raises(SheetError) as error:
        read_groups(path, "syrf")
    assert [(p.row, p.column, p.value, p.rule) for p in error.value.problems] == [
        (2, "OutcomeError", None, "is missing")]


def test_pair_keeps_an_existing_comparison_sheet_and_the_input(tmp_path, capsys):
    """`premeta pair` overwrote its output without a word: the comparisons a reviewer checked and edited
    (as its help says to), or with `-o` naming the input, the sheet being paired itself."""
    from premeta.cli import main

    groups = tmp_path / "groups.csv"
    groups.write_text("study,outcome,group,role,mean,sd,n,better\nA,o,veh,control,1,1,8,higher\n"
                      "A,o,drug,treatment,2,1,8,higher\n")
    before = groups.read_text()
    out = tmp_path / "comparisons.csv"
    assert main(["pair", str(groups), "-o", str(groups)]) == 1 and groups.read_text() == before
    assert capsys.readouterr().err == (f"premeta: -o {groups} would overwrite the sheet being paired, {groups}: "
                                       "choose another name\n")
    assert main(["pair", str(groups), "-o", str(tmp_path / "comparisons.xlsx")]) == 1
    assert not (tmp_path / "comparisons.xlsx").exists() and "name it .csv" in capsys.readouterr().err
    assert main(["pair", str(groups), "-o", str(out)]) == 0
    out.write_text(out.read_text().replace("drug vs veh", "Drug (checked) vs veh"))  # the reviewer's edit
    edited = out.read_text()
    assert main(["pair", str(groups), "-o", str(out)]) == 1 and out.read_text() == edited
    assert capsys.readouterr().err.endswith(
        f"premeta: {out} and {tmp_path / 'comparisons_pairing.csv'} already exist: not overwritten (the comparisons "
        "may have been checked and edited); choose another name with -o, or replace them with --force\n")
    assert main(["pair", str(groups), "-o", str(out), "--force"]) == 0 and "drug vs veh" in out.read_text()


def test_template_is_written_only_under_a_csv_name(tmp_path, capsys):
    """`premeta template -o sheet.xlsx` wrote CSV text named .xlsx, which no spreadsheet program opens as a
    workbook and `premeta validate` refuses."""
    from premeta.cli import main

    assert main(["template", "-o", str(tmp_path / "sheet.xlsx")]) == 1 and not list(tmp_path.iterdir())
    assert capsys.readouterr().err.startswith(f"premeta: -o {tmp_path / 'sheet.xlsx'}: the sheet is written as CSV: "
                                              "name it .csv")
    assert main(["template", "--format", "long", "-o", str(tmp_path / "groups.CSV")]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["groups.CSV", "groups_dictionary.csv"]


def test_a_group_sheets_number_with_a_pdfs_minus_sign_says_why(tmp_path):
    from premeta.errors import SheetError
    from premeta.pairing import read_groups

    path = tmp_path / "groups.csv"
    path.write_text("study,outcome,group,role,mean,sd,n,better\nA,o,veh,control,\u20131.2,1,8,higher\n"
                    "A,o,drug,treatment,2,1,8,higher\n", encoding="utf-8")
    with pytest.raises(SheetError) as error:
        read_groups(path, "long")
    assert [p.rule for p in error.value.problems] == [
        "must be a number: its minus is '\u2013' (U+2013, as copied from a PDF), not the keyboard's '-'; retype it"]
