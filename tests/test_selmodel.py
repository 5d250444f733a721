"""Selection models against metafor's selmodel() (tests/reference/make_selmodel_fixtures.R)."""

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import close
from scipy import integrate

import premeta
from premeta import selection
from premeta.errors import NotComputable

REFERENCE = json.loads((Path(__file__).parent / "reference" / "metafor_selmodel.json").read_text())
CASES = REFERENCE["cases"]
SCALARS = ["estimate", "se", "stat", "p", "ci_low", "ci_high", "tau2", "tau2_se", "lrt", "lrt_df", "lrt_p",
           "loglik", "k"]
#: Quantities from the Hessian. metafor differentiates its likelihood numerically (numDeriv), each value
#: of which integrates every study by integrate(); on Lehmann 2018 (81 studies) integrate() stops with a
#: roundoff error below rel.tol = 1e-10, and the finite differences magnify that error to 4e-4 of the SEs
#: and 1e-3 of the lower CI bound (-0.306): numDeriv's r = 6 and r = 4 give SEs of mu 0.424593 and
#: 0.424426; premeta's, from a quadrature within 1e-13 of the integral, 0.424583. Where integrate()
#: reaches 1e-11 or 1e-12 (Baskerville 2012, Besson 2016) they agree at 1e-6, as every other quantity does.
FROM_HESSIAN = {"se", "stat", "p", "ci_low", "ci_high", "tau2_se", "delta_se"}


def _rtol(ref, q):
    return 2e-3 if q in FROM_HESSIAN and (ref["int_rel_tol"] or 0) >= 1e-10 else 1e-6


def _run(case):
    return premeta.selmodel(case["yi"], case["vi"], type=case["type"], steps=case["steps"],
                            alternative=case["alternative"], groups=case["groups"])


@pytest.mark.parametrize("name", list(CASES))
def test_selmodel_matches_metafor(name):
    case = CASES[name]
    out = _run(case).set_index("group")
    assert list(out.index) == list(case["results"])
    for group, ref in case["results"].items():
        row = out.loc[group]
        if ref["tau2_free"] is None:
            assert row["note"] == ""
        else:  # the optimum is at tau2 = 0, where metafor's optimiser stops short (the reference fixes it)
            assert row["note"].startswith("tau2 = 0, at its bound")
            assert 0 < ref["tau2_free"] < 1e-5 and row["loglik"] >= ref["loglik_free"] - 1e-9
        for q in SCALARS:
            close(row[q], ref[q], rtol=_rtol(ref, q))
        delta = np.atleast_1d(ref["delta"])
        close([row[f"delta_{j + 1}"] for j in range(len(delta))], delta)
        close([row[f"delta_se_{j + 1}"] for j in range(len(delta))], ref["delta_se"], rtol=_rtol(ref, "delta_se"))
        if ref["ptable"] is not None:
            ptable = np.atleast_1d(ref["ptable"])
            assert [row[f"ptable_{j + 1}"] for j in range(len(ptable))] == list(ptable)


def test_stepfun_without_groups_is_one_row_overall():
    case = CASES["hackshaw_step"]
    out = premeta.selmodel(case["yi"], case["vi"], steps=0.025)
    assert list(out["group"]) == ["overall"] and out["steps"].iloc[0] == "0.025, 1"
    assert out["type"].iloc[0] == "stepfun" and "delta_se_1" in out


def test_strata_fitted_together_equal_each_alone():
    case = CASES["besson_step"]
    together = _run(case).set_index("group")
    groups = np.asarray(case["groups"])
    for g in together.index:
        i = groups == g
        alone = premeta.selmodel(np.asarray(case["yi"])[i], np.asarray(case["vi"])[i], steps=case["steps"]).iloc[0]
        for q in ["estimate", "se", "tau2", "delta_2", "loglik"]:
            close(together.loc[g, q], alone[q])


def test_empty_interval_is_not_computable():
    e = REFERENCE["empty_interval"]
    assert "do not contain any observed p-values" in e["error"]  # metafor stops
    with pytest.raises(NotComputable, match="no p-value in the interval"):
        premeta.selmodel(e["yi"], e["vi"], steps=e["steps"])


def test_too_few_studies_is_not_computable():
    with pytest.raises(NotComputable, match="too few studies"):
        premeta.selmodel([0.1, 0.5], [0.01, 0.02], steps=0.5)
    with pytest.raises(NotComputable, match="too few studies"):
        premeta.selmodel([0.1, 0.5, 0.2], [0.01, 0.02, 0.03], type="beta")


def test_a_stratum_that_cannot_be_fitted_gets_a_note():
    case = CASES["hackshaw_step"]
    yi = list(case["yi"]) + [0.1, 0.2]
    vi = list(case["vi"]) + [0.01, 0.02]
    groups = ["a"] * len(case["yi"]) + ["b", "b"]
    out = premeta.selmodel(yi, vi, steps=0.025, groups=groups).set_index("group")
    ref = case["results"]["overall"]
    close(out.loc["a", "estimate"], ref["estimate"])
    assert np.isnan(out.loc["b", "estimate"]) and "too few studies" in out.loc["b", "note"]


def test_no_convergence_is_not_computable(monkeypatch):
    monkeypatch.setattr(selection, "_MAXITER", 1)
    case = CASES["hackshaw_steps4"]
    with pytest.raises(NotComputable, match="did not converge"):
        premeta.selmodel(case["yi"], case["vi"], steps=case["steps"])


@pytest.mark.parametrize("kwargs, message", [
    (dict(type="gamma"), "type must be"),
    (dict(alternative="both"), "alternative must be"),
    (dict(method="REML"), "maximum likelihood"),
    (dict(steps=1.5), "between 0 and 1"),
    (dict(type="halfnorm", steps=[0.05, 0.5]), "single threshold"),
])
def test_wrong_arguments(kwargs, message):
    case = CASES["hackshaw_step"]
    with pytest.raises(ValueError, match=message):
        premeta.selmodel(case["yi"], case["vi"], **kwargs)


@pytest.mark.parametrize("type, delta, alternative, steps", [
    ("beta", [0.5, 1.5], "greater", None), ("beta", [0.2, 3.0], "two.sided", None),
    ("halfnorm", [30.0], "greater", None), ("negexp", [5.0], "less", None),
    ("logistic", [80.0], "greater", None), ("power", [3.0], "two.sided", None),
    ("negexp", [4.0], "greater", [0.05, 1.0]),
])
def test_quadrature_reaches_1e_12(type, delta, alternative, steps):
    """A_i of the continuous types against scipy's adaptive quadrature at 1e-13 (cut at every kink)."""
    case = CASES["hackshaw_step"]
    y, v = np.array([case["yi"]]), np.array([case["vi"]])
    prob = selection._Problem(y, v, np.ones_like(y, dtype=bool), type, None if steps is None else np.array(steps),
                              alternative)
    d = np.array([delta])
    for mu, tau2 in [(0.2, 0.02), (1.5, 0.001), (-0.5, 0.5)]:
        a = prob._integral(np.array([[mu]]), np.sqrt(v + tau2), d)[0]
        for i in (0, 20, 36):
            sd, s = np.sqrt(v[0, i]), np.sqrt(v[0, i] + tau2)

            def f(t, sd=sd, s=s, mu=mu):
                p = np.clip(selection._pvalues(np.array([t / sd]), alternative), prob.pval_min, 1 - prob.pval_min)
                return selection._weight(p, d[0], type, prob.step)[0] * np.exp(-0.5 * ((t - mu) / s) ** 2) / (
                    s * np.sqrt(2 * np.pi))

            points = sorted({0.0, mu, *(sd * np.linspace(-10, 10, 41))})
            ref = integrate.quad(f, -60, 60, points=points, limit=2000, epsabs=0, epsrel=1e-13)[0]
            assert abs(a[i] / ref - 1) < 1e-12


def test_no_stratum_analysable_is_not_computable():
    with pytest.raises(NotComputable, match="no stratum can be analysed: a, b: k = 2: too few studies"):
        premeta.selmodel([0.1, 0.5, 0.2, 0.3], [0.01, 0.02, 0.03, 0.01], groups=["a", "a", "b", "b"])


def test_an_empty_interval_of_a_preston_threshold_is_not_computable():
    e = REFERENCE["empty_interval"]
    with pytest.raises(NotComputable, match="no p-value in the interval 0 < p <= 1e-06"):
        premeta.selmodel(e["yi"], e["vi"], type="negexp", steps=1e-6)
