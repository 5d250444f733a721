import sys

sys.stderr = open(snakemake.log[0], "w")

import pandas as pd

from premeta.analysis import read_effects, sensitivity

p = snakemake.params
effects = read_effects(snakemake.input[0])
loo, inf = sensitivity(effects, p.group_by, p.method, p.test, p.level)
loo.to_csv(snakemake.output.leave1out, index=False)
inf.to_csv(snakemake.output.influence, index=False)
