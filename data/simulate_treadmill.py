"""Seeded generator of a SIMULATED extraction sheet: treadmill running and neuropathic pain in rodents.

Flagship question: how does treadmill running relieve neuropathic pain in rodents, and through
which neuroinflammatory mechanisms? No real per-study values are used anywhere in this file:
every study, group and number below is drawn from the distributions stated in the constants.
The studies are called "SimNN (simulated)" so that they can never be mistaken for real papers.

Run ``python data/simulate_treadmill.py`` to (re)write

* ``data/simulated_treadmill_neuropathic_pain.csv``: one row per comparison (one exercise group
  against its sedentary injured control, one outcome, one time point), and
* ``data/template.csv``: the same header plus ``yi, vi, sei``, no data (for real extractions).

``simulate(seed=SEED)`` returns the sheet as a DataFrame and ``render(sheet)`` the exact CSV text
the script writes, so a test can check that the committed file is reproducible byte for byte.

Data-generating model (per row ``i`` of mechanism ``m``, in benefit units):

* true SMD ``theta_i = TRUE_SMD[m] + u_study + u_cohort``, ``u_study ~ N(0, tau_m^2 (1 - COHORT_SHARE))``
  per study and mechanism, ``u_cohort ~ N(0, tau_m^2 COHORT_SHARE)`` per exercise cohort, so
  that ``theta_i ~ N(TRUE_SMD[m], TAU[m]^2)``; outcomes of one mechanism and the time points of
  one cohort share ``theta``. Protocol moderators (speed, duration, start, species...) carry no
  true effect.
* per outcome (``OUTCOMES``; means and ``sigma`` times a per-study assay scale): the sham mean,
  the sedentary injured control mean ``sham -/+ injury * sigma`` (in the injury direction) and
  the exercise mean ``control +/- theta * sigma`` (in the benefit direction).
* each arm's reported mean is ``N(mu, sigma^2 / n)`` and its SD ``sigma * sqrt(chi2(n-1)/(n-1))``,
  rounded to ``SIG_FIGS`` significant figures; SEM-reporting (study, outcome) units report
  ``SD / sqrt(n)`` (rounded) instead. Every row has a sham arm, so NMD is defined for all rows.
* two-cohort studies: both exercise cohorts are compared with the same control animals, whose
  mean, SD/SEM and n are identical in both rows of an outcome and time point.

Pooled REML estimates are a little below ``TRUE_SMD`` on average (about 0.93 for 1.0 over
200 seeds): Hedges' g variances grow with g^2, so larger effects get smaller weights.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

# ----------------------------------------------------------------------------------------------
# Parameters (all values are invented for the simulation; none is taken from a real study)
# ----------------------------------------------------------------------------------------------
SEED = 2024
N_STUDIES = 30

# True pooled standardised mean differences, oriented so that positive = exercise is better.
TRUE_SMD = {
    "Behaviour": 1.0,
    "Pro-inflammatory cytokines": 0.6,
    "Anti-inflammatory cytokines": 0.5,
    "Microglia": 0.7,
    "Astrocytes": 0.0,  # the null mechanism: running does not move spinal GFAP in this simulation
    "BDNF": 0.4,
    "Mu-opioid receptor (RVM)": 0.8,
    "GABA": 0.5,
}
# Between-comparison SD of the true SMDs (tau) per mechanism.
TAU = {
    "Behaviour": 0.4,
    "Pro-inflammatory cytokines": 0.4,
    "Anti-inflammatory cytokines": 0.3,
    "Microglia": 0.4,
    "Astrocytes": 0.3,
    "BDNF": 0.5,
    "Mu-opioid receptor (RVM)": 0.3,
    "GABA": 0.4,
}
COHORT_SHARE = 0.3  # share of tau^2 that varies between exercise cohorts of one study

# Outcomes: mechanism, tissues (one drawn per study), better, rat sham mean, within-group SD,
# and the injury deficit of the sedentary injured control in SD units (always in the "worse"
# direction). BDNF: spinal-cord BDNF rises after nerve injury and drives dorsal-horn
# disinhibition (microglia-to-neuron signalling), so here LOWER spinal BDNF counts as better.
OUTCOMES = {
    "Mechanical withdrawal threshold (g)": ("Behaviour", ("hind paw",), "higher", 12.0, 2.2, 3.5),
    "Thermal withdrawal latency (s)": ("Behaviour", ("hind paw",), "higher", 11.0, 1.6, 3.0),
    "TNF-α (pg/mg)": ("Pro-inflammatory cytokines", ("spinal cord", "DRG", "sciatic nerve"), "lower", 25.0, 6.0, 3.0),
    "IL-1β (pg/mg)": ("Pro-inflammatory cytokines", ("spinal cord", "DRG", "sciatic nerve"), "lower", 18.0, 4.5, 3.0),
    "IL-6 (pg/mg)": ("Pro-inflammatory cytokines", ("spinal cord", "DRG", "sciatic nerve"), "lower", 30.0, 7.0, 2.8),
    "IL-10 (pg/mg)": ("Anti-inflammatory cytokines", ("spinal cord", "DRG", "sciatic nerve"), "higher", 40.0, 7.0, 2.5),
    "Iba1 (% immunoreactive area)": ("Microglia", ("spinal cord",), "lower", 4.0, 1.0, 3.5),
    "GFAP (% immunoreactive area)": ("Astrocytes", ("spinal cord",), "lower", 5.0, 1.2, 3.0),
    "BDNF (pg/mg)": ("BDNF", ("spinal cord",), "lower", 60.0, 10.0, 2.5),
    "MOR (immunoreactive cells per section)": ("Mu-opioid receptor (RVM)", ("RVM",), "higher", 45.0, 7.0, 2.5),
    "GABA (% immunoreactive area)": ("GABA", ("spinal dorsal horn",), "higher", 12.0, 2.0, 2.5),
}
MOUSE_SCALE = {"Mechanical withdrawal threshold (g)": 0.1}  # von Frey thresholds of mice ~1 g
ASSAY_SCALE_SD = 0.25  # log-SD of a per-study, per-outcome scale on means and SDs (labs differ)

# How often biomarker mechanisms are studied (relative weights) and how many per study.
MECHANISM_WEIGHTS = {
    "Pro-inflammatory cytokines": 0.25,
    "Microglia": 0.17,
    "Astrocytes": 0.14,
    "BDNF": 0.12,
    "Anti-inflammatory cytokines": 0.12,
    "Mu-opioid receptor (RVM)": 0.10,
    "GABA": 0.10,
}
N_MECHANISMS = (1, 4)  # biomarker mechanisms per study, besides behaviour (inclusive)
MIN_STUDIES_PER_MECHANISM = 5  # rarer mechanisms are added to studies until reached
P_THERMAL = 0.5  # share of studies that also test thermal latency (mechanical: all)
P_SECOND_CYTOKINE = 0.5  # each further pro-inflammatory cytokine, once one is measured
BEHAVIOUR_DAYS = (7, 14, 21, 28)  # days after injury
LAST_DAY = {14: 0.25, 21: 0.25, 28: 0.5}  # day of the last test and of tissue collection
P_BIOMARKER_EARLY = 0.15  # a biomarker also measured at day 7

# Designs: share of studies with two exercise cohorts sharing one sedentary control.
P_TWO_COHORTS = 0.2
TWO_COHORT_CONTRASTS = {"speed": 0.6, "start": 0.4}  # low vs high speed; pre- vs post-injury start

# Protocols.
SPEED = (8, 22)  # m/min, inclusive
LOW_SPEED, HIGH_SPEED = (8, 12), (16, 22)
MIN_PER_DAY = (30, 40, 45, 50, 60)
DAYS_PER_WEEK = {5: 0.75, 6: 0.1, 7: 0.15}
P_PRE_START = 0.3  # otherwise training starts after the injury
PRE_WEEKS = (2, 4)  # weeks of training before the injury (then continued to the last test)

# Animals.
SPECIES = {("rat", "Sprague-Dawley"): 0.5, ("rat", "Wistar"): 0.25, ("mouse", "C57BL/6J"): 0.25}
SEX = {"male": 0.85, "female": 0.07, "both": 0.08}
MODELS = {"CCI": 0.4, "SNL": 0.15, "SNI": 0.2, "PSL": 0.25}
GROUP_N = (6, 12)  # animals per group, inclusive
P_ATTRITION = 0.25  # an exercise or control group loses 1-2 animals
BIOMARKER_N = (6, 8)  # animals per group processed for tissue (at most the behaviour n)

# Reporting.
P_SEM = 0.3  # share of rows reporting SEM instead of SD (all arms); whole (study, outcome)
# units are drawn at random until this share of rows is reached
SIG_FIGS = 3  # significant figures of reported means, SDs and SEMs

# SYRCLE risk of bias (per study): probabilities of low / high / unclear.
ROB = {
    "rob_sequence": (0.20, 0.05, 0.75),
    "rob_baseline": (0.50, 0.05, 0.45),
    "rob_allocation": (0.05, 0.05, 0.90),
    "rob_housing": (0.10, 0.05, 0.85),
    "rob_blinding_caregivers": (0.05, 0.10, 0.85),
    "rob_random_assessment": (0.10, 0.05, 0.85),
    "rob_blinding_assessor": (0.40, 0.05, 0.55),
    "rob_incomplete_data": (0.35, 0.10, 0.55),
    "rob_selective_reporting": (0.25, 0.05, 0.70),
    "rob_other": (0.60, 0.05, 0.35),
}
ROB_LEVELS = ("low", "high", "unclear")

COLUMNS = [
    "study", "comparison", "cohort", "control_group", "outcome", "mechanism", "tissue", "time",
    "better", "species", "strain", "sex", "model", "speed_m_min", "min_per_day", "days_per_week",
    "weeks", "start", "trt_mean", "trt_sd", "trt_sem", "trt_n", "ctl_mean", "ctl_sd", "ctl_sem",
    "ctl_n", "sham_mean", "sham_sd", "sham_sem", "sham_n", *ROB,
]
TEMPLATE_COLUMNS = [*COLUMNS, "yi", "vi", "sei"]

HERE = Path(__file__).resolve().parent
SHEET_PATH = HERE / "simulated_treadmill_neuropathic_pain.csv"
TEMPLATE_PATH = HERE / "template.csv"
CSV_OPTIONS = {"index": False, "lineterminator": "\n", "encoding": "utf-8"}


# ----------------------------------------------------------------------------------------------
def _pick(rng: np.random.Generator, options: dict):
    keys = list(options)
    return keys[rng.choice(len(keys), p=np.array(list(options.values())) / sum(options.values()))]


def _int(rng: np.random.Generator, lo_hi: tuple[int, int]) -> int:
    return int(rng.integers(lo_hi[0], lo_hi[1] + 1))


def _sig(x: float, digits: int = SIG_FIGS) -> float:
    """``x`` rounded to ``digits`` significant figures (Python's correctly rounded ``round``)."""
    return round(float(x), digits - 1 - math.floor(math.log10(abs(x))))


def _arm(rng: np.random.Generator, mu: float, sigma: float, n: int) -> tuple[float, float]:
    """Reported mean and SD of ``n`` animals drawn from N(mu, sigma^2)."""
    mean = rng.normal(mu, sigma / math.sqrt(n))
    sd = sigma * math.sqrt(rng.chisquare(n - 1) / (n - 1))
    return mean, sd


def _mechanisms(rng: np.random.Generator, n_studies: int) -> list[list[str]]:
    """Biomarker mechanisms of every study; a rare mechanism is topped up to the minimum."""
    names = list(MECHANISM_WEIGHTS)
    p = np.array(list(MECHANISM_WEIGHTS.values()))
    sets = [set(rng.choice(len(names), size=_int(rng, N_MECHANISMS), replace=False, p=p / p.sum()))
            for _ in range(n_studies)]
    for j in range(len(names)):
        while sum(j in s for s in sets) < MIN_STUDIES_PER_MECHANISM:
            free = [i for i, s in enumerate(sets) if j not in s and len(s) < N_MECHANISMS[1]]
            sets[free[rng.integers(len(free))]].add(j)
    return [[names[j] for j in sorted(s)] for s in sets]


def _protocol(rng: np.random.Generator, last_day: int, start: str, speed: int) -> dict:
    weeks = last_day // 7 + (_int(rng, PRE_WEEKS) if start == "pre" else 0)
    return {"speed_m_min": speed, "start": start, "weeks": weeks}


def _study(rng: np.random.Generator, idx: int, mechanisms: list[str]) -> list[dict]:
    study = f"Sim{idx:02d} (simulated)"
    species, strain = _pick(rng, SPECIES)
    design = {"species": species, "strain": strain, "sex": _pick(rng, SEX), "model": _pick(rng, MODELS)}
    common = {
        "min_per_day": int(rng.choice(MIN_PER_DAY)),
        "days_per_week": _pick(rng, DAYS_PER_WEEK),
    }
    last_day = _pick(rng, LAST_DAY)
    rob = {item: ROB_LEVELS[rng.choice(3, p=p)] for item, p in ROB.items()}

    # exercise cohorts against one sedentary injured control group
    if rng.random() < P_TWO_COHORTS:
        contrast = _pick(rng, TWO_COHORT_CONTRASTS)
        if contrast == "speed":
            start = "pre" if rng.random() < P_PRE_START else "post"
            pre_weeks = _int(rng, PRE_WEEKS)
            cohorts = [
                {"speed_m_min": _int(rng, LOW_SPEED), "start": start},
                {"speed_m_min": _int(rng, HIGH_SPEED), "start": start},
            ]
            for c in cohorts:
                c["weeks"] = last_day // 7 + (pre_weeks if start == "pre" else 0)
        else:
            speed = _int(rng, SPEED)
            cohorts = [_protocol(rng, last_day, "pre", speed), _protocol(rng, last_day, "post", speed)]
    else:
        start = "pre" if rng.random() < P_PRE_START else "post"
        cohorts = [_protocol(rng, last_day, start, _int(rng, SPEED))]
    for j, c in enumerate(cohorts, 1):
        c["cohort"], c["control_group"] = f"E{j}", "C1"
        c["comparison"] = f"E{j} vs C1"

    # group sizes
    n_base = _int(rng, GROUP_N)
    attr = lambda: _int(rng, (1, 2)) if rng.random() < P_ATTRITION else 0  # noqa: E731
    n_ctl = max(GROUP_N[0], n_base - attr())
    n_sham = max(GROUP_N[0], n_base - attr())
    for c in cohorts:
        c["n"] = max(GROUP_N[0], n_base - attr())
    n_bio = min(_int(rng, BIOMARKER_N), n_ctl, n_sham, *(c["n"] for c in cohorts))

    # outcomes and time points
    later = [d for d in BEHAVIOUR_DAYS if 7 < d <= last_day]
    days = sorted({7, last_day, *(d for d in later if rng.random() < 0.7)})
    plan = [("Mechanical withdrawal threshold (g)", days)]
    if rng.random() < P_THERMAL:
        plan.append(("Thermal withdrawal latency (s)", days))
    for mech in mechanisms:
        outs = [o for o, spec in OUTCOMES.items() if spec[0] == mech]
        if mech == "Pro-inflammatory cytokines":
            first = int(rng.integers(len(outs)))
            outs = [o for j, o in enumerate(outs) if j == first or rng.random() < P_SECOND_CYTOKINE]
        for o in outs:
            plan.append((o, [7, last_day] if rng.random() < P_BIOMARKER_EARLY else [last_day]))

    # true effects: per study and mechanism, plus a deviation per cohort
    theta = {}
    for mech in dict.fromkeys(OUTCOMES[o][0] for o, _ in plan):
        tau = TAU[mech]
        u = rng.normal(0, tau * math.sqrt(1 - COHORT_SHARE))
        for c in cohorts:
            theta[mech, c["cohort"]] = TRUE_SMD[mech] + u + rng.normal(0, tau * math.sqrt(COHORT_SHARE))

    rows = []
    for outcome, times in plan:
        mech, tissues, better, sham_mu, sigma, injury = OUTCOMES[outcome]
        tissue = tissues[rng.integers(len(tissues))]
        scale = math.exp(rng.normal(0, ASSAY_SCALE_SD)) * (MOUSE_SCALE.get(outcome, 1.0) if species == "mouse" else 1.0)
        sham_mu, sigma = sham_mu * scale, sigma * scale
        sign = 1 if better == "higher" else -1  # benefit direction on the raw scale
        ctl_mu = sham_mu - sign * injury * sigma
        behaviour = mech == "Behaviour"
        for time in times:
            n_c, n_s = (n_ctl, n_sham) if behaviour else (n_bio, n_bio)
            ctl = _arm(rng, ctl_mu, sigma, n_c)
            sham = _arm(rng, sham_mu, sigma, n_s)
            for c in cohorts:
                n_t = c["n"] if behaviour else n_bio
                trt = _arm(rng, ctl_mu + sign * theta[mech, c["cohort"]] * sigma, sigma, n_t)
                row = {"study": study, "comparison": c["comparison"], "cohort": c["cohort"],
                       "control_group": c["control_group"], "outcome": outcome, "mechanism": mech,
                       "tissue": tissue, "time": time, "better": better, **design,
                       "speed_m_min": c["speed_m_min"], **common, "weeks": c["weeks"], "start": c["start"]}
                for arm, (mean, sd), n in (("trt", trt, n_t), ("ctl", ctl, n_c), ("sham", sham, n_s)):
                    row[f"{arm}_mean"] = _sig(mean)
                    row[f"{arm}_sd"] = sd  # rounded, or turned into an SEM, in _report_dispersion
                    row[f"{arm}_sem"] = np.nan
                    row[f"{arm}_n"] = n
                rows.append({**row, **rob})
    return rows


def _report_dispersion(rng: np.random.Generator, sheet: pd.DataFrame) -> pd.DataFrame:
    """Round SDs, or report SEM = SD / sqrt(n) instead, for random (study, outcome) units."""
    units = sheet[["study", "outcome"]].drop_duplicates().to_numpy().tolist()
    size = sheet.groupby(["study", "outcome"], sort=False).size()
    chosen, rows = set(), 0
    for j in rng.permutation(len(units)):
        if rows >= P_SEM * len(sheet):
            break
        chosen.add(tuple(units[j]))
        rows += int(size[tuple(units[j])])
    sem = pd.Series([(s, o) in chosen for s, o in zip(sheet["study"], sheet["outcome"])], index=sheet.index)
    sheet = sheet.copy()
    for arm in ("trt", "ctl", "sham"):
        sd, n = sheet[f"{arm}_sd"], sheet[f"{arm}_n"]
        sheet[f"{arm}_sem"] = [_sig(d / math.sqrt(k)) if e else np.nan for d, k, e in zip(sd, n, sem)]
        sheet[f"{arm}_sd"] = [np.nan if e else _sig(d) for d, e in zip(sd, sem)]
    return sheet


def check(sheet: pd.DataFrame) -> None:
    """Raise AssertionError unless the sheet is valid and carries the designed features."""
    assert list(sheet.columns) == COLUMNS
    for arm in ("trt", "ctl", "sham"):
        n = sheet[f"{arm}_n"]
        assert (n == n.round()).all() and (n >= 2).all(), f"{arm}_n must be integers >= 2"
        assert (sheet[f"{arm}_mean"] > 0).all(), f"{arm}_mean must be positive"
        sd, sem = sheet[f"{arm}_sd"], sheet[f"{arm}_sem"]
        assert (sd.notna() ^ sem.notna()).all(), f"exactly one of {arm}_sd/{arm}_sem per row"
        assert (sd.dropna() > 0).all() and (sem.dropna() > 0).all(), f"{arm} SD/SEM must be > 0"
    sign = np.where(sheet["better"] == "higher", 1, -1)
    assert (sign * (sheet["sham_mean"] - sheet["ctl_mean"]) > 0).all(), "controls not worse than sham"
    per_mech = sheet.groupby("mechanism")["study"].nunique()
    assert set(per_mech.index) == set(TRUE_SMD), f"missing mechanisms: {set(TRUE_SMD) - set(per_mech.index)}"
    assert (per_mech >= MIN_STUDIES_PER_MECHANISM).all(), f"too few studies per mechanism:\n{per_mech}"
    keys = ["study", "control_group", "outcome", "time"]
    ctl_cols = [c for c in sheet if c.startswith(("ctl_", "sham_"))]
    assert (sheet.groupby(keys)[ctl_cols].nunique(dropna=False) == 1).all().all(), "shared control differs"


def simulate(seed: int = SEED) -> pd.DataFrame:
    """The simulated extraction sheet for ``seed`` (one row per comparison, columns ``COLUMNS``)."""
    rng = np.random.default_rng(seed)
    mechanisms = _mechanisms(rng, N_STUDIES)
    rows = [r for i, mech in enumerate(mechanisms, 1) for r in _study(rng, i, mech)]
    sheet = _report_dispersion(rng, pd.DataFrame(rows, columns=COLUMNS))
    check(sheet)
    return sheet


def render(sheet: pd.DataFrame) -> str:
    """The CSV text exactly as the script writes it."""
    return sheet.to_csv(**{k: v for k, v in CSV_OPTIONS.items() if k != "encoding"})


def main() -> None:
    sheet = simulate(SEED)
    SHEET_PATH.write_bytes(render(sheet).encode(CSV_OPTIONS["encoding"]))
    TEMPLATE_PATH.write_bytes(render(pd.DataFrame(columns=TEMPLATE_COLUMNS)).encode("utf-8"))
    print(f"wrote {SHEET_PATH.name}: {len(sheet)} rows, {sheet['study'].nunique()} studies; "
          f"wrote {TEMPLATE_PATH.name}")


if __name__ == "__main__":
    main()
