"""Shared control groups (config ``shared_control``) and fractional group sizes, held to metafor.

Fixtures: tests/reference/make_shared_control_fixtures.R (metafor_shared_control.json), on
tests/data/besson2016_split_controls.csv (controls shared beyond 2 animals per comparison) and
tests/data/besson2016_rodents.csv (Besson et al. 2016, metadat, GPL >= 2) and the dose-response and
fractional-n sheets of Martins et al. 2025 (tests/data/martins2025_*.csv, MIT): escalc per mode,
vcalc's covariance of comparisons sharing a control, rma.mv(yi, V, random = ~ 1 | study/id) with
clubSandwich CR2 tests per mechanism and overall, and escalc with fractional n.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import premeta
from helpers import close, run
from premeta.groups.common import effects_as_written, read_effects
from premeta.groups.pooling import primary, stratified
from premeta.effects import shared_control_vcov, checked
from premeta.multilevel import rma_mv, robust
from premeta.errors import Problem, SheetError
from premeta.sheet import read_sheet, validate

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
REF = json.loads((ROOT / "tests/reference/metafor_shared_control.json").read_text())
SHEETS = ["besson2016_split_controls", "besson2016_rodents", "martins2025_fst_doses", "martins2025_fst_n_ranges"]
#: the three-level REML surface is flat where a variance component is near 0 (tests/test_primary.py)
MULTILEVEL_RTOL = 1e-6


def sheet_of(name: str) -> pd.DataFrame:
    return checked(DATA / f"{name}.csv", "auto", None, "SMD", "benefit", "mechanism")[0]


@pytest.mark.parametrize("name", SHEETS)
@pytest.mark.parametrize("mode", ["split", "full"])
def test_escalc_per_mode_is_metafor(name, mode):
    e = premeta.escalc(sheet_of(name), "SMD", "benefit", mode)
    ref = REF[name][mode]
    close(e["yi"], ref["yi"], rtol=1e-12)
    close(e["vi"], ref["vi"], rtol=1e-12)
    close(e["shared_m"], REF[name]["shared_m"])
    n_eff = e["ctl_n"] / (e["shared_m"] if mode == "split" else 1)
    close(e["ctl_n_eff"], n_eff)
    if mode == "full" or name == "besson2016_rodents":
        assert not e["split_below_2"].any() and (e["omitted"] == "").all()


def test_split_below_two_is_flagged_and_undefined_smd_left_out():
    """Studies s_42 (5 controls for 8 comparisons) and s_74 (4 for 4): every row is flagged, and the
    4 rows where metafor's escalc gives NA (Hedges' df <= 1 or a negative pooled variance) keep NaN
    and the reason, and are left out of the models, as rma leaves out NA."""
    e = premeta.escalc(sheet_of("besson2016_split_controls"), "SMD", "benefit", "split")
    assert e["split_below_2"].all()
    undefined = np.array([y is None for y in REF["besson2016_split_controls"]["split"]["yi"]])
    assert list(e.index[e["omitted"] != ""]) == list(e.index[undefined]) == [14, 56, 57, 58]
    assert e.loc[14, "omitted"].startswith("SMD undefined: the control group (n = 5) split among 8 comparisons "
                                           "leaves 0.625 animals to this one")
    assert e.loc[e["omitted"] != "", ["yi", "vi"]].isna().all().all()
    assert len(effects_as_written(e)) == 56  # what every job analyses
    assert len(read_effects_all(e)) == 60


def read_effects_all(e):
    import io

    from premeta.tables import write_csv

    buffer = io.StringIO()
    write_csv(e, buffer, index=True)
    buffer.seek(0)
    return read_effects(buffer, omitted=True)


def test_fractional_n_is_metafor_and_flagged():
    raw = read_sheet(DATA / "besson2016_rodents.csv")
    raw["trt_n"] = (pd.to_numeric(raw["trt_n"]) - 0.5).map("{:g}".format)  # midpoints of reported ranges
    e = premeta.escalc(validate(raw, measure="SMD"), "SMD", "benefit")
    ref = REF["fractional"]
    close(e["yi"], ref["yi"], rtol=1e-12)
    close(e["vi"], ref["vi"], rtol=1e-12)
    assert (e["fractional_n"] == "trt").all()
    assert (premeta.escalc(sheet_of("besson2016_rodents"))["fractional_n"] == "").all()


def test_smd_refuses_only_an_undefined_variance():
    """metafor's escalc takes any n > 0; SMD also needs Hedges' df n_t + n_c - 2 > 1 and a positive
    pooled variance. MD, ROM and NMD need only n > 0."""
    sheet = pd.DataFrame({"study": list("ABCD"), "outcome": "y", "mechanism": "m", "better": "higher",
                          "trt_mean": "2", "trt_sd": ["1", "1", "3", "1"], "trt_n": ["1.5", "0.5", "0.5", "7.5"],
                          "ctl_mean": "1", "ctl_sd": "1", "ctl_n": ["1.5", "3.5", "3", "0"],
                          "sham_mean": "0"}, index=[2, 3, 4, 5])
    with pytest.raises(SheetError) as info:
        validate(sheet, measure="SMD")
    problems = info.value.problems
    assert [(p.row, p.column) for p in problems] == [(2, "ctl_n"), (4, "trt_n"), (5, "ctl_n")]
    assert "Hedges' df = trt_n + ctl_n - 2 = 1 must exceed 1" in problems[0].rule
    assert "pooled SD of measure='SMD' is undefined" in problems[1].rule
    assert problems[2] == Problem(5, "ctl_n", "0", "must be > 0 (a group of animals)")
    for measure in ("MD", "ROM", "NMD"):
        with pytest.raises(SheetError) as info:
            validate(sheet, measure=measure)
        assert [(p.row, p.column) for p in info.value.problems] == [(5, "ctl_n")]
        e = premeta.escalc(validate(sheet.loc[[2, 3, 4]], measure=measure), measure)
        assert list(e["fractional_n"]) == ["trt;ctl", "trt;ctl", "trt"]


@pytest.mark.parametrize("name", SHEETS)
def test_shared_control_vcov_is_vcalc(name):
    e = effects_as_written(premeta.escalc(sheet_of(name), "SMD", "benefit", "covariance"))
    V = shared_control_vcov(e).toarray()
    ref = REF[name]["vcalc"]
    i, j = np.array(ref["i"]) - 1, np.array(ref["j"]) - 1
    close(V[i, j], ref["value"], rtol=1e-12)
    off = V.copy()
    np.fill_diagonal(off, 0)
    assert np.count_nonzero(off) == len(i)
    close(np.diag(V), e["vi"], rtol=0)


@pytest.mark.parametrize("name", SHEETS)
def test_covariance_primary_is_rma_mv_with_vcalc_and_cr2(name):
    e = effects_as_written(premeta.escalc(sheet_of(name), "SMD", "benefit", "covariance"))
    out = primary(e, "mechanism", "none", shared_control="covariance")  # covariance overrides dependence
    assert out["mode"] == "multilevel" and out["reason"].startswith("set by shared_control: covariance")
    table = out["table"].set_index("group")
    groups = e["mechanism"]
    for ref in REF[name]["covariance"]:
        row = table.loc[ref["group"]]
        assert row.k == ref["k"] and row.studies == ref["studies"]
        assert row.model == "rma.mv three-level (REML), V of the shared controls (vcalc), CR2 tests by study"
        for q in ("estimate", "se", "df", "p", "ci_low", "ci_high", "pi_low", "pi_high", "se_model", "q"):
            close(row[q], ref[q], rtol=MULTILEVEL_RTOL)
        close([row.sigma2_study, row.sigma2_within], ref["sigma2"], rtol=MULTILEVEL_RTOL, atol=1e-9)
        column = "weight_overall" if ref["group"] == "overall" else "weight_group"
        rows = slice(None) if ref["group"] == "overall" else (groups == ref["group"]).to_numpy()
        close(out["weights"][column].to_numpy()[rows], ref["weights"], rtol=MULTILEVEL_RTOL)


def test_rma_mv_matrix_vi_equals_its_diagonal_and_che():
    """A diagonal V is rma_mv on vi; the CHE V built by hand is rma_mv(..., rho=...)."""
    e = effects_as_written(premeta.escalc(sheet_of("besson2016_split_controls"), "SMD", "benefit", "full"))
    yi, vi, study = e["yi"].to_numpy(), e["vi"].to_numpy(), e["study"].to_numpy()
    a, b = rma_mv(yi, vi, study), rma_mv(yi, np.diag(vi), study)
    close(b.beta, a.beta, rtol=1e-9)
    close(robust(b).se, robust(a).se, rtol=1e-7)
    same = study[:, None] == study[None, :]
    V = np.sqrt(np.outer(vi, vi)) * np.where(np.eye(len(vi), dtype=bool), 1, 0.5 * same)
    c, d = rma_mv(yi, V, study), rma_mv(yi, vi, study, rho=0.5)
    close(c.beta, d.beta, rtol=1e-9)
    close(c.q, d.q, rtol=1e-9)
    with pytest.raises(ValueError, match="block diagonal"):
        rma_mv(yi, np.full((len(yi), len(yi)), 0.001) + np.diag(vi), study)


@pytest.mark.workflow
def test_workflow_covariance_on_split_controls(tmp_path):
    """The sheet whose controls are too small to split runs with shared_control: covariance and its
    report names the handling; primary.csv is the R model above."""
    data = DATA / "besson2016_split_controls.csv"
    run(tmp_path, "--config", f"data={data}", "shared_control=covariance", "analyses=[dependence]")
    results = tmp_path / "results"
    table = pd.read_csv(results / "primary.csv").set_index("group")
    for ref in REF["besson2016_split_controls"]["covariance"]:
        close(table.at[ref["group"], "estimate"], ref["estimate"], rtol=MULTILEVEL_RTOL)
        close(table.at[ref["group"], "ci_low"], ref["ci_low"], rtol=MULTILEVEL_RTOL)
    effects = pd.read_csv(results / "effect_sizes.csv", keep_default_na=False)
    close(effects["yi"], REF["besson2016_split_controls"]["full"]["yi"], rtol=1e-12)
    assert not effects["split_below_2"].any()
    html = (results / "report.html").read_text()
    assert "shared_control: covariance</code>" in html and "Gleser &amp; Olkin 2009" in html
    assert "V of the shared controls (vcalc)" in html


DOSES = json.loads((DATA / "corpus_doses_metafor.json").read_text())


@pytest.mark.workflow
@pytest.mark.parametrize("mode", ["split", "full", "covariance"])
def test_workflow_on_a_dose_response_sheet_in_every_mode(tmp_path, mode):
    """Martins et al. 2025 (tests/data/martins2025_fst_doses.csv, MIT): 5 or 6 doses against one
    control of 6 to 16 animals. Every mode gets its report; the effect sizes are metafor's escalc of
    the mode; with split, the comparisons-independent models are tests/data/make_corpus_doses.R's rma
    (REML, Knapp-Hartung); with covariance, the primary model is rma.mv with vcalc's V and CR2 tests."""
    data = DATA / "martins2025_fst_doses.csv"
    run(tmp_path, "--config", f"data={data}", f"shared_control={mode}", "analyses=[dependence]")
    results = tmp_path / "results"
    assert (results / "report.html").stat().st_size > 0
    effects = pd.read_csv(results / "effect_sizes.csv", keep_default_na=False, na_values=[""])
    ref = REF["martins2025_fst_doses"]
    close(effects["yi"], ref["full" if mode == "covariance" else mode]["yi"], rtol=1e-12)
    close(effects["vi"], ref["full" if mode == "covariance" else mode]["vi"], rtol=1e-12)
    assert effects["split_below_2"].sum() == (44 if mode == "split" else 0)
    if mode == "split":
        pooled = pd.read_csv(results / "pooled.csv").set_index("group")
        for r in DOSES["martins2025_fst_doses"]["results"]:
            row = pooled.loc[r["group"]]
            assert (row.k, row.studies) == (r["k"], r["studies"])
            for q in ("estimate", "se", "ci_low", "ci_high", "p", "tau2", "i2", "q", "q_p"):
                close(row[q], r[q], rtol=1e-6)
    if mode == "covariance":
        primary_csv = pd.read_csv(results / "primary.csv").set_index("group")
        for r in ref["covariance"]:
            for q in ("estimate", "se", "df", "ci_low", "ci_high", "pi_low", "pi_high"):
                close(primary_csv.at[r["group"], q], r[q], rtol=MULTILEVEL_RTOL)
    html = (results / "report.html").read_text()
    assert f"shared_control: {mode}" in html or mode == "split"


@pytest.mark.workflow
def test_a_real_syrf_export_of_dose_response_experiments_is_metafor(tmp_path):
    """The TAAR1 living review's SyRF export (tests/data/syrf/lsr3_taar1_doses.csv, CC BY 4.0): 62
    cohort rows, sham cohorts with an empty IsDiseaseModelControl (read as TRUE: no disease model
    attached), paired into 46 comparisons of 3 to 8 doses against one control; their SMDs (control
    split) and the comparisons-independent models per outcome are tests/data/make_corpus_doses.R's
    metafor values, and the workflow writes the report."""
    ref = DOSES["syrf/lsr3_taar1_doses"]
    path = DATA / "syrf" / "lsr3_taar1_doses.csv"
    sheet, pairing, fmt = checked(path, "auto", None, "SMD", "benefit", "mechanism")
    assert fmt == "syrf" and len(sheet) == ref["comparisons"] == 46
    assert pairing.status.value_counts().to_dict() == {"paired": 46, "control": 10, "sham": 6}
    assert pairing.detail.str.contains("IsDiseaseModelControl is empty and no disease model is attached").sum() == 6
    raw = pd.read_csv(path)
    cohort = raw["CohortId"].to_numpy()
    rows = sheet["source_rows"].str.split(";")
    ours = pd.DataFrame({"trt": [cohort[int(r[0]) - 2] for r in rows], "ctl": [cohort[int(r[1]) - 2] for r in rows],
                         "mechanism": sheet["mechanism"].to_numpy()})
    effects = premeta.escalc(sheet, "SMD", "benefit")
    theirs = pd.DataFrame(ref["comparison"]).assign(yi=ref["yi"], vi=ref["vi"])
    both = ours.assign(yi=effects["yi"].to_numpy(), vi=effects["vi"].to_numpy()).merge(
        theirs, left_on=["trt", "ctl", "mechanism"], right_on=["trt_cohort", "ctl_cohort", "mechanism"])
    assert len(both) == 46
    close(both["yi_x"], both["yi_y"], rtol=1e-12)
    close(both["vi_x"], both["vi_y"], rtol=1e-12)
    assert int(effects["split_below_2"].sum()) == ref["split_below_2"]
    pooled = stratified(effects_as_written(effects), "mechanism", "REML", "knha")["pooled"].set_index("group")
    for r in ref["results"]:
        for q in ("k", "estimate", "se", "ci_low", "ci_high", "p", "tau2", "i2", "q", "q_p"):
            close(pooled.at[r["group"], q], r[q], rtol=1e-6)
    # shared_control: full and covariance (vcalc's V, rma.mv with CR2 tests over all outcomes)
    sheet_full = checked(path, "auto", None, "SMD", "benefit", "mechanism", "covariance")[0]
    full = effects_as_written(premeta.escalc(sheet_full, "SMD", "benefit", "covariance"))
    both = ours.assign(yi=full["yi"].to_numpy(), vi=full["vi"].to_numpy()).merge(
        theirs.assign(yi=ref["full"]["yi"], vi=ref["full"]["vi"]), left_on=["trt", "ctl", "mechanism"],
        right_on=["trt_cohort", "ctl_cohort", "mechanism"])
    close(both["yi_x"], both["yi_y"], rtol=1e-12)
    close(both["vi_x"], both["vi_y"], rtol=1e-12)
    overall = primary(full, "mechanism", "auto", shared_control="covariance")["table"].iloc[-1]
    cov = ref["covariance_overall"]
    for q in ("k", "estimate", "se", "df", "ci_low", "ci_high"):
        close(overall[q], cov[q], rtol=MULTILEVEL_RTOL)
    close([overall.sigma2_study, overall.sigma2_within], cov["sigma2"], rtol=MULTILEVEL_RTOL)
    run(tmp_path, "--config", f"data={path}", "analyses=[dependence]")
    assert (tmp_path / "results" / "report.html").stat().st_size > 0
