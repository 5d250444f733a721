"""What every per-group table shares: the policy that turns a group that cannot be analysed into a
note (:func:`attempt`, :func:`attempt_strata`, :func:`with_notes`), reading ``effect_sizes.csv``
back (:func:`read_effects`) and counting animals.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from premeta.errors import NotComputable
from premeta.sheet import NUMERIC
from premeta.vocabulary import label_order, plural


#: The errors that mean "this analysis cannot be computed for this group": premeta's own decision
#: (:class:`premeta.errors.NotComputable`) and a singular matrix. Any other error is a bug and fails the job.
NOT_COMPUTABLE = (NotComputable, np.linalg.LinAlgError)
#: Columns of ``effect_sizes.csv`` that :func:`read_effects` reads as numbers; every other column is text.
NUMBER_COLUMNS = NUMERIC + ("yi", "vi", "ctl_n_eff", "shared_m")


def attempt(fn, *args, **kwargs) -> tuple[object, str]:
    """``(fn(*args, **kwargs), "")``, or ``(None, reason)`` when the computation is impossible for
    this input (an error of :data:`NOT_COMPUTABLE`): one group never stops the others."""
    try:
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs), ""
    except NOT_COMPUTABLE as err:
        return None, f"not computed: {err}"


def attempt_strata(fn, *args, groups, **kwargs) -> pd.DataFrame:
    """``fn(*args, groups=groups, **kwargs)``, a method's table with one row per stratum (``group``);
    where it refuses every stratum (an error of :data:`NOT_COMPUTABLE`), one row per stratum, in
    sorted order, with every column missing but ``note``: the stratum's own reason as the method
    writes it in a stratum's note when another stratum can be analysed (the error's ``notes``), so
    that a stratum's note does not depend on the strata fitted with it; without them, "not computed: "
    and the error's message."""
    try:
        with np.errstate(all="ignore"):
            return fn(*args, groups=groups, **kwargs)
    except NOT_COMPUTABLE as err:
        notes = getattr(err, "notes", None) or {}
        labels = label_order(np.asarray(groups).tolist())
        return pd.DataFrame({"group": labels, "note": [notes.get(g, f"not computed: {err}") for g in labels]})


def with_notes(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with its ``note`` column as text, "" where there is nothing to say."""
    note = table["note"] if "note" in table else pd.Series(index=table.index, dtype=object)
    return table.assign(note=note.astype(object).where(note.notna(), ""))


def read_effects(path, omitted: bool = False) -> pd.DataFrame:
    """``effect_sizes.csv`` as written: numbers in :data:`NUMBER_COLUMNS`, every other cell as text.

    Text stays text (a group called ``None``, ``1e3`` or ``TRUE`` keeps its name); empty cells
    are missing. The ``'`` that :func:`premeta.tables.write_csv` puts before text a spreadsheet
    would run (``=...``, ``+...``) is removed, so every label is the sheet's own. The rows
    :func:`premeta.escalc` left without an effect size (its ``omitted`` column: a control split
    below what SMD allows) are left out, unless ``omitted`` (the report, which lists them).
    """
    from premeta.tables import read_csv

    header = pd.read_csv(path, nrows=0).columns  # as written: the dtype keys of read_csv
    if hasattr(path, "seek"):  # a buffer (effects_as_written): read it again from its start
        path.seek(0)
    flags = ("row", "precomputed", "split_below_2")
    text = {c: str for c in header if c not in NUMBER_COLUMNS and c not in flags}
    out = read_csv(path, index_col="row", dtype=text, keep_default_na=False, na_values=[""])
    return out if omitted or "omitted" not in out else out[out["omitted"].isna()]


def effects_as_written(effects: pd.DataFrame) -> pd.DataFrame:
    """``effects`` (from :func:`premeta.escalc`) exactly as :func:`read_effects` reads them back
    from ``effect_sizes.csv``: written and read in memory, so a job that computes the effect sizes
    itself has the same labels and the same numbers, bit for bit, as the jobs that read the file."""
    from premeta.tables import write_csv

    buffer = io.StringIO()
    write_csv(effects, buffer, index=True)
    buffer.seek(0)
    return read_effects(buffer)


def animals(effects: pd.DataFrame) -> float:
    """Animals in a set of comparisons, each group counted once; NaN when no comparison gives
    group sizes (precomputed effects only: the sheet does not say, and 0 would be false).

    A treatment group is identified by (study, cohort) or, without ``cohort``, by (study,
    comparison) or the row; a control group by (study, control_group) or else like its
    treatment group. Each counts with its largest n over the rows it appears in (the same
    animals measured at several time points or on several outcomes). Precomputed rows are not
    counted (:func:`animals_note` says so).
    """
    pre = effects.get("precomputed", pd.Series(False, index=effects.index)).astype(bool)
    e = effects[~pre]
    if e.empty:
        return np.nan
    row_id = pd.Series(e.index.astype(str), index=e.index)
    study = e["study"].astype(str)

    def key(col: str, fallback: pd.Series) -> pd.Series:
        own = e[col].astype("string") if col in e else pd.Series(pd.NA, index=e.index, dtype="string")
        return study + "\x1f" + own.fillna(fallback)

    trt = key("cohort", e["comparison"].astype("string").fillna(row_id) if "comparison" in e else row_id)
    ctl = key("control_group", "ctl:" + trt)
    n_t = pd.to_numeric(e["trt_n"]).groupby(trt).max().sum()
    n_c = pd.to_numeric(e["ctl_n"]).groupby(ctl).max().sum()
    return float(n_t + n_c)


def animals_note(effects: pd.DataFrame) -> str:
    """Why :func:`animals` is empty or counts only some comparisons ("" when it counts them all)."""
    pre = int(effects.get("precomputed", pd.Series(False, index=effects.index)).astype(bool).sum())
    if not pre:
        return ""
    if pre == len(effects):
        return "animals not counted: the sheet gives precomputed effects (yi, vi) without group sizes"
    return (f"animals counted in the {plural(len(effects) - pre, 'comparison')} with group sizes, "
            f"not in the {pre} precomputed")


def thin_evidence_note(note: str, k: int, studies: int, *more: str) -> str:
    """``note`` with a caveat when a pooled estimate rests on very little: two comparisons, or
    several comparisons all from one study (not independent: they often share animals or a control
    group, so their interval is too narrow); then any ``more`` notes."""
    caveats = [note,
               "k = 2: an estimate from two comparisons; its interval and heterogeneity are "
               "unreliable" if k == 2 else "",
               f"{'both' if k == 2 else f'all {k}'} comparisons from one study: not independent evidence, the "
               "interval is too narrow" if k >= 2 and studies == 1 else "", *more]
    return "; ".join(x for x in caveats if x)


def moderator_label(groups, group_by: str) -> str:
    """The label of the all-groups rows of :func:`small_study`: ``all groups (<group_by> as moderator)``,
    unless a group is called that."""
    taken, label = set(map(str, groups)), f"all groups ({group_by} as moderator)"
    return label if label not in taken else f"{label}, residuals"
