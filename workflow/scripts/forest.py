import sys

sys.stderr = open(snakemake.log[0], "w")

from premeta.analysis import forest_rows, read_effects, study_rows
from premeta.plots import forest, summary_forest
from premeta.tables import read_csv

p = snakemake.params
i = snakemake.input
effects = read_effects(i.effects)
pooled = read_csv(i.pooled, dtype={"group": str}, keep_default_na=False, na_values=[""])
weights = read_csv(i.weights, index_col="row")
stem = snakemake.output.png.removesuffix(".png")
if not p.label:  # the overall figure: one row per group, then all groups
    tests = read_csv(i.tests, keep_default_na=False, na_values=[""])
    summary_forest(pooled, tests, p.measure, stem, title=f"All groups by {p.group_by}", level=p.level, by=p.group_by)
elif p.studies:  # a large group: the comparisons of each study combined
    rows = study_rows(effects, weights, p.group_by, p.rho)
    forest(rows[rows.group == p.label], pooled[pooled.group == p.label].iloc[:1], p.measure, stem, level=p.level,
           title=f"{p.label}: each study's comparisons combined (rho = {p.rho:g})",
           ilab={"Comparisons": "comparisons", "Animals": "animals"}, header="Study (comparisons combined)")
else:
    rows = forest_rows(effects, weights, p.group_by)
    forest(rows[rows.group == p.label], pooled.iloc[:-1][pooled.group.iloc[:-1] == p.label], p.measure, stem,
           title=p.label, level=p.level, ilab={"Exercise n": "n_trt", "Control n": "n_ctl"})
