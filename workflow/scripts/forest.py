import sys

sys.stderr = open(snakemake.log[0], "w")

import pandas as pd

from premeta.analysis import labels
from premeta.plots import forest

p = snakemake.params
effects = pd.read_csv(snakemake.input.effects, index_col="row")
pooled = pd.read_csv(snakemake.input.pooled, keep_default_na=False, na_values=[""])
weights = pd.read_csv(snakemake.input.weights, index_col="row")
rows = pd.DataFrame({"label": labels(effects), "group": effects[p.group_by].astype(str),
                     "yi": effects.yi, "vi": effects.vi})
if p.label == "overall":
    rows["weight"] = weights.weight_group
    title = f"All groups by {p.group_by}"
else:
    rows = rows[rows.group == p.label].assign(weight=weights.weight_group)
    pooled = pooled[pooled.group == p.label]
    title = p.label
forest(rows, pooled, p.measure, snakemake.output.png.removesuffix(".png"), title=title)
