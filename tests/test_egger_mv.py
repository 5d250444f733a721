"""Egger/PET with dependent effects: the three-level meta-regression with CR2 tests
(premeta.egger(model="rma.mv")), the modified SE, and their rows in the small-study table.

Fixtures: tests/reference/make_egger_mv_fixtures.R (metafor rma.mv + clubSandwich coef_test CR2 on
metadat's dat.assink2016, Besson et al. 2016 and the two minocycline sheets of Reis et al. 2019),
inputs included.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import close, ours, sheet_effects

from premeta.bias import egger
from premeta.errors import NotComputable
from premeta.groups.bias import small_study
from premeta.groups.common import moderator_label

ROOT = Path(__file__).resolve().parents[1]
REF = json.loads((Path(__file__).parent / "reference" / "metafor_egger_mv.json").read_text())
DATA = REF["data"]
SHEETS = {"besson2016_rodents": ("tests/data/besson2016_rodents.csv", "benefit"),
          "minocycline": ("data/minocycline/minocycline_sheet.csv", "benefit"),
          "minocycline_a": ("data/minocycline/analysis_a_sheet.csv", "raw")}


def _id(c):
    return "-".join(str(c[k]) for k in ("dataset", "block", "group", "predictor"))


def _subset(c):
    d = DATA[c["dataset"]]
    s = np.ones(len(d["yi"]), bool) if c["block"] != "group" else np.array(d["group"]) == c["group"]
    return d, s


@pytest.mark.parametrize("case", REF["egger_mv"], ids=_id)
def test_egger_rma_mv_matches_rma_mv_and_coef_test_cr2(case):
    """egger(model="rma.mv") is rma.mv(yi, vi, mods = ~ x, random = ~ 1 | study/comparison) with
    clubSandwich coef_test(vcov = "CR2", cluster = study) and conf_int, slope and intercept."""
    d, s = _subset(case)
    col = {q: (np.array(d[q])[s] if d[q] is not None else None) for q in ("n1i", "n2i", "study", "comparison")}
    mods = pd.DataFrame({"g": np.array(d["group"])[s]}) if case["block"] == "moderator" else None
    out = egger(np.array(d["yi"])[s], np.array(d["vi"])[s], case["predictor"], model="rma.mv", mods=mods,
                n1i=col["n1i"], n2i=col["n2i"], cluster=col["study"], inner=col["comparison"]).iloc[0]
    assert (out.model, out.method, out.test, out.predictor) == ("rma.mv", "REML", "CR2", case["predictor"])
    close(out.stat, case["tstat"][-1])
    close(out.df, case["df_Satt"][-1])
    close(out.p, case["p_Satt"][-1])
    close(out.slope, case["slope"])
    close(out.slope_se, case["se"][-1])
    if case["block"] == "moderator":  # one intercept per group: no limit estimate
        assert np.isnan(out[["estimate", "ci_low", "ci_high"]].astype(float)).all()
    else:
        close([out.estimate, out.ci_low, out.ci_high], [case["beta"][0], case["CI_L"][0], case["CI_U"][0]])
    assert np.isnan(out.tau2)


@pytest.mark.parametrize("case", REF["msei"], ids=lambda c: f"{c['dataset']}-{c['model']}-{c['test']}")
def test_modified_se_in_rma_and_lm(case):
    """predictor="msei" with model "rma" is rma(yi, vi, mods = ~ sqrt(1/n1i + 1/n2i)), with "lm"
    lm(yi ~ sqrt(1/n1i + 1/n2i), weights = 1/vi)."""
    d = DATA[case["dataset"]]
    out = egger(d["yi"], d["vi"], "msei", model=case["model"], test="z" if case["model"] == "lm" else case["test"],
                n1i=d["n1i"], n2i=d["n2i"]).iloc[0]
    for q in ["zval", "pval", "ddf", "slope", "slope_se", "tau2", "est", "ci_lb", "ci_ub"]:
        close(out[ours(q)], case[q])


@pytest.fixture(scope="module", params=list(SHEETS))
def sheet(request):
    """premeta's own effect sizes of a sheet, as the workflow reads them."""
    path, orient = SHEETS[request.param]
    return request.param, sheet_effects(ROOT / path, orient)


def test_the_effect_sizes_are_premeta_s(sheet):
    """The fixture's inputs are premeta's effect sizes, n as they entered them, studies and groups;
    and the comparisons (rma.mv's inner level) are the rows, as small_study's model takes them."""
    name, effects = sheet
    d = DATA[name]
    close(effects["yi"], d["yi"])
    close(effects["vi"], d["vi"])
    assert (effects["study"].astype(str).to_numpy() == np.array(d["study"])).all()
    assert pd.Series(list(zip(d["study"], d["comparison"]))).is_unique
    if d["n1i"] is not None:
        close(effects["trt_n"], d["n1i"])
        close(effects["ctl_n_eff"], d["n2i"])
    assert (effects["mechanism"].to_numpy() == np.array(d["group"])).all()


def test_small_study_has_the_three_level_rows(sheet):
    """small_study's rows "Egger regression (three-level, CR2)", per group and on the model with the
    group as moderator, are rma.mv + coef_test CR2 on premeta's own effect sizes."""
    name, effects = sheet
    table = small_study(effects, "mechanism", "REML", "z")
    three = table[table.analysis.str.startswith("Egger regression (three-level, CR2)")]
    label = moderator_label(effects["mechanism"], "mechanism")
    cases = [c for c in REF["egger_mv"] if c["dataset"] == name and c["block"] != "all"]
    for c in cases:
        group = c["group"] if c["block"] == "group" else label
        r = three[(three.group == group) & (three.precision == ("SE" if c["predictor"] == "sei" else "modified SE"))]
        assert len(r) == 1
        r = r.iloc[0]
        assert r.k == c["k"]
        if c["k"] == c["studies"]:  # one comparison per study: the meta-regression rows are the test
            assert r.note.startswith("each study contributes one comparison") and np.isnan(r.stat)
            continue
        assert r.note == ""
        close([r.stat, r.df, r.p, r.slope], [c["tstat"][-1], c["df_Satt"][-1], c["p_Satt"][-1], c["slope"]])
        if c["block"] == "group":
            close([r.estimate, r.ci_low, r.ci_high], [c["beta"][0], c["CI_L"][0], c["CI_U"][0]])
    # every group of at least 10 comparisons has its two rows, computed or with the reason
    big = effects["mechanism"].value_counts()
    big = set(big[big >= 10].index)
    assert set(three.group) == big | {label}
    computed = {(c["group"] if c["block"] == "group" else label) for c in cases}
    assert three[~three.group.isin(computed)].note.str.startswith("not computed").all()
    if name == "minocycline_a":  # precomputed effects: no n
        assert three[three.precision == "modified SE"].note.str.startswith(("no group sizes", "each study")).all()


def test_three_level_egger_needs_three_studies():
    """CR2 tests of intercept and slope need more studies than coefficients (clubSandwich)."""
    yi, vi = [0.1, 0.3, 0.35, 0.65, 0.45, 0.15], [0.03, 0.03, 0.05, 0.01, 0.05, 0.02]
    with pytest.raises(NotComputable, match="at least 3 studies here, got 2"):
        egger(yi, vi, model="rma.mv", cluster=["a", "a", "a", "b", "b", "b"])
    egger(yi, vi, model="rma.mv", cluster=["a", "a", "b", "b", "c", "c"])
    with pytest.raises(NotComputable, match="at least 4 studies here, got 3"):
        egger(yi, vi, model="rma.mv", cluster=["a", "a", "b", "b", "c", "c"],
              mods=pd.DataFrame({"g": list("xyxyxy")}))


def test_three_level_egger_arguments():
    yi, vi = [0.1, 0.3, 0.35, 0.65, 0.45, 0.15], [0.03, 0.03, 0.05, 0.01, 0.05, 0.02]
    with pytest.raises(ValueError, match="needs the study of each effect"):
        egger(yi, vi, model="rma.mv")
    with pytest.raises(ValueError, match="REML only"):
        egger(yi, vi, model="rma.mv", method="DL", cluster=list("aabbcc"))
    with pytest.raises(ValueError, match="n1i and n2i"):
        egger(yi, vi, "msei", n1i=[8] * 6)
    with pytest.raises(NotComputable, match=r"sqrt\(1/n1 \+ 1/n2\) is constant"):
        egger(yi, vi, "msei", n1i=[8] * 6, n2i=[8] * 6, model="rma.mv", cluster=list("aabbcc"))


def test_small_study_three_level_rows_say_why():
    """No study with several comparisons: the rows say the meta-regression rows are the test;
    two studies: not computed, with clubSandwich's reason."""
    base = pd.DataFrame({"yi": np.arange(12) / 10, "vi": 0.05 + np.arange(12) / 100, "g": "a",
                         "trt_n": 8 + np.arange(12), "ctl_n": 8, "ctl_n_eff": 8})
    one_each = small_study(base.assign(study=[f"s{i}" for i in range(12)]), "g")
    three = one_each[one_each.analysis.str.startswith("Egger regression (three-level")]
    assert len(three) == 2 and three.note.str.startswith("each study contributes one comparison").all()
    two = small_study(base.assign(study=["s1"] * 6 + ["s2"] * 6), "g")
    three = two[two.analysis.str.startswith("Egger regression (three-level")]
    assert three.note.str.contains("at least 3 studies here, got 2").all() and three.stat.isna().all()
