"""Power, excess significance, PET-PEESE, rank test, fail-safe N and cumulative meta-analysis
against metafor's tes(), rma(mods =), ranktest(), fsn() and cumul()
(tests/reference/make_publication_bias_fixtures.R)."""

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import close, ours  # noqa: F401 (used below)

from premeta.errors import NotComputable
from premeta.significance import power, tes

REFERENCE = json.loads((Path(__file__).parent / "reference" / "metafor_publication_bias.json").read_text())
DATA = REFERENCE["data"]


def _stratum(dataset: str, group: str):
    """yi, vi and the data set's columns in one stratum (the rodents' species, or all rows)."""
    d = {k: np.asarray(v) for k, v in DATA[dataset].items()}
    if group == "overall":
        return d
    m = d["species"] == group
    return {k: v[m] for k, v in d.items()}


def _id(c, keys):
    return "-".join(str(c[k]) for k in keys)


# ---- power and tes ------------------------------------------------------------------------------

def test_power_closed_form_and_metameta():
    vi = np.array([0.479**2, 0.1, 0.02])
    z = 1.959963984540054
    from scipy.stats import norm

    for theta in (0.178, -0.4, 0.0):
        expected = norm.cdf(theta / np.sqrt(vi) - z) + norm.cdf(-theta / np.sqrt(vi) - z)
        close(power(vi, theta), expected)
    # metameta's README: yi 1.187, se 0.479, theta 0.178 gives a power of 0.06596 (5 digits)
    assert round(float(power([0.479**2], 0.178)[0]), 5) == 0.06596
    close(power([0.04], 0.3, level=90), norm.cdf(1.5 - norm.isf(0.05)) + norm.cdf(-1.5 - norm.isf(0.05)))


@pytest.mark.parametrize("case", REFERENCE["tes"], ids=lambda c: _id(
    c, ["dataset", "group", "test", "tes_alternative", "alternative", "theta_given"]))
def test_tes_matches_metafor(case):
    d = _stratum(case["dataset"], case["group"])
    out = tes(d["yi"], d["vi"], theta=case["theta_given"], alternative=case["alternative"],
              alpha=case["alpha"], tes_alternative=case["tes_alternative"], tes_test=case["test_given"],
              tes_alpha=case["tes_alpha"])
    row = out.iloc[0]
    assert row["observed"] == case["O"] and row["k"] == case["k"] and row["test"] == case["test"]
    close(row["expected"], case["E"])
    close(row["oe_ratio"], case["OEratio"])
    close(row["stat"], case["X2"])
    close(row["p"], case["pval"])
    close(row["theta"], case["theta"])
    close(out.attrs["power"], case["power"])
    close(row[["power_min", "power_q1", "power_median", "power_q3", "power_max"]], case["power_quantiles"])
    lim = row[["theta_lim_low", "theta_lim_high"] if case["tes_alternative"] == "two.sided" else ["theta_lim"]]
    close(lim, case["theta_lim"])  # the root (metafor's search repeated to 1e-13 in the script)
    close(lim, case["theta_lim_metafor"], rtol=1e-3)  # metafor's uniroot stops at about 1e-4


def test_tes_default_test_as_metafor():
    d = _stratum("dorn2007", "overall")
    assert tes(d["yi"], d["vi"]).at[0, "test"] == REFERENCE["tes_default"]["dorn2007"] == "exact"
    rats = _stratum("rodents", "rats")
    assert tes(rats["yi"], rats["vi"]).at[0, "test"] == REFERENCE["tes_default"]["rats"] == "chi2"


def test_tes_groups_equal_separate_calls():
    d = DATA["rodents"]
    both = tes(d["yi"], d["vi"], groups=d["species"], tes_test="binom")
    assert list(both["group"]) == ["mice", "rats"]
    for g in ("mice", "rats"):
        s = _stratum("rodents", g)
        one = tes(s["yi"], s["vi"], tes_test="binom")
        close(both.loc[both["group"] == g, ["expected", "p", "theta_lim"]].to_numpy(),
              one[["expected", "p", "theta_lim"]].to_numpy())
    sp = np.asarray(d["species"])
    close(both.attrs["power"][sp == "mice"], tes(*(_stratum("rodents", "mice")[c] for c in ("yi", "vi")),
                                                 tes_test="binom").attrs["power"])


def test_tes_per_comparison_theta_has_no_limit():
    d = _stratum("dorn2007", "overall")
    out = tes(d["yi"], d["vi"], theta=np.full(len(d["yi"]), 0.2), tes_test="exact")
    ref = tes(d["yi"], d["vi"], theta=0.2, tes_test="exact")
    close(out["p"], ref["p"])
    assert out[["theta", "theta_lim", "theta_lim_low", "theta_lim_high"]].isna().all(axis=None)


def test_tes_bad_arguments():
    with pytest.raises(ValueError, match="tes_alternative"):
        tes([0.1, 0.2], [0.1, 0.1], tes_alternative="bigger")
    with pytest.raises(ValueError, match="theta"):
        tes([0.1, 0.2], [0.1, 0.1], theta=[0.1, 0.2, 0.3])
    with pytest.raises(NotComputable, match="vi <= 0"):
        tes([0.1, 0.2], [0.1, 0.0])
