import gc
import sys

gc.disable()  # while importing (objects only, no garbage): a tenth of a second less per job
sys.stderr = open(snakemake.log[0], "w")

import pandas as pd

from premeta.analysis import dependence_estimates, dependent, read_effects, rho_sensitivity
from premeta.plots import comparison_figure, save
from premeta.tables import read_csv, write_csv

gc.freeze()  # the imports' objects are never garbage: later collections skip them
gc.enable()

p = snakemake.params
effects = read_effects(snakemake.input.effects)
table, mode, reason = dependent(effects, p.group_by, p.dependence, p.rho, p.method, p.test, p.level, p.rve_model)
write_csv(table, snakemake.output.table)
model = p.rve_model if mode == "rve" else ""
rhos = (rho_sensitivity(effects, p.group_by, p.level, p.rve_model) if model == "CORR" else
        pd.DataFrame({"note": ["the sensitivity to rho is computed for dependence: rve with rve_model: CORR "
                               "(the HIER working model has no rho)"]}))
write_csv(rhos, snakemake.output.rho)
write_csv(pd.DataFrame({"dependence": [mode], "requested": [p.dependence], "rho": [p.rho], "rve_model": [model],
                        "reason": [reason]}), snakemake.output.choice)
pooled = read_csv(snakemake.input.pooled, dtype={"group": str}, keep_default_na=False, na_values=[""])
estimates = dependence_estimates(pooled, table, p.rve_model)
save(comparison_figure(estimates, p.measure), snakemake.output.png.removesuffix(".png"))
