"""Reading the files reviewers' spreadsheet programs write, before any value is interpreted.

Text tables come from Excel, LibreOffice and SyRF in several encodings (UTF-8 with or without a
byte-order mark, Excel's "Unicode text" UTF-16, Windows-1252) and dialects (comma, semicolon or
tab separated; decimal commas in German or French locales). Workbooks (``.xlsx``, ``.xlsm``,
``.xls``) are read cell by cell, so that a date or a TRUE/FALSE where a number belongs, a hidden
row or the choice of worksheet is seen, not silently converted. What was detected is returned as a
:class:`Source`, which the log and the report print.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from premeta.deprecation import renamed_arguments
from premeta.errors import ReadError

DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
TEXT = (".csv", ".tsv", ".txt")
WORKBOOKS = (".xlsx", ".xlsm", ".xls")
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # compound file: .xls, or an encrypted .xlsx
ZIP = b"PK\x03\x04"
COMMA_NUMBER = re.compile(r"[+-]?(\d+,\d*|,\d+)([eE][+-]?\d+)?")
DOT_NUMBER = re.compile(r"[+-]?(\d+\.\d*|\.\d+)([eE][+-]?\d+)?")
#: The error values a spreadsheet formula shows (and a CSV saved from it holds as text): not data.
EXCEL_ERRORS = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!",
                "#CALC!")


@dataclass
class Source:
    """How a sheet was read: the file kind and what was detected in it."""

    path: str
    kind: str
    encoding: str = ""
    delimiter: str = ""
    decimal: str = "."
    worksheet: str = ""
    worksheets: list[str] = field(default_factory=list)
    hidden_rows: list[int] = field(default_factory=list)
    #: cells of workbooks that hold a date or TRUE/FALSE, or a formula whose value the workbook does not
    #: hold, and cells of any file holding a spreadsheet's error value (:data:`EXCEL_ERRORS`):
    #: {(row, column): "date" | "boolean" | "formula" | "error"}
    typed_cells: dict = field(default_factory=dict)
    #: merged cell ranges of a workbook (``A2:A4``), read as their value in every cell of the range
    merged: list[str] = field(default_factory=list)

    def where(self) -> str:
        """The file as messages name it: with the worksheet read when the workbook has several."""
        if len(self.worksheets) > 1:
            return f"{self.path}, worksheet {self.worksheet!r} (choose another with `worksheet`)"
        return self.path

    def describe(self) -> str:
        """One line for the log and the report, e.g. ``semicolon-separated text, Windows-1252, decimal comma``."""
        if self.kind == "text":
            parts = [f"{DELIMITERS[self.delimiter]}-separated text", self.encoding]
            if self.decimal == ",":
                parts.append("decimal comma")
            return ", ".join(parts)
        parts = [f"{self.kind} workbook, worksheet {self.worksheet!r}"
                 + (f" ({len(self.worksheets)} worksheets: {', '.join(self.worksheets)})"
                    if len(self.worksheets) > 1 else "")]
        if self.merged:
            parts.append(f"merged cell{'s' if len(self.merged) > 1 else ''} {', '.join(self.merged)} read as "
                         "the merged value in every cell")
        if self.hidden_rows:
            rows = ", ".join(map(str, self.hidden_rows))
            parts.append(f"row{'s' if len(self.hidden_rows) > 1 else ''} {rows} "
                         f"{'are' if len(self.hidden_rows) > 1 else 'is'} hidden in the workbook and analysed")
        return "; ".join(parts)


@renamed_arguments(sheet="worksheet")
def read_table(path, worksheet: str | int | None = None, known=()) -> tuple[list[str], list[list], Source]:
    """The header and the rows of cells of an extraction sheet, as the file holds them.

    Parameters
    ----------
    path : str or path-like
        A text table (``.csv``, ``.tsv``, ``.txt``) or a workbook (``.xlsx``, ``.xlsm``, ``.xls``).
    worksheet : str or int, optional
        Worksheet of a workbook: its name, or its position counting from 1; the first by default.
    known : iterable of str
        Column names the sheet is expected to use, lower case; they decide between delimiters.

    Returns
    -------
    header : list of str
    rows : list of list
        One list per spreadsheet row after the header (row 2 first), padded to the header's
        length; cells are text (text files) or Python values (workbooks: str, int, float, None;
        dates and booleans are kept as such and listed in ``Source.typed_cells``, as are error
        values such as ``#N/A``, :data:`EXCEL_ERRORS`, in any file).
    source : Source

    Raises
    ------
    ReadError
        Empty, binary, encrypted or unknown files, ambiguous delimiters, a missing worksheet.
    """
    path = Path(path)
    if not path.is_file():
        raise ReadError(path, "no such file" if not path.exists() else "is not a file")
    data = path.read_bytes()
    if not data.strip():
        raise ReadError(path, "the file is empty (0 bytes or only blank space); export the sheet again")
    suffix = path.suffix.lower()
    if data.startswith(OLE2):
        if suffix == ".xls":
            return _read_xls(path, data, worksheet)
        if b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00e\x00d\x00P\x00a\x00c\x00k\x00a\x00g\x00e" in data:
            raise ReadError(path, "the workbook is password-protected (encrypted); remove the password in "
                                  "Excel (File > Info > Protect Workbook) and save it again")
        raise ReadError(path, "is an old-style Excel (.xls) file or another Office document; save it as "
                              ".xlsx or .csv, or name it .xls")
    if data.startswith(ZIP):
        if suffix == ".ods" or data[30:38] == b"mimetype" and b"opendocument.spreadsheet" in data[38:120]:
            raise ReadError(path, "is an OpenDocument spreadsheet (LibreOffice .ods), which premeta does not "
                                  "read; save it as .xlsx (File > Save As > Excel 2007-365) or as .csv")
        if suffix not in (".xlsx", ".xlsm"):
            if _is_workbook_zip(data):
                raise ReadError(path, f"is an Excel workbook named {suffix or 'without an extension'}; "
                                      "rename it to .xlsx")
            raise ReadError(path, "is a ZIP archive, not a table; unpack it and point `data` at the sheet")
        if not _is_workbook_zip(data):
            raise ReadError(path, "is a ZIP archive but not an Excel workbook; export the sheet as .xlsx or .csv")
        return _read_xlsx(path, worksheet)
    if suffix in WORKBOOKS:
        raise ReadError(path, f"is named {suffix} but is not an Excel workbook (it looks like text); "
                              "name it .csv, or save it from Excel as a workbook")
    if suffix not in TEXT:
        raise ReadError(path, "an extraction sheet must be .csv, .tsv, .txt, .xlsx, .xlsm or .xls; save or "
                              "export it as one of those")
    return _read_text(path, data, known)


# ---- text --------------------------------------------------------------------------------------

def _decode(path, data: bytes) -> tuple[str, str]:
    """Text and encoding: BOM, then UTF-8, then UTF-16 (Excel's "Unicode text"), then Windows-1252."""
    for bom, enc, name in ((b"\xef\xbb\xbf", "utf-8-sig", "UTF-8 with BOM"), (b"\xff\xfe", "utf-16", "UTF-16"),
                           (b"\xfe\xff", "utf-16", "UTF-16")):
        if data.startswith(bom):
            try:
                return data.decode(enc), name
            except UnicodeDecodeError as err:
                raise ReadError(path, f"starts with a {name} byte-order mark but is not {name} "
                                      f"(byte {err.start}); export the sheet again as UTF-8 CSV") from None
    zeros = data.count(0)
    if zeros > len(data) / 4:  # UTF-16 without a BOM: every other byte of Latin text is 0
        even = data[0::2].count(0)
        try:
            return data.decode("utf-16-be" if even > zeros / 2 else "utf-16-le"), "UTF-16"
        except UnicodeDecodeError:
            pass
    if zeros or sum(b < 9 or 13 < b < 32 for b in data[:4096]) > 8:
        raise ReadError(path, "holds binary data, not a text table; export the sheet as CSV or .xlsx")
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "Latin-1"


def _parse(text: str, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _read_text(path, data: bytes, known) -> tuple[list[str], list[list], Source]:
    text, encoding = _decode(path, data)
    known = set(known)
    scored = []
    for delim in DELIMITERS:
        try:
            rows = _parse(text, delim)
        except csv.Error as err:
            scored.append((delim, -1, 0, None, str(err)))
            continue
        header = [header_key(h) for h in rows[0]] if rows else []
        matches = len(known & set(header))
        scored.append((delim, matches, len(header), rows, ""))
    best = max(s[1] for s in scored)
    if best <= 0:
        for _, _, _, rows, _ in scored:
            header_below(path, rows or [], known)
        widest = max(scored, key=lambda s: s[2])
        if widest[2] <= 1:
            raise ReadError(path, "found a single column: the file is not comma-, semicolon- or tab-separated "
                                  "text, or its header names no known column (study, outcome, trt_mean, ...)")
        candidates = [widest]
    else:
        candidates = [s for s in scored if s[1] == best]
    if len(candidates) > 1:
        names = " and ".join(DELIMITERS[c[0]] for c in candidates)
        raise ReadError(path, f"cannot tell whether the columns are separated by {names}: the header reads "
                              "the same either way; save the sheet as comma-separated CSV")
    delim, _, _, rows, _ = candidates[0]
    header, body = rows[0], rows[1:]
    width = len(header)
    for i, r in enumerate(body):
        if len(r) > width and any(c.strip() for c in r[width:]):
            raise ReadError(path, f"row {i + 2} has {len(r)} cells but the header has {width} "
                                  f"({DELIMITERS[delim]}-separated); a cell holds an unquoted "
                                  f"{DELIMITERS[delim]}? Quote it or export the sheet again")
    body = [(r + [""] * width)[:width] for r in body]
    header = [h.strip() for h in header]
    errors = {(n, header[i]): "error" for n, r in enumerate(body, start=2) for i, c in enumerate(r)
              if c.strip() in EXCEL_ERRORS}
    return header, body, Source(str(path), "text", encoding=encoding, delimiter=delim, typed_cells=errors)


def decimal_commas(path, header: list[str], rows: list[list], numeric, delimiter: str) -> str:
    """``","`` if the number columns of a text table use decimal commas, else ``"."``.

    A semicolon- or tab-separated file uses decimal commas when some cell of a number column
    reads as a number with a comma (``1,5``) and none with a point (``1.5``); both at once is
    refused as ambiguous. A comma-separated file always uses points: there ``1,5`` is not a
    number (validation names the cell).
    """
    if delimiter == ",":
        return "."
    cols = [i for i, h in enumerate(header) if header_key(h) in numeric]
    cells = [(f"{r[i].strip()!r} in row {n}, column {header[i]!r}", r[i].strip())
             for n, r in enumerate(rows, start=2) for i in cols]
    comma = [at for at, c in cells if COMMA_NUMBER.fullmatch(c)]
    dot = [at for at, c in cells if DOT_NUMBER.fullmatch(c)]
    if comma and dot:
        raise ReadError(path, f"number columns mix decimal commas ({comma[0]}) and decimal points "
                              f"({dot[0]}{f' and {len(dot) - 1} more' if len(dot) > 1 else ''}); "
                              "use one of them throughout")
    return "," if comma else "."


def header_below(path, rows: list[list], known) -> None:
    """Refuse a sheet whose header is not in row 1 (a title, blank rows or a band row above it), naming its row.

    ``rows`` are the file's rows, row 1 first; a row naming two or more ``known`` columns among
    rows 2 to 10 is taken for the header, if row 1 names none. A row 1 whose few labels each
    stand above several columns ("Treated group", "Control group": a band over the groups'
    columns) is named as such: premeta reads one header row, so each column's own header must
    say which group it belongs to (``trt_mean``, ``ctl_mean``).
    """
    names = [{header_key(c) for c in r if c is not None} & set(known) for r in rows[:10]]
    bands = _bands(rows[0]) if rows else []
    if names and (not names[0] or bands):  # a band's label may name a column by chance ("Control group")
        below = next((i for i, n in enumerate(names) if i and len(n) >= 2), None)
        if below is not None:
            if bands and below == 1:
                raise ReadError(path, f"the header (study, outcome, ...) is in row 2, not row 1: row 1 holds labels "
                                      f"spanning several columns ({', '.join(map(repr, bands))}); premeta reads one "
                                      "header row: delete row 1 and name each column for its group (e.g. trt_mean, "
                                      "ctl_mean; see `premeta template`)")
            raise ReadError(path, f"the header (study, outcome, ...) is in row {below + 1}, not row 1: delete the "
                                  f"row{'s' if below > 1 else ''} above it")


def _bands(row: list) -> list[str]:
    """The labels of a band row: two or more, each followed by empty cells or by its own repetition
    (a merged range read into every cell); [] for a title or a row of column names."""
    spans: list[list] = []  # [label, columns]
    for c in ("" if c is None else str(c).strip() for c in row):
        if c and (not spans or c != spans[-1][0]):
            spans.append([c, 1])
        elif spans:
            spans[-1][1] += 1
    return [label for label, _ in spans] if len(spans) >= 2 and all(n > 1 for _, n in spans) else []


# ---- workbooks ---------------------------------------------------------------------------------

def _is_workbook_zip(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return "xl/workbook.xml" in z.namelist()
    except zipfile.BadZipFile:
        return False


def _pick(path, names: list[str], sheet) -> int:
    if sheet is None:
        return 0
    if isinstance(sheet, int) or (isinstance(sheet, str) and sheet.isdigit() and sheet not in names):
        i = int(sheet) - 1
        if 0 <= i < len(names):
            return i
    elif sheet in names:
        return names.index(sheet)
    raise ReadError(path, f"has no worksheet {sheet!r}; its worksheets are {', '.join(map(repr, names))}")


def _table(path, cells: list[list], typed_at: dict, source: Source):
    """Header and rows from a worksheet's cells (row 1 the header); trailing empty columns dropped."""
    if not cells:
        raise ReadError(path, f"worksheet {source.worksheet!r} is empty")
    width = max(len(r) for r in cells)
    cells = [list(r) + [None] * (width - len(r)) for r in cells]
    header = ["" if h is None else str(h).strip() for h in cells[0]]
    while header and not header[-1] and all(r[len(header) - 1] in (None, "") for r in cells[1:]):
        header.pop()
    body = [r[:len(header)] for r in cells[1:]]
    source.typed_cells = {(r, header[c]): k for (r, c), k in typed_at.items() if c < len(header)}
    return header, body, source


def _read_xlsx(path, worksheet) -> tuple[list[str], list[list], Source]:
    """A worksheet of an ``.xlsx``: a merged range's value in every cell of the range; a formula whose
    result the workbook does not hold (written by a program that does not compute) typed ``formula``."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, data_only=True)
        formulas = openpyxl.load_workbook(path, data_only=False)
    except Exception as err:  # openpyxl raises many kinds on damaged files
        raise ReadError(path, f"cannot be read as an Excel workbook ({type(err).__name__}: {err}); "
                              "open it in Excel and save it again") from None
    names = wb.sheetnames
    i = _pick(path, names, worksheet)
    ws, ws_formulas = wb.worksheets[i], formulas.worksheets[i]
    merged = sorted(ws.merged_cells.ranges, key=lambda m: (m.min_row, m.min_col))
    fill = {}  # (row, column from 1) of every cell of a merged range -> the range's top-left cell
    for m in merged:
        top_left = ws.cell(m.min_row, m.min_col)
        fill |= {(r, c): top_left for r in range(m.min_row, m.max_row + 1) for c in range(m.min_col, m.max_col + 1)}
    typed, cells = {}, []
    for r, row in enumerate(ws.iter_rows(), start=1):
        values = []
        for c, cell in enumerate(row):
            cell = fill.get((r, c + 1), cell)
            v = cell.value
            if cell.is_date or isinstance(v, (dt.date, dt.time, dt.timedelta)):
                typed[(r, c)] = "date"
            elif cell.data_type == "b" or isinstance(v, bool):
                typed[(r, c)] = "boolean"
            elif cell.data_type == "e" or v in EXCEL_ERRORS:
                typed[(r, c)] = "error"
            elif v is None and ws_formulas.cell(cell.row, cell.column).data_type == "f":
                typed[(r, c)] = "formula"
            values.append(v)
        cells.append(values)
    hidden = [r for r, d in ws.row_dimensions.items() if d.hidden and r > 1 and r <= len(cells)]
    source = Source(str(path), ".xlsx" if path.suffix.lower() == ".xlsx" else ".xlsm", worksheet=ws.title,
                    worksheets=names, hidden_rows=sorted(hidden), merged=[m.coord for m in merged])
    return _table(path, cells, typed, source)


def _read_xls(path, data: bytes, worksheet) -> tuple[list[str], list[list], Source]:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=True)
    except xlrd.XLRDError as err:
        if "encrypt" in str(err).lower():
            raise ReadError(path, "the workbook is password-protected (encrypted); remove the password in "
                                  "Excel and save it again") from None
        raise ReadError(path, f"cannot be read as an Excel 97-2003 workbook ({err}); save it as .xlsx") from None
    names = book.sheet_names()
    ws = book.sheet_by_index(_pick(path, names, worksheet))
    typed, cells = {}, []
    for r in range(ws.nrows):
        values = []
        for c in range(ws.ncols):
            cell = ws.cell(r, c)
            if cell.ctype == xlrd.XL_CELL_DATE:
                typed[(r + 1, c)] = "date"
            elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                typed[(r + 1, c)] = "boolean"
            elif cell.ctype == xlrd.XL_CELL_ERROR or cell.value in EXCEL_ERRORS:
                typed[(r + 1, c)] = "error"
            value = None if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK) else cell.value
            if cell.ctype == xlrd.XL_CELL_ERROR:
                value = xlrd.error_text_from_code.get(value, value)
            values.append(bool(value) if cell.ctype == xlrd.XL_CELL_BOOLEAN else value)
        cells.append(values)
    hidden = [r + 1 for r, info in ws.rowinfo_map.items() if info.hidden and 0 < r < ws.nrows]
    source = Source(str(path), ".xls", worksheet=ws.name, worksheets=names, hidden_rows=sorted(hidden))
    return _table(path, cells, typed, source)


def header_key(header: str) -> str:
    """A header as matched against the known columns: case and surrounding or inner blanks ignored."""
    return re.sub(r"\s+", "_", str(header).strip()).lower()
