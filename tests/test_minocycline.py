"""A real published preclinical meta-analysis reproduced with premeta's RVE: Reis et al. (2019),
minocycline's antidepressant-like effect in rodents (Sci Rep, doi:10.1038/s41598-018-36507-9), as
its open replication (github.com/matheusglls/minocycline, doi:10.5281/zenodo.19642432) runs it.

Reference: tests/reference/robumeta_minocycline.json, written by make_minocycline_fixtures.R
(robumeta 2.0 robu, metafor escalc) on data/minocycline/ (CC BY 4.0, see its README.md).

Analysis A: the published effect sizes (hedges, se; 71 rows, 39 clusters), CORR, rho 0 to 1,
small-sample correction on and off. Analysis C: the replication's group-level data without
Wong_2016 through premeta's own path (read_sheet, validate, escalc, rve by exp_id).
"""

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from premeta.effects import escalc
from premeta.robumeta import rve
from premeta.sheet import read_sheet, validate

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "minocycline"
REF = json.loads((Path(__file__).parent / "reference" / "robumeta_minocycline.json").read_text())
RTOL = 1e-10
FIELDS = (("beta", "b_r"), ("se", "SE"), ("stat", "t"), ("df", "dfs"), ("p", "prob_upper"),
          ("ci_low", "CI_L"), ("ci_high", "CI_U"), ("tau2", "tau_sq"), ("i2", "I_2"), ("q", "QE"),
          ("weights", "r_weights"))


def _ids(fits):
    return [f"rho{f['rho']}-{'small' if f['small'] else 'htj'}" for f in fits]


def _same(actual, expected, rtol=RTOL):
    """Equal to R at ``rtol`` relative (no absolute slack: nothing here is near 0)."""
    np.testing.assert_allclose(np.atleast_1d(np.asarray(actual, dtype=float)),
                               np.atleast_1d(np.asarray(expected, dtype=float)), rtol=rtol, atol=0)


def _matches(fit, ref):
    assert (fit.n_clusters, fit.k) == (ref["N"], ref["M"])
    for name, key in FIELDS:
        _same(getattr(fit, name), ref[key])
    # robumeta's own prob, 2 * (1 - pt(|t|, df)), is exact only to ~1e-16 absolute
    np.testing.assert_allclose(fit.p, ref["prob"], rtol=0, atol=1e-15)


# ---------------------------------------------------------------- Analysis A: published effects

@pytest.fixture(scope="module")
def published():
    return pd.read_csv(DATA / "41598_2018_36507_MOESM2_ESM.csv")


def test_published_file(published):
    assert len(published) == 71 and published["study"].nunique() == 39
    _same(published["hedges"], REF["A"]["yi"])
    _same(published["se"] ** 2, REF["A"]["vi"])


@pytest.mark.parametrize("ref", REF["A"]["fits"], ids=_ids(REF["A"]["fits"]))
def test_analysis_a_matches_robumeta(published, ref):
    d = published
    fit = rve(d["hedges"], d["se"] ** 2, d["study"], model="CORR", rho=ref["rho"], small=ref["small"])
    _matches(fit, ref)


def test_analysis_a_matches_published(published):
    """Reis et al. (2019): −1.07 [−1.41, −0.74]; the replication's summary_A.csv: df 37.1,
    τ² 0.791, I² 75.7% (rho 0.8, small-sample correction)."""
    d = published
    f = rve(d["hedges"], d["se"] ** 2, d["study"], model="CORR", rho=0.8, small=True)
    assert [f"{x:.2f}" for x in (f.beta[0], f.ci_low[0], f.ci_high[0])] == ["-1.07", "-1.41", "-0.74"]
    assert f"{f.df[0]:.1f}" == "37.1" and f"{f.tau2:.3f}" == "0.791" and f"{f.i2:.1f}" == "75.7"
    # and the replication's own summary (report_tables/summary_A.csv) at its printed precision
    assert f"{f.se[0]:.3f}" == "0.163" and f"{f.stat[0]:.2f}" == "-6.58" and f.p[0] < 0.001


# ------------------------------------------------- Analysis C: group-level data, premeta's path

@pytest.fixture(scope="module")
def sheet_c():
    sheet = read_sheet(DATA / "minocycline_sheet.csv")
    sheet = sheet[sheet["study"] != "Wong_2016"]
    return validate(sheet, file="minocycline_sheet.csv", measure="SMD", orient="benefit")


def test_sheets_are_made_by_script(tmp_path):
    """make_sheet.py writes the three bundled sheets byte for byte from the two source files."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_sheet", DATA / "make_sheet.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path / "sheet.csv"
    assert mod.make_sheet(DATA / "Complete data.csv", out) == 110
    assert out.read_bytes() == (DATA / "minocycline_sheet.csv").read_bytes()
    assert mod.make_analysis_c_sheet(out, tmp_path / "c.csv") == 108
    assert (tmp_path / "c.csv").read_bytes() == (DATA / "analysis_c_sheet.csv").read_bytes()
    assert mod.make_effects_sheet(DATA / "41598_2018_36507_MOESM2_ESM.csv", tmp_path / "a.csv") == 71
    assert (tmp_path / "a.csv").read_bytes() == (DATA / "analysis_a_sheet.csv").read_bytes()
    a = pd.read_csv(tmp_path / "a.csv")
    # one label per cluster of the paper's `study` column: the clusters stay as published
    assert a["study"].nunique() == 39 and a.groupby("study").size().tolist() == \
        pd.read_csv(DATA / "41598_2018_36507_MOESM2_ESM.csv").groupby("study").size().tolist()


def test_sheet_rows(sheet_c):
    assert len(sheet_c) == 108 and sheet_c["exp_id"].nunique() == 60
    assert [int(i) for i in sheet_c["id"]] == REF["C"]["id"]
    assert list(sheet_c["exp_id"]) == REF["C"]["exp_id"]
    with open(DATA / "Complete data.csv", newline="", encoding="utf-8") as f:
        direction = {r["id"]: r["effect_direction"] for r in csv.DictReader(f)}
    assert [direction[i] for i in sheet_c["id"]] == REF["C"]["effect_direction"]


def test_escalc_matches_metafor(sheet_c):
    """SMD, minocycline minus control (orient raw), is metafor's escalc; oriented by benefit it is
    the replication's yi with the opposite sign (positive: antidepressant-like)."""
    raw = escalc(sheet_c, "SMD", orient="raw")
    _same(raw["yi"], REF["C"]["escalc_yi"])
    _same(raw["vi"], REF["C"]["escalc_vi"])
    ben = escalc(sheet_c, "SMD", orient="benefit")
    _same(ben["vi"], REF["C"]["escalc_vi"])
    auto = np.asarray(REF["C"]["flipped"])  # the rows the replication negates ("Auto")
    np.testing.assert_array_equal(ben["yi"], np.where(auto, raw["yi"], -raw["yi"]))
    _same(-ben["yi"], REF["C"]["yi"])


@pytest.fixture(scope="module")
def effects_c(sheet_c):
    return escalc(sheet_c, "SMD", orient="benefit")


@pytest.mark.parametrize("ref", REF["C"]["fits"], ids=_ids(REF["C"]["fits"]))
def test_analysis_c_matches_robumeta(effects_c, ref):
    e = effects_c
    fit = rve(e["yi"], e["vi"], e["exp_id"], model="CORR", rho=ref["rho"], small=ref["small"])
    # premeta's sign: positive favours minocycline; robumeta ran on the replication's (negative) sign
    assert (fit.n_clusters, fit.k) == (ref["N"], ref["M"])
    _same(-fit.beta, ref["b_r"])
    _same(-fit.stat, ref["t"])
    _same(-fit.ci_high, ref["CI_L"])
    _same(-fit.ci_low, ref["CI_U"])
    for name, key in FIELDS:
        if name not in ("beta", "stat", "ci_low", "ci_high"):
            _same(getattr(fit, name), ref[key])
    np.testing.assert_allclose(fit.p, ref["prob"], rtol=0, atol=1e-15)
    # on the replication's sign every field is robumeta's as it stands
    _matches(rve(-e["yi"], e["vi"], e["exp_id"], model="CORR", rho=ref["rho"], small=ref["small"]), ref)


def test_analysis_c_matches_replication(effects_c):
    """The replication's report_tables/summary_C.csv: −1.21 [−1.51, −0.91], SE 0.149, t −8.1,
    df 56.9, τ² 0.985, I² 76.7% (premeta: the same with the sign of benefit)."""
    e = effects_c
    f = rve(e["yi"], e["vi"], e["exp_id"], model="CORR", rho=0.8, small=True)
    assert [f"{x:.2f}" for x in (-f.beta[0], -f.ci_high[0], -f.ci_low[0])] == ["-1.21", "-1.51", "-0.91"]
    assert f"{f.se[0]:.3f}" == "0.149" and f"{-f.stat[0]:.1f}" == "-8.1" and f"{f.df[0]:.1f}" == "56.9"
    assert f"{f.tau2:.3f}" == "0.985" and f"{f.i2:.1f}" == "76.7" and f.p[0] < 0.001


@pytest.mark.workflow
def test_config_minocycline_reproduces_the_published_analysis_a(minocycline_a):
    """`snakemake --configfile config/minocycline.yaml` (conftest.py): the whole pipeline on the bundled
    real data, into its own folder, gives the published estimate and CI (Reis et al. 2019) to their precision."""
    results, _ = minocycline_a
    overall = pd.read_csv(results / "primary.csv").set_index("group").loc["overall"]
    assert (overall.dependence, overall.k, overall.clusters) == ("rve", 71, 39)
    assert (round(overall.estimate, 2), round(overall.ci_low, 2), round(overall.ci_high, 2)) == (-1.07, -1.41, -0.74)
    assert (round(overall.df, 1), round(overall.tau2, 3), round(overall.i2, 1)) == (37.1, 0.791, 75.7)
    rho = pd.read_csv(results / "dependence_rho.csv")
    assert sorted(rho[rho.group == "overall"].rho) == [0.0, 0.2, 0.5, 0.8, 1.0]
    html = (results / "report.html").read_text()
    assert "SIMULATED" not in html.upper() and "doi:10.1038/s41598-018-36507-9" in html and "CC BY 4.0" in html
    assert "Reis DJ, Casteen EJ, Ilardi SS. The antidepressant impact of minocycline in rodents" in html


@pytest.mark.workflow
def test_config_minocycline_c_reproduces_the_replication_from_group_data(minocycline_c):
    """`premeta run --configfile config/minocycline_c.yaml` (conftest.py; Snakemake underneath): Analysis
    C from the arms through premeta's sheet -> escalc -> RVE path; the replication reports -1.21 [-1.51,
    -0.91], df 56.9 with negative favouring minocycline; premeta's benefit orientation gives the
    same with the sign reversed. The report's path printed is the one in the config's workdir."""
    results, out = minocycline_c
    assert out.stdout.strip().splitlines()[-1] == f"Report: {results / 'report.html'}"
    overall = pd.read_csv(results / "primary.csv").set_index("group").loc["overall"]
    assert (overall.k, overall.clusters) == (108, 60)
    assert (round(overall.estimate, 2), round(overall.ci_low, 2), round(overall.ci_high, 2)) == (1.21, 0.91, 1.51)
    assert (round(overall.df, 1), round(overall.tau2, 3), round(overall.i2, 1)) == (56.9, 0.985, 76.7)


@pytest.mark.workflow
def test_minocycline_c_publication_bias_and_power_answered_by_the_run(minocycline_c):
    """The study labels (Amorim_2017, ...) give each comparison its year: the cumulative meta-analysis
    runs, and its last step in each group is that group's model in pooled.csv; the excess
    significance, fail-safe N and sunset funnel are written for every group."""
    results, _ = minocycline_c
    pooled = pd.read_csv(results / "pooled.csv").set_index("group").iloc[:-1]
    steps = pd.read_csv(results / "cumulative.csv")
    assert steps.year.between(2000, 2030).all() and steps.estimate.notna().all()
    last = steps.groupby("group").last()
    assert list(last.index) == sorted(pooled.index) and (last.k == pooled.loc[last.index, "k"]).all()
    np.testing.assert_allclose(last.estimate, pooled.loc[last.index, "estimate"], rtol=1e-10)
    np.testing.assert_allclose(last.ci_low, pooled.loc[last.index, "ci_low"], rtol=1e-10)
    excess = pd.read_csv(results / "excess_significance.csv")
    assert list(excess.group) == sorted(pooled.index)
    assert set(pd.read_csv(results / "fail_safe_n.csv").type) == {"Rosenthal", "Orwin", "Rosenberg"}
    assert (results / "plots" / "sunset.png").stat().st_size > 0 and (results / "plots" / "cumulative.png").exists()
