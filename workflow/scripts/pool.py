import sys

sys.stderr = open(snakemake.log[0], "w")

import pandas as pd

from premeta.analysis import read_effects, stratified
from premeta.tables import write_csv

effects = read_effects(snakemake.input[0])
p = snakemake.params
out = stratified(effects, by=p.group_by, method=p.method, test=p.test, level=p.level)
write_csv(out["pooled"], snakemake.output.pooled)
write_csv(out["subgroup_tests"], snakemake.output.tests)
write_csv(out["weights"], snakemake.output.weights)
