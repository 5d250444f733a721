"""Every quantity of premeta's models against metafor on published data (tests/reference)."""

import numpy as np
import pandas as pd
import pytest
from helpers import close
from hypothesis import given, settings
from hypothesis import strategies as st

import premeta
from premeta.models import adjust_p, subgroup_tests

QUANTITIES = ["k", "estimate", "se", "ci_low", "ci_high", "stat", "df", "p", "pi_low", "pi_high",
              "tau2", "tau2_se", "tau2_ci_low", "tau2_ci_high", "i2", "i2_ci_low", "i2_ci_high",
              "h2", "q", "q_df", "q_p"]



def pytest_generate_tests(metafunc):
    if "rma_case" in metafunc.fixturenames:
        import json

        from helpers import REFERENCE
        ref = json.loads(REFERENCE.read_text())
        metafunc.parametrize("rma_case", [
            pytest.param(c, id=f"{c['dataset']}-{c['method']}-{c['test']}-{c['level']}")
            for c in ref["rma"]])


def test_rma_matches_metafor(rma_case):
    c = rma_case
    yi, vi = (np.array([np.nan if x is None else x for x in c[v]], dtype=float) for v in ("yi", "vi"))
    ok = np.isfinite(yi) & np.isfinite(vi)  # metafor drops rows with missing values (na.omit)
    groups = np.array(c["groups"] if c["groups"] is not None else ["overall"] * len(yi))[ok]
    f = premeta.fit(yi[ok], vi[ok], groups=groups if c["groups"] is not None else None,
                    method=c["method"], test=c["test"], level=c["level"])
    table = f.table()
    assert list(table["group"]) == [r["group"] for r in c["results"]]
    assert table["converged"].all()
    for q in QUANTITIES:
        expected = [r[q] for r in c["results"]]
        if q == "df" and c["test"] == "z":
            expected = [None] * len(expected)
        close(table[q], expected, atol=1e-9 if not q.startswith("i2") else 1e-7)
    for r in c["results"]:
        close(f.weights[groups == r["group"]], [w for w in r["weights"] if w is not None])


def test_subgroup_tests_match_metafor(metafor):
    checked = 0
    for s in metafor["subgroup"]:
        c = next(r for r in metafor["rma"] if r["dataset"] == s["dataset"] and r["method"] == s["method"]
                 and r["test"] == s["test"] and r["level"] == 95)
        out = subgroup_tests(c["yi"], c["vi"], c["groups"], method=s["method"], test=s["test"])
        qb, qm = out.iloc[0], out.iloc[1]
        close([qb.stat, qb.df1, qb.p], [s["qb"], s["qb_df"], s["qb_p"]])
        close([qm.stat, qm.df1, qm.df2, qm.p, qm.tau2],
              [s["qm"], s["qm_df1"], s["qm_df2"], s["qm_p"], s["qm_tau2"]])
        p = premeta.rma(c["yi"], c["vi"], c["groups"], s["method"], s["test"])["p"]
        close(adjust_p(p, "holm"), s["p_holm"])
        close(adjust_p(p, "bonferroni"), s["p_bonferroni"])
        checked += 1
    assert checked == 3 * 8 * 2


def test_adjust_p_leaves_missing_values_out_and_keeps_ties_as_r():
    """R 4.2: p.adjust(c(0.01, NA, 0.04, 0.03, 0.005), "holm"), the same with "bonferroni" (last value
    0.5), and p.adjust(c(0.02, 0.02, 0.01), "holm"): a missing p is kept and not counted in m."""
    np.testing.assert_allclose(adjust_p([0.01, np.nan, 0.04, 0.03, 0.005], "holm"),
                               [0.03, np.nan, 0.06, 0.06, 0.02], rtol=1e-15)
    np.testing.assert_allclose(adjust_p([0.01, np.nan, 0.04, 0.5], "bonferroni"), [0.03, np.nan, 0.12, 1.0],
                               rtol=1e-15)
    np.testing.assert_allclose(adjust_p([0.02, 0.02, 0.01], "holm"), [0.04, 0.04, 0.03], rtol=1e-15)
    assert np.isnan(adjust_p([np.nan, np.nan], "holm")).all()
    with pytest.raises(ValueError, match="method must be one of holm, bonferroni"):
        adjust_p([0.1], "fdr")


def test_k1_stratum_is_its_own_estimate_and_others_unaffected():
    yi = [0.5, 0.2, 0.9, 0.4, 1.1]
    vi = [0.04, 0.05, 0.06, 0.05, 0.09]
    g = ["a", "b", "b", "b", "b"]
    t = premeta.rma(yi, vi, g, method="REML", test="knha")
    a, b = t.iloc[0], t.iloc[1]
    assert a.k == 1 and a.estimate == 0.5 and a.se == pytest.approx(0.2)
    assert a.test == "z" and np.isnan(a.tau2) and np.isnan(a.i2) and np.isnan(a.pi_low)
    assert a.ci_low == pytest.approx(0.5 - 1.959963984540054 * 0.2)
    assert "k = 1" in a.note
    alone = premeta.rma(yi[1:], vi[1:], method="REML", test="knha").iloc[0]
    for q in ["estimate", "se", "tau2", "ci_low", "pi_high", "tau2_ci_high"]:
        assert b[q] == pytest.approx(alone[q], rel=1e-12)


def test_equal_vi_and_boundary_tau2():
    # identical effects: tau2 at its boundary 0, I2 0, Q 0, all estimators agree
    for method in premeta.METHODS:
        t = premeta.rma([0.3] * 4, [0.1] * 4, method=method).iloc[0]
        assert t.tau2 == 0 and t.estimate == pytest.approx(0.3) and t.q == pytest.approx(0)
        assert t.se == pytest.approx(np.sqrt(0.1 / 4))


@pytest.mark.parametrize("vi, rule", [([0.1, 0.0, 0.2], "vi <= 0 in rows 1"),
                                      ([0.1, np.nan, 0.2], "vi is missing or not finite in rows 1")])
def test_bad_vi_names_rows(vi, rule):
    with pytest.raises(ValueError, match=rule):
        premeta.rma([0.1, 0.2, 0.3], vi)


def test_many_strata_equal_separate_fits():
    rng = np.random.default_rng(1)
    G, k = 50, 6
    yi = rng.normal(0.5, 0.6, G * k)
    vi = rng.uniform(0.02, 0.3, G * k)
    g = np.repeat([f"s{i:02d}" for i in range(G)], k)
    batch = premeta.rma(yi, vi, g, method="REML", test="knha")
    for i in (0, 17, 49):
        one = premeta.rma(yi[g == f"s{i:02d}"], vi[g == f"s{i:02d}"], method="REML", test="knha")
        pd.testing.assert_series_equal(batch.iloc[i].drop("group"), one.iloc[0].drop("group"),
                                       check_names=False, rtol=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-3, 3), st.floats(0.005, 2)), min_size=2, max_size=30),
       st.sampled_from(premeta.METHODS), st.sampled_from(premeta.TESTS))
def test_properties(rows, method, test):
    yi, vi = map(list, zip(*rows))
    t = premeta.rma(yi, vi, method=method, test=test).iloc[0]
    assert t.tau2 >= 0
    assert t.ci_low <= t.estimate <= t.ci_high
    assert 0 <= t.i2 <= 100
    if method != "FE":
        assert t.tau2_ci_low <= t.tau2_ci_high
        assert t.pi_low <= t.ci_low and t.pi_high >= t.ci_high
