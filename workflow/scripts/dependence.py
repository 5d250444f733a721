import sys

sys.stderr = open(snakemake.log[0], "w")

import pandas as pd

from premeta.analysis import dependence_estimates, dependent
from premeta.plots import comparison_figure, save

p = snakemake.params
effects = pd.read_csv(snakemake.input.effects, index_col="row")
table, mode, reason = dependent(effects, p.group_by, p.dependence, p.rho, p.method, p.test, p.level)
table.to_csv(snakemake.output.table, index=False)
pd.DataFrame({"dependence": [mode], "requested": [p.dependence], "rho": [p.rho], "reason": [reason]}).to_csv(
    snakemake.output.choice, index=False)
estimates = dependence_estimates(pd.read_csv(snakemake.input.pooled), table)
save(comparison_figure(estimates, p.measure), snakemake.output.png.removesuffix(".png"))
