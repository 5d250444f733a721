"""premeta: reproducible meta-analysis of preclinical (rodent) studies."""

from importlib.metadata import version

from premeta.effects import escalc
from premeta.gosh import Gosh, gosh
from premeta.models import METHODS, TESTS, Fit, fit
from premeta.rve import rve


def rma(yi, vi, groups=None, method="REML", test="z", level=95):
    """One row per stratum (``overall`` without groups): :meth:`premeta.models.Fit.table`."""
    return fit(yi, vi, groups=groups, method=method, test=test, level=level).table()


__all__ = ["METHODS", "TESTS", "Fit", "Gosh", "escalc", "fit", "gosh", "rma", "rve"]
__version__ = version("premeta")  # the one place is pyproject.toml
