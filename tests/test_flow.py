"""The flow of records (premeta.groups.flow, premeta.plots.flow_figure): every row of the sheet accounted
for, each exclusion with its reason and count, the PRISMA2020 package's counts read or refused."""

import io

import pytest

from helpers import REPO
from premeta import escalc
from premeta.effects import checked
from premeta.errors import ReadError
from premeta.groups.common import read_effects
from premeta.groups.flow import FLOW_COLUMNS, flow_table, read_prisma_counts
from premeta.groups.pooling import primary
from premeta.plots import flow_figure, save
from premeta.tables import write_csv

BUNDLED = REPO / "data" / "simulated_treadmill_neuropathic_pain.csv"
COUNTS = REPO / "tests" / "sheets" / "simulated_prisma_counts.csv"


def flow_of(path, group_by="mechanism", counts=None):
    """The flow table of a sheet as the workflow makes it (effects written and read back, the primary model)."""
    sheet, pairing, fmt = checked(path, group_by=group_by)
    buffer = io.StringIO()
    write_csv(escalc(sheet), buffer, index=True)
    buffer.seek(0)
    effects = read_effects(buffer, omitted=True)
    main = primary(effects[effects["omitted"].isna()], group_by)["table"]
    return flow_table(effects, main, group_by, pairing, fmt, counts)


def count(flow, step, group=""):
    return int(flow.loc[(flow.step == step) & (flow.group == group), "count"].sum())


def reasons(flow, step):
    rows = flow[flow.step == step]
    return dict(zip(rows.reason, rows["count"]))


def adds_up(flow):
    """Rows in = rows set aside + rows used; comparisons = set aside + analysed = the groups' k."""
    used = sum(count(flow, s) for s in ("rows_treated", "rows_control", "rows_sham"))
    if used:
        assert count(flow, "sheet_rows") == count(flow, "rows_set_aside") + used
        assert count(flow, "comparisons") == count(flow, "rows_treated")
    else:
        assert count(flow, "sheet_rows") == count(flow, "comparisons")
    analysed = count(flow, "comparisons_analysed")
    assert count(flow, "comparisons") == count(flow, "comparisons_set_aside") + analysed
    assert analysed == flow.loc[flow.step == "group_comparisons", "count"].sum()


def test_the_bundled_sheet_sets_nothing_aside():
    flow = flow_of(BUNDLED)
    assert list(flow.columns) == FLOW_COLUMNS
    adds_up(flow)
    assert count(flow, "sheet_rows") == 298 and count(flow, "sheet_studies") == 30
    assert not flow.step.str.endswith("set_aside").any()
    groups = flow[flow.step == "group_comparisons"]
    assert len(groups) == 8 and dict(zip(groups.group, groups["count"]))["Behaviour"] == 175
    assert count(flow, "group_studies", "Behaviour") == 30
    assert set(flow.unit) == {"rows", "studies", "comparisons"} and (flow.reason == "").all()


def test_a_syrf_export_accounts_for_every_row_with_its_reason():
    flow = flow_of(REPO / "tests" / "data" / "syrf" / "quantitative_data_example.csv", "outcome")
    adds_up(flow)
    assert count(flow, "sheet_rows") == 48 and count(flow, "rows_set_aside") == 17
    assert (count(flow, "rows_treated"), count(flow, "rows_control"), count(flow, "rows_sham")) == (17, 11, 3)
    assert reasons(flow, "rows_set_aside") == {
        "no control cohort at its outcome and time": 6, "several candidate controls: not paired": 4,
        "sham cohort given the treatment": 3, "control cohort: no treated cohort at its outcome and time": 3,
        "sham cohort: no comparison at its outcome and time": 1}
    # a group whose model is not computed says why
    swim = flow[(flow.step == "group_comparisons") & (flow.group == "FST Swimming")].iloc[0]
    assert swim["count"] == 2 and "one study" in swim.reason


def test_a_syrf_export_with_medians_and_iqrs():
    flow = flow_of(REPO / "tests" / "sheets" / "simulated_syrf_export.csv", "outcome")
    adds_up(flow)
    assert reasons(flow, "rows_set_aside") == {
        "control cohort: no treated cohort at its outcome and time": 1, "the average is a median, not a mean": 1,
        "the error is an IQR (one number: the quartiles are needed)": 1,
        "no control cohort at its outcome and time": 1}


def test_a_long_sheet():
    flow = flow_of(REPO / "tests" / "sheets" / "groups" / "simulated_long_flow.csv")
    adds_up(flow)
    assert count(flow, "sheet_rows") == 16 and count(flow, "sheet_studies") == 3
    assert reasons(flow, "rows_set_aside") == {
        "several candidate controls: not paired": 3, "no control cohort at its outcome and time": 1,
        "control cohort: no treated cohort at its outcome and time": 1,
        "sham cohort: no comparison at its outcome and time": 1}
    assert flow.loc[flow.step == "sheet_rows", "label"].item() == "Rows of the sheet (one group of animals each)"


def test_comparisons_without_an_effect_size_are_set_aside_with_the_reason():
    flow = flow_of(REPO / "tests" / "data" / "besson2016_split_controls.csv")
    adds_up(flow)
    assert reasons(flow, "comparisons_set_aside") == {
        "SMD undefined: a shared control split among its comparisons leaves too few animals": 4}
    assert count(flow, "comparisons_analysed") == 56


def test_a_pairing_reason_the_flow_does_not_know_fails_loudly():
    sheet, pairing, fmt = checked(REPO / "tests" / "sheets" / "groups" / "simulated_long_flow.csv")
    pairing.loc[pairing.status == "unpaired", "detail"] = "something new"
    effects = escalc(sheet).assign(omitted=None)
    with pytest.raises(ValueError, match="not one the flow of records knows"):
        flow_table(effects, primary(effects, "mechanism")["table"], "mechanism", pairing, fmt)


def test_the_counts_of_the_prisma2020_template_are_read():
    counts = read_prisma_counts(COUNTS)
    assert dict(zip(counts.data, counts.n))["database_results"] == 1050  # "1,050"
    excluded = counts[counts.data == "dbr_excluded"]
    assert dict(zip(excluded.reason, excluded.n)) == {"Not a rodent model": 11, "No control group": 6,
                                                       "Review article": 3}
    assert "excluded_automatic" not in set(counts.data)  # NA: a box not drawn
    flow = flow_of(BUNDLED, counts=counts)
    assert list(flow.stage.unique()) == ["identification", "screening", "included", "sheet", "analysis"]
    assert flow.loc[flow.step == "records_screened", ["count", "unit"]].values.tolist() == [[801, "records"]]


@pytest.mark.parametrize("text, message", [
    ("data,count\ndatabase_results,3\n", "need the column n"),
    ("data,n\ndatabase_results,12\ndatabase_result,3\n", "row 3, column 'data', value 'database_result': is not a "
                                                        "name of the PRISMA2020 template"),
    ("data,n\nduplicates,3\nduplicates,4\n", "row 3, column 'data', value 'duplicates': is given twice (first in "
                                            "row 2)"),
    ("data,n\nrecords_screened,about 40\n", "row 2, column 'n', value 'about 40': must be a whole number >= 0"),
    ("data,n\nrecords_screened,-4\n", "must be a whole number >= 0"),
    ('data,n\ndbr_excluded,"Reason1, xxx; Reason2, 3"\n', "the count of 'Reason1' is 'xxx', not a whole number"),
    ('data,n\ndbr_excluded,"No control; Review, 3"\n', "the count of 'No control' is missing"),
])
def test_bad_counts_are_refused_naming_file_row_column_and_value(tmp_path, text, message):
    path = tmp_path / "prisma.csv"
    path.write_text(text)
    with pytest.raises(ReadError, match="prisma.csv") as error:
        read_prisma_counts(path)
    assert message in str(error.value)


def texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_the_figure_holds_every_box():
    flow = flow_of(BUNDLED, counts=read_prisma_counts(REPO / "data" / "simulated_prisma_counts.csv"))
    words = texts(flow_figure(flow))
    for text in ("Records identified from:", "Records screened (n\u00a0=\u00a01,009)", "Identification",
                 "Screening", "Included", "Sheet", "Analysis", "Behaviour", "175 comparisons", "30 studies",
                 "    No exercise intervention (n\u00a0=\u00a021)", "298 rows from 30 studies"):
        assert text in words, text
    one = texts(flow_figure(flow_of(REPO / "tests" / "sheets" / "simulated_one_comparison.csv")))
    assert "1 comparison from 1 study, in 1 group" in one and "Identification" not in one
    syrf = texts(flow_figure(flow_of(REPO / "tests" / "data" / "syrf" / "quantitative_data_example.csv",
                                     "outcome")))
    assert "Rows set aside (n\u00a0=\u00a017):" in syrf and "    Control cohorts (n\u00a0=\u00a011)" in syrf
    assert any(t.startswith("not pooled: one study") for t in syrf)


def test_the_figure_is_drawn_to_the_same_bytes(tmp_path):
    flow = flow_of(REPO / "tests" / "sheets" / "groups" / "simulated_long_flow.csv", counts=read_prisma_counts(COUNTS))
    first = [p.read_bytes() for p in save(flow_figure(flow), tmp_path / "a")]
    assert first == [p.read_bytes() for p in save(flow_figure(flow), tmp_path / "b")]
