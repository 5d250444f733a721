"""What premeta says around its numbers follows the config and the data (issue 18).

The real workflow runs on a drug review (minocycline, Reis et al. 2019: analysis A with orient: raw
and the published signs, analysis C with orient: benefit), an early-life exposure review (Besson et
al. 2016, maternal diet, mice; orient: raw, outcomes where higher and where lower is better mixed)
and a stroke-rehabilitation sheet where lower is better on every row (Normand 1999; orient: raw),
beside the bundled exercise review. Each figure and the report name the arms as the config does,
claim a benefit only where the data state one, and show one primary model.
"""

import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml

from helpers import REPO, SNAKEMAKE
from premeta.vocabulary import file_names, Labels, better_of, plural

DATA = REPO / "tests" / "data"
EXERCISE = re.compile(r"exercis|treadmill|sedentary|running", re.I)

#: name -> (snakemake arguments, the texts left and right of 0 on every forest plot, or None where they vary);
#: a config file's runs are conftest.py's fixtures of the same name, shared with test_minocycline.py
RUNS = {
    "minocycline_a": ({"configfile": "config/minocycline.yaml"}, ("Favours minocycline", "Favours control")),
    "minocycline_c": ({"configfile": "config/minocycline_c.yaml"}, ("Favours control", "Favours minocycline")),
    # a review's own config file, as a reviewer writes one: nothing of the bundled review's is merged in
    "besson_mice_raw": ({"data": str(DATA / "besson2016_mice.csv"), "orient": "raw", "permutations": 10,
                         "labels": {"treatment": "maternal diet manipulation", "control": "control diet"},
                         "moderators": ["sex", "strain"], "analyses": ["dependence", "moderators", "small_study"]},
                        ("Lower with maternal diet manipulation", "Higher with maternal diet manipulation")),
    "normand_raw": ({"data": str(DATA / "normand1999_stroke.csv"), "orient": "raw", "analyses": ["small_study"],
                     "labels": {"treatment": "specialist stroke care", "control": "routine care"}},
                    ("Favours specialist stroke care", "Favours routine care")),
}


@pytest.fixture(scope="module", params=list(RUNS))
def review(request, tmp_path_factory):
    """One workflow run per review, from the repository, into its own folder; (name, results folder,
    the expected sides)."""
    config, sides = RUNS[request.param]
    if "configfile" in config:
        return request.param, request.getfixturevalue(request.param)[0], sides
    work = tmp_path_factory.mktemp(request.param)
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    out = subprocess.run([*SNAKEMAKE, "-s", str(REPO / "Snakefile"), "--cores", "2", "--configfile",
                          str(work / "config.yaml"), "--config", f"workdir={work}", "permutations=10"],
                         capture_output=True, text=True, check=False, cwd=REPO)
    assert out.returncode == 0, out.stderr[-3000:]
    return request.param, work / "results", sides


class _Text(HTMLParser):
    """The visible text of a page and the cells of its glance table."""

    def __init__(self):
        super().__init__()
        self.text, self.rows, self._in, self._cell = [], [], False, None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and ("id", "glance-table") in attrs:
            self._in = True
        elif self._in and tag == "tr":
            self.rows.append([])
        elif self._in and tag == "td":
            self._cell = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self._in = False
        elif tag == "td" and self._cell is not None:
            self.rows[-1].append(self._cell.strip())
            self._cell = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell += data


def page(path: Path) -> _Text:
    parser = _Text()
    parser.feed(re.sub(r'src="data:image/png;base64,[^"]*"', 'src=""', path.read_text()))
    return parser


def svg_text(path: Path) -> str:
    return " ".join(re.findall(r">([^<>]+)</text>", path.read_text()))


@pytest.mark.workflow
def test_no_word_of_exercise_and_the_right_sides(review):
    name, results, sides = review
    report = page(results / "report.html")
    words = " ".join(report.text)
    assert not EXERCISE.search(words), EXERCISE.search(words)
    forests = sorted((results / "plots").glob("forest_*.svg"))
    assert forests
    for svg in (results / "plots").glob("*.svg"):
        text = svg_text(svg)
        assert not EXERCISE.search(text), (svg.name, EXERCISE.search(text))
    # each figure's sides follow its own rows: the overall figure's are the run's expected ones
    effects = pd.read_csv(results / "effect_sizes.csv", keep_default_na=False, na_values=[""], dtype=str)
    config = yaml.safe_load((results / ".." / "config.yaml").read_text()) if (results / ".." / "config.yaml").exists() \
        else yaml.safe_load((REPO / RUNS[name][0]["configfile"]).read_text())
    labels = Labels.from_config(config)
    better = effects["better"] if "better" in effects else pd.Series(None, index=effects.index)
    expected = {"overall": sides}
    for group, stem in file_names(effects["mechanism"].unique()).items():
        expected[stem] = labels.sides(config["orient"], better_of(better[effects["mechanism"] == group]))
    assert expected["overall"] == labels.sides(config["orient"], better_of(better))
    for stem, (left, right) in expected.items():
        text = svg_text(results / "plots" / f"forest_{stem}.svg")
        assert f"← {left}" in text and f"{right} →" in text, (stem, text[-300:])
        if not left.startswith("Favours"):
            assert "Favours" not in text
    if name == "besson_mice_raw":  # both kinds: groups of one direction of benefit, and mixed ones
        kinds = {left.split()[0] for left, _ in expected.values()}
        assert kinds == {"Favours", "Lower"}, expected
    labels = {"minocycline_c": "Minocycline n", "besson_mice_raw": "Maternal diet manipulation n"}
    if name in labels:
        assert labels[name] in svg_text(forests[0])
    if name == "minocycline_a":  # precomputed effects: no empty columns of n, no empty Animals column
        assert "Minocycline n" not in svg_text(forests[0])
        assert "Animals" not in svg_text(results / "plots/forest_overall.svg")
    assert "Primary analysis:" in words


@pytest.mark.workflow
def test_glance_table_is_the_primary_model(review):
    name, results, _ = review
    primary = pd.read_csv(results / "primary.csv", keep_default_na=False, na_values=[""])
    rows = page(results / "report.html").rows
    body = [r for r in rows if r]
    assert [r[0] for r in body] == primary["group"].astype(str).tolist()
    for cells, (_, p) in zip(body, primary.iterrows()):
        shown = cells[4]
        if pd.isna(p.estimate):
            assert shown == "not estimated"
        else:
            assert shown == f"{p.estimate:.2f} [{p.ci_low:.2f}, {p.ci_high:.2f}]"
        assert cells[3] == ("" if pd.isna(p.animals) else f"{p.animals:.0f}")
    mode = primary["dependence"].iloc[0]
    expected = {"minocycline_a": "rve", "minocycline_c": "rve", "besson_mice_raw": "multilevel", "normand_raw": "none"}
    assert mode == expected[name]
    text = " ".join(page(results / "report.html").text)
    if name == "minocycline_a":  # precomputed effects: the number of animals is not known, and said so
        assert primary["animals"].isna().all() and not re.search(r"(?<![\d.])0 animals", text)
        assert "an unknown number of animals" in text and "Every row: animals not counted" in text
    else:
        assert primary["animals"].notna().all() and "unknown number of animals" not in text


@pytest.mark.workflow
def test_the_bundled_review_names_its_arms(bundled):
    gaba = svg_text(bundled / "results/plots/forest_gaba.svg")
    assert "← Favours sedentary control" in gaba and "Favours treadmill exercise →" in gaba
    assert "Treadmill exercise n" in gaba and "Sedentary control n" in gaba
    primary = pd.read_csv(bundled / "results/primary.csv").set_index("group")
    assert (primary["dependence"] == "multilevel").all()
    # the GABA diamond is the three-level model's, not the comparisons-independent one's
    row = primary.loc["GABA"]
    assert f"{row.estimate:.2f} [{row.ci_low:.2f}, {row.ci_high:.2f}]" in gaba
    html = " ".join(page(bundled / "results/report.html").text)
    assert "with comparisons treated as independent the effect is significant" in html  # GABA: p = 0.04 vs 0.053


def test_labels_and_sides():
    drug = Labels("minocycline", "vehicle")
    assert drug.sides("benefit") == ("Favours vehicle", "Favours minocycline")
    assert drug.sides("raw", "lower") == ("Favours minocycline", "Favours vehicle")
    assert drug.sides("raw", "higher") == ("Favours vehicle", "Favours minocycline")
    assert drug.sides("raw", None) == ("Lower with minocycline", "Higher with minocycline")
    assert "whether that is a benefit depends on the outcome" in drug.direction("raw")
    assert Labels().sides("benefit") == ("Favours control", "Favours treatment")
    assert better_of(["lower", "Lower", "lower"]) == "lower"
    assert better_of(["lower", "higher"]) is None and better_of(["lower", float("nan")]) is None
    assert Labels.from_config({"labels": {"treatment": "diet"}}) == Labels("diet", "control")
    sheet = pd.DataFrame({"trt_label": ["Ketamine", "Ketamine"], "ctl_label": ["Saline", "Vehicle"]})
    assert Labels.from_sheet({}, sheet) == Labels("Ketamine", "Saline / Vehicle")
    many = pd.DataFrame({"trt_label": list("abcd"), "ctl_label": "x"})
    assert Labels.from_sheet({"labels": {"control": "sham-fed"}}, many) == Labels("treatment", "sham-fed")
    assert [plural(1, "comparison"), plural(2, "comparison"), plural(3, "study"), plural(6.5, "animal")] == [
        "1 comparison", "2 comparisons", "3 studies", "6.5 animals"]


@pytest.mark.workflow
def test_every_interval_that_fits_is_drawn_whole(review):
    """On real data, each group's forest plot (drawn by the library as the workflow draws it) clips no
    study interval that fits inside 1.5 times the non-extreme range (premeta.plots.axes.span's docstring, recomputed
    here), and the overall figure's scale is not set by a group of k = 2."""
    import numpy as np

    from premeta.groups.common import read_effects
    from premeta.groups.rows import forest_rows
    from premeta.plots import forest_figure, summary_forest_figure
    from premeta.plots.axes import FENCE, normal_z

    name, results, _ = review
    effects = read_effects(results / "effect_sizes.csv")
    primary = pd.read_csv(results / "primary.csv", dtype={"group": str}, keep_default_na=False, na_values=[""])
    weights = pd.read_csv(results / "weights.csv", index_col="row")
    rows = forest_rows(effects, weights, "mechanism")
    for group, pool in primary.iloc[:-1].set_index("group").iterrows():
        sub = rows[rows.group == group]
        if len(sub) < 2:
            continue
        half = normal_z(95) * np.sqrt(sub.vi.to_numpy())
        lo, hi = sub.yi.to_numpy() - half, sub.yi.to_numpy() + half
        thin = pool.k == 2 or pool.studies == 1
        own = [] if thin else [pool.ci_low, pool.ci_high, pool.pi_low, pool.pi_high]
        ends = np.r_[lo, hi, own]
        ends = ends[np.isfinite(ends)]
        core = np.r_[0.0, sub.yi, [] if thin else [pool.estimate]]
        q1, q3 = np.quantile(ends, [0.25, 0.75])
        kept = ends[(ends >= q1 - FENCE * (q3 - q1)) & (ends <= q3 + FENCE * (q3 - q1))]
        r0, r1 = min(core.min(), kept.min()), max(core.max(), kept.max())
        w0, w1 = r0 - (r1 - r0) / 4, r1 + (r1 - r0) / 4
        x0, x1 = forest_figure(sub, primary[primary.group == group], "SMD").axes[0].get_xlim()
        fits = (lo >= w0) & (hi <= w1)
        assert (lo[fits] >= x0).all() and (hi[fits] <= x1).all(), (name, group)
    if name == "minocycline_c":  # Splash test: k = 2, CI about [-21.4, 24.4]
        splash = primary.set_index("group").loc["Splash test"]
        assert splash.k == 2 and splash.ci_high - splash.ci_low > 40
        tests = pd.read_csv(results / "subgroup_tests.csv")
        x0, x1 = summary_forest_figure(primary, tests, "SMD").axes[0].get_xlim()
        assert x1 - x0 < 10 and x0 > splash.ci_low and x1 < splash.ci_high


@pytest.mark.workflow
def test_axis_titles_of_sheet_columns_without_a_data_dictionary(tmp_path):
    """A review's own config without `columns` (a data dictionary): the bubble plot and the time course
    of `time` are titled with its unit, "time (days)", not with the sheet template's guidance for the
    column ("time of measurement in days (from what: the config's `columns`, e.g. days after injury)")."""
    from premeta.vocabulary import column_words

    assert column_words("time") == "time (days)" and column_words("time", {"time": "days after MCAO"}) == (
        "days after MCAO") and column_words("dose_mg_kg", {}) == "dose_mg_kg"
    config = {"data": str(REPO / "data" / "simulated_treadmill_neuropathic_pain.csv"), "moderators": ["time"],
              "analyses": ["moderators", "time_course"], "permutations": 10}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    out = subprocess.run([*SNAKEMAKE, "-s", str(REPO / "Snakefile"), "--cores", "2", "--configfile",
                          str(tmp_path / "config.yaml"), "--config", f"workdir={tmp_path}"],
                         capture_output=True, text=True, check=False, cwd=REPO)
    assert out.returncode == 0, out.stderr[-3000:]
    bubble, course = (svg_text(tmp_path / "results" / "plots" / f"{s}.svg") for s in ("bubble_time", "time_course"))
    assert "time (days)" in bubble and "Time (days)" in course
    assert "columns" not in bubble + course
