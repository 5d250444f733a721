"""The analysis tables the workflow writes, composed from the metafor-tested library functions."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import premeta
from premeta.groups.pooling import (cohort_key, dependence_estimates, dependence_mode, dependent, multiple_testing,
                                    primary)
from premeta.groups.moderators import moderator_analysis, time_regression
from premeta.groups.sensitivity import sensitivity
from premeta.regression import metareg, permutest
from premeta.multilevel import aggregate, rma_mv, robust
from premeta.sensitivity import influence, leave1out
from premeta.sheet import read_sheet, validate

SHEET = Path(__file__).resolve().parents[1] / "data" / "simulated_treadmill_neuropathic_pain.csv"


@pytest.fixture(scope="module")
def effects():
    return premeta.escalc(validate(read_sheet(SHEET), SHEET), "SMD", "benefit")


def test_dependence_mode_says_what_and_why(effects):
    assert dependence_mode(effects) == (
        "multilevel", "chosen automatically: 30 of 30 studies contribute more than one comparison")
    one_each = effects.drop_duplicates("study")
    assert dependence_mode(one_each) == (
        "none", "chosen automatically: each of the 30 studies contributes one comparison")
    mode, why = dependence_mode(effects, "none")
    assert mode == "none" and "treated as independent" in why
    with pytest.raises(ValueError, match="dependence must be one of"):
        dependence_mode(effects, "robust")


def test_multilevel_rows_are_the_three_level_model_with_cr2_by_study(effects):
    table, mode, _ = dependent(effects, "mechanism", "multilevel", level=90)
    assert mode == "multilevel" and list(table.group)[-1] == "overall" and len(table) == 9
    sub = effects[effects.mechanism == "Microglia"]
    f = rma_mv(sub.yi, sub.vi, sub.study, level=90)
    r = robust(f)
    row = table.set_index("group").loc["Microglia"]
    assert (row.k, row.studies) == (24, 16)
    np.testing.assert_allclose(
        row[["estimate", "se", "df", "p", "ci_low", "ci_high", "se_model", "sigma2_study", "i2_study"]].astype(float),
        [f.beta[0], r.se[0], r.df[0], r.p[0], r.ci_low[0], r.ci_high[0], f.se[0], f.sigma2[0], f.i2[0]], rtol=1e-12)


def test_a_group_that_cannot_be_fitted_keeps_its_row_and_the_others_their_results(effects):
    one_study = effects[effects.study == effects.study.iloc[0]].assign(mechanism="Only one study")
    table = dependent(pd.concat([effects, one_study]), "mechanism", "multilevel")[0].set_index("group")
    assert "one study" in table.loc["Only one study", "note"] and np.isnan(table.loc["Only one study", "estimate"])
    assert table.drop(index="Only one study").estimate.notna().all()


def test_aggregate_pools_one_effect_per_cohort(effects):
    table = dependent(effects, "mechanism", "aggregate", rho=0.6, method="DL", test="z")[0].set_index("group")
    sub = effects[effects.mechanism == "Behaviour"]
    agg = aggregate(sub.yi, sub.vi, cohort_key(sub), 0.6)
    want = premeta.rma(agg.yi, agg.vi, method="DL", test="z").iloc[0]
    row = table.loc["Behaviour"]
    assert (row.k, row.clusters, row.studies) == (175, len(agg), 30) and len(agg) < 175
    np.testing.assert_allclose(row[["estimate", "se", "p", "tau2", "i2"]].astype(float),
                               want[["estimate", "se", "p", "tau2", "i2"]].astype(float), rtol=1e-12)


def test_none_equals_the_independent_pooled_table(effects):
    table = dependent(effects, "mechanism", "none", test="knha")[0].set_index("group")
    pooled = premeta.rma(effects.yi, effects.vi, effects.mechanism, test="knha").set_index("group")
    np.testing.assert_allclose(table.loc[pooled.index, "estimate"], pooled.estimate, rtol=1e-12)
    assert table.loc["overall", "k"] == len(effects)


def test_sensitivity_tables_per_group(effects):
    small = effects[effects.mechanism.isin(["GABA", "BDNF"])].copy()
    small.loc[small.index[:2], "mechanism"] = "Two rows"
    small.loc[small.index[2], "mechanism"] = "One row"
    loo, inf = sensitivity(small, "mechanism", "REML", "knha")
    assert set(loo.group) == {"GABA", "BDNF", "Two rows", "One row"} == set(inf.group)
    one = loo[loo.group == "One row"].iloc[0]  # k = 1 keeps its row, with the reason
    assert one.note == "k = 1: no comparison to leave out" and np.isnan(one.estimate)
    assert not inf[inf.group == "One row"].influential.any()
    two = small[small.mechanism == "Two rows"]  # k = 2 is diagnosed, as metafor does
    np.testing.assert_allclose(loo[loo.group == "Two rows"].estimate,
                               leave1out(two.yi, two.vi, "REML", "knha").estimate, rtol=1e-12)
    assert (loo[loo.group != "One row"].note == "").all()
    gaba = small[small.mechanism == "GABA"]
    want = leave1out(gaba.yi, gaba.vi, "REML", "knha")
    got = loo[loo.group == "GABA"]
    assert list(got.row) == list(gaba.index)
    np.testing.assert_allclose(got[["estimate", "ci_low", "tau2"]], want[["estimate", "ci_low", "tau2"]], rtol=1e-12)
    flags = influence(gaba.yi, gaba.vi, "REML", "knha")["inf"].eq("*").to_numpy()
    assert inf.influential.dtype == bool and list(inf[inf.group == "GABA"].influential) == list(flags)


def test_sensitivity_above_its_limit_keeps_the_rows_with_the_reason(effects, monkeypatch):
    import premeta.groups.sensitivity

    monkeypatch.setattr(premeta.groups.sensitivity, "SENSITIVITY_MAX_K", 10)
    loo, inf = sensitivity(effects[effects.mechanism.isin(["GABA", "BDNF"])], "mechanism", "REML", "knha")
    bdnf = loo[loo.group == "BDNF"]  # k = 16 > 10: not fitted, said why
    assert len(bdnf) == 16 and bdnf.estimate.isna().all()
    assert (bdnf.note == "k = 16: leave-one-out is not run above 10 comparisons (it fits k models of k - 1 each; "
            "one comparison's weight is about 1/k); premeta.sensitivity.leave1out runs it").all()
    assert loo[loo.group == "GABA"].estimate.notna().all() and (inf[inf.group == "BDNF"].note != "").all()


def test_permutation_tests_above_their_limit_keep_the_model_test_with_the_reason(effects, monkeypatch):
    import premeta.groups.moderators

    monkeypatch.setattr(premeta.groups.moderators, "PERMUTATION_MAX_K", 10)
    out = moderator_analysis(effects[effects.mechanism.isin(["GABA", "BDNF"])], ["weeks"], permutations=50)
    models = out["models"].set_index("group")
    assert models.at["GABA", "permutations"] == 50 and models.at["GABA", "note"] == ""
    assert models.at["BDNF", "permutations"] == 0 and np.isnan(models.at["BDNF", "qm_p_perm"])
    assert np.isfinite(models.at["BDNF", "qm_p"])  # the model's own test is still there
    assert models.at["BDNF", "note"] == ("no permutation test (k = 16 > 10: with this many comparisons the model's "
                                         "own test is used; permutation p-values matter with few studies)")


def test_moderator_analysis_is_metareg_and_permutest_per_group(effects):
    out = moderator_analysis(effects, ["weeks", "species", "not_a_column", "sex"], test="knha", permutations=200,
                             seed=7)
    models = out["models"].set_index(["moderator", "group"])
    assert set(out["models"].moderator) == {"weeks", "species", "sex"}
    sub = effects[effects.mechanism == "BDNF"]
    weeks = sub[["weeks"]].apply(pd.to_numeric)  # a column of the review's own: text until a model reads it
    coefs, want = metareg(sub.yi, sub.vi, weeks, method="REML", test="knha")
    perm = permutest(sub.yi, sub.vi, weeks, "REML", "knha", 200, 7).set_index("term")
    row = models.loc[("weeks", "BDNF")]
    np.testing.assert_allclose(row[["qm", "qm_p", "tau2", "r2"]].astype(float),
                               want.iloc[0][["qm", "qm_p", "tau2", "r2"]].astype(float), rtol=1e-12)
    assert row.qm_p_perm == perm.at["QM", "p_perm"] and row.permutations == perm.at["QM", "permutations"]
    slope = out["coefs"].query("moderator == 'weeks' and group == 'BDNF' and term == 'weeks'").iloc[0]
    assert slope.p_perm == perm.at["weeks", "p_perm"]
    np.testing.assert_allclose(slope.estimate, coefs.set_index("term").at["weeks", "estimate"], rtol=1e-12)
    # a group where a moderator does not vary keeps its row, not fitted, with the reason
    single = models.loc[("sex", "BDNF")]
    assert not single.converged and "single level" in single.note and np.isnan(single.qm_p_perm)
    # bubble plot data only for numeric moderators; weights 1/(vi + tau2) of the meta-regression
    assert set(out["weights"].moderator) == {"weeks"} == set(out["lines"].moderator)
    w = out["weights"].query("group == 'BDNF'")
    np.testing.assert_allclose(w.weight, 1 / (sub.vi.to_numpy() + row.tau2), rtol=1e-12)


def test_multiple_testing_adjusts_within_each_family():
    pooled = pd.DataFrame({"group": ["a", "b", "c", "overall"], "p": [0.01, 0.04, 0.03, 1e-6]})
    models = pd.DataFrame({"moderator": ["x", "x", "y"], "group": ["a", "b", "a"], "qm_p": [0.02, np.nan, 0.5]})
    t = multiple_testing(pooled, models)
    assert list(t.family) == ["effect by group"] * 3 + ["moderators"] * 3
    # R: p.adjust(c(.01, .04, .03), "holm") = 0.03 0.06 0.06; "bonferroni" = 0.03 0.12 0.09
    np.testing.assert_allclose(t.p_holm[:3], [0.03, 0.06, 0.06])
    np.testing.assert_allclose(t.p_bonferroni[:3], [0.03, 0.12, 0.09])
    # p.adjust(c(.02, .5), "holm") = 0.04 0.5; the test without a p is not counted
    np.testing.assert_allclose(t.p_holm[3:], [0.04, np.nan, 0.5])
    np.testing.assert_allclose(t.p_bonferroni[3:], [0.04, np.nan, 1.0])


def test_time_regression_slopes(effects):
    t = time_regression(effects, "mechanism", "REML", "knha")
    assert set(t.per) == {"time", "weeks"} and len(t) == 16
    sub = effects[effects.mechanism == "Microglia"]
    coefs, _ = metareg(sub.yi, sub.vi, sub[["time"]], method="REML", test="knha")
    row = t.query("per == 'time' and group == 'Microglia'").iloc[0]
    np.testing.assert_allclose(row[["estimate", "se", "p", "ci_low"]].astype(float),
                               coefs.set_index("term").loc["time", ["estimate", "se", "p", "ci_low"]].astype(float),
                               rtol=1e-12)


def test_dependence_estimates_put_both_analyses_side_by_side(effects):
    pooled = premeta.rma(effects.yi, effects.vi, effects.mechanism)
    table = primary(effects, "mechanism", "multilevel")["table"]
    est = dependence_estimates(pooled, table)
    assert list(est.analysis.unique()) == ["comparisons treated as independent",
                                           "primary: rma.mv three-level (REML), CR2 tests by study"]
    assert list(est.ci_high[len(pooled):]) == list(table.ci_high)
    none = dependence_estimates(pooled, primary(effects, "mechanism", "none")["table"])
    assert list(none.analysis.unique()) == ["comparisons treated as independent"] and len(none) == len(pooled)


def test_rve_rows_are_robumeta_corr_by_study(effects):
    from premeta.robumeta import rve

    table, mode, _ = dependent(effects, "mechanism", "rve", rho=0.8)
    assert mode == "rve" and list(table.group)[-1] == "overall"
    sub = effects[effects.mechanism == "Microglia"]
    f = rve(sub.yi, sub.vi, sub.study, model="CORR", rho=0.8, small=True)
    row = table.set_index("group").loc["Microglia"]
    np.testing.assert_allclose(row[["estimate", "se", "df", "p", "ci_low", "ci_high", "tau2", "i2"]].astype(float),
                               [f.beta[0], f.se[0], f.df[0], f.p[0], f.ci_low[0], f.ci_high[0], f.tau2, f.i2],
                               rtol=1e-12)
    one = pd.concat([effects, effects[effects.study == effects.study.iloc[0]].assign(mechanism="One study")])
    row = dependent(one, "mechanism", "rve")[0].set_index("group").loc["One study"]
    assert np.isnan(row.estimate) and "robust variance estimation needs at least 2" in row.note


@pytest.mark.parametrize("path, group_by", [
    ("tests/data/besson2016_rodents.csv", "mechanism"),  # real data (Besson et al. 2016)
    ("tests/sheets/simulated_csv_injection.csv", "mechanism"),  # labels a spreadsheet would run
    ("tests/sheets/files/windows1252.csv", "mechanism"),
    ("data/simulated_treadmill_neuropathic_pain.csv", "weeks"),  # a numeric grouping column
])
def test_effects_as_written_are_the_file_read_back(path, group_by, tmp_path):
    """The pool job computes the effect sizes itself: they must be effect_sizes.csv as read back."""
    from premeta.groups.common import effects_as_written, read_effects
    from premeta.effects import checked
    from premeta.tables import write_csv

    full = Path(__file__).resolve().parents[1] / path
    effects = premeta.escalc(checked(full, group_by=group_by)[0])
    write_csv(effects, tmp_path / "effect_sizes.csv", index=True)
    pd.testing.assert_frame_equal(effects_as_written(effects), read_effects(tmp_path / "effect_sizes.csv"))
