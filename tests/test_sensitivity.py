"""Leave-one-out and influence diagnostics against metafor on published data (tests/reference)."""

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import close, ours

import premeta
from premeta.sensitivity import influence, leave1out

REF = json.loads((Path(__file__).parent / "reference" / "metafor_sensitivity.json").read_text())


def _cases(kind):
    return [pytest.param(c, id=f"{c['dataset']}-{c['method']}-{c['test']}") for c in REF[kind]]


@pytest.mark.parametrize("case", _cases("leave1out"))
def test_leave1out_matches_metafor(case):
    d = REF["data"][case["dataset"]]
    out = leave1out(d["yi"], d["vi"], method=case["method"], test=case["test"])
    assert list(out.columns.drop("df")) == [ours(c) for c in case["results"]]
    assert list(out.index) == list(range(1, len(d["yi"]) + 1))
    for col, expected in case["results"].items():
        close(out[ours(col)], expected)


@pytest.mark.parametrize("case", _cases("influence"))
def test_influence_matches_metafor(case):
    d = REF["data"][case["dataset"]]
    out = influence(d["yi"], d["vi"], method=case["method"], test=case["test"])
    expected = case["results"]
    assert list(out.columns) == ["rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "q_del",
                                 "hat", "weight", "dfbs", "inf"]
    for col in expected:
        if col != "inf":
            close(out[ours(col)], expected[col])
    assert list(out["inf"]) == expected["inf"]


def test_fixtures_flag_influential_studies():
    assert any("*" in c["results"]["inf"] for c in REF["influence"])


@pytest.mark.parametrize("method,test", [("REML", "z"), ("DL", "knha")])
def test_leave1out_equals_separate_fits(method, test):
    rng = np.random.default_rng(7)
    k = 200
    vi = rng.uniform(0.01, 0.3, k)
    yi = rng.normal(0.4, np.sqrt(vi + 0.05))
    slab = [f"study {n}" for n in range(k)]
    out = leave1out(yi, vi, method=method, test=test, slab=slab)
    assert out.shape[0] == k
    for omit in (0, 117, k - 1):
        keep = np.arange(k) != omit
        alone = premeta.rma(yi[keep], vi[keep], method=method, test=test).iloc[0]
        row = out.loc[f"study {omit}"]
        cols = ["estimate", "se", "stat", "df", "p", "ci_low", "ci_high", "q", "q_p", "tau2", "i2", "h2"]
        close(row[cols], alone[cols], rtol=1e-10)


def test_needs_two_studies():
    with pytest.raises(ValueError, match="at least 2"):
        leave1out([0.1], [0.01])
