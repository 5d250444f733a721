"""premeta.next_experiment against R (tests/reference/make_next_experiment_fixtures.R): n and power
against power.t.test exactly / at 1e-6, the assurance against R's integrate at 1e-6 and against a seeded
simulation of 1e6 experiments within 4 Monte Carlo standard errors (about 0.002)."""

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import close

import premeta
from premeta.errors import NotComputable

FIXTURE = json.loads((Path(__file__).parent / "reference" / "metafor_next_experiment.json").read_text())
GROUPS = FIXTURE["groups"]


@pytest.fixture(scope="module")
def table():
    pick = {key: [g[key] for g in GROUPS] for key in ("estimate", "se", "tau2", "group")}
    return premeta.next_experiment(pick["estimate"], pick["se"], pick["tau2"], power=FIXTURE["target"],
                                   alpha=FIXTURE["alpha"], groups=pick["group"])


def expected(key):
    return [np.inf if g[key] is None and key == "n_assurance" else g[key] for g in GROUPS]


def test_one_row_per_group(table):
    assert list(table["group"]) == [g["group"] for g in GROUPS]


def test_n_power_is_power_t_test(table):
    assert list(table["n_power"]) == [g["n_power"] for g in GROUPS]
    close(table["power_at_n_power"], expected("power_at_n_power"))


def test_assurance_is_the_integral(table):
    close(table["assurance_at_n_power"], expected("assurance_at_n_power"))
    close(table["assurance_limit"], expected("assurance_limit"))
    close(table["assurance_at_n_assurance"], expected("assurance_at_n_assurance"))


def test_n_assurance(table):
    assert list(table["n_assurance"]) == expected("n_assurance")
    assert np.isfinite(table["n_assurance"]).sum() == 3  # dat.curtis1998; dat.besson2016 never reaches 0.8
    never = ~np.isfinite(table["n_assurance"])
    assert table.loc[never, "note"].str.startswith("assurance never reaches 0.8").all()
    assert (table.loc[~never, "note"] == "").all()


def test_assurance_agrees_with_the_simulation(table):
    sim = np.array(expected("simulated_assurance_at_n_power"))
    mc_se = np.array(expected("simulation_se"))
    assert np.all(np.abs(table["assurance_at_n_power"] - sim) <= 4 * mc_se)


def test_units_of_the_outcome_give_the_smd_answer():
    g = GROUPS[-1]
    smd = premeta.next_experiment(g["estimate"], g["se"], g["tau2"])
    raw = premeta.next_experiment(2.5 * g["estimate"], 2.5 * g["se"], 2.5**2 * g["tau2"], sd=2.5)
    assert raw["n_power"].item() == smd["n_power"].item() == g["n_power"]
    close(raw["assurance_at_n_power"], smd["assurance_at_n_power"])


def test_an_estimate_of_zero_is_not_computable_alone_and_a_note_among_others():
    with pytest.raises(NotComputable, match="pooled estimate 0"):
        premeta.next_experiment(0.0, 0.1, 0.0)
    out = premeta.next_experiment([0.0, 0.5, np.nan], [0.1, 0.1, 0.1], [0.0, 0.0, 0.0], groups=["a", "b", "c"])
    assert np.isnan(out["n_power"][0]) and np.isnan(out["n_power"][2]) and out["n_power"][1] == 64
    assert out["note"][0].startswith("pooled estimate 0") and out["note"][2] == "no pooled estimate, SE or tau2"


def test_max_n_caps_the_search():
    out = premeta.next_experiment(0.01, 0.001, 0.0, max_n=1000)
    assert out["n_power"].item() == np.inf and "more than 1000 animals" in out["note"].item()


@pytest.mark.parametrize("kwargs", [{"power": 1.0}, {"alpha": 0.0}, {"se": -1.0}, {"sd": 0.0}])
def test_wrong_arguments(kwargs):
    args = {"estimate": 0.5, "se": 0.1, "tau2": 0.0} | kwargs
    with pytest.raises(ValueError):
        premeta.next_experiment(**args)


@pytest.mark.workflow
def test_the_next_experiment_in_the_workflow(bundled):
    """results/next_experiment.csv is premeta.next_experiment on results/primary.csv (tau2 of the
    three-level model: the sum of its two components), with the counts and units recomputed here."""
    import pandas as pd

    res = bundled / "results"
    table = pd.read_csv(res / "next_experiment.csv", keep_default_na=False, na_values=[""])
    primary = pd.read_csv(res / "primary.csv").iloc[:-1]
    assert list(table.group) == list(primary.group) and (primary.dependence == "multilevel").all()
    tau2 = primary.sigma2_study + primary.sigma2_within
    expected = premeta.next_experiment(primary.estimate, primary.se, tau2, power=0.8, alpha=0.05, groups=primary.group)
    for c in ("n_power", "power_at_n_power", "assurance_at_n_power", "assurance_limit", "n_assurance"):
        np.testing.assert_allclose(table[c], expected[c], rtol=1e-12)
    assert (table.n_assurance == np.inf).sum() == 2 and table.note[table.n_assurance == np.inf].str.contains(
        "assurance never reaches 0.8").all()
    effects = pd.read_csv(res / "effect_sizes.csv")
    for r in table.itertuples():
        rows = effects[effects.mechanism == r.group]
        assert r.comparisons_at_n_power == ((rows.trt_n >= r.n_power) & (rows.ctl_n >= r.n_power)).sum()
        if r.unit == r.unit:  # one outcome (not NaN): the SMD in its unit through the pooled control SD
            sd = rows.ctl_sd.fillna(rows.ctl_sem * np.sqrt(rows.ctl_n))  # an SD given as an SEM
            arms = rows.assign(ctl_sd=sd)[["study", "ctl_mean", "ctl_sd", "ctl_n"]].drop_duplicates()
            sd = np.sqrt(((arms.ctl_n - 1) * arms.ctl_sd ** 2).sum() / (arms.ctl_n - 1).sum())
            np.testing.assert_allclose([r.sd_pooled, r.effect_in_unit], [sd, r.smd * sd], rtol=1e-12)
            assert rows.outcome.nunique() == 1 and r.unit == rows.outcome.iloc[0]
    html = (res / "report.html").read_text()
    assert 'id="next-experiment"' in html and "O'Hagan A, Stevens JW, Campbell MJ" in html


def test_groups_without_an_effect_to_plan_for_keep_their_rows():
    """A group the primary model could not fit, and a run whose every estimate is 0, keep their rows
    with the reason; nothing stops the others."""
    import pandas as pd

    from premeta.groups.planning import next_experiment_curves, next_experiments

    effects = pd.DataFrame({"study": ["a", "b", "c", "d"], "mechanism": ["X", "X", "Y", "Y"], "outcome": "o",
                            "trt_n": 8, "ctl_n": 8, "ctl_mean": [1.0, 2, 3, 4], "ctl_sd": 1.0})
    primary = pd.DataFrame({"group": ["X", "Y", "overall"], "k": [2, 2, 4], "estimate": [0.8, np.nan, 0.5],
                            "se": [0.3, np.nan, 0.2], "tau2": [0.0, np.nan, 0.0],
                            "note": ["", "too few comparisons", ""]})
    t = next_experiments(effects, primary).set_index("group")
    assert t.at["X", "n_power"] == premeta.next_experiment(0.8, 0.3, 0.0)["n_power"].iloc[0]
    assert np.isnan(t.at["Y", "n_power"])
    assert t.at["Y", "note"] == "no pooled estimate to plan for (too few comparisons)"
    assert t.at["X", "comparisons_at_n_power"] == 0 and t.at["X", "unit"] == "o" and t.at["X", "sd_pooled"] == 1
    zero = next_experiments(effects, primary.assign(estimate=[0.0, np.nan, 0.0]))
    assert zero["n_power"].isna().all() and zero["note"].iloc[0].startswith("not computed: ")
    assert next_experiment_curves(zero).empty


def test_one_unit_and_a_mean_difference_across_units():
    """The group's one unit (effects.one_unit, shared with the multiverse's MD rule); a mean
    difference over outcomes in different units has no SD to plan with and keeps its row."""
    import pandas as pd

    from premeta.effects import one_unit
    from premeta.groups.planning import next_experiments

    assert one_unit(pd.DataFrame({"outcome": ["a", "b"], "unit": ["s", "s"]})) == "s"
    assert one_unit(pd.DataFrame({"outcome": ["a", "a"]})) == "a"
    assert one_unit(pd.DataFrame({"outcome": ["a", "b"]})) is None
    assert one_unit(pd.DataFrame({"outcome": ["a", "a"], "unit": ["s", None]})) is None
    effects = pd.DataFrame({"study": ["a", "b"], "mechanism": "X", "outcome": ["o", "p"], "trt_n": 8, "ctl_n": 8,
                            "ctl_mean": [1.0, 2], "ctl_sd": 1.0})
    primary = pd.DataFrame({"group": ["X", "overall"], "k": 2, "estimate": 0.8, "se": 0.3, "tau2": 0.0})
    t = next_experiments(effects, primary, measure="MD")
    assert t["note"].iloc[0] == "outcomes in different units: no one SD" and np.isnan(t["n_power"].iloc[0])
    assert t["unit"].iloc[0] == "" and np.isnan(t["sd_pooled"].iloc[0])
