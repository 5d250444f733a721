import sys

sys.stderr = open(snakemake.log[0], "w")

import pandas as pd

from premeta.analysis import small_study
from premeta.models import fit
from premeta.plots import funnel

p = snakemake.params
effects = pd.read_csv(snakemake.input[0], index_col="row")
small_study(effects, p.group_by, p.method, p.test).to_csv(snakemake.output.table, index=False)
rows = effects.assign(n_total=effects.trt_n + effects.ctl_n).dropna(subset=["n_total"])
estimate = fit(rows.yi, rows.vi, method=p.method).beta[0, 0]
funnel(rows, estimate, p.measure, snakemake.output.png.removesuffix(".png"), precision="n")
