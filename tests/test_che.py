"""The CHE working model (rma_mv(..., rho=r)) and its CR2 tests against metafor and clubSandwich.

Reference: tests/reference/metafor_che.json, written by make_che_fixtures.R
(``vcalc(vi, cluster = study, obs = es_id, rho = r)``, ``rma.mv(yi, V, random = ~ 1 | study/es_id)``,
``coef_test(fit, vcov = "CR2", cluster = study)``) on dat.assink2016 (r = 0.6, 0.8) and the
minocycline data of Reis et al. (2019) (r = 0.8).
"""

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import close, ours

from premeta.multilevel import _parts, _reml_dense, rma_mv, robust

HERE = Path(__file__).parent / "reference"
REF = json.loads((HERE / "metafor_che.json").read_text())
CASES = {c["dataset"]: c for c in REF["che"]}
MULTILEVEL = json.loads((HERE / "metafor_multilevel.json").read_text())["rma_mv"]


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    c = CASES[request.param]
    return c, rma_mv(c["yi"], c["vi"], c["study"], c["es_id"], rho=c["rho"])


def test_che_matches_metafor(case):
    c, f = case
    assert f.converged and f.k == c["k"] and f.rho == c["rho"]
    close(f.s_nlevels, c["s_nlevels"])
    close(f.sigma2, c["sigma2"])
    for name in ("beta", "se", "zval", "ci_lb", "ci_ub", "logLik", "QE", "QEp", "I2", "I2_total"):
        close(getattr(f, ours(name)), c[name])
    # the Wald p (1e-4 to 1e-11 here) magnifies the 1e-7 relative uncertainty of metafor's
    # optimum (see test_che_optimum_is_sharper_than_metafors) to 2e-6 on assink2016 r = 0.8
    close(f.p, c["pval"], rtol=5e-6)


def test_che_cr2_matches_clubsandwich(case):
    c, f = case
    ref = c["cr2"]
    r = robust(f)
    assert r.n_clusters == c["s_nlevels"][0]
    for name, key in (("beta", "beta"), ("se", "se"), ("tval", "tstat"), ("df", "df"), ("pval", "p"),
                      ("ci_lb", "ci_lb"), ("ci_ub", "ci_ub")):
        close(getattr(r, ours(name)), ref[key])


def test_che_optimum_is_sharper_than_metafors(case):
    """The REML score in log(sigma2) vanishes here; at metafor's nlminb optimum it is ~1e-6."""
    c, f = case
    parts = list(_parts(f.study, f.study, f.inner, f.vi, f.rho))
    ours = _reml_dense(f.yi, f.X, parts, f.sigma2)
    theirs = _reml_dense(f.yi, f.X, parts, np.asarray(c["sigma2"]))
    assert np.max(np.abs(ours[3] * f.sigma2)) < 1e-7
    assert ours[2] >= theirs[2] - 1e-12


def test_che_gradient_is_the_derivative():
    c = CASES["minocycline_r0.8"]
    f = rma_mv(c["yi"], c["vi"], c["study"], c["es_id"], rho=c["rho"])
    parts = list(_parts(f.study, f.study, f.inner, f.vi, f.rho))
    s2 = np.array([0.3, 0.2])
    g = _reml_dense(f.yi, f.X, parts, s2)[3]
    h = 1e-6
    num = [(_reml_dense(f.yi, f.X, parts, s2 + h * e)[2] - _reml_dense(f.yi, f.X, parts, s2 - h * e)[2]) / (2 * h)
           for e in np.eye(2)]
    close(g, num, rtol=1e-6)


@pytest.mark.parametrize("ref", MULTILEVEL, ids=lambda c: c["dataset"])
def test_rho_none_is_unchanged(ref):
    """rho=None is the diagonal (Sherman-Morrison) model of test_multilevel.py's fixtures."""
    f = rma_mv(ref["yi"], ref["vi"], ref["study"], ref["cluster2"], ref["mods"], rho=None)
    assert f.rho is None
    close(f.sigma2, ref["sigma2"])
    close(f.loglik, ref["logLik"])
    for name in ("beta", "se", "pval"):
        close(getattr(f, ours(name)), ref["level95"][name])
    r = robust(f)
    close(r.se, ref["cr2"]["se"])
    close(r.df, ref["cr2"]["df"])
    # rho = 0: the dense path reproduces the diagonal one
    f0 = rma_mv(ref["yi"], ref["vi"], ref["study"], ref["cluster2"], ref["mods"], rho=0.0)
    for name in ("sigma2", "beta", "se", "logLik", "QE", "I2"):
        close(getattr(f0, ours(name)), getattr(f, ours(name)), rtol=1e-7)
    close(robust(f0).se, r.se, rtol=1e-7)


def test_che_with_moderator_and_coarser_clusters():
    """A moderator and clusters coarser than the studies run through the dense path."""
    c = CASES["assink2016_r0.8"]
    x = np.arange(len(c["yi"])) % 3
    f = rma_mv(c["yi"], c["vi"], c["study"], c["es_id"], mods=x, rho=0.8)
    assert f.converged and f.n_coefs == 2
    pairs = np.unique(c["study"], return_inverse=True)[1] // 2
    r = robust(f, cluster=pairs)
    assert r.n_clusters == pairs.max() + 1 and np.all(np.isfinite(r.df))


def test_che_rejects_singular_correlation():
    c = CASES["assink2016_r0.6"]
    with pytest.raises(ValueError, match="positive-definite"):
        rma_mv(c["yi"], c["vi"], c["study"], c["es_id"], rho=1.0)
    with pytest.raises(ValueError, match="positive-definite"):
        rma_mv(c["yi"], c["vi"], c["study"], c["es_id"], rho=-0.5)
