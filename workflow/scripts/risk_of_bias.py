import sys

sys.stderr = open(snakemake.log[0], "w")

import pandas as pd

from premeta import rob
from premeta.analysis import read_effects, rob_strata
from premeta.plots import rob_figure, save
from premeta.tables import write_csv

p = snakemake.params
effects = read_effects(snakemake.input[0])
studies = rob.per_study(effects)
summary = rob.summary(studies)
write_csv(studies, snakemake.output.studies, index=True)
write_csv(summary, snakemake.output.summary, index=True)
write_csv(rob_strata(effects, studies, p.group_by, p.method, p.test, p.level), snakemake.output.strata)
save(rob_figure(summary), snakemake.output.png.removesuffix(".png"))
