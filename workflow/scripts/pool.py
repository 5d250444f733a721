import sys

sys.stderr = open(snakemake.log[0], "w")

import pandas as pd

from premeta.analysis import read_effects, stratified

effects = read_effects(snakemake.input[0])
p = snakemake.params
out = stratified(effects, by=p.group_by, method=p.method, test=p.test, level=p.level)
out["pooled"].to_csv(snakemake.output.pooled, index=False)
out["subgroup_tests"].to_csv(snakemake.output.tests, index=False)
out["weights"].to_csv(snakemake.output.weights, index=False)
