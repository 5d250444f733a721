"""The SyRF quantitative export (CAMARADES Systematic Review Facility) as premeta's comparison sheet.

The export has one row per cohort x outcome x time point; :func:`read_syrf` reads it (both header
spellings seen in real exports) and pairs each treated cohort with its control and sham by the rules
of :mod:`premeta.pairing`.
"""

from __future__ import annotations

import pandas as pd

from premeta.deprecation import renamed_arguments
from premeta.pairing import load


@renamed_arguments(sheet="worksheet")
def read_syrf(path, worksheet=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read a SyRF quantitative export and pair its cohorts into comparisons.

    Parameters
    ----------
    path : str or Path
        The export (CSV, or a workbook of it).
    worksheet : str or int, optional
        The worksheet of a workbook (default: the first).

    Returns
    -------
    comparisons : DataFrame
        premeta's comparison sheet (one row per treated cohort, outcome and time point: ``study``,
        ``outcome``, ``trt_*``, ``ctl_*``, ``sham_*``, ``control_group``, ``better``, ``time`` in
        days, and one column per annotation question), ready for :func:`premeta.sheet.validate`
        and :func:`premeta.escalc`.
    pairing : DataFrame
        Every input row with what became of it and why (``row, study, experiment, outcome, time,
        group, role, status, detail``): the table written to ``results/pairing.csv``.

    Examples
    --------
    >>> comparisons, pairing = read_syrf("tests/data/syrf/quantitative_data_example.csv")  # doctest: +SKIP
    """
    comparisons, pairing, _ = load(path, "syrf", worksheet)
    return comparisons, pairing
