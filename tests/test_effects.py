"""Effect sizes against metafor's escalc on published group summaries (tests/reference)."""

import numpy as np
import pandas as pd
import pytest
from helpers import close

import premeta
from premeta.errors import SheetError


def sheet_from(data, better="higher"):
    d = pd.DataFrame(data)
    return pd.DataFrame({
        "study": d.get("paper", pd.Series(range(len(d)))).astype(str),
        "outcome": "y", "trt_mean": d.m1i, "trt_sd": d.sd1i, "trt_n": d.n1i,
        "ctl_mean": d.m2i, "ctl_sd": d.sd2i, "ctl_n": d.n2i, "better": better,
    })


def escalc_cases(metafor):
    return [(c, metafor["data"][c["dataset"]]) for c in metafor["escalc"]]


def test_escalc_matches_metafor(metafor):
    assert len(metafor["escalc"]) == 12
    for c, data in escalc_cases(metafor):
        sheet = sheet_from(data)
        if c["shared_control"]:
            sheet["control_group"] = data["control_group"]
            sheet["time"] = data["time"]
        expected_yi = np.array([np.nan if v is None else v for v in c["yi"]], dtype=float)
        ok = np.isfinite(expected_yi)
        out = premeta.escalc(sheet[ok], measure=c["measure"], orient="raw")
        close(out["yi"], expected_yi[ok])
        close(out["vi"], np.array(c["vi"], dtype=float)[ok])
        if c["shared_control"]:
            assert (out["shared_m"] > 1).sum() > 0
            close(out["shared_m"], np.array(data["shared_m"])[ok])


def test_sem_converted_with_the_real_n(metafor):
    data = metafor["data"]["normand1999"]
    sheet = sheet_from(data)
    ref = premeta.escalc(sheet, "SMD", orient="raw")
    sheet["trt_sem"] = sheet.pop("trt_sd") / np.sqrt(sheet["trt_n"])
    sheet["ctl_sem"] = sheet.pop("ctl_sd") / np.sqrt(sheet["ctl_n"])
    out = premeta.escalc(sheet, "SMD", orient="raw")
    close(out["yi"], ref["yi"], rtol=1e-12)
    close(out["vi"], ref["vi"], rtol=1e-12)
    assert set(out["sd_from_sem"]) == {"trt;ctl"}


def test_benefit_puts_threshold_and_cytokine_on_one_axis():
    # exercise raises a withdrawal threshold (higher is better) and lowers TNF-a (lower is better)
    sheet = pd.DataFrame({
        "study": ["A", "A"], "outcome": ["threshold", "TNF"], "better": ["higher", "lower"],
        "trt_mean": [8.0, 20.0], "trt_sd": [2.0, 5.0], "trt_n": [10, 10],
        "ctl_mean": [4.0, 30.0], "ctl_sd": [2.0, 5.0], "ctl_n": [10, 10],
    })
    raw = premeta.escalc(sheet, "SMD", orient="raw")
    ben = premeta.escalc(sheet, "SMD", orient="benefit")
    assert raw.yi[0] > 0 and raw.yi[1] < 0
    assert (ben.yi > 0).all()
    close(ben.yi, [raw.yi[0], -raw.yi[1]], rtol=1e-15)
    close(ben.vi, raw.vi, rtol=1e-15)


def test_nmd_is_percent_of_deficit_recovered():
    # injury lowers the threshold from 15 (sham) to 5; exercise brings it to 10: half recovered
    sheet = pd.DataFrame({
        "study": ["A"], "outcome": ["threshold"], "better": ["higher"],
        "trt_mean": [10.0], "trt_sd": [2.0], "trt_n": [8], "ctl_mean": [5.0], "ctl_sd": [3.0],
        "ctl_n": [8], "sham_mean": [15.0], "sham_sd": [2.0], "sham_n": [6]})
    out = premeta.escalc(sheet, "NMD")
    assert out.yi[0] == pytest.approx(50.0)
    assert out.vi[0] == pytest.approx((100 * 2 / 10) ** 2 / 8 + (100 * 3 / 10) ** 2 / 8)
    sheet["better"] = "lower"  # a cytokine: injury raises it 5 -> 15 ... mirrored
    sheet[["trt_mean", "ctl_mean", "sham_mean"]] = [[10.0, 15.0, 5.0]]
    assert premeta.escalc(sheet, "NMD").yi[0] == pytest.approx(50.0)


def test_nmd_is_metafor_md_rescaled_by_the_deficit(metafor):
    # NMD = 100 MD / deficit and var(NMD) = (100 / deficit)^2 var(MD): held against metafor's
    # escalc("MD") on Normand 1999, with sham groups placed at a deficit of 40% of each control mean
    case = next(c for c in metafor["escalc"] if c["dataset"] == "normand1999" and c["measure"] == "MD")
    sheet = sheet_from(metafor["data"]["normand1999"])
    deficit = 0.4 * sheet.ctl_mean.abs()
    sheet["sham_mean"], sheet["sham_sd"], sheet["sham_n"] = sheet.ctl_mean + deficit, 1.0, 10
    out = premeta.escalc(sheet, "NMD", orient="raw")
    close(out.yi, 100 * np.array(case["yi"]) / deficit)
    close(out.vi, (100 / deficit) ** 2 * np.array(case["vi"]))


def test_precomputed_rows_kept_and_oriented():
    sheet = pd.DataFrame({"study": ["A", "B"], "outcome": ["x", "x"], "better": ["higher", "lower"],
                          "yi": [0.4, 0.3], "sei": [0.2, np.nan], "vi": [np.nan, 0.09]})
    out = premeta.escalc(sheet, "SMD")
    close(out.yi, [0.4, -0.3])
    close(out.vi, [0.04, 0.09])
    assert list(out.measure) == ["precomputed", "precomputed"]


def test_unusable_rows_all_reported():
    sheet = pd.DataFrame({"study": ["A", "B", "C"], "outcome": "x", "better": ["up", "higher", "higher"],
                          "trt_mean": [1.0, 2.0, -1.0], "trt_sd": [1.0, 1.0, 1.0], "trt_n": [5, 5, 5],
                          "ctl_mean": [0.5, 1.0, 1.0], "ctl_sd": [1.0, 1.0, 1.0], "ctl_n": [5, 5, 5]},
                         index=[2, 3, 4])
    with pytest.raises(SheetError) as e:
        premeta.escalc(sheet, "ROM")
    msg = str(e.value)
    assert "row 2, column 'better', value 'up'" in msg and "row 4, column 'yi'" in msg
    assert len(e.value.problems) == 2
