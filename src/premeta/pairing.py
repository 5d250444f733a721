"""From one row per group to one row per comparison: the SyRF export and one-row-per-group sheets.

Preclinical reviewers extract one row per cohort (group of animals), outcome and time point, in
SyRF (the CAMARADES Systematic Review Facility; its quantitative export, data dictionary
``data-export/data-dictionary/quantitative.md`` of camaradesuk/syrf_userguide_jekyll) or in their
own sheets. premeta's analysis needs one row per comparison of a treated cohort with its control.
:func:`pair` makes that pairing, and says for every input row what became of it.

Pairing rules, within each study, experiment, outcome and time point:

* a **treated** cohort (disease model, active treatment; SyRF ``IsDiseaseModelControl`` FALSE and
  ``IsTreatmentControl`` FALSE) is compared with the **control** (disease model, control
  treatment: ``IsDiseaseModelControl`` FALSE, ``IsTreatmentControl`` TRUE);
* a **sham** cohort (no disease model: ``IsDiseaseModelControl`` TRUE, control treatment) gives
  the ``sham_*`` columns of every comparison there (for the normalised mean difference);
* a control serving several treated cohorts becomes their shared ``control_group`` (premeta then
  divides its n among them, Vesterinen et al. 2014);
* a treated cohort without a control there, or with two candidate controls, is not paired; a sham
  cohort given the active treatment, or where no comparison is made, is not used; rows whose average
  is a median or mode, or whose error is an IQR or of a type other than SD, SEM or SE (SyRF's
  standard error of the mean), are excluded (an SMD needs a mean with an SD or SEM). Each is listed
  with the reason in the pairing table, never dropped silently: every row ends in a comparison (as
  its treated group, control or sham) or in the pairing table with a reason.

Groups are matched by the SyRF export's IDs (``StudyId``, ``ExperimentId``, ``OutcomeId``) where it
has them, by labels otherwise; labels are read with their blanks collapsed (no-break spaces,
repeated and trailing spaces), and labels differing only in case, or a group entered twice, are
refused naming both rows.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from premeta.deprecation import renamed_arguments
from premeta.errors import Problem, ReadError, SheetError
from premeta.files import COMMA_NUMBER, Source, decimal_commas, header_below, header_key, read_table
from premeta.sheet import (COLUMNS, MISSING, as_text, formula_cells, letter, not_a_number, read_sheet, repeated_columns,
                           typed_as_text)
from premeta.vocabulary import ARMS

#: SyRF quantitative-export columns (both spellings seen in real exports) -> premeta's group table.
SYRF = {
    "StudyId": "study_id", "ExperimentId": "experiment_id", "ExperimentLabel": "experiment",
    "CohortId": "cohort_id", "CohortLabel": "group", "NumberOfAnimals": "n",
    "IsDiseaseModelControl": "model_control", "IsTreatmentControl": "treatment_control",
    "TreatmentLabel(s)": "treatment", "OutcomeId": "outcome_id", "OutcomeLabel": "outcome",
    "GreaterIsWorse": "greater_is_worse", "TimeInMinute": "minutes", "TimeInMinutes": "minutes",
    "OutcomeAverage": "mean", "OutcomeAverageType": "average_type", "OutcomeUnit": "unit",
    "OutcomeError": "error", "OutcomeErrorType": "error_type", "ErrorType": "error_type",
}
#: SyRF's spellings of ``OutcomeErrorType`` (upper case) -> premeta's: the data dictionary lists SD, SEM and
#: IQR; exports also say SE, the standard error of the mean (SD = SE * sqrt(n) with the cohort's n). Any
#: other is excluded with its reason in the pairing table.
ERROR_TYPES = {"SD": "SD", "SEM": "SEM", "SE": "SEM", "IQR": "IQR"}
#: Columns of a SyRF export that describe the export, not the study: not kept as moderators.
SYRF_BOOKKEEPING = {
    "Title", "Authors", "PublicationName", "AlternateName", "Abstract", "Url", "AuthorAddress", "Year", "Doi",
    "ReferenceType", "Keywords", "PdfRelativePath", "CustomId", "DateTimeStudyAdded", "SystematicSearchId",
    "SystematicSearchName", "Reconciled", "InvestigatorId", "InvestigatorName", "InvestigatorId(s)",
    "InvestigatorName(s)", "DateTimeDataEntered", "DiseaseModelId(s)", "DiseaseModelLabel(s)", "TreatmentId(s)",
}
#: Columns of a one-row-per-group ("long") sheet; the others are kept as moderators.
LONG = {
    "study": "study identifier, e.g. first author and year (required)",
    "experiment": "experiment within the study: groups are paired within it (optional)",
    "outcome": "outcome measured (required)",
    "time": "time of measurement, days after injury (optional)",
    "group": "label of the group of animals, e.g. 'Vehicle' or 'Treadmill 15 m/min' (required)",
    "role": "'control' (injured, untreated), 'treatment' (injured, treated) or 'sham' (uninjured) (required)",
    "mean": "group mean (required)",
    "sd": "group SD (give SD or SEM)",
    "sem": "group SEM (give SD or SEM)",
    "n": "animals in the group (required)",
    "better": "direction of benefit of the outcome: 'higher' or 'lower' (required)",
    "mechanism": "mechanism or outcome family (optional; the outcome when absent)",
}
ROLES = ("treatment", "control", "sham")
PAIRING_COLUMNS = ["row", "study", "experiment", "outcome", "time", "group", "role", "status", "comparison_row",
                   "detail"]


@renamed_arguments(sheet="worksheet")
def detect(path, worksheet=None) -> str:
    """``syrf``, ``long`` or ``wide`` (one row per comparison) from a sheet's header."""
    header = {h.strip() for h in read_table(path, worksheet, known=COLUMNS)[0]}
    if {"CohortId", "OutcomeAverage"} <= header or {"CohortLabel", "OutcomeAverage"} <= header:
        return "syrf"
    keys = {header_key(h) for h in header}
    if {"role", "mean", "group"} <= keys:
        return "long"
    return "wide"


#: blanks spreadsheets and web pages put in labels: no-break, figure and narrow no-break spaces, tabs, newlines
BLANKS = re.compile(r"[\s\u00a0\u2007\u202f]+")


def _text(value):
    """A cell as read: blanks in text collapsed to one space and trimmed (no-break spaces too), empty text missing."""
    if isinstance(value, str):
        return BLANKS.sub(" ", value).strip() or None
    return value


def _frame(path, worksheet, known, numeric: set[str], rename: bool) -> tuple[pd.DataFrame, Source]:
    """The rows of a group sheet, indexed by spreadsheet row, fully empty rows dropped.

    ``known``: the sheet's own columns as :func:`header_key` writes them; with ``rename`` they are
    named so (a long sheet; a SyRF export keeps its spelling). Decimal commas of a semicolon- or
    tab-separated file are read as points in the ``numeric`` columns
    (:func:`premeta.files.decimal_commas`), where ``NA`` is missing (:data:`premeta.sheet.MISSING`);
    text is stripped with its blanks collapsed (:func:`_text`); a workbook's date or TRUE/FALSE cell
    in a number column becomes text saying so (:func:`premeta.sheet.typed_as_text`), refused as not
    a number. A header below row 1, a column named twice, a column with values but no header, a
    workbook formula without its result and a sheet without data rows are refused
    (:class:`premeta.errors.ReadError`, :class:`SheetError`).
    """
    header, rows, source = read_table(path, worksheet, known=known)
    header_below(path, [header] + rows, known)
    names = [header_key(h) if rename and header_key(h) in known else _text(h) or "" for h in header]
    blank = [i for i, n in enumerate(names) if not n]
    if filled := [i for i in blank if any(_text(r[i]) is not None for r in rows)]:
        raise SheetError([Problem(1, letter(i), "", "this column holds values but has no header: name it or delete "
                                  "it") for i in filled], source.where())
    header, names = [h for i, h in enumerate(header) if i not in blank], [n for n in names if n]
    rows = [[c for i, c in enumerate(r) if i not in blank] for r in rows]
    if twice := repeated_columns(header, names):
        raise SheetError(twice, source.where())
    if formulas := formula_cells(source, (header, rows)):
        raise SheetError(formulas, source.where())
    if source.kind == "text":
        source.decimal = decimal_commas(path, names, rows, numeric, source.delimiter)
    frame = pd.DataFrame(rows, columns=names, dtype=object).map(_text)
    for col in frame:  # a workbook's number in a label column as its text ("1" and 1: one study, as in a CSV)
        if header_key(col) not in numeric:
            frame[col] = frame[col].map(as_text)
    if source.decimal == ",":
        for col in frame:
            if header_key(col) in numeric:
                frame[col] = frame[col].map(lambda v: v.replace(",", ".") if isinstance(v, str)
                                            and COMMA_NUMBER.fullmatch(v) else v)
    frame.index = pd.RangeIndex(2, len(frame) + 2, name="row")
    typed_as_text(frame, source, dict(zip(header, names)), numeric)
    for col in frame:  # R's write.csv and many exports write a missing number as NA, as the comparison sheet reads it
        if header_key(col) in numeric:
            frame[col] = frame[col].map(lambda v: None if isinstance(v, str) and v in MISSING else v)
    frame = frame[frame.notna().any(axis=1)]
    if frame.empty:  # as a one-row-per-comparison sheet (premeta.sheet.read_sheet)
        raise ReadError(source.where(), "has a header but no data rows")
    return frame, source


FLAGS = {"TRUE": True, "FALSE": False, "YES": True, "NO": False, "1": True, "0": False, "1.0": True, "0.0": False}


def _bool(value) -> bool | None:
    """SyRF's "TRUE"/"FALSE" (also 1/0, yes/no, in any case), several separated by ';' (all must be
    TRUE for TRUE); None when missing or anything else."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    parts = [FLAGS.get(p.strip().upper()) for p in str(value).split(";") if p.strip()]
    if not parts or None in parts:
        return None
    return all(parts)


def _surname(authors) -> str:
    """The first author's surname from "Smith J, Doe K" (PubMed), "J. Smith and K. Doe", "Smith, J.;
    Doe, K.", "SMITH J :DOE K" (as some SyRF exports) or "Smith J"; "" when no author is given."""
    text = _text(str(authors).strip().strip('"')) if isinstance(authors, str) else None
    if not text:
        return ""
    first = re.split(r";|:| and |&", text)[0]
    first = first.split(",")[0].strip()  # "Smith J, Doe K" / "J. Smith, K. Doe" / "Smith, J."
    words = first.split()
    initials = re.compile(r"(?:[A-Z]\.?-?){1,3}")
    while len(words) > 1 and initials.fullmatch(words[-1]):  # "Smith J", "Smith JK"
        words.pop()
    while len(words) > 1 and initials.fullmatch(words[0]):  # "J. Smith", "L. S. Garcia"
        words.pop(0)
    return " ".join(words).strip('".')


def _study_labels(frame: pd.DataFrame) -> pd.Series:
    """"Surname Year" of each SyRF study (first author), else the title's first words and the year, else
    the StudyId; unique per StudyId (studies sharing a label get the shortest StudyId prefix, from 8
    characters, that tells them apart)."""
    labels = {}
    for sid, rows in frame.groupby("StudyId", sort=False):
        first = rows.iloc[0]
        year = first.get("Year")
        year = "" if year is None or pd.isna(year) else str(year).strip().removesuffix(".0")
        name = _surname(first.get("Authors"))
        title = first.get("Title")
        if not name and isinstance(title, str) and title.strip('" '):
            words = title.strip('" ').split()
            name = " ".join(words[:6]) + (" ..." if len(words) > 6 else "")
        labels[sid] = f"{name} {year}".strip() if name else str(sid)
    out = dict(labels)
    for label in {lab for lab in labels.values() if list(labels.values()).count(lab) > 1}:
        ids = [str(sid) for sid, lab in labels.items() if lab == label]
        k = next(k for k in range(8, max(map(len, ids)) + 1) if len({i[:k] for i in ids}) == len(ids))
        out |= {sid: f"{label} ({str(sid)[:k]})" for sid, lab in labels.items() if lab == label}
    return frame["StudyId"].map(out)


def _unique_labels(g: pd.DataFrame, label: str, ident: str) -> pd.Series:
    """``label`` of each ``ident`` (e.g. ExperimentLabel of each ExperimentId), with the ID's first 8
    characters added where two IDs of one study share a label."""
    pairs = g[["study_id", ident, label]].dropna(subset=[ident]).drop_duplicates(["study_id", ident])
    shared = pairs[pairs.duplicated(["study_id", label], keep=False) & pairs[label].notna()]
    rename = {(s, i): f"{lab} ({str(i)[:8]})" for s, i, lab in shared.itertuples(index=False)}
    return pd.Series([rename.get((s, i), lab) for s, i, lab in g[["study_id", ident, label]].itertuples(index=False)],
                     index=g.index, dtype=object)


@renamed_arguments(sheet="worksheet")
def syrf_groups(path, worksheet=None) -> tuple[pd.DataFrame, list[str], Source]:
    """A SyRF quantitative export as a group table (one row per cohort, outcome and time point).

    Returns the group table for :func:`pair` (indexed by the export's spreadsheet row) and the
    annotation columns kept (one per annotation question, named by its text), and how the file
    was read (:class:`premeta.files.Source`). Cohorts are paired by the export's IDs (``StudyId``,
    ``ExperimentId``, ``OutcomeId``) where it has them, and shown by their labels (made unique
    where two IDs share one). Every problem (missing columns, text in number cells, flags other
    than TRUE/FALSE, 1/0 or yes/no, a cohort entered twice for one outcome and time point) is
    raised at once as a :class:`SheetError` naming the export's row and column.
    """
    numbers = {"numberofanimals", "outcomeaverage", "outcomeerror", "timeinminute", "timeinminutes"}
    frame, source = _frame(path, worksheet, {header_key(c) for c in SYRF}, numbers, rename=False)
    problems = [Problem("-", col, None, "required column of the SyRF quantitative export is missing")
                for col in ("StudyId", "CohortLabel", "NumberOfAnimals", "IsDiseaseModelControl",
                            "IsTreatmentControl", "OutcomeLabel", "GreaterIsWorse", "OutcomeAverage",
                            "OutcomeError") if col not in frame]
    if not ({"TimeInMinute", "TimeInMinutes"} & set(frame)):
        problems.append(Problem("-", "TimeInMinutes", None, "required column of the SyRF quantitative export "
                                                             "is missing (TimeInMinute or TimeInMinutes)"))
    if not ({"ErrorType", "OutcomeErrorType"} & set(frame)):
        problems.append(Problem("-", "OutcomeErrorType", None, "required column of the SyRF quantitative export "
                                                                "is missing (ErrorType or OutcomeErrorType)"))
    if problems:
        raise SheetError(problems, source.where())
    problems += [Problem(r, "StudyId", None, "must not be empty") for r in frame.index[frame["StudyId"].isna()]]
    frame["StudyId"] = frame["StudyId"].fillna("")
    annotations = [c for c in frame if c not in SYRF and c not in SYRF_BOOKKEEPING]
    g = pd.DataFrame(index=frame.index)
    g["study"] = _study_labels(frame)
    for col, name in SYRF.items():
        if col in frame and name not in g:
            g[name] = frame[col]
    for name in SYRF.values():  # optional columns of the export (ExperimentId, OutcomeAverageType, ...)
        if name not in g:
            g[name] = None
    g["experiment"] = g["experiment"].fillna(g["experiment_id"])
    g["experiment"] = _unique_labels(g, "experiment", "experiment_id")
    flags = {}
    # SyRF leaves IsDiseaseModelControl empty on a cohort with no disease model attached (the sham
    # cohorts of real exports, tests/data/syrf/lsr3_taar1_doses.csv): read as TRUE when the cohort's
    # DiseaseModelId(s)/Label(s) are empty too; said in the pairing table
    models = [c for c in ("DiseaseModelId(s)", "DiseaseModelLabel(s)") if c in frame]
    no_model = frame["IsDiseaseModelControl"].isna() & (frame[models].isna().all(axis=1) if models else False)
    for col in ("IsDiseaseModelControl", "IsTreatmentControl", "GreaterIsWorse"):
        flags[col] = frame[col].map(_bool)
        if col == "IsDiseaseModelControl":
            flags[col] = flags[col].astype(object).where(~no_model, True)
        problems += [Problem(r, col, None, "is empty: give TRUE or FALSE") if pd.isna(frame.at[r, col]) else
                     Problem(r, col, frame.at[r, col],
                             "must be TRUE or FALSE (also 1/0 or yes/no; several separated by ';')")
                     for r in frame.index[flags[col].isna()]]
        flags[col] = flags[col].astype(object).where(flags[col].notna(), False).astype(bool)
    g["read_as"] = np.where(no_model, "IsDiseaseModelControl is empty and no disease model is attached: read as "
                                      "TRUE (no disease model)", "")
    model_control, treatment_control = flags["IsDiseaseModelControl"], flags["IsTreatmentControl"]
    g["role"] = np.select([model_control & treatment_control, model_control, treatment_control],
                          ["sham", "sham+treatment", "control"], "treatment")
    g["better"] = np.where(flags["GreaterIsWorse"], "lower", "higher")
    minutes = pd.to_numeric(g["minutes"], errors="coerce")
    problems += [Problem(r, "TimeInMinutes", g.at[r, "minutes"], not_a_number(g.at[r, "minutes"]))
                 for r in g.index[g["minutes"].notna() & minutes.isna()]]
    g["time"] = minutes / 1440
    error_type = g["error_type"].fillna("").astype(str).str.strip().str.upper().map(lambda e: ERROR_TYPES.get(e, e))
    g["sd"] = g["error"].where(error_type == "SD")
    g["sem"] = g["error"].where(error_type == "SEM")
    average = g["average_type"].fillna("mean").astype(str).str.strip().str.lower()
    raw_type = g["error_type"].fillna("").astype(str).str.strip()
    g["excluded"] = np.select(
        [average.isin(["median", "mode"]), error_type == "IQR", ~error_type.isin(["SD", "SEM"])],
        [average.map(lambda a: f"the average is a {a}: an SMD needs a mean (a median with its quartiles or range "
                               "can be entered in a one-row-per-comparison sheet as trt_median, trt_q1, trt_q3, "
                               "trt_min, trt_max and converted with `convert_medians: true`; or leave the row out)"),
         "the error is an IQR, one number in the export: converting a median needs the quartiles themselves "
         "(enter the group in a one-row-per-comparison sheet as trt_median, trt_q1, trt_q3 with "
         "`convert_medians: true`), or enter the mean and SD",
         raw_type.map(lambda e: f"error type {e or 'missing'!r} is not one premeta reads: SD, SEM or SE "
                                "(the standard error of the mean)")], "")
    g["mechanism"] = g["outcome"]
    for a in annotations:
        g[a] = frame[a]
    # outcome labels are the groups of the analysis (whatever their IDs); experiment labels key the pairing without IDs
    problems += _case_problems(g, ["outcome"], [] if g["experiment_id"].notna().all() else ["experiment"],
                               {"experiment": "ExperimentLabel", "outcome": "OutcomeLabel"})
    problems += _one_direction(g, frame["GreaterIsWorse"].map(_bool).notna(), "GreaterIsWorse",
                               frame["GreaterIsWorse"])
    problems += _twice(g, ["study_id", "experiment_id", "outcome_id", "minutes", "cohort_id", "group"],
                       "CohortLabel", "cohort, outcome and time point")
    problems += _numbers(g, {"mean": "OutcomeAverage", "error": "OutcomeError", "n": "NumberOfAnimals"},
                         g["excluded"] == "")
    if problems:
        raise SheetError(_by_row(problems), source.where())
    return g, annotations, source


@renamed_arguments(sheet="worksheet")
def long_groups(path, worksheet=None) -> tuple[pd.DataFrame, list[str], Source]:
    """A one-row-per-group sheet (columns :data:`LONG`) as a group table for :func:`pair`.

    Labels are read with their blanks collapsed (no-break spaces, repeated and trailing spaces);
    labels of one study, experiment, outcome or group differing only in case, and a group entered
    twice for one outcome and time, are refused, naming both rows.
    """
    frame, source = _frame(path, worksheet, set(LONG), {"mean", "sd", "sem", "n", "time"}, rename=True)
    problems = [Problem("-", c, None, "required column is missing")
                for c in ("study", "outcome", "group", "role", "mean", "n", "better") if c not in frame]
    if "sd" not in frame and "sem" not in frame:
        problems.append(Problem("-", "sd", None, "give an sd or a sem column"))
    if problems:
        raise SheetError(problems, source.where())
    g = frame.copy()
    role = g["role"].astype(str).str.strip().str.lower()
    problems += [Problem(r, "role", g.at[r, "role"], "must be 'control', 'treatment' or 'sham'")
                 for r in g.index[~role.isin(ROLES)]]
    better = g["better"].astype(str).str.strip().str.lower()
    problems += [Problem(r, "better", g.at[r, "better"], "must be 'higher' or 'lower'")
                 for r in g.index[~better.isin(["higher", "lower"])]]
    for c in ("study", "outcome", "group"):
        problems += [Problem(r, c, None, "must not be empty") for r in g.index[g[c].isna()]]
    g["role"], g["better"] = role, better
    g["experiment"] = g["experiment"] if "experiment" in g else None
    for c in ("sd", "sem"):
        if c not in g:
            g[c] = np.nan
    if "time" in g:
        t = pd.to_numeric(g["time"], errors="coerce")
        problems += [Problem(r, "time", g.at[r, "time"], not_a_number(g.at[r, "time"]))
                     for r in g.index[g["time"].notna() & t.isna()]]
        g["time"] = t
    else:
        g["time"] = np.nan
    if "mechanism" not in g:
        g["mechanism"] = g["outcome"]
    g["excluded"] = ""
    annotations = [c for c in frame if c not in LONG]
    problems += _case_problems(g, ["study", "outcome"] + (["mechanism"] if "mechanism" in frame else []),
                               ["experiment", "group"])
    problems += _one_direction(g, better.isin(["higher", "lower"]), "better", frame["better"])
    problems += _twice(g, ["study", "experiment", "outcome", "time", "group"], "group", "group, outcome and time")
    problems += [Problem(r, "sd", None, "is missing: give the group's sd or sem")
                 for r in g.index[g["sd"].isna() & g["sem"].isna()]]
    problems += _numbers(g, {"mean": "mean", "n": "n"} | {c: c for c in ("sd", "sem") if c in frame},
                         pd.Series(True, index=g.index))
    if problems:
        raise SheetError(_by_row(problems), source.where())
    return g, annotations, source


def _case_problems(g: pd.DataFrame, whole: list[str], within_study: list[str],
                   shown: dict[str, str] | None = None) -> list[Problem]:
    """Labels that differ only in case ("Behaviour", "behaviour"): in the whole sheet (``whole``) or
    within one study (``within_study``). Refused rather than merged or split: a reviewer rarely means
    two groups by a case difference, and either guess would change the comparisons without a word.
    One problem per later spelling, naming the row of the first."""
    problems = []
    for col in whole + within_study:
        if col not in g:
            continue
        labels = g[col].dropna().astype(str)
        scope = (g.loc[labels.index, "study"].astype(str) if col in within_study
                 else pd.Series("", index=labels.index))
        first: dict[tuple, tuple] = {}  # (scope, folded) -> (row, spelling)
        for r, label in labels.items():
            key = (scope[r], label.casefold())
            if key not in first:
                first[key] = (r, label)
            elif first[key][1] != label:
                problems.append(Problem(r, (shown or {}).get(col, col), label,
                                        f"differs from {first[key][1]!r} (row {first[key][0]}) only in case: write "
                                        "them the same if they are one, or tell them apart in words"))
    return problems


def _one_direction(g: pd.DataFrame, valid: pd.Series, shown: str, raw: pd.Series) -> list[Problem]:
    """Groups compared with one another (one study, experiment, outcome and time: :func:`_pairing_keys`)
    that give the outcome opposite directions of benefit (``better``; a SyRF export's ``GreaterIsWorse``):
    one problem per later row that differs from the first, naming it. A comparison takes its treated
    group's direction, so the control's (or another treated group's) would be ignored without a word.
    ``valid``: the rows whose direction was read (the others have their own problem); ``raw``: as typed."""
    keys = _pairing_keys(g)
    first: dict[str, int] = {}
    problems = []
    for r in g.index[valid & (g["excluded"] == "")]:
        at = first.setdefault(keys[r], r)
        if g.at[r, "better"] != g.at[at, "better"]:
            problems.append(Problem(r, shown, raw[r], f"differs from row {at}'s {raw[at]!r} for the same study, "
                                    "experiment, outcome and time: groups compared with one another need one "
                                    "direction of benefit; correct one of them"))
    return problems


def _twice(g: pd.DataFrame, key: list[str], shown: str, what: str) -> list[Problem]:
    """A group entered twice: rows with the same ``key`` (one problem per later row, naming the first)."""
    cols = [c for c in key if c in g]
    keys = g[cols].astype(object).where(g[cols].notna(), "").astype(str).agg("\x1f".join, axis=1)
    first = keys.groupby(keys, sort=False).transform(lambda k: k.index[0])
    return [Problem(r, shown, g.at[r, "group"], f"the same {what} as row {first[r]}: a row entered twice? "
                                                 "Delete one, or tell the groups apart")
            for r in g.index[first != g.index]]


def _by_row(problems: list[Problem]) -> list[Problem]:
    """Problems in the order of the input's rows (whole-column problems first), stable within a row."""
    return sorted(problems, key=lambda p: (p.row != "-", p.row if isinstance(p.row, int) else 0))


def _numbers(g: pd.DataFrame, columns: dict[str, str], used: pd.Series) -> list[Problem]:
    """Convert the group table's number columns in place; problems name the input's own columns.

    ``mean``, ``n`` and a SyRF ``error`` must be given on every ``used`` row (not excluded)."""
    problems = []
    for col, shown in columns.items():
        raw = g[col]
        x = pd.to_numeric(raw, errors="coerce")
        problems += [Problem(r, shown, raw[r], not_a_number(raw[r])) for r in g.index[raw.notna() & x.isna()]]
        if col in ("mean", "n", "error"):
            problems += [Problem(r, shown, None, "is missing") for r in g.index[raw.isna() & used]]
        if col == "n":  # as the comparison sheet's n: any positive number (a range's midpoint), metafor's escalc
            problems += [Problem(r, shown, raw[r], "must be > 0 (a group of animals)") for r in g.index[x <= 0]]
        elif col != "mean":
            problems += [Problem(r, shown, raw[r], "must not be negative") for r in g.index[x < 0]]
        g[col] = x
    for name in ("sd", "sem"):
        if name in g:
            g[name] = pd.to_numeric(g[name], errors="coerce")
    return problems


def _label(group: pd.Series) -> str:
    """What a group was given: its treatment label (SyRF), else the group's own label."""
    given = group.get("treatment")
    return str(given).strip() if isinstance(given, str) and given.strip() else str(group.group).strip()


def pair(groups: pd.DataFrame, annotations: list[str] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pair every treated group with its control (and sham) within study, experiment, outcome and time.

    Parameters
    ----------
    groups : DataFrame
        From :func:`syrf_groups` or :func:`long_groups`: ``study, experiment, outcome, time, group,
        role, mean, sd, sem, n, better, mechanism, excluded`` (a reason, or ""), indexed by the
        input's spreadsheet row.
    annotations : list of str
        Further columns, copied to each comparison from its treated group.

    Returns
    -------
    sheet : DataFrame
        premeta's comparison sheet (one row per treated group paired with a control), with
        ``trt_label`` and ``ctl_label`` (what each arm was given: SyRF's treatment label, or the
        group's label) and ``source_rows`` (input rows: treated; control; sham), ready for
        :func:`premeta.sheet.validate`.
    pairing : DataFrame
        One row per input row (:data:`PAIRING_COLUMNS`): what became of it and why.
    """
    g = groups.copy()
    g["experiment"] = g["experiment"].astype(object).where(g["experiment"].notna(), "")
    keys = _pairing_keys(g)
    status = pd.Series("", index=g.index, dtype=object)
    detail = pd.Series("", index=g.index, dtype=object)
    comparison_row = pd.Series(pd.NA, index=g.index, dtype="Int64")
    out = []
    used = g["excluded"] == ""
    status[~used], detail[~used] = "excluded", g.loc[~used, "excluded"]
    for key in dict.fromkeys(keys):
        here = g[keys == key]
        ok = here[used[here.index]]
        controls, shams, treated = (ok[ok.role == role] for role in ("control", "sham", "treatment"))
        for r in here.index[(here.role == "sham+treatment") & used[here.index]]:
            status[r], detail[r] = "not used", "a sham (no disease model) cohort given the treatment: no comparison"
        sham = shams.iloc[0] if len(shams) == 1 else None
        for r in shams.index:  # "sham" once a comparison uses it (below)
            status[r] = "not used"
            detail[r] = ("no comparison made at this outcome and time to use it" if sham is not None else
                         f"{len(shams)} sham cohorts here ({', '.join(map(repr, shams.group))}): no sham columns")
        if treated.empty:
            status[controls.index], detail[controls.index] = "not used", "no treated cohort for this outcome and time"
            continue
        if len(controls) != 1:
            why = _unpaired(g, here, controls, used, keys != key)
            unpaired = treated.index.union(controls.index)
            status[unpaired], detail[unpaired] = "unpaired", why
            continue
        control, c = controls.iloc[0], controls.index[0]
        s = None if sham is None else shams.index[0]
        if s is not None:
            status[s], detail[s] = "sham", "sham of this outcome and time"
        status[c] = "control"
        detail[c] = (f"control of {len(treated)} comparison{'s' if len(treated) != 1 else ''}"
                     + (" (shared: its n is divided among them)" if len(treated) > 1 else ""))
        for r, t in treated.iterrows():
            out.append(_comparison(t, control, sham, annotations) | {
                "source_rows": ";".join(str(x) for x in (r, c, s) if x)})
            status[r], detail[r] = "paired", f"with control row {c}" + (f" and sham row {s}" if s is not None else "")
            comparison_row[r] = len(out) + 1
    if "read_as" in g:  # how a cell was read, where the export left it to premeta
        said = g["read_as"].fillna("") != ""
        detail[said] = [f"{d}; {r}" if d else r for d, r in zip(detail[said], g.loc[said, "read_as"])]
    pairing = pd.DataFrame({"row": g.index, "study": g.study, "experiment": g.experiment, "outcome": g.outcome,
                            "time": g.time, "group": g.group, "role": g.role, "status": status,
                            "comparison_row": comparison_row, "detail": detail}).reset_index(drop=True)
    return _comparison_sheet(out), pairing


def _pairing_keys(g: pd.DataFrame) -> pd.Series:
    """Each group's pairing key: study, experiment, outcome (the export's IDs where it has them, so
    two experiments labelled "Behaviour" stay two; else the labels) and time, joined."""
    key = pd.DataFrame({c: g[f"{c}_id"].fillna(g[c]) if f"{c}_id" in g else g[c]
                        for c in ("study", "experiment", "outcome")} | {"time": g["time"]})
    return key.astype(object).where(key.notna(), "").astype(str).agg("\x1f".join, axis=1)


def _unpaired(g: pd.DataFrame, here: pd.DataFrame, controls: pd.DataFrame, used: pd.Series,
              elsewhere: pd.Series) -> str:
    """Why the treated groups of one key have no control: none, or several candidates; with the
    excluded control, or the control of the same study and outcome in another experiment."""
    if len(controls):
        return f"{len(controls)} candidate controls ({', '.join(map(repr, controls.group))})"
    why = "no control cohort for this outcome and time"
    dropped = here[~used[here.index] & (here.role == "control")]
    if len(dropped):
        return why + f" (the control, row {dropped.index[0]}, is excluded)"
    same = (g.study == here.study.iloc[0]) & (g.outcome == here.outcome.iloc[0]) & used
    other = g[same & (g.role == "control") & elsewhere]
    if len(other) and here.experiment.iloc[0]:
        why += (f" in experiment {here.experiment.iloc[0]!r}; the study has one in experiment "
                f"{other.experiment.iloc[0]!r} (row {other.index[0]}): if they belong together, "
                "give them one experiment")
    return why


def _comparison(t: pd.Series, control: pd.Series, sham: pd.Series | None, annotations) -> dict:
    """One row of the comparison sheet: treated group ``t`` against ``control`` (and ``sham``)."""
    row = {"study": t.study, "comparison": f"{t.group} vs {control.group}",
           "cohort": t.group if not t.experiment else f"{t.experiment} / {t.group}",
           "control_group": control.group if not control.experiment else f"{control.experiment} / {control.group}",
           "outcome": t.outcome, "mechanism": t.mechanism, "time": t.time, "better": t.better,
           # what each arm was given (SyRF's TreatmentLabel(s); a long sheet's group): the run's
           # default names of the arms (premeta.vocabulary.Labels.from_sheet)
           "trt_label": _label(t), "ctl_label": _label(control)}
    for arm, src in (("trt", t), ("ctl", control), ("sham", sham)):
        for part in ("mean", "sd", "sem", "n"):
            row[f"{arm}_{part}"] = np.nan if src is None else src[part]
    return row | {a: t.get(a) for a in annotations}


def _comparison_sheet(rows: list[dict]) -> pd.DataFrame:
    """The comparisons as a sheet: rows numbered from 2 as a spreadsheet's, empty columns dropped,
    n written as whole numbers where every n of the column is whole (a fractional n, a reported range's
    midpoint, stays as given), no ``time`` column when no comparison has a time."""
    sheet = pd.DataFrame(rows)
    if len(sheet):
        sheet.index = pd.RangeIndex(2, len(sheet) + 2, name="row")
        sheet = sheet.dropna(axis=1, how="all")
        for col in ("trt_n", "ctl_n", "sham_n"):
            n = sheet[col] if col in sheet else None
            if n is not None and (n.dropna() % 1 == 0).all():
                sheet[col] = n.astype("Int64")
        if sheet["time"].isna().all() if "time" in sheet else False:
            sheet = sheet.drop(columns="time")
    return sheet


FORMATS = ("auto", "wide", "syrf", "long")


@renamed_arguments(sheet="worksheet", fmt="format")
def load(path, format: str = "auto", worksheet=None) -> tuple[pd.DataFrame, pd.DataFrame | None, str]:
    """Any supported sheet as premeta's comparison sheet: ``(sheet, pairing, format)``.

    ``format``: ``wide`` (one row per comparison, :func:`premeta.sheet.read_sheet`; pairing None),
    ``syrf`` (SyRF quantitative export), ``long`` (one row per group) or ``auto`` (from the
    header, :func:`detect`).
    """
    format = format.lower()
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    if format == "auto":
        format = detect(path, worksheet)
    if format == "wide":
        return read_sheet(path, worksheet), None, format
    out, pairing = read_groups(path, format, worksheet)
    return out, pairing, format


#: The input's own column for a column of the paired comparison sheet (``trt_``/``ctl_``/``sham_`` stripped).
SOURCE_COLUMNS = {
    "syrf": {"mean": "OutcomeAverage", "sd": "OutcomeError", "sem": "OutcomeError", "n": "NumberOfAnimals",
             "better": "GreaterIsWorse", "outcome": "OutcomeLabel", "study": "StudyId", "comparison": "CohortLabel",
             "control_group": "CohortLabel", "time": "TimeInMinutes"},
    "long": {"comparison": "group", "control_group": "group"},
}


@renamed_arguments(fmt="format")
def in_source(error: SheetError, sheet: pd.DataFrame, format: str, path) -> SheetError:
    """The problems found in a paired comparison sheet, named by the input's own rows and columns.

    Comparison row ``r`` was made from the input rows ``sheet.source_rows[r]`` (treated; control;
    sham): a problem in a ``trt_*``, ``ctl_*`` or ``sham_*`` column is that group's row, any other
    the treated group's; the rule says in which comparison it was found.
    """
    names = SOURCE_COLUMNS[format]
    sources = {r: [int(x) for x in str(v).split(";")] for r, v in sheet["source_rows"].items()}
    treated = {str(r): str(v[0]) for r, v in sources.items()}
    found: dict[tuple, list[str]] = {}  # (row, column, value, rule) -> the comparisons it was found in
    for p in error.problems:
        if isinstance(p.row, str) or p.row not in sources:
            found.setdefault((p.row, p.column, p.value, p.rule), [])
            continue
        rows = sources[p.row]
        arm, _, part = p.column.partition("_")
        if arm in ARMS and part in ("mean", "sd", "sem", "n") and ARMS.index(arm) < len(rows):
            row, column = rows[ARMS.index(arm)], names.get(part, part)
        else:
            row, column = rows[0], names.get(p.column, p.column)
        # comparison rows named in the rule (e.g. those sharing a control) become their treated groups' rows
        rule = re.sub(r"\(rows ([\d, ]+)\)", lambda m: "(rows " + ", ".join(
            treated.get(x, x) for x in m.group(1).split(", ")) + ")", p.rule)
        value = p.value.item() if isinstance(p.value, np.generic) else p.value
        found.setdefault((row, column, value, rule), []).append(repr(sheet.at[p.row, "comparison"]))
    out = [Problem(row, column, value, rule + (f" (in {'comparison' if len(c) == 1 else 'comparisons'} "
                                                f"{', '.join(c)})" if c else ""))
           for (row, column, value, rule), c in found.items()]
    return SheetError(_by_row(out), str(path))


@renamed_arguments(sheet="worksheet", fmt="format")
def read_groups(path, format: str, worksheet=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The comparison sheet and the pairing table of a SyRF export (``fmt="syrf"``) or a long sheet."""
    groups, annotations, source = syrf_groups(path, worksheet) if format == "syrf" else long_groups(path, worksheet)
    out, pairing = pair(groups, annotations)
    out.attrs["source"] = source
    if out.empty:  # every row set aside: each with its reason, as the pairing table would give it
        column = SOURCE_COLUMNS[format]["comparison"]
        raise SheetError([Problem(int(r.row), column, r.group, f"no treated group could be paired with a control; "
                                  f"this row: {r.status}, {r.detail}") for r in pairing.itertuples()], source.where())
    return out, pairing
