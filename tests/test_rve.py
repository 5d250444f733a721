"""Robust variance estimation against robumeta's robu() (CORR and HIER, small-sample or not).

Reference: tests/reference/robumeta_rve.json, written by make_rve_fixtures.R on robumeta's
corrdat and hierdat and metadat's dat.assink2016 and dat.konstantopoulos2011.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import REPO, close, run

import premeta
from premeta.robumeta import rve

REF = json.loads((Path(__file__).parent / "reference" / "robumeta_rve.json").read_text())
CASES = {f"{c['dataset']}-{c['model']}-rho{c['rho']}-{'small' if c['small'] else 'htj'}": c
         for c in REF["robu"]}
RTOL, ATOL = 1e-10, 1e-12


def _fit(c, **kw):
    rho = 0.8 if c["rho"] is None else c["rho"]
    return rve(c["yi"], c["vi"], c["cluster"], c["mods"], model=c["model"], rho=rho, small=c["small"], **kw)


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    c = CASES[request.param]
    return c, _fit(c)


def test_rve_matches_robumeta(case):
    c, f = case
    assert (f.n_clusters, f.k, len(f.beta)) == (c["N"], c["M"], c["p"] + 1)
    for name, key in (("beta", "b_r"), ("se", "SE"), ("stat", "t"), ("df", "dfs"), ("p", "prob"),
                      ("ci_low", "CI_L"), ("ci_high", "CI_U"), ("vcov", "VR_r"), ("tau2", "tau_sq"),
                      ("q", "QE"), ("weights", "r_weights")):
        close(getattr(f, name), c[key], rtol=RTOL, atol=ATOL)
    if c["model"] == "CORR":
        close(f.i2, c["I_2"], rtol=RTOL, atol=ATOL)
        assert np.isnan(f.omega2)
    else:
        close(f.omega2, c["omega_sq"], rtol=RTOL, atol=ATOL)
        assert np.isnan(f.i2)


def test_rve_table(case):
    c, f = case
    t = f.table()
    assert list(t.columns) == ["term", "estimate", "se", "stat", "df", "p", "ci_low", "ci_high"]
    assert t.term[0] == "intrcpt" and len(t) == c["p"] + 1
    close(t["estimate"], c["b_r"], rtol=RTOL, atol=ATOL)


def test_rve_truncates_negative_components():
    c = CASES["hierdat_binge-HIER-rhoNone-small"]
    assert c["omega_sq"] == 0 and _fit(c).omega2 == 0.0


def test_rve_row_order_and_cluster_labels():
    """Rows in any order and clusters under any labels give the same fit (weights follow rows)."""
    c = CASES["corrdat_mods-CORR-rho0.8-small"]
    f = _fit(c)
    perm = np.random.default_rng(1).permutation(len(c["yi"]))
    mods = np.asarray(c["mods"])[perm]
    labels = np.array([f"s{x}" for x in c["cluster"]])[perm]
    g = rve(np.asarray(c["yi"])[perm], np.asarray(c["vi"])[perm], labels, mods, rho=0.8)
    for name in ("beta", "se", "df", "p", "tau2", "i2"):
        close(getattr(g, name), getattr(f, name), rtol=1e-9, atol=ATOL)
    close(g.weights, f.weights[perm], rtol=1e-9, atol=ATOL)


def test_rve_level():
    c = CASES["hierdat_mods-HIER-rhoNone-small"]
    f95, f90 = _fit(c), _fit(c, level=90)
    from scipy import stats
    close(f90.ci_high - f90.beta, stats.t.ppf(0.95, f95.df) * f95.se, rtol=RTOL, atol=ATOL)
    assert np.all(f90.ci_high - f90.ci_low < f95.ci_high - f95.ci_low)


def test_rve_rejects_bad_input():
    c = CASES["corrdat-CORR-rho0.8-small"]
    with pytest.raises(ValueError, match="rho"):
        rve(c["yi"], c["vi"], c["cluster"], rho=1.2)
    with pytest.raises(ValueError, match="model"):
        rve(c["yi"], c["vi"], c["cluster"], model="FE")
    with pytest.raises(ValueError, match="clusters"):
        rve(c["yi"][:3], c["vi"][:3], [1, 1, 1])


def test_rve_exported():
    assert premeta.rve is rve and "rve" in premeta.__all__


@pytest.mark.workflow
def test_workflow_rve_model(tmp_path):
    """`dependence: rve` with `rve_model: HIER` in the workflow: the model named in the table of
    choice and the report, no rho (HIER has none), estimates equal to premeta.rve on the effects.
    Both names given in another case, as the settings accept them."""
    example = REPO / "tests" / "data" / "syrf" / "quantitative_data_example.csv"
    run(tmp_path, "--config", f"data={example}", "dependence=RVE", "rve_model=hier", "analyses=[dependence]")
    results = tmp_path / "results"
    assert pd.read_csv(results / "primary.csv").model.iloc[0].startswith("robu (HIER)")
    assert pd.read_csv(results / "dependence_rho.csv").note.tolist() == [
        "the sensitivity to rho is computed for dependence: rve with rve_model: CORR; this run's HIER working model "
        "has no rho"]
    e = pd.read_csv(results / "effect_sizes.csv")
    f = rve(e["yi"], e["vi"], e["study"].astype(str), model="HIER", small=True)
    overall = pd.read_csv(results / "primary.csv").set_index("group").loc["overall"]
    close([overall.estimate, overall.se, overall.df, overall.tau2, overall.sigma2_within],
          [f.beta[0], f.se[0], f.df[0], f.tau2, f.omega2], rtol=1e-12, atol=1e-15)
    html = (results / "report.html").read_text()
    assert 'modelweights = "HIER"' in html and "rho = 0" not in html and "Sensitivity to the assumed" not in html
