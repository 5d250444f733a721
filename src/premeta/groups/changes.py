"""What changed since the last run (a living review): two results folders compared, the comparisons
added, removed and changed, and per group the change in the pooled estimate, its intervals, tau²,
the small-study test and the multiverse's verdict, with how much each added comparison moved the
estimate.

:func:`compare_runs` reads the two folders as the workflow writes them (``effect_sizes.csv``,
``primary.csv``, and where present ``pooled.csv``, ``small_study.csv``, ``multiverse_summary.csv``,
``leave1out.csv``); :func:`comparison_keys` is the stable key of a comparison, which the spreadsheet
row (``row``) is not (a row inserted above moves every row below it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from premeta.errors import ReadError
from premeta.groups.common import read_effects
from premeta.models import fit
from premeta.tables import read_csv
from premeta.vocabulary import group_labels, overall_label, plural

#: The sheet's own identifier of a comparison: used alone as the key where every row of both runs has one.
ID_COLUMN = "id"
#: Otherwise the key is these columns (those in either run; the group column, ``group_by``, after
#: ``outcome``): the study, the outcome, the group, the comparison's and its arms' labels (a long or
#: SyRF sheet's ``trt_label``, ``ctl_label``), the cohort, the control group and the time.
KEY_COLUMNS = ("study", "outcome", "comparison", "cohort", "control_group", "trt_label", "ctl_label", "time")
#: The tables compared row by row per group, where both runs have them (``effect_sizes.csv`` is compared
#: comparison by comparison).
GROUP_TABLES = ("primary", "pooled", "small_study", "multiverse_summary", "leave1out")
#: The Egger test whose p-value is the small-study verdict (``small_study.csv``), and its threshold
#: (Sterne et al. 2011: p < 0.10, the test having little power).
EGGER = ("Egger regression (meta-regression)", "SE")
EGGER_ALPHA = 0.10
#: The columns of ``changes_comparisons.csv``.
COMPARISON_COLUMNS = ["change", "key", "group", "row_old", "row_new", "columns", "cells", "yi_old", "yi_new",
                      "vi_old", "vi_new", "k_without", "estimate_without", "ci_low_without", "ci_high_without",
                      "shift", "note"]
#: The quantities of ``primary.csv`` compared per group (``<name>_old``, ``<name>_new``).
PRIMARY = ("k", "estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2")
#: The columns of ``changes_groups.csv``.
GROUP_COLUMNS = (["group", "change", "what", "added", "removed", "changed"]
                 + [f"{q}_{run}" for q in PRIMARY for run in ("old", "new")]
                 + ["k_delta", "estimate_delta", "tau2_delta", "egger_p_old", "egger_p_new", "small_study_old",
                    "small_study_new", "verdict_old", "verdict_new", "estimate_fit", "influential",
                    "influential_shift", "note"])


@dataclass
class Run:
    """One results folder: ``effects`` (``effect_sizes.csv``, every cell as written, text), ``numbers``
    (the same read by :func:`premeta.groups.common.read_effects`) and ``tables`` (each table of
    :data:`GROUP_TABLES` found, as text)."""

    folder: Path
    effects: pd.DataFrame
    numbers: pd.DataFrame
    tables: dict


def read_run(folder) -> Run:
    """A results folder as the workflow writes it; a :class:`premeta.errors.ReadError` when it is not one.

    Parameters
    ----------
    folder : str or path-like
        The ``results`` folder of a run: ``effect_sizes.csv`` and ``primary.csv`` at least.

    Returns
    -------
    Run
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ReadError(folder, "no such folder: give the results folder of a premeta run (with effect_sizes.csv "
                        "and primary.csv)")
    missing = [f for f in ("effect_sizes.csv", "primary.csv") if not (folder / f).is_file()]
    if missing:
        raise ReadError(folder, f"has no {' and no '.join(missing)}: not the results folder of a premeta run "
                        "(two sheets are compared once each has been run, with the same config)")
    text = dict(dtype=str, keep_default_na=False)
    effects = read_csv(folder / "effect_sizes.csv", **text)
    tables = {name: read_csv(folder / f"{name}.csv", **text) for name in GROUP_TABLES
              if (folder / f"{name}.csv").is_file()}
    return Run(folder, effects, read_effects(folder / "effect_sizes.csv"), tables)


def comparison_keys(effects: pd.DataFrame, group_by: str = "mechanism", columns=None) -> pd.Series:
    """The stable key of each comparison of ``effect_sizes.csv``, as text.

    Parameters
    ----------
    effects : pandas.DataFrame
        ``effect_sizes.csv`` with every cell as text (:func:`read_run`).
    group_by : str
        The grouping column.
    columns : list of str, optional
        The key's columns; by default the sheet's ``id`` (:data:`ID_COLUMN`) where every row has one,
        else those of :data:`KEY_COLUMNS` and ``group_by`` in ``effects``.

    Returns
    -------
    pandas.Series
        The key of each row (its cells joined by `` · ``), named by its columns (``attrs["columns"]``).

    Raises
    ------
    premeta.errors.ReadError
        Where two rows have the same key: they cannot be told apart from one run to the next.

    Examples
    --------
    >>> import pandas as pd
    >>> from premeta.groups.changes import comparison_keys
    >>> e = pd.DataFrame({"row": ["2", "3"], "study": ["Amorim 2017", "Amorim 2017"],
    ...                   "outcome": ["Immobility", "Latency"], "mechanism": ["FST", "FST"]})
    >>> comparison_keys(e).tolist()
    ['Amorim 2017 · Immobility · FST', 'Amorim 2017 · Latency · FST']
    """
    if columns is None:
        columns = key_columns([effects], group_by)
    cells = effects.reindex(columns=columns, fill_value="").astype(str)
    key = pd.Series([" · ".join(r) for r in cells.itertuples(index=False)], index=effects.index, name="key")
    twice = key[key.duplicated(keep=False)]
    if len(twice):
        rows = effects.loc[twice.index, "row"] if "row" in effects else twice.index
        first = twice.iloc[0]
        raise ReadError(getattr(effects, "attrs", {}).get("path", "effect_sizes.csv"),
                        f"{plural(len(twice), 'comparison')} share a key ({', '.join(columns)}): "
                        f"'{first}' on rows {', '.join(map(str, rows[twice == first]))}; "
                        f"give each comparison an `{ID_COLUMN}` column, or tell them apart in those columns")
    key.attrs["columns"] = list(columns)
    return key


def key_columns(tables, group_by: str = "mechanism") -> list[str]:
    """The key's columns common to ``tables`` (``effect_sizes.csv`` of each run, as text):
    :data:`ID_COLUMN` where every row of each has one, else those of :data:`KEY_COLUMNS` and
    ``group_by`` in any of them."""
    if all(ID_COLUMN in t and (t[ID_COLUMN] != "").all() for t in tables):
        return [ID_COLUMN]
    order = ["study", "outcome", group_by, *KEY_COLUMNS[2:]]
    return [c for c in dict.fromkeys(order) if any(c in t for t in tables)]


def compare_runs(old, new, group_by: str = "mechanism", method: str = "REML", test: str = "z",
                 level: float = 95) -> dict:
    """What changed from one run to the next: comparisons added, removed and changed, and per group.

    Parameters
    ----------
    old, new : str or path-like or Run
        The two results folders (:func:`read_run`): the previous run and this one.
    group_by : str
        The grouping column of both runs.
    method : str
        tau2 estimator of the leave-one-out of the added comparisons (:func:`premeta.models.fit`), as
        the runs' (``pooled.csv``'s ``method``).
    test : {"z", "knha", "adhoc"}
        Its inference, default ``"z"`` (metafor's); the runs' (``pooled.csv``'s ``test``).
    level : float
        Its confidence level, in percent.

    Returns
    -------
    dict
        ``comparisons`` (:data:`COMPARISON_COLUMNS`): one row per comparison ``added``, ``removed`` or
        ``changed`` (in NEW's order, the removed after, in OLD's): its ``key``, ``group``, spreadsheet
        ``row_old``/``row_new``, the ``columns`` whose cells differ and the ``cells`` (``column: old ->
        new``), ``yi`` and ``vi`` of each run and, for an added one, its influence: the group's estimate
        without it (``estimate_without``, ``ci_low_without``, ``ci_high_without`` on ``k_without``
        comparisons) and ``shift``, the estimate with it minus without it (both fitted to NEW's effect sizes).
        ``groups`` (:data:`GROUP_COLUMNS`): one row per group of either run and the overall row:
        ``change`` (``unchanged``; ``changed``: comparisons added, removed or changed; ``same comparisons``:
        none, yet a result differs, e.g. a p-value adjusted over the groups; ``new group``, ``dropped group``)
        and ``what`` changed (``comparisons``, and each table of :data:`GROUP_TABLES` whose rows of the group
        differ, with the columns that differ where the comparisons are the same), the
        counts ``added``, ``removed``, ``changed``; ``k``, ``estimate``, ``ci_low``, ``ci_high``,
        ``pi_low``, ``pi_high``, ``tau2`` of the primary analysis (``primary.csv``) in each run
        (``_old``, ``_new``) and the deltas (new minus old); Egger's p (``egger_p_*``) and its verdict
        (``small_study_*``: ``asymmetry`` at p < 0.10, ``no asymmetry``) from ``small_study.csv``; the
        multiverse's ``verdict_*`` (``multiverse_summary.csv``); where comparisons were added,
        ``estimate_fit`` (NEW's estimate by :func:`premeta.models.fit`, which the shifts are from) and
        the added comparison that moved it most (``influential``, its ``shift``).

    Notes
    -----
    A comparison is known by its key (:func:`comparison_keys`): the sheet's ``id`` where every row of
    both runs has one, else study, outcome, group, the comparison's and arms' labels, cohort, control
    group and time, as written. Cells are compared as the CSV holds them (text), so a rerun of the same
    sheet with the same settings, whose files are byte-identical, has no change; the spreadsheet
    ``row`` is not compared. The leave-one-out of the added comparisons is one
    :func:`premeta.models.fit` over stacked strata (each group with all its comparisons, and without
    each added one in turn), the same numbers as :func:`premeta.leave1out` (metafor ``leave1out``)
    on the group's comparisons; metafor has no equivalent of the comparison of two runs.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import pandas as pd
    >>> from premeta import compare_runs
    >>> runs = Path(tempfile.mkdtemp())
    >>> e = pd.DataFrame({"row": [2, 3, 4], "study": ["A 2015", "B 2015", "C 2016"], "outcome": "FST",
    ...                   "mechanism": "swim", "yi": [0.9, 1.2, 0.1], "vi": [0.2, 0.25, 0.3]})
    >>> for name, rows in (("old", e[:2]), ("new", e)):
    ...     (runs / name).mkdir()
    ...     rows.to_csv(runs / name / "effect_sizes.csv", index=False)
    ...     pd.DataFrame({"group": ["swim"], "k": [len(rows)]}).to_csv(runs / name / "primary.csv", index=False)
    >>> out = compare_runs(runs / "old", runs / "new")
    >>> out["comparisons"][["change", "key", "estimate_without", "shift"]].round(3)
      change                  key  estimate_without  shift
    0  added  C 2016 · FST · swim             1.033 -0.254
    >>> out["groups"][["group", "change", "k_old", "k_new", "influential"]]
      group   change  k_old  k_new          influential
    0  swim  changed    2.0    3.0  C 2016 · FST · swim
    """
    old, new = (r if isinstance(r, Run) else read_run(r) for r in (old, new))
    columns = key_columns([old.effects, new.effects], group_by)
    keys = {}
    for run in (old, new):
        run.effects.attrs["path"] = str(run.folder / "effect_sizes.csv")
        keys[run.folder] = comparison_keys(run.effects, group_by, columns)
    ko, kn = keys[old.folder], keys[new.folder]
    rows = _comparison_rows(old.effects, new.effects, ko, kn, group_by)
    influence, fitted = _added_influence(new, kn, rows, group_by, method, test, level)
    rows = rows.merge(influence, on="key", how="left")
    rows["note"] = rows["note_fit"].where(rows["note_fit"].notna(), "")
    comparisons = rows.reindex(columns=COMPARISON_COLUMNS)
    return {"comparisons": comparisons, "groups": _group_rows(old, new, comparisons, fitted, group_by)}


def _comparison_rows(old: pd.DataFrame, new: pd.DataFrame, ko: pd.Series, kn: pd.Series, group_by: str) -> pd.DataFrame:
    o, n = old.set_axis(ko.values), new.set_axis(kn.values)
    cells = [c for c in dict.fromkeys([*new.columns, *old.columns]) if c != "row"]
    out = []
    for key in [*kn, *(k for k in ko if k not in set(kn))]:
        a = o.loc[key] if key in o.index else None
        b = n.loc[key] if key in n.index else None
        differ = [] if a is None or b is None else [c for c in cells if a.get(c, "") != b.get(c, "")]
        if a is not None and b is not None and not differ:
            continue
        either = b if b is not None else a
        out.append({
            "change": "added" if a is None else "removed" if b is None else "changed", "key": key,
            "group": either.get(group_by, ""), "row_old": "" if a is None else a.get("row", ""),
            "row_new": "" if b is None else b.get("row", ""), "columns": "; ".join(differ),
            "cells": "; ".join(f"{c}: {a.get(c, '')} -> {b.get(c, '')}" for c in differ),
            "yi_old": np.nan if a is None else _number(a.get("yi", "")),
            "yi_new": np.nan if b is None else _number(b.get("yi", "")),
            "vi_old": np.nan if a is None else _number(a.get("vi", "")),
            "vi_new": np.nan if b is None else _number(b.get("vi", "")), "note": ""})
    return pd.DataFrame(out, columns=[c for c in COMPARISON_COLUMNS if c not in
                                      ("k_without", "estimate_without", "ci_low_without", "ci_high_without",
                                       "shift")])


def _number(text: str) -> float:
    return float(text) if text != "" else np.nan


def _added_influence(new: Run, kn: pd.Series, rows: pd.DataFrame, group_by: str, method: str, test: str,
                     level: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The leave-one-out of the added comparisons in their groups, one stacked fit: per added key its
    group's estimate without it; and per group with added comparisons its estimate with all."""
    e = new.numbers
    keys = kn.set_axis(new.effects["row"].astype(int).values)  # row -> key
    added = set(rows.loc[rows["change"] == "added", "key"])
    labels = group_labels(e, group_by).to_numpy(dtype=object)
    labels = np.where(pd.isna(labels), "", labels)
    row_key = keys.reindex(e.index).to_numpy()
    members, strata, meta = [], [], []  # row positions, stratum number, (group, left-out key)
    for g in dict.fromkeys(labels[[k in added for k in row_key]]):
        idx = np.flatnonzero(labels == g)
        for left in [None, *(i for i in idx if row_key[i] in added)]:
            keep = idx if left is None else idx[idx != left]
            if keep.size:
                members.append(keep)
                strata.append(np.full(keep.size, len(meta)))
            meta.append((g, None if left is None else row_key[left], keep.size))
    if not meta:
        return (pd.DataFrame(columns=["key", "k_without", "estimate_without", "ci_low_without", "ci_high_without",
                                      "shift", "note_fit"]), pd.DataFrame(columns=["group", "estimate_fit"]))
    idx = np.concatenate(members)
    t = fit(e["yi"].to_numpy(float)[idx], e["vi"].to_numpy(float)[idx], groups=np.concatenate(strata),
            method=method, test=test, level=level, confint=False).table()
    t = t.set_index("group").reindex(range(len(meta)))
    per = pd.DataFrame(meta, columns=["group", "key", "k_without"]).join(
        t[["estimate", "ci_low", "ci_high", "note"]])
    full = per[per["key"].isna()].set_index("group")["estimate"].rename("estimate_fit")
    out = per[per["key"].notna()].copy()
    out["shift"] = out["group"].map(full) - out["estimate"]
    out["note"] = np.where(out["k_without"] == 0, "the group's only comparison: no estimate without it", out["note"])
    out = out.rename(columns={"estimate": "estimate_without", "ci_low": "ci_low_without",
                              "ci_high": "ci_high_without", "note": "note_fit"})
    return out.drop(columns="group"), full.reset_index()


def _group_rows(old: Run, new: Run, comparisons: pd.DataFrame, fitted: pd.DataFrame, group_by: str) -> pd.DataFrame:
    po, pn = (r.tables.get("primary", pd.DataFrame(columns=["group"])) for r in (old, new))
    labels = {lab for r in (old, new) if group_by in r.effects for lab in r.effects[group_by]}
    overall = overall_label(labels)
    added = comparisons[comparisons["change"] == "added"]
    out = []
    for g in dict.fromkeys([*pn["group"], *po["group"]]):
        mine = comparisons if g == overall else comparisons[comparisons["group"] == g]
        counts = {c: int((mine["change"] == c).sum()) for c in ("added", "removed", "changed")}
        a, b = _row(old, "primary", g), _row(new, "primary", g)
        row = dict.fromkeys(GROUP_COLUMNS, np.nan) | {"group": g, "influential": "", "note": ""} | counts
        for q in PRIMARY:
            row[f"{q}_old"] = np.nan if a is None else _number(a.get(q, ""))
            row[f"{q}_new"] = np.nan if b is None else _number(b.get(q, ""))
        for q in ("k", "estimate", "tau2"):
            row[f"{q}_delta"] = row[f"{q}_new"] - row[f"{q}_old"]
        for run, suffix in ((old, "old"), (new, "new")):
            p = _egger_p(run, g)
            row[f"egger_p_{suffix}"] = p
            row[f"small_study_{suffix}"] = "" if np.isnan(p) else "asymmetry" if p < EGGER_ALPHA else "no asymmetry"
            m = _row(run, "multiverse_summary", g)
            row[f"verdict_{suffix}"] = "" if m is None else m.get("verdict", "")
        moved = any(counts.values())  # the columns that differ only where the comparisons are the same
        tables = [f"{t}.csv{'' if moved else _differ(_rows(old, t, g), _rows(new, t, g))}" for t in GROUP_TABLES
                  if t in old.tables and t in new.tables and not _same(_rows(old, t, g), _rows(new, t, g))]
        row["what"] = "; ".join((["comparisons"] if moved else []) + tables)
        row["change"] = ("new group" if a is None else "dropped group" if b is None else "changed"
                         if moved else "same comparisons" if tables else "unchanged")
        est = fitted.loc[fitted["group"] == g, "estimate_fit"]
        shifts = added[(added["group"] == g) & added["shift"].notna()] if len(est) else added.iloc[:0]
        if len(shifts):
            top = shifts.loc[shifts["shift"].abs().idxmax()]
            row |= {"estimate_fit": est.iloc[0], "influential": top["key"], "influential_shift": top["shift"]}
        out.append(row)
    return pd.DataFrame(out, columns=GROUP_COLUMNS)


def _rows(run: Run, table: str, group: str) -> pd.DataFrame:
    t = run.tables[table]
    if table == "leave1out":  # its row column is the spreadsheet row: what a comparison is is its label
        t = t.drop(columns="row", errors="ignore")
    return t[t["group"] == group].reset_index(drop=True)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    return list(a.columns) == list(b.columns) and a.shape == b.shape and bool((a.values == b.values).all())


def _differ(a: pd.DataFrame, b: pd.DataFrame) -> str:
    """`` (col, col)``: the columns whose cells differ, where the two tables have the same rows and columns."""
    if list(a.columns) != list(b.columns) or a.shape != b.shape:
        return ""
    return f" ({', '.join(c for c in a.columns if not (a[c] == b[c]).all())})"


def _row(run: Run, table: str, group: str):
    t = run.tables.get(table)
    if t is None or "group" not in t:
        return None
    hit = t[t["group"] == group]
    return None if hit.empty else hit.iloc[0]


def _egger_p(run: Run, group: str) -> float:
    t = run.tables.get("small_study")
    if t is None:
        return np.nan
    hit = t[(t["group"] == group) & (t["analysis"] == EGGER[0]) & (t["precision"] == EGGER[1])]
    return _number(hit["p"].iloc[0]) if len(hit) else np.nan
