"""The primary analysis (premeta.primary) held to metafor, clubSandwich and robumeta on real data.

Fixtures: tests/reference/make_primary_fixtures.R (metafor_primary.json); the minocycline sheet of the
open replication of Reis et al. (2019), CC BY 4.0, and metadat's dat.assink2016.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import premeta
from premeta.groups.common import effects_as_written
from premeta.groups.pooling import primary, stratified
from premeta.multilevel import rma_mv, robust
from premeta.effects import checked

ROOT = Path(__file__).resolve().parents[1]
REF = json.loads((ROOT / "tests/reference/metafor_primary.json").read_text())
#: the three-level model's REML surface is flat on these data: metafor's optimisers stop about 1e-7
#: short of its maximum (tests/test_multiverse.py holds the same model to the same tolerance)
MULTILEVEL_RTOL = 1e-6
RTOL = 1e-9


@pytest.fixture(scope="module")
def minocycline():
    sheet = checked(ROOT / "data/minocycline/minocycline_sheet.csv", "auto", None, "SMD", "benefit", "mechanism")[0]
    return effects_as_written(premeta.escalc(sheet, "SMD", "benefit"))


@pytest.mark.parametrize("level", [95, 90])
def test_multilevel_primary_is_metafor_rma_mv_with_cr2_pi_and_weights(minocycline, level):
    out = primary(minocycline, "mechanism", "multilevel", level=level)
    table = out["table"].set_index("group")
    weights = out["weights"]
    for group, ref in REF["minocycline"].items():
        r = ref["multilevel" if level == 95 else "multilevel90"]
        row = table.loc[group]
        for ours, theirs in (("estimate", "estimate"), ("se", "se"), ("df", "df"), ("p", "p"), ("ci_low", "ci_low"),
                             ("ci_high", "ci_high"), ("pi_low", "pi_low"), ("pi_high", "pi_high")):
            assert row[ours] == pytest.approx(r[theirs], rel=MULTILEVEL_RTOL, abs=1e-9), (group, ours)
        assert [row.sigma2_study, row.sigma2_within] == pytest.approx(r["sigma2"], rel=1e-5, abs=1e-9)
        column = "weight_overall" if group == "overall" else "weight_group"
        rows = weights.index[minocycline["id"].astype(int).isin(ref["rows"])]
        assert weights.loc[rows, column].to_numpy() == pytest.approx(r["weights"], rel=1e-5)
        assert row.model == "rma.mv three-level (REML), CR2 tests by study" and row.test == "CR2"


def test_rve_weights_are_robumeta_r_weights(minocycline):
    out = primary(minocycline, "mechanism", "rve", rho=0.8)
    table, weights = out["table"].set_index("group"), out["weights"]
    for group, ref in REF["minocycline"].items():
        assert table.at[group, "estimate"] == pytest.approx(ref["rve"]["estimate"], rel=RTOL)
        column = "weight_overall" if group == "overall" else "weight_group"
        rows = weights.index[minocycline["id"].astype(int).isin(ref["rows"])]
        assert weights.loc[rows, column].to_numpy() == pytest.approx(ref["rve"]["weights"], rel=RTOL)
    assert np.isnan(table["pi_low"]).all()  # robumeta gives no prediction interval


def test_multilevel_weights_and_pi_on_assink2016():
    a = REF["assink2016"]
    f = rma_mv(a["yi"], a["vi"], np.asarray(a["study"]).astype(str), inner=np.asarray(a["esid"]))
    r = robust(f)
    ref = a["multilevel"]
    assert f.weights() == pytest.approx(ref["weights"], rel=MULTILEVEL_RTOL)
    from premeta import distributions as dist

    half = dist.t_isf(0.025, r.df[0]) * np.sqrt(r.se[0] ** 2 + f.sigma2.sum())
    assert [f.beta[0] - half, f.beta[0] + half] == pytest.approx([ref["pi_low"], ref["pi_high"]], rel=MULTILEVEL_RTOL)


def test_none_primary_is_the_independent_model_and_one_study_groups_say_why(minocycline):
    out = primary(minocycline, "mechanism", "none", method="REML", test="knha")
    pooled = stratified(minocycline, "mechanism", "REML", "knha")["pooled"]
    cols = ["k", "studies", "estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high", "p", "p_holm", "tau2"]
    pd.testing.assert_frame_equal(out["table"][cols], pooled[cols], check_dtype=False)
    w = out["weights"]["weight_group"]
    ours = stratified(minocycline, "mechanism", "REML", "knha")["weights"]["weight_group"]
    assert w.to_numpy() == pytest.approx(ours.to_numpy(), rel=1e-12)
    multi = primary(minocycline, "mechanism", "multilevel")["table"].set_index("group")
    assert np.isnan(multi.at["Conditioned avoidance", "estimate"])  # 4 comparisons, one study
    assert "one study" in multi.at["Conditioned avoidance", "note"]
    single = multi.loc["Social interaction"]  # one comparison: the comparison itself
    row = minocycline[minocycline["mechanism"] == "Social interaction"].iloc[0]
    assert single.estimate == pytest.approx(row.yi) and single.se == pytest.approx(np.sqrt(row.vi))
    assert single.test == "z" and "k = 1" in single.note


def test_precomputed_sheet_has_no_animals_and_says_so():
    sheet = checked(ROOT / "data/minocycline/analysis_a_sheet.csv", "auto", None, "SMD", "raw", "mechanism")[0]
    effects = effects_as_written(premeta.escalc(sheet, "SMD", "raw"))
    table = primary(effects, "mechanism", "rve", rho=0.8)["table"]
    assert table["animals"].isna().all()
    assert table["note"].str.contains("animals not counted").all()


def test_groups_of_numbers_are_in_the_order_of_their_values():
    """group_by a column of numbers (days, doses): 7, 14, 28 in every table, not 14, 28, 7 as text."""
    from premeta.groups.bias import cumulative, fail_safe_n, selection_models, small_study
    from premeta.groups.moderators import time_course
    from premeta.groups.sensitivity import sensitivity
    from premeta.groups.sex import sex_table

    sheet = checked(ROOT / "data" / "simulated_treadmill_neuropathic_pain.csv")[0]
    sheet = sheet[sheet["time"].isin([7, 14, 28])]
    effects = premeta.escalc(sheet, "SMD", "benefit")
    days = ["7", "14", "28"]
    assert list(stratified(effects, "time")["pooled"]["group"]) == [*days, "overall"]
    assert list(primary(effects, "time")["table"]["group"]) == [*days, "overall"]
    assert list(dict.fromkeys(small_study(effects, "time", min_k=3)["group"]))[:3] == days
    assert list(dict.fromkeys(fail_safe_n(effects, "time")["group"])) == days
    assert list(dict.fromkeys(selection_models(effects, "time")["group"])) == days
    assert list(dict.fromkeys(cumulative(effects, "time")["group"])) == days
    assert list(dict.fromkeys(sensitivity(effects, "time")[0]["group"])) == days
    assert list(sex_table(effects, "time")["group"])[:3] == days
    assert list(dict.fromkeys(time_course(effects, "time")["group"])) == days
    assert premeta.rma(effects.yi, effects.vi, groups=effects.time.astype(int).astype(str)).group.tolist() == days
