"""Effect sizes from group summaries, one row per comparison (metafor ``escalc`` vocabulary).

Every row compares a treatment (``trt_*``: the intervention or exposure) group with its control (``ctl_*``) on one
outcome at one time point. Dispersion may be an SD or an SEM per group; SD = SEM * sqrt(n) with
the group's real n (Higgins et al., Cochrane Handbook 6.5.2.2); a 95% CI of the mean or a median
is converted to a mean and SD before, by :func:`premeta.sheet.validate` (:mod:`premeta.convert`).
A control group that serves m comparisons of the same outcome at the same time (same ``study``,
``control_group``, ``outcome`` and ``time``) enters each with n / m (Vesterinen et al. 2014,
*J Neurosci Methods* 221:92) by default (``shared_control="split"``); ``"full"`` keeps its n in
every comparison (counting its animals m times) and ``"covariance"`` keeps its n and gives the
comparisons their sampling covariance (:func:`shared_control_vcov`; Gleser & Olkin 2009).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import gammaln

from premeta.deprecation import renamed_arguments
from premeta.convert import arm_sd, column
from premeta.errors import Problem, SheetError
from premeta.pairing import in_source, load
from premeta.rob import tool as rob_tool
from premeta.sheet import validate
from premeta.vocabulary import ARMS, MEASURES, ORIENTS, SHARED_CONTROL, VARIABILITY



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
    where :math:`m \\le 1`, as metafor. g is scale-free, so means and SDs are first divided by the row's
    larger SD: squares of SDs in units of 1e200 would overflow (and of 1e-200 underflow) otherwise.
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


def cvr(m1, sd1, n1, m2, sd2, n2):
    """Log coefficient-of-variation ratio, lnCVR (Nakagawa et al. 2015, *Methods Ecol Evol* 6:143), as metafor 3.8.

    :math:`y = \\ln(s_1/\\bar x_1) + 1/(2(n_1-1)) - \\ln(s_2/\\bar x_2) - 1/(2(n_2-1))` and
    :math:`v = 1/(2(n_1-1)) + s_1^2/(n_1\\bar x_1^2) + 1/(2(n_2-1)) + s_2^2/(n_2\\bar x_2^2)`
    (``escalc(measure="CVR")``: each log SD with its small-sample correction :math:`1/(2(n-1))`; the
    variance without the paper's mean-SD correlation terms, as metafor 3.8 computes it).
    """
    return (np.log(sd1 / m1) + 1 / (2 * (n1 - 1)) - np.log(sd2 / m2) - 1 / (2 * (n2 - 1)),
            1 / (2 * (n1 - 1)) + sd1**2 / (n1 * m1**2) + 1 / (2 * (n2 - 1)) + sd2**2 / (n2 * m2**2))


def vr(m1, sd1, n1, m2, sd2, n2):
    """Log variability ratio, lnVR (Nakagawa et al. 2015), as metafor 3.8 (the means are not used).

    :math:`y = \\ln(s_1/s_2) + 1/(2(n_1-1)) - 1/(2(n_2-1))`, :math:`v = 1/(2(n_1-1)) + 1/(2(n_2-1))`
    (``escalc(measure="VR")``).
    """
    return np.log(sd1 / sd2) + 1 / (2 * (n1 - 1)) - 1 / (2 * (n2 - 1)), 1 / (2 * (n1 - 1)) + 1 / (2 * (n2 - 1))


def nmd(m1, sd1, n1, m2, sd2, n2, msham):
    """Normalised mean difference in percent of the injury-induced deficit (Vesterinen et al. 2014).

    With the deficit :math:`\\Delta = |\\bar x_c - \\bar x_{sham}|`:
    :math:`y = 100(\\bar x_t - \\bar x_c)/\\Delta` and
    :math:`v = (100 s_t/\\Delta)^2/n_t + (100 s_c/\\Delta)^2/n_c`.
    Oriented by ``better``, 100 means the treatment group is back at the sham level.
    """
    deficit = np.abs(m2 - msham)
    return 100 * (m1 - m2) / deficit, (100 * sd1 / deficit) ** 2 / n1 + (100 * sd2 / deficit) ** 2 / n2


def one_unit(rows: pd.DataFrame) -> str | None:
    """The one unit every row's outcome is measured in: the ``unit`` column's value where the sheet
    has that column, else the one ``outcome`` (a single outcome is a single unit); None when the
    rows' units differ or one is missing. A mean difference, or an SD pooled over the rows, needs it."""
    units = rows["unit" if "unit" in rows else "outcome"].astype("string")
    return None if units.isna().any() or units.nunique() != 1 else str(units.iloc[0])


def shared_control_key(sheet: pd.DataFrame) -> pd.Series:
    """The control group each row is set against: its (``study``, ``control_group``, ``outcome``,
    ``time``), as text; missing (``<NA>``) where ``control_group`` is empty (a control of its own)."""
    if "control_group" not in sheet:
        return pd.Series(pd.NA, index=sheet.index, dtype="string")
    keys = [c for c in ("study", "control_group", "outcome", "time") if c in sheet]
    key = sheet[keys].astype("string").fillna("\x00").agg("\x1f".join, axis=1).astype("string")
    return key.where(sheet["control_group"].notna())


def escalc(sheet: pd.DataFrame, measure: str = "SMD", orient: str = "benefit",
           shared_control: str = "split") -> pd.DataFrame:
    """Add ``yi``, ``vi`` and their provenance to every row of an extraction sheet.

    Parameters
    ----------
    sheet : DataFrame
        Extraction-sheet columns (``trt_mean``, ``trt_sd``/``trt_sem``, ``trt_n``, ``ctl_*``,
        ``sham_*``, or a precomputed ``yi`` with ``vi``/``sei``; ``better``, ``control_group``...).
        Its index names the rows in error messages (the reader uses spreadsheet row numbers).
        Group sizes may be fractional (the midpoint of a reported range, a pre-split control), as
        metafor's ``escalc`` takes any n > 0.
    measure : {"SMD", "MD", "ROM", "NMD", "CVR", "VR"}
        ``CVR`` (lnCVR) and ``VR`` (lnVR) are the log ratios of the treatment's to the control's
        coefficient of variation and SD (:func:`cvr`, :func:`vr`; Nakagawa et al. 2015): whether the
        response is more variable with the treatment (positive) or less (negative).
    orient : {"benefit", "raw"}
        ``raw`` keeps treatment minus control (or its log ratio); ``benefit`` flips the sign of
        rows whose ``better`` is ``lower`` so that a positive effect always favours the treatment.
        Precomputed ``yi`` are read as treatment minus control and oriented the same way.
        ``CVR`` and ``VR`` are never flipped (more variability is not a benefit or a harm): they
        stay treatment over control whatever ``better`` says (with ``benefit``, ``better`` is still
        required on every row, as for every measure; ``raw`` does not need it).
    shared_control : {"split", "full", "covariance"}
        A control group shared by m comparisons (:func:`shared_control_m`) enters each with
        n / m animals (``split``, CAMARADES; Vesterinen et al. 2014), or with its full n
        (``full``, and ``covariance``, whose comparisons then covary: :func:`shared_control_vcov`).
        With ``split``, a row whose n / m leaves its SMD undefined (Hedges' df
        :math:`n_t + n_c/m - 2 \\le 1`, or a pooled variance :math:`\\le 0`: metafor's ``escalc``
        gives NA), or its lnCVR or lnVR (:math:`n_c/m \\le 1`), keeps NaN ``yi`` and ``vi`` and the
        reason in ``omitted``: it is left out of every model, as metafor's ``rma`` leaves out its NA.

    Returns
    -------
    DataFrame
        The sheet, rows in the same order, with ``yi``, ``vi``, ``measure``, ``ctl_n_eff``
        (control n as it entered the effect size: n / m with ``split``), ``shared_m``,
        ``sd_from_sem`` (arms whose SD came from an SEM), ``converted`` (each arm whose mean or SD was
        converted, and how: ``trt:sem;ctl:ci``, :data:`premeta.convert.KINDS`; as
        :func:`premeta.sheet.validate` wrote it, which converts CIs and medians, else the SEM arms),
        ``zero_sd`` (``trt``, ``ctl`` or ``""``:
        the arm whose SD, or SEM, was 0, a floor or ceiling effect; its variance then rests on the
        other arm), ``fractional_n`` (``trt``, ``ctl`` or ``""``: the arm whose n in the sheet is not
        a whole number), ``split_below_2`` (``split`` only: the shared control leaves fewer than 2
        animals to this comparison), ``omitted`` (``""``, or why the row has no effect size) and
        ``precomputed``.

    Raises
    ------
    SheetError
        A row whose effect or variance cannot be computed (other than ``omitted`` rows), or
        without ``better`` when ``orient="benefit"``.

    Notes
    -----
    metafor's equivalent is ``escalc(measure = "SMD", m1i = trt_mean, sd1i = trt_sd, n1i = trt_n,
    m2i = ctl_mean, sd2i = ctl_sd, n2i = ctl_n / m)`` (``n2i = ctl_n`` for ``full`` and
    ``covariance``; ``"MD"``, ``"ROM"``, ``"CVR"``, ``"VR"`` likewise; ``"NMD"`` has none), with the sign of
    ``better = "lower"`` rows flipped for ``orient="benefit"`` (except ``CVR`` and ``VR``).

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
    if shared_control not in SHARED_CONTROL:
        raise ValueError(f"shared_control must be one of {', '.join(SHARED_CONTROL)}, got {shared_control!r}")
    out = sheet.copy()
    sds = {arm: arm_sd(sheet, arm) for arm in ARMS}
    m = shared_control_m(sheet)
    n_t, n_c = column(sheet, "trt_n"), column(sheet, "ctl_n") / (m if shared_control == "split" else 1)
    args = (column(sheet, "trt_mean"), sds["trt"][0], n_t, column(sheet, "ctl_mean"), sds["ctl"][0], n_c)
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "NMD":
            yi, vi = nmd(*args, column(sheet, "sham_mean"))
        else:
            yi, vi = {"SMD": smd, "MD": md, "ROM": rom, "CVR": cvr, "VR": vr}[measure](*args)
    pre = column(sheet, "yi").notna()
    pre_vi = column(sheet, "vi").fillna(column(sheet, "sei") ** 2)
    yi, vi = yi.where(~pre, column(sheet, "yi")), vi.where(~pre, pre_vi)

    better = sheet["better"] if "better" in sheet else pd.Series(pd.NA, index=sheet.index)
    problems = []
    if orient == "benefit":
        for row in sheet.index[~better.isin(["higher", "lower"])]:
            problems.append(
                Problem(row, "better", better[row], "must be 'higher' or 'lower' when orient='benefit'")
            )
        if measure not in VARIABILITY:
            yi = yi.where(better != "lower", -yi)
    bad = ~(np.isfinite(yi) & np.isfinite(vi) & (vi > 0))
    split_below_2 = (m > 1) & (n_c < 2) & ~pre if shared_control == "split" else pd.Series(False, index=sheet.index)
    # the CAMARADES split is the review's choice: where it leaves no SMD, the row is left out, as metafor's NA
    omitted = pd.Series("", index=sheet.index, dtype=object)
    for row in sheet.index[bad & split_below_2]:
        why = ("and the correction of its log SD, 1/(2(n - 1)), needs n above 1 (Nakagawa et al. 2015)"
               if measure in VARIABILITY else
               f"so Hedges' df n_t + n_c/m - 2 = {n_t[row] + n_c[row] - 2:.3g} (must exceed 1) or the pooled "
               "variance is not positive")
        animals = f"{n_c[row]:.3g} animal{'' if n_c[row] == 1 else 's'}"
        omitted[row] = (f"{measure} undefined: the control group (n = {column(sheet, 'ctl_n')[row]:g}) split among "
                        f"{m[row]} comparisons leaves {animals} to this one, {why}; left out of every model "
                        "(shared_control: full or covariance keeps it)")
    for row in sheet.index[bad & ~split_below_2]:
        problems.append(
            Problem(row, "yi", yi[row], f"no finite {measure} with vi > 0 can be computed from this row")
        )
    if problems:
        raise SheetError(problems)

    left_out = omitted != ""
    out["yi"], out["vi"] = yi.where(~left_out).to_numpy(), vi.where(~left_out).to_numpy()
    out["measure"] = np.where(pre, "precomputed", measure)
    out["ctl_n_eff"] = n_c.where(~pre).to_numpy()
    out["shared_m"] = m.where(~pre, 1).to_numpy()
    from_sem = [sds[a][1].map({True: a, False: ""}) for a in ARMS]
    out["sd_from_sem"] = pd.concat(from_sem, axis=1).apply(lambda r: ";".join(x for x in r if x), axis=1)
    if "converted" not in out:  # a sheet not from validate: only the SEM is converted here
        out["converted"] = out["sd_from_sem"].map(lambda arms: ";".join(f"{a}:sem" for a in arms.split(";") if a))
    zero = [((sds[a][0] == 0) & ~pre).map({True: a, False: ""}) for a in ("trt", "ctl")]
    out["zero_sd"] = pd.concat(zero, axis=1).apply(lambda r: ";".join(x for x in r if x), axis=1)
    ns = {a: column(sheet, f"{a}_n") for a in ("trt", "ctl")}
    fractional = [((n % 1 != 0) & n.notna() & ~pre).map({True: a, False: ""}) for a, n in ns.items()]
    out["fractional_n"] = pd.concat(fractional, axis=1).apply(lambda r: ";".join(x for x in r if x), axis=1)
    out["split_below_2"] = split_below_2.to_numpy()
    out["omitted"] = omitted.to_numpy()
    out["precomputed"] = pre.to_numpy()
    return out


def shared_control_vcov(effects: pd.DataFrame):
    """The sampling covariance of comparisons that share a control group (Gleser & Olkin 2009).

    Comparisons i and j set against the same control group (same ``study``, ``control_group``,
    ``outcome`` and ``time``; :func:`shared_control_key`) with the control's full n
    (``escalc(..., shared_control="covariance")``) covary through those animals. As metafor's
    ``vcalc`` for two comparisons whose second group is the same (its weights the group sizes),

    .. math:: V_{ij} = \\sqrt{v_iv_j}\\;\\frac{1/\\sqrt{n_{c,i}n_{c,j}}}
              {\\sqrt{(1/n_{t,i} + 1/n_{c,i})(1/n_{t,j} + 1/n_{c,j})}},\\quad V_{ii} = v_i,

    the correlation of two mean differences sharing the control mean (:math:`n_{c,i} = n_{c,j}`,
    the control's n, when the sheet gives it alike in both rows), applied to each measure's
    own variances (Gleser & Olkin 2009, in *The Handbook of Research Synthesis and Meta-Analysis*,
    2nd ed., ch. 19). Every other pair is uncorrelated.

    Parameters
    ----------
    effects : DataFrame
        Output of :func:`escalc` with ``shared_control="covariance"`` (``vi``, ``trt_n``,
        ``ctl_n``, ``study``, ``control_group``, ``outcome``, ``time``), in the order of the model's rows.

    Returns
    -------
    scipy.sparse.csr_matrix
        k-by-k, block diagonal by study: the ``vi`` argument of :func:`premeta.multilevel.rma_mv`.

    Notes
    -----
    metafor: ``vcalc(vi, cluster = study, grp1 = comparison, grp2 = control, w1 = trt_n,
    w2 = ctl_n)`` with ``grp1`` a label of each row's own treatment group and ``grp2`` the
    control key (``obs`` left unset: rows sharing a control share the outcome and the time).
    """
    from scipy import sparse

    vi = effects["vi"].to_numpy(float)
    k = len(vi)
    key = shared_control_key(effects).reset_index(drop=True)
    pre = effects["precomputed"].to_numpy(bool) if "precomputed" in effects else np.zeros(k, bool)
    key = key.where(~pre)
    rows, cols = [np.arange(k)], [np.arange(k)]
    for at in key.dropna().groupby(key.dropna(), sort=False).indices.values():
        idx = key.dropna().index[at].to_numpy()
        if len(idx) > 1:
            i, j = np.meshgrid(idx, idx, indexing="ij")
            off = i != j
            rows.append(i[off])
            cols.append(j[off])
    i, j = np.concatenate(rows), np.concatenate(cols)
    n_t, n_c = column(effects, "trt_n").to_numpy(), column(effects, "ctl_n").to_numpy()
    r = np.where(i == j, 1.0,
                 np.sqrt(1 / (n_c[i] * n_c[j])) / np.sqrt((1 / n_t[i] + 1 / n_c[i]) * (1 / n_t[j] + 1 / n_c[j])))
    return sparse.csr_matrix((r * np.sqrt(vi[i] * vi[j]), (i, j)), shape=(k, k))


@renamed_arguments(sheet="worksheet", fmt="format")
def checked(path, format: str = "auto", worksheet=None, measure: str = "SMD", orient: str = "benefit",
            group_by: str | None = None, shared_control: str = "split",
            convert_medians: bool = False, tool=None) -> tuple[pd.DataFrame, pd.DataFrame | None, str]:
    """:func:`premeta.pairing.load`, then :func:`premeta.sheet.validate` (``convert_medians`` and the
    risk-of-bias ``tool``, a :class:`premeta.rob.Tool` or its config spec, SYRCLE when None, passed on) and
    :func:`escalc` (with ``shared_control``):
    ``(sheet, pairing, format)`` of a sheet that can be analysed, else a :class:`SheetError` whose
    problems name the input's own rows and columns (:func:`premeta.pairing.in_source` for a paired sheet)."""
    out, pairing, format = load(path, format, worksheet)
    source = out.attrs.get("source")
    try:
        where = source.where() if source is not None else path  # names the worksheet read
        checked_sheet = validate(out, where, measure, orient, group_by, convert_medians, rob_tool(tool or "syrcle"))
        escalc(checked_sheet, measure, orient, shared_control)
    except SheetError as error:
        raise (error if format == "wide" else in_source(error, out, format, where)) from None
    checked_sheet.attrs["source"] = source
    return checked_sheet, pairing, format
