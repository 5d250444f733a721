"""Small-study effects per group and on the model with the group as moderator, against metafor.

Fixtures: tests/reference/make_small_study_fixtures.R (metafor regtest and trimfill on Besson et
al. 2016 and the two minocycline sheets of Reis et al. 2019), inputs included;
tests/reference/make_small_study_level_fixtures.R (the same table's intervals at level 90 on Besson
et al. 2016).
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import close, ours, sheet_effects

from premeta.groups.bias import SMALL_STUDY_COLUMNS, small_study
from premeta.groups.common import moderator_label
from premeta.bias import egger

ROOT = Path(__file__).resolve().parents[1]
REF = json.loads((Path(__file__).parent / "reference" / "metafor_small_study.json").read_text())
LEVEL = json.loads((Path(__file__).parent / "reference" / "metafor_small_study_level.json").read_text())
DATA = REF["data"]
SHEETS = {"besson2016_rodents": ("tests/data/besson2016_rodents.csv", "benefit"),
          "minocycline_c": ("data/minocycline/analysis_c_sheet.csv", "benefit"),
          "minocycline_a": ("data/minocycline/analysis_a_sheet.csv", "raw")}
MODERATED = [c for c in REF["small_study"] if c["block"] == "moderator"]


def _id(c):
    return "-".join(str(c[k]) for k in ("dataset", "test", "model", "predictor"))


@pytest.fixture(scope="module", params=list(SHEETS))
def sheet(request):
    """premeta's own effect sizes of a sheet (as the workflow reads them) and its fixture data."""
    path, orient = SHEETS[request.param]
    return request.param, sheet_effects(ROOT / path, orient)


@pytest.mark.parametrize("case", MODERATED, ids=_id)
def test_egger_with_the_group_as_moderator_matches_regtest(case):
    """egger(mods=group) is metafor regtest(rma(yi, vi, mods = ~ factor(group)), model, predictor)."""
    d = DATA[case["dataset"]]
    out = egger(d["yi"], d["vi"], case["predictor"], d["ni"], case["model"], case["method"], case["test"],
                mods=pd.DataFrame({"group": d["group"]})).iloc[0]
    for q in ["zval", "pval", "ddf", "slope", "slope_se", "tau2"]:
        close(out[ours(q)], case[q])
    assert np.isnan(out[["estimate", "ci_low", "ci_high"]].astype(float)).all()  # metafor: no limit estimate


def test_the_effect_sizes_are_premeta_s(sheet):
    """The fixture's inputs are premeta's effect sizes of the sheet, its n and its groups."""
    name, effects = sheet
    d = DATA[name]
    close(effects["yi"], d["yi"])
    close(effects["vi"], d["vi"])
    if d["ni"] is not None:
        close(effects["trt_n"] + effects["ctl_n"], d["ni"])
    # the same partition into groups (premeta trims a trailing blank of a label)
    assert pd.crosstab(effects["mechanism"].to_numpy(), np.array(d["group"])).astype(bool).sum().eq(1).all()


@pytest.mark.parametrize("test", ["z", "knha"])
def test_small_study_matches_metafor(sheet, test):
    """Every number of the small-study table, per group and on the model with the group as
    moderator, is metafor's (regtest, trimfill) on premeta's own effect sizes."""
    name, effects = sheet
    table = small_study(effects, "mechanism", "REML", test)
    assert list(table) == SMALL_STUDY_COLUMNS
    label = moderator_label(effects["mechanism"], "mechanism")
    cases = [c for c in REF["small_study"] if c["dataset"] == name and c["test"] == test]
    groups = {c["group"] for c in cases if c["group"]}
    assert set(table.group) == set(effects["mechanism"]) | {label}
    small = table[~table.group.isin(groups | {label})]
    assert small.note.str.contains("too few comparisons").all() and small.stat.isna().all()
    for c in cases:
        rows = table[table.group == (c["group"].strip() if c["group"] else label)]
        if c["model"].startswith("trimfill"):
            r = rows[rows.analysis == f"trim-and-fill ({c['model'][-2:]})"].iloc[0]
            assert (r.k, r.k0, r.side) == (c["k"], c["k0"], c["side"])
            for q in ["zval", "pval", "est", "ci_lb", "ci_ub"]:
                close(r[ours(q)], c[q])
            continue
        kind = "meta-regression" if c["model"] == "rma" else "weighted OLS"
        precision = "SE" if c["predictor"] == "sei" else "1/sqrt(n)"
        r = rows[rows.analysis.str.startswith(f"Egger regression ({kind})") & (rows.precision == precision)]
        assert len(r) == 1
        r = r.iloc[0]
        assert r.k == c["k"] and r.note == ""
        for q in ["zval", "pval", "ddf", "slope", "est", "ci_lb", "ci_ub"]:
            close(r[ours(q)], c[q])
    moderated = table[table.group == label]
    # Egger only (meta-regression and weighted OLS against SE and 1/sqrt(n), and the three-level test
    # against SE and modified SE: tests/test_egger_mv.py): no trim-and-fill on the residuals
    assert len(moderated) == 6 and not moderated.analysis.str.startswith("trim").any()
    if name == "minocycline_a":  # precomputed effects: no n
        assert moderated[moderated.precision == "1/sqrt(n)"].note.str.startswith("no group sizes").all()
    assert moderated.analysis.str.endswith("residuals of the model with mechanism as moderator").all()


@pytest.mark.parametrize("test", ["z", "knha"])
def test_small_study_intervals_are_at_level(test):
    """With level 90 (the workflow's `level: 90`) every interval of the table is a 90% interval:
    metafor's regtest of rma(level = 90), trimfill(level = 90), clubSandwich conf_int(level = 0.9)
    for the three-level test, lm's confint(level = 0.9) for PET and PEESE (they were at 95%)."""
    effects = sheet_effects(ROOT / "tests/data/besson2016_rodents.csv")
    table = small_study(effects, "mechanism", "REML", test, level=LEVEL["level"])
    analyses = {"rma": "Egger regression (meta-regression)", "lm": "Egger regression (weighted OLS)",
                "trimfill_R0": "trim-and-fill (R0)", "trimfill_L0": "trim-and-fill (L0)",
                "three_level": "Egger regression (three-level, CR2)", "PET": "PET (WLS)", "PEESE": "PEESE (WLS)"}
    precisions = {"sei": "SE", "sqrtninv": "1/sqrt(n)", "msei": "modified SE"}
    cases = [c for c in LEVEL["small_study_level"]
             if c["test"] == test or c["test"] not in ("z", "knha") or c["analysis"].startswith("trimfill")]
    assert len(cases) == 3 * (4 + 2 + 2 + 2)
    for c in cases:
        rows = table[(table.group == c["group"]) & (table.analysis == analyses[c["analysis"]])]
        if not c["analysis"].startswith("trimfill"):
            rows = rows[rows.precision == precisions[c["predictor"]]]
        assert len(rows) == 1
        r = rows.iloc[0]
        assert r.note == ""
        if "k0" in c:
            assert r.k0 == c["k0"]
        close(r[["estimate", "ci_low", "ci_high"]].astype(float), [c["est"], c["ci_lb"], c["ci_ub"]])


def test_one_group_has_no_moderator_block():
    d = DATA["besson2016_rodents"]
    effects = pd.DataFrame({"yi": d["yi"], "vi": d["vi"], "g": "one"})
    table = small_study(effects, "g")
    assert set(table.group) == {"one"} and len(table) == 6 + 4  # and PET, PEESE, PET-PEESE, the rank test
    assert list(table.analysis[-4:]) == ["PET (WLS)", "PEESE (WLS)", "PET-PEESE (conditional): PET",
                                         "rank correlation (Begg and Mazumdar)"] or \
        list(table.analysis[-4:]) == ["PET (WLS)", "PEESE (WLS)", "PET-PEESE (conditional): PEESE",
                                      "rank correlation (Begg and Mazumdar)"]


def test_moderator_block_says_why_when_not_computable():
    """A predictor constant within each group is collinear with the group dummies (metafor: not of full rank)."""
    effects = pd.DataFrame({"yi": np.arange(12) / 10, "vi": 0.05, "g": ["a"] * 6 + ["b"] * 6,
                            "trt_n": [8] * 6 + [10] * 6, "ctl_n": [8] * 6 + [10] * 6})
    effects.loc[[0, 6], "vi"] = 0.08
    table = small_study(effects, "g", min_k=5)
    rows = table[(table.group == "all groups (g as moderator)") & (table.precision == "1/sqrt(n)")]
    assert rows.note.str.contains("linear combination of the moderators").all()
    with pytest.raises(ValueError, match="at least 4 studies here, got k = 3"):
        egger([0.1, 0.2, 0.3], [0.01, 0.02, 0.03], mods=pd.DataFrame({"g": list("aab")}))
