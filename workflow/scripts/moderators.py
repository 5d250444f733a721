import sys

sys.stderr = open(snakemake.log[0], "w")

import pandas as pd

from premeta.analysis import moderator_analysis, multiple_testing
from premeta.plots import bubble_figure, save

p = snakemake.params
out = snakemake.output
effects = pd.read_csv(snakemake.input.effects, index_col="row")
pooled = pd.read_csv(snakemake.input.pooled)
res = moderator_analysis(effects, p.moderators, p.group_by, p.method, p.test, p.level, p.permutations, p.seed)
res["coefs"].to_csv(out.coefs, index=False)
res["models"].to_csv(out.models, index=False)
multiple_testing(pooled, res["models"]).to_csv(out.multiple_testing, index=False)
for m, png in zip(p.numeric, out.bubble):
    fig = bubble_figure(res["weights"][res["weights"].moderator == m], res["lines"][res["lines"].moderator == m],
                        p.labels.get(m, m), p.measure)
    save(fig, png.removesuffix(".png"))
