"""premeta: reproducible meta-analysis of preclinical (rodent) studies.

Everything a notebook needs is importable from here (``premeta.rma``, ``premeta.rma_mv``,
``premeta.egger``...). Results use one vocabulary, the columns of ``pooled.csv``
(``estimate, se, stat, df, p, ci_low, ci_high, tau2, i2, q, q_p``...); each docstring
gives metafor's (or robumeta's, clubSandwich's) name of every column. ``test`` defaults to
``"z"`` (metafor's default) everywhere. The modules behind ``rma_mv``, ``egger``, ``selmodel``, ``leave1out``,
``primary`` and ``multiverse`` are imported on first use, so ``import premeta`` stays light.
No module of the package is named like a public function, so importing a module never hides one.
"""

from __future__ import annotations

import importlib
from importlib.metadata import version
from typing import TYPE_CHECKING

from premeta.effects import escalc
from premeta.models import METHODS, TESTS, Fit, design, fit, rma, subgroup_tests
from premeta.vocabulary import Labels

#: Public names imported on first use, and their module.
_LAZY = {
    "rma_mv": "multilevel", "robust": "multilevel", "aggregate": "multilevel",
    "MultilevelFit": "multilevel", "RobustTest": "multilevel",
    "rve": "robumeta", "RVEFit": "robumeta",
    "metareg": "regression", "permutest": "regression",
    "egger": "bias", "trimfill": "bias", "egger_ols": "bias", "ranktest": "bias", "fsn": "bias",
    "pet_peese": "bias",
    "power": "significance", "tes": "significance",
    "next_experiment": "planning",
    "selmodel": "selection",
    "leave1out": "sensitivity", "influence": "sensitivity", "leave1cluster": "sensitivity",
    "gosh": "sensitivity", "Gosh": "sensitivity", "cumul": "sensitivity",
    "stratified": "groups.pooling", "primary": "groups.pooling",
    "multiverse": "groups.multiverse_analysis", "specifications": "groups.multiverse_analysis",
    "flow_table": "groups.flow", "read_prisma_counts": "groups.flow",
    "compare_runs": "groups.changes",
    "sex_pairs": "contrasts", "pool_contrasts": "contrasts",
    "sex_table": "groups.sex", "sex_contrasts": "groups.sex",
}

if TYPE_CHECKING:
    from premeta.bias import egger, egger_ols, fsn, pet_peese, ranktest, trimfill
    from premeta.contrasts import pool_contrasts, sex_pairs
    from premeta.groups.changes import compare_runs
    from premeta.groups.flow import flow_table, read_prisma_counts
    from premeta.groups.multiverse_analysis import multiverse, specifications
    from premeta.groups.pooling import primary, stratified
    from premeta.groups.sex import sex_contrasts, sex_table
    from premeta.planning import next_experiment
    from premeta.multilevel import MultilevelFit, RobustTest, aggregate, rma_mv, robust
    from premeta.regression import metareg, permutest
    from premeta.robumeta import RVEFit, rve
    from premeta.selection import selmodel
    from premeta.sensitivity import Gosh, cumul, gosh, influence, leave1cluster, leave1out
    from premeta.significance import power, tes


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(f"premeta.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'premeta' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


__all__ = sorted(["METHODS", "TESTS", "Fit", "Labels", "design", "escalc", "fit", "rma", "subgroup_tests", *_LAZY])
__version__ = version("premeta")  # the one place is pyproject.toml
