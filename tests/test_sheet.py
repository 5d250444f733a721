"""Reading and validating extraction sheets: every problem reported with its spreadsheet row."""

import numpy as np
import pandas as pd
import pytest

import premeta
from premeta.sheet import COLUMNS, read_sheet, validate
from premeta.errors import Problem, SheetError

HEADER = "study,outcome,mechanism,better,trt_mean,trt_sd,trt_n,ctl_mean,ctl_sd,ctl_n,yi,vi,dose\n"
VALID = HEADER + (
    "A 2019,threshold,neurotrophic,higher,8,2,10,4,2,10,,,low\n"
    "B 2020,TNF,inflammation,lower,20,5,8,30,5,8,,,high\n"
    "C 2021,threshold,neurotrophic,higher,,,,,,,0.5,0.04,\n"
)


def write(tmp_path, text, name="sheet.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def find(err, row, column):
    """The one problem at ``row``/``column``."""
    hits = [p for p in err.problems if p.row == row and p.column == column]
    assert len(hits) == 1, (row, column, err.problems)
    return hits[0]


def test_valid_csv_round_trips_with_spreadsheet_rows(tmp_path):
    raw = read_sheet(write(tmp_path, VALID))
    assert raw.index.name == "row" and list(raw.index) == [2, 3, 4]
    assert raw.at[2, "trt_mean"] == "8"  # nothing converted on read
    out = validate(raw, file="sheet.csv")
    assert list(out.index) == [2, 3, 4] and list(out.columns) == list(raw.columns) + ["converted"]
    assert out["trt_mean"].dtype == float and out.at[3, "ctl_mean"] == 30.0
    assert np.isnan(out.at[4, "trt_mean"]) and out.at[4, "yi"] == 0.5
    assert out.at[2, "dose"] == "low"  # unknown column kept as a moderator
    effects = premeta.escalc(out, "SMD")
    assert list(effects.index) == [2, 3, 4] and (effects["yi"] > 0).all()


def test_headers_and_cells_stripped_blank_rows_keep_numbering(tmp_path):
    text = " study , outcome,mechanism ,better,yi,sei\n\nA, x ,m, HIGHER ,0.1,0.2\n , , ,,,\nB,y,m,lower,NA,\n"
    raw = read_sheet(write(tmp_path, text))
    assert list(raw.columns[:3]) == ["study", "outcome", "mechanism"]
    assert list(raw.index) == [3, 5]  # row 2 blank, row 4 only whitespace
    assert raw.at[3, "outcome"] == "x" and pd.isna(raw.at[5, "yi"])
    with pytest.raises(SheetError) as info:
        validate(raw)
    assert [(p.row, p.column) for p in info.value.problems] == [(5, "trt_mean"), (5, "trt_n"), (5, "trt_sd"),
                                                               (5, "ctl_mean"), (5, "ctl_n"), (5, "ctl_sd")]
    assert validate(raw.loc[[3]]).at[3, "better"] == "higher"  # case normalised


def test_every_problem_reported_at_once(tmp_path):
    text = HEADER + (
        "A,threshold,neurotrophic,higher,8,2,10,4,-1.2,10,,,\n"      # 2: sd < 0
        "A,threshold,neurotrophic,up,8,2,0,4,2,10,,,\n"              # 3: better, n <= 0
        "B,threshold,,higher,8,2,10,,2,10,,,\n"                      # 4: mechanism empty, ctl_mean missing
        "B,threshold,x,higher,eight,2,10.5,4,2,10,,,\n"              # 5: text in number (n 10.5 is accepted)
        "C,TNF,x,lower,,,,,,,0.3,,\n"                                # 6: yi without vi/sei
        "C,TNF,x,lower,,,,,,,0.3,0,\n"                               # 7: vi <= 0
        "A,threshold,neurotrophic,higher,8,2,10,4,-1.2,10,,,\n"      # 8: duplicate of row 2
    )
    path = write(tmp_path, text, "x.csv")
    with pytest.raises(SheetError) as info:
        validate(read_sheet(path), file=path)
    err = info.value
    assert find(err, 2, "ctl_sd") == Problem(2, "ctl_sd", "-1.2", "must not be negative")
    assert find(err, 3, "better").value == "up" and "'higher' or 'lower'" in find(err, 3, "better").rule
    assert find(err, 3, "trt_n") == Problem(3, "trt_n", "0", "must be > 0 (a group of animals)")
    assert find(err, 4, "mechanism").rule == "must not be empty"
    assert find(err, 4, "ctl_mean").rule == "ctl_mean is missing"
    assert find(err, 5, "trt_mean") == Problem(5, "trt_mean", "eight", "must be a number")
    assert not [p for p in err.problems if p.row == 5 and p.column == "trt_n"]  # fractional n is data
    assert find(err, 6, "vi").rule == "vi or sei is missing (yi is given)"
    assert find(err, 7, "vi") == Problem(7, "vi", "0", "must be > 0")
    assert find(err, 8, "study") == Problem(8, "study", "A", "duplicate of row 2")
    assert find(err, 8, "ctl_sd").value == "-1.2"  # the duplicate's own problems too
    assert len(err.problems) == 10
    assert [p.row for p in err.problems] == sorted(p.row for p in err.problems)
    message = str(err)
    assert err.file == str(path)
    assert f"{path}: row 2, column 'ctl_sd', value '-1.2': must not be negative" in message
    assert f"{path}: row 5, column 'trt_mean', value 'eight': must be a number" in message


def test_missing_columns_and_choices():
    sheet = pd.DataFrame({"study": ["A"], "yi": ["0.2"], "sei": ["0.1"], "start": ["during"],
                          "rob_sequence": ["Maybe"], "rob_other": ["UNCLEAR"]}, index=[2])
    with pytest.raises(SheetError) as info:
        validate(sheet)
    err = info.value
    assert {(p.row, p.column) for p in err.problems if p.row == "-"} == {
        ("-", "outcome"), ("-", "mechanism"), ("-", "better")}
    assert not [p for p in err.problems if p.column == "start"]  # a review's own column: no rule of premeta's
    assert find(err, 2, "rob_sequence").value == "Maybe"
    assert not [p for p in err.problems if p.column == "rob_other"]
    sheet["outcome"], sheet["mechanism"], sheet["start"], sheet["rob_sequence"] = "y", "m", "Post", "low"
    out = validate(sheet, orient="raw")  # better not needed for raw effects
    assert (out.at[2, "start"], out.at[2, "rob_other"], out.at[2, "sei"]) == ("Post", "unclear", 0.1)
    sheet["better"] = "up"  # but, when given, still checked
    with pytest.raises(SheetError, match="column 'better', value 'up'"):
        validate(sheet, orient="raw")


def test_sd_and_sem_must_agree():
    base = {"study": ["A", "B"], "outcome": "y", "mechanism": "m", "better": "higher",
            "trt_mean": [8, 8], "trt_n": [9, 9], "ctl_mean": [4, 4], "ctl_sd": [2, 2], "ctl_n": [9, 9]}
    ok = pd.DataFrame(base | {"trt_sd": [3.0, 3.0], "trt_sem": [1.0, 1.005]}, index=[2, 3])
    validate(ok)  # 1.005 * 3 is within 1 %
    bad = pd.DataFrame(base | {"trt_sd": [3.0, 3.0], "trt_sem": [1.0, 1.5]}, index=[2, 3])
    with pytest.raises(SheetError) as info:
        validate(bad)
    assert info.value.problems == [Problem(3, "trt_sd", 3.0, "SD and SEM disagree: SEM*sqrt(n) = 4.5")]


def test_measure_specific_rules():
    sheet = pd.DataFrame({"study": ["A", "B", "C"], "outcome": "y", "mechanism": "m", "better": "higher",
                          "trt_mean": [8, 8, -1], "trt_sd": 2, "trt_n": 10, "ctl_mean": [4, 4, 4],
                          "ctl_sd": 2, "ctl_n": 10, "sham_mean": [10, 4, None]}, index=[2, 3, 4])
    validate(sheet, measure="SMD")
    with pytest.raises(SheetError) as info:
        validate(sheet, measure="NMD")
    assert info.value.problems == [
        Problem(3, "sham_mean", 4, "no injury deficit: ctl_mean equals sham_mean"),
        Problem(4, "sham_mean", None, "sham_mean is missing (needed for NMD)"),
    ]
    with pytest.raises(SheetError) as info:
        validate(sheet, measure="ROM")
    assert [(p.row, p.column, p.value) for p in info.value.problems] == [(4, "trt_mean", -1)]
    with pytest.raises(ValueError, match="measure"):
        validate(sheet, measure="OR")


def test_xlsx_keeps_numbers_and_reports_text(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["study", "outcome", "mechanism", "better", "trt_mean", "trt_sem", "trt_n",
               "ctl_mean", "ctl_sem", "ctl_n", "species"])
    ws.append(["A", "threshold", "neurotrophic", "higher", 8.5, 0.6, 10, 4, 0.6, 10, "rat"])
    ws.append([])
    ws.append(["B", "threshold", "neurotrophic", "lower", 8, "n.r.", 10, 4, 0.6, 10, "mouse"])
    book.create_sheet("notes").append(["ignored"])
    path = tmp_path / "sheet.xlsx"
    book.save(path)
    raw = read_sheet(path)
    assert list(raw.index) == [2, 4] and raw.at[2, "trt_mean"] == 8.5 and raw.at[2, "species"] == "rat"
    with pytest.raises(SheetError) as info:
        validate(raw, file=path)
    assert info.value.problems == [Problem(4, "trt_sem", "n.r.", "must be a number")]
    assert str(path) in str(info.value)
    out = validate(raw.loc[[2]])
    assert out.at[2, "trt_n"] == 10.0 and out["trt_n"].dtype == float


def test_columns_documented():
    assert {"study", "outcome", "mechanism", "better", "yi", "vi", "sei", "sham_n", "rob_other"} <= set(COLUMNS)
    assert len([c for c in COLUMNS if c.startswith("rob_")]) == 10
    assert all(isinstance(v, str) and v for v in COLUMNS.values())
