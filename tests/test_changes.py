"""What changed since the last run (premeta.groups.changes, `premeta diff`), on real data: Reis et al.
(2019), minocycline in rodents (data/minocycline/analysis_a_sheet.csv, config/minocycline.yaml), its
studies up to 2015 (the previous run) and up to 2016 (this run), each run in-process by the library
as the workflow's jobs run it and written as a results folder. The leave-one-out of the added
comparisons is held to premeta.leave1out, itself held to metafor's leave1out (test_sensitivity.py)."""

import shutil

import numpy as np
import pandas as pd
import pytest
from helpers import REPO, close

from premeta import escalc, leave1out
from premeta.cli import main
from premeta.effects import checked
from premeta.errors import ReadError
from premeta.groups.bias import small_study
from premeta.groups.changes import COMPARISON_COLUMNS, GROUP_COLUMNS, compare_runs, comparison_keys, read_run
from premeta.groups.common import effects_as_written
from premeta.groups.pooling import primary, stratified
from premeta.groups.sensitivity import sensitivity
from premeta.tables import write_csv

SHEET = REPO / "data" / "minocycline" / "analysis_a_sheet.csv"
MODEL = dict(method="REML", test="knha", level=95)  # config/minocycline.yaml's (the schema's defaults)


def _run(folder, sheet):
    """The results folder of a run on ``sheet`` with config/minocycline.yaml's settings."""
    folder.mkdir()
    sheet.to_csv(folder / "sheet.csv", index=False)
    effects = effects_as_written(escalc(checked(folder / "sheet.csv", "auto", None, "SMD", "raw", "mechanism")[0],
                                        "SMD", "raw"))
    out = folder / "results"
    out.mkdir()
    write_csv(effects, out / "effect_sizes.csv", index=True)
    write_csv(primary(effects, "mechanism", "rve", 0.8, rve_model="CORR", **MODEL)["table"], out / "primary.csv")
    write_csv(stratified(effects, group_by="mechanism", **MODEL)["pooled"], out / "pooled.csv")
    write_csv(small_study(effects, "mechanism", "REML", "knha"), out / "small_study.csv")
    write_csv(sensitivity(effects, "mechanism", **MODEL)[0], out / "leave1out.csv")
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two runs: the studies published up to 2015, and up to 2016 (16 comparisons added)."""
    root = tmp_path_factory.mktemp("changes")
    sheet = pd.read_csv(SHEET, dtype=str, keep_default_na=False)
    year = sheet["study"].str.extract(r"(\d{4})")[0].astype(int)
    return {y: _run(root / str(y), sheet[year <= y]) for y in (2015, 2016)}, sheet[(year == 2016)]


@pytest.fixture(scope="module")
def diff(runs):
    return compare_runs(runs[0][2015], runs[0][2016], "mechanism", **MODEL)


def _primary(folder):
    return pd.read_csv(folder / "primary.csv").set_index("group")


def test_added_comparisons_are_the_2016_studies(runs, diff):
    c = diff["comparisons"]
    assert list(c.columns) == COMPARISON_COLUMNS
    assert set(c["change"]) == {"added"}
    added = runs[1]
    assert sorted(c["key"]) == sorted(f"{r.study} · {r.outcome} · {r.mechanism}" for r in added.itertuples())
    assert (c["row_old"] == "").all() and c["yi_old"].isna().all()
    close(c["yi_new"].to_numpy(), added.set_index(["study", "outcome", "mechanism"]).loc[
        [tuple(k.split(" · ")) for k in c["key"]], "yi"].astype(float).to_numpy())


def test_groups_deltas_are_the_two_runs_pooled_values(runs, diff):
    g = diff["groups"].set_index("group")
    assert list(diff["groups"].columns) == GROUP_COLUMNS
    old, new = _primary(runs[0][2015]), _primary(runs[0][2016])
    assert set(g.index) == set(old.index) | set(new.index)
    both = old.index.intersection(new.index)
    for q in ("k", "estimate", "ci_low", "ci_high", "tau2"):
        close(g.loc[both, f"{q}_old"].to_numpy(), old.loc[both, q].to_numpy())
        close(g.loc[both, f"{q}_new"].to_numpy(), new.loc[both, q].to_numpy())
    close(g.loc[both, "estimate_delta"].to_numpy(), (new.loc[both, "estimate"] - old.loc[both, "estimate"]).to_numpy())
    close(g.loc[both, "k_delta"].to_numpy(), (new.loc[both, "k"] - old.loc[both, "k"]).to_numpy())
    assert g.loc["overall", "added"] == 16 and g.loc["Forced Swim Test", "added"] == 8
    assert g.loc["Social Interaction", "change"] == "new group"
    assert g.loc["Forced Swim Test", "change"] == "changed"
    # no comparison of Open Field was added: only the Bonferroni p, adjusted over the groups, moved
    assert g.loc["Open Field Test", "change"] == "same comparisons"
    assert g.loc["Open Field Test", "what"] == "primary.csv (p_bonferroni); pooled.csv (p_bonferroni)"
    assert g.loc["Open Field Test", "estimate_delta"] == 0
    # Egger's test in the one group with ten comparisons in both runs
    assert g.loc["Forced Swim Test", ["small_study_old", "small_study_new"]].tolist() == ["no asymmetry", "asymmetry"]


def test_leave_one_out_of_the_added_rows_is_leave1out(runs, diff):
    c = diff["comparisons"].set_index("key")
    g = diff["groups"].set_index("group")
    effects = read_run(runs[0][2016]).numbers
    for group in ("Forced Swim Test", "Sucrose Preference Test", "Tail Suspension Test"):
        e = effects[effects["mechanism"] == group]
        slab = [f"{s} · {o} · {m}" for s, o, m in zip(e["study"], e["outcome"], e["mechanism"])]
        loo = leave1out(e["yi"], e["vi"], slab=slab, **MODEL)
        mine = c[c["group"] == group]
        for q in ("estimate", "ci_low", "ci_high"):
            close(mine[f"{q}_without"].to_numpy(), loo.loc[mine.index, q].to_numpy())
        full = premeta_fit(e)
        close(g.loc[group, "estimate_fit"], full)
        close(mine["shift"].to_numpy(), full - loo.loc[mine.index, "estimate"].to_numpy())
        top = mine["shift"].abs().idxmax()
        assert g.loc[group, "influential"] == top
    only = c.loc["McKim 2016 (#13) · Interaction · Social Interaction"]
    assert only["k_without"] == 0 and np.isnan(only["estimate_without"]) and "only comparison" in only["note"]


def premeta_fit(e):
    from premeta import rma
    return rma(e["yi"], e["vi"], **MODEL)["estimate"].iloc[0]


def test_a_rerun_is_unchanged(runs, tmp_path):
    copy = shutil.copytree(runs[0][2016], tmp_path / "again")
    out = compare_runs(runs[0][2016], copy, "mechanism", **MODEL)
    assert out["comparisons"].empty
    assert (out["groups"]["change"] == "unchanged").all() and (out["groups"]["what"] == "").all()
    assert (out["groups"]["estimate_delta"] == 0).all() and (out["groups"]["influential"] == "").all()


def test_a_changed_cell_and_a_removed_comparison(runs, tmp_path):
    new = shutil.copytree(runs[0][2015], tmp_path / "edited")
    e = pd.read_csv(new / "effect_sizes.csv", dtype=str, keep_default_na=False)
    e.loc[0, "sei"] = "0.6"
    e = e.drop(index=1)
    e.to_csv(new / "effect_sizes.csv", index=False)
    c = compare_runs(runs[0][2015], new, "mechanism", **MODEL)["comparisons"].set_index("change")
    assert c.loc["changed", "columns"] == "sei" and c.loc["changed", "cells"] == "sei: 0.504 -> 0.6"
    assert c.loc["removed", "key"] == "Burke 2014 (#3) · Locomotion (distance in cm) · Open Field Test"


def test_the_key_is_the_sheets_id_where_it_has_one():
    e = pd.DataFrame({"row": ["2", "3"], "id": ["a1", "a2"], "study": ["S", "S"], "outcome": ["o", "o"],
                      "mechanism": ["m", "m"]})
    assert comparison_keys(e).tolist() == ["a1", "a2"]


def test_a_duplicated_key_is_an_error(runs, tmp_path):
    new = shutil.copytree(runs[0][2015], tmp_path / "twice")
    e = pd.read_csv(new / "effect_sizes.csv", dtype=str, keep_default_na=False)
    pd.concat([e, e.iloc[[0]].assign(row="99")]).to_csv(new / "effect_sizes.csv", index=False)
    with pytest.raises(ReadError, match=r"2 comparisons share a key .*'Burke 2014 \(#2\) · .*' on rows 2, 99"):
        compare_runs(runs[0][2015], new)


def test_a_missing_folder_is_an_error(runs, tmp_path):
    with pytest.raises(ReadError, match="no such folder"):
        compare_runs(tmp_path / "nothing", runs[0][2016])
    with pytest.raises(ReadError, match="has no effect_sizes.csv and no primary.csv: not the results folder"):
        compare_runs(runs[0][2015].parent, runs[0][2016])


def test_cli(runs, tmp_path, capsys):
    assert main(["diff", str(runs[0][2015]), str(runs[0][2016]), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr()
    assert "comparisons 16 added, 0 removed, 0 changed" in out.out
    assert "Forced Swim Test: changed; k 11 -> 19" in out.out
    assert "Open Field Test: same comparisons (primary.csv (p_bonferroni)" in out.out
    groups = pd.read_csv(tmp_path / "changes_groups.csv", keep_default_na=False, na_values=[""])
    close(groups["estimate_delta"].to_numpy(dtype=float),
          compare_runs(runs[0][2015], runs[0][2016], **MODEL)["groups"]["estimate_delta"].to_numpy(dtype=float))
    assert len(pd.read_csv(tmp_path / "changes_comparisons.csv")) == 16
    assert main(["diff", str(tmp_path / "none"), str(runs[0][2016])]) == 1
    assert "no such folder" in capsys.readouterr().err


@pytest.mark.workflow
def test_the_workflow_says_what_changed_since_the_previous_run(every_analysis, tmp_path):
    """The shared every-analysis run as the previous one (`previous`), this run without one study of
    it: that study's comparisons are removed, their groups changed as compare_runs says, the others
    unchanged, and the report has the section."""
    from helpers import run

    old = pd.read_csv(every_analysis / "small.csv")
    gone = old.study.iloc[0]
    sheet = tmp_path / "fewer.csv"
    old[old.study != gone].to_csv(sheet, index=False)
    run(tmp_path, "--config", f"data={sheet}", f"previous={every_analysis / 'results'}", "analyses=[]")
    res = tmp_path / "results"
    comparisons = pd.read_csv(res / "changes_comparisons.csv")
    assert set(comparisons.change) == {"removed"} and len(comparisons) == (old.study == gone).sum()
    groups = pd.read_csv(res / "changes_groups.csv").set_index("group")
    touched = set(old.loc[old.study == gone, "mechanism"])
    assert set(groups.index[groups.change == "changed"]) == touched | {"overall"}
    assert (groups.loc[list(touched), "k_delta"] < 0).all()
    expected = compare_runs(every_analysis / "results", res, "mechanism", "REML", "knha", 95)["groups"]
    pd.testing.assert_series_equal(groups["change"], expected.set_index("group")["change"], check_names=False)
    html = (res / "report.html").read_text()
    assert 'id="changes"' in html and "What changed since the previous run" in html
