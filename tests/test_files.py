"""Files as spreadsheet programs write them (tests/sheets/files/, made by its make_files.py): read
correctly, or refused with a message naming the file and saying what to do, through `premeta validate`
(its function in this process; the installed command in one test) and the real workflow."""

import contextlib
import io
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from helpers import REPO, run
from premeta.cli import main
from premeta.errors import Problem, SheetError

FILES = REPO / "tests" / "sheets" / "files"
PREMETA = str(Path(sys.executable).parent / "premeta")


def validate(name: str, *args: str) -> subprocess.CompletedProcess:
    """`premeta validate` on a file, run in this process (the installed command is the same
    function, :func:`premeta.cli.main`; test_text_named_as_a_workbook_is_refused starts it)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["validate", str(FILES / name), *args])
        except SystemExit as stop:  # argparse's refusals
            code = stop.code
    return subprocess.CompletedProcess(["premeta", "validate", name, *args], code, out.getvalue(), err.getvalue())


@pytest.mark.parametrize("name, read_as", [
    ("windows1252.csv", "comma-separated text, Windows-1252"),
    ("excel_unicode_text.txt", "tab-separated text, UTF-16"),
    ("semicolon_decimal_comma.csv", "semicolon-separated text, UTF-8 with BOM, decimal comma"),
    ("tab_separated_named.csv", "tab-separated text, UTF-8"),
    ("miscased_headers.csv", "comma-separated text, UTF-8"),
    ("trailing_empty_columns.csv", "comma-separated text, UTF-8"),
    ("excel97.xls", ".xls workbook, worksheet 'Extraction'; row 3 is hidden in the workbook and analysed"),
    ("merged_study_cells.xlsx", ".xlsx workbook, worksheet 'Extraction'; merged cells A2:A3, A4:A6 read as the merged "
                                "value in every cell"),
])
def test_read_correctly(name, read_as):
    out = validate(name)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == f"{FILES / name}: OK, read as {read_as}"
    assert "6 comparisons from 3 studies in 2 groups of mechanism" in out.stdout


def test_every_encoding_and_dialect_gives_the_same_sheet():
    from premeta.sheet import read_sheet, validate as check

    want = check(read_sheet(FILES / "tab_separated_named.csv"))
    assert want.at[2, "study"] == "Müller 2019 (simulated)"
    for name in ("windows1252.csv", "excel_unicode_text.txt", "semicolon_decimal_comma.csv", "miscased_headers.csv",
                 "excel97.xls", "trailing_empty_columns.csv", "merged_study_cells.xlsx"):
        got = check(read_sheet(FILES / name))
        pd.testing.assert_frame_equal(got, want, check_dtype=False, obj=name)


@pytest.mark.parametrize("name, message", [
    ("zero_bytes.csv", "the file is empty (0 bytes or only blank space); export the sheet again"),
    ("binary_garbage.csv", "holds binary data, not a text table; export the sheet as CSV or .xlsx"),
    ("header_only.csv", "has a header but no data rows"),
    ("ambiguous_delimiter.csv", "cannot tell whether the columns are separated by comma and semicolon"),
    ("password_protected.xlsx", "the workbook is password-protected (encrypted); remove the password"),
    ("zip_not_workbook.xlsx", "is a ZIP archive but not an Excel workbook"),
    ("workbook_named.csv", "is an Excel workbook named .csv; rename it to .xlsx"),
    ("libreoffice.ods", "is an OpenDocument spreadsheet (LibreOffice .ods), which premeta does not read; save it "
                        "as .xlsx (File > Save As > Excel 2007-365) or as .csv"),
    ("make_files.py", "an extraction sheet must be .csv, .tsv, .txt, .xlsx, .xlsm or .xls; save or export it"),
    ("semicolon_mixed_decimals.csv", "number columns mix decimal commas ('0,458' in row 2, column 'trt_mean') "
                                     "and decimal points ('0.171' in row 2, column 'ctl_sd'); use one of them"),
    ("one_column.txt", "found a single column: the file is not comma-, semicolon- or tab-separated text"),
    ("translated_headers.csv", "row -, column 'study', value None: required column is missing (read as "
                               "semicolon-separated text, UTF-8, the header is: Studie, Ergebnis, Mechanismus, Zeit"),
    ("title_above_header.csv", "the header (study, outcome, ...) is in row 2, not row 1: delete the row above it"),
    ("band_row_above_header.csv", "the header (study, outcome, ...) is in row 2, not row 1: row 1 holds labels "
                                  "spanning several columns ('Exercise group', 'Control group'); premeta reads one "
                                  "header row: delete row 1 and name each column for its group (e.g. trt_mean"),
    ("band_row_above_header.xlsx", "the header (study, outcome, ...) is in row 2, not row 1: row 1 holds labels "
                                   "spanning several columns ('Exercise group', 'Control group')"),
    ("formula_without_cached_value.xlsx", "row 3, column 'trt_n', value None: formula without a cached value: open "
                                          "and save the workbook in a spreadsheet program"),
    ("unnamed_column.csv", "row 1, column 'L', value '': this column holds values but has no header: name it"),
    ("duplicate_header.csv", "row 1, column 'trt_mean', value 'trt_mean': the column appears twice (columns F, G)"),
    ("decimal_comma_in_dot_file.csv", "row 4, column 'trt_mean', value '7,33': must be a number"),
    ("boolean_in_number.xlsx", "row 3, column 'trt_n', value 'TRUE (a TRUE/FALSE cell)': must be a number"),
    ("date_formatted_time.xlsx",
     "row 2, column 'time', value '1900-01-07 00:00:00 (a date cell: format the column as Number)': must be a number"),
])
def test_refused_with_the_file_and_the_reason(name, message):
    out = validate(name)
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.startswith(f"premeta: {FILES / name}: ") and message in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("kind", ["long", "syrf"])
def test_a_group_sheet_without_data_rows_is_refused_as_a_comparison_sheet_is(kind, tmp_path):
    """The long template as `premeta template --format long` writes it, and a SyRF export's header
    alone: the message of header_only.csv, not an error of pandas'."""
    path = tmp_path / f"{kind}.csv"
    if kind == "long":
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["template", "--format", "long", "-o", str(path)]) == 0
    else:
        header = (REPO / "tests" / "data" / "syrf" / "quantitative_data_example.csv").read_text().splitlines()[0]
        path.write_text(header + "\n")
    for command in ("validate", "pair"):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main([command, str(path), *(["-o", str(tmp_path / "paired.csv")] if command == "pair" else [])])
        assert code == 1 and err.getvalue() == f"premeta: {path}: has a header but no data rows\n", command
    assert not (tmp_path / "paired.csv").exists()


def test_text_named_as_a_workbook_is_refused(tmp_path):
    renamed = tmp_path / "extraction.xlsx"
    renamed.write_bytes((FILES / "tab_separated_named.csv").read_bytes())
    out = subprocess.run([PREMETA, "validate", str(renamed)], capture_output=True, text=True, check=False)
    assert out.returncode == 1 and out.stderr == (
        f"premeta: {renamed}: is named .xlsx but is not an Excel workbook (it looks like text); name it .csv, "
        "or save it from Excel as a workbook\n")


def test_a_missing_column_is_one_problem_not_one_per_row():
    out = validate("translated_headers.csv")
    assert "10 problems" in out.stderr and out.stderr.count("row -, column") == 10
    assert ("row -, column 'trt_sd', value None: trt_sd or trt_sem is missing: no such column (needed unless every "
            "row gives a precomputed yi and vi)") in out.stderr


def test_date_cells_are_named_one_by_one():
    out = validate("date_formatted_time.xlsx")
    assert "6 problems" in out.stderr and out.stderr.count("(a date cell") == 6


@pytest.mark.slow
def test_worksheets_are_named_and_chosen():
    out = validate("three_worksheets_hidden_rows.xlsx")  # the first worksheet holds notes
    assert out.returncode == 1 and out.stderr == (
        f"premeta: {FILES / 'three_worksheets_hidden_rows.xlsx'}, worksheet 'Notes' (choose another with `worksheet`): "
        "has a header but no data rows\n")
    for choice in ("Data", "3"):
        out = validate("three_worksheets_hidden_rows.xlsx", "--worksheet", choice)
        assert out.returncode == 0, out.stderr
        assert ("worksheet 'Data' (3 worksheets: Notes, Lists, Data); row 3 is hidden in the workbook and analysed"
                in out.stdout)
    out = validate("three_worksheets_hidden_rows.xlsx", "--sheet", "Results")  # premeta 0.2 spelling, deprecated
    assert out.returncode == 1 and "--sheet is deprecated, use --worksheet" in out.stderr
    assert "has no worksheet 'Results'; its worksheets are 'Notes', 'Lists', 'Data'" in out.stderr


@pytest.mark.slow
def test_group_by_is_checked(tmp_path):
    out = validate("windows1252.csv", "--group-by", "tissue")
    assert out.returncode == 1
    assert "row -, column 'tissue', value None: the column named by group_by is missing" in out.stderr
    sheet = pd.read_csv(FILES / "tab_separated_named.csv", sep="\t")
    sheet.loc[1, "mechanism"] = None
    sheet.to_csv(tmp_path / "empty_group.csv", index=False)
    out = subprocess.run([PREMETA, "validate", str(tmp_path / "empty_group.csv")], capture_output=True, text=True)
    assert out.returncode == 1 and "row 3, column 'mechanism', value None: must not be empty" in out.stderr


def test_command_help_has_examples():
    out = subprocess.run([PREMETA, "validate", "--help"], capture_output=True, text=True, check=True)
    assert "premeta validate extraction.xlsx --worksheet Data --measure NMD" in out.stdout


@pytest.mark.workflow
def test_workflow_reads_a_german_excel_csv_and_says_so(tmp_path):
    run(tmp_path, "--config", f"data={FILES / 'semicolon_decimal_comma.csv'}", "measure=smd", "method=reml",
        "permutations=20", "analyses=[dependence]")
    log = (tmp_path / "logs" / "effect_sizes.log").read_text()
    assert "semicolon-separated text, UTF-8 with BOM, decimal comma" in log
    html = (tmp_path / "results" / "report.html").read_text()
    assert "Read as semicolon-separated text, UTF-8 with BOM, decimal comma." in html
    effects = pd.read_csv(tmp_path / "results" / "effect_sizes.csv")
    want = pd.read_csv(FILES / "tab_separated_named.csv", sep="\t")
    assert list(effects.trt_mean) == list(want.trt_mean)  # 0,458 read as 0.458


@pytest.mark.workflow
def test_workflow_warns_about_hidden_rows_and_refuses_before_writing(tmp_path):
    run(tmp_path, "--config", f"data={FILES / 'three_worksheets_hidden_rows.xlsx'}", "worksheet=Data",
        "permutations=20", "analyses=[dependence]")
    old = run(tmp_path / "old", "-n", "--config", f"data={FILES / 'three_worksheets_hidden_rows.xlsx'}", "sheet=Data")
    assert "the setting `sheet` is deprecated, use `worksheet`" in old.stderr  # premeta 0.2's name still works
    html = (tmp_path / "results" / "report.html").read_text()
    assert "Row 3\nof worksheet Data is hidden in the workbook" in html
    other = tmp_path / "again"
    out = run(other, "--config", f"data={FILES / 'date_formatted_time.xlsx'}", check=False)
    assert out.returncode != 0 and out.stderr.startswith("premeta: ") and "(a date cell" in out.stderr
    out = run(other, "--config", f"data={FILES / 'windows1252.csv'}", "group_by=tissue", check=False)
    assert out.returncode != 0 and "the column named by group_by is missing" in out.stderr
    assert "Traceback" not in out.stderr and not (other / "results").exists()


def test_formula_cells_are_named_one_by_one():
    out = validate("formula_without_cached_value.xlsx")
    assert "2 problems" in out.stderr and out.stderr.count("formula without a cached value") == 2
    assert "row 4, column 'trt_n', value None: formula without a cached value" in out.stderr


def test_counts_are_worded_in_their_number():
    """One comparison, one study, one group: no "1 groups"."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert main(["validate", str(REPO / "tests" / "sheets" / "simulated_one_comparison.csv")]) == 0
    assert "1 comparison from 1 study in 1 group of mechanism; SMD can be computed for every row" in out.getvalue()
    one, two = Problem(3, "trt_sd", "-1", "must not be negative"), Problem(4, "ctl_n", "0", "must be at least 1")
    assert str(SheetError([one], "s.csv")).splitlines()[0] == "s.csv: 1 problem in the extraction sheet:"
    assert str(SheetError([one, two], "s.csv")).splitlines()[0] == "s.csv: 2 problems in the extraction sheet:"


def test_date_and_boolean_cells_refused_whatever_the_headers_case_and_format(tmp_path):
    """A TRUE cell in a number column is refused, not read as 1: in a workbook whose headers are in
    another case (`Trt_Sd`), in a one-row-per-group sheet and in a SyRF export (whose own TRUE/FALSE
    flags stay accepted); a date cell is named as such."""
    import datetime

    import openpyxl

    from premeta.effects import checked
    from premeta.errors import SheetError

    def workbook(name, rows):
        book = openpyxl.Workbook()
        for row in rows:
            book.active.append(row)
        book.save(tmp_path / name)
        return tmp_path / name

    wide = pd.read_csv(FILES / "tab_separated_named.csv", sep="\t")
    rows = [[c.title() for c in wide.columns]] + [[None if pd.isna(v) else v for v in r] for r in wide.values.tolist()]
    rows[2][list(wide.columns).index("trt_sd")] = True
    rows[3][list(wide.columns).index("time")] = datetime.datetime(1900, 1, 7)
    long = [["Study", "Outcome", "Group", "Role", "Mean", "SD", "N", "Better"],
            ["A", "o", "veh", "control", 1.0, 1.0, 8, "higher"],
            ["A", "o", "drug", "treatment", 2.0, 1.0, True, "higher"]]
    syrf = pd.read_csv(REPO / "tests" / "data" / "syrf" / "quantitative_data_example.csv", dtype=object)
    syrf_rows = [list(syrf.columns)] + [[None if pd.isna(v) else {"TRUE": True, "FALSE": False}.get(v, v) for v in r]
                                        for r in syrf.values.tolist()]
    syrf_rows[1][list(syrf.columns).index("NumberOfAnimals")] = False
    cases = [(workbook("wide.xlsx", rows), [
                 (3, "trt_sd", "TRUE (a TRUE/FALSE cell)"),
                 (4, "time", "1900-01-07 00:00:00 (a date cell: format the column as Number)")]),
             (workbook("long.xlsx", long), [(3, "n", "TRUE (a TRUE/FALSE cell)")]),
             (workbook("syrf.xlsx", syrf_rows), [(2, "NumberOfAnimals", "FALSE (a TRUE/FALSE cell)")])]
    for path, want in cases:
        with pytest.raises(SheetError) as error:
            checked(path)
        assert [(p.row, p.column, p.value, p.rule) for p in error.value.problems] == [
            (row, column, value, "must be a number") for row, column, value in want], path
    syrf_rows[1][list(syrf.columns).index("NumberOfAnimals")] = 8
    sheet, _, _ = checked(workbook("syrf_flags.xlsx", syrf_rows))  # its TRUE/FALSE flags are read as such
    assert len(sheet) == len(checked(REPO / "tests" / "data" / "syrf" / "quantitative_data_example.csv")[0])


def test_problems_of_a_group_sheet_name_the_worksheet_read(tmp_path):
    """A one-row-per-group workbook of several worksheets: its problems name the worksheet read, as a
    one-row-per-comparison workbook's do (they named the file only), before and after the pairing."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Notes"
    book.active.append(["extraction notes"])
    for title, sd in (("Groups", "x"), ("Checked", 0)):
        sheet = book.create_sheet(title)
        for row in (["study", "outcome", "group", "role", "mean", "sd", "n", "better"],
                    ["A", "o", "veh", "control", 1.0, 0, 8, "higher"], ["A", "o", "drug", "treatment", 2.0, sd, 8,
                                                                        "higher"]):
            sheet.append(row)
    book.save(tmp_path / "groups.xlsx")
    where = f"{tmp_path / 'groups.xlsx'}, worksheet '{{}}' (choose another with `worksheet`)"
    for worksheet, line in (("Groups", "row 3, column 'sd', value 'x': must be a number"),
                            ("3", "row 2, column 'sd', value 0: SD is 0 in both groups")):
        out = validate(str(tmp_path / "groups.xlsx"), "--worksheet", worksheet)
        name = "Groups" if worksheet == "Groups" else "Checked"
        head = f"premeta: {where.format(name)}: 1 problem in the extraction sheet:"
        assert out.returncode == 1 and out.stderr.startswith(head), out.stderr
        assert out.stderr.splitlines()[1].startswith(f"  {where.format(name)}: {line}")


def test_spreadsheet_error_values_are_refused_in_every_column(tmp_path):
    """An error value of a formula (#N/A of a failed lookup) in a label column was read as a label: a
    group of mechanism named '#N/A' was analysed (here 3 groups instead of 2). Refused in a workbook's
    error cells and in a text file's cells, in every format; in a number column it names the error."""
    import openpyxl

    rows = pd.read_csv(FILES / "tab_separated_named.csv", sep="\t", dtype=object)
    book = openpyxl.Workbook()
    book.active.append(list(rows.columns))
    for r in rows.values.tolist():
        book.active.append([float(v) if v.replace(".", "").isdigit() else v for v in r])
    book.active.cell(3, 3).value = "#N/A"  # an error cell (openpyxl writes it as one: t="e")
    book.active.cell(4, 6).value = "#DIV/0!"
    book.save(tmp_path / "errors.xlsx")
    rule = "a spreadsheet's error value, not data: correct the formula or the cell it refers to, or clear the cell"
    out = validate(str(tmp_path / "errors.xlsx"))
    assert out.returncode == 1 and out.stderr.splitlines()[1:] == [
        f"  {tmp_path / 'errors.xlsx'}: row 3, column 'mechanism', value '#N/A': {rule}",
        f"  {tmp_path / 'errors.xlsx'}: row 4, column 'trt_mean', value '#DIV/0!': {rule}"]
    long = tmp_path / "groups.csv"
    long.write_text("study,outcome,group,role,mean,sd,n,better\nA,o,veh,control,1,1,8,higher\n"
                    "A,o,#N/A,treatment,2,1,8,higher\n")
    out = validate(str(long))
    assert out.returncode == 1 and out.stderr.splitlines()[1:] == [
        f"  {long}: row 3, column 'group', value '#N/A': {rule}"]


def test_validate_names_the_comparisons_left_without_an_effect_size(tmp_path):
    """A shared control split below 2 animals leaves comparisons without an SMD (left out of every model,
    as metafor's NA); `premeta validate` said "SMD can be computed for every row" all the same."""
    wide = tmp_path / "sheet.csv"
    wide.write_text("study,outcome,mechanism,better,control_group,trt_mean,trt_sd,trt_n,ctl_mean,ctl_sd,ctl_n\n"
                    + "".join(f"A 2019,o,m,higher,C,{m},1,2,1,1,3\n" for m in (2, 2.5, 3))
                    + "B 2019,o,m,higher,,2,1,8,1,1,8\n")
    long = tmp_path / "groups.csv"
    long.write_text("study,outcome,group,role,mean,sd,n,better\nA,o,veh,control,1,1,3,higher\n"
                    + "".join(f"A,o,d{i},treatment,{m},1,2,higher\n" for i, m in ((1, 2), (2, 2.5), (3, 3)))
                    + "B,o,veh,control,1,1,8,higher\nB,o,d1,treatment,2,1,8,higher\n")
    why = ("SMD undefined: the control group (n = 3) split among 3 comparisons leaves 1 animal to this one, so "
           "Hedges' df n_t + n_c/m - 2 = 1 (must exceed 1) or the pooled variance is not positive; left out of "
           "every model (shared_control: full or covariance keeps it)")
    for path, rows in ((wide, ["row 2: A 2019", "row 3: A 2019", "row 4: A 2019"]),
                       (long, ["row 3 (comparison 'd1 vs veh'): A", "row 4 (comparison 'd2 vs veh'): A",
                               "row 5 (comparison 'd3 vs veh'): A"])):
        out = validate(str(path))
        assert out.returncode == 0 and "every row" not in out.stdout
        lines = out.stdout.splitlines()[-4:]
        assert lines[0].endswith("4 comparisons from 2 studies in 1 group of mechanism; SMD can be computed for 1 of "
                                 "them, not for 3:")
        assert lines[1:] == [f"  {r}, o: {why}" for r in rows]


def test_a_workbooks_numbers_in_label_columns_read_as_a_csv_would(tmp_path):
    """Study 1 typed as a number in one cell and as text ('1, a number stored as text) in another was two
    studies, as 2 and 2.0 of a long sheet's study were two; a CSV holds them alike. Numbers in label and
    moderator columns are read as their text, the number columns as numbers."""
    import openpyxl

    from premeta.effects import checked

    book = openpyxl.Workbook()
    for row in (["study", "outcome", "mechanism", "better", "dose", "trt_mean", "trt_sd", "trt_n", "ctl_mean",
                 "ctl_sd", "ctl_n"], [1, "o", "m", "higher", 10, 2, 1, 8, 1, 1, 8],
                ["1", "o2", "m", "higher", "10", 2, 1, 8, 1, 1, 8], [2, "o", "m", "higher", 0.5, 2, 1, 8, 1, 1, 8],
                [2.0, "o2", "m", "higher", 0.5, 2.5, 1, 8, 1, 1, 8]):
        book.active.append(row)
    book.save(tmp_path / "sheet.xlsx")
    sheet, _, _ = checked(tmp_path / "sheet.xlsx")
    assert sheet.study.tolist() == ["1", "1", "2", "2"] and sheet.dose.tolist() == ["10", "10", "0.5", "0.5"]
    assert sheet.trt_mean.tolist() == [2.0, 2.0, 2.0, 2.5]
    book = openpyxl.Workbook()
    for row in (["study", "outcome", "group", "role", "mean", "sd", "n", "better"],
                [2, "o", "veh", "control", 1, 1, 8, "higher"], [2.0, "o", "drug", "treatment", 2, 1, 8, "higher"],
                ["2", "o", "drug 2", "treatment", 3, 1, 8, "higher"]):
        book.active.append(row)
    book.save(tmp_path / "groups.xlsx")
    sheet, pairing, _ = checked(tmp_path / "groups.xlsx")
    assert pairing.status.tolist() == ["control", "paired", "paired"] and sheet.study.tolist() == ["2", "2"]
