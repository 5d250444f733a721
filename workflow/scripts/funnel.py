import sys

sys.stderr = open(snakemake.log[0], "w")

import pandas as pd

from premeta.analysis import read_effects
from premeta.plots import funnel
from premeta.tables import read_csv

effects = read_effects(snakemake.input.effects)
overall = read_csv(snakemake.input.pooled).iloc[-1]  # the all-groups row is always last
funnel(effects, overall.estimate, snakemake.params.measure, snakemake.output.png.removesuffix(".png"),
       level=snakemake.params.level)
