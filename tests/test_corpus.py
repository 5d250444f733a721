"""Real-data regression corpus: the real workflow on published datasets, held to metafor.

Each sheet in tests/data/ was written from a dataset of the metadat R package by
tests/data/make_corpus.R, which also computed, with metafor, what the workflow should report with
the repository's config/config.yaml (SMD, orient: benefit, REML, Knapp-Hartung, per `mechanism`
and overall): tests/data/corpus_metafor.json. tests/data/README.md gives sources and changes.
The workflow runs once per sheet (module-scoped fixture), with every analysis of the config
switched on and ``permutations=100`` to keep the run short, except the two subsets of Besson et al.
2016's rodents (their moderators only: the rodents run everything); only the pooled table and the
effect sizes are compared with metafor here.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import close
from premeta.convert import arm_sd
from premeta.effects import shared_control_m, smd
from premeta.sheet import read_sheet

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
CORPUS = json.loads((DATA / "corpus_metafor.json").read_text())
SHEETS = ["normand1999_stroke", "curtis1998_co2", "besson2016_mice", "besson2016_male_rats", "besson2016_rodents"]
#: the analyses of a sheet, where not the config's
ANALYSES = {"besson2016_mice": ["analyses=[moderators]"], "besson2016_male_rats": ["analyses=[moderators]"]}
SPLIT = "besson2016_split_controls"
QUANTITIES = {"estimate": "estimate", "se": "se", "ci_low": "ci_low", "ci_high": "ci_high",
              "df": "df", "p": "p", "tau2": "tau2", "i2": "i2", "q": "q", "q_p": "q_p"}


def workflow(workdir: Path, sheet: str) -> subprocess.CompletedProcess:
    """snakemake in ``workdir`` with the repository's workflow and config, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(workdir),
         "--configfile", str(REPO / "config" / "config.yaml"), "--cores", "2",
         "--config", f"data={DATA / f'{sheet}.csv'}", "permutations=100", *ANALYSES.get(sheet, [])],
        capture_output=True, text=True, check=False)


@pytest.fixture(scope="module", params=SHEETS)
def corpus_run(request, tmp_path_factory):
    work = tmp_path_factory.mktemp(request.param)
    return request.param, work, workflow(work, request.param)


@pytest.mark.workflow
def test_workflow_runs(corpus_run):
    name, work, out = corpus_run
    assert out.returncode == 0, f"snakemake failed on tests/data/{name}.csv:\n{out.stderr[-4000:]}"
    for result in ("report.html", "pooled.csv", "effect_sizes.csv"):
        assert (work / "results" / result).stat().st_size > 0, result
    if name == "besson2016_mice":  # one species: `species` is a moderator with a single value
        tests = pd.read_csv(work / "results" / "moderator_tests.csv")
        species = tests[tests.moderator == "species"]
        assert len(species) == 3 and not species.converged.any()
        assert species.note.str.contains("one value").all()
        assert tests[tests.moderator == "sex"].converged.all()
    if name == "besson2016_male_rats":  # one sex and one species: both noted, the other moderators fitted
        tests = pd.read_csv(work / "results" / "moderator_tests.csv")
        for moderator, value in (("sex", "'m'"), ("species", "'rats'")):
            rows = tests[tests.moderator == moderator]
            assert len(rows) == 3 and not rows.converged.any()
            assert (rows.note == f"{moderator} takes one value in the whole sheet ({value}): nothing to compare").all()
    if name == "besson2016_rodents":  # published SEMs of 0 in one arm: computed as metafor, flagged
        effects = pd.read_csv(work / "results" / "effect_sizes.csv", keep_default_na=False)
        flagged = effects[effects.zero_sd != ""].set_index("row").zero_sd
        assert flagged.to_dict() == {25: "trt", 132: "ctl", 284: "ctl", 285: "trt"}
        html = (work / "results" / "report.html").read_text()
        assert "4 comparisons had an SD of 0 in one group" in html and "<td>284</td>" in html


@pytest.mark.workflow
def test_effect_sizes_equal_metafor(corpus_run):
    name, work, out = corpus_run
    assert out.returncode == 0, f"snakemake failed on tests/data/{name}.csv"
    ref = CORPUS[name]
    effects = pd.read_csv(work / "results" / "effect_sizes.csv")
    assert len(effects) == ref["rows"]
    close(effects["shared_m"], ref["shared_m"])
    close(effects["yi"], ref["yi"])
    close(effects["vi"], ref["vi"])


@pytest.mark.workflow
def test_pooled_equals_metafor(corpus_run):
    name, work, out = corpus_run
    assert out.returncode == 0, f"snakemake failed on tests/data/{name}.csv"
    pooled = pd.read_csv(work / "results" / "pooled.csv", keep_default_na=False,
                         na_values=[""]).set_index("group")
    pooled.index = pooled.index.astype(str)
    ref = CORPUS[name]["results"]
    assert list(pooled.index) == [r["group"] for r in ref]
    for r in ref:
        row = pooled.loc[r["group"]]
        assert row["k"] == r["k"] and row["studies"] == r["studies"], r["group"]
        assert row["converged"] in (True, "True"), r["group"]
        for ours, theirs in QUANTITIES.items():
            try:
                close(row[ours], r[theirs])
            except AssertionError as err:
                raise AssertionError(f"{name}, group {r['group']}, {ours}: {err}") from None


# ---- controls split below 2 animals per comparison (Besson 2016, studies s_42 and s_74) ----

def test_split_control_effect_sizes_match_metafor():
    """Hedges' g where the CAMARADES split leaves Hedges' df <= 1 or a negative pooled variance.

    metafor's escalc gives NA for those rows (4 of 60); premeta must not report a number there.
    """
    ref = CORPUS[SPLIT]
    sheet = read_sheet(DATA / f"{SPLIT}.csv")  # the library computes it as metafor does
    for col in ("trt_mean", "trt_sem", "trt_n", "ctl_mean", "ctl_sem", "ctl_n"):
        sheet[col] = pd.to_numeric(sheet[col])
    m = shared_control_m(sheet)
    close(m, ref["shared_m"])
    with np.errstate(divide="ignore", invalid="ignore"):
        yi, vi = smd(sheet.trt_mean, arm_sd(sheet, "trt")[0], sheet.trt_n,
                     sheet.ctl_mean, arm_sd(sheet, "ctl")[0], sheet.ctl_n / m)
    yi = np.where(sheet.better == "lower", -yi, yi)
    undefined = np.array([y is None for y in ref["yi"]])
    assert undefined.sum() == 4
    close(yi[~undefined], np.array(ref["yi"], dtype=object)[~undefined])
    close(vi[~undefined], np.array(ref["vi"], dtype=object)[~undefined])
    rows = list(sheet.index[undefined])
    assert not np.isfinite(yi[undefined]).any(), (
        f"premeta gives g = {list(yi[undefined])} for sheet rows {rows}, where metafor's g is undefined")


def test_split_control_sheet_is_accepted_flagged_and_undefined_rows_left_out():
    """Controls split below 2 animals per comparison are no longer refused (issue 19): with the default
    ``shared_control: split`` every row is flagged, and the 4 rows where metafor's g is undefined keep
    no effect size, with the reason, and are left out of the models (the workflow runs on this sheet in
    every mode: tests/test_shared_control.py runs it with ``covariance``)."""
    from premeta.effects import escalc, checked

    sheet = checked(DATA / f"{SPLIT}.csv", "auto", None, "SMD", "benefit", "mechanism")[0]
    e = escalc(sheet)
    ref = CORPUS[SPLIT]
    assert e["split_below_2"].all()
    assert list(e.index[e["omitted"] != ""]) == [i + 2 for i, y in enumerate(ref["yi"]) if y is None]
    close(e["yi"], ref["yi"])
