"""Reading and validating extraction sheets."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from premeta.files import COMMA_NUMBER, ReadError, decimal_commas, header_below, header_key, read_table


@dataclass(frozen=True)
class Problem:
    """One broken rule: the spreadsheet row, the column, the offending value and the rule."""

    row: object
    column: str
    value: object
    rule: str

    def __str__(self) -> str:
        return f"row {self.row}, column '{self.column}', value {self.value!r}: {self.rule}"


class SheetError(ValueError):
    """Every problem found in a sheet, reported at once."""

    def __init__(self, problems: list[Problem], file: str | None = None):
        self.problems, self.file = list(problems), file
        where = f"{file}: " if file else ""
        lines = [f"{where}{len(self.problems)} problem(s) in the extraction sheet:"]
        lines += [f"  {where}{p}" for p in self.problems]
        super().__init__("\n".join(lines))


COLUMNS = {
    "study": "study identifier, e.g. first author and year (required)",
    "outcome": "outcome measured, e.g. mechanical withdrawal threshold (required)",
    "mechanism": "mechanism or outcome family the outcome belongs to (required)",
    "comparison": "label of this treatment-versus-control comparison within the study",
    "cohort": "independent cohort of animals within the study",
    "control_group": "label of the control group; rows sharing it (same study, outcome, time) split its n",
    "time": "time of measurement in days (from what: the config's `columns`, e.g. days after injury)",
    "better": "direction of benefit: 'higher' or 'lower' (required when orient='benefit')",
    "species": "species, e.g. rat or mouse",
    "strain": "strain, e.g. Sprague-Dawley",
    "sex": "sex of the animals",
    "model": "disease or injury model, e.g. chronic constriction injury",
    "tissue": "tissue sampled, e.g. spinal cord or DRG",
    "trt_mean": "treatment group mean (the intervention or exposure; named in the config's `labels`)",
    "trt_sd": "treatment group SD (give SD or SEM)",
    "trt_sem": "treatment group SEM (give SD or SEM)",
    "trt_n": "treatment group size, animals",
    "ctl_mean": "control group mean (the comparator, e.g. vehicle or sedentary; in the config's `labels`)",
    "ctl_sd": "control group SD (give SD or SEM)",
    "ctl_sem": "control group SEM (give SD or SEM)",
    "ctl_n": "control group size, animals",
    "sham_mean": "sham (no disease model) group mean; required for measure='NMD'",
    "sham_sd": "sham group SD",
    "sham_sem": "sham group SEM",
    "sham_n": "sham group size, animals",
    "yi": "precomputed effect size, treatment minus control (instead of group summaries)",
    "vi": "sampling variance of the precomputed yi (give vi or sei)",
    "sei": "standard error of the precomputed yi (give vi or sei)",
    "rob_sequence": "SYRCLE risk of bias: random sequence generation ('low', 'high', 'unclear')",
    "rob_baseline": "SYRCLE risk of bias: baseline characteristics ('low', 'high', 'unclear')",
    "rob_allocation": "SYRCLE risk of bias: allocation concealment ('low', 'high', 'unclear')",
    "rob_housing": "SYRCLE risk of bias: random housing ('low', 'high', 'unclear')",
    "rob_blinding_caregivers": "SYRCLE risk of bias: blinding of caregivers and investigators ('low', 'high', 'unclear')",
    "rob_random_assessment": "SYRCLE risk of bias: random outcome assessment ('low', 'high', 'unclear')",
    "rob_blinding_assessor": "SYRCLE risk of bias: blinding of outcome assessor ('low', 'high', 'unclear')",
    "rob_incomplete_data": "SYRCLE risk of bias: incomplete outcome data ('low', 'high', 'unclear')",
    "rob_selective_reporting": "SYRCLE risk of bias: selective outcome reporting ('low', 'high', 'unclear')",
    "rob_other": "SYRCLE risk of bias: other sources of bias ('low', 'high', 'unclear')",
}
"""Every column premeta itself reads and what it holds. Any other column (a review's own protocol
details: dose, treadmill speed, diet) is kept as a possible moderator, described by the config's
``columns``."""

REQUIRED = ("study", "outcome", "mechanism")
ARMS = ("trt", "ctl", "sham")
NUMERIC = tuple(f"{a}_{s}" for a in ARMS for s in ("mean", "sd", "sem", "n")) + (
    "yi", "vi", "sei", "time")
ROB = tuple(c for c in COLUMNS if c.startswith("rob_"))
CHOICES = {"better": ("higher", "lower")} | {c: ("low", "high", "unclear") for c in ROB}
MISSING = ("", "NA")


def _cell(value):
    """Strip text; empty text and ``NA`` become missing."""
    if isinstance(value, str):
        value = value.strip()
        return np.nan if value in MISSING else value
    return value


def read_sheet(path, sheet: str | int | None = None) -> pd.DataFrame:
    """Read an extraction sheet, one row per comparison, without converting any value.

    The file is read by :func:`premeta.files.read_table`: text tables in UTF-8 (with or without
    a byte-order mark), UTF-16 or Windows-1252, comma-, semicolon- or tab-separated, decimal
    commas where the file uses them (:func:`premeta.files.decimal_commas`), or a worksheet of a
    workbook. Headers of known columns (:data:`COLUMNS`) are matched whatever their case and
    blanks (``Trt Mean`` is ``trt_mean``).

    Parameters
    ----------
    path : str or path-like
        ``.csv``, ``.tsv``, ``.txt``, ``.xlsx``, ``.xlsm`` or ``.xls``.
    sheet : str or int, optional
        Worksheet of a workbook (name, or position from 1); the first by default.

    Returns
    -------
    DataFrame
        Cells as read (text from a text file; text or numbers from a workbook), stripped of
        surrounding whitespace, empty cells and ``NA`` as missing; a date or TRUE/FALSE cell in a
        number column (:data:`NUMERIC`) becomes text saying so, which validation refuses. The
        index, named ``row``, is the spreadsheet row number (the header is row 1); fully empty
        rows are dropped. ``attrs["source"]`` is the :class:`premeta.files.Source` (what was
        detected).

    Raises
    ------
    premeta.files.ReadError
        A file that cannot be read (empty, binary, encrypted, ambiguous, no data rows, the header
        below row 1).
    SheetError
        A column header that appears twice; a column holding values without a header (empty
        columns without a header are dropped).
    """
    header, rows, source = read_table(path, sheet, known=COLUMNS)
    header_below(path, [header] + rows, COLUMNS)
    # columns without a header: dropped when empty (Excel's trailing ",,,"), refused when they hold values
    blank = [i for i, h in enumerate(header) if not h]
    filled = [i for i in blank if any(pd.notna(_cell(r[i])) for r in rows)]
    if filled:
        raise SheetError([Problem(1, letter(i), "", "this column holds values but has no header: name it "
                                  "(see `premeta template`) or delete it") for i in filled], source.where())
    header = [h for i, h in enumerate(header) if i not in blank]
    rows = [[c for i, c in enumerate(r) if i not in blank] for r in rows]
    names = [header_key(h) if header_key(h) in COLUMNS else h for h in header]
    if twice := repeated_columns(header, names):
        raise SheetError(twice, source.where())
    if formulas := formula_cells(source):
        raise SheetError(formulas, source.where())
    if source.kind == "text":
        source.decimal = decimal_commas(path, names, rows, NUMERIC, source.delimiter)
    frame = pd.DataFrame(rows, columns=names, dtype=object)
    frame.index = pd.RangeIndex(2, len(frame) + 2, name="row")
    if source.decimal == ",":
        for col in frame:
            text = frame[col].map(lambda v: v.strip() if isinstance(v, str) else v)
            filled = text[text.notna() & (text != "")]
            if col in NUMERIC or (len(filled) and filled.map(_comma_or_whole).all()):
                frame[col] = text.map(lambda v: v.replace(",", ".") if isinstance(v, str)
                                      and COMMA_NUMBER.fullmatch(v) else v)
    for (row, col), kind in source.typed_cells.items():
        if col in NUMERIC and row in frame.index:
            value = frame.at[row, col]
            frame.at[row, col] = (f"{value} (a date cell: format the column as Number)" if kind == "date"
                                  else f"{str(value).upper()} (a TRUE/FALSE cell)")
    frame = frame.apply(lambda s: s.map(_cell))
    frame = frame[frame.notna().any(axis=1)]
    if frame.empty:
        raise ReadError(source.where(), "has a header but no data rows")
    frame.attrs["source"] = source
    return frame


def repeated_columns(header: list[str], names: list[str]) -> list[Problem]:
    """One problem per column name that appears more than once (``names``: the header as matched),
    naming its spreadsheet columns."""
    seen: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        seen.setdefault(name, []).append(i)
    return [Problem(1, name, header[at[1]], "the column appears "
                    + ("twice" if len(at) == 2 else f"{len(at)} times")
                    + f" (columns {', '.join(letter(i) for i in at)}): keep one")
            for name, at in seen.items() if len(at) > 1 and name]


def formula_cells(source) -> list[Problem]:
    """One problem per workbook cell holding a formula whose result the workbook does not hold
    (saved by a program that does not compute formulas): read as empty, it would be "missing"."""
    return [Problem(row, col, None,
                    "formula without a cached value: open and save the workbook in a spreadsheet program "
                    "(Excel, LibreOffice), which stores the formula's result")
            for (row, col), kind in sorted(source.typed_cells.items(), key=lambda x: x[0][0])
            if kind == "formula"]


def letter(i: int) -> str:
    """Spreadsheet column letter of the 0-based column ``i`` (0 -> A, 26 -> AA)."""
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def _comma_or_whole(value) -> bool:
    return isinstance(value, str) and (COMMA_NUMBER.fullmatch(value) is not None or value.lstrip("+-").isdigit())


def _value(value):
    """The original cell for a Problem: ``None`` when missing."""
    return None if pd.isna(value) else value


def _numbers(sheet: pd.DataFrame, problems: list[Problem]) -> pd.DataFrame:
    """Numeric columns as float (NaN where missing or not a number), reporting text and range errors."""
    num = pd.DataFrame(index=sheet.index)
    for col in NUMERIC:
        raw = sheet[col] if col in sheet else pd.Series(np.nan, index=sheet.index, dtype=object)
        x = pd.to_numeric(raw, errors="coerce").astype(float)
        x = x.where(np.isfinite(x))
        for row in sheet.index[raw.notna() & x.isna()]:
            problems.append(Problem(row, col, raw[row], "must be a number"))
        if col.endswith("_n"):
            whole = x % 1 == 0
            for row in sheet.index[x.notna() & ~whole]:
                problems.append(Problem(row, col, raw[row], "must be a whole number"))
            for row in sheet.index[whole & (x < 2)]:
                problems.append(Problem(row, col, raw[row], "n < 2"))
            x = x.where(whole & (x >= 2))
        elif col.endswith(("_sd", "_sem")):
            # an SD of 0 in one arm is data (floor or ceiling effects); validate refuses both arms at 0
            for row in sheet.index[x < 0]:
                problems.append(Problem(row, col, raw[row], "must not be negative"))
            x = x.where(x >= 0)
        elif col in ("vi", "sei"):
            for row in sheet.index[x <= 0]:
                problems.append(Problem(row, col, raw[row], "must be > 0"))
            x = x.where(x > 0)
        num[col] = x
    return num


def _duplicates(sheet: pd.DataFrame, problems: list[Problem]) -> None:
    """Report every row identical in all columns to an earlier row."""
    first = {}
    for row, values in zip(sheet.index, sheet.itertuples(index=False)):
        key = tuple(_value(v) for v in values)
        if key in first:
            study = sheet["study"][row] if "study" in sheet else None
            problems.append(Problem(row, "study", _value(study), f"duplicate of row {first[key]}"))
        else:
            first[key] = row


def _split_controls(sheet: pd.DataFrame, num: pd.DataFrame, summary: pd.Series, problems: list[Problem]) -> None:
    """A control group shared by m comparisons enters each with n/m animals (Vesterinen et al.
    2014); fewer than 2 per comparison leaves no SD and no effect size to speak of."""
    from premeta.effects import shared_control_m

    m = shared_control_m(sheet)
    share = num["ctl_n"] / m
    keys = [c for c in ("study", "control_group", "outcome", "time") if c in sheet]
    key = sheet[keys].astype("string").fillna("").agg("\x1f".join, axis=1) if keys else None
    for row in sheet.index[summary & (share < 2)]:
        shared = sheet.index[key == key[row]]
        rule = (f"control group {sheet.at[row, 'control_group']!r} of study {sheet.at[row, 'study']!r} has "
                f"n = {num.at[row, 'ctl_n']:g} shared by {m[row]} comparisons (rows "
                f"{', '.join(map(str, shared))}): {share[row]:.3g} animals each, fewer than 2; combine those "
                "comparisons into one, or give each comparison its own control group and n")
        problems.append(Problem(row, "ctl_n", sheet.at[row, "ctl_n"], rule))


def validate(sheet: pd.DataFrame, file=None, measure: str = "SMD", orient: str = "benefit",
             group_by: str | None = None) -> pd.DataFrame:
    """Check an extraction sheet against every rule and report all problems at once.

    Parameters
    ----------
    sheet : DataFrame
        As from :func:`read_sheet`; the index names rows in messages.
    file : str or path-like, optional
        Named in the error message.
    measure : {"SMD", "MD", "ROM", "NMD"}
        Adds the measure's own rules: NMD needs ``sham_mean`` different from ``ctl_mean``;
        ROM needs positive means. For every measure an SD (or SEM) of 0 is accepted in one of the
        treatment and control groups and refused in both (the variance would be 0); negative is refused.
    orient : {"benefit", "raw"}
        ``benefit`` requires ``better`` on every row.
    group_by : str, optional
        The grouping column: required, and never empty.

    Returns
    -------
    DataFrame
        A copy, same index and row order, all columns kept: the numeric columns (:data:`NUMERIC`)
        as float, ``better`` and ``rob_*`` in lower case.

    Raises
    ------
    SheetError
        Listing every :class:`Problem`, ordered by row, then by column.
    """
    from premeta.effects import MEASURES, ORIENTS

    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {', '.join(MEASURES)}, got {measure!r}")
    if orient not in ORIENTS:
        raise ValueError(f"orient must be one of {', '.join(ORIENTS)}, got {orient!r}")
    file = None if file is None else str(file)
    problems: list[Problem] = []
    out = sheet.copy()

    required = tuple(dict.fromkeys(REQUIRED + ((group_by,) if group_by else ())))
    read_as = sheet.attrs.get("source")
    for col in required + (("better",) if orient == "benefit" else ()):
        if col not in sheet:
            rule = "required column is missing" if col != group_by or col in REQUIRED else (
                "the column named by group_by is missing; the sheet's columns are " + ", ".join(map(str, sheet)))
            if read_as is not None and not problems:  # say once how the file was read, and what it holds
                rule += f" (read as {read_as.describe()}, the header is: {', '.join(map(str, sheet))})"
            problems.append(Problem("-", col, None, rule))
    for col in required:
        if col in sheet:
            problems += [Problem(row, col, None, "must not be empty") for row in sheet.index[sheet[col].isna()]]

    num = _numbers(sheet, problems)
    given = sheet.reindex(columns=list(NUMERIC)).notna()  # typed in, even if not a number
    for col, allowed in CHOICES.items():
        if col not in sheet:
            continue
        raw = sheet[col]
        low = raw.map(lambda v: v.lower() if isinstance(v, str) else v)
        required = col == "better" and orient == "benefit"
        bad = (raw.notna() | required) & ~low.isin(allowed)
        rule = " or ".join(f"'{a}'" for a in allowed)
        rule = f"must be {rule}" + (" when orient='benefit'" if required else "")
        problems += [Problem(row, col, _value(raw[row]), rule) for row in sheet.index[bad]]
        out[col] = low.where(~bad, raw)

    pre = given["yi"] | ((given["vi"] | given["sei"]) & ~given.filter(regex="^(trt|ctl)_").any(axis=1))
    for row in sheet.index[pre]:
        if not given.at[row, "yi"]:
            problems.append(Problem(row, "yi", None, "yi is missing (vi or sei is given)"))
        elif not (given.at[row, "vi"] or given.at[row, "sei"]):
            problems.append(Problem(row, "vi", None, "vi or sei is missing (yi is given)"))
    summary = ~pre
    for arm in ("trt", "ctl"):
        # in a sheet of group summaries only, a column it lacks altogether is one problem, not one per row
        absent = {part: not pre.any() and not any(f"{arm}_{c}" in sheet for c in cols)
                  for part, cols in (("mean", ["mean"]), ("n", ["n"]), ("sd", ["sd", "sem"]))}
        for part, rule in (("mean", f"{arm}_mean"), ("n", f"{arm}_n"), ("sd", f"{arm}_sd or {arm}_sem")):
            if absent[part]:
                problems.append(Problem("-", f"{arm}_{part}", None, f"{rule} is missing: no such column "
                                        "(needed unless every row gives a precomputed yi and vi)"))
        checks = [(f"{arm}_{part}", f"{arm}_{part} is missing", ~given[f"{arm}_{part}"].to_numpy())
                  for part in ("mean", "n") if not absent[part]]
        if not absent["sd"]:
            checks.append((f"{arm}_sd", f"{arm}_sd or {arm}_sem is missing",
                           ~(given[f"{arm}_sd"] | given[f"{arm}_sem"]).to_numpy()))
        flagged = np.zeros((len(sheet), len(checks)), dtype=bool)
        for j, (_, _, missing) in enumerate(checks):
            flagged[:, j] = missing & summary.to_numpy()
        for i in np.flatnonzero(flagged.any(axis=1)):  # row by row, in the columns' order
            problems += [Problem(sheet.index[i], col, None, rule)
                         for (col, rule, _), bad in zip(checks, flagged[i]) if bad]

    for arm in ARMS:
        sd, sem_sd = num[f"{arm}_sd"], num[f"{arm}_sem"] * np.sqrt(num[f"{arm}_n"])
        for row in sheet.index[(sd - sem_sd).abs() > 0.01 * sd]:
            rule = f"SD and SEM disagree: SEM*sqrt(n) = {sem_sd[row]:.4g}"
            problems.append(Problem(row, f"{arm}_sd", sheet.at[row, f"{arm}_sd"], rule))

    # SD 0 in one arm keeps every measure's variance > 0; in both it is 0 (the sham SD is never used)
    zero = {arm: (num[f"{arm}_sd"] == 0) | (num[f"{arm}_sd"].isna() & (num[f"{arm}_sem"] == 0))
            for arm in ("trt", "ctl")}
    for row in sheet.index[summary & zero["trt"] & zero["ctl"]]:
        col = "ctl_sd" if given.at[row, "ctl_sd"] else "ctl_sem"
        rule = "SD is 0 in both groups (treatment and control): the effect's variance would be 0; check the extraction"
        problems.append(Problem(row, col, sheet.at[row, col], rule))

    _split_controls(sheet, num, summary, problems)

    if measure == "NMD":
        for row in sheet.index[summary & ~given["sham_mean"]]:
            problems.append(Problem(row, "sham_mean", None, "sham_mean is missing (needed for NMD)"))
        for row in sheet.index[summary & (num["ctl_mean"] == num["sham_mean"])]:
            rule = "no injury deficit: ctl_mean equals sham_mean"
            problems.append(Problem(row, "sham_mean", sheet.at[row, "sham_mean"], rule))
    if measure == "ROM":
        for arm in ("trt", "ctl"):
            for row in sheet.index[summary & (num[f"{arm}_mean"] <= 0)]:
                rule = "must be > 0 for measure='ROM' (log ratio of means)"
                problems.append(Problem(row, f"{arm}_mean", sheet.at[row, f"{arm}_mean"], rule))

    _duplicates(sheet, problems)
    if problems:
        rows = {row: i for i, row in enumerate(sheet.index)}
        cols = {col: i for i, col in enumerate(sheet.columns)}
        problems.sort(key=lambda p: (rows.get(p.row, -1), cols.get(p.column, len(cols))))
        raise SheetError(problems, file)
    for col in NUMERIC:
        if col in out:
            out[col] = num[col]
    return out
