import sys

sys.stderr = open(snakemake.log[0], "w")

import numpy as np

from premeta.analysis import group_labels, read_effects, small_study
from premeta.models import fit
from premeta.plots import funnel
from premeta.tables import write_csv

p = snakemake.params
effects = read_effects(snakemake.input[0])
write_csv(small_study(effects, p.group_by, p.method, p.test), snakemake.output.table)
n_total = effects.trt_n + effects.ctl_n if {"trt_n", "ctl_n"} <= set(effects) else np.nan
rows = effects.assign(n_total=n_total, group=group_labels(effects, p.group_by)).dropna(subset=["n_total"])
estimate = fit(rows.yi, rows.vi, method=p.method).beta[0, 0] if len(rows) else np.nan
funnel(rows, estimate, p.measure, snakemake.output.png.removesuffix(".png"), precision="n", level=p.level)
