import sys

sys.stderr = open(snakemake.log[0], "w")

from premeta.analysis import group_labels, labels, read_effects
from premeta.plots import forest
from premeta.tables import read_csv

import pandas as pd

p = snakemake.params
effects = read_effects(snakemake.input.effects)
pooled = read_csv(snakemake.input.pooled, dtype={"group": str}, keep_default_na=False, na_values=[""])
weights = read_csv(snakemake.input.weights, index_col="row")
rows = pd.DataFrame({"label": labels(effects), "group": group_labels(effects, p.group_by),
                     "yi": effects.yi, "vi": effects.vi, "weight": weights.weight_group})
if p.label:
    rows = rows[rows.group == p.label]
    pooled = pooled.iloc[:-1][pooled.group.iloc[:-1] == p.label]
    title = p.label
else:
    title = f"All groups by {p.group_by}"
forest(rows, pooled, p.measure, snakemake.output.png.removesuffix(".png"), title=title, level=p.level)
