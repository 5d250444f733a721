"""Reading and validating extraction sheets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd


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
    "comparison": "label of this exercise-versus-control comparison within the study",
    "cohort": "independent cohort of animals within the study",
    "control_group": "label of the control group; rows sharing it (same study, outcome, time) split its n",
    "time": "time of measurement, days after injury",
    "better": "direction of benefit: 'higher' or 'lower' (required when orient='benefit')",
    "species": "species, e.g. rat or mouse",
    "strain": "strain, e.g. Sprague-Dawley",
    "sex": "sex of the animals",
    "model": "pain model, e.g. chronic constriction injury",
    "speed_m_min": "treadmill speed, m/min",
    "min_per_day": "exercise minutes per day",
    "days_per_week": "exercise days per week",
    "weeks": "exercise duration, weeks",
    "start": "exercise started before ('pre') or after ('post') the injury",
    "tissue": "tissue sampled, e.g. spinal cord or DRG",
    "trt_mean": "exercise group mean",
    "trt_sd": "exercise group SD (give SD or SEM)",
    "trt_sem": "exercise group SEM (give SD or SEM)",
    "trt_n": "exercise group size, animals",
    "ctl_mean": "control (injured, sedentary) group mean",
    "ctl_sd": "control group SD (give SD or SEM)",
    "ctl_sem": "control group SEM (give SD or SEM)",
    "ctl_n": "control group size, animals",
    "sham_mean": "sham (uninjured) group mean; required for measure='NMD'",
    "sham_sd": "sham group SD",
    "sham_sem": "sham group SEM",
    "sham_n": "sham group size, animals",
    "yi": "precomputed effect size, exercise minus control (instead of group summaries)",
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
"""Every known column of the extraction sheet and what it holds; other columns are kept as moderators."""

REQUIRED = ("study", "outcome", "mechanism")
ARMS = ("trt", "ctl", "sham")
NUMERIC = tuple(f"{a}_{s}" for a in ARMS for s in ("mean", "sd", "sem", "n")) + (
    "yi", "vi", "sei", "time", "speed_m_min", "min_per_day", "days_per_week", "weeks")
ROB = tuple(c for c in COLUMNS if c.startswith("rob_"))
CHOICES = {"better": ("higher", "lower"), "start": ("pre", "post")} | {c: ("low", "high", "unclear") for c in ROB}
MISSING = ("", "NA")


def _cell(value):
    """Strip text; empty text and ``NA`` become missing."""
    if isinstance(value, str):
        value = value.strip()
        return np.nan if value in MISSING else value
    return value


def read_sheet(path) -> pd.DataFrame:
    """Read an extraction sheet, one row per comparison, without converting any value.

    Parameters
    ----------
    path : str or path-like
        ``.csv``, ``.tsv``, ``.xlsx``, ``.xlsm`` or ``.xls`` (the first worksheet).

    Returns
    -------
    DataFrame
        Cells as read (text from CSV; text or numbers from a workbook), stripped of surrounding
        whitespace, empty cells and ``NA`` as missing, header names stripped. The index, named
        ``row``, is the spreadsheet row number (the header is row 1); fully empty rows are dropped.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        sep = "\t" if suffix == ".tsv" else ","
        frame = pd.read_csv(path, sep=sep, dtype=str, na_filter=False, skip_blank_lines=False,
                            encoding="utf-8-sig")
    elif suffix in (".xlsx", ".xlsm", ".xls"):
        frame = pd.read_excel(path, sheet_name=0, dtype=object)
    else:
        raise ValueError(f"{path}: extraction sheet must be .csv, .tsv, .xlsx or .xls")
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.apply(lambda s: s.map(_cell))
    frame.index = pd.RangeIndex(2, len(frame) + 2, name="row")
    return frame[frame.notna().any(axis=1)]


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
        elif col.endswith(("_sd", "_sem")) or col in ("vi", "sei"):
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


def validate(sheet: pd.DataFrame, file=None, measure: str = "SMD", orient: str = "benefit") -> pd.DataFrame:
    """Check an extraction sheet against every rule and report all problems at once.

    Parameters
    ----------
    sheet : DataFrame
        As from :func:`read_sheet`; the index names rows in messages.
    file : str or path-like, optional
        Named in the error message.
    measure : {"SMD", "MD", "ROM", "NMD"}
        Adds the measure's own rules: NMD needs ``sham_mean`` different from ``ctl_mean``;
        ROM needs positive means.
    orient : {"benefit", "raw"}
        ``benefit`` requires ``better`` on every row.

    Returns
    -------
    DataFrame
        A copy, same index and row order, all columns kept: the numeric columns (:data:`NUMERIC`)
        as float, ``better``, ``start`` and ``rob_*`` in lower case.

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

    for col in REQUIRED + (("better",) if orient == "benefit" else ()):
        if col not in sheet:
            problems.append(Problem("-", col, None, "required column is missing"))
    for col in REQUIRED:
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
        for row in sheet.index[summary]:
            for part in ("mean", "n"):
                if not given.at[row, f"{arm}_{part}"]:
                    problems.append(Problem(row, f"{arm}_{part}", None, f"{arm}_{part} is missing"))
            if not (given.at[row, f"{arm}_sd"] or given.at[row, f"{arm}_sem"]):
                problems.append(Problem(row, f"{arm}_sd", None, f"{arm}_sd or {arm}_sem is missing"))

    for arm in ARMS:
        sd, sem_sd = num[f"{arm}_sd"], num[f"{arm}_sem"] * np.sqrt(num[f"{arm}_n"])
        for row in sheet.index[(sd - sem_sd).abs() > 0.01 * sd]:
            rule = f"SD and SEM disagree: SEM*sqrt(n) = {sem_sd[row]:.4g}"
            problems.append(Problem(row, f"{arm}_sd", sheet.at[row, f"{arm}_sd"], rule))

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
