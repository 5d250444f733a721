"""Effect sizes from group summaries, one row per comparison (metafor ``escalc`` vocabulary).

Every row compares a treatment (``trt_*``: the intervention or exposure) group with its control (``ctl_*``) on one
outcome at one time point. Dispersion may be an SD or an SEM per group; SD = SEM * sqrt(n) with
the group's real n (Higgins et al., Cochrane Handbook 6.5.2.2); a 95% CI of the mean or a median
is converted to a mean and SD before, by :func:`premeta.sheet.validate` (:mod:`premeta.convert`). A control group that serves m
comparisons of the same outcome at the same time (same ``study``, ``control_group``, ``outcome``
and ``time``) enters each with n / m (Vesterinen et al. 2014, *J Neurosci Methods* 221:92).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import gammaln

from premeta.sheet import Problem, SheetError
from premeta.vocabulary import ORIENTS

MEASURES = ("SMD", "MD", "ROM", "NMD")
#: Axis and table labels of the measures.
MEASURE_LABELS = {"SMD": "Hedges' g (SMD)", "MD": "Mean difference", "ROM": "log ratio of means", "NMD": "NMD (%)"}
ARMS = ("trt", "ctl", "sham")


def _col(sheet: pd.DataFrame, name: str) -> pd.Series:
    if name in sheet:
        return pd.to_numeric(sheet[name], errors="coerce").astype(float)
    return pd.Series(np.nan, index=sheet.index)


def arm_sd(sheet: pd.DataFrame, arm: str) -> tuple[pd.Series, pd.Series]:
    """SD of one arm, from ``{arm}_sd`` or else ``{arm}_sem * sqrt({arm}_n)``; and where SEM was used."""
    sd, sem, n = _col(sheet, f"{arm}_sd"), _col(sheet, f"{arm}_sem"), _col(sheet, f"{arm}_n")
    from_sem = sd.isna() & sem.notna()
    return sd.where(~from_sem, sem * np.sqrt(n)), from_sem


def shared_control_m(sheet: pd.DataFrame) -> pd.Series:
    """How many comparisons share each row's control group (1 where ``control_group`` is empty).

    Rows share a control when they have the same ``study``, ``control_group``, ``outcome`` and
    ``time``: the same control animals measured once, set against m different treatment groups.
    """
    if "control_group" not in sheet:
        return pd.Series(1, index=sheet.index, dtype=int)
    keys = [c for c in ("study", "control_group", "outcome", "time") if c in sheet]
    frame = sheet[keys].astype("string").fillna("\x00")
    m = frame.groupby(keys, sort=False)[keys[0]].transform("size").astype(int)
    return m.where(sheet["control_group"].notna(), 1)


def smd(m1, sd1, n1, m2, sd2, n2):
    """Hedges' g with the exact bias correction and metafor's large-sample variance.

    :math:`g = c(m)\\,(\\bar x_1-\\bar x_2)/s_p`, :math:`c(m) = \\Gamma(m/2) /
    (\\sqrt{m/2}\\,\\Gamma((m-1)/2))`, :math:`m = n_1+n_2-2` (Hedges 1981);
    :math:`v = 1/n_1 + 1/n_2 + g^2/(2(n_1+n_2))` (``escalc(measure="SMD")``, vtype "LS"); NaN
    where :math:`m \\le 1`, as metafor. g is scale-free, so means and SDs are first divided by the row's larger SD: squares of SDs
    in units of 1e200 would overflow (and of 1e-200 underflow) otherwise.
    """
    mdf = n1 + n2 - 2
    scale = np.maximum(sd1, sd2)
    sd1, sd2 = sd1 / scale, sd2 / scale
    sp = np.sqrt(((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / mdf)
    # c(m) is undefined for m <= 1 (metafor's .cmicalc gives NA there), so is g
    cm = np.where(mdf > 1, np.exp(gammaln(mdf / 2) - np.log(np.sqrt(mdf / 2)) - gammaln((mdf - 1) / 2)), np.nan)
    yi = cm * (m1 / scale - m2 / scale) / sp
    return yi, 1 / n1 + 1 / n2 + yi**2 / (2 * (n1 + n2))


def md(m1, sd1, n1, m2, sd2, n2):
    """Raw mean difference, :math:`v = s_1^2/n_1 + s_2^2/n_2` (``escalc(measure="MD")``)."""
    return m1 - m2, sd1**2 / n1 + sd2**2 / n2


def rom(m1, sd1, n1, m2, sd2, n2):
    """Log ratio of means (Hedges et al. 1999), :math:`v = s_1^2/(n_1\\bar x_1^2) + s_2^2/(n_2\\bar x_2^2)`."""
    return np.log(m1 / m2), sd1**2 / (n1 * m1**2) + sd2**2 / (n2 * m2**2)


def nmd(m1, sd1, n1, m2, sd2, n2, msham):
    """Normalised mean difference in percent of the injury-induced deficit (Vesterinen et al. 2014).

    With the deficit :math:`\\Delta = |\\bar x_c - \\bar x_{sham}|`:
    :math:`y = 100(\\bar x_t - \\bar x_c)/\\Delta` and
    :math:`v = (100 s_t/\\Delta)^2/n_t + (100 s_c/\\Delta)^2/n_c`.
    Oriented by ``better``, 100 means the treatment group is back at the sham level.
    """
    deficit = np.abs(m2 - msham)
    return 100 * (m1 - m2) / deficit, (100 * sd1 / deficit) ** 2 / n1 + (100 * sd2 / deficit) ** 2 / n2


def escalc(sheet: pd.DataFrame, measure: str = "SMD", orient: str = "benefit") -> pd.DataFrame:
    """Add ``yi``, ``vi`` and their provenance to every row of an extraction sheet.

    Parameters
    ----------
    sheet : DataFrame
        Extraction-sheet columns (``trt_mean``, ``trt_sd``/``trt_sem``, ``trt_n``, ``ctl_*``,
        ``sham_*``, or a precomputed ``yi`` with ``vi``/``sei``; ``better``, ``control_group``...).
        Its index names the rows in error messages (the reader uses spreadsheet row numbers).
    measure : {"SMD", "MD", "ROM", "NMD"}
    orient : {"benefit", "raw"}
        ``raw`` keeps treatment minus control (or its log ratio); ``benefit`` flips the sign of
        rows whose ``better`` is ``lower`` so that a positive effect always favours the treatment.
        Precomputed ``yi`` are read as treatment minus control and oriented the same way.

    Returns
    -------
    DataFrame
        The sheet, rows in the same order, with ``yi``, ``vi``, ``measure``, ``ctl_n_eff``
        (control n after the shared-control split), ``shared_m``, ``sd_from_sem`` (arms whose
        SD came from an SEM), ``converted`` (each arm whose mean or SD was converted, and how:
        ``trt:sem;ctl:ci``, :data:`premeta.convert.KINDS`; as :func:`premeta.sheet.validate`
        wrote it, which converts CIs and medians, else the SEM arms), ``zero_sd`` (``trt``, ``ctl`` or ``""``: the arm whose SD, or SEM,
        was 0, a floor or ceiling effect; its variance then rests on the other arm) and
        ``precomputed``.

    Notes
    -----
    metafor's equivalent is ``escalc(measure = "SMD", m1i = trt_mean, sd1i = trt_sd, n1i = trt_n,
    m2i = ctl_mean, sd2i = ctl_sd, n2i = ctl_n)`` (``"MD"``, ``"ROM"`` likewise; ``"NMD"`` has
    none), with the sign of ``better = "lower"`` rows flipped for ``orient="benefit"``.

    Examples
    --------
    >>> import pandas as pd
    >>> import premeta
    >>> sheet = pd.DataFrame({"study": ["Lee 2019", "Ono 2021"], "trt_mean": [12.1, 8.4],
    ...                       "trt_sd": [2.0, 1.5], "trt_n": [8, 10], "ctl_mean": [9.0, 7.9],
    ...                       "ctl_sd": [2.2, 1.8], "ctl_n": [8, 10], "better": ["higher", "lower"]})
    >>> premeta.escalc(sheet, "SMD")[["study", "yi", "vi"]].round(4)
          study      yi      vi
    0  Lee 2019  1.3938  0.3107
    1  Ono 2021 -0.2890  0.2021
    """
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {', '.join(MEASURES)}, got {measure!r}")
    if orient not in ORIENTS:
        raise ValueError(f"orient must be one of {', '.join(ORIENTS)}, got {orient!r}")
    out = sheet.copy()
    sds = {arm: arm_sd(sheet, arm) for arm in ARMS}
    m = shared_control_m(sheet)
    n_t, n_c = _col(sheet, "trt_n"), _col(sheet, "ctl_n") / m
    args = (_col(sheet, "trt_mean"), sds["trt"][0], n_t, _col(sheet, "ctl_mean"), sds["ctl"][0], n_c)
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "NMD":
            yi, vi = nmd(*args, _col(sheet, "sham_mean"))
        else:
            yi, vi = {"SMD": smd, "MD": md, "ROM": rom}[measure](*args)
    pre = _col(sheet, "yi").notna()
    pre_vi = _col(sheet, "vi").fillna(_col(sheet, "sei") ** 2)
    yi, vi = yi.where(~pre, _col(sheet, "yi")), vi.where(~pre, pre_vi)

    better = sheet["better"] if "better" in sheet else pd.Series(pd.NA, index=sheet.index)
    problems = []
    if orient == "benefit":
        for row in sheet.index[~better.isin(["higher", "lower"])]:
            problems.append(
                Problem(row, "better", better[row], "must be 'higher' or 'lower' when orient='benefit'")
            )
        yi = yi.where(better != "lower", -yi)
    bad = ~(np.isfinite(yi) & np.isfinite(vi) & (vi > 0))
    for row in sheet.index[bad]:
        problems.append(
            Problem(row, "yi", yi[row], f"no finite {measure} with vi > 0 can be computed from this row")
        )
    if problems:
        raise SheetError(problems)

    out["yi"], out["vi"] = yi.to_numpy(), vi.to_numpy()
    out["measure"] = np.where(pre, "precomputed", measure)
    out["ctl_n_eff"] = n_c.where(~pre).to_numpy()
    out["shared_m"] = m.where(~pre, 1).to_numpy()
    from_sem = [sds[a][1].map({True: a, False: ""}) for a in ARMS]
    out["sd_from_sem"] = pd.concat(from_sem, axis=1).apply(lambda r: ";".join(x for x in r if x), axis=1)
    if "converted" not in out:  # a sheet not from validate: only the SEM is converted here
        out["converted"] = out["sd_from_sem"].map(lambda arms: ";".join(f"{a}:sem" for a in arms.split(";") if a))
    zero = [((sds[a][0] == 0) & ~pre).map({True: a, False: ""}) for a in ("trt", "ctl")]
    out["zero_sd"] = pd.concat(zero, axis=1).apply(lambda r: ";".join(x for x in r if x), axis=1)
    out["precomputed"] = pre.to_numpy()
    return out
