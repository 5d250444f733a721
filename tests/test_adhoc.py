"""metafor's modified Knapp-Hartung test (``test="adhoc"``) on published data (tests/reference)."""

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import close

import premeta
from premeta.models import subgroup_tests
from premeta.sensitivity import influence, leave1out

REF = json.loads((Path(__file__).parent / "reference" / "metafor_adhoc.json").read_text())
FITS = [pytest.param(c, id=f"{c['dataset']}-{c['method']}") for c in REF["fits"]]


@pytest.mark.parametrize("case", FITS)
def test_adhoc_matches_metafor(case):
    t = premeta.rma(case["yi"], case["vi"], method=case["method"], test="adhoc").iloc[0]
    assert t.test == "adhoc"
    close([t.estimate, t.se, t.stat, t.df, t.p, t.ci_low, t.ci_high],
          [case[c] for c in ("beta", "se", "tval", "df", "pval", "ci_lb", "ci_ub")])
    if case["method"] != "FE":
        close([t.pi_low, t.pi_high, t.tau2], [case["pi_lb"], case["pi_ub"], case["tau2"]])
    knha = premeta.rma(case["yi"], case["vi"], method=case["method"], test="knha").iloc[0]
    close(knha.se, case["se_knha"])
    # the scale factor is never below 1: adhoc equals knha when s2 >= 1, else the unscaled SE
    assert t.se == pytest.approx(max(knha.se, premeta.rma(case["yi"], case["vi"], method=case["method"]).se[0]),
                                 rel=1e-12)


def test_the_fixtures_hold_both_sides_of_the_truncation():
    s2w = np.array([c["s2w"] for c in REF["fits"]])
    assert (s2w == 1).sum() >= 3 and (s2w > 1.5).sum() >= 3


@pytest.mark.parametrize("case", FITS)
def test_adhoc_leave1out_and_influence_match_metafor(case):
    out = leave1out(case["yi"], case["vi"], method=case["method"], test="adhoc")
    ref = case["leave1out"]
    close(out["estimate"], ref["estimate"])
    close(out["se"], ref["se"])
    close(out["stat"], ref["tval"])
    close(out["p"], ref["pval"])
    close(out["ci_low"], ref["ci_lb"])
    close(out["ci_high"], ref["ci_ub"])
    inf = influence(case["yi"], case["vi"], method=case["method"], test="adhoc")
    for col, key in (("rstudent", "rstudent"), ("dffits", "dffits"), ("cook_d", "cook_d"), ("cov_r", "cov_r")):
        close(inf[col], case["influence"][key])


@pytest.mark.parametrize("case", REF["subgroup"], ids=lambda c: c["method"])
def test_adhoc_subgroup_moderator_test_matches_metafor(case):
    t = subgroup_tests(case["yi"], case["vi"], case["group"], method=case["method"], test="adhoc")
    qm = t.set_index("test").loc["QM (moderator test, common tau2)"]
    close([qm.stat, qm.df1, qm.p, qm.tau2], [case["QM"], case["QMdf"][0], case["QMp"], case["tau2"]])
    assert qm.df2 == case["QMdf"][1]
