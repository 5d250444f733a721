import sys

sys.stderr = open(snakemake.log[0], "w")

import pandas as pd

from premeta.analysis import moderator_analysis, multiple_testing, read_effects
from premeta.plots import bubble_figure, save

p = snakemake.params
out = snakemake.output
effects = read_effects(snakemake.input.effects)
pooled = pd.read_csv(snakemake.input.pooled, dtype={"group": str}, keep_default_na=False, na_values=[""])
res = moderator_analysis(effects, p.moderators, p.group_by, p.method, p.test, p.level, p.permutations, p.seed)
res["coefs"].to_csv(out.coefs, index=False)
res["models"].to_csv(out.models, index=False)
multiple_testing(pooled, res["models"]).to_csv(out.multiple_testing, index=False)
for m, png in zip(p.numeric, out.bubble):
    notes = res["models"].loc[res["models"].moderator == m, "note"]
    fig = bubble_figure(res["weights"][res["weights"].moderator == m], res["lines"][res["lines"].moderator == m],
                        p.labels.get(m, m), p.measure, why="; ".join(dict.fromkeys(notes[notes != ""])))
    save(fig, png.removesuffix(".png"))
