"""Reading and validating extraction sheets."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from premeta.convert import MIN_N_FIVENUM, arm_sd, fivenum, sd_from_ci, skewness
from premeta.deprecation import renamed_arguments
from premeta.errors import Problem, ReadError, SheetError
from premeta.files import COMMA_NUMBER, decimal_commas, header_below, header_key, read_table
from premeta.rob import SYRCLE, Tool
from premeta.vocabulary import ARMS, MEASURES, ORIENTS, VARIABILITY


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
    "trt_n": "treatment group size, animals (> 0; may be fractional, e.g. 7.5 for a reported 7-8)",
    "ctl_mean": "control group mean (the comparator, e.g. vehicle or sedentary; in the config's `labels`)",
    "ctl_sd": "control group SD (give SD or SEM)",
    "ctl_sem": "control group SEM (give SD or SEM)",
    "ctl_n": "control group size, animals (> 0; may be fractional), the whole group's even when shared",
    "sham_mean": "sham (no disease model) group mean; required for measure='NMD'",
    "sham_sd": "sham group SD",
    "sham_sem": "sham group SEM",
    "sham_n": "sham group size, animals",
    **{f"{arm}_{part}": f"{group} group {what}"
       for arm, group in (("trt", "treatment"), ("ctl", "control"), ("sham", "sham"))
       for part, what in (
           ("ci_low", "95% CI of the mean, lower bound (instead of SD or SEM; SD = sqrt(n) * width / (2 t))"),
           ("ci_high", "95% CI of the mean, upper bound"),
           ("median", "median (instead of the mean; converted with its quartiles and/or range when the config "
                      "sets convert_medians)"),
           ("q1", "first quartile (with the median)"),
           ("q3", "third quartile (with the median)"),
           ("min", "minimum (with the median)"),
           ("max", "maximum (with the median)"))},
    "yi": "precomputed effect size, treatment minus control (instead of group summaries)",
    "vi": "sampling variance of the precomputed yi (give vi or sei)",
    "sei": "standard error of the precomputed yi (give vi or sei)",
    "rob_sequence": "SYRCLE risk of bias: random sequence generation ('low', 'high', 'unclear')",
    "rob_baseline": "SYRCLE risk of bias: baseline characteristics ('low', 'high', 'unclear')",
    "rob_allocation": "SYRCLE risk of bias: allocation concealment ('low', 'high', 'unclear')",
    "rob_housing": "SYRCLE risk of bias: random housing ('low', 'high', 'unclear')",
    "rob_blinding_caregivers": "SYRCLE risk of bias: blinding of caregivers and investigators "
                               "('low', 'high', 'unclear')",
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
#: Per arm: a mean with its SD, SEM or 95% CI (``ci_low``, ``ci_high``), or a median with its quartiles and/or range.
PARTS = ("mean", "sd", "sem", "n", "ci_low", "ci_high", "median", "q1", "q3", "min", "max")
NUMERIC = tuple(f"{a}_{s}" for a in ARMS for s in PARTS) + ("yi", "vi", "sei", "time")
ROB = tuple(c for c in COLUMNS if c.startswith("rob_"))
CHOICES = {"better": ("higher", "lower")} | {c: ("low", "high", "unclear") for c in ROB}
#: Cells read as missing (R's write.csv and many exports write a missing number as ``NA``).
MISSING = ("", "NA")


def as_text(value):
    """A workbook's number in a text column (a label, a moderator) as a text file holds it: ``1`` and
    ``2.0`` as ``"1"`` and ``"2"``, ``0.5`` as ``"0.5"``, so that a study typed ``1`` in one cell and
    ``'1`` (a number stored as text) in another is one study, as in a CSV; anything else unchanged."""
    if (isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
            and np.isfinite(value)):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    return value


def _cell(value):
    """Strip text; empty text and ``NA`` become missing."""
    if isinstance(value, str):
        value = value.strip()
        return np.nan if value in MISSING else value
    return value


@renamed_arguments(sheet="worksheet")
def read_sheet(path, worksheet: str | int | None = None) -> pd.DataFrame:
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
    worksheet : str or int, optional
        Worksheet of a workbook (name, or position from 1); the first by default.

    Returns
    -------
    DataFrame
        Cells as read (text from a text file; text or numbers from a workbook, a workbook's
        number in a column other than :data:`NUMERIC` as its text, :func:`as_text`), stripped of
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
    header, rows, source = read_table(path, worksheet, known=COLUMNS)
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
    if formulas := formula_cells(source, (header, rows)):
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
    typed_as_text(frame, source, dict(zip(header, names)), NUMERIC)
    frame = frame.apply(lambda s: s if s.name in NUMERIC else s.map(as_text)).apply(lambda s: s.map(_cell))
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


def formula_cells(source, cells=None) -> list[Problem]:
    """One problem per workbook cell holding a formula whose result the workbook does not hold
    (saved by a program that does not compute formulas): read as empty, it would be "missing"; and
    one per cell of any file holding a spreadsheet's error value (``#N/A``, ``#DIV/0!``:
    :data:`premeta.files.EXCEL_ERRORS`): read as text, it would be a study, a group or a moderator's
    category. ``cells``: the header and rows as read, for the error's value."""
    header, rows = cells if cells is not None else ([], [])
    at = {h: i for i, h in enumerate(header)}

    def shown(row, col):
        return rows[row - 2][at[col]] if col in at and 0 <= row - 2 < len(rows) else None

    return [Problem(row, col, None,
                    "formula without a cached value: open and save the workbook in a spreadsheet program "
                    "(Excel, LibreOffice), which stores the formula's result") if kind == "formula" else
            Problem(row, col, shown(row, col), "a spreadsheet's error value, not data: correct the formula "
                                               "or the cell it refers to, or clear the cell")
            for (row, col), kind in sorted(source.typed_cells.items(), key=lambda x: x[0][0])
            if kind in ("formula", "error")]


def typed_as_text(frame: pd.DataFrame, source, columns: dict[str, str], numeric) -> None:
    """In place: each date or TRUE/FALSE cell of a workbook in a number column becomes text saying what
    it is, which validation names ("must be a number"); read as a number, TRUE would be 1 and FALSE 0.

    ``columns``: each header as the file spells it (``Source.typed_cells`` names it so) -> the frame's
    column; ``numeric``: the number columns as :func:`premeta.files.header_key` writes them.
    """
    for (row, header), kind in source.typed_cells.items():
        col = columns.get(header)
        if kind in ("date", "boolean") and col is not None and header_key(col) in numeric and row in frame.index:
            value = frame.at[row, col]
            frame.at[row, col] = (f"{value} (a date cell: format the column as Number)" if kind == "date"
                                  else f"{str(value).upper()} (a TRUE/FALSE cell)")


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


def limit(col: str) -> tuple[bool, str] | None:
    """The values a number column accepts: ``(strict, rule)``, a value above 0 (``strict``) or
    at least 0, and the rule a value outside breaks; ``None`` when any number is accepted.

    Fractional n is data (the midpoint of a reported range, a pre-split control), as in metafor's
    ``escalc``, which refuses only n <= 0; an SD of 0 in one arm is data (floor or ceiling
    effects), refused in both arms by the rule ``zero_sd_both``.
    """
    if col.endswith("_n"):
        return True, "must be > 0 (a group of animals)"
    if col.endswith(("_sd", "_sem")):
        return False, "must not be negative"
    if col in ("vi", "sei"):
        return True, "must be > 0"
    return None


def _outside(x: pd.Series, col: str) -> pd.Series:
    """Where the numbers ``x`` of ``col`` lie outside its :func:`limit` (never where missing)."""
    strict = limit(col)[0]
    return x <= 0 if strict else x < 0


#: Per arm and part of a group summary, the columns any one of which gives it (a mean or a median;
#: an SD, SEM, 95% CI or median).
SUMMARY = {"mean": ("mean", "median"), "n": ("n",), "sd": ("sd", "sem", "ci_low", "ci_high", "median")}


class RuleInput:
    """What every rule reads: the sheet as typed, its numbers, and the run's settings.

    Parameters
    ----------
    sheet : DataFrame
        As from :func:`read_sheet`.
    measure, orient, group_by, convert_medians, tool
        As :func:`validate`'s.

    Attributes
    ----------
    required : tuple of str
        The columns no row may leave empty: :data:`REQUIRED` and ``group_by``.
    choices : dict of str to tuple of str
        The columns of choices and what each accepts: ``better``, and the tool's items (:data:`CHOICES`
        for SYRCLE, the default).
    parsed : DataFrame
        Every :data:`NUMERIC` column as float, missing where not a number.
    num : DataFrame
        ``parsed``, also missing where outside the column's :func:`limit`.
    given : DataFrame
        Whether each :data:`NUMERIC` cell is typed in, even if not a number.
    pre : Series
        The rows that give a precomputed effect (``yi``, or ``vi`` or ``sei`` without any group summary).
    summary : Series
        The other rows: group summaries.
    median : dict of str to Series
        Per arm, the rows of group summaries that give a median.
    """

    def __init__(self, sheet: pd.DataFrame, measure: str, orient: str, group_by: str | None,
                 convert_medians: bool, tool: Tool = SYRCLE):
        self.sheet, self.measure, self.orient = sheet, measure, orient
        self.group_by, self.convert_medians, self.tool = group_by, convert_medians, tool
        self.choices = CHOICES if tool == SYRCLE else {"better": CHOICES["better"]} | {
            i.column: i.values for i in tool.items}
        self.required = tuple(dict.fromkeys(REQUIRED + ((group_by,) if group_by else ())))
        missing = pd.Series(np.nan, index=sheet.index, dtype=object)
        parsed = {col: pd.to_numeric(sheet.get(col, missing), errors="coerce").astype(float) for col in NUMERIC}
        self.parsed = pd.DataFrame({col: x.where(np.isfinite(x)) for col, x in parsed.items()}, index=sheet.index)
        self.num = pd.DataFrame({col: x if limit(col) is None else x.where(~_outside(x, col))
                                 for col, x in self.parsed.items()}, index=sheet.index)
        self.given = sheet.reindex(columns=list(NUMERIC)).notna()
        given = self.given
        self.pre = given["yi"] | ((given["vi"] | given["sei"]) & ~given.filter(regex="^(trt|ctl)_").any(axis=1))
        self.summary = ~self.pre
        self.median = {arm: given[f"{arm}_median"] & self.summary for arm in ARMS}

    def cell(self, row, col):
        """The cell as typed (``None`` when missing), for a :class:`Problem`."""
        return _value(self.sheet.at[row, col])

    def absent(self, arm: str, part: str) -> bool:
        """Whether a sheet of group summaries only lacks every column that gives ``part`` of ``arm``
        (:data:`SUMMARY`): one problem, not one per row."""
        return not self.pre.any() and not any(f"{arm}_{c}" in self.sheet for c in SUMMARY[part])

    def median_ok(self, arm: str) -> pd.Series:
        """The rows whose ``arm`` gives a median and no mean, SD, SEM or CI beside it."""
        mixed = self.given[[f"{arm}_{p}" for p in ("mean", "sd", "sem", "ci_low", "ci_high")]].any(axis=1)
        return self.median[arm] & ~mixed

    def median_pairs(self, arm: str) -> pd.Series:
        """The rows of ``arm`` with a median and no mean beside it that give both quartiles or both ends
        of the range."""
        g = self.given
        both = (g[f"{arm}_q1"] & g[f"{arm}_q3"]) | (g[f"{arm}_min"] & g[f"{arm}_max"])
        return self.median_ok(arm) & both

    def unsorted(self, arm: str) -> pd.Series:
        """The rows of :meth:`median_pairs` whose min, q1, median, q3 and max (those given) are out of order."""
        values = self.num[[f"{arm}_{p}" for p in ("min", "q1", "median", "q3", "max")]]
        return self.median_pairs(arm) & (values.ffill(axis=1).diff(axis=1) < 0).any(axis=1)

    def small(self, arm: str) -> pd.Series:
        """The rows of :meth:`median_pairs` with fewer animals than a median is converted for."""
        return self.median_pairs(arm) & (self.num[f"{arm}_n"] < MIN_N_FIVENUM)


@dataclass(frozen=True)
class Rule:
    """One rule of the extraction sheet.

    Attributes
    ----------
    name : str
        The name of its check.
    description : str
        What it checks, in one line (the table of rules in ``docs/sheet_rules.md``).
    check : callable
        Takes a :class:`RuleInput` and returns a list of :class:`Problem`, one per value that breaks the rule.
    """

    name: str
    description: str
    check: Callable[[RuleInput], list[Problem]]


RULES: list[Rule] = []
"""Every rule :func:`validate` checks, in the order it checks them."""


def rule(description: str):
    """Register the decorated check in :data:`RULES` as a :class:`Rule` named after it."""
    def register(check):
        RULES.append(Rule(check.__name__, description, check))
        return check
    return register


@rule("the columns `study`, `outcome`, `mechanism` and the `group_by` column are there, and `better` when "
      "`orient: benefit`")
def required_columns(s: RuleInput) -> list[Problem]:
    problems = []
    read_as = s.sheet.attrs.get("source")
    for col in s.required + (("better",) if s.orient == "benefit" else ()):
        if col in s.sheet:
            continue
        rule = "required column is missing" if col != s.group_by or col in REQUIRED else (
            "the column named by group_by is missing; the sheet's columns are " + ", ".join(map(str, s.sheet)))
        if read_as is not None and not problems:  # say once how the file was read, and what it holds
            rule += f" (read as {read_as.describe()}, the header is: {', '.join(map(str, s.sheet))})"
        problems.append(Problem("-", col, None, rule))
    return problems


@rule("`study`, `outcome`, `mechanism` and the `group_by` column are never empty")
def required_values(s: RuleInput) -> list[Problem]:
    return [Problem(row, col, None, "must not be empty")
            for col in s.required if col in s.sheet for row in s.sheet.index[s.sheet[col].isna()]]


@rule("numbers in number columns (not text, nor a date or TRUE/FALSE cell of a workbook)")
def numbers(s: RuleInput) -> list[Problem]:
    return [Problem(row, col, s.sheet.at[row, col], not_a_number(s.sheet.at[row, col]))
            for col in NUMERIC if col in s.sheet
            for row in s.sheet.index[s.sheet[col].notna() & s.parsed[col].isna()]]


#: Dashes a PDF or a word processor puts where a minus belongs: minus sign, en dash, figure dash, hyphen...
DASHES = "\u2212\u2013\u2012\u2010\u2011\u2014\ufe63\uff0d"


def not_a_number(value) -> str:
    """The rule a cell that is not a number breaks: ``must be a number``, and why where it would be one
    with the keyboard's minus (``−1.5`` copied from a PDF holds the minus sign U+2212, which reads as text)."""
    if isinstance(value, str) and (dash := next((c for c in value if c in DASHES), None)):
        minus = value.translate({ord(c): "-" for c in DASHES})
        if pd.notna(pd.to_numeric(pd.Series([minus, minus.replace(",", ".")]), errors="coerce")).any():
            return (f"must be a number: its minus is {dash!r} (U+{ord(dash):04X}, as copied from a PDF), "
                    "not the keyboard's '-'; retype it")
    return "must be a number"


def _out_of_range(s: RuleInput, cols) -> list[Problem]:
    """One problem per number of ``cols`` outside its :func:`limit`."""
    return [Problem(row, col, s.sheet.at[row, col], limit(col)[1])
            for col in cols for row in s.sheet.index[_outside(s.parsed[col], col)]]


@rule("n > 0, fractional allowed (a range's midpoint, 7.5), as metafor's `escalc`")
def n_positive(s: RuleInput) -> list[Problem]:
    return _out_of_range(s, [col for col in NUMERIC if col.endswith("_n")])


@rule("SD and SEM ≥ 0 (an SD of 0 in one group is data: a floor or ceiling effect)")
def sd_not_negative(s: RuleInput) -> list[Problem]:
    return _out_of_range(s, [col for col in NUMERIC if col.endswith(("_sd", "_sem"))])


@rule("`vi`, `sei` > 0")
def variance_positive(s: RuleInput) -> list[Problem]:
    return _out_of_range(s, ["vi", "sei"])


@rule("`better` and the risk-of-bias tool's columns (`rob_*` of SYRCLE unless the config's `risk_of_bias` names "
      "another) from their lists, whatever the case (`better` on every row when `orient: benefit`)")
def choices(s: RuleInput) -> list[Problem]:
    problems = []
    for col, allowed in s.choices.items():
        if col not in s.sheet:
            continue
        raw = s.sheet[col]
        required = col == "better" and s.orient == "benefit"
        bad = (raw.notna() | required) & ~raw.map(_lower).isin(allowed)
        rule = f"must be {' or '.join(f'{a!r}' for a in allowed)}" + (" when orient='benefit'" if required else "")
        if col != "better" and s.tool != SYRCLE:
            rule += f" ({s.tool.label}, risk_of_bias: {s.tool.name})"
        problems += [Problem(row, col, _value(raw[row]), rule) for row in s.sheet.index[bad]]
    return problems


def _lower(value):
    return value.lower() if isinstance(value, str) else value


@rule("a precomputed `yi` with its `vi` or `sei`, and `vi` or `sei` with a `yi`")
def precomputed(s: RuleInput) -> list[Problem]:
    given = s.given
    return [Problem(row, "yi", None, "yi is missing (vi or sei is given)") if not given.at[row, "yi"]
            else Problem(row, "vi", None, "vi or sei is missing (yi is given)")
            for row in s.sheet.index[s.pre & ~(given["yi"] & (given["vi"] | given["sei"]))]]


@rule("a row gives a precomputed `yi` or its groups' means (or medians), not both (group sizes may stand beside `yi`)")
def precomputed_or_means(s: RuleInput) -> list[Problem]:
    means = [f"{arm}_{part}" for arm in ("trt", "ctl") for part in ("mean", "median")]
    given = s.given[means].any(axis=1)
    return [Problem(row, "yi", s.cell(row, "yi"), f"a precomputed yi beside the groups' "
                    f"{' and '.join(c for c in means if s.given.at[row, c])}: premeta would analyse yi and ignore "
                    "them; keep one (group sizes may stay beside yi)")
            for row in s.sheet.index[s.given["yi"] & given]]


def _needed(arm: str, part: str) -> str:
    return f"{arm}_sd or {arm}_sem" if part == "sd" else f"{arm}_{part}"


@rule("a sheet without precomputed effects has the treatment and control groups' mean, n, and SD or SEM "
      "(or their 95% CI or median) columns")
def summary_columns(s: RuleInput) -> list[Problem]:
    return [Problem("-", f"{arm}_{part}", None, f"{_needed(arm, part)} is missing: no such column (needed unless "
                    "every row gives a precomputed yi and vi)")
            for arm in ("trt", "ctl") for part in SUMMARY if s.absent(arm, part)]


@rule("every row without a precomputed effect gives the treatment and control groups' mean, n, and SD or SEM "
      "(or their 95% CI or median)")
def summary_values(s: RuleInput) -> list[Problem]:
    return [Problem(row, f"{arm}_{part}", None, f"{_needed(arm, part)} is missing")
            for arm in ("trt", "ctl") for part in SUMMARY if not s.absent(arm, part)
            for row in s.sheet.index[s.summary & ~s.given[[f"{arm}_{c}" for c in SUMMARY[part]]].any(axis=1)]]


@rule("SD and SEM, when both given, agree within 1% (SD = SEM·√n)")
def sd_sem_agree(s: RuleInput) -> list[Problem]:
    problems = []
    for arm in ARMS:
        sd, sem_sd = s.num[f"{arm}_sd"], s.num[f"{arm}_sem"] * np.sqrt(s.num[f"{arm}_n"])
        problems += [Problem(row, f"{arm}_sd", s.sheet.at[row, f"{arm}_sd"],
                             f"SD and SEM disagree: SEM*sqrt(n) = {sem_sd[row]:.4g}")
                     for row in s.sheet.index[(sd - sem_sd).abs() > 0.01 * sd]]
    return problems


@rule("a 95% CI of the mean (instead of the SD or SEM) has both bounds")
def ci_both_bounds(s: RuleInput) -> list[Problem]:
    g = s.given
    return [Problem(row, high if g.at[row, low] else low, None,
                    f"the 95% CI of the mean needs both bounds ({low} and {high})")
            for low, high in ((f"{arm}_ci_low", f"{arm}_ci_high") for arm in ARMS)
            for row in s.sheet.index[g[low] ^ g[high]]]


@rule("no SD or SEM beside a 95% CI in the same group")
def ci_alone(s: RuleInput) -> list[Problem]:
    g = s.given
    return [Problem(row, f"{arm}_ci_low", s.cell(row, f"{arm}_ci_low"), "give the SD, the SEM or the 95% CI of "
                    "the mean, not a CI besides an SD or SEM (keep the one the paper reports)")
            for arm in ARMS
            for row in s.sheet.index[g[f"{arm}_ci_low"] & g[f"{arm}_ci_high"] & (g[f"{arm}_sd"] | g[f"{arm}_sem"])]]


@rule("the upper bound of a 95% CI not below the lower")
def ci_order(s: RuleInput) -> list[Problem]:
    return [Problem(row, high, s.sheet.at[row, high], f"the upper bound is below {low} = {s.num.at[row, low]:g}")
            for low, high in ((f"{arm}_ci_low", f"{arm}_ci_high") for arm in ARMS)
            for row in s.sheet.index[s.num[high] < s.num[low]]]


@rule("the mean inside its 95% CI")
def mean_in_ci(s: RuleInput) -> list[Problem]:
    problems = []
    for arm in ARMS:
        low, high, mean = (s.num[f"{arm}_{p}"] for p in ("ci_low", "ci_high", "mean"))
        problems += [Problem(row, f"{arm}_mean", s.sheet.at[row, f"{arm}_mean"], f"the mean lies outside its 95% CI "
                             f"({low[row]:g} to {high[row]:g}): check the extraction (a CI of the difference, or of "
                             "the median?)")
                     for row in s.sheet.index[((mean < low) | (mean > high)) & (high >= low)]]
    return problems


def _spread(arm: str) -> list[str]:
    return [f"{arm}_{p}" for p in ("q1", "q3", "min", "max")]


@rule("quartiles and range only with a median")
def median_spread_alone(s: RuleInput) -> list[Problem]:
    problems = []
    for arm in ARMS:
        spread = _spread(arm)
        for row in s.sheet.index[s.given[spread].any(axis=1) & ~s.given[f"{arm}_median"]]:
            first = next(c for c in spread if s.given.at[row, c])
            problems.append(Problem(row, first, s.cell(row, first), f"quartiles and range go with a median: "
                                    f"{arm}_median is missing"))
    return problems


@rule("a median (instead of the mean) only when the config sets `convert_medians: true`")
def median_not_converted(s: RuleInput) -> list[Problem]:
    if s.convert_medians:
        return []
    return [Problem(row, f"{arm}_median", s.sheet.at[row, f"{arm}_median"], "a median, not a mean: set "
                    "`convert_medians: true` in the config to estimate the mean and SD from it and its quartiles "
                    "and/or range (Luo et al. 2016; Wan et al. 2014; Shi et al. 2020), or enter the mean and SD")
            for arm in ARMS for row in s.sheet.index[s.median[arm]]]


def _median_rule(description: str):
    """Register a rule of a median to convert (``convert_medians``) in :data:`RULES`: the decorated
    ``check(s, arm)`` returns one arm's problems, the rule's check (by the same name) every arm's, and
    none unless ``s.convert_medians``."""
    def register(check):
        @functools.wraps(check)
        def per_arm(s: RuleInput) -> list[Problem]:
            return [p for arm in ARMS for p in check(s, arm)] if s.convert_medians else []
        return rule(description)(per_arm)
    return register


@_median_rule("a median without a mean, SD, SEM or CI beside it in the same group")
def median_or_mean(s: RuleInput, arm: str) -> list[Problem]:
    col = f"{arm}_median"
    return [Problem(row, col, s.sheet.at[row, col], "give the mean with its SD, SEM or 95% CI, or the median with "
                    "its quartiles and/or range, not both (keep one)")
            for row in s.sheet.index[s.median[arm] & ~s.median_ok(arm)]]


@_median_rule("both quartiles, and both ends of the range, of a median")
def median_pairs(s: RuleInput, arm: str) -> list[Problem]:
    problems = []
    for a, b, what in (("q1", "q3", "quartiles"), ("min", "max", "range")):
        a, b = f"{arm}_{a}", f"{arm}_{b}"
        problems += [Problem(row, b if s.given.at[row, a] else a, None, f"the {what} need both {a} and {b}")
                     for row in s.sheet.index[s.median_ok(arm) & (s.given[a] ^ s.given[b])]]
    return problems


@_median_rule("a median with its quartiles and/or its range")
def median_spread(s: RuleInput, arm: str) -> list[Problem]:
    col = f"{arm}_median"
    return [Problem(row, col, s.sheet.at[row, col], f"a median needs its quartiles ({arm}_q1, {arm}_q3) and/or "
                    f"range ({arm}_min, {arm}_max) to be converted to a mean and SD")
            for row in s.sheet.index[s.median_ok(arm) & ~s.given[_spread(arm)].any(axis=1)]]


@_median_rule("min ≤ q1 ≤ median ≤ q3 ≤ max")
def median_order(s: RuleInput, arm: str) -> list[Problem]:
    col, order = f"{arm}_median", [f"{arm}_{p}" for p in ("min", "q1", "median", "q3", "max")]
    return [Problem(row, col, s.sheet.at[row, col], "must satisfy min <= q1 <= median <= q3 <= max: "
                    + ", ".join(f"{c} = {v:g}" for c, v in s.num.loc[row, order].dropna().items()))
            for row in s.sheet.index[s.unsorted(arm)]]


@_median_rule(f"a median of at least {MIN_N_FIVENUM} animals (as metafor's `conv.fivenum`)")
def median_n(s: RuleInput, arm: str) -> list[Problem]:
    col = f"{arm}_n"
    return [Problem(row, col, s.sheet.at[row, col], f"a median is converted only for groups of {MIN_N_FIVENUM} or "
                    "more animals (as metafor's conv.fivenum): enter the mean and SD, or leave the row out")
            for row in s.sheet.index[s.small(arm)]]


@_median_rule("an interquartile range and a range above 0")
def median_spread_zero(s: RuleInput, arm: str) -> list[Problem]:
    problems = []
    for a, b, what in (("q1", "q3", "interquartile range"), ("min", "max", "range")):
        a, b = f"{arm}_{a}", f"{arm}_{b}"
        problems += [Problem(row, b, s.sheet.at[row, b], f"the {what} is 0 ({a} = {b}): no SD can be estimated "
                             "from it (a floor or ceiling effect is no normal sample)")
                     for row in s.sheet.index[s.median_pairs(arm) & ~s.unsorted(arm) & (s.num[a] == s.num[b])]]
    return problems


@_median_rule("a median passes the skewness test of Shi et al. (2023) (`conv.fivenum`'s `test = TRUE`)")
def median_skewness(s: RuleInput, arm: str) -> list[Problem]:
    col = {part: s.num[f"{arm}_{part}"] for part in ("n", "median", "q1", "q3", "min", "max")}
    test = (s.median_pairs(arm) & ~s.unsorted(arm) & ~s.small(arm) & (col["q1"] != col["q3"])
            & (col["min"] != col["max"]))
    stat, crit = skewness(*col.values())
    problems = []
    for i in np.flatnonzero(test.to_numpy() & (stat >= crit)):
        row = s.sheet.index[i]
        problems.append(Problem(row, f"{arm}_median", s.sheet.at[row, f"{arm}_median"], f"too skewed for a mean and "
                                f"SD: skewness test statistic {stat[i]:.3g} >= {crit[i]:.3g}, its critical value for "
                                f"n = {col['n'].iloc[i]:g} (Shi et al. 2023, as metafor's conv.fivenum with test = "
                                "TRUE); leave the row out, or ask the authors for the mean and SD"))
    return problems


@rule("an SD (or SEM) of 0 in the treatment or the control group, not in both (the variance would be 0)")
def zero_sd_both(s: RuleInput) -> list[Problem]:
    num = s.num
    # SD 0 in one arm keeps every measure's variance > 0; in both it is 0 (the sham SD is never used)
    zero = {arm: (num[f"{arm}_sd"] == 0) | (num[f"{arm}_sd"].isna() & (num[f"{arm}_sem"] == 0))
            | (num[f"{arm}_sd"].isna() & num[f"{arm}_sem"].isna()
               & (num[f"{arm}_ci_low"] == num[f"{arm}_ci_high"]))  # a CI of width 0
            for arm in ("trt", "ctl")}
    problems = []
    for row in s.sheet.index[s.summary & zero["trt"] & zero["ctl"]]:
        col = next(c for c in ("ctl_sd", "ctl_sem", "ctl_ci_high") if s.given.at[row, c])
        problems.append(Problem(row, col, s.sheet.at[row, col], "SD is 0 in both groups (treatment and control): "
                                "the effect's variance would be 0; check the extraction"))
    return problems


@rule("SMD: Hedges' df `trt_n + ctl_n - 2` > 1 (metafor's `escalc` gives NA otherwise)")
def smd_df(s: RuleInput) -> list[Problem]:
    if s.measure != "SMD":
        return []
    df = s.num["trt_n"] + s.num["ctl_n"] - 2
    return [Problem(row, "ctl_n", s.sheet.at[row, "ctl_n"], f"Hedges' df = trt_n + ctl_n - 2 = {df[row]:g} must "
                    "exceed 1 for measure='SMD' (its bias correction is undefined, as in metafor's escalc)")
            for row in s.sheet.index[s.summary & (df <= 1)]]


@rule("SMD: a positive pooled variance `((trt_n - 1) SD_trt² + (ctl_n - 1) SD_ctl²) / (trt_n + ctl_n - 2)`")
def smd_pooled_sd(s: RuleInput) -> list[Problem]:
    """The pooled variance must be positive: an n below 1 weighs its SD negatively (a shared control's
    split, ``shared_control: split``, is :func:`premeta.effects.escalc`'s)."""
    if s.measure != "SMD":
        return []
    n_t, n_c = s.num["trt_n"], s.num["ctl_n"]
    sd_t, sd_c = arm_sd(s.num, "trt")[0], arm_sd(s.num, "ctl")[0]
    pooled = (n_t - 1) * sd_t**2 + (n_c - 1) * sd_c**2
    problems = []
    # both 0: zero_sd_both; df <= 1: smd_df
    for row in s.sheet.index[s.summary & (n_t + n_c - 2 > 1) & (pooled <= 0) & ((sd_t > 0) | (sd_c > 0))]:
        col = "trt_n" if n_t[row] <= n_c[row] else "ctl_n"
        problems.append(Problem(row, col, s.sheet.at[row, col], "the pooled SD of measure='SMD' is undefined: "
                                f"(trt_n - 1) SD_trt² + (ctl_n - 1) SD_ctl² = {pooled[row]:.4g} is not positive (an "
                                "n below 1 weighs its SD negatively, an n of 1 gives it no weight)"))
    return problems


@rule("NMD: a sham mean on every row")
def nmd_sham(s: RuleInput) -> list[Problem]:
    if s.measure != "NMD":
        return []
    return [Problem(row, "sham_mean", None, "sham_mean is missing (needed for NMD)")
            for row in s.sheet.index[s.summary & ~s.given["sham_mean"]]]


@rule("NMD: a sham mean different from the control mean")
def nmd_deficit(s: RuleInput) -> list[Problem]:
    if s.measure != "NMD":
        return []
    return [Problem(row, "sham_mean", s.sheet.at[row, "sham_mean"], "no injury deficit: ctl_mean equals sham_mean")
            for row in s.sheet.index[s.summary & (s.num["ctl_mean"] == s.num["sham_mean"])]]


@rule("ROM: positive means")
def rom_positive(s: RuleInput) -> list[Problem]:
    if s.measure != "ROM":
        return []
    return [Problem(row, f"{arm}_mean", s.sheet.at[row, f"{arm}_mean"],
                    "must be > 0 for measure='ROM' (log ratio of means)")
            for arm in ("trt", "ctl") for row in s.sheet.index[s.summary & (s.num[f"{arm}_mean"] <= 0)]]


@rule("CVR, VR: an SD (or SEM) above 0 and n above 1 in both groups; CVR: positive means")
def variability_defined(s: RuleInput) -> list[Problem]:
    """lnCVR and lnVR take the log of each arm's SD and correct it by 1/(2(n - 1)) (metafor's
    ``escalc(measure="CVR")``, ``"VR"``): an SD of 0 or an n of 1 leaves them infinite."""
    if s.measure not in VARIABILITY:
        return []
    problems = []
    for arm in ("trt", "ctl"):
        sd = arm_sd(s.num, arm)[0]
        col = f"{arm}_sd"
        problems += [Problem(row, col, s.sheet.at[row, col] if col in s.sheet else None,
                             f"must be > 0 for measure={s.measure!r} (the log of the SD)")
                     for row in s.sheet.index[s.summary & (sd == 0)]]
        problems += [Problem(row, f"{arm}_n", s.sheet.at[row, f"{arm}_n"],
                             f"must exceed 1 for measure={s.measure!r} (its correction 1/(2(n - 1)))")
                     for row in s.sheet.index[s.summary & (s.num[f"{arm}_n"] <= 1)]]
        if s.measure == "CVR":
            problems += [Problem(row, f"{arm}_mean", s.sheet.at[row, f"{arm}_mean"],
                                 "must be > 0 for measure='CVR' (log coefficient of variation)")
                         for row in s.sheet.index[s.summary & (s.num[f"{arm}_mean"] <= 0)]]
    return problems


@rule("no duplicate rows (a row identical in every column to an earlier row)")
def duplicates(s: RuleInput) -> list[Problem]:
    problems, first = [], {}
    for row, values in zip(s.sheet.index, s.sheet.itertuples(index=False)):
        key = tuple(_value(v) for v in values)
        if key in first:
            study = s.sheet["study"][row] if "study" in s.sheet else None
            problems.append(Problem(row, "study", _value(study), f"duplicate of row {first[key]}"))
        else:
            first[key] = row
    return problems


@dataclass(frozen=True)
class Column:
    """One column of the comparison sheet, as the data dictionary gives it.

    Attributes
    ----------
    name : str
        The column's header (matched whatever its case and blanks).
    type : {"number", "text"}
        ``number``: the :data:`NUMERIC` columns.
    required : str
        ``yes``, when it is required (:data:`REQUIRED_WHEN`), or ``""``.
    values : str
        What it accepts: the choices of :data:`CHOICES` or a number's :func:`limit`; ``""``: any.
    unit : str
        Of a number, where the sheet fixes it (:data:`UNITS`).
    meaning : str
        What it holds (:data:`COLUMNS`).
    """

    name: str
    type: str
    required: str
    values: str
    unit: str
    meaning: str


#: The columns required on some rows only, and when: group summaries or a precomputed effect.
REQUIRED_WHEN = {
    "better": "when `orient: benefit`",
    **{f"{arm}_{part}": "unless the row gives `yi`" for arm in ("trt", "ctl") for part in ("mean", "n")},
    **{f"{arm}_{part}": f"unless the row gives `yi` (`{arm}_sd` or `{arm}_sem`)"
       for arm in ("trt", "ctl") for part in ("sd", "sem")},
    "sham_mean": "for `measure: NMD`",
    "yi": "unless the row gives group summaries",
    "vi": "with `yi` (`vi` or `sei`)",
    "sei": "with `yi` (`vi` or `sei`)",
}
UNITS = {"time": "days"} | {f"{arm}_n": "animals" for arm in ARMS}


def _accepts(col: str) -> str:
    if col in CHOICES:
        return ", ".join(f"`{c}`" for c in CHOICES[col])
    if col in NUMERIC and limit(col):
        return "> 0" if limit(col)[0] else "≥ 0"
    return ""


DICTIONARY = tuple(Column(name, "number" if name in NUMERIC else "text",
                          "yes" if name in REQUIRED else REQUIRED_WHEN.get(name, ""), _accepts(name),
                          UNITS.get(name, ""), meaning) for name, meaning in COLUMNS.items())
"""The data dictionary of the comparison sheet: every column of :data:`COLUMNS` as a :class:`Column`."""

_GENERATED = ("<!-- Generated by premeta.sheet.{}() from the code; do not edit: regenerate with "
              "`python -c 'import premeta.sheet as s; s.write_docs()'` (tests/test_rules.py keeps it equal). -->")


def _table(header: list[str], rows) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows]


def rules_markdown() -> str:
    """The table of :data:`RULES` (``docs/sheet_rules.md``): each rule's name and what it checks."""
    lines = ["# Sheet rules", "", _GENERATED.format("rules_markdown"), "",
             "`premeta validate` and every run check each rule on the extraction sheet, in this order, and report "
             "every problem at once, each naming the file, the spreadsheet row, the column, the value and the rule. "
             "Values that are probably wrong but may be right are flagged, never refused (`premeta.flags`). "
             "The columns: [data dictionary](data_dictionary.md).", ""]
    lines += _table(["rule", "what it checks"], ([f"`{r.name}`", r.description] for r in RULES))
    return "\n".join(lines) + "\n"


def dictionary_markdown() -> str:
    """The data dictionary (``docs/data_dictionary.md``): every column of :data:`DICTIONARY`."""
    lines = ["# Data dictionary", "", _GENERATED.format("dictionary_markdown"), "",
             "Required: `study`, `outcome`, `mechanism`, and either group summaries (`trt_mean`, `trt_sd` or "
             "`trt_sem`, `trt_n`, `ctl_mean`, `ctl_sd` or `ctl_sem`, `ctl_n`) or a precomputed `yi` with `vi` or "
             "`sei` (read as treatment minus control, in the analysis' measure). Any column not listed (a review's "
             "own protocol details: dose, route, treadmill speed, diet) is kept, can be used as `group_by` or a "
             "moderator, and is described in the config's `columns`; the two arms are named in its `labels`. "
             "What each column must hold: the [sheet rules](sheet_rules.md).", ""]
    lines += _table(["column", "type", "required", "values", "unit", "meaning"],
                    ([f"`{c.name}`", c.type, c.required, c.values, c.unit, c.meaning] for c in DICTIONARY))
    lines += ["", "The 95% CI of a group's mean (`trt_ci_low`, `trt_ci_high`, and `ctl_`, `sham_`) is read instead "
              "of its SD or SEM: SD = √n·(upper − lower)/(2·t₀.₉₇₅,ₙ₋₁) (Cochrane Handbook 6.5.2.2, with the t "
              "quantile whatever n). A group's median with its quartiles and/or range, instead of its mean and SD, is "
              "converted only with `convert_medians: true` (mean: Luo et al. 2016; SD: Wan et al. 2014 from the "
              "quartiles or the range, Shi et al. 2020 from both; as metafor's `conv.fivenum`). The `rob_` columns "
              "are the ten SYRCLE risk-of-bias items (Hooijmans et al. 2014)."]
    return "\n".join(lines) + "\n"


#: The generated pages of ``docs/``: file name and the function that writes its text.
DOCS = {"sheet_rules.md": rules_markdown, "data_dictionary.md": dictionary_markdown}


def write_docs(folder="docs") -> None:
    """Write the pages of :data:`DOCS` into ``folder`` (the repository's ``docs/``)."""
    for name, text in DOCS.items():
        (Path(folder) / name).write_text(text(), encoding="utf-8")


def validate(sheet: pd.DataFrame, file=None, measure: str = "SMD", orient: str = "benefit",
             group_by: str | None = None, convert_medians: bool = False, tool: Tool = SYRCLE) -> pd.DataFrame:
    """Check an extraction sheet against every rule and report all problems at once.

    Parameters
    ----------
    sheet : DataFrame
        As from :func:`read_sheet`; the index names rows in messages.
    file : str or path-like, optional
        Named in the error message.
    measure : {"SMD", "MD", "ROM", "NMD", "CVR", "VR"}
        Adds the measure's own rules: every n > 0, fractional or not (metafor's ``escalc``); SMD
        needs Hedges' df ``trt_n + ctl_n - 2`` above 1 and a positive pooled variance; NMD needs ``sham_mean``
        different from ``ctl_mean``; ROM needs positive means; CVR and VR an SD above 0 and n above 1 in
        both groups, CVR positive means. For the other measures an SD (or SEM) of 0 is accepted
        in one of the treatment and control groups and refused in both (the variance would be 0); negative is refused.
    orient : {"benefit", "raw"}
        ``benefit`` requires ``better`` on every row.
    group_by : str, optional
        The grouping column: required, and never empty.
    convert_medians : bool
        Accept a median with its quartiles and/or range instead of the mean and SD of an arm
        (``{arm}_median``, ``{arm}_q1``, ``{arm}_q3``, ``{arm}_min``, ``{arm}_max``), converted by
        :func:`premeta.convert.fivenum` unless the group has fewer than 5 animals, its numbers are
        out of order or the skewness test (:func:`premeta.convert.skewness`) rejects it. Without
        it, a median is refused with a rule that says to set it.
    tool : premeta.rob.Tool
        The risk-of-bias or study-quality tool whose columns hold judgements from its items' values,
        whatever the case (:func:`premeta.rob.tool`; the config's ``risk_of_bias``); SYRCLE by default.

    Returns
    -------
    DataFrame
        A copy, same index and row order, all columns kept: the numeric columns (:data:`NUMERIC`)
        as float, ``better`` and the tool's columns in lower case; an arm given as a 95% CI has its
        ``{arm}_sd`` filled in (:func:`premeta.convert.sd_from_ci`), one given as a median its
        ``{arm}_mean`` and ``{arm}_sd``; ``converted`` names each converted arm and how
        (``trt:sem;ctl:ci``: :data:`premeta.convert.KINDS`; ``""`` when none was).

    Raises
    ------
    SheetError
        Listing every :class:`Problem`, ordered by row, then by column.
    """
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {', '.join(MEASURES)}, got {measure!r}")
    if orient not in ORIENTS:
        raise ValueError(f"orient must be one of {', '.join(ORIENTS)}, got {orient!r}")
    checked = RuleInput(sheet, measure, orient, group_by, convert_medians, tool)
    problems = [problem for rule in RULES for problem in rule.check(checked)]
    if problems:
        rows = {row: i for i, row in enumerate(sheet.index)}
        cols = {col: i for i, col in enumerate(sheet.columns)}
        problems.sort(key=lambda p: (rows.get(p.row, -1), cols.get(p.column, len(cols))))
        raise SheetError(problems, None if file is None else str(file))
    return _converted(checked)


def _converted(checked: RuleInput) -> pd.DataFrame:
    """The checked sheet: numbers as float, ``better`` and the tool's columns in lower case, every arm's mean and
    SD filled in from its CI or median (:mod:`premeta.convert`), and ``converted``: each converted arm
    and how (``trt:ci;ctl:median_iqr``; :data:`premeta.convert.KINDS`)."""
    out, num = checked.sheet.copy(), checked.num
    for col in checked.choices:
        if col in out:
            out[col] = out[col].map(_lower)
    for col in NUMERIC:
        if col in out:
            out[col] = num[col]
    kinds = []
    for arm in ARMS:
        col = {part: f"{arm}_{part}" for part in PARTS}
        median = checked.median[arm]
        kind = pd.Series("", index=out.index, dtype=object)
        kind[num[col["sd"]].isna() & num[col["sem"]].notna()] = "sem"
        ci = num[col["sd"]].isna() & num[col["sem"]].isna() & num[col["ci_low"]].notna()
        if ci.any():
            out[col["sd"]] = num[col["sd"]].where(~ci, sd_from_ci(num[col["ci_low"]], num[col["ci_high"]],
                                                                   num[col["n"]]))
            kind[ci] = "ci"
        if median.any():
            mean, sd = fivenum(num[col["n"]], num[col["median"]], num[col["q1"]], num[col["q3"]], num[col["min"]],
                               num[col["max"]])
            out[col["mean"]] = num[col["mean"]].where(~median, mean)
            out[col["sd"]] = out.get(col["sd"], num[col["sd"]]).where(~median, sd)
            iqr, rng = num[col["q1"]].notna(), num[col["min"]].notna()
            kind[median] = np.select([iqr & rng, iqr], ["median_iqr_range", "median_iqr"], "median_range")[median]
        kinds.append(kind.map(lambda k, a=arm: f"{a}:{k}" if k else ""))
    out["converted"] = pd.concat(kinds, axis=1).apply(lambda r: ";".join(x for x in r if x), axis=1)
    return out
