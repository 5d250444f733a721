"""Degenerate input: metafor's answer or a clear refusal, never a wrong number (issue 7, section 2).

Reference: tests/reference/metafor_degenerate.json, written by make_degenerate_fixtures.R. A
case where metafor stops carries its message in "error"; premeta then raises ValueError.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import close, ours

from premeta.bias import egger, trimfill
from premeta.effects import escalc, smd
from premeta.models import fit, wald_test
from premeta.multilevel import rma_mv, robust
from premeta.sensitivity import influence, leave1out
from premeta.errors import SheetError

REF = json.loads((Path(__file__).parent / "reference" / "metafor_degenerate.json").read_text())


def _one(x):
    return np.atleast_1d(x)[0]  # toJSON(auto_unbox = TRUE) stores a length-1 vector as a number


def _id(c):
    return "-".join(str(c.get(key)) for key in ("name", "model", "method", "test", "estimator", "side_given")
                    if key in c)


# ---- 1. Egger's regression test -------------------------------------------------------------
@pytest.mark.parametrize("case", REF["regtest"], ids=_id)
def test_egger_matches_or_refuses_as_metafor(case):
    args = dict(predictor=case["predictor"], ni=case["ni"], model=case["model"], method=case["method"],
                test=case["test"])
    no_test = case.get("error") or None in (case["zval"], case["pval"])  # stops; t = NA or infinite
    if no_test:
        with pytest.raises(ValueError):
            egger(case["yi"], case["vi"], **args)
        return
    r = egger(case["yi"], case["vi"], **args).iloc[0]
    for name in ("zval", "pval", "ddf", "est", "ci_lb", "ci_ub", "slope", "slope_se", "tau2"):
        close(r[ours(name)], case[name])


def test_egger_refusal_says_why():
    with pytest.raises(ValueError, match=r"1/sqrt\(n\) is constant \(every comparison has n = 16\)"):
        egger([0.5, 0.9, 0.1, 1.3], [0.3, 0.25, 0.28, 0.3], "sqrtninv", ni=[16] * 4, model="lm")
    with pytest.raises(ValueError, match=r"sqrt\(vi\) is constant"):
        egger([0.5, 0.9, 0.1, 1.3], [0.3] * 4, model="rma")
    with pytest.raises(ValueError, match="at least 3 studies"):
        egger([0.5, 0.9], [0.3, 0.25], model="lm")


@pytest.mark.parametrize("case", REF["identical_knha"], ids=lambda c: f"{c['method']}-mods{c['mods'] is not None}")
def test_identical_effects_knha_match_metafor(case):
    f = fit(case["yi"], case["vi"], method=case["method"], test="knha", mods=case["mods"])
    t = f.table().iloc[0]
    close(f.beta[0], case["beta"])
    close(f.se[0], case["se"])  # Knapp-Hartung s2 = 0: SE 0, as metafor
    close(f.tau2, case["tau2"])
    close([t.q, t.q_p], [case["QE"], case["QEp"]])
    close([t.ci_low, t.ci_high], [_one(case["ci_lb"]), _one(case["ci_ub"])])
    assert "s2 = 0" in t.note
    if case["mods"] is not None:  # metafor: QM = NA
        assert np.isnan(wald_test(f)[0][0])


def test_fit_never_raises_for_an_unfittable_stratum():
    yi = np.array([0.5, 0.9, 0.1, 1.3, 0.2, 0.4, 0.8, 0.3])
    vi = np.array([0.3, 0.25, 0.28, 0.3, 0.2, 0.3, 0.25, 0.28])
    groups = np.repeat(["constant", "varies"], 4)
    x = np.array([1, 1, 1, 1, 1, 2, 3, 4.0])
    f = fit(yi, vi, groups, mods=x)
    t = f.table()
    assert np.isnan(t.estimate[0]) and not t.converged[0] and "constant" in t.note[0]
    alone = fit(yi[4:], vi[4:], mods=x[4:])
    close(f.beta[1], alone.beta[0])
    close(t.tau2[1], alone.tau2[0])
    assert np.isnan(wald_test(f)[0][0]) and np.isfinite(wald_test(f)[0][1])


# ---- 2. trim-and-fill -----------------------------------------------------------------------
@pytest.mark.parametrize("case", REF["trimfill"], ids=_id)
def test_trimfill_matches_or_refuses_as_metafor(case):
    side = case["side_given"]
    args = dict(estimator=case["estimator"], side=side, method=case["method"])
    if case.get("error") or case["name"] == "identical_yi":  # identical effects: always refused
        with pytest.raises(ValueError):
            trimfill(case["yi"], case["vi"], **args)
        return
    r = trimfill(case["yi"], case["vi"], **args)
    data, r = r.attrs["data"], r.iloc[0]
    assert (r["k0"], r["side"]) == (case["k0"], case["side"])
    close(data["yi"], case["yi_filled"])
    close(data["vi"], case["vi_filled"])
    assert list(data["fill"]) == case["fill"]
    for name in ("se_k0", "p_k0", "estimate", "se", "zval", "pval", "ci_lb", "ci_ub", "tau2"):
        close(r[{"se_k0": "k0_se", "p_k0": "k0_p"}.get(name, ours(name))], case[name])


def test_trimfill_rounding_level_deviation_is_zero():
    # one study left after trimming: its deviation from its own estimate is 0, whatever the last bit
    for y in (0.1, 0.3, 1 / 3, 0.7, 2.1):
        r = trimfill([y, y + 0.4], [0.3, 0.25], side="right", method="REML")
        assert r.at[0, "k0"] in (0, 1)


# ---- 3. rma.mv with NaN moderators ----------------------------------------------------------
def test_rma_mv_omits_rows_with_nan_moderators():
    c = REF["rma_mv_na"]
    mods = np.array([np.nan if m is None else m for m in c["mods"]])
    f = rma_mv(c["yi"], c["vi"], c["study"], c["cluster2"], mods)
    assert f.converged and (f.k, f.k_omitted, f.n_coefs) == (c["k"], c["k_omitted"], c["p"])
    close(f.s_nlevels, c["s_nlevels"])
    close(f.sigma2, c["sigma2"])
    for name in ("beta", "se", "pval", "ci_lb", "ci_ub", "QE", "logLik"):
        close(getattr(f, ours(name)), c[name])
    for cluster in (None, c["study"]):  # the cluster may be given for all rows, as clubSandwich
        r = robust(f, cluster=cluster)
        close(r.vcov, c["cr2"]["vcov"])
        close(r.se, c["cr2"]["se"])
        close(r.stat, c["cr2"]["tstat"])
        close(r.df, c["cr2"]["df"])
        close(r.p, c["cr2"]["p"])


# ---- 4. leave-one-out and influence at k = 2 and k = 3 --------------------------------------
@pytest.mark.parametrize("case", REF["leave1out"], ids=lambda c: f"k{len(c['yi'])}-{c['method']}-{c['test']}")
def test_leave1out_and_influence_match_metafor(case):
    l1 = leave1out(case["yi"], case["vi"], method=case["method"], test=case["test"])
    assert list(l1.columns.drop("df")) == [ours(c) for c in case["leave1out"]]
    for col, expected in case["leave1out"].items():
        close(l1[ours(col)], expected)
    inf = influence(case["yi"], case["vi"], method=case["method"], test=case["test"])
    ref = case["influence"]
    for col in ("rstudent", "dffits", "cook.d", "cov.r", "tau2.del", "QE.del", "hat", "weight", "dfbs"):
        close(inf[ours(col)], ref[col])
    assert list(inf["inf"] == "*") == ref["is_infl"]


# ---- 5. extreme magnitudes ------------------------------------------------------------------
@pytest.mark.parametrize("c", [1e150, 1e-150, 1.0])
@pytest.mark.parametrize("case", REF["extreme"], ids=lambda c: f"{c['method']}-{c['test']}")
def test_fit_is_scale_equivariant(case, c):
    """metafor on the bcg data, inputs scaled here by c: yi, beta, CI by c; vi, tau2 by c^2."""
    f = fit(np.array(case["yi"]) * c, np.array(case["vi"]) * c**2, method=case["method"], test=case["test"])
    t = f.table().iloc[0]
    assert t.converged
    close([t.estimate / c, t.se / c, t.ci_low / c, t.ci_high / c], [_one(case["beta"]), _one(case["se"]),
                                                                     _one(case["ci_lb"]), _one(case["ci_ub"])])
    close([t.stat, t.p, t.q, t.q_p, t.i2, t.h2], [_one(case["zval"]), _one(case["pval"]), case["QE"], case["QEp"],
                                                  case["I2"], case["H2"]])
    if case["method"] != "FE":
        close([t.tau2 / c**2, t.tau2_se / c**2], [case["tau2"], case["se_tau2"]])
        close([t.tau2_ci_low / c**2, t.tau2_ci_high / c**2], case["tau2_ci"])
        close([t.i2_ci_low, t.i2_ci_high], case["I2_ci"])


@pytest.mark.parametrize("y", [1e150, 1e200, 1e300])
def test_fit_refuses_values_beyond_double_precision(y):
    # tau2 would be about y^2: not representable, or beyond what the weights can carry
    f = fit(np.array([y, -y, 0.5 * y, 0.1]), np.ones(4), groups=["a"] * 3 + ["b"])
    t = f.table()
    assert np.isnan(t.estimate[0]) and not t.converged[0] and "too extreme" in t.note[0]
    assert t.estimate[1] == 0.1  # the other stratum is fitted


@pytest.mark.parametrize("model", ["rma", "lm"])
def test_egger_refuses_values_beyond_double_precision(model):
    yi, vi = np.array([9e199, 1.3e200, 4e199, 0.8, 1.1, 0.2]), np.array([0.21, 0.25, 0.18, 0.3, 0.27, 0.22])
    with pytest.raises(ValueError, match="too extreme for double precision"):
        egger(yi, vi, model=model)


@pytest.mark.parametrize("estimator", ["R0", "L0"])
def test_trimfill_refuses_values_beyond_double_precision(estimator):
    yi, vi = np.array([9e199, 1.3e200, 4e199, 0.8, 1.1, 0.2]), np.array([0.21, 0.25, 0.18, 0.3, 0.27, 0.22])
    with pytest.raises(ValueError, match="trim-and-fill cannot be computed: yi or vi too extreme"):
        trimfill(yi, vi, estimator)


@pytest.mark.parametrize("c", [1e200, 1e-200, 1.0])
def test_smd_is_scale_free(c):
    s = REF["smd"]
    yi, vi = smd(np.array(s["m1i"]) * c, np.array(s["sd1i"]) * c, np.array(s["n1i"], dtype=float),
                 np.array(s["m2i"]) * c, np.array(s["sd2i"]) * c, np.array(s["n2i"], dtype=float))
    close(yi, s["yi"])
    close(vi, s["vi"])


def test_md_overflow_is_refused_naming_the_row():
    sheet = pd.DataFrame({"study": ["a", "b"], "outcome": "o", "mechanism": "m", "better": "higher",
                          "trt_mean": [1e300, 1.0], "trt_sd": [1e300, 1.0], "trt_n": 8,
                          "ctl_mean": [-1e300, 0.0], "ctl_sd": [1e300, 1.0], "ctl_n": 8}, index=[7, 8])
    with pytest.raises(SheetError, match="7"):
        escalc(sheet, "MD")
