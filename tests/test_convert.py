"""Errors as papers report them (issue 19 §1): SyRF's ErrorType SE, a 95% CI of the mean, and a
median with quartiles and/or range, converted to the mean and SD an effect size needs.

Held to the sources' own numbers where they can be read (the Cochrane Handbook's t divisor, Wan et
al. 2014 Table 1) and to tests/reference/make_conversion_fixtures.R (base R, the formulas of
metafor's conv.fivenum, which metafor 3.8.1 lacks) at 1e-10."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import t

import premeta
from helpers import REPO
from premeta.convert import eta, fivenum, sd_from_ci, skewness, xi
from premeta.effects import checked
from premeta.pairing import pair, syrf_groups
from premeta.report import conversion_counts
from premeta.errors import SheetError
from premeta.sheet import validate

REF = json.loads((REPO / "tests" / "reference" / "conversions.json").read_text())
EXAMPLE = REPO / "tests" / "data" / "syrf" / "quantitative_data_example.csv"


def _nan(rows, key):
    return np.array([np.nan if r[key] is None else r[key] for r in rows], dtype=float)


def test_ci_divisor_is_the_handbooks_t_example():
    """Cochrane Handbook 6.5.2.2: "the t statistic for a 95% confidence interval from a sample size
    of 25 can be obtained by typing =tinv(1-0.95,25-1) ... (the result is 2.0639). The divisor, 3.92,
    in the formula above would be replaced by 2 × 2.0639 = 4.128." premeta always uses the t quantile
    (rodent groups are small); for large n it tends to the Handbook's 3.92."""
    assert round(t.ppf(0.975, 24), 4) == 2.0639 and round(2 * t.ppf(0.975, 24), 3) == 4.128
    width = 2.56
    assert sd_from_ci(0.0, width, 25) == pytest.approx(5 * width / (2 * t.ppf(0.975, 24)), rel=1e-15)
    assert sd_from_ci(0.0, width, 25) == pytest.approx(5 * width / 4.128, rel=1e-4)
    assert 2 * t.ppf(0.975, 100_000 - 1) == pytest.approx(3.92, abs=1e-3)


def test_range_and_iqr_denominators_match_wan_2014():
    """Wan et al. (2014), Table 1, "Values of ξ(n) in the formula (7) and the formula (12) for n ≤ 50"
    (the exact expected range of n standard normal values): n = 5: 2.326, 6: 2.534, 8: 2.847,
    10: 3.078, 15: 3.472, 20: 3.735, 25: 3.931, 30: 4.086, 40: 4.322, 50: 4.498. Their eq. 9,
    ξ(n) ≈ 2Φ⁻¹((n − 0.375)/(n + 0.25)), which metafor's conv.fivenum uses, is within 1.5% of the
    table from n = 5 (1.44% at n = 5, 0.5% at n = 10, 0.25% at n = 50). η(n) of eq. 16 tends to
    2Φ⁻¹(0.75) = 1.349, the Handbook's IQR / 1.35."""
    table = {5: 2.326, 6: 2.534, 8: 2.847, 10: 3.078, 15: 3.472, 20: 3.735, 25: 3.931, 30: 4.086,
             40: 4.322, 50: 4.498}
    n = np.array(list(table))
    np.testing.assert_allclose(xi(n), list(table.values()), rtol=0.015)
    assert eta(10**9) == pytest.approx(1.349, abs=1e-3)


def test_conversions_equal_the_r_script():
    """Every case of tests/reference/conversions.json at 1e-10: the CI, the three cases of the
    five-number summary (mean, SD, skewness statistic and critical value), ξ(n) and η(n)."""
    ci = REF["ci"]
    np.testing.assert_allclose(sd_from_ci(_nan(ci, "lower"), _nan(ci, "upper"), _nan(ci, "n")), _nan(ci, "sd"),
                               rtol=1e-10)
    five = REF["fivenum"]
    args = [_nan(five, k) for k in ("n", "median", "q1", "q3", "min", "max")]
    mean, sd = fivenum(*args)
    stat, crit = skewness(*args)
    for got, key in ((mean, "mean"), (sd, "sd"), (stat, "stat"), (crit, "crit")):
        np.testing.assert_allclose(got, _nan(five, key), rtol=1e-10, err_msg=key)
    assert list(stat >= crit) == [r["skewed"] for r in five] and sum(r["skewed"] for r in five) == 2
    np.testing.assert_allclose(xi(_nan(REF["xi"], "n")), _nan(REF["xi"], "xi"), rtol=1e-10)
    np.testing.assert_allclose(eta(_nan(REF["eta"], "n")), _nan(REF["eta"], "eta"), rtol=1e-10)


def _sheet(**arms):
    base = {"study": ["A 2020", "B 2021"], "outcome": ["PWT", "PWT"], "mechanism": ["pain", "pain"],
            "better": ["higher", "higher"], "trt_mean": [12.0, 8.0], "trt_sd": [2.0, 1.5], "trt_n": [8, 10],
            "ctl_mean": [9.0, 7.0], "ctl_sd": [2.2, 1.8], "ctl_n": [8, 10]}
    sheet = pd.DataFrame(base | arms, dtype=object)
    sheet.index = pd.RangeIndex(2, 2 + len(sheet), name="row")
    return sheet


def test_ci_rows_are_converted_and_flagged():
    sheet = _sheet(trt_sd=[None, 1.5], trt_ci_low=[10.5, None], trt_ci_high=[13.5, None], ctl_sd=[2.2, None],
                   ctl_sem=[None, 0.6])
    out = validate(sheet)
    assert out.at[2, "trt_sd"] == pytest.approx(np.sqrt(8) * 3.0 / (2 * t.ppf(0.975, 7)), rel=1e-15)
    assert list(out["converted"]) == ["trt:ci", "ctl:sem"]
    effects = premeta.escalc(out, "SMD")
    assert list(effects["converted"]) == ["trt:ci", "ctl:sem"] and list(effects["sd_from_sem"]) == ["", "ctl"]
    by_hand = premeta.escalc(_sheet(trt_sd=[out.at[2, "trt_sd"], 1.5], ctl_sd=[2.2, 0.6 * np.sqrt(10)]), "SMD")
    np.testing.assert_allclose(effects["yi"], by_hand["yi"], rtol=1e-15)
    assert conversion_counts(effects) == [(1, "a 95% CI of the mean for at least one group, converted to SD with "
                                              "that group's n and t quantile")]


def test_medians_are_refused_unless_the_config_asks():
    sheet = _sheet(trt_mean=[None, 8.0], trt_sd=[None, 1.5], trt_median=[11.0, None], trt_q1=[9.5, None],
                   trt_q3=[13.0, None])
    with pytest.raises(SheetError) as err:
        validate(sheet)
    (p,) = err.value.problems
    assert (p.row, p.column, p.value) == (2, "trt_median", 11.0)
    assert "set `convert_medians: true` in the config" in p.rule
    out = validate(sheet, convert_medians=True)
    mean, sd = fivenum(8, 11.0, 9.5, 13.0)
    assert (out.at[2, "trt_mean"], out.at[2, "trt_sd"]) == (mean, sd)
    assert list(out["converted"]) == ["trt:median_iqr", ""]
    counts = conversion_counts(premeta.escalc(out, "SMD"))
    assert [k for k, _ in counts] == [1] and "median with quartiles" in counts[0][1]


def test_every_kind_of_median_is_converted_and_named():
    """Range only, quartiles only and all five numbers: Wan/Luo, Wan/Luo, Shi/Luo, as conv.fivenum."""
    sheet = _sheet(trt_mean=[None, None], trt_sd=[None, None], trt_median=[10.0, 20.0], trt_min=[7.0, 12.0],
                   trt_max=[13.0, 27.0], trt_q1=[None, 17.0], trt_q3=[None, 23.0],
                   ctl_mean=[None, 7.0], ctl_sd=[None, 1.8], ctl_median=[9.0, None], ctl_q1=[8.0, None],
                   ctl_q3=[10.5, None])
    out = validate(sheet, convert_medians=True)
    assert list(out["converted"]) == ["trt:median_range;ctl:median_iqr", "trt:median_iqr_range"]
    assert out.at[2, "trt_sd"] == pytest.approx(6.0 / xi(8), rel=1e-15)
    assert out.at[3, "trt_mean"] == pytest.approx(fivenum(10, 20.0, 17.0, 23.0, 12.0, 27.0)[0], rel=1e-15)
    kinds = [k for k, _ in conversion_counts(premeta.escalc(out, "SMD"))]
    assert kinds == [1, 1, 1]


def test_every_conversion_problem_is_reported_at_once():
    """One sheet, one problem per row: each with its row, column, value and rule."""
    rows = {
        "trt_ci_low": [10.0, None, 10.0, 14.0, None, None, None, None, None, None],
        "trt_ci_high": [None, None, 13.0, 12.0, None, None, None, None, None, None],
        "trt_sd": [None, 2.0, 2.0, None, None, None, None, None, None, None],
        "trt_mean": [12.0, 12.0, 12.0, 13.0, None, None, None, None, 12.0, None],
        "trt_median": [None, None, None, None, 11.0, 11.0, 11.0, 11.0, 11.0, 1.2],
        "trt_q1": [None, 10.0, None, None, 10.0, 12.0, 10.0, 11.0, 10.0, 1.0],
        "trt_q3": [None, None, None, None, None, 13.0, 13.0, 11.0, 13.0, 5.0],
        "trt_n": [8, 8, 8, 8, 8, 8, 4, 8, 8, 20],
    }
    k = len(rows["trt_n"])
    sheet = pd.DataFrame({"study": [f"S{i}" for i in range(k)], "outcome": ["PWT"] * k, "mechanism": ["pain"] * k,
                          "better": ["higher"] * k, "ctl_mean": [9.0] * k, "ctl_sd": [2.0] * k, "ctl_n": [8] * k}
                         | rows, dtype=object)
    sheet.index = pd.RangeIndex(2, 2 + k, name="row")
    with pytest.raises(SheetError) as err:
        validate(sheet, convert_medians=True)
    got = [(p.row, p.column) for p in err.value.problems]
    assert got == [(2, "trt_ci_high"), (3, "trt_q1"), (4, "trt_ci_low"), (5, "trt_ci_high"), (6, "trt_q3"),
                   (7, "trt_median"), (8, "trt_n"), (9, "trt_q3"), (10, "trt_median"), (11, "trt_median")], got
    rules = {p.row: p.rule for p in err.value.problems}
    assert rules[2] == "the 95% CI of the mean needs both bounds (trt_ci_low and trt_ci_high)"
    assert rules[3] == "quartiles and range go with a median: trt_median is missing"
    assert rules[4].startswith("give the SD, the SEM or the 95% CI of the mean, not a CI besides")
    assert rules[5] == "the upper bound is below trt_ci_low = 14"
    assert rules[6] == "the quartiles need both trt_q1 and trt_q3"
    assert rules[7] == "must satisfy min <= q1 <= median <= q3 <= max: trt_q1 = 12, trt_median = 11, trt_q3 = 13"
    assert "groups of 5 or more animals (as metafor's conv.fivenum)" in rules[8]
    assert rules[9].startswith("the interquartile range is 0 (trt_q1 = trt_q3)")
    assert rules[10].startswith("give the mean with its SD, SEM or 95% CI, or the median")
    assert rules[11].startswith("too skewed for a mean and SD: skewness test statistic 0.9 >= 0.578, its critical "
                                "value for n = 20 (Shi et al. 2023")
    # the mean outside its own CI, and a CI given without a mean: found with the rest
    bad = _sheet(trt_sd=[None, 1.5], trt_ci_low=[12.5, None], trt_ci_high=[14.0, None])
    with pytest.raises(SheetError) as err:
        validate(bad)
    (p,) = err.value.problems
    assert (p.row, p.column, p.value) == (2, "trt_mean", 12.0) and "outside its 95% CI (12.5 to 14)" in p.rule


def _export(tmp_path, share: int, error_type: str = "SE"):
    """The SyRF example with the errors of every ``share``-th row written as SE/SEM (SD / sqrt(n))."""
    raw = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)
    rows = raw.index[raw.index % share != 0] if share > 1 else raw.index
    sd = raw.loc[rows, "OutcomeError"].astype(float)
    raw.loc[rows, "OutcomeError"] = (sd / np.sqrt(raw.loc[rows, "NumberOfAnimals"].astype(float))).map(repr)
    raw.loc[rows, "ErrorType"] = error_type
    path = tmp_path / "export.csv"
    raw.to_csv(path, index=False)
    return path, len(rows)


def test_syrf_error_type_se_is_an_sem_and_every_comparison_is_analysed(tmp_path):
    """Two thirds of the example's rows given as SE: every comparison the all-SD export makes is
    analysed, with the same effect sizes, and each such arm is flagged `sem` in `converted`."""
    sd_sheet, sd_pairing, _ = checked(EXAMPLE)
    path, k = _export(tmp_path, 3)
    assert k == 32
    sheet, pairing, fmt = checked(path)
    assert fmt == "syrf" and len(sheet) == len(sd_sheet) and (pairing.status == "excluded").sum() == 0
    assert list(pairing.status) == list(sd_pairing.status)
    a, b = premeta.escalc(sd_sheet, "SMD"), premeta.escalc(sheet, "SMD")
    np.testing.assert_allclose(b["yi"], a["yi"], rtol=1e-12)
    np.testing.assert_allclose(b["vi"], a["vi"], rtol=1e-12)
    assert (b["converted"] != "").sum() > 0 and set(";".join(b["converted"]).replace(";", " ").split()) <= {
        "trt:sem", "ctl:sem", "sham:sem"}


def test_syrf_error_types_premeta_cannot_read_are_set_aside_with_a_reason(tmp_path):
    path, _ = _export(tmp_path, 1, "95% CI")
    _, pairing = pair(*syrf_groups(path)[:2])
    assert (pairing.status == "excluded").all() and len(pairing) == 48
    assert set(pairing.detail) == {"error type '95% CI' is not one premeta reads: SD, SEM or SE (the standard "
                                   "error of the mean)"}


def test_report_counts_each_kind_of_conversion():
    """"What was analysed": the SEM sentence, then one clause per kind of conversion found."""
    from html import unescape

    import jinja2

    from premeta.report import _count

    template = (REPO / "src" / "premeta" / "templates" / "report.html.j2").read_text()
    start, end = template.index('{{ n_sem|n("comparison") }}'), template.index("{{ zero_sd|length")
    env = jinja2.Environment(autoescape=True)
    env.filters["n"] = _count
    effects = pd.DataFrame({"converted": ["trt:sem;ctl:ci", "trt:median_iqr;ctl:median_iqr", "ctl:ci", ""]})
    html = " ".join(unescape(env.from_string(template[start:end]).render(
        n_sem=1, n_shared=0, conversions=conversion_counts(effects))).split())
    assert ("1 comparison reported an SEM for at least one group, converted to SD with that group's n; 2 comparisons "
            "reported a 95% CI of the mean for at least one group, converted to SD with that group's n and t quantile; "
            "1 comparison reported a median with quartiles for at least one group, converted to a mean and SD "
            "(Luo et al. 2016; Wan et al. 2014); 0 comparisons shared") in html, html


@pytest.mark.workflow
def test_workflow_converts_flags_and_counts(tmp_path):
    """The workflow once: a median without `convert_medians` stops the run with its rule; with it,
    effect_sizes.csv flags each converted arm and the report counts each kind."""
    from helpers import run

    sheet = pd.DataFrame({
        "study": ["A", "B", "C", "D"], "outcome": "TNF", "better": "lower", "mechanism": "cytokines",
        "trt_mean": [10.0, 12.0, None, 5.0], "trt_sd": [2.0, None, None, 1.0], "trt_n": [8, 10, 6, 7],
        "trt_ci_low": [None, 10.1, None, None], "trt_ci_high": [None, 13.9, None, None],
        "trt_median": [None, None, 9.0, None], "trt_q1": [None, None, 8.0, None], "trt_q3": [None, None, 10.5, None],
        "ctl_mean": [14.0, 13.0, 13.0, None], "ctl_sem": [1.0, 1.1, 0.9, None], "ctl_n": [8, 10, 6, 7],
        "ctl_median": [None, None, None, 7.0], "ctl_min": [None, None, None, 5.5], "ctl_max": [None, None, None, 8.0]})
    path = tmp_path / "converted.csv"
    sheet.to_csv(path, index=False)
    refused = run(tmp_path, "--config", f"data={path}", check=False)
    assert refused.returncode != 0 and "row 4, column 'trt_median', value '9.0': a median, not a mean: set " \
        "`convert_medians: true`" in refused.stderr and "row 5, column 'ctl_median'" in refused.stderr
    run(tmp_path, "--config", f"data={path}", "convert_medians=true", "measure=MD")
    effects = pd.read_csv(tmp_path / "results" / "effect_sizes.csv", keep_default_na=False)
    assert list(effects.converted) == ["ctl:sem", "trt:ci;ctl:sem", "trt:median_iqr;ctl:sem", "ctl:median_range"]
    mean, _ = fivenum(6, 9.0, 8.0, 10.5)
    assert float(effects.loc[2, "yi"]) == pytest.approx(13.0 - mean, rel=1e-12)  # lower is better: flipped
    html = " ".join(unescape_html((tmp_path / "results" / "report.html").read_text()).split())
    assert ("3 comparisons reported an SEM for at least one group, converted to SD with that group's n; 1 comparison "
            "reported a 95% CI of the mean") in html
    assert "1 comparison reported a median with quartiles" in html
    assert "1 comparison reported a median with range" in html


def unescape_html(text: str) -> str:
    from html import unescape

    return unescape(text)


def test_a_ci_of_width_zero_is_an_sd_of_zero():
    """As an SD of 0: data in one group (flagged in zero_sd), refused in both, named at the CI."""
    one = validate(_sheet(trt_sd=[None, 1.5], trt_ci_low=[12.0, None], trt_ci_high=[12.0, None]))
    assert one.at[2, "trt_sd"] == 0 and list(premeta.escalc(one, "SMD")["zero_sd"]) == ["trt", ""]
    with pytest.raises(SheetError) as err:
        validate(_sheet(trt_sd=[0.0, 1.5], ctl_sd=[None, 1.8], ctl_ci_low=[9.0, None], ctl_ci_high=[9.0, None]))
    (p,) = err.value.problems
    assert (p.row, p.column, p.value) == (2, "ctl_ci_high", 9.0) and p.rule.startswith("SD is 0 in both groups")
