"""The self-contained HTML report: what was analysed, how, the results, every figure, provenance."""

from __future__ import annotations

import base64
import hashlib
import platform
import subprocess
from importlib.metadata import version
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd

from premeta.groups.rows import STUDY_LEVEL_K
from premeta.groups.common import animals_note
from premeta.groups.pooling import dependence_mode
from premeta.vocabulary import MEASURE_LABELS, Labels, better_of, number, plural
from premeta.flags import RULES as FLAG_RULES
from premeta.rob import OVERALL_RULE, tool as rob_tool
from premeta.pairing import load

PACKAGES = ("premeta", "numpy", "pandas", "scipy", "statsmodels", "matplotlib", "seaborn", "snakemake")
METHOD_WORDS = {
    "FE": "a common-effect (inverse-variance) model",
    "DL": "random-effects models with the DerSimonian-Laird estimator of tau2",
    "HE": "random-effects models with the Hedges (variance components) estimator of tau2",
    "SJ": "random-effects models with the Sidik-Jonkman estimator of tau2",
    "PM": "random-effects models with the Paule-Mandel estimator of tau2",
    "EB": "random-effects models with the empirical Bayes estimator of tau2",
    "ML": "random-effects models fitted by maximum likelihood",
    "REML": "random-effects models fitted by restricted maximum likelihood (REML)",
}
MEASURE_WORDS = {
    "SMD": "standardised mean differences (Hedges' g with the exact small-sample correction; "
           "variance 1/n1 + 1/n2 + g^2/(2(n1+n2)))",
    "MD": "raw mean differences",
    "ROM": "log ratios of means",
    "NMD": "normalised mean differences (percent of the deficit of the control group relative to sham, "
           "Vesterinen et al. 2014)",
    "CVR": "log ratios of the coefficients of variation (lnCVR, Nakagawa et al. 2015, with metafor's small-sample "
           "corrections)",
    "VR": "log ratios of the standard deviations (lnVR, Nakagawa et al. 2015, with metafor's small-sample corrections)",
}


def model_words(mode: str, config: dict) -> str:
    """The primary model in words, for the report's first paragraph and its methods."""
    test = {"knha": "the Knapp-Hartung adjustment", "adhoc": "the modified Knapp-Hartung adjustment",
            "z": "Wald-type z tests"}[config["test"]]
    rma = f"{METHOD_WORDS[config['method']]} with {test}"
    return {
        "none": f"{rma}, each comparison treated as independent",
        "aggregate": f"the comparisons of each cohort combined into one effect (sampling errors correlated "
                     f"rho = {config['rho']:g}; metafor aggregate), then {rma}",
        "multilevel": "a three-level random-effects model (comparisons within studies, REML; metafor rma.mv"
                      + (", with the sampling covariance of the comparisons sharing a control group, metafor vcalc"
                         if config.get("shared_control") == "covariance" else "")
                      + ") with cluster-robust CR2 standard errors and Satterthwaite t tests by study (clubSandwich)",
        "rve": "robust variance estimation clustered by study (robumeta robu, "
               + (f"correlated-effects weights, rho = {config['rho']:g}" if config.get("rve_model", "CORR") == "CORR"
                  else "hierarchical weights") + ", small-sample corrected)",
    }[mode]


def shared_notes(primary: pd.DataFrame) -> set[str]:
    """The caveats every row of ``primary`` carries (the glance table's footnote gives them once)."""
    return set.intersection(*(set(str(n).split("; ")) for n in primary["note"].astype(object).fillna(""))) - {""}


def glance_notes(primary: pd.DataFrame, pooled: pd.DataFrame, level: float) -> list[str]:
    """Each group's note in the glance table: the primary model's note (less :func:`shared_notes`),
    and where the comparisons-independent analysis (``pooled``) reaches the other side of
    p = 1 - level/100, a sentence saying so."""
    alpha = 1 - level / 100
    other = pooled.set_index("group")["p"]
    shared = shared_notes(primary)
    notes = []
    for _, r in primary.iterrows():
        note = [n for n in str(r["note"]).split("; ") if n and n not in shared] if isinstance(r["note"], str) else []
        q = other.get(r["group"], np.nan)
        if r.get("dependence") != "none" and np.isfinite(r["p"]) and np.isfinite(q) and (r["p"] < alpha) != (q < alpha):
            side = "significant" if q < alpha else "not significant"
            shown = _pfmt(q, 3)
            note.append(f"with comparisons treated as independent the effect is {side} "
                        f"(p {shown if shown.startswith('<') else '= ' + shown})")
        notes.append("; ".join(note))
    return notes


def flag_rules(flags: pd.DataFrame) -> list[dict]:
    """Each rule of :data:`premeta.flags.RULES`: its name, wording, and the rows it names (each once,
    in the order of the sheet), from the table of :func:`premeta.flags.flags`."""
    out = []
    for rule, wording in FLAG_RULES.items():
        rows = [row for text in flags.loc[flags["rule"] == rule, "rows"] for row in str(text).split(", ")]
        rows = list(dict.fromkeys(rows))
        out.append({"rule": rule, "wording": wording, "n": len(rows), "rows": ", ".join(rows)})
    return out


def sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def git_commit(where: str | Path) -> str:
    """The commit of the workflow's repository, with '+changes' when its tree differs; else 'unknown'."""
    try:
        run = lambda *a: subprocess.run(["git", "-C", str(where), *a], capture_output=True,  # noqa: E731
                                        text=True, check=True).stdout.strip()
        commit = run("rev-parse", "HEAD")
        return commit + ("+changes" if run("status", "--porcelain", "--untracked-files=no") else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def is_simulated(path: str | Path) -> bool:
    """Simulated data says so in its file name (the project's rule for honest data)."""
    return "simulated" in Path(path).name.lower()


def citation(where: str | Path) -> dict:
    """Title, authors and licence from the repository's ``CITATION.cff`` (what "How to cite" prints)."""
    import yaml

    path = Path(where) / "CITATION.cff"
    cff = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    authors = ", ".join(a.get("name") or f"{a.get('given-names', '')} {a.get('family-names', '')}".strip()
                        for a in cff.get("authors", [])) or "the premeta developers"
    return {"title": cff.get("title", "premeta"), "authors": authors, "license": cff.get("license", "MIT")}


def _img(path: str | Path) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode()


def _fmt(x, digits: int = 2) -> str:
    if isinstance(x, (float, np.floating)):
        if np.isnan(x):
            return ""
        if abs(x) < 10 ** -(digits + 1) and x != 0:
            return f"{x:.1e}"
        return f"{x:.{digits}f}"
    return "" if x is None or (isinstance(x, float) and np.isnan(x)) else str(x)


def _count(x, word: str | None = None) -> str:
    """A count as a whole number ("" when missing), with ``word`` in its number (``1 comparison``)."""
    if x is None or (isinstance(x, (float, np.floating)) and np.isnan(x)):
        return ""
    return plural(float(x), word) if word else number(float(x))


def _pfmt(p: float, digits: int = 4) -> str:
    return "" if pd.isna(p) else (f"< {10**-digits:.{digits}f}" if p < 10**-digits else f"{p:.{digits}f}")


def _extras(files) -> dict:
    """Tables (``name.csv`` -> records) and figures (``name.png`` -> ``name_png``, a data URI) of the further
    analyses."""
    from premeta.tables import read_csv  # labels without the spreadsheet-safety prefix

    out = {}
    for f in map(Path, files):
        if f.suffix == ".csv":
            text = dict.fromkeys(("group", "study", "label", "moderator", "analysis", "term", "note"), str)
            out[f.stem] = read_csv(f, dtype=text, keep_default_na=False, na_values=[""]).fillna(
                {"note": "", "group": ""}).to_dict("records")
        elif f.suffix == ".png":
            out[f"{f.stem}_png"] = _img(f)
    return out


def sex_summary(counts: list[dict]) -> str:
    """The first sentence of the report's section on sex: over all groups (the last row of ``sex.csv``),
    how many studies used males, females, mixed-sex groups, did not say, and tested both sexes separately."""
    if not counts:
        return ""
    r = counts[-1]
    parts = [f"{_count(r['studies_male'])} used males", f"{_count(r['studies_female'])} females",
             f"{_count(r['studies_both'])} mixed-sex groups"]
    if r["studies_not_reported"]:
        parts.append(f"{_count(r['studies_not_reported'])} did not report the sex")
    return (f"Of the {_count(r['studies'], 'study')}, {', '.join(parts)} (a study can count under several); "
            f"{_count(r['studies_male_and_female'])} tested males and females separately.")


#: How the report words each kind of conversion (:data:`premeta.convert.KINDS`) but the SEM's, in their order.
CONVERSION_WORDS = {
    "ci": "a 95% CI of the mean for at least one group, converted to SD with that group's n and t quantile",
    "median_iqr": "a median with quartiles for at least one group, converted to a mean and SD (Luo et al. 2016; "
                  "Wan et al. 2014)",
    "median_range": "a median with range for at least one group, converted to a mean and SD (Luo et al. 2016; "
                    "Wan et al. 2014)",
    "median_iqr_range": "a median with quartiles and range for at least one group, converted to a mean and SD "
                        "(Luo et al. 2016; Shi et al. 2020)",
}


def conversion_counts(effects: pd.DataFrame) -> list[tuple[int, str]]:
    """``(comparisons, words)`` of each kind of conversion but the SEM's found in ``effects["converted"]``
    (``trt:ci;ctl:median_iqr``): a comparison counts once per kind, whichever of its groups it was."""
    converted = effects.get("converted", pd.Series("", index=effects.index)).fillna("").astype(str)
    kinds = converted.map(lambda v: {part.partition(":")[2] for part in v.split(";") if part})
    counts = {kind: sum(kind in k for k in kinds) for kind in CONVERSION_WORDS}
    return [(k, CONVERSION_WORDS[kind]) for kind, k in counts.items() if k]


def render(*, sheet_path, effects: pd.DataFrame, primary: pd.DataFrame, pooled: pd.DataFrame, tests: pd.DataFrame,
           config: dict, forest: dict[str, str], funnel: str, workflow_dir: str | Path,
           studies: dict[str, str] | None = None,
           extra=(), skipped: dict[str, str] | None = None, bubbles: dict[str, str] | None = None,
           fmt: str = "wide", pairing: pd.DataFrame | None = None, flags: pd.DataFrame | None = None) -> str:
    """The report as one HTML string; figures are embedded, nothing is fetched when it is opened.

    ``primary`` is the primary model's table (:func:`premeta.primary`): the glance
    table, the first paragraph and every diamond; ``pooled`` the comparisons-independent one
    (:func:`premeta.stratified`), shown as the secondary view.
    ``forest`` maps each group (and the all-groups row) to its forest plot, ``studies`` the large
    groups to their study-level forest plot. ``extra`` lists the output files of the further analyses (CSV tables
    and PNG figures), each shown in its section when present; ``skipped`` maps analyses that could not run to why;
    ``bubbles`` maps each numeric moderator to the file-name stem of its bubble plot; ``fmt`` is
    the sheet's format and ``pairing`` the pairing table of a SyRF export or long sheet
    (:func:`premeta.pairing.pair`); ``flags`` the table of suspicious values
    (:func:`premeta.flags.flags`, ``flags.csv``), listed under "What was analysed".
    """
    env = jinja2.Environment(loader=jinja2.PackageLoader("premeta", "templates"),
                             autoescape=True, keep_trailing_newline=True)
    env.filters["num"] = _fmt
    env.filters["n"] = _count
    env.filters["p"] = _pfmt
    groups, overall = pooled.iloc[:-1], pooled.iloc[-1]  # the all-groups row is always last
    # effects as written, with the rows escalc left without an effect size (listed, not analysed)
    left_out = effects["omitted"].fillna("") != "" if "omitted" in effects else pd.Series(False, index=effects.index)
    omitted, effects = effects[left_out], effects[~left_out]
    mode, reason = dependence_mode(effects, config["dependence"], config.get("shared_control", "split"))
    labels = Labels.from_config(config)
    tool = rob_tool(config.get("risk_of_bias", "syrcle"))
    main = primary.assign(glance_note=glance_notes(primary, pooled, config["level"]))
    return env.get_template("report.html.j2").render(
        primary=main.iloc[:-1].to_dict("records"),
        primary_overall=main.iloc[-1].to_dict(),
        shared_notes=sorted(shared_notes(primary)),
        mode=mode,
        mode_reason=reason,
        model_words=model_words(mode, config),
        labels=labels,
        direction=labels.direction(config["orient"], better_of(effects["better"]) if "better" in effects else None,
                                   config["measure"]),
        simulated=is_simulated(sheet_path),
        sheet_name=Path(sheet_path).name,
        source=load(sheet_path, fmt, config.get("worksheet"))[0].attrs["source"],
        fmt=fmt,
        pairing=None if pairing is None else pairing.fillna({"detail": ""}).to_dict("records"),
        pairing_counts={} if pairing is None else pairing["status"].value_counts().to_dict(),
        sha=sha256(sheet_path),
        config=config,
        commit=git_commit(workflow_dir),
        citation=citation(workflow_dir),
        study_level_k=STUDY_LEVEL_K,
        versions={p: version(p) for p in PACKAGES} | {"python": platform.python_version()},
        measure_label=MEASURE_LABELS.get(config["measure"], config["measure"]),
        measure_words=MEASURE_WORDS[config["measure"]],
        method_words=METHOD_WORDS[config["method"]],
        n_rows=len(effects),
        animals_note=animals_note(effects),
        n_studies=effects["study"].nunique(),
        n_sem=int((effects.get("sd_from_sem", pd.Series("", index=effects.index)).fillna("") != "").sum()),
        conversions=conversion_counts(effects),
        n_shared=int((effects.get("shared_m", pd.Series(1, index=effects.index)) > 1).sum()),
        fractional_n=[{"row": r, "study": e.study, "outcome": e.outcome, "trt_n": e.trt_n, "ctl_n": e.ctl_n}
                      for r, e in effects.iterrows() if isinstance(e.get("fractional_n"), str) and e.fractional_n],
        split_below_2=[{"row": r, "study": e.study, "outcome": e.outcome, "ctl_n": e.ctl_n, "m": e.shared_m,
                        "n_eff": e.ctl_n_eff} for r, e in effects[effects.get(
                            "split_below_2", pd.Series(False, index=effects.index)).fillna(False).astype(bool)
                        ].iterrows()],
        omitted=[{"row": r, "study": e.study, "outcome": e.outcome, "why": e.omitted} for r, e in omitted.iterrows()],
        zero_sd=[{"row": r, "study": e.study, "outcome": e.outcome,
                  "arm": " and ".join(labels.arm(a) for a in e.zero_sd.split(";"))}
                 for r, e in effects.assign(zero_sd=effects.get("zero_sd", "")).fillna({"zero_sd": ""}).iterrows()
                 if e.zero_sd],
        flags=None if flags is None else flags.to_dict("records"),
        flag_rules=[] if flags is None else flag_rules(flags),
        n_flagged=0 if flags is None else len({r for t in flags["rows"] for r in str(t).split(", ")}),
        groups=groups.to_dict("records"),
        overall=overall.to_dict(),
        tests=tests.to_dict("records"),
        forest={g: _img(p) for g, p in forest.items()},
        studies={g: _img(p) for g, p in (studies or {}).items()},
        funnel=_img(funnel),
        x=(x := _extras(extra)),
        sex_words=sex_summary(x.get("sex", [])),
        effects_columns=list(effects.columns),
        rob_items=tool.labels | {"overall": "Overall"}, rob_tool=tool, overall_rule=OVERALL_RULE,
        skipped=skipped or {},
        bubbles=bubbles or {},
    )
