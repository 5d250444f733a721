"""The committed SIMULATED treadmill / neuropathic-pain sheet: reproducible, valid, and usable."""

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

import premeta

DATA = Path(__file__).resolve().parents[1] / "data"
MECHANISMS = {
    "Behaviour", "Pro-inflammatory cytokines", "Anti-inflammatory cytokines", "Microglia",
    "Astrocytes", "BDNF", "Mu-opioid receptor (RVM)", "GABA",
}


@pytest.fixture(scope="module")
def sim():
    spec = importlib.util.spec_from_file_location("simulate_treadmill", DATA / "simulate_treadmill.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def sheet():
    return pd.read_csv(DATA / "simulated_treadmill_neuropathic_pain.csv")


def test_committed_csv_is_regenerated_byte_for_byte(sim):
    committed = (DATA / "simulated_treadmill_neuropathic_pain.csv").read_bytes()
    regenerated = sim.render(sim.simulate()).encode(sim.CSV_OPTIONS["encoding"])
    assert regenerated == committed


def test_template_is_the_header_only(sim):
    template = pd.read_csv(DATA / "template.csv")
    assert template.empty
    assert list(template.columns) == sim.COLUMNS + ["yi", "vi", "sei"]


def test_studies_are_named_as_simulated(sheet):
    assert sheet["study"].nunique() >= 20
    assert sheet["study"].str.endswith("(simulated)").all()


def test_columns_and_valid_values(sim, sheet):
    assert list(sheet.columns) == sim.COLUMNS
    sim.check(sheet)  # n integer >= 2, one positive SD or SEM per arm, means > 0, injury direction
    assert set(sheet["better"]) == {"higher", "lower"}


def test_all_mechanisms_present(sheet):
    assert set(sheet["mechanism"]) == MECHANISMS


def test_some_shared_controls(sheet):
    sizes = sheet.groupby(["study", "control_group", "outcome", "time"]).size()
    assert (sizes >= 2).any()


def test_some_sem_only_rows(sheet):
    sem_only = sheet["trt_sd"].isna() & sheet["trt_sem"].notna()
    assert 0.2 < sem_only.mean() < 0.4


@pytest.mark.parametrize("measure", ["SMD", "NMD"])
def test_escalc_runs_on_every_row(sheet, measure):
    out = premeta.escalc(sheet, measure)
    assert len(out) == len(sheet) and out["yi"].notna().all() and (out["vi"] > 0).all()
    assert (out["shared_m"] > 1).any() and (out["sd_from_sem"] != "").any()


def test_pooled_smd_near_the_simulated_truth(sim, sheet):
    out = premeta.escalc(sheet, "SMD")
    table = premeta.rma(out.yi, out.vi, out.mechanism, method="REML", test="knha").set_index("group")
    truth = pd.Series(sim.TRUE_SMD)
    assert ((table["estimate"] - truth[table.index]).abs() < 3 * table["se"] + 0.1).all()
