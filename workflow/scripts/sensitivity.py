import sys

sys.stderr = open(snakemake.log[0], "w")

import pandas as pd

from premeta.analysis import read_effects, sensitivity
from premeta.tables import write_csv

p = snakemake.params
effects = read_effects(snakemake.input[0])
loo, inf = sensitivity(effects, p.group_by, p.method, p.test, p.level)
write_csv(loo, snakemake.output.leave1out)
write_csv(inf, snakemake.output.influence)
