import sys

sys.stderr = open(snakemake.log[0], "w")

from premeta.analysis import group_labels, read_effects
from premeta.plots import funnel
from premeta.tables import read_csv

effects = read_effects(snakemake.input.effects)
overall = read_csv(snakemake.input.pooled).iloc[-1]  # the all-groups row is always last
p = snakemake.params
funnel(effects.assign(group=group_labels(effects, p.group_by)), overall.estimate, p.measure,
       snakemake.output.png.removesuffix(".png"), level=p.level)
