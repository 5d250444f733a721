"""What premeta calls things, in words: the measures, the two arms of a comparison, which way its
effects point, the groups and the files named after them.

Nothing here knows the review: the intervention and its comparator are named by the reviewer
(config ``labels``, :class:`Labels`), neutral by default ("treatment", "control"). Every figure,
table header, caption and sentence that names an arm or a direction takes it from here, so one review
never reads another's words and a figure never claims a benefit that the sheet does not state.

The rule for directions (:meth:`Labels.sides`):

* ``orient="benefit"``: every effect was signed so that positive favours the treatment (rows whose
  ``better`` is ``lower`` were flipped): "Favours <control>" left of 0, "Favours <treatment>" right.
* ``orient="raw"``: effects are treatment minus control (metafor ``escalc``'s sign). When every row
  shown states the same ``better``, that direction is a benefit and the sides say who is favoured
  (``better="lower"`` puts the treatment on the left). Otherwise no side is claimed:
  "Lower with <treatment>" | "Higher with <treatment>".
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

import pandas as pd

#: The arms of a comparison, as the prefixes of the sheet's columns: treated, control, sham.
ARMS = ("trt", "ctl", "sham")
#: Ways of handling several comparisons from one study (:func:`premeta.primary`); the config's
#: ``dependence`` also takes ``auto``.
DEPENDENCE = ("none", "aggregate", "multilevel", "rve")
#: The effect measures (:func:`premeta.escalc`).
MEASURES = ("SMD", "MD", "ROM", "NMD", "CVR", "VR")
#: Measures of variability (Nakagawa et al. 2015): log ratios of the treatment's to the control's
#: coefficient of variation (``CVR``) or SD (``VR``). ``orient`` never flips them: which arm varies more
#: is not a benefit.
VARIABILITY = ("CVR", "VR")
#: Handling of a control group shared by several comparisons (:func:`premeta.escalc`,
#: :func:`premeta.effects.shared_control_vcov`).
SHARED_CONTROL = ("split", "full", "covariance")
#: Axis and table labels of the measures.
MEASURE_LABELS = {"SMD": "Hedges' g (SMD)", "MD": "Mean difference", "ROM": "log ratio of means", "NMD": "NMD (%)",
                  "CVR": "lnCVR (log ratio of CVs)", "VR": "lnVR (log ratio of SDs)"}
#: How effects are signed (:func:`premeta.escalc`): positive favours the treatment, or treatment minus control.
ORIENTS = ("benefit", "raw")
#: Greek letters spelt out in file names (:func:`slug`).
GREEK = dict(zip("αβγδεζηθικλμνξοπρσςτυφχψω",
                 "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho "
                 "sigma sigma tau upsilon phi chi psi omega".split()))
#: Longest file-name stem made from a label (a hash keeps longer labels apart).
MAX_NAME = 60
#: At most this many distinct labels of a sheet's arms name them together ("saline / vehicle"); more are "control".
MAX_NAMES = 3


def plural(n: int | float, word: str, words: str | None = None) -> str:
    """``"1 comparison"``, ``"2 comparisons"``: the count and the word in its number."""
    many = words or (word[:-1] + "ies" if word.endswith("y") and word[-2:-1] not in "aeiou" else word + "s")
    return f"{number(n)} {word if n == 1 else many}"


def number(n: int | float) -> str:
    """A count as printed: ``7``, ``1200``, ``6.5`` (never ``7.0`` or ``1.2e+03``)."""
    return f"{n:.0f}" if float(n).is_integer() else f"{n:g}"


def better_of(values) -> str | None:
    """The ``better`` shared by every row (``"higher"`` or ``"lower"``), or None when rows differ or
    one does not say."""
    seen = {str(v).strip().lower() if isinstance(v, str) else None for v in values}
    return next(iter(seen)) if len(seen) == 1 and seen <= {"higher", "lower"} else None


@dataclass(frozen=True)
class Labels:
    """The names of the two arms of every comparison.

    Parameters
    ----------
    treatment : str
        The intervention or exposure (``trt_*`` columns), e.g. "minocycline" or "maternal protein
        restriction".
    control : str
        Its comparator (``ctl_*`` columns), e.g. "sedentary control", "vehicle".
    """

    treatment: str = "treatment"
    control: str = "control"

    @classmethod
    def from_config(cls, config: dict | None) -> Labels:
        """From the config's ``labels: {treatment: ..., control: ...}``; missing names stay neutral."""
        given = (config or {}).get("labels") or {}
        return cls(**{k: str(v) for k, v in given.items() if k in ("treatment", "control") and v})

    @classmethod
    def from_sheet(cls, config: dict | None, sheet) -> Labels:
        """The config's names (:meth:`from_config`); an arm it does not name is named from the sheet's
        ``trt_label`` / ``ctl_label`` (what a SyRF export's or a long sheet's groups were given,
        :func:`premeta.pairing.pair`) when at most :data:`MAX_NAMES` distinct values say it, else neutral."""
        given = (config or {}).get("labels") or {}
        names = {}
        for arm, column in (("treatment", "trt_label"), ("control", "ctl_label")):
            if given.get(arm):
                names[arm] = str(given[arm])
            elif column in getattr(sheet, "columns", ()):
                values = sorted({str(v).strip() for v in sheet[column] if isinstance(v, str) and v.strip()})
                if 0 < len(values) <= MAX_NAMES:
                    names[arm] = " / ".join(values)
        return cls(**names)

    def arm(self, code: str) -> str:
        """The label of an arm code of the sheet: ``trt`` or ``ctl``."""
        return {"trt": self.treatment, "ctl": self.control}[code]

    def sides(self, orient: str, better: str | None = None, measure: str = "SMD") -> tuple[str, str]:
        """The texts printed left and right of 0 under a forest plot (module docstring's rule).

        ``better`` is the direction of benefit shared by every row the figure shows
        (:func:`better_of`), or None. A variability measure (:data:`VARIABILITY`: lnCVR, lnVR) has
        no direction of benefit: its sides say less or more variable with the treatment.
        """
        if orient not in ORIENTS:
            raise ValueError(f"orient must be one of {', '.join(ORIENTS)}, got {orient!r}")
        if measure in VARIABILITY:
            return f"Less variable with {self.treatment}", f"More variable with {self.treatment}"
        favour = (f"Favours {self.control}", f"Favours {self.treatment}")
        if orient == "benefit" or better == "higher":
            return favour
        if better == "lower":
            return favour[::-1]
        return f"Lower with {self.treatment}", f"Higher with {self.treatment}"

    def direction(self, orient: str, better: str | None = None, measure: str = "SMD") -> str:
        """The sentence that says what a positive effect means, as :meth:`sides` draws it."""
        if orient not in ORIENTS:
            raise ValueError(f"orient must be one of {', '.join(ORIENTS)}, got {orient!r}")
        if measure in VARIABILITY:
            what = "coefficients of variation" if measure == "CVR" else "standard deviations"
            return (f"the log of the ratio of the {what} of {self.treatment} to {self.control}: positive values "
                    f"mean more variable with {self.treatment}, whatever the direction of benefit")
        if orient == "benefit":
            return (f"positive values favour {self.treatment} over {self.control} (the sign of outcomes where "
                    "lower is better was reversed)")
        raw = f"{self.treatment} minus {self.control}"
        if better == "higher":
            return f"{raw}; higher is better on every outcome, so positive values favour {self.treatment}"
        if better == "lower":
            return f"{raw}; lower is better on every outcome, so negative values favour {self.treatment}"
        return (f"{raw}: positive values mean higher with {self.treatment}, negative lower; whether that is "
                "a benefit depends on the outcome")


#: What a sheet column holds where the config's data dictionary (``columns``) does not say: its unit.
COLUMN_WORDS = {"time": "time (days)"}


def column_words(column: str, columns: dict | None = None) -> str:
    """What the sheet column ``column`` holds, as an axis title: the config's data dictionary
    ``columns`` (e.g. ``{"time": "days after nerve injury"}``), else :data:`COLUMN_WORDS`, else the
    column's name."""
    return (columns or {}).get(column) or COLUMN_WORDS.get(column, column)


def group_labels(effects: pd.DataFrame, group_by: str) -> pd.Series:
    """The label of each row's group: the text of column ``group_by``; numbers as ``7``, not ``7.0``."""
    col = effects[group_by]
    if pd.api.types.is_numeric_dtype(col):
        return col.map(lambda v: pd.NA if pd.isna(v) else f"{v:.15g}").astype("string")
    return col.astype("string")


def label_order(labels) -> list:
    """The distinct ``labels`` in the order of every table, figure and the report: by value when
    every label is a number (a dose, a time: ``7, 14, 28``, not ``14, 28, 7``), else sorted as
    text; labels that are tuples (a group and a time) position by position.

    Examples
    --------
    >>> label_order(["28", "7", "14", "7"])
    ['7', '14', '28']
    >>> label_order(["Microglia", "BDNF"])
    ['BDNF', 'Microglia']
    """
    labels = list(dict.fromkeys(labels))
    if labels and all(isinstance(v, tuple) for v in labels) and len({len(v) for v in labels}) == 1:
        ranks = [{v: i for i, v in enumerate(label_order(values))} for values in zip(*labels)]
        return sorted(labels, key=lambda t: tuple(r[v] for r, v in zip(ranks, t)))
    try:
        values = [float(v) for v in labels]
    except (TypeError, ValueError):
        return sorted(labels)
    if not all(map(math.isfinite, values)):
        return sorted(labels)
    return [label for _, label in sorted(zip(values, labels), key=lambda x: (x[0], str(x[1])))]


def in_label_order(labels: pd.Series) -> pd.Series:
    """Each label's position in :func:`label_order`: a ``key`` of ``DataFrame.sort_values`` (on a
    column of numbers, such as a step or specification, their order)."""
    return labels.map({v: i for i, v in enumerate(label_order(labels.dropna()))})


def overall_label(groups) -> str:
    """The label of the all-groups row: ``overall``, unless a group is called that."""
    taken = set(map(str, groups))
    return next(lab for lab in ("overall", "overall (all groups)", "all groups", "all groups (overall)")
                if lab not in taken)


def slug(label: object) -> str:
    """File-name form of a label: lower case ASCII, Greek letters spelt out (``TNF-α`` ->
    ``tnf-alpha``), accents dropped, runs of characters other than a-z, 0-9 and _ as one '-' (may be empty)."""
    text = "".join(GREEK.get(c, c) for c in unicodedata.normalize("NFKC", str(label)).lower())
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9_]+", "-", text).strip("-_")


def file_names(labels, reserved=("overall",)) -> dict[str, str]:
    """A unique, bounded file-name stem for each label, traceable to it.

    The stem is :func:`slug` of the label; when that is empty (e.g. a label in Chinese), longer
    than :data:`MAX_NAME`, shared by two labels (``a/b`` and ``a-b``) or ``reserved``, the first
    8 hex digits of the label's SHA-1 are appended, so each label keeps its own file.
    """
    labels = list(dict.fromkeys(map(str, labels)))
    base = {lab: slug(lab) for lab in labels}
    count = Counter(base.values())
    out = {}
    for lab in labels:
        b = base[lab]
        if not b or len(b) > MAX_NAME or count[b] > 1 or b in reserved:
            b = f"{b[:MAX_NAME - 9].rstrip('-') or 'group'}-{hashlib.sha1(lab.encode()).hexdigest()[:8]}"
        out[lab] = b
    return out
