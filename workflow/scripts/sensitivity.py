import sys

sys.stderr = open(snakemake.log[0], "w")

import pandas as pd

from premeta.analysis import sensitivity

p = snakemake.params
effects = pd.read_csv(snakemake.input[0], index_col="row")
loo, inf = sensitivity(effects, p.group_by, p.method, p.test, p.level)
loo.to_csv(snakemake.output.leave1out, index=False)
inf.to_csv(snakemake.output.influence, index=False)
