import sys

sys.stderr = open(snakemake.log[0], "w")

import pandas as pd

from premeta import rob
from premeta.analysis import read_effects, rob_strata
from premeta.plots import rob_figure, save

p = snakemake.params
effects = read_effects(snakemake.input[0])
studies = rob.per_study(effects)
summary = rob.summary(studies)
studies.to_csv(snakemake.output.studies)
summary.to_csv(snakemake.output.summary)
rob_strata(effects, studies, p.group_by, p.method, p.test, p.level).to_csv(snakemake.output.strata, index=False)
save(rob_figure(summary), snakemake.output.png.removesuffix(".png"))
