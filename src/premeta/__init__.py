"""premeta: reproducible meta-analysis of preclinical (rodent) studies.

Everything a notebook needs is importable from here (``premeta.rma``, ``premeta.rma_mv``,
``premeta.egger``...). Results use one vocabulary, the columns of ``pooled.csv``
(``estimate, se, stat, df, p, ci_low, ci_high, tau2, i2, q, q_p``...); each docstring
gives metafor's (or robumeta's, clubSandwich's) name of every column. ``test`` defaults to
``"z"`` (metafor's default) everywhere. The modules behind ``rma_mv``, ``egger``, ``leave1out``
``stratified`` and ``multiverse`` are imported on first use, so ``import premeta`` stays light.
"""

from __future__ import annotations

import importlib
import sys
import types
from importlib.metadata import version
from typing import TYPE_CHECKING

from premeta.effects import escalc
from premeta.gosh import Gosh, gosh  # eager: the module and the function share a name
from premeta.metareg import metareg, permutest  # eager, as gosh
from premeta.models import METHODS, TESTS, Fit, design, fit, rma, subgroup_tests
from premeta.rve import RVEFit, rve  # eager, as metareg
from premeta.vocabulary import Labels

#: Public names imported on first use, and their module.
_LAZY = {
    "rma_mv": "multilevel", "robust": "multilevel", "aggregate": "multilevel",
    "MultilevelFit": "multilevel", "RobustTest": "multilevel",
    "egger": "bias", "trimfill": "bias", "egger_ols": "bias",
    "leave1out": "sensitivity", "influence": "sensitivity", "leave1cluster": "sensitivity",
    "stratified": "analysis", "primary": "analysis",
    "multiverse": "multiverse", "specifications": "multiverse",
}

if TYPE_CHECKING:
    from premeta.analysis import primary, stratified
    from premeta.bias import egger, egger_ols, trimfill
    from premeta.multiverse import multiverse, specifications
    from premeta.multilevel import MultilevelFit, RobustTest, aggregate, rma_mv, robust
    from premeta.sensitivity import influence, leave1cluster, leave1out


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(f"premeta.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'premeta' has no attribute {name!r}")


class _Package(types.ModuleType):
    """Importing the module ``premeta.multiverse`` (``from premeta.multiverse import summary``) does
    not replace the function ``premeta.multiverse`` by its module, as Python's import otherwise would."""

    def __setattr__(self, name, value):
        if not (name in _LAZY and isinstance(value, types.ModuleType)):
            super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


__all__ = sorted(["METHODS", "TESTS", "Fit", "Gosh", "Labels", "RVEFit", "design", "escalc", "fit", "gosh", "metareg",
                  "permutest", "rma", "rve", "subgroup_tests", *_LAZY])
__version__ = version("premeta")  # the one place is pyproject.toml
