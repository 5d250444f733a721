"""Egger-type regression tests and trim-and-fill against metafor's regtest() and trimfill()."""

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import close, ours

from premeta import fit
from premeta.bias import egger, trimfill

REFERENCE = json.loads((Path(__file__).parent / "reference" / "metafor_bias.json").read_text())
DATA = REFERENCE["data"]
#: metafor trimfill's names (``se.k0``, ``p.k0``) as the fixtures write them, and premeta's
TRIMFILL = {"se_k0": "k0_se", "p_k0": "k0_p"}


def _case_id(c, keys):
    return "-".join(str(c[k]) for k in keys)


@pytest.mark.parametrize("case", REFERENCE["regtest"], ids=lambda c: _case_id(
    c, ["dataset", "model", "predictor", "method", "test"]))
def test_egger_matches_regtest(case):
    d = DATA[case["dataset"]]
    out = egger(d["yi"], d["vi"], predictor=case["predictor"], ni=d["ni"], model=case["model"],
                method=case["method"] or "REML", test=case["test"] or "z").iloc[0]
    for q in ["zval", "pval", "ddf", "est", "ci_lb", "ci_ub", "slope", "slope_se", "tau2"]:
        close(out[ours(q)], case[q])


@pytest.mark.parametrize("case", REFERENCE["trimfill"], ids=lambda c: _case_id(
    c, ["dataset", "method", "estimator", "side_given"]))
def test_trimfill_matches_metafor(case):
    d = DATA[case["dataset"]]
    out = trimfill(d["yi"], d["vi"], estimator=case["estimator"], side=case["side_given"],
                   method=case["method"])
    data, out = out.attrs["data"], out.iloc[0]
    assert out["k0"] == case["k0"] and out["side"] == case["side"]
    assert list(data["fill"]) == case["fill"]
    close(data["yi"], case["yi"])
    close(data["vi"], case["vi"])
    for q in ["se_k0", "p_k0", "estimate", "se", "zval", "pval", "ci_lb", "ci_ub", "tau2"]:
        close(out[TRIMFILL.get(q, ours(q))], case[q])


def test_fixtures_cover_the_brief():
    reg, tf = REFERENCE["regtest"], REFERENCE["trimfill"]
    assert {(c["model"], c["predictor"]) for c in reg} == {(m, p) for m in ("rma", "lm")
                                                           for p in ("sei", "sqrtninv")}
    assert {(c["method"], c["test"]) for c in reg if c["model"] == "rma"} >= {
        (m, t) for m in ("DL", "REML") for t in ("z", "knha")}
    assert {c["estimator"] for c in tf} == {"L0", "R0"} and {c["side"] for c in tf} == {"left", "right"}
    assert any(c["k0"] > 0 for c in tf) and any(c["k0"] == 0 for c in tf)


def test_symmetric_funnel_needs_no_filling():
    yi = np.array([-0.4, -0.1, 0.0, 0.1, 0.4]) + 0.3
    vi = np.array([0.10, 0.05, 0.02, 0.05, 0.10])
    plain = fit(yi, vi, method="REML")
    for estimator in ("L0", "R0"):
        out = trimfill(yi, vi, estimator=estimator)
        assert out.at[0, "k0"] == 0 and not out.attrs["data"]["fill"].any()
        close(out["estimate"], plain.beta[0, 0])
        close(out.attrs["data"]["yi"], yi)
    close(egger(yi, vi)["slope"], 0.0)


def test_mirrored_data_fill_the_other_side():
    d = DATA["hackshaw1998"]
    yi, vi = np.array(d["yi"]), np.array(d["vi"])
    a = trimfill(yi, vi, estimator="L0", method="DL")
    b = trimfill(-yi, vi, estimator="L0", method="DL")
    assert (a.at[0, "side"], b.at[0, "side"]) == ("left", "right") and a.at[0, "k0"] == b.at[0, "k0"] > 0
    close(b.attrs["data"]["yi"], -a.attrs["data"]["yi"])
    close(b["estimate"], -a["estimate"])


def test_bad_arguments():
    with pytest.raises(ValueError, match="ni"):
        egger([0.1, 0.2, 0.3], [0.01, 0.02, 0.03], predictor="sqrtninv")
    with pytest.raises(ValueError, match="estimator"):
        trimfill([0.1, 0.2, 0.3], [0.01, 0.02, 0.03], estimator="Q0")
