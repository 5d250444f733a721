"""The multiverse of analytic choices: the pooled effect of each group under every combination of them.

A meta-analysis rests on choices a reviewer could reasonably have made otherwise: the effect
measure, the tau² estimator, the test, how dependent comparisons are handled, whether the pooled
effect is adjusted for publication bias, which studies are included. A multiverse analysis
(Steegen et al. 2016) fits every combination; its specification curve (Simonsohn, Simmons & Nelson
2020) shows how far the conclusion depends on them, and in a meta-analysis (Voracek et al. 2019)
whether a pooled effect survives them.

Choices (column, values, default values first):

* ``measure``: ``SMD`` (Hedges' g), ``NMD`` (needs sham groups), ``MD`` (needs one unit), ``ROM``;
  effect sizes are recomputed from the sheet for each by :func:`premeta.escalc`.
* ``method``: the tau² estimator of :func:`premeta.models.fit` (``REML``, ``DL``, ``PM``, ...).
* ``test``: ``z``, ``knha`` (or ``adhoc``).
* ``dependence``: ``none`` (every comparison independent), ``aggregate`` (the comparisons of each
  cohort combined with correlation ``rho``, metafor ``aggregate``, then ``rma``),
  ``multilevel`` (three-level model, CR2 cluster-robust t tests by study) and ``rve`` (robust
  variance estimation by study, robumeta ``robu``), as :func:`premeta.groups.pooling.dependent`.
* ``adjustment``: ``none`` (the pooled effect as fitted), ``pet_peese`` (the conditional PET-PEESE
  estimate of Stanley and Doucouliagos 2014, weighted least squares; for SMDs on the modified SE
  sqrt(1/n1 + 1/n2) of Pustejovsky and Rodgers 2019: :func:`premeta.pet_peese`) and ``selmodel``
  (the step-function selection model of Vevea and Hedges 1995 with one step at a one-sided p of
  0.025 in the direction of the group's common-effect estimate, by ML: :func:`premeta.selmodel`),
  as the publication-bias table of each group (:mod:`premeta.groups.bias`). Each adjusted estimate
  fixes its own estimator and test (:data:`ADJUSTED`) and assumes independent comparisons, so it
  exists with dependence ``none`` only.
* ``inclusion``: ``all``; ``low_rob`` (studies at low risk of bias on random sequence generation
  and blinded outcome assessment, :data:`premeta.rob.KEY_ITEMS`); ``no_influential`` (without the
  comparisons metafor's ``influence`` flags, :func:`premeta.influence`); ``no_single`` (without the
  studies contributing one comparison to the group); ``no_flagged`` (without the rows
  :func:`premeta.flags.flags` flags as suspicious: an SD that is probably an SEM, a shared control
  given different values, identical treatment arms, a cohort's n changing, a label's rarer spelling).
"""

from __future__ import annotations

from itertools import product

import numpy as np
import pandas as pd

from premeta.deprecation import renamed_arguments
from premeta import rob
from premeta.groups.pooling import rve_row, three_level_row, cohort_key
from premeta.groups.bias import modified_se_sizes, selmodel_by_direction
from premeta.groups.common import attempt, attempt_strata, with_notes
from premeta.vocabulary import DEPENDENCE, MEASURES, group_labels, in_label_order, label_order
from premeta.effects import escalc, one_unit
from premeta.flags import flagged
from premeta.bias import pet_peese
from premeta.models import METHODS, TESTS, fit
from premeta.multilevel import aggregate
from premeta.sensitivity import influence
from premeta.errors import SheetError

#: Inclusion rules (module docstring).
INCLUSION = ("all", "low_rob", "no_influential", "no_single", "no_flagged")
#: Adjustments of the pooled effect for publication bias (module docstring).
ADJUSTMENTS = ("none", "pet_peese", "selmodel")
#: The default multiverse: every combination of these values.
CHOICES = {
    "measure": ("SMD", "NMD", "MD"),
    "method": ("REML", "DL", "PM"),
    "test": ("z", "knha"),
    "dependence": DEPENDENCE,
    "adjustment": ADJUSTMENTS,
    "inclusion": INCLUSION,
}
#: Allowed values of each choice.
ALLOWED = {"measure": MEASURES, "method": METHODS, "test": TESTS, "dependence": DEPENDENCE,
           "adjustment": ADJUSTMENTS, "inclusion": INCLUSION}
#: The estimator and test the multilevel and RVE models always use, whatever ``method`` and ``test``
#: say: REML with CR2 cluster-robust Satterthwaite t tests, and robumeta's method-of-moments tau² with
#: its small-sample (CR2-type, Tipton 2015) t tests. Each is one specification, not one per method and test.
OWN_MODEL = {"multilevel": ("REML", "CR2"), "rve": ("MoM", "CR2")}
#: The estimator and test each adjusted estimate always uses, whatever ``method`` and ``test`` say:
#: PET-PEESE as Stanley's weighted least squares (the common-effect meta-regression with the
#: Knapp-Hartung dispersion, t on k - 2 df) and the selection model by ML with z tests. Each is one
#: specification per measure and inclusion, with dependence ``none`` only.
ADJUSTED = {"pet_peese": ("FE", "knha"), "selmodel": ("ML", "z")}
#: The selection model of ``adjustment`` ``selmodel`` (``type``, ``steps``): metafor ``selmodel(type =
#: "stepfun", steps = 0.025)``, the three-parameter model of the per-group table
#: (:data:`premeta.groups.bias.SELECTION_MODELS`).
SELMODEL = ("stepfun", (0.025, 1))
CHOICE_COLUMNS = list(CHOICES)
#: Columns of :func:`multiverse`.
MULTIVERSE_COLUMNS = ["group", "specification", *CHOICE_COLUMNS, "k", "studies", "clusters", "estimate", "se",
                      "stat", "df", "p", "ci_low", "ci_high", "tau2", "i2", "q", "q_p", "converged", "duplicate",
                      "note"]
#: Columns of :func:`summary`.
SUMMARY_COLUMNS = ["group", "primary", "specifications", "fitted", "estimate", "p", "same_sign", "significant",
                   "estimate_min", "estimate_max", "verdict", "verdict_adjusted", "note"]
#: Significance level of the verdicts.
ALPHA = 0.05
#: A group with fewer distinct fitted specifications gets the verdict "not assessable".
MIN_FITTED = 10


def _choices(choices) -> dict[str, tuple]:
    out = dict(CHOICES)
    for key, values in (choices or {}).items():
        if key not in ALLOWED:
            raise ValueError(f"unknown choice {key!r}; the choices are {', '.join(ALLOWED)}")
        values = tuple(dict.fromkeys([values] if isinstance(values, str) else values))
        if bad := [v for v in values if v not in ALLOWED[key]]:
            raise ValueError(f"{key} must be among {', '.join(ALLOWED[key])}, got {', '.join(map(repr, bad))}")
        if not values:
            raise ValueError(f"{key}: at least one value is needed")
        out[key] = values
    return out


def specifications(choices: dict | None = None) -> pd.DataFrame:
    """Every combination of the choices, numbered: the specifications :func:`multiverse` fits.

    Parameters
    ----------
    choices : dict, optional
        Values of each choice (keys ``measure``, ``method``, ``test``, ``dependence``,
        ``adjustment``, ``inclusion``); a key left out takes its default from :data:`CHOICES`.

    Returns
    -------
    pandas.DataFrame
        ``specification`` (1, 2, ...) and one column per choice; measure varies slowest, then
        dependence, adjustment, method, test and inclusion. ``multilevel`` and ``rve`` fix their own
        estimator and test (:data:`OWN_MODEL`), and so do the adjusted estimates (:data:`ADJUSTED`):
        each gives one specification per measure and inclusion, not one per method and test. An
        adjustment other than ``none`` assumes independent comparisons, as :func:`premeta.pet_peese`
        and :func:`premeta.selmodel` do: it is combined with dependence ``none`` only, and the
        other dependence values are not generated with it (with ``adjustment`` ``["selmodel"]``
        alone, only dependence ``none`` is left). In metafor, a specification is one ``rma(yi, vi,
        method, test)`` (or ``rma.mv``, robumeta ``robu``, ``selmodel``, the PET-PEESE
        meta-regression) on the effect sizes and comparisons its choices give.

    Raises
    ------
    ValueError
        An unknown choice or value, a choice without values, or no specification left (adjustments
        other than ``none`` with dependence values other than ``none`` only).

    Examples
    --------
    >>> import premeta
    >>> len(premeta.specifications())
    240
    >>> premeta.specifications({"measure": ["SMD"], "method": ["REML", "DL"], "test": ["knha"],
    ...                         "inclusion": ["all"]})
       specification measure method  test  dependence adjustment inclusion
    0              1     SMD   REML  knha        none       none       all
    1              2     SMD     DL  knha        none       none       all
    2              3     SMD     FE  knha        none  pet_peese       all
    3              4     SMD     ML     z        none   selmodel       all
    4              5     SMD   REML  knha   aggregate       none       all
    5              6     SMD     DL  knha   aggregate       none       all
    6              7     SMD   REML   CR2  multilevel       none       all
    7              8     SMD    MoM   CR2         rve       none       all
    """
    c = _choices(choices)
    rows = []
    for measure, dependence, adjustment in product(c["measure"], c["dependence"], c["adjustment"]):
        if adjustment != "none" and dependence != "none":
            continue  # an adjusted estimate assumes independent comparisons
        pairs = ([ADJUSTED[adjustment]] if adjustment in ADJUSTED else
                 [OWN_MODEL[dependence]] if dependence in OWN_MODEL else product(c["method"], c["test"]))
        for (method, test), inclusion in product(pairs, c["inclusion"]):
            rows.append((measure, method, test, dependence, adjustment, inclusion))
    if not rows:
        raise ValueError("no specification: an adjustment other than none is combined with dependence none only, "
                         f"and dependence is {', '.join(c['dependence'])}")
    out = pd.DataFrame(rows, columns=CHOICE_COLUMNS)
    out.insert(0, "specification", np.arange(1, len(out) + 1))
    return out


def _measure_note(rows: pd.DataFrame, measure: str, sheet_measure: str) -> str:
    """Why ``measure`` cannot be computed for these comparisons ('' when it can)."""
    pre = pd.to_numeric(rows["yi"], errors="coerce").notna() if "yi" in rows else pd.Series(False, index=rows.index)
    if pre.any() and measure != sheet_measure:
        return f"precomputed effects (yi) are in {sheet_measure} only"
    if measure == "NMD" and (lack := int(pd.to_numeric(rows.get("sham_mean", pd.Series(np.nan, index=rows.index)),
                                                         errors="coerce").isna().sum())):
        return f"no sham data for NMD ({lack} of {len(rows)} comparisons have no sham_mean)"
    if measure == "MD" and one_unit(rows) is None:
        col = "unit" if "unit" in rows else "outcome"
        n = rows[col].astype("string").nunique()
        return (f"outcomes in different units ({n} units)" if col == "unit" else
                f"outcomes in different units: {n} outcomes and no unit column to tell they share one")
    return ""


def _effects(sheet: pd.DataFrame, groups: pd.Series, labels: list, measures, sheet_measure: str,
             orient: str) -> dict:
    """(measure, group) -> (effect sizes of the group's comparisons or None, why not)."""
    out = {}
    for m in measures:
        notes = {g: _measure_note(sheet[(groups == g).to_numpy()], m, sheet_measure) for g in labels}
        ok = groups.isin([g for g in labels if not notes[g]]).to_numpy()
        try:  # the eligible groups together: a control shared across groups is split as in the main analysis
            e = escalc(sheet[ok], m, orient) if ok.any() else None
        except SheetError:
            e = None
        for g in labels:
            if notes[g]:
                out[m, g] = None, notes[g]
                continue
            rows = (groups[ok] == g).to_numpy()
            if e is not None:  # without the rows whose split control leaves no effect size (escalc's omitted)
                out[m, g] = e[rows][e[rows]["omitted"] == ""], ""
                continue
            try:
                e_g = escalc(sheet[ok][rows], m, orient)
                out[m, g] = e_g[e_g["omitted"] == ""], ""
            except SheetError as err:
                out[m, g] = None, f"{m} cannot be computed: {err.problems[0]}"
    return out


def _included(e: pd.DataFrame, inclusion: str, studies: pd.DataFrame | None, suspicious: pd.Series, method: str,
              test: str) -> tuple[pd.DataFrame | None, str]:
    """The comparisons a rule keeps, or None and why not; ``suspicious`` is True on the sheet's flagged
    rows, ``method`` and ``test`` are those of the influence diagnostics (``no_influential``)."""
    if inclusion == "all":
        return e, ""
    if inclusion == "no_flagged":
        return e[~suspicious[e.index].to_numpy()], ""
    if inclusion == "low_rob":
        if studies is None:
            return None, f"the sheet has no {' and '.join(rob.KEY_ITEMS)} columns: risk of bias cannot be judged"
        return rob.low_risk(e, studies), ""
    if inclusion == "no_single":
        per = e["study"].map(e["study"].value_counts())
        return e[(per > 1).to_numpy()], ""
    inf, why = attempt(influence, e["yi"].to_numpy(float), e["vi"].to_numpy(float), method, test)
    if inf is None:
        return None, f"influence: {why}"
    return e[(inf["inf"] != "*").to_numpy()], ""


def _too_few(k: int, inclusion: str) -> str:
    """Why ``k`` comparisons (fewer than 2) cannot be pooled."""
    left = {"all": "in the group", "low_rob": "after keeping the studies at low risk of bias",
            "no_influential": "after excluding influential comparisons",
            "no_single": "after excluding the studies with one comparison",
            "no_flagged": "after excluding the flagged rows"}[inclusion]
    return f"{k} comparison{'s' * (k != 1)} {left}: nothing to pool"


@renamed_arguments(by="group_by")
def multiverse(sheet: pd.DataFrame, choices: dict | None = None, group_by: str = "mechanism", measure: str = "SMD",
               orient: str = "benefit", level: float = 95, rho: float = 0.5, rve_model: str = "CORR",
               chunk: tuple[int, int] | None = None) -> pd.DataFrame:
    """The pooled effect of every group of ``group_by`` under every specification (:func:`specifications`).

    Parameters
    ----------
    sheet : pandas.DataFrame
        The checked comparison sheet (:func:`premeta.sheet.validate`): group summaries, from which
        every measure's effect sizes are computed (:func:`premeta.escalc`, oriented by ``orient``).
    choices : dict, optional
        Values of each choice, as :func:`specifications` (default :data:`CHOICES`).
    group_by : str
        Column whose groups are pooled separately.
    measure : str
        The measure of the sheet's precomputed ``yi`` (the run's measure): a group with
        precomputed effects is fitted in this measure only.
    orient, level, rho, rve_model
        As the workflow's config: sign convention, confidence level (percent), the within-cohort
        correlation of ``aggregate`` and the within-study correlation and working model of ``rve``.
    chunk : (i, n), optional
        Fit only chunk i (0-based) of n: the i-th of n contiguous, equal slices (to one pair) of
        the list of (group, specification) pairs, so a chunk computes the effect sizes and influence
        diagnostics of few groups. Every pair is computed the same way in any chunk, so the
        chunks concatenated (:func:`combine`) are the whole table, bit for bit.

    Returns
    -------
    pandas.DataFrame
        One row per group and specification (groups sorted, then specifications in order),
        :data:`MULTIVERSE_COLUMNS`: the choices, ``k`` (comparisons used), ``studies``, ``clusters`` (the
        units pooled: comparisons, cohorts after ``aggregate``, studies for ``multilevel`` and
        ``rve``), the pooled columns (``tau2`` of ``multilevel`` is the sum of its two variance
        components, ``i2`` its total I²; ``q`` and ``q_p`` are NaN for ``rve``; an adjusted
        specification's columns are those of its adjusted estimate, ``tau2`` that of its model, 0
        for PET-PEESE's WLS, and ``i2``, ``q``, ``q_p`` NaN), ``duplicate``
        (True where an inclusion rule excludes nothing, so the fit repeats inclusion ``all``:
        :func:`summary` counts it once) and ``note``, why a specification could not be fitted
        for this group (e.g. ``no sham data for NMD``) or a caveat; it never stops the others.

    Notes
    -----
    Rules, in metafor's terms, for the comparisons of one group in one measure:

    * ``low_rob`` keeps studies whose worst judgement over their rows is ``low`` on
      ``rob_sequence`` and ``rob_blinding_assessor`` (:func:`premeta.rob.low_risk`); without
      these columns it is noted as not available.
    * ``no_influential`` drops the comparisons flagged ``inf = "*"`` by
      ``influence(rma(yi, vi, method = method, test = test))`` of the group; for ``multilevel``,
      ``rve`` and the adjusted estimates the flag comes from ``rma(yi, vi, method = "REML")``
      (test ``z``).
    * ``no_single`` drops the studies with one comparison in the group.
    * ``no_flagged`` drops the rows :func:`premeta.flags.flags` names, the flags computed on the
      whole sheet (a shared control is checked across groups).
    * ``MD`` needs the group's outcomes in one unit: one value of a ``unit`` column, or without
      it one ``outcome``. ``NMD`` needs ``sham_mean`` in every row of the group.
    * ``rve`` and ``multilevel`` need 2 studies (``rve`` as the primary analysis,
      :func:`premeta.groups.pooling.rve_row`);
      ``pet_peese`` 3 comparisons and a precision that varies; ``selmodel`` 3 comparisons and at
      least one p-value on each side of the step; every model at least 2 comparisons (2 cohorts
      after ``aggregate``).

    Fits: for ``none`` and ``aggregate`` every (group, specification) with the same method and
    test is one stratum of one stacked call of :func:`premeta.models.fit` (metafor: one
    ``rma(yi, vi, method, test)`` per stratum; ``aggregate(escalc, cluster = cohort, rho = rho)``
    first). ``multilevel`` (``rma.mv(yi, vi, random = ~ 1 | study/comparison)`` then
    ``robust(clubSandwich = TRUE)``) and ``rve`` (robumeta ``robu``) are fitted one stratum at a
    time: their models are not stacked in premeta.

    Adjusted estimates, as the group's publication-bias table (:mod:`premeta.groups.bias`), every
    (group, specification) of one adjustment a stratum of one stacked call:

    * ``pet_peese``: the conditional PET-PEESE estimate of :func:`premeta.pet_peese` with
      ``method="FE", test="knha"`` (Stanley's weighted least squares): metafor ``rma(yi, vi, mods
      = ~ sqrt(1/n1i + 1/n2i), method = "FE", test = "knha")`` (PET) and, where PET's intercept
      has a two-sided p < 0.10, ``mods = ~ I(1/n1i + 1/n2i)`` (PEESE), its intercept. The
      modified SE sqrt(1/n1 + 1/n2) (n as they entered the effect size: ``trt_n``,
      ``ctl_n_eff``) is the precision for SMDs whose comparisons all have group sizes
      (Pustejovsky and Rodgers 2019); otherwise, and for the other measures, ``mods = ~ sqrt(vi)``
      and ``~ vi``. One call per precision. The ``note`` names the model chosen.
    * ``selmodel``: ``selmodel(rma(yi, vi, method = "ML"), type = "stepfun", steps = 0.025,
      alternative = )`` with ``alternative`` ``"greater"`` where the stratum's common-effect
      estimate (``rma(yi, vi, method = "FE")``) is at least 0, else ``"less"``
      (:func:`premeta.groups.bias.selmodel_by_direction`); one call of :func:`premeta.selmodel`
      per direction.

    Stanley TD, Doucouliagos H (2014). Meta-regression approximations to reduce publication
    selection bias. *Res Synth Methods* 5:60-78. Pustejovsky JE, Rodgers MA (2019). Testing for
    funnel plot asymmetry of standardized mean differences. *Res Synth Methods* 10:57-71. Vevea JL,
    Hedges LV (1995). A general linear model for estimating effect size in the presence of
    publication bias. *Psychometrika* 60:419-435.

    References: Steegen S, Tuerlinckx F, Gelman A, Vanpaemel W (2016). Increasing transparency
    through a multiverse analysis. *Perspect Psychol Sci* 11(5):702-712. Simonsohn U, Simmons JP,
    Nelson LD (2020). Specification curve analysis. *Nat Hum Behav* 4:1208-1214. Voracek M, Kossmeier
    M, Tran US (2019). Which data to meta-analyze, and how? *Z Psychol* 227(1):64-82.

    Examples
    --------
    >>> import pandas as pd
    >>> import premeta
    >>> sheet = pd.DataFrame({"study": ["s1", "s1", "s2", "s3", "s3"], "outcome": "threshold (g)",
    ...                       "mechanism": "behaviour", "better": "higher",
    ...                       "trt_mean": [5.0, 6.1, 4.8, 6.6, 5.2], "trt_sd": 1.0, "trt_n": 8,
    ...                       "ctl_mean": [4.0, 4.4, 4.5, 4.9, 4.6], "ctl_sd": 1.2, "ctl_n": 8})
    >>> t = premeta.multiverse(sheet, {"measure": ["SMD", "NMD"], "method": ["REML"], "test": ["knha"],
    ...                                "dependence": ["none", "rve"], "adjustment": ["none"],
    ...                                "inclusion": ["all", "no_single"]})
    >>> t[["measure", "dependence", "inclusion", "k", "estimate", "p"]].round(3)
      measure dependence  inclusion  k  estimate      p
    0     SMD       none        all  5     0.862  0.023
    1     SMD       none  no_single  4     1.034  0.022
    2     SMD        rve        all  5     0.778  0.113
    3     SMD        rve  no_single  4     1.069  0.051
    4     NMD       none        all  0       NaN    NaN
    5     NMD       none  no_single  0       NaN    NaN
    6     NMD        rve        all  0       NaN    NaN
    7     NMD        rve  no_single  0       NaN    NaN
    >>> for note in t.loc[[2, 4], "note"]:
    ...     print(note)
    Satterthwaite df = 2.0 < 4: the test is unreliable (Tipton 2015)
    no sham data for NMD (5 of 5 comparisons have no sham_mean)
    """
    specs = specifications(choices)
    groups = group_labels(sheet, group_by)
    if groups.isna().any():
        raise ValueError(f"column {group_by!r} is empty in rows {', '.join(map(str, sheet.index[groups.isna()]))}")
    labels = label_order(groups.unique())
    tasks = [(g, s) for g in labels for s in specs.itertuples(index=False)]
    if chunk is not None:
        i, n = chunk
        if not 0 <= i < n:
            raise ValueError(f"chunk must be (i, n) with 0 <= i < n, got {chunk}")
        tasks = tasks[i * len(tasks) // n:(i + 1) * len(tasks) // n]
    effects = _effects(sheet, groups, labels, sorted({s.measure for _, s in tasks}), measure, orient)
    studies = rob.per_study(sheet) if all(c in sheet for c in rob.KEY_ITEMS) else None
    suspicious = flagged(sheet) != ""
    # computed once and shared by the specifications that differ only in what does not change them: the
    # comparisons each inclusion rule keeps (no_influential: per method and test, those of its influence
    # diagnostics) and the units each dependence pools from them
    included: dict = {}
    units: dict = {}
    rows, stacked, adjusted = [], {}, {}
    for j, (g, s) in enumerate(tasks):
        row = {"group": g, **s._asdict(), "k": 0, "duplicate": False, "note": ""}
        rows.append(row)
        e, why = effects[s.measure, g]
        if e is None:
            row["note"] = why
            continue
        own = s.dependence in OWN_MODEL or s.adjustment in ADJUSTED  # influence from REML, z
        method_test = ("REML", "z") if own else (s.method, s.test)
        # the comparisons kept depend on the method and test only through the influence diagnostics
        rule = (s.measure, g, s.inclusion, *(method_test if s.inclusion == "no_influential" else ()))
        if rule not in included:
            included[rule] = _included(e, s.inclusion, studies, suspicious, *method_test)
        kept, why = included[rule]
        if kept is None:
            row["note"] = why
            continue
        row |= {"k": len(kept), "studies": kept["study"].nunique(),
                "duplicate": s.inclusion != "all" and len(kept) == len(e)}
        if row["duplicate"]:
            row["note"] = f"{s.inclusion} excludes nothing here: the same comparisons as inclusion all"
        if len(kept) < 2:
            row["note"] = _too_few(len(kept), s.inclusion)
            continue
        if s.dependence in OWN_MODEL:
            row |= _own_model(kept, s.dependence, rho, level, rve_model, row["note"])
            continue
        if s.adjustment in ADJUSTED:
            row["clusters"] = len(kept)
            adjusted.setdefault(s.adjustment, []).append((j, kept))
            continue
        if (rule, s.dependence) not in units:
            units[rule, s.dependence] = _pooled_units(kept, s.dependence, rho)
        yi, vi, why = units[rule, s.dependence]
        if why:
            row["note"] = why
            continue
        row["clusters"] = len(yi)
        stacked.setdefault((s.method, s.test), []).append((j, yi, vi))
    for (method, test), strata in stacked.items():
        _fit_stacked(rows, strata, method, test, level)
    if "pet_peese" in adjusted:
        _pet_peese_stacked(rows, adjusted["pet_peese"], level)
    if "selmodel" in adjusted:
        _selmodel_stacked(rows, adjusted["selmodel"], level)
    out = pd.DataFrame(rows).reindex(columns=MULTIVERSE_COLUMNS).astype({"studies": "Int64", "clusters": "Int64"})
    return with_notes(out)


def _own_model(kept: pd.DataFrame, dependence: str, rho: float, level: float, rve_model: str, note: str) -> dict:
    """The specification's numbers from the three-level model or RVE, with their own estimator and
    tests (:data:`OWN_MODEL`); a note where it cannot be fitted."""
    out, why = (attempt(three_level_row, kept, level) if dependence == "multilevel"
                else attempt(rve_row, kept, rho, level, rve_model))
    if out is None:
        return {"note": why}
    if dependence == "multilevel" and "sigma2_study" in out:
        out["tau2"] = out["sigma2_study"] + out["sigma2_within"]
    return ({c: out[c] for c in MULTIVERSE_COLUMNS if c in out and c not in ("k", "studies", "note")}
            | {"note": "; ".join(x for x in (note, out.get("note", "")) if x)})


def _pooled_units(kept: pd.DataFrame, dependence: str, rho: float) -> tuple[np.ndarray, np.ndarray, str]:
    """``(yi, vi, "")`` of the units pooled: the comparisons, or for ``aggregate`` one per cohort
    (:func:`premeta.aggregate`); ``why`` instead where that leaves nothing to pool."""
    yi, vi = kept["yi"].to_numpy(float), kept["vi"].to_numpy(float)
    if dependence != "aggregate":
        return yi, vi, ""
    a, why = attempt(aggregate, yi, vi, cohort_key(kept).to_numpy(object), rho)
    if a is None:
        return yi, vi, why
    if len(a) < 2:
        return yi, vi, "one cohort after aggregating: nothing to pool"
    return a["yi"].to_numpy(float), a["vi"].to_numpy(float), ""


def _fit_stacked(rows: list[dict], strata: list, method: str, test: str, level: float) -> None:
    """Fit every specification of one ``method`` and ``test`` in one call of :func:`premeta.fit`
    (each a stratum) and fill in their rows."""
    ids = np.concatenate([np.full(len(y), j) for j, y, _ in strata])
    f = fit(np.concatenate([y for _, y, _ in strata]), np.concatenate([v for _, _, v in strata]), ids,
            method=method, test=test, level=level, confint=False).table()
    for j, r in zip(f.pop("group"), f.to_dict("records")):
        row = rows[j]
        row |= {c: r[c] for c in MULTIVERSE_COLUMNS if c in r and c not in ("k", "method", "test", "note")}
        row["note"] = "; ".join(x for x in (row["note"], r["note"]) if x)


def _fill(rows: list[dict], r: pd.DataFrame, note) -> None:
    """The rows of the adjusted estimates from their method's table ``r`` (one row per stratum,
    ``group`` the row's index in ``rows``), ``note(record)`` the caveat of a fitted stratum."""
    for rec in r.to_dict("records"):
        row = rows[rec["group"]]
        fitted = bool(np.isfinite(rec.get("estimate", np.nan)))
        row |= {c: rec.get(c, np.nan) for c in ("estimate", "se", "stat", "df", "p", "ci_low", "ci_high", "tau2")}
        if fitted:
            row["converged"] = True
        why = rec["note"] if isinstance(rec["note"], str) else ""
        row["note"] = "; ".join(x for x in (row["note"], note(rec) if fitted else "", why) if x)


def _pet_peese_stacked(rows: list[dict], strata: list, level: float) -> None:
    """The conditional PET-PEESE estimate of every (group, specification) of adjustment ``pet_peese``:
    :func:`premeta.pet_peese` with ``method="FE", test="knha"`` (Stanley's WLS), its ``PET-PEESE``
    row, each stratum of one stacked call per predictor: the modified SE for SMDs whose comparisons
    all have group sizes (:func:`premeta.groups.bias.modified_se_sizes`), else the SE."""
    by_predictor: dict = {}
    for j, kept in strata:
        n1, n2 = modified_se_sizes(kept)
        by_predictor.setdefault(n1 is not None, []).append((j, kept, n1, n2))
    for sizes, part in by_predictor.items():
        ids = np.concatenate([np.full(len(kept), j) for j, kept, _, _ in part])
        n1, n2 = ((np.concatenate([a for _, _, a, _ in part]), np.concatenate([b for _, _, _, b in part]))
                  if sizes else (None, None))
        r = attempt_strata(pet_peese, np.concatenate([kept["yi"].to_numpy(float) for _, kept, _, _ in part]),
                           np.concatenate([kept["vi"].to_numpy(float) for _, kept, _, _ in part]), n1i=n1, n2i=n2,
                           groups=ids, method="FE", test="knha", level=level)
        precision = "modified SE sqrt(1/n1 + 1/n2)" if sizes else "SE"
        _fill(rows, r[r["model"] == "PET-PEESE"] if "model" in r else r,
              lambda rec: f"PET-PEESE chose {rec['chosen']}, precision {precision}")


def _selmodel_stacked(rows: list[dict], strata: list, level: float) -> None:
    """The selection model (:data:`SELMODEL`) of every (group, specification) of adjustment
    ``selmodel``, in the direction of each one's common-effect estimate, as the per-group table
    (:func:`premeta.groups.bias.selmodel_by_direction`): the strata of one direction in one call."""
    ids = np.concatenate([np.full(len(kept), j) for j, kept in strata])
    r = selmodel_by_direction(np.concatenate([kept["yi"].to_numpy(float) for _, kept in strata]),
                              np.concatenate([kept["vi"].to_numpy(float) for _, kept in strata]), ids, *SELMODEL,
                              level=level)
    _fill(rows, r, lambda rec: f"selection model: alternative {rec['alternative']}")


def read_chunk(path) -> pd.DataFrame:
    """A table of :func:`multiverse` as :func:`premeta.tables.write_csv` wrote it (a chunk of the workflow),
    every number exactly as computed."""
    from premeta.tables import read_csv

    text = dict.fromkeys(["group", *CHOICE_COLUMNS, "note"], str)
    t = read_csv(path, dtype=text | {"studies": "Int64", "clusters": "Int64"}, keep_default_na=False,
                 na_values=[""])
    return with_notes(t)


def combine(tables) -> pd.DataFrame:
    """The tables of the chunks of :func:`multiverse` as one, in its row order (groups sorted, then
    specifications)."""
    out = pd.concat(list(tables), ignore_index=True)
    return out.sort_values(["group", "specification"], kind="stable", key=in_label_order).reset_index(drop=True)


def primary_choices(primary: dict) -> dict:
    """The primary specification's six choices (``measure``, ``method``, ``test``, ``dependence`` of
    ``primary``; adjustment ``none``, inclusion ``all``), with the estimator and test that multilevel
    and RVE fix."""
    p = {c: primary[c] for c in ("measure", "method", "test", "dependence")} | {"adjustment": "none",
                                                                               "inclusion": "all"}
    if p["dependence"] in OWN_MODEL:
        p["method"], p["test"] = OWN_MODEL[p["dependence"]]
    return p


def summary(table: pd.DataFrame, primary: dict) -> pd.DataFrame:
    """Per group: how many specifications agree with the primary one, and the verdict.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`multiverse`.
    primary : dict
        The analysis as configured: ``measure``, ``method``, ``test``, ``dependence`` (with
        adjustment ``none`` and inclusion ``all``; for ``multilevel`` and ``rve`` their own
        estimator and test).

    Returns
    -------
    pandas.DataFrame
        :data:`SUMMARY_COLUMNS`, one row per group in the order of ``table``: ``primary`` (its
        choices in the order of :data:`CHOICE_COLUMNS`, e.g. ``SMD, REML, knha, none, none, all``:
        dependence ``none``, adjustment ``none``), ``specifications``
        (distinct ones: a rule that excludes nothing is counted once, with ``all``), ``fitted``
        (those with an estimate and p), the primary's ``estimate`` and ``p``, the shares
        (0 to 1) of fitted specifications with the primary's sign (``same_sign``) and with
        p < 0.05 (``significant``), the range of the estimates in the primary's measure
        (``estimate_min``, ``estimate_max``: other measures are on other scales), and the ``verdict``:

        * ``holds``: every fitted specification has the primary's sign and the primary's
          significance at p < 0.05 (significant in all, or in none);
        * ``holds in direction``: the same sign everywhere, significance varies;
        * ``does not hold``: the sign changes;
        * ``not assessable``: the primary specification could not be fitted, or fewer than
          :data:`MIN_FITTED` specifications were (``note`` says which).

        The counts, shares, range and ``verdict`` are over the unadjusted specifications
        (``adjustment`` ``none``); ``verdict_adjusted`` is the same rule over them and the estimates
        adjusted for publication bias (``pet_peese``, ``selmodel``) together, empty where none was
        fitted. The two are kept apart because an adjusted estimate answers another question (the
        effect once selection through the SE or the p-value is undone) and, with few comparisons,
        is often so imprecise that its sign is noise (Stanley 2017; Carter et al. 2019): a reviewer
        reads the unadjusted verdict as the robustness of the analysis to its choices, and the
        adjusted one as whether it also survives the corrections.

    Examples
    --------
    >>> import pandas as pd
    >>> from premeta.groups.multiverse_analysis import summary
    >>> t = pd.DataFrame({"group": "a", "specification": range(1, 13), "measure": "SMD",
    ...                   "method": ["REML"] + ["DL"] * 11, "test": "knha", "dependence": "none",
    ...                   "adjustment": "none", "inclusion": "all", "estimate": [0.8] * 11 + [0.1],
    ...                   "p": [0.01] * 11 + [0.6], "duplicate": False, "note": ""})
    >>> s = summary(t, {"measure": "SMD", "method": "REML", "test": "knha",
    ...                                    "dependence": "none"})
    >>> s[["fitted", "same_sign", "significant", "verdict"]].round(3).to_dict("records")
    [{'fitted': 12, 'same_sign': 1.0, 'significant': 0.917, 'verdict': 'holds in direction'}]
    """
    p = primary_choices(primary)
    out = []
    for g, rows in table.groupby("group", sort=False):
        distinct = rows[~rows["duplicate"].astype(bool)]
        used = distinct[distinct["estimate"].notna() & distinct["p"].notna()]
        plain = used[used["adjustment"] == "none"]
        first = distinct[np.logical_and.reduce([distinct[c] == v for c, v in p.items()])]
        row = dict.fromkeys(SUMMARY_COLUMNS, np.nan) | {
            "group": g, "primary": ", ".join(p.values()), "fitted": len(plain), "note": "",
            "specifications": int((distinct["adjustment"] == "none").sum())}
        scale = plain[plain["measure"] == p["measure"]]["estimate"]  # estimates of other measures: other scales
        if len(scale):
            row |= {"estimate_min": scale.min(), "estimate_max": scale.max()}
        name = row["primary"]
        if first.empty or first["estimate"].isna().all():
            row |= {"verdict": "not assessable", "verdict_adjusted": "not assessable",
                    "note": f"the primary specification ({name}) is not among them" if first.empty else
                    f"the primary specification ({name}) could not be fitted: {first['note'].iloc[0]}"}
            out.append(row)
            continue
        est, pval = first["estimate"].iloc[0], first["p"].iloc[0]
        row |= {"estimate": est, "p": pval, "same_sign": (np.sign(plain["estimate"]) == np.sign(est)).mean(),
                "significant": (plain["p"] < ALPHA).mean(), "verdict": _verdict(plain, est, pval),
                "verdict_adjusted": _verdict(used, est, pval) if len(used) > len(plain) else ""}
        if len(plain) < MIN_FITTED:
            row["note"] = f"{len(plain)} unadjusted specifications fitted; a verdict needs {MIN_FITTED}"
        out.append(row)
    return pd.DataFrame(out, columns=SUMMARY_COLUMNS)


def _verdict(used: pd.DataFrame, estimate: float, p: float) -> str:
    """The verdict of :func:`summary` on the fitted specifications ``used`` against the primary's
    ``estimate`` and ``p``."""
    if len(used) < MIN_FITTED:
        return "not assessable"
    if not (np.sign(used["estimate"]) == np.sign(estimate)).all():
        return "does not hold"
    return "holds" if ((used["p"] < ALPHA) == (p < ALPHA)).all() else "holds in direction"
