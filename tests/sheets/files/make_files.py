"""Write the files of tests/sheets/files/: one extraction sheet as spreadsheet programs save it.

Run once from the repository root (`python tests/sheets/files/make_files.py`); the files are
committed, so the tests need none of the writers used here (xlwt, msoffcrypto-tool, openpyxl).
The content is the first rows of the bundled SIMULATED sheet (not real studies), with one study
renamed `Müller 2019 (simulated)` to carry a non-ASCII letter.
"""

import csv
import io
import zipfile
from pathlib import Path

import openpyxl

HERE = Path(__file__).parent
SOURCE = HERE.parents[2] / "data" / "simulated_treadmill_neuropathic_pain.csv"
COLUMNS = ["study", "outcome", "mechanism", "time", "better", "trt_mean", "trt_sd", "trt_n", "ctl_mean", "ctl_sd",
           "ctl_n"]
NUMBERS = {"time", "trt_mean", "trt_sd", "trt_n", "ctl_mean", "ctl_sd", "ctl_n"}


def rows():
    with SOURCE.open(encoding="utf-8") as f:
        data = [[r[c] for c in COLUMNS] for r, _ in zip(csv.DictReader(f), range(6))]
    data[0][0] = data[1][0] = "Müller 2019 (simulated)"
    return data


def text(rows_, delimiter=",", decimal=".", header=COLUMNS):
    out = io.StringIO()
    w = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    w.writerow(header)
    for r in rows_:
        w.writerow([v.replace(".", decimal) if c in NUMBERS else v for c, v in zip(COLUMNS, r)])
    return out.getvalue()


def workbook(rows_, path, title="Sheet1", before=(), hidden=(), date_col=None, boolean=None):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = before[0] if before else title
    for name in before[1:]:
        wb.create_sheet(name)
    if before:
        wb[before[0]]["A1"] = "notes of the extraction team"
        ws = wb.create_sheet(title)
    ws.append(COLUMNS)
    for r in rows_:
        ws.append([float(v) if c in NUMBERS and v else v for c, v in zip(COLUMNS, r)])
    if date_col:
        col = COLUMNS.index(date_col) + 1
        for r in range(2, ws.max_row + 1):
            ws.cell(r, col).number_format = "yyyy-mm-dd"
    if boolean:
        row, col = boolean
        ws.cell(row, COLUMNS.index(col) + 1).value = True
    for r in hidden:
        ws.row_dimensions[r].hidden = True
    wb.save(path)


def layouts(data):
    """Workbook layouts of extraction teams: study cells merged down their rows, a band row naming the
    groups above the header (merged across the groups' columns, and as text), and formulas saved by a
    program that does not compute them (openpyxl, like many scripts, stores no result)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Extraction"
    ws.append(COLUMNS)
    for r in data:
        ws.append([float(v) if c in NUMBERS and v else v for c, v in zip(COLUMNS, r)])
    study = [r[0] for r in data]
    start = 0
    for i in range(1, len(study) + 1):  # merge each run of one study's rows, keeping its first cell
        if i == len(study) or study[i] != study[start]:
            if i - start > 1:
                ws.merge_cells(start_row=start + 2, start_column=1, end_row=i + 1, end_column=1)
            start = i
    wb.save(HERE / "merged_study_cells.xlsx")
    bands = [""] * 5 + ["Exercise group", "", "", "Control group", "", ""]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(bands)
    ws.append(["study", "outcome", "mechanism", "time", "better", "mean", "sd", "n", "mean", "sd", "n"])
    for r in data:
        ws.append([float(v) if c in NUMBERS and v else v for c, v in zip(COLUMNS, r)])
    ws.merge_cells("F1:H1")
    ws.merge_cells("I1:K1")
    wb.save(HERE / "band_row_above_header.xlsx")
    (HERE / "band_row_above_header.csv").write_text(
        text(data, header=["study", "outcome", "mechanism", "time", "better", "mean", "sd", "n", "mean", "sd", "n"]
             ).replace("study,", ",".join(bands) + "\r\nstudy,", 1), encoding="utf-8")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(COLUMNS)
    for r in data:
        ws.append([float(v) if c in NUMBERS and v else v for c, v in zip(COLUMNS, r)])
    n = COLUMNS.index("trt_n") + 1
    ws.cell(3, n).value = f"={ws.cell(2, n).coordinate}"  # "as above": no cached value
    ws.cell(4, n).value = f"={ws.cell(3, n).coordinate}+0"
    wb.save(HERE / "formula_without_cached_value.xlsx")


def main():
    from msoffcrypto.format.ooxml import OOXMLFile
    import xlwt

    data = rows()
    layouts(data)
    (HERE / "windows1252.csv").write_bytes(text(data).encode("cp1252"))
    (HERE / "excel_unicode_text.txt").write_bytes(text(data, "\t").encode("utf-16"))  # BOM, LE
    (HERE / "semicolon_decimal_comma.csv").write_bytes(text(data, ";", ",").encode("utf-8-sig"))
    (HERE / "tab_separated_named.csv").write_text(text(data, "\t"), encoding="utf-8")
    mixed = ["Study", "Outcome", "MECHANISM", "Time", "Better", "Trt_Mean", "trt sd", "TRT_N", "ctl_mean",
             "Ctl_SD", " ctl_n "]
    (HERE / "miscased_headers.csv").write_text(text(data, header=mixed), encoding="utf-8")
    comma_cell = [list(r) for r in data]
    comma_cell[2][COLUMNS.index("trt_mean")] = comma_cell[2][COLUMNS.index("trt_mean")].replace(".", ",")
    (HERE / "decimal_comma_in_dot_file.csv").write_text(text(comma_cell), encoding="utf-8")
    (HERE / "duplicate_header.csv").write_text(text(data, header=COLUMNS[:6] + ["trt_mean"] + COLUMNS[7:]),
                                               encoding="utf-8")
    (HERE / "header_only.csv").write_text(",".join(COLUMNS) + "\r\n", encoding="utf-8")
    (HERE / "zero_bytes.csv").write_bytes(b"")
    (HERE / "binary_garbage.csv").write_bytes(bytes(range(256)) * 4)
    (HERE / "ambiguous_delimiter.csv").write_text("study,a;outcome\r\nx,1;y\r\n", encoding="utf-8")
    empty_cols = text(data).replace("\r\n", ",,,\r\n")
    (HERE / "trailing_empty_columns.csv").write_text(empty_cols + "," * 13 + "\r\n", encoding="utf-8")
    unnamed = text(data).splitlines()
    unnamed = [unnamed[0] + ","] + [r + (",checked" if i == 2 else ",") for i, r in enumerate(unnamed[1:], 1)]
    (HERE / "unnamed_column.csv").write_text("\r\n".join(unnamed) + "\r\n", encoding="utf-8")
    mixed_marks = text(data, ";", ",").replace("0,171", "0.171")  # one value pasted from an English sheet
    (HERE / "semicolon_mixed_decimals.csv").write_text(mixed_marks, encoding="utf-8")
    (HERE / "one_column.txt").write_text("study|outcome|mechanism\r\nA|B|C\r\n", encoding="utf-8")
    german = ["Studie", "Ergebnis", "Mechanismus", "Zeit", "besser", "MW Training", "SD Training", "n Training",
              "MW Kontrolle", "SD Kontrolle", "n Kontrolle"]  # headers translated: no known column
    (HERE / "translated_headers.csv").write_text(text(data, ";", ",", header=german), encoding="utf-8")
    (HERE / "title_above_header.csv").write_text("Extraction sheet v2" + "," * 10 + "\r\n" + text(data),
                                                 encoding="utf-8")
    with zipfile.ZipFile(HERE / "libreoffice.ods", "w") as z:  # an OpenDocument spreadsheet's signature
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", "<office:document-content/>")
    workbook(data, HERE / "date_formatted_time.xlsx", date_col="time")
    workbook(data, HERE / "boolean_in_number.xlsx", boolean=(3, "trt_n"))
    workbook(data, HERE / "three_worksheets_hidden_rows.xlsx", title="Data", before=("Notes", "Lists"),
             hidden=(3,))
    (HERE / "workbook_named.csv").write_bytes((HERE / "boolean_in_number.xlsx").read_bytes())
    with zipfile.ZipFile(HERE / "zip_not_workbook.xlsx", "w") as z:
        z.writestr("readme.txt", "not a workbook")
    plain = io.BytesIO()
    workbook(data, plain)
    plain.seek(0)
    office = OOXMLFile(plain)
    with (HERE / "password_protected.xlsx").open("wb") as out:
        office.encrypt("premeta", out)
    book = xlwt.Workbook()
    ws = book.add_sheet("Extraction")
    for j, c in enumerate(COLUMNS):
        ws.write(0, j, c)
    for i, r in enumerate(data, start=1):
        for j, (c, v) in enumerate(zip(COLUMNS, r)):
            ws.write(i, j, float(v) if c in NUMBERS and v else v)
    ws.row(2).hidden = True
    book.save(str(HERE / "excel97.xls"))


if __name__ == "__main__":
    main()
