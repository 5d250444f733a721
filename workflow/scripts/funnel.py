import sys

sys.stderr = open(snakemake.log[0], "w")

import pandas as pd

from premeta.plots import funnel

effects = pd.read_csv(snakemake.input.effects, index_col="row")
overall = pd.read_csv(snakemake.input.pooled).set_index("group").loc["overall"]
funnel(effects, overall.estimate, snakemake.params.measure, snakemake.output.png.removesuffix(".png"))
