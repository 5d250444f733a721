"""Result tables open safely in a spreadsheet (OWASP CSV injection) and read back exactly.

Unit tests of premeta.tables, and one run of the real workflow on
tests/sheets/simulated_csv_injection.csv, whose study, outcome and mechanism labels start with
=, +, - and @ (see tests/sheets/README.md).
"""

import csv
import io
import re

import numpy as np
import pandas as pd
import pytest

from helpers import REPO, run
from premeta.vocabulary import group_labels, overall_label
from premeta.groups.common import read_effects
from premeta.sheet import read_sheet
from premeta.tables import neutralise, neutralise_cell, read_csv, restore, restore_cell, write_csv

INJECTION = REPO / "tests" / "sheets" / "simulated_csv_injection.csv"
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
DANGEROUS = ['=HYPERLINK("http://x","y")', "+1+1", "-cmd", "@SUM(A1)", "\t=1", "\r=1", "\t", "\r",
             "-1+2", "- 1", "'=x", "''+x", "'\t=1"]
SAFE = ["Cytokines", "TNF-α", "a=b", "", "'quoted", "''", "-1.5", "+3", "-.5", "2e-3", "7"]


def unsafe(cell: str) -> bool:
    """Whether a spreadsheet may run the cell: it starts with a trigger and is not a plain number."""
    return cell.startswith(TRIGGERS) and not PLAIN_NUMBER.fullmatch(cell)


@pytest.mark.parametrize("cell", DANGEROUS)
def test_dangerous_text_is_prefixed_and_restored(cell):
    assert neutralise_cell(cell) == "'" + cell
    assert restore_cell(neutralise_cell(cell)) == cell


@pytest.mark.parametrize("cell", SAFE)
def test_safe_text_and_plain_numbers_as_text_are_left_alone(cell):
    assert neutralise_cell(cell) == cell
    assert restore_cell(cell) == cell


@pytest.mark.parametrize("value", [-1.5, -1, 0, np.int64(-3), np.nan, None, pd.NA, True])
def test_non_text_values_are_untouched(value):
    assert neutralise_cell(value) is value and restore_cell(value) is value


def test_neutralise_leaves_numbers_and_missing_values_and_does_not_modify_its_input():
    table = pd.DataFrame({"label": DANGEROUS + SAFE + [np.nan],
                          "yi": np.linspace(-2, 2, len(DANGEROUS) + len(SAFE) + 1)})
    before = table.copy()
    safe = neutralise(table)
    pd.testing.assert_frame_equal(table, before)
    pd.testing.assert_series_equal(safe.yi, table.yi)
    assert safe.label.iloc[-1] is np.nan or pd.isna(safe.label.iloc[-1])
    assert not any(unsafe(c) for c in safe.label.dropna())
    assert list(restore(safe).label.iloc[:-1]) == list(table.label.iloc[:-1])


def test_text_index_and_names_are_neutralised_numeric_index_is_not():
    studies = pd.DataFrame({"rob_sequence": ["low", "high"]}, index=pd.Index(["=A", "B"], name="study"))
    assert list(neutralise(studies).index) == ["'=A", "B"]
    rows = pd.DataFrame({"-x": [1.0, 2.0]}, index=pd.Index([-1, 2], name="row"))
    safe = neutralise(rows)
    assert list(safe.index) == [-1, 2] and list(safe.columns) == ["'-x"]
    pd.testing.assert_frame_equal(restore(safe), rows)


def test_write_csv_round_trip_is_exact(tmp_path):
    labels = DANGEROUS + [s for s in SAFE if s]  # an empty cell reads back as missing, as any CSV
    table = pd.DataFrame({"group": labels, "yi": np.arange(len(labels)) - 5.5,
                          "note": [""] * len(labels)},
                         index=pd.Index([f"@{i}" for i in range(len(labels))], name="study"))
    path = tmp_path / "t.csv"
    write_csv(table, path, index=True)
    with open(path, newline="") as f:
        cells = [c for row in csv.reader(f) for c in row]
    assert len(cells) == 4 * (len(labels) + 1)  # a carriage return in a cell does not split its row
    assert not any(unsafe(c) for c in cells)
    back = read_csv(path, index_col="study", dtype={"group": str, "note": str}, keep_default_na=False,
                    na_values=[""])
    assert list(back.group) == labels and list(back.index) == list(table.index)
    np.testing.assert_array_equal(back.yi, table.yi)


def test_write_csv_writes_numbers_as_pandas_does():
    table = pd.DataFrame({"yi": [-1.5, 0.25], "k": [-3, 4], "group": ["-1.5", "a"]})
    out = io.StringIO()
    write_csv(table, out)
    assert out.getvalue() == table.to_csv(index=False)


@pytest.fixture(scope="module")
def injected(tmp_path_factory):
    work = tmp_path_factory.mktemp("csv injection")
    run(work, "--config", f"data={INJECTION}", "permutations=50")
    return work


@pytest.mark.workflow
def test_no_result_table_cell_can_run_as_a_formula(injected):
    tables = sorted((injected / "results").glob("*.csv"))
    assert {"effect_sizes.csv", "pooled.csv", "rob_studies.csv", "moderators.csv"} <= {t.name for t in tables}
    for path in tables:
        with open(path, newline="") as f:
            bad = [c for row in csv.reader(f) for c in row if unsafe(c)]
        assert not bad, (path.name, bad)
    raw = (injected / "results" / "effect_sizes.csv").read_text()
    assert "\"'=HYPERLINK(\"\"http://example.org\"\"" in raw and ",'@TNF," in raw and ",'+Cytokines," in raw


@pytest.mark.workflow
def test_labels_read_back_are_the_sheets(injected):
    sheet = read_sheet(INJECTION)
    expected = list(dict.fromkeys(group_labels(sheet, "mechanism")))
    assert {"+Cytokines", "'=Behaviour", "Microglia"} == set(expected)
    pooled = read_csv(injected / "results" / "pooled.csv", dtype={"group": str}, keep_default_na=False,
                      na_values=[""])
    assert sorted(pooled.group[:-1]) == sorted(expected)
    assert pooled.group.iloc[-1] == overall_label(expected)
    effects = read_effects(injected / "results" / "effect_sizes.csv")
    for column in ("study", "outcome", "mechanism"):
        assert list(effects[column]) == list(sheet[column]), column
    studies = read_csv(injected / "results" / "rob_studies.csv", dtype={"study": str})
    assert set(studies.study) == set(sheet.study)


@pytest.mark.workflow
def test_report_shows_labels_without_the_prefix(injected):
    html = (injected / "results" / "report.html").read_text()
    assert "+Cytokines" in html and "&#39;+Cytokines" not in html
    assert "&#39;=Behaviour" in html and "&#39;&#39;=Behaviour" not in html  # a label's own quote stays
    assert "-Probe C (simulated)" in html and "&#39;-Probe C" not in html
