"""The sheet's rules and data dictionary as data: each rule a named check, the docs generated from them."""

from pathlib import Path

import pandas as pd
import pytest

import premeta.sheet
from premeta.cli import main
from premeta.sheet import (COLUMNS, DICTIONARY, DOCS, NUMERIC, RULES, RuleInput, ci_order, median_n, n_positive,
                           rules_markdown, validate)
from premeta.errors import Problem, SheetError

DOCS_DIR = Path(__file__).resolve().parent.parent / "docs"


def sheet(**columns) -> pd.DataFrame:
    """A sheet as read: text cells, spreadsheet rows from 2, two valid comparisons unless ``columns`` override."""
    cells = {"study": ["A 2019", "B 2020"], "outcome": ["threshold", "TNF"], "mechanism": ["pain", "pain"],
             "better": ["higher", "lower"], "trt_mean": ["8", "20"], "trt_sd": ["2", "5"], "trt_n": ["10", "8"],
             "ctl_mean": ["4", "30"], "ctl_sd": ["2", "5"], "ctl_n": ["10", "8"]} | columns
    return pd.DataFrame(cells, index=pd.RangeIndex(2, 4, name="row"), dtype=object)


@pytest.mark.parametrize("name", DOCS)
def test_the_committed_docs_are_the_generated_ones(name):
    committed = (DOCS_DIR / name).read_text(encoding="utf-8")
    assert committed == DOCS[name](), (f"docs/{name} differs from the code: regenerate it with "
                                       "`python -c 'import premeta.sheet as s; s.write_docs()'`")


def test_every_rule_is_a_named_check_with_a_one_line_description():
    names = [r.name for r in RULES]
    assert len(names) == len(set(names)) == 33
    assert names[:3] == ["required_columns", "required_values", "numbers"] and names[-1] == "duplicates"
    assert all(r.description and "\n" not in r.description and "|" not in r.description for r in RULES)
    assert all(getattr(premeta.sheet, r.name) is r.check for r in RULES)
    table = rules_markdown()
    assert all(f"| `{r.name}` | {r.description} |" in table for r in RULES)
    assert "| `median_n` | a median of at least 5 animals (as metafor's `conv.fivenum`) |" in table


def test_a_rule_is_a_small_function_of_the_sheet():
    checked = RuleInput(sheet(trt_n=["0", "10"], ctl_n=["10", "-2"]), "SMD", "benefit", None, False)
    assert n_positive(checked) == [Problem(2, "trt_n", "0", "must be > 0 (a group of animals)"),
                                   Problem(3, "ctl_n", "-2", "must be > 0 (a group of animals)")]
    checked = RuleInput(sheet(trt_ci_low=["1", "5"], trt_ci_high=["3", "4"]), "SMD", "benefit", None, False)
    assert ci_order(checked) == [Problem(3, "trt_ci_high", "4", "the upper bound is below trt_ci_low = 5")]
    # a median's rules apply only when medians are converted
    medians = sheet(trt_mean=[None, "20"], trt_sd=[None, "5"], trt_n=["4", "8"], trt_median=["8", None],
                    trt_q1=["6", None], trt_q3=["9", None])
    assert median_n(RuleInput(medians, "SMD", "benefit", None, False)) == []
    assert median_n(RuleInput(medians, "SMD", "benefit", None, True)) == [Problem(
        2, "trt_n", "4", "a median is converted only for groups of 5 or more animals (as metafor's conv.fivenum): "
        "enter the mean and SD, or leave the row out")]


def test_validate_reports_every_rules_problems_at_once_by_row_then_column():
    bad = sheet(trt_sd=["2", "-1"], ctl_sd=["2", "x"], better=["up", "lower"], ctl_mean=["4", "30"])
    bad.loc[3, "ctl_n"] = "0"
    with pytest.raises(SheetError) as err:
        validate(bad, measure="SMD")
    assert [str(p) for p in err.value.problems] == [
        "row 2, column 'better', value 'up': must be 'higher' or 'lower' when orient='benefit'",
        "row 3, column 'trt_sd', value '-1': must not be negative",
        "row 3, column 'ctl_sd', value 'x': must be a number",
        "row 3, column 'ctl_n', value '0': must be > 0 (a group of animals)",
    ]


def test_the_data_dictionary_is_every_column_with_its_type_and_values():
    assert [c.name for c in DICTIONARY] == list(COLUMNS)
    assert all(c.meaning == COLUMNS[c.name] for c in DICTIONARY)
    column = {c.name: c for c in DICTIONARY}
    assert {c.name for c in DICTIONARY if c.type == "number"} == set(NUMERIC)
    assert [c.name for c in DICTIONARY if c.required == "yes"] == ["study", "outcome", "mechanism"]
    assert column["better"].required == "when `orient: benefit`"
    assert column["better"].values == "`higher`, `lower`"
    assert column["rob_other"].values == "`low`, `high`, `unclear`"
    assert (column["trt_n"].values, column["trt_n"].unit) == ("> 0", "animals")
    assert (column["ctl_sem"].values, column["ctl_sem"].required) == ("≥ 0", "unless the row gives `yi` "
                                                                      "(`ctl_sd` or `ctl_sem`)")
    assert (column["vi"].values, column["time"].unit, column["trt_mean"].values) == ("> 0", "days", "")


def test_premeta_validate_rules_prints_every_rule_and_column(capsys):
    assert main(["validate", "--rules"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Rules, checked in this order (docs/sheet_rules.md):"
    assert out[1].split() == ["required_columns", "the", "columns", "`study`,", "`outcome`,", "`mechanism`", "and",
                              "the", "`group_by`", "column", "are", "there,", "and", "`better`", "when", "`orient:",
                              "benefit`"]
    assert [line.split()[0] for line in out[1:len(RULES) + 1]] == [r.name for r in RULES]
    assert out[len(RULES) + 1] == "Columns (docs/data_dictionary.md):"
    columns = out[len(RULES) + 2:]
    assert [line.split()[0] for line in columns] == list(COLUMNS)
    assert columns[list(COLUMNS).index("trt_n")].split(None, 1)[1] == (
        "number, required unless the row gives `yi`, > 0, animals: treatment group size, animals (> 0; may be "
        "fractional, e.g. 7.5 for a reported 7-8)")


def test_premeta_validate_without_a_sheet_says_what_to_give(capsys):
    assert main(["validate"]) == 2
    assert capsys.readouterr().err == "premeta validate: give the sheet to check (or --rules)\n"


def test_a_precomputed_yi_beside_the_groups_means_is_refused():
    """A row giving both was analysed as its yi, the means ignored without a word (a yi computed as
    another measure, or by hand, then silently replaced the sheet's own SMD); group sizes beside yi stay."""
    both = sheet(yi=["5.0", None], vi=["0.3", None])
    with pytest.raises(SheetError) as err:
        validate(both)
    assert [str(p) for p in err.value.problems] == [
        "row 2, column 'yi', value '5.0': a precomputed yi beside the groups' trt_mean and ctl_mean: premeta "
        "would analyse yi and ignore them; keep one (group sizes may stay beside yi)"]
    sizes = both.assign(trt_mean=[None, "20"], ctl_mean=[None, "30"], trt_sd=[None, "5"], ctl_sd=[None, "5"])
    assert validate(sizes).at[2, "yi"] == 5.0  # yi with its group sizes (trt_n, ctl_n): accepted


def test_a_number_with_a_pdfs_minus_sign_says_why_it_is_not_one():
    """'−1.5' copied from a PDF (the minus sign U+2212, or an en dash) looks like a number but reads as
    text: "must be a number" alone left the reviewer looking at a number; the rule now names the sign."""
    with pytest.raises(SheetError) as err:
        validate(sheet(trt_mean=["\u22121.5", "20"], ctl_mean=["4", "\u20133"], ctl_sd=["2", "x"]))
    assert [str(p) for p in err.value.problems] == [
        "row 2, column 'trt_mean', value '\u22121.5': must be a number: its minus is '\u2212' (U+2212, as copied "
        "from a PDF), not the keyboard's '-'; retype it",
        "row 3, column 'ctl_mean', value '\u20133': must be a number: its minus is '\u2013' (U+2013, as copied from "
        "a PDF), not the keyboard's '-'; retype it",
        "row 3, column 'ctl_sd', value 'x': must be a number"]
