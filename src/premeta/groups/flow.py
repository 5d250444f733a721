"""The flow of records: from the search (when the reviewer gives its counts) through the rows of the
sheet to the comparisons analysed in every group, each exclusion with its reason and count, as a
PRISMA 2020 flow diagram reports it (Page et al. 2021, *BMJ* 372:n71; Haddaway et al. 2022,
*Campbell Syst Rev* 18:e1230).

:func:`read_prisma_counts` reads the search and screening counts in the format of the PRISMA2020 R
package's template (``PRISMA.csv``); :func:`flow_table` joins them to what the workflow did with
the sheet: the rows a SyRF export or a one-row-per-group sheet set aside while pairing
(``pairing.csv``, :func:`premeta.pairing.pair`), the comparisons :func:`premeta.escalc` left
without an effect size (``omitted``), and the comparisons of each group of the primary analysis
(``primary.csv``, :func:`premeta.groups.pooling.primary`). Nothing else is set aside by the
workflow: a sheet with any other problem is refused whole (:func:`premeta.sheet.validate`), and
suspicious values are flagged, never left out (:mod:`premeta.flags`).
"""

from __future__ import annotations

import re

import pandas as pd

from premeta.errors import Problem, ReadError
from premeta.files import header_key, read_table
from premeta.vocabulary import group_labels, plural

#: The columns of ``flow.csv`` (:func:`flow_table`).
FLOW_COLUMNS = ["stage", "step", "label", "count", "unit", "reason", "group"]
#: The stages, in the order of the diagram: PRISMA 2020's three, then the sheet and the analysis.
STAGES = ("identification", "screening", "included", "sheet", "analysis")

#: The ``data`` names of the PRISMA2020 package's template (``inst/extdata/PRISMA.csv``, read by its
#: ``PRISMA_data``): each one's stage, unit and default box text (the template's ``boxtext``; the
#: sources of records are listed under "Records identified from:", as in its diagram).
PRISMA_DATA = {
    "previous_studies": ("identification", "studies", "Studies included in previous version of review"),
    "previous_reports": ("identification", "reports", "Reports of studies included in previous version of review"),
    "database_results": ("identification", "records", "Databases"),
    "database_specific_results": ("identification", "records", "Databases"),
    "register_results": ("identification", "records", "Registers"),
    "register_specific_results": ("identification", "records", "Registers"),
    "website_results": ("identification", "records", "Websites"),
    "organisation_results": ("identification", "records", "Organisations"),
    "citations_results": ("identification", "records", "Citation searching"),
    "duplicates": ("identification", "records", "Duplicate records"),
    "excluded_automatic": ("identification", "records", "Records marked as ineligible by automation tools"),
    "excluded_other": ("identification", "records", "Records removed for other reasons"),
    "records_screened": ("screening", "records", "Records screened"),
    "records_excluded": ("screening", "records", "Records excluded"),
    "dbr_sought_reports": ("screening", "reports", "Reports sought for retrieval"),
    "dbr_notretrieved_reports": ("screening", "reports", "Reports not retrieved"),
    "dbr_assessed": ("screening", "reports", "Reports assessed for eligibility"),
    "dbr_excluded": ("screening", "reports", "Reports excluded"),
    "other_sought_reports": ("screening", "reports", "Reports sought for retrieval via other methods"),
    "other_notretrieved_reports": ("screening", "reports", "Reports not retrieved via other methods"),
    "other_assessed": ("screening", "reports", "Reports assessed for eligibility via other methods"),
    "other_excluded": ("screening", "reports", "Reports excluded via other methods"),
    "new_studies": ("included", "studies", "New studies included in review"),
    "new_reports": ("included", "reports", "Reports of new included studies"),
    "total_studies": ("included", "studies", "Total studies included in review"),
    "total_reports": ("included", "reports", "Reports of total included studies"),
    "total_studies_ma": ("included", "studies", "Total studies included in meta-analysis"),
    "total_reports_ma": ("included", "reports", "Reports of total included studies in meta-analysis"),
}
#: The counts given as "reason, n; reason, n" (or one number) in the template's ``n`` column.
PRISMA_REASONS = ("database_specific_results", "register_specific_results", "dbr_excluded", "other_excluded")
#: The ``data`` of the template's stage titles (the other title boxes have ``data`` empty, ``NA``): no count.
PRISMA_TITLES = ("identification", "screening", "included")
COUNT_COLUMNS = ["data", "label", "reason", "n"]
_NUMBER = re.compile(r"\d{1,3}(,\d{3})+|\d+")

#: What :func:`premeta.pairing.pair` wrote in ``pairing.csv``'s ``detail`` for each row it set aside,
#: as one reason a reader of the flow understands: ``(status, pattern of detail, reason)``; the
#: pattern's groups fill the reason's ``{}``.
SET_ASIDE = (
    ("excluded", r"the average is a (\w+)", "the average is a {}, not a mean"),
    ("excluded", r"the error is an IQR", "the error is an IQR (one number: the quartiles are needed)"),
    ("excluded", r"error type '(.*?)' is not one premeta reads", "error type '{}' is not SD, SEM or SE"),
    ("unpaired", r"\d+ candidate controls", "several candidate controls: not paired"),
    ("unpaired", r"no control cohort for this outcome and time", "no control cohort at its outcome and time"),
    ("not used", r"a sham \(no disease model\) cohort given the treatment", "sham cohort given the treatment"),
    ("not used", r"no comparison made at this outcome and time", "sham cohort: no comparison at its outcome and time"),
    ("not used", r"\d+ sham cohorts here", "several sham cohorts at one outcome and time: none used"),
    ("not used", r"no treated cohort for this outcome and time", "control cohort: no treated cohort at its outcome "
                                                                  "and time"),
)
#: The rows :func:`premeta.pairing.pair` used: status -> (step, label).
#: A control shared by several treated cohorts is one row (one cohort); a sham gives the sham arm (``sham_*``).
USED = {"paired": ("rows_treated", "Treated cohorts, each paired with a control"),
        "control": ("rows_control", "Control cohorts"),
        "sham": ("rows_sham", "Sham cohorts")}
#: What a row of the sheet is, by format.
ROWS = {"wide": "Rows of the sheet (one comparison each)",
        "long": "Rows of the sheet (one group of animals each)",
        "syrf": "Rows of the SyRF export (one cohort, outcome and time point each)"}


def read_prisma_counts(path) -> pd.DataFrame:
    """The search and screening counts of a PRISMA 2020 flow diagram, from the PRISMA2020 package's CSV.

    Parameters
    ----------
    path : str or path-like
        A table (CSV, or a workbook) in the format of the template of the PRISMA2020 R package
        (``system.file("extdata", "PRISMA.csv", package = "PRISMA2020")``): columns ``data``,
        ``node``, ``box``, ``description``, ``boxtext``, ``tooltips``, ``url``, ``n``, of which
        only ``data`` and ``n`` are required (``boxtext``, when given, is the box's text). One row
        per count, ``data`` naming it (:data:`PRISMA_DATA`: ``database_results``, ``duplicates``,
        ``records_screened``, ``records_excluded``, ``dbr_assessed``, ``dbr_excluded``,
        ``new_studies``...); ``n`` a whole number (``1,234`` allowed), empty or ``NA`` for a box
        not drawn. ``dbr_excluded``, ``other_excluded``, ``database_specific_results`` and
        ``register_specific_results`` take ``reason, n; reason, n`` (or one number), as
        ``PRISMA_data`` reads them. The template's title rows (``data`` empty, ``NA`` or
        :data:`PRISMA_TITLES`) are skipped.

    Returns
    -------
    DataFrame
        ``data``, ``label`` (``boxtext``, else the template's), ``reason`` (``""`` but for the
        counts with reasons), ``n`` (int); one row per count (per reason), in the file's order.

    Raises
    ------
    premeta.errors.ReadError
        A file that cannot be read, a missing column, and every row's problem at once: a ``data``
        name the template does not have or given twice, an ``n`` that is not a whole number >= 0, a
        reason without its count, naming the file, row, column and value.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from premeta.groups.flow import read_prisma_counts
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "prisma.csv"
    >>> _ = path.write_text("data,n\\ndatabase_results,1204\\nduplicates,310\\n"
    ...                     "dbr_excluded,\\"Not in rodents, 40; No control group, 12\\"\\n")
    >>> read_prisma_counts(path)
                   data                              label            reason     n
    0  database_results          Databases                    1204
    1        duplicates  Duplicate records                     310
    2      dbr_excluded   Reports excluded    Not in rodents    40
    3      dbr_excluded   Reports excluded  No control group    12

    Notes
    -----
    The format is that of Haddaway et al. (2022), *Campbell Systematic Reviews* 18:e1230, whose
    R package draws PRISMA 2020 diagrams (``PRISMA_flowdiagram(PRISMA_data(read.csv(path)))``).
    Counts, not estimates: metafor has no equivalent.
    """
    header, rows, _ = read_table(path, known={"data", "n", "boxtext"})
    names = [header_key(h) for h in header]
    missing = [c for c in ("data", "n") if c not in names]
    if missing:
        raise ReadError(path, f"the PRISMA 2020 counts need the column{'s' if len(missing) > 1 else ''} "
                              f"{' and '.join(missing)} (the PRISMA2020 package's template: data, node, box, "
                              "description, boxtext, tooltips, url, n)")
    at = {c: names.index(c) for c in ("data", "n", "boxtext") if c in names}
    problems, out, seen = [], [], {}
    for r, cells in enumerate(rows, start=2):
        data = _cell(cells[at["data"]])
        if data is None or data in PRISMA_TITLES:
            continue  # a title box of the template
        n = _cell(cells[at["n"]])
        text = _cell(cells[at["boxtext"]]) if "boxtext" in at else None
        if data not in PRISMA_DATA:
            problems.append(Problem(r, "data", data, "is not a name of the PRISMA2020 template: one of "
                                    + ", ".join(PRISMA_DATA)))
            continue
        if data in seen:
            problems.append(Problem(r, "data", data, f"is given twice (first in row {seen[data]}): keep one"))
            continue
        seen[data] = r
        if n is None:
            continue  # a box the review does not have
        label = text or PRISMA_DATA[data][2]
        if data in PRISMA_REASONS and not _NUMBER.fullmatch(n):
            for part in filter(None, (p.strip() for p in n.split(";"))):
                reason, _, count = part.partition(",")
                if not _NUMBER.fullmatch(count.strip()):
                    problems.append(Problem(r, "n", n, f"the count of {reason.strip()!r} is "
                                            + (f"{count.strip()!r}, not a whole number" if count.strip()
                                               else "missing") + ": write 'reason, n; reason, n'"))
                    continue
                out.append((data, label, reason.strip(), int(count.strip().replace(",", ""))))
        elif _NUMBER.fullmatch(n):
            out.append((data, label, "", int(n.replace(",", ""))))
        else:
            problems.append(Problem(r, "n", n, "must be a whole number >= 0 (or empty for a box not drawn)"
                                    + ("; or 'reason, n; reason, n'" if data in PRISMA_REASONS else "")))
    if problems:
        raise ReadError(path, f"{plural(len(problems), 'problem')} in the PRISMA 2020 counts:\n"
                        + "\n".join(f"  {p}" for p in problems))
    return pd.DataFrame(out, columns=COUNT_COLUMNS).astype({"n": int})


def _cell(value) -> str | None:
    """A cell as text, stripped; None when empty or ``NA`` (R's missing)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    return None if text in ("", "NA") else text


def flow_table(effects: pd.DataFrame, primary: pd.DataFrame, group_by: str, pairing: pd.DataFrame | None = None,
               format: str = "wide", counts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every step from the search to the comparisons analysed per group, with every exclusion's reason and count.

    Parameters
    ----------
    effects : DataFrame
        ``effect_sizes.csv`` with the rows left without an effect size
        (:func:`premeta.groups.common.read_effects` with ``omitted=True``): one row per comparison,
        ``study``, the ``group_by`` column and ``omitted``.
    primary : DataFrame
        ``primary.csv`` (:func:`premeta.groups.pooling.primary`): ``group``, ``k``, ``studies``,
        ``estimate``, ``note``; one row per group, then the overall row.
    group_by : str
        The grouping column of the run.
    pairing : DataFrame, optional
        ``pairing.csv`` of a SyRF export or a one-row-per-group sheet (:func:`premeta.pairing.pair`):
        ``row``, ``study``, ``status``, ``detail``. None for a one-row-per-comparison sheet.
    format : {"wide", "long", "syrf"}
        The sheet's format (what one row of it is).
    counts : DataFrame, optional
        The search and screening counts (:func:`read_prisma_counts`); None when not given.

    Returns
    -------
    DataFrame
        One row per step (:data:`FLOW_COLUMNS`), in the order of the diagram:

        - ``stage``: ``identification``, ``screening``, ``included`` (the counts given), ``sheet``,
          ``analysis``;
        - ``step``: the PRISMA2020 ``data`` name of a count given, else premeta's:
          ``sheet_rows``, ``sheet_studies``, ``rows_set_aside`` (one per reason; SyRF export and
          long sheet), ``rows_treated``, ``rows_control``, ``rows_sham``, ``comparisons``,
          ``comparisons_set_aside`` (one per reason), ``comparisons_analysed``,
          ``studies_analysed``, ``group_comparisons`` and ``group_studies`` (one each per group);
        - ``label``: the box's words; ``count``; ``unit``: ``records``, ``reports``, ``studies``,
          ``rows`` or ``comparisons``;
        - ``reason``: why the rows were set aside (``*_set_aside``, the reasons of
          ``dbr_excluded``...), or why a group's model was not computed (``group_comparisons``);
          ``""`` otherwise;
        - ``group``: the group's label (``group_*``), ``""`` otherwise.

        The rows of the sheet equal the rows set aside plus those used (treated, control, sham),
        the treated rows the comparisons (a one-row-per-comparison sheet: its rows), and the
        comparisons those set aside plus those analysed, the sum of the groups' ``k``.

    Raises
    ------
    ValueError
        Inputs that do not describe one run (counts that do not add up), or a pairing reason
        this function does not know (:data:`SET_ASIDE`): a bug, never the reviewer's.

    Examples
    --------
    >>> import pandas as pd
    >>> from premeta.groups.flow import flow_table
    >>> effects = pd.DataFrame({"study": ["A", "A", "B"], "mechanism": ["x", "y", "y"],
    ...                         "omitted": [None, None, None]})
    >>> primary = pd.DataFrame({"group": ["x", "y", "overall"], "k": [1, 2, 3], "studies": [1, 2, 2],
    ...                         "estimate": [0.2, 0.4, 0.3], "note": ["", "", ""]})
    >>> flow_table(effects, primary, "mechanism")[["step", "count", "unit", "group"]]
                       step  count         unit group
    0            sheet_rows      3         rows
    1         sheet_studies      2      studies
    2           comparisons      3  comparisons
    3  comparisons_analysed      3  comparisons
    4      studies_analysed      2      studies
    5     group_comparisons      1  comparisons     x
    6         group_studies      1      studies     x
    7     group_comparisons      2  comparisons     y
    8         group_studies      2      studies     y

    Notes
    -----
    The boxes of PRISMA 2020 (Page et al. 2021, *BMJ* 372:n71, Figure 1) for new reviews, with the
    counts of the PRISMA2020 package's CSV (Haddaway et al. 2022); below them the sheet's rows and
    the comparisons, which PRISMA leaves to the review. metafor has no equivalent.
    """
    if format not in ROWS:
        raise ValueError(f"format must be one of {', '.join(ROWS)}, got {format!r}")
    if (pairing is None) != (format == "wide"):
        raise ValueError("a SyRF export or a long sheet needs its pairing table; a wide sheet has none")
    out = []

    def add(stage, step, label, count, unit, reason="", group=""):
        out.append((stage, step, label, int(count), unit, reason, group))

    for c in (counts if counts is not None else pd.DataFrame(columns=COUNT_COLUMNS)).itertuples(index=False):
        stage, unit, _ = PRISMA_DATA[c.data]
        add(stage, c.data, c.label, c.n, unit, c.reason)

    omitted = effects["omitted"].astype("string").fillna("") if "omitted" in effects else pd.Series("", effects.index)
    if pairing is None:
        add("sheet", "sheet_rows", ROWS[format], len(effects), "rows")
        add("sheet", "sheet_studies", "Studies in the sheet", effects["study"].nunique(), "studies")
    else:
        add("sheet", "sheet_rows", ROWS[format], len(pairing), "rows")
        add("sheet", "sheet_studies", "Studies in the sheet", pairing["study"].nunique(), "studies")
        aside = pairing[~pairing["status"].isin(list(USED))]
        for reason, n in _by_count(_reasons(aside)):
            add("sheet", "rows_set_aside", "Rows set aside", n, "rows", reason)
        for status, (step, label) in USED.items():
            if n := int((pairing["status"] == status).sum()):
                add("sheet", step, label, n, "rows")
        if (treated := int((pairing["status"] == "paired").sum())) != len(effects):
            raise ValueError(f"the pairing table pairs {treated} treated rows, the effect sizes have "
                             f"{len(effects)} comparisons: not one run")
    add("analysis", "comparisons", "Comparisons (treatment vs control)", len(effects), "comparisons")
    for reason, n in _by_count(omitted[omitted != ""].map(_omitted)):
        add("analysis", "comparisons_set_aside", "Comparisons left out of every model", n, "comparisons", reason)

    analysed = effects[omitted == ""]
    groups = primary.iloc[:-1]
    have = group_labels(analysed, group_by).value_counts()
    k = pd.to_numeric(groups["k"]).astype(int).to_numpy()
    if dict(zip(groups["group"].astype(str), k)) != {str(g): int(n) for g, n in have.items()}:
        raise ValueError("the comparisons per group of primary.csv are not those of effect_sizes.csv: not one run")
    overall = primary.iloc[-1]
    add("analysis", "comparisons_analysed", f"Comparisons analysed, by {group_by}", len(analysed), "comparisons")
    add("analysis", "studies_analysed", "Studies analysed", overall["studies"], "studies")
    notes = groups["note"].astype("string").fillna("") if "note" in groups else pd.Series("", groups.index)
    pooled = pd.to_numeric(groups["estimate"]).notna()
    for g, kg, studies, note, ok in zip(groups["group"], k, groups["studies"], notes, pooled):
        add("analysis", "group_comparisons", str(g), kg, "comparisons", "" if ok else _not_pooled(note), str(g))
        add("analysis", "group_studies", str(g), studies, "studies", "", str(g))
    return pd.DataFrame(out, columns=FLOW_COLUMNS)


def _by_count(reasons: pd.Series) -> list[tuple[str, int]]:
    """``(reason, rows)`` of each reason, the most frequent first (ties in the order they first appear)."""
    counts = reasons.value_counts(sort=False)
    return sorted(counts.items(), key=lambda item: -item[1])


def _reasons(aside: pd.DataFrame) -> pd.Series:
    """The reason (:data:`SET_ASIDE`) of each row of ``pairing.csv`` that :func:`premeta.pairing.pair` set aside."""
    out = pd.Series("", index=aside.index, dtype=object)
    for i, status, detail in zip(aside.index, aside["status"], aside["detail"].fillna("").astype(str)):
        match = next(((m, reason) for s, pattern, reason in SET_ASIDE if s == status
                      and (m := re.match(pattern, detail))), None)
        if match is None:
            raise ValueError(f"pairing row {aside.at[i, 'row']}: status {status!r} with detail {detail!r} is not "
                             "one the flow of records knows (premeta.groups.flow.SET_ASIDE)")
        out[i] = match[1].format(*match[0].groups())
    return out


def _omitted(text: str) -> str:
    """The reason of :func:`premeta.escalc`'s ``omitted`` in a few words."""
    if m := re.match(r"(\w+) undefined: the control group .* split among", text):
        return f"{m[1]} undefined: a shared control split among its comparisons leaves too few animals"
    raise ValueError(f"an omitted comparison's reason {text!r} is not one the flow of records knows")


def _not_pooled(note: str) -> str:
    """A group's primary-model note, where the model was not computed."""
    said = [part.strip() for part in note.split(";") if part.strip().startswith("not computed")]
    return said[0] if said else (note or "not pooled")
