"""Risk of bias and study quality: the tools (items, their columns and judgements), tables and subsets.

A *tool* is a list of *items*; each item is a column of the sheet (one judgement per row, the
study's judgement the worst of its rows) with its label and its allowed judgements ordered from
the best to the worst. The default is SYRCLE's risk of bias tool (Hooijmans et al. 2014, BMC Med
Res Methodol 14:43): ten items judged ``low``, ``unclear`` or ``high`` risk.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Item:
    """One item of a tool.

    Attributes
    ----------
    column : str
        The sheet's column of the judgements.
    label : str
        The item's name in tables, figures and the report.
    values : tuple of str
        The allowed judgements, from the best (e.g. ``"low"`` risk, ``"yes"``: reported) to the worst.
    """

    column: str
    label: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Tool:
    """A risk-of-bias or study-quality tool: its name, label and items (:class:`Item`)."""

    name: str
    label: str
    items: tuple[Item, ...]

    @property
    def columns(self) -> list[str]:
        """The items' columns, in the tool's order."""
        return [i.column for i in self.items]

    @property
    def labels(self) -> dict[str, str]:
        """Column -> label of every item."""
        return {i.column: i.label for i in self.items}

    def item(self, column: str) -> Item:
        """The item of ``column``."""
        return next(i for i in self.items if i.column == column)


LEVELS = ("low", "unclear", "high")
#: SYRCLE's risk of bias tool, its ten items in the paper's order (Table 2).
SYRCLE = Tool("syrcle", "SYRCLE risk of bias", tuple(Item(c, label, LEVELS) for c, label in {
    "rob_sequence": "Sequence generation",
    "rob_baseline": "Baseline characteristics",
    "rob_allocation": "Allocation concealment",
    "rob_housing": "Random housing",
    "rob_blinding_caregivers": "Blinding (caregivers, investigators)",
    "rob_random_assessment": "Random outcome assessment",
    "rob_blinding_assessor": "Blinding (outcome assessor)",
    "rob_incomplete_data": "Incomplete outcome data",
    "rob_selective_reporting": "Selective outcome reporting",
    "rob_other": "Other sources of bias",
}.items()))
#: SYRCLE's items, column -> label.
ITEMS = SYRCLE.labels
#: Items a study must be at low risk on to enter the "low risk of bias" sensitivity analysis:
#: random allocation and blinded outcome assessment, the two CAMARADES reviews rely on most.
KEY_ITEMS = ("rob_sequence", "rob_blinding_assessor")


def per_study(sheet: pd.DataFrame, tool: Tool = SYRCLE) -> pd.DataFrame:
    """One row per study with its judgement on each item of ``tool`` present in the sheet.

    A study whose rows disagree on an item gets the worst judgement of its rows (the item's last
    value first: high over unclear over low), so a reviewer's inconsistency never makes a study
    look better.
    """
    items = [i for i in tool.items if i.column in sheet]

    def worst(values: pd.Series, item: Item):
        rank = {v: j for j, v in enumerate(item.values)}
        return max(values.dropna(), key=rank.get, default=pd.NA)

    grouped = sheet.groupby("study", sort=True)
    return pd.DataFrame({i.column: grouped[i.column].agg(worst, item=i) for i in items},
                        index=grouped.size().index)


def summary(studies: pd.DataFrame, tool: Tool = SYRCLE) -> pd.DataFrame:
    """Share (percent) of studies at each judgement of each item (rows in the tool's order)."""
    items = [tool.item(c) for c in studies]
    values = list(dict.fromkeys(v for i in items or tool.items for v in i.values))
    out = pd.DataFrame({v: [100 * (studies[i.column] == v).mean() for i in items] for v in values},
                       index=pd.Index([i.label for i in items], name="item"))
    out["studies"] = [int(studies[i.column].notna().sum()) for i in items]
    return out


def low_risk(effects: pd.DataFrame, studies: pd.DataFrame, items=KEY_ITEMS) -> pd.DataFrame:
    """The comparisons of studies at low risk of bias on every one of ``items``."""
    items = [c for c in items if c in studies]
    keep = studies.index[(studies[items] == "low").all(axis=1)] if items else studies.index[:0]
    return effects[effects["study"].isin(keep)]
