"""Meta-regression and permutation tests against metafor on published data (tests/reference)."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import close, ours

from premeta.regression import _distinct_permutations, metareg, permutest
from premeta.models import design, fit

REF = json.loads((Path(__file__).parent / "reference" / "metafor_metareg.json").read_text())
REBASED = json.loads((Path(__file__).parent / "reference" / "metafor_metareg_reference.json").read_text())


def _frame(case, rows=None):
    d = pd.DataFrame(REF["data"][case["dataset"]])
    if rows is not None:
        d = d.iloc[rows].reset_index(drop=True)
    return d["yi"].to_numpy(float), d["vi"].to_numpy(float), d[list(case["mods"])]


def _id(c):
    return f"{c['dataset']}-{'+'.join(c['mods'])}-{c['method']}-{c['test']}"


@pytest.mark.parametrize("case", [pytest.param(c, id=_id(c)) for c in REF["metareg"]])
def test_metareg_matches_metafor(case):
    yi, vi, mods = _frame(case)
    coefs, models = metareg(yi, vi, mods, method=case["method"], test=case["test"])
    expected = case["coef"]
    assert list(coefs["group"]) == ["overall"] * len(expected["name"])
    assert list(coefs["term"]) == expected["name"]
    for col in ("estimate", "se", "stat", "df", "p", "ci_low", "ci_high"):
        close(coefs[col], expected[col])
    row = models.iloc[0]
    assert (row["k"], row["k_omitted"], row["n_coefs"]) == (case["k"], case["k_omitted"], len(expected["name"]))
    assert row["converged"] and row["note"] == ""
    for col in ("QM", "QM_df1", "QM_df2", "QMp", "tau2", "I2", "H2", "QE", "QEp", "R2"):
        close(row[ours(col)], case[col])


def test_fixtures_cover_missing_moderators_and_positive_r2():
    assert any(c["k_omitted"] > 0 for c in REF["metareg"])
    assert any(c["R2"] is not None and c["R2"] > 0 for c in REF["metareg"] if c["method"] != "FE")
    assert any(c["R2"] is not None and c["R2"] > 0 for c in REF["metareg"] if c["method"] == "FE")


@pytest.mark.parametrize("case", [pytest.param(c, id=_id(c)) for c in REF["permutest"]])
def test_exact_permutest_matches_metafor(case):
    yi, vi, mods = _frame(case, case["rows"])
    out = permutest(yi, vi, mods, method=case["method"], test=case["test"], exact=True)
    assert list(out["term"]) == case["name"] + ["QM"]
    assert out["exact"].all()
    assert (out["permutations"] == case["n_perm"]).all() and case["n_perm"] == case["exact_iter"]
    close(out["stat"], case["stat"] + [case["QM"]])
    close(out["p"], case["p"] + [case["QMp"]])
    # permutation p-values are counts over the permutations: equal, not just close
    np.testing.assert_array_equal(np.round(out["p_perm"] * out["permutations"]),
                                  np.round(np.r_[case["pval"], case["QMp_perm"]] * case["n_perm"]))


def test_permutest_is_exact_by_default_when_few_permutations():
    case = next(c for c in REF["permutest"] if c["exact_iter"] < 1000)
    yi, vi, mods = _frame(case, case["rows"])
    out = permutest(yi, vi, mods, method=case["method"], test=case["test"], permutations=1000)
    assert out["exact"].all() and (out["permutations"] == case["exact_iter"]).all()
    close(out["p_perm"], case["pval"] + [case["QMp_perm"]])
    small = permutest(yi, vi, mods, method=case["method"], test=case["test"], permutations=case["exact_iter"] - 1)
    assert not small["exact"].any() and (small["permutations"] == case["exact_iter"] - 1).all()


def test_permutest_names_a_bad_seed_or_number_of_permutations():
    """A negative seed (numpy's own error says only "expected non-negative integer") or too few
    permutations are named in the error, which is the note of a skipped test in moderators.csv."""
    case = REF["permutest"][0]
    yi, vi, mods = _frame(case, case["rows"])
    with pytest.raises(ValueError, match=r"^seed must be >= 0 \(numpy takes no negative seed\), got -1$"):
        permutest(yi, vi, mods, seed=-1)
    with pytest.raises(ValueError, match=r"^permutations must be >= 2, got 1$"):
        permutest(yi, vi, mods, permutations=1)
    with pytest.warns(DeprecationWarning, match="use permutations="):  # premeta 0.2's (metafor's) name
        assert permutest(yi, vi, mods, iter=20, seed=1).equals(permutest(yi, vi, mods, permutations=20, seed=1))


def test_random_permutest_is_reproducible_and_near_the_exact_p():
    case = next(c for c in REF["permutest"] if c["exact_iter"] == 20160 and c["test"] == "knha")
    yi, vi, mods = _frame(case, case["rows"])
    iter_ = 4000
    a = permutest(yi, vi, mods, method=case["method"], test=case["test"], permutations=iter_, exact=False)
    b = permutest(yi, vi, mods, method=case["method"], test=case["test"], permutations=iter_, exact=False)
    c = permutest(yi, vi, mods, method=case["method"], test=case["test"], permutations=iter_, exact=False, seed=1)
    pd.testing.assert_frame_equal(a, b)
    assert not a["exact"].any() and (a["permutations"] == iter_).all()
    assert not np.array_equal(a["p_perm"], c["p_perm"])
    exact = np.r_[case["pval"], case["QMp_perm"]]
    mc_se = np.sqrt(exact * (1 - exact) / iter_)
    assert np.all(np.abs(a["p_perm"] - exact) < 4 * mc_se + 1 / iter_)
    assert 0 < exact[1] < 1


def test_distinct_permutations_of_tied_rows():
    codes = np.array([0, 1, 1, 2, 2, 2])
    perms = _distinct_permutations(codes)
    assert perms.shape == (math.factorial(6) // (2 * 6), 6)
    assert len({tuple(r) for r in perms}) == perms.shape[0]
    assert all(sorted(r) == sorted(codes) for r in perms)


def _bcg():
    return _frame({"dataset": "bcg", "mods": ["ablat", "alloc"]})


def _fixture(mods, method="REML", test="knha", dataset="bcg"):
    return next(c for c in REF["metareg"] if c["dataset"] == dataset and c["mods"] == mods
                and c["method"] == method and c["test"] == test)


def test_unfittable_strata_get_a_note_and_do_not_lose_the_others():
    yi, vi, mods = _bcg()
    k = len(yi)
    constant = mods.assign(ablat=30.0)
    one_level = mods.assign(alloc="random")
    stacked = pd.concat([mods, constant, one_level, mods.iloc[:2]], ignore_index=True)
    groups = ["a"] * k + ["b"] * k + ["c"] * k + ["d"] * 2
    y, v = np.tile(yi, 4)[: 3 * k + 2], np.tile(vi, 4)[: 3 * k + 2]
    for term in (["ablat"], ["alloc"]):
        coefs, models = metareg(y, v, stacked[term], groups=groups, test="knha")
        m = models.set_index("group")
        expected = _fixture(term)
        a = coefs[coefs.group == "a"]
        assert list(a["term"]) == expected["coef"]["name"]
        close(a["estimate"], expected["coef"]["estimate"])
        close(a["se"], expected["coef"]["se"])
        close(m.loc["a", ["qm", "tau2", "r2"]], [expected["QM"], expected["tau2"], expected["R2"]])
        assert m.loc["a", "note"] == "" and m.loc["a", "converged"]
        broken = "b" if term == ["ablat"] else "c"
        reason = "ablat is constant" if term == ["ablat"] else "alloc has a single level"
        assert m.loc[broken, "note"].startswith(reason) and not m.loc[broken, "converged"]
        assert m.loc[broken, ["qm", "tau2", "i2", "r2"]].isna().all()
        assert coefs.loc[coefs.group == broken, "estimate"].isna().all()
        assert m.loc[broken, "k"] == k
        # two studies: no residual df for ablat; both allocated at random
        d_reason = "k = 2 <= 2 coefficients" if term == ["ablat"] else "alloc has a single level"
        assert m.loc["d", "note"].startswith(d_reason)
        assert np.isnan(m.loc["d", "qm"])


def test_level_absent_from_a_stratum_drops_its_dummy():
    yi, vi, mods = _bcg()
    two = mods["alloc"] != "systematic"
    both = np.r_[np.arange(len(yi)), np.flatnonzero(two)]
    groups = ["all"] * len(yi) + ["no systematic"] * two.sum()
    coefs, models = metareg(yi[both], vi[both], mods.iloc[both][["alloc"]], groups=groups)
    m = models.set_index("group")
    assert m.loc["no systematic", "n_coefs"] == 2 and m.loc["all", "n_coefs"] == 3
    assert m.loc["no systematic", "note"] == "level absent in this stratum, term dropped: allocsystematic"
    sub = coefs[coefs.group == "no systematic"]
    assert list(sub["term"]) == ["intrcpt", "allocrandom"]
    alone, alone_m = metareg(yi[two], vi[two], mods.loc[two, ["alloc"]])
    close(sub["estimate"], alone["estimate"])
    close(sub["se"], alone["se"])
    close(m.loc["no systematic", "qm"], alone_m["qm"])
    expected = _fixture(["alloc"])
    close(coefs.loc[coefs.group == "all", "estimate"], expected["coef"]["estimate"])


@pytest.mark.parametrize("case", [c for c in REBASED["metareg"] if c["group"] == "GYMNO"],
                         ids=lambda c: f"{'+'.join(c['mods'])}-{c['method']}-{c['test']}")
def test_stratum_without_the_reference_level_takes_its_first_level(case):
    """A stratum without the moderator's first level (Curtis 1998: no ACER among the gymnosperms,
    no pot of 0.04 among the angiosperms) is fitted with its own first level as reference, as
    metafor on the stratum's rows; it was "not fitted"."""
    d = pd.DataFrame(REBASED["data"])
    coefs, models = metareg(d["yi"], d["vi"], d[case["mods"]], groups=d["fungrp"], method=case["method"],
                            test=case["test"])
    m = models.set_index("group")
    for c in [x for x in REBASED["metareg"] if x["mods"] == case["mods"] and x["method"] == case["method"]]:
        g = c["group"]
        got = coefs[coefs.group == g]
        assert list(got["term"]) == c["term"]
        for col in ("estimate", "se", "stat", "p", "ci_low", "ci_high"):
            close(got[col], c[col])
        assert m.loc[g, "converged"] and m.loc[g, "n_coefs"] == len(c["term"])
        df1, df2 = (c["QMdf"] + [None])[:2]
        close(m.loc[g, ["qm", "qm_df1", "qm_df2", "qm_p", "tau2", "i2", "q", "q_p", "r2"]].astype(float),
              [c["QM"], df1, df2, c["QMp"], c["tau2"], c["I2"], c["QE"], c["QEp"], c["R2"]])
        first = d[case["mods"][0]][d.fungrp == g].min()
        assert first == c["first_level"]
        if first != sorted(d[case["mods"][0]])[0]:
            assert m.loc[g, "note"].startswith(f"reference level {sorted(d[case['mods'][0]])[0]!r} of "
                                               f"{case['mods'][0]} absent in this stratum: {first!r} is its reference")
    assert m.loc["N2FIX", "note"].endswith("not fitted")  # one genus, one pot


def test_missing_moderators_are_dropped_and_counted():
    yi, vi, mods = _bcg()
    mods = mods.copy()
    yi = yi.copy()
    mods.loc[0, "ablat"] = np.nan
    yi[1] = np.nan
    mods.loc[7, "alloc"] = None
    groups = np.array(["y"] * len(yi))
    groups[[0, 1, 2, 3, 4, 9, 10]] = "x"  # both strata keep all three allocation levels
    coefs, models = metareg(yi, vi, mods, groups=groups, method="DL", test="z")
    m = models.set_index("group")
    assert list(m["k_omitted"]) == [2, 1] and list(m["k"]) == [5, 5]
    assert (m["note"] == "").all()
    for g in ("x", "y"):
        keep = (groups == g) & mods.notna().all(axis=1).to_numpy() & np.isfinite(yi)
        alone_c, alone_m = metareg(yi[keep], vi[keep], mods[keep], method="DL", test="z")
        got = coefs[coefs.group == g]
        assert list(got["term"]) == list(alone_c["term"]) == ["intrcpt", "ablat", "allocrandom",
                                                              "allocsystematic"]
        for col in ("estimate", "se", "p", "ci_low"):
            close(got[col], alone_c[col])
        close(m.loc[g, ["qm", "tau2", "q", "r2"]], alone_m.loc[0, ["qm", "tau2", "q", "r2"]])


def test_design_names_and_coding_follow_model_matrix():
    mods = pd.DataFrame({
        "dose": [1.0, 2.0, np.nan, 4.0],
        "sex": ["male", "Female", "female", None],
        "blinded": [True, False, True, False],
        "strain": pd.Categorical(["b6", "sd", "b6", "wistar"], categories=["sd", "wistar", "b6"]),
    })
    X, names = design(mods)
    assert names == ["dose", "sexFemale", "sexmale", "blindedTRUE", "strainwistar", "strainb6"]
    expected = np.array([
        [1, 0, 1, 1, 0, 1],
        [2, 1, 0, 0, 0, 0],
        [np.nan, 0, 0, 1, 0, 1],
        [4, np.nan, np.nan, 0, 1, 0],
    ])
    np.testing.assert_array_equal(X, expected)


@pytest.mark.parametrize("case", [pytest.param(c, id=_id(c)) for c in REF["metareg"]
                                  if c["dataset"] == "bcg" and c["mods"] == ["ablat", "year", "alloc"]])
def test_fit_takes_mods_as_a_data_frame(case):
    """premeta.fit with a DataFrame of numeric and text moderators: metafor's coefficients."""
    yi, vi, mods = _frame(case)
    f = fit(yi, vi, method=case["method"], test=case["test"], mods=mods)
    close(f.beta[0], case["coef"]["estimate"])
    close(f.se[0], case["coef"]["se"])
