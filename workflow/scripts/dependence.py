import sys

sys.stderr = open(snakemake.log[0], "w")

import pandas as pd

from premeta.analysis import dependence_estimates, dependent, read_effects
from premeta.plots import comparison_figure, save
from premeta.tables import read_csv, write_csv

p = snakemake.params
effects = read_effects(snakemake.input.effects)
table, mode, reason = dependent(effects, p.group_by, p.dependence, p.rho, p.method, p.test, p.level)
write_csv(table, snakemake.output.table)
write_csv(pd.DataFrame({"dependence": [mode], "requested": [p.dependence], "rho": [p.rho], "reason": [reason]}),
          snakemake.output.choice)
pooled = read_csv(snakemake.input.pooled, dtype={"group": str}, keep_default_na=False, na_values=[""])
estimates = dependence_estimates(pooled, table)
save(comparison_figure(estimates, p.measure), snakemake.output.png.removesuffix(".png"))
