"""Forest and funnel plots: files, text, structure, determinism and size."""

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq
from matplotlib.patches import Polygon

import premeta
from premeta import plots
from premeta.groups.bias import funnel_centres
from premeta.plots import axes, forestplot, style


def _data(sizes, seed=0):
    """Effects in strata of the given sizes, their weights and the pooled table with ``overall``."""
    rng = np.random.default_rng(seed)
    group = np.repeat(list(sizes), list(sizes.values()))
    vi = rng.uniform(0.1, 0.5, len(group))
    yi = rng.normal(0.8, 0.4, len(group)) + rng.normal(0, np.sqrt(vi))
    rows = pd.DataFrame({"label": [f"Study{i:02d} 2015 · MWT d14" for i in range(len(group))],
                         "group": group, "yi": yi, "vi": vi, "n_total": rng.integers(10, 30, len(group))})
    f = premeta.fit(yi, vi, groups=group)
    rows["weight"] = f.weights
    pooled = pd.concat([f.table(), premeta.rma(yi, vi)], ignore_index=True)
    return rows, pooled


def _ci(row):
    return f"{row.estimate:.2f} [{row.ci_low:.2f}, {row.ci_high:.2f}]"


@pytest.fixture(scope="module")
def grouped():
    return _data({"Treadmill": 8, "Wheel": 6, "Swimming": 1})


def test_forest_writes_png_and_svg_with_text(grouped, tmp_path):
    rows, pooled = grouped
    paths = plots.forest(rows, pooled, "SMD", tmp_path / "sub" / "forest", title="Locomotion")
    assert [p.name for p in paths] == ["forest.png", "forest.svg"]
    png, svg = paths
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    text = svg.read_text(encoding="utf-8")
    assert text.startswith("<?xml") and "</svg>" in text
    for label in rows["label"]:
        assert label in text
    overall = pooled.set_index("group").loc["overall"]
    for s in ("Favours treatment", "Favours control", "Hedges' g (SMD)", "Locomotion", "Treadmill (k = 8)",
              "k = 1: no pooling", "RE model, all groups (k = 15)", _ci(overall),
              f"PI [{overall.pi_low:.2f}, {overall.pi_high:.2f}]",
              f"τ² = {overall.tau2:.2f}, I² = {overall.i2:.0f}%, Q = {overall.q:.2f} (df = 14, p = "):
        assert s in text, s
    assert f"{rows.weight.iloc[0]:.1f}%" in text
    assert "<dc:date>" not in text


def test_forest_draws_one_diamond_per_pooled_stratum(grouped):
    rows, pooled = grouped
    fig = plots.forest_figure(rows, pooled, "SMD")
    diamonds = [p for p in fig.axes[0].patches if isinstance(p, Polygon)]
    assert len(diamonds) == int((pooled["k"] > 1).sum()) == 3  # Treadmill, Wheel, overall
    centres = sorted(p.get_xy()[1, 0] for p in diamonds)
    assert centres == pytest.approx(sorted(pooled.loc[pooled.k > 1, "estimate"]))
    without_overall = plots.forest_figure(rows, pooled[pooled.group != "overall"], "SMD")
    assert sum(isinstance(p, Polygon) for p in without_overall.axes[0].patches) == 2


def test_single_group_forest(tmp_path):
    rows, pooled = _data({"all": 7}, seed=3)
    pooled = pooled[pooled.group == "overall"]
    fig = plots.forest_figure(rows, pooled, "MD", sides=("Favours sedentary", "Favours exercise"))
    texts = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
    assert {"Study", "Weight", "Estimate [95% CI]", "RE model (k = 7)", _ci(pooled.iloc[0]),
            "← Favours sedentary", "Favours exercise →"} <= set(texts)
    assert fig.axes[0].get_xlabel() == "Mean difference"
    assert sum(isinstance(p, Polygon) for p in fig.axes[0].patches) == 1


def test_clipped_intervals_end_in_arrows():
    rows = pd.DataFrame({"label": ["a", "b"], "group": "g", "yi": [0.5, -0.2], "vi": [1.0, 0.01],
                         "weight": [40.0, 60.0]})
    pooled = premeta.rma(rows.yi, rows.vi)
    ax = plots.forest_figure(rows, pooled, "SMD", xlim=(-1, 1.5)).axes[0]
    markers = [ln.get_marker() for ln in ax.lines]
    assert markers.count("<") == 1 and markers.count(">") == 1  # study a: 0.5 ± 1.96 on both sides
    assert ax.get_xlim() == (-1, 1.5)


def _texts(fig):
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]


def test_labels_are_never_cut_the_column_widens_then_wraps():
    rows, pooled = _data({"all": 3})
    short = plots.forest_figure(rows, pooled, "SMD").get_size_inches()[0]
    rows.loc[0, "label"] = "Mechanical withdrawal threshold (von Frey, 50% g)"
    rows.loc[1, "label"] = "Thermal withdrawal latency (Hargreaves, s)"
    fig = plots.forest_figure(rows, pooled, "SMD")
    assert set(rows.label) <= set(_texts(fig))  # whole, on one line each
    assert fig.get_size_inches()[0] > short  # the label column took the width it needed
    rows.loc[2, "label"] = " ".join(["Iba1-immunoreactive microglia in the ipsilateral dorsal horn"] * 3)
    fig = plots.forest_figure(rows, pooled, "SMD")
    lines = [t for t in _texts(fig) if t.startswith("Iba1") or "dorsal" in t]
    assert len(lines) >= 2 and " ".join(lines) == rows.label[2]  # wrapped, nothing dropped
    assert all(style.text_width(t) <= forestplot.LABEL_MAX for t in lines)
    assert fig.get_size_inches()[1] > plots.forest_figure(rows.iloc[:2], pooled, "SMD").get_size_inches()[1]


def test_per_arm_n_columns_and_the_test_for_the_overall_effect():
    rows, pooled = _data({"all": 4})
    rows["n_trt"], rows["n_ctl"] = [8, 10, 6, 12], [8, 5, 6, np.nan]
    fig = plots.forest_figure(rows, pooled.iloc[[-1]], "SMD", ilab={"Exercise n": "n_trt", "Control n": "n_ctl"})
    texts = _texts(fig)
    assert {"Exercise n", "Control n", "8", "10", "5", "12"} <= set(texts)
    p = pooled.iloc[-1]
    assert f"Test for overall effect: z = {p.stat:.2f}, p = {p.p:.3f}" in texts or \
        f"Test for overall effect: z = {p.stat:.2f}, p < 0.001" in texts
    knha = premeta.rma(rows.yi, rows.vi, test="knha")
    texts = _texts(plots.forest_figure(rows, knha, "SMD"))
    assert any(t.startswith(f"Test for overall effect: t = {knha.stat[0]:.2f} (df = 3), ") for t in texts)


def test_summary_forest_has_one_diamond_per_group_and_the_subgroup_tests(grouped):
    rows, pooled = grouped
    pooled = pooled.assign(studies=pooled.k, animals=20 * pooled.k)
    tests = premeta.models.subgroup_tests(rows.yi, rows.vi, rows.group)
    fig = plots.summary_forest_figure(pooled, tests, "SMD", group_by="mechanism")
    diamonds = [p for p in fig.axes[0].patches if isinstance(p, Polygon)]
    assert len(diamonds) == 3  # Treadmill, Wheel and overall; Swimming (k = 1) is a square
    texts = _texts(fig)
    assert {"mechanism", "k", "Studies", "Animals", "Swimming", "RE model, all groups", "15", "300"} <= set(texts)
    qb = tests.iloc[0]
    assert f"Test for subgroup differences (between the separate fits): Q = {qb.stat:.2f} (df = 2), " \
           f"p = {qb.p:.2f}" in texts or any(t.startswith("Test for subgroup differences (between") for t in texts)
    assert any(t.startswith("Test for subgroup differences (meta-regression, common τ²): Q = ") for t in texts)
    assert fig.get_size_inches()[1] < 5  # one line per group, not one per comparison
    assert not any("†" in t for t in texts)
    one_study = pooled.assign(studies=np.where(pooled.group == "Wheel", 1, pooled.studies))
    texts = _texts(plots.summary_forest_figure(one_study, tests, "SMD"))
    assert "Wheel †" in texts and any(t.startswith("† rests on very little") for t in texts)


def test_redrawing_gives_identical_files(grouped, tmp_path):
    rows, pooled = grouped
    a = plots.forest(rows, pooled, "SMD", tmp_path / "a")
    b = plots.forest(rows, pooled, "SMD", tmp_path / "b")
    for x, y in zip(a, b):
        assert x.read_bytes() == y.read_bytes()
    c = plots.funnel(rows, 0.5, "SMD", tmp_path / "c")
    d = plots.funnel(rows, 0.5, "SMD", tmp_path / "d")
    assert c[1].read_bytes() == d[1].read_bytes()


def test_height_scales_with_rows():
    heights = {}
    for k in (20, 60):
        rows, pooled = _data({"all": k})
        heights[k] = plots.forest_figure(rows, pooled, "SMD").get_size_inches()
    assert heights[60][0] == heights[20][0]
    assert heights[60][1] - heights[20][1] == pytest.approx(40 * forestplot.ROW)
    assert heights[60][1] >= 60 * forestplot.ROW


def test_forest_requires_columns():
    rows, pooled = _data({"all": 3})
    with pytest.raises(ValueError, match="weight"):
        plots.forest_figure(rows.drop(columns="weight"), pooled, "SMD")


@pytest.mark.parametrize("precision, ylabel", [("se", "Standard error"), ("n", "1/√n")])
def test_funnel(grouped, tmp_path, precision, ylabel):
    rows, pooled = grouped
    est = float(pooled.set_index("group").loc["overall", "estimate"])
    paths = plots.funnel(rows, est, "SMD", tmp_path / "funnel", precision=precision)
    assert all(p.stat().st_size > 1000 for p in paths)
    ax = plots.funnel_figure(rows, est, "SMD", precision=precision).axes[0]
    assert ax.yaxis_inverted() and ax.get_ylim()[1] == 0
    assert ax.get_ylabel().startswith(ylabel) and ax.get_xlabel() == "Hedges' g (SMD)"
    y = np.sqrt(rows.vi) if precision == "se" else 1 / np.sqrt(rows.n_total)
    points = np.concatenate([c.get_offsets() for c in ax.collections if type(c).__name__ == "PathCollection"])
    order = np.lexsort((points[:, 1], points[:, 0]))
    expected = np.c_[rows.yi, y]
    np.testing.assert_allclose(points[order], expected[np.lexsort((expected[:, 1], expected[:, 0]))])
    # coloured by group, with one legend entry per group
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(dict.fromkeys(rows.group))
    dashed = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert len(dashed) == 2
    top = [ln.get_xdata()[0] for ln in dashed]  # the funnel closes at the estimate, at precision 0
    assert top == pytest.approx([est, est])


def test_funnel_by_n_needs_n_total_and_has_no_funnel_for_raw_measures(grouped):
    rows, _ = grouped
    with pytest.raises(ValueError, match="n_total"):
        plots.funnel_figure(rows.drop(columns="n_total"), 0.5, "SMD", precision="n")
    ax = plots.funnel_figure(rows, 0.5, "MD", precision="n").axes[0]
    assert not [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    with pytest.raises(ValueError, match="precision"):
        plots.funnel_figure(rows, 0.5, "SMD", precision="w")


def test_bubble_figure_has_a_panel_per_group_with_its_fitted_line():
    points = pd.DataFrame({"group": ["a"] * 3 + ["b"] * 4, "x": [1, 2, 3, 1, 2, 4, 5],
                           "yi": [0.1, 0.5, 0.9, 1.0, 0.8, 0.4, 0.2], "weight": [1, 2, 3, 1, 1, 1, 1]})
    lines = pd.DataFrame({"group": ["a", "b"], "intercept": [-0.3, 1.2], "slope": [0.4, -0.2], "p": [0.004, 0.2]})
    fig = plots.bubble_figure(points, lines, "weeks", "SMD")
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == ["a (k = 3, p = 0.004)", "b (k = 4, p = 0.20)"]
    x, y = axes[1].lines[0].get_data()
    assert (x[0], x[-1]) == (1, 5) and np.allclose(y, 1.2 - 0.2 * x)
    sizes = axes[0].collections[0].get_sizes()
    np.testing.assert_allclose(sizes, 200 * np.array([1, 2, 3]) / 3)


def test_comparison_figure_lists_every_group_once_per_analysis():
    est = pd.DataFrame({"group": ["A", "B", "overall"] * 2, "analysis": ["independent"] * 3 + ["three-level"] * 3,
                        "estimate": [0.5, np.nan, 0.6, 0.55, np.nan, 0.62],
                        "ci_low": [0.1, np.nan, 0.3, 0.0, np.nan, 0.2],
                        "ci_high": [0.9, np.nan, 0.9, 1.1, np.nan, 1.0]})
    fig = plots.comparison_figure(est, "SMD")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A", "B", "overall"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["independent", "three-level"]


def test_a_forest_plot_of_more_rows_than_a_reader_can_use_says_so(monkeypatch):
    rows, pooled = _data({"all": 12})
    monkeypatch.setattr(forestplot, "FOREST_MAX_ROWS", 10)
    fig = plots.forest_figure(rows, pooled, "SMD", title="Behaviour")
    texts = _texts(fig)
    assert "Behaviour" in texts and any("12 rows are more than a legible forest plot holds (10)" in t for t in texts)
    assert fig.get_size_inches()[1] < 2


def test_figures_are_drawn_in_seaborns_theme_with_its_colourblind_palette():
    """seaborn's ticks style and paper context under premeta's font and SVG settings, while a figure
    is drawn and saved (and not after); the groups' colours are seaborn's colour-blind palette."""
    import matplotlib as mpl
    import seaborn as sns

    before = dict(mpl.rcParams)
    with style.theme():
        for key, value in {**sns.axes_style("ticks"), **sns.plotting_context("paper")}.items():
            if key not in style.RC:
                assert mpl.rcParams[key] == mpl.rcParams.validate[key](value), key
        assert mpl.rcParams["font.sans-serif"] == ["DejaVu Sans"] and mpl.rcParams["svg.hashsalt"] == "premeta"
    assert dict(mpl.rcParams) == before
    colorblind = sns.color_palette("colorblind").as_hex()
    assert style.palette(3) == colorblind[:3]
    assert [tuple(c) for c in style.palette(12)] == [tuple(c) for c in sns.color_palette("husl", 12)]


@pytest.mark.slow  # fresh Python processes
def test_importing_the_figures_does_not_import_seaborn():
    """seaborn (with scipy.stats and statsmodels, half a second) comes with the first figure drawn,
    not with the import: checked in a fresh process."""
    import subprocess
    import sys

    code = ("import sys, premeta.plots; print('seaborn' in sys.modules); "
            "premeta.plots.message_figure('t', 'm'); print('seaborn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


# --- axes that show the data (metafor's alim): axes.span ---------------------------------------------------

Z = 1.959963984540054


def _rows_from_cis(est, lo, hi, group="g"):
    """Forest rows whose 95% CIs are the given ones, with their RE (Knapp-Hartung) fit."""
    est, lo, hi = (np.asarray(x, float) for x in (est, lo, hi))
    vi = ((hi - lo) / (2 * Z)) ** 2
    rows = pd.DataFrame({"label": [f"S{i}" for i in range(len(est))], "group": group, "yi": est, "vi": vi})
    pooled = premeta.rma(rows.yi, rows.vi, test="knha")
    rows["weight"] = 100 / len(rows)
    return rows, pooled


def _clip_marks(ax):
    return [ln.get_marker() for ln in ax.lines if ln.get_marker() in ("<", ">", "^", "v")]


# the GABA group of the bundled sheet: every interval within [-1.17, 2.42]
GABA = dict(est=[-0.04, -0.05, -0.11, 0.73, 1.05, 0.96, 0.97, 0.73],
            lo=[-1.17, -1.10, -1.16, -0.36, -0.16, -0.14, -0.49, -0.70],
            hi=[1.09, 1.00, 0.94, 1.81, 2.25, 2.07, 2.42, 2.15])


def test_a_group_forest_shows_every_interval_that_is_not_extreme():
    rows, pooled = _rows_from_cis(**GABA)
    ax = plots.forest_figure(rows, pooled, "SMD").axes[0]
    x0, x1 = ax.get_xlim()
    assert x0 <= -1.17 and x1 >= 2.42 and x0 <= 0 <= x1
    assert x1 - x0 <= 2 * (2.42 + 1.17)  # not stretched beyond pretty rounding
    assert _clip_marks(ax) == []  # no interval drawn clipped


def test_only_an_extreme_interval_is_clipped_and_it_does_not_set_the_scale():
    est, lo, hi = (GABA[c] + [x] for c, x in zip(("est", "lo", "hi"), (1.0, -8.0, 10.0)))
    rows, pooled = _rows_from_cis(est, lo, hi)
    ax = plots.forest_figure(rows, pooled, "SMD").axes[0]
    x0, x1 = ax.get_xlim()
    assert -8 < x0 <= -1.17 and 2.42 <= x1 < 10 and x1 - x0 <= 6
    assert sorted(_clip_marks(ax)) == ["<", ">"]  # the extreme study, both ends; the others whole
    clipped = [ln.get_ydata()[0] for ln in ax.lines if ln.get_marker() in ("<", ">")]
    assert clipped == [len(GABA["est"])] * 2  # the last row
    # two wide but not extreme studies (as analysis C's tail suspension group): shown whole
    est, lo, hi = (GABA[c] + x for c, x in zip(("est", "lo", "hi"), ([4.27, 4.23], [2.22, 2.19], [6.32, 6.27])))
    ax = plots.forest_figure(*_rows_from_cis(est, lo, hi), "SMD").axes[0]
    assert ax.get_xlim()[1] >= 6.32 and _clip_marks(ax) == []


def test_no_interval_is_clipped_that_fits_inside_1_5_times_the_non_extreme_range():
    """The product owner's acceptance rule, with the non-extreme range computed here from the docstring of
    axes.span: ends beyond Tukey's fence (axes.FENCE IQRs of the ends) set aside; R = their range with 0 and the
    estimates; W = R widened about its centre to 1.5 times its span."""
    rng = np.random.default_rng(7)
    for _ in range(40):
        k = int(rng.integers(2, 15))
        est = rng.normal(rng.uniform(-1, 2), rng.uniform(0.05, 1.5), k)
        half = rng.uniform(0.2, 1.5, k) * np.where(rng.uniform(size=k) < 0.15, rng.uniform(5, 40, k), 1)
        rows, pooled = _rows_from_cis(est, est - half, est + half)
        pools = [pooled.iloc[0]] if k > 2 else []  # k = 2: a thin pool, scale from the studies only
        ax = plots.forest_figure(rows, pooled, "SMD").axes[0]
        x0, x1 = ax.get_xlim()
        ends = np.r_[est - half, est + half, [p[c] for p in pools for c in ("ci_low", "ci_high", "pi_low", "pi_high")]]
        ends = ends[np.isfinite(ends)]
        core = np.r_[0.0, est, [p["estimate"] for p in pools]]
        q1, q3 = np.quantile(ends, [0.25, 0.75])
        fence = axes.FENCE * (q3 - q1)
        kept = ends[(ends >= q1 - fence) & (ends <= q3 + fence)]
        r0, r1 = min(core.min(), kept.min()), max(core.max(), kept.max())
        w0, w1 = r0 - (r1 - r0) / 4, r1 + (r1 - r0) / 4
        fits = (est - half >= w0) & (est + half <= w1)
        assert np.all(est[fits] - half[fits] >= x0) and np.all(est[fits] + half[fits] <= x1)
        assert x0 <= r0 and x1 >= r1  # the non-extreme range is always shown
        lo, hi, window = axes.span(core[1:], ends, ())
        assert window == pytest.approx((w0, w1)) and w0 <= lo and hi <= w1  # nothing beyond W sets the axis


def _thin_summary():
    """Seven groups with CIs within [-1, 2] and one (k = 2) with a Knapp-Hartung CI of [-21.4, 24.4]."""
    est = [0.54, 1.45, 1.04, 0.21, 1.52, 0.75, 1.13]
    ci = [(-0.40, 1.47), (0.99, 1.90), (0.54, 1.54), (-0.93, 1.34), (-21.38, 24.43), (0.29, 1.21), (0.57, 1.69)]
    pi = [(-0.43, 1.50), (-0.2, 1.9), (0.31, 1.77), (np.nan, np.nan), (-36.98, 40.03), (-0.9, 1.95), (-1.0, 2.0)]
    k = [4, 54, 7, 1, 2, 19, 21]
    pooled = pd.DataFrame({"group": [f"G{i}" for i in range(7)], "k": k, "studies": [2, 52, 7, 1, 2, 18, 21],
                           "estimate": est, "ci_low": [c[0] for c in ci], "ci_high": [c[1] for c in ci],
                           "pi_low": [p[0] for p in pi], "pi_high": [p[1] for p in pi],
                           "se": [(c[1] - c[0]) / (2 * Z) for c in ci], "tau2": 0.1, "i2": 30.0, "q": 5.0,
                           "q_df": [x - 1 for x in k], "q_p": 0.3, "stat": 3.0, "df": 10.0, "p": 0.01,
                           "test": "knha", "method": "REML", "note": ""})
    overall = pooled.iloc[[1]].assign(group="overall", k=108, studies=60, estimate=1.14, ci_low=0.88, ci_high=1.40,
                                      pi_low=-0.83, pi_high=3.11, q_df=107)
    tests = pd.DataFrame({"test": ["Q_between (separate fits)"], "stat": [9.7], "df1": [6.0], "df2": [np.nan],
                          "p": [0.14]})
    return pd.concat([pooled, overall], ignore_index=True), tests


def test_a_thin_group_never_sets_the_scale_of_the_summary_forest():
    pooled, tests = _thin_summary()
    fig = plots.summary_forest_figure(pooled, tests, "SMD", group_by="mechanism")
    ax = fig.axes[0]
    x0, x1 = ax.get_xlim()
    assert -3 <= x0 <= -0.93 and 2 <= x1 <= 5  # within a few units: not to +-20
    diamonds = [p.get_xy()[:4, 0] for p in ax.patches if isinstance(p, Polygon)]
    whole = [d for d in diamonds if d.min() >= x0 and d.max() <= x1]
    assert len(diamonds) == 7 and len(whole) == 6  # every diamond but the thin group's fully shown
    thin = next(p for p in ax.patches if isinstance(p, Polygon) and p.get_xy()[0, 0] < -20)
    assert thin.get_xy()[1, 0] == pytest.approx(1.52) and x0 < 1.52 < x1  # its estimate still inside the axis
    assert sorted(_clip_marks(ax)) == ["<", ">"]  # its PI, cut at both ends
    assert "G4 †" in _texts(fig)
    # the same group with k = 4 comparisons from one study is as thin
    one_study = pooled.assign(k=np.where(pooled.group == "G4", 4, pooled.k))
    assert plots.summary_forest_figure(one_study, tests, "SMD").axes[0].get_xlim() == (x0, x1)
    # a wide but not extreme diamond, [-3, 5]: cut while the group is thin, shown whole once it is not
    wide = pooled.assign(ci_low=np.where(pooled.group == "G4", -3.0, pooled.ci_low),
                         ci_high=np.where(pooled.group == "G4", 5.0, pooled.ci_high),
                         pi_low=np.where(pooled.group == "G4", np.nan, pooled.pi_low))
    ax = plots.summary_forest_figure(wide, tests, "SMD").axes[0]
    assert ax.get_xlim()[0] > -3 and ax.get_xlim()[1] < 5 and sorted(_clip_marks(ax)) == ["<", ">"]
    solid = wide.assign(k=np.where(wide.group == "G4", 4, wide.k),
                        studies=np.where(wide.group == "G4", 4, wide.studies))
    ax = plots.summary_forest_figure(solid, tests, "SMD").axes[0]
    assert ax.get_xlim()[0] <= -3 and ax.get_xlim()[1] >= 5 and _clip_marks(ax) == []


def test_the_summary_forests_axis_is_under_its_rows_and_the_footer_under_the_axis():
    pooled, tests = _thin_summary()
    fig = plots.summary_forest_figure(pooled, tests, "SMD", title="All groups")
    ax = fig.axes[0]
    fig.canvas.draw()  # places the axis label and the tick labels
    r = fig.canvas.get_renderer()
    box = ax.get_window_extent(r)  # the plot area; its bottom edge is the x axis
    row = forestplot.ROW * fig.dpi
    texts = {t.get_text(): t for t in fig.findobj(lambda a: hasattr(a, "get_text")) if t.get_text()}
    last = next(t for s, t in texts.items() if s.startswith("Test for overall effect"))
    assert 0 < last.get_window_extent(r).y0 - box.y0 < row  # the last row sits right above the axis
    footer = [t for s, t in texts.items() if s.startswith(("Test for subgroup differences", "† rests"))]
    assert len(footer) == 2
    below = [ax.xaxis.label, texts["← Favours control"], texts["Favours treatment →"],
             *ax.get_xticklabels()]
    floor = min(t.get_window_extent(r).y0 for t in below)
    assert floor < box.y0
    for t in footer:  # under the axis, its tick labels, its label and the favours texts
        assert t.get_window_extent(r).y1 < floor
        assert t.get_window_extent(r).y0 > 0  # and inside the figure


def _course(k, est, lo, hi):
    n = len(k)
    return pd.DataFrame({"group": "Astrocytes", "time": [7, 14, 21, 28][:n], "k": k, "estimate": est,
                         "ci_low": lo, "ci_high": hi})


def test_a_thin_time_point_does_not_stretch_the_time_course_panel():
    course = _course([5, 2, 6, 8], [0.4, 0.5, 0.3, 0.6], [-0.3, -20.0, -0.4, 0.1], [1.1, 21.0, 1.0, 1.1])
    ax = plots.time_course_figure(course, "SMD").axes[0]
    y0, y1 = ax.get_ylim()
    assert -2 < y0 <= -0.4 and 1.1 <= y1 < 2.5  # every CI of k >= 3 whole, the k = 2 one cut
    assert sorted(_clip_marks(ax)) == ["^", "v"]
    k2 = [ln for ln in ax.lines if ln.get_marker() in ("^", "v")]
    assert all(ln.get_xdata()[0] == 14 for ln in k2)
    labels = {t.get_text(): t for t in ax.texts}
    assert set(labels) == {"k=5", "k=2", "k=6", "k=8"}
    assert y0 < labels["k=2"].xy[1] < y1  # its label is drawn in the panel, over the triangle
    # a wide but not extreme CI, [-2, 3]: cut at k = 2, whole at k = 5
    wide = course.assign(ci_low=[-0.3, -2.0, -0.4, 0.1], ci_high=[1.1, 3.0, 1.0, 1.1])
    assert sorted(_clip_marks(plots.time_course_figure(wide, "SMD").axes[0])) == ["^", "v"]
    ax = plots.time_course_figure(wide.assign(k=[5, 5, 6, 8]), "SMD").axes[0]
    assert ax.get_ylim()[0] < -2 and ax.get_ylim()[1] > 3 and _clip_marks(ax) == []
    # a panel of thin points only: their CIs set its scale (nothing steadier is there), bar extreme ones
    ax = plots.time_course_figure(wide.assign(k=[1, 2, 2, 1]), "SMD").axes[0]
    assert ax.get_ylim()[0] < -2 and ax.get_ylim()[1] > 3 and _clip_marks(ax) == []


def test_an_extreme_point_of_a_bubble_plot_is_marked_at_the_edge():
    points = pd.DataFrame({"group": "a", "x": [1, 2, 3, 4, 5, 6, 7], "yi": [0.1, 0.5, 0.9, 0.4, 0.7, 0.6, 25.0],
                           "weight": 1.0})
    lines = pd.DataFrame({"group": ["a"], "intercept": [0.2], "slope": [0.1], "p": [0.2]})
    ax = plots.bubble_figure(points, lines, "weeks", "SMD").axes[0]
    assert ax.get_ylim()[1] < 3
    assert len(ax.collections[0].get_offsets()) == 6 and _clip_marks(ax) == ["^"]
    points.loc[6, "yi"] = np.nan  # a missing estimate is not drawn, and not as extreme
    ax = plots.bubble_figure(points, lines, "weeks", "SMD").axes[0]
    assert len(ax.collections[0].get_offsets()) == 6 and _clip_marks(ax) == []


def test_summary_forest_and_time_course_redraw_identically(tmp_path):
    pooled, tests = _thin_summary()
    a = plots.summary_forest(pooled, tests, "SMD", tmp_path / "a")
    b = plots.summary_forest(pooled, tests, "SMD", tmp_path / "b")
    assert a[1].read_bytes() == b[1].read_bytes() and a[0].read_bytes() == b[0].read_bytes()
    course = _course([5, 2, 6, 8], [0.4, 0.5, 0.3, 0.6], [-0.3, -20.0, -0.4, 0.1], [1.1, 21.0, 1.0, 1.1])
    svgs = []
    for name in ("c", "d"):
        plots.save(plots.time_course_figure(course, "SMD"), tmp_path / name)
        svgs.append((tmp_path / f"{name}.svg").read_bytes())
    assert svgs[0] == svgs[1]


def _scatter(ax):
    return np.concatenate([c.get_offsets() for c in ax.collections if type(c).__name__ == "PathCollection"])


@pytest.mark.parametrize("precision", ["se", "n"])
def test_funnel_panels_one_funnel_per_group_about_its_own_estimate(precision):
    """One panel per group (funnel about the group's REML estimate, k in the title), and first the
    residuals on the model with the group as moderator, about 0, in the group's colour and marker."""
    rows, _ = _data({"Treadmill": 8, "Wheel": 6, "Swimming": 1, "Running": 5})
    fig = plots.funnel_panels_figure(rows, funnel_centres(rows, "group"), "SMD", precision, group_by="exercise")
    residual, legend, *panels = fig.axes
    assert len(panels) == 4 and not legend.axison
    assert "residuals of the model with exercise as moderator" in residual.get_title()
    per = premeta.fit(rows.yi, rows.vi, rows.group)
    y = np.sqrt(rows.vi) if precision == "se" else 1 / np.sqrt(rows.n_total)
    for ax, g, est, k in zip(panels, per.groups, per.beta[:, 0], per.k):  # sorted, as the tables
        assert ax.get_title() == f"{g} (k = {k})"
        dashed = [ln.get_xdata()[0] for ln in ax.lines if ln.get_linestyle() == "--"]
        assert dashed == pytest.approx([est, est])  # the funnel closes at the group's estimate
        m = (rows.group == g).to_numpy()
        np.testing.assert_allclose(np.sort(_scatter(ax)[:, 0]), np.sort(rows.yi[m]))
    X, _ = premeta.design(pd.DataFrame({"g": rows.group}))
    b = premeta.fit(rows.yi, rows.vi, mods=X).beta[0]
    fitted = np.column_stack([np.ones(len(rows)), X]) @ b
    points = _scatter(residual)
    expected = np.c_[rows.yi - fitted, y]
    np.testing.assert_allclose(points[np.lexsort(points.T)], expected[np.lexsort(expected.T)])
    assert [ln.get_xdata()[0] for ln in residual.lines if ln.get_linestyle() == "--"] == pytest.approx([0, 0])
    texts = [t.get_text() for t in legend.get_legend().get_texts()]
    assert texts == [f"{g} (k = {k})" for g, k in zip(per.groups, per.k)]
    styles = {(h.get_color(), h.get_marker()) for h in legend.get_legend().legend_handles}
    assert len(styles) == 4


def test_funnel_panels_of_one_group_is_its_funnel():
    rows, _ = _data({"Treadmill": 8})
    fig = plots.funnel_panels_figure(rows, funnel_centres(rows, "group"), "SMD")
    assert len(fig.axes) == 1 and fig.axes[0].get_title() == "Treadmill (k = 8)"


def test_ten_groups_have_distinct_colours_and_markers():
    import seaborn as sns

    styles = style.group_styles([f"g{i}" for i in range(10)])
    colours, markers = zip(*styles.values())
    assert len(set(colours)) == len(set(markers)) == 10  # each alone tells the groups apart
    assert {"#cc78bc", "#fbafe4"} <= set(colours)  # the two pinks only with ten groups: the pale one last
    colorblind = sns.color_palette("colorblind").as_hex()
    assert style.palette(8) == [colorblind[i] for i in (0, 1, 2, 3, 4, 7, 9, 5)]
    eleven = style.group_styles([f"g{i}" for i in range(11)])
    assert len(set(eleven.values())) == 11 and eleven["g10"][1] == eleven["g5"][1]


@pytest.mark.slow  # fresh Python processes
def test_funnel_panels_are_the_same_bytes_in_any_process(tmp_path):
    """Drawn in two processes with different string hashing, the funnel panels are the same bytes
    (constrained layout placed them differently in the last bits, so a rerun's SVG differed)."""
    import subprocess
    import sys

    script = ("import sys, pandas as pd; from premeta.groups.bias import funnel_centres;"
              "from premeta.plots import funnels; e = pd.read_csv(sys.argv[1]);"
              "funnels(e.assign(group=e.mechanism), funnel_centres(e, 'mechanism'), 'SMD', sys.argv[2],"
              " group_by='mechanism')")
    rows, _ = _data({"Treadmill": 8, "Wheel": 6, "Swimming": 4, "Running": 5})
    data = tmp_path / "effects.csv"
    rows.rename(columns={"group": "mechanism"}).to_csv(data, index=False)
    for seed in ("1", "2"):
        subprocess.run([sys.executable, "-c", script, str(data), str(tmp_path / seed)], check=True,
                       env={**__import__("os").environ, "PYTHONHASHSEED": seed})
    assert (tmp_path / "1.svg").read_bytes() == (tmp_path / "2.svg").read_bytes()


@pytest.mark.parametrize("precision, se_per_y", [("se", 1.0), ("n", 2.0)])
def test_funnel_contours_are_drawn_at_the_se_scaled_bounds(grouped, precision, se_per_y):
    """Contour-enhanced funnel (metafor funnel(level = c(90, 95, 99), refline = 0)): each shaded region
    lies between |x| = z_a se and z_b se about 0, z the two-sided normal quantiles of 90, 95, 99 %
    (se = y, or 2 y for 1/sqrt(n) of an SMD); p > 0.10 white, the region beyond 99 % the axes' face,
    and a legend naming the p ranges beside the groups'."""
    from matplotlib.colors import to_rgba

    rows, _ = grouped
    z = [0.0, 1.6448536269514722, 1.959963984540054, 2.5758293035489004]
    shades = ["white", "0.93", "0.86", "0.79"]
    for ax in (plots.funnel_figure(rows, 0.5, "SMD", precision=precision).axes[0],
               *plots.funnel_panels_figure(rows.assign(group="one"), funnel_centres(rows.assign(group="one"), "group"),
                                           "SMD", precision).axes):
        fills = [c for c in ax.collections if type(c).__name__ in ("PolyCollection", "FillBetweenPolyCollection")]
        assert ax.get_facecolor() == to_rgba(shades[3])
        for inner, outer, shade in zip(z, z[1:], shades):
            mine = [f for f in fills if tuple(f.get_facecolor()[0]) == to_rgba(shade)]
            assert len(mine) == (1 if inner == 0 else 2)
            xy = np.concatenate([f.get_paths()[0].vertices for f in mine])
            xy = xy[xy[:, 1] > 0]
            ratio = np.abs(xy[:, 0]) / xy[:, 1] / se_per_y
            assert np.all(np.isclose(ratio, inner) | np.isclose(ratio, outer))
            assert np.isclose(ratio, outer).any() and (inner == 0 or np.isclose(ratio, inner).any())
            assert ((xy[:, 0] < 0).any() and (xy[:, 0] > 0).any())  # both sides of 0
        legends = [a for a in ax.get_children() if type(a).__name__ == "Legend"] + \
                  ([ax.get_legend()] if ax.get_legend() else [])
        texts = {t.get_text() for lg in legends for t in lg.get_texts()}
        assert {"p > 0.1", "0.05 < p ≤ 0.1", "0.01 < p ≤ 0.05", "p ≤ 0.01"} <= texts
    plain = plots.funnel_figure(rows, 0.5, "SMD", precision=precision, contours=()).axes[0]
    assert plain.get_facecolor() == to_rgba("0.92") and len(plain.collections) == 1 + len(set(rows.group))


def test_sunset_bands_are_the_power_at_each_se_and_the_figures_redraw_identically(tmp_path):
    """The sunset funnel's bands change colour where a comparison of that SE reaches 10, 30, 50 and
    80 % power at its group's effect (premeta.power), one panel per group with its median power;
    the cumulative figure draws one panel per group with years; both redraw to the same bytes."""
    from premeta.plots.panels import POWER_BANDS
    from premeta.significance import power

    se = np.array([0.2, 0.3, 0.45, 1.0, 0.25, 0.5])
    per = pd.DataFrame({"group": ["A"] * 4 + ["B"] * 2, "yi": [0.9, 0.4, 1.2, 0.1, -0.2, 0.3], "se": se,
                        "theta": [0.6] * 4 + [0.05] * 2})
    per["power"] = power(se**2, per["theta"].to_numpy())
    fig = plots.sunset_figure(per, "SMD")
    a = fig.axes[0]
    assert a.get_title() == f"A\nk = 4, median power {np.median(per.power[:4]):.0%}"
    spans = sorted((p.get_extents().y0, p.get_facecolor()) for p in a.patches)
    assert len({c for _, c in spans}) == len(a.patches) == 5  # every band at theta 0.6 within SE 0..1.08
    edges = sorted(p.get_y() for p in a.patches)[1:]  # where each band below the first begins
    bounds = [brentq(lambda s, b=b: power(s**2, 0.6) - b, 1e-3, 5) for b in POWER_BANDS[::-1]]
    np.testing.assert_allclose(edges, bounds, atol=1.08 / 400 * 1.5)  # the band edges, within the grid's step
    steps = pd.DataFrame({"group": ["A"] * 3, "step": [1, 2, 3], "year": [2001, 2003, 2003],
                          "estimate": [0.9, 0.6, 0.5], "ci_low": [-0.5, 0.1, 0.2], "ci_high": [2.3, 1.1, 0.8]})
    assert plots.cumulative_figure(steps, "SMD").axes[0].get_title() == "A\n2001 to 2003, k = 3"
    for name in ("a", "b"):
        plots.save(plots.sunset_figure(per, "SMD"), tmp_path / f"sunset_{name}")
        plots.save(plots.cumulative_figure(steps, "SMD"), tmp_path / f"cumulative_{name}")
    for stem in ("sunset", "cumulative"):
        assert (tmp_path / f"{stem}_a.svg").read_bytes() == (tmp_path / f"{stem}_b.svg").read_bytes()
        assert (tmp_path / f"{stem}_a.png").read_bytes() == (tmp_path / f"{stem}_b.png").read_bytes()


def _group_multiverse():
    """One group's multiverse: 12 unadjusted specifications, PET-PEESE on few studies (a CI 20 times as
    wide as the others) and the selection model."""
    n = 14
    return pd.DataFrame({
        "group": "a", "specification": np.arange(1, n + 1), "measure": "SMD",
        "method": ["REML", "DL", "PM"] * 4 + ["FE", "ML"], "test": (["z"] * 3 + ["knha"] * 3) * 2 + ["knha", "z"],
        "dependence": "none", "adjustment": ["none"] * 12 + ["pet_peese", "selmodel"],
        "inclusion": ["all"] * 6 + ["no_single"] * 6 + ["all", "all"],
        "estimate": np.r_[np.linspace(0.6, 0.9, 12), -0.8, 0.4], "duplicate": False, "note": "",
        "p": np.r_[np.full(12, 0.001), 0.7, 0.04]}).assign(
        ci_low=lambda t: t.estimate - np.r_[np.full(12, 0.3), 8.0, 0.38],
        ci_high=lambda t: t.estimate + np.r_[np.full(12, 0.3), 8.0, 0.38])


def test_spec_curve_names_the_adjustments_and_cuts_an_extreme_interval(tmp_path):
    rows = _group_multiverse()
    primary = {"measure": "SMD", "method": "REML", "test": "z", "dependence": "none"}
    fig = plots.spec_curve_figure(rows, primary, title="Multiverse: a")
    top, matrix = fig.axes[0], fig.axes[1]
    labels = [t.get_text() for t in matrix.get_yticklabels()]
    assert ["adjustment: none", "adjustment: PET-PEESE", "adjustment: selection model (step at p = .025)"] == [
        x for x in labels if x.startswith("adjustment")]
    order = [labels.index(x) for x in ("dependence: none", "adjustment: none", "inclusion: all comparisons")]
    assert order == sorted(order)
    assert "estimator: FE" in labels and "estimator: ML" in labels
    y0, y1 = top.get_ylim()
    assert -1 < y0 < -0.8 and 1.1 < y1 < 2  # every estimate shown; PET-PEESE's CI [-8.8, 7.2] cut at both ends
    assert sorted(_clip_marks(top)) == ["^", "v"]
    plots.save(fig, tmp_path / "a")
    plots.save(plots.spec_curve_figure(rows, primary, title="Multiverse: a"), tmp_path / "b")
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


LONG = [f"{name}: expression after treatment in the spinal dorsal horn, Western blot and qPCR"
        for name in ("IL-1β", "TNF-α", "Müller glia", "GFAP")]


def _long_label_panels(kind):
    """One of the figures drawn one panel per group (panels._panels), for four groups of 80-character labels."""
    from premeta.significance import power

    k = np.arange(1, 5)
    rows = [(g, int(i)) for g in LONG for i in k]
    g, i = [r[0] for r in rows], np.array([r[1] for r in rows], float)
    if kind == "time_course":
        return plots.time_course_figure(pd.DataFrame({"group": g, "time": 7 * i, "k": 3, "estimate": 0.1 * i,
                                                      "ci_low": 0.1 * i - 0.5, "ci_high": 0.1 * i + 0.5}), "SMD")
    if kind == "bubble":
        points = pd.DataFrame({"group": g, "x": i, "yi": 0.2 * i, "weight": 1.0})
        return plots.bubble_figure(points, pd.DataFrame({"group": LONG, "intercept": 0.1, "slope": 0.2, "p": 0.04}),
                                   "weeks", "SMD")
    if kind == "sunset":
        se = 0.1 * i + 0.2
        return plots.sunset_figure(pd.DataFrame({"group": g, "yi": 0.3 * i, "se": se, "theta": 0.5,
                                                 "power": power(se**2, 0.5)}), "SMD")
    if kind == "cumulative":
        return plots.cumulative_figure(pd.DataFrame({"group": g, "step": i, "year": 2000 + i, "estimate": 0.5,
                                                     "ci_low": 0.5 - 1 / i, "ci_high": 0.5 + 1 / i}), "SMD")
    curves = pd.DataFrame({"group": g, "n": 5 * i, "power": 0.2 * i, "assurance": 0.15 * i})
    table = pd.DataFrame({"group": LONG, "target": 0.8, "n_power": 17.0, "n_assurance": np.inf,
                          "assurance_limit": 0.7})
    return plots.next_experiment_figure(curves, table)


@pytest.mark.parametrize("kind", ["time_course", "bubble", "sunset", "cumulative", "next_experiment"])
def test_panel_titles_of_long_labels_overlap_nothing(kind):
    """Group labels of 80 characters wrap to three lines or more: every panel's title stays inside
    the figure, clear of the panels above (their axes and tick labels) and of the legend at the top
    (a figure drawn with room for two-line titles put them over the tick labels of the row above,
    and the first row's over the legend or beyond the figure's top edge)."""
    fig = _long_label_panels(kind)
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    axs = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axs) == 4 and all(ax.get_title().count("\n") >= 2 for ax in axs)
    bodies = [ax.get_window_extent(r) for ax in axs] + [t.get_window_extent(r) for ax in axs
                                                        for t in ax.get_xticklabels() if t.get_text()]
    bodies += [lg.get_window_extent(r) for lg in fig.legends]
    for ax in axs:
        title = ax.title.get_window_extent(r)
        assert title.y1 <= fig.bbox.y1 and title.x0 >= 0 and title.x1 <= fig.bbox.x1, (kind, ax.get_title())
        assert not [b for b in bodies if title.overlaps(b)], (kind, ax.get_title())


@pytest.mark.parametrize("contours", [(90, 95, 99), ()])
def test_funnel_panels_of_many_long_labelled_groups_overlap_nothing(contours):
    """Fourteen groups of 80-character labels: the key of the groups and the key of the contours
    beside the residual panel stay apart, inside the figure and off the panels, and no panel's
    title reaches the panels above (the key ran over the contours' key and down over the first two
    rows of panels, its lines cut at the figure's right edge, and three-line titles covered the
    axis labels above)."""
    names = [f"{i:02d} IL-1β, TNF-α and Müller glia: expression after treatment, spinal cord, Western blot"
             for i in range(14)]
    rows, _ = _data(dict.fromkeys(names, 4))
    fig = plots.funnel_panels_figure(rows, funnel_centres(rows, "group"), "SMD", group_by="mechanism",
                                     contours=contours)
    for dpi in (72, 150):  # the SVG's and the PNG's: lines of text are spaced by whole pixels
        fig.set_dpi(dpi)
        fig.canvas.draw()
        _nothing_overlaps(fig, fig.canvas.get_renderer(), contours)


def _nothing_overlaps(fig, r, contours):
    residual, legend, *panels = fig.axes
    keys = [legend.get_legend()] + [a for a in legend.artists if a is not legend.get_legend()]
    assert len(keys) == 1 + bool(contours) and len(panels) == 14
    boxes = [k.get_window_extent(r) for k in keys]
    for box in boxes:
        assert box.x0 >= 0 and box.x1 <= fig.bbox.x1 and box.y0 >= 0 and box.y1 <= fig.bbox.y1
        assert not [ax for ax in [residual, *panels] if box.overlaps(ax.get_tightbbox(r))]
    assert not (len(boxes) == 2 and boxes[0].overlaps(boxes[1]))
    for ax in panels:
        title = ax.title.get_window_extent(r)
        assert title.y1 <= fig.bbox.y1
        above = [b for b in panels + [residual] if b is not ax and b.get_window_extent(r).y0 > title.y1]
        ticks = [t.get_window_extent(r) for b in above for t in [*b.get_xticklabels(), b.xaxis.label] if t.get_text()]
        assert not [t for t in ticks if title.overlaps(t)], ax.get_title()


def test_the_next_experiment_not_drawn_says_the_groups_reason():
    """With measure ROM no group is planned (each row's note says why): the figure gives that
    reason, not "no group has an effect to plan for", which the report's table contradicted."""
    from premeta.groups.planning import next_experiment_curves

    why = "the next experiment is planned on an SMD or MD; ROM has no SD scale"
    table = pd.DataFrame({"group": ["A", "B"], "target": np.nan, "n_power": np.nan, "n_assurance": np.nan,
                          "assurance_limit": np.nan, "note": why})
    texts = [t.get_text() for t in plots.next_experiment_figure(next_experiment_curves(table), table).texts]
    assert texts == ["The next experiment", f"Not drawn: {why}"]
    table.loc[1, "note"] = "another reason"
    texts = [t.get_text() for t in plots.next_experiment_figure(next_experiment_curves(table), table).texts]
    assert texts[1] == "Not drawn: no group has an effect to plan for"


def test_a_time_course_panel_of_one_time_point_has_whole_day_ticks():
    """A group measured at one time only (every group with group_by: time): its tick is that day,
    not 13.2, 13.4, ..., 14.8 days around it (the locator fell back to fractions below two ticks),
    nor tick labels crowded over each other about a time under a day."""
    course = pd.DataFrame({"group": ["a", "b", "b"], "time": [14, 7, 28], "k": [5, 3, 4], "estimate": [0.4, 0.5, 0.6],
                           "ci_low": [0.2, 0.1, 0.2], "ci_high": [0.6, 0.9, 1.0]})
    fig = plots.time_course_figure(course, "SMD")
    fig.canvas.draw()
    for ax in fig.axes[:2]:
        lo, hi = ax.get_xlim()
        ticks = [t for t in ax.get_xticks() if lo <= t <= hi]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
    assert [t for t in fig.axes[0].get_xticks() if 13 < t < 15] == [14]
    # a time point of one minute (SyRF's times in days: 0.000694): one tick, its value (they overlapped)
    ax = plots.time_course_figure(course.assign(time=[0.000694444, 7, 28]), "SMD").axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.000694444"]


def test_long_arm_labels_under_the_axis_stay_inside_the_figure():
    """The texts under the axis name the arms as the config's `labels` do, however long: the one right
    of 0 ("Favours minocycline 50 mg/kg ... →") ran past the summary forest's right edge, cut, and the
    one left of 0 past a group forest's left edge; the figure now widens for them, and short ones
    leave its width as it was."""
    from premeta.vocabulary import Labels

    pooled, tests = _thin_summary()
    # effects below 0, as minocycline's (better: lower): 0 near the right end of the axis
    pooled = pooled.assign(estimate=-pooled.estimate, ci_low=-pooled.ci_high, ci_high=-pooled.ci_low,
                           pi_low=-pooled.pi_high, pi_high=-pooled.pi_low)
    labels = Labels("minocycline 50 mg/kg i.p. daily for 14 days from injury", "vehicle (0.9% saline i.p.)")
    short = plots.summary_forest_figure(pooled, tests, "SMD", group_by="mechanism")
    widths = []
    for sides in (labels.sides("benefit"), labels.sides("benefit")[::-1]):
        fig = plots.summary_forest_figure(pooled, tests, "SMD", group_by="mechanism", sides=sides)
        widths.append(fig.get_figwidth())
        fig.canvas.draw()
        r = fig.canvas.get_renderer()
        texts = [t for t in fig.axes[0].texts if t.get_text().startswith(("← ", sides[1]))]
        assert [t.get_text() for t in texts] == [f"← {sides[0]}", f"{sides[1]} →"]
        for t in texts:
            box = t.get_window_extent(r)
            assert 0 <= box.x0 and box.x1 <= fig.bbox.x1, t.get_text()
    assert widths[0] > widths[1] == short.get_figwidth()  # the long text right of 0 (left of it there is room)
    plain = plots.summary_forest_figure(pooled, tests, "SMD", group_by="mechanism",
                                        sides=("Favours control", "Favours treatment"))
    assert plain.get_figwidth() == short.get_figwidth()
    # a group's forest without n columns (effects given as yi, vi), effects above 0: the text left of 0
    # ran past the left edge; the label column widens
    rows = pd.DataFrame({"label": ["Smith 2001", "Jones 2003", "Lee 2010"], "group": "FST", "yi": [1.2, 0.9, 1.5],
                         "vi": [0.1, 0.12, 0.09]})
    f = premeta.fit(rows.yi, rows.vi, groups=rows.group)
    group = pd.concat([f.table(), premeta.rma(rows.yi, rows.vi)], ignore_index=True)
    sides = Labels("minocycline", "vehicle (0.9% saline i.p.) daily for 14 days").sides("benefit")
    fig = plots.forest_figure(rows.assign(weight=f.weights), group, "SMD", title="FST", sides=sides)
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    texts = [t for t in fig.axes[0].texts if t.get_text() in (f"← {sides[0]}", f"{sides[1]} →")]
    assert len(texts) == 2 and all(0 <= t.get_window_extent(r).x0 and t.get_window_extent(r).x1 <= fig.bbox.x1
                                   for t in texts)


def test_a_cumulative_panel_of_one_or_two_comparisons_shows_their_intervals():
    """A group of one comparison: its interval as a bar, on a scale that holds it (it was a dot at
    0 on an axis of -0.1 to 0.1, no interval drawn); a group of two: its band on a scale that holds
    it (it filled the panel, clipped). Such steps still never set the scale beside steps of k >= 3."""
    steps = pd.DataFrame({"group": ["one", "two", "two"], "step": [1, 1, 2], "year": [2010, 2001, 2004],
                          "estimate": [0.0, 0.6, 1.2], "ci_low": [-0.98, -0.56, -6.41],
                          "ci_high": [0.98, 1.76, 8.81]})
    one, two = plots.cumulative_figure(steps, "SMD").axes[:2]
    assert one.get_ylim()[0] < -0.98 and one.get_ylim()[1] > 0.98
    bars = [ln for ln in one.lines if len(ln.get_xdata()) == 2 and ln.get_xdata()[0] == ln.get_xdata()[1] == 1]
    assert [tuple(ln.get_ydata()) for ln in bars] == [(-0.98, 0.98)]
    assert two.get_ylim()[0] < -6.41 and two.get_ylim()[1] > 8.81
    more = pd.concat([steps[steps.group == "two"], pd.DataFrame({"group": "two", "step": [3, 4], "year": 2005,
                                                                  "estimate": 0.8, "ci_low": [0.1, 0.3],
                                                                  "ci_high": [1.5, 1.3]})])
    assert plots.cumulative_figure(more, "SMD").axes[0].get_ylim()[1] < 8.81  # the first steps do not set it


def test_a_pooled_row_without_heterogeneity_shows_its_note_alone():
    """A group the primary model did not fit (one study: LSR3's TAAR1 SyRF export) has no τ², I² or
    Q: the line under its diamond is its note, not "; one study: ..." with a stray separator."""
    rows, pooled = _data({"A": 3})
    why = "one study: the three-level model and cluster-robust tests need at least 2"
    pooled = pooled.assign(estimate=np.nan, ci_low=np.nan, ci_high=np.nan, pi_low=np.nan, pi_high=np.nan,
                           se=np.nan, stat=np.nan, p=np.nan, tau2=np.nan, i2=np.nan, q=np.nan, q_df=np.nan,
                           q_p=np.nan, note=why)
    fig = plots.forest_figure(rows.assign(weight=np.nan), pooled, "SMD", title="A")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert [t for t in texts if t.startswith("one study:")] and not [t for t in texts if t.startswith(";")]
    assert forestplot._het(pd.Series({"tau2": 0.1, "i2": 20.0, "note": why})) == f"τ² = 0.10, I² = 20%; {why}"


def test_a_long_title_of_a_figure_not_drawn_wraps_inside_it():
    """"Meta-regression on <the column's description>" ran past the right edge of the 7-inch figure
    that says why a bubble plot was not drawn; the title wraps and the figure grows by its lines,
    the message under it."""
    title = "Meta-regression on minutes of running per day on a motorised treadmill at a fixed speed of 10 m/min"
    fig = style.message_figure(title, "minutes is constant in this stratum: not fitted")
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    head, message = fig.texts
    assert head.get_text().count("\n") == 1 and head.get_text().replace("\n", " ") == title
    assert head.get_window_extent(r).x1 <= fig.bbox.x1 and head.get_window_extent(r).y1 <= fig.bbox.y1
    assert message.get_window_extent(r).y1 < head.get_window_extent(r).y0 and message.get_window_extent(r).y0 > 0
    assert style.message_figure("Funnel plot", "no comparison").get_figheight() == 1.6
