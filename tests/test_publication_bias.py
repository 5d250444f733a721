"""Power, excess significance, PET-PEESE, rank test, fail-safe N and cumulative meta-analysis
against metafor's tes(), rma(mods =), ranktest(), fsn() and cumul()
(tests/reference/make_publication_bias_fixtures.R)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from helpers import close, ours

from premeta.bias import fsn, pet_peese, ranktest
from premeta.errors import NotComputable
from premeta.groups.bias import cumulative, excess_significance, fail_safe_n, publication_years
from premeta.sensitivity import cumul
from premeta.significance import power, tes

REFERENCE = json.loads((Path(__file__).parent / "reference" / "metafor_publication_bias.json").read_text())
DATA = REFERENCE["data"]


def _stratum(dataset: str, group: str):
    """yi, vi and the data set's columns in one stratum (the rodents' species, or all rows)."""
    d = {k: np.asarray(v) for k, v in DATA[dataset].items()}
    if group == "overall":
        return d
    m = d["species"] == group
    return {k: v[m] for k, v in d.items()}


def _id(c, keys):
    return "-".join(str(c[k]) for k in keys)


# ---- power and tes ------------------------------------------------------------------------------

def test_power_closed_form_and_metameta():
    vi = np.array([0.479**2, 0.1, 0.02])
    z = 1.959963984540054
    from scipy.stats import norm

    for theta in (0.178, -0.4, 0.0):
        expected = norm.cdf(theta / np.sqrt(vi) - z) + norm.cdf(-theta / np.sqrt(vi) - z)
        close(power(vi, theta), expected)
    # metameta's README: yi 1.187, se 0.479, theta 0.178 gives a power of 0.06596 (5 digits)
    assert round(float(power([0.479**2], 0.178)[0]), 5) == 0.06596
    close(power([0.04], 0.3, level=90), norm.cdf(1.5 - norm.isf(0.05)) + norm.cdf(-1.5 - norm.isf(0.05)))


@pytest.mark.parametrize("case", REFERENCE["tes"], ids=lambda c: _id(
    c, ["dataset", "group", "test", "tes_alternative", "alternative", "theta_given"]))
def test_tes_matches_metafor(case):
    d = _stratum(case["dataset"], case["group"])
    out = tes(d["yi"], d["vi"], theta=case["theta_given"], alternative=case["alternative"],
              alpha=case["alpha"], tes_alternative=case["tes_alternative"], tes_test=case["test_given"],
              tes_alpha=case["tes_alpha"])
    row = out.iloc[0]
    assert row["observed"] == case["O"] and row["k"] == case["k"] and row["test"] == case["test"]
    close(row["expected"], case["E"])
    close(row["oe_ratio"], case["OEratio"])
    close(row["stat"], case["X2"])
    close(row["p"], case["pval"])
    close(row["theta"], case["theta"])
    close(out.attrs["power"], case["power"])
    close(row[["power_min", "power_q1", "power_median", "power_q3", "power_max"]], case["power_quantiles"])
    lim = row[["theta_lim_low", "theta_lim_high"] if case["tes_alternative"] == "two.sided" else ["theta_lim"]]
    close(lim, case["theta_lim"])  # the root (metafor's search repeated to 1e-13 in the script)
    close(lim, case["theta_lim_metafor"], rtol=1e-3)  # metafor's uniroot stops at about 1e-4


def test_tes_default_test_as_metafor():
    d = _stratum("dorn2007", "overall")
    assert tes(d["yi"], d["vi"]).at[0, "test"] == REFERENCE["tes_default"]["dorn2007"] == "exact"
    rats = _stratum("rodents", "rats")
    assert tes(rats["yi"], rats["vi"]).at[0, "test"] == REFERENCE["tes_default"]["rats"] == "chi2"


def test_tes_groups_equal_separate_calls():
    d = DATA["rodents"]
    both = tes(d["yi"], d["vi"], groups=d["species"], tes_test="binom")
    assert list(both["group"]) == ["mice", "rats"]
    for g in ("mice", "rats"):
        s = _stratum("rodents", g)
        one = tes(s["yi"], s["vi"], tes_test="binom")
        close(both.loc[both["group"] == g, ["expected", "p", "theta_lim"]].to_numpy(),
              one[["expected", "p", "theta_lim"]].to_numpy())
    sp = np.asarray(d["species"])
    close(both.attrs["power"][sp == "mice"], tes(*(_stratum("rodents", "mice")[c] for c in ("yi", "vi")),
                                                 tes_test="binom").attrs["power"])


def test_tes_per_comparison_theta_has_no_limit():
    d = _stratum("dorn2007", "overall")
    out = tes(d["yi"], d["vi"], theta=np.full(len(d["yi"]), 0.2), tes_test="exact")
    ref = tes(d["yi"], d["vi"], theta=0.2, tes_test="exact")
    close(out["p"], ref["p"])
    assert out[["theta", "theta_lim", "theta_lim_low", "theta_lim_high"]].isna().all(axis=None)


def test_tes_bad_arguments():
    with pytest.raises(ValueError, match="tes_alternative"):
        tes([0.1, 0.2], [0.1, 0.1], tes_alternative="bigger")
    with pytest.raises(ValueError, match="theta"):
        tes([0.1, 0.2], [0.1, 0.1], theta=[0.1, 0.2, 0.3])
    with pytest.raises(NotComputable, match="vi <= 0"):
        tes([0.1, 0.2], [0.1, 0.0])


# ---- ranktest -----------------------------------------------------------------------------------

@pytest.mark.parametrize("case", REFERENCE["ranktest"], ids=lambda c: _id(c, ["dataset", "group"]))
def test_ranktest_matches_metafor(case):
    d = _stratum(case["dataset"], case["group"])
    out = ranktest(d["yi"], d["vi"]).iloc[0]
    assert out["k"] == case["k"] and out["note"] == ""
    close(out["tau"], case["tau"])
    close(out["p"], case["pval"])


def test_ranktest_fixtures_have_exact_and_tied_p():
    assert {c["ties"] for c in REFERENCE["ranktest"]} == {True, False}


def test_ranktest_exact_distribution_beyond_the_fixtures():
    """The exact p of many studies without ties (where R's pkendall overflows past n = 170)."""
    from scipy.stats import kendalltau

    rng = np.random.default_rng(7)
    for n in (5, 40, 250):
        vi = rng.uniform(0.01, 0.5, n)
        yi = rng.normal(0, np.sqrt(vi)) + 0.3 * vi
        w = 1 / vi
        ystar = (yi - np.sum(w * yi) / np.sum(w)) / np.sqrt(vi - 1 / np.sum(w))
        ref = kendalltau(ystar, vi, method="exact")
        close(ranktest(yi, vi)[["tau", "p"]].to_numpy().ravel(), [ref.statistic, ref.pvalue])


def test_ranktest_groups_and_not_computable():
    d = DATA["rodents"]
    out = ranktest(d["yi"], d["vi"], groups=d["species"])
    for g in ("mice", "rats"):
        case = next(c for c in REFERENCE["ranktest"] if c["group"] == g)
        close(out.loc[out["group"] == g, ["tau", "p"]].to_numpy().ravel(), [case["tau"], case["pval"]])
    with pytest.raises(NotComputable, match="at least 2 studies"):
        ranktest([0.3], [0.1])
    with pytest.raises(NotComputable, match="no variation"):
        ranktest([0.1, 0.2, 0.3], [0.1, 0.1, 0.1])
    one = ranktest([0.1, 0.2, 0.3, 0.5], [0.1, 0.2, 0.3, 0.1], groups=["a", "a", "a", "b"])
    assert one.loc[1, "note"].startswith("the rank correlation test needs") and np.isnan(one.loc[1, "p"])


# ---- fsn ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", REFERENCE["fsn"], ids=lambda c: _id(
    c, ["dataset", "group", "type", "alpha", "target_given", "weighted"]))
def test_fsn_matches_metafor(case):
    d = _stratum(case["dataset"], case["group"])
    out = fsn(d["yi"], d["vi"], type=case["type"], alpha=case["alpha"], target=case["target_given"],
              weighted=case["weighted"]).iloc[0]
    assert out["fsnum"] == case["fsnum"]
    close(out["p"], case["pval"])
    close(out["estimate"], case["meanes"])
    close(out["target"], case["target"])


def test_fsn_rosenberg_bcg_is_370_and_groups():
    d = DATA["bcg"]
    assert fsn(d["yi"], d["vi"], type="Rosenberg").at[0, "fsnum"] == 370
    r = DATA["rodents"]
    both = fsn(r["yi"], r["vi"], type="Orwin", groups=r["species"])
    for g in ("mice", "rats"):
        case = next(c for c in REFERENCE["fsn"] if c["group"] == g and c["type"] == "Orwin"
                    and c["target_given"] is None and not c["weighted"])
        assert both.loc[both["group"] == g, "fsnum"].item() == case["fsnum"]
    assert np.isinf(fsn([0.2, -0.2], [0.1, 0.1], type="Orwin").at[0, "fsnum"])  # target 0
    with pytest.raises(ValueError, match="type"):
        fsn([0.2, 0.3], [0.1, 0.1], type="REM")


# ---- PET-PEESE ----------------------------------------------------------------------------------

def _pet_kwargs(d, predictor):
    if predictor == "n1i_n2i":
        return {"n1i": d["n1i"], "n2i": d["n2i"]}
    return {"ni": d["n1i"] + d["n2i"]} if predictor == "ni" else {}


@pytest.mark.parametrize("case", REFERENCE["pet_peese"], ids=lambda c: _id(
    c, ["dataset", "group", "predictor", "method", "test", "model"]))
def test_pet_peese_matches_metafor(case):
    d = _stratum(case["dataset"], case["group"])
    out = pet_peese(d["yi"], d["vi"], method=case["method"], test=case["test"],
                    **_pet_kwargs(d, case["predictor"]))
    row = out[out["model"] == case["model"]].iloc[0]
    assert row["k"] == case["k"] and row["note"] == ""
    for q in ["estimate", "se", "zval", "pval", "ci_lb", "ci_ub", "ddf", "slope", "slope_se", "tau2"]:
        close(row[ours(q)], case[q])


def test_pet_peese_conditional_rule_and_groups():
    r = DATA["rodents"]
    out = pet_peese(r["yi"], r["vi"], n1i=r["n1i"], n2i=r["n2i"], groups=r["species"], method="REML")
    assert list(out["model"]) == ["PET", "PEESE", "PET-PEESE"] * 2
    for g, rows in out.groupby("group"):
        pet, peese, cond = (rows.iloc[i] for i in range(3))
        which = "PEESE" if pet["p"] < 0.10 else "PET"  # one-tailed 5%: two-sided p < 2 alpha
        assert cond["chosen"] == which
        close(cond["estimate"], (peese if which == "PEESE" else pet)["estimate"])
        assert cond["predictor"] == ("1/n1i+1/n2i" if which == "PEESE" else "sqrt(1/n1i+1/n2i)")
        case = next(c for c in REFERENCE["pet_peese"] if c["dataset"] == "rodents" and c["group"] == g
                    and c["predictor"] == "n1i_n2i" and c["method"] == "REML" and c["test"] == "z"
                    and c["model"] == "PET")
        close(pet["estimate"], case["estimate"])
    strict = pet_peese(r["yi"], r["vi"], groups=r["species"], alpha=1e-12)
    assert set(strict.loc[strict["model"] == "PET-PEESE", "chosen"]) == {"PET"}


def test_pet_fe_knha_is_stanleys_wls():
    for case in REFERENCE["wls"]:
        d = DATA[case["dataset"]]
        row = pet_peese(d["yi"], d["vi"], method="FE", test="knha").iloc[0]
        close(row[["estimate", "se", "stat", "p"]], [case["estimate"], case["se"], case["tval"], case["pval"]])


def test_pet_peese_not_computable():
    with pytest.raises(NotComputable, match="at least 3 studies"):
        pet_peese([0.1, 0.4], [0.1, 0.2])
    with pytest.raises(NotComputable, match="constant"):
        pet_peese([0.1, 0.4, 0.3], [0.1, 0.1, 0.1])
    with pytest.raises(NotComputable, match="constant"):
        pet_peese([0.1, 0.4, 0.3], [0.1, 0.2, 0.3], n1i=[5, 5, 5], n2i=[6, 6, 6])
    out = pet_peese([0.1, 0.4, 0.3, 0.2, 0.5], [0.1, 0.2, 0.3, 0.1, 0.2], groups=list("aaabb"))
    b = out[out["group"] == "b"]
    assert b["estimate"].isna().all() and b["note"].str.startswith("PET-PEESE needs").all()
    assert out.loc[out["group"] == "a", "estimate"].notna().all()
    with pytest.raises(ValueError, match="n1i and n2i"):
        pet_peese([0.1, 0.4, 0.3], [0.1, 0.2, 0.3], n1i=[5, 6, 7])


# ---- cumul --------------------------------------------------------------------------------------

CUMUL = ["estimate", "se", "zval", "pval", "ci_lb", "ci_ub", "Q", "Qp", "tau2", "I2", "H2"]


@pytest.mark.parametrize("case", REFERENCE["cumul"], ids=lambda c: _id(c, ["dataset", "group", "method", "test"]))
def test_cumul_matches_metafor(case):
    d = _stratum(case["dataset"], case["group"])
    out = cumul(d["yi"], d["vi"], d["year"], method=case["method"], test=case["test"], slab=d["label"])
    assert list(out["slab"]) == case["label"] and list(out["k"]) == list(range(1, len(d["yi"]) + 1))
    close(out["order"], case["order"])
    assert ("tau2" in out) == (case["method"] != "FE")
    for q in CUMUL:
        if q != "tau2" or case["method"] != "FE":
            close(out[ours(q)], case[q])


def test_cumul_fixtures_cover_bcg_and_rodents():
    assert {(c["dataset"], c["method"], c["test"]) for c in REFERENCE["cumul"]} >= {
        ("bcg", m, t) for m in ("FE", "DL", "REML") for t in ("z", "knha")} | {("rodents", "REML", "z")}
    assert any(len(set(c["order"])) < len(c["order"]) for c in REFERENCE["cumul"])  # tied years


def test_cumul_groups_stack_into_one_call():
    r = DATA["rodents"]
    out = cumul(r["yi"], r["vi"], r["year"], groups=r["species"], slab=r["label"])
    assert list(out["group"].unique()) == ["mice", "rats"] and len(out) == len(r["yi"])
    for g in ("mice", "rats"):
        case = next(c for c in REFERENCE["cumul"] if c["group"] == g and c["method"] == "REML")
        part = out[out["group"] == g]
        assert list(part["slab"]) == case["label"]
        close(part["estimate"], case["estimate"])
        close(part["tau2"], case["tau2"])


def test_cumul_text_order_and_bad_arguments():
    out = cumul([0.1, 0.5, 0.3], [0.1, 0.2, 0.1], ["b", "a", "b"], method="FE", slab=["x", "y", "z"])
    assert list(out["slab"]) == ["y", "x", "z"] and list(out["order"]) == ["a", "b", "b"]
    close(out.loc[0, ["estimate", "q", "q_p", "i2", "h2"]], [0.5, 0.0, 1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="order"):
        cumul([0.1, 0.5], [0.1, 0.2], [2001])
    with pytest.raises(ValueError, match="order is missing"):
        cumul([0.1, 0.5], [0.1, 0.2], [2001, None])
    with pytest.raises(NotComputable, match="vi <= 0"):
        cumul([0.1, 0.5], [0.1, 0.0], [2001, 2002])


# ---- per group (premeta.groups.bias), as the workflow writes them --------------------------------

def _rodent_effects() -> pd.DataFrame:
    """The rodents of the fixtures as an effects table: the label is the study, species the group."""
    d = DATA["rodents"]
    return pd.DataFrame({"yi": d["yi"], "vi": d["vi"], "study": d["label"], "year": d["year"],
                         "species": d["species"]}, index=pd.RangeIndex(2, 2 + len(d["yi"]), name="row"))


def test_excess_significance_per_group_is_metafors_tes_per_species():
    excess, per = excess_significance(_rodent_effects(), "species", "SMD", 95)
    assert list(excess.group) == ["mice", "rats"] and list(per.row) == list(_rodent_effects().index)
    case = next(c for c in REFERENCE["tes"] if c["dataset"] == "rodents" and c["group"] == "rats"
                and c["theta_given"] is None and c["test_given"] == "chi2" and c["tes_alternative"] == "greater")
    rats = excess.set_index("group").loc["rats"]
    assert rats.test == "chi2" and rats.observed == case["O"] and rats.k == case["k"]
    for ours_, theirs in (("expected", "E"), ("oe_ratio", "OEratio"), ("stat", "X2"), ("p", "pval"),
                          ("theta", "theta"), ("theta_lim", "theta_lim")):
        close(rats[ours_], case[theirs])
    close(per.loc[per.group == "rats", "power"], case["power"])
    power_ = per.loc[per.group == "rats", "power"].to_numpy()
    assert rats.adequate == pytest.approx(np.mean(power_ >= 0.8))
    # power at SMD 0.5 is the closed form Phi(0.5/se - z) + Phi(-0.5/se - z)
    se, z = per["se"].to_numpy(), stats.norm.isf(0.025)
    close(per["power_smd_0_5"], stats.norm.cdf(0.5 / se - z) + stats.norm.cdf(-0.5 / se - z))
    assert not {"power_smd_0_5", "median_power_smd_0_5"} & set(excess_significance(_rodent_effects(), "species",
                                                                                      "ROM", 95)[0])


def test_fail_safe_n_per_group_is_metafors_fsn_per_species():
    table = fail_safe_n(_rodent_effects(), "species", 95)
    assert list(table.group) == ["mice"] * 3 + ["rats"] * 3
    assert list(table.type) == ["Rosenthal", "Orwin", "Rosenberg"] * 2
    cases = [c for c in REFERENCE["fsn"] if c["dataset"] == "rodents" and c["alpha"] == 0.05
             and c["target_given"] is None and not c["weighted"]]
    assert len(cases) == 6
    for c in cases:
        row = table[(table.group == c["group"]) & (table.type == c["type"])].iloc[0]
        assert row.fsnum == c["fsnum"] and row.alpha == 0.05
        for ours_, theirs in (("p", "pval"), ("estimate", "meanes"), ("target", "target")):
            close(row[ours_], c[theirs])


def test_cumulative_per_group_is_metafors_cumul_by_year():
    table = cumulative(_rodent_effects(), "species", "REML", "z", 95)
    for case in (c for c in REFERENCE["cumul"] if c["dataset"] == "rodents" and c["method"] == "REML"):
        steps = table[table.group == case["group"]]
        assert list(steps.step) == list(range(1, len(steps) + 1))
        assert list(steps.year) == case["order"] and list(steps.study) == case["label"]
        for ours_, theirs in (("estimate", "estimate"), ("se", "se"), ("stat", "zval"), ("p", "pval"),
                              ("ci_low", "ci_lb"), ("ci_high", "ci_ub"), ("tau2", "tau2"), ("i2", "I2")):
            close(steps[ours_], case[theirs])


def test_publication_years_from_a_column_or_the_labels_else_why():
    e = _rodent_effects()
    years, source = publication_years(e)
    assert list(years) == list(e.year) and source == "the sheet's year column"
    labelled = e.drop(columns="year").assign(study=[f"Smith_{y} (#{i})" for i, y in enumerate(e.year)])
    years, source = publication_years(labelled)
    assert list(years) == list(e.year) and source == "the year in each study label"
    two = labelled.assign(study=labelled.study.where(labelled.index != 3, "Smith 2001 and Jones 2003"))
    years, why = publication_years(two)
    assert years is None and "exactly one year" in why
    table = cumulative(two, "species")
    assert list(table.group) == ["mice", "rats"] and table.estimate.isna().all()
    assert (table.note == f"not computed: {why}").all()


def test_small_study_rows_hold_pet_peese_and_the_rank_test_of_the_library():
    from premeta.groups.bias import small_study_tests
    e = _rodent_effects().assign(trt_n=DATA["rodents"]["n1i"], ctl_n=DATA["rodents"]["n2i"],
                                 ctl_n_eff=DATA["rodents"]["n2i"])
    rows = small_study_tests(e).set_index("analysis")
    lib = pet_peese(e.yi, e.vi, n1i=e.trt_n, n2i=e.ctl_n_eff, method="FE", test="knha").set_index("model")
    for name, model in (("PET (WLS)", "PET"), ("PEESE (WLS)", "PEESE")):
        assert rows.loc[name, "precision"] == "modified SE"
        close(rows.loc[name, ["estimate", "p", "ci_low", "ci_high", "slope"]].to_numpy(float),
              lib.loc[model, ["estimate", "p", "ci_low", "ci_high", "slope"]].to_numpy(float))
    conditional = [a for a in rows.index if a.startswith("PET-PEESE (conditional): ")]
    assert conditional == [f"PET-PEESE (conditional): {lib.loc['PET-PEESE', 'chosen']}"]
    rank = ranktest(e.yi, e.vi).iloc[0]
    close(rows.loc["rank correlation (Begg and Mazumdar)", ["stat", "p"]].to_numpy(float), [rank.tau, rank.p])


def test_selection_models_per_group_are_selmodel_in_the_direction_of_each_groups_effect():
    """Per species: metafor's selmodel(rma(yi, vi, method = "ML"), type = "stepfun", steps = 0.025,
    alternative = the side of the species' common-effect estimate), as premeta.selmodel (held to R in
    test_selmodel.py) fitted one species at a time, beside the ML estimate without selection."""
    from premeta.groups.bias import selection_models
    from premeta.models import fit
    from premeta.selection import selmodel

    e = _rodent_effects()
    table = selection_models(e, "species", 95).set_index("group")
    assert list(table.index) == ["mice", "rats"] and (table.type == "stepfun").all()
    for g in ("mice", "rats"):
        s = e[e.species == g]
        side = "greater" if fit(s.yi, s.vi, method="FE").beta[0, 0] >= 0 else "less"
        one = selmodel(s.yi, s.vi, type="stepfun", steps=(0.025, 1), alternative=side).iloc[0]
        assert table.loc[g, "alternative"] == side and table.loc[g, "k"] == len(s)
        close(table.loc[g, ["estimate", "se", "p", "ci_low", "ci_high", "tau2", "lrt", "lrt_p", "delta_2"]]
              .to_numpy(float), one[["estimate", "se", "p", "ci_low", "ci_high", "tau2", "lrt", "lrt_p", "delta_2"]]
              .to_numpy(float), rtol=1e-9)
        close(table.loc[g, "unadjusted"], fit(s.yi, s.vi, method="ML").beta[0, 0], rtol=1e-12)
    flipped = e.assign(yi=e.yi.where(e.species == "mice", -e.yi))  # the rats' effects point the other way
    sides = selection_models(flipped, "species", 95).set_index("group").alternative
    assert sides["rats"] != sides["mice"] and sides["mice"] == table.loc["mice", "alternative"]


def test_pet_peese_of_a_mean_difference_regresses_on_the_se():
    """The modified SE is for SMDs (their SE depends on the estimate); effects of another measure,
    with group sizes or not, regress on the SE, in the small-study table as in the multiverse."""
    from premeta.groups.bias import modified_se_sizes, small_study_tests
    e = _rodent_effects().assign(trt_n=DATA["rodents"]["n1i"], ctl_n=DATA["rodents"]["n2i"],
                                 ctl_n_eff=DATA["rodents"]["n2i"])
    assert modified_se_sizes(e.assign(measure="SMD"))[0] is not None
    assert modified_se_sizes(e.assign(measure="MD")) == (None, None)
    rows = small_study_tests(e.assign(measure="MD")).set_index("analysis")
    lib = pet_peese(e.yi, e.vi, method="FE", test="knha").set_index("model")
    assert rows.loc["PET (WLS)", "precision"] == "SE"
    close(rows.loc["PET (WLS)", ["estimate", "p"]].to_numpy(float), lib.loc["PET", ["estimate", "p"]].to_numpy(float))
    # the three-level Egger test likewise: its row against the modified SE says why it is not computed
    nested = small_study_tests(e.assign(measure="MD", study=[f"s{i // 2}" for i in range(len(e))]))
    three = nested[nested.analysis == "Egger regression (three-level, CR2)"].set_index("precision")
    assert np.isfinite(three.loc["SE", "p"]) and np.isnan(three.loc["modified SE", "p"])
    assert three.loc["modified SE", "note"] == (
        "the modified SE is for SMDs, whose SE depends on the estimate; the SE of an effect measured as MD does "
        "not, so the row against the SE is the test")
    smd = small_study_tests(e.assign(measure="SMD", study=[f"s{i // 2}" for i in range(len(e))]))
    assert np.isfinite(smd[smd.analysis == "Egger regression (three-level, CR2)"].p).all()
    # SMDs beside precomputed effects (no n): the modified SE on the rows with group sizes
    mixed = e.assign(measure=["precomputed"] + ["SMD"] * (len(e) - 1), study=[f"s{i // 2}" for i in range(len(e))])
    mixed.loc[mixed.index[0], ["trt_n", "ctl_n", "ctl_n_eff"]] = np.nan
    rows = small_study_tests(mixed)
    three = rows[rows.analysis == "Egger regression (three-level, CR2)"].set_index("precision")
    assert three.loc["modified SE", "k"] == len(e) - 1 and np.isfinite(three.loc["modified SE", "p"])
