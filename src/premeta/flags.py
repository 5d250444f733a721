"""Suspicious values in an extraction sheet: flagged, never refused.

Data extraction errors are common in meta-analyses of standardised mean differences (Gøtzsche et
al. 2007, *JAMA* 298:430), and an SEM taken for an SD is the commonest of them (Kadlec et al. 2023,
*Sports Med*, doi:10.1007/s40279-022-01766-0, found it behind most SMDs above 3 in the meta-analyses
they checked).
The checks below look for the patterns such errors leave. Each names the spreadsheet rows it
suspects; every row stays in the analysis (the multiverse's inclusion rule ``no_flagged``,
:mod:`premeta.groups.multiverse_analysis`, shows what leaving them out would change).

Rules (:data:`RULES`):

* ``sd_maybe_sem``: every arm whose dispersion was typed as an SD has a coefficient of variation
  (SD / mean) no larger than ``m / sqrt(n)``, ``m`` the median CV of the same outcome in at least
  :data:`MIN_STUDIES` other studies, ``n`` the arm's size: the SD is no larger than the SEM of the
  outcome's typical SD would be. It must also be below the :data:`SD_QUANTILE` quantile of the
  SD of ``n`` animals drawn with that typical SD, ``m * sqrt(chi2_{n-1}(0.05) / (n - 1))``:
  an SD of 2 or 3 animals is too noisy to tell from an SEM (the bound is then far lower). If the
  value is an SEM, the SD is ``sqrt(n)`` times larger and Hedges' g ``sqrt(n)`` times smaller.
* ``control_differs``: rows sharing one control group (same ``study``, ``control_group``,
  ``outcome`` and ``time``: the shared-control split of :func:`premeta.escalc`) give it different
  means, SDs or n.
* ``identical_treatment``: two or more rows of one study and outcome give the treatment group the
  same mean, SD and n: a copy-paste, or one treatment group compared twice (its animals counted
  twice).
* ``cohort_n_varies``: the rows of one cohort at one time in one tissue (same ``study``,
  ``cohort``, ``time`` and ``tissue``, those of these columns the sheet has) give the treatment
  group different n. Animals lost between time points, or a subset sampled for one tissue, are a
  design, so only rows measuring the same animals at once are expected to share n.
* ``label_spellings``: one ``study``, ``outcome`` or ``mechanism`` (in the sheet), ``control_group``
  or ``cohort`` (within a study) spelled two ways that differ only in case or blanks
  (``Smith 2019``, ``smith  2019``): read as two studies, outcomes, groups, controls or cohorts.
  The one-row-per-group formats refuse it (:mod:`premeta.pairing`), as pairing hinges on it; here
  it may be meant (two studies can share a label but for case), so it is flagged.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from premeta import distributions as dist
from premeta.convert import arm_sd
from premeta.effects import smd

#: Each rule's name and its wording (the report's and ``flags.csv``'s).
RULES = {
    "sd_maybe_sem": "an SD that is probably an SEM: the SD of each group is no larger than the SEM of the "
                    "outcome's typical SD (its median coefficient of variation, SD/mean, in other studies, "
                    "divided by the square root of the group's n) and below 95% of the SDs such groups would show",
    "control_differs": "one control group (same study, control group, outcome and time) given different "
                       "means, SDs or n on different rows",
    "identical_treatment": "the same treatment mean, SD and n on several rows of one study and outcome: a "
                           "copy-paste, or one treatment group compared twice (its animals counted twice)",
    "cohort_n_varies": "one cohort (same study, cohort, time and tissue) with different treatment n on different "
                       "rows",
    "label_spellings": "one label spelled two ways that differ only in case or blanks ('Smith 2019', 'smith  2019'): "
                       "read as two studies, outcomes, groups of mechanism, control groups or cohorts",
}
#: Columns of :func:`flags`.
FLAG_COLUMNS = ["rule", "rows", "study", "detail"]
#: ``sd_maybe_sem`` needs the outcome's CV in at least this many other studies.
MIN_STUDIES = 3
#: ``sd_maybe_sem``: an SD must also be below this quantile of the SD of n animals with the outcome's typical SD.
SD_QUANTILE = 0.05
#: ``label_spellings``: the labels compared in the whole sheet, and within a study.
LABELS = ("study", "outcome", "mechanism")
LABELS_WITHIN_STUDY = ("control_group", "cohort")
#: blanks spreadsheets and web pages put in labels: no-break, figure and narrow no-break spaces, tabs, newlines
BLANKS = re.compile(r"[\s\u00a0\u2007\u202f]+")
ARM_WORDS = {"trt": "treatment", "ctl": "control"}


def _num(frame: pd.DataFrame, col: str) -> pd.Series:
    if col in frame:
        return pd.to_numeric(frame[col], errors="coerce").astype(float)
    return pd.Series(np.nan, index=frame.index)


def _text(frame: pd.DataFrame, cols) -> pd.Series:
    """The columns joined into one key per row ("" for a missing cell)."""
    if frame.empty:  # agg of no rows is a frame, not a series
        return pd.Series(index=frame.index, dtype="string")
    return frame[list(cols)].astype("string").fillna("").agg("\x1f".join, axis=1)


def _g(x) -> str:
    return f"{x:.4g}"


def _say(value) -> str:
    """A label as the detail quotes it: text in quotes, a number as typed (``7``, not ``7.0``)."""
    return _g(value) if isinstance(value, (int, float, np.number)) else repr(value)


def _rows(index) -> str:
    return ", ".join(map(str, index))


def _summaries(effects: pd.DataFrame) -> pd.Series:
    """Rows with group summaries (not a precomputed ``yi``)."""
    return _num(effects, "yi").isna() if "measure" not in effects else effects["measure"] != "precomputed"


def _bound(n: float) -> float:
    """The largest CV, as a share of the typical one, that reads as an SEM for a group of n."""
    return min(1 / np.sqrt(n), np.sqrt(dist.chi2_ppf(SD_QUANTILE, n - 1) / (n - 1)))


def _sd_maybe_sem(effects: pd.DataFrame, summary: pd.Series):
    if "outcome" not in effects:
        return
    arms = {}
    for arm in ARM_WORDS:
        sd, from_sem = arm_sd(effects, arm)
        mean, n = _num(effects, f"{arm}_mean"), _num(effects, f"{arm}_n")
        cv = (sd / mean).where(summary & (mean > 0) & (sd > 0))
        arms[arm] = {"sd": sd, "mean": mean, "n": n, "cv": cv, "typed": sd.notna() & ~from_sem}
    cvs = pd.concat([pd.DataFrame({"study": effects["study"], "outcome": effects["outcome"], "cv": a["cv"]})
                     for a in arms.values()]).dropna()
    for outcome, rows in effects[summary].groupby("outcome", sort=False):
        pool = cvs[cvs["outcome"] == outcome]
        # arrays, not a filtered frame per study: linear in the rows of a large sheet, not quadratic
        pool_study, pool_cv = pool["study"].to_numpy(object), pool["cv"].to_numpy(float)
        n_studies = len(set(pool_study))
        for study, own in rows.groupby("study", sort=False):
            mine = pool_study == study
            n_others = n_studies - bool(mine.any())
            if n_others < MIN_STUDIES:
                continue
            typical = float(np.median(pool_cv[~mine]))
            for row in own.index:
                checked = [a for a in ARM_WORDS if arms[a]["typed"][row] and pd.notna(arms[a]["cv"][row])]
                bound = {a: typical * _bound(arms[a]["n"][row]) for a in checked}
                if not checked or any(arms[a]["cv"][row] > bound[a] for a in checked):
                    continue
                said = "; ".join(f"{ARM_WORDS[a]} SD {_g(arms[a]['sd'][row])} (CV {arms[a]['cv'][row]:.3f}, n "
                                 f"{arms[a]['n'][row]:g}, at most {bound[a]:.3f})" for a in checked)
                trt, ctl = arms["trt"], arms["ctl"]
                scale = {a: np.sqrt(arms[a]["n"][row]) if a in checked else 1.0 for a in ARM_WORDS}
                with np.errstate(all="ignore"):
                    g = smd(trt["mean"][row], trt["sd"][row], trt["n"][row], ctl["mean"][row], ctl["sd"][row],
                            ctl["n"][row])[0]
                    g_sem = smd(trt["mean"][row], trt["sd"][row] * scale["trt"], trt["n"][row], ctl["mean"][row],
                                ctl["sd"][row] * scale["ctl"], ctl["n"][row])[0]
                yield ("sd_maybe_sem", [row], study,
                       f"outcome {outcome!r}: {said}, against a median CV of {typical:.3f} in "
                       f"{n_others} other studies; read as SEMs, Hedges' g (raw) would be "
                       f"{g_sem:.2f} instead of {g:.2f}")


def _control_differs(effects: pd.DataFrame, summary: pd.Series):
    if "control_group" not in effects:
        return
    keys = [c for c in ("study", "control_group", "outcome", "time") if c in effects]
    values = {word: _num(effects, f"ctl_{col}") for word, col in
              (("mean", "mean"), ("SD", "sd"), ("SEM", "sem"), ("n", "n")) if f"ctl_{col}" in effects}
    shared = effects[summary & effects["control_group"].notna()]
    for _, rows in shared.groupby(_text(shared, keys), sort=False):
        if len(rows) < 2:
            continue
        differ = []
        for word, v in values.items():
            v = v[rows.index]
            if v.nunique(dropna=False) > 1:
                by = v.groupby(v.astype("string").fillna("missing"), sort=False)
                differ.append(f"{word} " + "; ".join(f"{_g(x) if pd.notna(x) else 'missing'} on row"
                                                     f"{'s' * (len(ix) > 1)} {_rows(ix)}"
                                                     for x, ix in ((v[i[0]], i) for i in by.groups.values())))
        if differ:
            where = ", ".join(f"{c} {_say(rows[c].iloc[0])}" for c in keys[2:] if pd.notna(rows[c].iloc[0]))
            yield ("control_differs", list(rows.index), rows["study"].iloc[0],
                   f"control group {_say(rows['control_group'].iloc[0])} ({where}): " + "; ".join(differ))


def _identical_treatment(effects: pd.DataFrame, summary: pd.Series):
    if "outcome" not in effects:
        return
    arm = pd.DataFrame({"mean": _num(effects, "trt_mean"), "sd": arm_sd(effects, "trt")[0],
                        "n": _num(effects, "trt_n")})
    ok = summary & arm.notna().all(axis=1)
    key = _text(effects[ok], ["study", "outcome"]) + "\x1f" + _text(arm[ok], ["mean", "sd", "n"])
    for _, rows in effects[ok].groupby(key, sort=False):
        if len(rows) < 2:
            continue
        a = arm.loc[rows.index[0]]
        labels = ""
        if "comparison" in rows and rows["comparison"].notna().all():
            labels = f" (comparisons {', '.join(map(repr, rows['comparison']))})"
        yield ("identical_treatment", list(rows.index), rows["study"].iloc[0],
               f"outcome {rows['outcome'].iloc[0]!r}: rows {_rows(rows.index)}{labels} give the treatment group "
               f"mean {_g(a['mean'])}, SD {_g(a['sd'])} and n {a['n']:g}")


def _cohort_n_varies(effects: pd.DataFrame, summary: pd.Series):
    if "cohort" not in effects:
        return
    n = _num(effects, "trt_n")
    ok = summary & effects["cohort"].notna() & n.notna()
    keys = [c for c in ("study", "cohort", "time", "tissue") if c in effects]
    for _, rows in effects[ok].groupby(_text(effects[ok], keys), sort=False):
        sizes = n[rows.index]
        if sizes.nunique() < 2:
            continue
        said = "; ".join(f"n {x:g} on row{'s' * (len(ix) > 1)} {_rows(ix)}"
                         for x, ix in sizes.groupby(sizes, sort=True).groups.items())
        yield ("cohort_n_varies", list(rows.index), rows["study"].iloc[0],
               f"cohort {_say(rows['cohort'].iloc[0])}" + "".join(f", {c} {_say(rows[c].iloc[0])}" for c in keys[2:]
                                                                if pd.notna(rows[c].iloc[0])) + f": treatment {said}")


def _label_spellings(effects: pd.DataFrame, summary: pd.Series):
    for col in LABELS + LABELS_WITHIN_STUDY:
        if col not in effects or (col in LABELS_WITHIN_STUDY and "study" not in effects):
            continue
        labels = effects[col].dropna()
        labels = labels[labels.map(lambda v: isinstance(v, str))]
        folded = labels.map(lambda v: BLANKS.sub(" ", v).strip().casefold())
        keys = [effects.loc[labels.index, "study"].astype(str), folded] if col in LABELS_WITHIN_STUDY else folded
        for _, rows in labels.groupby(keys, sort=False):
            counts = rows.value_counts(sort=False)  # in the order of the sheet
            if len(counts) < 2:
                continue
            usual = counts.idxmax()  # the most rows; the first of a tie
            odd = rows.index[rows != usual]
            said = "; ".join(f"{v!r} on row{'s' if n > 1 else ''} {_rows(rows.index[rows == v])} ({_how(v, usual)})"
                             for v, n in counts.items() if v != usual)
            first = rows.index[rows == usual][0]
            more = f" and {counts[usual] - 1} more" if counts[usual] > 1 else ""
            yield ("label_spellings", list(odd), effects.at[odd[0], "study"] if "study" in effects else None,
                   f"{col} {said}: differs only in case or blanks from {usual!r} (row {first}{more})")


def _how(spelled: str, usual: str) -> str:
    """How two spellings of one label differ: ``case``, ``blanks`` or ``case and blanks``."""
    if spelled.casefold() == usual.casefold():
        return "case"
    return "blanks" if BLANKS.sub(" ", spelled).strip() == BLANKS.sub(" ", usual).strip() else "case and blanks"


def _hits(effects: pd.DataFrame):
    summary = _summaries(effects)
    for rule in (_sd_maybe_sem, _control_differs, _identical_treatment, _cohort_n_varies, _label_spellings):
        yield from rule(effects, summary)


def flags(effects: pd.DataFrame) -> pd.DataFrame:
    """Every suspicious pattern in the sheet, one row per flag (the module docstring gives the rules).

    Parameters
    ----------
    effects : pandas.DataFrame
        Output of :func:`premeta.escalc` (or the checked sheet it was computed from: only the sheet's
        columns are read). Its index names the rows (the spreadsheet row numbers in the workflow).
        Rows with a precomputed ``yi`` have no group summaries to check.

    Returns
    -------
    pandas.DataFrame
        :data:`FLAG_COLUMNS`: ``rule`` (a key of :data:`RULES`), ``rows`` (the rows it names, e.g.
        ``"4, 9"``), ``study`` and ``detail`` (the values that raised it), in the order of
        :data:`RULES`, then of the sheet. Empty when nothing is suspicious. A flag refuses nothing.

    Notes
    -----
    ``sd_maybe_sem`` compares coefficients of variation, so it needs positive means (a ratio
    scale) and an outcome named alike in at least :data:`MIN_STUDIES` other studies; arms given as
    an SEM are not checked (their SD is derived) but count in the outcome's typical CV. Its bound
    is the SEM that the outcome's typical SD would have: a real SD that small is as unusual as
    the SEM reading of it is ordinary. On the real sheets it flags 2 of the 110 minocycline rows
    (sucrose preference with a CV of 0.07 where 7 other studies have 0.2) and 3 of the 102 of
    Curtis et al. (1998); a bound of ``m / sqrt(n)`` alone flagged 21 of the latter, most with n = 2,
    whose SD is too noisy to tell.

    Examples
    --------
    >>> import pandas as pd
    >>> from premeta.flags import flags
    >>> sheet = pd.DataFrame({"study": ["A", "A", "B"], "cohort": ["E1", "E1", "E2"],
    ...                       "outcome": ["latency (s)", "distance (m)", "latency (s)"],
    ...                       "trt_mean": [12.0, 30.0, 9.0], "trt_sd": [3.0, 8.0, 2.5], "trt_n": [8, 7, 10],
    ...                       "ctl_mean": [9.0, 25.0, 8.0], "ctl_sd": [3.1, 7.0, 2.0], "ctl_n": [8, 8, 10]})
    >>> flags(sheet)[["rule", "rows", "study"]]
                  rule  rows study
    0  cohort_n_varies  0, 1     A
    >>> print(flags(sheet)["detail"].iloc[0])
    cohort 'E1': treatment n 7 on row 1; n 8 on row 0
    """
    return _table(list(_hits(effects)))


def flagged(effects: pd.DataFrame) -> pd.Series:
    """The rules that name each row, ``;``-separated in the order of :data:`RULES` (``""`` for none):
    the ``flags`` column of ``effect_sizes.csv``. Parameters as :func:`flags`."""
    return _column(list(_hits(effects)), effects.index)


def flags_and_column(effects: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """:func:`flags` and :func:`flagged` of ``effects`` from one pass over the rules (a large sheet's
    checks take seconds)."""
    hits = list(_hits(effects))
    return _table(hits), _column(hits, effects.index)


def _table(hits: list) -> pd.DataFrame:
    rows = [(rule, _rows(ix), study, detail) for rule, ix, study, detail in hits]
    order = {r: i for i, r in enumerate(RULES)}
    rows.sort(key=lambda r: order[r[0]])  # stable: within a rule, the order of the sheet
    return pd.DataFrame(rows, columns=FLAG_COLUMNS)


def _column(hits: list, index: pd.Index) -> pd.Series:
    names = {row: set() for row in index}
    for rule, ix, _, _ in hits:
        for row in ix:
            names[row].add(rule)
    return pd.Series([";".join(r for r in RULES if r in names[row]) for row in index], index=index,
                     dtype=object, name="flags")
