"""Turn the bundled source files into premeta extraction sheets.

    python data/minocycline/make_sheet.py

writes, next to this script, minocycline_sheet.csv (below), analysis_a_sheet.csv (the paper's
effect sizes, :func:`make_effects_sheet`) and analysis_c_sheet.csv (:func:`make_analysis_c_sheet`).
minocycline_sheet.csv has one row per row of the replication's group-level data `Complete data.csv`
(all 110, Wong_2016 included), in the same order. Every value is copied as text, unchanged;
nothing is computed.

    study        <- study_id       (the study a comparison belongs to, e.g. Arakawa_2012)
    exp_id       <- exp_id         (the experiment: the replication's RVE cluster)
    id           <- id
    outcome      <- measure        (e.g. immobility, latency to immobility)
    mechanism    <- test           (the behavioural test, e.g. Forced swim)
    better       <- effect_direction: "Auto" -> higher, "Flipped" -> lower
    trt_*        <- mean_mino, sd_mino, n_mino   (minocycline group)
    ctl_*        <- mean_ctrl, sd_ctrl, n_ctrl   (control group)
    effect_direction, effect_direction_correction: kept as they are

The replication negates metafor's SMD (minocycline minus control) where effect_direction is
"Auto" so that a negative SMD is antidepressant-like. "Auto" marks outcomes where a higher value
is the better one (latency to immobility, sucrose preference, ...), "Flipped" those where lower is
better (immobility time, ...). premeta's ``orient="benefit"`` negates the rows whose ``better`` is
``lower``, so that a positive SMD favours minocycline: its yi are exactly the replication's with
the opposite sign. No ``control_group`` is given: the replication does not split shared controls.
"""

import csv
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "Complete data.csv"
SHEET = HERE / "minocycline_sheet.csv"
BETTER = {"auto": "higher", "flipped": "lower"}
COLUMNS = {  # sheet column: source column
    "study": "study_id", "exp_id": "exp_id", "id": "id", "outcome": "measure", "mechanism": "test",
    "trt_mean": "mean_mino", "trt_sd": "sd_mino", "trt_n": "n_mino",
    "ctl_mean": "mean_ctrl", "ctl_sd": "sd_ctrl", "ctl_n": "n_ctrl",
    "effect_direction": "effect_direction", "effect_direction_correction": "effect_direction_correction",
}


def make_sheet(source=SOURCE, sheet=SHEET) -> int:
    """Write the sheet; return its number of rows."""
    with open(source, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    with open(sheet, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["study", "exp_id", "id", "outcome", "mechanism", "better",
                      *list(COLUMNS)[5:]])
        for r in rows:
            better = BETTER[r["effect_direction"].strip().lower()]
            out.writerow([r[COLUMNS[c]] for c in ("study", "exp_id", "id", "outcome", "mechanism")]
                         + [better] + [r[COLUMNS[c]] for c in list(COLUMNS)[5:]])
    return len(rows)


SUPPLEMENT = HERE / "41598_2018_36507_MOESM2_ESM.csv"
EFFECTS = HERE / "analysis_a_sheet.csv"


def make_effects_sheet(source=SUPPLEMENT, sheet=EFFECTS) -> int:
    """Analysis A: the paper's own effect sizes as a sheet of precomputed effects.

    study <- "<first author's surname> <year> (#<study>)" (one label per cluster of the paper's
    `study` column, so clusters stay as published), outcome <- measure, mechanism <- paradigm,
    yi <- hedges, sei <- se (negative = antidepressant-like, as published: run with
    ``orient: raw``), better <- "lower" on every row (the published signs make a lower effect the
    antidepressant-like one, whatever the outcome's own scale: the figures then say "Favours
    minocycline" left of 0), plus tx_dur, tx_dose, rodent as moderators.
    """
    with open(source, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    with open(sheet, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["study", "outcome", "mechanism", "better", "yi", "sei", "tx_dur", "tx_dose", "rodent"])
        for r in rows:
            surname = r["author"].split(",")[0].strip()
            out.writerow([f"{surname} {r['year']} (#{r['study']})", r["measure"], r["paradigm"], "lower", r["hedges"],
                          r["se"], r["tx_dur"], r["tx_dose"], r["rodent"]])
    return len(rows)


ANALYSIS_C = HERE / "analysis_c_sheet.csv"


def make_analysis_c_sheet(sheet=SHEET, out=ANALYSIS_C) -> int:
    """Analysis C of the replication: the group-level sheet without Wong_2016 (as its Rmd), with
    ``study`` set to the experiment (``exp_id``), the replication's RVE cluster, and the study kept
    as ``publication``."""
    with open(sheet, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["study"] != "Wong_2016"]
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, ["study", "publication"] + [c for c in rows[0] if c not in ("study", "exp_id")],
                           lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({"study": r["exp_id"], "publication": r["study"]}
                       | {c: v for c, v in r.items() if c not in ("study", "exp_id")})
    return len(rows)


if __name__ == "__main__":
    print(f"wrote {SHEET} ({make_sheet()} rows)")
    print(f"wrote {EFFECTS} ({make_effects_sheet()} rows)")
    print(f"wrote {ANALYSIS_C} ({make_analysis_c_sheet()} rows)")
