"""The multiverse of analytic choices (premeta.multiverse) against metafor, clubSandwich and robumeta.

Reference: tests/reference/metafor_multiverse.json, written by make_multiverse_fixtures.R on the
group-level sheet of the open replication of Reis et al. (2019), data/minocycline/minocycline_sheet.csv
(CC BY 4.0), each experiment (exp_id) a cohort; the estimates adjusted for publication bias by metafor's
PET-PEESE meta-regressions and selmodel.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import EVERY_ANALYSIS, SHEET, close, run

import premeta
from premeta import rob
from premeta.groups.multiverse_analysis import MULTIVERSE_COLUMNS, SUMMARY_COLUMNS, combine, read_chunk, summary
from premeta.effects import checked
from premeta.sheet import read_sheet, validate

ROOT = Path(__file__).resolve().parents[1]
REF = json.loads((Path(__file__).parent / "reference" / "metafor_multiverse.json").read_text())
KEYS = ["group", "measure", "method", "test", "dependence", "adjustment", "inclusion"]
NUMBERS = ["k", "estimate", "se", "stat", "df", "p", "ci_low", "ci_high", "tau2", "i2", "q", "q_p"]
CHOICES = {"measure": ["SMD", "MD"], "method": ["REML", "DL", "PM"], "test": ["z", "knha"],
           "dependence": ["none", "aggregate", "multilevel", "rve"],
           "inclusion": ["all", "no_influential", "no_single"]}
PRIMARY = {"measure": "SMD", "method": "REML", "test": "knha", "dependence": "multilevel"}


@pytest.fixture(scope="module")
def minocycline():
    sheet = read_sheet(ROOT / "data" / "minocycline" / "minocycline_sheet.csv")
    sheet = validate(sheet, file="minocycline_sheet.csv", measure="SMD", orient="benefit")
    return sheet.assign(cohort=sheet["exp_id"])


@pytest.fixture(scope="module")
def table(minocycline):
    return premeta.multiverse(minocycline, CHOICES, rho=REF["rho"])


@pytest.fixture(scope="module")
def bundled():
    sheet = checked(SHEET)[0]
    return sheet, premeta.multiverse(sheet, {"measure": ["SMD", "NMD", "MD"], "method": ["REML"], "test": ["knha"],
                                             "dependence": ["none", "multilevel"]})


def test_matches_metafor(table):
    """Every unadjusted specification metafor computed: rma, aggregate and robu to 1e-9; the three-level
    model, whose flat REML surface metafor's optimisers leave about 1e-7 from the maximum, to 1e-6."""
    ref = pd.DataFrame(REF["specifications"])
    ref = ref[ref.adjustment == "none"].set_index(KEYS)
    ours = table.set_index(KEYS).loc[ref.index]
    agg = ours.index.get_level_values("dependence") == "aggregate"
    ours["k"] = ours["k"].where(~agg, ours["clusters"])  # metafor's k of the aggregated data: the cohorts
    assert len(ref) == 168 and (ours["note"].str.contains("could not|not computed") == False).all()  # noqa: E712
    multilevel = ours.index.get_level_values("dependence") == "multilevel"
    for col in NUMBERS:
        close(ours[col][multilevel], ref[col][multilevel].to_numpy(), rtol=1e-6)
        close(ours[col][~multilevel], ref[col][~multilevel].to_numpy(), rtol=1e-9)


def test_adjusted_estimates_match_metafor(table):
    """PET-PEESE (Stanley's WLS, the modified SE for SMD, the SE for MD) and the step-function selection
    model in the direction of the common-effect estimate, as metafor computes them (the selection model
    polished to its optimum as in make_selmodel_fixtures.R), at 1e-6: every group, measure and inclusion."""
    ref = pd.DataFrame(REF["specifications"])
    ref = ref[ref.adjustment != "none"].set_index(KEYS)
    ours = table.set_index(KEYS).loc[ref.index]
    assert len(ref) == 24 and "error" not in ref  # metafor fitted every one
    for col in ("k", "estimate", "se", "stat", "p", "ci_low", "ci_high", "tau2"):
        close(ours[col], ref[col].to_numpy(float), rtol=1e-6)
    pet = ours.index.get_level_values("adjustment") == "pet_peese"
    close(ours["df"][pet], ref["df"][pet].to_numpy(float))
    assert ours["df"][~pet].isna().all() and ours["i2"].isna().all() and ours["q"].isna().all()
    assert (ours["clusters"] == ours["k"]).all() and ours["converged"].astype(bool).all()
    chosen = ours["note"][pet].str.extract(r"PET-PEESE chose (PEESE|PET), precision (.*)$")
    assert (chosen[0] == ref["chosen"][pet]).all() and "PEESE" in set(chosen[0])
    smd = ours.index.get_level_values("measure")[pet] == "SMD"
    assert (chosen[1][smd] == "modified SE sqrt(1/n1 + 1/n2)").all() and (chosen[1][~smd] == "SE").all()
    side = ours["note"][~pet].str.extract(r"selection model: alternative (\w+)")[0]
    assert (side == ref["alternative"][~pet]).all()


def test_adjusted_estimates_are_one_specification_per_measure_and_inclusion():
    specs = premeta.specifications()
    assert len(specs) == 240 and len(premeta.specifications(CHOICES)) == 96
    adjusted = specs[specs.adjustment != "none"]
    assert (adjusted.dependence == "none").all() and len(adjusted) == 3 * 2 * 5
    assert set(map(tuple, adjusted[["adjustment", "method", "test"]].to_numpy())) == {
        ("pet_peese", "FE", "knha"), ("selmodel", "ML", "z")}
    assert list(specs.columns[1:]) == ["measure", "method", "test", "dependence", "adjustment", "inclusion"]
    only = premeta.specifications({"adjustment": ["selmodel"]})
    assert len(only) == 3 * 5 and set(only.dependence) == {"none"}
    with pytest.raises(ValueError, match="no specification: an adjustment other than none is combined with "
                                         "dependence none only, and dependence is multilevel"):
        premeta.specifications({"dependence": ["multilevel"], "adjustment": ["pet_peese"]})


def test_adjusted_estimates_of_too_few_comparisons_say_why(table):
    """A group of 2 comparisons (Splash test) keeps its adjusted rows with the reason; a group
    with several strata refused in one stacked call gets each stratum's own reason."""
    splash = table[(table.group == "Splash test") & (table.measure == "SMD") & (table.inclusion == "all")
                   & (table.dependence == "none")].set_index("adjustment")
    assert splash.at["pet_peese", "note"].startswith("PET-PEESE needs at least 3 studies, got k = 2")
    assert splash.at["selmodel", "note"].startswith("k = 2: too few studies for the selection model's 3 parameters")
    assert splash.loc[["pet_peese", "selmodel"], "estimate"].isna().all()
    assert splash.loc["none", "estimate"].notna().all()  # 2 comparisons: rma pools them
    # x: 2 comparisons; y: 3, every one significant (no p-value above the step at 0.025): both refused
    sheet = pd.DataFrame({"study": ["a", "b", "c", "d", "e"], "outcome": "latency (s)",
                          "mechanism": ["x", "x", "y", "y", "y"], "better": "higher",
                          "trt_mean": [5.0, 6.1, 8.0, 9.0, 8.5], "trt_sd": 1.0, "trt_n": [8, 9, 10, 8, 12],
                          "ctl_mean": 4.0, "ctl_sd": 1.2, "ctl_n": 8})
    t = premeta.multiverse(validate(sheet), {"measure": ["SMD"], "dependence": ["none"],
                                             "adjustment": ["selmodel", "pet_peese"], "inclusion": ["all"]})
    t = t.set_index(["group", "adjustment"])
    assert t.at[("x", "selmodel"), "note"] == (
        "k = 2: too few studies for the selection model's 3 parameters (metafor: 'Number of studies (k=2) is too "
        "small to fit the selection model')")
    assert t.at[("y", "selmodel"), "note"].startswith("no p-value in the interval 0.025 < p <= 1")
    assert t.at[("x", "pet_peese"), "note"].startswith("PET-PEESE needs at least 3 studies, got k = 2")
    assert np.isfinite(t.at[("y", "pet_peese"), "estimate"])


def test_every_specification_is_one_row(table):
    assert list(table.columns) == MULTIVERSE_COLUMNS
    specs = premeta.specifications(CHOICES)
    assert len(specs) == 2 * (2 * 6 + 2 + 2) * 3 == len(table) / table["group"].nunique()
    assert table["group"].tolist() == sorted(table["group"])  # groups sorted, then specifications
    assert not table.duplicated(["group", "specification"]).any()
    # multilevel and RVE fix their own estimator and test: no duplicated specification
    assert set(map(tuple, specs.loc[specs.dependence == "rve", ["method", "test"]].to_numpy())) == {("MoM", "CR2")}


def test_groups_that_cannot_be_fitted_say_why(table):
    by = table.set_index(KEYS)["note"]
    assert by["Forced swim", "MD", "REML", "z", "none", "none", "all"] == (
        "outcomes in different units: 2 outcomes and no unit column to tell they share one")
    assert by["Social interaction", "SMD", "REML", "z", "none", "none", "all"] == (
        "1 comparison in the group: nothing to pool")
    one = table[table.group == "Social interaction"]
    assert one["estimate"].isna().all() and (one["note"] != "").all()
    splash = table[(table.group == "Splash test") & (table.dependence == "rve") & (table.inclusion == "all")]
    # the primary analysis' own rule (groups.pooling.rve_row): RVE needs 2 studies, not nested comparisons
    assert (splash["note"] == "one study: robust variance estimation needs at least 2").all()


def test_rules_without_effect_are_marked_duplicate(table):
    t = table[(table.group == "Tail suspension") & (table.measure == "SMD") & (table.dependence == "none")
              & (table.adjustment == "none")]
    dup = t[t.duplicate]
    assert (dup.inclusion != "all").all()
    base = t[t.inclusion == "all"].set_index(["method", "test"])
    for r in dup.itertuples():
        assert r.estimate == base.at[(r.method, r.test), "estimate"]


def test_chunks_are_the_whole_table_bit_for_bit(minocycline, table):
    parts = [premeta.multiverse(minocycline, CHOICES, rho=REF["rho"], chunk=(i, 3)) for i in range(3)]
    assert sum(map(len, parts)) == len(table)
    pd.testing.assert_frame_equal(combine(parts), table, check_exact=True)


@pytest.mark.workflow
def test_low_risk_of_bias_and_nmd_on_the_bundled_sheet(bundled):
    sheet, t = bundled
    e = premeta.escalc(sheet, "SMD")
    low = rob.low_risk(e, rob.per_study(sheet))
    low = low[low["mechanism"] == "Microglia"]
    row = t.set_index(KEYS).loc["Microglia", "SMD", "REML", "knha", "none", "none", "low_rob"]
    expected = premeta.rma(low["yi"], low["vi"], method="REML", test="knha").iloc[0]
    assert row["k"] == len(low) == 3
    close(row[["estimate", "se", "p", "tau2"]], expected[["estimate", "se", "p", "tau2"]], rtol=1e-12)
    nmd = t[(t.measure == "NMD") & (t.inclusion == "all") & (t.dependence == "none") & (t.adjustment == "none")]
    assert nmd["estimate"].notna().all()  # every bundled group has sham data
    md = t[(t.measure == "MD") & (t.inclusion == "all") & (t.dependence == "none")
           & (t.adjustment == "none")].set_index("group")
    assert md.at["Behaviour", "note"].startswith("outcomes in different units")
    assert np.isfinite(md.at["Microglia", "estimate"])


def test_no_rob_columns_is_a_note_not_an_error(table):
    low = premeta.multiverse(read_sheet(ROOT / "data" / "minocycline" / "minocycline_sheet.csv").pipe(
        validate, measure="SMD"), {"inclusion": ["low_rob"], "measure": ["SMD"], "method": ["DL"], "test": ["z"],
                                   "dependence": ["none"]})
    assert (low["note"] == "the sheet has no rob_sequence and rob_blinding_assessor columns: risk of bias "
                           "cannot be judged").all()


def test_summary_verdicts(table):
    s = summary(table, PRIMARY)
    assert list(s.columns) == SUMMARY_COLUMNS
    s = s.set_index("group")
    assert s.at["Social interaction", "verdict"] == "not assessable"
    assert s.at["Social interaction", "note"].startswith(
        "the primary specification (SMD, REML, CR2, multilevel, none, all)")
    every = table[(table.group == "Forced swim") & ~table.duplicate & table.estimate.notna()]
    fs = every[every.adjustment == "none"]  # the verdict's specifications: unadjusted
    assert s.at["Forced swim", "fitted"] == len(fs) == 40 and len(every) == 46
    assert s.at["Forced swim", "same_sign"] == (fs.estimate > 0).mean() == 1
    assert s.at["Forced swim", "significant"] == (fs.p < 0.05).mean()
    assert s.at["Forced swim", "estimate_min"] == fs[fs.measure == "SMD"].estimate.min()
    assert s.at["Forced swim", "verdict"] == "holds" and (fs.p < 0.05).all()
    # PET-PEESE reverses the sign: the verdict with the adjusted estimates
    assert s.at["Forced swim", "verdict_adjusted"] == "does not hold"
    assert (every[every.adjustment == "pet_peese"].estimate < 0).all()


def test_the_primary_is_unadjusted(table):
    """With dependence none, the primary specification is the unadjusted rma, not PET-PEESE or the
    selection model of the same measure and inclusion."""
    primary = {"measure": "SMD", "method": "REML", "test": "knha", "dependence": "none"}
    s = summary(table, primary).set_index("group")
    assert s.at["Forced swim", "primary"] == "SMD, REML, knha, none, none, all"
    row = table[(table.group == "Forced swim") & (table.measure == "SMD") & (table.method == "REML")
                & (table.test == "knha") & (table.dependence == "none") & (table.adjustment == "none")
                & (table.inclusion == "all")]
    assert len(row) == 1
    assert s.at["Forced swim", "estimate"] == row.estimate.iloc[0] and s.at["Forced swim", "p"] == row.p.iloc[0]


def test_unknown_choices_are_refused():
    with pytest.raises(ValueError, match="measure must be among SMD, MD, ROM, NMD, CVR, VR, got 'XYZ'"):
        premeta.specifications({"measure": ["XYZ"]})
    with pytest.raises(ValueError, match="unknown choice 'estimator'"):
        premeta.specifications({"estimator": ["REML"]})


@pytest.mark.workflow
def test_the_workflows_multiverse(every_analysis):
    """The real workflow, its specifications in 3 chunks (test_workflow.py's rerun in 1 chunk gives the
    same bytes); a rerun has nothing to do; the report shows the section."""
    res = every_analysis / "results"
    assert sorted(p.name for p in (res / "multiverse").iterdir()) == [f"chunk_{i}.csv" for i in range(3)]
    again = run(every_analysis, "--config", f"data={every_analysis / 'small.csv'}", EVERY_ANALYSIS,
                "gosh_subsets=300", "multiverse_chunks=3", "-n")
    assert "Nothing to be done" in again.stdout + again.stderr  # the chunks survive the stale-file cleanup
    table = read_chunk(res / "multiverse.csv")
    assert len(table) == 3 * len(premeta.specifications()) and table["group"].nunique() == 3
    # one primary analysis: the multiverse's primary specification is results/primary.csv's model
    summary = pd.read_csv(res / "multiverse_summary.csv").set_index("group")
    primary = pd.read_csv(res / "primary.csv").set_index("group").loc[summary.index]
    assert (primary.dependence == "multilevel").all() and summary.primary.str.contains("multilevel").all()
    np.testing.assert_allclose(summary.estimate, primary.estimate, rtol=1e-12)
    np.testing.assert_allclose(summary.p, primary.p, rtol=1e-12)
    html = (res / "report.html").read_text()
    assert "Robustness: the multiverse of analytic choices" in html
    assert html.count('alt="Specification curve: ') == 3
    assert "Steegen S, Tuerlinckx F" in html and "Simonsohn U, Simmons JP, Nelson LD" in html


def test_the_primary_rve_specification_is_the_primary_analysis():
    """config/minocycline.yaml (Reis et al. 2019, analysis A): dependence rve (CORR, rho 0.8) on groups
    where every study contributes one comparison. primary.csv fits robu there (robumeta does), so the
    multiverse's primary specification is that same fit, not a note: one primary analysis per run."""
    from premeta.effects import escalc
    from premeta.groups.pooling import primary

    sheet = checked(ROOT / "data" / "minocycline" / "analysis_a_sheet.csv", orient="raw")[0]
    choices = {"measure": ["SMD"], "method": ["REML"], "test": ["z"], "dependence": ["rve"], "inclusion": ["all"],
               "adjustment": ["none"]}
    spec = premeta.multiverse(sheet, choices, orient="raw", rho=0.8, rve_model="CORR").set_index("group")
    main = primary(escalc(sheet, orient="raw"), "mechanism", "rve", rho=0.8, rve_model="CORR")["table"]
    main = main.iloc[:-1]  # the groups, not all of them together
    main = main[main.k > 1].set_index("group")  # k = 1: primary.csv shows the comparison, the multiverse nothing
    # at most one study with several comparisons in a group (the old rule wanted 2)
    assert list(main.k) == [34, 5, 17, 14] and list(main.clusters) == [33, 5, 17, 14]
    for col in ("k", "estimate", "se", "stat", "df", "p", "ci_low", "ci_high", "tau2"):
        close(spec.loc[main.index, col], main[col].to_numpy(float), rtol=1e-12)
    assert spec.loc["Social Interaction", "note"] == "1 comparison in the group: nothing to pool"
    # and both are robumeta's robu(CORR, rho = 0.8, small = TRUE) per paradigm (make_minocycline_fixtures.R)
    robu = json.loads((Path(__file__).parent / "reference" / "robumeta_minocycline.json").read_text())["A"]["groups"]
    assert sorted(robu) == sorted(main.index)
    for name, key in (("estimate", "b_r"), ("se", "SE"), ("stat", "t"), ("df", "dfs"), ("p", "prob_upper"),
                       ("ci_low", "CI_L"), ("ci_high", "CI_U"), ("tau2", "tau_sq")):
        close(spec.loc[main.index, name], [robu[g][key] for g in main.index], rtol=1e-9)
    assert [robu[g]["N"] for g in main.index] == list(main.clusters)
