"""Sex as a biological variable: the within-study male-female contrasts and the moderator model held
to metafor on dat.besson2016 (tests/reference/make_sex_fixtures.R), the table on the corpus sheet,
and the inputs that cannot be analysed."""

import json

import numpy as np
import pandas as pd
import pytest
from helpers import REPO, close, sheet_effects

import premeta
from premeta.contrasts import pool_contrasts, sex_of, sex_pairs
from premeta.errors import NotComputable
from premeta.groups.sex import BETWEEN, WITHIN, sex_contrasts, sex_table

REF = json.loads((REPO / "tests" / "reference" / "metafor_sex.json").read_text())
SHEET = REPO / "tests" / "data" / "besson2016_rodents.csv"
NUMBERS = ["estimate", "se", "stat", "df", "p", "ci_low", "ci_high", "tau2", "i2", "q", "q_p"]


@pytest.fixture(scope="module")
def effects():
    return sheet_effects(SHEET)


def test_effect_sizes_are_the_references(effects):
    assert effects.index.tolist() == REF["rows"]
    close(effects["yi"], REF["yi"])
    close(effects["vi"], REF["vi"])


def test_pairs_match_r(effects):
    keys = ["study", "outcome", "mechanism", *REF["meta"]["match"]]
    pairs, unpaired = sex_pairs(effects, keys)
    r = REF["pairs"]
    assert pairs["row_male"].tolist() == r["row_male"]
    assert pairs["row_female"].tolist() == r["row_female"]
    assert pairs["study"].tolist() == r["study"]
    close(pairs["yi"], r["yi"])
    close(pairs["vi"], r["vi"])
    assert len(unpaired) == REF["ambiguous"]
    assert (unpaired[["males", "females"]].to_numpy() >= 1).all()


@pytest.mark.parametrize("test", ["knha", "z"])
def test_within_and_between_match_metafor(effects, test):
    out = sex_contrasts(effects, match=REF["meta"]["match"], rho=REF["meta"]["rho"], test=test)
    table = out["contrasts"].set_index(["group", "contrast"])
    assert list(table.index.get_level_values("group").unique()) == list(REF["within"])
    for group, want in REF["within"].items():
        row = table.loc[(group, WITHIN)]
        assert row["pairs"] == want["pairs"]
        assert row["studies"] == want["studies"]
        if test not in want:  # one study: nothing to pool
            assert np.isnan(row["estimate"]) and "nothing to pool" in row["note"]
            continue
        assert row["k"] == want[test]["k"]
        close([row[c] for c in NUMBERS], [want[test][c] for c in NUMBERS])
    for group, want in REF["between"].items():
        row = table.loc[(group, BETWEEN)]
        assert row["studies"] == want["studies"]
        assert row["k"] == want[test]["k"]
        close([row[c] for c in NUMBERS], [want[test][c] for c in NUMBERS])


def test_pool_contrasts_on_the_r_pairs():
    r = REF["pairs"]
    groups = r["mechanism"] + ["overall"] * len(r["yi"])
    study = r["study"] * 2
    out = pool_contrasts(r["yi"] * 2, r["vi"] * 2, study, groups=groups, rho=0.5, test="knha").set_index("group")
    for group, want in REF["within"].items():
        if "knha" in want:
            close([out.at[group, c] for c in NUMBERS], [want["knha"][c] for c in NUMBERS])
    # one study's pairs combined as metafor's aggregate(struct = "CS")
    agg = premeta.aggregate(r["yi"], r["vi"], r["study"], rho=0.5).set_index("cluster")
    want = REF["within"]["overall"]["study_yi"]
    close(agg.loc[list(want), "yi"], list(want.values()))


def test_table_on_the_corpus_sheet(effects):
    table = sex_table(effects).set_index("group")
    for group, want in REF["counts"].items():
        for c, v in want.items():
            assert table.at[group, c] == v, (group, c)
        assert table.at[group, "studies_not_reported"] == 0
    # every comparison has one sex, so the animals by sex add up to the group's animals
    from premeta.groups.common import animals
    by_sex = table[[c for c in table if c.startswith("animals_")]].sum(axis=1)
    close(by_sex["overall"], animals(effects))
    assert (table["note"] == "").all()


def test_sex_words():
    assert sex_of([" Males", "F", "mixed", "m/f", "", np.nan, "NR", "hermaphrodite"]).tolist() == [
        "male", "female", "both", "both", "not reported", "not reported", "not reported", None]


def toy(sex, study=None, outcome="o", yi=None):
    n = len(sex)
    return pd.DataFrame({"study": study or [f"s{i}" for i in range(n)], "outcome": outcome, "mechanism": "x",
                         "sex": sex, "yi": yi or list(np.linspace(0.1, 0.9, n)), "vi": 0.1, "trt_n": 8, "ctl_n": 8})


def test_an_unknown_word_is_counted_as_not_reported_with_a_note():
    table = sex_table(toy(["male", "intersex"]))
    assert table["studies_not_reported"].tolist() == [1, 1]
    assert "'intersex' not read as male, female or both" in table["note"][0]


def test_a_group_without_both_sexes_keeps_its_rows_with_the_reason():
    out = sex_contrasts(toy(["male", "male", "male"]))["contrasts"]
    assert len(out) == 4 and out["estimate"].isna().all()
    assert out["note"].tolist()[:2] == ["no study tested both sexes under the same design",
                                        "only male comparisons: no male-female contrast"]


def test_a_group_of_mixed_sex_comparisons_only_keeps_its_rows_with_the_reason():
    """A group whose comparisons are all of both sexes together (Martins et al. 2025's SNRI group, 'M and
    F') beside groups with male and female comparisons: it has no male or female study to count (the
    table failed with a pandas IntCastingNaNError, and with it the workflow's job sex)."""
    e = toy(["male", "female", "male", "female", "both", "both"], study=["a", "b", "c", "d", "e", "f"])
    e["mechanism"] = ["x"] * 4 + ["y"] * 2
    out = sex_contrasts(e)["contrasts"].set_index(["group", "contrast"])
    row = out.loc[("y", BETWEEN)]
    assert row["k"] == 0 and row["studies"] == 0 and np.isnan(row["estimate"])
    assert row["note"] == "no male or female comparisons (mixed or not reported): no contrast"
    assert out.loc[("x", BETWEEN), "studies"] == 4 and out.loc[("overall", BETWEEN), "studies"] == 4


def test_one_study_with_both_sexes_is_not_pooled():
    with pytest.raises(NotComputable, match="fewer than 2 studies"):
        pool_contrasts([0.3], [0.2], ["a"])
    e = toy(["male", "female", "male", "female"], study=["a", "a", "b", "c"])
    row = sex_contrasts(e)["contrasts"].iloc[0]
    assert row["pairs"] == 1 and np.isnan(row["estimate"])
    assert row["note"] == "not computed: fewer than 2 studies tested both sexes under the same design: nothing to pool"


def test_ambiguous_designs_are_not_paired_and_counted():
    e = toy(["male", "male", "female", "male", "female"], study=["a", "a", "a", "b", "b"])
    out = sex_contrasts(e)
    assert out["pairs"]["study"].tolist() == ["b"]
    assert "1 design with several comparisons of one sex not paired" in out["contrasts"]["note"][0]


def test_rho_must_give_a_positive_definite_covariance():
    with pytest.raises(NotComputable, match="positive-definite"):
        pool_contrasts([0.3, 0.1, 0.2], [0.2, 0.2, 0.2], ["a", "a", "b"], rho=1.0)


def test_wrong_arguments_fail_loudly():
    with pytest.raises(ValueError, match="sex_match names columns"):
        sex_contrasts(toy(["male", "female"]), match=["dose"])
    with pytest.raises(ValueError, match="no sex column"):
        sex_table(toy(["male"]).drop(columns="sex"))
