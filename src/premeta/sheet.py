"""Reading and validating extraction sheets."""

from __future__ import annotations

import numpy as np
import pandas as pd

from premeta.deprecation import renamed_arguments
from premeta.convert import MIN_N_FIVENUM, arm_sd, fivenum, sd_from_ci, skewness
from premeta.errors import Problem, ReadError, SheetError
from premeta.files import COMMA_NUMBER, decimal_commas, header_below, header_key, read_table
from premeta.vocabulary import ARMS, MEASURES, ORIENTS


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
MISSING = ("", "NA")


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
        Cells as read (text from a text file; text or numbers from a workbook), stripped of
        surrounding whitespace, empty cells and ``NA`` as missing; a date or TRUE/FALSE cell in a
        number column (:data:`NUMERIC`) becomes text saying so, which validation refuses. The
        index, named ``row``, is the spreadsheet row number (the header is row 1); fully empty
        rows are dropped. ``attrs["source"]`` is the :class:`premeta.files.Source` (what was
        detected).

    Raises
    ------
    premeta.errors.ReadError
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
            # fractional n is data (the midpoint of a reported range, a pre-split control), as in
            # metafor's escalc, which refuses only n <= 0; the measure's own rules are in validate
            for row in sheet.index[x <= 0]:
                problems.append(Problem(row, col, raw[row], "must be > 0 (a group of animals)"))
            x = x.where(x > 0)
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


def _smd_defined(sheet: pd.DataFrame, num: pd.DataFrame, summary: pd.Series, problems: list[Problem]) -> None:
    """SMD's rules on the group sizes as typed: Hedges' df :math:`n_t + n_c - 2` must exceed 1
    (the bias correction c(df) is undefined otherwise; metafor's ``.cmicalc`` gives NA) and the
    pooled variance :math:`((n_t-1)s_t^2 + (n_c-1)s_c^2)/(n_t+n_c-2)` must be positive (an n below
    1 weighs its SD negatively). A shared control's split (``shared_control: split``) is
    :func:`premeta.effects.escalc`'s."""

    n_t, n_c = num["trt_n"], num["ctl_n"]
    df = n_t + n_c - 2
    sd_t, sd_c = arm_sd(num, "trt")[0], arm_sd(num, "ctl")[0]
    pooled = (n_t - 1) * sd_t**2 + (n_c - 1) * sd_c**2
    for row in sheet.index[summary & (df <= 1)]:
        rule = (f"Hedges' df = trt_n + ctl_n - 2 = {df[row]:g} must exceed 1 for measure='SMD' (its bias "
                "correction is undefined, as in metafor's escalc)")
        problems.append(Problem(row, "ctl_n", sheet.at[row, "ctl_n"], rule))
    # both 0: validate's own rule
    for row in sheet.index[summary & (df > 1) & (pooled <= 0) & ((sd_t > 0) | (sd_c > 0))]:
        rule = (f"the pooled SD of measure='SMD' is undefined: (trt_n - 1) SD_trt² + (ctl_n - 1) SD_ctl² = "
                f"{pooled[row]:.4g} is not positive (an n below 1 weighs its SD negatively, an n of 1 gives it no "
                "weight)")
        col = "trt_n" if n_t[row] <= n_c[row] else "ctl_n"
        problems.append(Problem(row, col, sheet.at[row, col], rule))


def validate(sheet: pd.DataFrame, file=None, measure: str = "SMD", orient: str = "benefit",
             group_by: str | None = None, convert_medians: bool = False) -> pd.DataFrame:
    """Check an extraction sheet against every rule and report all problems at once.

    Parameters
    ----------
    sheet : DataFrame
        As from :func:`read_sheet`; the index names rows in messages.
    file : str or path-like, optional
        Named in the error message.
    measure : {"SMD", "MD", "ROM", "NMD"}
        Adds the measure's own rules: every n > 0, fractional or not (metafor's ``escalc``); SMD
        needs Hedges' df ``trt_n + ctl_n - 2`` above 1 and a positive pooled variance; NMD needs ``sham_mean``
        different from ``ctl_mean``; ROM needs positive means. For every measure an SD (or SEM) of 0 is accepted
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

    Returns
    -------
    DataFrame
        A copy, same index and row order, all columns kept: the numeric columns (:data:`NUMERIC`)
        as float, ``better`` and ``rob_*`` in lower case; an arm given as a 95% CI has its
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
    median = {arm: given[f"{arm}_median"] & summary for arm in ARMS}  # checked by _medians, not here
    for arm in ("trt", "ctl"):
        # in a sheet of group summaries only, a column it lacks altogether is one problem, not one per row
        absent = {part: not pre.any() and not any(f"{arm}_{c}" in sheet for c in cols)
                  for part, cols in (("mean", ["mean", "median"]), ("n", ["n"]),
                                     ("sd", ["sd", "sem", "ci_low", "ci_high", "median"]))}
        for part, rule in (("mean", f"{arm}_mean"), ("n", f"{arm}_n"), ("sd", f"{arm}_sd or {arm}_sem")):
            if absent[part]:
                problems.append(Problem("-", f"{arm}_{part}", None, f"{rule} is missing: no such column "
                                        "(needed unless every row gives a precomputed yi and vi)"))
        checks = [(f"{arm}_{part}", f"{arm}_{part} is missing", ~given[f"{arm}_{part}"].to_numpy()
                   & ~(median[arm].to_numpy() if part == "mean" else False))
                  for part in ("mean", "n") if not absent[part]]
        if not absent["sd"]:  # a 95% CI with one bound only is _intervals' problem
            checks.append((f"{arm}_sd", f"{arm}_sd or {arm}_sem is missing",
                           ~(given[f"{arm}_sd"] | given[f"{arm}_sem"] | given[f"{arm}_ci_low"]
                             | given[f"{arm}_ci_high"] | median[arm]).to_numpy()))
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

    _intervals(sheet, num, given, problems)
    _medians(sheet, num, given, median, convert_medians, problems)
    # SD 0 in one arm keeps every measure's variance > 0; in both it is 0 (the sham SD is never used)
    zero = {arm: (num[f"{arm}_sd"] == 0) | (num[f"{arm}_sd"].isna() & (num[f"{arm}_sem"] == 0))
            | (num[f"{arm}_sd"].isna() & num[f"{arm}_sem"].isna()
               & (num[f"{arm}_ci_low"] == num[f"{arm}_ci_high"]))  # a CI of width 0
            for arm in ("trt", "ctl")}
    for row in sheet.index[summary & zero["trt"] & zero["ctl"]]:
        col = next(c for c in ("ctl_sd", "ctl_sem", "ctl_ci_high") if given.at[row, c])
        rule = "SD is 0 in both groups (treatment and control): the effect's variance would be 0; check the extraction"
        problems.append(Problem(row, col, sheet.at[row, col], rule))

    if measure == "SMD":
        _smd_defined(sheet, num, summary, problems)

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
    return _converted(out, num, given, median)


def _intervals(sheet: pd.DataFrame, num: pd.DataFrame, given: pd.DataFrame, problems: list[Problem]) -> None:
    """Rules of a 95% CI of the mean given instead of the SD or SEM (:func:`premeta.convert.sd_from_ci`)."""
    for arm in ARMS:
        low, high, mean = f"{arm}_ci_low", f"{arm}_ci_high", f"{arm}_mean"
        for row in sheet.index[given[low] ^ given[high]]:
            col = high if given.at[row, low] else low
            problems.append(Problem(row, col, None, f"the 95% CI of the mean needs both bounds ({low} and {high})"))
        both = given[low] & given[high]
        for row in sheet.index[both & (given[f"{arm}_sd"] | given[f"{arm}_sem"])]:
            problems.append(Problem(row, low, _value(sheet.at[row, low]), "give the SD, the SEM or the 95% CI of "
                                    "the mean, not a CI besides an SD or SEM (keep the one the paper reports)"))
        for row in sheet.index[num[high] < num[low]]:
            problems.append(Problem(row, high, sheet.at[row, high], f"the upper bound is below {low} = "
                                    f"{num.at[row, low]:g}"))
        outside = (num[mean] < num[low]) | (num[mean] > num[high])
        for row in sheet.index[outside & (num[high] >= num[low])]:
            problems.append(Problem(row, mean, sheet.at[row, mean], f"the mean lies outside its 95% CI "
                                    f"({num.at[row, low]:g} to {num.at[row, high]:g}): check the extraction (a CI "
                                    "of the difference, or of the median?)"))


def _medians(sheet: pd.DataFrame, num: pd.DataFrame, given: pd.DataFrame, median: dict[str, pd.Series],
             convert: bool, problems: list[Problem]) -> None:
    """Rules of a median given instead of the mean (:func:`premeta.convert.fivenum`), refused unless ``convert``."""

    for arm in ARMS:
        col = {part: f"{arm}_{part}" for part in PARTS}
        spread = [col[p] for p in ("q1", "q3", "min", "max")]
        alone = given[spread].any(axis=1) & ~given[col["median"]]
        for row in sheet.index[alone]:
            first = next(c for c in spread if given.at[row, c])
            problems.append(Problem(row, first, _value(sheet.at[row, first]), f"quartiles and range go with a median: "
                                    f"{col['median']} is missing"))
        if not convert:
            for row in sheet.index[median[arm]]:
                problems.append(Problem(row, col["median"], sheet.at[row, col["median"]], "a median, not a mean: set "
                                        "`convert_medians: true` in the config to estimate the mean and SD from it "
                                        "and its quartiles and/or range (Luo et al. 2016; Wan et al. 2014; Shi et al. "
                                        "2020), or enter the mean and SD"))
            continue
        mixed = median[arm] & given[[col[p] for p in ("mean", "sd", "sem", "ci_low", "ci_high")]].any(axis=1)
        for row in sheet.index[mixed]:
            problems.append(Problem(row, col["median"], sheet.at[row, col["median"]], "give the mean with its SD, SEM "
                                    "or 95% CI, or the median with its quartiles and/or range, not both (keep one)"))
        ok = median[arm] & ~mixed
        for a, b, what in (("q1", "q3", "quartiles"), ("min", "max", "range")):
            for row in sheet.index[ok & (given[col[a]] ^ given[col[b]])]:
                missing = col[b] if given.at[row, col[a]] else col[a]
                problems.append(Problem(row, missing, None, f"the {what} need both {col[a]} and {col[b]}"))
        pairs = (given[col["q1"]] & given[col["q3"]]) | (given[col["min"]] & given[col["max"]])
        for row in sheet.index[ok & ~given[spread].any(axis=1)]:
            problems.append(Problem(row, col["median"], sheet.at[row, col["median"]], f"a median needs its quartiles "
                                    f"({col['q1']}, {col['q3']}) and/or range ({col['min']}, {col['max']}) to be "
                                    "converted to a mean and SD"))
        order = [col[p] for p in ("min", "q1", "median", "q3", "max")]
        values = num[order]
        unsorted = pd.Series(False, index=sheet.index)
        for row in sheet.index[ok & pairs]:
            present = values.loc[row].dropna()
            if (present.diff().dropna() < 0).any():
                unsorted[row] = True
                problems.append(Problem(row, col["median"], sheet.at[row, col["median"]], "must satisfy min <= q1 <= "
                                        "median <= q3 <= max: "
                                        + ", ".join(f"{c} = {v:g}" for c, v in present.items())))
        n = num[col["n"]]
        small = ok & pairs & (n < MIN_N_FIVENUM)
        for row in sheet.index[small]:
            problems.append(Problem(row, col["n"], sheet.at[row, col["n"]], f"a median is converted only for groups of "
                                    f"{MIN_N_FIVENUM} or more animals (as metafor's conv.fivenum): enter the mean and "
                                    "SD, or leave the row out"))
        for a, b, what in (("q1", "q3", "interquartile range"), ("min", "max", "range")):
            for row in sheet.index[ok & pairs & ~unsorted & (num[col[a]] == num[col[b]])]:
                problems.append(Problem(row, col[b], sheet.at[row, col[b]], f"the {what} is 0 ({col[a]} = {col[b]}): "
                                        "no SD can be estimated from it (a floor or ceiling effect is no normal "
                                        "sample)"))
        test = (ok & pairs & ~unsorted & ~small & (num[col["q1"]] != num[col["q3"]])
                & (num[col["min"]] != num[col["max"]]))
        stat, crit = skewness(n, num[col["median"]], num[col["q1"]], num[col["q3"]], num[col["min"]], num[col["max"]])
        for i in np.flatnonzero(test.to_numpy() & (stat >= crit)):
            row = sheet.index[i]
            problems.append(Problem(row, col["median"], sheet.at[row, col["median"]], f"too skewed for a mean and SD: "
                                    f"skewness test statistic {stat[i]:.3g} >= {crit[i]:.3g}, its critical value for "
                                    f"n = {n.iloc[i]:g} (Shi et al. 2023, as metafor's conv.fivenum with test = TRUE); "
                                    "leave the row out, or ask the authors for the mean and SD"))


def _converted(out: pd.DataFrame, num: pd.DataFrame, given: pd.DataFrame, median: dict[str, pd.Series]) -> pd.DataFrame:
    """The checked sheet with every arm's mean and SD filled in from its CI or median (:mod:`premeta.convert`),
    and ``converted``: each converted arm and how (``trt:ci;ctl:median_iqr``; :data:`premeta.convert.KINDS`)."""

    kinds = []
    for arm in ARMS:
        col = {part: f"{arm}_{part}" for part in PARTS}
        kind = pd.Series("", index=out.index, dtype=object)
        kind[num[col["sd"]].isna() & num[col["sem"]].notna()] = "sem"
        ci = num[col["sd"]].isna() & num[col["sem"]].isna() & num[col["ci_low"]].notna()
        if ci.any():
            out[col["sd"]] = num[col["sd"]].where(~ci, sd_from_ci(num[col["ci_low"]], num[col["ci_high"]],
                                                                   num[col["n"]]))
            kind[ci] = "ci"
        if median[arm].any():
            mean, sd = fivenum(num[col["n"]], num[col["median"]], num[col["q1"]], num[col["q3"]], num[col["min"]],
                               num[col["max"]])
            out[col["mean"]] = num[col["mean"]].where(~median[arm], mean)
            out[col["sd"]] = out.get(col["sd"], num[col["sd"]]).where(~median[arm], sd)
            iqr, rng = num[col["q1"]].notna(), num[col["min"]].notna()
            kind[median[arm]] = np.select([iqr & rng, iqr], ["median_iqr_range", "median_iqr"],
                                          "median_range")[median[arm]]
        kinds.append(kind.map(lambda k, a=arm: f"{a}:{k}" if k else ""))
    out["converted"] = pd.concat(kinds, axis=1).apply(lambda r: ";".join(x for x in r if x), axis=1)
    return out
