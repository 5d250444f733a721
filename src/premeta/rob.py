"""SYRCLE risk of bias (Hooijmans et al. 2014, BMC Med Res Methodol 14:43): tables and subsets."""

from __future__ import annotations

import pandas as pd

ITEMS = {
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
}
LEVELS = ("low", "unclear", "high")
#: Items a study must be at low risk on to enter the "low risk of bias" sensitivity analysis:
#: random allocation and blinded outcome assessment, the two CAMARADES reviews rely on most.
KEY_ITEMS = ("rob_sequence", "rob_blinding_assessor")


def per_study(sheet: pd.DataFrame) -> pd.DataFrame:
    """One row per study with its judgement on each item present in the sheet.

    A study whose rows disagree on an item gets the worst judgement of its rows (high over
    unclear over low), so a reviewer's inconsistency never makes a study look better.
    """
    items = [c for c in ITEMS if c in sheet]
    rank = {level: i for i, level in enumerate(LEVELS)}
    worst = lambda s: max(s.dropna(), key=rank.get, default=pd.NA)  # noqa: E731
    return sheet.groupby("study", sort=True)[items].agg(worst)


def summary(studies: pd.DataFrame) -> pd.DataFrame:
    """Share (percent) of studies judged low, unclear and high on each item (rows in SYRCLE order)."""
    out = pd.DataFrame(
        {level: [100 * (studies[c] == level).mean() for c in studies] for level in LEVELS},
        index=pd.Index([ITEMS[c] for c in studies], name="item"),
    )
    out["studies"] = [int(studies[c].notna().sum()) for c in studies]
    return out


def low_risk(effects: pd.DataFrame, studies: pd.DataFrame, items=KEY_ITEMS) -> pd.DataFrame:
    """The comparisons of studies at low risk of bias on every one of ``items``."""
    items = [c for c in items if c in studies]
    keep = studies.index[(studies[items] == "low").all(axis=1)] if items else studies.index[:0]
    return effects[effects["study"].isin(keep)]
