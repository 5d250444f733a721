"""Sensitivity analyses of the open replication of Reis et al. (2019) (github.com/matheusglls/minocycline,
meta_analyses_main_report.Rmd) on data/minocycline/: leave-one-cluster-out (robumeta RVE; metafor
rma.mv + clubSandwich CR2) and its OLS Egger regressions.

Reference: tests/reference/minocycline_sensitivity.json, written by
make_minocycline_sensitivity_fixtures.R. Analysis A: the published effects clustered by study;
Analysis C: `Complete data.csv` without Wong_2016, SMD on the replication's sign (negative =
antidepressant-like), clustered by exp_id. 1e-10 relative, 1e-6 for rma.mv (iterative REML).
"""

import json
from pathlib import Path

import numpy as np
import pytest

from premeta.bias import egger, egger_ols
from premeta.sensitivity import leave1cluster

REF = json.loads((Path(__file__).parent / "reference" / "minocycline_sensitivity.json").read_text())
COLS = ("k", "estimate", "se", "stat", "df", "p", "ci_low", "ci_high", "delta", "pct_change")
#: the fixtures' (R's) name of each column
REF_NAME = {"stat": "t", "ci_low": "ci_lb", "ci_high": "ci_ub"}


def _same(actual, expected, rtol, atol=0.0):
    np.testing.assert_allclose(np.asarray(actual, dtype=float), np.asarray(expected, dtype=float),
                               rtol=rtol, atol=atol)


def _data(a):
    d = REF[a]
    return np.array(d["yi"]), np.array(d["vi"]), d["cluster"], np.array(d["n_total"], dtype=float)


def _check_loo(out, ref, rtol):
    assert list(out.columns) == list(COLS)
    assert [str(c) for c in out.index] == [str(c) for c in ref["cluster"]]
    full = ref["full"]["estimate"]
    _same(out.attrs["full_estimate"], full, rtol)
    for col in COLS:
        # delta is a difference of two estimates, each at rtol: its error is relative to |full|
        atol = rtol * abs(full) * (100 / abs(full) if col == "pct_change" else 1) \
            if col in ("delta", "pct_change") else 0.0
        _same(out[col], ref["results"][REF_NAME.get(col, col)], rtol, atol)


@pytest.mark.parametrize("a", ["A", "C"])
def test_leave1cluster_rve_matches_robumeta(a):
    yi, vi, cl, _ = _data(a)
    out = leave1cluster(yi, vi, cl, method="rve", rho=0.8, small=True)
    assert len(out) == len(set(cl)) and (out["k"] < len(yi)).all()
    _check_loo(out, REF[a]["leave1cluster_rve"], 1e-10)


def test_leave1cluster_rve_benefit_sign():
    """premeta's sign (positive = benefit): estimates, bounds and delta change sign, se/df/p do not."""
    yi, vi, cl, _ = _data("C")
    ref = REF["C"]["leave1cluster_rve"]["results"]
    out = leave1cluster(-yi, vi, cl)
    _same(-out["estimate"], ref["estimate"], 1e-10)
    _same(-out["ci_high"], ref["ci_lb"], 1e-10)
    _same(-out["delta"], ref["delta"], 1e-10, 1e-12)
    _same(-out["pct_change"], ref["pct_change"], 1e-10, 1e-10)
    _same(out["se"], ref["se"], 1e-10)
    _same(out["p"], ref["p"], 1e-10)


def test_leave1cluster_multilevel_matches_metafor_clubsandwich():
    yi, vi, cl, _ = _data("A")
    out = leave1cluster(yi, vi, cl, method="multilevel")
    _check_loo(out, REF["A"]["leave1cluster_multilevel"], 1e-6)


def test_leave1cluster_matches_replication_tables():
    """The replication's report_tables/leave_one_out_{A,C}.csv at their printed precision (the
    largest changes first)."""
    yi, vi, cl, _ = _data("A")
    out = leave1cluster(yi, vi, cl)
    top = out.reindex(out["delta"].abs().sort_values(ascending=False).index).head(3)
    assert [int(c) for c in top.index] == [21, 20, 33]
    assert list(top["k"]) == [70, 69, 70]
    assert [f"{x:.2f} [{lo:.2f}, {hi:.2f}]" for x, lo, hi in zip(top.estimate, top.ci_low, top.ci_high)] == \
        ["-1.00 [-1.31, -0.70]", "-1.02 [-1.33, -0.70]", "-1.12 [-1.44, -0.80]"]
    assert [f"{d:+.3f}" for d in top["delta"]] == ["+0.071", "+0.057", "-0.046"]
    assert [f"{p:+.1f}%" for p in top["pct_change"]] == ["+6.6%", "+5.3%", "-4.3%"]
    yi, vi, cl, _ = _data("C")
    out = leave1cluster(yi, vi, cl)
    top = out.reindex(out["delta"].abs().sort_values(ascending=False).index).head(2)
    assert list(top.index) == ["Saravi_2016a_Group1", "Saravi_2016b_Group5"]
    assert list(top["k"]) == [107, 106]
    assert [f"{d:+.3f}" for d in top["delta"]] == ["+0.047", "+0.044"]
    assert [f"{p:+.1f}%" for p in top["pct_change"]] == ["+3.9%", "+3.6%"]


def test_leave1cluster_errors():
    with pytest.raises(ValueError, match="method"):
        leave1cluster([1.0, 2, 3], [1.0, 1, 1], [1, 2, 3], method="x")
    with pytest.raises(ValueError, match="3 clusters"):
        leave1cluster([1.0, 2, 3], [1.0, 1, 1], [1, 1, 2])


KEYS = ("intercept", "intercept_se", "intercept_t", "intercept_p", "slope", "slope_se", "slope_t",
        "slope_p", "df", "sigma")


def _replication(t):
    """egger_ols's table in the replication's (the fixtures') names."""
    out = {"df": t.df[0], "sigma": t.sigma[0], "k": t.k[0]}
    for i, name in enumerate(("intercept", "slope")):
        out |= {name: t.estimate[i], f"{name}_se": t.se[i], f"{name}_t": t.stat[i], f"{name}_p": t.p[i]}
    return out


@pytest.mark.parametrize("a", ["A", "C"])
@pytest.mark.parametrize("precision", ["SE", "sqrtn"])
def test_egger_ols_matches_replication_lm(a, precision):
    yi, vi, _, n = _data(a)
    ref = REF[a]["egger"][precision]
    t = egger_ols(yi, np.sqrt(vi) if precision == "SE" else 1 / np.sqrt(n))
    assert list(t.term) == ["intrcpt", "slope"]
    e = _replication(t)
    assert e["k"] == ref["n_used"] and e["df"] == len(yi) - 2
    for key in KEYS:
        _same(e[key], ref[key], 1e-10)
    _same(e["slope_p"], ref["slope_p_upper"], 1e-10)


@pytest.mark.parametrize("a", ["A", "C"])
def test_egger_lm_is_the_replication_se_test(a):
    """premeta's egger(model="lm") is the replication's SE test with intercept and slope swapped;
    with predictor "sqrtninv" it weights by 1/vi, the replication by n, so it differs."""
    yi, vi, _, n = _data(a)
    ref = REF[a]["egger"]["SE"]
    e = egger(yi, vi, model="lm").iloc[0]
    _same([e["slope"], e["slope_se"], e["stat"], e["p"], e["df"], e["estimate"]],
          [ref["intercept"], ref["intercept_se"], ref["intercept_t"], ref["intercept_p"], ref["df"],
           ref["slope"]], 1e-10)
    s = egger(yi, vi, predictor="sqrtninv", ni=n, model="lm").iloc[0]
    assert abs(s["slope"] / REF[a]["egger"]["sqrtn"]["intercept"] - 1) > 0.1


def test_egger_matches_replication_tables():
    """report_tables/egger_A.csv and egger_C.csv at their printed precision."""
    printed = {"A": [(-5.478, 0.925, -5.92, 1.779, 0.458), (-1.527, 4.9, -0.31, -0.834, 1.066)],
               "C": [(-5.13, 0.554, -9.26, 1.733, 0.293), (-9.143, 3.826, -2.39, 0.803, 0.897)]}
    for a, rows in printed.items():
        yi, vi, _, n = _data(a)
        for sei, row in zip((np.sqrt(vi), 1 / np.sqrt(n)), rows):
            e = _replication(egger_ols(yi, sei))
            got = (round(e["intercept"], 3), round(e["intercept_se"], 3), round(e["intercept_t"], 2),
                   round(e["slope"], 3), round(e["slope_se"], 3))
            assert got == row


def test_egger_ols_errors():
    with pytest.raises(ValueError, match="at least 3"):
        egger_ols([1.0, 2.0], [0.1, 0.2])
    with pytest.raises(ValueError, match="constant"):
        egger_ols([1.0, 2.0, 3.0], [0.2, 0.2, 0.2])
