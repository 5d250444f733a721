"""Valid sheets as reviewers make them, through the real workflow: every table, figure and the
report are written; what cannot be computed keeps its row and says why; results/ holds this run only.

The sheets are in tests/sheets/ (hand-made, their numbers invented: see its README).
"""

import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from helpers import REPO, run
from premeta.vocabulary import file_names

SHEETS = REPO / "tests" / "sheets"
UNIFORM = SHEETS / "simulated_uniform_protocol.csv"
PRECOMPUTED = SHEETS / "simulated_precomputed_only.csv"
IDENTICAL = SHEETS / "simulated_identical_effects.csv"
ONE = SHEETS / "simulated_one_comparison.csv"
EXTREME = SHEETS / "simulated_extreme_magnitude.csv"
FAST = "permutations=50"  # the permutation tests are exercised elsewhere; keep these runs quick


def table(work: Path, name: str) -> pd.DataFrame:
    t = pd.read_csv(work / "results" / name, dtype={"group": str}, keep_default_na=False, na_values=[""])
    return t.assign(note=t["note"].astype(object).where(t["note"].notna(), "")) if "note" in t else t


def written(work: Path) -> set[str]:
    return {str(p.relative_to(work / "results")) for p in (work / "results").rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def uniform(tmp_path_factory):
    work = tmp_path_factory.mktemp("uniform")
    run(work, "--config", f"data={UNIFORM}", FAST)
    return work


@pytest.mark.workflow
def test_uniform_protocol_sheet_writes_every_output(uniform):
    pooled = table(uniform, "pooled.csv")
    groups = list(pooled.group[:-1])
    assert len(groups) == 11 and "overall" in groups
    assert pooled.group.iloc[-1] == "overall (all groups)" and pooled.k.iloc[-1] == 12
    stems = file_names(groups)
    assert len(set(stems.values())) == 11 and all(len(s) <= 60 for s in stems.values())
    assert stems["TNF-α"] == "tnf-alpha" and stems["TNF-β"] == "tnf-beta" and stems["IL-1$\\beta$"] == "il-1-beta"
    assert stems["a/b"] != stems["a-b"] and stems["overall"] != "overall"
    assert re.fullmatch(r"group-[0-9a-f]{8}", stems["小胶质细胞"])
    plots = {f"plots/forest_{s}.{ext}" for s in [*stems.values(), "overall"] for ext in ("png", "svg")}
    assert plots <= written(uniform)
    assert len([f for f in written(uniform) if f.startswith("plots/forest_")]) == 2 * 12
    # an estimate resting on two comparisons is marked in the table, the report and the overall figure
    behaviour = pooled.set_index("group").loc["Behaviour"]
    assert behaviour.k == 2 and "k = 2: an estimate from two comparisons" in behaviour.note
    assert "k = 2: an estimate from two comparisons" in (uniform / "results" / "report.html").read_text()
    assert "Behaviour †" in (uniform / "results" / "plots" / "forest_overall.svg").read_text()
    for name in ["report.html", "effect_sizes.csv", "subgroup_tests.csv", "primary.csv", "small_study.csv",
                 "leave1out.csv", "influence.csv", "moderators.csv", "moderator_tests.csv", "multiple_testing.csv",
                 "time_course.csv", "time_regression.csv", "plots/funnel.png", "plots/funnel_n.png",
                 "plots/dependence.png", "plots/time_course.png", "plots/bubble_days_per_week.png",
                 "plots/bubble_weeks.png"]:
        assert (uniform / "results" / name).stat().st_size > 0, name


@pytest.mark.workflow
def test_constant_moderators_are_noted_not_fatal(uniform):
    tests = table(uniform, "moderator_tests.csv")
    for m, value in [("sex", "'male'"), ("species", "'rat'"), ("model", "'CCI'"), ("days_per_week", "5")]:
        rows = tests[tests.moderator == m]
        assert len(rows) == 11 and not rows.converged.any()
        assert (rows.note == f"{m} takes one value in the whole sheet ({value}): nothing to compare").all()
    weeks = tests[tests.moderator == "weeks"]  # varies across the sheet, constant within every group
    assert not weeks.converged.any() and weeks.note.str.contains("constant|k = 1").all()
    bubble = (uniform / "results" / "plots" / "bubble_weeks.svg").read_text()
    assert "Not drawn: " in bubble


@pytest.mark.workflow
def test_egger_on_the_model_with_eleven_groups_and_twelve_comparisons_says_why(uniform):
    """Small-study effects are tested within groups, or with the group as moderator: 11 groups leave
    one comparison beside 11 intercepts, too few for the slope of Egger's test."""
    small = table(uniform, "small_study.csv")
    every = small[small.group == "all groups (mechanism as moderator)"]
    assert len(every) == 6 and every.p.isna().all()  # 4 Egger tests and 2 three-level ones
    assert every.analysis.str.endswith("residuals of the model with mechanism as moderator").all()
    egger = every.analysis.str.contains("three-level")
    assert every.note[~egger].str.contains("needs at least 13 studies here, got k = 12").all()
    assert every.note[egger].str.startswith("each study contributes one comparison").all()
    assert "overall (all groups)" not in set(small.group)  # no test around one estimate of all groups
    few = small[small.group == "Behaviour"].iloc[0]
    assert few.note.startswith("k = 2 < 10: too few comparisons")


@pytest.mark.workflow
def test_no_group_with_three_comparisons_still_gets_sensitivity_rows(uniform):
    influence = table(uniform, "influence.csv")
    effects = table(uniform, "effect_sizes.csv")
    assert sorted(influence.row) == sorted(effects.row)  # every comparison has its row
    one = influence[influence.group == "TNF-α"].iloc[0]
    assert one.note == "k = 1: no comparison to leave out" and np.isnan(one.rstudent)
    two = influence[influence.group == "Behaviour"]
    assert (two.note == "").all() and two.rstudent.notna().all()


@pytest.mark.workflow
def test_a_group_named_overall_keeps_its_own_rows(uniform):
    dep = table(uniform, "primary.csv")
    assert list(dep.group[-2:]) != ["overall", "overall"] and dep.group.iloc[-1] == "overall (all groups)"
    assert dep.set_index("group").loc["overall", "k"] == 1
    html = (uniform / "results" / "report.html").read_text()
    assert "Forest plot: overall (all groups)" in html and "Forest plot: overall." in html


@pytest.mark.workflow
def test_labels_are_printed_literally(uniform):
    stems = file_names(table(uniform, "pooled.csv").group[:-1])
    for label in ("TNF $\\notacommand{x}$", "IL-1$\\beta$"):
        svg = (uniform / "results" / "plots" / ("forest_" + stems[label] + ".svg")).read_text()
        assert label in svg


@pytest.mark.workflow
def test_report_shows_why_where_the_result_would_be(uniform):
    html = (uniform / "results" / "report.html").read_text()
    assert "sex takes one value in the whole sheet" in html
    assert "needs at least 13 studies here, got k = 12" in html
    assert "too few comparisons to test for small-study effects" in html
    assert "k = 1: no comparison to leave out" in html
    assert "SIMULATED DATA" in html


@pytest.fixture(scope="module")
def precomputed(tmp_path_factory):
    """The precomputed sheet run in a folder and under a file name with a space (test_a_path_with_a_space)."""
    work = tmp_path_factory.mktemp("precomputed") / "my review"
    work.mkdir()
    sheet = work / "my sheet.csv"
    shutil.copy(PRECOMPUTED, sheet)
    run(work, "--config", f"data={sheet}", FAST)
    return work


@pytest.mark.workflow
def test_precomputed_effects_only(precomputed):
    # 2 groups of 3: too few for every test (precomputed n: test_small_study)
    small = table(precomputed, "small_study.csv")
    assert small.note.str.startswith("k = ").all() and small.note.str.contains("too few comparisons").all()
    assert list(small.group) == ["Behaviour", "Cytokines", "all groups (mechanism as moderator)"]
    funnel = (precomputed / "results" / "plots" / "funnel_n.svg").read_text()
    assert "Not drawn: no comparison with group sizes" in funnel
    assert (precomputed / "results" / "report.html").exists()


@pytest.mark.workflow
def test_identical_effects_with_knapp_hartung(tmp_path):
    run(tmp_path, "--config", f"data={IDENTICAL}", FAST)
    pooled = table(tmp_path, "pooled.csv")
    assert (pooled.se == 0).all() and pooled.note.str.contains("Knapp-Hartung s2 = 0").all()
    small = table(tmp_path, "small_study.csv")
    egger = small[small.analysis.str.startswith("Egger")]
    assert egger.p.isna().all() and (egger.note != "").all()
    strata = table(tmp_path, "rob_strata.csv")
    assert len(strata) and set(strata.analysis) >= {"by Sequence generation", "by Blinding (outcome assessor)"}
    assert (tmp_path / "results" / "report.html").exists()


@pytest.mark.workflow
def test_a_sheet_of_one_comparison(tmp_path):
    """k = 1 everywhere: every moderator takes one value, so no moderator model is fitted at all."""
    run(tmp_path, "--config", f"data={ONE}", FAST)
    for name in ["report.html", "pooled.csv", "moderator_tests.csv", "multiple_testing.csv", "small_study.csv",
                 "influence.csv", "primary.csv", "time_regression.csv", "rob_strata.csv",
                 "plots/forest_behaviour.svg"]:
        assert (tmp_path / "results" / name).stat().st_size > 0, name
    pooled = table(tmp_path, "pooled.csv")
    assert list(pooled.k) == [1, 1] and pooled.note.str.startswith("k = 1: the study's own estimate").all()
    tests = table(tmp_path, "moderator_tests.csv")
    assert not tests.converged.any() and tests.note.str.contains("takes one value in the whole sheet").all()
    assert tests.qm_p.isna().all()
    adjusted = table(tmp_path, "multiple_testing.csv")
    moderators = adjusted[adjusted.family == "moderators"]
    assert len(moderators) == len(tests) and moderators.p.isna().all() and moderators.p_holm.isna().all()
    assert adjusted[adjusted.family == "effect by group"].p_holm.iloc[0] == pooled.p.iloc[0]
    small = table(tmp_path, "small_study.csv")
    assert small.p.isna().all() and (small.note != "").all()
    strata = table(tmp_path, "rob_strata.csv").set_index("analysis")
    assert strata.note.to_dict() == {
        "by Sequence generation": "every rated study is at 'unclear' risk on this item: nothing to compare",
        "by Blinding (outcome assessor)": "every rated study is at 'low' risk on this item: nothing to compare",
        "low risk on Sequence generation and Blinding (outcome assessor)": "no study is at low risk on these items"}
    assert strata.estimate.isna().all()
    html = (tmp_path / "results" / "report.html").read_text()
    assert "<td>by Sequence generation</td><td></td><td>1</td>" in html
    assert "no study is at low risk on these items" in html


@pytest.mark.workflow
def test_a_group_too_extreme_for_double_precision(tmp_path):
    """yi of 1e200 in one group: its every analysis says why it is not computed; the other group is fitted."""
    run(tmp_path, "--config", f"data={EXTREME}", FAST)
    why = "yi or vi too extreme for double precision"
    pooled = table(tmp_path, "pooled.csv").set_index("group")
    assert np.isnan(pooled.at["Behaviour", "estimate"]) and why in pooled.at["Behaviour", "note"]
    assert np.isfinite(pooled.at["Cytokines", "estimate"])  # its only note: no group sizes to count animals
    assert pooled.at["Cytokines", "note"] == ("animals not counted: the sheet gives precomputed effects (yi, vi) "
                                              "without group sizes")
    for name in ("leave1out.csv", "influence.csv"):
        t = table(tmp_path, name)
        behaviour = t[t.group == "Behaviour"]
        assert len(behaviour) == 3 and behaviour.note.str.startswith(f"not computed: {why}").all(), name
        assert (t[t.group == "Cytokines"].note == "").all(), name
    dep = table(tmp_path, "primary.csv").set_index("group")
    assert why in dep.at["Behaviour", "note"] and np.isfinite(dep.at["Cytokines", "estimate"])
    assert (tmp_path / "results" / "report.html").exists()


@pytest.mark.workflow
def test_group_by_a_number_column_and_a_90_percent_level(tmp_path):
    run(tmp_path, "--config", f"data={UNIFORM}", "group_by=time", "level=90", FAST)
    pooled = table(tmp_path, "pooled.csv")
    assert list(pooled.group) == ["7", "14", "21", "overall"]  # by value, not as text (14, 21, 7)
    course = table(tmp_path, "time_course.csv")
    assert list(dict.fromkeys(course.group)) == ["7", "14", "21"]
    html = (tmp_path / "results" / "report.html").read_text()
    assert html.index('alt="Forest plot: 7') < html.index('alt="Forest plot: 14') < html.index('alt="Forest plot: 21')
    tests = table(tmp_path, "moderator_tests.csv")
    assert (tests[tests.moderator == "time"].note != "").all()  # constant within every time point
    # every interval of the forest plot and its header follow the level
    effects = table(tmp_path, "effect_sizes.csv")
    row = effects[effects.time == 7].iloc[0]
    z = stats.norm.isf(0.05)
    lo, hi = row.yi - z * np.sqrt(row.vi), row.yi + z * np.sqrt(row.vi)
    svg = (tmp_path / "results" / "plots" / "forest_7.svg").read_text()
    assert "Estimate [90% CI]" in svg and "95%" not in svg
    assert f"{row.yi:.2f} [{lo:.2f}, {hi:.2f}]" in svg
    seven = pooled.set_index("group").loc["7"]
    assert f"[{seven.ci_low:.2f}, {seven.ci_high:.2f}]" in svg
    assert "Estimate [90% CI]" in (tmp_path / "results" / "plots" / "forest_overall.svg").read_text()


@pytest.mark.workflow
def test_results_hold_this_run_only(uniform, tmp_path):
    """Another sheet's plots are removed, a moderator name cannot write outside results/, an input
    inside results/ is refused, and a failed run leaves no report beside tables it does not describe."""
    shutil.copytree(uniform, tmp_path, dirs_exist_ok=True)  # a run on the uniform sheet (the fixture's, copied)
    assert (tmp_path / "results" / "plots" / "forest_tnf-alpha.png").exists()
    pwned = Path("/tmp/pwned.png")
    pwned.unlink(missing_ok=True)
    evil = "x/../../../../../../tmp/pwned"
    sheet = pd.read_csv(PRECOMPUTED).assign(**{evil: [1, 2, 3, 4, 5, 6]})
    path = tmp_path / "second.csv"
    sheet.to_csv(path, index=False)
    run(tmp_path, "--config", f"data={path}", f"moderators=[{evil}]", FAST)
    assert not pwned.exists()
    files = written(tmp_path)
    assert "plots/bubble_x-tmp-pwned.png" in files
    assert not [f for f in files if "tnf" in f or "time_course" in f]
    assert {f for f in files if f.startswith("plots/forest_")} == {
        f"plots/forest_{g}.{e}" for g in ("behaviour", "cytokines", "overall") for e in ("png", "svg")}

    report = (tmp_path / "results" / "report.html").read_bytes()
    out = run(tmp_path, "--config", f"data={tmp_path / 'results' / 'effect_sizes.csv'}", check=False)
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert out.stderr.startswith("premeta: ") and "inside results/" in out.stderr.splitlines()[0]
    assert (tmp_path / "results" / "report.html").read_bytes() == report

    overflow = pd.read_csv(UNIFORM).head(3).assign(trt_mean=1.7e308, ctl_mean=-1.7e308)  # MD overflows
    overflow.to_csv(path, index=False)
    out = run(tmp_path, "--config", f"data={path}", "measure=md", FAST, check=False)  # refused before any job
    assert out.returncode != 0 and "Error in rule" not in out.stderr
    assert "row 2, column 'yi'" in out.stderr and "no finite MD" in out.stderr
    assert (tmp_path / "results" / "report.html").read_bytes() == report

    (tmp_path / "logs" / "pool.log").unlink()
    (tmp_path / "logs" / "pool.log").mkdir()  # the pool job cannot write its log: a job fails mid-run
    (tmp_path / "logs" / "pool.log" / "keep").write_text("")  # (snakemake removes an empty directory)
    out = run(tmp_path, "--config", f"data={UNIFORM}", FAST, check=False)
    assert out.returncode != 0 and "Error in rule pool" in out.stderr
    assert not (tmp_path / "results" / "report.html").exists()  # no report beside tables it does not describe


@pytest.mark.workflow
def test_a_path_with_a_space(precomputed, tmp_path):
    assert " " in precomputed.name and (precomputed / "results" / "report.html").exists()
    # make keeps its virtual environment out of a path with a space (Snakemake does not quote it)
    clone = tmp_path / "a clone"
    clone.mkdir()
    for name in ("Makefile", "requirements.lock", "pyproject.toml"):
        shutil.copy(REPO / name, clone / name)
    dry = subprocess.run(["make", "-n", "run"], cwd=clone, capture_output=True, text=True, check=True).stdout
    digest = hashlib.sha1(str(clone).encode()).hexdigest()[:12]
    assert f"/.cache/premeta/venv-{digest}/bin/snakemake" in dry and " .venv" not in dry
