"""The real Snakemake workflow, run on the bundled sheet and on small sheets (no mocks)."""

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import premeta
from premeta.groups.pooling import stratified
from premeta.sheet import read_sheet, validate

from helpers import EVERY_ANALYSIS, REPO, SHEET, SNAKEMAKE, run


def digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.suffix in (".csv", ".svg", ".html")}


@pytest.mark.workflow
def test_bundled_run_writes_every_output(bundled):
    res = bundled / "results"
    groups = pd.read_csv(res / "pooled.csv").group
    assert list(groups)[-1] == "overall" and len(groups) == 9
    for name in ["effect_sizes.csv", "pooled.csv", "subgroup_tests.csv", "report.html",
                 "rob_studies.csv", "rob_summary.csv", "rob_strata.csv", "rob_weighted.csv", "plots/rob_summary.png",
                 "next_experiment.csv", "plots/next_experiment.png", "plots/next_experiment.svg",
                 "plots/rob_traffic_light.png", "plots/rob_traffic_light.svg",
                 "time_course.csv", "plots/time_course.png", "small_study.csv", "plots/funnel_n.png",
                 "primary.csv", "weights.csv", "dependence_rho.csv", "plots/dependence.png", "leave1out.csv",
                 "influence.csv",
                 "moderators.csv", "moderator_tests.csv", "multiple_testing.csv", "time_regression.csv",
                 "plots/bubble_weeks.png", "plots/bubble_time.png", "plots/bubble_speed_m_min.svg",
                 "time_course_weeks.csv", "plots/time_course_weeks.png",
                 "plots/forest_overall.png", "plots/forest_overall.svg", "plots/funnel.png",
                 "plots/forest_mu-opioid-receptor-rvm.png", "plots/forest_behaviour.svg",
                 "plots/studies_behaviour.png", "plots/studies_behaviour.svg", "fail_safe_n.csv",
                 "excess_significance.csv", "power.csv", "plots/sunset.png", "plots/sunset.svg", "cumulative.csv",
                 "plots/cumulative.png", "flow.csv", "plots/flow.png", "plots/flow.svg", "sex.csv",
                 "sex_contrasts.csv"]:
        assert (res / name).stat().st_size > 0, name
    excess = pd.read_csv(res / "excess_significance.csv")
    assert list(excess.group) == list(groups)[:-1] and excess.p.notna().all()
    for forest in ("forest_behaviour", "studies_behaviour"):  # the sheet rates SYRCLE's items: RoB beside the forest
        svg = (res / "plots" / f"{forest}.svg").read_text()
        assert ">D10<" in svg and "Judgements: + low, ? unclear, − high" in svg, forest
    assert ">D1<" not in (res / "plots" / "forest_overall.svg").read_text()
    assert len(pd.read_csv(res / "power.csv")) == len(pd.read_csv(res / "effect_sizes.csv"))
    cumulative = pd.read_csv(res / "cumulative.csv")  # the simulated studies have no year: each group says so
    assert cumulative.estimate.isna().all() and cumulative.note.str.contains("no year column").all()
    for log in ["effect_sizes", "pool", "flow", "figures", "risk_of_bias", "time_course", "small_study",
                "sensitivity", "sex", "report"]:
        assert (bundled / "logs" / f"{log}.log").exists()
    html = (res / "report.html").read_text()
    assert "SIMULATED DATA" in html and "data:image/png;base64," in html
    assert hashlib.sha256(SHEET.read_bytes()).hexdigest() in html
    assert "restricted maximum likelihood" in html and "Knapp-Hartung" in html
    assert '<h2 id="risk-of-bias">SYRCLE risk of bias</h2>' in html and "Known limits" in html
    assert "Time course" in html
    assert 'id="fail-safe-n"' in html and 'id="power"' in html and "Sunset funnel plots" in html
    assert "Cumulative meta-analysis" in html and "PET-PEESE (conditional)" in html
    assert '<h2 id="sex">Sex as a biological variable</h2>' in html and "0 tested males and females separately" in html
    contrasts = pd.read_csv(res / "sex_contrasts.csv")  # no study of the bundled sheet tested both sexes
    within = contrasts[contrasts.contrast == "within studies"]
    assert len(within) == 9 and within.note.eq("no study tested both sexes under the same design").all()
    assert 'name="viewport"' in html and '<h2 id="glance">Results at a glance</h2>' in html
    assert '<a href="#forest-9">overall</a>' in html and '<figure id="forest-9">' in html  # glance links to figures
    assert '<figure id="forest-4-studies">' in html and not (res / "plots" / "studies_microglia.png").exists()
    assert '<h2 id="cite">How to cite premeta</h2>' in html and "The premeta developers" in html
    overall_svg = (res / "plots" / "forest_overall.svg").read_text()
    assert "Test for subgroup differences (between the separate fits): Q = 64.03 (df = 7), p &lt; 0.001" in overall_svg
    assert overall_svg.count("Sim01 (simulated)") == 0  # one row per group, not every comparison
    behaviour_svg = (res / "plots" / "forest_behaviour.svg").read_text()
    # the primary model (three-level, CR2 t test on the Satterthwaite df) under the diamond
    assert "Treadmill exercise n" in behaviour_svg and "Three-level model (k = 175)" in behaviour_svg
    assert re.search(r"Test for overall effect: t = [0-9.]+ \(df = 27\.8\), p &lt; 0.001", behaviour_svg)
    for name in ("funnel", "funnel_n"):  # one funnel per group, and the residuals with the group as moderator
        svg = (res / "plots" / f"{name}.svg").read_text()
        assert "residuals of the model with mechanism as moderator" in svg and svg.count("Behaviour (k = 175)") == 2
        assert "p ≤ 0.01" in svg  # contour-enhanced, with the legend of the p ranges
    small = pd.read_csv(res / "small_study.csv")
    assert list(small.group.unique())[-1] == "all groups (mechanism as moderator)" and "overall" not in set(small.group)
    # comparisons nested in studies: the three-level Egger test (SE, modified SE) in the 5 groups of k >= 10 and on
    # the model with the group as moderator, each computed
    three = small[small.analysis.str.startswith("Egger regression (three-level, CR2)")]
    assert len(three) == 12 and three.stat.notna().all() and set(three.precision) == {"SE", "modified SE"}
    studies_svg = (res / "plots" / "studies_behaviour.svg").read_text()
    assert "Study (comparisons combined)" in studies_svg and studies_svg.count("(simulated)") == 30
    text = re.sub(r"<[^>]+>", "|", re.sub(r"data:image/png;base64,[^\"]+", "", html))
    assert not re.search(r"\|\s*(nan|NaN|None)\s*\|", text)  # an empty cell is empty, not "nan"
    assert "Egger M, Davey Smith G" in html and "Holm S." in html and "With SMDs the standard error" in html
    assert "Handling used: <b>multilevel</b>, chosen automatically: 30 of 30 studies" in html
    assert ("Sensitivity and influence" in html and '<h2 id="moderators">Moderators</h2>' in html
            and "Multiple testing" in html)
    tests = pd.read_csv(res / "moderator_tests.csv")
    assert len(tests) == 9 * 8 and tests.qm_p_perm.notna().sum() == tests.converged.sum()
    assert not (res / "plots" / "bubble_sex.png").exists()  # text moderators have no bubble plot
    dep = pd.read_csv(res / "primary.csv").set_index("group")
    assert (dep.dependence == "multilevel").all() and dep.loc["overall", "studies"] == 30
    assert dep.estimate.notna().all() and (dep.df < dep.studies).all()  # Satterthwaite df, clustered by study
    # no RVE here, so no sensitivity to rho, and the table says which primary analysis it is instead
    assert pd.read_csv(res / "dependence_rho.csv").note.tolist() == [
        "the sensitivity to rho is computed for dependence: rve with rve_model: CORR; this run's primary analysis "
        "is dependence: multilevel"]


@pytest.mark.workflow
def test_pooled_csv_equals_the_library(bundled):
    sheet = validate(read_sheet(SHEET), SHEET)
    expected = stratified(premeta.escalc(sheet, "SMD", "benefit"), "mechanism", "REML", "knha", 95)
    got = pd.read_csv(bundled / "results" / "pooled.csv", keep_default_na=False, na_values=[""])
    want = expected["pooled"]
    assert list(got.columns) == list(want.columns)
    for col in want.columns:
        if want[col].dtype.kind in "fi":
            np.testing.assert_allclose(got[col].astype(float), want[col].astype(float), rtol=1e-15,
                                       equal_nan=True, err_msg=col)
        else:
            assert list(got[col].astype(object).fillna("").astype(str)) == list(want[col].astype(str)), col
    effects = pd.read_csv(bundled / "results" / "effect_sizes.csv")
    assert list(effects["row"]) == list(range(2, len(sheet) + 2))
    assert effects["shared_m"].max() > 1 and (effects["sd_from_sem"].fillna("") != "").any()


@pytest.mark.workflow
def test_rerun_is_byte_identical(every_analysis, tmp_path):
    """The same sheet again with every analysis, in another folder (the shared run stays as it is) and
    with the multiverse in one chunk instead of three: the same bytes, every table, figure and report
    (the seeded GOSH subsets, the permutations and the gathered multiverse included)."""
    run(tmp_path, "--config", f"data={every_analysis / 'small.csv'}", EVERY_ANALYSIS, "gosh_subsets=300",
        "multiverse_chunks=1")
    first, again = digests(every_analysis / "results"), digests(tmp_path / "results")
    assert [p for p in first if p.startswith("multiverse/")] == [f"multiverse/chunk_{i}.csv" for i in range(3)]
    assert [p for p in again if p.startswith("multiverse/")] == ["multiverse/chunk_0.csv"]
    files = {p for p in first if not p.startswith("multiverse/") and p != "report.html"}
    assert {"gosh.csv", "multiverse.csv", "multiverse_summary.csv", "pooled.csv"} < files and len(files) > 50
    assert {p: first[p] for p in files} == {p: again[p] for p in files}
    # the report differs in one cell: the settings table's number of chunks
    chunks = '<td>config: multiverse_chunks</td><td class="mono">{}</td>'
    reports = [(root / "results" / "report.html").read_text() for root in (every_analysis, tmp_path)]
    assert reports[0].count(chunks.format(3)) == reports[1].count(chunks.format(1)) == 1
    assert reports[0].replace(chunks.format(3), chunks.format(1)) == reports[1]


@pytest.mark.workflow
def test_invalid_sheet_stops_with_the_message_and_writes_nothing(tmp_path):
    bad = pd.read_csv(SHEET, dtype=str).head(6)
    bad.loc[1, "ctl_n"] = "0"
    bad.loc[3, "trt_sd"] = "n/a"
    bad.loc[4, "better"] = "up"
    path = tmp_path / "bad.csv"
    bad.to_csv(path, index=False)
    out = run(tmp_path, "--config", f"data={path}", check=False)
    assert out.returncode != 0
    first = out.stderr.strip().splitlines()[0]
    assert first.startswith("premeta: ") and "bad.csv" in first and "3 problems" in first
    assert "row 3, column 'ctl_n', value '0': must be > 0" in out.stderr
    assert "row 5, column 'trt_sd', value 'n/a': must be a number" in out.stderr
    assert "row 6, column 'better', value 'up'" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "results").exists()


@pytest.mark.workflow
def test_small_sheet_with_a_single_study_group_and_config_override(tmp_path):
    sheet = pd.DataFrame({
        "study": ["A", "B", "C", "D"], "outcome": "TNF", "better": "lower",
        "mechanism": ["cytokines", "cytokines", "cytokines", "glia"],
        "trt_mean": [10.0, 12.0, 9.0, 5.0], "trt_sd": [2.0, 3.0, 2.5, 1.0], "trt_n": [8, 10, 6, 7],
        "ctl_mean": [14.0, 13.0, 13.0, 7.0], "ctl_sem": [1.0, 1.1, 0.9, 0.4], "ctl_n": [8, 10, 6, 7]})
    path = tmp_path / "small.csv"
    sheet.to_csv(path, index=False)
    run(tmp_path, "--config", f"data={path}", "method=DL", "test=z", "measure=MD")
    pooled = pd.read_csv(tmp_path / "results" / "pooled.csv").set_index("group")
    assert pooled.loc["glia", "k"] == 1 and "k = 1" in pooled.loc["glia", "note"]
    assert pooled.loc["glia", "estimate"] == pytest.approx(2.0)  # lower is better: 7 - 5
    assert (pooled.method == "DL").all() and (pooled.test == "z").all()
    html = (tmp_path / "results" / "report.html").read_text()
    assert "SIMULATED DATA" not in html
    assert "With SMDs the standard error" not in html  # measure MD: no SMD funnel caveat
    assert "<code>time_course</code> was switched on but not run: the sheet has no time column" in html
    assert not (tmp_path / "results" / "rob_strata.csv").exists()
    assert (pd.read_csv(tmp_path / "results" / "primary.csv").dependence == "none").all()
    assert "chosen automatically: each of the 4 studies contributes one comparison" in html
    influence = pd.read_csv(tmp_path / "results" / "influence.csv")
    assert set(influence.group) == {"cytokines", "glia"} and len(influence) == 4
    glia = influence.set_index("group").loc["glia"]  # k = 1: kept with the reason, not diagnosed
    assert glia.note == "k = 1: no comparison to leave out" and np.isnan(glia.rstudent)
    assert (tmp_path / "results" / "plots" / "forest_glia.png").exists()


@pytest.mark.workflow
def test_lint_is_clean():
    out = subprocess.run([*SNAKEMAKE, "--lint", "-s", str(REPO / "Snakefile"), "--directory", str(REPO)],
                         capture_output=True, text=True, check=False, cwd=REPO)
    assert out.returncode == 0 and "Congratulations" in out.stdout + out.stderr, out.stdout + out.stderr


@pytest.mark.workflow
def test_changing_one_setting_reruns_only_what_depends_on_it(bundled):
    def rerun(*config):
        out = run(bundled, "--config", f"data={SHEET}", *config, "--dry-run")
        stats = out.stdout[out.stdout.index("Job stats"):].split("\n\n")[0]
        return {line.split()[0] for line in stats.splitlines()[3:] if line.strip()}

    assert rerun("permutations=50") == {"moderators", "report", "all", "total"}
    # one analysis switched off: the others' rules are untouched, only the report changes
    kept = "analyses=[dependence,moderators,risk_of_bias,time_course,small_study,next_experiment,sex]"
    assert rerun(kept) == {"report", "all", "total"}


@pytest.mark.workflow
def test_snakemake_report(bundled, tmp_path):
    run(bundled, "--config", f"data={SHEET}", "--report", str(tmp_path / "snakemake_report.html"))
    text = (tmp_path / "snakemake_report.html").read_text()
    assert "Forest plots" in text


@pytest.mark.workflow
def test_dependence_rve_in_the_workflow(minocycline_a):
    """`dependence: rve` (config/minocycline.yaml, the run conftest.py shares): every group and the
    overall row by robumeta's CORR model, studies as clusters, named so in the report
    (test_rve.py runs HIER, spelled RVE on the command line)."""
    results, _ = minocycline_a
    dep = pd.read_csv(results / "primary.csv")
    assert (dep.dependence == "rve").all() and dep.estimate.notna().all() and (dep.clusters == dep.studies).all()
    html = (results / "report.html").read_text()
    assert "Handling used: <b>rve</b>" in html and 'robu(modelweights = "CORR",\nrho = 0.8, small = TRUE)' in html


@pytest.mark.workflow
def test_gosh_in_the_workflow(every_analysis):
    res = every_analysis / "results"
    gosh = pd.read_csv(res / "gosh.csv")
    pooled = pd.read_csv(res / "pooled.csv").iloc[:-1]
    assert list(gosh.group) == list(pooled.group) and list(gosh.k) == list(pooled.k) == [9, 8, 7]
    assert list(gosh.sampling) == ["random", "all", "all"] and list(gosh.fitted) == [300, 255, 127]
    np.testing.assert_allclose(gosh.estimate, pooled.estimate, rtol=1e-12)
    assert ((gosh.estimate_min <= gosh.estimate) & (gosh.estimate <= gosh.estimate_max)).all()
    for f in gosh.figure:
        assert (res / f).is_file() and (res / f).with_suffix(".svg").is_file()
    html = (res / "report.html").read_text()
    assert 'id="gosh"' in html and html.count('alt="GOSH plot: ') == len(gosh)


@pytest.mark.workflow
def test_bad_settings_are_named_all_at_once_before_anything_runs(tmp_path):
    out = run(tmp_path, "--config", f"data={SHEET}", "permutations=1000000000", "seed=-1", "dependence=rve",
              "rho=-0.2", "group_by=Pain model: x", "bogus=1", "-n", check=False)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert lines[0] == "premeta: 5 problems in the settings (config/README.md describes every key):"
    assert len(lines) == 6  # nothing but the problems, one a line
    assert lines[1].startswith("  key 'bogus', value 1 (from --config): not a premeta setting (the settings are data,")
    assert lines[2].startswith("  key 'group_by', value {'Pain model': 'x'} (from --config): must be text. --config "
                               "read 'Pain model: x' as a mapping") and "--configfile" in lines[2]
    assert lines[3].startswith("  key 'permutations', value 1000000000 (from --config): must be at most 100000; "
                               "permutations: ") and "held in memory" in lines[3]
    assert lines[4].startswith("  key 'rho', value -0.2 (from --config): must be at least 0 with dependence: rve; ")
    assert lines[5].startswith("  key 'seed', value -1 (from --config): must be at least 0; ")
    assert not (tmp_path / "results").exists()


@pytest.mark.workflow
def test_a_sheet_named_with_braces_is_refused_with_the_reason(tmp_path):
    sheet = tmp_path / "my{sheet}.csv"
    shutil.copy(SHEET, sheet)
    out = run(tmp_path, "--config", f"data={sheet}", "analyses=[]", "-n", check=False)
    assert out.returncode == 1 and "Traceback" not in out.stderr and "WildcardError" not in out.stderr
    assert out.stderr.strip() == (
        f"premeta: {sheet}: `data` is an input of the workflow's rules, and Snakemake reads {{sheet}} in an "
        "input's path as a wildcard (no escape exists for input files); rename the sheet, or copy it to a "
        "name without braces, and point `data` there")


@pytest.mark.workflow
def test_a_read_only_results_folder_is_named_before_anything_runs(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    # root writes into a read-only folder: an immutable one stands for a read-only mount
    lock = ["chattr", "+i"] if os.geteuid() == 0 else ["chmod", "a-w"]
    if shutil.which(lock[0]) is None or subprocess.run([*lock, str(results)], check=False).returncode:
        pytest.skip(f"{lock[0]} cannot make a read-only folder here")
    try:
        out = run(tmp_path, "--config", f"data={SHEET}", "analyses=[]", check=False)
    finally:
        subprocess.run(["chattr", "-i", str(results)] if lock[0] == "chattr" else ["chmod", "u+w", str(results)],
                       check=True)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.strip() == (f"premeta: {results} is read-only: this run writes results/ there; make it "
                                  "writable, or set `workdir` to a folder you can write")
    assert not any(results.iterdir()) and not (tmp_path / "logs").exists()


@pytest.mark.workflow
def test_a_killed_run_leaves_no_old_report_and_premeta_run_recovers(tmp_path):
    """kill -9 in the middle of a run: the earlier run's report went when the run started, and
    `premeta run` names the lock and, with --recover, unlocks and reruns the unfinished jobs."""
    other, sheet = tmp_path / "other.csv", tmp_path / "sheet.csv"
    pd.read_csv(SHEET).head(6).to_csv(other, index=False)
    pd.read_csv(SHEET).head(40).to_csv(sheet, index=False)
    run(tmp_path, "--config", f"data={other}", "analyses=[]")
    assert "other.csv" in (tmp_path / "results" / "report.html").read_text()
    args = ["--configfile", str(REPO / "config" / "config.yaml"), "--config", f"data={sheet}", "analyses=[]"]
    job = subprocess.Popen([*SNAKEMAKE, "-s", str(REPO / "Snakefile"), "--cores", "2", *args], cwd=tmp_path,
                           start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pooled, started = tmp_path / "results" / "pooled.csv", time.time()
    try:
        deadline = time.monotonic() + 120
        while not (pooled.exists() and pooled.stat().st_mtime > started):  # the new sheet's: figures runs
            assert job.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        os.killpg(job.pid, signal.SIGKILL)  # snakemake and its jobs
        job.wait()
    assert not (tmp_path / "results" / "report.html").exists()
    premeta = [sys.executable, "-m", "premeta.cli", "run", "--snakefile", str(REPO / "Snakefile"), *args]
    out = subprocess.run(premeta, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert out.returncode == 1 and out.stderr.startswith(f"premeta: {tmp_path} is locked: another run is going on")
    assert "`premeta run --recover`" in out.stderr and "`snakemake --unlock` followed by `snakemake " \
        "--rerun-incomplete`" in out.stderr
    out = subprocess.run([*premeta, "--recover"], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.splitlines()[:2] == [
        f"premeta: unlocked {tmp_path} (snakemake --unlock)",
        "premeta: rerunning the jobs an interrupted run left unfinished (snakemake --rerun-incomplete)"]
    assert "other.csv" not in (tmp_path / "results" / "report.html").read_text()
